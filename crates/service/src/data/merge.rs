//! Merging a customer into another, and undoing the merge.
//!
//! A merge moves every record of the merged customer (contacts, sites,
//! inquiries, quotes, jobs, invoices, payments, credit notes, allocations,
//! refunds, messages, follow-ups, files) to the survivor in one
//! transaction, sets the survivor's fields as chosen, and sets the merged
//! customer aside: deleted (out of every list, search and count), naming
//! its survivor, read-only (`customer_merged`). Its id and code still
//! resolve, to the survivor. The `customer_merge` row keeps exactly which
//! rows moved and the survivor's profile before, so undoing (within
//! [`UNDO_WINDOW_DAYS`]) moves exactly those rows back and restores both
//! customers; rows the survivor gained after the merge stay with it.
//! History is never rewritten: the survivor's timeline reads the merged
//! customer's entries too while the merge stands.

use std::collections::BTreeMap;

use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
use dossier_domain::custom_fields::FieldEntity;
use dossier_domain::customer::{Customer, CustomerProfile};
use dossier_domain::data::merge::{
    ERASED_CODE, INTO_ITSELF_CODE, MERGED_CODE, Merge, MergeInput, MergeParty, MergedFrom, Moved, UNDO_WINDOW_DAYS, UNDO_WINDOW_ENDED_CODE, UNDONE_CODE,
    merged_profile, undoable_until,
};
use dossier_domain::diff::diff;
use dossier_domain::permissions::{Action, Module};
use dossier_domain::search::custom_value_source;
use dossier_store::queries as q;
use dossier_store::{CustomerRow, Db, Handle, MergeRow};
use jiff::Timestamp;
use serde_json::json;
use uuid::Uuid;

use crate::customers::{find, subject};
use crate::record::activity;
use crate::{Ctx, Result, ServiceError, search_terms};

/// Customers merged into one survivor (directly or through another) whose
/// history its timeline reads, at most.
pub const MAX_MERGED_HISTORIES: usize = 100;

/// Refuse a party of a merge that is not live: merged already, erased, or deleted.
fn live(row: &CustomerRow) -> Result<()> {
    if row.merged_into.is_some() {
        return Err(ServiceError::conflict(MERGED_CODE, format!("{} was merged into another customer already", row.code())));
    }
    if row.erased_at.is_some() {
        return Err(ServiceError::conflict(ERASED_CODE, format!("{} was erased; an erased customer cannot be merged", row.code())));
    }
    if row.deleted_at.is_some() {
        use dossier_domain::data::deletion::{DELETED_CODE, deleted_message};
        return Err(ServiceError::conflict(DELETED_CODE, deleted_message(row.code())));
    }
    Ok(())
}

/// The search sources of moved records: their own ids (contacts, sites)
/// and the custom values of moved sites and jobs.
async fn moved_sources(h: &mut Handle<'_>, org: Uuid, moved: &Moved) -> Result<Vec<Uuid>> {
    let ids = |table: &str| moved.tables.get(table).cloned().unwrap_or_default();
    let mut sources: Vec<Uuid> = ids("contact").into_iter().chain(ids("site")).collect();
    for (entity, table) in [(FieldEntity::Site, "site"), (FieldEntity::Job, "job")] {
        let records = ids(table);
        if records.is_empty() {
            continue;
        }
        for definition in crate::custom_fields::definitions_in(h, org, entity).await?.iter() {
            sources.extend(records.iter().map(|record| custom_value_source(definition.id.0, *record)));
        }
    }
    Ok(sources)
}

/// Write a customer's profile and its search terms.
async fn set_profile(h: &mut Handle<'_>, ctx: &Ctx, row: &CustomerRow, before: &CustomerProfile, after: &CustomerProfile) -> Result<CustomerRow> {
    let new_row = row.with_profile(after, ctx.now());
    q::update_customer_profile(h, &new_row).await?;
    if new_row.sort_name != row.sort_name {
        q::rename_in_search(h, row.org_id, row.id, &new_row.sort_name).await?;
    }
    let fields = crate::custom_fields::definitions(h, ctx, FieldEntity::Customer).await?;
    search_terms::refresh(h, row.org_id, row.id, row.id, search_terms::customer(row.code(), before), search_terms::customer(row.code(), after)).await?;
    search_terms::refresh_custom(h, row.org_id, row.id, row.id, &fields, &before.custom_fields, &after.custom_fields).await?;
    Ok(new_row)
}

