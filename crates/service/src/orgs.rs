//! Orgs: the businesses using Dossier.

use std::collections::BTreeMap;

use dossier_domain::ValidationErrors;
use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
use dossier_domain::code::CodeKind;
use dossier_domain::contact_point::Region;
use dossier_domain::currency::NumberFormat;
use dossier_domain::diff::FieldChange;
use dossier_domain::ids::OrgId;
use dossier_domain::money::LineInput;
use dossier_domain::orgs::{DateFormat, OrgSettings, OrgSettingsInput, default_tax_rate};
use dossier_domain::permissions::{Action, Module};
use dossier_domain::terms::PaymentTerms;
use dossier_store::queries as q;
use dossier_store::{Db, Handle, LogoRow, OrgRow, StoreError, Tx};
use serde_json::json;
use uuid::Uuid;

use crate::record::activity;
use crate::{Ctx, Org, Result, ServiceError};

pub(crate) fn org_of(row: &OrgRow) -> Result<Org> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("org {what}"));
    let region = Region::parse(&row.region).ok_or_else(|| corrupt(&format!("region '{}'", row.region)))?;
    let payment_terms = serde_json::from_str(&row.payment_terms).map_err(|e| corrupt(&format!("payment terms: {e}")))?;
    let tax_rates = serde_json::from_str(&row.tax_rates).map_err(|e| corrupt(&format!("tax rates: {e}")))?;
    let prefixes: BTreeMap<String, String> = serde_json::from_str(&row.code_prefixes).map_err(|e| corrupt(&format!("code prefixes: {e}")))?;
    let code_prefixes = prefixes
        .into_iter()
        .map(|(key, prefix)| CodeKind::of_counter(&key).map(|kind| (kind, prefix)).ok_or_else(|| corrupt(&format!("code prefix series '{key}'"))))
        .collect::<std::result::Result<_, _>>()?;
    Ok(Org {
        id: OrgId(row.id),
        name: row.name.clone(),
        region,
        currency: row.currency.clone(),
        timezone: row.timezone.clone(),
        payment_terms,
        address: row.address.lines().map(str::to_owned).collect(),
        date_format: DateFormat::parse(&row.date_format).ok_or_else(|| corrupt(&format!("date format '{}'", row.date_format)))?,
        number_format: NumberFormat::parse(&row.number_format).ok_or_else(|| corrupt(&format!("number format '{}'", row.number_format)))?,
        tax_rates,
        code_prefixes,
    })
}

/// The org's chosen prefixes as stored: series key to prefix.
fn prefixes_json(chosen: &BTreeMap<CodeKind, String>) -> String {
    let by_key: BTreeMap<&str, &str> = chosen.iter().map(|(kind, prefix)| (kind.counter(), prefix.as_str())).collect();
    serde_json::to_string(&by_key).unwrap_or_default()
}

pub(crate) async fn load(h: &mut Handle<'_>, id: Uuid) -> Result<Org> {
    org_of(&q::get_org(h, id).await?.ok_or(ServiceError::NotFound("org"))?)
}

/// A new org: who it is and how it counts money and time.
#[derive(Clone, Debug)]
pub struct NewOrg<'a> {
    pub name: &'a str,
    /// ISO 3166 alpha-2: phone numbers without a country code.
    pub region: &'a str,
    /// ISO 4217.
    pub currency: &'a str,
    /// IANA time zone.
    pub timezone: &'a str,
    /// Postal address lines, for documents; may be empty.
    pub address: &'a [&'a str],
}

