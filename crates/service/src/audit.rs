//! Proving the activity log: recompute every row's hash and walk each org's chain.

use dossier_domain::activity::{GENESIS_HASH, chain_hash};
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
        let mut previous = GENESIS_HASH.to_vec();
        let mut last_seq = 0;
        let bad = |seq, activity_id, reason: String| Some(BadRow { org_id: org.id, seq, activity_id, reason });
        let Some((head_seq, head_hash)) = q::chain_head(h, org.id).await? else {
            report.first_bad = bad(0, None, "the org has no chain head".into());
            return Ok(report);
        };
        'rows: loop {
            let rows = q::activity_page(h, org.id, last_seq, head_seq, 1000).await?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                if row.seq != last_seq + 1 {
                    report.first_bad = bad(last_seq + 1, None, format!("row is missing (next row found is #{})", row.seq));
                    break 'rows;
                }
                let content_hash = row.content().hash();
                if content_hash.as_slice() != row.content_hash.as_slice() {
                    report.first_bad = bad(row.seq, Some(row.id), "content was altered: its hash does not match".into());
                    break 'rows;
                }
                if chain_hash(&previous, &content_hash).as_slice() != row.chain_hash.as_slice() {
                    report.first_bad = bad(row.seq, Some(row.id), "chain is broken: the hash does not follow from the previous row".into());
                    break 'rows;
                }
                previous = row.chain_hash;
                last_seq = row.seq;
                report.rows_checked += 1;
            }
            progress(report.rows_checked);
        }
        if report.first_bad.is_some() {
            return Ok(report);
        }
        if last_seq != head_seq {
            report.first_bad = bad(last_seq + 1, None, format!("chain ends at #{last_seq} but the org's head records #{head_seq}: rows were removed"));
            return Ok(report);
        }
        if previous != head_hash {
            report.first_bad = bad(last_seq, None, "the last row's hash differs from the org's recorded head".into());
            return Ok(report);
        }
    }
    Ok(report)
}
