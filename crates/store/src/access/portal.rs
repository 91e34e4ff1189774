//! Customer portal links.

use uuid::Uuid;

use crate::{Handle, Result, run};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PortalLinkRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub customer_id: Uuid,
    /// SHA-256 of the link's secret.
    pub token_hash: Vec<u8>,
    /// Who sent it, as shown to staff.
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

pub async fn insert_portal_link(h: &mut Handle<'_>, l: &PortalLinkRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO portal_link (org_id, id, customer_id, token_hash, created_by, created_at, expires_at, revoked_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(l.org_id).bind(l.id).bind(l.customer_id).bind(&l.token_hash).bind(&l.created_by).bind(l.created_at)
        .bind(l.expires_at).bind(l.revoked_at).bind(l.last_used_at)
        .execute(c).await.map(drop)?);
    Ok(())
}

/// The live (unrevoked, unexpired) link with this hash.
pub async fn find_portal_link(h: &mut Handle<'_>, org_id: Uuid, token_hash: &[u8], now: i64) -> Result<Option<PortalLinkRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM portal_link WHERE org_id = $1 AND token_hash = $2 AND revoked_at IS NULL AND expires_at > $3")
        .bind(org_id).bind(token_hash).bind(now).fetch_optional(c).await?))
}

pub async fn get_portal_link(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<Option<PortalLinkRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM portal_link WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).fetch_optional(c).await?))
}

/// A customer's links, newest first.
pub async fn list_portal_links(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid) -> Result<Vec<PortalLinkRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM portal_link WHERE org_id = $1 AND customer_id = $2 ORDER BY created_at DESC, id")
        .bind(org_id).bind(customer_id).fetch_all(c).await?))
}

/// Revoke a link; returns whether it was not revoked already.
pub async fn revoke_portal_link(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, now: i64) -> Result<bool> {
    let done = run!(h, c => sqlx::query("UPDATE portal_link SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL")
        .bind(org_id).bind(id).bind(now).execute(c).await?.rows_affected());
    Ok(done == 1)
}
