//! Invoice and quote documents as PDF: the org's letterhead, the customer's
//! billing address, the lines with their tax, the totals, and for an
//! invoice its due date and how to pay. A draft prints as a draft.

use dossier_domain::code::CodeKind;
use dossier_domain::currency::MoneyStyle;
use dossier_domain::ids::CustomerId;
use dossier_domain::money::{Line, Totals};
use dossier_domain::permissions::{Action, Module};
use dossier_domain::workflow::{InvoiceState, QuoteStatus};
use dossier_pdf::{Align, Column, Document, Image, Section, Table};
use dossier_store::queries as q;
use dossier_store::{CustomerRow, Db, Handle, RecordKey};

use crate::{Ctx, Result, ServiceError, billing, works};

/// Who a document is addressed to: the customer's name and code, then the
/// billing address (their billing site, else their first site).
pub(crate) async fn recipient(h: &mut Handle<'_>, row: &CustomerRow) -> Result<(String, String, Vec<String>)> {
    let sites = q::list_sites(h, row.org_id, row.id).await?;
    let billing = sites.iter().find(|s| s.kind == "billing").or(sites.first());
    let address = match billing {
        Some(site) => site.profile()?.address_lines(),
        None => Vec::new(),
    };
    Ok((row.profile()?.display_name(), row.code().to_string(), address))
}

/// [`recipient`] of the customer a record shown to the caller belongs to.
async fn recipient_of(db: &Db, ctx: &Ctx, customer: CustomerId) -> Result<(String, String, Vec<String>)> {
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let row: CustomerRow = q::get_coded(h, CodeKind::Customer, ctx.org.id.0, RecordKey::Id(customer.0)).await?.ok_or(ServiceError::NotFound("customer"))?;
    recipient(h, &row).await
}

/// The org's name and address, for the letterhead.
pub(crate) fn issuer(ctx: &Ctx) -> Vec<String> {
    std::iter::once(ctx.org.name.clone()).chain(ctx.org.address.iter().cloned()).collect()
}

/// The org's logo, for the letterhead.
pub(crate) async fn letterhead_logo(db: &Db, ctx: &Ctx) -> Result<Option<Image>> {
    Ok(crate::orgs::logo(db, ctx.org.id).await?.and_then(|logo| Image::new(&logo.content_type, logo.bytes)))
}

fn lines_table(lines: &[Line], currency: MoneyStyle) -> Section {
    let rate = |line: &Line| format!("{}%", line.tax_rate_bp.percent());
    Section::Table(Table {
        columns: vec![
            Column::new("Description", 3.2, Align::Left),
            Column::new("Quantity", 0.9, Align::Right),
            Column::new("Unit price", 1.2, Align::Right),
            Column::new("Tax", 0.7, Align::Right),
            Column::new("Net", 1.2, Align::Right),
        ],
        rows: lines
            .iter()
            .map(|l| vec![l.description.clone(), l.quantity.to_string(), l.unit_price.format(currency), rate(l), l.net.format(currency)])
            .collect(),
    })
}

fn totals(totals: &Totals, currency: MoneyStyle) -> Vec<(String, String, bool)> {
    vec![
        ("Subtotal".into(), totals.subtotal.format(currency), false),
        ("Tax".into(), totals.tax.format(currency), false),
        ("Total".into(), totals.total.format(currency), true),
    ]
}

fn render(document: &Document, what: &str) -> Result<Vec<u8>> {
    dossier_pdf::render(document).map_err(|e| ServiceError::Internal(format!("rendering the {what}: {e}")))
}

/// An invoice as a PDF: for anyone who may see it (a draft prints as a draft).
pub async fn invoice_pdf(db: &Db, ctx: &Ctx, reference: &str) -> Result<Vec<u8>> {
    ctx.require(Module::Invoices, Action::View)?;
    let invoice = billing::get_invoice(db, ctx, reference).await?;
    let (name, code, address) = recipient_of(db, ctx, invoice.customer_id).await?;
    let currency = ctx.org.money_style();
    let date = |d: Option<jiff::civil::Date>| d.map_or_else(|| "—".to_owned(), |d| ctx.org.date(d));
    let title = match invoice.state {
        InvoiceState::Draft => "Draft invoice (not issued)",
        InvoiceState::Void => "Invoice (void)",
        _ => "Invoice",
    };
    let mut summary = totals(&invoice.totals, currency);
    if invoice.paid.is_positive() {
        summary.push(("Paid".into(), (-invoice.paid).format(currency), false));
    }
    if invoice.credited.is_positive() {
        summary.push(("Credited".into(), (-invoice.credited).format(currency), false));
    }
    summary.push(("Amount due".into(), invoice.balance.format(currency), true));
    let mut sections = vec![lines_table(&invoice.lines, currency), Section::Totals(summary)];
    if let Some(notes) = &invoice.notes {
        sections.push(Section::Paragraph(notes.clone()));
    }
    if matches!(invoice.state, InvoiceState::Open | InvoiceState::Overdue) {
        sections.push(Section::Heading("How to pay".into()));
        sections.push(Section::Paragraph(format!(
            "Please pay {} by {}, quoting {} as the reference. Questions about this invoice: contact {}.",
            invoice.balance.format(currency),
            date(invoice.due_date),
            invoice.code,
            ctx.org.name
        )));
    }
    let document = Document {
        title: title.into(),
        logo: letterhead_logo(db, ctx).await?,
        issuer: issuer(ctx),
        recipient: std::iter::once(name).chain(address).collect(),
        facts: vec![
            ("Invoice".into(), invoice.code.clone()),
            ("Issued".into(), date(invoice.issue_date)),
            ("Due".into(), date(invoice.due_date)),
            ("Customer".into(), code),
            ("Amount due".into(), invoice.balance.format(currency)),
        ],
        sections,
        footer: Some(format!("{} · invoice {}", ctx.org.name, invoice.code)),
    };
    render(&document, "invoice")
}

/// A quote as a PDF, for anyone who may see quotes.
pub async fn quote_pdf(db: &Db, ctx: &Ctx, reference: &str) -> Result<Vec<u8>> {
    ctx.require(Module::Quotes, Action::View)?;
    let quote = works::get_quote(db, ctx, reference).await?;
    let (name, code, address) = recipient_of(db, ctx, quote.customer_id).await?;
    let currency = ctx.org.money_style();
    let title = match quote.status {
        QuoteStatus::Draft => "Draft quote",
        _ => "Quote",
    };
    let valid = quote.valid_until.map_or_else(|| "—".to_owned(), |d| ctx.org.date(d));
    let mut sections = vec![Section::Heading(quote.title.clone()), lines_table(&quote.lines, currency), Section::Totals(totals(&quote.totals, currency))];
    sections.push(Section::Paragraph(format!("This quote is valid until {valid}. To accept it, reply quoting {}.", quote.code)));
    let document = Document {
        title: title.into(),
        logo: letterhead_logo(db, ctx).await?,
        issuer: issuer(ctx),
        recipient: std::iter::once(name).chain(address).collect(),
        facts: vec![
            ("Quote".into(), quote.code.clone()),
            ("Date".into(), ctx.org.date(quote.created_at.to_zoned(ctx.org.zone()).date())),
            ("Valid until".into(), valid),
            ("Customer".into(), code),
            ("Total".into(), quote.totals.total.format(currency)),
        ],
        sections,
        footer: Some(format!("{} · quote {}", ctx.org.name, quote.code)),
    };
    render(&document, "quote")
}
