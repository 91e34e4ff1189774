-- Code prefixes an org chooses per series (JSON: series key to prefix,
-- only those that differ from the series' own), and each record's code as
-- it was given: a later change of prefix names new records only, so an
-- issued invoice keeps its number. Existing records get the fixed prefixes
-- they have always shown.
ALTER TABLE org ADD COLUMN code_prefixes TEXT NOT NULL DEFAULT '{}';

ALTER TABLE customer ADD COLUMN code TEXT NOT NULL DEFAULT '';
UPDATE customer SET code = 'CUS-' || printf('%05d', number);
ALTER TABLE inquiry ADD COLUMN code TEXT NOT NULL DEFAULT '';
UPDATE inquiry SET code = 'INQ-' || printf('%05d', number);
ALTER TABLE quote ADD COLUMN code TEXT NOT NULL DEFAULT '';
UPDATE quote SET code = 'EST-' || printf('%05d', number);
ALTER TABLE job ADD COLUMN code TEXT NOT NULL DEFAULT '';
UPDATE job SET code = 'BOK-' || printf('%05d', number);
ALTER TABLE invoice ADD COLUMN code TEXT NOT NULL DEFAULT '';
UPDATE invoice SET code = 'INV-' || printf('%05d', number);
ALTER TABLE payment ADD COLUMN code TEXT NOT NULL DEFAULT '';
UPDATE payment SET code = 'PAY-' || printf('%05d', number);
ALTER TABLE credit_note ADD COLUMN code TEXT NOT NULL DEFAULT '';
UPDATE credit_note SET code = 'CRN-' || printf('%05d', number);
