//! Forms about a customer's profile: add and edit a customer, change its
//! status with a reason, add a contact or a site.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::ValidationErrors;
use dossier_domain::contact::{Contact, ContactInput, ContactPatch, EmailInput, EmailKind, PhoneInput, PhoneKind};
use dossier_domain::custom_fields::{CustomFields, FieldDefinition, FieldEntity};
use dossier_domain::customer::{
    ChannelConsent, CommunicationPreferences, Customer, CustomerInput, CustomerKind, CustomerPatch, CustomerStatus, StatusChangeInput,
};
use dossier_domain::patch::Patch;
use dossier_domain::site::{Site, SiteInput, SiteKind, SitePatch};
use dossier_service::{Ctx, ServiceError, contacts, custom_fields, customers, sites};

use crate::AppState;
use crate::ui::custom_fields::inputs;
use crate::ui::forms::{Field, FormPage, Section, Values, again, value};
use crate::ui::nav::Viewer;
use crate::ui::views::words;
use crate::ui::{Staff, failure};

fn form(ctx: &Ctx, title: impl Into<String>, back: String, back_label: &str, action: String, submit: &'static str, fields: Vec<Field>) -> FormPage {
    FormPage {
        user: Some(Viewer::of(ctx)),
        title: title.into(),
        back,
        back_label: back_label.to_owned(),
        action,
        submit,
        sections: vec![Section { legend: String::new(), fields }],
        general: Vec::new(),
    }
}

fn options<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<(String, String)> {
    all.iter().map(|v| (name(*v).to_owned(), words(name(*v)))).collect()
}

// ---- customers ----

fn customer_fields(customer: Option<&Customer>) -> Vec<Field> {
    let p = customer.map(|c| &c.profile);
    let text = |v: Option<&String>| v.cloned().unwrap_or_default();
    vec![
        Field::new("kind", "Kind", "select").options(options(CustomerKind::ALL, CustomerKind::as_str)).value(p.map_or("individual", |p| p.kind.as_str())),
        Field::new("title", "Title", "text").value(text(p.and_then(|p| p.title.as_ref()))),
        Field::new("given_name", "Given name", "text").value(text(p.and_then(|p| p.given_name.as_ref()))),
        Field::new("family_name", "Family name", "text").value(text(p.and_then(|p| p.family_name.as_ref()))).hint("Needed for an individual"),
        Field::new("business_name", "Business name", "text").value(text(p.and_then(|p| p.business_name.as_ref()))).hint("Needed for a business"),
        Field::new("email", "Email", "email").value(p.and_then(|p| p.email.as_ref()).map(|e| e.as_str().to_owned()).unwrap_or_default()),
        Field::new("phone", "Phone", "tel").value(p.and_then(|p| p.phone.as_ref()).map(|p| p.to_string()).unwrap_or_default()),
        Field::new("source", "Source", "text").value(text(p.and_then(|p| p.source.as_ref()))).hint("How they heard of you"),
        Field::new("do_not_work_reason", "Do not work with again", "textarea")
            .value(text(p.and_then(|p| p.do_not_work_reason.as_ref())))
            .hint("Why; staff see it whenever they start a job or a quote. Leave blank for none."),
    ]
}

/// The org's customer fields, for a customer form.
async fn customer_definitions(db: &dossier_service::Db, ctx: &Ctx) -> Result<Vec<FieldDefinition>, ServiceError> {
    custom_fields::list_definitions(db, ctx, Some(FieldEntity::Customer)).await
}

/// A form's fields, with a section of the org's custom fields after them.
fn with_custom_fields(mut page: FormPage, definitions: &[FieldDefinition], values: &CustomFields, currency: dossier_domain::currency::MoneyStyle) -> FormPage {
    if !definitions.is_empty() {
        page.sections.push(Section { legend: "Custom fields".into(), fields: inputs::inputs(definitions, values, currency) });
    }
    page
}

fn new_customer_form(ctx: &Ctx, definitions: &[FieldDefinition]) -> FormPage {
    let mut fields = customer_fields(None);
    fields.push(Field::new("labels", "Labels", "text").hint("Separated by commas"));
    let page = form(ctx, "Add customer", "/customers".into(), "Customers", "/customers/new".into(), "Add customer", fields);
    with_custom_fields(page, definitions, &CustomFields::new(), ctx.org.money_style())
}