impl<'a> NewOrg<'a> {
    /// A British org, as the command line and the demo make one by default.
    pub fn british(name: &'a str, address: &'a [&'a str]) -> Self {
        NewOrg { name, region: "GB", currency: "GBP", timezone: "Europe/London", address }
    }
}

/// Create an org; the org's hash chain starts with its `org.created` row.
/// A US org writes dates month first; any other starts with ISO dates.
pub async fn create_org_in(tx: &mut Tx, new: &NewOrg<'_>, actor_name: &str, now: jiff::Timestamp) -> Result<Org> {
    let lines: Vec<String> = new.address.iter().map(|l| (*l).to_owned()).collect();
    let change = OrgSettingsInput {
        name: Some(new.name.to_owned()),
        address: Some(lines),
        region: Some(new.region.to_owned()),
        currency: Some(new.currency.to_owned()),
        timezone: Some(new.timezone.to_owned()),
        ..Default::default()
    }
    .check()?;
    let (Some(name), Some(address), Some(region), Some(currency), Some(timezone)) =
        (change.name, change.address, change.region, change.currency, change.timezone)
    else {
        return Err(ValidationErrors::one("name", "required", "is required").into());
    };
    // US businesses write the month first; elsewhere the unambiguous ISO
    // form until the org chooses (settings).
    let date_format = if region.code() == "US" { DateFormat::MonthDayYear } else { DateFormat::Iso };
    let number_format = NumberFormat::CommaDot;
    let row = OrgRow {
        id: OrgId::new().0,
        name,
        region: region.code(),
        currency: currency.code().to_owned(),
        timezone,
        created_at: now.as_microsecond(),
        payment_terms: serde_json::to_string(&PaymentTerms::DEFAULT).unwrap_or_default(),
        address: address.join("\n"),
        date_format: date_format.as_str().to_owned(),
        number_format: number_format.as_str().to_owned(),
        tax_rates: "[]".into(),
        code_prefixes: "{}".into(),
    };
    q::insert_org(&mut tx.handle(), &row).await?;
    let org = org_of(&row)?;
    let ctx = Ctx::system(org.clone(), actor_name).at(now);
    let mut changes = vec![
        FieldChange { field: "name".into(), old: json!(null), new: json!(row.name) },
        FieldChange { field: "region".into(), old: json!(null), new: json!(row.region) },
        FieldChange { field: "currency".into(), old: json!(null), new: json!(row.currency) },
        FieldChange { field: "timezone".into(), old: json!(null), new: json!(row.timezone) },
    ];
    if !address.is_empty() {
        changes.push(FieldChange { field: "address".into(), old: json!(null), new: json!(address) });
    }
    let summary = format!("Organisation {} created", row.name);
    tx.append(activity(&ctx, ActivityKind::OrgCreated, None, EntityRef::new(EntityType::Org, row.id), None, summary, changes)).await?;
    crate::tasks::schedule_new_org_in(tx, &ctx).await?;
    Ok(org)
}

/// Create an org on its own (`dossier org create`).
pub async fn create_org(db: &Db, new: &NewOrg<'_>) -> Result<Org> {
    let mut tx = db.begin().await?;
    let org = create_org_in(&mut tx, new, "Command line", jiff::Timestamp::now()).await?;
    tx.commit().await?;
    Ok(org)
}

/// Every org of the installation, oldest first.
pub async fn list(db: &Db) -> Result<Vec<Org>> {
    q::list_orgs(&mut db.read().await?.handle()).await?.iter().map(org_of).collect()
}

/// The org's settings, with where each number series stands.
pub async fn settings(db: &Db, ctx: &Ctx) -> Result<OrgSettings> {
    ctx.require(Module::Settings, Action::View)?;
    let mut reader = db.read().await?;
    settings_in(&mut reader.handle(), ctx.org.id).await
}

async fn settings_in(h: &mut Handle<'_>, org_id: OrgId) -> Result<OrgSettings> {
    let org = load(h, org_id.0).await?;
    let last = q::last_numbers(h, org_id.0).await?;
    let next_numbers = CodeKind::ALL
        .into_iter()
        .map(|kind| {
            let issued = last.iter().find(|(k, _)| k == kind.counter()).map_or(0, |(_, n)| *n);
            (kind.counter().to_owned(), issued + 1)
        })
        .collect();
    let code_prefixes = CodeKind::ALL.into_iter().map(|kind| (kind.counter().to_owned(), org.prefix(kind).to_owned())).collect();
    Ok(OrgSettings {
        currency_minor_units: org.money_style().currency.exponent(),
        currency_locked: q::holds_money(h, org_id.0).await?,
        has_logo: q::has_logo(h, org_id.0).await?,
        name: org.name,
        address: org.address,
        region: org.region.code(),
        currency: org.currency,
        timezone: org.timezone,
        date_format: org.date_format,
        number_format: org.number_format,
        payment_terms: org.payment_terms,
        tax_rates: org.tax_rates,
        next_numbers,
        code_prefixes,
    })
}

/// Change the org's settings: one activity names every field that changed.
/// The currency is fixed once the org holds money; a series' next number is
/// never set at or below a number already issued.
pub async fn update_settings(db: &Db, ctx: &Ctx, input: OrgSettingsInput) -> Result<OrgSettings> {
    ctx.require(Module::Settings, Action::Edit)?;
    let change = input.check()?;
    let mut tx = db.begin().await?;
    q::lock_org(&mut tx.handle(), ctx.org.id.0).await?;
    let before = settings_in(&mut tx.handle(), ctx.org.id).await?;
    let mut row = q::get_org(&mut tx.handle(), ctx.org.id.0).await?.ok_or(ServiceError::NotFound("org"))?;
    if let Some(currency) = change.currency.filter(|c| c.code() != row.currency) {
        if before.currency_locked {
            return Err(ServiceError::conflict(
                "currency_locked",
                format!("the currency stays {}: this organisation already holds amounts in it", row.currency),
            ));
        }
        row.currency = currency.code().to_owned();
    }
    if let Some(name) = change.name {
        row.name = name;
    }
    if let Some(address) = change.address {
        row.address = address.join("\n");
    }
    if let Some(region) = change.region {
        row.region = region.code();
    }
    if let Some(zone) = change.timezone {
        row.timezone = zone;
    }
    if let Some(format) = change.date_format {
        row.date_format = format.as_str().to_owned();
    }
    if let Some(format) = change.number_format {
        row.number_format = format.as_str().to_owned();
    }
    if let Some(terms) = change.payment_terms {
        row.payment_terms = serde_json::to_string(&terms).unwrap_or_default();
    }
    if let Some(rates) = change.tax_rates {
        row.tax_rates = serde_json::to_string(&rates).unwrap_or_default();
    }
    if !change.code_prefixes.is_empty() {
        let current = org_of(&row)?.code_prefixes;
        row.code_prefixes = prefixes_json(&dossier_domain::orgs::merge_prefixes(&current, &change.code_prefixes)?);
    }
    let mut errors = ValidationErrors::default();
    for (kind, next) in change.next_numbers {
        if !q::set_next_number(&mut tx.handle(), ctx.org.id.0, kind.counter(), next).await? {
            let issued = before.next_numbers.get(kind.counter()).map_or(0, |n| n - 1);
            errors.push(format!("next_numbers.{}", kind.counter()), "below_issued", format!("must be above {issued}, the last number issued"));
        }
    }
    errors.into_result(|| ())?;
    q::update_org(&mut tx.handle(), &row).await?;
    let after = settings_in(&mut tx.handle(), ctx.org.id).await?;
    let changes = dossier_domain::diff::diff(&before, &after);
    if changes.is_empty() {
        return Ok(before);
    }
    let fields: Vec<&str> =
        changes.iter().map(|c| c.field.split(['.', '[']).next().unwrap_or("")).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let summary = format!("Settings changed by {}: {}", ctx.actor.name, fields.join(", ").replace('_', " "));
    tx.append(activity(ctx, ActivityKind::OrgSettingsChanged, None, EntityRef::new(EntityType::Org, ctx.org.id.0), None, summary, changes)).await?;
    tx.commit().await?;
    Ok(after)
}

/// Lines that name no tax rate get the org's default rate (0 without one).
pub(crate) fn default_tax<'a>(ctx: &Ctx, lines: impl Iterator<Item = &'a mut LineInput>) {
    let rate = i64::from(default_tax_rate(&ctx.org.tax_rates).0);
    for line in lines {
        line.tax_rate_bp.get_or_insert(rate);
    }
}

