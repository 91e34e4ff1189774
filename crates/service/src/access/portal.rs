//! The customer portal: staff send a customer a link (unguessable,
//! expiring, revocable, for that one customer); with it the customer sees
//! their invoices and the messages meant for them, downloads their
//! statement, and keeps their billing address and contact details up to
//! date. What they change is recorded with the customer as the actor.

use dossier_domain::ValidationErrors;
use dossier_domain::activity::{Activity, ActivityGroup, ActivityKind, Actor, ActorType, EntityRef, EntityType, Visibility};
use dossier_domain::currency::MoneyStyle;
use dossier_domain::customer::{Customer, CustomerPatch};
use dossier_domain::diff::FieldChange;
use dossier_domain::file::StoredFile;
use dossier_domain::ids::{CustomerId, PortalLinkId};
use dossier_domain::message::{Channel, Direction, Message, MessageInput};
use dossier_domain::money::Money;
use dossier_domain::orgs::DateFormat;
use dossier_domain::patch::Patch;
use dossier_domain::permissions::{Action, Module};
use dossier_domain::site::{Site, SiteInput, SiteKind, SitePatch};
use dossier_domain::workflow::InvoiceState;
use dossier_domain::works::Invoice;
use dossier_store::queries as q;
use dossier_store::{CustomerRow, Db, PortalLinkRow, TimelineFilter, Tx, Used};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::billing::{self, InvoiceQuery};
use crate::record::{activity, timestamp};
use crate::secrets::{self, SecretKind};
use crate::statement::{self, StatementQuery};
use crate::{Ctx, Result, ServiceError, customers, orgs, sites, usage};

/// How long a link works unless staff choose otherwise.
pub const DEFAULT_DAYS: u32 = 30;
/// The longest a link may work.
pub const MAX_DAYS: u32 = 365;

/// Body of `POST /customers/{id}/portal-links`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalLinkInput {
    /// 1–365, default 30.
    #[schema(minimum = 1, maximum = 365)]
    pub expires_in_days: Option<u32>,
    /// Email the link to the customer as well (with the org's portal-link
    /// template); without it the link is only returned, to copy.
    pub email: Option<crate::sending::portal_links::PortalLinkEmail>,
}

/// A new link: its URL holds the secret and is shown this once.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedPortalLink {
    #[serde(flatten)]
    pub link: PortalLink,
    /// The path to give the customer, after the server's address: `/portal/<secret>`.
    pub url: String,
    /// The email that takes the link to the customer, when it was emailed (queued).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Box<Message>>,
}

/// A link as staff see it later: never its secret.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PortalLink {
    pub id: PortalLinkId,
    pub customer_id: CustomerId,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
}

impl PortalLink {
    fn from_row(row: PortalLinkRow) -> Result<Self> {
        Ok(PortalLink {
            id: PortalLinkId(row.id),
            customer_id: CustomerId(row.customer_id),
            created_by: row.created_by,
            created_at: timestamp(row.created_at)?,
            expires_at: timestamp(row.expires_at)?,
            revoked_at: row.revoked_at.map(timestamp).transpose()?,
            last_used_at: row.last_used_at.map(timestamp).transpose()?,
        })
    }
}

/// Make a portal link for a customer, to send or copy to them.
pub async fn create_link(db: &Db, ctx: &Ctx, customer: &str, input: PortalLinkInput) -> Result<CreatedPortalLink> {
    ctx.require(Module::PortalLinks, Action::Create)?;
    let days = link_days(&input)?;
    let mut tx = db.begin().await?;
    let customer = customers::find(&mut tx.handle(), ctx, customer).await?;
    let created = create_link_in(&mut tx, ctx, &customer, days).await?;
    tx.commit().await?;
    Ok(created)
}

/// The days a link is to work: 1 to [`MAX_DAYS`], default [`DEFAULT_DAYS`].
pub(crate) fn link_days(input: &PortalLinkInput) -> Result<u32> {
    let days = input.expires_in_days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ValidationErrors::one("expires_in_days", "out_of_range", format!("must be 1 to {MAX_DAYS}")).into());
    }
    Ok(days)
}

