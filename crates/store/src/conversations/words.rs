//! Search within one customer's history by words: backend-specific, in one
//! place. SQLite joins an FTS5 table whose `owner` column is the customer
//! (so a search intersects the customer's postings with the words');
//! PostgreSQL checks a GIN-indexed tsvector of the same expression the
//! index holds. Both match each word as the start of a word.

use sqlx::QueryBuilder;
use uuid::Uuid;

/// Where one kind of row keeps its words.
pub(crate) struct Words {
    /// The FTS5 table (SQLite), keyed by the row's `rowid`.
    table: &'static str,
    /// The FTS5 columns the words are in.
    columns: &'static str,
    /// The tsvector expression the PostgreSQL index holds, with `{a}` for
    /// the row's alias.
    vector: &'static str,
}

pub(crate) const MESSAGE_WORDS: Words = Words {
    table: "message_text",
    columns: "{subject body}",
    vector: "to_tsvector('simple', translate(coalesce({a}.subject, '') || ' ' || {a}.body, 'àáâãäåāăąçćčďđèéêëēėęěğìíîïīįıķĺļľłñńņňòóôõöøōőŕřśşšťţùúûüūůűųýÿźżžßÀÁÂÃÄÅĀĂĄÇĆČĎĐÈÉÊËĒĖĘĚĞÌÍÎÏĪĮIĶĹĻĽŁÑŃŅŇÒÓÔÕÖØŌŐŔŘŚŞŠŤŢÙÚÛÜŪŮŰŲÝŸŹŻŽ', 'aaaaaaaaacccddeeeeeeeegiiiiiiikllllnnnnoooooooorrsssttuuuuuuuuyyzzzsaaaaaaaaacccddeeeeeeeegiiiiiiikllllnnnnoooooooorrsssttuuuuuuuuyyzzz'))",
};

pub(crate) const FILE_WORDS: Words = Words {
    table: "file_text",
    columns: "name",
    vector: "to_tsvector('simple', translate({a}.name, '._-àáâãäåāăąçćčďđèéêëēėęěğìíîïīįıķĺļľłñńņňòóôõöøōőŕřśşšťţùúûüūůűųýÿźżžßÀÁÂÃÄÅĀĂĄÇĆČĎĐÈÉÊËĒĖĘĚĞÌÍÎÏĪĮIĶĹĻĽŁÑŃŅŇÒÓÔÕÖØŌŐŔŘŚŞŠŤŢÙÚÛÜŪŮŰŲÝŸŹŻŽ', '   aaaaaaaaacccddeeeeeeeegiiiiiiikllllnnnnoooooooorrsssttuuuuuuuuyyzzzsaaaaaaaaacccddeeeeeeeegiiiiiiikllllnnnnoooooooorrsssttuuuuuuuuyyzzz'))",
};

/// A prepared search: the words of one customer's rows, for one backend.
pub(crate) struct Search {
    words: &'static Words,
    sqlite: bool,
    /// What is bound: the FTS5 MATCH expression, or the tsquery.
    query: String,
}

impl Words {
    /// The search for `words` (lower-case ASCII letters and digits; anything
    /// else is dropped) in `customer`'s rows; `None` when there is nothing
    /// to look for.
    pub(crate) fn search(&'static self, sqlite: bool, customer: Option<Uuid>, words: &[String]) -> Option<Search> {
        let words: Vec<&str> = words.iter().map(String::as_str).filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric())).collect();
        let customer = customer.filter(|_| !words.is_empty())?;
        let query = if sqlite {
            let terms: Vec<String> = words.iter().map(|w| format!("\"{w}\"*")).collect();
            format!("owner:c{} AND {}: ({})", customer.simple(), self.columns, terms.join(" AND "))
        } else {
            words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & ")
        };
        Some(Search { words: self, sqlite, query })
    }
}

impl Search {
    /// After `FROM table alias`: SQLite's join on the FTS5 table.
    pub(crate) fn push_join<DB: sqlx::Database>(&self, q: &mut QueryBuilder<DB>, alias: &str)
    where
        for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        if self.sqlite {
            let table = self.words.table;
            q.push(format!(" JOIN {table} t ON t.rowid = {alias}.rowid AND {table} MATCH ")).push_bind(self.query.clone());
        }
    }

    /// In the `WHERE` clause: PostgreSQL's tsvector check.
    pub(crate) fn push_condition<DB: sqlx::Database>(&self, q: &mut QueryBuilder<DB>, alias: &str)
    where
        for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        if !self.sqlite {
            q.push(format!(" AND {} @@ to_tsquery('simple', ", self.words.vector.replace("{a}", alias))).push_bind(self.query.clone()).push(")");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PostgreSQL indexes hold exactly the expressions searched, or the
    /// planner would not use them.
    #[test]
    fn searches_use_the_indexed_expressions() {
        let messages = include_str!("../../migrations/postgres/0015_search_folds_accents.sql");
        let files = include_str!("../../migrations/postgres/0014_files.sql");
        let unaliased = |words: &Words| words.vector.replace("{a}.", "");
        assert!(messages.contains(&format!("USING GIN ({});", unaliased(&MESSAGE_WORDS))));
        assert!(files.contains(&format!("USING GIN ({});", unaliased(&FILE_WORDS))));
    }
}
