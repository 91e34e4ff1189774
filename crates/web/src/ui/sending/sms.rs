//! SMS in the staff app: the compose form (a number of the customer or its
//! contacts, the text with a live segment counter, the purpose), the review
//! of what goes (E.164 number, segments, consent) before it is queued, and
//! the SMS gateway settings page.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::consent::Purpose;
use dossier_domain::permissions::{Access, Action, Module};
use dossier_domain::sending::sms::{Encoding, SmsSettings, SmsSettingsInput};
use dossier_service::sending::sms::{self, Composed, SmsInput, SmsPreview};
use dossier_service::sending::sms_settings;
use dossier_service::{Ctx, customers};

use crate::AppState;
use crate::ui::forms::{Field, FormPage, Section, Values, again, back_to, value};
use crate::ui::nav::Viewer;
use crate::ui::{Staff, failure, page};

fn compose_form(ctx: &Ctx, code: &str, numbers: &[sms::Number], values: &Values) -> FormPage {
    let back = back_to(values, &format!("/customers/{code}?tab=timeline"));
    let options = numbers.iter().map(|n| (n.e164.clone(), format!("{} · {}", n.e164, n.name)));
    let purposes = Purpose::ALL.iter().map(|p| (p.as_str().to_owned(), crate::ui::views::words(p.as_str())));
    FormPage {
        user: Some(Viewer::of(ctx)),
        title: "Send an SMS".into(),
        back: back.clone(),
        back_label: "Back".into(),
        action: format!("/customers/{code}/sms"),
        submit: "Review",
        sections: vec![Section {
            legend: String::new(),
            fields: vec![
                Field::new("to", "To", "select").options(options).value(numbers.first().map(|n| n.e164.clone()).unwrap_or_default()),
                Field::new("body", "Text", "textarea")
                    .required()
                    .hint("160 characters make one SMS (70 with characters outside the GSM alphabet, such as emoji); longer texts go in parts, at most 10"),
                Field::new("purpose", "Purpose", "select").options(purposes).value("service"),
                Field::new("override_reason", "Reason to send although the customer opted out", "text")
                    .hint("Only needed when the customer opted out of SMS for this purpose; it is recorded"),
                Field::new("back", "", "hidden").value(back),
            ],
        }],
        general: if numbers.is_empty() { vec!["Neither the customer nor its contacts have a phone number.".to_owned()] } else { Vec::new() },
    }
}

