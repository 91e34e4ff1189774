//! Quotes move to expired when their valid-until date passes: a daily task
//! per org, just after midnight in the org's time zone
//! ([`crate::automation::daily`]).
//!
//! Each run expires every sent quote whose valid-until date is before the
//! org's today, through the same use case as a manual move
//! ([`crate::works::move_quote_in`]: `quote.status_changed`, sent →
//! expired), acting as the `system` actor. It works in batches of
//! [`BATCH`] quotes, one transaction each, so it never holds the SQLite
//! writer for long; running it again only finds the quotes still sent.

use dossier_domain::workflow::QuoteStatus;
use dossier_store::Db;
use dossier_store::queries as q;

use crate::automation::tasks::{Claimed, SYSTEM_NAME};
use crate::{Ctx, Result};

/// Quotes expired per transaction.
pub const BATCH: i64 = 100;

/// Expire the org's sent quotes past their valid-until date; returns how many.
pub(crate) async fn run(db: &Db, task: &Claimed) -> Result<usize> {
    let org = crate::orgs::load(&mut db.read().await?.handle(), task.org_id.0).await?;
    let ctx = Ctx::system(org, SYSTEM_NAME);
    if !crate::automation::settings::load(&mut db.read().await?.handle(), ctx.org.id.0).await?.quote_expiry {
        return Ok(0); // switched off: quotes stay sent (the run is still rescheduled)
    }
    let today = ctx.today().to_string();
    let mut expired = 0;
    loop {
        let mut tx = db.begin().await?;
        let quotes = q::expiring_quotes(&mut tx.handle(), ctx.org.id.0, &today, BATCH).await?;
        for quote in &quotes {
            crate::works::move_quote_in(&mut tx, &ctx, &quote.id.to_string(), QuoteStatus::Expired, false, None).await?;
        }
        tx.commit().await?;
        expired += quotes.len();
        if (quotes.len() as i64) < BATCH {
            break;
        }
        if !task.renew(db).await? {
            break; // another worker took the task over: it carries on
        }
    }
    if expired > 0 {
        tracing::info!(org = %ctx.org.id, expired, "quotes past their valid-until date expired");
    }
    Ok(expired)
}
