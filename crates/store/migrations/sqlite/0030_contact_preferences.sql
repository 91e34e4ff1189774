-- What a contact agreed to receive, per channel and purpose, as JSON (the
-- customer's communication preferences' shape); NULL: as the customer's.
-- A send to a contact needs both the customer's and the contact's consent.
ALTER TABLE contact ADD COLUMN communication TEXT;
