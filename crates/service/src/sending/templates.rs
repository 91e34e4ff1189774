//! Message templates: list, change, reset, preview and render.
//!
//! Rendering uses minijinja in a sandbox: an environment with no loader
//! (so no includes, imports or extends), no auto-escaping (the output is
//! plain text), strict undefined names, a recursion limit and a fuel
//! budget, so a template can neither read anything it was not given nor
//! run long. A template is checked when it is saved: it must parse, name
//! only its purpose's placeholders and render the examples within the
//! message limits.

use dossier_domain::ValidationErrors;
use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
use dossier_domain::diff::FieldChange;
use dossier_domain::limits::{MAX_MESSAGE_BODY_CHARS, MAX_MESSAGE_SUBJECT_CHARS};
use dossier_domain::permissions::{Action, Module};
pub use dossier_domain::templates::{Placeholder, TemplateInput, TemplatePurpose, TemplateText};
use dossier_store::TemplateRow;
use dossier_store::queries as q;
use dossier_store::{Db, Handle};
use jiff::Timestamp;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::{Value, json};

use crate::record::{activity, timestamp};
use crate::{Ctx, Result};

/// The work one rendering may do: ample for any sensible template (a loop
/// over a few dozen lines), far too little for one that tries to spin.
const FUEL: u64 = 50_000;
const RECURSION_LIMIT: usize = 20;

/// A template as an org has it: its own text, or the default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Template {
    pub purpose: TemplatePurpose,
    pub label: &'static str,
    pub subject: String,
    pub body: String,
    /// Whether the org changed it (else it is the default).
    pub customised: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<Timestamp>,
    pub updated_by: Option<String>,
    pub placeholders: Vec<Placeholder>,
}

/// A template filled in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

fn of_row(purpose: TemplatePurpose, row: Option<TemplateRow>) -> Result<Template> {
    let (subject, body) = purpose.default_text();
    let mut template = Template {
        purpose,
        label: purpose.label(),
        subject: subject.to_owned(),
        body: body.to_owned(),
        customised: false,
        updated_at: None,
        updated_by: None,
        placeholders: purpose.placeholders(),
    };
    if let Some(row) = row {
        template.subject = row.subject;
        template.body = row.body;
        template.customised = true;
        template.updated_at = Some(timestamp(row.updated_at)?);
        template.updated_by = Some(row.updated_by);
    }
    Ok(template)
}

/// Every purpose's template as the org has it. Staff who may read the
/// org's settings read them (not a fieldworker: their examples hold
/// amounts); owners and admins change them.
pub async fn list(db: &Db, ctx: &Ctx) -> Result<Vec<Template>> {
    ctx.require(Module::Settings, Action::View)?;
    let mut reader = db.read().await?;
    let mut own = q::list_templates(&mut reader.handle(), ctx.org.id.0).await?;
    TemplatePurpose::ALL
        .iter()
        .map(|purpose| {
            let row = own.iter().position(|r| r.purpose == purpose.as_str()).map(|i| own.swap_remove(i));
            of_row(*purpose, row)
        })
        .collect()
}

/// One purpose's template as the org has it.
pub async fn get(db: &Db, ctx: &Ctx, purpose: TemplatePurpose) -> Result<Template> {
    ctx.require(Module::Settings, Action::View)?;
    get_in(&mut db.read().await?.handle(), ctx, purpose).await
}

pub(crate) async fn get_in(h: &mut Handle<'_>, ctx: &Ctx, purpose: TemplatePurpose) -> Result<Template> {
    of_row(purpose, q::get_template(h, ctx.org.id.0, purpose.as_str()).await?)
}

