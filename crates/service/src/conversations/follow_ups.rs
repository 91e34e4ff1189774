//! Follow-up use cases: add one to a customer (or one of its records), list
//! a customer's, a user's ("My follow-ups": overdue, today, upcoming) and
//! everyone's, mark done, cancel, reschedule. Each change is recorded.
//!
//! Follow-ups are part of the conversation with a customer: whoever may
//! read and write messages may read and write them, except a fieldworker,
//! who sees only their own and adds them only to their own jobs.

use dossier_domain::ValidationErrors;
use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
use dossier_domain::diff::FieldChange;
use dossier_domain::follow_up::{FollowUp, FollowUpChange, FollowUpInput, FollowUpMove, FollowUpStatus};
use dossier_domain::ids::{CustomerId, FollowUpId, UserId};
use dossier_domain::message::RecordType;
use dossier_domain::permissions::{Access, Action, Module};
use dossier_store::queries as q;
use dossier_store::{Db, FollowUpFilter, FollowUpRow, Handle, Tx};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::page::{Page, keyed_cursor, limit, paginate};
use crate::record::{activity, written};
use crate::{Ctx, Result, ServiceError, customers};

/// How many follow-ups each part of "My follow-ups" shows.
pub const MINE_SHOWN: i64 = 100;

/// The user a caller acts as: follow-ups are assigned to people.
fn me(ctx: &Ctx) -> Result<UserId> {
    ctx.user_id.ok_or_else(|| ValidationErrors::one("assignee_id", "required", "name who does it: the caller is not a user").into())
}

/// The user `id` if they are an active user of the org, with their name.
async fn assignee(h: &mut Handle<'_>, ctx: &Ctx, id: UserId) -> Result<(UserId, String)> {
    match q::get_user(h, ctx.org.id.0, id.0).await? {
        Some(user) if user.active => Ok((id, user.name)),
        _ => Err(ValidationErrors::one("assignee_id", "not_found", "is not an active user of this business").into()),
    }
}

/// The follow-up `id`, if the caller may see it (else 404).
async fn find(h: &mut Handle<'_>, ctx: &Ctx, id: &str) -> Result<FollowUpRow> {
    let not_found = || ServiceError::NotFound("follow-up");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let row = q::get_follow_up(h, ctx.org.id.0, id).await?.ok_or_else(not_found)?;
    crate::scope::check_customer(h, ctx, row.customer_id, "follow-up").await?;
    match ctx.assigned_only(Module::Messages) {
        Some(user) if user != row.assignee_id => Err(not_found()),
        _ => Ok(row),
    }
}

fn subject(follow_up: &FollowUp) -> EntityRef {
    EntityRef::new(EntityType::FollowUp, follow_up.id.0)
}

/// The activity recording `kind` of `follow_up`, linked to what it is about.
fn follow_up_activity(
    ctx: &Ctx,
    kind: ActivityKind,
    follow_up: &FollowUp,
    summary: String,
    changes: Vec<FieldChange>,
) -> dossier_domain::activity::NewActivity {
    let mut record = activity(ctx, kind, Some(follow_up.customer_id), subject(follow_up), Some("Follow-up".into()), summary, changes);
    record.detail = json!({
        "title": follow_up.title,
        "due_on": follow_up.due_on.to_string(),
        "assignee": follow_up.assignee_name,
        "record": follow_up.record.as_ref().and_then(|r| r.code.clone()),
    });
    record.also_links = follow_up.record.iter().map(|r| EntityRef::new(r.kind.entity(), r.id)).collect();
    record
}

/// Add a follow-up to a customer.
pub async fn create_follow_up(db: &Db, ctx: &Ctx, customer: &str, input: FollowUpInput) -> Result<FollowUp> {
    let access = ctx.require(Module::Messages, Action::Create)?;
    let draft = input.parse();
    let mut tx = db.begin().await?;
    let customer = customers::find(&mut tx.handle(), ctx, customer).await?;
    let draft = draft?;
    if access == Access::Assigned {
        if draft.record.as_ref().is_none_or(|(kind, _)| *kind != RecordType::Job) {
            return Err(ValidationErrors::one("record", "required", "a fieldworker's follow-ups go on one of their jobs").into());
        }
        if draft.assignee_id.is_some_and(|a| Some(a) != ctx.user_id) {
            return Err(ValidationErrors::one("assignee_id", "not_allowed", "a fieldworker's follow-ups are their own").into());
        }
    }
    let follow_up = create_follow_up_in(&mut tx, ctx, CustomerId(customer.id), draft).await?;
    tx.commit().await?;
    Ok(FollowUp { customer_code: customer.code().to_string(), ..follow_up })
}

