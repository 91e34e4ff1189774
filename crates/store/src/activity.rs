//! The activity log: hash-chained appends, timelines and the rows the
//! audit walks.

use dossier_domain::activity::{
    Activity, ActivityContent, ActivityGroup, ActivityKind, Actor, ActorType, EntityRef, EntityType, NewActivity, Visibility, chain_hash, links_text,
};
use dossier_domain::chain::ChainRow;
use dossier_domain::ids::{ActivityId, CustomerId};
use jiff::Timestamp;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::customers::timestamp;
use crate::{Handle, Result, StoreError, run};

/// One stored activity row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ActivityRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub seq: i64,
    pub customer_id: Option<Uuid>,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub subject_code: Option<String>,
    pub kind: String,
    pub grp: String,
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    pub occurred_at: i64,
    pub summary: String,
    pub changes: String,
    pub detail: String,
    pub visibility: String,
    pub links: String,
    pub content_hash: Vec<u8>,
    pub chain_hash: Vec<u8>,
    /// The `customer.erased` row that replaced this row's content with a
    /// tombstone; its hashes are kept.
    pub erased_by: Option<Uuid>,
}

impl ActivityRow {
    /// The row as the chain walk reads it.
    pub fn chain_row(&self) -> ChainRow<'_> {
        ChainRow {
            seq: self.seq,
            id: self.id,
            content: self.content(),
            content_hash: &self.content_hash,
            chain_hash: &self.chain_hash,
            erased_by: self.erased_by,
        }
    }

    /// The content this row's hash covers (a tombstone's, once erased).
    pub fn content(&self) -> ActivityContent<'_> {
        ActivityContent {
            version: 1,
            id: self.id,
            org_id: self.org_id,
            seq: self.seq,
            customer_id: self.customer_id,
            subject_type: &self.subject_type,
            subject_id: self.subject_id,
            subject_code: self.subject_code.as_deref(),
            kind: &self.kind,
            group: &self.grp,
            actor_type: &self.actor_type,
            actor_id: self.actor_id,
            actor_name: &self.actor_name,
            occurred_at: self.occurred_at,
            summary: &self.summary,
            changes: &self.changes,
            detail: &self.detail,
            visibility: &self.visibility,
            links: &self.links,
        }
    }

    pub fn into_activity(self) -> Result<Activity> {
        let bad = |what: &str, value: &str| StoreError::corrupt(format!("activity {} has {what} '{value}'", self.id));
        Ok(Activity {
            id: ActivityId(self.id),
            customer_id: self.customer_id.map(CustomerId),
            subject: EntityRef { entity: EntityType::parse(&self.subject_type).ok_or_else(|| bad("subject type", &self.subject_type))?, id: self.subject_id },
            kind: ActivityKind::parse(&self.kind).ok_or_else(|| bad("kind", &self.kind))?,
            group: ActivityGroup::parse(&self.grp).ok_or_else(|| bad("group", &self.grp))?,
            actor: Actor {
                kind: ActorType::parse(&self.actor_type).ok_or_else(|| bad("actor type", &self.actor_type))?,
                id: self.actor_id,
                name: self.actor_name.clone(),
            },
            occurred_at: timestamp(self.occurred_at)?,
            changes: serde_json::from_str(&self.changes).map_err(StoreError::corrupt)?,
            detail: serde_json::from_str(&self.detail).map_err(StoreError::corrupt)?,
            visibility: Visibility::parse(&self.visibility).ok_or_else(|| bad("visibility", &self.visibility))?,
            erased: self.erased_by.is_some(),
            subject_code: self.subject_code,
            summary: self.summary,
        })
    }
}

