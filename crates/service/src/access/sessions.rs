//! Signing in with email and password, the sessions that follow, and the
//! throttle on failed attempts.
//!
//! Failures are counted per account (the email given, whether or not a user
//! has it) and per client address. Each failure is answered a little later
//! than the one before; past a limit the account or address is locked out
//! for a while. No answer differs between an unknown email and a wrong
//! password. Sign-ins, failures, lockouts and sign-outs of known users are
//! org-level activities.

use std::time::Duration;

use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
use dossier_domain::ids::SessionId;
use dossier_store::queries as q;
use dossier_store::{Db, SessionRow, Used, UserRow};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::record::{activity, with_detail};
use crate::secrets::{self, SecretKind};
use crate::users::{User, as_user};
use crate::{Ctx, Result, ServiceError, orgs, usage};

/// A session ends this long after its last use...
pub const IDLE_LIMIT: SignedDuration = SignedDuration::from_hours(8);
/// ...and this long after sign-in, whatever its use.
pub const ABSOLUTE_LIMIT: SignedDuration = SignedDuration::from_hours(24 * 7);

/// Failures are counted over this window.
pub const FAILURE_WINDOW: SignedDuration = SignedDuration::from_mins(15);
/// Failures of one account within the window that lock it out.
pub const ACCOUNT_FAILURES: i64 = 5;
/// Failures from one address within the window that lock it out.
pub const ADDRESS_FAILURES: i64 = 20;
/// How long a lockout lasts.
pub const LOCKOUT: SignedDuration = SignedDuration::from_mins(15);

/// The delay before answering the `n`th failure: 100 ms, doubling, at most 2 s.
pub fn failure_delay(n: i64) -> Duration {
    Duration::from_millis((100u64 << n.clamp(1, 6).saturating_sub(1)).min(2_000))
}

/// Body of `POST /session`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

