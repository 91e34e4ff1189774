//! What pages show, worked out in Rust so templates only lay it out:
//! status bars with their colours, timeline entries, money and dates.

use dossier_domain::activity::{Activity, ActorType};
use dossier_domain::money::Money;
use dossier_service::summary::Bars;
use jiff::Timestamp;

/// One status's segment of a bar and its legend entry.
pub struct Segment {
    pub label: String,
    pub count: i64,
    pub total: String,
    pub colour: &'static str,
    /// Share of the records, in percent (0–100).
    pub width: f64,
    /// The hover text: this status and the running total up to it.
    pub tooltip: String,
    /// The list of these records ("Show all").
    pub href: String,
}

/// One record type's bar.
pub struct BarView {
    pub title: &'static str,
    pub count: i64,
    pub total: String,
    pub segments: Vec<Segment>,
    pub show_all: String,
}

/// The colour of a status, as staff know them: jobs in progress orange,
/// completed green, to schedule purple, cancelled grey; quotes draft grey,
/// sent blue, accepted green, expired red; invoices open blue, overdue red,
/// closed green, credited yellow.
pub fn colour(kind: &str, status: &str) -> &'static str {
    match (kind, status) {
        ("jobs", "in_progress") => "c-orange",
        ("jobs", "completed") => "c-green",
        ("jobs", "to_schedule") => "c-purple",
        ("jobs", "scheduled") => "c-blue",
        ("jobs", "aborted") => "c-dark",
        ("quotes", "sent") => "c-blue",
        ("quotes", "accepted") => "c-green",
        ("quotes", "expired") => "c-red",
        ("quotes", "declined") => "c-dark",
        ("invoices", "open") => "c-blue",
        ("invoices", "overdue") => "c-red",
        ("invoices", "closed") => "c-green",
        ("invoices", "credited") => "c-yellow",
        ("invoices", "void") => "c-dark",
        ("inquiries", "new") => "c-blue",
        ("inquiries", "contacted") => "c-orange",
        ("inquiries", "qualified") => "c-green",
        ("inquiries", "converted") => "c-purple",
        _ => "c-grey",
    }
}

/// "to_schedule" → "To schedule".
pub fn words(status: &str) -> String {
    let text = status.replace('_', " ");
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A record type's bar. `kind` is its list's path (`invoices`), `filter`
/// the list's status parameter (`state` for invoices, else `status`).
pub fn bar(title: &'static str, kind: &'static str, filter: &str, customer: &str, bars: &Bars, currency: &str) -> BarView {
    let mut running = Money::ZERO;
    let segments = bars
        .bars
        .iter()
        .map(|b| {
            running = running + b.total;
            let width = if bars.count == 0 { 0.0 } else { (b.count as f64) * 100.0 / (bars.count as f64) };
            Segment {
                label: words(&b.status),
                count: b.count,
                total: b.total.format(currency),
                colour: colour(kind, &b.status),
                width,
                tooltip: format!("{}: {} · {} (running total {})", words(&b.status), b.count, b.total.format(currency), running.format(currency)),
                href: format!("/customers/{customer}?tab=works&type={kind}&{filter}={}", b.status),
            }
        })
        .collect();
    BarView { title, count: bars.count, total: bars.total.format(currency), segments, show_all: format!("/customers/{customer}?tab=works&type={kind}") }
}

/// One timeline entry as shown.
pub struct Entry {
    pub summary: String,
    pub when: String,
    pub at: String,
    pub actor: String,
    pub actor_kind: &'static str,
    pub group: String,
    pub changes: Vec<(String, String, String)>,
}

pub fn entry(activity: &Activity) -> Entry {
    let actor_kind = match activity.actor.kind {
        ActorType::User => "user",
        ActorType::System => "system",
        ActorType::Customer => "customer",
        ActorType::Api => "API",
    };
    let value = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Entry {
        summary: activity.summary.clone(),
        when: day(activity.occurred_at),
        at: activity.occurred_at.to_string(),
        actor: activity.actor.name.clone(),
        actor_kind,
        group: activity.group.to_string(),
        changes: activity.changes.iter().map(|c| (c.field.clone(), value(&c.old), value(&c.new))).collect(),
    }
}

/// An instant as a day, `2026-11-30 14:05` in UTC.
pub fn day(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M").to_string()
}

/// Up to two initials of a name, for the avatar.
pub fn initials(name: &str) -> String {
    name.split_whitespace().filter_map(|w| w.chars().find(|c| c.is_alphanumeric())).take(2).flat_map(char::to_uppercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_take_the_first_letters_of_two_words() {
        assert_eq!(initials("Ann Lee"), "AL");
        assert_eq!(initials("Bailey Nursery Ltd"), "BN");
        assert_eq!(initials("(Mrs) ada"), "MA");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn statuses_have_the_colours_staff_know() {
        assert_eq!(colour("jobs", "in_progress"), "c-orange");
        assert_eq!(colour("jobs", "cancelled"), "c-grey");
        assert_eq!(colour("quotes", "expired"), "c-red");
        assert_eq!(colour("invoices", "credited"), "c-yellow");
        assert_eq!(words("to_schedule"), "To schedule");
    }
}
