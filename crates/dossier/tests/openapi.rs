//! The OpenAPI document is generated from the handlers; docs/openapi.json is
//! a copy of it that must stay current (`UPDATE_OPENAPI=1` rewrites it).

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
