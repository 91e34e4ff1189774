//! The right to erasure: an admin erases a customer's personal data from
//! every table and from the content of the activity log, keeping what the
//! law requires of the money (amounts, dates, numbers, codes) and keeping
//! the audit chain verifiable (`dossier_domain::chain`).

use dossier_domain::ValidationErrors;
use dossier_domain::activity::ActivityKind;
use dossier_domain::chain::{ERASED_DIGEST, ERASED_ROWS, ErasureDigest};
use dossier_domain::customer::{Customer, CustomerStatus};
use dossier_domain::diff::FieldChange;
use dossier_domain::ids::ActivityId;
use dossier_domain::permissions::{Action, Module};
use dossier_domain::text;
use dossier_store::queries as q;
use dossier_store::{Db, SearchTerm, Tx};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{find, search_terms, subject, with_labels};
use crate::record::{activity, with_detail};
use crate::{Ctx, Result, ServiceError};

/// The longest reason an erasure records.
pub const MAX_ERASURE_REASON_CHARS: usize = 500;

/// The body of "erase a customer's personal data".
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureInput {
    /// Why (the request's reference, say); recorded with the erasure, so it
    /// must not hold the erased data itself. At most 500 characters.
    pub reason: Option<String>,
}

/// What an erasure did.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Erasure {
    /// The customer as it is now.
    pub customer: Customer,
    /// The `customer.erased` entry that records the erasure.
    pub activity_id: ActivityId,
    /// How many entries of the activity log lost their content.
    pub entries_erased: u64,
}

/// Erase a customer's personal data (admins: `personal_data` delete).
pub async fn erase_customer(db: &Db, ctx: &Ctx, reference: &str, input: ErasureInput) -> Result<Erasure> {
    ctx.require(Module::PersonalData, Action::Delete)?;
    let reason = text::required_multiline("reason", input.reason, MAX_ERASURE_REASON_CHARS)?;
    let mut tx = db.begin().await?;
    let erasure = erase_in(&mut tx, ctx, reference, &reason).await?;
    tx.commit().await?;
    Ok(erasure)
}

/// Erase in `tx`: the customer's profile, what it owns (contacts, sites,
/// works' texts, messages, files, follow-ups, portal links, waiting
/// sends), its search terms, and the content of every activity row about
/// it; then record the erasure, with the count and digest of the rows it
/// tombstoned, and tombstone them naming it. The customer is deactivated.
pub async fn erase_in(tx: &mut Tx, ctx: &Ctx, reference: &str, reason: &str) -> Result<Erasure> {
    tx.flush().await?;
    let h = &mut tx.handle();
    let row = find(h, ctx, reference).await?;
    if row.erased_at.is_some() {
        return Err(ServiceError::conflict("already_erased", "this customer's personal data was erased already"));
    }
    if reason.is_empty() {
        return Err(ValidationErrors::one("reason", "required", "say why the data is erased").into());
    }
    let (org, id) = (row.org_id, row.id);
    let now = ctx.now();
    let at = now.as_microsecond();
    let erased = row.profile()?.erased();
    let mut new_row = row.with_profile(&erased, now);
    q::update_customer_profile(h, &new_row).await?;
    let old_status = row.status()?;
    let mut changes = Vec::new();
    if old_status != CustomerStatus::Deactivated {
        q::update_customer_status(h, org, id, CustomerStatus::Deactivated, "Personal data erased", at).await?;
        changes.push(FieldChange { field: "status".into(), old: json!(old_status), new: json!(CustomerStatus::Deactivated) });
        new_row.status = CustomerStatus::Deactivated.as_str().to_owned();
        new_row.status_reason = Some("Personal data erased".into());
    }
    q::erase_owned(h, org, id, at, &ctx.actor.name).await?;
    let terms: Vec<SearchTerm> =
        search_terms::customer(row.code(), &erased).into_iter().map(|term| SearchTerm { customer_id: id, source_id: id, term }).collect();
    q::add_search_terms(h, org, &terms).await?;
    q::rename_in_search(h, org, id, &new_row.sort_name).await?;
    q::mark_erased(h, org, id, at).await?;
    new_row.erased_at = Some(at);

    let rows = q::erasable_rows(h, org, id).await?;
    let mut digest = ErasureDigest::default();
    for r in &rows {
        digest.add(r.seq, &r.content_hash);
    }
    let count = digest.rows();
    let upto = rows.last().map_or(0, |r| r.seq);
    let (customer_id, subject, code) = subject(&row);
    let summary = format!("Personal data erased by {}: {reason}", ctx.actor.name);
    let record = activity(ctx, ActivityKind::CustomerErased, customer_id, subject, code, summary, changes);
    let record = with_detail(record, json!({ "reason": reason, ERASED_ROWS: count, ERASED_DIGEST: digest.finish() }));
    let (activity_id, _) = tx.append_now(record).await?;
    let h = &mut tx.handle();
    let tombstoned = q::tombstone_rows(h, org, id, upto, activity_id.0).await?;
    if tombstoned != count {
        return Err(ServiceError::conflict("erasure_raced", "the customer's history changed while it was erased; try again"));
    }
    let customer = with_labels(h, new_row).await?;
    Ok(Erasure { customer, activity_id, entries_erased: count })
}
