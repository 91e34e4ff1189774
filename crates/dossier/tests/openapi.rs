//! The OpenAPI document is generated from the handlers; docs/openapi.json is
//! a copy of it that must stay current (`UPDATE_OPENAPI=1` rewrites it).

use dossier_domain::data::import_run::{ImportStatus, ImportStep};
use dossier_service::data::import::RowStatus;
use std::path::PathBuf;

#[test]
fn docs_openapi_json_is_the_generated_document() {
    let generated = dossier_web::openapi().to_pretty_json().unwrap() + "\n";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == generated, "docs/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo nextest run -E 'test(docs_openapi)'`");
}

#[test]
fn every_api_route_is_documented_with_its_errors() {
    let spec: serde_json::Value = serde_json::from_str(&dossier_web::openapi().to_json().unwrap()).unwrap();
    let paths = spec["paths"].as_object().unwrap();
    for path in [
        "/customers",
        "/customers/{id}",
        "/customers/{id}/status",
        "/customers/{id}/labels",
        "/customers/{id}/labels/{label}",
        "/customers/{id}/timeline",
        "/customers/{id}/history",
        "/customers/{id}/status-history",
        "/customers/{id}/contacts",
        "/customers/{id}/sites",
        "/contacts/{id}",
        "/sites/{id}",
        "/sites/{id}/timeline",
    ] {
        let operations = paths.get(path).unwrap_or_else(|| panic!("{path} is not documented")).as_object().unwrap();
        for (method, operation) in operations {
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path} has no success response");
            if path.contains("{id}") {
                assert!(responses.contains_key("404"), "{method} {path} does not document 404");
            }
        }
    }
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
}

