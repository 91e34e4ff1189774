//! The org's settings page: who the business is on its documents, its
//! currency, time zone and formats, default terms, tax rates, the next
//! code prefix and next number of each series, and its logo. The API's use cases, one form.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::ValidationErrors;
use dossier_domain::code::CodeKind;
use dossier_domain::currency::NumberFormat;
use dossier_domain::money::TaxRate;
use dossier_domain::orgs::{DateFormat, MAX_TAX_RATES, OrgSettings, OrgSettingsInput, TaxRateSetting};
use dossier_domain::permissions::{Access, Action, Module};
use dossier_domain::terms::PaymentTerms;
use dossier_service::{Ctx, ServiceError, orgs};

use super::forms::{Field, FormPage, Section, Values, again, basis_points, value};
use super::{Staff, failure};
use crate::AppState;
use crate::ui::nav::Viewer;

/// Blank tax rate rows offered below the org's rates.
const BLANK_TAX_ROWS: usize = 3;

fn settings_form(ctx: &Ctx, settings: &OrgSettings) -> FormPage {
    let (basis, days) = match settings.payment_terms {
        PaymentTerms::Net { days } => ("net", days),
        PaymentTerms::EndOfMonth { days } => ("end_of_month", days),
    };
    let locked = if settings.currency_locked { "Fixed: this organisation already holds amounts in it" } else { "ISO 4217, e.g. GBP, EUR, USD, JPY" };
    let mut tax_fields = Vec::new();
    let rows = (settings.tax_rates.len() + BLANK_TAX_ROWS).min(MAX_TAX_RATES);
    for i in 0..rows {
        let rate = settings.tax_rates.get(i);
        let n = i + 1;
        tax_fields.push(Field::new(format!("tax{n}_name"), format!("Tax rate {n}: name"), "text").value(rate.map(|r| r.name.clone()).unwrap_or_default()));
        tax_fields.push(Field::new(format!("tax{n}_rate"), format!("Tax rate {n}: %"), "text").value(rate.map(|r| r.rate_bp.percent()).unwrap_or_default()));
        tax_fields.push(Field::new(format!("tax{n}_default"), format!("Tax rate {n} is the default"), "checkbox").value(if rate.is_some_and(|r| r.default) {
            "on"
        } else {
            ""
        }));
    }
    let series = CodeKind::ALL
        .into_iter()
        .flat_map(|kind| {
            let name = kind.counter().replace('_', " ");
            let next = settings.next_numbers.get(kind.counter()).copied().unwrap_or(1);
            let prefix = settings.code_prefixes.get(kind.counter()).cloned().unwrap_or_else(|| kind.prefix().to_owned());
            [
                Field::new(format!("prefix_{}", kind.counter()), format!("Prefix of {name} codes"), "text")
                    .value(prefix.clone())
                    .hint(format!("Now {}; records made before keep their codes", dossier_domain::code::code_text(&prefix, next))),
                Field::new(format!("next_{}", kind.counter()), format!("Next {name} number"), "number").value(next.to_string()),
            ]
        })
        .collect();
    FormPage {
        user: Some(Viewer::of(ctx)),
        title: "Organisation settings".into(),
        back: "/admin".into(),
        back_label: "Administration".into(),
        action: "/settings".into(),
        submit: "Save settings",
        sections: vec![
            Section {
                legend: "The business".into(),
                fields: vec![
                    Field::new("name", "Name", "text").required().value(settings.name.clone()),
                    Field::new("address", "Address (one line per line)", "textarea")
                        .value(settings.address.join("\n"))
                        .hint("Printed under the name on every document"),
                    Field::new("region", "Country", "text")
                        .required()
                        .value(settings.region.clone())
                        .hint("Two letters, e.g. GB, US: phone numbers without a country code"),
                ],
            },
            Section {
                legend: "Money, time and formats".into(),
                fields: vec![
                    Field::new("currency", "Currency", "text").required().value(settings.currency.clone()).hint(locked),
                    Field::new("timezone", "Time zone", "text")
                        .required()
                        .value(settings.timezone.clone())
                        .hint("IANA name, e.g. Europe/London, America/New_York"),
                    Field::new("date_format", "Dates", "select")
                        .options(DateFormat::ALL.map(|f| (f.as_str().to_owned(), f.show(jiff::civil::date(2026, 12, 31)))))
                        .value(settings.date_format.as_str()),
                    Field::new("number_format", "Numbers", "select")
                        .options(NumberFormat::ALL.map(|f| (f.as_str().to_owned(), f.example())))
                        .value(settings.number_format.as_str()),
                    Field::new("terms_basis", "Default payment terms", "select")
                        .options([
                            ("net".to_owned(), "Days after the invoice date".to_owned()),
                            ("end_of_month".to_owned(), "Days after the end of its month".to_owned()),
                        ])
                        .value(basis),
                    Field::new("terms_days", "Days to pay", "number").value(days.to_string()).hint("0: due on receipt"),
                ],
            },
            Section { legend: "Tax rates (a line without one gets the default)".into(), fields: tax_fields },
            Section { legend: "Codes of new records (a number never below one already issued)".into(), fields: series },
        ],
        general: Vec::new(),
    }
}