/// Write a checked follow-up of `customer` and record `follow_up.created`;
/// the follow-up returned leaves its customer's code to the caller.
pub(crate) async fn create_follow_up_in(tx: &mut Tx, ctx: &Ctx, customer: CustomerId, draft: dossier_domain::follow_up::FollowUpDraft) -> Result<FollowUp> {
    let h = &mut tx.handle();
    let (assignee_id, assignee_name) = assignee(
        h,
        ctx,
        match draft.assignee_id {
            Some(id) => id,
            None => me(ctx)?,
        },
    )
    .await?;
    let record = match &draft.record {
        Some((kind, reference)) => Some(crate::messages::resolve_record(h, ctx, customer.0, *kind, reference).await?),
        None => None,
    };
    let follow_up = FollowUp {
        id: FollowUpId::new(),
        customer_id: customer,
        customer_code: String::new(),
        title: draft.title,
        notes: draft.notes,
        due_on: draft.due_on,
        assignee_id,
        assignee_name,
        status: FollowUpStatus::Open,
        overdue: draft.due_on < ctx.today(),
        record,
        created_by: ctx.actor.name.clone(),
        created_at: ctx.now(),
        closed_at: None,
    };
    q::insert_follow_up(h, &FollowUpRow::new(ctx.org.id.0, &follow_up)).await?;
    let about = follow_up.record.as_ref().and_then(|r| r.code.as_deref()).map(|c| format!(" on {c}")).unwrap_or_default();
    let summary = format!("Follow-up{about} for {} due {}: {}", follow_up.assignee_name, follow_up.due_on, follow_up.title);
    tx.append(follow_up_activity(ctx, ActivityKind::FollowUpCreated, &follow_up, summary, Vec::new())).await?;
    Ok(follow_up)
}

pub async fn get_follow_up(db: &Db, ctx: &Ctx, id: &str) -> Result<FollowUp> {
    ctx.require(Module::Messages, Action::View)?;
    let mut conn = db.read().await?;
    Ok(find(&mut conn.handle(), ctx, id).await?.into_follow_up(ctx.today())?)
}

/// Mark a follow-up done or cancelled, or move it to another day or person.
pub async fn change_follow_up(db: &Db, ctx: &Ctx, id: &str, change: FollowUpChange) -> Result<FollowUp> {
    ctx.require(Module::Messages, Action::Create)?;
    let mut tx = db.begin().await?;
    let follow_up = change_follow_up_in(&mut tx, ctx, id, change).await?;
    tx.commit().await?;
    Ok(follow_up)
}

pub(crate) async fn change_follow_up_in(tx: &mut Tx, ctx: &Ctx, id: &str, change: FollowUpChange) -> Result<FollowUp> {
    let change = change.parse()?;
    let h = &mut tx.handle();
    let row = find(h, ctx, id).await?;
    let today = ctx.today();
    let mut follow_up = row.clone().into_follow_up(today)?;
    if follow_up.status != FollowUpStatus::Open {
        return Err(ServiceError::conflict("follow_up_closed", format!("this follow-up is {} already", follow_up.status)));
    }
    let now = ctx.now();
    let (kind, summary, changes) = match change {
        FollowUpMove::Close { status, reason } => {
            written(q::close_follow_up(h, ctx.org.id.0, follow_up.id.0, status, now.as_microsecond()).await?, "the follow-up")?;
            follow_up.status = status;
            follow_up.closed_at = Some(now);
            follow_up.overdue = false;
            let why = reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
            let kind = if status == FollowUpStatus::Done { ActivityKind::FollowUpDone } else { ActivityKind::FollowUpCancelled };
            let summary = format!("Follow-up {status}{why}: {}", follow_up.title);
            (kind, summary, vec![FieldChange { field: "status".into(), old: json!("open"), new: json!(status) }])
        }
        FollowUpMove::Reschedule { due_on, assignee_id, reason } => {
            if ctx.assigned_only(Module::Messages).is_some() && assignee_id.is_some_and(|a| Some(a) != ctx.user_id) {
                return Err(ValidationErrors::one("assignee_id", "not_allowed", "a fieldworker's follow-ups are their own").into());
            }
            let mut changes = Vec::new();
            if let Some(day) = due_on.filter(|d| *d != follow_up.due_on) {
                changes.push(FieldChange { field: "due_on".into(), old: json!(follow_up.due_on.to_string()), new: json!(day.to_string()) });
                follow_up.due_on = day;
            }
            if let Some(user) = assignee_id.filter(|a| *a != follow_up.assignee_id) {
                let (id, name) = assignee(h, ctx, user).await?;
                changes.push(FieldChange { field: "assignee".into(), old: json!(follow_up.assignee_name), new: json!(name) });
                (follow_up.assignee_id, follow_up.assignee_name) = (id, name);
            }
            if changes.is_empty() {
                return Ok(follow_up);
            }
            written(q::reschedule_follow_up(h, &FollowUpRow::new(ctx.org.id.0, &follow_up)).await?, "the follow-up")?;
            follow_up.overdue = follow_up.due_on < today;
            let why = reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
            let summary = format!("Follow-up moved to {} for {}{why}: {}", follow_up.due_on, follow_up.assignee_name, follow_up.title);
            (ActivityKind::FollowUpRescheduled, summary, changes)
        }
    };
    tx.append(follow_up_activity(ctx, kind, &follow_up, summary, changes)).await?;
    Ok(follow_up)
}

/// When a follow-up is due, as the lists group them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpDue {
    /// Open and due before today.
    Overdue,
    Today,
    /// Due after today.
    Upcoming,
}