/// Change the org's template for a purpose, after checking it renders.
/// One `template.changed` activity with what changed.
pub async fn update(db: &Db, ctx: &Ctx, purpose: TemplatePurpose, input: TemplateInput) -> Result<Template> {
    ctx.require(Module::Settings, Action::Edit)?;
    let text = input.parse()?;
    check(purpose, &text)?;
    let mut tx = db.begin().await?;
    let before = get_in(&mut tx.handle(), ctx, purpose).await?;
    if before.subject == text.subject && before.body == text.body {
        return Ok(before);
    }
    let row = TemplateRow {
        org_id: ctx.org.id.0,
        purpose: purpose.as_str().to_owned(),
        subject: text.subject.clone(),
        body: text.body.clone(),
        updated_at: ctx.now().as_microsecond(),
        updated_by: ctx.actor.name.clone(),
    };
    q::put_template(&mut tx.handle(), &row).await?;
    let changes = changes(&before, &text);
    let summary = format!("{} template changed by {}", purpose.label(), ctx.actor.name);
    tx.append(template_activity(ctx, ActivityKind::TemplateChanged, purpose, summary, changes)).await?;
    let after = get_in(&mut tx.handle(), ctx, purpose).await?;
    tx.commit().await?;
    Ok(after)
}

/// Go back to the default template of a purpose (nothing happens if the
/// org never changed it).
pub async fn reset(db: &Db, ctx: &Ctx, purpose: TemplatePurpose) -> Result<Template> {
    ctx.require(Module::Settings, Action::Edit)?;
    let mut tx = db.begin().await?;
    let before = get_in(&mut tx.handle(), ctx, purpose).await?;
    if !q::delete_template(&mut tx.handle(), ctx.org.id.0, purpose.as_str()).await? {
        return Ok(before);
    }
    let (subject, body) = purpose.default_text();
    let changes = changes(&before, &TemplateText { subject: subject.to_owned(), body: body.to_owned() });
    let summary = format!("{} template set back to the default by {}", purpose.label(), ctx.actor.name);
    tx.append(template_activity(ctx, ActivityKind::TemplateReset, purpose, summary, changes)).await?;
    let after = get_in(&mut tx.handle(), ctx, purpose).await?;
    tx.commit().await?;
    Ok(after)
}

fn changes(before: &Template, after: &TemplateText) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    if before.subject != after.subject {
        changes.push(FieldChange { field: "subject".into(), old: json!(before.subject), new: json!(after.subject) });
    }
    if before.body != after.body {
        changes.push(FieldChange { field: "body".into(), old: json!(before.body), new: json!(after.body) });
    }
    changes
}

fn template_activity(
    ctx: &Ctx,
    kind: ActivityKind,
    purpose: TemplatePurpose,
    summary: String,
    changes: Vec<FieldChange>,
) -> dossier_domain::activity::NewActivity {
    let mut record = activity(ctx, kind, None, EntityRef::new(EntityType::Org, ctx.org.id.0), None, summary, changes);
    record.detail = json!({ "purpose": purpose });
    record
}

/// Fill in `text` (the org's template, or one being edited) with the
/// examples of its purpose: what the edit page's preview shows. A text
/// that does not render is refused with the reason on its field.
pub fn preview(purpose: TemplatePurpose, text: &TemplateText) -> Result<Rendered> {
    Ok(render(purpose, text, &purpose.sample())?)
}

/// Check a template before it is kept: it parses, names only its
/// purpose's placeholders, and renders the examples within the limits.
pub fn check(purpose: TemplatePurpose, text: &TemplateText) -> Result<(), ValidationErrors> {
    let env = sandbox();
    let mut errors = ValidationErrors::default();
    for (field, source) in [("subject", text.subject.as_str()), ("body", text.body.as_str())] {
        match env.template_from_str(source) {
            Err(e) => errors.push(field, "template_syntax", syntax_message(&e)),
            Ok(template) => {
                let mut unknown: Vec<String> = template
                    .undeclared_variables(true)
                    .into_iter()
                    .filter(|name| !purpose.knows(name) && !is_object_of(purpose, name) && !is_global(&env, name))
                    .collect();
                unknown.sort();
                if !unknown.is_empty() {
                    let names = unknown.iter().map(|n| format!("{{{{ {n} }}}}")).collect::<Vec<_>>().join(", ");
                    errors.push(field, "unknown_placeholder", format!("{names} is not a placeholder of this template; see the list beside it"));
                }
            }
        }
    }
    errors.into_result(|| ())?;
    render(purpose, text, &purpose.sample()).map(drop)
}

/// One of the engine's own functions (`range`, `dict`…), not data.
fn is_global(env: &Environment<'_>, name: &str) -> bool {
    env.globals().any(|(global, _)| global == name)
}

