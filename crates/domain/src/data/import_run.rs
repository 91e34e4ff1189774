//! An import through the API or the web app, step by step: the file is
//! uploaded (its first rows and a suggested mapping are shown), checked by
//! a dry run, then imported; the worker runs the dry run and the import,
//! and the import's row shows how far each has come.

use crate::customer::string_enum;

string_enum!(
    /// Where an import stands. `uploaded`: waiting for its mapping and dry
    /// run. `queued` and `running`: its current step (see [`ImportStep`])
    /// waits for or is in the worker. `checked`: the dry run is done; the
    /// valid rows may be imported. `done`: imported. `failed`: the step
    /// stopped (see its error); a failed dry run may be run again, a failed
    /// import keeps the batches that went in, and may be run again too
    /// (rows imported before are skipped).
    ImportStatus { Uploaded = "uploaded", Queued = "queued", Running = "running", Checked = "checked", Done = "done", Failed = "failed" }
);

string_enum!(
    /// Which step a queued, running or failed import is at: the dry run
    /// (`check`) or the import (`import`).
    ImportStep { Check = "check", Import = "import" }
);

impl ImportStatus {
    /// Whether a dry run may start (again): before the import has begun.
    pub fn may_check(self, step: ImportStep) -> bool {
        matches!(self, ImportStatus::Uploaded | ImportStatus::Checked) || (self == ImportStatus::Failed && step == ImportStep::Check)
    }

    /// Whether the import may start: after a dry run, or again after a failed import.
    pub fn may_import(self, step: ImportStep) -> bool {
        self == ImportStatus::Checked || (self == ImportStatus::Failed && step == ImportStep::Import)
    }

    /// Whether the worker has it (a page showing it refreshes).
    pub fn is_busy(self) -> bool {
        matches!(self, ImportStatus::Queued | ImportStatus::Running)
    }
}

/// A mapping entry that keeps a column the importer does not know as a new
/// text custom field named after its header.
pub const KEEP_AS_CUSTOM_FIELD: &str = "keep";

/// The custom field key a kept column gets: its header folded to `a-z`,
/// `0-9` and `_`, starting with a letter, at most 64 characters.
pub fn kept_field_key(header: &str) -> String {
    let folded = deunicode::deunicode(header);
    let mut key = String::new();
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.is_empty() && !key.ends_with('_') {
            key.push('_');
        }
    }
    let key = key.trim_end_matches('_');
    let key = if key.starts_with(|c: char| c.is_ascii_lowercase()) { key.to_owned() } else { format!("f_{key}") };
    key.chars().take(64).collect::<String>().trim_end_matches('_').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_columns_get_keys_a_custom_field_accepts() {
        assert_eq!(kept_field_key("Lead Source"), "lead_source");
        assert_eq!(kept_field_key("Région / Département"), "region_departement");
        assert_eq!(kept_field_key("2nd phone"), "f_2nd_phone");
        assert_eq!(kept_field_key("???"), "f");
        assert!(kept_field_key(&"x".repeat(300)).len() <= 64);
    }

    #[test]
    fn steps_start_only_from_where_they_may() {
        assert!(ImportStatus::Uploaded.may_check(ImportStep::Check));
        assert!(!ImportStatus::Uploaded.may_import(ImportStep::Check));
        assert!(ImportStatus::Checked.may_import(ImportStep::Check));
        assert!(!ImportStatus::Running.may_check(ImportStep::Check));
        assert!(!ImportStatus::Done.may_import(ImportStep::Import));
        assert!(ImportStatus::Failed.may_import(ImportStep::Import));
        assert!(!ImportStatus::Failed.may_check(ImportStep::Import));
    }
}