/// Write a new link for `customer` working `days` days, and its
/// `portal_link.created` activity, in the caller's transaction.
pub(crate) async fn create_link_in(tx: &mut Tx, ctx: &Ctx, customer: &CustomerRow, days: u32) -> Result<CreatedPortalLink> {
    let h = &mut tx.handle();
    let secret = secrets::issue(SecretKind::PortalLink, ctx.org.id.0);
    let now = ctx.now();
    let expires_at = now + SignedDuration::from_hours(24 * i64::from(days));
    let row = PortalLinkRow {
        org_id: ctx.org.id.0,
        id: PortalLinkId::new().0,
        customer_id: customer.id,
        token_hash: secret.hash,
        created_by: ctx.actor.name.clone(),
        created_at: now.as_microsecond(),
        expires_at: expires_at.as_microsecond(),
        revoked_at: None,
        last_used_at: None,
    };
    q::insert_portal_link(h, &row).await?;
    let summary = format!("Portal link for {} created by {}, valid until {}", customer.code(), ctx.actor.name, expires_at.strftime("%Y-%m-%d"));
    let changes = vec![FieldChange { field: "expires_at".into(), old: json!(null), new: json!(expires_at) }];
    let subject = EntityRef::new(EntityType::PortalLink, row.id);
    tx.append(activity(ctx, ActivityKind::PortalLinkCreated, Some(CustomerId(customer.id)), subject, Some(customer.code().to_string()), summary, changes))
        .await?;
    Ok(CreatedPortalLink { url: format!("/portal/{}", secret.text), link: PortalLink::from_row(row)?, message: None })
}

/// A customer's portal links, newest first.
pub async fn list_links(db: &Db, ctx: &Ctx, customer: &str) -> Result<Vec<PortalLink>> {
    ctx.require(Module::PortalLinks, Action::View)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let customer = customers::find(h, ctx, customer).await?;
    q::list_portal_links(h, ctx.org.id.0, customer.id).await?.into_iter().map(PortalLink::from_row).collect()
}

/// Revoke a link: it stops working at once.
pub async fn revoke_link(db: &Db, ctx: &Ctx, id: &str) -> Result<PortalLink> {
    ctx.require(Module::PortalLinks, Action::Delete)?;
    let id = Uuid::parse_str(id).map_err(|_| ServiceError::NotFound("portal link"))?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let row = q::get_portal_link(h, ctx.org.id.0, id).await?.ok_or(ServiceError::NotFound("portal link"))?;
    let customer = customers::find(h, ctx, &row.customer_id.to_string()).await.map_err(|_| ServiceError::NotFound("portal link"))?;
    if q::revoke_portal_link(h, ctx.org.id.0, id, ctx.now().as_microsecond()).await? {
        let summary = format!("Portal link for {} revoked by {}", customer.code(), ctx.actor.name);
        let changes = vec![FieldChange { field: "revoked".into(), old: json!(false), new: json!(true) }];
        let subject = EntityRef::new(EntityType::PortalLink, row.id);
        tx.append(activity(ctx, ActivityKind::PortalLinkRevoked, Some(CustomerId(customer.id)), subject, Some(customer.code().to_string()), summary, changes))
            .await?;
    }
    let row = q::get_portal_link(&mut tx.handle(), ctx.org.id.0, id).await?.ok_or(ServiceError::NotFound("portal link"))?;
    tx.commit().await?;
    PortalLink::from_row(row)
}

/// A customer who opened their link: the customer acting, for their own
/// record only. Every portal use case takes one.
pub struct Visitor {
    ctx: Ctx,
    customer: String,
    pub expires_at: Timestamp,
}

/// The visitor a link stands for; 404 for a link that is malformed,
/// unknown, expired or revoked (or whose customer is gone or deleted).
pub async fn open(db: &Db, token: &str) -> Result<Visitor> {
    let (org_id, hash) = secrets::read(SecretKind::PortalLink, token).ok_or(ServiceError::NotFound("portal link"))?;
    let now = Timestamp::now();
    let (org, link, customer) = {
        let mut conn = db.read().await?;
        let h = &mut conn.handle();
        let link = q::find_portal_link(h, org_id, &hash, now.as_microsecond()).await?.ok_or(ServiceError::NotFound("portal link"))?;
        let org = orgs::load(h, org_id).await?;
        let system = Ctx::system(org.clone(), "Portal");
        let customer = customers::find(h, &system, &link.customer_id.to_string()).await.map_err(|_| ServiceError::NotFound("portal link"))?;
        // A deleted customer's links stop working (and work again if it is restored).
        if customer.deleted_at.is_some() {
            return Err(ServiceError::NotFound("portal link"));
        }
        (org, link, customer)
    };
    usage::note(db, Used::PortalLink, org_id, link.id, link.last_used_at, now.as_microsecond()).await?;
    // The customer acts on their own record through the use cases staff
    // use; the portal's functions below only ever name this customer.
    let actor = Actor { kind: ActorType::Customer, id: Some(customer.id), name: format!("{} (via portal)", customer.display_name) };
    let ctx = Ctx::new(org, actor, None, None);
    Ok(Visitor { ctx, customer: customer.id.to_string(), expires_at: timestamp(link.expires_at)? })
}

