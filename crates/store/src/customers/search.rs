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
            // Each row carries its customer's sort name, read as it is
            // inserted by one correlated subquery over the rows (by the
            // customer's key on both backends); a subquery written out per
            // row was planned anew for every row on PostgreSQL, and a join
            // made SQLite scan the customers for each statement.
            let mut q = QueryBuilder::new("WITH v (term, customer_id, source_id) AS (");
            q.push_values(chunk, |mut b, row| {
                b.push_bind(&row.term).push_bind(row.customer_id).push_bind(row.source_id);
            });
            q.push(") INSERT INTO customer_search (org_id, term, sort_name, customer_id, source_id) SELECT ");
            q.push_bind(org_id).push(", v.term, (SELECT c.sort_name FROM customer c WHERE c.org_id = ");
            q.push_bind(org_id).push(" AND c.id = v.customer_id), v.customer_id, v.source_id FROM v");
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

/// Sites waiting for the terms a migration gave them (their street, town
/// and facets: migration 0019): made here, in Rust, because words are
/// folded as queries are (`Étienne` → `etienne`), a few hundred sites a
/// transaction, each taken off the list with its terms. Runs after every
/// migration; with nothing pending it is one empty read.
pub(crate) async fn fill_pending_site_terms(db: &crate::Db) -> Result<()> {
    loop {
        let mut tx = db.begin().await?;
        let h = &mut tx.handle();
        let sites: Vec<crate::SiteRow> = run!(h, c => sqlx::query_as(
            "SELECT s.* FROM site_terms_pending p JOIN site s ON s.org_id = p.org_id AND s.id = p.site_id ORDER BY p.org_id, p.site_id LIMIT 500")
            .fetch_all(c).await?);
        let pending: Vec<(Uuid, Uuid)> = run!(h, c => sqlx::query_as("SELECT org_id, site_id FROM site_terms_pending ORDER BY org_id, site_id LIMIT 500")
            .fetch_all(c).await?);
        if pending.is_empty() {
            return Ok(());
        }
        for site in &sites {
            let terms = dossier_domain::search::site_terms(&site.profile()?);
            let rows: Vec<SearchTerm> = terms.into_iter().map(|term| SearchTerm { customer_id: site.customer_id, source_id: site.id, term }).collect();
            run!(h, c => sqlx::query("DELETE FROM customer_search WHERE org_id = $1 AND customer_id = $2 AND source_id = $3")
                .bind(site.org_id).bind(site.customer_id).bind(site.id).execute(&mut *c).await.map(drop)?);
            add_search_terms(h, site.org_id, &rows).await?;
        }
        for (org_id, site_id) in &pending {
            run!(h, c => sqlx::query("DELETE FROM site_terms_pending WHERE org_id = $1 AND site_id = $2")
                .bind(*org_id).bind(*site_id).execute(c).await.map(drop)?);
        }
        tx.commit().await?;
    }
}
