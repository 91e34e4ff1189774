//! Storage: SQLite and PostgreSQL behind one interface.
//!
//! Each query is written once. A [`Handle`] is a connection of either
//! backend; the [`run!`] macro expands a query body for both, so the same
//! SQL text and the same `FromRow` types serve both databases. Differences
//! between the backends (connection set-up, migrations, triggers) stay in
//! this crate.

mod activity;
mod chunks;
mod coded;
mod counters;
mod custom_fields;
mod customers;
mod db;
mod error;
pub mod idempotency;
mod in_list;
mod orgs;
mod works;

// Rooms by capability, as in every crate; their modules are named at the
// crate root too.
mod money {
    pub(crate) mod billing;
    pub mod summary;
}
mod conversations {
    pub mod blobs;
    pub(crate) mod files;
    pub(crate) mod follow_ups;
    pub(crate) mod messages;
    mod words;
}
mod automation {
    pub(crate) mod sends;
    pub(crate) mod settings;
    pub(crate) mod tasks;
}
mod sending {
    pub(crate) mod email;
    pub(crate) mod inbound;
    pub(crate) mod sms;
    pub(crate) mod templates;
}
pub mod data {
    pub(crate) mod deletion;
    pub(crate) mod imports;
    pub(crate) mod merge;
    pub mod tables;
}
mod access {
    pub(crate) mod portal;
    pub(crate) mod sessions;
    pub(crate) mod usage;
    pub(crate) mod users;
}
use access::{portal, sessions, usage, users};
use automation::{sends, settings, tasks};
pub use conversations::blobs;
use conversations::{files, follow_ups, messages};
use customers::{contacts, erasure, search, sites};
use data::imports;
use money::billing;
pub use money::summary;
use sending::templates;

pub use activity::{ActivityRow, TimelineFilter};
pub use billing::{
    AccountEntry, AllocationRefused, AllocationRow, AllocationSource, CreditNoteRow, InvoiceRow, Ledger, PaymentRow, RefundRow, Reversal, due_date_source_text,
    parse_date,
};
pub use blobs::{BlobContent, BlobError, Blobs, Staged, Staging};
pub use coded::{ListFilter, RecordKey, RecordOwner, Row};
pub use contacts::ContactRow;
pub use custom_fields::CustomFieldRow;
pub use customers::{CustomerAfter, CustomerFilter, CustomerOrder, CustomerRow};
pub use data::merge::{MOVED_TABLES, MergeRow};
pub use db::{Db, Handle, Reader, Tx};
pub use erasure::{ERASED_NAME, ErasableRow};
pub use error::StoreError;
pub use files::{FileFilter, FileRow};
pub use follow_ups::{FollowUpFilter, FollowUpRow};
pub use imports::{ImportMove, ImportRow};
pub use messages::{MessageFilter, MessageRow};
pub use orgs::{LogoRow, OrgRow};
pub use portal::PortalLinkRow;
pub use search::SearchTerm;
pub use sending::email::{EmailAttachmentRow, SmtpRow};
pub use sending::inbound::InboxItemRow;
pub use sending::sms::SmsSettingsRow;
pub use sends::{AutomatedSendRow, OverdueRow};
pub use sessions::{Counted, SessionRow, ThrottleRow};
pub use sites::SiteRow;
pub use tasks::{Ending, TaskRow};
pub use templates::TemplateRow;
pub use usage::Used;
pub use users::{TokenHolder, TokenRow, UserRow};
pub use works::{InquiryRow, JobClaim, JobRow, QuoteRow};

