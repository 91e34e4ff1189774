use dossier_domain::ids::{CustomerId, SiteId};
use dossier_domain::site::{Site, SiteKind, SiteProfile};
use jiff::Timestamp;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::customers::timestamp;
use crate::{Handle, Result, StoreError, run};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SiteRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub customer_id: Uuid,
    pub kind: String,
    pub name: Option<String>,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub town: Option<String>,
    pub region: Option<String>,
    pub postcode: String,
    pub country: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub access_notes: Option<String>,
    pub active: bool,
    /// Dormant with its customer (set only by the customer's status).
    pub dormant: bool,
    /// Custom field values as JSON text.
    pub custom_fields: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl SiteRow {
    pub fn new(org_id: Uuid, id: SiteId, customer_id: CustomerId, p: &SiteProfile, created_at: Timestamp, updated_at: Timestamp) -> Self {
        Self {
            org_id,
            id: id.0,
            customer_id: customer_id.0,
            kind: p.kind.as_str().to_owned(),
            name: p.name.clone(),
            address_line1: p.address_line1.clone(),
            address_line2: p.address_line2.clone(),
            town: p.town.clone(),
            region: p.region.clone(),
            postcode: p.postcode.clone(),
            country: p.country.clone(),
            latitude: p.latitude,
            longitude: p.longitude,
            access_notes: p.access_notes.clone(),
            active: p.active,
            dormant: false,
            custom_fields: serde_json::to_string(&p.custom_fields).unwrap_or_default(),
            created_at: created_at.as_microsecond(),
            updated_at: updated_at.as_microsecond(),
        }
    }

    /// This site with another profile, updated at `updated_at`.
    pub fn with_profile(&self, profile: &SiteProfile, updated_at: Timestamp) -> Self {
        Self {
            created_at: self.created_at,
            dormant: self.dormant,
            ..Self::new(self.org_id, SiteId(self.id), CustomerId(self.customer_id), profile, updated_at, updated_at)
        }
    }

    pub fn profile(&self) -> Result<SiteProfile> {
        Ok(SiteProfile {
            kind: SiteKind::parse(&self.kind).ok_or_else(|| StoreError::corrupt(format!("site kind '{}'", self.kind)))?,
            name: self.name.clone(),
            address_line1: self.address_line1.clone(),
            address_line2: self.address_line2.clone(),
            town: self.town.clone(),
            region: self.region.clone(),
            postcode: self.postcode.clone(),
            country: self.country.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            access_notes: self.access_notes.clone(),
            active: self.active,
            custom_fields: serde_json::from_str(&self.custom_fields).map_err(StoreError::corrupt)?,
        })
    }

    pub fn into_site(self) -> Result<Site> {
        Ok(Site {
            id: SiteId(self.id),
            customer_id: CustomerId(self.customer_id),
            profile: self.profile()?,
            dormant: self.dormant,
            created_at: timestamp(self.created_at)?,
            updated_at: timestamp(self.updated_at)?,
        })
    }
}

pub async fn insert_sites(h: &mut Handle<'_>, rows: &[SiteRow]) -> Result<()> {
    for chunk in crate::chunks::power_of_two(rows, 32) {
        run!(h, c => {
            let mut q = QueryBuilder::new(
                "INSERT INTO site (org_id, id, customer_id, kind, name, address_line1, address_line2, town, region, postcode, country, latitude, \
                 longitude, access_notes, active, dormant, custom_fields, created_at, updated_at) ");
            q.push_values(chunk, |mut b, row| {
                b.push_bind(row.org_id).push_bind(row.id).push_bind(row.customer_id).push_bind(&row.kind).push_bind(&row.name)
                    .push_bind(&row.address_line1).push_bind(&row.address_line2).push_bind(&row.town).push_bind(&row.region)
                    .push_bind(&row.postcode).push_bind(&row.country).push_bind(row.latitude).push_bind(row.longitude)
                    .push_bind(&row.access_notes).push_bind(row.active).push_bind(row.dormant).push_bind(&row.custom_fields).push_bind(row.created_at).push_bind(row.updated_at);
            });
            q.build().execute(c).await.map(drop)?
        });
    }
    Ok(())
}

pub async fn update_site(h: &mut Handle<'_>, row: &SiteRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "UPDATE site SET kind = $3, name = $4, address_line1 = $5, address_line2 = $6, town = $7, region = $8, postcode = $9, country = $10, \
         latitude = $11, longitude = $12, access_notes = $13, active = $14, updated_at = $15, custom_fields = $16 WHERE org_id = $1 AND id = $2")
        .bind(row.org_id).bind(row.id).bind(&row.kind).bind(&row.name).bind(&row.address_line1).bind(&row.address_line2)
        .bind(&row.town).bind(&row.region).bind(&row.postcode).bind(&row.country).bind(row.latitude).bind(row.longitude)
        .bind(&row.access_notes).bind(row.active).bind(row.updated_at).bind(&row.custom_fields)
        .execute(c).await.map(drop)?);
    Ok(())
}

/// Make every site of a customer dormant or wake it, with the customer;
/// returns the sites that changed.
pub async fn set_sites_dormant(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid, dormant: bool, at: i64) -> Result<Vec<SiteRow>> {
    Ok(run!(h, c => sqlx::query_as(
        "UPDATE site SET dormant = $3, updated_at = $4 WHERE org_id = $1 AND customer_id = $2 AND dormant <> $3 RETURNING *")
        .bind(org_id).bind(customer_id).bind(dormant).bind(at).fetch_all(c).await?))
}

pub async fn delete_site(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<()> {
    run!(h, c => sqlx::query("DELETE FROM site WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).execute(c).await.map(drop)?);
    Ok(())
}

pub async fn get_site(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<Option<SiteRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM site WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).fetch_optional(c).await?))
}

pub async fn list_sites(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid) -> Result<Vec<SiteRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM site WHERE org_id = $1 AND customer_id = $2 ORDER BY kind, address_line1, id")
        .bind(org_id).bind(customer_id).fetch_all(c).await?))
}

/// The sites of these customers (a page of search results), in one statement.
pub async fn sites_of_customers(h: &mut Handle<'_>, org_id: Uuid, customer_ids: &[Uuid]) -> Result<Vec<SiteRow>> {
    if customer_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(run!(h, c => {
        let mut q = QueryBuilder::new("SELECT * FROM site WHERE org_id = ");
        q.push_bind(org_id).push(" AND customer_id IN ");
        crate::in_list::push_ids(&mut q, customer_ids);
        q.push(" ORDER BY customer_id, kind, address_line1, id");
        q.build_query_as().fetch_all(c).await?
    }))
}
