//! Quotes move to expired when their valid-until date passes: a daily task
//! per org, just after midnight in the org's time zone.
//!
//! Each run expires every sent quote whose valid-until date is before the
//! org's today, through the same use case as a manual move
//! ([`crate::works::move_quote_in`]: `quote.status_changed`, sent →
//! expired), acting as the `system` actor. It works in batches of
//! [`BATCH`] quotes, one transaction each, so it never holds the SQLite
//! writer for long; running it again only finds the quotes still sent.

use dossier_domain::tasks::TaskKind;
use dossier_domain::workflow::QuoteStatus;
use dossier_store::Db;
use dossier_store::queries as q;
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use serde_json::json;

use crate::automation::tasks::{Claimed, NewTask, SYSTEM_NAME};
use crate::{Ctx, Org, Result};

/// Quotes expired per transaction.
pub const BATCH: i64 = 100;

/// When the daily run is due, in the org's time zone: five past midnight.
pub const RUNS_AT: Time = Time::constant(0, 5, 0, 0);

/// The run for `day`, due at `run_at`.
pub(crate) fn occurrence(_org: &Org, day: Date, run_at: Timestamp) -> NewTask {
    NewTask { kind: TaskKind::ExpireQuotes, payload: json!({ "day": day.to_string() }), run_at, dedupe_key: Some(dedupe_key(day)), max_attempts: None }
}

/// The run after the one for `day` (or after today's, if `day` is past):
/// the next day at [`RUNS_AT`] in the org's time zone.
pub(crate) fn next(org: &Org, day: Date, now: Timestamp) -> NewTask {
    let today = now.to_zoned(org.zone()).date();
    let next = day.max(today).tomorrow().unwrap_or(day);
    let run_at = next.to_datetime(RUNS_AT).to_zoned(org.zone()).map(|z| z.timestamp()).unwrap_or(now);
    occurrence(org, next, run_at)
}

/// The key of the run for `day`: one per org and day.
pub fn dedupe_key(day: Date) -> String {
    format!("{}:{day}", TaskKind::ExpireQuotes.as_str())
}

/// Expire the org's sent quotes past their valid-until date; returns how many.
pub(crate) async fn run(db: &Db, task: &Claimed) -> Result<usize> {
    let org = crate::orgs::load(&mut db.read().await?.handle(), task.org_id.0).await?;
    let ctx = Ctx::system(org, SYSTEM_NAME);
    if !crate::automation::settings::load(&mut db.read().await?.handle(), ctx.org.id.0).await?.quote_expiry {
        return Ok(0); // switched off: quotes stay sent (the run is still rescheduled)
    }
    let today = ctx.today().to_string();
    let mut expired = 0;
    loop {
        let mut tx = db.begin().await?;
        let quotes = q::expiring_quotes(&mut tx.handle(), ctx.org.id.0, &today, BATCH).await?;
        for quote in &quotes {
            crate::works::move_quote_in(&mut tx, &ctx, &quote.id.to_string(), QuoteStatus::Expired, false, None).await?;
        }
        tx.commit().await?;
        expired += quotes.len();
        if (quotes.len() as i64) < BATCH {
            break;
        }
        if !task.renew(db).await? {
            break; // another worker took the task over: it carries on
        }
    }
    if expired > 0 {
        tracing::info!(org = %ctx.org.id, expired, "quotes past their valid-until date expired");
    }
    Ok(expired)
}
