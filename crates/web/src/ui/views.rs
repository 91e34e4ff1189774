//! What pages show, worked out in Rust so templates only lay it out:
//! status bars with their colours, timeline entries, money and dates.

use dossier_domain::activity::{Activity, ActivityGroup, ActivityKind, ActorType};
use dossier_domain::currency::MoneyStyle;
use dossier_domain::money::Money;
use dossier_service::Org;
use dossier_service::summary::Bars;
use jiff::Timestamp;

/// One status's segment of a bar and its legend entry.
pub struct Segment {
    pub label: String,
    pub count: i64,
    pub total: String,
    pub colour: &'static str,
    /// Share of the records in whole percent (0–100; the bar's add up to
    /// 100): the class `w{width}` in app.css gives the width, as pages carry
    /// no inline style (Content-Security-Policy).
    pub width: u8,
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

/// One cell of a table of records (the profile's tabs, the statement, the
/// lists): its text, the page it opens, a muted note after it (a
/// customer's code), the colour of a status badge, and its class in
/// app.css (`num`: a right-aligned amount; `nowrap`: a code or a status
/// kept on one line). Drawn by `ui/cell.html`.
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub note: Option<String>,
    pub colour: Option<&'static str>,
    pub class: &'static str,
}

/// A cell of plain text.
pub fn cell(text: impl Into<String>) -> Cell {
    Cell { text: text.into(), href: None, note: None, colour: None, class: "" }
}

/// An amount, right-aligned.
pub fn num(text: impl Into<String>) -> Cell {
    Cell { class: "num", ..cell(text) }
}

/// Text opening `href`.
pub fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
    Cell { href: Some(href.into()), ..cell(text) }
}

/// "to_schedule" → "To schedule".
pub fn words(status: &str) -> String {
    super::forms::capitalised(&status.replace('_', " "))
}

/// A record type's bar. `kind` is its list's path (`invoices`), `filter`
/// the list's status parameter (`state` for invoices, else `status`).
pub fn bar(title: &'static str, kind: &'static str, filter: &str, customer: &str, bars: &Bars, currency: MoneyStyle) -> BarView {
    let mut running = Money::ZERO;
    let widths = percentages(&bars.bars.iter().map(|b| b.count).collect::<Vec<_>>());
    let segments = bars
        .bars
        .iter()
        .zip(widths)
        .map(|(b, width)| {
            running = running + b.total.unwrap_or_default();
            Segment {
                label: words(&b.status),
                count: b.count,
                total: b.total.map(|t| t.format(currency)).unwrap_or_default(),
                colour: colour(kind, &b.status),
                width,
                tooltip: match b.total {
                    Some(total) => format!("{}: {} · {} (running total {})", words(&b.status), b.count, total.format(currency), running.format(currency)),
                    None => format!("{}: {}", words(&b.status), b.count),
                },
                href: format!("/customers/{customer}?tab=works&type={kind}&{filter}={}", b.status),
            }
        })
        .collect();
    BarView {
        title,
        count: bars.count,
        total: bars.total.map(|t| t.format(currency)).unwrap_or_default(),
        segments,
        show_all: format!("/customers/{customer}?tab=works&type={kind}"),
    }
}

/// Each count's share of their sum in whole percent, adding up to 100
/// (largest remainders get the rounding), and at least 1 for a count above 0.
fn percentages(counts: &[i64]) -> Vec<u8> {
    let sum: i64 = counts.iter().map(|c| (*c).max(0)).sum();
    if sum == 0 {
        return vec![0; counts.len()];
    }
    let exact: Vec<i64> = counts.iter().map(|c| (*c).max(0) * 100).collect();
    let mut shares: Vec<i64> = exact.iter().map(|e| e / sum).collect();
    let mut by_remainder: Vec<usize> = (0..counts.len()).collect();
    by_remainder.sort_by_key(|&i| std::cmp::Reverse(exact[i] % sum));
    let missing = 100 - shares.iter().sum::<i64>();
    for &i in by_remainder.iter().take(missing as usize) {
        shares[i] += 1;
    }
    for i in 0..shares.len() {
        if counts[i] > 0 && shares[i] == 0 {
            let largest = (0..shares.len()).max_by_key(|&j| shares[j]).unwrap_or(i);
            shares[largest] -= 1;
            shares[i] = 1;
        }
    }
    shares.into_iter().map(|s| s.clamp(0, 100) as u8).collect()
}