pub async fn new_customer(State(s): State<AppState>, Staff(ctx): Staff) -> Response {
    match customer_definitions(&s.db, &ctx).await {
        Ok(definitions) => new_customer_form(&ctx, &definitions).show(StatusCode::OK),
        Err(e) => failure(e),
    }
}

/// Errors name the request's fields; a custom field's is its input's name.
fn form_field(field: &str) -> String {
    if field.starts_with("custom_fields.") { field.to_owned() } else { field.split(['[', '.']).next().unwrap_or(field).to_owned() }
}

pub async fn create_customer(State(s): State<AppState>, Staff(ctx): Staff, Form(values): Form<Values>) -> Response {
    let definitions = match customer_definitions(&s.db, &ctx).await {
        Ok(definitions) => definitions,
        Err(e) => return failure(e),
    };
    let custom = match inputs::read(&definitions, &values, &CustomFields::new(), ctx.org.money_style()) {
        Ok(custom) => custom,
        Err(errors) => return again(new_customer_form(&ctx, &definitions), &values, errors.into(), form_field),
    };
    let input = CustomerInput {
        custom_fields: Some(custom),
        kind: value(&values, "kind").and_then(|k| CustomerKind::parse(&k)),
        title: value(&values, "title"),
        given_name: value(&values, "given_name"),
        family_name: value(&values, "family_name"),
        business_name: value(&values, "business_name"),
        email: value(&values, "email"),
        phone: value(&values, "phone"),
        source: value(&values, "source"),
        labels: value(&values, "labels").map(|l| l.split(',').map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect()),
        do_not_work_reason: value(&values, "do_not_work_reason"),
        ..Default::default()
    };
    match customers::create_customer(&s.db, &ctx, input).await {
        Ok(customer) => Redirect::to(&format!("/customers/{}", customer.code)).into_response(),
        Err(e) => again(new_customer_form(&ctx, &definitions), &values, e, form_field),
    }
}

/// The channels a customer's preferences cover, as the form names them.
const CHANNELS: [(&str, &str); 5] = [("email", "Email"), ("sms", "SMS"), ("phone", "Phone"), ("whatsapp", "WhatsApp"), ("post", "Post")];
const PURPOSES: [(&str, &str); 3] = [("service", "service"), ("billing", "billing"), ("marketing", "marketing")];

fn channel_of<'a>(prefs: &'a mut CommunicationPreferences, channel: &str) -> &'a mut ChannelConsent {
    match channel {
        "sms" => &mut prefs.sms,
        "phone" => &mut prefs.phone,
        "whatsapp" => &mut prefs.whatsapp,
        "post" => &mut prefs.post,
        _ => &mut prefs.email,
    }
}

fn purpose_of<'a>(consent: &'a mut ChannelConsent, purpose: &str) -> &'a mut bool {
    match purpose {
        "billing" => &mut consent.billing,
        "marketing" => &mut consent.marketing,
        _ => &mut consent.service,
    }
}

/// A box per channel and purpose, ticked as `prefs` says.
fn preference_fields(prefs: CommunicationPreferences) -> Vec<Field> {
    let mut prefs = prefs;
    let mut fields = Vec::new();
    for (channel, channel_label) in CHANNELS {
        for (purpose, purpose_label) in PURPOSES {
            let on = *purpose_of(channel_of(&mut prefs, channel), purpose);
            fields.push(Field::new(format!("comm_{channel}_{purpose}"), format!("{channel_label}: {purpose_label}"), "checkbox").value(if on {
                "on"
            } else {
                ""
            }));
        }
    }
    fields
}

/// The preferences the boxes say.
fn preferences_of(values: &Values) -> CommunicationPreferences {
    let mut prefs = CommunicationPreferences::default();
    for (channel, _) in CHANNELS {
        for (purpose, _) in PURPOSES {
            *purpose_of(channel_of(&mut prefs, channel), purpose) = value(values, &format!("comm_{channel}_{purpose}")).is_some();
        }
    }
    prefs
}