/// Every `$ref` in a JSON document, with the JSON path where it sits.
fn refs<'a>(value: &'a serde_json::Value, at: String, found: &mut Vec<(String, &'a str)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", serde_json::Value::String(target)) => found.push((at.clone(), target)),
                    _ => refs(value, format!("{at}/{key}"), found),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                refs(value, format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

fn served_document() -> serde_json::Value {
    serde_json::from_str(&dossier_web::openapi().to_json().unwrap()).unwrap()
}

#[test]
fn every_schema_reference_resolves() {
    let spec = served_document();
    let mut found = Vec::new();
    refs(&spec, String::new(), &mut found);
    assert!(found.len() > 100, "the walk found only {} references", found.len());
    let dangling: Vec<String> = found
        .iter()
        .filter(|(_, target)| target.strip_prefix('#').and_then(|pointer| spec.pointer(pointer)).is_none())
        .map(|(at, target)| format!("{at} -> {target}"))
        .collect();
    assert!(dangling.is_empty(), "references to nothing:\n{}", dangling.join("\n"));
}

/// The strings serde writes (and so reads) for each variant of an enum.
fn spellings<T: serde::Serialize>(variants: &[T]) -> Vec<String> {
    let mut out: Vec<String> =
        variants.iter().map(|v| serde_json::to_value(v).unwrap().as_str().expect("a unit variant serializes as a string").to_owned()).collect();
    out.sort();
    out
}

#[test]
fn every_enum_is_spelled_as_serde_spells_it() {
    use dossier_domain::activity::{ActivityGroup, ActivityKind, ActorType, EntityType, Visibility};
    use dossier_domain::consent::Purpose;
    use dossier_domain::contact::{ContactRole, EmailKind, PhoneKind};
    use dossier_domain::currency::NumberFormat;
    use dossier_domain::custom_fields::{FieldEntity, FieldType};
    use dossier_domain::customer::{CustomerKind, CustomerStatus};
    use dossier_domain::data::merge::Side;
    use dossier_domain::file::MediaType;
    use dossier_domain::follow_up::FollowUpStatus;
    use dossier_domain::message::{CallOutcome, Channel, DeliveryStatus, Direction, RecordType};
    use dossier_domain::orgs::DateFormat;
    use dossier_domain::role::Role;
    use dossier_domain::search::MatchField;
    use dossier_domain::sending::email::{DocumentKind, TlsMode};
    use dossier_domain::sending::inbound::{InboxChannel, InboxStatus};
    use dossier_domain::sending::sms::{Encoding, ReceiptStatus};
    use dossier_domain::site::SiteKind;
    use dossier_domain::tasks::{TaskKind, TaskStatus};
    use dossier_domain::templates::TemplatePurpose;
    use dossier_domain::terms::DueDateSource;
    use dossier_domain::workflow::{InquiryStatus, InvoiceState, InvoiceStatus, JobStatus, PaymentMethod, QuoteStatus};
    use dossier_domain::works::ConvertInto;
    use dossier_service::customers::CustomerSort;
    use dossier_service::follow_ups::FollowUpDue;
    use dossier_service::sending::inbound::IngestOutcome;

    let spec = served_document();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let mut checked = std::collections::BTreeSet::new();
    macro_rules! check {
        ($($ty:ident => $variants:expr),+ $(,)?) => {$(
            let name = stringify!($ty);
            let schema = schemas.get(name).unwrap_or_else(|| panic!("{name} is not in the document"));
            let mut listed: Vec<String> = schema["enum"].as_array().unwrap_or_else(|| panic!("{name} has no enum list")).iter().map(|v| v.as_str().unwrap().to_owned()).collect();
            listed.sort();
            assert_eq!(listed, spellings::<$ty>($variants), "{name}: the document's enum list is not what the server reads and writes");
            checked.insert(name.to_owned());
        )+};
    }
    check!(
        ActivityGroup => ActivityGroup::ALL,
        ActivityKind => ActivityKind::ALL,
        ActorType => ActorType::ALL,
        EntityType => EntityType::ALL,
        Visibility => Visibility::ALL,
        ContactRole => ContactRole::ALL,
        EmailKind => EmailKind::ALL,
        PhoneKind => PhoneKind::ALL,
        CustomerKind => CustomerKind::ALL,
        CustomerStatus => CustomerStatus::ALL,
        Role => Role::ALL,
        SiteKind => SiteKind::ALL,
        InquiryStatus => InquiryStatus::ALL,
        InvoiceState => InvoiceState::ALL,
        InvoiceStatus => InvoiceStatus::ALL,
        JobStatus => JobStatus::ALL,
        PaymentMethod => PaymentMethod::ALL,
        QuoteStatus => QuoteStatus::ALL,
        DueDateSource => &[DueDateSource::Invoice, DueDateSource::Customer, DueDateSource::Org],
        ConvertInto => &[ConvertInto::Quote, ConvertInto::Job],
        Channel => Channel::ALL,
        Direction => Direction::ALL,
        CallOutcome => CallOutcome::ALL,
        RecordType => RecordType::ALL,
        MediaType => MediaType::ALL,
        FollowUpStatus => FollowUpStatus::ALL,
        FollowUpDue => &[FollowUpDue::Overdue, FollowUpDue::Today, FollowUpDue::Upcoming],
        DateFormat => &DateFormat::ALL,
        NumberFormat => &NumberFormat::ALL,
        CustomerSort => &[CustomerSort::Name, CustomerSort::NameDesc, CustomerSort::Code, CustomerSort::CodeDesc],
        MatchField => &[
            MatchField::Name,
            MatchField::Code,
            MatchField::Email,
            MatchField::Phone,
            MatchField::ContactName,
            MatchField::ContactEmail,
            MatchField::ContactPhone,
            MatchField::Postcode,
            MatchField::Street,
            MatchField::Town,
            MatchField::CustomField,
        ],
        FieldEntity => FieldEntity::ALL,
        FieldType => FieldType::ALL,
        TaskKind => TaskKind::ALL,
        TaskStatus => TaskStatus::ALL,
        DeliveryStatus => DeliveryStatus::ALL,
        Purpose => Purpose::ALL,
        Encoding => Encoding::ALL,
        ReceiptStatus => ReceiptStatus::ALL,
        TemplatePurpose => TemplatePurpose::ALL,
        InboxChannel => InboxChannel::ALL,
        InboxStatus => InboxStatus::ALL,
        IngestOutcome => &[IngestOutcome::Received, IngestOutcome::AlreadyReceived, IngestOutcome::Unmatched, IngestOutcome::Bounced],
        TlsMode => TlsMode::ALL,
        DocumentKind => DocumentKind::ALL,
        ImportStatus => ImportStatus::ALL,
        ImportStep => ImportStep::ALL,
        RowStatus => &[RowStatus::Valid, RowStatus::Created, RowStatus::Invalid, RowStatus::DuplicateInFile, RowStatus::AlreadyImported],
        Side => &[Side::Survivor, Side::Merged],
    );
    // A new enum in the document must be added above to be checked.
    let unchecked: Vec<&String> =
        schemas.iter().filter(|(name, schema)| schema.get("enum").is_some() && !checked.contains(*name)).map(|(name, _)| name).collect();
    assert!(unchecked.is_empty(), "enums in the document that this test does not check against serde: {unchecked:?}");
}

#[test]
fn every_error_answer_is_documented_as_a_problem_document() {
    let spec = served_document();
    let mut checked = 0;
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let public = operation["security"].as_array().is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(|o| o.is_empty())));
            let mut expected = vec!["400", "503"];
            if !public {
                expected.extend(["401", "403"]);
            }
            if operation.get("requestBody").is_some() {
                expected.extend(["413", "415", "422"]);
            }
            for status in expected {
                assert!(responses.contains_key(status), "{method} {path} does not document {status}");
            }
            for (status, response) in responses.iter().filter(|(s, _)| s.starts_with('4') || s.starts_with('5')) {
                let content = response["content"].as_object().unwrap_or_else(|| panic!("{method} {path} {status} has no content"));
                assert_eq!(content.keys().collect::<Vec<_>>(), ["application/problem+json"], "{method} {path} {status}");
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "only {checked} error answers checked");
}
