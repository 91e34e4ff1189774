//! What each record contributes to its customer's search terms.

use dossier_domain::contact::ContactProfile;
use dossier_domain::custom_fields::{CustomFields, CustomValue, Definitions, FieldDefinition, FieldEntity};
use dossier_domain::customer::{Customer, CustomerProfile};
use dossier_domain::search::{
    MatchField, Searchable, address_terms, code_terms, custom_facet, custom_value_source, custom_value_terms, email_terms, name_terms, phone_terms,
    postcode_terms, site_terms, why_matched,
};
use dossier_domain::site::SiteProfile;
use dossier_store::queries as q;
use dossier_store::{CustomFieldRow, Handle, SearchTerm, StoreError};
use uuid::Uuid;

pub(crate) fn customer(code: &str, p: &CustomerProfile) -> Vec<String> {
    let mut terms = code_terms(code);
    for name in [Some(p.display_name()), p.given_name.clone(), p.family_name.clone(), p.business_name.clone()].into_iter().flatten() {
        terms.extend(name_terms(&name));
    }
    terms.extend(p.email.iter().flat_map(email_terms));
    terms.extend(p.phone.iter().flat_map(phone_terms));
    // Text (and choice) and yes/no values are filterable: their facets.
    for (key, value) in &p.custom_fields {
        if !matches!(value, CustomValue::Number(_)) {
            terms.push(custom_facet(key, &value.filter_text()));
        }
    }
    terms
}

pub(crate) fn contact(p: &ContactProfile) -> Vec<String> {
    let mut terms = name_terms(&p.display_name());
    terms.extend(p.emails.iter().flat_map(|e| email_terms(&e.address)));
    terms.extend(p.phones.iter().flat_map(|ph| phone_terms(&ph.number)));
    terms
}

pub(crate) fn site(p: &SiteProfile) -> Vec<String> {
    site_terms(p)
}

/// The words a record's (a customer's, site's or job's) custom text and
/// choice values give its customer, each value's under a source of its own
/// (see [`custom_value_source`]), so removing the field drops exactly them.
pub(crate) fn custom(fields: &Definitions, customer: Uuid, record: Uuid, values: &CustomFields) -> Vec<SearchTerm> {
    fields
        .iter()
        .flat_map(|d| {
            let source_id = custom_value_source(d.id.0, record);
            custom_value_terms(d, values.get(&d.key)).into_iter().map(move |term| SearchTerm { customer_id: customer, source_id, term })
        })
        .collect()
}

