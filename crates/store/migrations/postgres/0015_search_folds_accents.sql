-- Search within a customer's history folds accents on PostgreSQL as it
-- does on SQLite (FTS5's remove_diacritics) and as the words typed are
-- folded (`muller` finds `Müller`): the indexed text has the accented
-- Latin letters translated to their plain ones. The search uses the same
-- expression (crates/store/src/conversations/words.rs; a test keeps them
-- in step).
DROP INDEX message_text;
CREATE INDEX message_text ON message USING GIN (to_tsvector('simple', translate(coalesce(subject, '') || ' ' || body, 'àáâãäåāăąçćčďđèéêëēėęěğìíîïīįıķĺļľłñńņňòóôõöøōőŕřśşšťţùúûüūůűųýÿźżžßÀÁÂÃÄÅĀĂĄÇĆČĎĐÈÉÊËĒĖĘĚĞÌÍÎÏĪĮIĶĹĻĽŁÑŃŅŇÒÓÔÕÖØŌŐŔŘŚŞŠŤŢÙÚÛÜŪŮŰŲÝŸŹŻŽ', 'aaaaaaaaacccddeeeeeeeegiiiiiiikllllnnnnoooooooorrsssttuuuuuuuuyyzzzsaaaaaaaaacccddeeeeeeeegiiiiiiikllllnnnnoooooooorrsssttuuuuuuuuyyzzz')));
