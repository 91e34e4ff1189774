//! One row of an import file read into a customer, its first contact and
//! its first site — or the problems found in it, each with its column.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::import::{ColumnTarget, ImportField, Mapping};
use crate::contact::{ContactInput, ContactProfile, EmailInput, EmailKind, PhoneInput, PhoneKind};
use crate::contact_point::{Email, Phone, Region};
use crate::custom_fields::{Definitions, FieldType};
use crate::customer::{CustomerInput, CustomerKind, CustomerStatus, NewCustomer};
use crate::error::ValidationErrors;
use crate::limits::MAX_IMPORT_CELL_CHARS;
use crate::money::Money;
use crate::site::{SiteInput, SiteProfile};

/// A row ready to be created.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedRow {
    pub customer: NewCustomer,
    pub status: CustomerStatus,
    /// The customer's primary contact, when the row names one.
    pub contact: Option<ContactProfile>,
    pub site: Option<SiteProfile>,
    /// The customer's reference in the system the file came from.
    pub external_ref: Option<String>,
    /// Every email (lower case) and phone (E.164) of the row: what
    /// duplicates are found by.
    pub keys: Vec<String>,
}

/// One problem with one row: which column (when it is about one), why
/// (a stable code) and what a person is told.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CellIssue {
    /// The column's position in the file, from 0; none: the whole row.
    pub column: Option<usize>,
    pub code: String,
    pub message: String,
}

impl CellIssue {
    pub fn new(column: Option<usize>, code: &str, message: impl Into<String>) -> Self {
        Self { column, code: code.to_owned(), message: message.into() }
    }
}

/// Reads rows with one mapping, for one org.
pub struct RowReader<'a> {
    mapping: &'a Mapping,
    columns: [Option<usize>; ImportField::ALL.len()],
    region: Region,
    currency: &'a str,
    customer_fields: &'a Definitions,
    site_fields: &'a Definitions,
}

impl<'a> RowReader<'a> {
    /// `region` reads phone numbers and is the sites' default country;
    /// `currency` reads money fields.
    pub fn new(mapping: &'a Mapping, region: Region, currency: &'a str, customer_fields: &'a Definitions, site_fields: &'a Definitions) -> Self {
        let mut columns = [None; ImportField::ALL.len()];
        for (i, target) in mapping.columns.iter().enumerate() {
            if let ColumnTarget::Field(field) = target {
                columns[*field as usize] = Some(i);
            }
        }
        Self { mapping, columns, region, currency, customer_fields, site_fields }
    }

    fn column(&self, field: ImportField) -> Option<usize> {
        self.columns[field as usize]
    }

