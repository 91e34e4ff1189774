//! Money: integer minor units of the org's currency, quantities in
//! thousandths, tax rates in basis points, and the one rounding rule.
//!
//! The rule: each line's net amount is quantity × unit price, and its tax is
//! net × rate; both are rounded to the minor unit half away from zero, per
//! line. A document's total is the sum of its lines' net amounts and taxes,
//! so every total is the sum of numbers shown on the document.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Neg, Sub};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::currency::MoneyStyle;
use crate::error::ValidationErrors;
use crate::text;

/// An amount in minor units (pence, cents) of the org's currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Money(pub i64);

/// The largest amount a single entry (a unit price, a line, a document's
/// total, a payment, a credit note, an allocation, a job's value) may carry:
/// 10,000,000,000 minor units. Sums of many entries stay far from `i64`
/// overflow, and every sum that is stored is computed with checked
/// arithmetic all the same.
pub const MAX_AMOUNT: i64 = 10_000_000_000;

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn minor(self) -> i64 {
        self.0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// The exact sum, or `None` if it does not fit.
    pub fn checked_sum(amounts: impl IntoIterator<Item = Money>) -> Option<Money> {
        amounts.into_iter().try_fold(Money::ZERO, Money::checked_add)
    }

    /// An amount from −[`MAX_AMOUNT`] to [`MAX_AMOUNT`], for `field`.
    pub fn bounded(field: &str, minor: i64) -> Result<Money, ValidationErrors> {
        if (-MAX_AMOUNT..=MAX_AMOUNT).contains(&minor) {
            Ok(Money(minor))
        } else {
            Err(ValidationErrors::one(field, "too_large", format!("must be from -{MAX_AMOUNT} to {MAX_AMOUNT} minor units")))
        }
    }

    /// A positive amount of at most [`MAX_AMOUNT`], for `field`.
    pub fn positive(field: &str, minor: i64) -> Result<Money, ValidationErrors> {
        if minor <= 0 {
            Err(ValidationErrors::one(field, "not_positive", "must be more than zero (in minor units, e.g. pence)"))
        } else if minor > MAX_AMOUNT {
            Err(ValidationErrors::one(field, "too_large", format!("must be at most {MAX_AMOUNT} minor units")))
        } else {
            Ok(Money(minor))
        }
    }

    /// An amount as people type it, in the style's major units: `12`,
    /// `12.5`, `1,234.56` (or `1.234,56` where the org writes numbers so),
    /// `£12.50`, `-3`. More decimals than the currency has, or anything
    /// else, is an error on `field`.
    pub fn parse_decimal(field: &str, text: &str, style: impl Into<MoneyStyle>) -> Result<Money, ValidationErrors> {
        let style = style.into();
        let exponent = style.currency.exponent();
        let (group, point) = style.numbers.separators();
        let invalid =
            || ValidationErrors::one(field, "invalid_amount", format!("must be an amount such as {}", Money(1250 * 10i64.pow(exponent) / 100).decimal(style)));
        let text: String = text.trim().chars().filter(|c| *c != group && !(group == '\u{202f}' && c.is_whitespace())).collect();
        let (negative, text) = match text.strip_prefix('-') {
            Some(rest) => (true, rest.trim().to_owned()),
            None => (false, text),
        };
        let text = text.strip_prefix(style.currency.prefix()).unwrap_or(&text).trim();
        let text = text.strip_prefix(style.currency.code()).unwrap_or(text).trim();
        let (whole, fraction) = text.split_once(point).unwrap_or((text, ""));
        if whole.is_empty() && fraction.is_empty() || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        if fraction.len() > exponent as usize {
            return Err(ValidationErrors::one(field, "too_many_decimals", format!("has at most {exponent} decimals")));
        }
        let scale = 10i64.pow(exponent);
        let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| invalid())? };
        let fraction: i64 = if fraction.is_empty() { 0 } else { format!("{fraction:0<width$}", width = exponent as usize).parse().map_err(|_| invalid())? };
        let minor = whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(fraction))
            .filter(|m| *m <= MAX_AMOUNT)
            .ok_or_else(|| ValidationErrors::one(field, "too_large", format!("must be at most {}", Money(MAX_AMOUNT).format(style))))?;
        Ok(Money(if negative { -minor } else { minor }))
    }

    /// As a form shows it for editing: `1234.50` (`1234,50` where the org
    /// writes numbers so), no symbol or grouping.
    pub fn decimal(self, style: impl Into<MoneyStyle>) -> String {
        let style = style.into();
        self.written(style, None, "")
    }

    /// Shown with the currency's symbol or code and digit grouping:
    /// `£1,234.56`, `-€0.50`, `CHF 12.00`, `¥1,235`, `BHD 1.250`.
    pub fn format(self, style: impl Into<MoneyStyle>) -> String {
        let style = style.into();
        let prefix = match style.currency.prefix() {
            "" => format!("{} ", style.currency.code()),
            symbol => symbol.to_owned(),
        };
        self.written(style, Some(style.numbers.separators().0), &prefix)
    }

    fn written(self, style: MoneyStyle, group: Option<char>, prefix: &str) -> String {
        let exponent = style.currency.exponent();
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let scale = 10u64.pow(exponent);
        let whole = match group {
            Some(separator) => group_thousands(abs / scale, separator),
            None => (abs / scale).to_string(),
        };
        let point = style.numbers.separators().1;
        if exponent == 0 { format!("{sign}{prefix}{whole}") } else { format!("{sign}{prefix}{whole}{point}{:0width$}", abs % scale, width = exponent as usize) }
    }
}

