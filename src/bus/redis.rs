//! A bb8 pool of Redis connections, created lazily so a node starts (and reports "not ready") while
//! Redis is away, and recovers when it returns.

use std::time::Duration;

use bb8_redis::RedisConnectionManager;

#[derive(Clone)]
pub struct Redis {
    pub pool: bb8::Pool<RedisConnectionManager>,
}

impl Redis {
    pub fn connect_lazy(url: &str) -> Result<Redis, String> {
        let manager =
            RedisConnectionManager::new(url).map_err(|e| format!("invalid REDIS_URL: {e}"))?;
        let pool = bb8::Pool::builder()
            .max_size(16)
            .connection_timeout(Duration::from_secs(1))
            .build_unchecked(manager);
        Ok(Redis { pool })
    }

    pub async fn ping(&self, timeout: Duration) -> Result<(), String> {
        let check = async {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            redis::cmd("PING")
                .query_async::<String>(&mut *conn)
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        };
        tokio::time::timeout(timeout, check)
            .await
            .map_err(|_| "timed out".to_string())?
    }
}
