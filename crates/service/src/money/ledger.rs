//! Taking money back out of the ledger: refunding a payment's or credit
//! note's account credit to the customer, and taking an allocation back
//! (the rules are in [`dossier_domain::ledger`]).
//!
//! Both are guarded in the statements that write them: a refund only while
//! the source has that much neither allocated nor refunded, a take-back only
//! of an allocation not taken back yet. So two people refunding (or taking
//! back) at once cannot return more than is there, on either backend. An
//! invoice closed by the allocation taken back is open again, with its own
//! activity.

use dossier_domain::ValidationErrors;
use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
use dossier_domain::ids::{CustomerId, RefundId};
use dossier_domain::ledger::{NewRefund, RefundInput, UnallocateInput};
use dossier_domain::money::Money;
use dossier_domain::permissions::{Action, Module};
use dossier_domain::workflow::InvoiceStatus;
use dossier_domain::works::{CreditNote, Payment};
use dossier_store::queries as q;
use dossier_store::{AllocationSource, Db, RefundRow, Reversal, Tx};
use serde_json::json;

use crate::billing::{find_credit_note, find_payment, invoice_activity, load_credit_note, load_payment, move_invoice};
use crate::record::{activity, money, with_detail};
use crate::{Ctx, Result, ServiceError};

/// A payment or credit note as these use cases need it.
struct Held {
    source: AllocationSource,
    customer_id: uuid::Uuid,
    code: String,
    /// Neither allocated nor refunded.
    unallocated: Money,
}

impl Held {
    fn subject(&self) -> EntityRef {
        match self.source {
            AllocationSource::Payment(id) => EntityRef::new(EntityType::Payment, id),
            AllocationSource::CreditNote(id) => EntityRef::new(EntityType::CreditNote, id),
        }
    }

    fn kind(&self, payment: ActivityKind, credit_note: ActivityKind) -> ActivityKind {
        if matches!(self.source, AllocationSource::Payment(_)) { payment } else { credit_note }
    }
}

async fn held_payment(tx: &mut Tx, ctx: &Ctx, reference: &str) -> Result<Held> {
    let row = find_payment(&mut tx.handle(), ctx, reference).await?;
    Ok(Held { source: AllocationSource::Payment(row.id), customer_id: row.customer_id, code: row.code().to_string(), unallocated: row.unallocated() })
}

async fn held_credit_note(tx: &mut Tx, ctx: &Ctx, reference: &str) -> Result<Held> {
    let row = find_credit_note(&mut tx.handle(), ctx, reference).await?;
    Ok(Held { source: AllocationSource::CreditNote(row.id), customer_id: row.customer_id, code: row.code().to_string(), unallocated: row.unallocated() })
}

/// What is done to a payment's or credit note's money.
enum Step {
    Refund(NewRefund),
    /// Take back the allocation with this id, for this reason.
    Unallocate(String, String),
}

impl Step {
    async fn make(self, tx: &mut Tx, ctx: &Ctx, held: &Held) -> Result<()> {
        match self {
            Step::Refund(new) => refund_in(tx, ctx, held, new).await,
            Step::Unallocate(allocation, reason) => unallocate_in(tx, ctx, held, &allocation, reason).await,
        }
    }
}

/// Make `step` on a payment, in one transaction; the payment as it is then.
async fn on_payment(db: &Db, ctx: &Ctx, reference: &str, step: Step) -> Result<Payment> {
    let mut tx = db.begin().await?;
    let held = held_payment(&mut tx, ctx, reference).await?;
    step.make(&mut tx, ctx, &held).await?;
    let payment = load_payment(&mut tx.handle(), ctx, held.subject().id).await?;
    tx.commit().await?;
    Ok(payment)
}

/// Make `step` on a credit note, in one transaction; the credit note as it is then.
async fn on_credit_note(db: &Db, ctx: &Ctx, reference: &str, step: Step) -> Result<CreditNote> {
    let mut tx = db.begin().await?;
    let held = held_credit_note(&mut tx, ctx, reference).await?;
    step.make(&mut tx, ctx, &held).await?;
    let credit = load_credit_note(&mut tx.handle(), ctx, held.subject().id).await?;
    tx.commit().await?;
    Ok(credit)
}

/// Return part of a payment's account credit to the customer.
pub async fn refund_payment(db: &Db, ctx: &Ctx, reference: &str, input: RefundInput) -> Result<Payment> {
    ctx.require(Module::Payments, Action::Edit)?;
    on_payment(db, ctx, reference, Step::Refund(input.parse()?)).await
}

