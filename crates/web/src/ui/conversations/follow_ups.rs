//! Follow-ups in the staff app: "My follow-ups" (overdue, today, upcoming)
//! and everyone's or one person's, open or closed; the open ones on the
//! profile, the form to add one, and the buttons that mark one done, cancel
//! it or move it to another day.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::follow_up::{FollowUp, FollowUpChange, FollowUpInput, FollowUpStatus};
use dossier_domain::ids::UserId;
use dossier_domain::message::RecordType;
use dossier_domain::permissions::{Access, Action, Module};
use dossier_service::follow_ups::FollowUpQuery;
use dossier_service::{Ctx, ServiceError, customers, follow_ups};
use serde::Deserialize;

use crate::AppState;
use crate::ui::access::sign_in;
use crate::ui::forms::{Field, FormPage, Section, Values, again, back_to, blank_is_none, in_words, value};
use crate::ui::nav::Viewer;
use crate::ui::views::words;
use crate::ui::{Staff, failure, page};

/// One follow-up as a row with its buttons.
pub struct FollowUpView {
    pub id: String,
    pub title: String,
    pub customer_code: String,
    pub due_on: String,
    pub overdue: bool,
    pub assignee: String,
    pub record: Option<String>,
    /// Whether the reader may close or move it.
    pub can_change: bool,
    pub back: String,
}

impl FollowUpView {
    pub fn of(ctx: &Ctx, follow_up: &FollowUp, back: &str) -> Self {
        FollowUpView {
            id: follow_up.id.to_string(),
            title: follow_up.title.clone(),
            customer_code: follow_up.customer_code.clone(),
            due_on: follow_up.due_on.to_string(),
            overdue: follow_up.overdue,
            assignee: follow_up.assignee_name.clone(),
            record: follow_up.record.as_ref().and_then(|r| r.code.clone()),
            can_change: follow_up.status == FollowUpStatus::Open && ctx.access(Module::Messages, Action::Create) != Access::None,
            back: back.to_owned(),
        }
    }
}