/// What the customer agreed to receive, channel by channel, and the pause
/// of automated messages (read by every send; a paused customer's
/// automated email waits until the pause ends).
fn communication_section(customer: &Customer) -> Section {
    let p = &customer.profile;
    let mut fields = preference_fields(p.communication);
    fields.push(
        Field::new("auto_comms_paused", "Pause automated messages (invoices, receipts, reminders, statements wait)", "checkbox")
            .value(if p.auto_comms_paused { "on" } else { "" }),
    );
    fields.push(
        Field::new("auto_comms_paused_until", "Paused until", "date")
            .value(p.auto_comms_paused_until.map(|d| d.to_string()).unwrap_or_default())
            .hint("The day they resume; blank: until unpaused"),
    );
    Section { legend: "Communication: what the customer agreed to receive".into(), fields }
}

/// The communication section as a patch, with a date that could not be read.
fn communication_patch(values: &Values, errors: &mut ValidationErrors) -> (CommunicationPreferences, bool, Patch<jiff::civil::Date>) {
    let until = match value(values, "auto_comms_paused_until") {
        None => Patch::Clear,
        Some(text) => match text.trim().parse() {
            Ok(day) => Patch::Set(day),
            Err(_) => {
                errors.push("auto_comms_paused_until", "invalid_date", "must be a date, e.g. 2027-01-31");
                Patch::Keep
            }
        },
    };
    (preferences_of(values), value(values, "auto_comms_paused").is_some(), until)
}

/// A contact's own preferences: off, it follows the customer's.
fn contact_communication_section(contact: &Contact) -> Section {
    let own = contact.profile.communication;
    let mut fields =
        vec![Field::new("own_communication", "This person has preferences of their own (else the customer's apply)", "checkbox").value(if own.is_some() {
            "on"
        } else {
            ""
        })];
    fields.extend(preference_fields(own.unwrap_or_default()));
    Section { legend: "Communication: what this person agreed to receive".into(), fields }
}

fn edit_form(ctx: &Ctx, customer: &Customer, definitions: &[FieldDefinition]) -> FormPage {
    let back = format!("/customers/{}", customer.code);
    let mut page = form(
        ctx,
        format!("Edit {}", customer.display_name),
        back.clone(),
        &customer.display_name,
        format!("{back}/edit"),
        "Save changes",
        customer_fields(Some(customer)),
    );
    page.sections.push(communication_section(customer));
    with_custom_fields(page, definitions, &customer.profile.custom_fields, ctx.org.money_style())
}

async fn customer_and_fields(db: &dossier_service::Db, ctx: &Ctx, id: &str) -> Result<(Customer, Vec<FieldDefinition>), ServiceError> {
    Ok((customers::get_customer(db, ctx, id).await?, customer_definitions(db, ctx).await?))
}

pub async fn edit_customer(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match customer_and_fields(&s.db, &ctx, &id).await {
        Ok((customer, definitions)) => edit_form(&ctx, &customer, &definitions).show(StatusCode::OK),
        Err(e) => failure(e),
    }
}

/// A blank optional field clears it.
fn patch(values: &Values, name: &str) -> Patch<String> {
    value(values, name).map_or(Patch::Clear, Patch::Set)
}

pub async fn update_customer(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let (customer, definitions) = match customer_and_fields(&s.db, &ctx, &id).await {
        Ok(found) => found,
        Err(e) => return failure(e),
    };
    let custom = match inputs::read(&definitions, &values, &customer.profile.custom_fields, ctx.org.money_style()) {
        Ok(custom) => custom,
        Err(errors) => return again(edit_form(&ctx, &customer, &definitions), &values, errors.into(), str::to_owned),
    };
    let mut errors = ValidationErrors::default();
    let (communication, paused, paused_until) = communication_patch(&values, &mut errors);
    if !errors.is_empty() {
        return again(edit_form(&ctx, &customer, &definitions), &values, errors.into(), str::to_owned);
    }
    let input = CustomerPatch {
        custom_fields: Some(custom),
        communication: Some(communication),
        auto_comms_paused: Some(paused),
        auto_comms_paused_until: paused_until,
        kind: value(&values, "kind").and_then(|k| CustomerKind::parse(&k)),
        title: patch(&values, "title"),
        given_name: patch(&values, "given_name"),
        family_name: patch(&values, "family_name"),
        business_name: patch(&values, "business_name"),
        email: patch(&values, "email"),
        phone: patch(&values, "phone"),
        source: patch(&values, "source"),
        do_not_work_reason: patch(&values, "do_not_work_reason"),
        ..Default::default()
    };
    match customers::update_customer(&s.db, &ctx, &customer.code, input).await {
        Ok(customer) => Redirect::to(&format!("/customers/{}?tab=history", customer.code)).into_response(),
        Err(e) => again(edit_form(&ctx, &customer, &definitions), &values, e, str::to_owned),
    }
}

