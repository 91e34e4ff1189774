//! The customer summary: the status bars of inquiries, quotes, jobs and
//! invoices, what the customer owes and for how long, account credit, the
//! last twelve months' completed work and the last activity.

use dossier_domain::activity::EntityType;
use dossier_domain::ids::CustomerId;
use dossier_domain::money::Money;
use dossier_domain::permissions::{Action, Module};
use dossier_domain::workflow::{InquiryStatus, InvoiceState, JobStatus, QuoteStatus};
use dossier_store::summary::{AgeingBounds, BarRow, SummaryFacts};
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
    /// Sum of the records' amounts: estimated value, quote or invoice total,
    /// job value. Absent for a caller who may not see money.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
    /// Invoices only: what is left to pay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: Option<Money>,
}

/// The bars of one record type, every status in workflow order (empty ones too).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Bars {
    pub bars: Vec<Bar>,
    pub count: i64,
    /// Absent for a caller who may not see money.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
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
    /// Put `balance` in its bucket by days past due (0 or less is current);
    /// the summary's SQL (`summary_facts`) draws the same lines.
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
    /// Absent for a caller who may not see money.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Money>,
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
    /// Present only for those who see invoices: documented as
    /// [`BalancesPart`], whose fields are all optional (an absent part is not
    /// `null`, it is left out).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = BalancesPart)]
    pub balances: Option<Balances>,
    /// Jobs completed in the last twelve months and their value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_last_12_months: Option<CompletedWork>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_activity_at: Option<Timestamp>,
    /// The important (pinned) notes and messages, newest first, at most 20:
    /// shown above everything else. Absent for a caller who may not read
    /// messages; a fieldworker gets those of their jobs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<Vec<dossier_domain::message::Message>>,
}

/// The schema of a summary's balance fields: those of [`Balances`], each
/// present only for a caller who sees invoices. Never built; it documents
/// the flattened `Option<Balances>`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct BalancesPart {
    /// Sum of open invoices' balances minus account credit.
    open_balance: Option<Money>,
    /// Sum of overdue invoices' balances.
    overdue_balance: Option<Money>,
    /// Days since the oldest overdue invoice fell due; none when nothing is overdue.
    debt_age_days: Option<i64>,
    ageing: Option<Ageing>,
    /// Paid or credited but not yet set against an invoice.
    account_credit: Option<Money>,
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
/// (zero if none); their amounts only if `with_totals`.
fn bars(order: &[&'static str], kept: &[BarRow], record: EntityType, with_balance: bool, with_totals: bool) -> Bars {
    let bars: Vec<Bar> = order
        .iter()
        .map(|status| {
            let found = kept.iter().find(|b| b.record == record.as_str() && b.status == *status);
            Bar {
                status: (*status).to_owned(),
                count: found.map_or(0, |b| b.count),
                total: with_totals.then(|| Money(found.map_or(0, |b| b.total))),
                balance: with_balance.then(|| Money(found.map_or(0, |b| b.balance))),
            }
        })
        .collect();
    let total = with_totals.then(|| bars.iter().filter_map(|b| b.total).sum());
    Bars { count: bars.iter().map(|b| b.count).sum(), total, bars }
}

fn names<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|s| name(*s)).collect()
}

/// The kept invoice bars hold open invoices as one; those past due move to
/// the overdue bar.
fn split_overdue(kept: &mut Vec<BarRow>, facts: &SummaryFacts) {
    let overdue_balance = facts.overdue_balance();
    if let Some(bar) = kept.iter_mut().find(|b| b.record == EntityType::Invoice.as_str() && b.status == InvoiceState::Open.as_str()) {
        bar.count -= facts.overdue_count;
        bar.total -= facts.overdue_total;
        bar.balance -= overdue_balance;
    }
    kept.push(BarRow {
        record: EntityType::Invoice.as_str().into(),
        status: InvoiceState::Overdue.as_str().into(),
        count: facts.overdue_count,
        total: facts.overdue_total,
        balance: overdue_balance,
    });
}

/// The days that bound the ageing buckets on `today`.
fn ageing_bounds(today: Date) -> AgeingBounds {
    let back = |days: i64| today.checked_sub(jiff::Span::new().days(days)).unwrap_or(Date::MIN).to_string();
    AgeingBounds { today: today.to_string(), days_30: back(30), days_60: back(60), days_90: back(90) }
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
    let sees_invoices = ctx.sees(Module::Invoices);
    let money = ctx.sees_money();
    let year_ago = ctx.now().checked_sub(SignedDuration::from_hours(24 * 365)).unwrap_or(ctx.now()).as_microsecond();
    let mut kept = s::customer_bars(h, org, id).await?;
    let facts = s::summary_facts(h, org, id, year_ago, own_jobs, sees_invoices.then(|| ageing_bounds(today)).as_ref()).await?;
    split_overdue(&mut kept, &facts);
    if let Some(assignee) = own_jobs {
        kept.retain(|b| b.record != EntityType::Job.as_str());
        kept.extend(s::assigned_job_counts(h, org, id, assignee).await?);
    }

    let inquiries = ctx.sees(Module::Inquiries).then(|| bars(&names(InquiryStatus::ALL, InquiryStatus::as_str), &kept, EntityType::Inquiry, false, money));
    let quotes = ctx.sees(Module::Quotes).then(|| bars(&names(QuoteStatus::ALL, QuoteStatus::as_str), &kept, EntityType::Quote, false, money));
    let (jobs, completed_last_12_months) = match ctx.sees(Module::Jobs) {
        true => (
            Some(bars(&names(JobStatus::ALL, JobStatus::as_str), &kept, EntityType::Job, false, money)),
            Some(CompletedWork { count: facts.completed_count, value: money.then_some(Money(facts.completed_value)) }),
        ),
        false => (None, None),
    };
    let (invoices, balances) = match sees_invoices {
        true => (Some(bars(&names(InvoiceState::ALL, InvoiceState::as_str), &kept, EntityType::Invoice, true, money)), Some(balances(&facts, &kept, today)?)),
        false => (None, None),
    };
    let pinned = match (ctx.sees(Module::Messages), facts.any_pinned > 0) {
        (true, true) => Some(crate::messages::pinned_of(h, ctx, id).await?),
        (true, false) => Some(Vec::new()),
        (false, _) => None,
    };
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
        last_activity_at: facts.last_activity_at.and_then(|micros| Timestamp::from_microsecond(micros).ok()),
        pinned,
    })
}

/// Balances from the open invoices' ageing and the kept payment and credit
/// note bars.
fn balances(facts: &SummaryFacts, kept: &[BarRow], today: Date) -> Result<Balances> {
    let overdue = facts.overdue_balance();
    let ageing = Ageing {
        current: Money(facts.open_balance - overdue),
        days_1_30: Money(facts.days_1_30),
        days_31_60: Money(facts.days_31_60),
        days_61_90: Money(facts.days_61_90),
        days_over_90: Money(facts.days_over_90),
    };
    let oldest_overdue = facts.oldest_due.as_deref().map(parse_date).transpose()?.filter(|due| *due < today);
    let account_credit =
        Money(kept.iter().filter(|b| b.record == EntityType::Payment.as_str() || b.record == EntityType::CreditNote.as_str()).map(|b| b.balance).sum());
    Ok(Balances {
        open_balance: Money(facts.open_balance) - account_credit,
        overdue_balance: Money(overdue),
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
