//! Site use cases: service and billing addresses of a customer.

use dossier_domain::activity::{ActivityKind, ActorType, EntityRef, EntityType, NewActivity};
use dossier_domain::custom_fields::{CustomFields, Definitions, FieldEntity};
use dossier_domain::customer::CustomerStatus;
use dossier_domain::diff::{FieldChange, created, diff};
use dossier_domain::ids::{CustomerId, SiteId};
use dossier_domain::permissions::{Action, Module};
use dossier_domain::site::{Site, SiteInput, SitePatch, SiteProfile};
use dossier_store::queries as q;
use dossier_store::{Db, Handle, SearchTerm, SiteRow, Tx};
use serde_json::json;
use uuid::Uuid;

use crate::record::{activity, field_list};
use crate::{Ctx, Result, ServiceError, customers, search_terms};

pub(crate) async fn find(h: &mut Handle<'_>, ctx: &Ctx, id: &str) -> Result<SiteRow> {
    let id = Uuid::parse_str(id).map_err(|_| ServiceError::NotFound("site"))?;
    let row = q::get_site(h, ctx.org.id.0, id).await?.ok_or(ServiceError::NotFound("site"))?;
    crate::scope::check_customer(h, ctx, row.customer_id, "site").await?;
    Ok(row)
}

fn subject(row: &SiteRow, profile: &SiteProfile) -> (Option<CustomerId>, EntityRef, Option<String>) {
    (Some(CustomerId(row.customer_id)), EntityRef::new(EntityType::Site, row.id), Some(profile.one_line()))
}

pub async fn add_site(db: &Db, ctx: &Ctx, customer: &str, input: SiteInput) -> Result<Site> {
    ctx.require(Module::Customers, Action::Edit)?;
    let fields = crate::custom_fields::definitions_of(db, ctx, FieldEntity::Site).await?;
    let profile = input.parse(ctx.org.region, &fields)?;
    let mut tx = db.begin().await?;
    let customer = customers::find(&mut tx.handle(), ctx, customer).await?;
    let mut site = add_site_in(&mut tx, ctx, CustomerId(customer.id), profile).await?;
    if customer.status()? == CustomerStatus::Dormant {
        follow_customer(&mut tx, ctx, CustomerId(customer.id), true).await?;
        site.dormant = true;
    }
    tx.commit().await?;
    Ok(site)
}

/// Make a customer's sites dormant with it, or wake them with it: each site
/// that changes gets its `site.updated` entry with the change.
pub(crate) async fn follow_customer(tx: &mut Tx, ctx: &Ctx, customer: CustomerId, dormant: bool) -> Result<()> {
    let changed = q::set_sites_dormant(&mut tx.handle(), ctx.org.id.0, customer.0, dormant, ctx.now().as_microsecond()).await?;
    for row in changed {
        let profile = row.profile()?;
        let (id, subject, code) = subject(&row, &profile);
        let how = if dormant { "made dormant with its customer" } else { "woken with its customer" };
        let summary = format!("Site {} {how}", profile.one_line());
        let changes = vec![FieldChange { field: "dormant".into(), old: json!(!dormant), new: json!(dormant) }];
        tx.append(activity(ctx, ActivityKind::SiteUpdated, id, subject, code, summary, changes)).await?;
    }
    Ok(())
}

/// The row, search terms and `site.created` activity of a new site
/// (`fields`: the org's site fields, whose values' words are terms too).
pub(crate) fn new_site(ctx: &Ctx, customer: CustomerId, profile: &SiteProfile, fields: &Definitions) -> (SiteRow, Vec<SearchTerm>, NewActivity) {
    let now = ctx.now();
    let row = SiteRow::new(ctx.org.id.0, SiteId::new(), customer, profile, now, now);
    let mut terms: Vec<SearchTerm> =
        search_terms::site(profile).into_iter().map(|term| SearchTerm { customer_id: row.customer_id, source_id: row.id, term }).collect();
    terms.extend(search_terms::custom(fields, row.customer_id, row.id, &profile.custom_fields));
    let (id, subject, code) = subject(&row, profile);
    let summary = format!("Site {} added", profile.one_line());
    let record = activity(ctx, ActivityKind::SiteCreated, id, subject, code, summary, created(profile));
    (row, terms, record)
}

