//! Custom field definitions, and the few statements that reach every
//! record's values of one field.
//!
//! Values live on their record as JSON text (`customer.custom_fields`,
//! `site.custom_fields`, `job.custom_fields`): a record and its values are
//! one row, so reading a page of records costs no lookup per row. The
//! directory does not filter by that text (an expression over JSON would
//! be evaluated row by row): a customer's filterable values are also
//! terms of the search index (see `dossier_domain::search::custom_facet`),
//! which both backends range-scan, and the words of text and choice values
//! (a customer's, its sites' and jobs') are terms the search finds, each
//! value's under a source of its own
//! (`dossier_domain::search::custom_value_source`).

use dossier_domain::custom_fields::{FieldDefinition, FieldEntity, FieldSpec, FieldType};
use dossier_domain::ids::CustomFieldId;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use crate::customers::timestamp;
use crate::{Handle, Result, StoreError, run};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CustomFieldRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub entity: String,
    pub field_key: String,
    pub label: String,
    pub field_type: String,
    pub required: bool,
    /// JSON list of a choice field's options.
    pub options: String,
    pub position: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl CustomFieldRow {
    /// The row of a new definition; its position is given when inserted.
    pub fn new(org_id: Uuid, entity: FieldEntity, key: &str, spec: &FieldSpec, at: jiff::Timestamp) -> Self {
        Self {
            org_id,
            id: CustomFieldId::new().0,
            entity: entity.as_str().to_owned(),
            field_key: key.to_owned(),
            label: String::new(),
            field_type: String::new(),
            required: false,
            options: String::new(),
            position: 0,
            created_at: at.as_microsecond(),
            updated_at: at.as_microsecond(),
        }
        .with_spec(spec, at)
    }

    /// This definition with another spec, changed at `at`.
    pub fn with_spec(&self, spec: &FieldSpec, at: jiff::Timestamp) -> Self {
        Self {
            label: spec.label.clone(),
            field_type: spec.field_type.as_str().to_owned(),
            required: spec.required,
            options: serde_json::to_string(&spec.options).unwrap_or_default(),
            updated_at: at.as_microsecond(),
            ..self.clone()
        }
    }

    pub fn entity(&self) -> Result<FieldEntity> {
        FieldEntity::parse(&self.entity).ok_or_else(|| StoreError::corrupt(format!("custom field entity '{}'", self.entity)))
    }

    pub fn into_definition(self) -> Result<FieldDefinition> {
        Ok(FieldDefinition {
            id: CustomFieldId(self.id),
            entity: self.entity()?,
            spec: FieldSpec {
                label: self.label,
                field_type: FieldType::parse(&self.field_type).ok_or_else(|| StoreError::corrupt(format!("custom field type '{}'", self.field_type)))?,
                required: self.required,
                options: serde_json::from_str(&self.options).map_err(StoreError::corrupt)?,
            },
            key: self.field_key,
            position: self.position,
            created_at: timestamp(self.created_at)?,
            updated_at: timestamp(self.updated_at)?,
        })
    }
}

/// The org's definitions, of one kind of record or all, in order.
pub async fn list_custom_fields(h: &mut Handle<'_>, org_id: Uuid, entity: Option<FieldEntity>) -> Result<Vec<CustomFieldRow>> {
    Ok(run!(h, c => match entity {
        Some(entity) => sqlx::query_as("SELECT * FROM custom_field WHERE org_id = $1 AND entity = $2 ORDER BY position, id")
            .bind(org_id).bind(entity.as_str()).fetch_all(c).await?,
        None => sqlx::query_as("SELECT * FROM custom_field WHERE org_id = $1 ORDER BY entity, position, id").bind(org_id).fetch_all(c).await?,
    }))
}

pub async fn get_custom_field(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<Option<CustomFieldRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM custom_field WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).fetch_optional(c).await?))
}

/// Insert a definition last among its record kind's, unless that kind
/// already has `max`: counted and placed in the one statement that
/// inserts, so two admins adding at once cannot pass the bound. Returns
/// the stored row, or `None` when the kind was full.
pub async fn insert_custom_field(h: &mut Handle<'_>, row: &CustomFieldRow, max: usize) -> Result<Option<CustomFieldRow>> {
    Ok(run!(h, c => sqlx::query_as(
        "INSERT INTO custom_field (org_id, id, entity, field_key, label, field_type, required, options, position, created_at, updated_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, COALESCE(MAX(position), 0) + 1, $9, $10 FROM custom_field WHERE org_id = $1 AND entity = $3 \
         HAVING COUNT(*) < $11 RETURNING *")
        .bind(row.org_id).bind(row.id).bind(&row.entity).bind(&row.field_key).bind(&row.label).bind(&row.field_type).bind(row.required)
        .bind(&row.options).bind(row.created_at).bind(row.updated_at).bind(max as i64).fetch_optional(c).await?))
}

