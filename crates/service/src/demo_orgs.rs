//! The demo's org settings (address, logo, terms, tax rates, UK dates) and a
//! second, small org in another currency and time zone, so that a newcomer
//! sees both: "Sunrise Pool Care", US dollars, Los Angeles time, sales tax,
//! month-first dates, invoices coded `SPC-…`, with a few customers, a
//! scheduled job and invoices.

use dossier_domain::money::TaxRate;
use dossier_domain::orgs::{DateFormat, OrgSettingsInput, TaxRateSetting};
use dossier_domain::terms::PaymentTerms;
use serde_json::json;

use crate::users::{NewUser, add_user_in};
use crate::{Ctx, Db, Org, Result, ServiceError, billing, customers, orgs, sites, works};

pub const SECOND_ORG: &str = "Sunrise Pool Care";
pub const SECOND_OWNER_EMAIL: &str = "owner@sunrise.example";

/// Fill in the demo org's settings and logo; the org as it now is.
pub(crate) async fn settle_demo_org(db: &Db, system: &Ctx) -> Result<Org> {
    let rate = |name: &str, bp: u16, default: bool| TaxRateSetting { name: name.into(), rate_bp: TaxRate(bp), default };
    let settings = OrgSettingsInput {
        date_format: Some(DateFormat::DayMonthYear),
        payment_terms: Some(PaymentTerms::Net { days: 30 }),
        tax_rates: Some(vec![rate("Standard VAT", 2000, true), rate("Reduced VAT", 500, false), rate("Zero rated", 0, false)]),
        ..Default::default()
    };
    orgs::update_settings(db, system, settings).await?;
    orgs::set_logo(db, system, Some(logo(&[0x0f, 0x76, 0x6e], &[0x99, 0xf6, 0xe4]))).await?;
    crate::demo_fields::define_demo_fields(db, system).await?;
    orgs::find(db, &system.org.id.to_string()).await
}

/// The second org with its owner (the demo password) and a little history.
pub(crate) async fn second_org(db: &Db, password: &str) -> Result<Org> {
    let new = orgs::NewOrg {
        name: SECOND_ORG,
        region: "US",
        currency: "USD",
        timezone: "America/Los_Angeles",
        address: &["1420 Ocean Ave", "Santa Monica, CA 90401"],
    };
    let mut tx = db.begin().await?;
    let org = orgs::create_org_in(&mut tx, &new, "Demo loader", jiff::Timestamp::now()).await?;
    let system = Ctx::system(org.clone(), "Demo loader");
    let owner = NewUser { email: SECOND_OWNER_EMAIL.into(), name: "Jordan Lee".into(), role: "owner".into(), password: password.into() };
    add_user_in(&mut tx, &system, owner).await?;
    tx.commit().await?;
    let settings = OrgSettingsInput {
        payment_terms: Some(PaymentTerms::Net { days: 15 }),
        tax_rates: Some(vec![TaxRateSetting { name: "Sales tax".into(), rate_bp: TaxRate(950), default: true }]),
        code_prefixes: Some([("invoice".to_owned(), "SPC".to_owned())].into()),
        ..Default::default()
    };
    orgs::update_settings(db, &system, settings).await?;
    orgs::set_logo(db, &system, Some(logo(&[0xea, 0x58, 0x0c], &[0xfd, 0xe6, 0x8a]))).await?;
    // New invoices take the default tax rate and the prefix just set.
    let system = Ctx::system(orgs::find(db, &org.id.to_string()).await?, "Demo loader");

    let people = [
        ("Maria", "Gonzalez", "(310) 555-0142", "812 Pine St"),
        ("David", "Kim", "(310) 555-0178", "77 Harbor Blvd"),
        ("Emily", "Chen", "(424) 555-0119", "2301 Sunset Ave"),
    ];
    for (given, family, phone, street) in people {
        let email = format!("{}@example.com", given.to_lowercase());
        let input = json!({"given_name": given, "family_name": family, "phone": phone, "email": email});
        let customer = customers::create_customer(db, &system, parse(input)?).await?;
        let site = json!({"kind": "billing", "address_line1": street, "town": "Santa Monica", "region": "CA", "postcode": "90401"});
        sites::add_site(db, &system, &customer.code, parse(site)?).await?;
    }
    let tomorrow_ten = system.today().tomorrow().ok().and_then(|d| d.at(10, 0, 0, 0).to_zoned(system.org.zone()).ok()).map(|z| z.timestamp());
    if let Some(start) = tomorrow_ten {
        let end = start + jiff::SignedDuration::from_hours(2);
        works::create_job(
            db,
            &system,
            parse(json!({"customer": "CUS-00001", "title": "Weekly pool cleaning", "scheduled_start": start, "scheduled_end": end}))?,
        )
        .await?;
    }
    let line = |what: &str, cents: i64| json!({"description": what, "unit_price": cents});
    billing::create_invoice(
        db,
        &system,
        parse(json!({"customer": "CUS-00001", "issue": true, "lines": [line("Monthly pool service", 18900), line("Chlorine tablets", 4599)]}))?,
    )
    .await?;
    billing::create_invoice(db, &system, parse(json!({"customer": "CUS-00002", "issue": true, "lines": [line("Pump repair", 42500)]}))?).await?;
    billing::record_payment(
        db,
        &system,
        parse(json!({"customer": "CUS-00002", "amount": 46538, "method": "card", "allocations": [{"invoice": "SPC-00002", "amount": 46538}]}))?,
    )
    .await?;
    orgs::find(db, &org.id.to_string()).await
}

/// An API input written as JSON, as an integrator would send it.
fn parse<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| ServiceError::Internal(format!("demo input: {e}")))
}

/// A 360 × 96 logo: a band of `dark` with a wave of `light` across it.
fn logo(dark: &[u8; 3], light: &[u8; 3]) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(360, 96, |x, y| {
        let wave = 48.0 + 14.0 * ((x as f32) / 28.0).sin();
        if (y as f32 - wave).abs() < 7.0 { image::Rgb(*light) } else { image::Rgb(*dark) }
    });
    let mut png = Vec::new();
    // Encoding a picture made here into memory cannot fail.
    let _ = picture.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png);
    png
}
