//! The org's SMS gateway settings: provider URL, API key, sender and the
//! webhook signing secret. Admins set them; the secrets are write-only
//! (read back only as "set" or not), never logged and never in the
//! activity log.

use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
use dossier_domain::diff::FieldChange;
use dossier_domain::permissions::{Action, Module};
use dossier_domain::sending::sms::{Change, SmsSettings, SmsSettingsInput};
use dossier_store::queries as q;
use dossier_store::{Db, Handle, SmsSettingsRow};
use serde_json::json;
use uuid::Uuid;

use crate::record::{activity, timestamp};
use crate::{Ctx, Result};

fn shown(row: Option<&SmsSettingsRow>) -> Result<SmsSettings> {
    Ok(SmsSettings {
        provider_url: row.and_then(|r| r.provider_url.clone()),
        sender: row.and_then(|r| r.sender.clone()),
        api_key_set: row.is_some_and(|r| r.api_key.is_some()),
        webhook_secret_set: row.is_some_and(|r| r.webhook_secret.is_some()),
        updated_at: row.map(|r| timestamp(r.updated_at)).transpose()?,
    })
}

/// The stored settings of `org` (with the secrets), for sending and for
/// checking webhooks.
pub(crate) async fn stored(h: &mut Handle<'_>, org: Uuid) -> Result<Option<SmsSettingsRow>> {
    Ok(q::get_sms_settings(h, org).await?)
}

/// The org's SMS settings, secrets only as whether they are set.
pub async fn settings(db: &Db, ctx: &Ctx) -> Result<SmsSettings> {
    ctx.require(Module::Settings, Action::View)?;
    shown(stored(&mut db.read().await?.handle(), ctx.org.id.0).await?.as_ref())
}

fn apply<T: Clone>(current: &Option<T>, change: Change<T>) -> Option<T> {
    match change {
        Change::Keep => current.clone(),
        Change::Clear => None,
        Change::Set(value) => Some(value),
    }
}

/// Change the org's SMS settings (owners and admins): fields left out stay,
/// empty ones are cleared. One `org.settings_changed` activity names what
/// changed; of a secret it says only that it was set, replaced or cleared.
pub async fn update_settings(db: &Db, ctx: &Ctx, input: SmsSettingsInput) -> Result<SmsSettings> {
    ctx.require(Module::Settings, Action::Edit)?;
    let change = input.check()?;
    let mut tx = db.begin().await?;
    q::lock_org(&mut tx.handle(), ctx.org.id.0).await?;
    let before = stored(&mut tx.handle(), ctx.org.id.0).await?;
    let was =
        before.clone().unwrap_or(SmsSettingsRow { org_id: ctx.org.id.0, provider_url: None, api_key: None, sender: None, webhook_secret: None, updated_at: 0 });
    let secret = |name: &str, old: &Option<String>, change: &Change<dossier_domain::sending::sms::SecretText>| -> Option<FieldChange> {
        let (old_state, new_state) = match (old, change) {
            (_, Change::Keep) | (None, Change::Clear) => return None,
            (Some(old), Change::Set(new)) if old == new.expose() => return None,
            (Some(_), Change::Clear) => ("set", "not set"),
            (Some(_), Change::Set(_)) => ("set", "replaced"),
            (None, Change::Set(_)) => ("not set", "set"),
        };
        Some(FieldChange { field: name.to_owned(), old: json!(old_state), new: json!(new_state) })
    };
    let mut changes: Vec<FieldChange> = Vec::new();
    changes.extend(secret("api_key", &was.api_key, &change.api_key));
    changes.extend(secret("webhook_secret", &was.webhook_secret, &change.webhook_secret));
    let row = SmsSettingsRow {
        org_id: ctx.org.id.0,
        provider_url: apply(&was.provider_url, change.provider_url),
        sender: apply(&was.sender, change.sender.map(|s| s.as_str().to_owned())),
        api_key: apply(&was.api_key, change.api_key.map(|s| s.expose().to_owned())),
        webhook_secret: apply(&was.webhook_secret, change.webhook_secret.map(|s| s.expose().to_owned())),
        updated_at: ctx.now().as_microsecond(),
    };
    for (field, old, new) in [("provider_url", &was.provider_url, &row.provider_url), ("sender", &was.sender, &row.sender)] {
        if old != new {
            changes.insert(0, FieldChange { field: field.to_owned(), old: json!(old), new: json!(new) });
        }
    }
    if changes.is_empty() {
        return shown(before.as_ref());
    }
    changes.sort_by(|a, b| a.field.cmp(&b.field));
    q::put_sms_settings(&mut tx.handle(), &row).await?;
    let fields: Vec<String> = changes.iter().map(|c| c.field.replace('_', " ")).collect();
    let summary = format!("SMS settings changed by {}: {}", ctx.actor.name, fields.join(", "));
    let mut record = activity(ctx, ActivityKind::OrgSettingsChanged, None, EntityRef::new(EntityType::Org, ctx.org.id.0), None, summary, changes);
    record.detail = json!({ "settings": "sms" });
    tx.append(record).await?;
    tx.commit().await?;
    shown(Some(&row))
}
