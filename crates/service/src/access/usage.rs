//! Noting when a session, an API token or a portal link was used.

use dossier_store::Used;
use dossier_store::queries as q;
use uuid::Uuid;

use crate::{Db, Result};

/// Write the use of `id` at `now` (microseconds) if the last one written,
/// `last`, is over a minute old; most requests then write nothing. Not an
/// activity: it is bookkeeping of the credential, not a change to the record.
pub(crate) async fn note(db: &Db, what: Used, org_id: Uuid, id: Uuid, last: Option<i64>, now: i64) -> Result<()> {
    if q::use_is_due(last, now) {
        let mut tx = db.begin().await?;
        q::note_use(&mut tx.handle(), what, org_id, id, now).await?;
        tx.commit().await?;
    }
    Ok(())
}
