//! Secrets handed out once: API tokens, session cookies, invitations and
//! portal links. Each reads `<kind>_<org>_<random>`: the org part lets it be
//! looked up by an org-led index; only its SHA-256 hash is ever stored, so a
//! leaked database holds nothing that can be replayed.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};
use uuid::Uuid;

use crate::{Result, ServiceError};

/// What a secret is for; its prefix tells them apart at a glance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SecretKind {
    ApiToken,
    Session,
    Invitation,
    PortalLink,
    /// What a mail server presents to hand Dossier received mail.
    InboundMail,
}

impl SecretKind {
    fn prefix(self) -> &'static str {
        match self {
            SecretKind::ApiToken => "dsr",
            SecretKind::Session => "dss",
            SecretKind::Invitation => "dsi",
            SecretKind::PortalLink => "dsp",
            SecretKind::InboundMail => "dsm",
        }
    }
}

/// A new secret: the text is shown once, the hash is kept.
pub(crate) struct Secret {
    pub text: String,
    pub hash: Vec<u8>,
}

/// 256 random bits for `org`.
pub(crate) fn issue(kind: SecretKind, org: Uuid) -> Secret {
    let mut random = [0u8; 32];
    rand::rng().fill_bytes(&mut random);
    let text = format!("{}_{}_{}", kind.prefix(), org.simple(), URL_SAFE_NO_PAD.encode(random));
    let hash = hash(&text);
    Secret { text, hash }
}

/// The org a secret of `kind` names and its hash, or `None` if it is not
/// shaped like one.
pub(crate) fn read(kind: SecretKind, text: &str) -> Option<(Uuid, Vec<u8>)> {
    let org = text
        .strip_prefix(kind.prefix())
        .and_then(|rest| rest.strip_prefix('_'))
        .and_then(|rest| rest.split_once('_'))
        .and_then(|(org, _)| Uuid::try_parse(org).ok())?;
    Some((org, hash(text)))
}

fn hash(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

/// argon2id with OWASP's recommended minimum: 19 MiB, 2 passes, 1 lane.
pub const ARGON2_PARAMS: (u32, u32, u32) = (19 * 1024, 2, 1);

fn argon2() -> Result<Argon2<'static>> {
    let (m, t, p) = ARGON2_PARAMS;
    let params = Params::new(m, t, p, None).map_err(|e| ServiceError::Internal(format!("password hashing failed: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Passwords hashed or checked at once. Each takes [`ARGON2_PARAMS`]' 19 MiB
/// while it runs, so this bounds that memory at 4 × 19 MiB = 76 MiB however
/// many sign-ins arrive together.
pub const HASHING_PERMITS: usize = 4;

/// How long a sign-in waits for a free hashing slot before it is answered "busy".
pub const HASHING_WAIT: Duration = Duration::from_secs(2);

static HASHING: Semaphore = Semaphore::const_new(HASHING_PERMITS);

/// A slot to check a password in, if one frees up within [`HASHING_WAIT`].
pub(crate) async fn hashing_permit() -> Option<SemaphorePermit<'static>> {
    tokio::time::timeout(HASHING_WAIT, HASHING.acquire()).await.ok()?.ok()
}

/// A password's argon2id hash (PHC string), computed off the async threads
/// once a hashing slot is free.
pub(crate) async fn hash_password(password: String) -> Result<String> {
    let _permit = HASHING.acquire().await.map_err(|e| ServiceError::Internal(format!("password hashing failed: {e}")))?;
    tokio::task::spawn_blocking(move || {
        let hash = argon2()?.hash_password(password.as_bytes()).map_err(|e| ServiceError::Internal(format!("password hashing failed: {e}")))?;
        Ok(hash.to_string())
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("password hashing failed: {e}")))?
}

/// A hash no password matches, checked when there is no user so that a
/// wrong email takes as long to refuse as a wrong password.
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Whether `password` matches `hash` (the decoy when there is none). The
/// caller holds a [`hashing_permit`].
pub(crate) async fn verify_password(password: String, hash: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let hash = hash.unwrap_or_else(|| DECOY.to_owned());
        Ok(argon2()?.verify_password(password.as_bytes(), hash.as_str()).is_ok())
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("password check failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_names_its_org_and_only_its_own_kind_reads_it() {
        let org = Uuid::now_v7();
        let secret = issue(SecretKind::Session, org);
        assert_eq!(read(SecretKind::Session, &secret.text), Some((org, secret.hash.clone())));
        assert_eq!(read(SecretKind::ApiToken, &secret.text), None);
        assert_eq!(read(SecretKind::Session, "dss_nonsense"), None);
        assert_ne!(issue(SecretKind::Session, org).hash, secret.hash);
    }

    /// The memory bound on sign-ins (issue 14, point 2): however many
    /// arrive together, only [`HASHING_PERMITS`] passwords are checked at
    /// once; one more waits [`HASHING_WAIT`] and is then turned away (the
    /// caller answers 503 busy), and gets a slot as soon as one frees up.
    #[tokio::test]
    async fn at_most_four_passwords_are_checked_at_once_and_the_next_is_turned_away_after_waiting() {
        let mut held = Vec::new();
        for _ in 0..HASHING_PERMITS {
            held.push(hashing_permit().await.expect("a free slot"));
        }
        let started = std::time::Instant::now();
        assert!(hashing_permit().await.is_none(), "a fifth check must not start");
        assert!(started.elapsed() >= HASHING_WAIT, "it waited for a slot first");
        held.pop();
        assert!(hashing_permit().await.is_some(), "a freed slot is taken at once");
    }

    #[tokio::test]
    async fn passwords_verify_against_their_hash_only() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password("correct horse battery".into(), Some(hash.clone())).await.unwrap());
        assert!(!verify_password("wrong horse battery".into(), Some(hash)).await.unwrap());
        assert!(!verify_password("anything".into(), None).await.unwrap());
    }
}
