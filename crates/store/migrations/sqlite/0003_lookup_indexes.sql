-- Indexes the first works-and-money queries showed were missing.
-- A job's assignees are replaced when it moves on: find them by job.
CREATE INDEX job_assignee_by_job ON job_assignee (org_id, job_id);
-- A customer's records newest first (the lists behind the status bars)
-- without walking every record of the org.
CREATE INDEX inquiry_by_customer_number ON inquiry (org_id, customer_id, number);
CREATE INDEX quote_by_customer_number ON quote (org_id, customer_id, number);
CREATE INDEX job_by_customer_number ON job (org_id, customer_id, number);
CREATE INDEX invoice_by_customer_number ON invoice (org_id, customer_id, number);
CREATE INDEX payment_by_customer_number ON payment (org_id, customer_id, number);
CREATE INDEX credit_note_by_customer_number ON credit_note (org_id, customer_id, number);
