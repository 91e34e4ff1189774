//! An org's settings: who the business is on its documents, its currency,
//! time zone and formats, default payment terms, tax rates, and where its
//! number series stand. Every field is read by something: documents and the
//! portal carry the name, address and logo; amounts follow the currency and
//! number format; "today" follows the time zone; dates follow the date
//! format; invoices without terms follow the default terms; a line without a
//! rate gets the default tax rate; new records take the next numbers and
//! their series' prefix.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::code::{CodeKind, MAX_PREFIX_CHARS, check_prefix};
use crate::contact_point::Region;
use crate::currency::{Currency, NumberFormat};
use crate::error::ValidationErrors;
use crate::money::TaxRate;
use crate::terms::PaymentTerms;
use crate::text;

/// Lines of an org's postal address.
pub const MAX_ADDRESS_LINES: usize = 6;
/// Characters in one address line, and in the org's name.
pub const MAX_LINE_CHARS: usize = 200;
/// Tax rates an org may define.
pub const MAX_TAX_RATES: usize = 20;
/// Characters in a tax rate's name.
pub const MAX_TAX_NAME_CHARS: usize = 60;
/// The highest number a series may be set to continue from.
pub const MAX_NEXT_NUMBER: i64 = 99_999_999;

/// How dates are written on pages, documents and in the portal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DateFormat {
    /// `2026-12-07`.
    #[default]
    Iso,
    /// `07/12/2026` (UK, most of Europe).
    DayMonthYear,
    /// `12/07/2026` (US).
    MonthDayYear,
    /// `7 Dec 2026`.
    DayMonthNameYear,
}

impl DateFormat {
    pub const ALL: [DateFormat; 4] = [DateFormat::Iso, DateFormat::DayMonthYear, DateFormat::MonthDayYear, DateFormat::DayMonthNameYear];

    pub fn show(self, date: Date) -> String {
        let pattern = match self {
            DateFormat::Iso => "%Y-%m-%d",
            DateFormat::DayMonthYear => "%d/%m/%Y",
            DateFormat::MonthDayYear => "%m/%d/%Y",
            DateFormat::DayMonthNameYear => "%-d %b %Y",
        };
        date.strftime(pattern).to_string()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DateFormat::Iso => "iso",
            DateFormat::DayMonthYear => "day_month_year",
            DateFormat::MonthDayYear => "month_day_year",
            DateFormat::DayMonthNameYear => "day_month_name_year",
        }
    }

    pub fn parse(text: &str) -> Option<DateFormat> {
        DateFormat::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

/// A named tax rate of the org; one of them (if any) is the default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRateSetting {
    /// "Standard", "Reduced", "Zero", "Sales tax".
    #[schema(max_length = 60)]
    pub name: String,
    /// Basis points: 2000 is 20 %.
    #[schema(value_type = u16, maximum = 10000)]
    pub rate_bp: TaxRate,
    /// The rate a line gets when it names none.
    #[serde(default)]
    pub default: bool,
}

/// An org's settings as read.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OrgSettings {
    pub name: String,
    pub address: Vec<String>,
    pub region: String,
    pub currency: String,
    /// Decimal places of the currency's minor unit (JPY 0, GBP 2, BHD 3):
    /// every amount in the API is in these units.
    pub currency_minor_units: u32,
    /// The currency can no longer change: the org holds amounts in it.
    pub currency_locked: bool,
    pub timezone: String,
    pub date_format: DateFormat,
    pub number_format: NumberFormat,
    pub payment_terms: PaymentTerms,
    pub tax_rates: Vec<TaxRateSetting>,
    /// Per series, the number its next record gets.
    pub next_numbers: BTreeMap<String, i64>,
    /// Per series, the prefix its next record's code gets (records keep the
    /// code they were given).
    pub code_prefixes: BTreeMap<String, String>,
    /// Whether a logo is set (`GET /api/v1/org/logo` serves it).
    pub has_logo: bool,
}

