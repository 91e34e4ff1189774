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
ALTER TABLE payment ADD COLUMN refunded BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payment ADD CONSTRAINT payment_refunded_check CHECK (refunded >= 0 AND allocated + refunded <= amount);
ALTER TABLE credit_note ADD COLUMN refunded BIGINT NOT NULL DEFAULT 0;
ALTER TABLE credit_note ADD CONSTRAINT credit_note_refunded_check CHECK (refunded >= 0 AND allocated + refunded <= amount);

ALTER TABLE allocation ADD COLUMN reversed_on TEXT;
ALTER TABLE allocation ADD COLUMN reversed_at BIGINT;
ALTER TABLE allocation ADD COLUMN reversal_reason TEXT;

CREATE TABLE refund (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    customer_id UUID NOT NULL,
    source_type TEXT NOT NULL CHECK (source_type IN ('payment', 'credit_note')),
    source_id UUID NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    method TEXT NOT NULL,
    reference TEXT,
    reason TEXT NOT NULL,
    refunded_on TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id)
);
CREATE INDEX refund_by_source ON refund (org_id, source_id);
CREATE INDEX refund_by_customer ON refund (org_id, customer_id, refunded_on);

-- The account credit a payment or credit note keeps in its customer's bar
-- is now what is neither allocated nor refunded.
CREATE OR REPLACE FUNCTION payment_bar() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT (OLD.customer_id IS DISTINCT FROM NEW.customer_id OR OLD.amount IS DISTINCT FROM NEW.amount
                                 OR OLD.allocated IS DISTINCT FROM NEW.allocated OR OLD.refunded IS DISTINCT FROM NEW.refunded) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM customer_bar_add(OLD.org_id, OLD.customer_id, 'payment', 'all', -1, -(OLD.amount), -(OLD.amount - OLD.allocated - OLD.refunded));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM customer_bar_add(NEW.org_id, NEW.customer_id, 'payment', 'all', 1, NEW.amount, NEW.amount - NEW.allocated - NEW.refunded);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION credit_note_bar() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT (OLD.customer_id IS DISTINCT FROM NEW.customer_id OR OLD.amount IS DISTINCT FROM NEW.amount
                                 OR OLD.allocated IS DISTINCT FROM NEW.allocated OR OLD.refunded IS DISTINCT FROM NEW.refunded) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM customer_bar_add(OLD.org_id, OLD.customer_id, 'credit_note', 'all', -1, -(OLD.amount), -(OLD.amount - OLD.allocated - OLD.refunded));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM customer_bar_add(NEW.org_id, NEW.customer_id, 'credit_note', 'all', 1, NEW.amount, NEW.amount - NEW.allocated - NEW.refunded);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
