//! The erasure page: an admin erases a customer's personal data, after
//! typing the customer's code to confirm.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::ValidationErrors;
use dossier_domain::customer::Customer;
use dossier_service::customers::erasure::{self, ErasureInput};
use dossier_service::{Ctx, customers};

use crate::AppState;
use crate::extract::Path;
use crate::ui::forms::{Field, FormPage, Section, Values, again, value};
use crate::ui::nav::Viewer;
use crate::ui::{Staff, failure};

fn erasure_form(ctx: &Ctx, customer: &Customer) -> FormPage {
    let back = format!("/customers/{}", customer.code);
    let fields = vec![
        Field::new("reason", "Reason", "textarea").required().hint("Kept with the erasure: the request's date or reference, not the data itself"),
        Field::new("confirm", "Type the customer's code to confirm", "text").required().hint(format!("{}: this cannot be undone", customer.code)),
    ];
    FormPage {
        user: Some(Viewer::of(ctx)),
        title: format!("Erase the personal data of {}", customer.display_name),
        back: back.clone(),
        back_label: customer.display_name.clone(),
        action: format!("{back}/erasure"),
        submit: "Erase personal data",
        sections: vec![Section { legend: String::new(), fields }],
        general: vec![
            "Names, email addresses, phone numbers, addresses, notes, message texts and files of this customer and its contacts and sites are \
             removed, also from the history. Invoices, payments and credit notes keep their numbers, dates and amounts. The customer is deactivated."
                .into(),
        ],
    }
}

pub async fn form(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match customers::get_customer(&s.db, &ctx, &id).await {
        Ok(customer) => erasure_form(&ctx, &customer).show(StatusCode::OK),
        Err(e) => failure(e),
    }
}

pub async fn erase(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let customer = match customers::get_customer(&s.db, &ctx, &id).await {
        Ok(customer) => customer,
        Err(e) => return failure(e),
    };
    if value(&values, "confirm").as_deref().map(str::trim) != Some(customer.code.as_str()) {
        let errors = ValidationErrors::one("confirm", "not_confirmed", format!("type {} to confirm", customer.code));
        return erasure_form(&ctx, &customer).refill(&values, &errors, str::to_owned).show(StatusCode::UNPROCESSABLE_ENTITY);
    }
    match erasure::erase_customer(&s.db, &ctx, &customer.code, ErasureInput { reason: value(&values, "reason") }).await {
        Ok(done) => Redirect::to(&format!("/customers/{}?tab=history", done.customer.code)).into_response(),
        Err(e) => again(erasure_form(&ctx, &customer), &values, e, str::to_owned),
    }
}