/// A change to an org's settings: fields left out stay as they are.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgSettingsInput {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// Postal address, one line per entry (at most 6 lines of 200 characters);
    /// printed under the name on every document.
    pub address: Option<Vec<String>>,
    /// ISO 3166 alpha-2 country: phone numbers without a country code.
    pub region: Option<String>,
    /// ISO 4217 code; only while the org has no money records (amounts are
    /// stored in the currency's minor units).
    pub currency: Option<String>,
    /// IANA time zone, e.g. `America/New_York`: decides "today".
    pub timezone: Option<String>,
    pub date_format: Option<DateFormat>,
    pub number_format: Option<NumberFormat>,
    /// Terms of customers that have none of their own.
    pub payment_terms: Option<PaymentTerms>,
    /// The whole list (at most 20); at most one default.
    pub tax_rates: Option<Vec<TaxRateSetting>>,
    /// Per series (`customer`, `inquiry`, `quote`, `job`, `invoice`,
    /// `payment`, `credit_note`): the number the next record gets. Never
    /// lower than one already issued.
    #[schema(value_type = Option<BTreeMap<String, i64>>)]
    pub next_numbers: Option<BTreeMap<String, i64>>,
    /// Per series (same keys): the prefix of new records' codes, 1 to 10
    /// letters and digits starting with a letter (`BIL` gives `BIL-00042`),
    /// kept upper-case and different from the other series'. Records made
    /// before keep their codes.
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub code_prefixes: Option<BTreeMap<String, String>>,
}

/// A checked change: what to set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SettingsChange {
    pub name: Option<String>,
    pub address: Option<Vec<String>>,
    pub region: Option<Region>,
    pub currency: Option<Currency>,
    pub timezone: Option<String>,
    pub date_format: Option<DateFormat>,
    pub number_format: Option<NumberFormat>,
    pub payment_terms: Option<PaymentTerms>,
    pub tax_rates: Option<Vec<TaxRateSetting>>,
    pub next_numbers: Vec<(CodeKind, i64)>,
    pub code_prefixes: Vec<(CodeKind, String)>,
}

const UNKNOWN_SERIES: &str = "is not a number series (customer, inquiry, quote, job, invoice, payment, credit_note)";

impl OrgSettingsInput {
    pub fn check(self) -> Result<SettingsChange, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = match self.name {
            Some(name) => errors.take(text::required("name", Some(name), MAX_LINE_CHARS)),
            None => None,
        };
        let address = self.address.and_then(|lines| errors.take(address("address", &lines)));
        let region = self.region.and_then(|r| {
            errors.take(
                Region::parse(&r)
                    .filter(|_| r.trim().len() == 2)
                    .ok_or_else(|| ValidationErrors::one("region", "invalid_country", "must be a two-letter ISO 3166 country code, e.g. GB")),
            )
        });
        let currency = self.currency.and_then(|c| errors.take(Currency::parse("currency", &c)));
        let timezone = self.timezone.and_then(|z| errors.take(timezone("timezone", &z)));
        let payment_terms = self.payment_terms.and_then(|t| errors.take(t.check("payment_terms")));
        let tax_rates = self.tax_rates.and_then(|rates| errors.take(tax_rates("tax_rates", rates)));
        let mut next_numbers = Vec::new();
        for (key, number) in self.next_numbers.unwrap_or_default() {
            let field = format!("next_numbers.{key}");
            match CodeKind::of_counter(&key) {
                None => errors.push(field, "unknown_series", UNKNOWN_SERIES),
                Some(_) if !(1..=MAX_NEXT_NUMBER).contains(&number) => errors.push(field, "out_of_range", format!("must be from 1 to {MAX_NEXT_NUMBER}")),
                Some(kind) => next_numbers.push((kind, number)),
            }
        }
        let mut code_prefixes = Vec::new();
        for (key, prefix) in self.code_prefixes.unwrap_or_default() {
            let field = format!("code_prefixes.{key}");
            match (CodeKind::of_counter(&key), check_prefix(&prefix)) {
                (None, _) => errors.push(field, "unknown_series", UNKNOWN_SERIES),
                (Some(_), None) => errors.push(field, "invalid_prefix", format!("must be 1 to {MAX_PREFIX_CHARS} letters and digits, starting with a letter")),
                (Some(kind), Some(prefix)) => code_prefixes.push((kind, prefix)),
            }
        }
        errors.into_result(|| SettingsChange {
            name,
            address,
            region,
            currency,
            timezone,
            date_format: self.date_format,
            number_format: self.number_format,
            payment_terms,
            tax_rates,
            next_numbers,
            code_prefixes,
        })
    }
}