/// The largest logo accepted: 512 KiB.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;

/// Set the org's logo (PNG or JPEG, told apart by their first bytes, at
/// most [`MAX_LOGO_BYTES`]), or remove it with `None`. Documents and the
/// portal show it.
pub async fn set_logo(db: &Db, ctx: &Ctx, image: Option<Vec<u8>>) -> Result<OrgSettings> {
    ctx.require(Module::Settings, Action::Edit)?;
    let logo = match image {
        None => None,
        Some(bytes) if bytes.len() > MAX_LOGO_BYTES => {
            return Err(ValidationErrors::one("logo", "too_large", format!("must be at most {} KiB", MAX_LOGO_BYTES / 1024)).into());
        }
        Some(bytes) => {
            let unsupported = || ValidationErrors::one("logo", "unsupported_image", "must be a PNG or JPEG image that opens");
            let content_type = image_type(&bytes).ok_or_else(unsupported)?;
            let picture = dossier_pdf::Image::new(content_type, bytes.clone()).ok_or_else(unsupported)?;
            if !dossier_pdf::can_draw(&picture) {
                return Err(unsupported().into());
            }
            Some(LogoRow { content_type: content_type.to_owned(), bytes })
        }
    };
    let mut tx = db.begin().await?;
    let before = q::get_logo(&mut tx.handle(), ctx.org.id.0).await?;
    let describe = |logo: &Option<LogoRow>| logo.as_ref().map(|l| json!({"content_type": l.content_type, "bytes": l.bytes.len()})).unwrap_or(json!(null));
    let change = FieldChange { field: "logo".into(), old: describe(&before), new: describe(&logo) };
    q::set_logo(&mut tx.handle(), ctx.org.id.0, logo.as_ref(), ctx.now().as_microsecond()).await?;
    let summary = match logo {
        Some(_) => format!("Logo set by {}", ctx.actor.name),
        None => format!("Logo removed by {}", ctx.actor.name),
    };
    tx.append(activity(ctx, ActivityKind::OrgSettingsChanged, None, EntityRef::new(EntityType::Org, ctx.org.id.0), None, summary, vec![change])).await?;
    let after = settings_in(&mut tx.handle(), ctx.org.id).await?;
    tx.commit().await?;
    Ok(after)
}

/// Whether the org has a logo.
pub async fn has_logo(db: &Db, org_id: OrgId) -> Result<bool> {
    Ok(q::has_logo(&mut db.read().await?.handle(), org_id.0).await?)
}

/// The org's logo, for its documents, its portal and its staff.
pub async fn logo(db: &Db, org_id: OrgId) -> Result<Option<LogoRow>> {
    Ok(q::get_logo(&mut db.read().await?.handle(), org_id.0).await?)
}

fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// The install's org for operator commands: the only one, or a new one
/// named `name` when there is none.
pub async fn single_or_create(db: &Db, name: &str, region: &str) -> Result<Org> {
    match single(db).await {
        Err(ServiceError::Conflict { code: "no_org", .. }) => {
            let mut tx = db.begin().await?;
            let new = NewOrg { region, ..NewOrg::british(name, &[]) };
            let org = create_org_in(&mut tx, &new, "Command line", jiff::Timestamp::now()).await?;
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
