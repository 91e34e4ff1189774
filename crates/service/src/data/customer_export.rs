//! One customer's export: everything Dossier holds about them, for a
//! data-subject access request, as a ZIP file:
//! - `profile/customer.json`, `profile/labels.json`, `contacts.json`,
//!   `sites.json`;
//! - `works/inquiries.json`, `works/quotes.json`, `works/jobs.json`;
//! - `money/invoices.json`, `money/payments.json`,
//!   `money/credit_notes.json`, `money/allocations.json`,
//!   `money/refunds.json`;
//! - `messages.json`, `follow_ups.json`, `files.json` and `files/<id>-<name>`
//!   (each file's content);
//! - `timeline.json`: the activity log about them (who, when, what, the
//!   summary and the changes);
//! - `index.html`: a readable summary of all of it, self-contained (no
//!   scripts, every text escaped), linking to the files beside it.
//!
//! Each JSON file is an array of the rows as stored, times as RFC 3339
//! and JSON columns as JSON. It is read from one snapshot, as the org's
//! export is ([`super::export`], whose ZIP writing and blob copying it
//! shares), and recorded in the customer's history (`customer.data_exported`:
//! who exported whose data, when). A deleted customer exports too (a
//! request still applies); an erased one exports what is left.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write;
use std::path::Path;

use dossier_domain::activity::ActivityKind;
use dossier_domain::ids::CustomerId;
use dossier_domain::money::Money;
use dossier_domain::permissions::{Action, Module};
use dossier_store::Db;
use dossier_store::blobs::Blobs;
use dossier_store::data::tables::{self, ColumnType};
use serde_json::{Map, Value, json};

use super::export::{copy_blob, io, spooled, zip_options};
use crate::record::{activity, with_detail};
use crate::{Ctx, Result};

/// One part of the export: a file of the ZIP, the rows of `table` whose
/// `column` is the customer, and what the summary shows of them.
struct Part {
    path: &'static str,
    table: &'static str,
    column: &'static str,
    heading: &'static str,
    /// Columns the summary shows, with their headings.
    shown: &'static [(&'static str, &'static str)],
}

