//! Operator features that are not HTTP: the dashboard's figures and their sampler and the
//! cross-node commands (the per-node state is `node::AdminState`, process figures `process`). Handlers
//! live in `web::admin`; queries in `db::repo::admin`.

pub mod control;
pub mod stats;

pub use crate::node::AdminState;
