//! Importing customers: the columns a file can fill, and how a file's own
//! column names are mapped onto them.
//!
//! A file's header names are matched, case and punctuation ignored, against
//! our own names and the names other CRMs and accounting tools write in
//! their exports (HubSpot, Salesforce, Zoho, Xero, QuickBooks, Pipedrive),
//! so most files map themselves; a person checks and changes the mapping.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::custom_fields::Definitions;
use crate::customer::string_enum;
use crate::error::ValidationErrors;
use crate::limits::MAX_IMPORT_COLUMNS;

string_enum!(
    /// A column of the import: what a file's column can be mapped to.
    ImportField {
        ExternalRef = "external_ref",
        Kind = "kind",
        Title = "title",
        GivenName = "given_name",
        FamilyName = "family_name",
        FullName = "full_name",
        BusinessName = "business_name",
        Email = "email",
        Phone = "phone",
        Mobile = "mobile",
        Source = "source",
        Status = "status",
        Labels = "labels",
        ContactTitle = "contact_title",
        ContactGivenName = "contact_given_name",
        ContactFamilyName = "contact_family_name",
        ContactName = "contact_full_name",
        ContactPosition = "contact_position",
        ContactEmail = "contact_email",
        ContactPhone = "contact_phone",
        SiteName = "site_name",
        AddressLine1 = "address_line1",
        AddressLine2 = "address_line2",
        Town = "town",
        Region = "region",
        Postcode = "postcode",
        Country = "country",
        AccessNotes = "access_notes",
    }
);

