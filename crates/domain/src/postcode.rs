//! Postcodes, checked against the format of the address's country where it
//! is known, and written the way that country's post writes them.
//!
//! Known formats: GB, US, DE, FR, NL, IE, CA, AU. Any other country takes a
//! plain code of 2–10 letters, digits, spaces and hyphens.

use crate::error::ValidationErrors;

/// `text` as a postcode of `country` (ISO 3166-1 alpha-2), upper-case and
/// single-spaced, or `invalid_postcode` on `field`.
pub fn parse(field: &str, text: &str, country: &str) -> Result<String, ValidationErrors> {
    let spaced = text.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase();
    let compact: String = spaced.chars().filter(|c| *c != ' ').collect();
    let (ok, example) = match country {
        "GB" => (gb(&compact), "LS1 4AP"),
        "US" => (us(&spaced), "12345 or 12345-6789"),
        "DE" | "FR" => (digits(&spaced, 5), "75008"),
        "AU" => (digits(&spaced, 4), "2000"),
        "NL" => (nl(&compact), "1234 AB"),
        "IE" => (ie(&compact), "A65 F4E2"),
        "CA" => (ca(&compact), "K1A 0B1"),
        _ => (other(&spaced), "2 to 10 letters, digits, spaces or hyphens"),
    };
    if !ok {
        return Err(ValidationErrors::one(field, "invalid_postcode", format!("is not a postcode of {country} (e.g. {example})")));
    }
    Ok(match country {
        // The inward code is always the last three characters.
        "GB" | "CA" => format!("{} {}", &compact[..compact.len() - 3], &compact[compact.len() - 3..]),
        "NL" => format!("{} {}", &compact[..4], &compact[4..]),
        "IE" => format!("{} {}", &compact[..3], &compact[3..]),
        _ => spaced,
    })
}

fn is_letter(c: u8) -> bool {
    c.is_ascii_uppercase()
}

fn is_digit(c: u8) -> bool {
    c.is_ascii_digit()
}

fn digits(text: &str, n: usize) -> bool {
    text.len() == n && text.bytes().all(is_digit)
}

/// Outward code `A9`, `A99`, `AA9`, `AA99`, `A9A` or `AA9A`, then inward `9AA`.
fn gb(code: &str) -> bool {
    let b = code.as_bytes();
    if code == "GIR0AA" {
        return true;
    }
    if !(5..=7).contains(&b.len()) {
        return false;
    }
    let (outward, inward) = b.split_at(b.len() - 3);
    let inward_ok = is_digit(inward[0]) && is_letter(inward[1]) && is_letter(inward[2]);
    let outward_ok = match outward {
        [a, d] => is_letter(*a) && is_digit(*d),
        [a, x, y] => is_letter(*a) && ((is_digit(*x) && (is_digit(*y) || is_letter(*y))) || (is_letter(*x) && is_digit(*y))),
        [a, b2, d, y] => is_letter(*a) && is_letter(*b2) && is_digit(*d) && (is_digit(*y) || is_letter(*y)),
        _ => false,
    };
    inward_ok && outward_ok
}

fn us(text: &str) -> bool {
    match text.split_once('-') {
        Some((zip, plus4)) => digits(zip, 5) && digits(plus4, 4),
        None => digits(text, 5),
    }
}

/// Four digits (not starting with 0) and two letters.
fn nl(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 6 && b[0] != b'0' && b[..4].iter().all(|c| is_digit(*c)) && b[4..].iter().all(|c| is_letter(*c))
}

/// Eircode: a routing key (a letter and two digits, or D6W) and four letters or digits.
fn ie(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 7 && (&code[..3] == "D6W" || (is_letter(b[0]) && is_digit(b[1]) && is_digit(b[2]))) && b[3..].iter().all(|c| is_letter(*c) || is_digit(*c))
}

/// `A9A 9A9`, without D, F, I, O, Q or U, and not starting with W or Z.
fn ca(code: &str) -> bool {
    let b = code.as_bytes();
    let letter = |c: u8| is_letter(c) && !b"DFIOQU".contains(&c);
    b.len() == 6 && letter(b[0]) && !b"WZ".contains(&b[0]) && is_digit(b[1]) && letter(b[2]) && is_digit(b[3]) && letter(b[4]) && is_digit(b[5])
}

fn other(text: &str) -> bool {
    (2..=10).contains(&text.len())
        && text.bytes().all(|c| c.is_ascii_alphanumeric() || c == b' ' || c == b'-')
        && text.bytes().any(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, country: &str) -> String {
        parse("postcode", text, country).unwrap_or_else(|e| panic!("{text} in {country}: {e}"))
    }

    fn bad(text: &str, country: &str) {
        assert_eq!(parse("postcode", text, country).unwrap_err().0[0].code, "invalid_postcode", "{text} in {country}");
    }

    #[test]
    fn postcodes_follow_their_countrys_format() {
        assert_eq!(ok(" ls1   4ap ", "GB"), "LS1 4AP");
        assert_eq!(ok("sw1a1aa", "GB"), "SW1A 1AA");
        assert_eq!(ok("M1 1AE", "GB"), "M1 1AE");
        assert_eq!(ok("EC1A 1BB", "GB"), "EC1A 1BB");
        assert_eq!(ok("W1A 0AX", "GB"), "W1A 0AX");
        for b in ["LS1", "12345", "LS1 4A", "1S1 4AP", "LS1 4AP X"] {
            bad(b, "GB");
        }
        assert_eq!(ok("90210", "US"), "90210");
        assert_eq!(ok("90210-1234", "US"), "90210-1234");
        bad("9021", "US");
        assert_eq!(ok("10115", "DE"), "10115");
        bad("1011", "DE");
        assert_eq!(ok("75008", "FR"), "75008");
        assert_eq!(ok("1234ab", "NL"), "1234 AB");
        bad("0234 AB", "NL");
        assert_eq!(ok("a65f4e2", "IE"), "A65 F4E2");
        assert_eq!(ok("D6W 1234", "IE"), "D6W 1234");
        bad("A6 F4E2", "IE");
        assert_eq!(ok("k1a0b1", "CA"), "K1A 0B1");
        bad("W1A 0B1", "CA");
        bad("K1D 0B1", "CA");
        assert_eq!(ok("2000", "AU"), "2000");
        bad("200", "AU");
        assert_eq!(ok("1010", "AT"), "1010");
        assert_eq!(ok("SE-114 55", "SE"), "SE-114 55");
        bad("X", "AT");
        bad("12345678901", "AT");
        bad("10_10", "AT");
    }
}