fn party(row: &CustomerRow) -> MergeParty {
    MergeParty { id: row.id, code: row.code().to_owned(), display_name: row.display_name.clone() }
}

fn view(row: &MergeRow, survivor: &CustomerRow, merged: &CustomerRow) -> Result<Merge> {
    let moved: Moved = serde_json::from_str(&row.moved).map_err(|e| ServiceError::Internal(format!("a merge's moved rows: {e}")))?;
    let at = |micros: i64| Timestamp::from_microsecond(micros).map_err(|e| ServiceError::Internal(e.to_string()));
    let merged_at = at(row.merged_at)?;
    Ok(Merge {
        id: row.id,
        survivor: party(survivor),
        merged: party(merged),
        merged_at,
        merged_by: row.merged_by.clone(),
        moved: moved.counts(),
        undoable_until: undoable_until(merged_at),
        undone_at: row.undone_at.map(at).transpose()?,
        undone_by: row.undone_by.clone(),
    })
}

/// "3 invoices, 1 site" from the moved rows' counts.
fn moved_words(counts: &BTreeMap<String, usize>) -> String {
    if counts.is_empty() {
        return "nothing to move".to_owned();
    }
    counts.iter().map(|(table, n)| format!("{n} {}", table.replace('_', " ") + if *n == 1 { "" } else { "s" })).collect::<Vec<_>>().join(", ")
}

/// Merge customer `input.merged` into `survivor`, in one transaction:
/// every record of the merged customer becomes the survivor's, the
/// survivor's fields are set as chosen (see
/// [`merged_profile`](dossier_domain::data::merge::merged_profile)), the
/// merged customer's labels are added, its primary contact stops being
/// primary when the survivor has one, and the merged customer is set aside.
/// Recorded as one `customer.merged` on both customers. Owners and admins.
///
/// Refused (409): merging a customer into itself (`merge_into_itself`), or
/// either customer merged already (`customer_merged`), erased
/// (`customer_erased`) or deleted (`customer_deleted`).
pub async fn merge_customers(db: &Db, ctx: &Ctx, survivor: &str, input: MergeInput) -> Result<Merge> {
    ctx.require(Module::Merges, Action::Edit)?;
    let (merged_ref, choices) = input.parse()?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let survivor = find(h, ctx, survivor).await?;
    let merged = find(h, ctx, &merged_ref).await?;
    if survivor.id == merged.id {
        return Err(ServiceError::conflict(INTO_ITSELF_CODE, format!("{} cannot be merged into itself", survivor.code())));
    }
    live(&survivor)?;
    live(&merged)?;
    let org = survivor.org_id;
    let now = ctx.now();
    let before = survivor.profile()?;
    let after = merged_profile(&before, &merged.profile()?, &choices);

    let mut moved = Moved::default();
    if !q::primary_contacts(h, org, survivor.id).await?.is_empty() {
        moved.unprimaried_contacts = q::primary_contacts(h, org, merged.id).await?;
        q::set_primary(h, org, &moved.unprimaried_contacts, false).await?;
    }
    let theirs = q::labels_of(h, org, merged.id).await?;
    let ours = q::labels_of(h, org, survivor.id).await?;
    moved.added_labels = theirs.into_iter().filter(|l| !ours.contains(l)).collect();
    let pairs: Vec<(Uuid, String)> = moved.added_labels.iter().map(|l| (survivor.id, l.clone())).collect();
    q::add_labels(h, org, &pairs).await?;
    moved.tables = q::move_all(h, org, merged.id, survivor.id).await?;
    let sources = moved_sources(h, org, &moved).await?;
    q::move_search_sources(h, org, merged.id, survivor.id, &sources).await?;

    let changes = diff(&before, &after);
    let survivor_now = if changes.is_empty() { survivor.clone() } else { set_profile(h, ctx, &survivor, &before, &after).await? };
    let reason = format!("Merged into {}", survivor.code());
    if !q::mark_merged(h, org, merged.id, survivor.id, now.as_microsecond(), &ctx.actor.name, &reason).await? {
        return Err(ServiceError::conflict(MERGED_CODE, format!("{} was merged or deleted meanwhile", merged.code())));
    }
    let row = MergeRow {
        org_id: org,
        id: Uuid::now_v7(),
        survivor_id: survivor.id,
        merged_id: merged.id,
        survivor_before: serde_json::to_string(&before).map_err(|e| ServiceError::Internal(e.to_string()))?,
        moved: serde_json::to_string(&moved).map_err(|e| ServiceError::Internal(e.to_string()))?,
        merged_at: now.as_microsecond(),
        merged_by: ctx.actor.name.clone(),
        undone_at: None,
        undone_by: None,
    };
    q::insert_merge(h, &row).await?;

    let counts = moved.counts();
    let (id, entity, code) = subject(&survivor);
    let summary = format!("{} ({}) merged into {}: {}", merged.code(), merged.display_name, survivor.code(), moved_words(&counts));
    let mut entry = activity(ctx, ActivityKind::CustomerMerged, id, entity, code, summary, changes);
    entry.also_links = vec![EntityRef::new(EntityType::Customer, merged.id)];
    entry.detail = json!({
        "merge_id": row.id,
        "merged": { "id": merged.id, "code": merged.code(), "name": merged.display_name },
        "moved": counts,
        "labels_added": moved.added_labels,
        "undoable_until": undoable_until(now),
    });
    tx.append(entry).await?;
    let merged_now = CustomerRow { merged_into: Some(survivor.id), deleted_at: Some(now.as_microsecond()), ..merged };
    let answer = view(&row, &survivor_now, &merged_now)?;
    tx.commit().await?;
    Ok(answer)
}

