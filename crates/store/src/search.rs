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
    let mut terms: Vec<&str> = terms.iter().map(String::as_str).filter(|t| !t.is_empty()).collect();
    terms.sort_unstable();
    terms.dedup();
    run!(h, c => {
        sqlx::query("DELETE FROM customer_search WHERE org_id = $1 AND customer_id = $2 AND source_id = $3")
            .bind(org_id).bind(customer_id).bind(source_id).execute(&mut *c).await?;
        if !terms.is_empty() {
            let mut q = QueryBuilder::new("INSERT INTO customer_search (org_id, term, customer_id, source_id) ");
            q.push_values(&terms, |mut row, term| {
                row.push_bind(org_id).push_bind(*term).push_bind(customer_id).push_bind(source_id);
            });
            q.build().execute(c).await?;
        }
    });
    Ok(())
}
