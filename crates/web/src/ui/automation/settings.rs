//! The settings page "Automations": what Dossier does on its own for the
//! org — invoice emails on issue, payment receipts, payment reminder
//! levels, monthly statements, quote expiry. The API's `/org/automations`
//! use cases, one form.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::ValidationErrors;
use dossier_domain::permissions::{Access, Action, Module};
use dossier_service::Ctx;
use dossier_service::automation::settings::{self, Automations, AutomationsPatch};

use crate::AppState;
use crate::ui::forms::{Field, FormPage, Section, Values, again, value};
use crate::ui::nav::Viewer;
use crate::ui::{Staff, failure};

fn on(yes: bool) -> &'static str {
    if yes { "on" } else { "" }
}

fn automations_form(ctx: &Ctx, now: &Automations) -> FormPage {
    let days = now.reminder_days.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
    FormPage {
        user: Some(Viewer::of(ctx)),
        title: "Automations".into(),
        back: "/admin".into(),
        back_label: "Administration".into(),
        action: "/settings/automations".into(),
        submit: "Save automations",
        sections: vec![
            Section {
                legend: "Emails Dossier sends on its own, as the business (held for customers who are dormant, blocked or paused)".into(),
                fields: vec![
                    Field::new("invoice_email", "Email an invoice to the billing contact when it is issued", "checkbox").value(on(now.invoice_email)),
                    Field::new("payment_receipt", "Email a receipt when a payment is recorded", "checkbox").value(on(now.payment_receipt)),
                    Field::new("payment_reminders", "Email reminders of overdue invoices", "checkbox").value(on(now.payment_reminders)),
                    Field::new("reminder_days", "Reminders go out this many days past due", "text")
                        .value(days)
                        .hint("1 to 3 levels, e.g. 7, 14, 30; each has its own template"),
                    Field::new("statements", "Email a statement every month to customers with an open balance", "checkbox").value(on(now.statements)),
                    Field::new("statement_day", "Statements go out on this day of the month", "number").value(now.statement_day.to_string()).hint("1 to 28"),
                ],
            },
            Section {
                legend: "Records".into(),
                fields: vec![Field::new("quote_expiry", "Expire sent quotes once their valid-until date has passed", "checkbox").value(on(now.quote_expiry))],
            },
        ],
        general: Vec::new(),
    }
}

/// The form as a patch (every field is on the form, so every field is
/// set; an unticked box is off), with what could not be read.
fn patch_of(values: &Values) -> (AutomationsPatch, ValidationErrors) {
    let mut errors = ValidationErrors::default();
    let ticked = |name: &str| Some(value(values, name).is_some());
    let reminder_days = match value(values, "reminder_days") {
        None => Some(Vec::new()),
        Some(text) => match text.split([',', ' ', ';']).filter(|d| !d.is_empty()).map(|d| d.trim().parse::<u16>()).collect::<Result<Vec<_>, _>>() {
            Ok(days) => Some(days),
            Err(_) => {
                errors.push("reminder_days", "invalid_number", "must be whole numbers of days, e.g. 7, 14, 30");
                None
            }
        },
    };
    let statement_day = match value(values, "statement_day").map(|d| d.trim().parse::<u8>()) {
        Some(Ok(day)) => Some(day),
        Some(Err(_)) => {
            errors.push("statement_day", "invalid_number", "must be a day from 1 to 28");
            None
        }
        None => None,
    };
    let patch = AutomationsPatch {
        invoice_email: ticked("invoice_email"),
        payment_receipt: ticked("payment_receipt"),
        payment_reminders: ticked("payment_reminders"),
        reminder_days,
        statements: ticked("statements"),
        statement_day,
        quote_expiry: ticked("quote_expiry"),
    };
    (patch, errors)
}

/// `GET /settings/automations`.
pub async fn show(State(s): State<AppState>, Staff(ctx): Staff) -> Response {
    match settings::get(&s.db, &ctx).await {
        Ok(now) => {
            let mut form = automations_form(&ctx, &now);
            if ctx.access(Module::Settings, Action::Edit) == Access::None {
                form.general.push("Only owners and administrators change automations.".to_owned());
            }
            form.show(StatusCode::OK)
        }
        Err(e) => failure(e),
    }
}

/// `POST /settings/automations`.
pub async fn save(State(s): State<AppState>, Staff(ctx): Staff, Form(values): Form<Values>) -> Response {
    let now = match settings::get(&s.db, &ctx).await {
        Ok(now) => now,
        Err(e) => return failure(e),
    };
    let (patch, errors) = patch_of(&values);
    let result = match errors.into_result(|| ()) {
        Ok(()) => settings::update(&s.db, &ctx, patch).await,
        Err(errors) => Err(errors.into()),
    };
    match result {
        Ok(_) => Redirect::to("/settings/automations").into_response(),
        Err(e) => again(automations_form(&ctx, &now), &values, e, |f| f.split('[').next().unwrap_or(f).to_owned()),
    }
}