/// A name a template may use as a whole object (`{% if invoice %}`).
fn is_object_of(purpose: TemplatePurpose, name: &str) -> bool {
    !name.contains('.') && purpose.placeholders().iter().any(|p| p.name.split('.').next() == Some(name))
}

/// Fill in a template with `data` (the nested object its placeholders
/// name). The subject is one line; both are bounded like any message.
pub fn render(purpose: TemplatePurpose, text: &TemplateText, data: &Value) -> Result<Rendered, ValidationErrors> {
    let env = sandbox();
    let mut errors = ValidationErrors::default();
    let data = minijinja::Value::from(minijinja::value::Serde(data));
    let mut one = |field: &str, source: &str, max: usize| -> Option<String> {
        match env.render_str(source, data.clone()) {
            Ok(out) if out.chars().count() <= max => Some(out),
            Ok(_) => {
                errors.push(field, "too_long", format!("comes out longer than {max} characters"));
                None
            }
            Err(e) => {
                errors.push(field, "template_error", render_message(purpose, &e));
                None
            }
        }
    };
    let subject = one("subject", &text.subject, MAX_MESSAGE_SUBJECT_CHARS);
    let body = one("body", &text.body, MAX_MESSAGE_BODY_CHARS);
    match (subject, body) {
        (Some(subject), Some(body)) if errors.is_empty() => {
            Ok(Rendered { subject: subject.split_whitespace().collect::<Vec<_>>().join(" "), body: body.trim_end().to_owned() })
        }
        _ => Err(errors),
    }
}

/// The org's template of `purpose` filled in with `data`.
#[allow(dead_code)] // the automations that send on their own (next)
pub(crate) async fn render_in(h: &mut Handle<'_>, ctx: &Ctx, purpose: TemplatePurpose, data: &Value) -> Result<Rendered> {
    let template = get_in(h, ctx, purpose).await?;
    Ok(render(purpose, &TemplateText { subject: template.subject, body: template.body }, data)?)
}

fn sandbox() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(RECURSION_LIMIT);
    env
}

fn syntax_message(e: &minijinja::Error) -> String {
    let line = e.line().map(|l| format!(" on line {l}")).unwrap_or_default();
    format!("cannot be read{line}: {}", e.detail().unwrap_or("syntax error"))
}

fn render_message(purpose: TemplatePurpose, e: &minijinja::Error) -> String {
    match e.kind() {
        minijinja::ErrorKind::OutOfFuel => "does too much work to render; simplify its loops".to_owned(),
        minijinja::ErrorKind::UndefinedError => {
            let names = purpose.placeholders().iter().map(|p| p.name).collect::<Vec<_>>().join(", ");
            format!("names something this message does not have; it may use {names}")
        }
        _ => {
            let line = e.line().map(|l| format!(" on line {l}")).unwrap_or_default();
            format!("cannot be filled in{line}: {}", e.detail().unwrap_or("error"))
        }
    }
}

/// What a template is filled in for: a customer, optionally the contact
/// it greets and the record it is about (an invoice, a quote, a payment).
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FillFor {
    /// The customer's code or id; without it the examples are used.
    pub customer: Option<String>,
    /// The contact to greet (one of the customer's); default its billing
    /// contact for billing purposes, else its primary contact, else the customer.
    pub contact_id: Option<String>,
    /// The record's code (`INV-00017`), for invoice, quote, receipt and reminder templates.
    pub record: Option<String>,
}

