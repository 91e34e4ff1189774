//! Application services: one function per use case.
//!
//! Each write use case parses its input into domain types, opens one
//! transaction, changes state and appends the activity that records it,
//! and commits — so the API, the web UI and the CLI cannot disagree, and
//! nothing is written half-way. Functions ending in `_in` run inside a
//! caller's transaction (bulk loads such as the demo use them to batch).

//! The files are grouped in rooms by capability, the same names in every
//! crate (`customers/`, `works`, `money/`, `conversations/`, `access/`);
//! each room's modules are also named at the crate root
//! (`dossier_service::messages`), where callers use them.

pub mod audit;
pub mod bench;
mod context;
pub mod custom_fields;
pub mod customers;
pub mod demo;
mod demo_fields;
mod demo_files;
mod demo_orgs;
mod error;
pub mod idempotency;
pub mod orgs;
pub mod page;
mod record;
pub mod timeline;
pub mod works;

/// Invoices, payments, credit notes, balances, statements, documents.
pub mod money {
    pub mod billing;
    pub mod documents;
    pub mod ledger;
    pub mod statement;
    pub mod summary;
}

/// Messages and notes, follow-ups, files and their thumbnails.
pub mod conversations {
    pub mod delivery;
    pub mod files;
    pub mod follow_ups;
    pub mod messages;
    pub mod thumbnails;
}

/// Background tasks and the work they do on their own.
pub mod automation {
    pub mod daily;
    pub(crate) mod quote_expiry;
    pub mod sends;
    pub mod settings;
    pub mod tasks;
}

/// Email and SMS: templates, sending, receiving.
pub mod sending {
    pub mod email;
    pub mod inbound;
    mod mail;
    pub mod portal_links;
    pub mod sms;
    pub mod sms_gateway;
    pub mod sms_settings;
    pub mod smtp;
    pub mod templates;
}

/// Data in and out: deleting and restoring customers, exports and
/// imports, duplicates and merges.
pub mod data {
    pub mod customer_export;
    pub mod deletion;
    pub mod duplicates;
    pub mod export;
    pub mod import;
    pub mod import_runs;
    pub mod lists;
    pub mod merge;
    pub mod read;
}

/// Users, sessions, API tokens, portal links, and what a caller may see.
pub mod access {
    pub mod invitations;
    pub mod portal;
    pub(crate) mod scope;
    pub(crate) mod secrets;
    pub mod sessions;
    pub mod tokens;
    pub(crate) mod usage;
    pub mod users;
}

pub use access::{invitations, portal, sessions, tokens, users};
pub(crate) use access::{scope, secrets, usage};
pub use automation::tasks;
pub use conversations::{delivery, files, follow_ups, messages, thumbnails};
pub(crate) use customers::search_terms;
pub use customers::{contacts, sites};
pub use data::{deletion, duplicates, merge};
pub use money::{billing, documents, ledger, statement, summary};
pub use sending::templates;

pub use context::{Ctx, Org};
pub use dossier_domain::public_url::PublicUrl;
pub use dossier_store::Db;
pub use error::ServiceError;

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
