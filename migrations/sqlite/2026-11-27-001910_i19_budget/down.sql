ALTER TABLE plans DROP COLUMN book_budget_usd;
ALTER TABLE books DROP COLUMN budget_usd;
