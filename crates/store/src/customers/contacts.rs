use dossier_domain::contact::{Contact, ContactProfile};
use dossier_domain::ids::{ContactId, CustomerId};
use jiff::Timestamp;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::customers::timestamp;
use crate::{Handle, Result, StoreError, run};

/// A contact as stored: lists as JSON text.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ContactRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub customer_id: Uuid,
    pub title: Option<String>,
    pub given_name: Option<String>,
    pub family_name: String,
    pub position: Option<String>,
    pub roles: String,
    pub emails: String,
    pub phones: String,
    pub urls: String,
    pub is_primary: bool,
    pub is_billing: bool,
    /// JSON of the contact's own preferences; None: as the customer's.
    pub communication: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ContactRow {
    pub fn new(org_id: Uuid, id: ContactId, customer_id: CustomerId, p: &ContactProfile, created_at: Timestamp, updated_at: Timestamp) -> Self {
        Self {
            org_id,
            id: id.0,
            customer_id: customer_id.0,
            title: p.title.clone(),
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            position: p.position.clone(),
            roles: serde_json::to_string(&p.roles).unwrap_or_default(),
            emails: serde_json::to_string(&p.emails).unwrap_or_default(),
            phones: serde_json::to_string(&p.phones).unwrap_or_default(),
            urls: serde_json::to_string(&p.urls).unwrap_or_default(),
            is_primary: p.is_primary,
            is_billing: p.is_billing,
            communication: p.communication.as_ref().map(|c| serde_json::to_string(c).unwrap_or_default()),
            created_at: created_at.as_microsecond(),
            updated_at: updated_at.as_microsecond(),
        }
    }

    /// This contact with another profile, updated at `updated_at`.
    pub fn with_profile(&self, profile: &ContactProfile, updated_at: Timestamp) -> Self {
        Self { created_at: self.created_at, ..Self::new(self.org_id, ContactId(self.id), CustomerId(self.customer_id), profile, updated_at, updated_at) }
    }

    pub fn profile(&self) -> Result<ContactProfile> {
        Ok(ContactProfile {
            title: self.title.clone(),
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            position: self.position.clone(),
            roles: serde_json::from_str(&self.roles).map_err(StoreError::corrupt)?,
            emails: serde_json::from_str(&self.emails).map_err(StoreError::corrupt)?,
            phones: serde_json::from_str(&self.phones).map_err(StoreError::corrupt)?,
            urls: serde_json::from_str(&self.urls).map_err(StoreError::corrupt)?,
            is_primary: self.is_primary,
            is_billing: self.is_billing,
            communication: self.communication.as_deref().map(serde_json::from_str).transpose().map_err(StoreError::corrupt)?,
        })
    }

    pub fn into_contact(self) -> Result<Contact> {
        let profile = self.profile()?;
        Ok(Contact {
            id: ContactId(self.id),
            customer_id: CustomerId(self.customer_id),
            display_name: profile.display_name(),
            profile,
            created_at: timestamp(self.created_at)?,
            updated_at: timestamp(self.updated_at)?,
        })
    }
}

pub async fn insert_contacts(h: &mut Handle<'_>, rows: &[ContactRow]) -> Result<()> {
    for chunk in crate::chunks::power_of_two(rows, 32) {
        run!(h, c => {
            let mut q = QueryBuilder::new(
                "INSERT INTO contact (org_id, id, customer_id, title, given_name, family_name, position, roles, emails, phones, urls, is_primary, is_billing, \
                 communication, created_at, updated_at) ");
            q.push_values(chunk, |mut b, row| {
                b.push_bind(row.org_id).push_bind(row.id).push_bind(row.customer_id).push_bind(&row.title).push_bind(&row.given_name)
                    .push_bind(&row.family_name).push_bind(&row.position).push_bind(&row.roles).push_bind(&row.emails).push_bind(&row.phones)
                    .push_bind(&row.urls).push_bind(row.is_primary).push_bind(row.is_billing).push_bind(&row.communication).push_bind(row.created_at).push_bind(row.updated_at);
            });
            q.build().execute(c).await.map(drop)?
        });
    }
    Ok(())
}

pub async fn update_contact(h: &mut Handle<'_>, row: &ContactRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "UPDATE contact SET title = $3, given_name = $4, family_name = $5, position = $6, roles = $7, emails = $8, phones = $9, urls = $10, \
         is_primary = $11, is_billing = $12, updated_at = $13, communication = $14 WHERE org_id = $1 AND id = $2")
        .bind(row.org_id).bind(row.id).bind(&row.title).bind(&row.given_name).bind(&row.family_name).bind(&row.position)
        .bind(&row.roles).bind(&row.emails).bind(&row.phones).bind(&row.urls).bind(row.is_primary).bind(row.is_billing).bind(row.updated_at)
        .bind(&row.communication)
        .execute(c).await.map(drop)?);
    Ok(())
}

pub async fn delete_contact(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<()> {
    run!(h, c => sqlx::query("DELETE FROM contact WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).execute(c).await.map(drop)?);
    Ok(())
}

pub async fn get_contact(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<Option<ContactRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM contact WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).fetch_optional(c).await?))
}

pub async fn list_contacts(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid) -> Result<Vec<ContactRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM contact WHERE org_id = $1 AND customer_id = $2 ORDER BY is_primary DESC, family_name, id")
        .bind(org_id).bind(customer_id).fetch_all(c).await?))
}

/// The other contacts of the customer that are marked primary (to unmark).
pub async fn clear_other_primary(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid, keep: Uuid) -> Result<Vec<ContactRow>> {
    Ok(run!(h, c => sqlx::query_as(
        "UPDATE contact SET is_primary = FALSE WHERE org_id = $1 AND customer_id = $2 AND id <> $3 AND is_primary RETURNING *")
        .bind(org_id).bind(customer_id).bind(keep).fetch_all(c).await?))
}

/// The contacts of these customers (a page of search results), in one statement.
pub async fn contacts_of_customers(h: &mut Handle<'_>, org_id: Uuid, customer_ids: &[Uuid]) -> Result<Vec<ContactRow>> {
    if customer_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(run!(h, c => {
        let mut q = QueryBuilder::new("SELECT * FROM contact WHERE org_id = ");
        q.push_bind(org_id).push(" AND customer_id IN ");
        crate::in_list::push_ids(&mut q, customer_ids);
        q.push(" ORDER BY customer_id, is_primary DESC, family_name, id");
        q.build_query_as().fetch_all(c).await?
    }))
}