/// Write `pending` activities, chaining each to the previous row of its org.
/// The chain head row is locked by the first UPDATE, so concurrent
/// transactions of one org append one after the other. Answers each
/// activity's id and sequence number, in the order of `pending` per org.
pub(crate) async fn write_chained(h: &mut Handle<'_>, pending: Vec<NewActivity>) -> Result<Vec<(ActivityId, i64)>> {
    let mut written = Vec::with_capacity(pending.len());
    let mut orgs: Vec<Uuid> = pending.iter().map(|a| a.org_id.0).collect();
    orgs.sort();
    orgs.dedup();
    for org in orgs {
        let batch: Vec<&NewActivity> = pending.iter().filter(|a| a.org_id.0 == org).collect();
        let count = batch.len() as i64;
        let head: Option<(i64, Vec<u8>)> = run!(h, c => sqlx::query_as("UPDATE activity_chain SET seq = seq + $2 WHERE org_id = $1 RETURNING seq, head")
            .bind(org).bind(count).fetch_optional(c).await?);
        let (last_seq, mut previous) = head.ok_or_else(|| StoreError::corrupt(format!("org {org} has no activity chain")))?;
        let mut rows = Vec::with_capacity(batch.len());
        let mut last_id = Uuid::nil();
        for (i, activity) in batch.into_iter().enumerate() {
            let row = new_row(activity, last_seq - count + 1 + i as i64, &mut last_id, &previous);
            previous = row.chain_hash.clone();
            rows.push(row);
        }
        insert_rows(h, &rows).await?;
        run!(h, c => sqlx::query("UPDATE activity_chain SET head = $2 WHERE org_id = $1").bind(org).bind(&previous).execute(c).await.map(drop)?);
        written.extend(rows.iter().map(|row| (ActivityId(row.id), row.seq)));
    }
    Ok(written)
}

/// The stored row of `activity` at `seq`. Ids within one batch strictly
/// increase, so two activities of the same instant keep their order.
fn new_row(activity: &NewActivity, seq: i64, last_id: &mut Uuid, previous: &[u8]) -> ActivityRow {
    let mut id = ActivityId::at(activity.occurred_at).0;
    if id <= *last_id && id.get_timestamp() == last_id.get_timestamp() {
        id = Uuid::from_u128(last_id.as_u128() + 1);
    }
    *last_id = id;
    let mut row = ActivityRow {
        org_id: activity.org_id.0,
        id,
        seq,
        customer_id: activity.customer_id.map(|c| c.0),
        subject_type: activity.subject.entity.as_str().to_owned(),
        subject_id: activity.subject.id,
        subject_code: activity.subject_code.clone(),
        kind: activity.kind.as_str().to_owned(),
        grp: activity.kind.group().as_str().to_owned(),
        actor_type: activity.actor.kind.as_str().to_owned(),
        actor_id: activity.actor.id,
        actor_name: activity.actor.name.clone(),
        occurred_at: activity.occurred_at.as_microsecond(),
        summary: activity.summary.clone(),
        changes: serde_json::to_string(&activity.changes).unwrap_or_else(|_| "[]".into()),
        detail: serde_json::to_string(&activity.detail).unwrap_or_else(|_| "{}".into()),
        visibility: activity.visibility.as_str().to_owned(),
        links: links_text(&activity.links()),
        content_hash: Vec::new(),
        chain_hash: Vec::new(),
        erased_by: None,
    };
    let content_hash = row.content().hash();
    row.chain_hash = chain_hash(previous, &content_hash).to_vec();
    row.content_hash = content_hash.to_vec();
    row
}

async fn insert_rows(h: &mut Handle<'_>, rows: &[ActivityRow]) -> Result<()> {
    let links: Vec<(Uuid, EntityRef)> = rows.iter().flat_map(|row| parse_links(&row.links).into_iter().map(move |link| (row.id, link))).collect();
    let org = rows.first().map(|r| r.org_id).unwrap_or_default();
    for chunk in crate::chunks::power_of_two(rows, 128) {
        run!(h, c => {
            let mut q = QueryBuilder::new(
                "INSERT INTO activity (org_id, id, seq, customer_id, subject_type, subject_id, subject_code, kind, grp, actor_type, actor_id, \
                 actor_name, occurred_at, summary, changes, detail, visibility, links, content_hash, chain_hash) ");
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.org_id).push_bind(r.id).push_bind(r.seq).push_bind(r.customer_id).push_bind(&r.subject_type).push_bind(r.subject_id)
                    .push_bind(&r.subject_code).push_bind(&r.kind).push_bind(&r.grp).push_bind(&r.actor_type).push_bind(r.actor_id)
                    .push_bind(&r.actor_name).push_bind(r.occurred_at).push_bind(&r.summary).push_bind(&r.changes).push_bind(&r.detail)
                    .push_bind(&r.visibility).push_bind(&r.links).push_bind(&r.content_hash).push_bind(&r.chain_hash);
            });
            q.build().execute(c).await.map(drop)?
        });
    }
    for chunk in crate::chunks::power_of_two(&links, 256) {
        run!(h, c => {
            let mut q = QueryBuilder::new("INSERT INTO activity_link (org_id, entity_type, entity_id, activity_id) ");
            q.push_values(chunk, |mut b, (activity_id, link)| {
                b.push_bind(org).push_bind(link.entity.as_str()).push_bind(link.id).push_bind(*activity_id);
            });
            q.build().execute(c).await.map(drop)?
        });
    }
    Ok(())
}

