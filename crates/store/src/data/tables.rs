//! Every table of an org, read and written row by row without knowing its
//! columns in advance: what a full export writes and an import of it loads.
//! The list of tables is explicit, in an order that respects foreign keys;
//! a test checks it against the schema of both backends.

use futures_util::TryStreamExt;
use serde_json::Value;
use sqlx::{AssertSqlSafe, QueryBuilder};
use uuid::Uuid;

use crate::{Handle, Result, StoreError, run};

/// The tables an org's export holds, parents before children, and the
/// column naming the org.
pub const EXPORTED: &[(&str, &str)] = &[
    ("org", "id"),
    ("app_user", "org_id"),
    ("api_token", "org_id"),
    ("code_counter", "org_id"),
    ("customer", "org_id"),
    ("customer_label", "org_id"),
    ("contact", "org_id"),
    ("site", "org_id"),
    ("customer_search", "org_id"),
    ("customer_search_deleted", "org_id"),
    ("activity", "org_id"),
    ("activity_link", "org_id"),
    ("activity_chain", "org_id"),
    ("inquiry", "org_id"),
    ("quote", "org_id"),
    ("job", "org_id"),
    ("job_assignee", "org_id"),
    ("invoice", "org_id"),
    ("payment", "org_id"),
    ("credit_note", "org_id"),
    ("allocation", "org_id"),
    ("portal_link", "org_id"),
    ("message", "org_id"),
    ("follow_up", "org_id"),
    ("file", "org_id"),
    ("org_logo", "org_id"),
    ("refund", "org_id"),
    ("custom_field", "org_id"),
    ("site_terms_pending", "org_id"),
    ("custom_terms_pending", "org_id"),
    ("task", "org_id"),
    ("smtp_settings", "org_id"),
    ("email_attachment", "org_id"),
    ("message_template", "org_id"),
    ("inbox_item", "org_id"),
    ("inbound_secret", "org_id"),
    ("sms_settings", "org_id"),
    ("automation_settings", "org_id"),
    ("automated_send", "org_id"),
    ("import_run", "org_id"),
    ("import_key", "org_id"),
    ("customer_merge", "org_id"),
    ("duplicate_dismissal", "org_id"),
];

/// The tables an export leaves out, and why.
pub const NOT_EXPORTED: &[(&str, &str)] = &[
    ("user_session", "sessions: everyone signs in again on the new database"),
    ("login_throttle", "failed sign-in counts, kept for minutes"),
    ("idempotency_key", "API retry records, kept for a day"),
    ("customer_bar", "the status bars' counts: the database's triggers rebuild them as the records are loaded"),
];

/// The binary columns (a hash, a token's hash, a logo): every other binary
/// column of SQLite is a UUID.
const BYTES_COLUMNS: &[&str] = &["token_hash", "content_hash", "chain_hash", "head", "invite_hash", "request_hash", "body", "bytes", "secret_hash"];

/// What a column holds, whatever the backend calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    Uuid,
    Bytes,
    Bool,
    Int,
    Real,
    Text,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ColumnType,
}

