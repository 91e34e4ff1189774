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
    org_id BLOB NOT NULL,
    customer_id BLOB NOT NULL,
    record TEXT NOT NULL,
    status TEXT NOT NULL,
    count INTEGER NOT NULL,
    total INTEGER NOT NULL,
    balance INTEGER NOT NULL,
    PRIMARY KEY (org_id, customer_id, record, status)
) WITHOUT ROWID;

CREATE TRIGGER inquiry_bar_insert AFTER INSERT ON inquiry BEGIN
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
    VALUES (NEW.org_id, NEW.customer_id, 'inquiry', NEW.status, 1, NEW.estimated_value, 0)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = count + 1, total = total + excluded.total, balance = balance + excluded.balance;
END;
CREATE TRIGGER inquiry_bar_update AFTER UPDATE ON inquiry WHEN OLD.customer_id IS NOT NEW.customer_id OR OLD.status IS NOT NEW.status OR OLD.estimated_value IS NOT NEW.estimated_value BEGIN
    UPDATE customer_bar SET count = count - 1, total = total - (OLD.estimated_value), balance = balance - (0)
    WHERE org_id = OLD.org_id AND customer_id = OLD.customer_id AND record = 'inquiry' AND status = OLD.status;
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
    VALUES (NEW.org_id, NEW.customer_id, 'inquiry', NEW.status, 1, NEW.estimated_value, 0)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = count + 1, total = total + excluded.total, balance = balance + excluded.balance;
END;
CREATE TRIGGER inquiry_bar_delete AFTER DELETE ON inquiry BEGIN
    UPDATE customer_bar SET count = count - 1, total = total - (OLD.estimated_value), balance = balance - (0)
    WHERE org_id = OLD.org_id AND customer_id = OLD.customer_id AND record = 'inquiry' AND status = OLD.status;
END;
INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
SELECT org_id, customer_id, 'inquiry', inquiry.status, COUNT(*), SUM(inquiry.estimated_value), SUM(0)
FROM inquiry GROUP BY 1, 2, 3, 4;

CREATE TRIGGER quote_bar_insert AFTER INSERT ON quote BEGIN
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
    VALUES (NEW.org_id, NEW.customer_id, 'quote', NEW.status, 1, NEW.total, 0)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = count + 1, total = total + excluded.total, balance = balance + excluded.balance;
END;
CREATE TRIGGER quote_bar_update AFTER UPDATE ON quote WHEN OLD.customer_id IS NOT NEW.customer_id OR OLD.status IS NOT NEW.status OR OLD.total IS NOT NEW.total BEGIN
    UPDATE customer_bar SET count = count - 1, total = total - (OLD.total), balance = balance - (0)
    WHERE org_id = OLD.org_id AND customer_id = OLD.customer_id AND record = 'quote' AND status = OLD.status;
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
    VALUES (NEW.org_id, NEW.customer_id, 'quote', NEW.status, 1, NEW.total, 0)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = count + 1, total = total + excluded.total, balance = balance + excluded.balance;
END;
CREATE TRIGGER quote_bar_delete AFTER DELETE ON quote BEGIN
    UPDATE customer_bar SET count = count - 1, total = total - (OLD.total), balance = balance - (0)
    WHERE org_id = OLD.org_id AND customer_id = OLD.customer_id AND record = 'quote' AND status = OLD.status;
END;
INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
SELECT org_id, customer_id, 'quote', quote.status, COUNT(*), SUM(quote.total), SUM(0)
FROM quote GROUP BY 1, 2, 3, 4;

CREATE TRIGGER job_bar_insert AFTER INSERT ON job BEGIN
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
    VALUES (NEW.org_id, NEW.customer_id, 'job', NEW.status, 1, NEW.value, 0)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = count + 1, total = total + excluded.total, balance = balance + excluded.balance;
END;
CREATE TRIGGER job_bar_update AFTER UPDATE ON job WHEN OLD.customer_id IS NOT NEW.customer_id OR OLD.status IS NOT NEW.status OR OLD.value IS NOT NEW.value BEGIN
    UPDATE customer_bar SET count = count - 1, total = total - (OLD.value), balance = balance - (0)
    WHERE org_id = OLD.org_id AND customer_id = OLD.customer_id AND record = 'job' AND status = OLD.status;
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
    VALUES (NEW.org_id, NEW.customer_id, 'job', NEW.status, 1, NEW.value, 0)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = count + 1, total = total + excluded.total, balance = balance + excluded.balance;
END;
CREATE TRIGGER job_bar_delete AFTER DELETE ON job BEGIN
    UPDATE customer_bar SET count = count - 1, total = total - (OLD.value), balance = balance - (0)
    WHERE org_id = OLD.org_id AND customer_id = OLD.customer_id AND record = 'job' AND status = OLD.status;
END;
INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
SELECT org_id, customer_id, 'job', job.status, COUNT(*), SUM(job.value), SUM(0)
FROM job GROUP BY 1, 2, 3, 4;

CREATE TRIGGER invoice_bar_insert AFTER INSERT ON invoice BEGIN
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
    VALUES (NEW.org_id, NEW.customer_id, 'invoice', CASE WHEN NEW.status = 'closed' AND NEW.total > 0 AND NEW.credited >= NEW.total THEN 'credited' ELSE NEW.status END, 1, NEW.total, NEW.total - NEW.paid - NEW.credited)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = count + 1, total = total + excluded.total, balance = balance + excluded.balance;
