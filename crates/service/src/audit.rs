//! Proving the activity log: recompute every row's hash and walk each org's chain.

use dossier_domain::chain::{ChainBreak, ChainWalk};
use dossier_store::Db;
use dossier_store::queries as q;
use uuid::Uuid;

use crate::Result;

/// What `dossier audit verify` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditReport {
    pub orgs: usize,
    pub rows_checked: u64,
    /// The first row that does not verify, in chain order.
    pub first_bad: Option<BadRow>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    pub org_id: Uuid,
    /// The sequence number expected or found where the chain breaks.
    pub seq: i64,
    pub activity_id: Option<Uuid>,
    pub reason: String,
}

impl std::fmt::Display for BadRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "org {} row #{}", self.org_id, self.seq)?;
        if let Some(id) = self.activity_id {
            write!(f, " (activity {id})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Check every org's chain: each row's content hash matches its content,
/// each chain hash follows from the previous row, sequence numbers have no
/// gaps, and the chain ends where the org's recorded head says it does.
/// The head is read first and the walk stops there, so writes committed
/// while the audit runs are left for the next audit rather than misread.
pub async fn verify(db: &Db, progress: impl FnMut(u64)) -> Result<AuditReport> {
    verify_orgs(db, None, progress).await
}

/// [`verify`] for one org only (`None`: every org).
pub async fn verify_orgs(db: &Db, only: Option<dossier_domain::ids::OrgId>, mut progress: impl FnMut(u64)) -> Result<AuditReport> {
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let orgs: Vec<_> = q::list_orgs(h).await?.into_iter().filter(|o| only.is_none_or(|id| id.0 == o.id)).collect();
    let mut report = AuditReport { orgs: orgs.len(), rows_checked: 0, first_bad: None };
    for org in orgs {
        let mut walk = ChainWalk::default();
        let bad = |b: ChainBreak| Some(BadRow { org_id: org.id, seq: b.seq, activity_id: b.activity_id, reason: b.reason });
        let Some((head_seq, head_hash)) = q::chain_head(h, org.id).await? else {
            report.first_bad = Some(BadRow { org_id: org.id, seq: 0, activity_id: None, reason: "the org has no chain head".into() });
            return Ok(report);
        };
        loop {
            let rows = q::activity_page(h, org.id, walk.last_seq(), head_seq, 1000).await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                if let Err(b) = walk.step(&row.chain_row()) {
                    report.first_bad = bad(b);
                    return Ok(report);
                }
                report.rows_checked += 1;
            }
            progress(report.rows_checked);
        }
        // Tombstones of an erasure committed after the head was read.
        let later = q::erasures_after(h, org.id, head_seq, &walk.pending_erasures()).await?;
        if let Err(b) = walk.finish(head_seq, &head_hash, &later) {
            report.first_bad = bad(b);
            return Ok(report);
        }
    }
    Ok(report)
}