/// The prefix each series' new records get: the org's choice, else the
/// series' own.
pub fn prefix_of(chosen: &BTreeMap<CodeKind, String>, kind: CodeKind) -> &str {
    chosen.get(&kind).map_or(kind.prefix(), String::as_str)
}

/// The org's chosen prefixes after `change`: a prefix set back to the
/// series' own is forgotten; two series never share one, so a code names
/// one series.
pub fn merge_prefixes(chosen: &BTreeMap<CodeKind, String>, change: &[(CodeKind, String)]) -> Result<BTreeMap<CodeKind, String>, ValidationErrors> {
    let mut merged = chosen.clone();
    for (kind, prefix) in change {
        if prefix == kind.prefix() {
            merged.remove(kind);
        } else {
            merged.insert(*kind, prefix.clone());
        }
    }
    let mut errors = ValidationErrors::default();
    for (kind, _) in change {
        let prefix = prefix_of(&merged, *kind);
        if let Some(other) = CodeKind::ALL.into_iter().find(|k| k != kind && prefix_of(&merged, *k) == prefix) {
            errors.push(
                format!("code_prefixes.{}", kind.counter()),
                "duplicate",
                format!("is the prefix of {} codes already", other.counter().replace('_', " ")),
            );
        }
    }
    errors.into_result(|| merged)
}

/// Address lines, trimmed, blank ones dropped.
pub fn address(field: &str, lines: &[String]) -> Result<Vec<String>, ValidationErrors> {
    if lines.len() > MAX_ADDRESS_LINES {
        return Err(ValidationErrors::one(field, "too_many", format!("at most {MAX_ADDRESS_LINES} lines")));
    }
    let mut errors = ValidationErrors::default();
    let lines = lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| errors.take(text::optional(&format!("{field}[{i}]"), Some(line.clone()), MAX_LINE_CHARS)).flatten())
        .collect();
    errors.into_result(|| lines)
}

/// An IANA time zone this machine knows.
pub fn timezone(field: &str, name: &str) -> Result<String, ValidationErrors> {
    let name = name.trim();
    match jiff::tz::TimeZone::get(name) {
        Ok(_) if !name.is_empty() && name.len() <= 64 => Ok(name.to_owned()),
        _ => Err(ValidationErrors::one(field, "invalid_timezone", "must be an IANA time zone such as Europe/London or America/New_York")),
    }
}

fn tax_rates(field: &str, rates: Vec<TaxRateSetting>) -> Result<Vec<TaxRateSetting>, ValidationErrors> {
    if rates.len() > MAX_TAX_RATES {
        return Err(ValidationErrors::one(field, "too_many", format!("at most {MAX_TAX_RATES} tax rates")));
    }
    let mut errors = ValidationErrors::default();
    let mut checked = Vec::with_capacity(rates.len());
    for (i, rate) in rates.into_iter().enumerate() {
        if let Some(name) = errors.take(text::required(&format!("{field}[{i}].name"), Some(rate.name), MAX_TAX_NAME_CHARS)) {
            if checked.iter().any(|r: &TaxRateSetting| r.name.eq_ignore_ascii_case(&name)) {
                errors.push(format!("{field}[{i}].name"), "duplicate", "names another rate already");
            }
            checked.push(TaxRateSetting { name, ..rate });
        }
        if rate.rate_bp.0 > 10_000 {
            errors.push(format!("{field}[{i}].rate_bp"), "invalid_tax_rate", "must be 0 to 10000 basis points (2000 is 20 %)");
        }
    }
    if checked.iter().filter(|r| r.default).count() > 1 {
        errors.push(field, "several_defaults", "at most one rate is the default");
    }
    errors.into_result(|| checked)
}

