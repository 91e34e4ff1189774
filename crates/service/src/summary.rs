//! The customer summary: the status bars of inquiries, quotes, jobs and
//! invoices, what the customer owes and for how long, account credit, the
//! last twelve months' completed work and the last activity.

use dossier_domain::activity::EntityType;
use dossier_domain::ids::CustomerId;
use dossier_domain::money::Money;
use dossier_domain::permissions::{Action, Module};
use dossier_domain::workflow::{InquiryStatus, InvoiceState, JobStatus, QuoteStatus};
use dossier_store::summary::{BarRow, OpenInvoice};
use dossier_store::{Db, parse_date};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::{Ctx, Result, customers};

/// One status bar: a status, how many records have it and their amounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Bar {
    /// The status (for invoices the state: draft, open, overdue, closed, credited, void).
    pub status: String,
    pub count: i64,
    /// Sum of the records' amounts: estimated value, quote or invoice total, job value.
    pub total: Money,
    /// Invoices only: what is left to pay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: Option<Money>,
}

/// The bars of one record type, every status in workflow order (empty ones too).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Bars {
    pub bars: Vec<Bar>,
    pub count: i64,
    pub total: Money,
}

/// Open balances by how far past their due date they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Ageing {
    /// Not yet due.
    pub current: Money,
    pub days_1_30: Money,
    pub days_31_60: Money,
    pub days_61_90: Money,
    pub days_over_90: Money,
}

impl Ageing {
    /// Put `balance` in its bucket by days past due (0 or less is current).
    pub fn add(&mut self, days_overdue: i64, balance: Money) {
        let bucket = match days_overdue {
            ..=0 => &mut self.current,
            1..=30 => &mut self.days_1_30,
            31..=60 => &mut self.days_31_60,
            61..=90 => &mut self.days_61_90,
            _ => &mut self.days_over_90,
        };
        *bucket = *bucket + balance;
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CompletedWork {
    pub count: i64,
    pub value: Money,
}

/// A customer at a glance. Each record type's bars, and the balances, are
/// there only for callers who may view that module (absent otherwise); a
/// fieldworker's job bars count only the jobs assigned to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CustomerSummary {
    pub customer_id: CustomerId,
    pub code: String,
    /// ISO 4217; every amount is in its minor units.
    pub currency: String,
    /// The org's today, which decides what is overdue.
    #[schema(value_type = String, format = Date)]
    pub as_of: Date,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inquiries: Option<Bars>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quotes: Option<Bars>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs: Option<Bars>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoices: Option<Bars>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub balances: Option<Balances>,
    /// Jobs completed in the last twelve months and their value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_last_12_months: Option<CompletedWork>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_activity_at: Option<Timestamp>,
}

/// What the customer owes and has in credit: shown to those who see invoices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Balances {
    /// Sum of open invoices' balances minus account credit.
    pub open_balance: Money,
    /// Sum of overdue invoices' balances.
    pub overdue_balance: Money,
    /// Days since the oldest overdue invoice fell due; none when nothing is overdue.
    pub debt_age_days: Option<i64>,
    pub ageing: Ageing,
    /// Paid or credited but not yet set against an invoice.
    pub account_credit: Money,
}

/// Every status of `order` as a bar, with the kept bars of `record` found
/// (zero if none).
fn bars(order: &[&'static str], kept: &[BarRow], record: EntityType, with_balance: bool) -> Bars {
    let bars: Vec<Bar> = order
        .iter()
        .map(|status| {
            let found = kept.iter().find(|b| b.record == record.as_str() && b.status == *status);
            Bar {
                status: (*status).to_owned(),
                count: found.map_or(0, |b| b.count),
                total: Money(found.map_or(0, |b| b.total)),
                balance: with_balance.then(|| Money(found.map_or(0, |b| b.balance))),
            }
        })
        .collect();
    Bars { count: bars.iter().map(|b| b.count).sum(), total: bars.iter().map(|b| b.total).sum(), bars }
}

fn names<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|s| name(*s)).collect()
}

/// The kept invoice bars hold open invoices as one; those past due on
/// `today` move to the overdue bar.
fn split_overdue(kept: &mut Vec<BarRow>, open: &[OpenInvoice], today: &str) {
    let mut overdue = BarRow { record: EntityType::Invoice.as_str().into(), status: InvoiceState::Overdue.as_str().into(), count: 0, total: 0, balance: 0 };
    for invoice in open.iter().filter(|i| i.due_date.as_str() < today) {
        overdue.count += 1;
        overdue.total += invoice.total;
        overdue.balance += invoice.balance;
    }
    if let Some(bar) = kept.iter_mut().find(|b| b.record == EntityType::Invoice.as_str() && b.status == InvoiceState::Open.as_str()) {
        bar.count -= overdue.count;
        bar.total -= overdue.total;
        bar.balance -= overdue.balance;
    }
    kept.push(overdue);
}

