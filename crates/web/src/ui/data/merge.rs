//! The admin page "Duplicates" (probable duplicate pairs with their score
//! and reasons, "Not a duplicate" and "Merge…"), the Merge page (the two
//! customers side by side, a choice per differing field), and undoing a
//! merge. Each is the API's use case.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::customer::{Customer, CustomerProfile};
use dossier_domain::data::merge::{MergeInput, Side, UNDO_WINDOW_DAYS, differing_fields};
use dossier_service::duplicates::{self, DismissalInput, DuplicatesQuery};
use dossier_service::{Ctx, Db, ServiceError, customers, merge};
use serde::Deserialize;

use crate::AppState;
use crate::ui::forms::{Values, value};
use crate::ui::nav::Viewer;
use crate::ui::{Staff, failure, page};

struct PairView {
    a: String,
    a_name: String,
    b: String,
    b_name: String,
    score: u8,
    reasons: Vec<String>,
}

#[derive(Template)]
#[template(path = "ui/duplicates.html")]
struct DuplicatesPage {
    user: Option<Viewer>,
    pairs: Vec<PairView>,
    next: Option<String>,
    /// The pair just dismissed, as "CUS-00001 and CUS-00002".
    dismissed: Option<String>,
    error: Option<String>,
}

#[derive(Default, Deserialize)]
pub struct Shown {
    cursor: Option<String>,
    dismissed: Option<String>,
}

async fn duplicates_page(db: &Db, ctx: &Ctx, shown: Shown, error: Option<String>) -> Response {
    let found = match duplicates::list_duplicates(db, ctx, DuplicatesQuery { cursor: shown.cursor, limit: None }).await {
        Ok(found) => found,
        Err(e) => return failure(e),
    };
    let pairs = found
        .items
        .into_iter()
        .map(|p| PairView { a: p.a.code, a_name: p.a.display_name, b: p.b.code, b_name: p.b.display_name, score: p.score, reasons: p.explained })
        .collect();
    let status = if error.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    let page_data = DuplicatesPage {
        user: Some(Viewer::of(ctx)),
        pairs,
        next: found.next_cursor.map(|c| format!("/admin/duplicates?cursor={c}")),
        dismissed: shown.dismissed.filter(|d| d.len() <= 100),
        error,
    };
    page(status, &page_data)
}

/// `GET /admin/duplicates`.
pub async fn show(State(s): State<AppState>, Staff(ctx): Staff, Query(shown): Query<Shown>) -> Response {
    duplicates_page(&s.db, &ctx, shown, None).await
}

/// `POST /admin/duplicates/dismiss` (`a`, `b`): back to the list, without the pair.
pub async fn dismiss(State(s): State<AppState>, Staff(ctx): Staff, Form(values): Form<Values>) -> Response {
    let input = DismissalInput { a: value(&values, "a").unwrap_or_default(), b: value(&values, "b").unwrap_or_default() };
    match duplicates::dismiss(&s.db, &ctx, input).await {
        Ok(d) => Redirect::to(&format!("/admin/duplicates?dismissed={}+and+{}", d.a.code, d.b.code)).into_response(),
        Err(ServiceError::Invalid(errors)) => {
            let message = errors.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
            duplicates_page(&s.db, &ctx, Shown::default(), Some(message)).await
        }
        Err(e) => failure(e),
    }
}

/// One field of the Merge page: both values and which is chosen.
struct FieldChoice {
    name: String,
    label: String,
    survivor: String,
    merged: String,
    /// The default: the merged customer's value (the survivor has none).
    take_merged: bool,
}

#[derive(Template)]
#[template(path = "ui/merge.html")]
struct MergePage {
    user: Option<Viewer>,
    survivor_code: String,
    survivor_name: String,
    /// The other customer, once picked.
    merged_code: Option<String>,
    merged_name: String,
    fields: Vec<FieldChoice>,
    window_days: i64,
    error: Option<String>,
}