/// Pay out part of a credit note's account credit to the customer.
pub async fn refund_credit_note(db: &Db, ctx: &Ctx, reference: &str, input: RefundInput) -> Result<CreditNote> {
    ctx.require(Module::CreditNotes, Action::Edit)?;
    on_credit_note(db, ctx, reference, Step::Refund(input.parse()?)).await
}

/// Take an allocation of a payment back: the amount is the payment's
/// account credit again, and its invoice has that much more to pay.
pub async fn unallocate_payment(db: &Db, ctx: &Ctx, reference: &str, allocation: &str, input: UnallocateInput) -> Result<Payment> {
    ctx.require(Module::Payments, Action::Edit)?;
    on_payment(db, ctx, reference, Step::Unallocate(allocation.to_owned(), input.parse()?)).await
}

/// Take an allocation of a credit note back.
pub async fn unallocate_credit_note(db: &Db, ctx: &Ctx, reference: &str, allocation: &str, input: UnallocateInput) -> Result<CreditNote> {
    ctx.require(Module::CreditNotes, Action::Edit)?;
    on_credit_note(db, ctx, reference, Step::Unallocate(allocation.to_owned(), input.parse()?)).await
}

// ---------------------------------------------------------------- refunds

/// Record the refund and its activity.
async fn refund_in(tx: &mut Tx, ctx: &Ctx, held: &Held, new: NewRefund) -> Result<()> {
    let too_much = |left: String| {
        ValidationErrors::one("amount", "exceeds_unallocated", format!("is more than the {left} of {} neither allocated nor refunded", held.code))
    };
    if new.amount > held.unallocated {
        return Err(too_much(money(ctx, held.unallocated)).into());
    }
    let row = RefundRow {
        org_id: ctx.org.id.0,
        id: RefundId::new().0,
        customer_id: held.customer_id,
        amount: new.amount.0,
        method: new.method.as_str().into(),
        reference: new.reference,
        reason: new.reason,
        refunded_on: ctx.today().to_string(),
        created_at: ctx.now().as_microsecond(),
    };
    // The check above gives the reason; the statement repeats it for a refund racing this one.
    if !q::insert_refund(&mut tx.handle(), &row, held.source).await? {
        return Err(too_much("amount left".into()).into());
    }
    let kind = held.kind(ActivityKind::PaymentRefunded, ActivityKind::CreditNoteRefunded);
    let summary = String::new(); // rendered from the detail
    let record = activity(ctx, kind, Some(CustomerId(held.customer_id)), held.subject(), Some(held.code.clone()), summary, Vec::new());
    let detail = json!({ "amount": row.amount, "method": row.method, "reference": row.reference, "reason": row.reason, "refunded_on": row.refunded_on });
    tx.append(with_detail(record, detail)).await?;
    Ok(())
}

// ---------------------------------------------------------------- taking an allocation back

/// Reverse the allocation, record it, and reopen its invoice if it had closed.
async fn unallocate_in(tx: &mut Tx, ctx: &Ctx, held: &Held, allocation: &str, reason: String) -> Result<()> {
    let allocation = uuid::Uuid::parse_str(allocation).map_err(|_| ServiceError::NotFound("allocation"))?;
    let now = ctx.now().as_microsecond();
    let reversal = q::reverse_allocation(&mut tx.handle(), ctx.org.id.0, allocation, held.source, ctx.today(), now, &reason).await?;
    let (amount, mut invoice) = match reversal {
        Reversal::Done { amount, invoice } => (amount, invoice),
        Reversal::NotFound => return Err(ServiceError::NotFound("allocation")),
        Reversal::AlreadyReversed => {
            return Err(ServiceError::conflict("already_unallocated", format!("this allocation of {} was taken back already", held.code)));
        }
    };
    let kind = held.kind(ActivityKind::PaymentUnallocated, ActivityKind::CreditNoteUnallocated);
    let summary = String::new(); // rendered from the detail
    let mut record = activity(ctx, kind, Some(CustomerId(held.customer_id)), held.subject(), Some(held.code.clone()), summary, Vec::new());
    record.also_links.push(EntityRef::new(EntityType::Invoice, invoice.id));
    let detail = json!({ "amount": amount, "invoice": invoice.code().to_string(), "invoice_balance": invoice.balance().0, "reason": reason });
    tx.append(with_detail(record, detail)).await?;
    if invoice.status()? == InvoiceStatus::Closed {
        invoice.status = InvoiceStatus::Open.as_str().into();
        invoice.updated_at = now;
        move_invoice(&mut tx.handle(), &invoice, InvoiceStatus::Closed).await?;
        let mut record = invoice_activity(ctx, ActivityKind::InvoiceReopened, &invoice, String::new());
        record.detail["reason"] = json!(reason);
        record.also_links.push(held.subject());
        tx.append(record).await?;
    }
    Ok(())
}
