//! Emailing a staff invitation: the invitee gets the org's
//! `staff_invitation` template with a link to the web app's page that sets
//! their password (`/invitation?token=…`), instead of an administrator
//! copying the token to them by hand.
//!
//! The invitation's secret never waits in the task table: inviting queues
//! an [`TaskKind::InvitationEmail`] task that names only the user (and who
//! invited them), and the worker makes the secret when it sends. The email
//! goes first; then one transaction stores the secret's hash (with its
//! expiry, seven days from the sending) and records
//! `user.invitation_sent`. A worker that stops between the mail server's
//! acceptance and that commit leaves an email whose link never works; the
//! task's next attempt makes a new secret and sends a second email, whose
//! link is the one that works. Likewise an attempt that replaces an
//! invitation stored earlier makes the earlier link stop working.
//!
//! A mail server's permanent refusal (a 5xx answer) records
//! `user.invitation_failed` with the answer and ends the task; anything
//! passing is tried again, and when the task gives up it is recorded the
//! same way. An administrator can always invite again by hand.

use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
use dossier_domain::diff::FieldChange;
use dossier_domain::permissions::{Access, Action, Module};
use dossier_domain::public_url::PublicUrl;
use dossier_domain::sending::email::MailServer;
use dossier_domain::tasks::{Task, TaskKind};
use dossier_domain::templates::TemplatePurpose;
use dossier_store::queries as q;
use dossier_store::{Db, Tx, UserRow};
use jiff::SignedDuration;
use lettre::message::{Mailbox, SinglePart};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::automation::tasks::{Claimed, NewTask, SYSTEM_NAME, enqueue_in};
use crate::record::activity;
use crate::secrets::{self, SecretKind};
use crate::sending::email::Outbox;
use crate::sending::smtp::{self, SendFailure};
use crate::sending::templates::render_in;
use crate::users::INVITATION_DAYS;
use crate::{Ctx, Result, orgs};

/// What an invitation task names: never the secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Payload {
    user_id: Uuid,
    /// Who invited them: the template's `sender.name`.
    invited_by: String,
}

/// The path of the web app's page where an invitee sets their password.
pub fn accept_path(token: &str) -> String {
    format!("/invitation?token={token}")
}

/// Whether the caller's org can email invitations: it has an outgoing mail
/// server (the invite form ticks "Email the invitation" when it has).
pub async fn can_email(db: &Db, ctx: &Ctx, configured: Option<&MailServer>) -> Result<bool> {
    if ctx.access(Module::Users, Action::Create) == Access::None {
        return Ok(false);
    }
    Ok(smtp::server_for(&mut db.read().await?.handle(), ctx.org.id.0, configured).await?.is_some())
}

/// Queue the email that invites `user`, in the inviting transaction.
pub(crate) async fn enqueue_email_in(tx: &mut Tx, ctx: &Ctx, user: &UserRow) -> Result<()> {
    let payload = Payload { user_id: user.id, invited_by: ctx.actor.name.clone() };
    let task = NewTask {
        kind: TaskKind::InvitationEmail,
        payload: serde_json::to_value(payload).map_err(|e| crate::ServiceError::Internal(e.to_string()))?,
        run_at: ctx.now(),
        dedupe_key: Some(format!("invitation:{}", user.id)),
        max_attempts: None,
    };
    enqueue_in(tx, ctx, task).await?;
    Ok(())
}

fn payload_of(task: &Task) -> std::result::Result<Payload, String> {
    serde_json::from_value(task.payload.clone()).map_err(|e| format!("the task names no invited user: {e}"))
}

