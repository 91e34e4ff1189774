//! Cells of the CSV files Dossier writes (list exports, the import report)
//! made safe to open in a spreadsheet, and read back by the importer.
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or
//! a carriage return as a formula (CSV injection); OWASP's advice is to
//! start such a cell with a `'`, which spreadsheets show as text.
//! [`neutralise`] does that, and [`unneutralise`] undoes it exactly, so a
//! phone number `+44 7700 900123` written as `'+44 7700 900123` imports
//! as `+44 7700 900123` again. A cell that already starts with quotes
//! before a dangerous character gets one more, so the two always agree.

/// Whether a spreadsheet would read a cell starting with `c` as a formula.
fn dangerous(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// Whether `cell` is quotes (none or more) followed by a dangerous character.
fn quoted_danger(cell: &str) -> bool {
    cell.trim_start_matches('\'').chars().next().is_some_and(dangerous)
}

/// A cell that a spreadsheet would run as a formula, made inert with a
/// leading `'`; any other cell as it is.
pub fn neutralise(cell: &str) -> String {
    if quoted_danger(cell) { format!("'{cell}") } else { cell.to_owned() }
}

/// A cell [`neutralise`] wrote, as it was before: the leading `'` before a
/// dangerous character (or before more quotes and one) dropped.
pub fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if quoted_danger(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dangerous_start_is_neutralised() {
        for cell in ["=SUM(A1:A2)", "+44 7700 900123", "-5", "@cmd", "\tx", "\rx"] {
            assert_eq!(neutralise(cell), format!("'{cell}"), "{cell:?}");
        }
        for cell in ["Ann", "", "07700 900123", "a=b", "'plain", "CUS-00001"] {
            assert_eq!(neutralise(cell), cell, "{cell:?}");
        }
        assert_eq!(neutralise("'=1"), "''=1", "a quoted formula keeps its own quote");
    }

    #[test]
    fn unneutralise_undoes_neutralise_exactly() {
        for cell in ["=SUM(A1:A2)", "+44 7700 900123", "-5", "@cmd", "\tx", "\rx", "Ann", "", "'plain", "'=1", "''+2", "'", "''"] {
            assert_eq!(unneutralise(&neutralise(cell)), cell, "{cell:?}");
        }
        assert_eq!(unneutralise("'+44 7700 900123"), "+44 7700 900123");
        assert_eq!(unneutralise("'O'Brien"), "'O'Brien", "a quote before an ordinary letter stays");
    }
}
