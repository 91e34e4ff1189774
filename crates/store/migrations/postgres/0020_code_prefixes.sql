-- Code prefixes an org chooses per series (JSON: series key to prefix,
-- only those that differ from the series' own), and each record's code as
-- it was given: a later change of prefix names new records only, so an
-- issued invoice keeps its number. Existing records get the fixed prefixes
-- they have always shown.
ALTER TABLE org ADD COLUMN code_prefixes TEXT NOT NULL DEFAULT '{}';

ALTER TABLE customer ADD COLUMN code TEXT;
UPDATE customer SET code = 'CUS-' || lpad(number::text, greatest(5, length(number::text)), '0');
ALTER TABLE customer ALTER COLUMN code SET NOT NULL;

ALTER TABLE inquiry ADD COLUMN code TEXT;
UPDATE inquiry SET code = 'INQ-' || lpad(number::text, greatest(5, length(number::text)), '0');
ALTER TABLE inquiry ALTER COLUMN code SET NOT NULL;

ALTER TABLE quote ADD COLUMN code TEXT;
UPDATE quote SET code = 'EST-' || lpad(number::text, greatest(5, length(number::text)), '0');
ALTER TABLE quote ALTER COLUMN code SET NOT NULL;

ALTER TABLE job ADD COLUMN code TEXT;
UPDATE job SET code = 'BOK-' || lpad(number::text, greatest(5, length(number::text)), '0');
ALTER TABLE job ALTER COLUMN code SET NOT NULL;

ALTER TABLE invoice ADD COLUMN code TEXT;
UPDATE invoice SET code = 'INV-' || lpad(number::text, greatest(5, length(number::text)), '0');
ALTER TABLE invoice ALTER COLUMN code SET NOT NULL;

ALTER TABLE payment ADD COLUMN code TEXT;
UPDATE payment SET code = 'PAY-' || lpad(number::text, greatest(5, length(number::text)), '0');
ALTER TABLE payment ALTER COLUMN code SET NOT NULL;

ALTER TABLE credit_note ADD COLUMN code TEXT;
UPDATE credit_note SET code = 'CRN-' || lpad(number::text, greatest(5, length(number::text)), '0');
ALTER TABLE credit_note ALTER COLUMN code SET NOT NULL;