/// What the portal's page shows.
pub struct PortalView {
    pub org_name: String,
    pub org_address: Vec<String>,
    /// How the org writes amounts and dates.
    pub money: MoneyStyle,
    pub date_format: DateFormat,
    /// Whether the org has a logo to show at the top.
    pub has_logo: bool,
    /// The org's time zone: the day an entry happened on.
    pub zone: jiff::tz::TimeZone,
    pub customer: Customer,
    pub billing_address: Option<Site>,
    /// Open and overdue, oldest due first.
    pub open_invoices: Vec<Invoice>,
    /// Paid, credited: newest first.
    pub past_invoices: Vec<Invoice>,
    /// What they owe now, after any credit.
    pub balance: Money,
    /// The conversation: messages meant for them (never internal notes),
    /// newest first; a deleted one as its mark.
    pub messages: Vec<Message>,
    /// Files they may download: those of messages above, and those shared
    /// on their invoices; newest first.
    pub files: Vec<StoredFile>,
    /// Other entries of their timeline meant for them (their own changes).
    pub activity: Vec<Activity>,
    pub expires_at: Timestamp,
}

/// How many invoices and messages the page lists.
const SHOWN: u32 = 200;

pub async fn view(db: &Db, visitor: &Visitor) -> Result<PortalView> {
    let ctx = &visitor.ctx;
    let customer = customers::get_customer(db, ctx, &visitor.customer).await?;
    let sites = sites::list_sites(db, ctx, &visitor.customer).await?;
    let billing_address = billing_site(sites);
    let query = InvoiceQuery { customer: Some(visitor.customer.clone()), limit: Some(SHOWN), ..Default::default() };
    let invoices = billing::list_invoices(db, ctx, query).await?.items;
    let (mut open_invoices, past_invoices): (Vec<Invoice>, Vec<Invoice>) = invoices
        .into_iter()
        .filter(|i| !matches!(i.state, InvoiceState::Draft | InvoiceState::Void))
        .partition(|i| matches!(i.state, InvoiceState::Open | InvoiceState::Overdue));
    open_invoices.sort_by_key(|i| i.due_date);
    let summary = crate::summary::customer_summary(db, ctx, &visitor.customer).await?;
    let balance = summary.balances.map_or(Money::ZERO, |b| b.open_balance);
    let groups = ActivityGroup::ALL.iter().copied().filter(|g| *g != ActivityGroup::Communication).collect();
    let filter = TimelineFilter { customer_visible_only: true, groups, ..Default::default() };
    let activity = crate::timeline::entries(db, ctx, EntityRef::new(EntityType::Customer, customer.id.0), filter, i64::from(SHOWN)).await?;
    let (messages, files) = {
        let mut conn = db.read().await?;
        let h = &mut conn.handle();
        let messages = crate::messages::customer_visible(h, ctx, customer.id.0, i64::from(SHOWN)).await?;
        (messages, crate::files::customer_visible(h, ctx, customer.id.0, i64::from(SHOWN)).await?)
    };
    Ok(PortalView {
        org_name: ctx.org.name.clone(),
        org_address: ctx.org.address.clone(),
        money: ctx.org.money_style(),
        date_format: ctx.org.date_format,
        has_logo: crate::orgs::has_logo(db, ctx.org.id).await?,
        zone: ctx.org.zone(),
        customer,
        billing_address,
        open_invoices,
        past_invoices,
        balance,
        messages,
        files,
        activity,
        expires_at: visitor.expires_at,
    })
}

/// The customer's billing address: their active billing site, if any.
fn billing_site(sites: Vec<Site>) -> Option<Site> {
    sites.into_iter().find(|s| s.profile.kind == SiteKind::Billing && s.profile.active)
}

/// The customer's statement as of today, as a PDF.
pub async fn statement_pdf(db: &Db, visitor: &Visitor) -> Result<Vec<u8>> {
    statement::statement_pdf(db, &visitor.ctx, &visitor.customer, StatementQuery::default()).await
}

/// One of the customer's own invoices as a PDF (never a draft or a void one,
/// nor anyone else's: those are not found).
pub async fn invoice_pdf(db: &Db, visitor: &Visitor, reference: &str) -> Result<Vec<u8>> {
    let not_found = || ServiceError::NotFound("invoice");
    let invoice = billing::get_invoice(db, &visitor.ctx, reference).await.map_err(|_| not_found())?;
    if invoice.customer_id.0.to_string() != visitor.customer || matches!(invoice.state, InvoiceState::Draft | InvoiceState::Void) {
        return Err(not_found());
    }
    crate::documents::invoice_pdf(db, &visitor.ctx, &invoice.id.to_string()).await
}