impl ImportField {
    /// What a person reads in the mapping form and the template's header.
    pub fn label(self) -> &'static str {
        match self {
            ImportField::ExternalRef => "Reference",
            ImportField::Kind => "Type",
            ImportField::Title => "Title",
            ImportField::GivenName => "First name",
            ImportField::FamilyName => "Last name",
            ImportField::FullName => "Full name",
            ImportField::BusinessName => "Business name",
            ImportField::Email => "Email",
            ImportField::Phone => "Phone",
            ImportField::Mobile => "Mobile",
            ImportField::Source => "Source",
            ImportField::Status => "Status",
            ImportField::Labels => "Labels",
            ImportField::ContactTitle => "Contact title",
            ImportField::ContactGivenName => "Contact first name",
            ImportField::ContactFamilyName => "Contact last name",
            ImportField::ContactName => "Contact full name",
            ImportField::ContactPosition => "Contact position",
            ImportField::ContactEmail => "Contact email",
            ImportField::ContactPhone => "Contact phone",
            ImportField::SiteName => "Site name",
            ImportField::AddressLine1 => "Address line 1",
            ImportField::AddressLine2 => "Address line 2",
            ImportField::Town => "Town",
            ImportField::Region => "Region",
            ImportField::Postcode => "Postcode",
            ImportField::Country => "Country",
            ImportField::AccessNotes => "Access notes",
        }
    }

    /// A value of the template's example row.
    pub fn example(self) -> &'static str {
        match self {
            ImportField::ExternalRef => "OLD-1001",
            ImportField::Kind => "business",
            ImportField::Title => "",
            ImportField::GivenName => "Ann",
            ImportField::FamilyName => "Smith",
            ImportField::FullName => "",
            ImportField::BusinessName => "Smith Bakery Ltd",
            ImportField::Email => "accounts@smithbakery.example",
            ImportField::Phone => "020 7946 0958",
            ImportField::Mobile => "07700 900123",
            ImportField::Source => "Referral",
            ImportField::Status => "active",
            ImportField::Labels => "vip; wholesale",
            ImportField::ContactTitle => "Mrs",
            ImportField::ContactGivenName => "Ann",
            ImportField::ContactFamilyName => "Smith",
            ImportField::ContactName => "",
            ImportField::ContactPosition => "Owner",
            ImportField::ContactEmail => "ann@smithbakery.example",
            ImportField::ContactPhone => "020 7946 0959",
            ImportField::SiteName => "Shop",
            ImportField::AddressLine1 => "1 High Street",
            ImportField::AddressLine2 => "",
            ImportField::Town => "Leeds",
            ImportField::Region => "West Yorkshire",
            ImportField::Postcode => "LS1 4AP",
            ImportField::Country => "GB",
            ImportField::AccessNotes => "Side door, code 1234",
        }
    }

    /// Header names (folded: lower case, letters and digits only) that mean
    /// this column, besides its own name and label.
    fn synonyms(self) -> &'static [&'static str] {
        match self {
            ImportField::ExternalRef => &[
                "ref",
                "reference",
                "externalref",
                "externalid",
                "externalreference",
                "id",
                "recordid",
                "customerid",
                "customerref",
                "customernumber",
                "customerno",
                "accountnumber",
                "accountno",
                "accountid",
                "contactid",
                "clientid",
                "clientnumber",
            ],
            ImportField::Kind => &["type", "customertype", "clienttype", "accounttype"],
            ImportField::Title => &["salutation", "prefix", "nametitle"],
            ImportField::GivenName => &["firstname", "givenname", "forename", "first", "fname"],
            ImportField::FamilyName => &["lastname", "surname", "familyname", "last", "lname"],
            ImportField::FullName => &["name", "fullname", "customername", "clientname", "displayname", "customer", "client", "person", "personname"],
            ImportField::BusinessName => &[
                "company",
                "companyname",
                "business",
                "businessname",
                "organisation",
                "organization",
                "organizationname",
                "organisationname",
                "accountname",
                "account",
                "contactname",
                "tradingname",
                "employer",
            ],
            ImportField::Email => {
                &["email", "emailaddress", "email1", "primaryemail", "emailwork", "workemail", "mail", "emailaddress1", "personalemail", "emailhome"]
            }
            ImportField::Phone => &[
                "phone",
                "phonenumber",
                "telephone",
                "tel",
                "telephonenumber",
                "businessphone",
                "workphone",
                "phonework",
                "homephone",
                "phonehome",
                "primaryphone",
                "officephone",
                "landline",
                "phone1",
                "ddinumber",
            ],
            ImportField::Mobile => &["mobile", "mobilephone", "mobilenumber", "mobilephonenumber", "cell", "cellphone", "phonemobile", "cellular"],
            ImportField::Source => &["source", "leadsource", "howdidyouhear", "referralsource", "originalsource", "channel"],
            ImportField::Status => &["status", "customerstatus", "accountstatus", "leadstatus"],
            ImportField::Labels => &["labels", "tags", "tag", "label", "groups", "contactgroups", "categories"],
            ImportField::ContactTitle => &[],
            ImportField::ContactGivenName => &["contactfirstname", "contactgivenname", "contactforename"],
            ImportField::ContactFamilyName => &["contactlastname", "contactsurname", "contactfamilyname"],
            ImportField::ContactName => &["contactperson", "attention", "attentionto", "poattentionto", "saattentionto", "primarycontact", "maincontact"],
            ImportField::ContactPosition => &["jobtitle", "position", "role", "contactposition", "contactjobtitle", "designation"],
            ImportField::ContactEmail => &["contactemail", "contactemailaddress"],
            ImportField::ContactPhone => &["contactphone", "contactphonenumber", "directdial"],
            ImportField::SiteName => &["sitename", "site", "propertyname", "locationname"],
            ImportField::AddressLine1 => &[
                "address",
                "address1",
                "addressline1",
                "street",
                "streetaddress",
                "billingstreet",
                "mailingstreet",
                "billingaddress",
                "billingaddressline1",
                "billingaddress1",
                "poaddressline1",
                "saaddressline1",
                "shippingstreet",
                "line1",
                "addressstreet",
            ],
            ImportField::AddressLine2 => {
                &["address2", "addressline2", "street2", "billingaddressline2", "billingaddress2", "poaddressline2", "saaddressline2", "line2"]
            }
            ImportField::Town => {
                &["town", "city", "towncity", "billingcity", "mailingcity", "pocity", "sacity", "shippingcity", "locality", "addresscity", "suburb"]
            }
            ImportField::Region => &[
                "region",
                "county",
                "state",
                "province",
                "stateregion",
                "stateprovince",
                "billingstate",
                "billingstateprovince",
                "mailingstate",
                "poregion",
                "saregion",
                "shippingstate",
                "addressstate",
            ],
            ImportField::Postcode => &[
                "postcode",
                "postalcode",
                "zip",
                "zipcode",
                "postzip",
                "billingzip",
                "billingpostcode",
                "billingpostalcode",
                "billingzippostalcode",
                "mailingzip",
                "mailingpostalcode",
                "mailingzippostalcode",
                "popostalcode",
                "sapostalcode",
                "shippingzip",
                "shippingpostalcode",
                "addresspostalcode",
                "eircode",
            ],
            ImportField::Country => {
                &["country", "countryregion", "billingcountry", "mailingcountry", "pocountry", "sacountry", "shippingcountry", "addresscountry", "countrycode"]
            }
            ImportField::AccessNotes => &["accessnotes", "access", "gatecode", "accessinstructions", "siteaccess"],
        }
    }
}

