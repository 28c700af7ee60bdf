//! Buko's generation engine: a supervised tree of actix actors that plans and writes books through the
//! ports in [`ports`]. It knows no HTTP and no SQL; `src/` adapts it to the world.

pub mod breaker;
pub mod broadcast;
pub mod config;
pub mod model;
pub mod ports;
pub mod progress;
pub mod retry;

pub use broadcast::{Deliver, Outgoing, ProgressBroadcaster};
pub use config::{BreakerConfig, EngineConfig, RetryConfig};
pub use model::{Architecture, BookStatus, Language};
pub use ports::*;
pub use progress::{ProgressMessage, Topic};
