//! Idempotency keys, as payment APIs have them: a request sent again with
//! the same key gets the first answer instead of being carried out twice.
//!
//! A request first [`claim`]s its key (a row of its own, committed at
//! once). The winner runs its use case [`holding`] the claim, so the use
//! case's own transaction marks the key `committed` as it commits; then
//! [`finish`] stores the answer. Whoever comes with the key meanwhile waits
//! for that answer. A crash between the commit and the stored answer leaves
//! a `committed` key without an answer: a retry is told so
//! ([`Claimed::AnswerLost`]) and nothing is done twice.

use std::time::Duration;

use dossier_store::idempotency as q;
pub use dossier_store::idempotency::Claim;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{Ctx, Db, Result};

/// Keys are kept at least this long, then purged as the org claims new ones.
pub const KEEP_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// A claim still `running` after this long belongs to a request that died
/// (requests time out after 30 seconds): another request may retake it.
pub const RETAKE_AFTER: Duration = Duration::from_secs(60);

/// The longest key: 255 visible ASCII characters.
pub const MAX_KEY_LEN: usize = 255;

/// A valid key: 1 to 255 visible ASCII characters (`!` to `~`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    /// The key, or what is wrong with it.
    pub fn parse(raw: &[u8]) -> Result<Key, &'static str> {
        if raw.is_empty() {
            return Err("the Idempotency-Key header is empty");
        }
        if raw.len() > MAX_KEY_LEN {
            return Err("the Idempotency-Key header is longer than 255 characters");
        }
        if !raw.iter().all(|b| (b'!'..=b'~').contains(b)) {
            return Err("the Idempotency-Key header may hold only visible ASCII characters (no spaces)");
        }
        Ok(Key(String::from_utf8_lossy(raw).into_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What identifies a request for its key: SHA-256 of the method, the path
/// (with its query) and the body.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let mut hash = Sha256::new();
    for part in [method.as_bytes(), b"\n", path.as_bytes(), b"\n", body] {
        hash.update(part);
    }
    hash.finalize().to_vec()
}

/// A stored answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    /// `None` when the answer is not kept (it held a secret shown once).
    pub body: Option<Vec<u8>>,
}

/// The outcome of claiming a key.
#[derive(Debug)]
pub enum Claimed {
    /// This request holds the key: carry it out [`holding`] the claim, then
    /// [`finish`].
    Won(Claim),
    /// The key's first request was answered; this is its answer.
    Replay(Answer),
    /// The key was used for another request (method, path or body).
    Reused,
    /// The key's first request is still running after the wait.
    InFlight,
    /// The key's first request was carried out, but its answer was lost (a
    /// crash between its commit and storing the answer).
    AnswerLost,
    /// The caller is no user (the system): keys are not scoped, not used.
    Unscoped,
}

/// The user behind the caller: keys are scoped per org and user, whether
/// the user calls with a token or a session.
fn caller_of(ctx: &Ctx) -> Option<Uuid> {
    ctx.user_id.map(|u| u.0).or(ctx.actor.id)
}

/// Claim `key` for a request whose fingerprint is `request_hash`. When
/// another request holds the key, wait up to `wait` for its answer.
pub async fn claim(db: &Db, ctx: &Ctx, key: &Key, request_hash: &[u8], wait: Duration) -> Result<Claimed> {
    let Some(caller) = caller_of(ctx) else { return Ok(Claimed::Unscoped) };
    let org_id = ctx.org.id.0;
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        let claim = Claim { org_id, caller, key: key.0.clone(), attempt: Uuid::now_v7() };
        let now = Timestamp::now().as_microsecond();
        let mut tx = db.begin().await?;
        q::purge_keys(&mut tx.handle(), org_id, now - KEEP_FOR.as_micros() as i64).await?;
        let won = q::insert_claim(&mut tx.handle(), &claim, request_hash, now).await?;
        tx.commit().await?;
        if won {
            return Ok(Claimed::Won(claim));
        }
        // Someone holds the key: follow it until it is answered.
        loop {
            let Some(row) = q::get_key(&mut db.read().await?.handle(), org_id, caller, &claim.key).await? else {
                break; // released or purged meanwhile: claim again
            };
            if row.request_hash != request_hash {
                return Ok(Claimed::Reused);
            }
            let now = Timestamp::now().as_microsecond();
            let stale = row.started_at < now - RETAKE_AFTER.as_micros() as i64;
            match row.state.as_str() {
                "done" => {
                    let status = u16::try_from(row.status.unwrap_or(500)).unwrap_or(500);
                    return Ok(Claimed::Replay(Answer { status, content_type: row.content_type, body: row.body }));
                }
                "committed" if stale => return Ok(Claimed::AnswerLost),
                "running" if stale => {
                    let mut tx = db.begin().await?;
                    let taken = q::retake_claim(&mut tx.handle(), &claim, now - RETAKE_AFTER.as_micros() as i64, now).await?;
                    tx.commit().await?;
                    if taken {
                        return Ok(Claimed::Won(claim));
                    }
                    continue;
                }
                _ => {}
            }
            if started.elapsed() >= wait {
                return Ok(Claimed::InFlight);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }
}

/// Carry out `work` holding `claim`: the transactions it commits that
/// record history mark the key `committed` as they commit.
pub async fn holding<F: std::future::Future>(claim: Claim, work: F) -> F::Output {
    q::holding(claim, work).await
}

/// Store the answer of the request holding `claim`. A `retryable` answer
/// (a server error, too many requests) of a request that committed
/// nothing gives the key up instead, so that a retry carries it out.
pub async fn finish(db: &Db, claim: &Claim, answer: &Answer, retryable: bool) -> Result<()> {
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    if !(retryable && q::release_claim(h, claim).await?) {
        q::store_answer(h, claim, i64::from(answer.status), answer.content_type.as_deref(), answer.body.as_deref()).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Give the key up if the request holding `claim` committed nothing: for a
/// request abandoned half-way (its client went away, its deadline passed),
/// so that a retry need not wait for the claim to go stale.
pub async fn abandon(db: &Db, claim: &Claim) -> Result<()> {
    let mut tx = db.begin().await?;
    q::release_claim(&mut tx.handle(), claim).await?;
    tx.commit().await?;
    Ok(())
}
