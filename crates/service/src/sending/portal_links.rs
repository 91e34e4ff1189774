//! Emailing a portal link: staff make the link and Dossier emails it to
//! the customer with the org's `portal_link` template, instead of staff
//! copying it by hand.
//!
//! The link, its `portal_link.created` activity, the email (a customer
//! message, queued, with its `message.queued` activity) and its send task
//! are written in one transaction, through the same queueing path as any
//! email ([`queue_in`]): a refused email leaves no link behind. The email
//! holds the absolute link ([`PublicUrl`]); it goes to an address of the
//! customer or its contacts that staff choose (default the primary
//! contact's, else the customer's own), and a customer who opted out of
//! service email is refused unless staff give a reason, which is recorded.

use dossier_domain::ValidationErrors;
use dossier_domain::consent::{self, Purpose};
use dossier_domain::contact::Contact;
use dossier_domain::contact_point::Email;
use dossier_domain::customer::{CustomerStatus, WorkRefused};
use dossier_domain::ids::{ContactId, CustomerId};
use dossier_domain::message::Channel;
use dossier_domain::permissions::{Access, Action, Module};
use dossier_domain::public_url::PublicUrl;
use dossier_domain::sending::email::MailServer;
use dossier_domain::templates::TemplatePurpose;
use dossier_store::queries as q;
use dossier_store::{CustomerRow, Db, Handle};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::portal::{self, CreatedPortalLink, PortalLinkInput};
use crate::sending::email::{Outgoing, addresses_of, queue_in};
use crate::sending::smtp;
use crate::sending::templates::{FillFor, data_for, render_in};
use crate::{Ctx, Result, ServiceError, customers};

/// `email` in the body of `POST /customers/{id}/portal-links`: email the
/// new link to the customer.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalLinkEmail {
    /// Addresses of the customer or its contacts (at most 10); default the
    /// primary contact's first address, else the customer's own.
    #[serde(default)]
    pub to: Vec<String>,
    /// Send although the customer opted out of service email; recorded.
    #[schema(max_length = 500)]
    pub override_reason: Option<String>,
}

/// An address a link can be emailed to, and whose it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recipient {
    pub address: String,
    /// The customer's or the contact's name.
    pub whose: String,
}

/// What the portal-links page offers for emailing a link.
#[derive(Clone, Debug, Default)]
pub struct LinkOffer {
    /// The default first.
    pub recipients: Vec<Recipient>,
    /// Whether the org has an outgoing mail server (else nothing can be emailed).
    pub mail_server: bool,
}

/// Make a portal link for a customer, and — when `input.email` asks —
/// email it to them (see the module's text). Refused, beside the link's
/// own checks: no outgoing mail server (`no_mail_server`), an address that
/// is not the customer's or a contact's (`not_a_contact_address`), no
/// address at all (`no_email_address`), opted out of service email without
/// an override reason (`opted_out`), a deactivated customer, and a caller
/// who may not email customers.
pub async fn create(
    db: &Db,
    ctx: &Ctx,
    configured: Option<&MailServer>,
    public_url: &PublicUrl,
    customer: &str,
    input: PortalLinkInput,
) -> Result<CreatedPortalLink> {
    let Some(email) = input.email.clone() else { return portal::create_link(db, ctx, customer, input).await };
    ctx.require(Module::PortalLinks, Action::Create)?;
    if ctx.require(Module::Messages, Action::Create)? == Access::Assigned {
        // A fieldworker's messages are notes on their jobs; email leaves from the office.
        return Err(ServiceError::Forbidden { module: "messages", action: "email customers" });
    }
    let days = portal::link_days(&input)?;
    let asked = parse_addresses(email.to)?;
    // Whom it goes to, and what the template reads, before the writing
    // transaction (as automated emails do).
    let (customer_id, to, contact_id, own_name) = {
        let mut reader = db.read().await?;
        let h = &mut reader.handle();
        let row = customers::find(h, ctx, customer).await?;
        let (to, contact_id) = recipients(h, ctx, &row, asked).await?;
        (row.id, to, contact_id, row.given_name.clone().unwrap_or_else(|| row.display_name.clone()))
    };
    let fill = FillFor { customer: Some(customer_id.to_string()), contact_id: contact_id.map(|c| c.0.to_string()), record: None };
    let mut data = data_for(db, ctx, TemplatePurpose::PortalLink, &fill).await?;
    if contact_id.is_none() {
        // To the customer's own address: it greets the customer, not a contact.
        data["contact"]["name"] = json!(own_name);
    }

    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let row = customers::find(h, ctx, &customer_id.to_string()).await?;
    if row.status()? == CustomerStatus::Deactivated {
        let refusal = WorkRefused::Deactivated;
        return Err(ServiceError::conflict(refusal.code(), refusal.message(row.code())));
    }
    let server = smtp::server_for(h, ctx.org.id.0, configured)
        .await?
        .ok_or_else(|| ServiceError::conflict("no_mail_server", "no outgoing mail server is set: an admin sets one under Settings → Email"))?;
    let profile = row.profile()?;
    let agreed = crate::sending::email::consent_for(h, ctx, customer_id, &profile.communication, &[contact_id], Channel::Email, Purpose::Service).await?;
    let permitted = consent::manual_send(agreed, email.override_reason)?;
    let created = portal::create_link_in(&mut tx, ctx, &row, days).await?;
    let expires_on = created.link.expires_at.to_zoned(ctx.org.zone()).date();
    data["portal"] = json!({ "url": public_url.link(&created.url), "expires_on": ctx.org.date(expires_on) });
    let rendered = render_in(&mut tx.handle(), ctx, TemplatePurpose::PortalLink, &data).await?;
    let out = Outgoing {
        customer: CustomerId(customer_id),
        contact_id,
        record: None,
        to,
        cc: Vec::new(),
        subject: rendered.subject,
        body: rendered.body,
        purpose: Purpose::Service,
        attachments: Vec::new(),
        permitted,
        in_reply_to: None,
        held: None,
    };
    let message = queue_in(&mut tx, ctx, &server, out).await?;
    tx.commit().await?;
    Ok(CreatedPortalLink { message: Some(Box::new(message)), ..created })
}