/// Why a search found a customer, when not by its own name: "Contact: Ann
/// Smith", or a custom field's label and value: "Boiler make: Worcester".
pub fn match_reason(matched: &dossier_domain::search::SearchMatch) -> Option<String> {
    use dossier_domain::search::MatchField::*;
    let what = match matched.field {
        Name => return None,
        Code => "Code",
        Email => "Email",
        Phone => "Phone",
        ContactName => "Contact",
        ContactEmail => "Contact's email",
        ContactPhone => "Contact's phone",
        Postcode => "Site postcode",
        Street => "Site",
        Town => "Town",
        CustomField => matched.label.as_deref().unwrap_or("Custom field"),
    };
    Some(format!("{what}: {}", matched.text))
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
    /// A message's channel, direction and audience.
    pub badges: Vec<String>,
    /// A message's text as safe HTML.
    pub body_html: Option<String>,
    /// A file added: where it opens, and a picture's small version.
    pub file: Option<(String, Option<String>)>,
    /// A status change, emphasised: from, to.
    pub status_change: Option<(String, String)>,
    /// The day it happened in the org's time zone, when it differs from the
    /// entry before it: the heading the story is grouped under.
    pub heading: Option<String>,
}

/// Entries newest first, each day under a heading ("Today", "Yesterday",
/// "Monday 30 November 2026") in the org's time zone.
pub fn story(ctx: &dossier_service::Ctx, activities: &[Activity]) -> Vec<Entry> {
    let zone = ctx.org.zone();
    let today = ctx.today();
    let mut previous = None;
    activities
        .iter()
        .map(|activity| {
            let mut shown = entry(&ctx.org, activity);
            let day = activity.occurred_at.to_zoned(zone.clone()).date();
            if previous != Some(day) {
                shown.heading = Some(match today.since(day).map(|span| span.get_days()) {
                    Ok(0) => "Today".to_owned(),
                    Ok(1) => "Yesterday".to_owned(),
                    _ => day.strftime("%A %-d %B %Y").to_string(),
                });
            }
            previous = Some(day);
            shown
        })
        .collect()
}

pub fn entry(org: &Org, activity: &Activity) -> Entry {
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
        when: day(org, activity.occurred_at),
        at: activity.occurred_at.to_string(),
        actor: activity.actor.name.clone(),
        actor_kind,
        group: activity.group.to_string(),
        changes: activity.changes.iter().map(|c| (c.field.clone(), value(&c.old), value(&c.new))).collect(),
        badges: message_badges(activity),
        body_html: match activity.kind {
            ActivityKind::MessagePosted | ActivityKind::MessageEdited => activity.detail.get("body").and_then(|b| b.as_str()).map(crate::rich_text::to_html),
            _ => None,
        },
        status_change: activity.changes.iter().find(|c| c.field == "status").map(|c| (words(&value(&c.old)), words(&value(&c.new)))),
        heading: None,
        file: (activity.kind == ActivityKind::FileAttached).then(|| {
            let media_type = activity.detail.get("media_type").and_then(|t| t.as_str()).and_then(dossier_domain::file::MediaType::parse);
            let thumbnail = activity.detail.get("thumbnail").and_then(|t| t.as_bool()) == Some(true);
            let href = format!("/files/{}", activity.subject.id);
            let shown = if thumbnail { format!("{href}/thumbnail") } else { href.clone() };
            (href, media_type.is_some_and(|t| t.is_image()).then_some(shown))
        }),
    }
}

/// How a message entry is marked: its channel, direction and who sees it.
fn message_badges(activity: &Activity) -> Vec<String> {
    if activity.group != ActivityGroup::Communication {
        return Vec::new();
    }
    let text = |key: &str| activity.detail.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let mut badges = Vec::new();
    if let Some(channel) = dossier_domain::message::Channel::parse(&text("channel")) {
        badges.push(channel.noun().to_owned());
    }
    match text("direction").as_str() {
        "inbound" => badges.push("Inbound".into()),
        "outbound" => badges.push("Outbound".into()),
        _ => {}
    }
    badges.push(if activity.visibility == dossier_domain::activity::Visibility::Customer { "Customer can see" } else { "Staff only" }.into());
    badges
}

/// An instant as the org's day and time: `30/11/2026 14:05` in its time zone.
pub fn day(org: &Org, at: Timestamp) -> String {
    let local = at.to_zoned(org.zone());
    format!("{} {}", org.date(local.date()), local.strftime("%H:%M"))
}

/// Up to two initials of a name, for the avatar.
pub fn initials(name: &str) -> String {
    name.split_whitespace().filter_map(|w| w.chars().find(|c| c.is_alphanumeric())).take(2).flat_map(char::to_uppercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_widths_are_whole_percents_that_fill_the_bar() {
        assert_eq!(percentages(&[1, 1, 1]), [34, 33, 33]);
        assert_eq!(percentages(&[3, 0, 1]), [75, 0, 25]);
        assert_eq!(percentages(&[999, 1]), [99, 1], "a single record still shows");
        assert_eq!(percentages(&[0, 0]), [0, 0]);
        assert_eq!(percentages(&[5]), [100]);
    }

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
