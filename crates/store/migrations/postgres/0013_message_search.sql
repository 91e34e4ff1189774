-- Search within a customer's history: the words of every message in a GIN
-- index of the same expression the search uses (kept in step by the index
-- itself, so in the same transaction as the write). A search reads the
-- customer's messages by their index and checks the words.
CREATE INDEX message_text ON message USING GIN (to_tsvector('simple', coalesce(subject, '') || ' ' || body));
