//! Custom field use cases: an admin defines, changes, orders and removes
//! the org's fields for customers, sites and jobs; every member of staff
//! reads them (their forms are made of them). Each change is recorded as
//! an org-level activity with the definition's diff.
//!
//! Decisions: a field's key and record kind are fixed once made. Its type
//! cannot change while any record holds a value (`custom_field_in_use`),
//! nor can a field be defined under a key that records already hold values
//! of from before fields were typed. Removing an option keeps the values
//! already given. Removing a field takes its values off the records, in one
//! statement, and their facets and words out of the search index, in the
//! same transaction, without rewriting their history: their past changes
//! stay in each record's activities under `custom_fields.<key>`, which
//! History shows as recorded.

use dossier_domain::activity::{ActivityKind, EntityRef, EntityType, NewActivity};
use dossier_domain::custom_fields::{DefinitionInput, DefinitionPatch, Definitions, FieldDefinition, FieldEntity, MAX_FIELD_DEFINITIONS, OrderInput};
use dossier_domain::diff::{FieldChange, created, diff};
use dossier_domain::permissions::{Action, Module};
use dossier_domain::search::{custom_facets_of, custom_value_source};
use dossier_domain::{FieldError, ValidationErrors};
use dossier_store::queries as q;
use dossier_store::{CustomFieldRow, Db, Handle};
use serde_json::json;
use uuid::Uuid;

use crate::record::{activity, field_list};
use crate::{Ctx, Result, ServiceError};

/// The org's fields, of one kind of record or all, in order.
pub async fn list_definitions(db: &Db, ctx: &Ctx, entity: Option<FieldEntity>) -> Result<Vec<FieldDefinition>> {
    ctx.require(Module::CustomFields, Action::View)?;
    let mut conn = db.read().await?;
    let rows = q::list_custom_fields(&mut conn.handle(), ctx.org.id.0, entity).await?;
    Ok(rows.into_iter().map(CustomFieldRow::into_definition).collect::<Result<_, _>>()?)
}

/// The fields a record of `entity` is checked against: part of the use
/// case writing the record, so no permission of its own.
pub(crate) async fn definitions(h: &mut Handle<'_>, ctx: &Ctx, entity: FieldEntity) -> Result<Definitions> {
    definitions_in(h, ctx.org.id.0, entity).await
}

/// [`definitions`] of `org`, for a use case acting for several callers of one org.
pub(crate) async fn definitions_in(h: &mut Handle<'_>, org: Uuid, entity: FieldEntity) -> Result<Definitions> {
    let rows = q::list_custom_fields(h, org, Some(entity)).await?;
    Ok(Definitions(rows.into_iter().map(CustomFieldRow::into_definition).collect::<Result<_, _>>()?))
}

/// [`definitions`] on a connection of its own, for a use case that parses
/// its input before it opens its transaction.
pub(crate) async fn definitions_of(db: &Db, ctx: &Ctx, entity: FieldEntity) -> Result<Definitions> {
    let mut conn = db.read().await?;
    definitions(&mut conn.handle(), ctx, entity).await
}

fn subject(row: &CustomFieldRow) -> (EntityRef, Option<String>) {
    (EntityRef::new(EntityType::CustomField, row.id), Some(format!("{}.{}", row.entity, row.field_key)))
}

fn record(ctx: &Ctx, kind: ActivityKind, row: &CustomFieldRow, summary: String, changes: Vec<FieldChange>) -> NewActivity {
    let (subject, code) = subject(row);
    activity(ctx, kind, None, subject, code, summary, changes)
}

async fn find(h: &mut Handle<'_>, ctx: &Ctx, id: &str) -> Result<CustomFieldRow> {
    let id = Uuid::parse_str(id).map_err(|_| ServiceError::NotFound("custom field"))?;
    q::get_custom_field(h, ctx.org.id.0, id).await?.ok_or(ServiceError::NotFound("custom field"))
}

fn in_use(row: &CustomFieldRow, what: &str) -> ServiceError {
    ServiceError::conflict("custom_field_in_use", format!("{} records hold values under '{}': {what}", row.entity, row.field_key))
}

/// Define a field, last among its record kind's.
pub async fn define(db: &Db, ctx: &Ctx, input: DefinitionInput) -> Result<FieldDefinition> {
    ctx.require(Module::CustomFields, Action::Create)?;
    let new = input.parse()?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let org = ctx.org.id.0;
    let existing = q::list_custom_fields(h, org, Some(new.entity)).await?;
    if existing.iter().any(|d| d.field_key == new.key) {
        return Err(ValidationErrors::one("key", "custom_field_exists", format!("{} already has a field '{}'", new.entity, new.key)).into());
    }
    let row = CustomFieldRow::new(org, new.entity, &new.key, &new.spec, ctx.now());
    if q::custom_values_exist(h, org, new.entity, &new.key).await? {
        return Err(in_use(&row, "values from before fields were typed; clear them or choose another key"));
    }
    let Some(row) = q::insert_custom_field(h, &row, MAX_FIELD_DEFINITIONS).await? else {
        let message = format!("at most {MAX_FIELD_DEFINITIONS} fields for each kind of record");
        return Err(ValidationErrors::one("entity", "too_many", message).into());
    };
    let mut changes = vec![
        FieldChange { field: "entity".into(), old: json!(null), new: json!(new.entity) },
        FieldChange { field: "key".into(), old: json!(null), new: json!(new.key) },
    ];
    changes.extend(created(&new.spec));
    let summary = format!("Custom field '{}' ({}) defined for {}s", new.spec.label, new.spec.field_type, new.entity);
    tx.append(record(ctx, ActivityKind::CustomFieldDefined, &row, summary, changes)).await?;
    tx.commit().await?;
    Ok(row.into_definition()?)
}

