//! The org's automations: read and change them (owners and admins change
//! them; one `org.settings_changed` activity names what changed), and
//! read them where the work is done, so a switched-off automation does
//! nothing.

use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
pub use dossier_domain::automations::{Automations, AutomationsPatch};
use dossier_domain::permissions::{Action, Module};
use dossier_store::queries as q;
use dossier_store::{Db, Handle};
use uuid::Uuid;

use crate::record::activity;
use crate::{Ctx, Result};

/// The org's automations (the defaults if it never changed them).
pub async fn get(db: &Db, ctx: &Ctx) -> Result<Automations> {
    ctx.require(Module::Settings, Action::View)?;
    load(&mut db.read().await?.handle(), ctx.org.id.0).await
}

/// The automations of an org, for the work that follows them.
pub(crate) async fn load(h: &mut Handle<'_>, org_id: Uuid) -> Result<Automations> {
    Ok(q::get_automations(h, org_id).await?)
}

/// Change the org's automations: fields left out stay as they are.
pub async fn update(db: &Db, ctx: &Ctx, patch: AutomationsPatch) -> Result<Automations> {
    ctx.require(Module::Settings, Action::Edit)?;
    let mut tx = db.begin().await?;
    q::lock_org(&mut tx.handle(), ctx.org.id.0).await?;
    let before = load(&mut tx.handle(), ctx.org.id.0).await?;
    let after = patch.apply(&before)?;
    let changes: Vec<_> = dossier_domain::diff::diff(&before, &after)
        .into_iter()
        .map(|mut c| {
            c.field = format!("automations.{}", c.field);
            c
        })
        .collect();
    if changes.is_empty() {
        return Ok(before);
    }
    q::put_automations(&mut tx.handle(), ctx.org.id.0, &after, ctx.now().as_microsecond()).await?;
    let mut fields: Vec<String> =
        changes.iter().map(|c| c.field.trim_start_matches("automations.").split(['.', '[']).next().unwrap_or("").replace('_', " ")).collect();
    fields.dedup();
    let summary = format!("Automations changed by {}: {}", ctx.actor.name, fields.join(", "));
    tx.append(activity(ctx, ActivityKind::OrgSettingsChanged, None, EntityRef::new(EntityType::Org, ctx.org.id.0), None, summary, changes)).await?;
    tx.commit().await?;
    Ok(after)
}
