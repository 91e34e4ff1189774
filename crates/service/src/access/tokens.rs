//! API tokens: shown once, stored hashed, scoped to a user and acting with
//! their role; listed with when they were last used; revocable.

use dossier_domain::activity::{ActivityKind, Actor, ActorType, EntityRef, EntityType};
use dossier_domain::contact_point::Email;
use dossier_domain::diff::FieldChange;
use dossier_domain::ids::{ApiTokenId, UserId};
use dossier_domain::permissions::{Access, Action, Module};
use dossier_domain::role::Role;
use dossier_domain::text;
use dossier_store::queries as q;
use dossier_store::{Db, TokenRow, Tx, Used, UserRow};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::record::{activity, timestamp};
use crate::secrets::{self, SecretKind};
use crate::{Ctx, Result, ServiceError, orgs, usage};

/// A new API token: the secret is shown once and only its hash is kept.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    pub id: ApiTokenId,
    /// Send as `Authorization: Bearer <token>`. It is not shown again.
    pub token: String,
}

/// A token as listed: never its secret.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    pub user_id: UserId,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    fn from_row(row: TokenRow) -> Result<Self> {
        Ok(ApiToken {
            id: ApiTokenId(row.id),
            name: row.name,
            user_id: UserId(row.user_id),
            created_at: timestamp(row.created_at)?,
            last_used_at: row.last_used_at.map(timestamp).transpose()?,
            revoked_at: row.revoked_at.map(timestamp).transpose()?,
        })
    }
}

/// Body of `POST /tokens`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// What the token is for, e.g. "Accounting sync".
    pub name: String,
}

/// A token for the calling user, acting with their role.
pub async fn create_own_token(db: &Db, ctx: &Ctx, input: TokenInput) -> Result<CreatedToken> {
    let user = ctx.user_id.ok_or(ServiceError::Forbidden { module: Module::Users.as_str(), action: "create a token without a user" })?;
    let mut tx = db.begin().await?;
    let owner = q::get_user(&mut tx.handle(), ctx.org.id.0, user.0).await?.ok_or(ServiceError::NotFound("user"))?;
    let token = create_in(&mut tx, ctx, &owner, &input.name).await?;
    tx.commit().await?;
    Ok(token)
}

/// A token for the user with `email` (operators).
pub async fn create_token(db: &Db, ctx: &Ctx, email: &str, name: &str) -> Result<CreatedToken> {
    ctx.require(Module::Users, Action::Edit)?;
    let mut tx = db.begin().await?;
    let token = create_token_in(&mut tx, ctx, email, name).await?;
    tx.commit().await?;
    Ok(token)
}

pub async fn create_token_in(tx: &mut Tx, ctx: &Ctx, email: &str, name: &str) -> Result<CreatedToken> {
    let email = Email::parse("email", email)?;
    let owner = q::find_user_by_email(&mut tx.handle(), ctx.org.id.0, email.as_str()).await?.ok_or(ServiceError::NotFound("user"))?;
    create_in(tx, ctx, &owner, name).await
}

async fn create_in(tx: &mut Tx, ctx: &Ctx, owner: &UserRow, name: &str) -> Result<CreatedToken> {
    let name = text::required("name", Some(name.to_owned()), 100)?;
    let secret = secrets::issue(SecretKind::ApiToken, ctx.org.id.0);
    let row = TokenRow {
        org_id: ctx.org.id.0,
        id: ApiTokenId::new().0,
        user_id: owner.id,
        name,
        token_hash: secret.hash,
        created_at: ctx.now().as_microsecond(),
        last_used_at: None,
        revoked_at: None,
    };
    q::insert_token(&mut tx.handle(), &row).await?;
    let changes = vec![FieldChange { field: "name".into(), old: json!(null), new: json!(row.name) }];
    let summary = format!("API token \"{}\" created for {}", row.name, owner.email);
    let mut record = activity(ctx, ActivityKind::ApiTokenCreated, None, EntityRef::new(EntityType::ApiToken, row.id), Some(row.name.clone()), summary, changes);
    record.also_links.push(EntityRef::new(EntityType::User, owner.id));
    tx.append(record).await?;
    Ok(CreatedToken { id: ApiTokenId(row.id), token: secret.text })
}

/// The caller's own tokens; administrators see every user's.
pub async fn list_tokens(db: &Db, ctx: &Ctx) -> Result<Vec<ApiToken>> {
    let user = match ctx.access(Module::Users, Action::View) {
        Access::All => None,
        _ => Some(ctx.user_id.map_or(Uuid::nil(), |u| u.0)),
    };
    let mut conn = db.read().await?;
    q::list_tokens(&mut conn.handle(), ctx.org.id.0, user).await?.into_iter().map(ApiToken::from_row).collect()
}

/// Revoke one of the caller's tokens (administrators: anyone's). Revoking
/// a revoked token changes nothing.
pub async fn revoke_token(db: &Db, ctx: &Ctx, id: &str) -> Result<ApiToken> {
    let id = Uuid::parse_str(id).map_err(|_| ServiceError::NotFound("token"))?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let row = q::get_token(h, ctx.org.id.0, id).await?.ok_or(ServiceError::NotFound("token"))?;
    let own = ctx.user_id.is_some_and(|u| u.0 == row.user_id);
    if !own && ctx.access(Module::Users, Action::Edit) != Access::All {
        return Err(ServiceError::NotFound("token"));
    }
    let now = ctx.now().as_microsecond();
    if q::revoke_token(h, ctx.org.id.0, id, now).await? {
        let owner = q::get_user(h, ctx.org.id.0, row.user_id).await?.ok_or(ServiceError::NotFound("user"))?;
        let summary = format!("API token \"{}\" of {} revoked", row.name, owner.email);
        let changes = vec![FieldChange { field: "revoked".into(), old: json!(false), new: json!(true) }];
        let mut record =
            activity(ctx, ActivityKind::ApiTokenRevoked, None, EntityRef::new(EntityType::ApiToken, row.id), Some(row.name.clone()), summary, changes);
        record.also_links.push(EntityRef::new(EntityType::User, owner.id));
        tx.append(record).await?;
    }
    let row = q::get_token(&mut tx.handle(), ctx.org.id.0, id).await?.ok_or(ServiceError::NotFound("token"))?;
    tx.commit().await?;
    ApiToken::from_row(row)
}

/// The caller a bearer token stands for, or `Unauthenticated` for any
/// token that is malformed, unknown, revoked or whose user is inactive.
pub async fn authenticate(db: &Db, token: &str) -> Result<Ctx> {
    let (org_id, hash) = secrets::read(SecretKind::ApiToken, token).ok_or(ServiceError::Unauthenticated)?;
    let holder = q::find_token_holder(&mut db.read().await?.handle(), org_id, &hash).await?.filter(|h| h.user.active).ok_or(ServiceError::Unauthenticated)?;
    let org = orgs::org_of(&holder.org.into_row(org_id))?;
    let now = Timestamp::now();
    usage::note(db, Used::Token, org_id, holder.token_id, holder.token_last_used_at, now.as_microsecond()).await?;
    let user = holder.user;
    let actor = Actor { kind: ActorType::Api, id: Some(user.id), name: user.name };
    Ok(Ctx::new(org, actor, Some(UserId(user.id)), Role::parse(&user.role)))
}
