//! pdf tests (in progress)
