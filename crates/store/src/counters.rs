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
