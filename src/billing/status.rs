//! A subscription's status: one vocabulary for what a provider reports (`payments` maps PayPal's and
//! Mercado Pago's states onto it), what `subscriptions.status` stores (TEXT, `as_str`) and what the
//! billing rules compare. It imports only the subscription row, so the provider adapters can use it
//! without a cycle.

use crate::db::repo::billing::Subscription;

/// Where a subscription is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubscriptionStatus {
    /// Created, waiting for the payer's approval (an abandoned checkout stays here).
    Pending,
    Active,
    /// Payments failed or the payer paused it.
    Suspended,
    /// Paid until `current_period_end`, not renewed.
    Cancelled,
    /// Over.
    Expired,
}

impl SubscriptionStatus {
    pub const ALL: [SubscriptionStatus; 5] = [
        SubscriptionStatus::Pending,
        SubscriptionStatus::Active,
        SubscriptionStatus::Suspended,
        SubscriptionStatus::Cancelled,
        SubscriptionStatus::Expired,
    ];

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Pending => "pending",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Suspended => "suspended",
            SubscriptionStatus::Cancelled => "cancelled",
            SubscriptionStatus::Expired => "expired",
        }
    }

    /// Reads a stored status. A text no status has reads as `Expired`: a subscription nothing
    /// recognizes entitles to no plan, cannot be cancelled and does not block a new checkout (what the
    /// string comparisons did with it), and reading it never fails.
    pub fn parse(text: &str) -> SubscriptionStatus {
        SubscriptionStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .unwrap_or(SubscriptionStatus::Expired)
    }

    /// Active or suspended: the subscription still runs at the provider (it can be cancelled, and a
    /// new checkout is refused).
    pub fn is_running(self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Active | SubscriptionStatus::Suspended
        )
    }
}

impl Subscription {
    /// The stored status, typed (unknown text reads as `Expired`).
    pub fn status(&self) -> SubscriptionStatus {
        SubscriptionStatus::parse(&self.status)
    }
}

impl std::fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_round_trips_and_unknown_text_is_expired() {
        for s in SubscriptionStatus::ALL {
            assert_eq!(SubscriptionStatus::parse(s.as_str()), s);
        }
        assert_eq!(
            SubscriptionStatus::parse("ACTIVE"),
            SubscriptionStatus::Expired
        );
        assert_eq!(SubscriptionStatus::parse(""), SubscriptionStatus::Expired);
        assert!(!SubscriptionStatus::parse("refunded").is_running());
    }
}
