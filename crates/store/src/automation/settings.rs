//! An org's automations, kept as JSON text.

use dossier_domain::automations::Automations;
use uuid::Uuid;

use crate::{Handle, Result, StoreError, run};

/// The org's automations: the defaults if it never changed them.
pub async fn get_automations(h: &mut Handle<'_>, org_id: Uuid) -> Result<Automations> {
    let row: Option<(String,)> =
        run!(h, c => sqlx::query_as("SELECT settings FROM automation_settings WHERE org_id = $1").bind(org_id).fetch_optional(c).await?);
    match row {
        None => Ok(Automations::default()),
        Some((text,)) => serde_json::from_str(&text).map_err(|e| StoreError::corrupt(format!("automations of org {org_id}: {e}"))),
    }
}

pub async fn put_automations(h: &mut Handle<'_>, org_id: Uuid, settings: &Automations, at: i64) -> Result<()> {
    let text = serde_json::to_string(settings).map_err(StoreError::corrupt)?;
    run!(h, c => sqlx::query(
        "INSERT INTO automation_settings (org_id, settings, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (org_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at")
        .bind(org_id).bind(&text).bind(at).execute(c).await.map(drop)?);
    Ok(())
}