const PARTS: &[Part] = &[
    Part {
        path: "profile/customer.json",
        table: "customer",
        column: "id",
        heading: "Profile",
        shown: &[
            ("code", "Code"),
            ("display_name", "Name"),
            ("email", "Email"),
            ("phone", "Phone"),
            ("source", "Source"),
            ("status", "Status"),
            ("created_at", "Customer since"),
            ("deleted_at", "Deleted"),
            ("erased_at", "Personal data erased"),
        ],
    },
    Part { path: "profile/labels.json", table: "customer_label", column: "customer_id", heading: "Labels", shown: &[("label", "Label")] },
    Part {
        path: "contacts.json",
        table: "contact",
        column: "customer_id",
        heading: "Contacts",
        shown: &[
            ("title", "Title"),
            ("given_name", "First name"),
            ("family_name", "Last name"),
            ("position", "Position"),
            ("emails", "Emails"),
            ("phones", "Phones"),
        ],
    },
    Part {
        path: "sites.json",
        table: "site",
        column: "customer_id",
        heading: "Sites",
        shown: &[("name", "Name"), ("address_line1", "Address"), ("address_line2", ""), ("town", "Town"), ("postcode", "Postcode"), ("country", "Country")],
    },
    Part {
        path: "works/inquiries.json",
        table: "inquiry",
        column: "customer_id",
        heading: "Inquiries",
        shown: &[("code", "Inquiry"), ("title", "Title"), ("status", "Status"), ("created_at", "Received"), ("estimated_value", "Estimated value")],
    },
    Part {
        path: "works/quotes.json",
        table: "quote",
        column: "customer_id",
        heading: "Quotes",
        shown: &[("code", "Quote"), ("title", "Title"), ("status", "Status"), ("created_at", "Made"), ("total", "Total")],
    },
    Part {
        path: "works/jobs.json",
        table: "job",
        column: "customer_id",
        heading: "Jobs",
        shown: &[("code", "Job"), ("title", "Title"), ("status", "Status"), ("scheduled_start", "Scheduled"), ("completed_at", "Completed")],
    },
    Part {
        path: "money/invoices.json",
        table: "invoice",
        column: "customer_id",
        heading: "Invoices",
        shown: &[
            ("code", "Invoice"),
            ("status", "Status"),
            ("issue_date", "Issued"),
            ("due_date", "Due"),
            ("total", "Total"),
            ("paid", "Paid"),
            ("credited", "Credited"),
        ],
    },
    Part {
        path: "money/payments.json",
        table: "payment",
        column: "customer_id",
        heading: "Payments",
        shown: &[("code", "Payment"), ("received_on", "Received"), ("method", "Method"), ("reference", "Reference"), ("amount", "Amount")],
    },
    Part {
        path: "money/credit_notes.json",
        table: "credit_note",
        column: "customer_id",
        heading: "Credit notes",
        shown: &[("code", "Credit note"), ("issue_date", "Issued"), ("reason", "Reason"), ("amount", "Amount")],
    },
    Part { path: "money/allocations.json", table: "allocation", column: "customer_id", heading: "Allocations", shown: &[] },
    Part {
        path: "money/refunds.json",
        table: "refund",
        column: "customer_id",
        heading: "Refunds",
        shown: &[("refunded_on", "Refunded"), ("method", "Method"), ("reason", "Reason"), ("amount", "Amount")],
    },
    Part {
        path: "messages.json",
        table: "message",
        column: "customer_id",
        heading: "Messages",
        shown: &[("occurred_at", "When"), ("author_name", "From"), ("subject", "Subject"), ("body", "Message")],
    },
    Part {
        path: "follow_ups.json",
        table: "follow_up",
        column: "customer_id",
        heading: "Follow-ups",
        shown: &[("due_on", "Due"), ("title", "Follow-up"), ("status", "Status"), ("assignee_name", "Assigned to")],
    },
    Part {
        path: "files.json",
        table: "file",
        column: "customer_id",
        heading: "Files",
        shown: &[("name", "File"), ("media_type", "Type"), ("created_at", "Added"), ("uploaded_by_name", "By")],
    },
    Part {
        path: "timeline.json",
        table: "activity",
        column: "customer_id",
        heading: "Timeline",
        shown: &[("occurred_at", "When"), ("actor_name", "Who"), ("kind", "What"), ("summary", "Summary")],
    },
];

/// Rows of a part the summary shows; the JSON file has them all.
const SHOWN_ROWS: usize = 500;

/// Columns holding amounts in minor units.
const MONEY_COLUMNS: &[&str] = &["estimated_value", "subtotal", "tax", "total", "paid", "credited", "amount", "allocated", "value", "refunded"];

/// What the summary shows of one part.
struct Shown {
    part: &'static Part,
    rows: Vec<Vec<Cell>>,
    count: u64,
}

/// One cell of the summary: its text, and the file inside the ZIP it
/// opens (a file's name).
struct Cell {
    text: String,
    link: Option<String>,
}

/// What an export of one customer holds.
#[derive(Debug)]
pub struct CustomerExport {
    /// The customer's code, for the file's name.
    pub code: String,
    /// Rows written, all parts together.
    pub rows: u64,
    /// Files whose content was written.
    pub files: usize,
}

/// Export everything about the customer `reference` (id or code) to a
/// temporary file, answered open with its size (owners and admins:
/// `personal_data` export), and record it in their history.
pub async fn export_customer_spooled(db: &Db, blobs: &Blobs, ctx: &Ctx, reference: &str) -> Result<(File, u64, CustomerExport)> {
    ctx.require(Module::PersonalData, Action::Export)?;
    let (file, size, (export, id)) = spooled(|path| async move { write_export(db, blobs, ctx, reference, &path).await }).await?;
    let mut tx = db.begin().await?;
    let entity = dossier_domain::activity::EntityRef::new(dossier_domain::activity::EntityType::Customer, id.0);
    let summary = format!("Personal data of {} exported by {} (a data-subject access request)", export.code, ctx.actor.name);
    let record = activity(ctx, ActivityKind::CustomerDataExported, Some(id), entity, Some(export.code.clone()), summary, Vec::new());
    tx.append(with_detail(record, json!({ "rows": export.rows, "files": export.files }))).await?;
    tx.commit().await?;
    Ok((file, size, export))
}

