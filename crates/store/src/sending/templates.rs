//! An org's own message templates, by purpose.

use uuid::Uuid;

use crate::{Handle, Result, run};

/// A template an org wrote for one purpose.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TemplateRow {
    pub org_id: Uuid,
    pub purpose: String,
    pub subject: String,
    pub body: String,
    pub updated_at: i64,
    pub updated_by: String,
}

/// The org's own templates (purposes without one use the default).
pub async fn list_templates(h: &mut Handle<'_>, org_id: Uuid) -> Result<Vec<TemplateRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM message_template WHERE org_id = $1 ORDER BY purpose").bind(org_id).fetch_all(c).await?))
}

pub async fn get_template(h: &mut Handle<'_>, org_id: Uuid, purpose: &str) -> Result<Option<TemplateRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM message_template WHERE org_id = $1 AND purpose = $2")
        .bind(org_id).bind(purpose).fetch_optional(c).await?))
}

/// Write the org's template for its purpose, replacing the one it had.
pub async fn put_template(h: &mut Handle<'_>, row: &TemplateRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO message_template (org_id, purpose, subject, body, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (org_id, purpose) DO UPDATE SET subject = excluded.subject, body = excluded.body, \
         updated_at = excluded.updated_at, updated_by = excluded.updated_by")
        .bind(row.org_id).bind(&row.purpose).bind(&row.subject).bind(&row.body).bind(row.updated_at).bind(&row.updated_by)
        .execute(c).await.map(drop)?);
    Ok(())
}

/// Drop the org's template for a purpose: `false` if it had none.
pub async fn delete_template(h: &mut Handle<'_>, org_id: Uuid, purpose: &str) -> Result<bool> {
    let done = run!(h, c => sqlx::query("DELETE FROM message_template WHERE org_id = $1 AND purpose = $2")
        .bind(org_id).bind(purpose).execute(c).await?.rows_affected());
    Ok(done == 1)
}