pub async fn update_custom_field(h: &mut Handle<'_>, row: &CustomFieldRow) -> Result<()> {
    run!(h, c => sqlx::query("UPDATE custom_field SET label = $3, field_type = $4, required = $5, options = $6, updated_at = $7 WHERE org_id = $1 AND id = $2")
        .bind(row.org_id).bind(row.id).bind(&row.label).bind(&row.field_type).bind(row.required).bind(&row.options).bind(row.updated_at)
        .execute(c).await.map(drop)?);
    Ok(())
}

/// Give each definition (by id) its place: the first 1, the next 2, …
pub async fn set_custom_field_positions(h: &mut Handle<'_>, org_id: Uuid, ids: &[Uuid], at: i64) -> Result<()> {
    for (position, id) in (1i64..).zip(ids) {
        run!(h, c => sqlx::query("UPDATE custom_field SET position = $3, updated_at = $4 WHERE org_id = $1 AND id = $2")
            .bind(org_id).bind(*id).bind(position).bind(at).execute(c).await.map(drop)?);
    }
    Ok(())
}

pub async fn delete_custom_field(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<()> {
    run!(h, c => sqlx::query("DELETE FROM custom_field WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).execute(c).await.map(drop)?);
    Ok(())
}

fn table(entity: FieldEntity) -> &'static str {
    match entity {
        FieldEntity::Customer => "customer",
        FieldEntity::Site => "site",
        FieldEntity::Job => "job",
    }
}

/// Whether any record of the kind holds a value under `key`. An admin's
/// question, asked rarely: it reads the kind's rows of the org.
pub async fn custom_values_exist(h: &mut Handle<'_>, org_id: Uuid, entity: FieldEntity, key: &str) -> Result<bool> {
    let held = match h {
        Handle::Sqlite(_) => "json_type(custom_fields, '$.' || $2) IS NOT NULL",
        Handle::Postgres(_) => "custom_fields::jsonb ? $2",
    };
    let sql = format!("SELECT CAST(1 AS BIGINT) FROM {} WHERE org_id = $1 AND {held} LIMIT 1", table(entity));
    let found: Option<i64> = run!(h, c => sqlx::query_scalar(AssertSqlSafe(sql.as_str())).bind(org_id).bind(key).fetch_optional(c).await?);
    Ok(found.is_some())
}

/// Take `key`'s values off every record of the kind (a removed field's):
/// one statement; returns the records that held one, each as its customer
/// and its own id (a customer's is itself). `key` is a checked key (`a-z`,
/// `0-9`, `_`), so it is a plain JSON path on SQLite.
pub async fn strip_custom_values(h: &mut Handle<'_>, org_id: Uuid, entity: FieldEntity, key: &str) -> Result<Vec<(Uuid, Uuid)>> {
    let (set, held) = match h {
        Handle::Sqlite(_) => ("json_remove(custom_fields, '$.' || $2)", "json_type(custom_fields, '$.' || $2) IS NOT NULL"),
        Handle::Postgres(_) => ("(custom_fields::jsonb - $2)::text", "custom_fields::jsonb ? $2"),
    };
    let customer = if entity == FieldEntity::Customer { "id" } else { "customer_id" };
    let sql = format!("UPDATE {} SET custom_fields = {set} WHERE org_id = $1 AND {held} RETURNING {customer}, id", table(entity));
    Ok(run!(h, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(org_id).bind(key).fetch_all(c).await?))
}

/// Each given customer's jobs' custom values (as stored, JSON text), for
/// the jobs that have any: what the directory explains a search's match by.
pub async fn job_values_of_customers(h: &mut Handle<'_>, org_id: Uuid, customer_ids: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
    if customer_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(run!(h, c => {
        let mut q = sqlx::QueryBuilder::new("SELECT customer_id, custom_fields FROM job WHERE org_id = ");
        q.push_bind(org_id).push(" AND customer_id IN ");
        crate::in_list::push_ids(&mut q, customer_ids);
        q.push(" AND custom_fields <> '{}' ORDER BY customer_id, number");
        q.build_query_as().fetch_all(c).await?
    }))
}

/// Drop the search index's terms that start with `prefix` (a removed
/// field's facets).
pub async fn drop_terms_starting(h: &mut Handle<'_>, org_id: Uuid, prefix: &str) -> Result<()> {
    let (low, high) = crate::search::prefix_range(prefix);
    // The terms of deleted customers, set aside until they are restored, too.
    for table in ["customer_search", "customer_search_deleted"] {
        let sql = format!("DELETE FROM {table} WHERE org_id = $1 AND term >= $2 AND term < $3");
        run!(h, c => sqlx::query(AssertSqlSafe(sql.as_str())).bind(org_id).bind(low.clone()).bind(high.clone()).execute(c).await.map(drop)?);
    }
    Ok(())
}

/// Drop every search term of these sources, each named with its customer
/// (the words of a removed field's values: see
/// `dossier_domain::search::custom_value_source`). A few hundred pairs a
/// statement, each found through the source index.
pub async fn drop_term_sources(h: &mut Handle<'_>, org_id: Uuid, sources: &[(Uuid, Uuid)]) -> Result<()> {
    // The terms of deleted customers, set aside until they are restored, too.
    for table in ["customer_search", "customer_search_deleted"] {
        for chunk in crate::chunks::power_of_two(sources, 256) {
            run!(h, c => {
                let mut q = sqlx::QueryBuilder::new(format!("DELETE FROM {table} WHERE org_id = "));
                q.push_bind(org_id).push(" AND (customer_id, source_id) IN (VALUES ");
                let mut pairs = q.separated(", ");
                for (customer, source) in chunk {
                    pairs.push("(").push_bind_unseparated(*customer).push_unseparated(", ").push_bind_unseparated(*source).push_unseparated(")");
                }
                q.push(")");
                q.build().execute(c).await.map(drop)?
            });
        }
    }
    Ok(())
}

/// Records whose custom values wait for the words the search finds them by
/// (values given before migration 0021): made here, in Rust, because the
/// field's type decides and words are folded as queries are, a few hundred
/// records a transaction, each taken off the list with its words. Runs
/// after every migration; with nothing pending it is one empty read.
pub(crate) async fn fill_pending_custom_terms(db: &crate::Db) -> Result<()> {
    use dossier_domain::search::{custom_value_source, custom_value_terms};
    loop {
        let mut tx = db.begin().await?;
        let h = &mut tx.handle();
        let pending: Vec<(Uuid, String, Uuid)> = run!(h, c => sqlx::query_as(
            "SELECT org_id, entity, record_id FROM custom_terms_pending ORDER BY org_id, entity, record_id LIMIT 500")
            .fetch_all(c).await?);
        if pending.is_empty() {
            return Ok(());
        }
        let mut fields: Vec<FieldDefinition> = Vec::new();
        let mut fields_of = None;
        for (org_id, entity, record_id) in &pending {
            if fields_of != Some(*org_id) {
                fields = list_custom_fields(h, *org_id, None).await?.into_iter().map(CustomFieldRow::into_definition).collect::<Result<_>>()?;
                fields_of = Some(*org_id);
            }
            let entity = FieldEntity::parse(entity).ok_or_else(|| StoreError::corrupt(format!("custom_terms_pending entity '{entity}'")))?;
            let customer = if entity == FieldEntity::Customer { "id" } else { "customer_id" };
            let sql = format!("SELECT {customer}, custom_fields FROM {} WHERE org_id = $1 AND id = $2", table(entity));
            let found: Option<(Uuid, String)> =
                run!(h, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(*org_id).bind(*record_id).fetch_optional(c).await?);
            // Values are read one by one: one a field no longer reads (kept
            // from before fields were typed) gives no words and stops nothing.
            let values =
                found.and_then(|(customer_id, text)| Some((customer_id, serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text).ok()?)));
            if let Some((customer_id, values)) = values {
                for definition in fields.iter().filter(|d| d.entity == entity) {
                    let value = values.get(&definition.key).and_then(|v| serde_json::from_value(v.clone()).ok());
                    let terms = custom_value_terms(definition, value.as_ref());
                    if !terms.is_empty() {
                        crate::search::replace_terms(h, *org_id, customer_id, custom_value_source(definition.id.0, *record_id), &terms).await?;
                    }
                }
            }
            run!(h, c => sqlx::query("DELETE FROM custom_terms_pending WHERE org_id = $1 AND entity = $2 AND record_id = $3")
                .bind(*org_id).bind(entity.as_str()).bind(*record_id).execute(c).await.map(drop)?);
        }
        tx.commit().await?;
    }
}
