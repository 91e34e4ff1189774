//! Where a message Dossier sends stands: held, queued, sent, delivered,
//! bounced, failed or cancelled. Every move is one conditional statement
//! (two workers, or a worker and a provider's webhook, cannot both make
//! it) and one activity on the customer's timeline in the same
//! transaction.

use dossier_domain::activity::{ActivityKind, Visibility};
use dossier_domain::message::{DeliveryStatus, Message};
use dossier_store::Tx;
use dossier_store::queries as q;

use crate::conversations::messages::{contact_of, message_activity};
use crate::{Ctx, Result};

/// The activity that records a message reaching `status`.
pub fn activity_kind(status: DeliveryStatus) -> ActivityKind {
    match status {
        DeliveryStatus::Held => ActivityKind::MessageHeld,
        DeliveryStatus::Queued => ActivityKind::MessageQueued,
        DeliveryStatus::Sent => ActivityKind::MessageSent,
        DeliveryStatus::Delivered => ActivityKind::MessageDelivered,
        DeliveryStatus::Bounced => ActivityKind::MessageBounced,
        DeliveryStatus::Failed => ActivityKind::MessageFailed,
        DeliveryStatus::Cancelled => ActivityKind::MessageCancelled,
    }
}

/// Move `message`'s delivery to `status`, with the server's answer or the
/// reason in `detail`, if its current state may become it; write the
/// activity. Returns the message as it now is, or `None` if it was not in
/// a state that may become `status` (another worker or webhook moved it
/// first, or it is not a sent message at all): nothing changes then.
pub async fn move_in(tx: &mut Tx, ctx: &Ctx, message: &Message, status: DeliveryStatus, detail: Option<&str>) -> Result<Option<Message>> {
    let from: Vec<DeliveryStatus> = DeliveryStatus::ALL.iter().copied().filter(|s| s.may_become(status)).collect();
    let at = ctx.now();
    let h = &mut tx.handle();
    if !q::set_delivery(h, ctx.org.id.0, message.id.0, &from, status, detail, at.as_microsecond()).await? {
        return Ok(None);
    }
    let moved = q::get_message(h, ctx.org.id.0, message.id.0).await?.map(|row| row.into_message()).transpose()?;
    let Some(moved) = moved else { return Ok(None) };
    let contact = contact_of(h, ctx, moved.contact_id).await?;
    let mut summary = format!("{} {}", moved.heading(contact.as_deref()), status.as_str());
    if let Some(detail) = detail {
        summary.push_str(&format!(": {}", dossier_domain::message::excerpt(detail, 200)));
    }
    let mut record = message_activity(ctx, activity_kind(status), &moved, contact.as_deref(), summary);
    // The customer sees that a message went; why one was held, failed or
    // bounced is for staff.
    if !matches!(status, DeliveryStatus::Queued | DeliveryStatus::Sent | DeliveryStatus::Delivered) {
        record.visibility = Visibility::Internal;
    }
    record.detail["delivery"] = serde_json::json!({ "status": status, "detail": detail });
    tx.append(record).await?;
    Ok(Some(moved))
}

/// A send task (email or SMS) given up for good: its message (the
/// payload's `message_id`) is failed with the last error, in the
/// transaction that ends the task. A deactivated (or deleted) customer's history may
/// not change: the message then stays as it is.
pub(crate) async fn give_up_in(tx: &mut Tx, ctx: &Ctx, task: &crate::tasks::Task, error: &str) -> Result<()> {
    let id = task.payload.get("message_id").and_then(serde_json::Value::as_str).and_then(|s| uuid::Uuid::parse_str(s).ok());
    let Some(id) = id else { return Ok(()) };
    let Some(row) = q::get_message(&mut tx.handle(), ctx.org.id.0, id).await? else { return Ok(()) };
    let message = row.into_message()?;
    let customer = crate::customers::find(&mut tx.handle(), ctx, &message.customer_id.0.to_string()).await?;
    if customer.read_only()? {
        return Ok(());
    }
    move_in(tx, ctx, &message, DeliveryStatus::Failed, Some(&format!("gave up after the last attempt: {error}"))).await?;
    Ok(())
}
