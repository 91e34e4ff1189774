//! Idempotency keys: a request's claim on its key, the mark its use case's
//! transaction writes as it commits, and the answer stored afterwards.
//!
//! The claim travels to the use case in a task-local (see [`holding`]):
//! every transaction committed while it is held that records history also
//! marks the key `committed`, in that same transaction. So a crash after
//! the commit and before the answer is stored leaves a key that says the
//! work was done, and a retry is never carried out twice.

use std::future::Future;

use uuid::Uuid;

use crate::{Handle, Result, StoreError, run};

/// A stored key.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct IdempotencyRow {
    pub org_id: Uuid,
    pub caller: Uuid,
    pub client_key: String,
    /// SHA-256 of the method, path and body of the first request.
    pub request_hash: Vec<u8>,
    pub attempt: Uuid,
    /// `running`, `committed` or `done`.
    pub state: String,
    pub created_at: i64,
    pub started_at: i64,
    pub status: Option<i64>,
    pub content_type: Option<String>,
    /// `None` when the answer is not kept.
    pub body: Option<Vec<u8>>,
}

/// The claim a request holds on its key while it is carried out. `attempt`
/// tells it apart from a later request that retook a stale claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub org_id: Uuid,
    pub caller: Uuid,
    pub key: String,
    pub attempt: Uuid,
}

tokio::task_local! {
    static CLAIM: Claim;
}

/// Run `work` holding `claim`: each transaction it commits that records
/// history marks the claim `committed` in that transaction, or fails if the
/// claim was retaken meanwhile.
pub async fn holding<F: Future>(claim: Claim, work: F) -> F::Output {
    CLAIM.scope(claim, work).await
}

/// The claim the current task holds, if any.
pub(crate) fn held() -> Option<Claim> {
    CLAIM.try_with(Claim::clone).ok()
}

/// Insert `claim` as `running`, unless the key is already stored; true
/// when this request now holds the key.
pub async fn insert_claim(h: &mut Handle<'_>, claim: &Claim, request_hash: &[u8], now: i64) -> Result<bool> {
    let inserted = run!(h, c => sqlx::query(
        "INSERT INTO idempotency_key (org_id, caller, client_key, request_hash, attempt, state, created_at, started_at) \
         VALUES ($1, $2, $3, $4, $5, 'running', $6, $6) ON CONFLICT DO NOTHING")
        .bind(claim.org_id).bind(claim.caller).bind(&claim.key).bind(request_hash).bind(claim.attempt).bind(now)
        .execute(c).await?.rows_affected());
    Ok(inserted == 1)
}

pub async fn get_key(h: &mut Handle<'_>, org_id: Uuid, caller: Uuid, key: &str) -> Result<Option<IdempotencyRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM idempotency_key WHERE org_id = $1 AND caller = $2 AND client_key = $3")
        .bind(org_id).bind(caller).bind(key).fetch_optional(c).await?))
}

/// Take over a `running` claim whose request started before `stale_before`
/// (it died or was dropped without committing); true when taken.
pub async fn retake_claim(h: &mut Handle<'_>, claim: &Claim, stale_before: i64, now: i64) -> Result<bool> {
    let taken = run!(h, c => sqlx::query(
        "UPDATE idempotency_key SET attempt = $4, started_at = $5 \
         WHERE org_id = $1 AND caller = $2 AND client_key = $3 AND state = 'running' AND started_at < $6")
        .bind(claim.org_id).bind(claim.caller).bind(&claim.key).bind(claim.attempt).bind(now).bind(stale_before)
        .execute(c).await?.rows_affected());
    Ok(taken == 1)
}

/// Mark the held claim `committed`, in the transaction of `h`. Fails, so
/// that the transaction rolls back, when another request holds the key now.
pub(crate) async fn mark_committed(h: &mut Handle<'_>, claim: &Claim) -> Result<()> {
    let marked = run!(h, c => sqlx::query(
        "UPDATE idempotency_key SET state = 'committed' \
         WHERE org_id = $1 AND caller = $2 AND client_key = $3 AND attempt = $4 AND state IN ('running', 'committed')")
        .bind(claim.org_id).bind(claim.caller).bind(&claim.key).bind(claim.attempt)
        .execute(c).await?.rows_affected());
    match marked {
        1 => Ok(()),
        _ => Err(StoreError::IdempotencyClaimLost),
    }
}

/// Store the answer of the request holding `claim`; true when stored.
pub async fn store_answer(h: &mut Handle<'_>, claim: &Claim, status: i64, content_type: Option<&str>, body: Option<&[u8]>) -> Result<bool> {
    let stored = run!(h, c => sqlx::query(
        "UPDATE idempotency_key SET state = 'done', status = $5, content_type = $6, body = $7 \
         WHERE org_id = $1 AND caller = $2 AND client_key = $3 AND attempt = $4")
        .bind(claim.org_id).bind(claim.caller).bind(&claim.key).bind(claim.attempt).bind(status).bind(content_type).bind(body)
        .execute(c).await?.rows_affected());
    Ok(stored == 1)
}

/// Give the key up when its request committed nothing, so that a retry
/// carries it out; true when released.
pub async fn release_claim(h: &mut Handle<'_>, claim: &Claim) -> Result<bool> {
    let released = run!(h, c => sqlx::query(
        "DELETE FROM idempotency_key WHERE org_id = $1 AND caller = $2 AND client_key = $3 AND attempt = $4 AND state = 'running'")
        .bind(claim.org_id).bind(claim.caller).bind(&claim.key).bind(claim.attempt)
        .execute(c).await?.rows_affected());
    Ok(released == 1)
}

/// Delete the org's keys stored before `created_before`; returns how many.
pub async fn purge_keys(h: &mut Handle<'_>, org_id: Uuid, created_before: i64) -> Result<u64> {
    Ok(run!(h, c => sqlx::query("DELETE FROM idempotency_key WHERE org_id = $1 AND created_at < $2")
        .bind(org_id).bind(created_before).execute(c).await?.rows_affected()))
}
