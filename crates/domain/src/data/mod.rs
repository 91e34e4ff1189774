//! Data in and out: importing customers from files, CSV cells made safe
//! for spreadsheets, deleting and restoring customers, finding duplicates
//! and merging them.

pub mod csv_cell;
pub mod deletion;
pub mod duplicates;
pub mod import;
pub mod import_row;
pub mod import_run;
pub mod merge;
