//! Staff users: adding and inviting them, changing their role, deactivating
//! them. Each change is an org-level activity about the user.

use dossier_domain::ValidationErrors;
use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
use dossier_domain::contact_point::Email;
use dossier_domain::diff::FieldChange;
use dossier_domain::ids::UserId;
use dossier_domain::permissions::{Action, Module};
use dossier_domain::role::Role;
use dossier_domain::sending::email::MailServer;
use dossier_domain::text;
use dossier_store::queries as q;
use dossier_store::{Db, Handle, Tx, UserRow};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::record::activity;
use crate::secrets::{self, SecretKind};
use crate::{Ctx, Org, Result, ServiceError, orgs};

pub use crate::secrets::ARGON2_PARAMS;

/// Minimum length of a password.
pub const MIN_PASSWORD: usize = 12;

/// How long an invitation can be accepted.
pub const INVITATION_DAYS: i64 = 7;

pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: String,
}

/// A staff user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Deactivated users cannot sign in; their tokens and sessions are revoked.
    pub active: bool,
    /// Invited but no password set yet.
    pub invited: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl User {
    pub(crate) fn from_row(row: UserRow) -> Result<Self> {
        let role = Role::parse(&row.role).ok_or_else(|| ServiceError::Internal(format!("unknown role {}", row.role)))?;
        let created_at = crate::record::timestamp(row.created_at)?;
        Ok(User { id: UserId(row.id), email: row.email, name: row.name, role, active: row.active, invited: row.password_hash.is_none(), created_at })
    }
}

fn parse_role(errors: &mut ValidationErrors, text: &str) -> Option<Role> {
    let role = Role::parse(text.trim());
    if role.is_none() {
        let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        errors.push("role", "unknown_value", format!("must be one of {}", roles.join(", ")));
    }
    role
}

pub(crate) fn check_password(errors: &mut ValidationErrors, password: &str) {
    if password.chars().count() < MIN_PASSWORD {
        errors.push("password", "too_short", format!("must be at least {MIN_PASSWORD} characters"));
    }
}

/// Only an owner hands out or takes away the owner role.
fn check_may_grant(ctx: &Ctx, from: Option<Role>, to: Role) -> Result<()> {
    let touches_owner = to == Role::Owner || from == Some(Role::Owner);
    if touches_owner && ctx.role.is_some_and(|r| r != Role::Owner) {
        return Err(ServiceError::Forbidden { module: Module::Users.as_str(), action: "grant or remove the owner role" });
    }
    Ok(())
}

fn user_subject(row: &UserRow) -> EntityRef {
    EntityRef::new(EntityType::User, row.id)
}

pub async fn add_user(db: &Db, ctx: &Ctx, input: NewUser) -> Result<User> {
    ctx.require(Module::Users, Action::Create)?;
    let mut tx = db.begin().await?;
    let user = add_user_in(&mut tx, ctx, input).await?;
    tx.commit().await?;
    Ok(user)
}

/// Add a staff user with a password to the caller's org (operators, tests).
pub async fn add_user_in(tx: &mut Tx, ctx: &Ctx, input: NewUser) -> Result<User> {
    let mut errors = ValidationErrors::default();
    check_password(&mut errors, &input.password);
    let (row, role) = new_user_row(tx, ctx, errors, &input.email, input.name, &input.role).await?;
    let row = UserRow { password_hash: Some(secrets::hash_password(input.password).await?), ..row };
    let h = &mut tx.handle();
    q::insert_user(h, &row).await?;
    let summary = format!("User {} <{}> added as {}", row.name, row.email, role);
    tx.append(activity(ctx, ActivityKind::UserCreated, None, user_subject(&row), Some(row.email.clone()), summary, creation_changes(&row))).await?;
    User::from_row(row)
}

/// A validated row for a new user (no password yet), or every problem found.
async fn new_user_row(tx: &mut Tx, ctx: &Ctx, mut errors: ValidationErrors, email: &str, name: String, role: &str) -> Result<(UserRow, Role)> {
    let email = errors.take(Email::parse("email", email));
    let name = errors.take(text::required("name", Some(name), 100));
    let role = parse_role(&mut errors, role);
    let (Some(email), Some(name), Some(role)) = (email, name, role) else { return Err(errors.into()) };
    errors.into_result(|| ())?;
    check_may_grant(ctx, None, role)?;
    if q::find_user_by_email(&mut tx.handle(), ctx.org.id.0, email.as_str()).await?.is_some() {
        return Err(ValidationErrors::one("email", "taken", "a user with this email already exists").into());
    }
    let row = UserRow {
        org_id: ctx.org.id.0,
        id: UserId::new().0,
        email: email.as_str().to_owned(),
        name,
        role: role.as_str().to_owned(),
        password_hash: None,
        active: true,
        created_at: ctx.now().as_microsecond(),
    };
    Ok((row, role))
}

fn creation_changes(row: &UserRow) -> Vec<FieldChange> {
    vec![
        FieldChange { field: "email".into(), old: json!(null), new: json!(row.email) },
        FieldChange { field: "name".into(), old: json!(null), new: json!(row.name) },
        FieldChange { field: "role".into(), old: json!(null), new: json!(row.role) },
    ]
}

