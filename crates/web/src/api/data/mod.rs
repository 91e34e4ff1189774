//! Data in and out of an org.

pub(crate) mod export;
