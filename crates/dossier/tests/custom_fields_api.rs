//! Typed custom fields through the JSON API, and the directory's search by
//! street and town and its filters, on SQLite and PostgreSQL.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

async fn define(app: &common::TestApp, body: Value) -> Value {
    let (status, field) = app.post("/custom-fields", body).await;
    assert_eq!(status, StatusCode::CREATED, "{field}");
    field
}

fn codes(page: &Value) -> Vec<&str> {
    page["items"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect()
}

fn refusal(problem: &Value) -> (&str, &str) {
    (problem["errors"][0]["field"].as_str().unwrap_or_default(), problem["errors"][0]["code"].as_str().unwrap_or_default())
}

both_backends!(only_admins_define_fields_and_every_change_is_recorded, |app| {
    let (_, office) = app.user("office").await;
    let body = json!({"entity": "customer", "key": "tier", "label": "Tier", "type": "choice", "options": ["Gold", "Silver"]});
    let (status, _) = app.call_as(Some(&office), Method::POST, "/custom-fields", Some(body.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let tier = define(&app, body.clone()).await;
    assert_eq!((tier["position"].as_i64(), tier["type"].as_str()), (Some(1), Some("choice")));
    let (status, problem) = app.post("/custom-fields", body).await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("key", "custom_field_exists")));
    define(&app, json!({"entity": "customer", "key": "vip", "label": "VIP", "type": "yes_no"})).await;

    // Staff read them; only admins change, order and remove them.
    let (status, listed) = app.call_as(Some(&office), Method::GET, "/custom-fields?entity=customer", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap()).collect::<Vec<_>>(), ["tier", "vip"]);
    let path = format!("/custom-fields/{}", tier["id"].as_str().unwrap());
    let (status, _) = app.call_as(Some(&office), Method::PATCH, &path, Some(json!({"label": "Level"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, changed) = app.patch(&path, json!({"label": "Level", "options": ["Gold", "Silver", "Bronze"]})).await;
    assert_eq!((status, changed["label"].as_str()), (StatusCode::OK, Some("Level")), "{changed}");
    let (status, ordered) = app.call(Method::PUT, "/custom-fields/order", Some(json!({"entity": "customer", "keys": ["vip", "tier"]}))).await;
    assert_eq!(status, StatusCode::OK, "{ordered}");
    assert_eq!((ordered[0]["key"].as_str(), ordered[1]["position"].as_i64()), (Some("vip"), Some(2)));
    let (status, problem) = app.call(Method::PUT, "/custom-fields/order", Some(json!({"entity": "customer", "keys": ["vip"]}))).await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("keys", "not_every_field")));
    let (status, _) = app.delete(&path).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let kinds = app.log_kinds(&app.org).await;
    for kind in ["custom_field.defined", "custom_field.updated", "custom_field.reordered", "custom_field.removed"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
});

both_backends!(values_are_checked_by_type_and_required_fields_on_create_and_update, |app| {
    define(&app, json!({"entity": "customer", "key": "tier", "label": "Tier", "type": "choice", "options": ["Gold", "Silver"], "required": true})).await;
    define(&app, json!({"entity": "customer", "key": "deposit", "label": "Deposit", "type": "money"})).await;
    define(&app, json!({"entity": "site", "key": "parking", "label": "Parking", "type": "yes_no", "required": true})).await;
    define(&app, json!({"entity": "job", "key": "next_service", "label": "Next service", "type": "date"})).await;
    let before = app.count("customer").await;

    let (status, problem) = app.post("/customers", json!({"family_name": "Lee", "custom_fields": {"deposit": 1250}})).await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("custom_fields.tier", "required")));
    let (status, problem) = app.post("/customers", json!({"family_name": "Lee", "custom_fields": {"tier": "Bronze"}})).await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("custom_fields.tier", "not_an_option")));
    let (status, problem) = app.post("/customers", json!({"family_name": "Lee", "custom_fields": {"tier": "Gold", "deposit": 12.5}})).await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("custom_fields.deposit", "invalid_custom_value")));
    let (status, problem) = app.post("/customers", json!({"family_name": "Lee", "custom_fields": {"tier": "Gold", "shoe_size": 9}})).await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("custom_fields.shoe_size", "unknown_custom_field")));
    assert_eq!(app.count("customer").await, before, "nothing was written");

    let customer = app.customer(json!({"family_name": "Lee", "custom_fields": {"tier": "Gold", "deposit": 1250}})).await;
    assert_eq!(customer["custom_fields"], json!({"tier": "Gold", "deposit": 1250}));
    let (status, problem) = app.patch("/customers/CUS-00001", json!({"custom_fields": {"tier": null}})).await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("custom_fields.tier", "required")));

    // Sites and jobs: the same, through their own routes.
    let (status, problem) = app.post("/customers/CUS-00001/sites", json!({"address_line1": "1 Mill Lane", "postcode": "LS6 2AB"})).await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("custom_fields.parking", "required")));
    let (status, site) =
        app.post("/customers/CUS-00001/sites", json!({"address_line1": "1 Mill Lane", "postcode": "LS6 2AB", "custom_fields": {"parking": true}})).await;
    assert_eq!((status, &site["custom_fields"]), (StatusCode::CREATED, &json!({"parking": true})), "{site}");
    let (status, problem) = app.patch(&format!("/sites/{}", site["id"].as_str().unwrap()), json!({"custom_fields": {"parking": "yes"}})).await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("custom_fields.parking", "invalid_custom_value")));
    let (status, job) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "Boiler", "custom_fields": {"next_service": "2027-02-30"}})).await;
    assert_eq!((status, refusal(&job)), (StatusCode::UNPROCESSABLE_ENTITY, ("custom_fields.next_service", "invalid_custom_value")));
    let (_, job) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "Boiler", "custom_fields": {"next_service": "2027-02-01"}})).await;
    let (status, updated) = app.patch(&format!("/jobs/{}", job["code"].as_str().unwrap()), json!({"custom_fields": {"next_service": "2028-02-01"}})).await;
    assert_eq!((status, &updated["custom_fields"]), (StatusCode::OK, &json!({"next_service": "2028-02-01"})), "{updated}");
    let (_, timeline) = app.get(&format!("/jobs/{}/timeline", job["code"].as_str().unwrap())).await;
    let update = timeline["items"].as_array().unwrap().iter().find(|e| e["kind"] == "job.updated").expect("job.updated");
    assert_eq!(update["changes"][0], json!({"field": "custom_fields.next_service", "old": "2027-02-01", "new": "2028-02-01"}));
});

