-- A merge (and its undo) moves messages and files to another customer by
-- changing their `customer_id`: the search within a customer's history
-- (`message_text`, `file_text`, keyed by the customer as `owner`) follows
-- in the same transaction, as it follows inserts and edits.
CREATE TRIGGER message_text_move AFTER UPDATE OF customer_id ON message BEGIN
    UPDATE message_text SET owner = 'c' || hex(new.customer_id) WHERE rowid = new.rowid;
END;
CREATE TRIGGER file_text_move AFTER UPDATE OF customer_id ON file BEGIN
    UPDATE file_text SET owner = 'c' || hex(new.customer_id) WHERE rowid = new.rowid;
END;
