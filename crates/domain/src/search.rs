//! Search terms: what a customer can be found by, and how a query is read.
//!
//! Terms are lower-case and matched by prefix, so they can be looked up with
//! an index range scan on either database.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::code::CodeRef;
use crate::contact_point::{Email, Phone};
use crate::custom_fields::{CustomValue, FieldDefinition};
use crate::site::SiteProfile;
use crate::text::words;

/// Terms for a person's or business's name.
pub fn name_terms(name: &str) -> Vec<String> {
    words(name).collect()
}

/// The whole address and its domain (`ann@example.com`, `example.com`).
pub fn email_terms(email: &Email) -> Vec<String> {
    let mut terms = vec![email.as_str().to_owned()];
    if let Some((_, domain)) = email.as_str().split_once('@') {
        terms.push(domain.to_owned());
    }
    terms
}

pub fn phone_terms(phone: &Phone) -> Vec<String> {
    phone.search_digits()
}

/// The postcode without spaces and each of its parts (`ls14ap`, `ls1`, `4ap`).
pub fn postcode_terms(postcode: &str) -> Vec<String> {
    let mut terms = vec![postcode.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase()];
    terms.extend(words(postcode));
    terms.sort();
    terms.dedup();
    terms
}

pub fn code_terms(code: &str) -> Vec<String> {
    vec![code.to_lowercase()]
}

/// The words of an address line or a town (`1 High St` → `1`, `high`, `st`).
pub fn address_terms(text: &str) -> Vec<String> {
    words(text).collect()
}

/// What a site gives its customer to be found and filtered by: its
/// postcode, the words of its street and town, and the town's and
/// postcode's facets.
pub fn site_terms(site: &SiteProfile) -> Vec<String> {
    let mut terms = postcode_terms(&site.postcode);
    for text in [Some(&site.address_line1), site.address_line2.as_ref(), site.town.as_ref()].into_iter().flatten() {
        terms.extend(address_terms(text));
    }
    terms.extend(site.town.as_deref().and_then(town_facet));
    terms.extend(postcode_facet(&site.postcode));
    terms
}

// Facets: exact-value filters (a site's town, its postcode, a custom
// field's value) are kept as terms of the same index that search uses, so
// a filtered directory is planned and paged exactly like a search — driven
// from the rarest term or checked while walking the name index — with no
// per-row lookup and no index of their own. A facet starts with U+0001,
// which no term of a name, email, phone, code or address holds and which
// sorts before them all, so a search's prefix never reaches a facet and a
// facet's range holds nothing else. Each facet but the postcode's ends
// with U+0001 too, so that as a prefix it matches its value exactly.

const FACET: char = '\u{1}';

/// The facet of a town: its words, folded as search folds them.
pub fn town_facet(town: &str) -> Option<String> {
    let words: Vec<String> = words(town).collect();
    (!words.is_empty()).then(|| format!("{FACET}town{FACET}{}{FACET}", words.join(" ")))
}

/// The facet of a postcode, without spaces: a filter matches its prefix.
pub fn postcode_facet(postcode: &str) -> Option<String> {
    let compact: String = postcode.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    (!compact.is_empty()).then(|| format!("{FACET}postcode{FACET}{compact}"))
}

/// The facet of one custom field's value (see
/// [`crate::custom_fields::CustomValue::filter_text`]).
pub fn custom_facet(key: &str, filter_text: &str) -> String {
    format!("{FACET}cf{FACET}{key}{FACET}{filter_text}{FACET}")
}

/// The prefix every facet of one custom field starts with.
pub fn custom_facets_of(key: &str) -> String {
    format!("{FACET}cf{FACET}{key}{FACET}")
}

/// Words of one custom value a search finds it by: its first this many
/// distinct words.
pub const MAX_CUSTOM_VALUE_WORDS: usize = 32;
/// Characters of one word a custom value is found by (longer ones are cut;
/// a query's words are cut the same, so a whole long word still finds it).
pub const MAX_WORD_CHARS: usize = 100;

/// The words one record's value of a custom field is found by in the
/// directory's search (`Worcester Bosch` → `worcester`, `bosch`): a text
/// or choice value's, at most [`MAX_CUSTOM_VALUE_WORDS`] of them. Numbers,
/// amounts, dates and yes/no give none: nobody types them into a search
/// box to find a customer (the directory filters by yes/no instead).
pub fn custom_value_terms(definition: &FieldDefinition, value: Option<&CustomValue>) -> Vec<String> {
    let Some(CustomValue::Text(text)) = value.filter(|_| definition.spec.field_type.searchable()) else { return Vec::new() };
    let mut terms: Vec<String> = Vec::new();
    for word in words(text).map(cut) {
        if terms.len() == MAX_CUSTOM_VALUE_WORDS {
            break;
        }
        if !terms.contains(&word) {
            terms.push(word);
        }
    }
    terms
}