#[derive(Template)]
#[template(path = "ui/follow_ups.html")]
struct FollowUpsPage {
    user: Option<Viewer>,
    heading: String,
    /// Whose follow-ups: `me`, `anyone` or a user's id, and the choices
    /// (none for a fieldworker, who sees only their own).
    assignee: String,
    people: Vec<(String, String)>,
    status: String,
    statuses: Vec<(&'static str, String)>,
    /// "My follow-ups" by when, or one list by due day.
    sections: Vec<(&'static str, Vec<FollowUpView>)>,
    next: Option<String>,
    error: Option<String>,
}

/// The follow-ups page's filters, as typed in the address.
#[derive(Deserialize, Default)]
pub struct FollowUpParams {
    assignee: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
}

/// Follow-ups a page shows at a time, beyond "My follow-ups".
const PAGE_SIZE: u32 = 50;

/// `/follow-ups`: by default "My follow-ups" (open, overdue first, then
/// today's, then what is coming); with `assignee` (`anyone`, a user) or
/// `status` (done, cancelled) one list by due day, a page at a time, from
/// the API's list.
pub async fn list(State(s): State<AppState>, Staff(ctx): Staff, Query(params): Query<FollowUpParams>) -> Response {
    let assignee = blank_is_none(params.assignee).unwrap_or_else(|| "me".to_owned());
    let status_text = blank_is_none(params.status).unwrap_or_else(|| FollowUpStatus::Open.as_str().to_owned());
    let cursor = blank_is_none(params.cursor);
    let people = match ctx.assigned_only(Module::Messages) {
        Some(_) => Vec::new(),
        None => match follow_ups::assignees(&s.db, &ctx).await {
            Ok(people) => people.into_iter().map(|(id, name)| (id.to_string(), name)).collect(),
            Err(e) => return failure(e),
        },
    };
    let whose = match assignee.as_str() {
        "me" => "My".to_owned(),
        "anyone" => "Everyone's".to_owned(),
        id => people.iter().find(|(p, _)| p == id).map_or_else(|| "Someone's".to_owned(), |(_, name)| format!("{name}'s")),
    };
    let mut page_data = FollowUpsPage {
        user: Some(Viewer::of(&ctx)),
        heading: format!("{whose} follow-ups"),
        assignee: assignee.clone(),
        people,
        status: status_text.clone(),
        statuses: FollowUpStatus::ALL.iter().map(|s| (s.as_str(), words(s.as_str()))).collect(),
        sections: Vec::new(),
        next: None,
        error: None,
    };
    let Some(status) = FollowUpStatus::parse(&status_text) else {
        page_data.error = Some(format!("Status: “{status_text}” is not one of the list."));
        return page(StatusCode::OK, &page_data);
    };
    if assignee == "me" && status == FollowUpStatus::Open && cursor.is_none() {
        return match follow_ups::my_follow_ups(&s.db, &ctx).await {
            Ok(mine) => {
                let rows = |list: &[FollowUp]| list.iter().map(|f| FollowUpView::of(&ctx, f, "/follow-ups")).collect();
                page_data.sections = vec![("Overdue", rows(&mine.overdue)), ("Today", rows(&mine.today)), ("Upcoming", rows(&mine.upcoming))];
                page(StatusCode::OK, &page_data)
            }
            Err(e) => failure(e),
        };
    }
    let here = format!("/follow-ups?assignee={}&status={status}", sign_in::encode(&assignee));
    let query = FollowUpQuery { assignee: Some(assignee), status: Some(status), due: None, cursor: cursor.clone(), limit: Some(PAGE_SIZE) };
    match follow_ups::list_follow_ups(&s.db, &ctx, query).await {
        Ok(found) => {
            let back = match &cursor {
                Some(c) => format!("{here}&cursor={}", sign_in::encode(c)),
                None => here.clone(),
            };
            let rows = found.items.iter().map(|f| FollowUpView::of(&ctx, f, &back)).collect();
            let heading = match status {
                FollowUpStatus::Open => "Open",
                FollowUpStatus::Done => "Done",
                FollowUpStatus::Cancelled => "Cancelled",
            };
            page_data.sections = vec![(heading, rows)];
            page_data.next = found.next_cursor.map(|c| format!("{here}&cursor={}", sign_in::encode(&c)));
        }
        Err(ServiceError::Invalid(invalid)) => {
            page_data.error = Some(in_words(&invalid));
        }
        Err(e) => return failure(e),
    }
    page(StatusCode::OK, &page_data)
}

fn new_form(ctx: &Ctx, code: &str, assignees: Vec<(UserId, String)>, values: &Values) -> FormPage {
    let back = format!("/customers/{code}");
    let me = ctx.user_id.map(|u| u.to_string()).unwrap_or_default();
    let fields = vec![
        Field::new("title", "What to do", "text").required().hint("Call back, send the quote, chase the payment…"),
        Field::new("due_on", "Due on", "date").required().value(ctx.today().tomorrow().map(|d| d.to_string()).unwrap_or_default()),
        Field::new("assignee_id", "Who", "select").options(assignees.into_iter().map(|(id, name)| (id.to_string(), name))).value(me),
        Field::new("notes", "Notes", "textarea"),
        Field::new("record_type", "", "hidden").value(values.get("record_type").cloned().unwrap_or_default()),
        Field::new("record", "", "hidden").value(values.get("record").cloned().unwrap_or_default()),
    ];
    FormPage {
        user: Some(Viewer::of(ctx)),
        title: "Add a follow-up".into(),
        back: back.clone(),
        back_label: code.to_owned(),
        action: format!("{back}/follow-ups"),
        submit: "Add follow-up",
        sections: vec![Section { legend: String::new(), fields }],
        general: Vec::new(),
    }
}

pub async fn new_follow_up(
    State(s): State<AppState>,
    Staff(ctx): Staff,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<Values>,
) -> Response {
    let found = async {
        let customer = customers::get_customer(&s.db, &ctx, &id).await?;
        Ok::<_, ServiceError>((customer.code, follow_ups::assignees(&s.db, &ctx).await?))
    };
    match found.await {
        Ok((code, assignees)) => new_form(&ctx, &code, assignees, &query).show(StatusCode::OK),
        Err(e) => failure(e),
    }
}

pub async fn create_follow_up(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let customer = match customers::get_customer(&s.db, &ctx, &id).await {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    let due_on = value(&values, "due_on").map(|d| d.parse::<jiff::civil::Date>());
    if let Some(Err(_)) = due_on {
        let error = dossier_domain::ValidationErrors::one("due_on", "invalid_date", "must be a date");
        let assignees = follow_ups::assignees(&s.db, &ctx).await.unwrap_or_default();
        return again(new_form(&ctx, &customer.code, assignees, &values), &values, error.into(), str::to_owned);
    }
    let input = FollowUpInput {
        title: value(&values, "title"),
        notes: value(&values, "notes"),
        due_on: due_on.and_then(Result::ok),
        assignee_id: value(&values, "assignee_id").and_then(|a| uuid::Uuid::parse_str(&a).ok()).map(UserId),
        record_type: value(&values, "record_type").and_then(|r| RecordType::parse(&r)),
        record: value(&values, "record"),
    };
    match follow_ups::create_follow_up(&s.db, &ctx, &customer.code, input).await {
        Ok(_) => Redirect::to(&format!("/customers/{}", customer.code)).into_response(),
        Err(e) => {
            let assignees = follow_ups::assignees(&s.db, &ctx).await.unwrap_or_default();
            again(new_form(&ctx, &customer.code, assignees, &values), &values, e, str::to_owned)
        }
    }
}

/// The row's buttons: `action` is done, cancelled or reschedule (with `due_on`).
pub async fn change_follow_up(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let back = back_to(&values, "/follow-ups");
    let change = match value(&values, "action").as_deref() {
        Some("done") => FollowUpChange { status: Some(FollowUpStatus::Done), ..Default::default() },
        Some("cancelled") => FollowUpChange { status: Some(FollowUpStatus::Cancelled), ..Default::default() },
        _ => FollowUpChange { due_on: value(&values, "due_on").and_then(|d| d.parse().ok()), ..Default::default() },
    };
    match follow_ups::change_follow_up(&s.db, &ctx, &id, change).await {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(e) => failure(e),
    }
}