/// A header name folded for matching: lower case, letters and digits only,
/// accents dropped.
pub fn fold_header(name: &str) -> String {
    deunicode::deunicode(name).chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// What one column of a file becomes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ColumnTarget {
    /// Not imported.
    Ignore,
    /// One of our columns.
    Field(ImportField),
    /// The value of the org's customer custom field with this key.
    Custom(String),
}

impl ColumnTarget {
    /// How the mapping is written in JSON and forms: a field's name,
    /// `cf.<key>`, or empty for "ignore".
    pub fn as_text(&self) -> String {
        match self {
            ColumnTarget::Ignore => String::new(),
            ColumnTarget::Field(field) => field.as_str().to_owned(),
            ColumnTarget::Custom(key) => format!("cf.{key}"),
        }
    }
}

/// What each of a file's columns becomes, by position.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mapping {
    pub columns: Vec<ColumnTarget>,
}

/// A mapping as a client writes it: one entry per column of the file, a
/// field name (`given_name`), `cf.<key>` for a customer custom field, or
/// `null` / `""` to ignore the column.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingInput {
    pub columns: Vec<Option<String>>,
}

impl Mapping {
    /// The mapping suggested for `headers`: each header matched against
    /// our names and other tools' (see the module's comment), then against
    /// the org's customer fields by key and label. A field is suggested for
    /// one column only (the first), so "Phone" and "Home Phone" do not
    /// both become the phone.
    pub fn suggest(headers: &[String], custom: &Definitions) -> Mapping {
        let mut taken: Vec<ColumnTarget> = Vec::new();
        let columns = headers
            .iter()
            .map(|header| {
                let folded = fold_header(header);
                let target = suggest_one(&folded, custom);
                match target {
                    Some(target) if !taken.contains(&target) => {
                        taken.push(target.clone());
                        target
                    }
                    _ => ColumnTarget::Ignore,
                }
            })
            .collect();
        Mapping { columns }
    }

    /// A client's mapping for a file of `columns` columns, checked: known
    /// fields, defined custom fields, each at most once.
    pub fn parse(input: MappingInput, columns: usize, custom: &Definitions) -> Result<Mapping, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if input.columns.len() != columns {
            errors.push("columns", "wrong_column_count", format!("the file has {columns} columns; give one entry for each (null to ignore it)"));
            return Err(errors);
        }
        if columns > MAX_IMPORT_COLUMNS {
            return Err(ValidationErrors::one("columns", "too_many", format!("at most {MAX_IMPORT_COLUMNS} columns")));
        }
        let mut targets = Vec::with_capacity(columns);
        for (i, entry) in input.columns.into_iter().enumerate() {
            let text = entry.unwrap_or_default();
            let text = text.trim();
            let target = if text.is_empty() || text == "ignore" {
                ColumnTarget::Ignore
            } else if let Some(key) = text.strip_prefix("cf.") {
                if custom.get(key).is_none() {
                    errors.push(format!("columns[{i}]"), "unknown_custom_field", format!("'{key}' is not a customer field of this business"));
                    continue;
                }
                ColumnTarget::Custom(key.to_owned())
            } else if let Some(field) = ImportField::parse(text) {
                ColumnTarget::Field(field)
            } else {
                errors.push(format!("columns[{i}]"), "unknown_field", format!("'{}' is not an import column", text.chars().take(64).collect::<String>()));
                continue;
            };
            if target != ColumnTarget::Ignore && targets.contains(&target) {
                errors.push(format!("columns[{i}]"), "mapped_twice", format!("'{}' is already mapped to another column", target.as_text()));
                continue;
            }
            targets.push(target);
        }
        errors.into_result(|| Mapping { columns: targets })
    }

    /// The mapping as a client writes it.
    pub fn to_input(&self) -> MappingInput {
        MappingInput {
            columns: self
                .columns
                .iter()
                .map(|c| match c {
                    ColumnTarget::Ignore => None,
                    other => Some(other.as_text()),
                })
                .collect(),
        }
    }

    /// The column a field is mapped to.
    pub fn column_of(&self, field: ImportField) -> Option<usize> {
        self.columns.iter().position(|c| *c == ColumnTarget::Field(field))
    }

    /// The column a custom field is mapped to.
    pub fn column_of_custom(&self, key: &str) -> Option<usize> {
        self.columns.iter().position(|c| matches!(c, ColumnTarget::Custom(k) if k == key))
    }

    /// Each field's column, for reading rows.
    pub fn fields(&self) -> BTreeMap<ImportField, usize> {
        self.columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c {
                ColumnTarget::Field(f) => Some((*f, i)),
                _ => None,
            })
            .collect()
    }
}