/// The source one record's value of one custom field keeps its words under
/// in the search index: its own, made from the field's id and the record's
/// (a customer, site or job), so that exactly that value's words are
/// replaced when it changes and dropped when the field is removed, and two
/// fields with a word in common never share a row.
pub fn custom_value_source(field: Uuid, record: Uuid) -> Uuid {
    let digest = Sha256::new().chain_update(b"dossier custom value\0").chain_update(field.as_bytes()).chain_update(record.as_bytes()).finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

fn cut(mut word: String) -> String {
    // Words are folded to ASCII: a character is a byte.
    word.truncate(MAX_WORD_CHARS);
    word
}

/// The prefixes a query is made of; a customer matches when it has a term
/// starting with each of them. A query is read as a customer code when its
/// prefix is one of `code_prefixes` (the org's and the series' own).
pub fn query_terms(query: &str, code_prefixes: &[&str]) -> Vec<String> {
    let query = query.trim();
    if query.is_empty() {
        return Vec::new();
    }
    if let Some(code) = CodeRef::parse(query).filter(|c| code_prefixes.contains(&c.prefix.as_str())) {
        return code_terms(&code.to_string());
    }
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    let phone_like = query.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if phone_like && digits.len() >= 3 {
        // "00…" is an international prefix and a single leading "0" a trunk
        // prefix: numbers are stored without either.
        let trimmed = query.trim_start();
        let digits = if trimmed.starts_with("00") {
            &digits[2..]
        } else if trimmed.starts_with('0') || trimmed.starts_with("(0") {
            &digits[1..]
        } else {
            &digits[..]
        };
        return vec![digits.to_owned()];
    }
    let domain_like = query.contains('.') && query.split('.').all(|part| !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '-'));
    if !query.contains(char::is_whitespace) && (query.contains('@') || domain_like) {
        return vec![query.to_lowercase()];
    }
    let mut terms: Vec<String> = words(query).map(cut).collect();
    terms.dedup();
    terms.truncate(6);
    terms
}

/// Which of a customer's fields a search matched, for the directory to say
/// why a row is there ("contact: Ann Smith").
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchField {
    Name,
    Code,
    Email,
    Phone,
    ContactName,
    ContactEmail,
    ContactPhone,
    Postcode,
    /// A site's address lines.
    Street,
    Town,
    /// A custom field's value (the customer's own, or one of its sites' or
    /// jobs'); `label` says which field.
    CustomField,
}

/// Why a customer is in a search's results: the field and its text.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SearchMatch {
    pub field: MatchField,
    /// The matching field's text as stored (a contact's name, an email, a postcode…).
    pub text: String,
    /// For a custom field: its label (`Boiler make`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A field a customer can be found by: what it is, its text, and its terms.
pub struct Searchable {
    pub field: MatchField,
    pub text: String,
    pub terms: Vec<String>,
    pub label: Option<String>,
}

impl Searchable {
    pub fn new(field: MatchField, text: impl Into<String>, terms: Vec<String>) -> Self {
        Self { field, text: text.into(), terms, label: None }
    }

    /// A record's value of a custom field, found by its words.
    pub fn custom(definition: &FieldDefinition, value: &CustomValue) -> Self {
        let terms = custom_value_terms(definition, Some(value));
        Self { field: MatchField::CustomField, text: value.shown(), terms, label: Some(definition.spec.label.clone()) }
    }
}