/// The operators saturate instead of overflowing; they serve figures that are
/// shown, not stored (statements, summaries), over amounts already bounded
/// by [`MAX_AMOUNT`]. Stored sums use [`Money::checked_sum`].
impl Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0))
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(self.0.saturating_neg())
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

fn group_thousands(n: u64, separator: char) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// `n / d` rounded half away from zero (`d > 0`).
pub fn round_div(n: i128, d: i128) -> i128 {
    let half = d / 2;
    if n >= 0 { (n + half) / d } else { (n - half) / d }
}

/// A quantity in thousandths: `1.5` hours is 1500.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(pub i64);

/// At most 1,000,000 units on one line.
const MAX_QUANTITY: i64 = 1_000_000_000;

impl Quantity {
    pub const ONE: Quantity = Quantity(1000);

    /// Parse a JSON number or string with up to three decimals, more than 0.
    pub fn parse(field: &str, value: &Value) -> Result<Quantity, ValidationErrors> {
        let invalid = || ValidationErrors::one(field, "invalid_quantity", "must be a number more than 0 with at most three decimals");
        let text = match value {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.trim().to_owned(),
            _ => return Err(invalid()),
        };
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || whole.len() > 7 || fraction.len() > 3 || !digits_ok(whole) || !digits_ok(fraction) {
            return Err(invalid());
        }
        let whole: i64 = whole.parse().map_err(|_| invalid())?;
        let fraction: i64 = format!("{fraction:0<3}").parse().map_err(|_| invalid())?;
        let milli = whole * 1000 + fraction;
        if milli <= 0 || milli > MAX_QUANTITY {
            return Err(invalid());
        }
        Ok(Quantity(milli))
    }
}

impl fmt::Display for Quantity {
    /// `1.5`, `2`, `0.125`: no trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, fraction) = (self.0 / 1000, self.0 % 1000);
        if fraction == 0 {
            write!(f, "{whole}")
        } else {
            let fraction = format!("{fraction:03}");
            write!(f, "{whole}.{}", fraction.trim_end_matches('0'))
        }
    }
}

impl Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Quantity::parse("quantity", &value).map_err(serde::de::Error::custom)
    }
}

/// A tax rate in basis points: 2000 is 20 %.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct TaxRate(pub u16);

impl TaxRate {
    /// As a percentage without trailing zeros: `20`, `17.5`, `0`.
    pub fn percent(self) -> String {
        let text = Money(i64::from(self.0)).decimal("XXX");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }

    pub fn parse(field: &str, basis_points: i64) -> Result<TaxRate, ValidationErrors> {
        u16::try_from(basis_points)
            .ok()
            .filter(|bp| *bp <= 10_000)
            .map(TaxRate)
            .ok_or_else(|| ValidationErrors::one(field, "invalid_tax_rate", "must be 0 to 10000 basis points (2000 is 20 %)"))
    }
}

/// One line of a quote or invoice as sent by a client.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    #[schema(value_type = String, required = true, min_length = 1)]
    pub description: Option<String>,
    /// A number with up to three decimals (e.g. `1.5`), as a JSON number or string; default 1.
    #[schema(value_type = Option<String>)]
    pub quantity: Option<Value>,
    /// Price of one unit in minor units; negative for a discount line.
    #[schema(value_type = i64, required = true)]
    pub unit_price: Option<i64>,
    /// Basis points: 2000 is 20 %. Default: the org's default tax rate (0 if it has none).
    pub tax_rate_bp: Option<i64>,
}

