-- Nothing to do on PostgreSQL: the search within a customer's history reads
-- the message and file tables' own indexes, filtered by their
-- `customer_id`, so moved records are found under their new customer at
-- once. (SQLite keeps a separate full-text table: see its 0036.)
SELECT 1;