END;
CREATE TRIGGER invoice_bar_update AFTER UPDATE ON invoice WHEN OLD.customer_id IS NOT NEW.customer_id OR OLD.status IS NOT NEW.status OR OLD.total IS NOT NEW.total OR OLD.paid IS NOT NEW.paid OR OLD.credited IS NOT NEW.credited BEGIN
    UPDATE customer_bar SET count = count - 1, total = total - (OLD.total), balance = balance - (OLD.total - OLD.paid - OLD.credited)
    WHERE org_id = OLD.org_id AND customer_id = OLD.customer_id AND record = 'invoice' AND status = CASE WHEN OLD.status = 'closed' AND OLD.total > 0 AND OLD.credited >= OLD.total THEN 'credited' ELSE OLD.status END;
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
    VALUES (NEW.org_id, NEW.customer_id, 'invoice', CASE WHEN NEW.status = 'closed' AND NEW.total > 0 AND NEW.credited >= NEW.total THEN 'credited' ELSE NEW.status END, 1, NEW.total, NEW.total - NEW.paid - NEW.credited)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = count + 1, total = total + excluded.total, balance = balance + excluded.balance;
END;
CREATE TRIGGER invoice_bar_delete AFTER DELETE ON invoice BEGIN
    UPDATE customer_bar SET count = count - 1, total = total - (OLD.total), balance = balance - (OLD.total - OLD.paid - OLD.credited)
    WHERE org_id = OLD.org_id AND customer_id = OLD.customer_id AND record = 'invoice' AND status = CASE WHEN OLD.status = 'closed' AND OLD.total > 0 AND OLD.credited >= OLD.total THEN 'credited' ELSE OLD.status END;
END;
INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
SELECT org_id, customer_id, 'invoice', CASE WHEN invoice.status = 'closed' AND invoice.total > 0 AND invoice.credited >= invoice.total THEN 'credited' ELSE invoice.status END, COUNT(*), SUM(invoice.total), SUM(invoice.total - invoice.paid - invoice.credited)
FROM invoice GROUP BY 1, 2, 3, 4;

CREATE TRIGGER payment_bar_insert AFTER INSERT ON payment BEGIN
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
    VALUES (NEW.org_id, NEW.customer_id, 'payment', 'all', 1, NEW.amount, NEW.amount - NEW.allocated)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = count + 1, total = total + excluded.total, balance = balance + excluded.balance;
END;
CREATE TRIGGER payment_bar_update AFTER UPDATE ON payment WHEN OLD.customer_id IS NOT NEW.customer_id OR OLD.amount IS NOT NEW.amount OR OLD.allocated IS NOT NEW.allocated BEGIN
    UPDATE customer_bar SET count = count - 1, total = total - (OLD.amount), balance = balance - (OLD.amount - OLD.allocated)
    WHERE org_id = OLD.org_id AND customer_id = OLD.customer_id AND record = 'payment' AND status = 'all';
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
    VALUES (NEW.org_id, NEW.customer_id, 'payment', 'all', 1, NEW.amount, NEW.amount - NEW.allocated)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = count + 1, total = total + excluded.total, balance = balance + excluded.balance;
END;
CREATE TRIGGER payment_bar_delete AFTER DELETE ON payment BEGIN
    UPDATE customer_bar SET count = count - 1, total = total - (OLD.amount), balance = balance - (OLD.amount - OLD.allocated)
    WHERE org_id = OLD.org_id AND customer_id = OLD.customer_id AND record = 'payment' AND status = 'all';
END;
INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
SELECT org_id, customer_id, 'payment', 'all', COUNT(*), SUM(payment.amount), SUM(payment.amount - payment.allocated)
FROM payment GROUP BY 1, 2, 3, 4;

CREATE TRIGGER credit_note_bar_insert AFTER INSERT ON credit_note BEGIN
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
    VALUES (NEW.org_id, NEW.customer_id, 'credit_note', 'all', 1, NEW.amount, NEW.amount - NEW.allocated)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = count + 1, total = total + excluded.total, balance = balance + excluded.balance;
END;
CREATE TRIGGER credit_note_bar_update AFTER UPDATE ON credit_note WHEN OLD.customer_id IS NOT NEW.customer_id OR OLD.amount IS NOT NEW.amount OR OLD.allocated IS NOT NEW.allocated BEGIN
    UPDATE customer_bar SET count = count - 1, total = total - (OLD.amount), balance = balance - (OLD.amount - OLD.allocated)
    WHERE org_id = OLD.org_id AND customer_id = OLD.customer_id AND record = 'credit_note' AND status = 'all';
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
    VALUES (NEW.org_id, NEW.customer_id, 'credit_note', 'all', 1, NEW.amount, NEW.amount - NEW.allocated)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = count + 1, total = total + excluded.total, balance = balance + excluded.balance;
END;
CREATE TRIGGER credit_note_bar_delete AFTER DELETE ON credit_note BEGIN
    UPDATE customer_bar SET count = count - 1, total = total - (OLD.amount), balance = balance - (OLD.amount - OLD.allocated)
    WHERE org_id = OLD.org_id AND customer_id = OLD.customer_id AND record = 'credit_note' AND status = 'all';
END;
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
