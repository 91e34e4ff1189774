//! Merging customers: moving every record of one customer to another and
//! exactly those back, the merges' own rows, the pairs dismissed as "not a
//! duplicate", and what the duplicate finder reads.

use std::collections::BTreeMap;

use sqlx::{AssertSqlSafe, QueryBuilder};
use uuid::Uuid;

use crate::{ContactRow, CustomerRow, Handle, Result, SiteRow, run};

/// The tables whose rows belong to a customer and move with a merge:
/// its contacts and sites, works, money, messages, follow-ups and files.
/// The customer bars follow by their triggers (a changed `customer_id`
/// moves a record's count and amounts from one customer's bar to the
/// other's). Left with the merged customer: its labels and search terms
/// of its own profile, its portal links (they stop working, as a deleted
/// customer's do), its automated sends' record and its import keys.
pub const MOVED_TABLES: &[&str] =
    &["contact", "site", "inquiry", "quote", "job", "invoice", "payment", "credit_note", "allocation", "refund", "message", "follow_up", "file"];

/// Move every row of the [`MOVED_TABLES`] from customer `from` to `to`;
/// answers the ids moved, per table (tables with none left out).
pub async fn move_all(h: &mut Handle<'_>, org_id: Uuid, from: Uuid, to: Uuid) -> Result<BTreeMap<String, Vec<Uuid>>> {
    let mut moved = BTreeMap::new();
    for table in MOVED_TABLES {
        let select = format!("SELECT id FROM {table} WHERE org_id = $1 AND customer_id = $2 ORDER BY id");
        let ids: Vec<Uuid> = run!(h, c => sqlx::query_scalar(AssertSqlSafe(select.clone())).bind(org_id).bind(from).fetch_all(&mut *c).await?);
        if ids.is_empty() {
            continue;
        }
        let update = format!("UPDATE {table} SET customer_id = $3 WHERE org_id = $1 AND customer_id = $2");
        run!(h, c => sqlx::query(AssertSqlSafe(update.clone())).bind(org_id).bind(from).bind(to).execute(&mut *c).await.map(drop)?);
        moved.insert((*table).to_owned(), ids);
    }
    Ok(moved)
}

/// Move the rows `ids` of `table` (one of the [`MOVED_TABLES`]) that
/// belong to `from` to `to`; answers how many moved (a row that belongs to
/// another customer by now stays where it is).
pub async fn move_rows(h: &mut Handle<'_>, org_id: Uuid, table: &str, ids: &[Uuid], from: Uuid, to: Uuid) -> Result<u64> {
    if !MOVED_TABLES.contains(&table) {
        return Err(crate::StoreError::corrupt(format!("a merge does not move rows of {table}")));
    }
    let mut moved = 0;
    for chunk in ids.chunks(500) {
        moved += run!(h, c => {
            let mut q = QueryBuilder::new(format!("UPDATE {table} SET customer_id = "));
            q.push_bind(to).push(" WHERE org_id = ").push_bind(org_id).push(" AND customer_id = ").push_bind(from).push(" AND id IN ");
            crate::in_list::push_ids(&mut q, chunk);
            q.build().execute(c).await?.rows_affected()
        });
    }
    Ok(moved)
}

/// Move the search terms that records `sources` (contacts, sites, their
/// custom values) give customer `from` to customer `to`, with `to`'s sort name.
pub async fn move_search_sources(h: &mut Handle<'_>, org_id: Uuid, from: Uuid, to: Uuid, sources: &[Uuid]) -> Result<()> {
    for chunk in sources.chunks(500) {
        run!(h, c => {
            let mut q = QueryBuilder::new("UPDATE customer_search SET customer_id = ");
            q.push_bind(to).push(", sort_name = (SELECT sort_name FROM customer WHERE org_id = ").push_bind(org_id).push(" AND id = ").push_bind(to)
                .push(") WHERE org_id = ").push_bind(org_id).push(" AND customer_id = ").push_bind(from).push(" AND source_id IN ");
            crate::in_list::push_ids(&mut q, chunk);
            q.build().execute(c).await.map(drop)?
        });
    }
    Ok(())
}

/// The primary contacts of a customer.
pub async fn primary_contacts(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid) -> Result<Vec<Uuid>> {
    Ok(run!(h, c => sqlx::query_scalar("SELECT id FROM contact WHERE org_id = $1 AND customer_id = $2 AND is_primary ORDER BY id")
        .bind(org_id).bind(customer_id).fetch_all(c).await?))
}