fn parse_links(text: &str) -> Vec<EntityRef> {
    text.split(' ')
        .filter_map(|part| {
            let (entity, id) = part.split_once(':')?;
            Some(EntityRef { entity: EntityType::parse(entity)?, id: id.parse().ok()? })
        })
        .collect()
}

/// What a timeline is narrowed by; empty lists mean "any".
#[derive(Clone, Debug, Default)]
pub struct TimelineFilter {
    pub groups: Vec<ActivityGroup>,
    pub kinds: Vec<ActivityKind>,
    pub actor_types: Vec<ActorType>,
    /// Inclusive.
    pub from: Option<Timestamp>,
    /// Exclusive.
    pub to: Option<Timestamp>,
    /// Only entries about these kinds of record (all when empty): what the
    /// caller's role may see.
    pub subjects: Vec<EntityType>,
    /// Of jobs, only entries about those this user is assigned to.
    pub jobs_assigned_to: Option<Uuid>,
    /// Only entries meant for the customer's eyes (the portal).
    pub customer_visible_only: bool,
    /// Other entities of the same type whose entries this timeline holds
    /// too: the customers merged into a survivor.
    pub also: Vec<Uuid>,
}

/// One page of an entity's timeline, newest first, before the `before`
/// activity id. A range scan of `activity_link`; the date range narrows
/// the scan itself because activity ids begin with their time.
pub async fn timeline(
    h: &mut Handle<'_>,
    org_id: Uuid,
    entity: EntityRef,
    filter: &TimelineFilter,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ActivityRow>> {
    Ok(run!(h, c => {
        // With `also`, an entry linked to several of them (the merge itself)
        // is read once.
        let select = if filter.also.is_empty() { "SELECT a.*" } else { "SELECT DISTINCT a.*" };
        let mut q = QueryBuilder::new(format!(
            "{select} FROM activity_link l JOIN activity a ON a.org_id = l.org_id AND a.id = l.activity_id WHERE l.org_id = "));
        q.push_bind(org_id).push(" AND l.entity_type = ").push_bind(entity.entity.as_str());
        if filter.also.is_empty() {
            q.push(" AND l.entity_id = ").push_bind(entity.id);
        } else {
            let mut ids = vec![entity.id];
            ids.extend(filter.also.iter().copied());
            q.push(" AND l.entity_id IN ");
            crate::in_list::push_ids(&mut q, &ids);
        }
        if let Some(before) = before {
            q.push(" AND l.activity_id < ").push_bind(before);
        }
        if let Some(from) = filter.from {
            q.push(" AND l.activity_id >= ").push_bind(first_id_at(from)).push(" AND a.occurred_at >= ").push_bind(from.as_microsecond());
        }
        if let Some(to) = filter.to {
            q.push(" AND l.activity_id < ").push_bind(first_id_at(to + jiff::SignedDuration::from_millis(1)))
                .push(" AND a.occurred_at < ").push_bind(to.as_microsecond());
        }
        push_in(&mut q, "a.grp", filter.groups.iter().map(|g| g.as_str()));
        push_in(&mut q, "a.kind", filter.kinds.iter().map(|k| k.as_str()));
        push_in(&mut q, "a.actor_type", filter.actor_types.iter().map(|a| a.as_str()));
        push_in(&mut q, "a.subject_type", filter.subjects.iter().map(|s| s.as_str()));
        if filter.customer_visible_only {
            q.push(" AND a.visibility = 'customer'");
        }
        if let Some(user) = filter.jobs_assigned_to {
            // Of jobs, and of messages and files about jobs, only those of
            // the user's jobs. Of follow-ups, only those assigned to the user.
            q.push(" AND (a.subject_type NOT IN ('job', 'message', 'follow_up', 'file') OR (a.subject_type = 'job' AND a.subject_id IN (SELECT job_id \
                     FROM job_assignee WHERE org_id = ").push_bind(org_id).push(" AND user_id = ").push_bind(user)
                .push(")) OR (a.subject_type = 'message' AND a.subject_id IN (SELECT m.id FROM message m JOIN job_assignee j ON j.org_id = m.org_id \
                     AND j.job_id = m.record_id WHERE m.org_id = ").push_bind(org_id).push(" AND m.record_type = 'job' AND j.user_id = ").push_bind(user)
                .push(")) OR (a.subject_type = 'file' AND a.subject_id IN (SELECT f.id FROM file f JOIN job_assignee j ON j.org_id = f.org_id \
                     AND j.job_id = f.record_id WHERE f.org_id = ").push_bind(org_id).push(" AND f.record_type = 'job' AND j.user_id = ").push_bind(user)
                .push(")) OR (a.subject_type = 'follow_up' AND a.subject_id IN (SELECT id FROM follow_up WHERE org_id = ").push_bind(org_id)
                .push(" AND assignee_id = ").push_bind(user).push(")))");
        }
        // The link's column keeps the planner on the link index's order;
        // DISTINCT needs a selected column.
        q.push(if filter.also.is_empty() { " ORDER BY l.activity_id DESC LIMIT " } else { " ORDER BY a.id DESC LIMIT " }).push_bind(limit);
        q.build_query_as().fetch_all(c).await?
    }))
}

/// The smallest activity id of the millisecond `at` falls in.
fn first_id_at(at: Timestamp) -> Uuid {
    let millis = at.as_millisecond().max(0) as u128;
    Uuid::from_u128(millis << 80)
}

fn push_in<'a, DB: sqlx::Database>(q: &mut QueryBuilder<DB>, column: &str, values: impl Iterator<Item = &'a str>)
where
    for<'q> &'a str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let values: Vec<&str> = values.collect();
    if values.is_empty() {
        return;
    }
    q.push(format!(" AND {column} IN ("));
    let mut list = q.separated(", ");
    for value in values {
        list.push_bind(value);
    }
    q.push(")");
}