/// A checked line with its amounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Line {
    pub description: String,
    #[schema(value_type = String)]
    pub quantity: Quantity,
    pub unit_price: Money,
    pub tax_rate_bp: TaxRate,
    /// Quantity × unit price, rounded.
    pub net: Money,
    /// Net × tax rate, rounded.
    pub tax: Money,
}

impl Line {
    /// A line whose net amount is at most [`MAX_AMOUNT`] either way, or `None`.
    pub fn checked(description: String, quantity: Quantity, unit_price: Money, tax_rate: TaxRate) -> Option<Self> {
        let (net, tax) = Line::amounts(quantity, unit_price, tax_rate);
        if net.unsigned_abs() > MAX_AMOUNT as u128 {
            return None;
        }
        // |tax| ≤ |net| ≤ MAX_AMOUNT: both fit.
        Some(Line { description, quantity, unit_price, tax_rate_bp: tax_rate, net: Money(net as i64), tax: Money(tax as i64) })
    }

    /// A line from amounts checked already (an inquiry's value, a plan's
    /// price), which keep it within [`MAX_AMOUNT`]. Parsing input goes
    /// through [`Line::checked`]; here an amount beyond `i64` could only
    /// come from unchecked values and is held at `i64`'s bounds.
    pub fn new(description: String, quantity: Quantity, unit_price: Money, tax_rate: TaxRate) -> Self {
        let (net, tax) = Line::amounts(quantity, unit_price, tax_rate);
        let fit = |v: i128| Money(v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64);
        Line { description, quantity, unit_price, tax_rate_bp: tax_rate, net: fit(net), tax: fit(tax) }
    }

    /// Net and tax, exactly, in i128: |quantity × price| ≤ 10^9 × 2^63 and
    /// |net × rate| ≤ 10^25 × 10^4 cannot overflow it.
    fn amounts(quantity: Quantity, unit_price: Money, tax_rate: TaxRate) -> (i128, i128) {
        let net = round_div(i128::from(quantity.0) * i128::from(unit_price.0), 1000);
        (net, round_div(net * i128::from(tax_rate.0), 10_000))
    }
}

/// Lines allowed on one document.
pub const MAX_LINES: usize = 500;

/// Characters in one line's description.
pub const MAX_LINE_DESCRIPTION_CHARS: usize = 500;

impl LineInput {
    fn parse(self, field: &str) -> Result<Line, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let description = errors.take(text::required(&format!("{field}.description"), self.description, MAX_LINE_DESCRIPTION_CHARS));
        let quantity = match &self.quantity {
            None => Some(Quantity::ONE),
            Some(value) => errors.take(Quantity::parse(&format!("{field}.quantity"), value)),
        };
        let unit_price = match self.unit_price {
            None => errors.take(Err(ValidationErrors::one(format!("{field}.unit_price"), "required", "is required (minor units)"))),
            Some(p) => errors.take(Money::bounded(&format!("{field}.unit_price"), p)),
        };
        let tax_rate = errors.take(TaxRate::parse(&format!("{field}.tax_rate_bp"), self.tax_rate_bp.unwrap_or(0)));
        match (description, quantity, unit_price, tax_rate) {
            (Some(d), Some(q), Some(p), Some(t)) if errors.is_empty() => Line::checked(d, q, p, t)
                .ok_or_else(|| ValidationErrors::one(field, "too_large", format!("a line's amount must be at most {MAX_AMOUNT} minor units either way"))),
            _ => Err(errors),
        }
    }

    /// Parse a document's lines: at least one, at most [`MAX_LINES`], and a
    /// total from 0 to [`MAX_AMOUNT`].
    pub fn parse_all(field: &str, lines: Vec<LineInput>) -> Result<Vec<Line>, ValidationErrors> {
        if lines.is_empty() {
            return Err(ValidationErrors::one(field, "required", "needs at least one line"));
        }
        if lines.len() > MAX_LINES {
            return Err(ValidationErrors::one(field, "too_many", format!("at most {MAX_LINES} lines")));
        }
        let mut errors = ValidationErrors::default();
        let parsed: Vec<Line> = lines.into_iter().enumerate().filter_map(|(i, l)| errors.take(l.parse(&format!("{field}[{i}]")))).collect();
        if errors.is_empty() {
            match Totals::checked(&parsed) {
                Some(totals) if totals.total.0 < 0 => errors.push(field, "negative_total", "the lines add up to less than zero"),
                Some(totals) if totals.total.0 <= MAX_AMOUNT => {}
                _ => errors.push(field, "too_large", format!("the lines add up to more than {MAX_AMOUNT} minor units")),
            }
        }
        errors.into_result(|| parsed)
    }
}