fn suggest_one(folded: &str, custom: &Definitions) -> Option<ColumnTarget> {
    if folded.is_empty() {
        return None;
    }
    for field in ImportField::ALL {
        if fold_header(field.as_str()) == folded || fold_header(field.label()) == folded || field.synonyms().contains(&folded) {
            return Some(ColumnTarget::Field(*field));
        }
    }
    custom.iter().find(|d| fold_header(&d.key) == folded || fold_header(&d.spec.label) == folded).map(|d| ColumnTarget::Custom(d.key.clone()))
}

/// The header of the downloadable template: every column by its label,
/// then the org's customer fields by their labels.
pub fn template_header(custom: &Definitions) -> Vec<String> {
    ImportField::ALL.iter().map(|f| f.label().to_owned()).chain(custom.iter().map(|d| d.spec.label.clone())).collect()
}

/// The template's example row, beside [`template_header`].
pub fn template_example(custom: &Definitions) -> Vec<String> {
    ImportField::ALL.iter().map(|f| f.example().to_owned()).chain(custom.iter().map(|_| String::new())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggested(headers: &[&str]) -> Vec<String> {
        let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        Mapping::suggest(&headers, &Definitions::default()).columns.iter().map(ColumnTarget::as_text).collect()
    }

    #[test]
    fn other_tools_headers_map_themselves() {
        // HubSpot / Salesforce / Zoho style.
        assert_eq!(
            suggested(&["First Name", "Last Name", "Company Name", "E-mail Address", "Mobile Phone", "Billing Street", "Postal Code", "Notes"]),
            ["given_name", "family_name", "business_name", "email", "mobile", "address_line1", "postcode", ""]
        );
        // Xero.
        assert_eq!(
            suggested(&[
                "ContactName",
                "EmailAddress",
                "POAttentionTo",
                "POAddressLine1",
                "POCity",
                "POPostalCode",
                "POCountry",
                "PhoneNumber",
                "AccountNumber"
            ]),
            ["business_name", "email", "contact_full_name", "address_line1", "town", "postcode", "country", "phone", "external_ref"]
        );
        // Salesforce accounts, QuickBooks, Pipedrive.
        assert_eq!(
            suggested(&["Account Name", "Billing City", "Billing State/Province", "Billing Zip/Postal Code"]),
            ["business_name", "town", "region", "postcode"]
        );
        assert_eq!(
            suggested(&["Customer", "Company", "Street Address", "City", "State", "Zip"]),
            ["full_name", "business_name", "address_line1", "town", "region", "postcode"]
        );
        assert_eq!(suggested(&["Name", "Organization", "Email - Work", "Phone - Work"]), ["full_name", "business_name", "email", "phone"]);
    }

    #[test]
    fn a_field_is_suggested_for_its_first_column_only() {
        assert_eq!(suggested(&["Phone", "Home Phone", "Email", "E-mail"]), ["phone", "", "email", ""]);
    }

    #[test]
    fn a_mapping_names_known_fields_once() {
        let input = MappingInput { columns: vec![Some("email".into()), Some("email".into()), Some("nope".into()), Some("cf.gate".into()), None] };
        let errors = Mapping::parse(input, 5, &Definitions::default()).unwrap_err();
        let codes: Vec<&str> = errors.0.iter().map(|e| e.code).collect();
        assert_eq!(codes, ["mapped_twice", "unknown_field", "unknown_custom_field"]);
        let wrong = Mapping::parse(MappingInput { columns: vec![None] }, 2, &Definitions::default()).unwrap_err();
        assert_eq!(wrong.0[0].code, "wrong_column_count");
        let fine = Mapping::parse(MappingInput { columns: vec![Some("family_name".into()), Some("".into())] }, 2, &Definitions::default()).unwrap();
        assert_eq!(fine.columns, [ColumnTarget::Field(ImportField::FamilyName), ColumnTarget::Ignore]);
        assert_eq!(fine.to_input().columns, [Some("family_name".to_owned()), None]);
    }

    #[test]
    fn the_template_maps_itself_completely() {
        let header = template_header(&Definitions::default());
        let mapping = Mapping::suggest(&header, &Definitions::default());
        assert!(mapping.columns.iter().all(|c| *c != ColumnTarget::Ignore), "{mapping:?}");
    }
}
