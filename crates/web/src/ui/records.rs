//! One record's page (an invoice, a job…): its facts and lines, and the
//! customer it belongs to, linked back to their profile.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dossier_domain::currency::MoneyStyle;
use dossier_domain::custom_fields::FieldEntity;
use dossier_domain::ids::CustomerId;
use dossier_domain::ledger::Refund;
use dossier_domain::message::RecordType;
use dossier_domain::money::{Line, Totals};
use dossier_domain::permissions::Module;
use dossier_domain::works::Allocation;
use dossier_service::messages::{self, MessageQuery};
use dossier_service::{Ctx, Db, ServiceError, billing, custom_fields, customers, files, sites, works};
use uuid::Uuid;

use super::files::{FileView, Uploader, uploader};
use super::forms::Values;
use super::messages::{Composer, MessageView, composer};
use super::moves::{Current, MoveForm, offered, with_error};
use super::views::{day, words};
use super::{Staff, failure, page};
use crate::AppState;
use crate::ui::nav::Viewer;

/// The kinds of record with a page, by their path.
pub const KINDS: [&str; 6] = ["inquiries", "quotes", "jobs", "invoices", "payments", "credit-notes"];

/// The path segment of a record kind's pages (`/jobs/BOK-00012`); sites and
/// contacts have none.
pub fn page_of(kind: RecordType) -> Option<&'static str> {
    Some(match kind {
        RecordType::Inquiry => "inquiries",
        RecordType::Quote => "quotes",
        RecordType::Job => "jobs",
        RecordType::Invoice => "invoices",
        RecordType::Payment => "payments",
        RecordType::CreditNote => "credit-notes",
        RecordType::Site | RecordType::Contact => return None,
    })
}