/// Query parameters of a follow-up list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FollowUpQuery {
    /// `me` (the default for `GET /follow-ups`), `anyone` (everyone's the
    /// caller may see; a fieldworker's own), or a user's id.
    pub assignee: Option<String>,
    /// Default `open`.
    pub status: Option<FollowUpStatus>,
    pub due: Option<FollowUpDue>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// What a list reads: the filter, where the page starts and its size.
type Listing = (FollowUpFilter, Option<(String, Uuid)>, i64);

impl FollowUpQuery {
    fn filter(&self, ctx: &Ctx, today: Date) -> Result<Listing> {
        let mut errors = ValidationErrors::default();
        let mut filter = FollowUpFilter { status: Some(self.status.unwrap_or(FollowUpStatus::Open)), ..Default::default() };
        filter.assignee_id = match self.assignee.as_deref() {
            None => None,
            Some("me") => Some(me(ctx)?.0),
            Some("anyone") => None,
            Some(id) => errors.take(Uuid::parse_str(id).map_err(|_| ValidationErrors::one("assignee", "invalid_id", "is `me` or a user's id"))),
        };
        let tomorrow = today.tomorrow().unwrap_or(today);
        match self.due {
            Some(FollowUpDue::Overdue) => (filter.status, filter.due_before) = (Some(FollowUpStatus::Open), Some(today)),
            Some(FollowUpDue::Today) => (filter.due_from, filter.due_before) = (Some(today), Some(tomorrow)),
            Some(FollowUpDue::Upcoming) => filter.due_from = Some(tomorrow),
            None => {}
        }
        // A fieldworker sees their own follow-ups only.
        if let Some(user) = ctx.assigned_only(Module::Messages) {
            if filter.assignee_id.is_some_and(|a| a != user) {
                errors.push("assignee", "not_allowed", "a fieldworker sees their own follow-ups");
            }
            filter.assignee_id = Some(user);
        }
        // Cursors are `due_on/id`.
        let after = errors.take(keyed_cursor(self.cursor.as_deref(), '/')).flatten();
        let limit = errors.take(limit(self.limit));
        match limit {
            Some(limit) if errors.is_empty() => Ok((filter, after, limit)),
            _ => Err(errors.into()),
        }
    }
}

async fn page(h: &mut Handle<'_>, ctx: &Ctx, filter: FollowUpFilter, after: Option<(String, Uuid)>, limit: i64) -> Result<Page<FollowUp>> {
    let today = ctx.today();
    let rows = q::list_follow_ups(h, ctx.org.id.0, &filter, after, limit + 1).await?;
    paginate(rows, limit, |r| format!("{}/{}", r.due_on, r.id), |r| Ok(r.into_follow_up(today)?))
}

/// Follow-ups across customers, by due day: by default the caller's open
/// ones; `assignee=anyone` lists everyone's.
pub async fn list_follow_ups(db: &Db, ctx: &Ctx, mut query: FollowUpQuery) -> Result<Page<FollowUp>> {
    ctx.require(Module::Messages, Action::View)?;
    query.assignee = query.assignee.or(Some("me".into()));
    let (filter, after, limit) = query.filter(ctx, ctx.today())?;
    page(&mut db.read().await?.handle(), ctx, filter, after, limit).await
}

/// A customer's follow-ups, by due day (open ones unless asked otherwise).
pub async fn customer_follow_ups(db: &Db, ctx: &Ctx, customer: &str, query: FollowUpQuery) -> Result<Page<FollowUp>> {
    ctx.require(Module::Messages, Action::View)?;
    let (filter, after, limit) = query.filter(ctx, ctx.today())?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let customer = customers::find(h, ctx, customer).await?;
    page(h, ctx, FollowUpFilter { customer_id: Some(customer.id), ..filter }, after, limit).await
}

/// "My follow-ups": the caller's open ones, overdue, due today and upcoming.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MyFollowUps {
    pub overdue: Vec<FollowUp>,
    pub today: Vec<FollowUp>,
    pub upcoming: Vec<FollowUp>,
}

pub async fn my_follow_ups(db: &Db, ctx: &Ctx) -> Result<MyFollowUps> {
    let mut parts = Vec::new();
    for due in [FollowUpDue::Overdue, FollowUpDue::Today, FollowUpDue::Upcoming] {
        let query = FollowUpQuery { assignee: Some("me".into()), due: Some(due), limit: Some(MINE_SHOWN as u32), ..Default::default() };
        parts.push(list_follow_ups(db, ctx, query).await?.items);
    }
    let upcoming = parts.pop().unwrap_or_default();
    let today = parts.pop().unwrap_or_default();
    let overdue = parts.pop().unwrap_or_default();
    Ok(MyFollowUps { overdue, today, upcoming })
}

/// Who a follow-up can be given to: the org's active users, by name.
pub async fn assignees(db: &Db, ctx: &Ctx) -> Result<Vec<(UserId, String)>> {
    ctx.require(Module::Messages, Action::Create)?;
    crate::users::active_names(db, ctx).await
}
