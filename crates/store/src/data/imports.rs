//! Customer imports: the record of each import and the keys of the
//! customers it created (see migration 0032).

use std::collections::HashMap;

use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::in_list::push_values;
use crate::{Handle, Result, run};

/// One import of a file, as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ImportRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub file_name: String,
    pub user_id: Option<Uuid>,
    pub actor_name: String,
    /// The mapping, as JSON.
    pub mapping: String,
    pub status: String,
    pub total_rows: i64,
    pub processed_rows: i64,
    pub created_count: i64,
    pub skipped_count: i64,
    pub invalid_count: i64,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The uploaded file in the blob store (imports through the API or web).
    pub file_sha256: Option<String>,
    /// The last dry run's or import's report (CSV) in the blob store.
    pub report_sha256: Option<String>,
    /// Whose status `status` is: the dry run's (`check`) or the import's.
    pub step: String,
    /// When the current step started running.
    pub started_at: Option<i64>,
    /// The last report's counts, as JSON.
    pub summary: Option<String>,
}

pub async fn insert_import(h: &mut Handle<'_>, row: &ImportRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO import_run (org_id, id, file_name, user_id, actor_name, mapping, status, total_rows, processed_rows, created_count, skipped_count, \
         invalid_count, error, created_at, updated_at, file_sha256, report_sha256, step, started_at, summary) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)")
        .bind(row.org_id).bind(row.id).bind(&row.file_name).bind(row.user_id).bind(&row.actor_name).bind(&row.mapping).bind(&row.status)
        .bind(row.total_rows).bind(row.processed_rows).bind(row.created_count).bind(row.skipped_count).bind(row.invalid_count)
        .bind(&row.error).bind(row.created_at).bind(row.updated_at).bind(&row.file_sha256).bind(&row.report_sha256).bind(&row.step)
        .bind(row.started_at).bind(&row.summary)
        .execute(c).await.map(drop)?);
    Ok(())
}

/// Save where an import stands: its status, step, mapping, counts, report and error.
pub async fn update_import(h: &mut Handle<'_>, row: &ImportRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "UPDATE import_run SET mapping = $3, status = $4, total_rows = $5, processed_rows = $6, created_count = $7, skipped_count = $8, \
         invalid_count = $9, error = $10, updated_at = $11, report_sha256 = $12, step = $13, started_at = $14, summary = $15 \
         WHERE org_id = $1 AND id = $2")
        .bind(row.org_id).bind(row.id).bind(&row.mapping).bind(&row.status).bind(row.total_rows).bind(row.processed_rows)
        .bind(row.created_count).bind(row.skipped_count).bind(row.invalid_count).bind(&row.error).bind(row.updated_at)
        .bind(&row.report_sha256).bind(&row.step).bind(row.started_at).bind(&row.summary)
        .execute(c).await.map(drop)?);
    Ok(())
}

/// An import's move to another status and step, with the mapping it
/// takes there, only from the statuses in `from`.
pub struct ImportMove<'a> {
    pub from: &'a [&'a str],
    pub to: &'a str,
    pub step: &'a str,
    pub mapping: &'a str,
    pub at: i64,
}

/// Move an import as `change` says, only if it is in one of its `from`
/// statuses (one statement: two requests cannot both start the same
/// step). False if it was not.
pub async fn move_import(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, change: ImportMove<'_>) -> Result<bool> {
    let from: Vec<String> = change.from.iter().map(|s| s.to_string()).collect();
    let moved = run!(h, c => {
        let mut q = QueryBuilder::new("UPDATE import_run SET status = ");
        q.push_bind(change.to).push(", step = ").push_bind(change.step).push(", mapping = ").push_bind(change.mapping);
        q.push(", updated_at = ").push_bind(change.at);
        q.push(", processed_rows = 0, started_at = NULL, error = NULL WHERE org_id = ").push_bind(org_id).push(" AND id = ").push_bind(id);
        q.push(" AND status IN ");
        push_values(&mut q, &from);
        q.build().execute(c).await?.rows_affected()
    });
    Ok(moved == 1)
}

pub async fn get_import(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<Option<ImportRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM import_run WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).fetch_optional(c).await?))
}

/// The org's imports, newest first.
pub async fn list_imports(h: &mut Handle<'_>, org_id: Uuid, limit: i64) -> Result<Vec<ImportRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM import_run WHERE org_id = $1 ORDER BY id DESC LIMIT $2")
        .bind(org_id).bind(limit).fetch_all(c).await?))
}

/// Which of `keys` the org has imported before, and the customer each made.
pub async fn imported_keys(h: &mut Handle<'_>, org_id: Uuid, keys: &[String]) -> Result<HashMap<String, Uuid>> {
    let mut found = HashMap::new();
    for chunk in crate::chunks::power_of_two(keys, 256) {
        let rows: Vec<(String, Uuid)> = run!(h, c => {
            let mut q = QueryBuilder::new("SELECT key, customer_id FROM import_key WHERE org_id = ");
            q.push_bind(org_id).push(" AND key IN ");
            push_values(&mut q, chunk);
            q.build_query_as().fetch_all(c).await?
        });
        found.extend(rows);
    }
    Ok(found)
}

/// Record the keys of newly imported customers: `(key, customer)`.
pub async fn insert_import_keys(h: &mut Handle<'_>, org_id: Uuid, import_id: Uuid, keys: &[(String, Uuid)]) -> Result<()> {
    for chunk in crate::chunks::power_of_two(keys, 256) {
        run!(h, c => {
            let mut q = QueryBuilder::new("INSERT INTO import_key (org_id, key, customer_id, import_id) ");
            q.push_values(chunk, |mut b, (key, customer)| {
                b.push_bind(org_id).push_bind(key).push_bind(*customer).push_bind(import_id);
            });
            q.build().execute(c).await.map(drop)?
        });
    }
    Ok(())
}

/// The customers (id and number) found by any of these search terms
/// (emails, phone digits): the probable duplicates of an import's rows.
pub async fn customers_by_terms(h: &mut Handle<'_>, org_id: Uuid, terms: &[String]) -> Result<Vec<(String, Uuid, i64)>> {
    let mut found = Vec::new();
    for chunk in crate::chunks::power_of_two(terms, 256) {
        let rows: Vec<(String, Uuid, i64)> = run!(h, c => {
            let mut q = QueryBuilder::new(
                "SELECT s.term, c.id, c.number FROM customer_search s JOIN customer c ON c.org_id = s.org_id AND c.id = s.customer_id WHERE s.org_id = ");
            q.push_bind(org_id).push(" AND s.term IN ");
            push_values(&mut q, chunk);
            q.build_query_as().fetch_all(c).await?
        });
        found.extend(rows);
    }
    Ok(found)
}

/// The customers of the org numbered any of `numbers` (by the org's
/// unique number, which is indexed): their number, code, name and id. A
/// re-imported export names its customers by their codes.
pub async fn customers_by_numbers(h: &mut Handle<'_>, org_id: Uuid, numbers: &[i64]) -> Result<Vec<(i64, String, String, Uuid)>> {
    let mut found = Vec::new();
    for chunk in crate::chunks::power_of_two(numbers, 256) {
        let rows: Vec<(i64, String, String, Uuid)> = run!(h, c => {
            let mut q = QueryBuilder::new("SELECT number, code, display_name, id FROM customer WHERE org_id = ");
            q.push_bind(org_id).push(" AND number IN (");
            let mut list = q.separated(", ");
            for n in chunk {
                list.push_bind(*n);
            }
            q.push(")");
            q.build_query_as().fetch_all(c).await?
        });
        found.extend(rows);
    }
    Ok(found)
}
