//! `/api/v1`: each resource has its own router; the OpenAPI document is
//! generated from the handlers' annotations.

mod custom_fields;
mod customers;
pub(crate) mod data;
mod orgs;
mod problems;
mod timeline;
mod works;

// Rooms by capability, as in every crate.
mod money {
    pub(super) mod billing;
    pub(super) mod documents;
    pub(super) mod ledger;
}
mod conversations {
    pub(super) mod files;
    pub(super) mod follow_ups;
    pub(super) mod messages;
}
mod automation {
    pub(super) mod settings;
    pub(super) mod tasks;
}
mod sending {
    pub(super) mod email;
    pub(super) mod inbound;
    pub(super) mod sms;
    pub(super) mod templates;
}
mod access {
    pub(super) mod portal_links;
    pub(super) mod users;
}
use access::{portal_links, users};
use conversations::{files, follow_ups, messages};
use customers::{contacts, sites};
use money::{billing, documents, ledger};

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Dossier API", description = "The customer record of a service business: customers, contacts, sites, messages, follow-ups and files, invoices, payments and credit notes, and their complete, tamper-evident timeline. Amounts are integer minor units of the org's currency. \
        Errors are application/problem+json with a stable `code`. Routes that take a customer accept its id or its code (CUS-00001)."),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    // Schemas that only query parameters name: `routes!` collects the
    // schemas of bodies and responses, not of `IntoParams` fields.
    components(schemas(crate::error::Problem, dossier_service::customers::CustomerSort, dossier_service::follow_ups::FollowUpDue))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("An API token from `dossier token create`")).build()),
        );
        components.add_security_scheme(
            "inbound_secret",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("The org's inbound email secret from `POST /org/inbound-secret`")).build(),
            ),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(users::router())
        .merge(custom_fields::router())
        .merge(customers::router())
        .merge(data::deletion::router())
        .merge(data::merge::router())
        .merge(timeline::router())
        .merge(messages::router())
        .merge(follow_ups::router())
        .merge(documents::router())
        .merge(files::router())
        .merge(contacts::router())
        .merge(customers::erasure::router())
        .merge(sites::router())
        .merge(billing::router())
        .merge(ledger::router())
        .merge(works::router())
        .merge(portal_links::router())
        .merge(orgs::router())
        .merge(data::export::router())
        .merge(data::imports::router())
        .merge(automation::tasks::router())
        .merge(automation::settings::router())
        .merge(sending::templates::router())
        .merge(sending::sms::router())
        .merge(sending::inbound::router())
        .merge(sending::email::router());
    crate::idempotency::document(router.get_openapi_mut());
    problems::document(router.get_openapi_mut());
    router
}

pub(crate) use documents::pdf;

/// The OpenAPI document, as served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    router().split_for_parts().1
}
