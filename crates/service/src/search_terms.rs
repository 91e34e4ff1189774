//! What each record contributes to its customer's search terms.

use dossier_domain::code::Code;
use dossier_domain::contact::ContactProfile;
use dossier_domain::customer::CustomerProfile;
use dossier_domain::search::{code_terms, email_terms, name_terms, phone_terms, postcode_terms};
use dossier_domain::site::SiteProfile;
use dossier_store::Handle;
use dossier_store::queries as q;
use uuid::Uuid;

pub(crate) fn customer(code: &Code, p: &CustomerProfile) -> Vec<String> {
    let mut terms = code_terms(code);
    for name in [Some(p.display_name()), p.given_name.clone(), p.family_name.clone(), p.business_name.clone()].into_iter().flatten() {
        terms.extend(name_terms(&name));
    }
    terms.extend(p.email.iter().flat_map(email_terms));
    terms.extend(p.phone.iter().flat_map(phone_terms));
    terms
}

pub(crate) fn contact(p: &ContactProfile) -> Vec<String> {
    let mut terms = name_terms(&p.display_name());
    terms.extend(p.emails.iter().flat_map(|e| email_terms(&e.address)));
    terms.extend(p.phones.iter().flat_map(|ph| phone_terms(&ph.number)));
    terms
}

pub(crate) fn site(p: &SiteProfile) -> Vec<String> {
    postcode_terms(&p.postcode)
}

/// After an edit, replace the terms `source` gives its customer — only when
/// they changed (most edits touch no searchable field).
pub(crate) async fn refresh(h: &mut Handle<'_>, org: Uuid, customer: Uuid, source: Uuid, mut before: Vec<String>, mut after: Vec<String>) -> crate::Result<()> {
    for terms in [&mut before, &mut after] {
        terms.sort_unstable();
        terms.dedup();
    }
    if before != after {
        q::replace_terms(h, org, customer, source, &after).await?;
    }
    Ok(())
}
