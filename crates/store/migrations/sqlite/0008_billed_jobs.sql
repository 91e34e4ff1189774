-- The invoice that bills a job. A job is billed by at most one invoice that
-- is not void: creating the invoice claims each of its jobs with one
-- conditional UPDATE, so two invoices racing for a job cannot both win;
-- voiding the invoice releases them.
ALTER TABLE job ADD COLUMN invoice_id BLOB;
