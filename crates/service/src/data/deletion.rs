//! Deleting a customer and restoring it.
//!
//! Deleting is a soft delete: the customer keeps every row it had, is left
//! out of every list, search and count (its search terms are set aside),
//! still opens read-only by its id and code, and nothing of it or of what
//! it owns may change (the store's one guard refuses any write whose
//! history concerns it: `customer_deleted`). Its portal links stop
//! working and automations send it nothing. An admin restores it, exactly
//! as it was, until its retention window ends
//! ([`RESTORE_WINDOW_DAYS`](dossier_domain::data::deletion::RESTORE_WINDOW_DAYS));
//! after that [`past_window`] lists it for the purge.

use dossier_domain::activity::ActivityKind;
use dossier_domain::customer::Customer;
use dossier_domain::data::deletion::{DeleteInput, Deleted, RESTORE_WINDOW_DAYS, WINDOW_ENDED_CODE};
use dossier_domain::permissions::{Action, Module};
use dossier_store::queries as q;
use dossier_store::{CustomerRow, Db};
use jiff::SignedDuration;
use serde::Deserialize;
use serde_json::json;

use crate::customers::{find, subject};
use crate::page::{Page, limit, paginate, time_cursor};
use crate::record::activity;
use crate::{Ctx, Result, ServiceError};

/// Delete a customer (soft): recorded as `customer.deleted` with the reason,
/// in the same transaction. Owners and admins only.
pub async fn delete_customer(db: &Db, ctx: &Ctx, reference: &str, input: DeleteInput) -> Result<Customer> {
    ctx.require(Module::DeletedCustomers, Action::Delete)?;
    let reason = input.parse()?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let row = find(h, ctx, reference).await?;
    refuse_merged(&row)?;
    let now = ctx.now();
    if !q::mark_deleted(h, row.org_id, row.id, now.as_microsecond(), &ctx.actor.name, reason.as_deref()).await? {
        return Err(ServiceError::conflict("already_deleted", format!("{} is deleted already", row.code())));
    }
    let deleted = Deleted::new(now, ctx.actor.name.clone(), reason.clone());
    let labels = q::labels_of(h, row.org_id, row.id).await?;
    let (id, entity, code) = subject(&row);
    let summary = match &reason {
        Some(reason) => format!("Customer {} deleted: {reason}", row.code()),
        None => format!("Customer {} deleted", row.code()),
    };
    let mut entry = activity(ctx, ActivityKind::CustomerDeleted, id, entity, code, summary, Vec::new());
    entry.detail = json!({ "reason": reason, "restorable_until": deleted.restorable_until });
    let deleted_row = CustomerRow { deleted_at: Some(now.as_microsecond()), deleted_by: Some(deleted.by.clone()), delete_reason: reason, ..row };
    tx.append(entry).await?;
    tx.commit().await?;
    Ok(deleted_row.into_customer(labels)?)
}

/// Restore a deleted customer as it was, within its window: recorded as
/// `customer.restored` (with why it had been deleted). After the window:
/// 409 `restore_window_ended`; a customer not deleted: 409 `not_deleted`.
pub async fn restore_customer(db: &Db, ctx: &Ctx, reference: &str) -> Result<Customer> {
    ctx.require(Module::DeletedCustomers, Action::Edit)?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let row = find(h, ctx, reference).await?;
    refuse_merged(&row)?;
    let Some(deleted) = row.deleted()? else {
        return Err(ServiceError::conflict("not_deleted", format!("{} is not deleted", row.code())));
    };
    if !deleted.restorable(ctx.now()) {
        let ended = ctx.org.date(deleted.restorable_until.to_zoned(ctx.org.zone()).date());
        return Err(ServiceError::conflict(
            WINDOW_ENDED_CODE,
            format!("{} can no longer be restored: it was deleted more than {RESTORE_WINDOW_DAYS} days ago (the window ended on {ended})", row.code()),
        ));
    }
    q::mark_restored(h, row.org_id, row.id).await?;
    let labels = q::labels_of(h, row.org_id, row.id).await?;
    let (id, entity, code) = subject(&row);
    let summary = format!("Customer {} restored (deleted by {})", row.code(), deleted.by);
    let mut entry = activity(ctx, ActivityKind::CustomerRestored, id, entity, code, summary, Vec::new());
    entry.detail = json!({ "deleted_at": deleted.at, "deleted_by": deleted.by, "reason": deleted.reason });
    let restored = CustomerRow { deleted_at: None, deleted_by: None, delete_reason: None, ..row };
    tx.append(entry).await?;
    tx.commit().await?;
    Ok(restored.into_customer(labels)?)
}

