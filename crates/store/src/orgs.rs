use uuid::Uuid;

use crate::{Handle, Result, run};

/// An org (tenant) as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OrgRow {
    pub id: Uuid,
    pub name: String,
    /// ISO country code: phone numbers without a country code and sites without a country.
    pub region: String,
    pub currency: String,
    pub timezone: String,
    pub created_at: i64,
    /// Default payment terms, as JSON.
    pub payment_terms: String,
    /// Postal address for documents, one line per line.
    pub address: String,
}

/// An org's columns read beside a credential and its user, under `org_`
/// names (sqlx's flatten cannot add a prefix): see [`ORG_COLUMNS`].
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PrefixedOrg {
    pub org_name: String,
    pub org_region: String,
    pub org_currency: String,
    pub org_timezone: String,
    pub org_created_at: i64,
    pub org_payment_terms: String,
    pub org_address: String,
}

/// The select list of [`PrefixedOrg`], for a statement that joins `org o`.
pub const ORG_COLUMNS: &str = "o.name AS org_name, o.region AS org_region, o.currency AS org_currency, o.timezone AS org_timezone, \
     o.created_at AS org_created_at, o.payment_terms AS org_payment_terms, o.address AS org_address";

impl PrefixedOrg {
    /// The org row, given its id.
    pub fn into_row(self, id: Uuid) -> OrgRow {
        OrgRow {
            id,
            name: self.org_name,
            region: self.org_region,
            currency: self.org_currency,
            timezone: self.org_timezone,
            created_at: self.org_created_at,
            payment_terms: self.org_payment_terms,
            address: self.org_address,
        }
    }
}

/// Insert an org and the head of its activity hash chain.
pub async fn insert_org(h: &mut Handle<'_>, org: &OrgRow) -> Result<()> {
    run!(h, c => {
        sqlx::query("INSERT INTO org (id, name, region, currency, timezone, created_at, payment_terms, address) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(org.id).bind(&org.name).bind(&org.region).bind(&org.currency).bind(&org.timezone).bind(org.created_at)
            .bind(&org.payment_terms).bind(&org.address)
            .execute(&mut *c).await?;
        sqlx::query("INSERT INTO activity_chain (org_id, seq, head) VALUES ($1, 0, $2)")
            .bind(org.id).bind(dossier_domain::activity::GENESIS_HASH.to_vec())
            .execute(c).await?;
    });
    Ok(())
}

pub async fn get_org(h: &mut Handle<'_>, id: Uuid) -> Result<Option<OrgRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM org WHERE id = $1").bind(id).fetch_optional(c).await?))
}

pub async fn list_orgs(h: &mut Handle<'_>) -> Result<Vec<OrgRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM org ORDER BY created_at, id").fetch_all(c).await?))
}