/// Set the primary flag of these contacts.
pub async fn set_primary(h: &mut Handle<'_>, org_id: Uuid, ids: &[Uuid], primary: bool) -> Result<()> {
    for chunk in ids.chunks(500) {
        run!(h, c => {
            let mut q = QueryBuilder::new("UPDATE contact SET is_primary = ");
            q.push_bind(primary).push(" WHERE org_id = ").push_bind(org_id).push(" AND id IN ");
            crate::in_list::push_ids(&mut q, chunk);
            q.build().execute(c).await.map(drop)?
        });
    }
    Ok(())
}

/// Mark customer `id` merged into `survivor` at `at` (microseconds) by
/// `by`: deleted (out of every list, its search terms set aside) and
/// naming its survivor. False when it was deleted or merged already.
pub async fn mark_merged(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, survivor: Uuid, at: i64, by: &str, reason: &str) -> Result<bool> {
    if !crate::data::deletion::mark_deleted(h, org_id, id, at, by, Some(reason)).await? {
        return Ok(false);
    }
    run!(h, c => sqlx::query("UPDATE customer SET merged_into = $3 WHERE org_id = $1 AND id = $2")
        .bind(org_id).bind(id).bind(survivor).execute(c).await.map(drop)?);
    Ok(true)
}

/// Undo [`mark_merged`]: the customer live again with its search terms.
pub async fn unmark_merged(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<bool> {
    let changed = run!(h, c => sqlx::query("UPDATE customer SET merged_into = NULL WHERE org_id = $1 AND id = $2 AND merged_into IS NOT NULL")
        .bind(org_id).bind(id).execute(c).await?.rows_affected());
    if changed == 0 {
        return Ok(false);
    }
    crate::data::deletion::mark_restored(h, org_id, id).await
}

/// One merge as stored: what moved (JSON of the domain's `Moved`) and the
/// survivor's profile before it (JSON of a `CustomerProfile`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MergeRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub survivor_id: Uuid,
    pub merged_id: Uuid,
    pub survivor_before: String,
    pub moved: String,
    pub merged_at: i64,
    pub merged_by: String,
    pub undone_at: Option<i64>,
    pub undone_by: Option<String>,
}

pub async fn insert_merge(h: &mut Handle<'_>, row: &MergeRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO customer_merge (org_id, id, survivor_id, merged_id, survivor_before, moved, merged_at, merged_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(row.org_id).bind(row.id).bind(row.survivor_id).bind(row.merged_id).bind(&row.survivor_before).bind(&row.moved)
        .bind(row.merged_at).bind(&row.merged_by).execute(c).await.map(drop)?);
    Ok(())
}

pub async fn get_merge(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<Option<MergeRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM customer_merge WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).fetch_optional(c).await?))
}

/// The merges into `survivor` that stand (not undone), newest first.
pub async fn merges_into(h: &mut Handle<'_>, org_id: Uuid, survivor: Uuid) -> Result<Vec<MergeRow>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT * FROM customer_merge WHERE org_id = $1 AND survivor_id = $2 AND undone_at IS NULL ORDER BY merged_at DESC, id DESC")
        .bind(org_id).bind(survivor).fetch_all(c).await?))
}

/// The merge of `merged` into another customer that stands, if any.
pub async fn standing_merge_of(h: &mut Handle<'_>, org_id: Uuid, merged: Uuid) -> Result<Option<MergeRow>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT * FROM customer_merge WHERE org_id = $1 AND merged_id = $2 AND undone_at IS NULL ORDER BY merged_at DESC LIMIT 1")
        .bind(org_id).bind(merged).fetch_optional(c).await?))
}

/// Every customer merged into `survivor`, directly or through a customer
/// merged into it, while those merges stand: whose history the survivor's
/// timeline shows. At most `limit`.
pub async fn merged_into_tree(h: &mut Handle<'_>, org_id: Uuid, survivor: Uuid, limit: usize) -> Result<Vec<Uuid>> {
    let mut found: Vec<Uuid> = Vec::new();
    let mut next = vec![survivor];
    while let Some(customer) = next.pop() {
        for merge in merges_into(h, org_id, customer).await? {
            if found.len() >= limit || found.contains(&merge.merged_id) || merge.merged_id == survivor {
                continue;
            }
            found.push(merge.merged_id);
            next.push(merge.merged_id);
        }
    }
    Ok(found)
}

