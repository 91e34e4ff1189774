//! The range every date and instant a client sends must fall in.
//!
//! jiff accepts years −9999 to 9999; a business record never needs that, and
//! a typo such as `0202-01-31` or `9999-12-31` would otherwise be stored and
//! then show, for instance, a debt aged four million days. Every date input
//! (issue and due dates, validity, payment dates, pauses, statement dates)
//! and every instant input (job windows) is checked here.

use jiff::Timestamp;
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;

use crate::error::ValidationErrors;

/// The first date accepted: 1900-01-01.
pub const MIN_DATE: Date = date(1900, 1, 1);
/// The last date accepted: 2200-12-31.
pub const MAX_DATE: Date = date(2200, 12, 31);

fn out_of_range(field: &str) -> ValidationErrors {
    ValidationErrors::one(field, "date_out_of_range", format!("must be between {MIN_DATE} and {MAX_DATE}"))
}

/// `value` if it lies from [`MIN_DATE`] to [`MAX_DATE`], else `date_out_of_range` on `field`.
pub fn check(field: &str, value: Date) -> Result<Date, ValidationErrors> {
    if (MIN_DATE..=MAX_DATE).contains(&value) { Ok(value) } else { Err(out_of_range(field)) }
}

/// [`check`] for an optional date.
pub fn check_optional(field: &str, value: Option<Date>) -> Result<Option<Date>, ValidationErrors> {
    value.map(|d| check(field, d)).transpose()
}

/// `value` if its UTC date lies from [`MIN_DATE`] to [`MAX_DATE`].
pub fn check_instant(field: &str, value: Timestamp) -> Result<Timestamp, ValidationErrors> {
    check(field, value.to_zoned(TimeZone::UTC).date()).map(|_| value)
}

/// [`check_instant`] for an optional instant.
pub fn check_optional_instant(field: &str, value: Option<Timestamp>) -> Result<Option<Timestamp>, ValidationErrors> {
    value.map(|t| check_instant(field, t)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_outside_1900_to_2200_are_refused() {
        for bad in [date(-9999, 1, 1), date(1, 1, 1), date(1899, 12, 31), date(2201, 1, 1), date(9999, 12, 31)] {
            assert_eq!(check("due_date", bad).unwrap_err().0[0].code, "date_out_of_range", "{bad}");
        }
        for good in [MIN_DATE, date(2026, 3, 1), MAX_DATE] {
            assert_eq!(check("due_date", good), Ok(good));
        }
        let late: Timestamp = "2201-01-01T00:00:00Z".parse().unwrap();
        assert!(check_instant("scheduled_end", late).is_err());
        let last: Timestamp = "2200-12-31T23:59:59Z".parse().unwrap();
        assert_eq!(check_instant("scheduled_end", last), Ok(last));
    }
}
