//! A list as CSV: the customer directory and the lists of inquiries,
//! quotes, jobs, invoices, payments and credit notes, with the same
//! filters as the list and every row that matches (not one page).
//!
//! Each is read through the list's own use case, a page of
//! [`MAX_LIMIT`] at a time, so the CSV and the list can never disagree and
//! a role that may not see a list may not export it either (a fieldworker
//! gets no money list). The rows are written to a temporary file as they
//! come, so memory stays flat; at most [`MAX_CSV_ROWS`] rows, above which
//! the export is refused (`too_many_rows`: narrow the filters). Every cell
//! is [`neutralise`]d for spreadsheets.
//!
//! The customers' CSV is the importer's template: its header is
//! [`template_header`] and its `Reference` column holds the customer's
//! code, so the file maps itself on import, re-importing it into the same
//! org creates nothing (the importer knows its codes), and into another
//! org creates the customers with their primary contact and first site.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Seek, SeekFrom};

use dossier_domain::contact::PhoneKind;
use dossier_domain::custom_fields::{CustomValue, Definitions, FieldEntity, FieldType};
use dossier_domain::customer::{Customer, CustomerKind};
use dossier_domain::data::csv_cell::neutralise;
use dossier_domain::data::import::template_header;
use dossier_domain::ids::{CustomerId, UserId};
use dossier_domain::money::Money;
use dossier_store::queries as q;
use dossier_store::{ContactRow, Db, SiteRow};
use uuid::Uuid;

use crate::billing::{self, InvoiceQuery, LedgerQuery};
use crate::customers::{self, CustomerName, CustomerQuery};
use crate::page::MAX_LIMIT;
use crate::works::{self, InquiryQuery, JobQuery, QuoteQuery};
use crate::{Ctx, Result, ServiceError};

/// The most rows a list's CSV holds; a list with more is refused
/// (`too_many_rows`, 422) rather than cut short.
pub const MAX_CSV_ROWS: u64 = 100_000;

/// Which list, with its filters (its cursor and limit are ignored: the
/// CSV holds every matching row).
#[derive(Clone, Debug)]
pub enum ListCsv {
    Customers(CustomerQuery),
    Inquiries(InquiryQuery),
    Quotes(QuoteQuery),
    Jobs(JobQuery),
    Invoices(InvoiceQuery),
    Payments(LedgerQuery),
    CreditNotes(LedgerQuery),
}

impl ListCsv {
    /// The list's name, for the file's name: `invoices`.
    pub fn name(&self) -> &'static str {
        match self {
            ListCsv::Customers(_) => "customers",
            ListCsv::Inquiries(_) => "inquiries",
            ListCsv::Quotes(_) => "quotes",
            ListCsv::Jobs(_) => "jobs",
            ListCsv::Invoices(_) => "invoices",
            ListCsv::Payments(_) => "payments",
            ListCsv::CreditNotes(_) => "credit-notes",
        }
    }
}

/// A CSV written to a temporary file: the file, open at its start (its
/// name is gone already, so it leaves the disk once closed), its size and
/// its rows (the header not counted).
#[derive(Debug)]
pub struct SpooledCsv {
    pub file: File,
    pub size: u64,
    pub rows: u64,
}

fn io(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("writing a CSV failed: {e}"))
}

/// Rows written to a temporary file, each cell neutralised, counted
/// against [`MAX_CSV_ROWS`].
struct Sheet {
    out: csv::Writer<File>,
    rows: u64,
}

impl Sheet {
    fn new(header: &[String]) -> Result<Sheet> {
        let mut out = csv::Writer::from_writer(tempfile::tempfile().map_err(io)?);
        out.write_record(header.iter().map(|h| neutralise(h))).map_err(io)?;
        Ok(Sheet { out, rows: 0 })
    }

    fn row(&mut self, cells: Vec<String>) -> Result<()> {
        self.rows += 1;
        if self.rows > MAX_CSV_ROWS {
            return Err(ServiceError::Refused {
                code: "too_many_rows",
                message: format!("the list has more than {MAX_CSV_ROWS} rows; narrow it with its filters to export it"),
            });
        }
        self.out.write_record(cells.iter().map(|c| neutralise(c))).map_err(io)
    }

    fn finish(self) -> Result<SpooledCsv> {
        let mut file = self.out.into_inner().map_err(io)?;
        let size = file.stream_position().map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        Ok(SpooledCsv { file, size, rows: self.rows })
    }
}

fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// An amount as a plain decimal (`1234.50`), as the importer reads it.
fn amount(ctx: &Ctx, money: Money) -> String {
    money.decimal(ctx.org.money_style())
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

/// The customer's code and name, for a record's row.
fn customer_cells(names: &HashMap<CustomerId, CustomerName>, id: CustomerId) -> [String; 2] {
    match names.get(&id) {
        Some(c) => [c.code.clone(), c.name.clone()],
        None => [String::new(), String::new()],
    }
}

async fn names_of(db: &Db, ctx: &Ctx, ids: impl Iterator<Item = CustomerId>) -> Result<HashMap<CustomerId, CustomerName>> {
    customers::customer_names(db, ctx, &ids.collect::<Vec<_>>()).await
}

/// Every row of a list, as filtered, as CSV in a temporary file.
pub async fn list_csv(db: &Db, ctx: &Ctx, list: ListCsv) -> Result<SpooledCsv> {
    let limit = Some(MAX_LIMIT);
    match list {
        ListCsv::Customers(mut query) => {
            (query.cursor, query.limit) = (None, limit);
            customers_csv(db, ctx, query).await
        }
        ListCsv::Inquiries(mut query) => {
            (query.cursor, query.limit) = (None, limit);
            let mut sheet = Sheet::new(&header(&["Inquiry", "Customer code", "Customer", "Title", "Status", "Received", "Estimated value"]))?;
            loop {
                let page = works::list_inquiries(db, ctx, query.clone()).await?;
                let names = names_of(db, ctx, page.items.iter().map(|i| i.customer_id)).await?;
                for i in &page.items {
                    let [code, name] = customer_cells(&names, i.customer_id);
                    let when = i.created_at.to_zoned(ctx.org.zone()).date().to_string();
                    sheet.row(vec![i.code.clone(), code, name, i.title.clone(), i.status.as_str().into(), when, amount(ctx, i.estimated_value)])?;
                }
                match page.next_cursor {
                    Some(next) => query.cursor = Some(next),
                    None => return sheet.finish(),
                }
            }
        }
        ListCsv::Quotes(mut query) => {
            (query.cursor, query.limit) = (None, limit);
            let mut sheet = Sheet::new(&header(&["Quote", "Customer code", "Customer", "Title", "Status", "Made", "Valid until", "Total"]))?;
            loop {
                let page = works::list_quotes(db, ctx, query.clone()).await?;
                let names = names_of(db, ctx, page.items.iter().map(|q| q.customer_id)).await?;
                for q in &page.items {
                    let [code, name] = customer_cells(&names, q.customer_id);
                    let made = q.created_at.to_zoned(ctx.org.zone()).date().to_string();
                    let valid = q.valid_until.map(|d| d.to_string()).unwrap_or_default();
                    sheet.row(vec![q.code.clone(), code, name, q.title.clone(), q.status.as_str().into(), made, valid, amount(ctx, q.totals.total)])?;
                }
                match page.next_cursor {
                    Some(next) => query.cursor = Some(next),
                    None => return sheet.finish(),
                }
            }
        }
        ListCsv::Jobs(mut query) => {
            (query.cursor, query.limit) = (None, limit);
            let sees_money = ctx.sees_money();
            let mut names_row = vec!["Job", "Customer code", "Customer", "Title", "Status", "Scheduled start", "Scheduled end", "Assigned to"];
            if sees_money {
                names_row.extend(["Value", "Free of charge"]);
            }
            let mut sheet = Sheet::new(&header(&names_row))?;
            let people: HashMap<UserId, String> = works::job_people(db, ctx).await?.into_iter().map(|p| (p.id, p.name)).collect();
            loop {
                let page = works::list_jobs(db, ctx, query.clone()).await?;
                let names = names_of(db, ctx, page.items.iter().map(|j| j.customer_id)).await?;
                for j in &page.items {
                    let [code, name] = customer_cells(&names, j.customer_id);
                    let at = |t: Option<jiff::Timestamp>| t.map(|t| t.to_zoned(ctx.org.zone()).strftime("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
                    let assignees: Vec<&str> = j.assignees.iter().map(|a| people.get(a).map_or("someone no longer here", String::as_str)).collect();
                    let mut row = vec![
                        j.code.clone(),
                        code,
                        name,
                        j.title.clone(),
                        j.status.as_str().into(),
                        at(j.scheduled_start),
                        at(j.scheduled_end),
                        assignees.join("; "),
                    ];
                    if sees_money {
                        row.push(j.value.map(|v| amount(ctx, v)).unwrap_or_default());
                        row.push(if j.free_of_charge { "yes" } else { "no" }.into());
                    }
                    sheet.row(row)?;
                }
                match page.next_cursor {
                    Some(next) => query.cursor = Some(next),
                    None => return sheet.finish(),
                }
            }
        }
        ListCsv::Invoices(mut query) => {
            (query.cursor, query.limit) = (None, limit);
            let mut sheet = Sheet::new(&header(&["Invoice", "Customer code", "Customer", "State", "Issued", "Due", "Total", "To pay"]))?;
            loop {
                let page = billing::list_invoices(db, ctx, query.clone()).await?;
                let names = names_of(db, ctx, page.items.iter().map(|i| i.customer_id)).await?;
                for i in &page.items {
                    let [code, name] = customer_cells(&names, i.customer_id);
                    let day = |d: Option<jiff::civil::Date>| d.map(|d| d.to_string()).unwrap_or_default();
                    sheet.row(vec![
                        i.code.clone(),
                        code,
                        name,
                        i.state.as_str().into(),
                        day(i.issue_date),
                        day(i.due_date),
                        amount(ctx, i.totals.total),
                        amount(ctx, i.balance),
                    ])?;
                }
                match page.next_cursor {
                    Some(next) => query.cursor = Some(next),
                    None => return sheet.finish(),
                }
            }
        }
        ListCsv::Payments(mut query) => {
            (query.cursor, query.limit) = (None, limit);
            let mut sheet = Sheet::new(&header(&["Payment", "Customer code", "Customer", "Received", "Method", "Reference", "Amount", "Not yet allocated"]))?;
            loop {
                let page = billing::list_payments(db, ctx, query.clone()).await?;
                let names = names_of(db, ctx, page.items.iter().map(|p| p.customer_id)).await?;
                for p in &page.items {
                    let [code, name] = customer_cells(&names, p.customer_id);
                    sheet.row(vec![
                        p.code.clone(),
                        code,
                        name,
                        p.received_on.to_string(),
                        p.method.as_str().into(),
                        text(&p.reference),
                        amount(ctx, p.amount),
                        amount(ctx, p.unallocated),
                    ])?;
                }
                match page.next_cursor {
                    Some(next) => query.cursor = Some(next),
                    None => return sheet.finish(),
                }
            }
        }
        ListCsv::CreditNotes(mut query) => {
            (query.cursor, query.limit) = (None, limit);
            let mut sheet = Sheet::new(&header(&["Credit note", "Customer code", "Customer", "Issued", "Reason", "Amount", "Not yet allocated"]))?;
            loop {
                let page = billing::list_credit_notes(db, ctx, query.clone()).await?;
                let names = names_of(db, ctx, page.items.iter().map(|c| c.customer_id)).await?;
                for c in &page.items {
                    let [code, name] = customer_cells(&names, c.customer_id);
                    sheet.row(vec![
                        c.code.clone(),
                        code,
                        name,
                        c.issue_date.to_string(),
                        c.reason.clone(),
                        amount(ctx, c.amount),
                        amount(ctx, c.unallocated),
                    ])?;
                }
                match page.next_cursor {
                    Some(next) => query.cursor = Some(next),
                    None => return sheet.finish(),
                }
            }
        }
    }
}

/// The directory as the importer's template: see the module's comment.
async fn customers_csv(db: &Db, ctx: &Ctx, mut query: CustomerQuery) -> Result<SpooledCsv> {
    let fields = crate::custom_fields::definitions_of(db, ctx, FieldEntity::Customer).await?;
    let mut sheet = Sheet::new(&template_header(&fields))?;
    loop {
        let page = customers::list_customers(db, ctx, query.clone()).await?;
        let ids: Vec<Uuid> = page.items.iter().map(|c| c.id.0).collect();
        let (contacts, sites) = {
            let mut conn = db.read().await?;
            let h = &mut conn.handle();
            (q::contacts_of_customers(h, ctx.org.id.0, &ids).await?, q::sites_of_customers(h, ctx.org.id.0, &ids).await?)
        };
        // The first of each customer's: contacts come primary first.
        let mut contact_of: HashMap<Uuid, &ContactRow> = HashMap::new();
        for c in &contacts {
            contact_of.entry(c.customer_id).or_insert(c);
        }
        let mut site_of: HashMap<Uuid, &SiteRow> = HashMap::new();
        for s in &sites {
            if s.active {
                site_of.entry(s.customer_id).or_insert(s);
            }
        }
        for customer in &page.items {
            let row = customer_row(ctx, &fields, customer, contact_of.get(&customer.id.0).copied(), site_of.get(&customer.id.0).copied())?;
            sheet.row(row)?;
        }
        match page.next_cursor {
            Some(next) => query.cursor = Some(next),
            None => return sheet.finish(),
        }
    }
}

/// One customer in the template's columns (see `ImportField`'s order).
fn customer_row(ctx: &Ctx, fields: &Definitions, customer: &Customer, contact: Option<&ContactRow>, site: Option<&SiteRow>) -> Result<Vec<String>> {
    let p = &customer.profile;
    let individual = p.kind == CustomerKind::Individual;
    // A business's person is its contact; an individual is their own.
    let contact = if individual { None } else { contact.map(ContactRow::profile).transpose()? };
    let contact_phone = |mobile: bool| {
        contact
            .as_ref()
            .and_then(|c| c.phones.iter().find(|ph| (ph.kind == PhoneKind::Mobile) == mobile))
            .map(|ph| ph.number.as_str().to_owned())
            .unwrap_or_default()
    };
    let own = |value: &Option<String>| if individual { text(value) } else { String::new() };
    let mut row = vec![
        customer.code.clone(),
        p.kind.as_str().to_owned(),
        own(&p.title),
        own(&p.given_name),
        own(&p.family_name),
        String::new(),
        text(&p.business_name),
        p.email.as_ref().map(|e| e.as_str().to_owned()).unwrap_or_default(),
        p.phone.as_ref().map(|ph| ph.as_str().to_owned()).unwrap_or_default(),
        contact_phone(true),
        text(&p.source),
        customer.status.as_str().to_owned(),
        customer.labels.join("; "),
        contact.as_ref().map(|c| text(&c.title)).unwrap_or_default(),
        contact.as_ref().map(|c| text(&c.given_name)).unwrap_or_default(),
        contact.as_ref().map(|c| c.family_name.clone()).unwrap_or_default(),
        String::new(),
        contact.as_ref().map(|c| text(&c.position)).unwrap_or_default(),
        contact.as_ref().and_then(|c| c.emails.first()).map(|e| e.address.as_str().to_owned()).unwrap_or_default(),
        contact_phone(false),
    ];
    match site {
        Some(s) => row.extend([
            text(&s.name),
            s.address_line1.clone(),
            text(&s.address_line2),
            text(&s.town),
            text(&s.region),
            s.postcode.clone(),
            s.country.clone(),
            text(&s.access_notes),
        ]),
        None => row.extend(std::iter::repeat_n(String::new(), 8)),
    }
    for definition in fields.iter() {
        let value = p.custom_fields.get(&definition.key);
        row.push(match (value, definition.spec.field_type) {
            (None, _) => String::new(),
            (Some(CustomValue::Bool(b)), _) => if *b { "yes" } else { "no" }.to_owned(),
            (Some(CustomValue::Number(n)), FieldType::Money) => n.as_i64().map(|minor| amount(ctx, Money(minor))).unwrap_or_else(|| n.to_string()),
            (Some(CustomValue::Number(n)), _) => n.to_string(),
            (Some(CustomValue::Text(t)), _) => t.clone(),
        });
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use dossier_domain::data::import::ImportField;

    use super::*;

    #[test]
    fn a_list_past_the_bound_is_refused_and_cells_are_neutralised() {
        let mut sheet = Sheet::new(&header(&["Name", "=Sum"])).unwrap();
        sheet.row(vec!["+44 7911 123456".into(), "plain".into()]).unwrap();
        for _ in 1..MAX_CSV_ROWS {
            sheet.row(vec![String::new(), String::new()]).unwrap();
        }
        let refused = sheet.row(vec![String::new(), String::new()]).unwrap_err();
        assert!(matches!(refused, ServiceError::Refused { code: "too_many_rows", .. }), "{refused:?}");
        let mut small = Sheet::new(&header(&["Name", "=Sum"])).unwrap();
        small.row(vec!["+44 7911 123456".into(), "plain".into()]).unwrap();
        let mut done = small.finish().unwrap();
        let mut text = String::new();
        done.file.read_to_string(&mut text).unwrap();
        assert_eq!(text, "Name,'=Sum\n'+44 7911 123456,plain\n");
        assert_eq!((done.rows, done.size), (1, text.len() as u64));
    }

    #[test]
    fn a_customer_row_has_a_cell_for_each_import_column() {
        // customer_row writes the columns in ImportField's order: 20 of the
        // customer and its contact, 8 of the site.
        assert_eq!(ImportField::ALL.len(), 28);
        assert_eq!(ImportField::ALL[19], ImportField::ContactPhone);
        assert_eq!(ImportField::ALL[20], ImportField::SiteName);
        assert_eq!(ImportField::ALL[27], ImportField::AccessNotes);
    }
}
