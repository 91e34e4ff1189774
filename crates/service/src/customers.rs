//! Customer use cases: create, read, update, list, status and labels.

pub mod contacts;
pub mod erasure;
pub(crate) mod search_terms;
pub mod sites;
pub(crate) mod standing;

use dossier_domain::ValidationErrors;
use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
use dossier_domain::code::CodeKind;
use dossier_domain::contact::{Contact, ContactProfile};
use dossier_domain::custom_fields::FieldEntity;
use dossier_domain::customer::{
    Customer, CustomerInput, CustomerKind, CustomerPatch, CustomerProfile, CustomerStatus, Label, NewCustomer, StatusChange, StatusChangeInput,
};
use dossier_domain::diff::{FieldChange, created_from, diff};
use dossier_domain::ids::CustomerId;
use dossier_domain::limits::{MAX_BULK_CUSTOMERS, MAX_LABELS, check_count};
use dossier_domain::permissions::{Action, Module};
use dossier_domain::search::{custom_facet, postcode_facet, query_terms, town_facet};
use dossier_domain::site::{Site, SiteProfile};
use dossier_store::queries as q;
use dossier_store::{ContactRow, CustomerAfter, CustomerFilter, CustomerOrder, CustomerRow, Db, Handle, SearchTerm, SiteRow, Tx};
use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::page::{Page, decode_cursor, limit, paginate};
use crate::record::{activity, field_list, find_coded, record_key, with_detail};
use crate::{Ctx, Result, ServiceError};

/// How a route names a customer: its id or its code (`CUS-00001`).
pub(crate) async fn find(h: &mut Handle<'_>, ctx: &Ctx, reference: &str) -> Result<CustomerRow> {
    let row: CustomerRow = find_coded(h, ctx, CodeKind::Customer, "customer", reference).await?;
    crate::scope::check_customer(h, ctx, row.id, "customer").await?;
    Ok(row)
}

/// The activity subject of a customer: its id, reference and code.
pub(crate) fn subject(row: &CustomerRow) -> (Option<CustomerId>, EntityRef, Option<String>) {
    (Some(CustomerId(row.id)), EntityRef::new(EntityType::Customer, row.id), Some(row.code().to_string()))
}

async fn with_labels(h: &mut Handle<'_>, row: CustomerRow) -> Result<Customer> {
    let labels = q::labels_of(h, row.org_id, row.id).await?;
    Ok(row.into_customer(labels)?)
}

pub async fn create_customer(db: &Db, ctx: &Ctx, input: CustomerInput) -> Result<Customer> {
    ctx.require(Module::Customers, Action::Create)?;
    let fields = crate::custom_fields::definitions_of(db, ctx, FieldEntity::Customer).await?;
    let new = input.parse(ctx.org.region, &fields)?;
    let mut tx = db.begin().await?;
    let customer = create_customer_in(&mut tx, ctx, new).await?;
    tx.commit().await?;
    Ok(customer)
}

/// Create a customer with the next code, its search terms and labels, and
/// record `customer.created` with every field given.
pub async fn create_customer_in(tx: &mut Tx, ctx: &Ctx, new: NewCustomer) -> Result<Customer> {
    let bundle = CustomerBundle { ctx: ctx.clone(), customer: new, contacts: Vec::new(), sites: Vec::new() };
    let mut created = create_customers_in(tx, vec![bundle]).await?;
    created.pop().map(|c| c.customer).ok_or(ServiceError::NotFound("customer"))
}

/// A new customer with the contacts and sites it starts with, created by
/// `ctx`'s actor at `ctx`'s time.
pub struct CustomerBundle {
    pub ctx: Ctx,
    pub customer: NewCustomer,
    pub contacts: Vec<ContactProfile>,
    pub sites: Vec<SiteProfile>,
}

/// A customer created with its first contacts and sites.
pub struct CreatedCustomer {
    pub customer: Customer,
    pub contacts: Vec<Contact>,
    pub sites: Vec<Site>,
}

/// Create many customers at once (imports, demo data): the same rows and
/// activities as creating each customer, contact and site on its own, written
/// with a few multi-row statements.
pub async fn create_customers_in(tx: &mut Tx, bundles: Vec<CustomerBundle>) -> Result<Vec<CreatedCustomer>> {
    create_customers_from(tx, bundles, None).await
}

/// Where imported customers came from: their history says so.
#[derive(Clone, Debug)]
pub struct ImportOrigin {
    pub import_id: Uuid,
    pub file_name: String,
}