// ---- status ----

fn status_form(ctx: &Ctx, customer: &Customer) -> FormPage {
    let back = format!("/customers/{}", customer.code);
    let fields = vec![
        Field::new("status", "New status", "select").options(options(CustomerStatus::ALL, CustomerStatus::as_str)).value(customer.status.as_str()),
        Field::new("reason", "Reason", "textarea").required().hint("Kept in the status history"),
    ];
    form(ctx, format!("Change status of {}", customer.display_name), back.clone(), &customer.display_name, format!("{back}/status"), "Change status", fields)
}

pub async fn status(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match customers::get_customer(&s.db, &ctx, &id).await {
        Ok(customer) => status_form(&ctx, &customer).show(StatusCode::OK),
        Err(e) => failure(e),
    }
}

pub async fn change_status(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let customer = match customers::get_customer(&s.db, &ctx, &id).await {
        Ok(customer) => customer,
        Err(e) => return failure(e),
    };
    let Some(status) = value(&values, "status").and_then(|v| CustomerStatus::parse(&v)) else {
        let errors = ValidationErrors::one("status", "unknown_value", "choose a status");
        return status_form(&ctx, &customer).refill(&values, &errors, str::to_owned).show(StatusCode::UNPROCESSABLE_ENTITY);
    };
    match customers::change_status(&s.db, &ctx, &customer.code, StatusChangeInput { status, reason: value(&values, "reason") }).await {
        Ok(customer) => Redirect::to(&format!("/customers/{}", customer.code)).into_response(),
        Err(e) => again(status_form(&ctx, &customer), &values, e, str::to_owned),
    }
}

// ---- labels ----

fn label_form(ctx: &Ctx, code: &str) -> FormPage {
    let fields = vec![Field::new("label", "Label", "text").required().hint("e.g. VIP")];
    form(ctx, format!("Add a label to {code}"), format!("/customers/{code}"), code, format!("/customers/{code}/labels"), "Add label", fields)
}

pub async fn new_label(Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    label_form(&ctx, &id).show(StatusCode::OK)
}

pub async fn add_label(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let input = customers::LabelsInput { labels: value(&values, "label").into_iter().collect() };
    match customers::add_labels(&s.db, &ctx, &id, input).await {
        Ok(customer) => Redirect::to(&format!("/customers/{}", customer.code)).into_response(),
        Err(e) => again(label_form(&ctx, &id), &values, e, |_| "label".to_owned()),
    }
}

/// `POST /customers/{code}/labels/remove` with the `label`: back to the profile.
pub async fn remove_label(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    match customers::remove_label(&s.db, &ctx, &id, &value(&values, "label").unwrap_or_default()).await {
        Ok(customer) => Redirect::to(&format!("/customers/{}", customer.code)).into_response(),
        Err(e) => failure(e),
    }
}

// ---- contacts and sites ----

fn contact_fields(contact: Option<&Contact>) -> Vec<Field> {
    let p = contact.map(|c| &c.profile);
    let text = |v: Option<&String>| v.cloned().unwrap_or_default();
    let flag = |on: bool| if on { "on" } else { "" };
    vec![
        Field::new("title", "Title", "text").value(text(p.and_then(|p| p.title.as_ref()))),
        Field::new("given_name", "Given name", "text").value(text(p.and_then(|p| p.given_name.as_ref()))),
        Field::new("family_name", "Family name", "text").required().value(text(p.map(|p| &p.family_name))),
        Field::new("position", "Position", "text").value(text(p.and_then(|p| p.position.as_ref()))),
        Field::new("email", "Email", "email").value(p.and_then(|p| p.emails.first()).map(|e| e.address.as_str().to_owned()).unwrap_or_default()),
        Field::new("phone", "Phone", "tel").value(p.and_then(|p| p.phones.first()).map(|n| n.number.to_string()).unwrap_or_default()),
        Field::new("is_primary", "Main contact", "checkbox").value(flag(p.is_some_and(|p| p.is_primary))),
        Field::new("is_billing", "Receives invoices", "checkbox").value(flag(p.is_some_and(|p| p.is_billing))),
    ]
}