/// The form's values as the API's input, with what could not be read.
fn input_of(values: &Values, rows: usize) -> (OrgSettingsInput, ValidationErrors) {
    let mut errors = ValidationErrors::default();
    let mut rates = Vec::new();
    for n in 1..=rows.min(MAX_TAX_RATES) {
        let name = value(values, &format!("tax{n}_name"));
        let rate = basis_points(values, &format!("tax{n}_rate"), &mut errors);
        if name.is_none() && rate.is_none() {
            continue;
        }
        let rate_bp = match rate.map(|bp| TaxRate::parse(&format!("tax{n}_rate"), bp)) {
            Some(Ok(rate)) => rate,
            Some(Err(e)) => {
                errors.0.extend(e.0);
                TaxRate(0)
            }
            None => TaxRate(0),
        };
        rates.push(TaxRateSetting { name: name.unwrap_or_default(), rate_bp, default: value(values, &format!("tax{n}_default")).is_some() });
    }
    let days = value(values, "terms_days").map(|d| d.trim().parse::<u16>());
    let payment_terms = match (value(values, "terms_basis").as_deref(), days) {
        (_, Some(Err(_))) => {
            errors.push("terms_days", "invalid_number", "must be a whole number of days");
            None
        }
        (Some("end_of_month"), days) => Some(PaymentTerms::EndOfMonth { days: days.and_then(Result::ok).unwrap_or(0) }),
        (_, days) => Some(PaymentTerms::Net { days: days.and_then(Result::ok).unwrap_or(0) }),
    };
    let mut next_numbers = BTreeMap::new();
    let mut code_prefixes = BTreeMap::new();
    for kind in CodeKind::ALL {
        if let Some(prefix) = value(values, &format!("prefix_{}", kind.counter())) {
            code_prefixes.insert(kind.counter().to_owned(), prefix);
        }
        let field = format!("next_{}", kind.counter());
        match value(values, &field).map(|n| n.trim().parse::<i64>()) {
            Some(Ok(n)) => {
                next_numbers.insert(kind.counter().to_owned(), n);
            }
            Some(Err(_)) => errors.push(field, "invalid_number", "must be a whole number"),
            None => {}
        }
    }
    let input = OrgSettingsInput {
        name: Some(value(values, "name").unwrap_or_default()),
        address: Some(value(values, "address").unwrap_or_default().lines().map(str::to_owned).collect()),
        region: Some(value(values, "region").unwrap_or_default()),
        currency: Some(value(values, "currency").unwrap_or_default()),
        timezone: Some(value(values, "timezone").unwrap_or_default()),
        date_format: value(values, "date_format").and_then(|f| DateFormat::parse(&f)),
        number_format: value(values, "number_format").and_then(|f| NumberFormat::parse(&f)),
        payment_terms,
        tax_rates: Some(rates),
        next_numbers: Some(next_numbers),
        code_prefixes: Some(code_prefixes),
    };
    (input, errors)
}

/// The form field an input error is about.
fn field_of(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("tax_rates[") {
        let (index, name) = rest.split_once(']').unwrap_or((rest, ""));
        let n = index.parse::<usize>().map_or(1, |i| i + 1);
        return if name.contains("rate_bp") { format!("tax{n}_rate") } else { format!("tax{n}_name") };
    }
    match field {
        "tax_rates" => "tax1_name".into(),
        f if f.starts_with("address") => "address".into(),
        f if f.starts_with("payment_terms") => "terms_days".into(),
        f => match (f.strip_prefix("next_numbers."), f.strip_prefix("code_prefixes.")) {
            (Some(kind), _) => format!("next_{kind}"),
            (_, Some(kind)) => format!("prefix_{kind}"),
            _ => f.to_owned(),
        },
    }
}

