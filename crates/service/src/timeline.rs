//! Timelines, the History tab and the status history: all queries over the
//! activity log.

use dossier_domain::ValidationErrors;
use dossier_domain::activity::{Activity, ActivityGroup, ActivityKind, Actor, ActorType, EntityRef, EntityType};
use dossier_domain::customer::CustomerStatus;
use dossier_domain::permissions::{Action, Module};
use dossier_store::queries as q;
use dossier_store::{ActivityRow, Db, Handle, TimelineFilter};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::page::{Page, decode_cursor, limit, paginate};
use crate::{Ctx, Result, customers, sites};

/// Query parameters of a timeline.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Comma-separated groups: works, billing, communication, profile, portal, system.
    pub group: Option<String>,
    /// Comma-separated kinds, e.g. `customer.updated,site.created`.
    pub kind: Option<String>,
    /// Comma-separated actor types: user, system, customer, api.
    pub actor: Option<String>,
    /// From this instant (RFC 3339) or day (YYYY-MM-DD), inclusive.
    pub from: Option<String>,
    /// Up to this instant, exclusive, or through this day (YYYY-MM-DD).
    pub to: Option<String>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

impl TimelineQuery {
    fn parse(&self) -> Result<(TimelineFilter, Option<Uuid>, i64), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let filter = TimelineFilter {
            groups: errors.take(list("group", self.group.as_deref(), ActivityGroup::parse)).unwrap_or_default(),
            kinds: errors.take(list("kind", self.kind.as_deref(), ActivityKind::parse)).unwrap_or_default(),
            actor_types: errors.take(list("actor", self.actor.as_deref(), ActorType::parse)).unwrap_or_default(),
            from: errors.take(instant("from", self.from.as_deref(), false)).flatten(),
            to: errors.take(instant("to", self.to.as_deref(), true)).flatten(),
            ..Default::default()
        };
        let before =
            match self.cursor.as_deref() {
                Some(cursor) => errors.take(decode_cursor(cursor).and_then(|text| {
                    Uuid::parse_str(&text).map_err(|_| ValidationErrors::one("cursor", "invalid_cursor", "is not a cursor this API returned"))
                })),
                None => None,
            };
        let limit = errors.take(limit(self.limit));
        match limit {
            Some(limit) if errors.is_empty() => Ok((filter, before, limit)),
            _ => Err(errors),
        }
    }
}

fn list<T>(field: &str, text: Option<&str>, parse: fn(&str) -> Option<T>) -> Result<Vec<T>, ValidationErrors> {
    let Some(text) = text else { return Ok(Vec::new()) };
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| parse(t).ok_or_else(|| ValidationErrors::one(field, "unknown_value", format!("'{t}' is not a known {field}"))))
        .collect()
}

/// An RFC 3339 instant, or a day: its start, or for an end bound the start of the next day.
fn instant(field: &str, text: Option<&str>, end_of_day: bool) -> Result<Option<Timestamp>, ValidationErrors> {
    let Some(text) = text else { return Ok(None) };
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(Some(at));
    }
    let invalid = || ValidationErrors::one(field, "invalid_date", "must be a date (YYYY-MM-DD) or an RFC 3339 instant");
    let date = Date::strptime("%Y-%m-%d", text).map_err(|_| invalid())?;
    let date = if end_of_day { date.tomorrow().map_err(|_| invalid())? } else { date };
    Ok(Some(date.to_zoned(TimeZone::UTC).map_err(|_| invalid())?.timestamp()))
}

async fn page(h: &mut Handle<'_>, ctx: &Ctx, entity: EntityRef, mut filter: TimelineFilter, before: Option<Uuid>, limit: i64) -> Result<Page<Activity>> {
    crate::scope::timeline(ctx, &mut filter);
    let rows = q::timeline(h, ctx.org.id.0, entity, &filter, before, limit + 1).await?;
    paginate(rows, limit, |r| r.id.to_string(), |r| Ok(r.into_activity()?.for_reader(ctx.money_currency())))
}

/// The newest `limit` entries of an entity's timeline that pass `filter`
/// and the caller may see.
pub(crate) async fn entries(db: &Db, ctx: &Ctx, entity: EntityRef, filter: TimelineFilter, limit: i64) -> Result<Vec<Activity>> {
    Ok(page(&mut db.read().await?.handle(), ctx, entity, filter, None, limit).await?.items)
}

/// The latest `limit` (at most 100) entries about one record (an inquiry,
/// quote, job, invoice, payment or credit note), newest first: its moves,
/// edits, allocations, and the invoice that bills a job; for its page.
/// Entries about modules the caller may not view are left out, as on any
/// timeline.
pub async fn record_history(db: &Db, ctx: &Ctx, entity: EntityRef, limit: i64) -> Result<Vec<Activity>> {
    ctx.require(Module::Timeline, Action::View)?;
    entries(db, ctx, entity, TimelineFilter::default(), limit.clamp(1, 100)).await
}