both_backends!(a_type_change_is_refused_while_values_exist_and_a_removed_field_stays_in_history, |app| {
    let gate = define(&app, json!({"entity": "customer", "key": "gate", "label": "Gate code", "type": "text"})).await;
    let path = format!("/custom-fields/{}", gate["id"].as_str().unwrap());
    let (status, _) = app.patch(&path, json!({"type": "number"})).await;
    assert_eq!(status, StatusCode::OK, "no values yet: the type may change");
    let (status, _) = app.patch(&path, json!({"type": "text"})).await;
    assert_eq!(status, StatusCode::OK);
    app.customer(json!({"family_name": "Lee"})).await;
    app.patch("/customers/CUS-00001", json!({"custom_fields": {"gate": "1234"}})).await;
    let (status, problem) = app.patch(&path, json!({"type": "number"})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("custom_field_in_use")), "{problem}");

    let (status, _) = app.delete(&path).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, customer) = app.get("/customers/CUS-00001").await;
    assert_eq!(customer["custom_fields"], json!({}), "the values left the records");
    let (_, history) = app.get("/customers/CUS-00001/history").await;
    let change = &history["items"][0]["changes"][0];
    assert_eq!((change["field"].as_str(), change["new"].as_str()), (Some("custom_fields.gate"), Some("1234")), "{history}");
    let (status, page) = app.get("/customers?cf.gate=1234").await;
    assert_eq!((status, refusal(&page)), (StatusCode::UNPROCESSABLE_ENTITY, ("cf.gate", "unknown_custom_field")));
});