/// Send one invitation (the task's handler); see the module's text. A user
/// who set a password meanwhile, or was deactivated or is gone, gets nothing.
pub async fn run(db: &Db, outbox: &Outbox, public_url: &PublicUrl, task: &Claimed) -> std::result::Result<(), String> {
    let payload = payload_of(&task.task)?;
    let text = |e: crate::ServiceError| e.to_string();
    let (ctx, user, server) = {
        let mut conn = db.read().await.map_err(|e| e.to_string())?;
        let h = &mut conn.handle();
        let org = orgs::load(h, task.org_id.0).await.map_err(text)?;
        let ctx = Ctx::system(org, SYSTEM_NAME);
        let user = q::get_user(h, ctx.org.id.0, payload.user_id).await.map_err(|e| e.to_string())?;
        let server = smtp::server_for(h, ctx.org.id.0, outbox.configured.as_ref()).await.map_err(text)?;
        (ctx, user, server)
    };
    let Some(user) = user.filter(|u| u.active && u.password_hash.is_none()) else { return Ok(()) };
    let Some(server) = server else { return Err("no outgoing mail server is set: an admin sets one under Settings → Email".into()) };

    let secret = secrets::issue(SecretKind::Invitation, ctx.org.id.0);
    let expires_at = ctx.now() + SignedDuration::from_hours(24 * INVITATION_DAYS);
    let data = json!({
        "org": { "name": ctx.org.name },
        "sender": { "name": payload.invited_by },
        "invitation": { "url": public_url.link(&accept_path(&secret.text)), "role": user.role },
    });
    let rendered = {
        let mut conn = db.read().await.map_err(|e| e.to_string())?;
        render_in(&mut conn.handle(), &ctx, TemplatePurpose::StaffInvitation, &data).await.map_err(text)?
    };
    let message_id = format!("{}@{}", Uuid::now_v7(), server.domain());
    let email = match build(&server, &user, &rendered.subject, &rendered.body, &message_id) {
        Ok(email) => email,
        Err(why) => return failed(db, &ctx, &user, &why).await,
    };
    match smtp::deliver(&server, email).await {
        Ok(()) => {
            let mut tx = db.begin().await.map_err(|e| e.to_string())?;
            let h = &mut tx.handle();
            let still_invited = q::get_user(h, ctx.org.id.0, user.id).await.map_err(|e| e.to_string())?.is_some_and(|u| u.active && u.password_hash.is_none());
            if !still_invited {
                // Accepted (an earlier email's link) or deactivated while this one
                // went: its link is not stored, so it does not work.
                return Ok(());
            }
            q::set_invite(h, ctx.org.id.0, user.id, &secret.hash, expires_at.as_microsecond()).await.map_err(|e| e.to_string())?;
            let summary = format!("Invitation emailed to {} <{}>, valid until {}", user.name, user.email, expires_at.strftime("%Y-%m-%d"));
            let changes = vec![FieldChange { field: "invitation_expires_at".into(), old: json!(null), new: json!(expires_at) }];
            let mut entry = activity(&ctx, ActivityKind::UserInvitationSent, None, subject(&user), Some(user.email.clone()), summary, changes);
            entry.detail = json!({ "to": user.email, "subject": rendered.subject, "message_id": message_id, "invited_by": payload.invited_by });
            tx.append(entry).await.map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())
        }
        Err(SendFailure::Permanent(answer)) => failed(db, &ctx, &user, &answer).await,
        Err(SendFailure::Transient(answer)) => Err(answer),
    }
}

fn subject(user: &UserRow) -> EntityRef {
    EntityRef::new(EntityType::User, user.id)
}

fn build(server: &MailServer, user: &UserRow, subject: &str, body: &str, message_id: &str) -> std::result::Result<lettre::Message, String> {
    let address = |a: &str| a.parse::<lettre::Address>().map_err(|e| format!("the address {a}: {e}"));
    let from = Mailbox::new((!server.sender_name.is_empty()).then(|| server.sender_name.clone()), address(server.sender_address.as_str())?);
    lettre::Message::builder()
        .from(from)
        .to(Mailbox::new(Some(user.name.clone()), address(&user.email)?))
        .subject(subject)
        .message_id(Some(format!("<{message_id}>")))
        .singlepart(SinglePart::plain(body.to_owned()))
        .map_err(|e| format!("building the email: {e}"))
}

/// Record that the invitation could not be emailed; the task is done.
async fn failed(db: &Db, ctx: &Ctx, user: &UserRow, why: &str) -> std::result::Result<(), String> {
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    tx.append(failure_activity(ctx, user, why)).await.map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())
}

fn failure_activity(ctx: &Ctx, user: &UserRow, why: &str) -> dossier_domain::activity::NewActivity {
    let summary = format!("The invitation of {} <{}> could not be emailed: {why}", user.name, user.email);
    let mut entry = activity(ctx, ActivityKind::UserInvitationFailed, None, subject(user), Some(user.email.clone()), summary, Vec::new());
    entry.detail = json!({ "to": user.email, "error": why });
    entry
}

/// The task gave up (its last attempt failed): recorded on the user, in
/// the transaction that ends the task.
pub(crate) async fn give_up_in(tx: &mut Tx, ctx: &Ctx, task: &Task, error: &str) -> Result<()> {
    let Ok(payload) = payload_of(task) else { return Ok(()) };
    let Some(user) = q::get_user(&mut tx.handle(), ctx.org.id.0, payload.user_id).await? else { return Ok(()) };
    tx.append(failure_activity(ctx, &user, error)).await?;
    Ok(())
}