/// The merge with this id.
async fn load(h: &mut Handle<'_>, ctx: &Ctx, id: &str) -> Result<MergeRow> {
    let id = Uuid::parse_str(id.trim()).map_err(|_| ServiceError::NotFound("merge"))?;
    q::get_merge(h, ctx.org.id.0, id).await?.ok_or(ServiceError::NotFound("merge"))
}

/// One merge: who into whom, when, by whom, how many rows moved, until
/// when it can be undone and whether it was. Owners and admins.
pub async fn get_merge(db: &Db, ctx: &Ctx, id: &str) -> Result<Merge> {
    ctx.require(Module::Merges, Action::View)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let row = load(h, ctx, id).await?;
    let survivor = find(h, ctx, &row.survivor_id.to_string()).await?;
    let merged = find(h, ctx, &row.merged_id.to_string()).await?;
    view(&row, &survivor, &merged)
}

/// Undo a merge within [`UNDO_WINDOW_DAYS`], in one transaction: exactly
/// the rows it moved go back to the merged customer (those still with the
/// survivor), the survivor's fields, labels and primary contact are as they
/// were before it, and the merged customer is live again. Recorded as
/// `customer.merge_undone` on both. Owners and admins.
///
/// Refused (409): undone already (`merge_undone`), after the window
/// (`undo_window_ended`), a survivor since merged, deleted or erased
/// (`customer_merged`, `customer_deleted`, `customer_erased`), or money
/// allocated or refunded across the two since the merge (`undo_blocked`:
/// undo that allocation first, so each customer's money stays whole).
pub async fn undo_merge(db: &Db, ctx: &Ctx, id: &str) -> Result<Merge> {
    ctx.require(Module::Merges, Action::Edit)?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let row = load(h, ctx, id).await?;
    if row.undone_at.is_some() {
        return Err(ServiceError::conflict(UNDONE_CODE, "this merge was undone already"));
    }
    let merged_at = Timestamp::from_microsecond(row.merged_at).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let until = undoable_until(merged_at);
    if ctx.now() >= until {
        let ended = ctx.org.date(until.to_zoned(ctx.org.zone()).date());
        return Err(ServiceError::conflict(
            UNDO_WINDOW_ENDED_CODE,
            format!("this merge can no longer be undone: it was made more than {UNDO_WINDOW_DAYS} days ago (the window ended on {ended})"),
        ));
    }
    let survivor = find(h, ctx, &row.survivor_id.to_string()).await?;
    let merged = find(h, ctx, &row.merged_id.to_string()).await?;
    live(&survivor)?;
    let org = row.org_id;
    let moved: Moved = serde_json::from_str(&row.moved).map_err(|e| ServiceError::Internal(format!("a merge's moved rows: {e}")))?;
    let before: CustomerProfile = serde_json::from_str(&row.survivor_before).map_err(|e| ServiceError::Internal(format!("a merge's profile: {e}")))?;

    q::unmark_merged(h, org, merged.id).await?;
    let mut back = BTreeMap::new();
    for (table, ids) in &moved.tables {
        back.insert(table.clone(), q::move_rows(h, org, table, ids, survivor.id, merged.id).await? as usize);
    }
    let sources = moved_sources(h, org, &moved).await?;
    q::move_search_sources(h, org, survivor.id, merged.id, &sources).await?;
    q::set_primary(h, org, &moved.unprimaried_contacts, true).await?;
    q::remove_labels(h, org, survivor.id, &moved.added_labels).await?;
    if q::money_across(h, org, survivor.id, merged.id).await? {
        return Err(ServiceError::conflict(
            "undo_blocked",
            format!(
                "since the merge, money was allocated or refunded between records of {} and of {}: unallocate it first, so each customer's account stays whole",
                survivor.code(),
                merged.code()
            ),
        ));
    }
    let current = survivor.profile()?;
    let changes = diff(&current, &before);
    let survivor_now = if changes.is_empty() { survivor.clone() } else { set_profile(h, ctx, &survivor, &current, &before).await? };
    let now = ctx.now();
    q::mark_undone(h, org, row.id, now.as_microsecond(), &ctx.actor.name).await?;

    let (id, entity, code) = subject(&survivor);
    let summary = format!("Merge of {} into {} undone: {}", merged.code(), survivor.code(), moved_words(&back));
    let mut entry = activity(ctx, ActivityKind::CustomerMergeUndone, id, entity, code, summary, changes);
    entry.also_links = vec![EntityRef::new(EntityType::Customer, merged.id)];
    entry.detail = json!({
        "merge_id": row.id,
        "merged": { "id": merged.id, "code": merged.code(), "name": merged.display_name },
        "merged_at": merged_at,
        "merged_by": row.merged_by,
        "moved_back": back,
    });
    tx.append(entry).await?;
    let undone = MergeRow { undone_at: Some(now.as_microsecond()), undone_by: Some(ctx.actor.name.clone()), ..row };
    let merged_now = CustomerRow { merged_into: None, deleted_at: None, deleted_by: None, delete_reason: None, ..merged };
    let answer = view(&undone, &survivor_now, &merged_now)?;
    tx.commit().await?;
    Ok(answer)
}