pub async fn add_site_in(tx: &mut Tx, ctx: &Ctx, customer: CustomerId, profile: SiteProfile) -> Result<Site> {
    let h = &mut tx.handle();
    let fields = match profile.custom_fields.is_empty() {
        true => Definitions::default(),
        false => crate::custom_fields::definitions(h, ctx, FieldEntity::Site).await?,
    };
    let (row, terms, record) = new_site(ctx, customer, &profile, &fields);
    q::insert_sites(h, std::slice::from_ref(&row)).await?;
    q::add_search_terms(h, row.org_id, &terms).await?;
    tx.append(record).await?;
    Ok(row.into_site()?)
}

pub async fn list_sites(db: &Db, ctx: &Ctx, customer: &str) -> Result<Vec<Site>> {
    ctx.require(Module::Customers, Action::View)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let customer = customers::find(h, ctx, customer).await?;
    let rows = q::list_sites(h, ctx.org.id.0, customer.id).await?;
    Ok(rows.into_iter().map(SiteRow::into_site).collect::<Result<_, _>>()?)
}

pub async fn get_site(db: &Db, ctx: &Ctx, id: &str) -> Result<Site> {
    ctx.require(Module::Customers, Action::View)?;
    let mut conn = db.read().await?;
    Ok(find(&mut conn.handle(), ctx, id).await?.into_site()?)
}

pub async fn update_site(db: &Db, ctx: &Ctx, id: &str, patch: SitePatch) -> Result<Site> {
    ctx.require(Module::Customers, Action::Edit)?;
    let mut tx = db.begin().await?;
    let site = update_site_in(&mut tx, ctx, id, patch).await?;
    tx.commit().await?;
    Ok(site)
}

pub async fn update_site_in(tx: &mut Tx, ctx: &Ctx, id: &str, patch: SitePatch) -> Result<Site> {
    let h = &mut tx.handle();
    let row = find(h, ctx, id).await?;
    let current = row.profile()?;
    let mut fields = crate::custom_fields::definitions(h, ctx, FieldEntity::Site).await?;
    if ctx.actor.kind == ActorType::Customer {
        // A customer changing their address in the portal never sees the
        // business's own fields, so is not asked for them.
        fields = fields.none_required();
    }
    let updated = patch.apply(&current, &fields)?;
    let changes = diff(&current, &updated);
    if changes.is_empty() {
        return Ok(row.into_site()?);
    }
    let new_row = row.with_profile(&updated, ctx.now());
    q::update_site(h, &new_row).await?;
    search_terms::refresh(h, row.org_id, row.customer_id, row.id, search_terms::site(&current), search_terms::site(&updated)).await?;
    search_terms::refresh_custom(h, row.org_id, row.customer_id, row.id, &fields, &current.custom_fields, &updated.custom_fields).await?;
    let (customer, subject, code) = subject(&row, &updated);
    let summary = format!("Site {} updated: {}", updated.one_line(), field_list(&changes));
    tx.append(activity(ctx, ActivityKind::SiteUpdated, customer, subject, code, summary, changes)).await?;
    Ok(new_row.into_site()?)
}

/// Remove a site; the activity keeps every value it had.
pub async fn delete_site(db: &Db, ctx: &Ctx, id: &str) -> Result<()> {
    ctx.require(Module::Customers, Action::Edit)?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let row = find(h, ctx, id).await?;
    let profile = row.profile()?;
    q::replace_terms(h, row.org_id, row.customer_id, row.id, &[]).await?;
    if !profile.custom_fields.is_empty() {
        let fields = crate::custom_fields::definitions(h, ctx, FieldEntity::Site).await?;
        search_terms::refresh_custom(h, row.org_id, row.customer_id, row.id, &fields, &profile.custom_fields, &CustomFields::new()).await?;
    }
    q::delete_site(h, row.org_id, row.id).await?;
    let (customer, subject, code) = subject(&row, &profile);
    let summary = format!("Site {} deleted", profile.one_line());
    tx.append(activity(ctx, ActivityKind::SiteDeleted, customer, subject, code, summary, diff(&Some(profile), &None))).await?;
    tx.commit().await?;
    Ok(())
}