pub async fn show(State(s): State<AppState>, Staff(ctx): Staff) -> Response {
    match orgs::settings(&s.db, &ctx).await {
        Ok(settings) => {
            let mut form = settings_form(&ctx, &settings);
            if ctx.access(Module::Settings, Action::Edit) == Access::None {
                form.general.push("Only owners and administrators change these settings.".to_owned());
            }
            form.show(StatusCode::OK)
        }
        Err(e) => failure(e),
    }
}

fn logo_form(ctx: &Ctx, settings: &OrgSettings) -> FormPage {
    let now = if settings.has_logo { "A logo is set; choose another file to replace it" } else { "No logo is set yet" };
    FormPage {
        user: Some(Viewer::of(ctx)),
        title: "Logo".into(),
        back: "/settings".into(),
        back_label: "Organisation settings".into(),
        action: "/settings/logo".into(),
        submit: "Save logo",
        sections: vec![Section {
            legend: "Shown on every invoice, quote and statement, and in the portal".into(),
            fields: vec![Field::new("file", "Logo: a PNG or JPEG of at most 512 KiB", "file").hint(now), Field::new("remove", "Remove the logo", "checkbox")],
        }],
        general: Vec::new(),
    }
}

pub async fn logo_page(State(s): State<AppState>, Staff(ctx): Staff) -> Response {
    match orgs::settings(&s.db, &ctx).await {
        Ok(settings) => logo_form(&ctx, &settings).show(StatusCode::OK),
        Err(e) => failure(e),
    }
}

pub async fn save(State(s): State<AppState>, Staff(ctx): Staff, Form(values): Form<Values>) -> Response {
    let settings = match orgs::settings(&s.db, &ctx).await {
        Ok(settings) => settings,
        Err(e) => return failure(e),
    };
    let rows = (settings.tax_rates.len() + BLANK_TAX_ROWS).min(MAX_TAX_RATES);
    let (input, errors) = input_of(&values, rows);
    let result = match errors.into_result(|| ()) {
        Ok(()) => orgs::update_settings(&s.db, &ctx, input).await,
        Err(errors) => Err(errors.into()),
    };
    match result {
        Ok(_) => Redirect::to("/settings").into_response(),
        Err(e) => again(settings_form(&ctx, &settings), &values, e, field_of),
    }
}

/// The logo, for staff.
pub async fn logo(State(s): State<AppState>, Staff(ctx): Staff) -> Response {
    match orgs::logo(&s.db, ctx.org.id).await {
        Ok(Some(logo)) => ([(header::CONTENT_TYPE, logo.content_type)], logo.bytes).into_response(),
        Ok(None) => failure(ServiceError::NotFound("logo")),
        Err(e) => failure(e),
    }
}

/// A new logo (multipart, its `file` part), or `remove`.
pub async fn set_logo(State(s): State<AppState>, Staff(ctx): Staff, mut form: Multipart) -> Response {
    let mut image = None;
    let mut remove = false;
    let mut read_error = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("remove") => remove = true,
            Ok(Some(field)) if field.name() == Some("file") => match field.bytes().await {
                Ok(bytes) if !bytes.is_empty() => image = Some(bytes.to_vec()),
                Ok(_) => {}
                Err(e) => read_error = Some(e.body_text()),
            },
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                read_error = Some(e.body_text());
                break;
            }
        }
    }
    let result = match (read_error, remove, image) {
        (Some(error), _, _) => Err(ValidationErrors::one("logo", "unreadable", format!("the upload could not be read: {error}")).into()),
        (None, true, _) => orgs::set_logo(&s.db, &ctx, None).await,
        (None, false, Some(image)) => orgs::set_logo(&s.db, &ctx, Some(image)).await,
        (None, false, None) => Err(ValidationErrors::one("logo", "required", "choose a PNG or JPEG file").into()),
    };
    match result {
        Ok(_) => Redirect::to("/settings").into_response(),
        Err(ServiceError::Invalid(errors)) => match orgs::settings(&s.db, &ctx).await {
            Ok(settings) => logo_form(&ctx, &settings).refill(&Values::new(), &errors, |_| "file".to_owned()).show(StatusCode::UNPROCESSABLE_ENTITY),
            Err(e) => failure(e),
        },
        Err(e) => failure(e),
    }
}