pub mod queries {
    //! The queries, by area. Each takes a [`crate::Handle`].
    pub use crate::activity::{activity_page, busiest_customers, chain_head, timeline, timeline_entry_at, timeline_length};
    pub use crate::billing::{
        account_entries, allocations_upto, insert_allocation, insert_credit_note, insert_invoice, insert_payment, insert_refund, ledgers_of,
        reverse_allocation, update_draft_invoice, update_invoice,
    };
    pub use crate::coded::{get_coded, list_newest};
    pub use crate::contacts::{clear_other_primary, contacts_of_customers, delete_contact, get_contact, insert_contacts, list_contacts, update_contact};
    pub use crate::counters::{last_numbers, reserve_numbers, set_next_number};
    pub use crate::custom_fields::{
        custom_values_exist, delete_custom_field, drop_term_sources, drop_terms_starting, get_custom_field, insert_custom_field, job_values_of_customers,
        list_custom_fields, set_custom_field_positions, strip_custom_values, update_custom_field,
    };
    pub use crate::customers::{
        add_labels, customer_codes, customer_names, get_customer_labelled, insert_customers, labels_of, labels_of_many, list_customers, remove_labels,
        update_customer_profile, update_customer_status,
    };
    pub use crate::data::deletion::{deleted_before, list_deleted, mark_deleted, mark_restored};
    pub use crate::data::merge::{
        dismissals, duplicate_candidates, get_merge, insert_dismissal, insert_merge, mark_merged, mark_undone, merged_into_tree, merges_into, money_across,
        move_all, move_rows, move_search_sources, primary_contacts, set_primary, standing_merge_of, unmark_merged,
    };
    pub use crate::erasure::{erasable_rows, erase_owned, erasures_after, mark_erased, tombstone_rows};
    pub use crate::files::{delete_file, delete_message_files, get_file, insert_files, list_files, named_blobs, set_message_files_visibility};
    pub use crate::follow_ups::{close_follow_up, get_follow_up, insert_follow_up, list_follow_ups, reschedule_follow_up};
    pub use crate::imports::{
        customers_by_numbers, customers_by_terms, get_import, imported_keys, insert_import, insert_import_keys, list_imports, move_import, update_import,
    };
    pub use crate::messages::{
        delete_message, get_message, insert_messages, list_messages, message_by_email_id, message_by_provider_ref, set_delivery, set_pinned, set_provider_ref,
        update_message,
    };
    pub use crate::orgs::{get_logo, get_org, has_logo, holds_money, insert_org, list_orgs, lock_org, set_logo, update_org};
    pub use crate::portal::{find_portal_link, get_portal_link, insert_portal_link, list_portal_links, revoke_portal_link};
    pub use crate::search::{add_search_terms, rename_in_search, replace_terms};
    pub use crate::sending::email::{email_attachments, get_smtp, insert_email_attachments, put_smtp};
    pub use crate::sending::inbound::{
        assign_inbox_item, count_inbox, customers_with_email, dismiss_inbox_item, get_inbox_item, inbound_secret, inbox_item_by_ref, insert_inbox_item,
        list_inbox, set_inbound_secret,
    };
    pub use crate::sending::sms::{get_sms_settings, phone_candidates, put_sms_settings};
    pub use crate::sends::{
        automated_send_done, automated_send_of_message, customers_owing, customers_with_held, held_messages, insert_automated_send, list_automated_sends,
        overdue_invoices,
    };
    pub use crate::sessions::{
        clear_throttle, count_attempt, find_session, find_session_holder, get_throttle, insert_session, revoke_session, uncount_attempt,
    };
    pub use crate::settings::{get_automations, put_automations};
    pub use crate::sites::{delete_site, get_site, insert_sites, list_sites, set_sites_dormant, sites_of_customers, update_site};
    pub use crate::tasks::{
        cancel_task, claim_tasks, end_attempt, get_task, insert_task, list_tasks, orgs_without_pending, release_task, renew_lease, requeue_failed,
    };
    pub use crate::templates::{delete_template, get_template, list_templates, put_template};
    pub use crate::usage::{note_use, use_is_due};
    pub use crate::users::{
        active_users_by_email, find_invited, find_token_holder, find_user_by_email, get_token, get_user, insert_token, insert_user, list_tokens, list_users,
        revoke_all_of_user, revoke_token, set_invite, set_password, update_user,
    };
    pub use crate::works::{
        claim_job_for_invoice, expiring_quotes, has_assigned_job, insert_inquiry, insert_job, insert_quote, is_assigned, open_jobs_of, release_jobs_of_invoice,
        update_draft_quote, update_inquiry, update_job, update_job_fields, update_quote,
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
