//! `/settings/email`: the org's outgoing mail server (owners and admins).
//! The password is never put back in the page: the form says whether one
//! is set; left empty it stays, and a box removes it.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::sending::email::{MailServerInput, MailSettings, TlsMode};
use dossier_service::Ctx;
use dossier_service::sending::smtp;

use crate::AppState;
use crate::ui::forms::{Field, FormPage, Section, Values, again, value};
use crate::ui::nav::Viewer;
use crate::ui::{Staff, failure};

fn form(ctx: &Ctx, settings: &MailSettings) -> FormPage {
    let source = match settings.source.as_str() {
        "org" => "This organisation's own server.",
        "configured" => "No server of this organisation's own: email goes through the installation's server (DOSSIER_SMTP_URL) until one is saved here.",
        _ => "No outgoing mail server is set: no email can be sent until one is saved here.",
    };
    let password = if settings.password_set { "A password is set; leave this empty to keep it" } else { "No password is set" };
    FormPage {
        user: Some(Viewer::of(ctx)),
        title: "Email settings".into(),
        back: "/admin".into(),
        back_label: "Administration".into(),
        action: "/settings/email".into(),
        submit: "Save email settings",
        sections: vec![
            Section {
                legend: "Who emails come from".into(),
                fields: vec![
                    Field::new("sender_name", "Sender name", "text").value(settings.sender_name.clone().unwrap_or_default()),
                    Field::new("sender_address", "Sender address", "email").required().value(settings.sender_address.clone().unwrap_or_default()),
                ],
            },
            Section {
                legend: format!("Outgoing mail server (SMTP). {source}"),
                fields: vec![
                    Field::new("host", "Server", "text").required().value(settings.host.clone().unwrap_or_default()).hint("e.g. smtp.example.com"),
                    Field::new("port", "Port", "number").required().value(settings.port.map(|p| p.to_string()).unwrap_or_else(|| "587".into())),
                    Field::new("tls", "Security", "select")
                        .options([
                            ("starttls".to_owned(), "STARTTLS (usually port 587)".to_owned()),
                            ("tls".to_owned(), "TLS from the start (usually port 465)".to_owned()),
                            ("none".to_owned(), "None: plain text (a relay on this network only)".to_owned()),
                        ])
                        .value(settings.tls.unwrap_or(TlsMode::Starttls).as_str()),
                    Field::new("username", "User name", "text").value(settings.username.clone().unwrap_or_default()),
                    Field::new("password", "Password", "password").hint(password),
                    Field::new("remove_password", "Remove the password", "checkbox"),
                ],
            },
        ],
        general: Vec::new(),
    }
}

fn input_of(values: &Values) -> MailServerInput {
    let password = if values.get("remove_password").is_some_and(|v| !v.is_empty()) {
        Some(String::new())
    } else {
        values.get("password").filter(|p| !p.is_empty()).cloned()
    };
    MailServerInput {
        sender_name: value(values, "sender_name"),
        sender_address: value(values, "sender_address"),
        host: value(values, "host"),
        // Not a number: out of range, and said so next to the field.
        port: value(values, "port").map(|p| p.parse().unwrap_or(0)),
        tls: value(values, "tls").and_then(|t| TlsMode::parse(&t)),
        username: value(values, "username"),
        password,
    }
}

pub async fn show(State(s): State<AppState>, Staff(ctx): Staff) -> Response {
    match smtp::settings(&s.db, &ctx, s.smtp.as_ref()).await {
        Ok(settings) => form(&ctx, &settings).show(StatusCode::OK),
        Err(e) => failure(e),
    }
}

pub async fn save(State(s): State<AppState>, Staff(ctx): Staff, Form(mut values): Form<Values>) -> Response {
    let settings = match smtp::settings(&s.db, &ctx, s.smtp.as_ref()).await {
        Ok(settings) => settings,
        Err(e) => return failure(e),
    };
    let input = input_of(&values);
    // What was typed as the password is never sent back in the page.
    values.remove("password");
    match smtp::update_settings(&s.db, &ctx, input).await {
        Ok(_) => Redirect::to("/settings/email").into_response(),
        Err(e) => again(form(&ctx, &settings), &values, e, |f| f.to_owned()),
    }
}