/// Body of `POST /users`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteInput {
    pub email: String,
    pub name: String,
    /// owner, admin, office, finance, sales, support or fieldworker.
    pub role: String,
    /// Email the invitation to them (needs an outgoing mail server); the
    /// answer then holds no token: only the invitee gets the link.
    #[serde(default)]
    pub send_email: bool,
}

/// An invited user and, unless it is emailed to them, the secret that lets
/// them set a password: shown once.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    pub user: User,
    /// Give this to the invitee (`POST /session/invitation` with a
    /// password). Absent when the invitation is emailed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation_token: Option<String>,
    /// Absent when the invitation is emailed: it runs seven days from the sending.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// Whether it is being emailed to the invitee (`user.invitation_sent`
    /// is recorded when it leaves).
    pub emailed: bool,
}

/// Invite a staff user: they exist from now (and can be assigned work) and
/// set their own password with the invitation within seven days. With
/// `send_email` the invitation is emailed to them by the background worker
/// ([`crate::invitations`]); refused (`no_mail_server`) when the org has no
/// outgoing mail server.
pub async fn invite_user(db: &Db, ctx: &Ctx, configured: Option<&MailServer>, input: InviteInput) -> Result<Invitation> {
    ctx.require(Module::Users, Action::Create)?;
    let mut tx = db.begin().await?;
    let (row, role) = new_user_row(&mut tx, ctx, ValidationErrors::default(), &input.email, input.name, &input.role).await?;
    if input.send_email && crate::sending::smtp::server_for(&mut tx.handle(), ctx.org.id.0, configured).await?.is_none() {
        return Err(ServiceError::conflict(
            "no_mail_server",
            "no outgoing mail server is set to email the invitation: an admin sets one under Settings → Email",
        ));
    }
    q::insert_user(&mut tx.handle(), &row).await?;
    let (token, expires_at) = match input.send_email {
        true => {
            crate::invitations::enqueue_email_in(&mut tx, ctx, &row).await?;
            (None, None)
        }
        false => {
            let secret = secrets::issue(SecretKind::Invitation, ctx.org.id.0);
            let expires_at = ctx.now() + SignedDuration::from_hours(24 * INVITATION_DAYS);
            q::set_invite(&mut tx.handle(), row.org_id, row.id, &secret.hash, expires_at.as_microsecond()).await?;
            (Some(secret.text), Some(expires_at))
        }
    };
    let summary = format!("{} invited {} <{}> as {}", ctx.actor.name, row.name, row.email, role);
    let mut entry = activity(ctx, ActivityKind::UserInvited, None, user_subject(&row), Some(row.email.clone()), summary, creation_changes(&row));
    if input.send_email {
        entry.detail = json!({ "emailed": true });
    }
    tx.append(entry).await?;
    tx.commit().await?;
    Ok(Invitation { user: User::from_row(row)?, invitation_token: token, expires_at, emailed: input.send_email })
}

/// Body of `POST /session/invitation`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    pub token: String,
    /// At least 12 characters.
    pub password: String,
}

/// Set the invited user's password; the invitation is then used up. An
/// unknown, used or expired invitation is one 404.
pub async fn accept_invitation(db: &Db, input: AcceptInvitation) -> Result<User> {
    let mut errors = ValidationErrors::default();
    check_password(&mut errors, &input.password);
    errors.into_result(|| ())?;
    let (org_id, hash) = secrets::read(SecretKind::Invitation, &input.token).ok_or(ServiceError::NotFound("invitation"))?;
    let password_hash = secrets::hash_password(input.password).await?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let now = Timestamp::now();
    let row = q::find_invited(h, org_id, &hash, now.as_microsecond()).await?.ok_or(ServiceError::NotFound("invitation"))?;
    q::set_password(h, org_id, row.id, &password_hash).await?;
    let ctx = as_user(orgs::load(h, org_id).await?, &row);
    let summary = format!("{} accepted the invitation and set a password", row.name);
    tx.append(activity(&ctx, ActivityKind::UserPasswordSet, None, user_subject(&row), Some(row.email.clone()), summary, Vec::new())).await?;
    tx.commit().await?;
    User::from_row(UserRow { password_hash: Some(password_hash), ..row })
}

/// The context of a user acting for themselves (signing in, accepting).
pub(crate) fn as_user(org: Org, row: &UserRow) -> Ctx {
    let actor = dossier_domain::activity::Actor { kind: dossier_domain::activity::ActorType::User, id: Some(row.id), name: row.name.clone() };
    Ctx::new(org, actor, Some(UserId(row.id)), Role::parse(&row.role))
}

/// The org's active users' ids and names, by name: whom work can be given
/// to (callers check their own permission first).
pub(crate) async fn active_names(db: &Db, ctx: &Ctx) -> Result<Vec<(UserId, String)>> {
    let mut conn = db.read().await?;
    let users = q::list_users(&mut conn.handle(), ctx.org.id.0).await?;
    Ok(users.into_iter().filter(|u| u.active).map(|u| (UserId(u.id), u.name)).collect())
}

