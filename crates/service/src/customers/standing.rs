//! What a customer's status allows: new work (inquiries, quotes, jobs,
//! invoices) for a blocked customer only with a reason to go ahead, which
//! the timeline keeps. A deactivated customer gets no new work either, and
//! nothing of it may change until it is reactivated: that is enforced for
//! every write at once where its history is written
//! (`dossier_store`'s `refuse_deactivated`).

use dossier_domain::activity::{ActivityKind, EntityRef};
use dossier_domain::customer::WorkRefused;
use dossier_domain::ids::CustomerId;
use dossier_store::{CustomerRow, Handle, Tx};
use serde_json::json;
use uuid::Uuid;

use crate::record::activity;
use crate::{Ctx, Result, ServiceError};

fn refused(customer: &CustomerRow, refusal: WorkRefused) -> ServiceError {
    ServiceError::conflict(refusal.code(), refusal.message(customer.code()))
}

/// Leave to start new work for a customer, checked against its status:
/// refused (409 `customer_blocked`, `customer_deactivated`) unless the
/// status allows it; for a blocked customer it holds the reason to go
/// ahead, which [`WorkPermit::note`] records beside the new record.
pub(crate) struct WorkPermit {
    customer: CustomerRow,
    go_ahead: Option<String>,
}

impl WorkPermit {
    pub(crate) fn check(customer: CustomerRow, go_ahead: Option<&str>) -> Result<Self> {
        if customer.merged_into.is_some() {
            use dossier_domain::data::merge::MERGED_CODE;
            let message = format!("{} was merged into another customer and is read-only; opening {} shows that customer", customer.code(), customer.code());
            return Err(ServiceError::conflict(MERGED_CODE, message));
        }
        if customer.deleted_at.is_some() {
            use dossier_domain::data::deletion::{DELETED_CODE, deleted_message};
            return Err(ServiceError::conflict(DELETED_CODE, deleted_message(customer.code())));
        }
        match customer.status()?.new_work(customer.status_reason.as_deref(), go_ahead) {
            Ok(go_ahead) => Ok(Self { customer, go_ahead }),
            Err(refusal) => Err(refused(&customer, refusal)),
        }
    }

    /// [`WorkPermit::check`] for a customer known by id (converting an
    /// inquiry, accepting a quote into a job).
    pub(crate) async fn for_customer(h: &mut Handle<'_>, ctx: &Ctx, customer: Uuid, go_ahead: Option<&str>) -> Result<Self> {
        Self::check(crate::customers::find(h, ctx, &customer.to_string()).await?, go_ahead)
    }

    pub(crate) fn customer(&self) -> &CustomerRow {
        &self.customer
    }

    /// Record, beside the new record's own entry, that it was made for a
    /// blocked customer and why. Nothing when there was no block.
    pub(crate) async fn note(&self, tx: &mut Tx, ctx: &Ctx, record: EntityRef, code: &str) -> Result<()> {
        let Some(reason) = &self.go_ahead else { return Ok(()) };
        let customer = &self.customer;
        let summary = format!("{code} made although {} is blocked: {reason}", customer.code());
        let mut entry = activity(ctx, ActivityKind::CustomerBlockOverridden, Some(CustomerId(customer.id)), record, Some(code.to_owned()), summary, Vec::new());
        entry.detail = json!({ "reason": reason, "blocked_because": customer.status_reason });
        tx.append(entry).await?;
        Ok(())
    }
}