both_backends!(the_directory_finds_by_street_and_town_and_filters_by_town_postcode_and_field, |app| {
    define(&app, json!({"entity": "customer", "key": "tier", "label": "Tier", "type": "choice", "options": ["Gold", "Silver"]})).await;
    define(&app, json!({"entity": "customer", "key": "note", "label": "Note", "type": "text"})).await;
    define(&app, json!({"entity": "customer", "key": "dogs", "label": "Dogs", "type": "number"})).await;
    let people = [
        ("Lee", "12 Mill Lane", "Leeds", "LS6 2AB", "Gold", "Side gate"),
        ("Khan", "3 Harbour Road", "Saint-Étienne", "42000", "Silver", "Ring"),
        ("Ode", "7 Station Street", "Leeds", "LS1 4AP", "Silver", "side gate"),
    ];
    for (name, street, town, postcode, tier, note) in people {
        let customer = app.customer(json!({"family_name": name, "custom_fields": {"tier": tier, "note": note}})).await;
        let country = if postcode == "42000" { "FR" } else { "GB" };
        let body = json!({"address_line1": street, "town": town, "postcode": postcode, "country": country});
        let (status, site) = app.post(&format!("/customers/{}/sites", customer["code"].as_str().unwrap()), body).await;
        assert_eq!(status, StatusCode::CREATED, "{site}");
    }
    let (_, found) = app.get("/customers?q=harbour").await;
    assert_eq!(codes(&found), ["CUS-00002"]);
    assert_eq!(found["items"][0]["matched"], json!({"field": "street", "text": "3 Harbour Road"}));
    let (_, found) = app.get("/customers?q=etienne").await;
    assert_eq!((codes(&found), found["items"][0]["matched"]["field"].as_str()), (vec!["CUS-00002"], Some("town")));
    let (_, found) = app.get("/customers?town=LEEDS").await;
    assert_eq!(codes(&found), ["CUS-00001", "CUS-00003"]);
    let (_, found) = app.get("/customers?town=Lee").await;
    assert!(codes(&found).is_empty(), "a town is matched whole: {found}");
    let (_, found) = app.get("/customers?postcode=ls6").await;
    assert_eq!(codes(&found), ["CUS-00001"]);
    let (_, found) = app.get("/customers?postcode=LS&cf.tier=silver").await;
    assert_eq!(codes(&found), ["CUS-00003"]);
    let (_, found) = app.get("/customers?cf.note=SIDE%20GATE").await;
    assert_eq!(codes(&found), ["CUS-00001", "CUS-00003"]);
    let (status, problem) = app.get("/customers?cf.dogs=2").await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("cf.dogs", "not_filterable")));
    let (status, problem) = app.get("/customers?shoe=9").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "other unknown parameters are still refused: {problem}");

    // A new value moves the customer between filters.
    app.patch("/customers/CUS-00001", json!({"custom_fields": {"tier": "Silver"}})).await;
    let (_, found) = app.get("/customers?cf.tier=Gold").await;
    assert!(codes(&found).is_empty(), "{found}");
});