/// Every user of the org by name, those no longer active too (old records
/// still name them), and whether each is active.
pub(crate) async fn all_names(db: &Db, ctx: &Ctx) -> Result<Vec<(UserId, String, bool)>> {
    let mut conn = db.read().await?;
    let users = q::list_users(&mut conn.handle(), ctx.org.id.0).await?;
    Ok(users.into_iter().map(|u| (UserId(u.id), u.name, u.active)).collect())
}

/// The org's users, by name.
pub async fn list_users(db: &Db, ctx: &Ctx) -> Result<Vec<User>> {
    ctx.require(Module::Users, Action::View)?;
    let mut conn = db.read().await?;
    q::list_users(&mut conn.handle(), ctx.org.id.0).await?.into_iter().map(User::from_row).collect()
}

pub(crate) async fn find(h: &mut Handle<'_>, ctx: &Ctx, id: &str) -> Result<UserRow> {
    let id = Uuid::parse_str(id).map_err(|_| ServiceError::NotFound("user"))?;
    q::get_user(h, ctx.org.id.0, id).await?.ok_or(ServiceError::NotFound("user"))
}

pub async fn get_user(db: &Db, ctx: &Ctx, id: &str) -> Result<User> {
    ctx.require(Module::Users, Action::View)?;
    let mut conn = db.read().await?;
    User::from_row(find(&mut conn.handle(), ctx, id).await?)
}

/// Body of `PATCH /users/{id}`: what to change.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<String>,
    /// `false` deactivates (revoking their tokens and sessions), `true` reactivates.
    pub active: Option<bool>,
}

/// Rename a user, change their role, deactivate or reactivate them. Nobody
/// changes their own role or deactivates themselves (the org would risk
/// having no administrator left).
pub async fn update_user(db: &Db, ctx: &Ctx, id: &str, patch: UserPatch) -> Result<User> {
    ctx.require(Module::Users, Action::Edit)?;
    let mut errors = ValidationErrors::default();
    let name = patch.name.and_then(|n| errors.take(text::required("name", Some(n), 100)));
    let role = patch.role.as_deref().and_then(|r| parse_role(&mut errors, r));
    errors.into_result(|| ())?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let old = find(h, ctx, id).await?;
    let mut row = old.clone();
    let old_role = Role::parse(&old.role);
    if let Some(name) = name {
        row.name = name;
    }
    if let Some(role) = role {
        check_may_grant(ctx, old_role, role)?;
        row.role = role.as_str().to_owned();
    }
    if let Some(active) = patch.active {
        row.active = active;
    }
    let own = ctx.user_id.is_some_and(|me| me.0 == row.id);
    if own && (row.role != old.role || !row.active) {
        return Err(ServiceError::conflict("own_account", "you cannot change your own role or deactivate yourself; ask another administrator"));
    }
    q::update_user(h, &row).await?;
    if old.active && !row.active {
        q::revoke_all_of_user(h, row.org_id, row.id, ctx.now().as_microsecond()).await?;
    }
    let subject = user_subject(&row);
    let change = |field: &str, old: serde_json::Value, new: serde_json::Value| vec![FieldChange { field: field.into(), old, new }];
    let mut records = Vec::new();
    if old.name != row.name {
        let summary = format!("User {} renamed {}", old.name, row.name);
        records.push(activity(
            ctx,
            ActivityKind::UserUpdated,
            None,
            subject,
            Some(row.email.clone()),
            summary,
            change("name", json!(old.name), json!(row.name)),
        ));
    }
    if old.role != row.role {
        let summary = format!("{}'s role changed from {} to {}", row.name, old.role, row.role);
        records.push(activity(
            ctx,
            ActivityKind::UserRoleChanged,
            None,
            subject,
            Some(row.email.clone()),
            summary,
            change("role", json!(old.role), json!(row.role)),
        ));
    }
    if old.active != row.active {
        let (kind, summary) = match row.active {
            true => (ActivityKind::UserReactivated, format!("{} reactivated", row.name)),
            false => (ActivityKind::UserDeactivated, format!("{} deactivated; their tokens and sessions were revoked", row.name)),
        };
        records.push(activity(ctx, kind, None, subject, Some(row.email.clone()), summary, change("active", json!(old.active), json!(row.active))));
    }
    for record in records {
        tx.append(record).await?;
    }
    tx.commit().await?;
    User::from_row(row)
}

/// How an operator command finds its org when none is named.
pub enum OrgChoice<'a> {
    /// The only org there is.
    Existing,
    /// The only org, or a new one with this name and region if there is none.
    CreateIfNone { name: &'a str, region: &'a str },
}

/// The org an operator command acts on: the one named, or per `choice`.
pub async fn org_for_cli(db: &Db, org: Option<&str>, choice: OrgChoice<'_>) -> Result<Org> {
    match (org, choice) {
        (Some(reference), _) => orgs::find(db, reference).await,
        (None, OrgChoice::Existing) => orgs::single(db).await,
        (None, OrgChoice::CreateIfNone { name, region }) => orgs::single_or_create(db, name, region).await,
    }
}
