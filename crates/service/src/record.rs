//! Building the activity rows that use cases append.

use dossier_domain::activity::{ActivityKind, EntityRef, NewActivity, Visibility};
use dossier_domain::diff::FieldChange;
use dossier_domain::ids::CustomerId;
use serde_json::{Value, json};

use crate::Ctx;

/// An internal activity by the caller, now.
pub(crate) fn activity(
    ctx: &Ctx,
    kind: ActivityKind,
    customer: Option<CustomerId>,
    subject: EntityRef,
    subject_code: Option<String>,
    summary: String,
    changes: Vec<FieldChange>,
) -> NewActivity {
    NewActivity {
        org_id: ctx.org.id,
        customer_id: customer,
        subject,
        subject_code,
        kind,
        actor: ctx.actor.clone(),
        occurred_at: ctx.now(),
        summary,
        changes,
        detail: json!({}),
        visibility: Visibility::Internal,
        also_links: Vec::new(),
    }
}

/// "email, phone and 2 more" for a summary line.
pub(crate) fn field_list(changes: &[FieldChange]) -> String {
    let mut fields: Vec<&str> = changes.iter().map(|c| c.field.split('.').next().unwrap_or(&c.field)).collect();
    fields.dedup();
    match fields.len() {
        0 => String::new(),
        1..=3 => fields.join(", "),
        n => format!("{} and {} more", fields[..2].join(", "), n - 2),
    }
}

pub(crate) fn with_detail(mut activity: NewActivity, detail: Value) -> NewActivity {
    activity.detail = detail;
    activity
}

/// How a route names a record: its id, or its code (`INV-00042`).
pub(crate) enum Reference {
    Id(uuid::Uuid),
    Number(i64),
}

impl Reference {
    pub(crate) fn parse(kind: dossier_domain::code::CodeKind, text: &str) -> Option<Reference> {
        if let Ok(id) = uuid::Uuid::parse_str(text) {
            return Some(Reference::Id(id));
        }
        dossier_domain::code::Code::parse(kind, text).map(|code| Reference::Number(code.number))
    }
}

/// Check that the site and contact a record names belong to its customer:
/// one of another customer (or org) is reported as not found on its field.
pub(crate) async fn check_parties(
    h: &mut dossier_store::Handle<'_>,
    ctx: &Ctx,
    customer: uuid::Uuid,
    parties: &dossier_domain::works::Parties,
) -> crate::Result<()> {
    use dossier_domain::ValidationErrors;
    use dossier_store::queries as q;
    let mut errors = ValidationErrors::default();
    if let Some(site) = parties.site_id
        && q::get_site(h, ctx.org.id.0, site.0).await?.is_none_or(|s| s.customer_id != customer)
    {
        errors.push("site_id", "not_found", "is not a site of this customer");
    }
    if let Some(contact) = parties.contact_id
        && q::get_contact(h, ctx.org.id.0, contact.0).await?.is_none_or(|c| c.customer_id != customer)
    {
        errors.push("contact_id", "not_found", "is not a contact of this customer");
    }
    Ok(errors.into_result(|| ())?)
}

/// The site a record concerns, as an extra activity link.
pub(crate) fn site_link(parties: &dossier_domain::works::Parties) -> Vec<EntityRef> {
    parties.site_id.map(|s| EntityRef::new(dossier_domain::activity::EntityType::Site, s.0)).into_iter().collect()
}
