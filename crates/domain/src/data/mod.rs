//! Data in and out: importing customers from files, deleting and
//! restoring customers.

pub mod deletion;
pub mod import;
pub mod import_row;
pub mod import_run;
