DROP TABLE quota_uses;
DROP TABLE billing_events;
DROP TABLE subscriptions;
DROP TABLE plans;
