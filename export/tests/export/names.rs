//! names tests (in progress)