/// The rate a line gets when it names none: the default rate, else 0.
pub fn default_tax_rate(rates: &[TaxRateSetting]) -> TaxRate {
    rates.iter().find(|r| r.default).map_or(TaxRate(0), |r| r.rate_bp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(result: Result<SettingsChange, ValidationErrors>) -> Vec<(String, &'static str)> {
        result.err().map(|e| e.0.into_iter().map(|f| (f.field, f.code)).collect()).unwrap_or_default()
    }

    #[test]
    fn settings_are_checked_field_by_field() {
        let input = OrgSettingsInput {
            currency: Some("dollars".into()),
            timezone: Some("Mars/Olympus".into()),
            tax_rates: Some(vec![
                TaxRateSetting { name: "Standard".into(), rate_bp: TaxRate(2000), default: true },
                TaxRateSetting { name: "standard".into(), rate_bp: TaxRate(500), default: true },
            ]),
            next_numbers: Some(BTreeMap::from([("invoice".into(), 0), ("widget".into(), 5)])),
            ..Default::default()
        };
        let mut found = codes(input.check());
        found.sort();
        assert_eq!(
            found,
            vec![
                ("currency".into(), "invalid_currency"),
                ("next_numbers.invoice".into(), "out_of_range"),
                ("next_numbers.widget".into(), "unknown_series"),
                ("tax_rates".into(), "several_defaults"),
                ("tax_rates[1].name".into(), "duplicate"),
                ("timezone".into(), "invalid_timezone"),
            ]
        );
    }

    #[test]
    fn a_valid_change_is_taken_as_given() {
        let input = OrgSettingsInput {
            currency: Some("usd".into()),
            timezone: Some("America/New_York".into()),
            next_numbers: Some(BTreeMap::from([("invoice".into(), 1001)])),
            ..Default::default()
        };
        let change = input.check().unwrap();
        assert_eq!(change.currency.map(Currency::code), Some("USD"));
        assert_eq!(change.timezone.as_deref(), Some("America/New_York"));
        assert_eq!(change.next_numbers, vec![(CodeKind::Invoice, 1001)]);
    }

    #[test]
    fn prefixes_are_checked_merged_and_kept_apart() {
        let input = OrgSettingsInput {
            code_prefixes: Some(BTreeMap::from([("invoice".into(), "bil".into()), ("job".into(), "1JOB".into()), ("widget".into(), "W".into())])),
            ..Default::default()
        };
        let mut found = codes(input.check());
        found.sort();
        assert_eq!(found, vec![("code_prefixes.job".into(), "invalid_prefix"), ("code_prefixes.widget".into(), "unknown_series")]);

        let chosen = merge_prefixes(&BTreeMap::new(), &[(CodeKind::Invoice, "BIL".into())]).unwrap();
        assert_eq!(prefix_of(&chosen, CodeKind::Invoice), "BIL");
        assert_eq!(prefix_of(&chosen, CodeKind::Quote), "EST");
        let clash = merge_prefixes(&chosen, &[(CodeKind::Quote, "BIL".into())]).unwrap_err();
        assert_eq!(clash.0[0].field, "code_prefixes.quote");
        assert_eq!(clash.0[0].code, "duplicate");
        let back = merge_prefixes(&chosen, &[(CodeKind::Invoice, "INV".into())]).unwrap();
        assert!(back.is_empty(), "a prefix set back to the series' own is forgotten");
        let swapped = merge_prefixes(&BTreeMap::new(), &[(CodeKind::Invoice, "EST".into()), (CodeKind::Quote, "INV".into())]).unwrap();
        assert_eq!(prefix_of(&swapped, CodeKind::Quote), "INV");
    }

    #[test]
    fn dates_are_written_the_org_s_way() {
        let day = jiff::civil::date(2026, 3, 7);
        assert_eq!(DateFormat::Iso.show(day), "2026-03-07");
        assert_eq!(DateFormat::DayMonthYear.show(day), "07/03/2026");
        assert_eq!(DateFormat::MonthDayYear.show(day), "03/07/2026");
        assert_eq!(DateFormat::DayMonthNameYear.show(day), "7 Mar 2026");
    }
}
