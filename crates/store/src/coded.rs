//! Records with a per-org number and code (customers, work and money
//! records): fetching one by id or by number, and listing them newest first.

use dossier_domain::code::CodeKind;
use dossier_domain::workflow::InvoiceState;
use jiff::civil::Date;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, FromRow, QueryBuilder};
use uuid::Uuid;

use crate::billing::push_invoice_state;
use crate::{Handle, Result, run};

/// How a route names a record: its id, or its code (`INV-00042`, in the
/// normal form records store), found by its number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordKey {
    Id(Uuid),
    Code { number: i64, code: String },
}

/// Whose a coded record is: read from any coded table (the other columns
/// are left unread), to check that a record belongs to a customer.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RecordOwner {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub number: i64,
    /// The code it was given (`INV-00042`): its series' prefix at the time and its number.
    pub code: String,
}

/// A row type both backends can read.
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin> Row for T {}

/// The table of `kind`'s records: a fixed name, never user input, so the
/// queries built with it are safe.
fn table(kind: CodeKind) -> &'static str {
    match kind {
        CodeKind::Customer => "customer",
        CodeKind::Inquiry => "inquiry",
        CodeKind::Quote => "quote",
        CodeKind::Job => "job",
        CodeKind::Invoice => "invoice",
        CodeKind::Payment => "payment",
        CodeKind::CreditNote => "credit_note",
    }
}

/// The record of `kind` with this id or number, in `org_id`.
pub async fn get_coded<T: Row>(h: &mut Handle<'_>, kind: CodeKind, org_id: Uuid, key: RecordKey) -> Result<Option<T>> {
    let table = table(kind);
    Ok(match key {
        RecordKey::Id(id) => {
            let sql = format!("SELECT * FROM {table} WHERE org_id = $1 AND id = $2");
            run!(h, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(org_id).bind(id).fetch_optional(c).await?)
        }
        RecordKey::Code { number, code } => {
            let sql = format!("SELECT * FROM {table} WHERE org_id = $1 AND number = $2 AND code = $3");
            run!(h, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(org_id).bind(number).bind(code).fetch_optional(c).await?)
        }
    })
}

/// What a newest-first list is narrowed by. Each part applies to the
/// records that have it: `status` to inquiries, quotes and jobs, `assignee`
/// to jobs, `invoice_state` to invoices.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub customer_id: Option<Uuid>,
    /// Compared with the stored status text.
    pub status: Option<&'static str>,
    /// Only these stored statuses (empty: any).
    pub statuses: Vec<&'static str>,
    /// Jobs this user is assigned to.
    pub assignee: Option<Uuid>,
    /// Invoices in this state as of the org's today (the date), by the same
    /// expression the status bars group by.
    pub invoice_state: Option<(InvoiceState, Date)>,
}

/// Records of `kind` newest first (by number), after the `after` number.
pub async fn list_newest<T: Row>(h: &mut Handle<'_>, kind: CodeKind, org_id: Uuid, filter: &ListFilter, after: Option<i64>, limit: i64) -> Result<Vec<T>> {
    Ok(run!(h, c => {
        let table = table(kind);
        let mut q = QueryBuilder::new(format!("SELECT * FROM {table} WHERE org_id = "));
        q.push_bind(org_id);
        match filter.customer_id {
            Some(customer) => q.push(" AND customer_id = ").push_bind(customer),
            // A list over every customer leaves out what deleted customers own.
            None if kind == CodeKind::Customer => q.push(" AND deleted_at IS NULL"),
            None => q.push(crate::data::deletion::of_kept_customer(table)),
        };
        if let Some(status) = filter.status {
            q.push(" AND status = ").push_bind(status);
        }
        if !filter.statuses.is_empty() {
            q.push(" AND status IN ");
            crate::in_list::push_values(&mut q, &filter.statuses);
        }
        if let Some(user) = filter.assignee {
            q.push(" AND id IN (SELECT job_id FROM job_assignee WHERE org_id = ").push_bind(org_id);
            q.push(" AND user_id = ").push_bind(user).push(")");
        }
        if let Some((state, today)) = filter.invoice_state {
            q.push(" AND ");
            push_invoice_state(&mut q, today.to_string());
            q.push(" = ").push_bind(state.as_str());
        }
        if let Some(number) = after {
            q.push(" AND number < ").push_bind(number);
        }
        q.push(" ORDER BY number DESC LIMIT ").push_bind(limit);
        q.build_query_as().fetch_all(c).await?
    }))
}
