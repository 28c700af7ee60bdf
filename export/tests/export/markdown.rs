//! markdown tests (in progress)
