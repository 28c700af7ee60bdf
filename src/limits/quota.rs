//! Plan quotas per user (SPEC "Rules and limits"): architectures and approved books per hour. Counted
//! when the action is accepted; shown as "remaining" on the review page.

use std::time::Duration;

use crate::db::models::User;

use super::{PlanLimits, RateLimiter};

pub const HOUR: Duration = Duration::from_secs(3600);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quota {
    Architecture,
    Book,
}

impl Quota {
    fn key(self, user_id: &str) -> String {
        match self {
            Quota::Architecture => format!("quota:architecture:{user_id}"),
            Quota::Book => format!("quota:book:{user_id}"),
        }
    }

    fn limit(self, plan: &PlanLimits) -> u64 {
        match self {
            Quota::Architecture => plan.architectures_per_hour,
            Quota::Book => plan.books_per_hour,
        }
    }
}

/// The quota is used up for now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exceeded {
    /// Seconds until one more use is allowed (at least 1).
    pub retry_after: u64,
}

/// Counts one use of the quota, or how long to wait.
pub async fn take(limiter: &dyn RateLimiter, user: &User, quota: Quota) -> Result<(), Exceeded> {
    let plan = PlanLimits::for_plan(&user.plan);
    let d = limiter
        .hit(quota.key(&user.id), quota.limit(&plan), HOUR)
        .await;
    if d.allowed {
        Ok(())
    } else {
        Err(Exceeded {
            retry_after: d.retry_after_secs,
        })
    }
}

/// Uses left in the current hour.
pub async fn remaining(limiter: &dyn RateLimiter, user: &User, quota: Quota) -> u64 {
    let plan = PlanLimits::for_plan(&user.plan);
    let used = limiter.used(quota.key(&user.id), HOUR).await;
    quota.limit(&plan).saturating_sub(used)
}
