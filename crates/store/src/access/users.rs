use std::sync::LazyLock;

use uuid::Uuid;

use crate::orgs::{ORG_COLUMNS, PrefixedOrg};
use crate::{Handle, Result, run};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub active: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TokenRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// SHA-256 of the secret; the secret itself is never stored.
    pub token_hash: Vec<u8>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub async fn insert_user(h: &mut Handle<'_>, user: &UserRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO app_user (org_id, id, email, name, role, password_hash, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(user.org_id).bind(user.id).bind(&user.email).bind(&user.name).bind(&user.role)
        .bind(&user.password_hash).bind(user.active).bind(user.created_at)
        .execute(c).await.map(drop)?);
    Ok(())
}

pub async fn get_user(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<Option<UserRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM app_user WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).fetch_optional(c).await?))
}

pub async fn find_user_by_email(h: &mut Handle<'_>, org_id: Uuid, email: &str) -> Result<Option<UserRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM app_user WHERE org_id = $1 AND email = $2").bind(org_id).bind(email).fetch_optional(c).await?))
}

pub async fn insert_token(h: &mut Handle<'_>, token: &TokenRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO api_token (org_id, id, user_id, name, token_hash, created_at, last_used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(token.org_id).bind(token.id).bind(token.user_id).bind(&token.name).bind(&token.token_hash)
        .bind(token.created_at).bind(token.last_used_at).bind(token.revoked_at)
        .execute(c).await.map(drop)?);
    Ok(())
}

/// Who a live token speaks for, read in one statement: its user and org.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TokenHolder {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub token_id: Uuid,
    pub token_last_used_at: Option<i64>,
    #[sqlx(flatten)]
    pub org: PrefixedOrg,
}

/// Composed once: every request runs it.
static TOKEN_HOLDER_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT u.*, t.id AS token_id, t.last_used_at AS token_last_used_at, {ORG_COLUMNS} \
             FROM api_token t JOIN app_user u ON u.org_id = t.org_id AND u.id = t.user_id JOIN org o ON o.id = t.org_id \
             WHERE t.org_id = $1 AND t.token_hash = $2 AND t.revoked_at IS NULL"
    )
});

/// The user and org of the live (unrevoked) token with this hash: every
/// API request asks this first, so it is one statement rather than three.
pub async fn find_token_holder(h: &mut Handle<'_>, org_id: Uuid, token_hash: &[u8]) -> Result<Option<TokenHolder>> {
    Ok(run!(h, c => sqlx::query_as(TOKEN_HOLDER_SQL.as_str()).bind(org_id).bind(token_hash).fetch_optional(c).await?))
}

/// An org's users, by name.
pub async fn list_users(h: &mut Handle<'_>, org_id: Uuid) -> Result<Vec<UserRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM app_user WHERE org_id = $1 ORDER BY name, email").bind(org_id).fetch_all(c).await?))
}

/// Active users with this email in any org (sign-in comes before the org is known).
pub async fn active_users_by_email(h: &mut Handle<'_>, email: &str) -> Result<Vec<UserRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM app_user WHERE email = $1 AND active = TRUE ORDER BY created_at LIMIT 10")
        .bind(email).fetch_all(c).await?))
}

/// Write a user's name, role and whether they are active.
pub async fn update_user(h: &mut Handle<'_>, user: &UserRow) -> Result<()> {
    run!(h, c => sqlx::query("UPDATE app_user SET name = $3, role = $4, active = $5 WHERE org_id = $1 AND id = $2")
        .bind(user.org_id).bind(user.id).bind(&user.name).bind(&user.role).bind(user.active)
        .execute(c).await.map(drop)?);
    Ok(())
}

/// Keep the hash of an invitation and when it expires.
pub async fn set_invite(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, invite_hash: &[u8], expires_at: i64) -> Result<()> {
    run!(h, c => sqlx::query("UPDATE app_user SET invite_hash = $3, invite_expires_at = $4 WHERE org_id = $1 AND id = $2")
        .bind(org_id).bind(id).bind(invite_hash).bind(expires_at).execute(c).await.map(drop)?);
    Ok(())
}

/// The active user an unexpired invitation with this hash is for.
pub async fn find_invited(h: &mut Handle<'_>, org_id: Uuid, invite_hash: &[u8], now: i64) -> Result<Option<UserRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM app_user WHERE org_id = $1 AND invite_hash = $2 AND invite_expires_at > $3 AND active = TRUE")
        .bind(org_id).bind(invite_hash).bind(now).fetch_optional(c).await?))
}

/// Set a user's password; any invitation is used up.
pub async fn set_password(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, password_hash: &str) -> Result<()> {
    run!(h, c => sqlx::query("UPDATE app_user SET password_hash = $3, invite_hash = NULL, invite_expires_at = NULL WHERE org_id = $1 AND id = $2")
        .bind(org_id).bind(id).bind(password_hash).execute(c).await.map(drop)?);
    Ok(())
}

/// An org's API tokens (of one user when given), newest first.
pub async fn list_tokens(h: &mut Handle<'_>, org_id: Uuid, user_id: Option<Uuid>) -> Result<Vec<TokenRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM api_token WHERE org_id = $1 AND ($2 IS NULL OR user_id = $2) ORDER BY created_at DESC, id")
        .bind(org_id).bind(user_id).fetch_all(c).await?))
}

pub async fn get_token(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<Option<TokenRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM api_token WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).fetch_optional(c).await?))
}

/// Revoke a live token; returns whether it was live.
pub async fn revoke_token(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, now: i64) -> Result<bool> {
    let done = run!(h, c => sqlx::query("UPDATE api_token SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL")
        .bind(org_id).bind(id).bind(now).execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Revoke every live token and session of a user (deactivation).
pub async fn revoke_all_of_user(h: &mut Handle<'_>, org_id: Uuid, user_id: Uuid, now: i64) -> Result<()> {
    run!(h, c => sqlx::query("UPDATE api_token SET revoked_at = $3 WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL")
        .bind(org_id).bind(user_id).bind(now).execute(c).await.map(drop)?);
    run!(h, c => sqlx::query("UPDATE user_session SET revoked_at = $3 WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL")
        .bind(org_id).bind(user_id).bind(now).execute(c).await.map(drop)?);
    Ok(())
}