fn contact_form(ctx: &Ctx, code: &str) -> FormPage {
    let back = format!("/customers/{code}?tab=contacts");
    form(ctx, "Add contact", back, "Contacts", format!("/customers/{code}/contacts/new"), "Add contact", contact_fields(None))
}

/// Contact errors name list entries (`emails[0].address`): the form has one of each.
fn contact_field(field: &str) -> String {
    match field {
        f if f.starts_with("emails") => "email".into(),
        f if f.starts_with("phones") => "phone".into(),
        f => f.to_owned(),
    }
}

pub async fn new_contact(Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    contact_form(&ctx, &id).show(StatusCode::OK)
}

pub async fn create_contact(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let input = ContactInput {
        title: value(&values, "title"),
        given_name: value(&values, "given_name"),
        family_name: value(&values, "family_name"),
        position: value(&values, "position"),
        emails: Some(value(&values, "email").map(|address| EmailInput { kind: EmailKind::Work, address }).into_iter().collect()),
        phones: Some(value(&values, "phone").map(|number| PhoneInput { kind: PhoneKind::Mobile, number }).into_iter().collect()),
        is_primary: Some(values.contains_key("is_primary")),
        is_billing: Some(values.contains_key("is_billing")),
        ..Default::default()
    };
    match contacts::add_contact(&s.db, &ctx, &id, input).await {
        Ok(_) => Redirect::to(&format!("/customers/{id}?tab=contacts")).into_response(),
        Err(e) => again(contact_form(&ctx, &id), &values, e, contact_field),
    }
}

async fn contact_and_customer(db: &dossier_service::Db, ctx: &dossier_service::Ctx, id: &str) -> Result<(Contact, String), dossier_service::ServiceError> {
    let contact = contacts::get_contact(db, ctx, id).await?;
    let customer = customers::get_customer(db, ctx, &contact.customer_id.0.to_string()).await?;
    Ok((contact, customer.code))
}

fn edit_contact_form(ctx: &Ctx, contact: &Contact, code: &str) -> FormPage {
    let back = format!("/customers/{code}?tab=contacts");
    let mut page = form(
        ctx,
        format!("Edit {}", contact.display_name),
        back,
        "Contacts",
        format!("/contacts/{}/edit", contact.id.0),
        "Save changes",
        contact_fields(Some(contact)),
    );
    page.sections.push(contact_communication_section(contact));
    page
}

pub async fn edit_contact(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match contact_and_customer(&s.db, &ctx, &id).await {
        Ok((contact, code)) => edit_contact_form(&ctx, &contact, &code).show(StatusCode::OK),
        Err(e) => failure(e),
    }
}

pub async fn update_contact(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let (contact, code) = match contact_and_customer(&s.db, &ctx, &id).await {
        Ok(found) => found,
        Err(e) => return failure(e),
    };
    // The form edits the first email and phone; any others are kept.
    let mut emails: Vec<EmailInput> = contact.profile.emails.iter().map(|e| EmailInput { kind: e.kind, address: e.address.as_str().to_owned() }).collect();
    let mut phones: Vec<PhoneInput> = contact.profile.phones.iter().map(|p| PhoneInput { kind: p.kind, number: p.number.to_string() }).collect();
    match (value(&values, "email"), emails.is_empty()) {
        (Some(address), true) => emails.push(EmailInput { kind: EmailKind::Work, address }),
        (Some(address), false) => emails[0].address = address,
        (None, false) => drop(emails.remove(0)),
        (None, true) => {}
    }
    match (value(&values, "phone"), phones.is_empty()) {
        (Some(number), true) => phones.push(PhoneInput { kind: PhoneKind::Mobile, number }),
        (Some(number), false) => phones[0].number = number,
        (None, false) => drop(phones.remove(0)),
        (None, true) => {}
    }
    let input = ContactPatch {
        title: patch(&values, "title"),
        given_name: patch(&values, "given_name"),
        family_name: patch(&values, "family_name"),
        position: patch(&values, "position"),
        emails: Some(emails),
        phones: Some(phones),
        is_primary: Some(values.contains_key("is_primary")),
        is_billing: Some(values.contains_key("is_billing")),
        communication: if values.contains_key("own_communication") { Patch::Set(preferences_of(&values)) } else { Patch::Clear },
        ..Default::default()
    };
    match contacts::update_contact(&s.db, &ctx, &id, input).await {
        Ok(_) => Redirect::to(&format!("/customers/{code}?tab=contacts")).into_response(),
        Err(e) => again(edit_contact_form(&ctx, &contact, &code), &values, e, contact_field),
    }
}

