//! Sites: service and billing addresses, properties and branches.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use serde_json::Value;

use crate::contact_point::Region;
use crate::custom_fields::{CustomFields, CustomValue, Definitions};
use crate::customer::string_enum;
use crate::error::ValidationErrors;
use crate::ids::{CustomerId, SiteId};
use crate::patch::Patch;
use crate::{postcode, text};

string_enum!(
    /// What an address is used for.
    SiteKind { Billing = "billing", Service = "service", Branch = "branch" }
);

/// The editable part of a site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SiteProfile {
    pub kind: SiteKind,
    /// A name for the place, e.g. "Head office" or "Holiday let".
    pub name: Option<String>,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub town: Option<String>,
    pub region: Option<String>,
    /// Upper-case, single-spaced, in the country's format where it is known
    /// (GB, US, DE, FR, NL, IE, CA, AU).
    pub postcode: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Gate codes, parking, pets: what a fieldworker needs to get in.
    pub access_notes: Option<String>,
    pub active: bool,
    /// Values of the org's site fields by key.
    #[serde(default)]
    #[schema(value_type = HashMap<String, CustomValue>)]
    pub custom_fields: CustomFields,
}

impl SiteProfile {
    /// The postal address, one line each: for letters and statements.
    pub fn address_lines(&self) -> Vec<String> {
        let town = [self.town.as_deref(), Some(self.postcode.as_str())].into_iter().flatten().collect::<Vec<_>>().join(" ");
        [Some(self.address_line1.clone()), self.address_line2.clone(), Some(town), self.region.clone()].into_iter().flatten().collect()
    }

    /// One line for lists and timelines: "1 High St, Leeds LS1 4AP".
    pub fn one_line(&self) -> String {
        let place = [self.town.as_deref(), Some(self.postcode.as_str())].into_iter().flatten().collect::<Vec<_>>().join(" ");
        format!("{}, {place}", self.address_line1)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Site {
    pub id: SiteId,
    pub customer_id: CustomerId,
    #[serde(flatten)]
    pub profile: SiteProfile,
    /// Dormant with its customer: no automated messages about it. Follows
    /// the customer's status; not set on its own.
    pub dormant: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// The body of "add a site".
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteInput {
    pub kind: Option<SiteKind>,
    pub name: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1)]
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub town: Option<String>,
    pub region: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1)]
    pub postcode: Option<String>,
    /// Defaults to the org's country.
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub access_notes: Option<String>,
    pub active: Option<bool>,
    /// Values of the org's site fields by key, each of its field's type.
    #[schema(value_type = Option<HashMap<String, CustomValue>>)]
    pub custom_fields: Option<BTreeMap<String, Value>>,
}

impl SiteInput {
    /// The site, its custom fields checked against `fields` (the org's site fields).
    pub fn parse(self, default_country: Region, fields: &Definitions) -> Result<SiteProfile, ValidationErrors> {
        let custom_fields = fields.apply(CustomFields::new(), self.custom_fields.unwrap_or_default());
        RawSite {
            kind: self.kind.unwrap_or(SiteKind::Service),
            name: self.name,
            address_line1: self.address_line1,
            address_line2: self.address_line2,
            town: self.town,
            region: self.region,
            postcode: self.postcode,
            country: self.country.unwrap_or_else(|| default_country.code()),
            latitude: self.latitude,
            longitude: self.longitude,
            access_notes: self.access_notes,
            active: self.active.unwrap_or(true),
            stored_postcode: false,
            custom_fields,
        }
        .parse()
    }
}

/// The body of "update a site": absent fields stay, `null` clears.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SitePatch {
    pub kind: Option<SiteKind>,
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub address_line1: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub address_line2: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub town: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub region: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub postcode: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub country: Patch<String>,
    #[schema(value_type = Option<f64>)]
    pub latitude: Patch<f64>,
    #[schema(value_type = Option<f64>)]
    pub longitude: Patch<f64>,
    #[schema(value_type = Option<String>)]
    pub access_notes: Patch<String>,
    pub active: Option<bool>,
    /// Merged into the current values; a key set to `null` is removed.
    /// Required fields must keep a value.
    #[schema(value_type = Option<HashMap<String, CustomValue>>)]
    pub custom_fields: Option<BTreeMap<String, Value>>,
}

impl SitePatch {
    /// The site after this patch, checked as a whole (custom fields against
    /// `fields`, the org's site fields).
    pub fn apply(self, current: &SiteProfile, fields: &Definitions) -> Result<SiteProfile, ValidationErrors> {
        let custom_fields = fields.apply(current.custom_fields.clone(), self.custom_fields.unwrap_or_default());
        // A postcode stored before formats were checked stays until it or the country changes.
        let stored_postcode = matches!((&self.postcode, &self.country), (Patch::Keep, Patch::Keep));
        RawSite {
            kind: self.kind.unwrap_or(current.kind),
            name: self.name.into_option(|| current.name.clone()),
            address_line1: self.address_line1.into_option(|| Some(current.address_line1.clone())),
            address_line2: self.address_line2.into_option(|| current.address_line2.clone()),
            town: self.town.into_option(|| current.town.clone()),
            region: self.region.into_option(|| current.region.clone()),
            postcode: self.postcode.into_option(|| Some(current.postcode.clone())),
            country: self.country.into_option(|| Some(current.country.clone())).unwrap_or_default(),
            latitude: self.latitude.apply(current.latitude),
            longitude: self.longitude.apply(current.longitude),
            access_notes: self.access_notes.into_option(|| current.access_notes.clone()),
            active: self.active.unwrap_or(current.active),
            stored_postcode,
            custom_fields,
        }
        .parse()
    }
}

