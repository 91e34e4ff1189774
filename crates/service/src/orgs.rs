//! Orgs: the businesses using Dossier.

use dossier_domain::ValidationErrors;
use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
use dossier_domain::contact_point::Region;
use dossier_domain::diff::FieldChange;
use dossier_domain::ids::OrgId;
use dossier_domain::terms::PaymentTerms;
use dossier_domain::text;
use dossier_store::queries as q;
use dossier_store::{Db, Handle, OrgRow, StoreError, Tx};
use serde_json::json;
use uuid::Uuid;

use crate::record::activity;
use crate::{Ctx, Org, Result, ServiceError};

pub(crate) fn org_of(row: &OrgRow) -> Result<Org> {
    let region = Region::parse(&row.region).ok_or_else(|| StoreError::Corrupt(format!("org region '{}'", row.region)))?;
    let payment_terms = serde_json::from_str(&row.payment_terms).map_err(|e| StoreError::Corrupt(format!("org payment terms: {e}")))?;
    Ok(Org {
        id: OrgId(row.id),
        name: row.name.clone(),
        region,
        currency: row.currency.clone(),
        timezone: row.timezone.clone(),
        payment_terms,
        address: row.address.lines().map(str::to_owned).collect(),
    })
}

pub(crate) async fn load(h: &mut Handle<'_>, id: Uuid) -> Result<Org> {
    org_of(&q::get_org(h, id).await?.ok_or(ServiceError::NotFound("org"))?)
}

/// Create an org with its postal address (lines, for documents; may be
/// empty); the org's hash chain starts with its `org.created` row.
pub async fn create_org_in(tx: &mut Tx, name: &str, region: &str, address: &[&str], actor_name: &str, now: jiff::Timestamp) -> Result<Org> {
    let name = text::required("name", Some(name.to_owned()), 200)?;
    if address.len() > 6 {
        return Err(ValidationErrors::one("address", "too_many", "at most 6 lines").into());
    }
    let mut errors = ValidationErrors::default();
    let address: Vec<String> = address
        .iter()
        .enumerate()
        .filter_map(|(i, line)| errors.take(text::optional(&format!("address[{i}]"), Some((*line).to_owned()), 200)).flatten())
        .collect();
    errors.into_result(|| ())?;
    let region_code = Region::parse(region)
        .filter(|_| region.trim().len() == 2)
        .ok_or_else(|| ValidationErrors::one("region", "invalid_country", "must be a two-letter ISO 3166 country code, e.g. GB"))?;
    let row = OrgRow {
        id: OrgId::new().0,
        name,
        region: region_code.code(),
        currency: "GBP".into(),
        timezone: "Europe/London".into(),
        created_at: now.as_microsecond(),
        payment_terms: serde_json::to_string(&PaymentTerms::DEFAULT).unwrap_or_default(),
        address: address.join("\n"),
    };
    q::insert_org(&mut tx.handle(), &row).await?;
    let org = org_of(&row)?;
    let ctx = Ctx::system(org.clone(), actor_name).at(now);
    let mut changes = vec![
        FieldChange { field: "name".into(), old: json!(null), new: json!(row.name) },
        FieldChange { field: "region".into(), old: json!(null), new: json!(row.region) },
    ];
    if !address.is_empty() {
        changes.push(FieldChange { field: "address".into(), old: json!(null), new: json!(address) });
    }
    let summary = format!("Organisation {} created", row.name);
    tx.append(activity(&ctx, ActivityKind::OrgCreated, None, EntityRef::new(EntityType::Org, row.id), None, summary, changes)).await?;
    Ok(org)
}

/// The install's org for operator commands: the only one, or a new one
/// named `name` when there is none.
pub async fn single_or_create(db: &Db, name: &str, region: &str) -> Result<Org> {
    match single(db).await {
        Err(ServiceError::Conflict { code: "no_org", .. }) => {
            let mut tx = db.begin().await?;
            let org = create_org_in(&mut tx, name, region, &[], "Command line", jiff::Timestamp::now()).await?;
            tx.commit().await?;
            Ok(org)
        }
        other => other,
    }
}

/// The install's only org, for operator commands that must not create one.
pub async fn single(db: &Db) -> Result<Org> {
    let orgs = q::list_orgs(&mut db.read().await?.handle()).await?;
    match orgs.as_slice() {
        [] => Err(ServiceError::conflict("no_org", "this database has no org yet: add a user first (`dossier user add`) or load the demo")),
        [only] => org_of(only),
        _ => Err(ServiceError::conflict("several_orgs", "this database holds several orgs; name one with --org")),
    }
}

/// Orgs by id or exact name.
pub async fn find(db: &Db, reference: &str) -> Result<Org> {
    let orgs = q::list_orgs(&mut db.read().await?.handle()).await?;
    let row = orgs.iter().find(|o| o.id.to_string() == reference || o.name == reference).ok_or(ServiceError::NotFound("org"))?;
    org_of(row)
}