async fn write_export(db: &Db, blobs: &Blobs, ctx: &Ctx, reference: &str, out: &Path) -> Result<(CustomerExport, CustomerId)> {
    let org = ctx.org.id;
    let mut conn = db.read().await?;
    // As the org's export: the snapshot's transaction never goes back to the pool.
    conn.close_on_drop();
    let h = &mut conn.handle();
    tables::begin_snapshot(h).await?;
    let customer = crate::customers::find(h, ctx, reference).await?;
    let (id, code) = (customer.id, customer.code().to_string());
    let mut zip = zip::ZipWriter::new(File::create(out).map_err(io)?);
    let options = zip_options();
    let mut summary = Vec::new();
    let mut contents: Vec<(String, String)> = Vec::new();
    let mut name = String::new();
    let mut total = 0;
    let style = ctx.org.money_style();
    for part in PARTS {
        let columns = tables::columns(h, part.table).await?;
        zip.start_file(part.path, options).map_err(io)?;
        zip.write_all(b"[").map_err(io)?;
        let mut shown = Shown { part, rows: Vec::new(), count: 0 };
        let count = tables::each_row_where(h, part.table, org.0, part.column, id, &columns, |values| {
            let mut object = Map::new();
            for (column, value) in columns.iter().zip(values) {
                object.insert(column.name.clone(), readable(&column.name, column.kind, value));
            }
            let mut link = None;
            if part.table == "file"
                && let (Some(file_id), Some(sha)) = (object.get("id").and_then(Value::as_str), object.get("sha256").and_then(Value::as_str))
            {
                let file_name = object.get("name").and_then(Value::as_str).unwrap_or("file");
                let inside = format!("files/{file_id}-{}", safe_name(file_name));
                contents.push((sha.to_owned(), inside.clone()));
                object.insert("content".into(), Value::String(inside.clone()));
                link = Some(inside);
            }
            if part.table == "customer" {
                name = object.get("display_name").and_then(Value::as_str).unwrap_or_default().to_owned();
            }
            if shown.rows.len() < SHOWN_ROWS && !part.shown.is_empty() {
                let cells = part
                    .shown
                    .iter()
                    .map(|(column, _)| {
                        let value = object.get(*column).unwrap_or(&Value::Null);
                        let text = match value.as_i64() {
                            Some(minor) if MONEY_COLUMNS.contains(column) => Money(minor).decimal(style),
                            _ => plain(value),
                        };
                        Cell { text, link: if *column == "name" { link.clone() } else { None } }
                    })
                    .collect();
                shown.rows.push(cells);
            }
            let separator: &[u8] = if shown.count == 0 { b"\n" } else { b",\n" };
            shown.count += 1;
            zip.write_all(separator).map_err(|e| e.to_string())?;
            serde_json::to_writer_pretty(&mut zip, &Value::Object(object)).map_err(|e| e.to_string())
        })
        .await?;
        zip.write_all(b"\n]\n").map_err(io)?;
        total += count;
        summary.push(shown);
    }
    tables::end_snapshot(h).await?;
    drop(conn);
    let mut missing = std::collections::BTreeSet::new();
    let mut files = 0;
    for (sha, inside) in &contents {
        if copy_blob(blobs, org, sha, inside, &mut zip).await? {
            files += 1;
        } else {
            missing.insert(inside.clone());
        }
    }
    zip.start_file("index.html", options).map_err(io)?;
    zip.write_all(index_html(ctx, &name, &code, &summary, &missing).as_bytes()).map_err(io)?;
    zip.finish().map_err(io)?;
    Ok((CustomerExport { code, rows: total, files }, CustomerId(id)))
}

/// A stored value as a person reads it in JSON: times (microseconds) as
/// RFC 3339, JSON text as JSON.
fn readable(column: &str, kind: ColumnType, value: Value) -> Value {
    let is_time = column.ends_with("_at") || matches!(column, "scheduled_start" | "scheduled_end");
    match (&value, kind) {
        (Value::Number(n), ColumnType::Int) if is_time => match n.as_i64().and_then(|us| jiff::Timestamp::from_microsecond(us).ok()) {
            Some(at) => Value::String(at.to_string()),
            None => value,
        },
        (Value::String(text), ColumnType::Text) if text.starts_with('{') || text.starts_with('[') => serde_json::from_str(text).unwrap_or(value),
        _ => value,
    }
}

