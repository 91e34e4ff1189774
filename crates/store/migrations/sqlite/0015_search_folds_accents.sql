-- PostgreSQL's history search now folds accents (its message index is
-- rebuilt); SQLite's FTS5 tables have folded them from the start
-- (remove_diacritics 2). Nothing to change here.
SELECT 1;