both_backends!(the_search_finds_a_custom_value_by_its_words_until_it_changes_or_its_field_goes, |app| {
    let make = define(&app, json!({"entity": "customer", "key": "boiler_make", "label": "Boiler make", "type": "text"})).await;
    define(&app, json!({"entity": "customer", "key": "note", "label": "Note", "type": "text"})).await;
    define(&app, json!({"entity": "customer", "key": "since", "label": "Customer since", "type": "date"})).await;
    let landmark = define(&app, json!({"entity": "site", "key": "landmark", "label": "Landmark", "type": "text"})).await;
    define(&app, json!({"entity": "job", "key": "system", "label": "Heating system", "type": "choice", "options": ["Combi", "Heat pump"]})).await;
    app.customer(json!({"family_name": "Lee", "custom_fields": {"boiler_make": "Worcester Bosch", "since": "2019-04-01"}})).await;
    app.customer(json!({"family_name": "Khan"})).await;
    let (_, site) = app
        .post("/customers/CUS-00002/sites", json!({"address_line1": "3 Harbour Road", "postcode": "LS6 2AB", "custom_fields": {"landmark": "Red barn"}}))
        .await;
    app.customer(json!({"family_name": "Ode"})).await;
    let (status, job) = app.post("/jobs", json!({"customer": "CUS-00003", "title": "Service", "custom_fields": {"system": "Heat pump"}})).await;
    assert_eq!(status, StatusCode::CREATED, "{job}");

    // Any word of a text or choice value finds its customer, by prefix as
    // every search does, and the directory says which field matched.
    for q in ["worcester", "BOSCH", "worc"] {
        let (_, found) = app.get(&format!("/customers?q={q}")).await;
        assert_eq!(codes(&found), ["CUS-00001"], "{q}: {found}");
    }
    let (_, found) = app.get("/customers?q=worcester").await;
    assert_eq!(found["items"][0]["matched"], json!({"field": "custom_field", "text": "Worcester Bosch", "label": "Boiler make"}));
    let (_, found) = app.get("/customers?q=barn").await;
    assert_eq!((codes(&found), &found["items"][0]["matched"]["label"]), (vec!["CUS-00002"], &json!("Landmark")), "a site's value: {found}");
    let (_, found) = app.get("/customers?q=heat%20pump").await;
    assert_eq!((codes(&found), &found["items"][0]["matched"]["label"]), (vec!["CUS-00003"], &json!("Heating system")), "a job's value: {found}");
    let (_, found) = app.get("/customers?q=2019").await;
    assert!(codes(&found).is_empty(), "a date is no word to search by: {found}");

    // A changed value is found by its new words only; a job's and a site's likewise.
    app.patch("/customers/CUS-00001", json!({"custom_fields": {"boiler_make": "Vaillant", "note": "Old Worcester in the loft"}})).await;
    let (_, found) = app.get("/customers?q=bosch").await;
    assert!(codes(&found).is_empty(), "{found}");
    let (_, found) = app.get("/customers?q=vaillant").await;
    assert_eq!(codes(&found), ["CUS-00001"]);
    app.patch(&format!("/jobs/{}", job["code"].as_str().unwrap()), json!({"custom_fields": {"system": "Combi"}})).await;
    let (_, found) = app.get("/customers?q=pump").await;
    assert!(codes(&found).is_empty(), "{found}");
    let (_, found) = app.get("/customers?q=combi").await;
    assert_eq!(codes(&found), ["CUS-00003"]);

    // Removing a field takes exactly its words away, in the same request:
    // another field's value with a word in common still finds the customer.
    let (status, _) = app.delete(&format!("/custom-fields/{}", make["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, found) = app.get("/customers?q=vaillant").await;
    assert!(codes(&found).is_empty(), "the removed field's word: {found}");
    let (_, found) = app.get("/customers?q=worcester").await;
    assert_eq!((codes(&found), &found["items"][0]["matched"]["label"]), (vec!["CUS-00001"], &json!("Note")), "{found}");

    // A deleted site's words go with it; a removed site field's too.
    let (_, found) = app.get("/customers?q=barn").await;
    assert_eq!(codes(&found), ["CUS-00002"]);
    let (status, _) = app.delete(&format!("/sites/{}", site["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, found) = app.get("/customers?q=barn").await;
    assert!(codes(&found).is_empty(), "{found}");
    app.post("/customers/CUS-00002/sites", json!({"address_line1": "3 Harbour Road", "postcode": "LS6 2AB", "custom_fields": {"landmark": "Red barn"}})).await;
    let (_, found) = app.get("/customers?q=barn").await;
    assert_eq!(codes(&found), ["CUS-00002"]);
    app.delete(&format!("/custom-fields/{}", landmark["id"].as_str().unwrap())).await;
    let (_, found) = app.get("/customers?q=barn").await;
    assert!(codes(&found).is_empty(), "{found}");
});
