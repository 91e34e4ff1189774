//! The SMS gateway's settings of each org, and finding who a phone number
//! belongs to (inbound texts).

use uuid::Uuid;

use crate::{Handle, Result, run};

/// An org's SMS gateway settings as stored (secrets in the clear: Dossier
/// sends the key and checks signatures with the secret).
#[derive(Clone, sqlx::FromRow)]
pub struct SmsSettingsRow {
    pub org_id: Uuid,
    pub provider_url: Option<String>,
    pub api_key: Option<String>,
    pub sender: Option<String>,
    pub webhook_secret: Option<String>,
    pub updated_at: i64,
}

impl std::fmt::Debug for SmsSettingsRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSettingsRow")
            .field("org_id", &self.org_id)
            .field("provider_url", &self.provider_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("sender", &self.sender)
            .field("webhook_secret", &self.webhook_secret.as_ref().map(|_| "***"))
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

pub async fn get_sms_settings(h: &mut Handle<'_>, org_id: Uuid) -> Result<Option<SmsSettingsRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM sms_settings WHERE org_id = $1").bind(org_id).fetch_optional(c).await?))
}

/// Write an org's settings, made or replaced.
pub async fn put_sms_settings(h: &mut Handle<'_>, row: &SmsSettingsRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO sms_settings (org_id, provider_url, api_key, sender, webhook_secret, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (org_id) DO UPDATE SET provider_url = excluded.provider_url, api_key = excluded.api_key, sender = excluded.sender, \
         webhook_secret = excluded.webhook_secret, updated_at = excluded.updated_at")
        .bind(row.org_id).bind(&row.provider_url).bind(&row.api_key).bind(&row.sender).bind(&row.webhook_secret).bind(row.updated_at)
        .execute(c).await.map(drop)?);
    Ok(())
}

/// The customers and records (the customer itself or one of its contacts)
/// whose search terms hold these digits exactly (a phone number's
/// international digits, `447700900123`): at most `limit`, read from the
/// search index by its leading `(org_id, term)`. Candidates only: the
/// caller checks the numbers themselves.
pub async fn phone_candidates(h: &mut Handle<'_>, org_id: Uuid, digits: &str, limit: i64) -> Result<Vec<(Uuid, Uuid)>> {
    Ok(
        run!(h, c => sqlx::query_as("SELECT customer_id, source_id FROM customer_search WHERE org_id = $1 AND term = $2 ORDER BY customer_id, source_id LIMIT $3")
        .bind(org_id).bind(digits).bind(limit).fetch_all(c).await?),
    )
}
