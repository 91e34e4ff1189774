-- Works and money: inquiries, quotes, jobs, invoices, payments, credit notes
-- and the allocations between them; payment terms on orgs and customers.
-- Money is in integer minor units; dates are YYYY-MM-DD text (byte order is
-- date order, so no collation matters).

ALTER TABLE org ADD COLUMN payment_terms TEXT NOT NULL DEFAULT '{"basis":"net","days":30}';
ALTER TABLE org ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE customer ADD COLUMN payment_terms TEXT;

CREATE TABLE inquiry (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    number BIGINT NOT NULL,
    customer_id UUID NOT NULL,
    site_id UUID,
    contact_id UUID,
    status TEXT NOT NULL CHECK (status IN ('new', 'contacted', 'qualified', 'converted', 'lost')),
    title TEXT NOT NULL,
    description TEXT,
    estimated_value BIGINT NOT NULL,
    source TEXT,
    converted_to TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, number),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id)
);
CREATE INDEX inquiry_by_customer ON inquiry (org_id, customer_id, status);
CREATE INDEX inquiry_by_status ON inquiry (org_id, status, number);

CREATE TABLE quote (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    number BIGINT NOT NULL,
    customer_id UUID NOT NULL,
    site_id UUID,
    contact_id UUID,
    inquiry_id UUID,
    status TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'accepted', 'declined', 'expired')),
    title TEXT NOT NULL,
    valid_until TEXT,
    lines TEXT NOT NULL,
    subtotal BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    total BIGINT NOT NULL,
    job_id UUID,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, number),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id)
);
CREATE INDEX quote_by_customer ON quote (org_id, customer_id, status);
CREATE INDEX quote_by_status ON quote (org_id, status, number);

CREATE TABLE job (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    number BIGINT NOT NULL,
    customer_id UUID NOT NULL,
    site_id UUID,
    contact_id UUID,
    inquiry_id UUID,
    quote_id UUID,
    status TEXT NOT NULL CHECK (status IN ('to_schedule', 'scheduled', 'in_progress', 'completed', 'cancelled', 'aborted')),
    title TEXT NOT NULL,
    description TEXT,
    scheduled_start BIGINT,
    scheduled_end BIGINT,
    assignees TEXT NOT NULL,
    value BIGINT NOT NULL,
    free_of_charge BOOLEAN NOT NULL,
    completion_notes TEXT,
    completed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, number),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id)
);
CREATE INDEX job_by_customer ON job (org_id, customer_id, status);
CREATE INDEX job_by_status ON job (org_id, status, number);

-- Who works on which job: a fieldworker's own jobs are a range scan.
CREATE TABLE job_assignee (
    org_id UUID NOT NULL,
    user_id UUID NOT NULL,
    job_id UUID NOT NULL,
    PRIMARY KEY (org_id, user_id, job_id)
);

CREATE TABLE invoice (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    number BIGINT NOT NULL,
    customer_id UUID NOT NULL,
    site_id UUID,
    contact_id UUID,
    status TEXT NOT NULL CHECK (status IN ('draft', 'open', 'closed', 'void')),
    issue_date TEXT,
    due_date TEXT,
    due_date_source TEXT,
    due_date_override TEXT,
    lines TEXT NOT NULL,
    subtotal BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    total BIGINT NOT NULL,
    -- Sums of this invoice's allocations, kept in the same transaction as
    -- the allocation rows (the ledger); total - paid - credited is the balance.
    paid BIGINT NOT NULL,
    credited BIGINT NOT NULL,
    job_ids TEXT NOT NULL,
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, number),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id),
    CHECK (paid >= 0 AND credited >= 0 AND paid + credited <= total)
);
CREATE INDEX invoice_by_customer ON invoice (org_id, customer_id, status, due_date);
CREATE INDEX invoice_by_status ON invoice (org_id, status, due_date, number);

CREATE TABLE payment (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    number BIGINT NOT NULL,
    customer_id UUID NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    allocated BIGINT NOT NULL,
    method TEXT NOT NULL,
    reference TEXT,
    received_on TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, number),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id),
    CHECK (allocated >= 0 AND allocated <= amount)
);
CREATE INDEX payment_by_customer ON payment (org_id, customer_id, received_on);

CREATE TABLE credit_note (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    number BIGINT NOT NULL,
    customer_id UUID NOT NULL,
    invoice_id UUID,
    amount BIGINT NOT NULL CHECK (amount > 0),
    allocated BIGINT NOT NULL,
    reason TEXT NOT NULL,
    issue_date TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, number),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id),
    CHECK (allocated >= 0 AND allocated <= amount)
);
CREATE INDEX credit_note_by_customer ON credit_note (org_id, customer_id, issue_date);

-- The ledger: part of a payment or credit note set against an invoice.
CREATE TABLE allocation (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    customer_id UUID NOT NULL,
    invoice_id UUID NOT NULL,
    source_type TEXT NOT NULL CHECK (source_type IN ('payment', 'credit_note')),
    source_id UUID NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    allocated_on TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, invoice_id) REFERENCES invoice (org_id, id)
);
CREATE INDEX allocation_by_invoice ON allocation (org_id, invoice_id);
CREATE INDEX allocation_by_source ON allocation (org_id, source_id);
CREATE INDEX allocation_by_customer ON allocation (org_id, customer_id, allocated_on);