/// After a record's custom values changed, replace the words of each value
/// that changed: its old words no longer find the customer.
pub(crate) async fn refresh_custom(
    h: &mut Handle<'_>,
    org: Uuid,
    customer: Uuid,
    record: Uuid,
    fields: &Definitions,
    before: &CustomFields,
    after: &CustomFields,
) -> crate::Result<()> {
    for d in fields.iter() {
        let words = custom_value_terms(d, after.get(&d.key));
        if custom_value_terms(d, before.get(&d.key)) != words {
            q::replace_terms(h, org, customer, custom_value_source(d.id.0, record), &words).await?;
        }
    }
    Ok(())
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

/// A customer's searchable fields in the order a match is explained by:
/// its own name, code, email and phone, then its custom values, its
/// contacts', its sites' (their addresses, then their custom values) and
/// its jobs' custom values. The terms are the same ones [`customer`],
/// [`contact`], [`site`] and [`custom`] index.
fn searchable(customer: &Customer, related: Option<Related<'_>>) -> Vec<Searchable> {
    let p = &customer.profile;
    let mut names: Vec<String> = [Some(p.display_name()), p.given_name.clone(), p.family_name.clone(), p.business_name.clone()].into_iter().flatten().collect();
    names.dedup();
    let mut fields = vec![Searchable::new(MatchField::Name, customer.display_name.clone(), names.iter().flat_map(|n| name_terms(n)).collect())];
    fields.push(Searchable::new(MatchField::Code, customer.code.clone(), vec![customer.code.to_lowercase()]));
    fields.extend(p.email.iter().map(|e| Searchable::new(MatchField::Email, e.as_str(), email_terms(e))));
    fields.extend(p.phone.iter().map(|ph| Searchable::new(MatchField::Phone, ph.as_str(), phone_terms(ph))));
    let Some(Related { fields: definitions, contacts, sites, jobs }) = related else { return fields };
    let values = |entity: FieldEntity, values: &CustomFields| {
        definitions.iter().filter(|d| d.entity == entity).filter_map(|d| values.get(&d.key).map(|v| Searchable::custom(d, v))).collect::<Vec<_>>()
    };
    fields.extend(values(FieldEntity::Customer, &p.custom_fields));
    for c in contacts {
        fields.push(Searchable::new(MatchField::ContactName, c.display_name(), name_terms(&c.display_name())));
        fields.extend(c.emails.iter().map(|e| Searchable::new(MatchField::ContactEmail, e.address.as_str(), email_terms(&e.address))));
        fields.extend(c.phones.iter().map(|ph| Searchable::new(MatchField::ContactPhone, ph.number.as_str(), phone_terms(&ph.number))));
    }
    fields.extend(sites.iter().map(|s| Searchable::new(MatchField::Postcode, s.postcode.clone(), postcode_terms(&s.postcode))));
    for s in &sites {
        let street = [Some(&s.address_line1), s.address_line2.as_ref()].into_iter().flatten().map(String::as_str).collect::<Vec<_>>().join(", ");
        fields.push(Searchable::new(MatchField::Street, street.clone(), address_terms(&street)));
        fields.extend(s.town.iter().map(|town| Searchable::new(MatchField::Town, town.clone(), address_terms(town))));
    }
    for s in &sites {
        fields.extend(values(FieldEntity::Site, &s.custom_fields));
    }
    for job in jobs {
        fields.extend(values(FieldEntity::Job, job));
    }
    fields
}

/// What a customer is found by besides its own fields.
struct Related<'a> {
    /// The org's custom fields whose values are searched by their words.
    fields: &'a [FieldDefinition],
    contacts: Vec<&'a ContactProfile>,
    sites: Vec<&'a SiteProfile>,
    jobs: Vec<&'a CustomFields>,
}

/// Say why each customer of a page of search results matched `query`
/// (its terms). Most are found by their own name, code, email or phone,
/// which the page already holds; only for the others are the org's custom
/// fields and their contacts, sites and (when jobs have searchable fields)
/// jobs' values read, in a few statements.
pub(crate) async fn explain(h: &mut Handle<'_>, org: Uuid, query: &[String], customers: &mut [Customer]) -> crate::Result<()> {
    if query.is_empty() || customers.is_empty() {
        return Ok(());
    }
    for customer in customers.iter_mut() {
        customer.matched = why_matched(query, &searchable(customer, None));
    }
    let ids: Vec<Uuid> = customers.iter().filter(|c| c.matched.is_none()).map(|c| c.id.0).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let mut definitions: Vec<FieldDefinition> =
        q::list_custom_fields(h, org, None).await?.into_iter().map(CustomFieldRow::into_definition).collect::<Result<_, _>>()?;
    definitions.retain(|d| d.spec.field_type.searchable());
    let contacts = q::contacts_of_customers(h, org, &ids).await?;
    let sites = q::sites_of_customers(h, org, &ids).await?;
    let jobs = match definitions.iter().any(|d| d.entity == FieldEntity::Job) {
        true => q::job_values_of_customers(h, org, &ids).await?,
        false => Vec::new(),
    };
    let (mut contact_profiles, mut site_profiles, mut job_values) = (Vec::new(), Vec::new(), Vec::new());
    for row in &contacts {
        contact_profiles.push((row.customer_id, row.profile()?));
    }
    for row in &sites {
        site_profiles.push((row.customer_id, row.profile()?));
    }
    for (customer, text) in &jobs {
        let values: CustomFields = serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("a job's custom fields: {e}")))?;
        job_values.push((*customer, values));
    }
    for customer in customers.iter_mut().filter(|c| c.matched.is_none()) {
        let id = customer.id.0;
        let related = Related {
            fields: &definitions,
            contacts: contact_profiles.iter().filter(|(c, _)| *c == id).map(|(_, p)| p).collect(),
            sites: site_profiles.iter().filter(|(c, _)| *c == id).map(|(_, p)| p).collect(),
            jobs: job_values.iter().filter(|(c, _)| *c == id).map(|(_, v)| v).collect(),
        };
        customer.matched = why_matched(query, &searchable(customer, Some(related)));
    }
    Ok(())
}