/// The merges into a customer that stand, newest first: what its profile
/// offers to undo. Owners and admins (others: none).
pub async fn merges_into(db: &Db, ctx: &Ctx, survivor: &str) -> Result<Vec<Merge>> {
    if ctx.access(Module::Merges, Action::View) == dossier_domain::permissions::Access::None {
        return Ok(Vec::new());
    }
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let survivor = find(h, ctx, survivor).await?;
    let mut out = Vec::new();
    for row in q::merges_into(h, ctx.org.id.0, survivor.id).await? {
        let merged = find(h, ctx, &row.merged_id.to_string()).await?;
        out.push(view(&row, &survivor, &merged)?);
    }
    Ok(out)
}

/// How reads name a customer: like [`find`], except that a customer merged
/// into another resolves to its survivor (through any chain of merges),
/// with which customer was asked for and the merge.
pub(crate) async fn resolve(h: &mut Handle<'_>, ctx: &Ctx, reference: &str) -> Result<(CustomerRow, Option<MergedFrom>)> {
    let asked = find(h, ctx, reference).await?;
    let Some(mut next) = asked.merged_into else { return Ok((asked, None)) };
    let merge = q::standing_merge_of(h, asked.org_id, asked.id).await?.ok_or(ServiceError::Internal(format!("{} has no merge", asked.code())))?;
    let merged_at = Timestamp::from_microsecond(merge.merged_at).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let from = MergedFrom { id: asked.id, code: asked.code().to_owned(), merge_id: merge.id, merged_at, undoable_until: undoable_until(merged_at) };
    for _ in 0..MAX_MERGED_HISTORIES {
        let survivor = find(h, ctx, &next.to_string()).await?;
        match survivor.merged_into {
            Some(further) => next = further,
            None => return Ok((survivor, Some(from))),
        }
    }
    Err(ServiceError::Internal(format!("{} is merged in a loop", asked.code())))
}

/// A customer as reads answer it: for a merged customer's code or id, its
/// survivor with `merged_from`.
pub(crate) async fn resolved_customer(h: &mut Handle<'_>, row: CustomerRow, from: Option<MergedFrom>) -> Result<Customer> {
    let labels = q::labels_of(h, row.org_id, row.id).await?;
    let mut customer = row.into_customer(labels)?;
    customer.merged_from = from;
    Ok(customer)
}