/// The first of `fields` (in the order given: the customer's own before its
/// contacts' and sites') with a term that one of the query's prefixes
/// starts; the same prefix rule the search itself uses.
pub fn why_matched(query: &[String], fields: &[Searchable]) -> Option<SearchMatch> {
    fields.iter().find(|f| f.terms.iter().any(|t| query.iter().any(|q| t.starts_with(q.as_str())))).map(|f| SearchMatch {
        field: f.field,
        text: f.text.clone(),
        label: f.label.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact_point::Region;

    #[test]
    fn a_query_is_read_as_code_phone_email_or_words() {
        let query_terms = |q: &str| super::query_terms(q, &["CUS", "CL"]);
        assert_eq!(query_terms("cus-42"), vec!["cus-00042"]);
        assert_eq!(query_terms("Cl-7"), vec!["cl-00007"]);
        assert_eq!(query_terms("flat-2"), vec!["flat", "2"]);
        assert_eq!(query_terms("+44 7911 123456"), vec!["447911123456"]);
        assert_eq!(query_terms("0044 7911 123456"), vec!["447911123456"]);
        assert_eq!(query_terms("(07911) 123-456"), vec!["7911123456"]);
        assert_eq!(query_terms("Ann@Ex"), vec!["ann@ex"]);
        assert_eq!(query_terms("Example.com"), vec!["example.com"]);
        assert_eq!(query_terms("J. Smith"), vec!["j", "smith"]);
        assert_eq!(query_terms("  Ann  O'Brien "), vec!["ann", "o", "brien"]);
        assert_eq!(query_terms("LS1 4AP"), vec!["ls1", "4ap"]);
        assert!(query_terms("   ").is_empty());
    }

    #[test]
    fn every_written_form_of_a_phone_finds_its_terms() {
        let phone = Phone::parse("p", "07911 123456", Region::default()).unwrap();
        let terms = phone_terms(&phone);
        for query in ["07911 123456", "+44 7911 123456", "7911123", "447911"] {
            let q = &query_terms(query, &["CUS"])[0];
            assert!(terms.iter().any(|t| t.starts_with(q.as_str())), "{query}");
        }
    }

    #[test]
    fn a_match_is_explained_by_the_first_field_that_has_the_query() {
        let fields = [
            Searchable::new(MatchField::Name, "Acme Plumbing", name_terms("Acme Plumbing")),
            Searchable::new(MatchField::ContactName, "John Smith", name_terms("John Smith")),
            Searchable::new(MatchField::Postcode, "LS1 4AP", postcode_terms("LS1 4AP")),
        ];
        let why = |q: &str| why_matched(&query_terms(q, &["CUS"]), &fields).map(|m| (m.field, m.text));
        assert_eq!(why("smi"), Some((MatchField::ContactName, "John Smith".into())));
        assert_eq!(why("acme"), Some((MatchField::Name, "Acme Plumbing".into())));
        assert_eq!(why("ls1 4ap"), Some((MatchField::Postcode, "LS1 4AP".into())));
        assert_eq!(why("zzz"), None);
    }

    fn field(field_type: crate::custom_fields::FieldType) -> FieldDefinition {
        use crate::custom_fields::FieldSpec;
        FieldDefinition {
            id: crate::ids::CustomFieldId::new(),
            entity: crate::custom_fields::FieldEntity::Site,
            key: "k".into(),
            spec: FieldSpec { label: "K".into(), field_type, required: false, options: Vec::new() },
            position: 1,
            created_at: jiff::Timestamp::UNIX_EPOCH,
            updated_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_custom_value_is_found_by_its_first_words_if_text_or_choice() {
        use crate::custom_fields::FieldType;
        let text = |t: &str| CustomValue::Text(t.into());
        assert_eq!(custom_value_terms(&field(FieldType::Text), Some(&text("Worcester-Bosch worcester Über"))), ["worcester", "bosch", "uber"]);
        assert_eq!(custom_value_terms(&field(FieldType::Choice), Some(&text("Heat pump"))), ["heat", "pump"]);
        assert!(custom_value_terms(&field(FieldType::Date), Some(&text("2024-02-29"))).is_empty());
        assert!(custom_value_terms(&field(FieldType::Number), Some(&CustomValue::Number(3.into()))).is_empty());
        assert!(custom_value_terms(&field(FieldType::YesNo), Some(&CustomValue::Bool(true))).is_empty());
        assert!(custom_value_terms(&field(FieldType::Text), None).is_empty());
        let many: String = (0..100).map(|i| format!("w{i} ")).collect();
        assert_eq!(custom_value_terms(&field(FieldType::Text), Some(&text(&many))).len(), MAX_CUSTOM_VALUE_WORDS);
        let long = "ǆ".repeat(1000);
        let terms = custom_value_terms(&field(FieldType::Text), Some(&text(&long)));
        assert_eq!(terms[0].len(), MAX_WORD_CHARS, "a long word is cut");
        assert!(terms[0].starts_with(&query_terms(&long, &["CUS"])[0]), "and a query of it still finds it");
    }

    #[test]
    fn each_records_value_of_each_field_has_a_source_of_its_own() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(custom_value_source(a, b), custom_value_source(a, b));
        assert_ne!(custom_value_source(a, b), custom_value_source(b, a));
        assert!(![a, b].contains(&custom_value_source(a, b)));
    }

    #[test]
    fn facets_are_apart_from_every_search_prefix_and_exact_but_the_postcode() {
        let town = town_facet("  Saint-Étienne ").unwrap();
        assert_eq!(town, "\u{1}town\u{1}saint etienne\u{1}");
        assert!(!town_facet("Leeds").unwrap().starts_with(&town_facet("Lee").unwrap()));
        assert!(postcode_facet("LS1 4AP").unwrap().starts_with(&postcode_facet("ls1").unwrap()));
        assert!(custom_facet("tier", "gold").starts_with(&custom_facets_of("tier")));
        for query in ["a", "0", "ann@example.com", "example.com", "cus-00001"] {
            for term in query_terms(query, &["CUS"]) {
                assert!(term.as_str() > town.as_str() && !town.starts_with(&term), "{query}");
            }
        }
        assert_eq!(town_facet(" - "), None);
    }
}