/// A field's value as the Merge page shows it.
fn shown(p: &CustomerProfile, field: &str) -> String {
    let or_dash = |v: Option<String>| v.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".to_owned());
    match field {
        "name" => format!("{} ({})", p.display_name(), p.kind),
        "email" => or_dash(p.email.as_ref().map(|e| e.as_str().to_owned())),
        "phone" => or_dash(p.phone.as_ref().map(|ph| ph.as_str().to_owned())),
        "source" => or_dash(p.source.clone()),
        "payment_terms" => or_dash(p.payment_terms.and_then(|t| serde_json::to_string(&t).ok())),
        "communication" => {
            let paused = if p.auto_comms_paused { "automated messages paused" } else { "automated messages on" };
            format!("{paused}; {}", serde_json::to_string(&p.communication).unwrap_or_default())
        }
        "do_not_work" => or_dash(p.do_not_work_reason.clone()),
        custom => {
            let key = custom.strip_prefix("custom.").unwrap_or(custom);
            or_dash(p.custom_fields.get(key).map(|v| serde_json::to_string(v).unwrap_or_default().trim_matches('"').to_owned()))
        }
    }
}

fn label(field: &str) -> String {
    match field {
        "name" => "Name".to_owned(),
        "email" => "Email".to_owned(),
        "phone" => "Phone".to_owned(),
        "source" => "Source".to_owned(),
        "payment_terms" => "Payment terms".to_owned(),
        "communication" => "Communication preferences".to_owned(),
        "do_not_work" => "Do not work with again".to_owned(),
        custom => custom.strip_prefix("custom.").unwrap_or(custom).replace('_', " "),
    }
}

fn merge_form(ctx: &Ctx, survivor: &Customer, merged: Option<&Customer>, error: Option<String>) -> MergePage {
    let fields = merged
        .map(|m| {
            differing_fields(&survivor.profile, &m.profile)
                .into_iter()
                .map(|field| {
                    let (ours, theirs) = (shown(&survivor.profile, &field), shown(&m.profile, &field));
                    FieldChoice { take_merged: ours == "—" && theirs != "—", label: label(&field), survivor: ours, merged: theirs, name: field }
                })
                .collect()
        })
        .unwrap_or_default();
    MergePage {
        user: Some(Viewer::of(ctx)),
        survivor_code: survivor.code.clone(),
        survivor_name: survivor.display_name.clone(),
        merged_code: merged.map(|m| m.code.clone()),
        merged_name: merged.map(|m| m.display_name.clone()).unwrap_or_default(),
        fields,
        window_days: UNDO_WINDOW_DAYS,
        error,
    }
}

#[derive(Default, Deserialize)]
pub struct MergeWith {
    /// The other customer's code or id.
    with: Option<String>,
}

