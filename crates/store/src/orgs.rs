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
    /// `iso`, `day_month_year`, …
    pub date_format: String,
    /// `comma_dot`, `dot_comma`, …
    pub number_format: String,
    /// Named rates with a default, as JSON.
    pub tax_rates: String,
    /// Prefixes the org chose for its series, as JSON (series key to prefix).
    pub code_prefixes: String,
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
    pub org_date_format: String,
    pub org_number_format: String,
    pub org_tax_rates: String,
    pub org_code_prefixes: String,
}

/// The select list of [`PrefixedOrg`], for a statement that joins `org o`.
pub const ORG_COLUMNS: &str = "o.name AS org_name, o.region AS org_region, o.currency AS org_currency, o.timezone AS org_timezone, \
     o.created_at AS org_created_at, o.payment_terms AS org_payment_terms, o.address AS org_address, \
     o.date_format AS org_date_format, o.number_format AS org_number_format, o.tax_rates AS org_tax_rates, \
     o.code_prefixes AS org_code_prefixes";

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
            date_format: self.org_date_format,
            number_format: self.org_number_format,
            tax_rates: self.org_tax_rates,
            code_prefixes: self.org_code_prefixes,
        }
    }
}

/// Insert an org and the head of its activity hash chain.
pub async fn insert_org(h: &mut Handle<'_>, org: &OrgRow) -> Result<()> {
    run!(h, c => {
        sqlx::query("INSERT INTO org (id, name, region, currency, timezone, created_at, payment_terms, address, date_format, number_format, tax_rates, code_prefixes) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
            .bind(org.id).bind(&org.name).bind(&org.region).bind(&org.currency).bind(&org.timezone).bind(org.created_at)
            .bind(&org.payment_terms).bind(&org.address).bind(&org.date_format).bind(&org.number_format).bind(&org.tax_rates).bind(&org.code_prefixes)
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

/// Hold the org's row until the transaction ends, so that changes to its
/// settings made at once are made one after the other: each reads what
/// the one before wrote (two series never end up with one prefix, and no
/// change is lost). SQLite's single writer does this already.
pub async fn lock_org(h: &mut Handle<'_>, id: Uuid) -> Result<()> {
    run!(h, c => sqlx::query("UPDATE org SET name = name WHERE id = $1").bind(id).execute(c).await.map(drop)?);
    Ok(())
}

/// Write an org's settings (every column but its id and creation time).
pub async fn update_org(h: &mut Handle<'_>, org: &OrgRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "UPDATE org SET name = $2, region = $3, currency = $4, timezone = $5, payment_terms = $6, address = $7, date_format = $8, \
         number_format = $9, tax_rates = $10, code_prefixes = $11 WHERE id = $1")
        .bind(org.id).bind(&org.name).bind(&org.region).bind(&org.currency).bind(&org.timezone).bind(&org.payment_terms)
        .bind(&org.address).bind(&org.date_format).bind(&org.number_format).bind(&org.tax_rates).bind(&org.code_prefixes)
        .execute(c).await.map(drop)?);
    Ok(())
}

/// Whether the org holds any amount of money (a quote, an invoice, a
/// payment, a credit note, an inquiry's estimate or a job's value): its
/// currency is then fixed, since amounts are stored in its minor units.
pub async fn holds_money(h: &mut Handle<'_>, org_id: Uuid) -> Result<bool> {
    Ok(run!(h, c => sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM invoice WHERE org_id = $1) OR EXISTS (SELECT 1 FROM quote WHERE org_id = $1) \
         OR EXISTS (SELECT 1 FROM payment WHERE org_id = $1) OR EXISTS (SELECT 1 FROM credit_note WHERE org_id = $1) \
         OR EXISTS (SELECT 1 FROM inquiry WHERE org_id = $1 AND estimated_value <> 0) OR EXISTS (SELECT 1 FROM job WHERE org_id = $1 AND value <> 0)")
        .bind(org_id).fetch_one(c).await?))
}

/// An org's logo: its content type and bytes.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LogoRow {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

pub async fn get_logo(h: &mut Handle<'_>, org_id: Uuid) -> Result<Option<LogoRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT content_type, bytes FROM org_logo WHERE org_id = $1").bind(org_id).fetch_optional(c).await?))
}

/// Set the org's logo (`None`: remove it).
pub async fn set_logo(h: &mut Handle<'_>, org_id: Uuid, logo: Option<&LogoRow>, now: i64) -> Result<()> {
    run!(h, c => match logo {
        Some(logo) => sqlx::query(
            "INSERT INTO org_logo (org_id, content_type, bytes, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id) DO UPDATE SET content_type = excluded.content_type, bytes = excluded.bytes, updated_at = excluded.updated_at")
            .bind(org_id).bind(&logo.content_type).bind(&logo.bytes).bind(now).execute(c).await.map(drop)?,
        None => sqlx::query("DELETE FROM org_logo WHERE org_id = $1").bind(org_id).execute(c).await.map(drop)?,
    });
    Ok(())
}

pub async fn has_logo(h: &mut Handle<'_>, org_id: Uuid) -> Result<bool> {
    Ok(run!(h, c => sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM org_logo WHERE org_id = $1)").bind(org_id).fetch_one(c).await?))
}