/// The data a template reads for a real customer and record: every
/// placeholder of `purpose` that the customer and record give. Reads
/// through the use cases that show them, so the caller's permissions hold
/// (a role that may not see invoices cannot fill an invoice template).
pub async fn data_for(db: &Db, ctx: &Ctx, purpose: TemplatePurpose, fill: &FillFor) -> Result<Value> {
    let Some(reference) = fill.customer.as_deref() else { return Ok(purpose.sample()) };
    let customer = crate::customers::get_customer(db, ctx, reference).await?;
    let contacts = crate::contacts::list_contacts(db, ctx, reference).await?;
    let billing = purpose.consent_purpose() == dossier_domain::consent::Purpose::Billing;
    let contact = match fill.contact_id.as_deref() {
        Some(id) => Some(
            contacts
                .iter()
                .find(|c| c.id.0.to_string() == id)
                .ok_or_else(|| ValidationErrors::one("contact_id", "not_found", "is not a contact of this customer"))?,
        ),
        None => contacts.iter().find(|c| billing && c.profile.is_billing).or_else(|| contacts.iter().find(|c| c.profile.is_primary)),
    };
    let greeting = contact
        .map(|c| c.profile.given_name.clone().unwrap_or_else(|| c.display_name.clone()))
        .or_else(|| customer.profile.given_name.clone())
        .unwrap_or_else(|| customer.display_name.clone());
    let sender = match ctx.actor.kind {
        dossier_domain::activity::ActorType::User => ctx.actor.name.clone(),
        _ => ctx.org.name.clone(),
    };
    let money = |m: dossier_domain::money::Money| m.format(ctx.org.money_style());
    let mut data = json!({
        "org": { "name": ctx.org.name },
        "customer": { "name": customer.display_name, "code": customer.code },
        "contact": { "name": greeting },
        "sender": { "name": sender },
    });
    let needs_record = || ValidationErrors::one("record", "required", "names the record this message is about");
    match purpose {
        TemplatePurpose::Invoice | TemplatePurpose::PaymentReminder1 | TemplatePurpose::PaymentReminder2 | TemplatePurpose::PaymentReminder3 => {
            let invoice = crate::money::billing::get_invoice(db, ctx, fill.record.as_deref().ok_or_else(needs_record)?).await?;
            let overdue = invoice.due_date.map_or(0, |due| (ctx.today() - due).get_days().max(0));
            data["invoice"] = json!({
                "code": invoice.code,
                "total": money(invoice.totals.total),
                "balance": money(invoice.balance),
                "issued_on": invoice.issue_date.map(|d| ctx.org.date(d)).unwrap_or_default(),
                "due_date": invoice.due_date.map(|d| ctx.org.date(d)).unwrap_or_default(),
            });
            data["reminder"] = json!({ "days_overdue": overdue.to_string() });
        }
        TemplatePurpose::Quote => {
            let quote = crate::works::get_quote(db, ctx, fill.record.as_deref().ok_or_else(needs_record)?).await?;
            data["quote"] = json!({
                "code": quote.code,
                "total": money(quote.totals.total),
                "valid_until": quote.valid_until.map(|d| ctx.org.date(d)).unwrap_or_default(),
            });
        }
        TemplatePurpose::PaymentReceipt => {
            let payment = crate::money::billing::get_payment(db, ctx, fill.record.as_deref().ok_or_else(needs_record)?).await?;
            data["payment"] = json!({ "code": payment.code, "amount": money(payment.amount), "received_on": ctx.org.date(payment.received_on) });
        }
        TemplatePurpose::Statement => {
            let statement = crate::money::statement::statement(db, ctx, reference, Default::default()).await?;
            data["statement"] = json!({ "balance": money(statement.closing_balance), "as_of": ctx.org.date(ctx.today()) });
        }
        // Filled by the use case that sends them (the link, the visit),
        // which knows what a customer alone does not; the examples stand in.
        TemplatePurpose::PortalLink | TemplatePurpose::ServiceReminder | TemplatePurpose::StaffInvitation => {
            let sample = purpose.sample();
            for key in ["portal", "service", "invitation"] {
                if let Some(value) = sample.get(key) {
                    data[key] = value.clone();
                }
            }
        }
    }
    Ok(data)
}

/// The org's template of `purpose` (or `text`, one being edited) filled
/// in for a customer and record, or with the examples.
pub async fn fill(db: &Db, ctx: &Ctx, purpose: TemplatePurpose, text: Option<TemplateInput>, fill: &FillFor) -> Result<Rendered> {
    ctx.require(Module::Settings, Action::View)?;
    let text = match text {
        Some(text) => {
            let text = text.parse()?;
            check(purpose, &text)?;
            text
        }
        None => {
            let template = get(db, ctx, purpose).await?;
            TemplateText { subject: template.subject, body: template.body }
        }
    };
    let data = data_for(db, ctx, purpose, fill).await?;
    Ok(render(purpose, &text, &data)?)
}
