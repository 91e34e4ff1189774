//! When a session, an API token or a portal link was last used. Reading
//! one is a read: its use is written at most once a minute, so most
//! requests that present it write nothing.

use uuid::Uuid;

use crate::{Handle, Result, run};

/// How stale (in microseconds) a last use may get before it is written again.
const NOTE_EVERY_MICROS: i64 = 60_000_000;

/// What carries a last-use time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Used {
    Session,
    Token,
    PortalLink,
}

/// Whether a use at `now` should be written, the last one being `last`.
pub fn use_is_due(last: Option<i64>, now: i64) -> bool {
    last.is_none_or(|at| at < now - NOTE_EVERY_MICROS)
}

/// Note the use of `id` at `now`, unless one within the last minute was
/// noted already (by a concurrent request, say).
pub async fn note_use(h: &mut Handle<'_>, what: Used, org_id: Uuid, id: Uuid, now: i64) -> Result<()> {
    let sql = match what {
        Used::Session => "UPDATE user_session SET last_seen_at = $3 WHERE org_id = $1 AND id = $2 AND last_seen_at < $4",
        Used::Token => "UPDATE api_token SET last_used_at = $3 WHERE org_id = $1 AND id = $2 AND (last_used_at IS NULL OR last_used_at < $4)",
        Used::PortalLink => "UPDATE portal_link SET last_used_at = $3 WHERE org_id = $1 AND id = $2 AND (last_used_at IS NULL OR last_used_at < $4)",
    };
    run!(h, c => sqlx::query(sql).bind(org_id).bind(id).bind(now).bind(now - NOTE_EVERY_MICROS).execute(c).await.map(drop)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_use_is_written_again_only_after_a_minute() {
        let now = 1_000_000_000_000;
        assert!(use_is_due(None, now));
        assert!(!use_is_due(Some(now), now));
        assert!(!use_is_due(Some(now - NOTE_EVERY_MICROS), now));
        assert!(use_is_due(Some(now - NOTE_EVERY_MICROS - 1), now));
    }
}
