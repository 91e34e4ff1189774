//! Data in and out of an org: deleting and restoring customers, exports,
//! duplicates and merges, lists as CSV.

pub(crate) mod deletion;
pub(crate) mod export;
pub(crate) mod imports;
pub(crate) mod lists;
pub(crate) mod merge;
