//! Contact use cases: the people at a customer.

use dossier_domain::activity::{ActivityKind, EntityRef, EntityType, NewActivity};
use dossier_domain::contact::{Contact, ContactInput, ContactPatch, ContactProfile};
use dossier_domain::diff::{created, diff};
use dossier_domain::ids::{ContactId, CustomerId};
use dossier_domain::permissions::{Action, Module};
use dossier_store::queries as q;
use dossier_store::{ContactRow, Db, Handle, SearchTerm, Tx};
use uuid::Uuid;

use crate::record::{activity, field_list};
use crate::{Ctx, Result, ServiceError, customers, search_terms};

async fn find(h: &mut Handle<'_>, ctx: &Ctx, id: &str) -> Result<ContactRow> {
    let id = Uuid::parse_str(id).map_err(|_| ServiceError::NotFound("contact"))?;
    let row = q::get_contact(h, ctx.org.id.0, id).await?.ok_or(ServiceError::NotFound("contact"))?;
    crate::scope::check_customer(h, ctx, row.customer_id, "contact").await?;
    Ok(row)
}

fn subject(row: &ContactRow, name: &str) -> (Option<CustomerId>, EntityRef, Option<String>) {
    (Some(CustomerId(row.customer_id)), EntityRef::new(EntityType::Contact, row.id), Some(name.to_owned()))
}

pub async fn add_contact(db: &Db, ctx: &Ctx, customer: &str, input: ContactInput) -> Result<Contact> {
    ctx.require(Module::Customers, Action::Edit)?;
    let profile = input.parse(ctx.org.region)?;
    let mut tx = db.begin().await?;
    let customer = customers::find(&mut tx.handle(), ctx, customer).await?;
    let contact = add_contact_in(&mut tx, ctx, CustomerId(customer.id), profile).await?;
    tx.commit().await?;
    Ok(contact)
}

/// The row, search terms and `contact.created` activity of a new contact.
pub(crate) fn new_contact(ctx: &Ctx, customer: CustomerId, profile: &ContactProfile) -> (ContactRow, Vec<SearchTerm>, NewActivity) {
    let now = ctx.now();
    let row = ContactRow::new(ctx.org.id.0, ContactId::new(), customer, profile, now, now);
    let terms = search_terms::contact(profile).into_iter().map(|term| SearchTerm { customer_id: row.customer_id, source_id: row.id, term }).collect();
    let name = profile.display_name();
    let (id, subject, code) = subject(&row, &name);
    let summary = format!("Contact {name} added");
    let record = activity(ctx, ActivityKind::ContactCreated, id, subject, code, summary, created(profile));
    (row, terms, record)
}

pub async fn add_contact_in(tx: &mut Tx, ctx: &Ctx, customer: CustomerId, profile: ContactProfile) -> Result<Contact> {
    let (row, terms, record) = new_contact(ctx, customer, &profile);
    let h = &mut tx.handle();
    q::insert_contacts(h, std::slice::from_ref(&row)).await?;
    q::add_search_terms(h, row.org_id, &terms).await?;
    tx.append(record).await?;
    if profile.is_primary {
        demote_other_primary(tx, ctx, &row).await?;
    }
    Ok(row.into_contact()?)
}

/// A customer has one primary contact: making one primary unmarks the others,
/// each recorded as a change of its own.
async fn demote_other_primary(tx: &mut Tx, ctx: &Ctx, primary: &ContactRow) -> Result<()> {
    let demoted = q::clear_other_primary(&mut tx.handle(), primary.org_id, primary.customer_id, primary.id).await?;
    for other in demoted {
        let mut before = other.profile()?;
        before.is_primary = true;
        let after = other.profile()?;
        let name = after.display_name();
        let (id, subject, code) = subject(&other, &name);
        let summary = format!("Contact {name} is no longer the primary contact");
        tx.append(activity(ctx, ActivityKind::ContactUpdated, id, subject, code, summary, diff(&before, &after))).await?;
    }
    Ok(())
}

pub async fn list_contacts(db: &Db, ctx: &Ctx, customer: &str) -> Result<Vec<Contact>> {
    ctx.require(Module::Customers, Action::View)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let customer = customers::find(h, ctx, customer).await?;
    let rows = q::list_contacts(h, ctx.org.id.0, customer.id).await?;
    Ok(rows.into_iter().map(ContactRow::into_contact).collect::<Result<_, _>>()?)
}

pub async fn get_contact(db: &Db, ctx: &Ctx, id: &str) -> Result<Contact> {
    ctx.require(Module::Customers, Action::View)?;
    let mut conn = db.read().await?;
    Ok(find(&mut conn.handle(), ctx, id).await?.into_contact()?)
}

pub async fn update_contact(db: &Db, ctx: &Ctx, id: &str, patch: ContactPatch) -> Result<Contact> {
    ctx.require(Module::Customers, Action::Edit)?;
    let mut tx = db.begin().await?;
    let row = find(&mut tx.handle(), ctx, id).await?;
    let current = row.profile()?;
    let updated = patch.apply(&current, ctx.org.region)?;
    let changes = diff(&current, &updated);
    if changes.is_empty() {
        return Ok(row.into_contact()?);
    }
    let new_row = row.with_profile(&updated, ctx.now());
    let h = &mut tx.handle();
    q::update_contact(h, &new_row).await?;
    search_terms::refresh(h, row.org_id, row.customer_id, row.id, search_terms::contact(&current), search_terms::contact(&updated)).await?;
    let name = updated.display_name();
    let (customer, subject, code) = subject(&row, &name);
    let summary = format!("Contact {name} updated: {}", field_list(&changes));
    tx.append(activity(ctx, ActivityKind::ContactUpdated, customer, subject, code, summary, changes)).await?;
    if updated.is_primary && !current.is_primary {
        demote_other_primary(&mut tx, ctx, &new_row).await?;
    }
    tx.commit().await?;
    Ok(new_row.into_contact()?)
}

/// Remove a contact; the activity keeps every value it had.
pub async fn delete_contact(db: &Db, ctx: &Ctx, id: &str) -> Result<()> {
    ctx.require(Module::Customers, Action::Edit)?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let row = find(h, ctx, id).await?;
    let profile = row.profile()?;
    q::replace_terms(h, row.org_id, row.customer_id, row.id, &[]).await?;
    q::delete_contact(h, row.org_id, row.id).await?;
    let name = profile.display_name();
    let (customer, subject, code) = subject(&row, &name);
    let summary = format!("Contact {name} deleted");
    tx.append(activity(ctx, ActivityKind::ContactDeleted, customer, subject, code, summary, diff(&Some(profile), &None))).await?;
    tx.commit().await?;
    Ok(())
}
