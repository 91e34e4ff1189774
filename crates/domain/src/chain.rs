//! Walking one org's activity chain, row by row, and what an erasure may
//! change in it.
//!
//! Each row's chain hash covers the previous chain hash and the row's
//! *content hash*, never the content itself. Erasing a customer's personal
//! data replaces the content of the rows about them with a tombstone and
//! keeps the content hash, so the chain still verifies. What stops an
//! erasure from hiding tampering: the erasure is itself a row of the chain
//! (`customer.erased`), written after every row it tombstones, and its
//! hashed detail holds the number of rows it erased and a digest of their
//! sequence numbers and content hashes. A tombstone the erasure did not
//! make, a row tombstoned after its erasure, or an erasure whose rows are
//! not all there, breaks the walk.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::activity::{ActivityContent, ActivityKind, GENESIS_HASH, chain_hash};

/// What a tombstoned row shows instead of its summary.
pub const ERASED_SUMMARY: &str = "Personal data erased";

/// The digest of the rows one erasure tombstoned, fed in sequence order.
#[derive(Clone, Debug, Default)]
pub struct ErasureDigest {
    hasher: Sha256,
    rows: u64,
}

impl ErasureDigest {
    pub fn add(&mut self, seq: i64, content_hash: &[u8]) {
        self.hasher.update(seq.to_be_bytes());
        self.hasher.update(content_hash);
        self.rows += 1;
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The digest as lower-case hex, as the erasure's detail holds it.
    pub fn finish(self) -> String {
        hex(&self.hasher.finalize())
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The detail keys of a `customer.erased` row that commit to what it erased.
pub const ERASED_ROWS: &str = "erased_rows";
pub const ERASED_DIGEST: &str = "erased_digest";

/// One stored row as the walk needs it.
pub struct ChainRow<'a> {
    pub seq: i64,
    pub id: Uuid,
    /// The content as stored: the original, or a tombstone when `erased_by` is set.
    pub content: ActivityContent<'a>,
    pub content_hash: &'a [u8],
    pub chain_hash: &'a [u8],
    /// The `customer.erased` row that tombstoned this one.
    pub erased_by: Option<Uuid>,
}

/// Where and why a chain does not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: i64,
    pub activity_id: Option<Uuid>,
    pub reason: String,
}

/// The walk over one org's rows, in sequence order.
pub struct ChainWalk {
    previous: Vec<u8>,
    last_seq: i64,
    /// Erasures named by tombstones and not reached yet.
    pending: HashMap<Uuid, (ErasureDigest, i64)>,
    /// Erasures already reached: no later row may name them.
    reached: HashSet<Uuid>,
}

impl Default for ChainWalk {
    fn default() -> Self {
        Self { previous: GENESIS_HASH.to_vec(), last_seq: 0, pending: HashMap::new(), reached: HashSet::new() }
    }
}

impl ChainWalk {
    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }

    /// Check the next row.
    pub fn step(&mut self, row: &ChainRow<'_>) -> Result<(), ChainBreak> {
        let bad = |reason: String| Err(ChainBreak { seq: row.seq, activity_id: Some(row.id), reason });
        if row.seq != self.last_seq + 1 {
            return Err(ChainBreak { seq: self.last_seq + 1, activity_id: None, reason: format!("row is missing (next row found is #{})", row.seq) });
        }
        match row.erased_by {
            None => {
                if row.content.hash().as_slice() != row.content_hash {
                    return bad("content was altered: its hash does not match".into());
                }
            }
            Some(erasure) => {
                if self.reached.contains(&erasure) {
                    return bad(format!("row is marked erased by activity {erasure}, which comes before it"));
                }
                let (digest, _) = self.pending.entry(erasure).or_insert_with(|| (ErasureDigest::default(), row.seq));
                digest.add(row.seq, row.content_hash);
            }
        }
        if chain_hash(&self.previous, row.content_hash).as_slice() != row.chain_hash {
            return bad("chain is broken: the hash does not follow from the previous row".into());
        }
        if row.erased_by.is_none() && row.content.kind == ActivityKind::CustomerErased.as_str() {
            let (digest, _) = self.pending.remove(&row.id).unwrap_or_default();
            let detail: Value = serde_json::from_str(row.content.detail).unwrap_or(Value::Null);
            let claimed_rows = detail.get(ERASED_ROWS).and_then(Value::as_u64);
            let claimed_digest = detail.get(ERASED_DIGEST).and_then(Value::as_str).map(str::to_owned);
            let rows = digest.rows();
            if claimed_rows != Some(rows) || claimed_digest.as_deref() != Some(digest.finish().as_str()) {
                return bad(format!(
                    "erasure recorded {} erased rows but {rows} tombstones match it: rows were marked erased or altered",
                    claimed_rows.map_or("no".to_owned(), |n| n.to_string())
                ));
            }
            self.reached.insert(row.id);
        }
        self.previous = row.chain_hash.to_vec();
        self.last_seq = row.seq;
        Ok(())
    }

    /// The erasures tombstones named that the walk has not reached. An
    /// audit that stops at the head it read first may see the tombstones of
    /// an erasure committed after that read: the caller checks these are
    /// erasures beyond the head before it calls [`ChainWalk::finish`].
    pub fn pending_erasures(&self) -> Vec<Uuid> {
        self.pending.keys().copied().collect()
    }

    /// Check the walk ended where the org's recorded head says it does.
    /// `later_erasures`: pending erasures found beyond the head.
    pub fn finish(self, head_seq: i64, head_hash: &[u8], later_erasures: &HashSet<Uuid>) -> Result<(), ChainBreak> {
        let unresolved = self.pending.iter().filter(|(id, _)| !later_erasures.contains(id)).min_by_key(|(_, (_, seq))| *seq);
        if let Some((erasure, (_, seq))) = unresolved {
            return Err(ChainBreak {
                seq: *seq,
                activity_id: None,
                reason: format!("row is marked erased by {erasure}, which is not an erasure of this chain"),
            });
        }
        if self.last_seq != head_seq {
            return Err(ChainBreak {
                seq: self.last_seq + 1,
                activity_id: None,
                reason: format!("chain ends at #{} but the org's head records #{head_seq}: rows were removed", self.last_seq),
            });
        }
        if self.previous != head_hash {
            return Err(ChainBreak { seq: self.last_seq, activity_id: None, reason: "the last row's hash differs from the org's recorded head".into() });
        }
        Ok(())
    }
}