/// A customer merged into another is neither deleted nor restored here:
/// undoing its merge brings it back.
fn refuse_merged(row: &CustomerRow) -> Result<()> {
    match row.merged_into {
        Some(_) => Err(ServiceError::conflict(
            dossier_domain::data::merge::MERGED_CODE,
            format!("{} was merged into another customer; undo the merge to bring it back", row.code()),
        )),
        None => Ok(()),
    }
}

/// Query parameters of the deleted customers' list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeletedQuery {
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Deleted customers, most recently deleted first, each with its `deleted`
/// (who, when, why, restorable until). Owners and admins only.
pub async fn list_deleted(db: &Db, ctx: &Ctx, query: DeletedQuery) -> Result<Page<Customer>> {
    ctx.require(Module::DeletedCustomers, Action::View)?;
    let limit = limit(query.limit)?;
    let after = time_cursor(query.cursor.as_deref())?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let rows = q::list_deleted(h, ctx.org.id.0, after, limit + 1).await?;
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
    let mut labels = q::labels_of_many(h, ctx.org.id.0, &ids).await?;
    paginate(
        rows,
        limit,
        |r| format!("{}:{}", r.deleted_at.unwrap_or_default(), r.id),
        |r| {
            let labels = labels.remove(&r.id).unwrap_or_default();
            Ok(r.into_customer(labels)?)
        },
    )
}

/// The deleted customers of the caller's org whose restore window has
/// ended (deleted at least [`RESTORE_WINDOW_DAYS`] days before the
/// caller's now) and not erased yet, oldest first, at most `limit`: what
/// the purge takes.
pub async fn past_window(db: &Db, ctx: &Ctx, limit: i64) -> Result<Vec<Customer>> {
    ctx.require(Module::DeletedCustomers, Action::Delete)?;
    let ended_before = ctx.now().saturating_sub(SignedDuration::from_hours(24 * RESTORE_WINDOW_DAYS)).unwrap_or(ctx.now());
    let mut conn = db.read().await?;
    let rows = q::deleted_before(&mut conn.handle(), ctx.org.id.0, ended_before.as_microsecond(), limit).await?;
    rows.into_iter().map(|r| Ok(r.into_customer(Vec::new())?)).collect()
}

/// The purge: the personal data of every customer whose restore window
/// has ended (as of the caller's now) is erased, one customer per short
/// transaction, as the system. What the law keeps stays: the erasure keeps
/// invoices, payments and credit notes with their numbers, dates and
/// amounts, and the customer's shell (code, deleted, erased) stays so the
/// records and the history still name it. Answers how many were purged.
pub async fn purge(db: &Db, ctx: &Ctx) -> Result<usize> {
    let mut purged = 0;
    loop {
        let due = past_window(db, ctx, 50).await?;
        if due.is_empty() {
            return Ok(purged);
        }
        for customer in due {
            let reason = format!("Deleted more than {RESTORE_WINDOW_DAYS} days ago: its restore window ended");
            let mut tx = db.begin().await?;
            crate::customers::erasure::erase_in(&mut tx, ctx, &customer.code, &reason).await?;
            tx.commit().await?;
            purged += 1;
        }
    }
}

/// The nightly purge task of one org.
pub(crate) async fn run_purge(db: &Db, task: &crate::automation::tasks::Claimed) -> Result<usize> {
    let org = crate::orgs::load(&mut db.read().await?.handle(), task.org_id.0).await?;
    let ctx = Ctx::system(org, "Dossier (purge of deleted customers)");
    let purged = purge(db, &ctx).await?;
    if purged > 0 {
        tracing::info!(org = %ctx.org.id, purged, "deleted customers purged");
    }
    Ok(purged)
}
