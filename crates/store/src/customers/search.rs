use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::{Handle, Result, run};

/// The half-open range of terms starting with `prefix`, in byte order
/// (SQLite's BINARY collation, PostgreSQL's "C" collation on `term`).
pub(crate) fn prefix_range(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}\u{10FFFF}"))
}

/// Replace the search terms that `source_id` (the customer, a contact or a
/// site) gives its customer.
pub async fn replace_terms(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid, source_id: Uuid, terms: &[String]) -> Result<()> {
    run!(h, c => sqlx::query("DELETE FROM customer_search WHERE org_id = $1 AND customer_id = $2 AND source_id = $3")
        .bind(org_id).bind(customer_id).bind(source_id).execute(&mut *c).await.map(drop)?);
    let rows: Vec<SearchTerm> = terms.iter().map(|term| SearchTerm { customer_id, source_id, term: term.clone() }).collect();
    add_search_terms(h, org_id, &rows).await
}

/// One term a customer is found by, and the record it comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SearchTerm {
    pub customer_id: Uuid,
    pub source_id: Uuid,
    pub term: String,
}

/// Add the terms of many new records at once; repeated terms are dropped.
pub async fn add_search_terms(h: &mut Handle<'_>, org_id: Uuid, rows: &[SearchTerm]) -> Result<()> {
    let mut rows: Vec<&SearchTerm> = rows.iter().filter(|r| !r.term.is_empty()).collect();
    rows.sort_unstable();
    rows.dedup();
    for chunk in crate::chunks::power_of_two(&rows, 256) {
        run!(h, c => {
            // Each row carries its customer's sort name, read as it is inserted.
            let mut q = QueryBuilder::new("INSERT INTO customer_search (org_id, term, sort_name, customer_id, source_id) ");
            q.push_values(chunk, |mut b, row| {
                b.push_bind(org_id).push_bind(&row.term);
                b.push_unseparated(", (SELECT sort_name FROM customer WHERE org_id = ")
                    .push_bind_unseparated(org_id)
                    .push_unseparated(" AND id = ")
                    .push_bind_unseparated(row.customer_id)
                    .push_unseparated(")");
                b.push_bind(row.customer_id).push_bind(row.source_id);
            });
            q.build().execute(c).await.map(drop)?
        });
    }
    Ok(())
}

/// A customer's name changed: its search terms carry the new sort name.
pub async fn rename_in_search(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid, sort_name: &str) -> Result<()> {
    run!(h, c => sqlx::query("UPDATE customer_search SET sort_name = $1 WHERE org_id = $2 AND customer_id = $3")
        .bind(sort_name).bind(org_id).bind(customer_id).execute(c).await.map(drop)?);
    Ok(())
}
