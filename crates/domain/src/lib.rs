//! Dossier's domain: the types and rules of a customer record, with no I/O.
//!
//! Everything here is pure: ids, record codes, validated text, customers,
//! contacts, sites, work and money records with their workflows, payment
//! terms, roles and the activity log's shape (kinds, actors, field diffs and
//! the canonical form its hash chain is computed over).

pub mod activity;
pub mod automations;
pub mod chain;
pub mod code;
pub mod consent;
pub mod contact;
pub mod contact_point;
pub mod currency;
pub mod custom_fields;
pub mod customer;
pub mod data;
pub mod dates;
pub mod diff;
pub mod drafts;
pub mod error;
pub mod file;
pub mod follow_up;
pub mod ids;
pub mod ledger;
pub mod limits;
pub mod message;
pub mod money;
pub mod orgs;
pub mod patch;
pub mod permissions;
pub mod postcode;
pub mod public_url;
pub mod reading;
pub mod role;
pub mod search;
/// Email and SMS that Dossier sends and receives, and their templates.
pub mod sending {
    pub mod email;
    pub mod inbound;
    pub mod sms;
}
pub mod site;
pub mod tasks;
pub mod templates;
pub mod terms;
pub mod text;
pub mod workflow;
pub mod works;

pub use error::{FieldError, ValidationErrors};