/// Change a field's label, requiredness, options or (while no record holds
/// a value) type.
pub async fn update_definition(db: &Db, ctx: &Ctx, id: &str, patch: DefinitionPatch) -> Result<FieldDefinition> {
    ctx.require(Module::CustomFields, Action::Edit)?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let row = find(h, ctx, id).await?;
    let current = row.clone().into_definition()?;
    let spec = patch.apply(&current.spec)?;
    let changes = diff(&current.spec, &spec);
    if changes.is_empty() {
        return Ok(current);
    }
    if spec.field_type != current.spec.field_type && q::custom_values_exist(h, row.org_id, current.entity, &row.field_key).await? {
        return Err(in_use(&row, "its type cannot change while they do"));
    }
    let updated = row.with_spec(&spec, ctx.now());
    q::update_custom_field(h, &updated).await?;
    let summary = format!("Custom field '{}' changed: {}", spec.label, field_list(&changes));
    tx.append(record(ctx, ActivityKind::CustomFieldUpdated, &updated, summary, changes)).await?;
    tx.commit().await?;
    Ok(updated.into_definition()?)
}

/// Put a record kind's fields in a new order: every key of the kind, once.
pub async fn reorder(db: &Db, ctx: &Ctx, input: OrderInput) -> Result<Vec<FieldDefinition>> {
    ctx.require(Module::CustomFields, Action::Edit)?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let rows = q::list_custom_fields(h, ctx.org.id.0, Some(input.entity)).await?;
    let before: Vec<&str> = rows.iter().map(|r| r.field_key.as_str()).collect();
    let mut sorted_new: Vec<&str> = input.keys.iter().map(String::as_str).collect();
    sorted_new.sort_unstable();
    let mut sorted_old = before.clone();
    sorted_old.sort_unstable();
    if sorted_new != sorted_old {
        let message = format!("name each of the {} fields of {}s once: {}", rows.len(), input.entity, before.join(", "));
        return Err(ValidationErrors(vec![FieldError { field: "keys".into(), code: "not_every_field", message }]).into());
    }
    let ids: Vec<Uuid> = input.keys.iter().filter_map(|k| rows.iter().find(|r| &r.field_key == k)).map(|r| r.id).collect();
    if input.keys.iter().map(String::as_str).eq(before.iter().copied()) {
        return Ok(rows.into_iter().map(CustomFieldRow::into_definition).collect::<Result<_, _>>()?);
    }
    q::set_custom_field_positions(h, ctx.org.id.0, &ids, ctx.now().as_microsecond()).await?;
    let changes = vec![FieldChange { field: "order".into(), old: json!(before), new: json!(input.keys) }];
    let summary = format!("Custom fields of {}s put in a new order", input.entity);
    let org_ref = EntityRef::new(EntityType::Org, ctx.org.id.0);
    let rows = q::list_custom_fields(h, ctx.org.id.0, Some(input.entity)).await?;
    tx.append(activity(ctx, ActivityKind::CustomFieldsReordered, None, org_ref, Some(input.entity.to_string()), summary, changes)).await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(CustomFieldRow::into_definition).collect::<Result<_, _>>()?)
}

/// Remove a field: its values leave every record (the count is kept in the
/// activity); their history stays readable. Its key can be defined again.
pub async fn remove_definition(db: &Db, ctx: &Ctx, id: &str) -> Result<()> {
    ctx.require(Module::CustomFields, Action::Delete)?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let row = find(h, ctx, id).await?;
    let definition = row.clone().into_definition()?;
    let holders = q::strip_custom_values(h, row.org_id, definition.entity, &row.field_key).await?;
    let held = holders.len();
    if definition.entity == FieldEntity::Customer {
        q::drop_terms_starting(h, row.org_id, &custom_facets_of(&row.field_key)).await?;
    }
    // Its values' words, each under its own source: those of exactly the
    // records that held a value (a type with no words cannot have changed
    // while they did).
    if definition.spec.field_type.searchable() {
        let sources: Vec<(Uuid, Uuid)> = holders.iter().map(|(customer, record)| (*customer, custom_value_source(row.id, *record))).collect();
        q::drop_term_sources(h, row.org_id, &sources).await?;
    }
    q::delete_custom_field(h, row.org_id, row.id).await?;
    let mut changes = vec![FieldChange { field: "key".into(), old: json!(row.field_key), new: json!(null) }];
    changes.extend(diff(&Some(&definition.spec), &None));
    let summary = format!("Custom field '{}' removed from {}s ({held} held a value)", definition.spec.label, definition.entity);
    let entry = record(ctx, ActivityKind::CustomFieldRemoved, &row, summary, changes);
    tx.append(NewActivity { detail: json!({ "records_with_a_value": held }), ..entry }).await?;
    tx.commit().await?;
    Ok(())
}
