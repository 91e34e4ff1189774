//! Editing a draft: a quote or invoice not yet sent or issued may have its
//! lines (and its title and validity, or its due date and notes) changed.
//! Once it has gone to the customer it is refused with `not_draft`: an
//! issued invoice is corrected by a credit note, a sent quote by a new one.
//!
//! An edit gives only what changes; absent fields stay, `null` clears an
//! optional one. Lines, when given, replace all of the lines, checked as
//! on creation. What changed is recorded as a field diff of the drafts
//! (`diff`): the lines as a whole, old and new, and each total.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::dates;
use crate::error::ValidationErrors;
use crate::money::{Line, LineInput, Totals};
use crate::patch::Patch;
use crate::text;

/// An invoice's content while it is a draft.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InvoiceDraft {
    pub lines: Vec<Line>,
    #[serde(flatten)]
    pub totals: Totals,
    pub due_date: Option<Date>,
    pub notes: Option<String>,
}

/// The body of "edit a draft invoice".
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct InvoiceEdit {
    /// All of the lines, replacing the draft's (1 to 500).
    #[schema(value_type = Option<Vec<LineInput>>, min_items = 1, max_items = 500)]
    pub lines: Option<Vec<LineInput>>,
    /// Overrides the customer's and the org's payment terms; `null` returns to them.
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Patch<Date>,
    #[schema(value_type = Option<String>, max_length = 5000)]
    pub notes: Patch<String>,
}

impl InvoiceEdit {
    /// The draft as it would be after this edit.
    pub fn apply(self, current: &InvoiceDraft) -> Result<InvoiceDraft, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let lines = replaced_lines(&mut errors, self.lines, &current.lines);
        let due_date = errors.take(dates::check_optional("due_date", self.due_date.into_option(|| current.due_date)));
        let notes = errors.take(text::optional_multiline("notes", self.notes.into_option(|| current.notes.clone()), 5000));
        match (lines, due_date, notes) {
            (Some(lines), Some(due_date), Some(notes)) if errors.is_empty() => Ok(InvoiceDraft { totals: Totals::of(&lines), lines, due_date, notes }),
            _ => Err(errors),
        }
    }
}

/// A quote's content while it is a draft.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuoteDraft {
    pub title: String,
    pub valid_until: Option<Date>,
    pub lines: Vec<Line>,
    #[serde(flatten)]
    pub totals: Totals,
}

/// The body of "edit a draft quote".
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct QuoteEdit {
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_until: Patch<Date>,
    /// All of the lines, replacing the draft's (1 to 500).
    #[schema(value_type = Option<Vec<LineInput>>, min_items = 1, max_items = 500)]
    pub lines: Option<Vec<LineInput>>,
}

impl QuoteEdit {
    /// The draft as it would be after this edit.
    pub fn apply(self, current: &QuoteDraft) -> Result<QuoteDraft, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = match self.title {
            Some(title) => errors.take(text::required("title", Some(title), 200)),
            None => Some(current.title.clone()),
        };
        let valid_until = errors.take(dates::check_optional("valid_until", self.valid_until.into_option(|| current.valid_until)));
        let lines = replaced_lines(&mut errors, self.lines, &current.lines);
        match (title, valid_until, lines) {
            (Some(title), Some(valid_until), Some(lines)) if errors.is_empty() => Ok(QuoteDraft { title, valid_until, totals: Totals::of(&lines), lines }),
            _ => Err(errors),
        }
    }
}

/// The lines an edit leaves: the given ones, checked, or the current ones.
fn replaced_lines(errors: &mut ValidationErrors, given: Option<Vec<LineInput>>, current: &[Line]) -> Option<Vec<Line>> {
    match given {
        Some(lines) => errors.take(LineInput::parse_all("lines", lines)),
        None => Some(current.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::diff as changes;
    use crate::money::{Money, Quantity, TaxRate};
    use serde_json::json;

    fn draft() -> InvoiceDraft {
        let lines = vec![Line::new("Service".into(), Quantity::ONE, Money(10_000), TaxRate(2000))];
        InvoiceDraft { totals: Totals::of(&lines), lines, due_date: None, notes: Some("Gate code 1234".into()) }
    }

    #[test]
    fn an_edit_replaces_the_lines_and_recomputes_the_totals() {
        let edit: InvoiceEdit = serde_json::from_value(json!({"lines": [{"description": "Parts", "quantity": 2, "unit_price": 2500}], "notes": null})).unwrap();
        let edited = edit.apply(&draft()).unwrap();
        assert_eq!((edited.totals.total, edited.notes.as_deref()), (Money(5000), None));
        let fields: Vec<String> = changes(&draft(), &edited).into_iter().map(|c| c.field).collect();
        assert_eq!(fields, ["lines", "notes", "subtotal", "tax", "total"]);
    }

    #[test]
    fn an_empty_edit_changes_nothing_and_bad_lines_are_refused_by_field() {
        let same = InvoiceEdit::default().apply(&draft()).unwrap();
        assert!(changes(&draft(), &same).is_empty());
        let edit: InvoiceEdit = serde_json::from_value(json!({"lines": [{"description": "", "unit_price": 1}], "due_date": "1800-01-01"})).unwrap();
        let found: Vec<_> = edit.apply(&draft()).unwrap_err().0.into_iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(found, [("lines[0].description".to_owned(), "required"), ("due_date".to_owned(), "date_out_of_range")]);
        let empty: InvoiceEdit = serde_json::from_value(json!({"lines": []})).unwrap();
        assert_eq!(empty.apply(&draft()).unwrap_err().0[0].code, "required");
    }

    #[test]
    fn a_quote_keeps_a_title() {
        let quote = QuoteDraft { title: "Boiler".into(), valid_until: None, lines: draft().lines, totals: draft().totals };
        let edit: QuoteEdit = serde_json::from_value(json!({"title": " "})).unwrap();
        assert_eq!(edit.apply(&quote).unwrap_err().0[0].field, "title");
        let edit: QuoteEdit = serde_json::from_value(json!({"valid_until": "2026-06-30"})).unwrap();
        assert_eq!(changes(&quote, &edit.apply(&quote).unwrap())[0].field, "valid_until");
    }
}
