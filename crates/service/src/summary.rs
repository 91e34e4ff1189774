//! The customer summary: the status bars of inquiries, quotes, jobs and
//! invoices, what the customer owes and for how long, account credit, the
//! last twelve months' completed work and the last activity.

use dossier_domain::ids::CustomerId;
use dossier_domain::money::Money;
use dossier_domain::permissions::{Action, Module};
use dossier_domain::workflow::{InquiryStatus, InvoiceState, JobStatus, QuoteStatus};
use dossier_store::summary::{StatusCount, WorkTable};
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

/// Every status of `order` as a bar, with the counts found (zero if none).
fn bars(order: &[&'static str], counts: Vec<StatusCount>, with_balance: bool) -> Bars {
    let bars: Vec<Bar> = order
        .iter()
        .map(|status| {
            let found = counts.iter().find(|c| c.status == *status);
            Bar {
                status: (*status).to_owned(),
                count: found.map_or(0, |c| c.count),
                total: Money(found.map_or(0, |c| c.total)),
                balance: with_balance.then(|| Money(found.map_or(0, |c| c.balance))),
            }
        })
        .collect();
    Bars { count: bars.iter().map(|b| b.count).sum(), total: bars.iter().map(|b| b.total).sum(), bars }
}

fn names<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|s| name(*s)).collect()
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

    let inquiries = match ctx.sees(Module::Inquiries) {
        true => Some(bars(&names(InquiryStatus::ALL, InquiryStatus::as_str), s::status_counts(h, org, id, WorkTable::Inquiry, None).await?, false)),
        false => None,
    };
    let quotes = match ctx.sees(Module::Quotes) {
        true => Some(bars(&names(QuoteStatus::ALL, QuoteStatus::as_str), s::status_counts(h, org, id, WorkTable::Quote, None).await?, false)),
        false => None,
    };
    let (jobs, completed_last_12_months) = match ctx.sees(Module::Jobs) {
        true => {
            let bars = bars(&names(JobStatus::ALL, JobStatus::as_str), s::status_counts(h, org, id, WorkTable::Job, own_jobs).await?, false);
            let year_ago = ctx.now().checked_sub(SignedDuration::from_hours(24 * 365)).unwrap_or(ctx.now()).as_microsecond();
            let (count, value) = s::completed_jobs_since(h, org, id, year_ago, own_jobs).await?;
            (Some(bars), Some(CompletedWork { count, value: Money(value) }))
        }
        false => (None, None),
    };
    let (invoices, balances) = match ctx.sees(Module::Invoices) {
        true => {
            let bars = bars(&names(InvoiceState::ALL, InvoiceState::as_str), s::invoice_state_counts(h, org, id, today).await?, true);
            (Some(bars), Some(balances(h, ctx, id).await?))
        }
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

async fn balances(h: &mut dossier_store::Handle<'_>, ctx: &Ctx, customer_id: uuid::Uuid) -> Result<Balances> {
    use dossier_store::summary as s;
    let today = ctx.today();
    let mut ageing = Ageing::default();
    let mut open = Money::ZERO;
    let mut overdue = Money::ZERO;
    let mut oldest_overdue: Option<Date> = None;
    for (due, balance) in s::open_invoice_balances(h, ctx.org.id.0, customer_id).await? {
        let (due, balance) = (parse_date(&due)?, Money(balance));
        let days = due.until(today).map_or(0, |span| i64::from(span.get_days()));
        ageing.add(days, balance);
        open = open + balance;
        if due < today {
            overdue = overdue + balance;
            oldest_overdue = Some(oldest_overdue.map_or(due, |d| d.min(due)));
        }
    }
    let account_credit = Money(s::account_credit(h, ctx.org.id.0, customer_id).await?);
    Ok(Balances {
        open_balance: open - account_credit,
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
