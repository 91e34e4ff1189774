//! Users, API tokens and authenticating a bearer token.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dossier_domain::ValidationErrors;
use dossier_domain::activity::{ActivityKind, Actor, ActorType, EntityRef, EntityType};
use dossier_domain::contact_point::Email;
use dossier_domain::diff::FieldChange;
use dossier_domain::ids::{ApiTokenId, UserId};
use dossier_domain::permissions::{Action, Module};
use dossier_domain::role::Role;
use dossier_domain::text;
use dossier_store::queries as q;
use dossier_store::{Db, TokenRow, Tx, UserRow};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::record::activity;
use crate::{Ctx, Org, Result, ServiceError, orgs};

/// argon2id with OWASP's recommended minimum: 19 MiB, 2 passes, 1 lane.
pub const ARGON2_PARAMS: (u32, u32, u32) = (19 * 1024, 2, 1);

/// Minimum length of a password.
pub const MIN_PASSWORD: usize = 12;

pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: String,
}

/// A user as shown to operators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
}

fn hash_password(password: &str) -> Result<String> {
    let (m, t, p) = ARGON2_PARAMS;
    let params = Params::new(m, t, p, None).map_err(|e| ServiceError::Internal(format!("password hashing failed: {e}")))?;
    let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes())
        .map_err(|e| ServiceError::Internal(format!("password hashing failed: {e}")))?;
    Ok(hash.to_string())
}

pub async fn add_user(db: &Db, ctx: &Ctx, input: NewUser) -> Result<User> {
    ctx.require(Module::Users, Action::Create)?;
    let mut tx = db.begin().await?;
    let user = add_user_in(&mut tx, ctx, input).await?;
    tx.commit().await?;
    Ok(user)
}

/// Add a staff user to the caller's org.
pub async fn add_user_in(tx: &mut Tx, ctx: &Ctx, input: NewUser) -> Result<User> {
    let mut errors = ValidationErrors::default();
    let email = errors.take(Email::parse("email", &input.email));
    let name = errors.take(text::required("name", Some(input.name), 100));
    let role = Role::parse(input.role.trim());
    if role.is_none() {
        let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        errors.push("role", "unknown_value", format!("must be one of {}", roles.join(", ")));
    }
    if input.password.chars().count() < MIN_PASSWORD {
        errors.push("password", "too_short", format!("must be at least {MIN_PASSWORD} characters"));
    }
    let (Some(email), Some(name), Some(role)) = (email, name, role) else { return Err(errors.into()) };
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let h = &mut tx.handle();
    if q::find_user_by_email(h, ctx.org.id.0, email.as_str()).await?.is_some() {
        return Err(ValidationErrors::one("email", "taken", "a user with this email already exists").into());
    }
    let row = UserRow {
        org_id: ctx.org.id.0,
        id: UserId::new().0,
        email: email.as_str().to_owned(),
        name,
        role: role.as_str().to_owned(),
        password_hash: Some(hash_password(&input.password)?),
        active: true,
        created_at: ctx.now().as_microsecond(),
    };
    q::insert_user(h, &row).await?;
    let changes = vec![
        FieldChange { field: "email".into(), old: json!(null), new: json!(row.email) },
        FieldChange { field: "name".into(), old: json!(null), new: json!(row.name) },
        FieldChange { field: "role".into(), old: json!(null), new: json!(row.role) },
    ];
    let summary = format!("User {} <{}> added as {}", row.name, row.email, row.role);
    tx.append(activity(ctx, ActivityKind::UserCreated, None, EntityRef::new(EntityType::User, row.id), Some(row.email.clone()), summary, changes)).await?;
    Ok(User { id: UserId(row.id), email: row.email, name: row.name, role })
}

/// A new API token: the secret is shown once and only its hash is kept.
pub struct CreatedToken {
    pub id: ApiTokenId,
    pub token: String,
}

const TOKEN_PREFIX: &str = "dsr";

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Create an API token for the user with `email`. The token names its org
/// (`dsr_<org>_<secret>`), so it is looked up by an org-led index.
pub async fn create_token(db: &Db, ctx: &Ctx, email: &str, name: &str) -> Result<CreatedToken> {
    ctx.require(Module::Users, Action::Edit)?;
    let mut tx = db.begin().await?;
    let token = create_token_in(&mut tx, ctx, email, name).await?;
    tx.commit().await?;
    Ok(token)
}

pub async fn create_token_in(tx: &mut Tx, ctx: &Ctx, email: &str, name: &str) -> Result<CreatedToken> {
    let email = Email::parse("email", email)?;
    let name = text::required("name", Some(name.to_owned()), 100)?;
    let h = &mut tx.handle();
    let user = q::find_user_by_email(h, ctx.org.id.0, email.as_str()).await?.ok_or(ServiceError::NotFound("user"))?;
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let token = format!("{TOKEN_PREFIX}_{}_{}", ctx.org.id.0.simple(), URL_SAFE_NO_PAD.encode(secret));
    let row = TokenRow {
        org_id: ctx.org.id.0,
        id: ApiTokenId::new().0,
        user_id: user.id,
        name,
        token_hash: token_hash(&token),
        created_at: ctx.now().as_microsecond(),
        last_used_at: None,
        revoked_at: None,
    };
    q::insert_token(h, &row).await?;
    let changes = vec![FieldChange { field: "name".into(), old: json!(null), new: json!(row.name) }];
    let summary = format!("API token \"{}\" created for {}", row.name, user.email);
    let mut record = activity(ctx, ActivityKind::ApiTokenCreated, None, EntityRef::new(EntityType::ApiToken, row.id), Some(row.name.clone()), summary, changes);
    record.also_links.push(EntityRef::new(EntityType::User, user.id));
    tx.append(record).await?;
    Ok(CreatedToken { id: ApiTokenId(row.id), token })
}

/// The caller a bearer token stands for, or `Unauthenticated` for any
/// token that is malformed, unknown, revoked or whose user is inactive.
pub async fn authenticate(db: &Db, token: &str) -> Result<Ctx> {
    let org_id = token
        .strip_prefix(TOKEN_PREFIX)
        .and_then(|rest| rest.strip_prefix('_'))
        .and_then(|rest| rest.split_once('_'))
        .and_then(|(org, _)| Uuid::try_parse(org).ok())
        .ok_or(ServiceError::Unauthenticated)?;
    let hash = token_hash(token);
    let (org, token_row, user) = {
        let mut conn = db.read().await?;
        let h = &mut conn.handle();
        let token_row = q::find_token(h, org_id, &hash).await?.ok_or(ServiceError::Unauthenticated)?;
        let user = q::get_user(h, org_id, token_row.user_id).await?.filter(|u| u.active).ok_or(ServiceError::Unauthenticated)?;
        (orgs::load(h, org_id).await?, token_row, user)
    };
    let now = jiff::Timestamp::now();
    if token_row.last_used_at.is_none_or(|at| at < now.as_microsecond() - 60_000_000) {
        let mut tx = db.begin().await?;
        q::touch_token(&mut tx.handle(), org_id, token_row.id, now.as_microsecond()).await?;
        tx.commit().await?;
    }
    let role = Role::parse(&user.role);
    let actor = Actor { kind: ActorType::Api, id: Some(user.id), name: user.name };
    Ok(Ctx::new(org, actor, Some(UserId(user.id)), role))
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
