//! Application services: one function per use case.
//!
//! Each write use case parses its input into domain types, opens one
//! transaction, changes state and appends the activity that records it,
//! and commits — so the API, the web UI and the CLI cannot disagree, and
//! nothing is written half-way. Functions ending in `_in` run inside a
//! caller's transaction (bulk loads such as the demo use them to batch).

pub mod audit;
pub mod bench;
pub mod billing;
pub mod contacts;
mod context;
pub mod customers;
pub mod demo;
mod demo_files;
pub mod documents;
mod error;
pub mod files;
pub mod follow_ups;
pub mod idempotency;
pub mod messages;
pub mod orgs;
pub mod page;
pub mod portal;
mod record;
mod scope;
mod search_terms;
mod secrets;
pub mod sessions;
pub mod sites;
pub mod statement;
pub mod summary;
pub mod thumbnails;
pub mod timeline;
pub mod tokens;
mod usage;
pub mod users;
pub mod works;

pub use context::{Ctx, Org};
pub use dossier_store::Db;
pub use error::ServiceError;

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