/// Everything that happened to a customer, its contacts and its sites, newest first.
pub async fn customer_timeline(db: &Db, ctx: &Ctx, customer: &str, query: TimelineQuery) -> Result<Page<Activity>> {
    ctx.require(Module::Timeline, Action::View)?;
    let (filter, before, limit) = query.parse()?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    // A merged customer's code reads its survivor's timeline, which holds
    // the history of every customer merged into it while the merge stands.
    let (row, _) = crate::merge::resolve(h, ctx, customer).await?;
    let mut filter = filter;
    filter.also = q::merged_into_tree(h, ctx.org.id.0, row.id, crate::merge::MAX_MERGED_HISTORIES).await?;
    page(h, ctx, EntityRef::new(EntityType::Customer, row.id), filter, before, limit).await
}

/// What happened to a staff user's account: invited, roles, sign-ins and
/// failures, lockouts, tokens. For those who manage users.
pub async fn user_timeline(db: &Db, ctx: &Ctx, user: &str, query: TimelineQuery) -> Result<Page<Activity>> {
    ctx.require(Module::Users, Action::View)?;
    let (filter, before, limit) = query.parse()?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let row = crate::users::find(h, ctx, user).await?;
    page(h, ctx, EntityRef::new(EntityType::User, row.id), filter, before, limit).await
}

/// One site's history alone.
pub async fn site_timeline(db: &Db, ctx: &Ctx, site: &str, query: TimelineQuery) -> Result<Page<Activity>> {
    ctx.require(Module::Timeline, Action::View)?;
    let (filter, before, limit) = query.parse()?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let row = sites::find(h, ctx, site).await?;
    page(h, ctx, EntityRef::new(EntityType::Site, row.id), filter, before, limit).await
}

/// One job's history: its moves, and the notes, calls and messages about it.
pub async fn job_timeline(db: &Db, ctx: &Ctx, job: &str, query: TimelineQuery) -> Result<Page<Activity>> {
    ctx.require(Module::Jobs, Action::View)?;
    let (filter, before, limit) = query.parse()?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let row = crate::works::find_job(h, ctx, job).await?;
    page(h, ctx, EntityRef::new(EntityType::Job, row.id), filter, before, limit).await
}

/// Query parameters of the History tab.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Field edits of the customer's profile (and its labels), newest first.
pub async fn customer_history(db: &Db, ctx: &Ctx, customer: &str, query: HistoryQuery) -> Result<Page<Activity>> {
    ctx.require(Module::Timeline, Action::View)?;
    let timeline = TimelineQuery { cursor: query.cursor, limit: query.limit, ..Default::default() };
    let (mut filter, before, limit) = timeline.parse()?;
    filter.kinds = ActivityKind::PROFILE_EDITS.to_vec();
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let row = customers::find(h, ctx, customer).await?;
    page(h, ctx, EntityRef::new(EntityType::Customer, row.id), filter, before, limit).await
}

/// One entry of a customer's status history.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StatusHistoryEntry {
    /// `null` for the status the customer was created with.
    pub from: Option<CustomerStatus>,
    pub to: CustomerStatus,
    pub reason: Option<String>,
    pub actor: Actor,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// Every status the customer has had, newest first, with who, when and why.
pub async fn status_history(db: &Db, ctx: &Ctx, customer: &str) -> Result<Vec<StatusHistoryEntry>> {
    ctx.require(Module::Timeline, Action::View)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let row = customers::find(h, ctx, customer).await?;
    let filter = TimelineFilter {
        kinds: vec![ActivityKind::CustomerCreated, ActivityKind::CustomerImported, ActivityKind::CustomerStatusChanged],
        ..Default::default()
    };
    let entity = EntityRef::new(EntityType::Customer, row.id);
    let mut entries = Vec::new();
    let mut before = None;
    loop {
        let rows: Vec<ActivityRow> = q::timeline(h, ctx.org.id.0, entity, &filter, before, 500).await?;
        let done = rows.len() < 500;
        before = rows.last().map(|r| r.id);
        for activity in rows.into_iter().map(ActivityRow::into_activity) {
            entries.extend(status_entry(activity?));
        }
        if done {
            return Ok(entries);
        }
    }
}

fn status_entry(activity: Activity) -> Option<StatusHistoryEntry> {
    let status_of = |value: &serde_json::Value| value.as_str().and_then(CustomerStatus::parse);
    let (from, to) = match activity.kind {
        ActivityKind::CustomerCreated | ActivityKind::CustomerImported => (None, CustomerStatus::Active),
        _ => {
            let change = activity.changes.iter().find(|c| c.field == "status")?;
            (status_of(&change.old), status_of(&change.new)?)
        }
    };
    let reason = activity.detail.get("reason").and_then(|r| r.as_str()).map(str::to_owned);
    Some(StatusHistoryEntry { from, to, reason, actor: activity.actor, at: activity.occurred_at })
}
