//! Customer use cases: create, read, update, list, status and labels.

use dossier_domain::ValidationErrors;
use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
use dossier_domain::code::{Code, CodeKind};
use dossier_domain::customer::{Customer, CustomerInput, CustomerKind, CustomerPatch, CustomerStatus, Label, NewCustomer, StatusChange, StatusChangeInput};
use dossier_domain::diff::{FieldChange, created, diff};
use dossier_domain::ids::CustomerId;
use dossier_domain::search::query_terms;
use dossier_store::queries as q;
use dossier_store::{CustomerFilter, CustomerRow, Db, Handle, Tx};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::page::{Page, decode_cursor, limit, paginate};
use crate::record::{activity, field_list, with_detail};
use crate::{Ctx, Result, ServiceError, search_terms};

/// How a route names a customer: its id or its code (`CUS-00001`).
pub(crate) async fn find(h: &mut Handle<'_>, ctx: &Ctx, reference: &str) -> Result<CustomerRow> {
    let org = ctx.org.id.0;
    let row = if let Ok(id) = Uuid::parse_str(reference) {
        q::get_customer(h, org, id).await?
    } else if let Some(code) = Code::parse(CodeKind::Customer, reference) {
        q::get_customer_by_number(h, org, code.number).await?
    } else {
        None
    };
    row.ok_or(ServiceError::NotFound("customer"))
}

pub(crate) fn subject(row: &CustomerRow) -> (Option<CustomerId>, EntityRef, Option<String>) {
    (Some(CustomerId(row.id)), EntityRef::new(EntityType::Customer, row.id), Some(row.code().to_string()))
}

async fn with_labels(h: &mut Handle<'_>, row: CustomerRow) -> Result<Customer> {
    let labels = q::labels_of(h, row.org_id, row.id).await?;
    Ok(row.into_customer(labels)?)
}

pub async fn create_customer(db: &Db, ctx: &Ctx, input: CustomerInput) -> Result<Customer> {
    let new = input.parse(ctx.org.region)?;
    let mut tx = db.begin().await?;
    let customer = create_customer_in(&mut tx, ctx, new).await?;
    tx.commit().await?;
    Ok(customer)
}

/// Create a customer with the next code, its search terms and labels, and
/// record `customer.created` with every field given.
pub async fn create_customer_in(tx: &mut Tx, ctx: &Ctx, new: NewCustomer) -> Result<Customer> {
    let now = ctx.now();
    let org = ctx.org.id.0;
    let h = &mut tx.handle();
    let number = q::next_number(h, org, CodeKind::Customer.counter()).await?;
    let row = CustomerRow::new(org, CustomerId::new(), number, &new.profile, CustomerStatus::Active, None, now, now);
    q::insert_customer(h, &row).await?;
    let labels: Vec<String> = new.labels.into_iter().map(Label::into_string).collect();
    for label in &labels {
        q::add_label(h, org, row.id, label).await?;
    }
    q::replace_terms(h, org, row.id, row.id, &search_terms::customer(&row.code(), &new.profile)).await?;
    let mut changes = created(&new.profile);
    if !labels.is_empty() {
        changes.push(FieldChange { field: "labels".into(), old: json!([]), new: json!(labels) });
    }
    let (customer, subject, code) = subject(&row);
    let summary = format!("Customer {} created: {}", row.code(), row.display_name);
    tx.append(activity(ctx, ActivityKind::CustomerCreated, customer, subject, code, summary, changes)).await?;
    Ok(row.into_customer(labels)?)
}

pub async fn get_customer(db: &Db, ctx: &Ctx, reference: &str) -> Result<Customer> {
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let row = find(h, ctx, reference).await?;
    with_labels(h, row).await
}

pub async fn update_customer(db: &Db, ctx: &Ctx, reference: &str, patch: CustomerPatch) -> Result<Customer> {
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
    let updated = patch.apply(&current, ctx.org.region)?;
    let changes = diff(&current, &updated);
    if changes.is_empty() {
        return with_labels(h, row).await;
    }
    let new_row = row.with_profile(&updated, ctx.now());
    q::update_customer_profile(h, &new_row).await?;
    q::replace_terms(h, row.org_id, row.id, row.id, &search_terms::customer(&row.code(), &updated)).await?;
    let customer = with_labels(h, new_row).await?;
    let (id, subject, code) = subject(&row);
    let summary = format!("Profile updated: {}", field_list(&changes));
    tx.append(activity(ctx, ActivityKind::CustomerUpdated, id, subject, code, summary, changes)).await?;
    Ok(customer)
}

