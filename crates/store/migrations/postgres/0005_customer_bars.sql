-- Customer bars: per customer, record type and status, how many records
-- and their total and balance, kept by triggers on the record tables, so a
-- customer's summary reads a handful of rows however long its history is,
-- and no write path can forget them: a record's insert, move, amount
-- change, delete or merge into another customer updates its bars in the
-- same transaction. Invoices are kept by stored status, with `credited`
-- (closed by credit notes alone) told apart; whether an open invoice is
-- overdue depends on the day, so the summary splits that from the open
-- invoices' rows when it reads. Payments and credit notes keep their
-- amount and unallocated balance (the account credit) under status `all`.
CREATE TABLE customer_bar (
    org_id UUID NOT NULL,
    customer_id UUID NOT NULL,
    record TEXT NOT NULL,
    status TEXT NOT NULL,
    count BIGINT NOT NULL,
    total BIGINT NOT NULL,
    balance BIGINT NOT NULL,
    PRIMARY KEY (org_id, customer_id, record, status)
);

CREATE FUNCTION customer_bar_add(o UUID, c UUID, r TEXT, s TEXT, n BIGINT, t BIGINT, b BIGINT) RETURNS void AS $$
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance) VALUES (o, c, r, s, n, t, b)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = customer_bar.count + excluded.count, total = customer_bar.total + excluded.total, balance = customer_bar.balance + excluded.balance;
$$ LANGUAGE sql;

CREATE FUNCTION inquiry_bar() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT (OLD.customer_id IS DISTINCT FROM NEW.customer_id OR OLD.status IS DISTINCT FROM NEW.status OR OLD.estimated_value IS DISTINCT FROM NEW.estimated_value) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM customer_bar_add(OLD.org_id, OLD.customer_id, 'inquiry', OLD.status, -1, -(OLD.estimated_value), -(0));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM customer_bar_add(NEW.org_id, NEW.customer_id, 'inquiry', NEW.status, 1, NEW.estimated_value, 0);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER inquiry_bar AFTER INSERT OR UPDATE OR DELETE ON inquiry FOR EACH ROW EXECUTE FUNCTION inquiry_bar();
INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
SELECT org_id, customer_id, 'inquiry', inquiry.status, COUNT(*), SUM(inquiry.estimated_value), SUM(0)
FROM inquiry GROUP BY 1, 2, 3, 4;

CREATE FUNCTION quote_bar() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT (OLD.customer_id IS DISTINCT FROM NEW.customer_id OR OLD.status IS DISTINCT FROM NEW.status OR OLD.total IS DISTINCT FROM NEW.total) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM customer_bar_add(OLD.org_id, OLD.customer_id, 'quote', OLD.status, -1, -(OLD.total), -(0));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM customer_bar_add(NEW.org_id, NEW.customer_id, 'quote', NEW.status, 1, NEW.total, 0);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER quote_bar AFTER INSERT OR UPDATE OR DELETE ON quote FOR EACH ROW EXECUTE FUNCTION quote_bar();
INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
SELECT org_id, customer_id, 'quote', quote.status, COUNT(*), SUM(quote.total), SUM(0)
FROM quote GROUP BY 1, 2, 3, 4;

CREATE FUNCTION job_bar() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT (OLD.customer_id IS DISTINCT FROM NEW.customer_id OR OLD.status IS DISTINCT FROM NEW.status OR OLD.value IS DISTINCT FROM NEW.value) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM customer_bar_add(OLD.org_id, OLD.customer_id, 'job', OLD.status, -1, -(OLD.value), -(0));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM customer_bar_add(NEW.org_id, NEW.customer_id, 'job', NEW.status, 1, NEW.value, 0);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER job_bar AFTER INSERT OR UPDATE OR DELETE ON job FOR EACH ROW EXECUTE FUNCTION job_bar();
INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
SELECT org_id, customer_id, 'job', job.status, COUNT(*), SUM(job.value), SUM(0)
FROM job GROUP BY 1, 2, 3, 4;