    fn cell<'c>(&self, cells: &'c [String], field: ImportField) -> Option<&'c str> {
        let text = cells.get(self.column(field)?)?.trim();
        (!text.is_empty()).then_some(text)
    }

    fn owned(&self, cells: &[String], field: ImportField) -> Option<String> {
        self.cell(cells, field).map(str::to_owned)
    }

    /// The row's customer, contact and site, or every problem found in it.
    pub fn read(&self, cells: &[String]) -> Result<ImportedRow, Vec<CellIssue>> {
        let mut issues = Vec::new();
        for (i, cell) in cells.iter().enumerate() {
            if cell.len() > MAX_IMPORT_CELL_CHARS && cell.chars().count() > MAX_IMPORT_CELL_CHARS {
                issues.push(CellIssue::new(Some(i), "too_long", format!("at most {MAX_IMPORT_CELL_CHARS} characters in a cell")));
            }
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        if cells.iter().all(|c| c.trim().is_empty()) {
            return Err(vec![CellIssue::new(None, "empty_row", "the row is empty")]);
        }
        let use_field = |f| self.cell(cells, f);
        let kind = match use_field(ImportField::Kind) {
            Some(text) => match parse_kind(text) {
                Some(kind) => kind,
                None => {
                    issues.push(CellIssue::new(
                        self.column(ImportField::Kind),
                        "unknown_kind",
                        format!("'{text}' is not a customer type: individual or business"),
                    ));
                    CustomerKind::Individual
                }
            },
            None if use_field(ImportField::BusinessName).is_some() => CustomerKind::Business,
            None => CustomerKind::Individual,
        };
        let status = match use_field(ImportField::Status) {
            Some(text) => parse_status(text).unwrap_or_else(|| {
                issues.push(CellIssue::new(
                    self.column(ImportField::Status),
                    "unknown_status",
                    format!("'{text}' is not a status: active, dormant, blocked or deactivated"),
                ));
                CustomerStatus::Active
            }),
            None => CustomerStatus::Active,
        };
        // A person's names: their own columns, else the full name split at its last space.
        let (mut given, mut family) = (self.owned(cells, ImportField::GivenName), self.owned(cells, ImportField::FamilyName));
        let from_full_name = given.is_none() && family.is_none() && use_field(ImportField::FullName).is_some();
        if from_full_name {
            (given, family) = split_name(use_field(ImportField::FullName).unwrap_or_default());
        }
        let phone = self.owned(cells, ImportField::Phone);
        let mobile = self.owned(cells, ImportField::Mobile);
        // An individual's only number is their phone, whichever column it was in.
        let phone_from_mobile = kind == CustomerKind::Individual && phone.is_none() && mobile.is_some();
        let contact_named = [ImportField::ContactTitle, ImportField::ContactGivenName, ImportField::ContactFamilyName, ImportField::ContactName]
            .into_iter()
            .any(|f| use_field(f).is_some());
        let contact_wanted = contact_named
            || [ImportField::ContactPosition, ImportField::ContactEmail, ImportField::ContactPhone].into_iter().any(|f| use_field(f).is_some())
            || (mobile.is_some() && !phone_from_mobile)
            || (kind == CustomerKind::Business && (given.is_some() || family.is_some()));
        let (customer_given, customer_family) = match kind {
            // A business's person is its contact.
            CustomerKind::Business => (None, None),
            CustomerKind::Individual => (given.clone(), family.clone()),
        };
        let mut custom = BTreeMap::new();
        for (i, target) in self.mapping.columns.iter().enumerate() {
            let ColumnTarget::Custom(key) = target else { continue };
            let Some(text) = cells.get(i).map(|c| c.trim()).filter(|c| !c.is_empty()) else { continue };
            match self.custom_value(key, text) {
                Ok(value) => {
                    custom.insert(key.clone(), value);
                }
                Err(issue) => issues.push(CellIssue::new(Some(i), issue.0[0].code, issue.0[0].message.clone())),
            }
        }
        let labels =
            use_field(ImportField::Labels).map(|text| text.split([';', ',', '|']).map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect());
        let input = CustomerInput {
            kind: Some(kind),
            title: if kind == CustomerKind::Individual { self.owned(cells, ImportField::Title) } else { None },
            given_name: customer_given,
            family_name: customer_family,
            business_name: self.owned(cells, ImportField::BusinessName),
            email: self.owned(cells, ImportField::Email),
            phone: if phone_from_mobile { mobile.clone() } else { phone.clone() },
            source: self.owned(cells, ImportField::Source),
            labels,
            custom_fields: Some(custom),
            ..CustomerInput::default()
        };
        let customer = match input.parse(self.region, self.customer_fields) {
            Ok(customer) => Some(customer),
            Err(errors) => {
                for e in errors.0 {
                    let column = match e.field.strip_prefix("custom_fields.") {
                        Some(key) => self.mapping.column_of_custom(key),
                        None => self.customer_column(&e.field, from_full_name, phone_from_mobile),
                    };
                    issues.push(CellIssue::new(column, e.code, e.message));
                }
                None
            }
        };
        let contact = if contact_wanted { self.contact(cells, kind, (&given, &family), &mobile, phone_from_mobile, &mut issues) } else { None };
        let site = self.site(cells, &mut issues);
        let external_ref = self.owned(cells, ImportField::ExternalRef);
        if external_ref.as_ref().is_some_and(|r| r.chars().count() > 100) {
            issues.push(CellIssue::new(self.column(ImportField::ExternalRef), "too_long", "a reference has at most 100 characters"));
        }
        match customer {
            Some(customer) if issues.is_empty() => {
                let mut keys: Vec<String> = Vec::new();
                keys.extend(customer.profile.email.iter().map(|e| e.as_str().to_owned()));
                keys.extend(customer.profile.phone.iter().map(|p| p.as_str().to_owned()));
                if let Some(contact) = &contact {
                    keys.extend(contact.emails.iter().map(|e| e.address.as_str().to_owned()));
                    keys.extend(contact.phones.iter().map(|p| p.number.as_str().to_owned()));
                }
                keys.sort();
                keys.dedup();
                Ok(ImportedRow { customer, status, contact, site, external_ref, keys })
            }
            _ => Err(issues),
        }
    }

    fn custom_value(&self, key: &str, text: &str) -> Result<Value, ValidationErrors> {
        let field = format!("custom_fields.{key}");
        let Some(definition) = self.customer_fields.get(key) else {
            return Err(ValidationErrors::one(field, "unknown_custom_field", "is not a customer field"));
        };
        let value = match definition.spec.field_type {
            FieldType::Text | FieldType::Date | FieldType::Choice => Value::String(text.to_owned()),
            FieldType::Number => match text.replace(',', "").parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                Some(n) => Value::Number(n),
                None => return Err(ValidationErrors::one(field, "invalid_custom_value", format!("'{text}' is not a number"))),
            },
            FieldType::Money => Value::from(Money::parse_decimal(&field, text, self.currency)?.minor()),
            FieldType::YesNo => match text.to_lowercase().as_str() {
                "yes" | "y" | "true" | "1" | "x" => Value::Bool(true),
                "no" | "n" | "false" | "0" => Value::Bool(false),
                _ => return Err(ValidationErrors::one(field, "invalid_custom_value", format!("'{text}' is not yes or no"))),
            },
        };
        Ok(value)
    }

    fn customer_column(&self, field: &str, from_full_name: bool, phone_from_mobile: bool) -> Option<usize> {
        let name = field.split(['[', '.']).next().unwrap_or(field);
        let target = match name {
            "given_name" | "family_name" if from_full_name => ImportField::FullName,
            "phone" if phone_from_mobile => ImportField::Mobile,
            other => ImportField::parse(other)?,
        };
        self.column(target)
    }

    fn contact(
        &self,
        cells: &[String],
        kind: CustomerKind,
        person: (&Option<String>, &Option<String>),
        mobile: &Option<String>,
        phone_from_mobile: bool,
        issues: &mut Vec<CellIssue>,
    ) -> Option<ContactProfile> {
        let use_field = |f| self.owned(cells, f);
        let (mut given, mut family, mut split) = (use_field(ImportField::ContactGivenName), use_field(ImportField::ContactFamilyName), false);
        if given.is_none() && family.is_none() {
            if let Some(full) = use_field(ImportField::ContactName) {
                (given, family) = split_name(&full);
                split = true;
            } else {
                (given, family) = (person.0.clone(), person.1.clone());
            }
        }
        let mut phones = Vec::new();
        let mut phone_columns = Vec::new();
        if let Some(number) = use_field(ImportField::ContactPhone) {
            phones.push(PhoneInput { kind: PhoneKind::Work, number });
            phone_columns.push(ImportField::ContactPhone);
        }
        if let Some(number) = mobile.clone().filter(|_| !phone_from_mobile) {
            phones.push(PhoneInput { kind: PhoneKind::Mobile, number });
            phone_columns.push(ImportField::Mobile);
        }
        let input = ContactInput {
            title: use_field(ImportField::ContactTitle).or_else(|| if kind == CustomerKind::Business { use_field(ImportField::Title) } else { None }),
            given_name: given,
            family_name: family,
            position: use_field(ImportField::ContactPosition),
            emails: Some(use_field(ImportField::ContactEmail).into_iter().map(|address| EmailInput { kind: EmailKind::Work, address }).collect()),
            phones: Some(phones),
            is_primary: Some(true),
            ..ContactInput::default()
        };
        match input.parse(self.region) {
            Ok(contact) => Some(contact),
            Err(errors) => {
                for e in errors.0 {
                    let target = match e.field.split(['[', '.']).next().unwrap_or_default() {
                        "title" => Some(ImportField::ContactTitle),
                        "given_name" | "family_name" if split => Some(ImportField::ContactName),
                        "given_name" if self.column(ImportField::ContactGivenName).is_some() => Some(ImportField::ContactGivenName),
                        "family_name" if self.column(ImportField::ContactFamilyName).is_some() => Some(ImportField::ContactFamilyName),
                        "given_name" => Some(ImportField::GivenName),
                        "family_name" => Some(ImportField::FamilyName),
                        "position" => Some(ImportField::ContactPosition),
                        "emails" => Some(ImportField::ContactEmail),
                        "phones" => phone_index(&e.field).and_then(|i| phone_columns.get(i).copied()),
                        _ => None,
                    };
                    let code = if e.field.ends_with("family_name") && e.code == "required" { "contact_needs_name" } else { e.code };
                    let message =
                        if code == "contact_needs_name" { "a contact needs a last name (map a contact or last name column)".to_owned() } else { e.message };
                    issues.push(CellIssue::new(target.and_then(|t| self.column(t)), code, message));
                }
                None
            }
        }
    }

    fn site(&self, cells: &[String], issues: &mut Vec<CellIssue>) -> Option<SiteProfile> {
        let parts = [
            ImportField::SiteName,
            ImportField::AddressLine1,
            ImportField::AddressLine2,
            ImportField::Town,
            ImportField::Region,
            ImportField::Postcode,
            ImportField::AccessNotes,
        ];
        if !parts.into_iter().any(|f| self.cell(cells, f).is_some()) {
            return None;
        }
        let country = match self.cell(cells, ImportField::Country) {
            Some(text) => match country_code(text) {
                Some(code) => Some(code),
                None => {
                    issues.push(CellIssue::new(self.column(ImportField::Country), "invalid_country", format!("'{text}' is not a country we know")));
                    return None;
                }
            },
            None => None,
        };
        let use_field = |f| self.owned(cells, f);
        let (address_line1, address_line2) = street_lines(use_field(ImportField::AddressLine1), use_field(ImportField::AddressLine2));
        let input = SiteInput {
            name: use_field(ImportField::SiteName),
            address_line1,
            address_line2,
            town: use_field(ImportField::Town),
            region: use_field(ImportField::Region),
            postcode: use_field(ImportField::Postcode),
            country,
            access_notes: use_field(ImportField::AccessNotes),
            ..SiteInput::default()
        };
        match input.parse(self.region, self.site_fields) {
            Ok(site) => Some(site),
            Err(errors) => {
                for e in errors.0 {
                    let name = e.field.split(['[', '.']).next().unwrap_or_default();
                    let target = if name == "name" { Some(ImportField::SiteName) } else { ImportField::parse(name) };
                    let column = target.and_then(|t| self.column(t));
                    let message =
                        if e.code == "required" { format!("{} is needed for an address", target.map(|t| t.label()).unwrap_or(name)) } else { e.message };
                    issues.push(CellIssue::new(column, e.code, message));
                }
                None
            }
        }
    }
}