/// A document's amounts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub subtotal: Money,
    pub tax: Money,
    pub total: Money,
}

impl Totals {
    /// The exact sums, or `None` if one does not fit in an `i64`.
    pub fn checked(lines: &[Line]) -> Option<Totals> {
        let subtotal = Money::checked_sum(lines.iter().map(|l| l.net))?;
        let tax = Money::checked_sum(lines.iter().map(|l| l.tax))?;
        Some(Totals { subtotal, tax, total: subtotal.checked_add(tax)? })
    }

    /// The sums of lines parsed by [`LineInput::parse_all`], whose total is
    /// bounded by [`MAX_AMOUNT`] (and so cannot overflow).
    pub fn of(lines: &[Line]) -> Totals {
        Totals::checked(lines).unwrap_or_else(|| {
            let subtotal: Money = lines.iter().map(|l| l.net).sum();
            let tax: Money = lines.iter().map(|l| l.tax).sum();
            Totals { subtotal, tax, total: subtotal + tax }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_as_people_type_them() {
        let parse = |text: &str| Money::parse_decimal("amount", text, "GBP").map(|m| m.0).map_err(|e| e.0[0].code);
        assert_eq!(parse("12"), Ok(1200));
        assert_eq!(parse("12.5"), Ok(1250));
        assert_eq!(parse(" £1,234.56 "), Ok(123456));
        assert_eq!(parse("-3"), Ok(-300));
        assert_eq!(parse(".75"), Ok(75));
        assert_eq!(parse("1.234"), Err("too_many_decimals"));
        assert_eq!(parse("12a"), Err("invalid_amount"));
        assert_eq!(parse(""), Err("invalid_amount"));
        assert_eq!(parse("."), Err("invalid_amount"));
        assert_eq!(parse("999999999999999999"), Err("too_large"));
        assert_eq!(Money::parse_decimal("amount", "1500", "JPY").map(|m| m.0), Ok(1500));
        assert_eq!(Money(123450).decimal("GBP"), "1234.50");
        assert_eq!(Money(-5).decimal("GBP"), "-0.05");
    }
    use serde_json::json;

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_div(5, 10), 1);
        assert_eq!(round_div(4, 10), 0);
        assert_eq!(round_div(-5, 10), -1);
        assert_eq!(round_div(-4, 10), 0);
        assert_eq!(round_div(15, 10), 2);
    }

    #[test]
    fn line_amounts_are_rounded_per_line() {
        // 1.5 × £33.33 = £49.995 → £50.00; 20 % tax = £10.00.
        let line = Line::new("Labour".into(), Quantity(1500), Money(3333), TaxRate(2000));
        assert_eq!((line.net, line.tax), (Money(5000), Money(1000)));
        // 17.5 % of £0.03 = 0.525p → 1p.
        let line = Line::new("Washer".into(), Quantity::ONE, Money(3), TaxRate(1750));
        assert_eq!(line.tax, Money(1));
        let totals =
            Totals::of(&[Line::new("a".into(), Quantity::ONE, Money(1001), TaxRate(2000)), Line::new("b".into(), Quantity::ONE, Money(1001), TaxRate(2000))]);
        // Each line's tax is 200.2 → 200; the document's is their sum.
        assert_eq!(totals, Totals { subtotal: Money(2002), tax: Money(400), total: Money(2402) });
    }

    #[test]
    fn quantities_parse_from_numbers_and_strings() {
        assert_eq!(Quantity::parse("q", &json!(2)).unwrap(), Quantity(2000));
        assert_eq!(Quantity::parse("q", &json!(1.5)).unwrap(), Quantity(1500));
        assert_eq!(Quantity::parse("q", &json!("0.125")).unwrap(), Quantity(125));
        for bad in [json!(0), json!(-1), json!(1.2345), json!("1e3"), json!("abc"), json!(null), json!(true), json!(1e300)] {
            assert!(Quantity::parse("q", &bad).is_err(), "{bad}");
        }
        assert_eq!(Quantity(1500).to_string(), "1.5");
        assert_eq!(Quantity(2000).to_string(), "2");
    }

    #[test]
    fn lines_are_checked_together() {
        let lines = vec![
            LineInput { description: Some("Service".into()), unit_price: Some(1000), ..Default::default() },
            LineInput { description: None, unit_price: None, tax_rate_bp: Some(20_001), ..Default::default() },
        ];
        let errors = LineInput::parse_all("lines", lines).unwrap_err();
        let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["lines[1].description", "lines[1].unit_price", "lines[1].tax_rate_bp"]);
        let discount_only = vec![LineInput { description: Some("Discount".into()), unit_price: Some(-500), ..Default::default() }];
        assert_eq!(LineInput::parse_all("lines", discount_only).unwrap_err().0[0].code, "negative_total");
        assert_eq!(LineInput::parse_all("lines", vec![]).unwrap_err().0[0].code, "required");
    }

