//! The org's outgoing mail server: its settings (owners and admins), and
//! handing a finished email to it.
//!
//! An org without settings of its own uses the installation's server
//! (`DOSSIER_SMTP_URL`), if one is configured. The password is written,
//! never read back: what is shown says only whether one is set, and the
//! activity that records a change names the fields that changed without it.

use std::time::Duration;

use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
use dossier_domain::contact_point::Email;
use dossier_domain::diff::FieldChange;
use dossier_domain::permissions::{Action, Module};
pub use dossier_domain::sending::email::{MailServer, MailServerInput, MailSettings, Secret, TlsMode};
use dossier_store::queries as q;
use dossier_store::{Db, Handle, SmtpRow};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::json;

use crate::record::activity;
use crate::{Ctx, Result, ServiceError};

/// How long a connection to the mail server, and each exchange on it, may take.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

fn server_of(row: SmtpRow) -> Result<MailServer> {
    let corrupt = |what: &str| ServiceError::Internal(format!("the org's mail server settings have a bad {what}"));
    Ok(MailServer {
        sender_name: row.sender_name,
        sender_address: Email::parse("sender_address", &row.sender_address).map_err(|_| corrupt("sender address"))?,
        host: row.host,
        port: u16::try_from(row.port).map_err(|_| corrupt("port"))?,
        tls: TlsMode::parse(&row.tls).ok_or_else(|| corrupt("TLS mode"))?,
        username: row.username,
        password: row.password.map(Secret::new),
    })
}

/// The org's own server, if it set one.
pub(crate) async fn org_server(h: &mut Handle<'_>, org: uuid::Uuid) -> Result<Option<MailServer>> {
    q::get_smtp(h, org).await?.map(server_of).transpose()
}

/// The server the org's email goes through: its own, else the configured
/// one; `None` when neither is set.
pub(crate) async fn server_for(h: &mut Handle<'_>, org: uuid::Uuid, configured: Option<&MailServer>) -> Result<Option<MailServer>> {
    Ok(org_server(h, org).await?.or_else(|| configured.cloned()))
}

/// The org's mail server settings (owners and admins), never the password.
pub async fn settings(db: &Db, ctx: &Ctx, configured: Option<&MailServer>) -> Result<MailSettings> {
    ctx.require(Module::Settings, Action::Edit)?;
    let own = org_server(&mut db.read().await?.handle(), ctx.org.id.0).await?;
    Ok(match (own, configured) {
        (Some(own), _) => MailSettings::of("org", Some(&own)),
        (None, Some(configured)) => MailSettings::of("configured", Some(configured)),
        (None, None) => MailSettings::of("none", None),
    })
}

/// Set the org's mail server (owners and admins). The password is
/// write-only: left out, the stored one stays; `""` removes it. The
/// activity names what changed; for the password only that it changed.
pub async fn update_settings(db: &Db, ctx: &Ctx, input: MailServerInput) -> Result<MailSettings> {
    ctx.require(Module::Settings, Action::Edit)?;
    let mut tx = db.begin().await?;
    q::lock_org(&mut tx.handle(), ctx.org.id.0).await?;
    let before = org_server(&mut tx.handle(), ctx.org.id.0).await?;
    let server = input.check(before.as_ref().and_then(|b| b.password.clone()))?;
    let row = SmtpRow {
        org_id: ctx.org.id.0,
        sender_name: server.sender_name.clone(),
        sender_address: server.sender_address.as_str().to_owned(),
        host: server.host.clone(),
        port: i32::from(server.port),
        tls: server.tls.as_str().to_owned(),
        username: server.username.clone(),
        password: server.password.as_ref().map(|p| p.expose().to_owned()),
        updated_at: ctx.now().as_microsecond(),
    };
    q::put_smtp(&mut tx.handle(), &row).await?;
    let old = serde_json::to_value(MailSettings::of("org", before.as_ref())).unwrap_or_default();
    let new = serde_json::to_value(MailSettings::of("org", Some(&server))).unwrap_or_default();
    let mut changes = dossier_domain::diff::diff(&old, &new);
    changes.retain(|c| c.field != "password_set" && c.field != "source");
    let password_changed = before.as_ref().map(|b| &b.password) != Some(&server.password);
    if password_changed {
        // That it changed, never what it is.
        changes.push(FieldChange { field: "password".into(), old: json!(null), new: json!("(changed)") });
    }
    if !changes.is_empty() {
        let fields: Vec<String> = changes.iter().map(|c| c.field.replace('_', " ")).collect();
        let summary = format!("Email settings changed by {}: {}", ctx.actor.name, fields.join(", "));
        tx.append(activity(ctx, ActivityKind::OrgSettingsChanged, None, EntityRef::new(EntityType::Org, ctx.org.id.0), None, summary, changes)).await?;
    }
    tx.commit().await?;
    Ok(MailSettings::of("org", Some(&server)))
}

/// Why a mail server did not take an email.
#[derive(Debug)]
pub enum SendFailure {
    /// It refused it for good (a 5xx answer): trying again would not help.
    Permanent(String),
    /// It could not take it now (a 4xx answer, no connection, a timeout).
    Transient(String),
}

/// Hand `email` to `server`, over the TLS its settings name.
pub async fn deliver(server: &MailServer, email: lettre::Message) -> std::result::Result<(), SendFailure> {
    let tls = |host: &str| TlsParameters::new(host.to_owned()).map_err(|e| SendFailure::Permanent(format!("TLS set-up for {host}: {e}")));
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host.as_str())
        .port(server.port)
        .timeout(Some(SMTP_TIMEOUT))
        .hello_name(ClientId::Domain(server.domain().to_owned()));
    builder = match server.tls {
        TlsMode::None => builder.tls(Tls::None),
        TlsMode::Starttls => builder.tls(Tls::Required(tls(&server.host)?)),
        TlsMode::Tls => builder.tls(Tls::Wrapper(tls(&server.host)?)),
    };
    if let (Some(user), Some(password)) = (&server.username, &server.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    let transport: AsyncSmtpTransport<Tokio1Executor> = builder.build();
    match transport.send(email).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(SendFailure::Permanent(answer(&e))),
        Err(e) => Err(SendFailure::Transient(answer(&e))),
    }
}

/// The server's answer, or what went wrong on the way, in one line.
fn answer(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}