CREATE FUNCTION invoice_bar() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT (OLD.customer_id IS DISTINCT FROM NEW.customer_id OR OLD.status IS DISTINCT FROM NEW.status OR OLD.total IS DISTINCT FROM NEW.total OR OLD.paid IS DISTINCT FROM NEW.paid OR OLD.credited IS DISTINCT FROM NEW.credited) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM customer_bar_add(OLD.org_id, OLD.customer_id, 'invoice', CASE WHEN OLD.status = 'closed' AND OLD.total > 0 AND OLD.credited >= OLD.total THEN 'credited' ELSE OLD.status END, -1, -(OLD.total), -(OLD.total - OLD.paid - OLD.credited));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM customer_bar_add(NEW.org_id, NEW.customer_id, 'invoice', CASE WHEN NEW.status = 'closed' AND NEW.total > 0 AND NEW.credited >= NEW.total THEN 'credited' ELSE NEW.status END, 1, NEW.total, NEW.total - NEW.paid - NEW.credited);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER invoice_bar AFTER INSERT OR UPDATE OR DELETE ON invoice FOR EACH ROW EXECUTE FUNCTION invoice_bar();
INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
SELECT org_id, customer_id, 'invoice', CASE WHEN invoice.status = 'closed' AND invoice.total > 0 AND invoice.credited >= invoice.total THEN 'credited' ELSE invoice.status END, COUNT(*), SUM(invoice.total), SUM(invoice.total - invoice.paid - invoice.credited)
FROM invoice GROUP BY 1, 2, 3, 4;

CREATE FUNCTION payment_bar() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT (OLD.customer_id IS DISTINCT FROM NEW.customer_id OR OLD.amount IS DISTINCT FROM NEW.amount OR OLD.allocated IS DISTINCT FROM NEW.allocated) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM customer_bar_add(OLD.org_id, OLD.customer_id, 'payment', 'all', -1, -(OLD.amount), -(OLD.amount - OLD.allocated));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM customer_bar_add(NEW.org_id, NEW.customer_id, 'payment', 'all', 1, NEW.amount, NEW.amount - NEW.allocated);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER payment_bar AFTER INSERT OR UPDATE OR DELETE ON payment FOR EACH ROW EXECUTE FUNCTION payment_bar();
INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
SELECT org_id, customer_id, 'payment', 'all', COUNT(*), SUM(payment.amount), SUM(payment.amount - payment.allocated)
FROM payment GROUP BY 1, 2, 3, 4;

CREATE FUNCTION credit_note_bar() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT (OLD.customer_id IS DISTINCT FROM NEW.customer_id OR OLD.amount IS DISTINCT FROM NEW.amount OR OLD.allocated IS DISTINCT FROM NEW.allocated) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM customer_bar_add(OLD.org_id, OLD.customer_id, 'credit_note', 'all', -1, -(OLD.amount), -(OLD.amount - OLD.allocated));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM customer_bar_add(NEW.org_id, NEW.customer_id, 'credit_note', 'all', 1, NEW.amount, NEW.amount - NEW.allocated);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER credit_note_bar AFTER INSERT OR UPDATE OR DELETE ON credit_note FOR EACH ROW EXECUTE FUNCTION credit_note_bar();
INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
SELECT org_id, customer_id, 'credit_note', 'all', COUNT(*), SUM(credit_note.amount), SUM(credit_note.amount - credit_note.allocated)
FROM credit_note GROUP BY 1, 2, 3, 4;

-- The summary's remaining reads, from the index alone: an open invoice's
-- due date and amounts (ageing, overdue), a completed job's date and value
-- (the last twelve months' work).
DROP INDEX invoice_by_customer;
CREATE INDEX invoice_by_customer ON invoice (org_id, customer_id, status, due_date, total, paid, credited);
DROP INDEX job_by_customer;
CREATE INDEX job_by_customer ON job (org_id, customer_id, status, completed_at, value);