/// Up to `limit` rows of an org's log after sequence number `after` and up
/// to `upto`, in chain order.
pub async fn activity_page(h: &mut Handle<'_>, org_id: Uuid, after: i64, upto: i64, limit: i64) -> Result<Vec<ActivityRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM activity WHERE org_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4")
        .bind(org_id).bind(after).bind(upto).bind(limit).fetch_all(c).await?))
}

/// The last sequence number and chain hash recorded for an org.
pub async fn chain_head(h: &mut Handle<'_>, org_id: Uuid) -> Result<Option<(i64, Vec<u8>)>> {
    Ok(run!(h, c => sqlx::query_as("SELECT seq, head FROM activity_chain WHERE org_id = $1").bind(org_id).fetch_optional(c).await?))
}

/// The customers with the longest timelines, longest first.
pub async fn busiest_customers(h: &mut Handle<'_>, org_id: Uuid, n: i64) -> Result<Vec<Uuid>> {
    Ok(run!(h, c => sqlx::query_scalar(
        "SELECT entity_id FROM activity_link WHERE org_id = $1 AND entity_type = 'customer' GROUP BY entity_id ORDER BY COUNT(*) DESC LIMIT $2")
        .bind(org_id).bind(n).fetch_all(c).await?))
}

/// The id of an entity's timeline entry `offset` places from the newest.
pub async fn timeline_entry_at(h: &mut Handle<'_>, org_id: Uuid, entity: EntityRef, offset: i64) -> Result<Option<Uuid>> {
    Ok(run!(h, c => sqlx::query_scalar(
        "SELECT activity_id FROM activity_link WHERE org_id = $1 AND entity_type = $2 AND entity_id = $3 ORDER BY activity_id DESC LIMIT 1 OFFSET $4")
        .bind(org_id).bind(entity.entity.as_str()).bind(entity.id).bind(offset).fetch_optional(c).await?))
}

/// How many entries an entity's timeline has.
pub async fn timeline_length(h: &mut Handle<'_>, org_id: Uuid, entity: EntityRef) -> Result<i64> {
    Ok(run!(h, c => sqlx::query_scalar("SELECT COUNT(*) FROM activity_link WHERE org_id = $1 AND entity_type = $2 AND entity_id = $3")
        .bind(org_id).bind(entity.entity.as_str()).bind(entity.id).fetch_one(c).await?))
}