/// The columns of `table` in this database, in their order.
pub async fn columns(h: &mut Handle<'_>, table: &str) -> Result<Vec<Column>> {
    let described: Vec<(String, String)> = match h {
        Handle::Sqlite(c) => sqlx::query_as("SELECT name, type FROM pragma_table_info($1) ORDER BY cid").bind(table).fetch_all(&mut **c).await?,
        Handle::Postgres(c) => {
            sqlx::query_as(
                "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 \
                 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(&mut **c)
            .await?
        }
    };
    if described.is_empty() {
        return Err(StoreError::corrupt(format!("the database has no table {table}")));
    }
    Ok(described
        .into_iter()
        .map(|(name, declared)| {
            let t = declared.to_ascii_lowercase();
            let kind = if t == "uuid" {
                ColumnType::Uuid
            } else if t == "bytea" || t == "blob" {
                if BYTES_COLUMNS.contains(&name.as_str()) { ColumnType::Bytes } else { ColumnType::Uuid }
            } else if t.contains("bool") {
                ColumnType::Bool
            } else if t.contains("int") {
                ColumnType::Int
            } else if t.contains("real") || t.contains("double") || t.contains("float") {
                ColumnType::Real
            } else {
                ColumnType::Text
            };
            Column { name, kind }
        })
        .collect())
}

fn hex(bytes: &[u8]) -> String {
    dossier_domain::chain::hex(bytes)
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// The select list: PostgreSQL's narrower numbers widened, so one decoder serves.
fn select_list(h: &Handle<'_>, columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| match (h, c.kind) {
            (Handle::Postgres(_), ColumnType::Int) => format!("CAST({0} AS BIGINT) AS {0}", c.name),
            (Handle::Postgres(_), ColumnType::Real) => format!("CAST({0} AS DOUBLE PRECISION) AS {0}", c.name),
            _ => c.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

macro_rules! decode_row {
    ($row:expr, $columns:expr) => {{
        use sqlx::Row;
        let mut values = Vec::with_capacity($columns.len());
        for (i, column) in $columns.iter().enumerate() {
            let value = match column.kind {
                ColumnType::Uuid => $row.try_get::<Option<Uuid>, _>(i)?.map(|u| Value::String(u.to_string())),
                ColumnType::Bytes => $row.try_get::<Option<Vec<u8>>, _>(i)?.map(|b| Value::String(hex(&b))),
                ColumnType::Bool => $row.try_get::<Option<bool>, _>(i)?.map(Value::Bool),
                ColumnType::Int => $row.try_get::<Option<i64>, _>(i)?.map(Value::from),
                ColumnType::Real => $row.try_get::<Option<f64>, _>(i)?.map(Value::from),
                ColumnType::Text => $row.try_get::<Option<String>, _>(i)?.map(Value::String),
            };
            values.push(value.unwrap_or(Value::Null));
        }
        values
    }};
}

/// Call `each` with every row of `table` that belongs to `org_id` (by
/// `org_column`), as JSON values in the order of `columns`; streamed, not
/// loaded whole. The activity log comes in chain order.
pub async fn each_row(
    h: &mut Handle<'_>,
    table: &str,
    org_column: &str,
    org_id: Uuid,
    columns: &[Column],
    mut each: impl FnMut(Vec<Value>) -> std::result::Result<(), String>,
) -> Result<u64> {
    let order = match table {
        "activity" => " ORDER BY seq",
        _ => "",
    };
    let sql = format!("SELECT {} FROM {table} WHERE {org_column} = $1{order}", select_list(h, columns));
    let mut count = 0;
    run!(h, c => {
        let mut rows = sqlx::query(AssertSqlSafe(sql.clone())).bind(org_id).fetch(&mut *c);
        while let Some(row) = rows.try_next().await? {
            each(decode_row!(row, columns)).map_err(StoreError::corrupt)?;
            count += 1;
        }
    });
    Ok(count)
}

/// Every row of `table` in `org_id` whose `column` is `value` (one
/// customer's rows: `customer_id`, or `id` of the customer itself), handed
/// to `each` one at a time: what one customer's export writes. The
/// activity log comes in its order.
pub async fn each_row_where(
    h: &mut Handle<'_>,
    table: &str,
    org_id: Uuid,
    column: &str,
    value: Uuid,
    columns: &[Column],
    mut each: impl FnMut(Vec<Value>) -> std::result::Result<(), String>,
) -> Result<u64> {
    let order = match table {
        "activity" => " ORDER BY seq",
        _ if columns.iter().any(|c| c.name == "created_at") => " ORDER BY created_at, id",
        _ => "",
    };
    let sql = format!("SELECT {} FROM {table} WHERE org_id = $1 AND {column} = $2{order}", select_list(h, columns));
    let mut count = 0;
    run!(h, c => {
        let mut rows = sqlx::query(AssertSqlSafe(sql.clone())).bind(org_id).bind(value).fetch(&mut *c);
        while let Some(row) = rows.try_next().await? {
            each(decode_row!(row, columns)).map_err(StoreError::corrupt)?;
            count += 1;
        }
    });
    Ok(count)
}

/// Insert `rows` (values in the order of `columns`) into `table`, a few
/// hundred at a time.
pub async fn insert_rows(h: &mut Handle<'_>, table: &str, columns: &[Column], rows: &[Vec<Value>]) -> Result<()> {
    let per_statement = (30_000 / columns.len().max(1)).clamp(1, 500);
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    for chunk in rows.chunks(per_statement) {
        run!(h, c => {
            let mut q = QueryBuilder::new(format!("INSERT INTO {table} ({}) ", names.join(", ")));
            let mut bad = None;
            q.push_values(chunk, |mut b, row| {
                for (column, value) in columns.iter().zip(row) {
                    let text = value.as_str();
                    match column.kind {
                        ColumnType::Uuid => { b.push_bind(text.and_then(|t| t.parse::<Uuid>().ok())); }
                        ColumnType::Bytes => { b.push_bind(text.and_then(unhex)); }
                        ColumnType::Bool => { b.push_bind(value.as_bool()); }
                        ColumnType::Int => { b.push_bind(value.as_i64()); }
                        ColumnType::Real => { b.push_bind(value.as_f64()); }
                        ColumnType::Text => { b.push_bind(text.map(str::to_owned)); }
                    }
                    let parsed = match column.kind {
                        ColumnType::Uuid => text.is_some_and(|t| t.parse::<Uuid>().is_ok()),
                        ColumnType::Bytes => text.is_some_and(|t| unhex(t).is_some()),
                        ColumnType::Bool => value.is_boolean(),
                        ColumnType::Int => value.is_i64(),
                        ColumnType::Real => value.is_number(),
                        ColumnType::Text => value.is_string(),
                    };
                    if !parsed && !value.is_null() && bad.is_none() {
                        bad = Some(format!("{table}.{}: {value} is not a {:?}", column.name, column.kind));
                    }
                }
            });
            if let Some(bad) = bad {
                return Err(StoreError::corrupt(bad));
            }
            q.build().execute(&mut *c).await.map(drop)?
        });
    }
    Ok(())
}

/// The newest migration applied to this database.
pub async fn schema_version(h: &mut Handle<'_>) -> Result<i64> {
    Ok(run!(h, c => sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(c).await?))
}

/// The names of the tables this database has (but sqlx's own and
/// SQLite's full-text indexes).
pub async fn table_names(h: &mut Handle<'_>) -> Result<Vec<String>> {
    let mut names: Vec<String> = match h {
        Handle::Sqlite(c) => {
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' AND name NOT LIKE 'sqlite_%'")
                .fetch_all(&mut **c)
                .await?
        }
        Handle::Postgres(c) => sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()").fetch_all(&mut **c).await?,
    };
    // FTS5's shadow tables (message_text_data…) and sqlx's bookkeeping.
    names.retain(|n| n != "_sqlx_migrations" && !["_data", "_idx", "_content", "_docsize", "_config"].iter().any(|s| n.ends_with(s)));
    names.sort();
    Ok(names)
}

/// Read what follows from one snapshot of the database, until
/// [`end_snapshot`]: an export is consistent however busy the server is.
pub async fn begin_snapshot(h: &mut Handle<'_>) -> Result<()> {
    match h {
        Handle::Sqlite(c) => sqlx::raw_sql("BEGIN").execute(&mut **c).await.map(drop)?,
        Handle::Postgres(c) => sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut **c).await.map(drop)?,
    }
    Ok(())
}

pub async fn end_snapshot(h: &mut Handle<'_>) -> Result<()> {
    run!(h, c => sqlx::raw_sql("COMMIT").execute(c).await.map(drop)?);
    Ok(())
}