pub async fn change_status(db: &Db, ctx: &Ctx, reference: &str, input: StatusChangeInput) -> Result<Customer> {
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
    let customer = find(h, ctx, &row.id.to_string()).await?;
    let customer = with_labels(h, customer).await?;
    let (id, subject, code) = subject(&row);
    let changes = vec![FieldChange { field: "status".into(), old: json!(old), new: json!(change.status) }];
    let summary = format!("Status changed from {old} to {}: {}", change.status, change.reason);
    let record = activity(ctx, ActivityKind::CustomerStatusChanged, id, subject, code, summary, changes);
    tx.append(with_detail(record, json!({ "reason": change.reason }))).await?;
    Ok(customer)
}

/// The body of "add labels".
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelsInput {
    pub labels: Vec<String>,
}

pub async fn add_labels(db: &Db, ctx: &Ctx, reference: &str, input: LabelsInput) -> Result<Customer> {
    let labels = Label::parse_all("labels", input.labels)?;
    if labels.is_empty() {
        return Err(ValidationErrors::one("labels", "required", "name at least one label").into());
    }
    let mut tx = db.begin().await?;
    let customer = relabel_in(&mut tx, ctx, reference, &labels, &[]).await?;
    tx.commit().await?;
    Ok(customer)
}

pub async fn remove_label(db: &Db, ctx: &Ctx, reference: &str, label: &str) -> Result<Customer> {
    let label = Label::parse("label", label)?;
    let mut tx = db.begin().await?;
    let customer = relabel_in(&mut tx, ctx, reference, &[], &[label]).await?;
    tx.commit().await?;
    Ok(customer)
}

/// Add and remove labels; records the list before and after if it changed.
pub async fn relabel_in(tx: &mut Tx, ctx: &Ctx, reference: &str, add: &[Label], remove: &[Label]) -> Result<Customer> {
    let h = &mut tx.handle();
    let row = find(h, ctx, reference).await?;
    let before = q::labels_of(h, row.org_id, row.id).await?;
    for label in add {
        q::add_label(h, row.org_id, row.id, label.as_str()).await?;
    }
    for label in remove {
        q::remove_label(h, row.org_id, row.id, label.as_str()).await?;
    }
    let after = q::labels_of(h, row.org_id, row.id).await?;
    if before == after {
        return Ok(row.into_customer(after)?);
    }
    let added: Vec<String> = after.iter().filter(|l| !before.contains(l)).map(|l| format!("+{l}")).collect();
    let removed: Vec<String> = before.iter().filter(|l| !after.contains(l)).map(|l| format!("-{l}")).collect();
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
    /// Name, business name, email, phone digits in any format, customer code or postcode.
    pub q: Option<String>,
    pub status: Option<CustomerStatus>,
    pub kind: Option<CustomerKind>,
    pub label: Option<String>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<u32>,
}

/// Customers in name order, narrowed by search and filters.
pub async fn list_customers(db: &Db, ctx: &Ctx, query: CustomerQuery) -> Result<Page<Customer>> {
    let limit = limit(query.limit)?;
    let after = match &query.cursor {
        Some(cursor) => {
            let text = decode_cursor(cursor)?;
            let parsed = text.rsplit_once('\u{1f}').and_then(|(name, id)| Some((name.to_owned(), Uuid::parse_str(id).ok()?)));
            Some(parsed.ok_or_else(|| ValidationErrors::one("cursor", "invalid_cursor", "is not a cursor this API returned"))?)
        }
        None => None,
    };
    let label = query.label.as_deref().map(|l| Label::parse("label", l)).transpose()?;
    let filter = CustomerFilter {
        terms: query.q.as_deref().map(query_terms).unwrap_or_default(),
        status: query.status,
        kind: query.kind,
        label: label.map(Label::into_string),
    };
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let rows = q::list_customers(h, ctx.org.id.0, &filter, after, limit + 1).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut labels = q::labels_of_many(h, ctx.org.id.0, &ids).await?;
    paginate(
        rows,
        limit,
        |r| format!("{}\u{1f}{}", r.sort_name, r.id),
        |r| {
            let labels = labels.remove(&r.id).unwrap_or_default();
            Ok(r.into_customer(labels)?)
        },
    )
}