pub async fn customer_summary(db: &Db, ctx: &Ctx, reference: &str) -> Result<CustomerSummary> {
    ctx.require(Module::Customers, Action::View)?;
    use dossier_store::summary as s;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let customer = customers::find(h, ctx, reference).await?;
    let (org, id) = (ctx.org.id.0, customer.id);
    let today = ctx.today();
    let own_jobs = ctx.assigned_only(Module::Jobs);
    let mut kept = s::customer_bars(h, org, id).await?;
    let sees_invoices = ctx.sees(Module::Invoices);
    let open = if sees_invoices { s::open_invoices(h, org, id).await? } else { Vec::new() };
    split_overdue(&mut kept, &open, &today.to_string());
    if let Some(assignee) = own_jobs {
        kept.retain(|b| b.record != EntityType::Job.as_str());
        kept.extend(s::assigned_job_counts(h, org, id, assignee).await?);
    }

    let inquiries = ctx.sees(Module::Inquiries).then(|| bars(&names(InquiryStatus::ALL, InquiryStatus::as_str), &kept, EntityType::Inquiry, false));
    let quotes = ctx.sees(Module::Quotes).then(|| bars(&names(QuoteStatus::ALL, QuoteStatus::as_str), &kept, EntityType::Quote, false));
    let (jobs, completed_last_12_months) = match ctx.sees(Module::Jobs) {
        true => {
            let bars = bars(&names(JobStatus::ALL, JobStatus::as_str), &kept, EntityType::Job, false);
            let year_ago = ctx.now().checked_sub(SignedDuration::from_hours(24 * 365)).unwrap_or(ctx.now()).as_microsecond();
            let (count, value) = s::completed_jobs_since(h, org, id, year_ago, own_jobs).await?;
            (Some(bars), Some(CompletedWork { count, value: Money(value) }))
        }
        false => (None, None),
    };
    let (invoices, balances) = match sees_invoices {
        true => (Some(bars(&names(InvoiceState::ALL, InvoiceState::as_str), &kept, EntityType::Invoice, true)), Some(balances(&open, &kept, today)?)),
        false => (None, None),
    };
    let last = s::last_activity_at(h, org, id).await?;
    Ok(CustomerSummary {
        customer_id: CustomerId(id),
        code: customer.code().to_string(),
        currency: ctx.org.currency.clone(),
        as_of: today,
        inquiries,
        quotes,
        jobs,
        invoices,
        balances,
        completed_last_12_months,
        last_activity_at: last.and_then(|micros| Timestamp::from_microsecond(micros).ok()),
    })
}

/// Balances from the open invoices and the kept payment and credit note bars.
fn balances(open: &[OpenInvoice], kept: &[BarRow], today: Date) -> Result<Balances> {
    let mut ageing = Ageing::default();
    let mut open_balance = Money::ZERO;
    let mut overdue = Money::ZERO;
    let mut oldest_overdue: Option<Date> = None;
    for invoice in open {
        let (due, balance) = (parse_date(&invoice.due_date)?, Money(invoice.balance));
        let days = due.until(today).map_or(0, |span| i64::from(span.get_days()));
        ageing.add(days, balance);
        open_balance = open_balance + balance;
        if due < today {
            overdue = overdue + balance;
            oldest_overdue = Some(oldest_overdue.map_or(due, |d| d.min(due)));
        }
    }
    let account_credit =
        Money(kept.iter().filter(|b| b.record == EntityType::Payment.as_str() || b.record == EntityType::CreditNote.as_str()).map(|b| b.balance).sum());
    Ok(Balances {
        open_balance: open_balance - account_credit,
        overdue_balance: overdue,
        debt_age_days: oldest_overdue.and_then(|d| d.until(today).ok()).map(|span| i64::from(span.get_days())),
        ageing,
        account_credit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balances_fall_into_ageing_buckets_by_days_past_due() {
        let mut ageing = Ageing::default();
        for (days, amount) in [(-3, 1), (0, 2), (1, 4), (30, 8), (31, 16), (60, 32), (61, 64), (90, 128), (91, 256)] {
            ageing.add(days, Money(amount));
        }
        assert_eq!(ageing, Ageing { current: Money(3), days_1_30: Money(12), days_31_60: Money(48), days_61_90: Money(192), days_over_90: Money(256) });
    }
}
