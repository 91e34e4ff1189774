//! Data in and out of an org: deleting and restoring customers, exports.

pub(crate) mod deletion;
pub(crate) mod export;
pub(crate) mod imports;