fn site_fields(site: Option<&Site>) -> Vec<Field> {
    let p = site.map(|s| &s.profile);
    let text = |v: Option<&String>| v.cloned().unwrap_or_default();
    vec![
        Field::new("kind", "Kind", "select").options(options(SiteKind::ALL, SiteKind::as_str)).value(p.map_or("service", |p| p.kind.as_str())),
        Field::new("name", "Name", "text").hint("e.g. Head office").value(text(p.and_then(|p| p.name.as_ref()))),
        Field::new("address_line1", "Address", "text").required().value(text(p.map(|p| &p.address_line1))),
        Field::new("address_line2", "Address line 2", "text").value(text(p.and_then(|p| p.address_line2.as_ref()))),
        Field::new("town", "Town", "text").value(text(p.and_then(|p| p.town.as_ref()))),
        Field::new("postcode", "Postcode", "text").required().value(text(p.map(|p| &p.postcode))),
        Field::new("country", "Country code", "text").hint("Defaults to your business's country").value(text(p.map(|p| &p.country))),
        Field::new("access_notes", "Access notes", "textarea").hint("Gate codes, parking, pets").value(text(p.and_then(|p| p.access_notes.as_ref()))),
    ]
}

/// The org's site fields, for a site form.
async fn site_definitions(db: &dossier_service::Db, ctx: &Ctx) -> Result<Vec<FieldDefinition>, ServiceError> {
    custom_fields::list_definitions(db, ctx, Some(FieldEntity::Site)).await
}

fn site_form(ctx: &Ctx, code: &str, definitions: &[FieldDefinition]) -> FormPage {
    let back = format!("/customers/{code}?tab=sites");
    let page = form(ctx, "Add site", back, "Sites", format!("/customers/{code}/sites/new"), "Add site", site_fields(None));
    with_custom_fields(page, definitions, &CustomFields::new(), ctx.org.money_style())
}

/// The site, its customer's code and the org's site fields.
async fn site_and_customer(db: &dossier_service::Db, ctx: &Ctx, id: &str) -> Result<(Site, String, Vec<FieldDefinition>), ServiceError> {
    let site = sites::get_site(db, ctx, id).await?;
    let customer = customers::get_customer(db, ctx, &site.customer_id.0.to_string()).await?;
    Ok((site, customer.code, site_definitions(db, ctx).await?))
}

fn edit_site_form(ctx: &Ctx, site: &Site, code: &str, definitions: &[FieldDefinition]) -> FormPage {
    let back = format!("/customers/{code}?tab=sites");
    let page =
        form(ctx, format!("Edit {}", site.profile.one_line()), back, "Sites", format!("/sites/{}/edit", site.id.0), "Save changes", site_fields(Some(site)));
    with_custom_fields(page, definitions, &site.profile.custom_fields, ctx.org.money_style())
}

pub async fn edit_site(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match site_and_customer(&s.db, &ctx, &id).await {
        Ok((site, code, definitions)) => edit_site_form(&ctx, &site, &code, &definitions).show(StatusCode::OK),
        Err(e) => failure(e),
    }
}

