//! Building the activity rows that use cases append.

use dossier_domain::activity::{ActivityKind, EntityRef, NewActivity, Visibility};
use dossier_domain::diff::FieldChange;
use dossier_domain::ids::CustomerId;
use serde_json::{Value, json};

use crate::Ctx;

/// An activity by the caller, now: internal, unless the customer did it
/// themselves (through the portal), which they may see again.
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
        visibility: match ctx.actor.kind {
            dossier_domain::activity::ActorType::Customer => Visibility::Customer,
            _ => Visibility::Internal,
        },
        also_links: Vec::new(),
    }
}

/// A stored time (microseconds since the epoch) as an instant.
pub(crate) fn timestamp(micros: i64) -> crate::Result<jiff::Timestamp> {
    jiff::Timestamp::from_microsecond(micros).map_err(|e| crate::ServiceError::Internal(e.to_string()))
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

/// An entry that concerns money is stored with its text rendered from this
/// detail without amounts; each reader gets it with or without them at
/// read time ([`dossier_domain::reading`]).
pub(crate) fn with_detail(mut activity: NewActivity, detail: Value) -> NewActivity {
    activity.detail = detail;
    if let Some(text) = dossier_domain::reading::summary(activity.kind, activity.subject_code.as_deref().unwrap_or(""), &activity.detail, None) {
        activity.summary = text;
    }
    activity
}

/// The record of `kind` a route names by its id or its code (`INV-00042`);
/// `what` names it in the 404.
pub(crate) async fn find_coded<T: dossier_store::Row>(
    h: &mut dossier_store::Handle<'_>,
    ctx: &Ctx,
    kind: dossier_domain::code::CodeKind,
    what: &'static str,
    reference: &str,
) -> crate::Result<T> {
    let key = record_key(what, reference)?;
    dossier_store::queries::get_coded(h, kind, ctx.org.id.0, key).await?.ok_or(crate::ServiceError::NotFound(what))
}

/// How a route names a record: its id, or its code (a
/// reference that is neither is a 404 naming `what`).
pub(crate) fn record_key(what: &'static str, reference: &str) -> crate::Result<dossier_store::RecordKey> {
    use dossier_store::RecordKey;
    Ok(match uuid::Uuid::parse_str(reference) {
        Ok(id) => RecordKey::Id(id),
        Err(_) => {
            let code = dossier_domain::code::CodeRef::parse(reference).ok_or(crate::ServiceError::NotFound(what))?;
            RecordKey::Code { number: code.number, code: code.to_string() }
        }
    })
}

/// The customer a new record is for, named (id or code) in field `customer`:
/// missing or unknown is a validation error on that field.
pub(crate) async fn customer_for(h: &mut dossier_store::Handle<'_>, ctx: &Ctx, reference: Option<&str>) -> crate::Result<dossier_store::CustomerRow> {
    use dossier_domain::ValidationErrors;
    let reference = reference.ok_or_else(|| ValidationErrors::one("customer", "required", "is required (id or code)"))?;
    crate::customers::find(h, ctx, reference).await.map_err(|e| match e {
        crate::ServiceError::NotFound(_) => ValidationErrors::one("customer", "not_found", "no such customer").into(),
        other => other,
    })
}

/// The customer a list is narrowed to, if any (unknown: 404).
pub(crate) async fn customer_filter(h: &mut dossier_store::Handle<'_>, ctx: &Ctx, customer: Option<&str>) -> crate::Result<Option<uuid::Uuid>> {
    match customer {
        Some(reference) => Ok(Some(crate::customers::find(h, ctx, reference).await?.id)),
        None => Ok(None),
    }
}

/// A guarded update's outcome: not written means someone changed the record
/// since this use case read it (two users moving the same job at once).
pub(crate) fn written(done: bool, code: impl std::fmt::Display) -> crate::Result<()> {
    if done {
        Ok(())
    } else {
        Err(crate::ServiceError::conflict("changed_meanwhile", format!("{code} was changed by someone else meanwhile; reload it and try again")))
    }
}

/// A value as stored JSON text.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> crate::Result<String> {
    serde_json::to_string(value).map_err(|e| crate::ServiceError::Internal(e.to_string()))
}

/// The rows of one newest-first page of `kind`'s records (plus one, to tell
/// whether a next page exists) and the page size: narrowed by `filter` and,
/// when given, to one customer (id or code). For [`crate::page::paginate`].
pub(crate) async fn newest_rows<R: dossier_store::Row>(
    h: &mut dossier_store::Handle<'_>,
    ctx: &Ctx,
    kind: dossier_domain::code::CodeKind,
    customer: Option<&str>,
    mut filter: dossier_store::ListFilter,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> crate::Result<(Vec<R>, i64)> {
    let limit = crate::page::limit(limit)?;
    let after = crate::page::number_cursor(cursor)?;
    filter.customer_id = customer_filter(h, ctx, customer).await?;
    Ok((dossier_store::queries::list_newest(h, kind, ctx.org.id.0, &filter, after, limit + 1).await?, limit))
}

/// An amount in the org's currency, for summaries: `£1,234.56`.
pub(crate) fn money(ctx: &Ctx, amount: dossier_domain::money::Money) -> String {
    amount.format(ctx.org.money_style())
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
