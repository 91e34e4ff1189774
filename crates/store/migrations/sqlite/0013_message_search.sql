-- Search within a customer's history: the words of every message, kept in
-- step with the message table by triggers (so in the same transaction as
-- the write). `owner` is the customer's id as a word ('c' and its hex), so
-- a search intersects the customer's postings with the words' instead of
-- reading every match of the org.
CREATE VIRTUAL TABLE message_text USING fts5(owner, subject, body, tokenize = 'unicode61 remove_diacritics 2');

INSERT INTO message_text (rowid, owner, subject, body) SELECT rowid, 'c' || hex(customer_id), subject, body FROM message;

CREATE TRIGGER message_text_insert AFTER INSERT ON message BEGIN
    INSERT INTO message_text (rowid, owner, subject, body) VALUES (new.rowid, 'c' || hex(new.customer_id), new.subject, new.body);
END;
CREATE TRIGGER message_text_update AFTER UPDATE OF subject, body ON message BEGIN
    UPDATE message_text SET subject = new.subject, body = new.body WHERE rowid = new.rowid;
END;
CREATE TRIGGER message_text_delete AFTER DELETE ON message BEGIN
    DELETE FROM message_text WHERE rowid = old.rowid;
END;
