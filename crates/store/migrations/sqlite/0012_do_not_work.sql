-- "Do not work with again": set (with the reason) on a customer, staff see
-- it as a warning wherever they start a job or a quote for them.
ALTER TABLE customer ADD COLUMN do_not_work_reason TEXT;
