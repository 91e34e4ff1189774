use uuid::Uuid;

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

/// The live token with this hash in this org, and its user.
pub async fn find_token(h: &mut Handle<'_>, org_id: Uuid, token_hash: &[u8]) -> Result<Option<TokenRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM api_token WHERE org_id = $1 AND token_hash = $2 AND revoked_at IS NULL")
        .bind(org_id).bind(token_hash).fetch_optional(c).await?))
}

/// Note the token's use, at most once a minute, so reads stay reads.
pub async fn touch_token(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, now: i64) -> Result<()> {
    run!(h, c => sqlx::query("UPDATE api_token SET last_used_at = $3 WHERE org_id = $1 AND id = $2 AND (last_used_at IS NULL OR last_used_at < $4)")
        .bind(org_id).bind(id).bind(now).bind(now - 60_000_000).execute(c).await.map(drop)?);
    Ok(())
}