fn parse_addresses(list: Vec<String>) -> Result<Vec<Email>> {
    let mut errors = ValidationErrors::default();
    let parsed = dossier_domain::sending::email::addresses(&mut errors, "email.to", list);
    Ok(errors.into_result(|| parsed)?)
}

/// The customer's and its contacts' addresses (with the contact each
/// belongs to), and its primary contact.
async fn address_book(h: &mut Handle<'_>, ctx: &Ctx, row: &CustomerRow) -> Result<(Vec<(Email, Option<ContactId>)>, Vec<Contact>)> {
    let known = addresses_of(h, ctx, row.id, row.profile()?.email).await?;
    let contacts = q::list_contacts(h, ctx.org.id.0, row.id).await?.into_iter().map(|r| r.into_contact()).collect::<std::result::Result<_, _>>()?;
    Ok((known, contacts))
}

/// The address a link goes to unless staff choose: the primary contact's
/// first, else the customer's own, else any.
fn default_of<'a>(known: &'a [(Email, Option<ContactId>)], contacts: &[Contact]) -> Option<&'a (Email, Option<ContactId>)> {
    let primary = contacts.iter().find(|c| c.profile.is_primary).map(|c| c.id);
    known.iter().find(|(_, c)| primary.is_some() && *c == primary).or_else(|| known.iter().find(|(_, c)| c.is_none())).or(known.first())
}

/// The addresses asked for, each checked to be the customer's or a
/// contact's, or the default one; and the contact the first belongs to.
async fn recipients(h: &mut Handle<'_>, ctx: &Ctx, row: &CustomerRow, asked: Vec<Email>) -> Result<(Vec<Email>, Option<ContactId>)> {
    let (known, contacts) = address_book(h, ctx, row).await?;
    if asked.is_empty() {
        let Some((address, contact)) = default_of(&known, &contacts) else {
            let message = format!("{} and its contacts have no email address; add one first", row.code());
            return Err(ValidationErrors::one("email.to", "no_email_address", message).into());
        };
        return Ok((vec![address.clone()], *contact));
    }
    let mut errors = ValidationErrors::default();
    for (i, address) in asked.iter().enumerate() {
        if !known.iter().any(|(k, _)| k == address) {
            errors.push(format!("email.to[{i}]"), "not_a_contact_address", format!("{} is not an address of this customer or its contacts", address.as_str()));
        }
    }
    errors.into_result(|| ())?;
    let contact = known.iter().find(|(k, _)| Some(k) == asked.first()).and_then(|(_, c)| *c);
    Ok((asked, contact))
}

/// The addresses a link to this customer can be emailed to (the default
/// first), and whether the org can send email at all: what the web page offers.
pub async fn offer(db: &Db, ctx: &Ctx, configured: Option<&MailServer>, customer: &str) -> Result<LinkOffer> {
    ctx.require(Module::PortalLinks, Action::View)?;
    let may_email = ctx.access(Module::Messages, Action::Create);
    if matches!(may_email, Access::None | Access::Assigned) {
        return Ok(LinkOffer::default());
    }
    let mut reader = db.read().await?;
    let h = &mut reader.handle();
    let row = customers::find(h, ctx, customer).await?;
    let mail_server = smtp::server_for(h, ctx.org.id.0, configured).await?.is_some();
    let (known, contacts) = address_book(h, ctx, &row).await?;
    let whose = |contact: Option<ContactId>| {
        contact.and_then(|id| contacts.iter().find(|c| c.id == id)).map_or_else(|| row.display_name.clone(), |c| c.display_name.clone())
    };
    let mut recipients: Vec<Recipient> = Vec::new();
    for (address, contact) in default_of(&known, &contacts).into_iter().chain(known.iter()) {
        if !recipients.iter().any(|r| r.address == address.as_str()) {
            recipients.push(Recipient { address: address.as_str().to_owned(), whose: whose(*contact) });
        }
    }
    Ok(LinkOffer { recipients, mail_server })
}