fn phone_index(field: &str) -> Option<usize> {
    field.strip_prefix("phones[")?.split(']').next()?.parse().ok()
}

/// "Ann Marie Smith" → ("Ann Marie", "Smith"); one word is a last name.
fn split_name(full: &str) -> (Option<String>, Option<String>) {
    let full = full.trim();
    match full.rsplit_once(char::is_whitespace) {
        Some((given, family)) => (Some(given.trim().to_owned()).filter(|g| !g.is_empty()), Some(family.trim().to_owned())),
        None if full.is_empty() => (None, None),
        None => (None, Some(full.to_owned())),
    }
}

fn parse_kind(text: &str) -> Option<CustomerKind> {
    match text.trim().to_lowercase().as_str() {
        "individual" | "person" | "personal" | "private" | "residential" | "consumer" | "domestic" | "i" => Some(CustomerKind::Individual),
        "business" | "company" | "organisation" | "organization" | "commercial" | "corporate" | "b" => Some(CustomerKind::Business),
        _ => None,
    }
}

fn parse_status(text: &str) -> Option<CustomerStatus> {
    match text.trim().to_lowercase().as_str() {
        "active" | "current" => Some(CustomerStatus::Active),
        "dormant" | "inactive" => Some(CustomerStatus::Dormant),
        "blocked" | "on hold" | "on stop" => Some(CustomerStatus::Blocked),
        "deactivated" | "archived" => Some(CustomerStatus::Deactivated),
        _ => None,
    }
}

