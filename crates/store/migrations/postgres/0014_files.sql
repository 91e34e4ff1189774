-- Files attached to a customer, to one of their records or to a message.
-- The content is a blob named by `sha256` in the org's folder of the blob
-- store; this row is what names it. A deleted file keeps its row (who
-- deleted it and when); its blob goes once no live row names it.

CREATE TABLE file (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    customer_id UUID NOT NULL,
    record_type TEXT,
    record_id UUID,
    record_code TEXT,
    message_id UUID,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL CHECK (size >= 0),
    sha256 TEXT NOT NULL,
    -- A smaller JPEG of a picture, a blob of its own.
    thumbnail_sha256 TEXT,
    visibility TEXT NOT NULL CHECK (visibility IN ('internal', 'customer')),
    uploaded_by_type TEXT NOT NULL,
    uploaded_by_id UUID,
    uploaded_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT,
    deleted_by TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id),
    FOREIGN KEY (org_id, message_id) REFERENCES message (org_id, id)
);
CREATE INDEX file_by_customer ON file (org_id, customer_id, created_at, id);
CREATE INDEX file_by_record ON file (org_id, record_id, created_at, id);
CREATE INDEX file_by_message ON file (org_id, message_id);
-- Is this blob still named by a live file?
CREATE INDEX file_by_blob ON file (org_id, sha256);
CREATE INDEX file_by_thumbnail ON file (org_id, thumbnail_sha256);

-- File names in the search within a customer's history: the words of the
-- name with its dots, dashes and underscores read as spaces and its
-- accented Latin letters as plain ones (as in 0015 for messages).
CREATE INDEX file_text ON file USING GIN (to_tsvector('simple', translate(name, '._-àáâãäåāăąçćčďđèéêëēėęěğìíîïīįıķĺļľłñńņňòóôõöøōőŕřśşšťţùúûüūůűųýÿźżžßÀÁÂÃÄÅĀĂĄÇĆČĎĐÈÉÊËĒĖĘĚĞÌÍÎÏĪĮIĶĹĻĽŁÑŃŅŇÒÓÔÕÖØŌŐŔŘŚŞŠŤŢÙÚÛÜŪŮŰŲÝŸŹŻŽ', '   aaaaaaaaacccddeeeeeeeegiiiiiiikllllnnnnoooooooorrsssttuuuuuuuuyyzzzsaaaaaaaaacccddeeeeeeeegiiiiiiikllllnnnnoooooooorrsssttuuuuuuuuyyzzz')));
