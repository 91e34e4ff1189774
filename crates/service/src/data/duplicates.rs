//! Probable duplicates: the list to review, and "not a duplicate".
//!
//! The pairs are found as the domain's
//! [`suggest`](dossier_domain::data::duplicates::suggest) finds them, over
//! the org's live customers (deleted, merged and erased ones never appear)
//! with the emails and phones of their contacts and the addresses of their
//! sites; pairs dismissed as "not a duplicate" are left out.

use std::collections::{HashMap, HashSet};

use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
use dossier_domain::customer::CustomerKind;
use dossier_domain::data::duplicates::{Candidate, Reason, ordered, suggest};
use dossier_domain::data::merge::MergeParty;
use dossier_domain::permissions::{Action, Module};
use dossier_domain::{ValidationErrors, text};
use dossier_store::queries as q;
use dossier_store::{CustomerRow, Db};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::customers::{find, subject};
use crate::page::{Page, decode_cursor, encode_cursor, limit};
use crate::record::activity;
use crate::{Ctx, Result, ServiceError};

/// Two customers that are probably one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DuplicatePair {
    /// The one with the lower code.
    pub a: MergeParty,
    pub b: MergeParty,
    /// 0–100: how likely they are one customer.
    pub score: u8,
    pub reasons: Vec<Reason>,
    /// The reasons in words, in the same order.
    pub explained: Vec<String>,
}

/// Query parameters of the duplicates list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DuplicatesQuery {
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

fn candidate(row: &CustomerRow) -> Candidate {
    let (given_name, family_name) = match row.kind.as_str() {
        k if k == CustomerKind::Business.as_str() => (None, row.business_name.clone().or_else(|| row.family_name.clone())),
        _ => (row.given_name.clone(), row.family_name.clone()),
    };
    Candidate {
        id: row.id,
        code: row.code().to_owned(),
        display_name: row.display_name.clone(),
        given_name,
        family_name,
        emails: row.email.iter().cloned().collect(),
        phones: row.phone.iter().cloned().collect(),
        addresses: Vec::new(),
    }
}

/// Probable duplicates among the org's live customers, most likely first,
/// one page at a time. The work is bounded by blocking keys (see
/// [`dossier_domain::data::duplicates`]); reading the org's customers,
/// contacts and sites is one pass each. Owners and admins.
pub async fn list_duplicates(db: &Db, ctx: &Ctx, query: DuplicatesQuery) -> Result<Page<DuplicatePair>> {
    ctx.require(Module::Merges, Action::View)?;
    let limit = limit(query.limit)? as usize;
    let invalid = || ValidationErrors::one("cursor", "invalid_cursor", "is not a cursor this API returned");
    let offset = match query.cursor.as_deref() {
        Some(cursor) => decode_cursor(cursor)?.parse::<usize>().map_err(|_| invalid())?,
        None => 0,
    };
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let (customers, contacts, sites) = q::duplicate_candidates(h, ctx.org.id.0).await?;
    let dismissed: HashSet<(Uuid, Uuid)> = q::dismissals(h, ctx.org.id.0).await?.into_iter().collect();
    drop(conn);
    let mut candidates: Vec<Candidate> = customers.iter().map(candidate).collect();
    let index: HashMap<Uuid, usize> = customers.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    for contact in contacts {
        let Some(&i) = index.get(&contact.customer_id) else { continue };
        let profile = contact.profile()?;
        candidates[i].emails.extend(profile.emails.iter().map(|e| e.address.as_str().to_owned()));
        candidates[i].phones.extend(profile.phones.iter().map(|p| p.number.as_str().to_owned()));
    }
    for site in sites {
        let Some(&i) = index.get(&site.customer_id) else { continue };
        candidates[i].addresses.push((site.postcode.clone(), site.address_line1.clone()));
    }
    for c in &mut candidates {
        for list in [&mut c.emails, &mut c.phones] {
            list.sort();
            list.dedup();
        }
    }
    let found = suggest(&candidates, &dismissed);
    let party = |i: usize| MergeParty { id: candidates[i].id, code: candidates[i].code.clone(), display_name: candidates[i].display_name.clone() };
    let items: Vec<DuplicatePair> = found
        .iter()
        .skip(offset)
        .take(limit)
        .map(|s| DuplicatePair {
            a: party(s.a),
            b: party(s.b),
            score: s.score,
            explained: s.reasons.iter().map(Reason::describe).collect(),
            reasons: s.reasons.clone(),
        })
        .collect();
    let next_cursor = (offset + limit < found.len()).then(|| encode_cursor(&(offset + limit).to_string()));
    Ok(Page { items, next_cursor })
}

/// The body of "not a duplicate": the two customers, by code or id.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DismissalInput {
    pub a: String,
    pub b: String,
}

/// A pair remembered as not duplicates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Dismissal {
    pub a: MergeParty,
    pub b: MergeParty,
    #[schema(value_type = String, format = DateTime)]
    pub dismissed_at: Timestamp,
    pub dismissed_by: String,
}

/// Remember that two customers are not duplicates: the pair is never
/// suggested again. Recorded as `customer.duplicate_dismissed` on both;
/// dismissing a pair again changes nothing. Owners and admins.
pub async fn dismiss(db: &Db, ctx: &Ctx, input: DismissalInput) -> Result<Dismissal> {
    ctx.require(Module::Merges, Action::Edit)?;
    let mut errors = ValidationErrors::default();
    let a = errors.take(text::required("a", Some(input.a), 100));
    let b = errors.take(text::required("b", Some(input.b), 100));
    let (Some(a), Some(b)) = (a, b) else { return Err(errors.into()) };
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let (first, second) = (find(h, ctx, &a).await?, find(h, ctx, &b).await?);
    if first.id == second.id {
        return Err(ValidationErrors::one("b", "same_customer", "is the same customer as a").into());
    }
    for row in [&first, &second] {
        if row.deleted_at.is_some() {
            return Err(ServiceError::NotFound("customer"));
        }
    }
    let (x, y) = ordered(first.id, second.id);
    let (one, other) = if first.id == x { (first, second) } else { (second, first) };
    let now = ctx.now();
    if q::insert_dismissal(h, ctx.org.id.0, x, y, now.as_microsecond(), &ctx.actor.name).await? {
        let (id, entity, code) = subject(&one);
        let summary = format!("{} and {} marked as not duplicates", one.code(), other.code());
        let mut entry = activity(ctx, ActivityKind::CustomerDuplicateDismissed, id, entity, code, summary, Vec::new());
        entry.also_links = vec![EntityRef::new(EntityType::Customer, other.id)];
        entry.detail = json!({ "other": { "id": other.id, "code": other.code() } });
        tx.append(entry).await?;
    }
    tx.commit().await?;
    let party = |r: &CustomerRow| MergeParty { id: r.id, code: r.code().to_owned(), display_name: r.display_name.clone() };
    Ok(Dismissal { a: party(&one), b: party(&other), dismissed_at: now, dismissed_by: ctx.actor.name.clone() })
}