/// A country as exports write it: a two-letter code, or a few common names.
fn country_code(text: &str) -> Option<String> {
    let folded = super::import::fold_header(text);
    let code = match folded.as_str() {
        "uk" | "unitedkingdom" | "greatbritain" | "england" | "scotland" | "wales" | "northernireland" | "gbr" => "GB",
        "us" | "usa" | "unitedstates" | "unitedstatesofamerica" => "US",
        "ireland" | "eire" | "irl" => "IE",
        "canada" | "can" => "CA",
        "australia" | "aus" => "AU",
        "newzealand" | "nzl" => "NZ",
        "germany" | "deutschland" | "deu" => "DE",
        "france" | "fra" => "FR",
        "netherlands" | "thenetherlands" | "holland" | "nld" => "NL",
        "spain" | "espana" | "esp" => "ES",
        "italy" | "italia" | "ita" => "IT",
        _ if text.trim().len() == 2 && Region::parse(text).is_some() => return Some(text.trim().to_ascii_uppercase()),
        _ => return None,
    };
    Some(code.to_owned())
}

/// What identifies a row when no reference column is mapped: a hash of
/// its cells as written (spaces around them ignored), so the same row of
/// the same file is recognised on any later import, whatever the mapping.
pub fn fingerprint(cells: &[String]) -> String {
    let mut hash = Sha256::new();
    for cell in cells {
        hash.update(cell.trim().as_bytes());
        hash.update([0x1f]);
    }
    hash.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Normalised duplicate keys of a bare email or phone cell (for reports).
pub fn key_of(text: &str, region: Region) -> Option<String> {
    if text.contains('@') {
        Email::parse("email", text).ok().map(|e| e.as_str().to_owned())
    } else {
        Phone::parse("phone", text, region).ok().map(|p| p.as_str().to_owned())
    }
}

/// A street written on several lines in one cell (as CRMs export a
/// "Billing Street"): its first line is the address's first line and the
/// rest, joined with commas, its second, unless the file has a second line
/// of its own, which then follows them.
fn street_lines(line1: Option<String>, line2: Option<String>) -> (Option<String>, Option<String>) {
    let Some(street) = line1 else { return (None, line2) };
    let mut lines = street.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().map(str::to_owned);
    let rest: Vec<&str> = lines.collect();
    if rest.is_empty() {
        return (first.or(Some(street)), line2);
    }
    let mut second = rest.join(", ");
    if let Some(own) = line2.filter(|l| !l.trim().is_empty()) {
        second = format!("{second}, {own}");
    }
    (first, Some(second))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::import::Mapping;

    fn read(headers: &[&str], cells: &[&str]) -> Result<ImportedRow, Vec<CellIssue>> {
        let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        let mapping = Mapping::suggest(&headers, &Definitions::default());
        let cells: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
        let none = Definitions::default();
        RowReader::new(&mapping, Region::default(), "GBP", &none, &none).read(&cells)
    }

    #[test]
    fn an_individual_with_an_address() {
        let row = read(
            &["First Name", "Last Name", "Email", "Mobile Phone", "Street", "City", "Postcode", "Status"],
            &["Ann", "Smith", " ANN@example.com ", "07911 123456", "1 High St", "Leeds", "ls1 4ap", "Inactive"],
        )
        .unwrap();
        let p = &row.customer.profile;
        assert_eq!((p.kind, p.given_name.as_deref(), p.family_name.as_deref()), (CustomerKind::Individual, Some("Ann"), Some("Smith")));
        assert_eq!(p.phone.as_ref().unwrap().as_str(), "+447911123456");
        assert_eq!(row.contact, None);
        assert_eq!(row.site.as_ref().unwrap().postcode, "LS1 4AP");
        assert_eq!(row.status, CustomerStatus::Dormant);
        assert_eq!(row.keys, ["+447911123456", "ann@example.com"]);
    }

    #[test]
    fn a_business_gets_its_person_as_primary_contact() {
        let row = read(&["Company", "First Name", "Last Name", "Mobile", "Phone"], &["Acme Ltd", "Bo", "Jones", "07911 123456", "020 7946 0958"]).unwrap();
        assert_eq!(row.customer.profile.business_name.as_deref(), Some("Acme Ltd"));
        assert_eq!(row.customer.profile.family_name, None);
        let contact = row.contact.unwrap();
        assert_eq!((contact.family_name.as_str(), contact.is_primary), ("Jones", true));
        assert_eq!(contact.phones[0].number.as_str(), "+447911123456");
    }

    #[test]
    fn problems_name_their_columns() {
        let issues = read(&["Last Name", "Email", "Phone", "Status", "Type"], &["Smith", "not-an-email", "12", "gold", "alien"]).unwrap_err();
        let found: Vec<(Option<usize>, &str)> = issues.iter().map(|i| (i.column, i.code.as_str())).collect();
        assert!(found.contains(&(Some(1), "invalid_email")), "{found:?}");
        assert!(found.contains(&(Some(2), "invalid_phone")), "{found:?}");
        assert!(found.contains(&(Some(3), "unknown_status")), "{found:?}");
        assert!(found.contains(&(Some(4), "unknown_kind")), "{found:?}");
        let missing = read(&["First Name", "Email"], &["Ann", "ann@example.com"]).unwrap_err();
        assert_eq!((missing[0].column, missing[0].code.as_str()), (None, "required"));
        let empty = read(&["Last Name"], &["  "]).unwrap_err();
        assert_eq!(empty[0].code, "empty_row");
    }

    #[test]
    fn full_names_and_countries_are_read_as_exports_write_them() {
        let row = read(&["Name", "Address", "Zip", "Country"], &["Mary Ann Lee", "1 Main St", "10001", "United States"]).unwrap();
        assert_eq!((row.customer.profile.given_name.as_deref(), row.customer.profile.family_name.as_deref()), (Some("Mary Ann"), Some("Lee")));
        assert_eq!(row.site.unwrap().country, "US");
    }

    #[test]
    fn a_street_on_several_lines_fills_both_address_lines() {
        let row = read(&["Last Name", "Billing Street", "Postcode"], &["Lee", "Flat 2\r\n1 High St\nBramley", "LS1 4AP"]).unwrap();
        let site = row.site.unwrap();
        assert_eq!((site.address_line1.as_str(), site.address_line2.as_deref()), ("Flat 2", Some("1 High St, Bramley")));
        let row = read(&["Last Name", "Street", "Address 2", "Postcode"], &["Lee", "Flat 2\n1 High St", "Bramley", "LS1 4AP"]).unwrap();
        assert_eq!(row.site.unwrap().address_line2.as_deref(), Some("1 High St, Bramley"));
        let row = read(&["Last Name", "Street", "Postcode"], &["Lee", "1 High St", "LS1 4AP"]).unwrap();
        assert_eq!(row.site.unwrap().address_line2, None);
    }

    #[test]
    fn fingerprints_ignore_surrounding_spaces_only() {
        let a = fingerprint(&["Ann".into(), "Smith ".into()]);
        assert_eq!(a, fingerprint(&[" Ann".into(), "Smith".into()]));
        assert_ne!(a, fingerprint(&["Ann".into(), "Smyth".into()]));
        assert_ne!(fingerprint(&["a b".into(), "".into()]), fingerprint(&["a".into(), "b".into()]));
    }
}
