//! Follow-ups: per assignee and per customer, by due day.

use dossier_domain::follow_up::{FollowUp, FollowUpStatus};
use dossier_domain::ids::{CustomerId, FollowUpId, UserId};
use dossier_domain::message::{RecordRef, RecordType};
use jiff::civil::Date;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::billing::{parse_date, parse_enum};
use crate::customers::timestamp;
use crate::{Handle, Result, run};

/// A follow-up as stored, with its customer's number (joined).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FollowUpRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub customer_id: Uuid,
    pub title: String,
    pub notes: Option<String>,
    pub due_on: String,
    pub assignee_id: Uuid,
    pub assignee_name: String,
    pub status: String,
    pub record_type: Option<String>,
    pub record_id: Option<Uuid>,
    pub record_code: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub customer_code: String,
}

impl FollowUpRow {
    pub fn new(org_id: Uuid, follow_up: &FollowUp) -> Self {
        Self {
            org_id,
            id: follow_up.id.0,
            customer_id: follow_up.customer_id.0,
            title: follow_up.title.clone(),
            notes: follow_up.notes.clone(),
            due_on: follow_up.due_on.to_string(),
            assignee_id: follow_up.assignee_id.0,
            assignee_name: follow_up.assignee_name.clone(),
            status: follow_up.status.as_str().to_owned(),
            record_type: follow_up.record.as_ref().map(|r| r.kind.as_str().to_owned()),
            record_id: follow_up.record.as_ref().map(|r| r.id),
            record_code: follow_up.record.as_ref().and_then(|r| r.code.clone()),
            created_by: follow_up.created_by.clone(),
            created_at: follow_up.created_at.as_microsecond(),
            closed_at: follow_up.closed_at.map(|t| t.as_microsecond()),
            customer_code: String::new(),
        }
    }

    /// The follow-up as of `today` (which decides whether it is overdue).
    pub fn into_follow_up(self, today: Date) -> Result<FollowUp> {
        let status = parse_enum("follow-up status", &self.status, FollowUpStatus::parse)?;
        let due_on = parse_date(&self.due_on)?;
        let record = match (&self.record_type, self.record_id) {
            (Some(kind), Some(id)) => Some(RecordRef { kind: parse_enum("record type", kind, RecordType::parse)?, id, code: self.record_code.clone() }),
            _ => None,
        };
        Ok(FollowUp {
            id: FollowUpId(self.id),
            customer_id: CustomerId(self.customer_id),
            customer_code: self.customer_code,
            title: self.title,
            notes: self.notes,
            due_on,
            assignee_id: UserId(self.assignee_id),
            assignee_name: self.assignee_name,
            overdue: status == FollowUpStatus::Open && due_on < today,
            status,
            record,
            created_by: self.created_by,
            created_at: timestamp(self.created_at)?,
            closed_at: self.closed_at.map(timestamp).transpose()?,
        })
    }
}

pub async fn insert_follow_up(h: &mut Handle<'_>, row: &FollowUpRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO follow_up (org_id, id, customer_id, title, notes, due_on, assignee_id, assignee_name, status, record_type, record_id, \
         record_code, created_by, created_at, closed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)")
        .bind(row.org_id).bind(row.id).bind(row.customer_id).bind(&row.title).bind(&row.notes).bind(&row.due_on).bind(row.assignee_id)
        .bind(&row.assignee_name).bind(&row.status).bind(&row.record_type).bind(row.record_id).bind(&row.record_code).bind(&row.created_by)
        .bind(row.created_at).bind(row.closed_at)
        .execute(c).await.map(drop)?);
    Ok(())
}

const SELECT: &str = "SELECT f.*, c.code AS customer_code FROM follow_up f JOIN customer c ON c.org_id = f.org_id AND c.id = f.customer_id";

pub async fn get_follow_up(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<Option<FollowUpRow>> {
    let sql = format!("{SELECT} WHERE f.org_id = $1 AND f.id = $2");
    Ok(run!(h, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(org_id).bind(id).fetch_optional(c).await?))
}

/// Close an open follow-up (`false` if it was closed meanwhile).
pub async fn close_follow_up(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, status: FollowUpStatus, at: i64) -> Result<bool> {
    let done = run!(h, c => sqlx::query("UPDATE follow_up SET status = $3, closed_at = $4 WHERE org_id = $1 AND id = $2 AND status = 'open'")
        .bind(org_id).bind(id).bind(status.as_str()).bind(at).execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Move an open follow-up to another day or assignee (`false` if it was closed meanwhile).
pub async fn reschedule_follow_up(h: &mut Handle<'_>, row: &FollowUpRow) -> Result<bool> {
    let done = run!(h, c => sqlx::query(
        "UPDATE follow_up SET due_on = $3, assignee_id = $4, assignee_name = $5 WHERE org_id = $1 AND id = $2 AND status = 'open'")
        .bind(row.org_id).bind(row.id).bind(&row.due_on).bind(row.assignee_id).bind(&row.assignee_name).execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Which follow-ups a list holds.
#[derive(Clone, Debug, Default)]
pub struct FollowUpFilter {
    pub customer_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub status: Option<FollowUpStatus>,
    /// Due on or after this day (inclusive).
    pub due_from: Option<Date>,
    /// Due before this day (exclusive).
    pub due_before: Option<Date>,
}

/// Follow-ups by due day (then creation), after the `(due_on, id)` of the
/// previous page's last.
pub async fn list_follow_ups(h: &mut Handle<'_>, org_id: Uuid, filter: &FollowUpFilter, after: Option<(String, Uuid)>, limit: i64) -> Result<Vec<FollowUpRow>> {
    Ok(run!(h, c => {
        let mut q = QueryBuilder::new(format!("{SELECT} WHERE f.org_id = "));
        q.push_bind(org_id);
        match filter.customer_id {
            Some(customer) => q.push(" AND f.customer_id = ").push_bind(customer),
            // Every customer's: not those of deleted customers.
            None => q.push(" AND c.deleted_at IS NULL"),
        };
        if let Some(user) = filter.assignee_id {
            q.push(" AND f.assignee_id = ").push_bind(user);
        }
        if let Some(status) = filter.status {
            q.push(" AND f.status = ").push_bind(status.as_str());
        }
        if let Some(from) = filter.due_from {
            q.push(" AND f.due_on >= ").push_bind(from.to_string());
        }
        if let Some(before) = filter.due_before {
            q.push(" AND f.due_on < ").push_bind(before.to_string());
        }
        if let Some((due_on, id)) = &after {
            q.push(" AND (f.due_on > ").push_bind(due_on.clone()).push(" OR (f.due_on = ").push_bind(due_on.clone()).push(" AND f.id > ").push_bind(*id).push("))");
        }
        q.push(" ORDER BY f.due_on, f.id LIMIT ").push_bind(limit);
        q.build_query_as().fetch_all(c).await?
    }))
}