/// [`create_customers_in`] for customers read from a file: each one's
/// first entry is `customer.imported`, "imported from <file> by <who>".
pub async fn import_customers_in(tx: &mut Tx, bundles: Vec<CustomerBundle>, origin: &ImportOrigin) -> Result<Vec<CreatedCustomer>> {
    create_customers_from(tx, bundles, Some(origin)).await
}

async fn create_customers_from(tx: &mut Tx, bundles: Vec<CustomerBundle>, origin: Option<&ImportOrigin>) -> Result<Vec<CreatedCustomer>> {
    let Some(first) = bundles.first() else { return Ok(Vec::new()) };
    let org = first.ctx.org.id.0;
    if bundles.iter().any(|b| b.ctx.org.id.0 != org) {
        return Err(ServiceError::conflict("mixed_orgs", "customers created together must belong to one org"));
    }
    for bundle in &bundles {
        if bundle.contacts.iter().filter(|c| c.is_primary).count() > 1 {
            return Err(ValidationErrors::one("contacts", "several_primary", "a customer has at most one primary contact").into());
        }
    }
    let h = &mut tx.handle();
    // The fields whose values' words the search finds, read only when a value is given.
    let valued = bundles.iter().any(|b| !b.customer.profile.custom_fields.is_empty() || b.sites.iter().any(|s| !s.custom_fields.is_empty()));
    let (customer_fields, site_fields) = match valued {
        true => {
            (crate::custom_fields::definitions_in(h, org, FieldEntity::Customer).await?, crate::custom_fields::definitions_in(h, org, FieldEntity::Site).await?)
        }
        false => Default::default(),
    };
    let first_number = q::reserve_numbers(h, org, CodeKind::Customer.counter(), bundles.len() as i64).await?;
    let (mut customers, mut labels, mut contacts, mut sites, mut terms, mut records) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (bundle, number) in bundles.into_iter().zip(first_number..) {
        let CustomerBundle { ctx, customer, contacts: new_contacts, sites: new_sites } = bundle;
        let now = ctx.now();
        let row = CustomerRow::new(
            org,
            CustomerId::new(),
            number,
            ctx.org.code(CodeKind::Customer, number),
            &customer.profile,
            CustomerStatus::Active,
            None,
            now,
            now,
        );
        let names: Vec<String> = customer.labels.into_iter().map(Label::into_string).collect();
        terms.extend(search_terms::customer(row.code(), &customer.profile).into_iter().map(|term| SearchTerm { customer_id: row.id, source_id: row.id, term }));
        terms.extend(search_terms::custom(&customer_fields, row.id, row.id, &customer.profile.custom_fields));
        let mut changes = vec![FieldChange { field: "kind".into(), old: json!(null), new: json!(customer.profile.kind) }];
        changes.extend(created_from(&CustomerProfile::empty(customer.profile.kind), &customer.profile));
        if !names.is_empty() {
            changes.push(FieldChange { field: "labels".into(), old: json!([]), new: json!(names) });
        }
        let (id, subject, code) = subject(&row);
        records.push(match origin {
            None => {
                let summary = format!("Customer {} created: {}", row.code(), row.display_name);
                activity(&ctx, ActivityKind::CustomerCreated, id, subject, code, summary, changes)
            }
            Some(origin) => {
                let summary = format!("Customer {} imported from {} by {}: {}", row.code(), origin.file_name, ctx.actor.name, row.display_name);
                let record = activity(&ctx, ActivityKind::CustomerImported, id, subject, code, summary, changes);
                with_detail(record, json!({ "import_id": origin.import_id, "file": origin.file_name }))
            }
        });
        let first_contact = contacts.len();
        for profile in &new_contacts {
            let (contact, contact_terms, record) = contacts::new_contact(&ctx, CustomerId(row.id), profile);
            contacts.push(contact);
            terms.extend(contact_terms);
            records.push(record);
        }
        let first_site = sites.len();
        for profile in &new_sites {
            let (site, site_terms, record) = sites::new_site(&ctx, CustomerId(row.id), profile, &site_fields);
            sites.push(site);
            terms.extend(site_terms);
            records.push(record);
        }
        labels.extend(names.iter().map(|label| (row.id, label.clone())));
        customers.push((row, names, first_contact..contacts.len(), first_site..sites.len()));
    }
    let rows: Vec<CustomerRow> = customers.iter().map(|(row, ..)| row.clone()).collect();
    q::insert_customers(h, &rows).await?;
    q::add_labels(h, org, &labels).await?;
    q::insert_contacts(h, &contacts).await?;
    q::insert_sites(h, &sites).await?;
    q::add_search_terms(h, org, &terms).await?;
    for record in records {
        tx.append(record).await?;
    }
    customers
        .into_iter()
        .map(|(row, names, contact_range, site_range)| {
            Ok(CreatedCustomer {
                customer: row.into_customer(names)?,
                contacts: contacts[contact_range].iter().cloned().map(ContactRow::into_contact).collect::<Result<_, _>>()?,
                sites: sites[site_range].iter().cloned().map(SiteRow::into_site).collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

pub async fn get_customer(db: &Db, ctx: &Ctx, reference: &str) -> Result<Customer> {
    ctx.require(Module::Customers, Action::View)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    // The row and its labels in one statement, then the same checks as `find`.
    let key = record_key("customer", reference)?;
    let (row, labels) = q::get_customer_labelled(h, ctx.org.id.0, key).await?.ok_or(ServiceError::NotFound("customer"))?;
    crate::scope::check_customer(h, ctx, row.id, "customer").await?;
    if row.merged_into.is_some() {
        // Merged into another: its id and code answer the survivor, saying so.
        let (survivor, from) = crate::merge::resolve(h, ctx, &row.id.to_string()).await?;
        return crate::merge::resolved_customer(h, survivor, from).await;
    }
    Ok(row.into_customer(labels)?)
}

/// A customer as a list of many customers' records names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerName {
    pub code: String,
    pub name: String,
}

/// The code and name of each of these customers the caller may see (a
/// fieldworker: only those of their jobs), for a page of records of many
/// customers. At most a page's worth ([`crate::page::MAX_LIMIT`]) at a time.
pub async fn customer_names(db: &Db, ctx: &Ctx, ids: &[CustomerId]) -> Result<HashMap<CustomerId, CustomerName>> {
    ctx.require(Module::Customers, Action::View)?;
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect::<BTreeSet<_>>().into_iter().collect();
    if ids.len() > crate::page::MAX_LIMIT as usize {
        return Err(ValidationErrors::one("customers", "too_many", format!("at most {} at a time", crate::page::MAX_LIMIT)).into());
    }
    let mut conn = db.read().await?;
    let found = q::customer_names(&mut conn.handle(), ctx.org.id.0, &ids, ctx.assigned_only(Module::Customers)).await?;
    Ok(found.into_iter().map(|(id, (code, name))| (CustomerId(id), CustomerName { code, name })).collect())
}

pub async fn update_customer(db: &Db, ctx: &Ctx, reference: &str, patch: CustomerPatch) -> Result<Customer> {
    ctx.require(Module::Customers, Action::Edit)?;
    let mut tx = db.begin().await?;
    let customer = update_customer_in(&mut tx, ctx, reference, patch).await?;
    tx.commit().await?;
    Ok(customer)
}

/// Apply a partial update and record each changed field with its old and
/// new value. A patch that changes nothing records nothing.
pub async fn update_customer_in(tx: &mut Tx, ctx: &Ctx, reference: &str, patch: CustomerPatch) -> Result<Customer> {
    let h = &mut tx.handle();
    let row = find(h, ctx, reference).await?;
    let current = row.profile()?;
    let fields = crate::custom_fields::definitions(h, ctx, FieldEntity::Customer).await?;
    let updated = patch.apply(&current, ctx.org.region, &fields)?;
    let changes = diff(&current, &updated);
    if changes.is_empty() {
        return with_labels(h, row).await;
    }
    let new_row = row.with_profile(&updated, ctx.now());
    q::update_customer_profile(h, &new_row).await?;
    if new_row.sort_name != row.sort_name {
        q::rename_in_search(h, row.org_id, row.id, &new_row.sort_name).await?;
    }
    search_terms::refresh(h, row.org_id, row.id, row.id, search_terms::customer(row.code(), &current), search_terms::customer(row.code(), &updated)).await?;
    search_terms::refresh_custom(h, row.org_id, row.id, row.id, &fields, &current.custom_fields, &updated.custom_fields).await?;
    let customer = with_labels(h, new_row).await?;
    let (id, subject, code) = subject(&row);
    let summary = format!("Profile updated: {}", field_list(&changes));
    let pause_changed = current.auto_comms_paused != updated.auto_comms_paused || current.auto_comms_paused_until != updated.auto_comms_paused_until;
    tx.append(activity(ctx, ActivityKind::CustomerUpdated, id, subject, code, summary, changes)).await?;
    if pause_changed {
        // Unpaused: what the pause held goes now.
        crate::automation::sends::release_in(tx, ctx, CustomerId(row.id), ctx.today()).await?;
    }
    Ok(customer)
}

pub async fn change_status(db: &Db, ctx: &Ctx, reference: &str, input: StatusChangeInput) -> Result<Customer> {
    ctx.require(Module::Customers, Action::Edit)?;
    let change = input.parse()?;
    let mut tx = db.begin().await?;
    let customer = change_status_in(&mut tx, ctx, reference, change).await?;
    tx.commit().await?;
    Ok(customer)
}

/// Move a customer to another status, recording who, when and why.
pub async fn change_status_in(tx: &mut Tx, ctx: &Ctx, reference: &str, change: StatusChange) -> Result<Customer> {
    let h = &mut tx.handle();
    let row = find(h, ctx, reference).await?;
    let old = row.status()?;
    if old == change.status {
        return Err(ServiceError::conflict("status_unchanged", format!("the customer is already {old}")));
    }
    let now = ctx.now();
    q::update_customer_status(h, row.org_id, row.id, change.status, &change.reason, now.as_microsecond()).await?;
    let updated =
        CustomerRow { status: change.status.as_str().to_owned(), status_reason: Some(change.reason.clone()), updated_at: now.as_microsecond(), ..row.clone() };
    let customer = with_labels(h, updated).await?;
    let (id, subject, code) = subject(&row);
    let changes = vec![FieldChange { field: "status".into(), old: json!(old), new: json!(change.status) }];
    let summary = format!("Status changed from {old} to {}: {}", change.status, change.reason);
    let record = activity(ctx, ActivityKind::CustomerStatusChanged, id, subject, code, summary, changes);
    tx.append(with_detail(record, json!({ "reason": change.reason }))).await?;
    // A dormant customer's sites sleep with it and wake with it.
    if (old == CustomerStatus::Dormant) != (change.status == CustomerStatus::Dormant) {
        sites::follow_customer(tx, ctx, CustomerId(row.id), change.status == CustomerStatus::Dormant).await?;
    }
    if change.status == CustomerStatus::Active {
        // Active again: what its dormancy or block held goes now (unless paused).
        crate::automation::sends::release_in(tx, ctx, CustomerId(row.id), ctx.today()).await?;
    }
    Ok(customer)
}

/// The body of "add labels".
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelsInput {
    pub labels: Vec<String>,
}

pub async fn add_labels(db: &Db, ctx: &Ctx, reference: &str, input: LabelsInput) -> Result<Customer> {
    ctx.require(Module::Customers, Action::Edit)?;
    let labels = Label::parse_all("labels", input.labels)?;
    if labels.is_empty() {
        return Err(ValidationErrors::one("labels", "required", "name at least one label").into());
    }
    let mut tx = db.begin().await?;
    let customer = relabel_in(&mut tx, ctx, reference, &labels, &[]).await?;
    tx.commit().await?;
    Ok(customer)
}

/// The body of "label several customers".
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkLabelsInput {
    /// Customer ids or codes, at most 500.
    pub customers: Vec<String>,
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
}

/// Add and remove labels on several customers at once: all of them or, if
/// one is unknown or a label is invalid, none.
pub async fn bulk_labels(db: &Db, ctx: &Ctx, input: BulkLabelsInput) -> Result<Vec<Customer>> {
    ctx.require(Module::Customers, Action::Edit)?;
    let mut errors = ValidationErrors::default();
    let add = errors.take(Label::parse_all("add", input.add)).unwrap_or_default();
    let remove = errors.take(Label::parse_all("remove", input.remove)).unwrap_or_default();
    if add.is_empty() && remove.is_empty() {
        errors.push("add", "required", "name a label to add or remove");
    }
    match input.customers.len() {
        0 => errors.push("customers", "required", "choose at least one customer"),
        1..=MAX_BULK_CUSTOMERS => {}
        _ => errors.push("customers", "too_many", format!("at most {MAX_BULK_CUSTOMERS} customers at once")),
    }
    errors.into_result(|| ())?;
    let mut tx = db.begin().await?;
    let mut changed = Vec::with_capacity(input.customers.len());
    for reference in &input.customers {
        changed.push(relabel_in(&mut tx, ctx, reference, &add, &remove).await?);
    }
    tx.commit().await?;
    Ok(changed)
}

pub async fn remove_label(db: &Db, ctx: &Ctx, reference: &str, label: &str) -> Result<Customer> {
    ctx.require(Module::Customers, Action::Edit)?;
    let label = Label::parse("label", label)?;
    let mut tx = db.begin().await?;
    let customer = relabel_in(&mut tx, ctx, reference, &[], &[label]).await?;
    tx.commit().await?;
    Ok(customer)
}

/// Add and remove labels; records the list before and after if it changed.
/// A customer holds at most [`MAX_LABELS`]. The work is linear in the
/// number of labels: set lookups, one insert and one delete statement.
pub async fn relabel_in(tx: &mut Tx, ctx: &Ctx, reference: &str, add: &[Label], remove: &[Label]) -> Result<Customer> {
    let h = &mut tx.handle();
    let row = find(h, ctx, reference).await?;
    let before = q::labels_of(h, row.org_id, row.id).await?;
    let before_set: BTreeSet<&str> = before.iter().map(String::as_str).collect();
    // The label list is sorted by byte order, as the database lists it.
    let mut after_set = before_set.clone();
    after_set.extend(add.iter().map(Label::as_str));
    for label in remove {
        after_set.remove(label.as_str());
    }
    if after_set == before_set {
        return Ok(row.into_customer(before)?);
    }
    // Only a change that adds past the bound is refused: one stored before
    // there was a bound can still be cleaned up.
    if after_set.len() > before_set.len() {
        let what = format!("labels on a customer ({} would have {})", row.code(), after_set.len());
        check_count("labels", after_set.len(), MAX_LABELS, &what)?;
    }
    let added: Vec<String> = after_set.difference(&before_set).map(|l| (*l).to_owned()).collect();
    let gone: Vec<String> = before_set.difference(&after_set).map(|l| (*l).to_owned()).collect();
    let after: Vec<String> = after_set.into_iter().map(str::to_owned).collect();
    let new_labels: Vec<(Uuid, String)> = added.iter().map(|l| (row.id, l.clone())).collect();
    q::add_labels(h, row.org_id, &new_labels).await?;
    q::remove_labels(h, row.org_id, row.id, &gone).await?;
    let added: Vec<String> = added.iter().map(|l| format!("+{l}")).collect();
    let removed: Vec<String> = gone.iter().map(|l| format!("-{l}")).collect();
    let summary = format!("Labels changed: {}", [added, removed].concat().join(" "));
    let changes = vec![FieldChange { field: "labels".into(), old: json!(before), new: json!(after) }];
    let (id, subject, code) = subject(&row);
    let customer = row.into_customer(after)?;
    tx.append(activity(ctx, ActivityKind::CustomerLabelsChanged, id, subject, code, summary, changes)).await?;
    Ok(customer)
}

/// Query parameters of the customer list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// Name, business name, email, phone digits in any format, customer
    /// code, or a site's postcode, street or town (words by their start).
    pub q: Option<String>,
    /// Only customers with a site in this town (the whole name, any case
    /// and accents; at most 100 characters).
    #[param(max_length = 100)]
    pub town: Option<String>,
    /// Only customers with a site whose postcode starts with this (spaces
    /// and case ignored; at most 16 characters).
    #[param(max_length = 16)]
    pub postcode: Option<String>,
    /// `cf.<key>=<value>` (not a named parameter: one per customer field,
    /// at most 10): only customers whose field `<key>` holds `<value>`.
    /// Text fields compare whole values ignoring case, choice fields
    /// their option (any case), yes/no fields `true`/`false` (or
    /// `yes`/`no`); other types are refused (`not_filterable`).
    #[serde(skip)]
    #[param(ignore)]
    pub custom: Vec<(String, String)>,
    pub status: Option<CustomerStatus>,
    pub kind: Option<CustomerKind>,
    pub label: Option<String>,
    /// Only customers with an overdue invoice (needs invoice access).
    pub overdue: Option<bool>,
    /// `name` (default), `-name`, `code` or `-code`.
    pub sort: Option<CustomerSort>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// The orders a customer list comes in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
pub enum CustomerSort {
    #[default]
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-name")]
    NameDesc,
    #[serde(rename = "code")]
    Code,
    #[serde(rename = "-code")]
    CodeDesc,
}

impl CustomerSort {
    fn order(self) -> CustomerOrder {
        match self {
            CustomerSort::Name => CustomerOrder::Name,
            CustomerSort::NameDesc => CustomerOrder::NameDesc,
            CustomerSort::Code => CustomerOrder::Code,
            CustomerSort::CodeDesc => CustomerOrder::CodeDesc,
        }
    }
}

/// A page cursor of a customer list: where it stopped, in its own order.
fn customer_cursor(row: &CustomerRow, order: CustomerOrder) -> String {
    match order {
        CustomerOrder::Name | CustomerOrder::NameDesc => format!("name\u{1f}{}\u{1f}{}", row.sort_name, row.id),
        CustomerOrder::Code | CustomerOrder::CodeDesc => format!("code\u{1f}{}", row.number),
    }
}

fn read_customer_cursor(text: &str, order: CustomerOrder) -> Option<CustomerAfter> {
    let mut parts = text.split('\u{1f}');
    match (parts.next()?, order) {
        ("name", CustomerOrder::Name | CustomerOrder::NameDesc) => {
            let (name, id) = (parts.next()?, parts.next()?);
            Some(CustomerAfter::Name(name.to_owned(), Uuid::parse_str(id).ok()?))
        }
        ("code", CustomerOrder::Code | CustomerOrder::CodeDesc) => Some(CustomerAfter::Number(parts.next()?.parse().ok()?)),
        _ => None,
    }
}

/// Customers in name order, narrowed by search and filters.
pub async fn list_customers(db: &Db, ctx: &Ctx, query: CustomerQuery) -> Result<Page<Customer>> {
    ctx.require(Module::Customers, Action::View)?;
    let limit = limit(query.limit)?;
    let order = query.sort.unwrap_or_default().order();
    let after = match &query.cursor {
        Some(cursor) => {
            let parsed = read_customer_cursor(&decode_cursor(cursor)?, order);
            Some(parsed.ok_or_else(|| ValidationErrors::one("cursor", "invalid_cursor", "is not a cursor this API returned for this sort"))?)
        }
        None => None,
    };
    // Whether a customer owes money is money: only for those who see invoices.
    let overdue_on = match query.overdue {
        Some(true) => {
            ctx.require(Module::Invoices, Action::View)?;
            Some(ctx.today())
        }
        _ => None,
    };
    let label = query.label.as_deref().map(|l| Label::parse("label", l)).transpose()?;
    let prefixes = [ctx.org.prefix(CodeKind::Customer), CodeKind::Customer.prefix()];
    let searched = query.q.as_deref().map(|q| query_terms(q, &prefixes)).unwrap_or_default();
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let mut terms = searched.clone();
    terms.extend(facets(h, ctx, &query).await?);
    let filter = CustomerFilter {
        terms,
        status: query.status,
        kind: query.kind,
        label: label.map(Label::into_string),
        assigned_to: ctx.assigned_only(Module::Customers),
        overdue_on,
    };
    let rows = q::list_customers(h, ctx.org.id.0, &filter, order, after, limit + 1).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut labels = q::labels_of_many(h, ctx.org.id.0, &ids).await?;
    let mut page = paginate(
        rows,
        limit,
        |r| customer_cursor(r, order),
        |r| {
            let labels = labels.remove(&r.id).unwrap_or_default();
            Ok(r.into_customer(labels)?)
        },
    )?;
    search_terms::explain(h, ctx.org.id.0, &searched, &mut page.items).await?;
    Ok(page)
}

/// The facets (see [`dossier_domain::search::town_facet`]) a list is
/// narrowed by: its town, postcode prefix and custom field values. A
/// filter that cannot match (a blank town) narrows nothing.
async fn facets(h: &mut Handle<'_>, ctx: &Ctx, query: &CustomerQuery) -> Result<Vec<String>> {
    let mut errors = ValidationErrors::default();
    let town = errors.take(dossier_domain::text::optional("town", query.town.clone(), 100)).flatten();
    let postcode = errors.take(dossier_domain::text::optional("postcode", query.postcode.clone(), 16)).flatten();
    errors.into_result(|| ())?;
    let mut facets: Vec<String> = town.as_deref().and_then(town_facet).into_iter().chain(postcode.as_deref().and_then(postcode_facet)).collect();
    if !query.custom.is_empty() {
        let fields = crate::custom_fields::definitions(h, ctx, FieldEntity::Customer).await?;
        facets.extend(fields.filters(&query.custom)?.iter().map(|(key, value)| custom_facet(key, value)));
    }
    Ok(facets)
}
