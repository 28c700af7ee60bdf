//! Cross-node plumbing: the Redis connection pool (progress fan-out, shared limits and online users
//! build on it). Without `REDIS_URL` the node runs self-contained.

pub mod redis;
