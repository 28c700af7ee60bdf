//! Per-API-key request limit: `api_keys.rate_limit_per_minute`, else `BUKO_API_KEY_RATE_LIMIT`. Called
//! wherever an API key authenticates (the `ApiUser` extractor), on the shared limiter, so the limit
//! holds across nodes when the limiter is Redis-backed.

use std::time::Duration;

use crate::db::models::ApiKey;
use crate::error::AppError;
use crate::state::AppState;

pub const WINDOW: Duration = Duration::from_secs(60);

/// The key's requests per minute.
pub fn limit_of(state: &AppState, key: &ApiKey) -> u64 {
    key.rate_limit_per_minute
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(state.settings.api_key_rate_limit_per_minute)
}

fn limiter_key(key: &ApiKey) -> String {
    format!("apikey:{}", key.id)
}

/// Counts one request of the key, or `429` with `Retry-After`.
pub async fn check_api_key(state: &AppState, key: &ApiKey) -> Result<(), AppError> {
    let d = state
        .limiter
        .hit(limiter_key(key), limit_of(state, key), WINDOW)
        .await;
    if d.allowed {
        Ok(())
    } else {
        crate::metrics::record_rate_limited("api_key");
        Err(AppError::RateLimited {
            retry_after: d.retry_after_secs,
        })
    }
}

/// Requests left for the key in the current minute.
pub async fn remaining(state: &AppState, key: &ApiKey) -> u64 {
    let used = state.limiter.used(limiter_key(key), WINDOW).await;
    limit_of(state, key).saturating_sub(used)
}