/// Where a sign-in comes from.
#[derive(Clone, Debug, Default)]
pub struct Client {
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// A new session: the cookie value is given once.
pub struct Started {
    pub cookie: String,
    pub session: SessionInfo,
}

/// The signed-in user and their session.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub user: User,
    pub org_name: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

/// A counter an attempt is counted against, with its limit.
struct Throttle {
    key: String,
    limit: i64,
}

/// The account's counter first, then the address's if it is known.
fn throttles(email: &str, address: Option<&str>) -> Vec<Throttle> {
    let account = Throttle { key: account_key(email), limit: ACCOUNT_FAILURES };
    let address = address.map(|a| Throttle { key: address_key(a), limit: ADDRESS_FAILURES });
    [Some(account), address].into_iter().flatten().collect()
}

/// Locked out until `until` (microseconds), from `now`: the seconds left,
/// rounded up.
fn locked_out(until: i64, now: i64) -> ServiceError {
    ServiceError::TooManyAttempts { seconds: ((until - now).max(1) as u64).div_ceil(1_000_000) }
}

/// Sign in: a session for the active user with this email and password.
///
/// The attempt is counted against the account and the address *before* any
/// password is checked, each in one atomic statement: however many attempts
/// arrive at once, at most the limit of them are ever checked in a window,
/// and the others are refused without hashing. A success takes its count
/// back. Checking a password costs 19 MiB of memory, so at most
/// [`secrets::HASHING_PERMITS`] are checked at once; an attempt that finds
/// no free slot soon is answered "busy" and not counted.
pub async fn sign_in(db: &Db, input: SignIn, client: Client) -> Result<Started> {
    let now = Timestamp::now();
    let throttles = throttles(&input.email, client.address.as_deref());
    let counts = count(db, &throttles, now).await?;
    let locked = counts.iter().filter_map(|c| c.locked_until).max();
    if throttles.iter().zip(&counts).any(|(t, c)| c.failures > t.limit) {
        return Err(locked_out(locked.unwrap_or(now.as_microsecond() + LOCKOUT.as_micros() as i64), now.as_microsecond()));
    }
    let Some(permit) = secrets::hashing_permit().await else {
        uncount(db, &throttles).await?;
        return Err(ServiceError::Busy { retry_after_secs: 1 });
    };
    let users = q::active_users_by_email(&mut db.read().await?.handle(), &input.email.trim().to_lowercase()).await?;
    // One email may belong to users of several orgs: the password decides.
    let mut matched = None;
    for user in users.iter().filter(|u| u.password_hash.is_some()) {
        if secrets::verify_password(input.password.clone(), user.password_hash.clone()).await? {
            matched = Some(user.clone());
            break;
        }
    }
    if users.iter().all(|u| u.password_hash.is_none()) {
        secrets::verify_password(input.password.clone(), None).await?;
    }
    drop(permit);
    match matched {
        Some(user) => start(db, &user, &throttles, client, now).await,
        None => {
            let failures = counts.first().map_or(1, |c| c.failures);
            // This attempt is the one that started the lockout.
            let locking = locked.filter(|_| throttles.iter().zip(&counts).any(|(t, c)| c.failures == t.limit));
            record_failure(db, &users, failures, locking.is_some(), now).await?;
            tokio::time::sleep(failure_delay(failures)).await;
            Err(match locking {
                Some(until) => locked_out(until, now.as_microsecond()),
                None => ServiceError::BadCredentials,
            })
        }
    }
}

/// Count one attempt against each counter, in one transaction.
async fn count(db: &Db, throttles: &[Throttle], now: Timestamp) -> Result<Vec<dossier_store::Counted>> {
    let at = now.as_microsecond();
    let (window_start, lock_until) = (at - FAILURE_WINDOW.as_micros() as i64, at + LOCKOUT.as_micros() as i64);
    let mut tx = db.begin().await?;
    let mut counts = Vec::with_capacity(throttles.len());
    for t in throttles {
        counts.push(q::count_attempt(&mut tx.handle(), &t.key, at, window_start, t.limit, lock_until).await?);
    }
    tx.commit().await?;
    Ok(counts)
}

/// Take back an attempt that was never checked.
async fn uncount(db: &Db, throttles: &[Throttle]) -> Result<()> {
    let mut tx = db.begin().await?;
    for t in throttles {
        q::uncount_attempt(&mut tx.handle(), &t.key, t.limit).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn start(db: &Db, user: &UserRow, throttles: &[Throttle], client: Client, now: Timestamp) -> Result<Started> {
    let secret = secrets::issue(SecretKind::Session, user.org_id);
    let expires_at = now + ABSOLUTE_LIMIT;
    let row = SessionRow {
        org_id: user.org_id,
        id: SessionId::new().0,
        user_id: user.id,
        token_hash: secret.hash,
        created_at: now.as_microsecond(),
        last_seen_at: now.as_microsecond(),
        expires_at: expires_at.as_microsecond(),
        revoked_at: None,
        address: client.address.clone(),
        user_agent: client.user_agent.map(|a| a.chars().take(300).collect()),
    };
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let org = orgs::load(h, user.org_id).await?;
    q::insert_session(h, &row).await?;
    // Success clears the account's count; the address only gets this
    // attempt back: one good password must not reset an address that is
    // guessing at many accounts.
    if let Some((account, address)) = throttles.split_first() {
        q::clear_throttle(h, &account.key).await?;
        for t in address {
            q::uncount_attempt(h, &t.key, t.limit).await?;
        }
    }
    let ctx = as_user(org.clone(), user).at(now);
    let summary = format!("{} signed in", user.name);
    let record = with_detail(security_event(&ctx, ActivityKind::UserSignedIn, user, summary), json!({"address": client.address}));
    tx.append(record).await?;
    tx.commit().await?;
    let user = User::from_row(user.clone())?;
    Ok(Started { cookie: secret.text, session: SessionInfo { user, org_name: org.name, expires_at } })
}

/// An org-level activity about a user's access.
fn security_event(ctx: &Ctx, kind: ActivityKind, user: &UserRow, summary: String) -> dossier_domain::activity::NewActivity {
    activity(ctx, kind, None, EntityRef::new(EntityType::User, user.id), Some(user.email.clone()), summary, Vec::new())
}

/// A failed sign-in (and the lockout it started) on the timeline of each
/// user with the email; the attempt itself was counted before the check.
async fn record_failure(db: &Db, users: &[UserRow], failures: i64, locking: bool, now: Timestamp) -> Result<()> {
    if users.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    for user in users {
        let org = orgs::load(&mut tx.handle(), user.org_id).await?;
        let ctx = as_user(org, user).at(now);
        let summary = format!("Failed sign-in for {} ({failures} in a row)", user.email);
        tx.append(security_event(&ctx, ActivityKind::UserSignInFailed, user, summary)).await?;
        if locking {
            let summary = format!("Sign-in for {} locked for {} minutes after repeated failures", user.email, LOCKOUT.as_mins());
            tx.append(security_event(&ctx, ActivityKind::UserLockedOut, user, summary)).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The caller a session cookie stands for; `Unauthenticated` if it is
/// unknown, revoked, idle too long, past its absolute expiry, or its user
/// was deactivated.
pub async fn authenticate(db: &Db, cookie: &str) -> Result<Ctx> {
    let (org, _, user) = live_session(db, cookie).await?;
    Ok(as_user(org, &user))
}

/// The live session a cookie names (its expiry), its org and its active
/// user, read in one statement; its use is noted at most once a minute.
async fn live_session(db: &Db, cookie: &str) -> Result<(crate::Org, i64, UserRow)> {
    let (org_id, hash) = secrets::read(SecretKind::Session, cookie).ok_or(ServiceError::Unauthenticated)?;
    let now = Timestamp::now().as_microsecond();
    let holder = q::find_session_holder(&mut db.read().await?.handle(), org_id, &hash).await?.ok_or(ServiceError::Unauthenticated)?;
    if holder.session_expires_at <= now || holder.session_last_seen_at + IDLE_LIMIT.as_micros() as i64 <= now || !holder.user.active {
        return Err(ServiceError::Unauthenticated);
    }
    let org = orgs::org_of(&holder.org.into_row(org_id))?;
    usage::note(db, Used::Session, org_id, holder.session_id, Some(holder.session_last_seen_at), now).await?;
    Ok((org, holder.session_expires_at, holder.user))
}

/// The signed-in user behind a session cookie.
pub async fn current(db: &Db, cookie: &str) -> Result<SessionInfo> {
    let (org, expires_at, user) = live_session(db, cookie).await?;
    let expires_at = crate::record::timestamp(expires_at)?;
    Ok(SessionInfo { user: User::from_row(user)?, org_name: org.name, expires_at })
}

/// Sign out: the session is revoked at once, whatever its cookie's fate.
pub async fn sign_out(db: &Db, cookie: &str) -> Result<()> {
    let (org_id, hash) = secrets::read(SecretKind::Session, cookie).ok_or(ServiceError::Unauthenticated)?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let session = q::find_session(h, org_id, &hash).await?.ok_or(ServiceError::Unauthenticated)?;
    let user = q::get_user(h, org_id, session.user_id).await?.ok_or(ServiceError::Unauthenticated)?;
    let now = Timestamp::now();
    if q::revoke_session(h, org_id, session.id, now.as_microsecond()).await? {
        let ctx = as_user(orgs::load(h, org_id).await?, &user).at(now);
        tx.append(security_event(&ctx, ActivityKind::UserSignedOut, &user, format!("{} signed out", user.name))).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Whether sign-in for `email` is locked out now (for tests and operators).
pub async fn is_locked(db: &Db, email: &str) -> Result<bool> {
    let mut conn = db.read().await?;
    let row = q::get_throttle(&mut conn.handle(), &account_key(email)).await?;
    Ok(row.and_then(|r| r.locked_until).is_some_and(|until| until > Timestamp::now().as_microsecond()))
}
