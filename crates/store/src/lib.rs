//! Storage: SQLite and PostgreSQL behind one interface.
//!
//! Each query is written once. A [`Handle`] is a connection of either
//! backend; the [`run!`] macro expands a query body for both, so the same
//! SQL text and the same `FromRow` types serve both databases. Differences
//! between the backends (connection set-up, migrations, triggers) stay in
//! this crate.

mod activity;
mod billing;
mod chunks;
mod contacts;
mod counters;
mod customers;
mod db;
mod error;
mod orgs;
mod search;
mod sites;
pub mod summary;
mod users;
mod works;

pub use activity::{ActivityRow, TimelineFilter};
pub use billing::{AccountEntry, AllocationRow, AllocationSource, CreditNoteRow, InvoiceFilter, InvoiceRow, PaymentRow, due_date_source_text, parse_date};
pub use contacts::ContactRow;
pub use customers::{CustomerFilter, CustomerRow};
pub use db::{Db, Handle, Reader, Tx};
pub use error::StoreError;
pub use orgs::OrgRow;
pub use search::SearchTerm;
pub use sites::SiteRow;
pub use users::{TokenRow, UserRow};
pub use works::{InquiryRow, JobRow, QuoteRow, WorkFilter};

pub mod queries {
    //! The queries, by area. Each takes a [`crate::Handle`].
    pub use crate::activity::{activity_page, chain_head, timeline};
    pub use crate::billing::{
        account_entries, allocations_of, allocations_upto, get_credit_note, get_credit_note_by_number, get_invoice, get_invoice_by_number, get_payment,
        get_payment_by_number, insert_allocation, insert_credit_note, insert_invoice, insert_payment, list_credit_notes, list_invoices, list_payments,
        update_invoice,
    };
    pub use crate::contacts::{clear_other_primary, delete_contact, get_contact, insert_contacts, list_contacts, update_contact};
    pub use crate::counters::reserve_numbers;
    pub use crate::customers::{
        add_labels, get_customer, get_customer_by_number, insert_customers, labels_of, labels_of_many, list_customers, remove_label, update_customer_profile,
        update_customer_status,
    };
    pub use crate::orgs::{get_org, insert_org, list_orgs};
    pub use crate::search::{add_search_terms, replace_terms};
    pub use crate::sites::{delete_site, get_site, insert_sites, list_sites, update_site};
    pub use crate::users::{find_token, find_user_by_email, get_user, insert_token, insert_user, touch_token};
    pub use crate::works::{
        get_inquiry, get_inquiry_by_number, get_job, get_job_by_number, get_quote, get_quote_by_number, insert_inquiry, insert_job, insert_quote,
        list_inquiries, list_jobs, list_quotes, update_inquiry, update_job, update_quote,
    };
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Run `$body` with `$c` bound to the concrete connection of `$h`, once per
/// backend. The body is written once and compiled for both.
#[macro_export]
macro_rules! run {
    ($h:expr, $c:ident => $body:expr) => {
        match $h {
            $crate::Handle::Sqlite($c) => {
                let $c = &mut **$c;
                $body
            }
            $crate::Handle::Postgres($c) => {
                let $c = &mut **$c;
                $body
            }
        }
    };
}