/// Mark a merge undone; false when it was undone already.
pub async fn mark_undone(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, at: i64, by: &str) -> Result<bool> {
    Ok(run!(h, c => sqlx::query("UPDATE customer_merge SET undone_at = $3, undone_by = $4 WHERE org_id = $1 AND id = $2 AND undone_at IS NULL")
        .bind(org_id).bind(id).bind(at).bind(by).execute(c).await?.rows_affected())
        > 0)
}

/// Remember that `a` and `b` (in id order) are not duplicates; false when
/// it was remembered already.
pub async fn insert_dismissal(h: &mut Handle<'_>, org_id: Uuid, a: Uuid, b: Uuid, at: i64, by: &str) -> Result<bool> {
    Ok(run!(h, c => sqlx::query(
        "INSERT INTO duplicate_dismissal (org_id, customer_a, customer_b, dismissed_at, dismissed_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
        .bind(org_id).bind(a).bind(b).bind(at).bind(by).execute(c).await?.rows_affected())
        > 0)
}

/// Every pair of the org dismissed as not duplicates.
pub async fn dismissals(h: &mut Handle<'_>, org_id: Uuid) -> Result<Vec<(Uuid, Uuid)>> {
    Ok(run!(h, c => sqlx::query_as("SELECT customer_a, customer_b FROM duplicate_dismissal WHERE org_id = $1")
        .bind(org_id).fetch_all(c).await?))
}

/// What the duplicate finder reads: the customers that are live (not
/// deleted, merged or erased), their contacts and their sites.
pub async fn duplicate_candidates(h: &mut Handle<'_>, org_id: Uuid) -> Result<(Vec<CustomerRow>, Vec<ContactRow>, Vec<SiteRow>)> {
    let live = "SELECT 1 FROM customer c WHERE c.org_id = r.org_id AND c.id = r.customer_id AND c.deleted_at IS NULL AND c.erased_at IS NULL";
    let customers = run!(h, c => sqlx::query_as("SELECT * FROM customer WHERE org_id = $1 AND deleted_at IS NULL AND erased_at IS NULL ORDER BY number")
        .bind(org_id).fetch_all(c).await?);
    let contacts_sql = format!("SELECT r.* FROM contact r WHERE r.org_id = $1 AND EXISTS ({live})");
    let contacts = run!(h, c => sqlx::query_as(AssertSqlSafe(contacts_sql.clone())).bind(org_id).fetch_all(c).await?);
    let sites_sql = format!("SELECT r.* FROM site r WHERE r.org_id = $1 AND EXISTS ({live})");
    let sites = run!(h, c => sqlx::query_as(AssertSqlSafe(sites_sql.clone())).bind(org_id).fetch_all(c).await?);
    Ok((customers, contacts, sites))
}

/// Whether money links records of customer `a` with records of customer
/// `b`: an allocation standing (not taken back), a refund or a credit note
/// whose invoice and source (or customer) belong to different customers,
/// one of them `a` or `b`.
/// Undoing a merge must not leave such a link behind.
pub async fn money_across(h: &mut Handle<'_>, org_id: Uuid, a: Uuid, b: Uuid) -> Result<bool> {
    let crossing: i64 = run!(h, c => sqlx::query_scalar(
        "SELECT \
           (SELECT COUNT(*) FROM allocation x JOIN invoice i ON i.org_id = x.org_id AND i.id = x.invoice_id \
            WHERE x.org_id = $1 AND x.customer_id IN ($2, $3) AND x.reversed_on IS NULL AND (x.customer_id <> i.customer_id \
              OR EXISTS (SELECT 1 FROM payment p WHERE p.org_id = x.org_id AND p.id = x.source_id AND p.customer_id <> i.customer_id) \
              OR EXISTS (SELECT 1 FROM credit_note n WHERE n.org_id = x.org_id AND n.id = x.source_id AND n.customer_id <> i.customer_id))) \
         + (SELECT COUNT(*) FROM refund r WHERE r.org_id = $1 AND r.customer_id IN ($2, $3) \
              AND (EXISTS (SELECT 1 FROM payment p WHERE p.org_id = r.org_id AND p.id = r.source_id AND p.customer_id <> r.customer_id) \
                OR EXISTS (SELECT 1 FROM credit_note n WHERE n.org_id = r.org_id AND n.id = r.source_id AND n.customer_id <> r.customer_id))) \
         + (SELECT COUNT(*) FROM credit_note n JOIN invoice i ON i.org_id = n.org_id AND i.id = n.invoice_id \
            WHERE n.org_id = $1 AND n.customer_id IN ($2, $3) AND n.customer_id <> i.customer_id)")
        .bind(org_id).bind(a).bind(b).fetch_one(c).await?);
    Ok(crossing > 0)
}
