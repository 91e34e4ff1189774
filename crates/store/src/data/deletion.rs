//! Deleted customers: marking one deleted (its search terms set aside, so
//! no search finds it) and restoring it as it was, the Deleted page's
//! list, and the customers whose restore window has ended (for the purge).

use uuid::Uuid;

use crate::{CustomerRow, Handle, Result, run};

/// Mark a customer deleted at `at` (microseconds) by `by`, and set its
/// search terms aside. False when it was deleted already.
pub async fn mark_deleted(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, at: i64, by: &str, reason: Option<&str>) -> Result<bool> {
    let changed = run!(h, c => sqlx::query(
        "UPDATE customer SET deleted_at = $3, deleted_by = $4, delete_reason = $5 WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL")
        .bind(org_id).bind(id).bind(at).bind(by).bind(reason).execute(c).await?.rows_affected());
    if changed == 0 {
        return Ok(false);
    }
    move_terms(h, org_id, id, "customer_search", "customer_search_deleted").await?;
    Ok(true)
}

/// Move the customer's search terms from one of the two term tables (the
/// live one and the deleted customers' one) to the other.
async fn move_terms(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, from: &str, to: &str) -> Result<()> {
    let columns = "org_id, customer_id, source_id, term, sort_name";
    let copy = format!("INSERT INTO {to} ({columns}) SELECT {columns} FROM {from} WHERE org_id = $1 AND customer_id = $2");
    let clear = format!("DELETE FROM {from} WHERE org_id = $1 AND customer_id = $2");
    for sql in [copy, clear] {
        run!(h, c => sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(org_id).bind(id).execute(&mut *c).await.map(drop)?);
    }
    Ok(())
}

/// Undo [`mark_deleted`]: the customer and its search terms as they were.
/// False when it was not deleted.
pub async fn mark_restored(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<bool> {
    let changed = run!(h, c => sqlx::query(
        "UPDATE customer SET deleted_at = NULL, deleted_by = NULL, delete_reason = NULL WHERE org_id = $1 AND id = $2 AND deleted_at IS NOT NULL")
        .bind(org_id).bind(id).execute(c).await?.rows_affected());
    if changed == 0 {
        return Ok(false);
    }
    move_terms(h, org_id, id, "customer_search_deleted", "customer_search").await?;
    Ok(true)
}

/// Deleted customers (not those merged into another), most recently
/// deleted first, after `after` (`deleted_at`, id).
pub async fn list_deleted(h: &mut Handle<'_>, org_id: Uuid, after: Option<(i64, Uuid)>, limit: i64) -> Result<Vec<CustomerRow>> {
    let (at, id) = after.unwrap_or((i64::MAX, Uuid::max()));
    Ok(run!(h, c => sqlx::query_as(
        "SELECT * FROM customer WHERE org_id = $1 AND deleted_at IS NOT NULL AND merged_into IS NULL AND (deleted_at < $2 OR (deleted_at = $2 AND id < $3)) \
         ORDER BY deleted_at DESC, id DESC LIMIT $4")
        .bind(org_id).bind(at).bind(id).bind(limit).fetch_all(c).await?))
}

/// Deleted customers deleted at or before `deleted_by` (microseconds):
/// those whose restore window has ended when `deleted_by` is now less the
/// window, and not erased yet. Oldest first, at most `limit`.
pub async fn deleted_before(h: &mut Handle<'_>, org_id: Uuid, deleted_by: i64, limit: i64) -> Result<Vec<CustomerRow>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT * FROM customer WHERE org_id = $1 AND deleted_at IS NOT NULL AND merged_into IS NULL AND deleted_at <= $2 AND erased_at IS NULL ORDER BY deleted_at, id LIMIT $3")
        .bind(org_id).bind(deleted_by).bind(limit).fetch_all(c).await?))
}

/// The condition that leaves out the records of deleted customers, for a
/// list over many customers whose rows (`record`: a table or its alias)
/// carry `org_id` and `customer_id`: one primary-key look-up per row.
pub(crate) fn of_kept_customer(record: &str) -> String {
    format!(
        " AND NOT EXISTS (SELECT 1 FROM customer gone WHERE gone.org_id = {record}.org_id AND gone.id = {record}.customer_id AND gone.deleted_at IS NOT NULL)"
    )
}
