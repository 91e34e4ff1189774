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

/// Write the counter as decided by the caller (insert or replace).
pub async fn put_throttle(h: &mut Handle<'_>, row: &ThrottleRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO login_throttle (subject, failures, first_failure_at, locked_until) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (subject) DO UPDATE SET failures = excluded.failures, first_failure_at = excluded.first_failure_at, locked_until = excluded.locked_until")
        .bind(&row.subject).bind(row.failures).bind(row.first_failure_at).bind(row.locked_until)
        .execute(c).await.map(drop)?);
    Ok(())
}

pub async fn clear_throttle(h: &mut Handle<'_>, subject: &str) -> Result<()> {
    run!(h, c => sqlx::query("DELETE FROM login_throttle WHERE subject = $1").bind(subject).execute(c).await.map(drop)?);
    Ok(())
}