    #[test]
    fn extreme_unit_prices_are_refused_not_wrapped() {
        let line = |price: i64, quantity: Value| {
            LineInput::parse_all(
                "lines",
                vec![LineInput { description: Some("x".into()), unit_price: Some(price), quantity: Some(quantity), ..Default::default() }],
            )
            .map(|lines| lines[0].net.0)
            .map_err(|e| e.0[0].code)
        };
        // i64::MIN's abs() wraps: it used to pass the check, and × 2 gave a net of 0.
        assert_eq!(line(i64::MIN, json!(2)), Err("too_large"));
        assert_eq!(line(i64::MAX, json!(2)), Err("too_large"));
        assert_eq!(line(MAX_AMOUNT + 1, json!(1)), Err("too_large"));
        assert_eq!(line(-MAX_AMOUNT - 1, json!(1)), Err("too_large"));
        assert_eq!(line(MAX_AMOUNT, json!(1)), Ok(MAX_AMOUNT));
        assert_eq!(line(MAX_AMOUNT, json!(2)), Err("too_large"));
        assert_eq!(line(1, json!(1_000_000)), Ok(1_000_000));
        // Two lines at the bound add up to more than one document may carry.
        let two = vec![LineInput { description: Some("x".into()), unit_price: Some(MAX_AMOUNT), ..Default::default() }; 2];
        assert_eq!(LineInput::parse_all("lines", two).unwrap_err().0[0].code, "too_large");
        let many = vec![LineInput { description: Some("x".into()), unit_price: Some(1), ..Default::default() }; MAX_LINES + 1];
        assert_eq!(LineInput::parse_all("lines", many).unwrap_err().0[0].code, "too_many");
        assert_eq!(Money::checked_sum([Money(i64::MAX), Money(1)]), None);
    }

    #[test]
    fn money_formats_with_symbol_and_grouping() {
        assert_eq!(Money(123_456).format("GBP"), "£1,234.56");
        assert_eq!(Money(-50).format("EUR"), "-€0.50");
        assert_eq!(Money(1200).format("CHF"), "CHF 12.00");
        assert_eq!(Money(1_000_000).format("JPY"), "¥1,000,000");
        assert_eq!(Money(1250).format("BHD"), "BHD 1.250");
        assert_eq!(Money(i64::MIN).format("GBP"), "-£92,233,720,368,547,758.08");
    }

    #[test]
    fn amounts_follow_the_currency_s_minor_units_and_the_org_s_number_format() {
        use crate::currency::{Currency, MoneyStyle, NumberFormat};
        let euro_de = MoneyStyle::new(Currency::of("EUR").unwrap(), NumberFormat::DotComma);
        assert_eq!(Money(12_345_678).format(euro_de), "€123.456,78");
        assert_eq!(Money(12_345_678).decimal(euro_de), "123456,78");
        assert_eq!(Money::parse_decimal("a", "1.234,5", euro_de), Ok(Money(123_450)));
        let franc = MoneyStyle::new(Currency::of("CHF").unwrap(), NumberFormat::ApostropheDot);
        assert_eq!(Money(12_345_678).format(franc), "CHF 123'456.78");
        assert_eq!(Money::parse_decimal("a", "12.5", "JPY").unwrap_err().0[0].code, "too_many_decimals");
        assert_eq!(Money::parse_decimal("a", "1,234", "JPY"), Ok(Money(1234)));
        assert_eq!(Money::parse_decimal("a", "BHD 1.25", "BHD"), Ok(Money(1250)));
        assert_eq!(Money::parse_decimal("a", "$1,000.10", "USD"), Ok(Money(100_010)));
    }
}
