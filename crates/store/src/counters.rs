use uuid::Uuid;

use crate::{Handle, Result, run};

/// Take the next `count` numbers of a gapless per-org sequence (customer
/// codes, later invoice numbers); returns the first. The counter row is
/// updated inside the caller's transaction: a rollback gives the numbers
/// back, and concurrent writers wait on the row, so numbers are unique and
/// have no gaps.
pub async fn reserve_numbers(h: &mut Handle<'_>, org_id: Uuid, kind: &str, count: i64) -> Result<i64> {
    let last: i64 = run!(h, c => sqlx::query_scalar(
        "INSERT INTO code_counter (org_id, kind, last) VALUES ($1, $2, $3) \
         ON CONFLICT (org_id, kind) DO UPDATE SET last = code_counter.last + $3 RETURNING last")
        .bind(org_id).bind(kind).bind(count).fetch_one(c).await?);
    Ok(last - count + 1)
}

/// Make `next` the number the series' next record gets, in one statement:
/// refused (`false`) when a number at or above `next` was already issued,
/// so a series never repeats a number.
pub async fn set_next_number(h: &mut Handle<'_>, org_id: Uuid, kind: &str, next: i64) -> Result<bool> {
    let set: Option<i64> = run!(h, c => sqlx::query_scalar(
        "INSERT INTO code_counter (org_id, kind, last) VALUES ($1, $2, $3) \
         ON CONFLICT (org_id, kind) DO UPDATE SET last = excluded.last WHERE code_counter.last <= excluded.last RETURNING last")
        .bind(org_id).bind(kind).bind(next - 1).fetch_optional(c).await?);
    Ok(set.is_some())
}

/// The last number issued in each of the org's series that has one.
pub async fn last_numbers(h: &mut Handle<'_>, org_id: Uuid) -> Result<Vec<(String, i64)>> {
    Ok(run!(h, c => sqlx::query_as("SELECT kind, last FROM code_counter WHERE org_id = $1 ORDER BY kind").bind(org_id).fetch_all(c).await?))
}