/// `GET /customers/{id}/merge?with=CUS-…`: pick the other customer, then
/// see both side by side with a choice per differing field.
pub async fn form(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Query(with): Query<MergeWith>) -> Response {
    use dossier_domain::permissions::{Action, Module};
    if let Err(e) = ctx.require(Module::Merges, Action::Edit) {
        return failure(e);
    }
    let survivor = match customers::get_customer(&s.db, &ctx, &id).await {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    let other = with.with.map(|w| w.trim().to_owned()).filter(|w| !w.is_empty() && w.len() <= 100);
    let (merged, error) = match other {
        Some(code) => match customers::get_customer(&s.db, &ctx, &code).await {
            Ok(m) if m.id == survivor.id => (None, Some(format!("{code} is this customer: pick another one"))),
            Ok(m) => (Some(m), None),
            Err(ServiceError::NotFound(_)) => (None, Some(format!("No customer {code}"))),
            Err(e) => return failure(e),
        },
        None => (None, None),
    };
    page(StatusCode::OK, &merge_form(&ctx, &survivor, merged.as_ref(), error))
}

/// `POST /customers/{id}/merge` (`merged`, `field.<name>` = `survivor` |
/// `merged`): to the survivor's profile, which says what was merged.
pub async fn submit(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let fields: BTreeMap<String, Side> = values
        .iter()
        .filter_map(|(k, v)| {
            let side = match v.as_str() {
                "merged" => Side::Merged,
                _ => Side::Survivor,
            };
            k.strip_prefix("field.").map(|f| (f.to_owned(), side))
        })
        .collect();
    let merged = value(&values, "merged").unwrap_or_default();
    match merge::merge_customers(&s.db, &ctx, &id, MergeInput { merged: merged.clone(), fields }).await {
        Ok(m) => Redirect::to(&format!("/customers/{}", m.survivor.code)).into_response(),
        Err(e @ (ServiceError::Conflict { .. } | ServiceError::Invalid(_))) => {
            let survivor = match customers::get_customer(&s.db, &ctx, &id).await {
                Ok(c) => c,
                Err(e) => return failure(e),
            };
            let other = customers::get_customer(&s.db, &ctx, &merged).await.ok().filter(|m| m.id != survivor.id);
            let message = match e {
                ServiceError::Invalid(errors) => errors.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "),
                other => other.to_string(),
            };
            page(StatusCode::CONFLICT, &merge_form(&ctx, &survivor, other.as_ref(), Some(message)))
        }
        Err(e) => failure(e),
    }
}

/// `POST /merges/{id}/undo`: to the survivor's profile; the merged
/// customer is back on its own.
pub async fn undo(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match merge::undo_merge(&s.db, &ctx, &id).await {
        Ok(m) => Redirect::to(&format!("/customers/{}?unmerged={}", m.survivor.code, m.merged.code)).into_response(),
        Err(e) => failure(e),
    }
}

/// A merge into the customer shown, on its profile.
pub(crate) struct MergeBanner {
    pub(crate) id: String,
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) at: String,
    pub(crate) by: String,
    pub(crate) until: String,
    pub(crate) can_undo: bool,
}

/// What a profile says about merges: a note for the code just opened or
/// the merge just undone, and (for owners and admins) each merge into this
/// customer that stands, with its Undo button while it can be undone.
#[derive(Default)]
pub(crate) struct MergeBanners {
    pub(crate) note: Option<String>,
    pub(crate) standing: Vec<MergeBanner>,
}

pub(crate) async fn banners(db: &Db, ctx: &Ctx, customer: &Customer, merged_from: Option<&str>, unmerged: Option<&str>) -> Result<MergeBanners, ServiceError> {
    let mut out = MergeBanners::default();
    if let Some(code) = merged_from.filter(|c| c.len() <= 100) {
        // The merged customer's code answers this customer, with when.
        if let Ok(found) = customers::get_customer(db, ctx, code).await
            && found.id == customer.id
            && let Some(from) = found.merged_from
        {
            out.note = Some(format!("{} was merged into this customer on {}.", from.code, crate::ui::views::day(&ctx.org, from.merged_at)));
        }
    }
    if let Some(code) = unmerged.filter(|c| c.len() <= 100) {
        out.note = Some(format!("The merge of {code} into this customer is undone: {code} is a customer of its own again."));
    }
    let now = ctx.now();
    let may_undo =
        ctx.access(dossier_domain::permissions::Module::Merges, dossier_domain::permissions::Action::Edit) != dossier_domain::permissions::Access::None;
    for m in merge::merges_into(db, ctx, &customer.code).await? {
        out.standing.push(MergeBanner {
            id: m.id.to_string(),
            can_undo: may_undo && m.undoable(now),
            code: m.merged.code,
            name: m.merged.display_name,
            at: crate::ui::views::day(&ctx.org, m.merged_at),
            by: m.merged_by,
            until: crate::ui::views::day(&ctx.org, m.undoable_until),
        });
    }
    Ok(out)
}
