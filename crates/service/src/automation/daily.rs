//! The daily runs: each recurring kind runs once a day per org, at its
//! own hour in the org's time zone, as a chain of tasks (each run queues
//! the next when it ends; one dedupe key per kind and day, so a day is
//! never queued twice).
//!
//! - [`TaskKind::ExpireQuotes`] just after midnight
//!   ([`crate::automation::quote_expiry`]);
//! - [`TaskKind::DailySends`] in the morning: payment reminders, monthly
//!   statements and held emails whose pause ended
//!   ([`crate::automation::sends`]);
//! - [`TaskKind::PurgeDeleted`] at night: the erasure of customers deleted
//!   longer ago than the restore window ([`crate::data::deletion::purge`]).
//!
//! A run knows its day (the payload's `day`) and acts as of that day, so
//! tests move the clock by running a later day's task.

use dossier_domain::tasks::TaskKind;
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use serde_json::{Value, json};

use crate::Org;
use crate::automation::tasks::NewTask;

/// Every kind that runs daily.
pub const KINDS: [TaskKind; 3] = [TaskKind::ExpireQuotes, TaskKind::PurgeDeleted, TaskKind::DailySends];

/// When `kind`'s daily run is due, in the org's time zone.
pub fn runs_at(kind: TaskKind) -> Time {
    match kind {
        TaskKind::DailySends => Time::constant(8, 0, 0, 0),
        TaskKind::PurgeDeleted => Time::constant(3, 0, 0, 0),
        _ => Time::constant(0, 5, 0, 0),
    }
}

/// Whether `kind` runs daily.
pub fn is_daily(kind: TaskKind) -> bool {
    KINDS.contains(&kind)
}

/// `kind`'s run for `day`, due at `run_at`.
pub(crate) fn occurrence(kind: TaskKind, day: Date, run_at: Timestamp) -> NewTask {
    NewTask { kind, payload: json!({ "day": day.to_string() }), run_at, dedupe_key: Some(dedupe_key(kind, day)), max_attempts: None }
}

/// `kind`'s run for `day`, due at its hour that day in the org's time zone.
pub(crate) fn on(kind: TaskKind, org: &Org, day: Date, fallback: Timestamp) -> NewTask {
    let run_at = day.to_datetime(runs_at(kind)).to_zoned(org.zone()).map(|z| z.timestamp()).unwrap_or(fallback);
    occurrence(kind, day, run_at)
}

/// The run after the one for `day` (or after today's, if `day` is past):
/// the next day at `kind`'s hour in the org's time zone.
pub(crate) fn next(kind: TaskKind, org: &Org, day: Date, now: Timestamp) -> NewTask {
    let today = now.to_zoned(org.zone()).date();
    on(kind, org, day.max(today).tomorrow().unwrap_or(day), now)
}

/// The key of `kind`'s run for `day`: one per org, kind and day.
pub fn dedupe_key(kind: TaskKind, day: Date) -> String {
    format!("{}:{day}", kind.as_str())
}

/// The day a daily run is for (its payload's `day`), else `today`.
pub(crate) fn day_of(payload: &Value, today: Date) -> Date {
    payload.get("day").and_then(Value::as_str).and_then(|d| d.parse().ok()).unwrap_or(today)
}