pub async fn new_sms(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, query: axum::extract::Query<Values>) -> Response {
    let customer = match customers::get_customer(&s.db, &ctx, &id).await {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    match sms::numbers(&s.db, &ctx, &customer.code).await {
        Ok(numbers) => compose_form(&ctx, &customer.code, &numbers, &query.0).show(StatusCode::OK),
        Err(e) => failure(e),
    }
}

/// What goes, before it is queued.
#[derive(Template)]
#[template(path = "ui/sms_confirm.html")]
struct ConfirmPage {
    user: Option<Viewer>,
    customer_name: String,
    recipient: String,
    preview: SmsPreview,
    encoding: &'static str,
    html: String,
    action: String,
    back: String,
    values: Vec<(String, String)>,
}

fn input_of(values: &Values, dry_run: bool) -> SmsInput {
    SmsInput {
        to: value(values, "to"),
        body: values.get("body").cloned(),
        record_type: value(values, "record_type").and_then(|t| dossier_domain::message::RecordType::parse(&t)),
        record: value(values, "record"),
        purpose: value(values, "purpose").and_then(|p| Purpose::parse(&p)),
        override_reason: value(values, "override_reason"),
        dry_run,
    }
}

/// "Review" shows what goes (a dry run); "Send" (the review's form,
/// `confirmed`) queues it. Errors come back next to their fields.
pub async fn submit(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let customer = match customers::get_customer(&s.db, &ctx, &id).await {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    let numbers = match sms::numbers(&s.db, &ctx, &customer.code).await {
        Ok(numbers) => numbers,
        Err(e) => return failure(e),
    };
    let confirmed = values.get("confirmed").map(String::as_str) == Some("yes");
    let back = back_to(&values, &format!("/customers/{}?tab=timeline", customer.code));
    match sms::compose(&s.db, &ctx, &customer.code, input_of(&values, !confirmed)).await {
        Ok(Composed::Queued(_)) => Redirect::to(&back).into_response(),
        Ok(Composed::Preview(preview)) => {
            let kept = ["to", "body", "purpose", "override_reason", "record_type", "record", "back"];
            let carried = kept.iter().filter_map(|k| values.get(*k).map(|v| ((*k).to_owned(), v.clone()))).collect();
            let recipient = preview.contact.clone().unwrap_or_else(|| customer.display_name.clone());
            page(
                StatusCode::OK,
                &ConfirmPage {
                    user: Some(Viewer::of(&ctx)),
                    customer_name: customer.display_name.clone(),
                    recipient,
                    encoding: match preview.encoding {
                        Encoding::Gsm7 => "GSM-7 characters",
                        Encoding::Ucs2 => "UCS-2 units: the text has characters outside the GSM alphabet",
                    },
                    html: crate::rich_text::to_html(&preview.body),
                    preview,
                    action: format!("/customers/{}/sms", customer.code),
                    back,
                    values: carried,
                },
            )
        }
        Err(e) => again(compose_form(&ctx, &customer.code, &numbers, &values), &values, e, |f| f.to_owned()),
    }
}

// ---------------------------------------------------------------- settings

fn settings_form(ctx: &Ctx, settings: &SmsSettings) -> FormPage {
    let secret_hint = |set: bool, what: &str| match set {
        true => format!("{what} is set and never shown again; type a new one to replace it, or leave blank to keep it"),
        false => format!("No {what} is set"),
    };
    FormPage {
        user: Some(Viewer::of(ctx)),
        title: "SMS".into(),
        back: "/admin".into(),
        back_label: "Administration".into(),
        action: "/settings/sms".into(),
        submit: "Save SMS settings",
        sections: vec![
            Section {
                legend: "The SMS provider (texts are POSTed to it as JSON)".into(),
                fields: vec![
                    Field::new("provider_url", "Provider URL", "text")
                        .value(settings.provider_url.clone().unwrap_or_default())
                        .hint("https://…; blank: no texts are sent"),
                    Field::new("api_key", "API key", "password").hint(secret_hint(settings.api_key_set, "An API key")),
                    Field::new("clear_api_key", "Remove the API key", "checkbox"),
                    Field::new("sender", "Sender", "text")
                        .value(settings.sender.clone().unwrap_or_default())
                        .hint("A name of at most 11 letters and digits, or a number in E.164 form (+447700900123)"),
                ],
            },
            Section {
                legend: "Webhooks (delivery receipts and texts customers send)".into(),
                fields: vec![
                    Field::new("webhook_secret", "Webhook signing secret", "password").hint(secret_hint(settings.webhook_secret_set, "A webhook secret")),
                    Field::new("clear_webhook_secret", "Remove the webhook secret", "checkbox"),
                ],
            },
        ],
        general: vec![format!(
            "The provider sends delivery receipts to /api/v1/webhooks/sms/{org}/receipt and texts customers send to /api/v1/webhooks/sms/{org}/inbound, signed in X-Dossier-Signature.",
            org = ctx.org.id.0
        )],
    }
}

pub async fn settings_page(State(s): State<AppState>, Staff(ctx): Staff) -> Response {
    match sms_settings::settings(&s.db, &ctx).await {
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

pub async fn save_settings(State(s): State<AppState>, Staff(ctx): Staff, Form(values): Form<Values>) -> Response {
    let settings = match sms_settings::settings(&s.db, &ctx).await {
        Ok(settings) => settings,
        Err(e) => return failure(e),
    };
    // A blank secret field keeps the secret; its box removes it.
    let secret = |field: &str, clear: &str| match (value(&values, field), value(&values, clear)) {
        (_, Some(_)) => Some(String::new()),
        (typed, None) => typed,
    };
    let input = SmsSettingsInput {
        provider_url: Some(value(&values, "provider_url").unwrap_or_default()),
        sender: Some(value(&values, "sender").unwrap_or_default()),
        api_key: secret("api_key", "clear_api_key"),
        webhook_secret: secret("webhook_secret", "clear_webhook_secret"),
    };
    // Never sent back into the form.
    let mut shown = values.clone();
    shown.remove("api_key");
    shown.remove("webhook_secret");
    match sms_settings::update_settings(&s.db, &ctx, input).await {
        Ok(_) => Redirect::to("/settings/sms").into_response(),
        Err(e) => again(settings_form(&ctx, &settings), &shown, e, |f| f.to_owned()),
    }
}