/// A file the customer may download (on a customer-visible message or
/// shared on their invoice), with its content; 404 for any other.
pub async fn file(db: &Db, files: &crate::files::Files, visitor: &Visitor, id: &str) -> Result<(StoredFile, crate::files::BlobContent)> {
    let customer = Uuid::parse_str(&visitor.customer).map_err(|_| ServiceError::NotFound("file"))?;
    crate::files::open_customer_visible(db, files, &visitor.ctx, customer, id).await
}

/// The billing-address form.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AddressForm {
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub town: Option<String>,
    pub postcode: Option<String>,
    pub country: Option<String>,
}

/// An optional form field: blank clears it.
fn patch_of(value: Option<String>) -> Patch<String> {
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if !v.is_empty() => Patch::Set(v),
        _ => Patch::Clear,
    }
}

/// Set the customer's billing address: their billing site is changed, or
/// added if they have none, in one transaction, by the customer.
pub async fn update_billing_address(db: &Db, visitor: &Visitor, form: AddressForm) -> Result<Site> {
    let ctx = &visitor.ctx;
    let current = billing_site(sites::list_sites(db, ctx, &visitor.customer).await?);
    let mut tx = db.begin().await?;
    let site = match current {
        Some(site) => {
            let patch = SitePatch {
                address_line1: patch_of(form.address_line1),
                address_line2: patch_of(form.address_line2),
                town: patch_of(form.town),
                postcode: patch_of(form.postcode),
                country: match patch_of(form.country) {
                    Patch::Clear => Patch::Keep,
                    set => set,
                },
                ..Default::default()
            };
            sites::update_site_in(&mut tx, ctx, &site.id.0.to_string(), patch).await?
        }
        None => {
            let input = SiteInput {
                kind: Some(SiteKind::Billing),
                address_line1: form.address_line1,
                address_line2: form.address_line2.filter(|v| !v.trim().is_empty()),
                town: form.town.filter(|v| !v.trim().is_empty()),
                postcode: form.postcode,
                country: form.country.filter(|v| !v.trim().is_empty()),
                ..Default::default()
            };
            // The business's own site fields are not the customer's to fill.
            let profile = input.parse(ctx.org.region, &Default::default())?;
            let customer = Uuid::parse_str(&visitor.customer).map_err(|e| ServiceError::Internal(e.to_string()))?;
            sites::add_site_in(&mut tx, ctx, CustomerId(customer), profile).await?
        }
    };
    tx.commit().await?;
    Ok(site)
}

/// The contact-details form.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ContactForm {
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// Set the customer's email and phone, by the customer.
pub async fn update_contact_details(db: &Db, visitor: &Visitor, form: ContactForm) -> Result<Customer> {
    let patch = CustomerPatch { email: patch_of(form.email), phone: patch_of(form.phone), ..Default::default() };
    customers::update_customer(db, &visitor.ctx, &visitor.customer, patch).await
}

/// The reply form.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ReplyForm {
    pub body: Option<String>,
}

/// A message from the customer, through the portal: seen by them and by
/// staff, recorded with the customer as the actor.
pub async fn reply(db: &Db, visitor: &Visitor, form: ReplyForm) -> Result<Message> {
    let input = MessageInput {
        channel: Some(Channel::Portal),
        direction: Some(Direction::Inbound),
        visibility: Some(Visibility::Customer),
        body: form.body,
        ..Default::default()
    };
    crate::messages::post_message(db, &visitor.ctx, &visitor.customer, input).await
}

/// What the customer sees in their portal, for staff ("view as the
/// customer"): the same view, built by the same code, for a member of
/// staff who may see the customer's invoices and messages.
pub async fn view_as_customer(db: &Db, ctx: &Ctx, customer: &str) -> Result<PortalView> {
    ctx.require(Module::Customers, Action::View)?;
    ctx.require(Module::Invoices, Action::View)?;
    ctx.require(Module::Messages, Action::View)?;
    let row = {
        let mut conn = db.read().await?;
        customers::find(&mut conn.handle(), ctx, customer).await?
    };
    let actor = Actor { kind: ActorType::Customer, id: Some(row.id), name: format!("{} (via portal)", row.display_name) };
    let visitor = Visitor { ctx: Ctx::new(ctx.org.clone(), actor, None, None), customer: row.id.to_string(), expires_at: ctx.now() };
    view(db, &visitor).await
}

/// The logo of the org whose portal the visitor opened.
pub async fn logo(db: &Db, visitor: &Visitor) -> Result<Option<dossier_store::LogoRow>> {
    crate::orgs::logo(db, visitor.ctx.org.id).await
}
