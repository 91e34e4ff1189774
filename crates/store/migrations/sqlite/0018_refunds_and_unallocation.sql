-- Refunds and un-allocation.
--
-- A refund returns part of what is not allocated of a payment or a credit
-- note to the customer: the source's `refunded` grows by its amount, in the
-- same conditional statement that checks it has that much left
-- (allocated + refunded never exceeds the amount). The refund row is the
-- statement's line.
--
-- Un-allocating marks an allocation reversed (with the day and the
-- reason) instead of deleting it, so a statement as of an earlier day
-- still sees what was allocated then; the source's `allocated` and the
-- invoice's `paid` or `credited` shrink by its amount in the same
-- transaction.
ALTER TABLE payment ADD COLUMN refunded INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND allocated + refunded <= amount);
ALTER TABLE credit_note ADD COLUMN refunded INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND allocated + refunded <= amount);

ALTER TABLE allocation ADD COLUMN reversed_on TEXT;
ALTER TABLE allocation ADD COLUMN reversed_at INTEGER;
ALTER TABLE allocation ADD COLUMN reversal_reason TEXT;

CREATE TABLE refund (
    org_id BLOB NOT NULL,
    id BLOB NOT NULL,
    customer_id BLOB NOT NULL,
    source_type TEXT NOT NULL CHECK (source_type IN ('payment', 'credit_note')),
    source_id BLOB NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    method TEXT NOT NULL,
    reference TEXT,
    reason TEXT NOT NULL,
    refunded_on TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id)
);
CREATE INDEX refund_by_source ON refund (org_id, source_id);
CREATE INDEX refund_by_customer ON refund (org_id, customer_id, refunded_on);

-- The account credit a payment or credit note keeps in its customer's bar
-- is now what is neither allocated nor refunded.
DROP TRIGGER payment_bar_insert;
DROP TRIGGER payment_bar_update;
DROP TRIGGER payment_bar_delete;
DROP TRIGGER credit_note_bar_insert;
DROP TRIGGER credit_note_bar_update;
DROP TRIGGER credit_note_bar_delete;

CREATE TRIGGER payment_bar_insert AFTER INSERT ON payment BEGIN
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
    VALUES (NEW.org_id, NEW.customer_id, 'payment', 'all', 1, NEW.amount, NEW.amount - NEW.allocated - NEW.refunded)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = count + 1, total = total + excluded.total, balance = balance + excluded.balance;
END;
CREATE TRIGGER payment_bar_update AFTER UPDATE ON payment WHEN OLD.customer_id IS NOT NEW.customer_id OR OLD.amount IS NOT NEW.amount OR OLD.allocated IS NOT NEW.allocated OR OLD.refunded IS NOT NEW.refunded BEGIN
    UPDATE customer_bar SET count = count - 1, total = total - (OLD.amount), balance = balance - (OLD.amount - OLD.allocated - OLD.refunded)
    WHERE org_id = OLD.org_id AND customer_id = OLD.customer_id AND record = 'payment' AND status = 'all';
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
    VALUES (NEW.org_id, NEW.customer_id, 'payment', 'all', 1, NEW.amount, NEW.amount - NEW.allocated - NEW.refunded)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = count + 1, total = total + excluded.total, balance = balance + excluded.balance;
END;
CREATE TRIGGER payment_bar_delete AFTER DELETE ON payment BEGIN
    UPDATE customer_bar SET count = count - 1, total = total - (OLD.amount), balance = balance - (OLD.amount - OLD.allocated - OLD.refunded)
    WHERE org_id = OLD.org_id AND customer_id = OLD.customer_id AND record = 'payment' AND status = 'all';
END;

CREATE TRIGGER credit_note_bar_insert AFTER INSERT ON credit_note BEGIN
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
    VALUES (NEW.org_id, NEW.customer_id, 'credit_note', 'all', 1, NEW.amount, NEW.amount - NEW.allocated - NEW.refunded)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = count + 1, total = total + excluded.total, balance = balance + excluded.balance;
END;
CREATE TRIGGER credit_note_bar_update AFTER UPDATE ON credit_note WHEN OLD.customer_id IS NOT NEW.customer_id OR OLD.amount IS NOT NEW.amount OR OLD.allocated IS NOT NEW.allocated OR OLD.refunded IS NOT NEW.refunded BEGIN
    UPDATE customer_bar SET count = count - 1, total = total - (OLD.amount), balance = balance - (OLD.amount - OLD.allocated - OLD.refunded)
    WHERE org_id = OLD.org_id AND customer_id = OLD.customer_id AND record = 'credit_note' AND status = 'all';
    INSERT INTO customer_bar (org_id, customer_id, record, status, count, total, balance)
    VALUES (NEW.org_id, NEW.customer_id, 'credit_note', 'all', 1, NEW.amount, NEW.amount - NEW.allocated - NEW.refunded)
    ON CONFLICT (org_id, customer_id, record, status) DO UPDATE
    SET count = count + 1, total = total + excluded.total, balance = balance + excluded.balance;
END;
CREATE TRIGGER credit_note_bar_delete AFTER DELETE ON credit_note BEGIN
    UPDATE customer_bar SET count = count - 1, total = total - (OLD.amount), balance = balance - (OLD.amount - OLD.allocated - OLD.refunded)
    WHERE org_id = OLD.org_id AND customer_id = OLD.customer_id AND record = 'credit_note' AND status = 'all';
END;