/// A value as one line of text: lists of emails or phones by their
/// addresses and numbers.
fn plain(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items.iter().map(plain).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", "),
        Value::Object(object) => ["address", "number", "label", "name"]
            .iter()
            .find_map(|key| object.get(*key).and_then(Value::as_str))
            .map(str::to_owned)
            .unwrap_or_else(|| value.to_string()),
    }
}

/// A file's name as a ZIP entry and a link can hold it: letters, digits,
/// dots, dashes and underscores (others become `_`), at most 100 characters.
fn safe_name(name: &str) -> String {
    let safe: String = name.chars().take(100).map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    match safe.trim_start_matches('.') {
        "" => "file".to_owned(),
        rest => rest.to_owned(),
    }
}

/// Text made safe inside HTML (elements and attributes).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The readable summary: a heading, one table per part, links to the
/// JSON files and the files' content. No script; every text escaped.
fn index_html(ctx: &Ctx, name: &str, code: &str, parts: &[Shown], missing: &std::collections::BTreeSet<String>) -> String {
    let mut html = String::new();
    let title = format!("{} ({code})", if name.is_empty() { "Customer" } else { name });
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1b1b}}\
         table{{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}}th,td{{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}}\
         th{{background:#f4f4f4}}.muted{{color:#666}}</style></head><body>\n\
         <h1>{title}</h1>\n<p class=\"muted\">Everything {org} holds about this customer, exported on {day} by {by}. \
         Each part is also in the JSON file named under its heading.</p>\n",
        title = escape(&title),
        org = escape(&ctx.org.name),
        day = escape(&ctx.today().to_string()),
        by = escape(&ctx.actor.name),
    );
    for shown in parts {
        let part = shown.part;
        let _ = write!(html, "<h2>{}</h2>\n<p class=\"muted\"><a href=\"{path}\">{path}</a>: {} ", escape(part.heading), shown.count, path = part.path);
        html.push_str(if shown.count == 1 { "entry" } else { "entries" });
        if shown.count as usize > shown.rows.len() && !part.shown.is_empty() {
            let _ = write!(html, "; the first {} are shown here", shown.rows.len());
        }
        html.push_str(".</p>\n");
        if shown.rows.is_empty() {
            continue;
        }
        html.push_str("<table><thead><tr>");
        for (_, heading) in part.shown {
            let _ = write!(html, "<th>{}</th>", escape(heading));
        }
        html.push_str("</tr></thead><tbody>\n");
        for row in &shown.rows {
            html.push_str("<tr>");
            for cell in row {
                match &cell.link {
                    Some(inside) if !missing.contains(inside) => {
                        let _ = write!(html, "<td><a href=\"{}\">{}</a></td>", escape(inside), escape(&cell.text));
                    }
                    Some(_) => {
                        let _ = write!(html, "<td>{} <span class=\"muted\">(its content is no longer kept)</span></td>", escape(&cell.text));
                    }
                    None => {
                        let _ = write!(html, "<td>{}</td>", escape(&cell.text));
                    }
                }
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</tbody></table>\n");
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped_and_file_names_made_safe() {
        assert_eq!(escape("<script>alert('1')</script> & \"x\""), "&lt;script&gt;alert(&#39;1&#39;)&lt;/script&gt; &amp; &quot;x&quot;");
        assert_eq!(safe_name("../../etc/pass wd.txt"), "_.._etc_pass_wd.txt");
        assert_eq!(safe_name("фото.jpg"), "____.jpg");
        assert_eq!(safe_name(".."), "file");
    }

    #[test]
    fn times_and_json_text_become_readable() {
        assert_eq!(readable("created_at", ColumnType::Int, json!(0)), json!("1970-01-01T00:00:00Z"));
        assert_eq!(readable("total", ColumnType::Int, json!(1250)), json!(1250));
        assert_eq!(readable("emails", ColumnType::Text, json!("[{\"address\":\"a@b.example\"}]")), json!([{"address": "a@b.example"}]));
        assert_eq!(plain(&json!([{"kind": "work", "address": "a@b.example"}, {"number": "+447700900123"}])), "a@b.example, +447700900123");
    }
}
