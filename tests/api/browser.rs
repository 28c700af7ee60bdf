//! Placeholder until the browser test lands.
