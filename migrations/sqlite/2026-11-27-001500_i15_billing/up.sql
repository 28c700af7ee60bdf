-- Plans as data, subscriptions at PayPal / Mercado Pago, their verified webhook events, and the quota
-- ledger (one row per architecture or book admitted; released when a book fails for a provider reason).
CREATE TABLE plans (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    public BOOLEAN NOT NULL DEFAULT 1,
    architectures_per_hour INTEGER NOT NULL,
    books_per_hour INTEGER NOT NULL,
    books_per_month INTEGER NOT NULL,
    max_pages INTEGER NOT NULL,
    cover_candidates INTEGER NOT NULL,
    paypal_price_cents BIGINT NOT NULL DEFAULT 0,
    paypal_currency TEXT NOT NULL DEFAULT 'USD',
    paypal_plan_id TEXT,
    mercadopago_price_cents BIGINT NOT NULL DEFAULT 0,
    mercadopago_currency TEXT NOT NULL DEFAULT 'ARS',
    mercadopago_plan_id TEXT,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO plans VALUES
    ('free', 'Free', 0, 1, 3, 2, 10, 300, 1, 0, 'USD', NULL, 0, 'ARS', NULL, CURRENT_TIMESTAMP),
    ('pro', 'Pro', 1, 1, 30, 20, 60, 600, 4, 1200, 'USD', NULL, 1500000, 'ARS', NULL, CURRENT_TIMESTAMP),
    ('studio', 'Studio', 2, 1, 100, 60, 300, 1000, 8, 3900, 'USD', NULL, 4500000, 'ARS', NULL, CURRENT_TIMESTAMP),
    ('unlimited', 'Unlimited (operators)', 3, 0, 10000, 10000, 1000000, 1000, 8, 0, 'USD', NULL, 0, 'ARS', NULL, CURRENT_TIMESTAMP);

CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    plan_id TEXT NOT NULL REFERENCES plans(id),
    provider TEXT NOT NULL,
    provider_subscription_id TEXT,
    status TEXT NOT NULL,
    current_period_end TIMESTAMP,
    last_event_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX subscriptions_provider_ref ON subscriptions (provider, provider_subscription_id);
CREATE INDEX subscriptions_user ON subscriptions (user_id, created_at);

CREATE TABLE billing_events (
    id TEXT PRIMARY KEY NOT NULL,
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    event_type TEXT NOT NULL,
    resource_id TEXT NOT NULL DEFAULT '',
    subscription_id TEXT REFERENCES subscriptions(id) ON DELETE SET NULL,
    headers TEXT NOT NULL DEFAULT '{}',
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    received_at TIMESTAMP NOT NULL,
    processed_at TIMESTAMP
);
CREATE UNIQUE INDEX billing_events_delivery ON billing_events (provider, event_id, body_sha256);
CREATE INDEX billing_events_subscription ON billing_events (subscription_id, received_at);

CREATE TABLE quota_uses (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    book_id TEXT,
    used_at TIMESTAMP NOT NULL,
    released_at TIMESTAMP
);
CREATE INDEX quota_uses_user ON quota_uses (user_id, kind, used_at);
CREATE INDEX quota_uses_book ON quota_uses (book_id);
