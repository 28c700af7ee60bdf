//! What every part of the engine is given: the ports, the broadcaster, the breakers and the config.

use std::sync::Arc;

use actix::Addr;

use crate::breaker::Breakers;
use crate::broadcast::ProgressBroadcaster;
use crate::config::EngineConfig;
use crate::ports::{BookStore, Clock, LlmPort};

/// Shared by the supervisor, orchestrators, writers and architecture calls. Cheap to clone.
#[derive(Clone)]
pub struct EngineDeps {
    pub llm: Arc<dyn LlmPort>,
    pub store: Arc<dyn BookStore>,
    pub broadcaster: Addr<ProgressBroadcaster>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<EngineConfig>,
    /// One breaker per provider for the whole node.
    pub breakers: Breakers,
    /// The store publishes the events it commits ([`BookStore::publish_commits_to`]); the engine
    /// does not publish them again.
    pub store_publishes: bool,
}

impl EngineDeps {
    pub fn new(
        llm: Arc<dyn LlmPort>,
        store: Arc<dyn BookStore>,
        broadcaster: Addr<ProgressBroadcaster>,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
    ) -> Self {
        let breakers = Breakers::new(config.breaker.clone());
        EngineDeps {
            llm,
            store,
            broadcaster,
            clock,
            config: Arc::new(config),
            breakers,
            store_publishes: false,
        }
    }
}