struct RawSite {
    kind: SiteKind,
    name: Option<String>,
    address_line1: Option<String>,
    address_line2: Option<String>,
    town: Option<String>,
    region: Option<String>,
    postcode: Option<String>,
    country: String,
    latitude: Option<f64>,
    longitude: Option<f64>,
    access_notes: Option<String>,
    active: bool,
    /// The postcode is the stored one, unchanged with its country.
    stored_postcode: bool,
    custom_fields: Result<CustomFields, ValidationErrors>,
}

impl RawSite {
    fn parse(self) -> Result<SiteProfile, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let custom_fields = errors.take(self.custom_fields);
        let name = errors.take(text::optional("name", self.name, 100));
        let address_line1 = errors.take(text::required("address_line1", self.address_line1, 200));
        let address_line2 = errors.take(text::optional("address_line2", self.address_line2, 200));
        let town = errors.take(text::optional("town", self.town, 100));
        let region = errors.take(text::optional("region", self.region, 100));
        let access_notes = errors.take(text::optional_multiline("access_notes", self.access_notes, 2000));
        let country = match Region::parse(&self.country) {
            Some(region) if self.country.trim().len() == 2 => Some(region.code()),
            _ => {
                errors.push("country", "invalid_country", "must be a two-letter ISO 3166 country code, e.g. GB");
                None
            }
        };
        let postcode = match errors.take(text::required("postcode", self.postcode, 16)) {
            Some(code) if self.stored_postcode => Some(code),
            Some(code) => errors.take(postcode::parse("postcode", &code, country.as_deref().unwrap_or_default())),
            None => None,
        };
        match (self.latitude, self.longitude) {
            (Some(_), None) | (None, Some(_)) => errors.push("longitude", "incomplete_coordinates", "latitude and longitude go together"),
            _ => {}
        }
        if self.latitude.is_some_and(|v| !(-90.0..=90.0).contains(&v)) {
            errors.push("latitude", "out_of_range", "must be between -90 and 90");
        }
        if self.longitude.is_some_and(|v| !(-180.0..=180.0).contains(&v)) {
            errors.push("longitude", "out_of_range", "must be between -180 and 180");
        }
        match (name, address_line1, address_line2, town, region, postcode, access_notes, (country, custom_fields)) {
            (
                Some(name),
                Some(address_line1),
                Some(address_line2),
                Some(town),
                Some(region),
                Some(postcode),
                Some(access_notes),
                (Some(country), Some(custom_fields)),
            ) if errors.is_empty() => Ok(SiteProfile {
                kind: self.kind,
                name,
                address_line1,
                address_line2,
                town,
                region,
                postcode,
                country,
                latitude: self.latitude,
                longitude: self.longitude,
                access_notes,
                active: self.active,
                custom_fields,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_site_needs_a_first_line_and_postcode_and_sane_coordinates() {
        let input: SiteInput = serde_json::from_value(json!({"latitude": 91.0, "longitude": 0.0, "country": "XX"})).unwrap();
        let err = input.parse(Region::default(), &Definitions::default()).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["address_line1", "country", "postcode", "latitude"]);
    }

    #[test]
    fn postcodes_are_normalised_and_country_defaults_to_the_org() {
        let input: SiteInput = serde_json::from_value(json!({"address_line1": "1 High St", "postcode": " ls1   4ap "})).unwrap();
        let site = input.parse(Region::default(), &Definitions::default()).unwrap();
        assert_eq!(site.postcode, "LS1 4AP");
        assert_eq!(site.country, "GB");
        assert_eq!(site.kind, SiteKind::Service);
        let input: SiteInput = serde_json::from_value(json!({"address_line1": "1 Main St", "postcode": "123", "country": "US"})).unwrap();
        assert_eq!(input.parse(Region::default(), &Definitions::default()).unwrap_err().0[0].code, "invalid_postcode");
    }

    #[test]
    fn a_stored_postcode_stays_valid_until_it_or_the_country_changes() {
        let input: SiteInput = serde_json::from_value(json!({"address_line1": "1 High St", "postcode": "LS1 4AP"})).unwrap();
        let mut site = input.parse(Region::default(), &Definitions::default()).unwrap();
        site.postcode = "OLD-CODE-1".into();
        let rename: SitePatch = serde_json::from_value(json!({"name": "Home"})).unwrap();
        assert_eq!(rename.apply(&site, &Definitions::default()).unwrap().postcode, "OLD-CODE-1");
        let move_country: SitePatch = serde_json::from_value(json!({"country": "DE"})).unwrap();
        assert_eq!(move_country.apply(&site, &Definitions::default()).unwrap_err().0[0].code, "invalid_postcode");
    }
}
