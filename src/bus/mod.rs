//! Cross-node plumbing over Redis: the shared connection and its health, progress fan-out between nodes
//! (sink + relay) and online users. Without `REDIS_URL` the node runs self-contained on the in-memory
//! implementations behind the same traits.

pub mod presence;
pub mod progress;
pub mod redis;

pub use presence::{MemoryPresence, Presence, RedisPresence};
pub use progress::{start_relay, RedisProgressSink, RelayHandle};
pub use redis::BusError;