pub async fn update_site(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let (site, code, definitions) = match site_and_customer(&s.db, &ctx, &id).await {
        Ok(found) => found,
        Err(e) => return failure(e),
    };
    let custom = match inputs::read(&definitions, &values, &site.profile.custom_fields, ctx.org.money_style()) {
        Ok(custom) => custom,
        Err(errors) => return again(edit_site_form(&ctx, &site, &code, &definitions), &values, errors.into(), str::to_owned),
    };
    let input = SitePatch {
        custom_fields: Some(custom),
        kind: value(&values, "kind").and_then(|k| SiteKind::parse(&k)),
        name: patch(&values, "name"),
        address_line1: patch(&values, "address_line1"),
        address_line2: patch(&values, "address_line2"),
        town: patch(&values, "town"),
        postcode: patch(&values, "postcode"),
        country: value(&values, "country").map_or(Patch::Keep, Patch::Set),
        access_notes: patch(&values, "access_notes"),
        ..Default::default()
    };
    match sites::update_site(&s.db, &ctx, &id, input).await {
        Ok(_) => Redirect::to(&format!("/customers/{code}?tab=sites")).into_response(),
        Err(e) => again(edit_site_form(&ctx, &site, &code, &definitions), &values, e, str::to_owned),
    }
}

pub async fn new_site(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match site_definitions(&s.db, &ctx).await {
        Ok(definitions) => site_form(&ctx, &id, &definitions).show(StatusCode::OK),
        Err(e) => failure(e),
    }
}

pub async fn create_site(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let definitions = match site_definitions(&s.db, &ctx).await {
        Ok(definitions) => definitions,
        Err(e) => return failure(e),
    };
    let custom = match inputs::read(&definitions, &values, &CustomFields::new(), ctx.org.money_style()) {
        Ok(custom) => custom,
        Err(errors) => return again(site_form(&ctx, &id, &definitions), &values, errors.into(), str::to_owned),
    };
    let input = SiteInput {
        custom_fields: Some(custom),
        kind: value(&values, "kind").and_then(|k| SiteKind::parse(&k)),
        name: value(&values, "name"),
        address_line1: value(&values, "address_line1"),
        address_line2: value(&values, "address_line2"),
        town: value(&values, "town"),
        postcode: value(&values, "postcode"),
        country: value(&values, "country"),
        access_notes: value(&values, "access_notes"),
        ..Default::default()
    };
    match sites::add_site(&s.db, &ctx, &id, input).await {
        Ok(_) => Redirect::to(&format!("/customers/{id}?tab=sites")).into_response(),
        Err(e) => again(site_form(&ctx, &id, &definitions), &values, e, str::to_owned),
    }
}

/// A page that asks before deleting a contact or a site: what goes, and a
/// button; its history stays on the customer's timeline.
fn confirm_delete(ctx: &Ctx, what: String, code: &str, tab: &str, action: String) -> FormPage {
    let mut page = form(ctx, format!("Delete {what}?"), format!("/customers/{code}?tab={tab}"), code, action, "Delete", Vec::new());
    page.general.push(format!("{what} is removed from {code}; what happened to it stays on the timeline."));
    page
}

pub async fn ask_delete_contact(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match contact_and_customer(&s.db, &ctx, &id).await {
        Ok((contact, code)) => {
            confirm_delete(&ctx, format!("the contact {}", contact.display_name), &code, "contacts", format!("/contacts/{id}/delete")).show(StatusCode::OK)
        }
        Err(e) => failure(e),
    }
}

pub async fn delete_contact(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    let code = match contact_and_customer(&s.db, &ctx, &id).await {
        Ok((_, code)) => code,
        Err(e) => return failure(e),
    };
    match contacts::delete_contact(&s.db, &ctx, &id).await {
        Ok(()) => Redirect::to(&format!("/customers/{code}?tab=contacts")).into_response(),
        Err(e) => failure(e),
    }
}

pub async fn ask_delete_site(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match site_and_customer(&s.db, &ctx, &id).await {
        Ok((site, code, _)) => {
            confirm_delete(&ctx, format!("the site {}", site.profile.one_line()), &code, "sites", format!("/sites/{id}/delete")).show(StatusCode::OK)
        }
        Err(e) => failure(e),
    }
}

pub async fn delete_site(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    let code = match site_and_customer(&s.db, &ctx, &id).await {
        Ok((_, code, _)) => code,
        Err(e) => return failure(e),
    };
    match sites::delete_site(&s.db, &ctx, &id).await {
        Ok(()) => Redirect::to(&format!("/customers/{code}?tab=sites")).into_response(),
        Err(e) => failure(e),
    }
}
