-- Issue 19: a per-book cost limit. The engine pauses a book (status_reason `budget_reached`) before a
-- call that could take its spending past `budget_usd`; NULL means no limit (books approved before).
-- The default offered at approval comes from the author's plan.
ALTER TABLE books ADD COLUMN budget_usd DOUBLE PRECISION;
ALTER TABLE plans ADD COLUMN book_budget_usd DOUBLE PRECISION NOT NULL DEFAULT 5;
UPDATE plans SET book_budget_usd = 20 WHERE id = 'pro';
UPDATE plans SET book_budget_usd = 50 WHERE id = 'studio';
UPDATE plans SET book_budget_usd = 200 WHERE id = 'unlimited';