/// A line as shown: description, quantity, unit price, tax rate, net.
type LineRow = (String, String, String, String, String);
/// A fact as shown: its label and value.
type Fact = (&'static str, String);
/// Which record a page shows: its kind, id and code.
type Shown = (RecordType, Uuid, String);
/// A total as shown: its label and amount.
type TotalRow = (&'static str, String);

#[derive(Template)]
#[template(path = "ui/record.html")]
struct RecordPage {
    user: Option<Viewer>,
    title: String,
    customer_code: String,
    customer_name: String,
    facts: Vec<(&'static str, String)>,
    /// A job's custom field values: `(label, value)`.
    custom: Vec<(String, String)>,
    lines: Vec<LineRow>,
    totals: Vec<TotalRow>,
    /// The record's important notes, and all its messages, newest first.
    pinned: Vec<MessageView>,
    messages: Vec<MessageView>,
    composer: Option<Composer>,
    /// Its photos and files (those of its messages too), and the upload form.
    files: Vec<FileView>,
    uploader: Option<Uploader>,
    /// The record as a PDF (invoices and quotes).
    pdf: Option<String>,
    /// The form that edits its details (a job's custom fields), for those who may.
    edit: Option<String>,
    /// Records it is tied to: a job's invoice, an invoice's jobs (label,
    /// then each one's page and code).
    related: Vec<(&'static str, Vec<(String, String)>)>,
    /// The moves its status allows, posted to `move_action`.
    moves: Vec<MoveForm>,
    move_action: String,
    /// Why a move the page no longer offers was refused.
    moves_error: Option<String>,
    /// What happened to the record, newest first, as a story by day.
    entries: Vec<super::views::Entry>,
}

/// Entries of a record's history its page shows.
const HISTORY_SHOWN: i64 = 50;

pub async fn record(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>, kind: &'static str) -> Response {
    match record_page(&s.db, &ctx, kind, &code).await {
        Ok(page_data) => page(StatusCode::OK, &page_data),
        Err(e) => failure(e),
    }
}

fn lines(lines: &[Line], totals: &Totals, currency: MoneyStyle) -> (Vec<LineRow>, Vec<TotalRow>) {
    let rows = lines
        .iter()
        .map(|l| {
            let tax = format!("{}%", l.tax_rate_bp.percent());
            (l.description.clone(), l.quantity.to_string(), l.unit_price.format(currency), tax, l.net.format(currency))
        })
        .collect();
    let totals = vec![("Subtotal", totals.subtotal.format(currency)), ("Tax", totals.tax.format(currency)), ("Total", totals.total.format(currency))];
    (rows, totals)
}

/// A payment's or credit note's allocations (linked to their invoices)
/// and its refunds, one fact each.
fn ledger_facts(ctx: &Ctx, allocations: &[Allocation], refunds: &[Refund], related: &mut Vec<(&'static str, Vec<(String, String)>)>) -> Vec<Fact> {
    let currency = ctx.org.money_style();
    if !allocations.is_empty() {
        related.push(("Set against", allocations.iter().map(|a| (format!("/invoices/{}", a.invoice_code), a.invoice_code.clone())).collect()));
    }
    refunds
        .iter()
        .map(|r| {
            ("Refund", format!("{} on {} by {}: {}", r.amount.format(currency), ctx.org.date(r.refunded_on), r.method.as_str().replace('_', " "), r.reason))
        })
        .collect()
}

/// The record's page again after a refused move, with the reason beside
/// the move's field.
pub async fn record_page_after(
    db: &Db,
    ctx: &Ctx,
    kind: &str,
    code: &str,
    name: &str,
    values: &Values,
    error: ServiceError,
) -> Result<impl Template, ServiceError> {
    let mut page_data = record_page(db, ctx, kind, code).await?;
    page_data.moves_error = with_error(&mut page_data.moves, name, values, error)?;
    Ok(page_data)
}

async fn record_page(db: &Db, ctx: &Ctx, kind: &str, code: &str) -> Result<RecordPage, ServiceError> {
    let currency = ctx.org.money_style();
    let date = |d: Option<jiff::civil::Date>| d.map_or_else(|| "—".to_owned(), |d| ctx.org.date(d));
    let current: Option<Current>;
    // The job's custom field values, as facts after the others.
    let mut custom = Vec::new();
    let mut edit = None;
    let mut related = Vec::new();
    let (title, customer, record, mut facts, (lines, totals)): (String, CustomerId, Shown, Vec<Fact>, _) = match kind {
        "inquiries" => {
            let i = works::get_inquiry(db, ctx, code).await?;
            current = Some(Current::Inquiry(i.status));
            let mut facts =
                vec![("Status", words(i.status.as_str())), ("Estimated value", i.estimated_value.format(currency)), ("Raised", day(&ctx.org, i.created_at))];
            facts.extend(i.converted_to.clone().map(|to| ("Converted into", to)));
            (format!("Inquiry {}: {}", i.code, i.title), i.customer_id, (RecordType::Inquiry, i.id.0, i.code.clone()), facts, (Vec::new(), Vec::new()))
        }
        "quotes" => {
            let q = works::get_quote(db, ctx, code).await?;
            let facts = vec![("Status", words(q.status.as_str())), ("Valid until", date(q.valid_until)), ("Total", q.totals.total.format(currency))];
            let shown = (
                format!("Quote {}: {}", q.code, q.title),
                q.customer_id,
                (RecordType::Quote, q.id.0, q.code.clone()),
                facts,
                lines(&q.lines, &q.totals, currency),
            );
            current = Some(Current::Quote(Box::new(q)));
            shown
        }
        "jobs" => {
            let j = works::get_job(db, ctx, code).await?;
            current = Some(Current::Job(j.status));
            let when = |at: jiff::Timestamp| day(&ctx.org, at);
            let window = match (j.scheduled_start, j.scheduled_end) {
                (Some(start), Some(end)) => format!("{} – {}", when(start), when(end)),
                _ => "—".to_owned(),
            };
            let mut facts = vec![("Status", words(j.status.as_str())), ("Scheduled", window)];
            facts.extend(j.value.map(|v| ("Value", if j.free_of_charge { "Free of charge".to_owned() } else { v.format(currency) })));
            facts.extend(j.completion_notes.clone().map(|n| ("Completion notes", n)));
            let fields = custom_fields::list_definitions(db, ctx, Some(FieldEntity::Job)).await?;
            custom = super::custom_fields::inputs::shown(&fields, &j.custom_fields, currency);
            // Its details are its custom fields: editable where the org has
            // some, by whoever may change the job (`PATCH /jobs/{id}`).
            if !fields.is_empty() && ctx.access(Module::Jobs, dossier_domain::permissions::Action::Edit) != dossier_domain::permissions::Access::None {
                edit = Some(format!("/jobs/{}/edit", j.code));
            }
            // What the one who goes there needs: where, how to get in.
            if let Some(site) = j.site_id {
                let site = sites::get_site(db, ctx, &site.0.to_string()).await?;
                facts.push(("Site", site.profile.one_line()));
                facts.extend(site.profile.access_notes.map(|notes| ("Access notes", notes)));
            }
            if let Some(invoice) = j.invoice_id.filter(|_| ctx.sees(Module::Invoices)) {
                let invoice = billing::get_invoice(db, ctx, &invoice.0.to_string()).await?;
                related.push(("Billed on", vec![(format!("/invoices/{}", invoice.code), invoice.code)]));
            }
            (format!("Job {}: {}", j.code, j.title), j.customer_id, (RecordType::Job, j.id.0, j.code.clone()), facts, (Vec::new(), Vec::new()))
        }
        "invoices" => {
            let i = billing::get_invoice(db, ctx, code).await?;
            if !i.job_ids.is_empty() && ctx.sees(Module::Jobs) {
                let mut jobs = Vec::with_capacity(i.job_ids.len());
                for job in &i.job_ids {
                    let job = works::get_job(db, ctx, &job.0.to_string()).await?;
                    jobs.push((format!("/jobs/{}", job.code), job.code));
                }
                related.push(("Bills the jobs", jobs));
            }
            let facts = vec![
                ("State", words(i.state.as_str())),
                ("Issued", date(i.issue_date)),
                ("Due", date(i.due_date)),
                ("Paid", i.paid.format(currency)),
                ("Credited", i.credited.format(currency)),
                ("To pay", i.balance.format(currency)),
            ];
            let shown =
                (format!("Invoice {}", i.code), i.customer_id, (RecordType::Invoice, i.id.0, i.code.clone()), facts, lines(&i.lines, &i.totals, currency));
            current = Some(Current::Invoice(Box::new(i)));
            shown
        }
        "payments" => {
            let p = billing::get_payment(db, ctx, code).await?;
            let mut facts = vec![
                ("Received", ctx.org.date(p.received_on)),
                ("Amount", p.amount.format(currency)),
                ("Allocated", p.allocated.format(currency)),
                ("Refunded", p.refunded.format(currency)),
                ("Not yet allocated", p.unallocated.format(currency)),
            ];
            facts.extend(ledger_facts(ctx, &p.allocations, &p.refunds, &mut related));
            let shown = (format!("Payment {}", p.code), p.customer_id, (RecordType::Payment, p.id.0, p.code.clone()), facts, (Vec::new(), Vec::new()));
            current = Some(Current::Payment(Box::new(p)));
            shown
        }
        "credit-notes" => {
            let c = billing::get_credit_note(db, ctx, code).await?;
            let mut facts = vec![
                ("Issued", ctx.org.date(c.issue_date)),
                ("Amount", c.amount.format(currency)),
                ("Reason", c.reason.clone()),
                ("Allocated", c.allocated.format(currency)),
                ("Refunded", c.refunded.format(currency)),
                ("Not yet allocated", c.unallocated.format(currency)),
            ];
            facts.extend(ledger_facts(ctx, &c.allocations, &c.refunds, &mut related));
            let shown = (format!("Credit note {}", c.code), c.customer_id, (RecordType::CreditNote, c.id.0, c.code.clone()), facts, (Vec::new(), Vec::new()));
            current = Some(Current::CreditNote(Box::new(c)));
            shown
        }
        _ => return Err(ServiceError::NotFound("page")),
    };
    let customer = customers::get_customer(db, ctx, &customer.0.to_string()).await?;
    if kind == "jobs" {
        facts.extend(customer.profile.phone.as_ref().map(|phone| ("Customer's phone", phone.to_string())));
    }
    let (record_type, record_id, code) = record;
    let here = format!("/{kind}/{code}");
    let pdf = matches!(kind, "invoices" | "quotes").then(|| format!("/api/v1/{kind}/{code}/pdf"));
    let people = match (&current, ctx.access(Module::Jobs, dossier_domain::permissions::Action::Edit)) {
        (Some(Current::Job(_)), dossier_domain::permissions::Access::All) => works::job_assignees(db, ctx).await?,
        _ => Vec::new(),
    };
    let moves = current.map(|current| offered(ctx, &current, customer.status, &people)).unwrap_or_default();
    let move_action = format!("/{kind}/{code}/move");
    let (mut pinned, mut shown) = (Vec::new(), Vec::new());
    if ctx.sees(Module::Messages) {
        let found = messages::record_messages(db, ctx, record_id, MessageQuery { limit: Some(100), ..Default::default() }).await?;
        let mut views: Vec<MessageView> = found.items.iter().map(|m| MessageView::of(ctx, m, &here)).collect();
        super::messages::with_files(db, ctx, &found.items, &mut views, &here).await?;
        for (message, view) in found.items.iter().zip(views) {
            if message.pinned { pinned.push(view) } else { shown.push(view) }
        }
    }
    let files = match ctx.sees(Module::Files) {
        true => files::record_files(db, ctx, record_id, 100).await?.iter().map(|f| FileView::of(ctx, f, &here)).collect(),
        false => Vec::new(),
    };
    let entries = match ctx.sees(Module::Timeline) {
        true => {
            let subject = dossier_domain::activity::EntityRef::new(record_type.entity(), record_id);
            super::views::story(ctx, &dossier_service::timeline::record_history(db, ctx, subject, HISTORY_SHOWN).await?)
        }
        false => Vec::new(),
    };
    Ok(RecordPage {
        user: Some(Viewer::of(ctx)),
        title,
        composer: composer(ctx, &customer.code, Some((record_type, code.clone())), &here),
        uploader: uploader(ctx, &customer.code, Some((record_type, code)), &here),
        files,
        customer_code: customer.code,
        customer_name: customer.display_name,
        facts,
        custom,
        lines,
        totals,
        pinned,
        messages: shown,
        pdf,
        edit,
        moves,
        move_action,
        moves_error: None,
        related,
        entries,
    })
}
