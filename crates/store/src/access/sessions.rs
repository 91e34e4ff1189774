//! Sign-in sessions and the failed-sign-in counters that throttle them.

use std::sync::LazyLock;

use uuid::Uuid;

use crate::orgs::{ORG_COLUMNS, PrefixedOrg};
use crate::{Handle, Result, UserRow, run};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub user_id: Uuid,
    /// SHA-256 of the cookie's secret.
    pub token_hash: Vec<u8>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

pub async fn insert_session(h: &mut Handle<'_>, s: &SessionRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO user_session (org_id, id, user_id, token_hash, created_at, last_seen_at, expires_at, revoked_at, address, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(s.org_id).bind(s.id).bind(s.user_id).bind(&s.token_hash).bind(s.created_at).bind(s.last_seen_at)
        .bind(s.expires_at).bind(s.revoked_at).bind(&s.address).bind(&s.user_agent)
        .execute(c).await.map(drop)?);
    Ok(())
}

/// Composed once: every request runs it.
static SESSION_HOLDER_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT u.*, s.id AS session_id, s.last_seen_at AS session_last_seen_at, s.expires_at AS session_expires_at, {ORG_COLUMNS} \
             FROM user_session s JOIN app_user u ON u.org_id = s.org_id AND u.id = s.user_id JOIN org o ON o.id = s.org_id \
             WHERE s.org_id = $1 AND s.token_hash = $2 AND s.revoked_at IS NULL"
    )
});

/// The unrevoked session with this hash in this org.
pub async fn find_session(h: &mut Handle<'_>, org_id: Uuid, token_hash: &[u8]) -> Result<Option<SessionRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM user_session WHERE org_id = $1 AND token_hash = $2 AND revoked_at IS NULL")
        .bind(org_id).bind(token_hash).fetch_optional(c).await?))
}

/// A live session read with its user and org in one statement: every
/// browser request asks this first.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionHolder {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub session_id: Uuid,
    pub session_last_seen_at: i64,
    pub session_expires_at: i64,
    #[sqlx(flatten)]
    pub org: PrefixedOrg,
}

/// The unrevoked session with this hash, its user and its org.
pub async fn find_session_holder(h: &mut Handle<'_>, org_id: Uuid, token_hash: &[u8]) -> Result<Option<SessionHolder>> {
    Ok(run!(h, c => sqlx::query_as(SESSION_HOLDER_SQL.as_str()).bind(org_id).bind(token_hash).fetch_optional(c).await?))
}

/// Revoke a session; returns whether it was live.
pub async fn revoke_session(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, now: i64) -> Result<bool> {
    let done = run!(h, c => sqlx::query("UPDATE user_session SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL")
        .bind(org_id).bind(id).bind(now).execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Failed sign-ins counted against one account or address.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ThrottleRow {
    pub subject: String,
    pub failures: i64,
    pub first_failure_at: i64,
    pub locked_until: Option<i64>,
}

pub async fn get_throttle(h: &mut Handle<'_>, subject: &str) -> Result<Option<ThrottleRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM login_throttle WHERE subject = $1").bind(subject).fetch_optional(c).await?))
}

/// What counting one attempt against a subject left behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Counted {
    /// Attempts within the window, this one included.
    pub failures: i64,
    pub locked_until: Option<i64>,
}

/// Count one attempt against `subject` in one statement, so concurrent
/// attempts can never overwrite each other's count: within the window (or
/// while a lockout lasts) the count goes up by one, otherwise it starts
/// again at one; the attempt that brings it to `limit` starts a lockout
/// until `lock_until`, and a running lockout is kept as it is.
pub async fn count_attempt(h: &mut Handle<'_>, subject: &str, now: i64, window_start: i64, limit: i64, lock_until: i64) -> Result<Counted> {
    Ok(run!(h, c => sqlx::query_as(
        "INSERT INTO login_throttle (subject, failures, first_failure_at, locked_until) \
         VALUES ($1, 1, $2, CASE WHEN 1 >= $4 THEN $5 END) \
         ON CONFLICT (subject) DO UPDATE SET \
           failures = CASE WHEN login_throttle.first_failure_at > $3 OR login_throttle.locked_until > $2 \
                           THEN login_throttle.failures + 1 ELSE 1 END, \
           first_failure_at = CASE WHEN login_throttle.first_failure_at > $3 OR login_throttle.locked_until > $2 \
                                   THEN login_throttle.first_failure_at ELSE $2 END, \
           locked_until = CASE WHEN login_throttle.locked_until > $2 THEN login_throttle.locked_until \
                               WHEN (CASE WHEN login_throttle.first_failure_at > $3 THEN login_throttle.failures + 1 ELSE 1 END) >= $4 THEN $5 \
                               END \
         RETURNING failures, locked_until")
        .bind(subject).bind(now).bind(window_start).bind(limit).bind(lock_until)
        .fetch_one(c).await?))
}

/// Take back one counted attempt (it was never checked, or it succeeded);
/// a lockout that this count no longer reaches ends with it.
pub async fn uncount_attempt(h: &mut Handle<'_>, subject: &str, limit: i64) -> Result<()> {
    run!(h, c => sqlx::query(
        "UPDATE login_throttle SET failures = failures - 1, \
           locked_until = CASE WHEN failures - 1 >= $2 THEN locked_until END \
         WHERE subject = $1 AND failures > 0")
        .bind(subject).bind(limit).execute(c).await.map(drop)?);
    Ok(())
}

pub async fn clear_throttle(h: &mut Handle<'_>, subject: &str) -> Result<()> {
    run!(h, c => sqlx::query("DELETE FROM login_throttle WHERE subject = $1").bind(subject).execute(c).await.map(drop)?);
    Ok(())
}
