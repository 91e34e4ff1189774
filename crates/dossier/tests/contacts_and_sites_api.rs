//! Contacts and sites of a customer, and how their history rolls up.

mod common;

use axum::http::StatusCode;
use serde_json::{Value, json};

fn kinds(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap().to_owned()).collect()
}

both_backends!(contacts_are_added_listed_updated_and_deleted_with_a_record_of_each, |app| {
    app.customer(json!({"kind": "business", "business_name": "Acme Ltd"})).await;
    let (status, first) = app
        .post(
            "/customers/CUS-00001/contacts",
            json!({"given_name": "Bo", "family_name": "Lee", "position": "Director", "roles": ["billing"], "is_primary": true,
                   "emails": [{"address": "BO@acme.example"}], "phones": [{"kind": "work", "number": "020 7946 0123"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["emails"][0], json!({"kind": "work", "address": "bo@acme.example"}));
    assert_eq!(first["phones"][0]["number"], "+442079460123");
    let (_, second) = app.post("/customers/CUS-00001/contacts", json!({"given_name": "Cy", "family_name": "Young", "is_primary": true})).await;

    let (_, listed) = app.get("/customers/CUS-00001/contacts").await;
    let primary: Vec<(&str, bool)> =
        listed.as_array().unwrap().iter().map(|c| (c["family_name"].as_str().unwrap(), c["is_primary"].as_bool().unwrap())).collect();
    assert_eq!(primary, vec![("Young", true), ("Lee", false)], "one primary contact per customer");

    let first_id = first["id"].as_str().unwrap();
    let (status, updated) = app.patch(&format!("/contacts/{first_id}"), json!({"position": "Owner", "phones": []})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["position"], "Owner");
    assert_eq!(updated["phones"], json!([]));
    let (status, problem) = app.patch(&format!("/contacts/{first_id}"), json!({"emails": [{"address": "x"}]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "emails[0].address");
    let (status, problem) = app.post("/customers/CUS-00001/contacts", json!({"given_name": "No family name"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "family_name");

    let (status, _) = app.delete(&format!("/contacts/{}", second["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(&format!("/contacts/{}", second["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = app.get("/customers/CUS-00001/contacts").await;
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let (_, timeline) = app.get("/customers/CUS-00001/timeline").await;
    assert_eq!(
        kinds(&timeline),
        ["contact.deleted", "contact.updated", "contact.updated", "contact.created", "contact.created", "customer.created"],
        "the customer timeline rolls up its contacts' history"
    );
    let deleted = &timeline["items"][0];
    assert_eq!(deleted["summary"], "Contact Cy Young deleted");
    let old_name = deleted["changes"].as_array().unwrap().iter().find(|c| c["field"] == "family_name").unwrap();
    assert_eq!(old_name["old"], "Young", "the deletion keeps what the contact was");
    assert_eq!(timeline["items"][1]["summary"], "Contact Bo Lee updated: phones, position");
    assert_eq!(timeline["items"][2]["summary"], "Contact Bo Lee is no longer the primary contact");

    let (_, found) = app.get("/customers?q=young").await;
    assert_eq!(found["items"], json!([]), "a deleted contact no longer finds the customer");
    let (_, found) = app.get("/customers?q=bo@acme").await;
    assert_eq!(found["items"][0]["code"], "CUS-00001");
});

both_backends!(sites_are_added_updated_and_deleted_and_a_site_timeline_reads_alone, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let (status, home) = app
        .post("/customers/CUS-00001/sites", json!({"address_line1": "1 High St", "town": "Leeds", "postcode": "ls1 4ap", "latitude": 53.8, "longitude": -1.55}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{home}");
    assert_eq!(home["postcode"], "LS1 4AP");
    assert_eq!(home["country"], "GB");
    assert_eq!(home["kind"], "service");
    let (_, office) = app.post("/customers/CUS-00001/sites", json!({"kind": "billing", "address_line1": "2 Park Row", "postcode": "LS1 5HD"})).await;
    let home_id = home["id"].as_str().unwrap();

    let (status, problem) =
        app.post("/customers/CUS-00001/sites", json!({"address_line1": "3 Nowhere", "postcode": "LS1 1AA", "latitude": 100.0, "longitude": 0.0})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "latitude");
    let (status, problem) = app.post("/customers/CUS-00001/sites", json!({"town": "Leeds"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "address_line1");

    let (status, updated) = app.patch(&format!("/sites/{home_id}"), json!({"access_notes": "Key safe 1234", "latitude": null, "longitude": null})).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["access_notes"], "Key safe 1234");
    let (status, _) = app.delete(&format!("/sites/{}", office["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, sites) = app.get("/customers/CUS-00001/sites").await;
    assert_eq!(sites.as_array().unwrap().len(), 1);

    let (_, site_timeline) = app.get(&format!("/sites/{home_id}/timeline")).await;
    assert_eq!(kinds(&site_timeline), ["site.updated", "site.created"], "only this site's rows");
    let changes: Vec<&str> = site_timeline["items"][0]["changes"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert_eq!(changes, ["access_notes", "latitude", "longitude"]);
    let (_, timeline) = app.get("/customers/CUS-00001/timeline").await;
    assert_eq!(kinds(&timeline), ["site.deleted", "site.updated", "site.created", "site.created", "customer.created"]);
    let (_, found) = app.get("/customers?q=LS1%204AP").await;
    assert_eq!(found["items"][0]["code"], "CUS-00001");
    let (_, found) = app.get("/customers?q=LS1%205HD").await;
    assert_eq!(found["items"], json!([]));
});

both_backends!(a_contact_and_a_site_are_deleted_from_the_web_app_after_asking, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let (_, contact) = app.post("/customers/CUS-00001/contacts", json!({"given_name": "Ann", "family_name": "Lee"})).await;
    let (_, site) = app.post("/customers/CUS-00001/sites", json!({"address_line1": "1 High St", "postcode": "LS1 4AP"})).await;
    let (contact, site) = (contact["id"].as_str().unwrap().to_owned(), site["id"].as_str().unwrap().to_owned());
    app.user("office").await;
    let cookie = app.session("office").await;
    let (_, tab) = app.page(Some(&cookie), "/customers/CUS-00001?tab=contacts").await;
    assert!(tab.contains(&format!("href=\"/contacts/{contact}/delete\"")), "{tab}");
    let (status, ask) = app.page(Some(&cookie), &format!("/contacts/{contact}/delete")).await;
    assert_eq!(status, axum::http::StatusCode::OK);
    assert!(ask.contains("Delete the contact Ann Lee?"), "{ask}");
    let (status, location, _) = app.form(&cookie, &format!("/contacts/{contact}/delete"), &[]).await;
    assert_eq!((status.as_u16(), location.as_str()), (303, "/customers/CUS-00001?tab=contacts"));
    let (status, _) = app.get(&format!("/contacts/{contact}")).await;
    assert_eq!(status.as_u16(), 404);

    let (_, tab) = app.page(Some(&cookie), "/customers/CUS-00001?tab=sites").await;
    assert!(tab.contains(&format!("href=\"/sites/{site}/delete\"")), "{tab}");
    let (status, location, _) = app.form(&cookie, &format!("/sites/{site}/delete"), &[]).await;
    assert_eq!((status.as_u16(), location.as_str()), (303, "/customers/CUS-00001?tab=sites"));
    let (status, _) = app.get(&format!("/sites/{site}")).await;
    assert_eq!(status.as_u16(), 404);
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?kind=contact.deleted,site.deleted").await;
    assert_eq!(timeline["items"].as_array().unwrap().len(), 2, "the history stays");
});

both_backends!(one_label_is_removed_from_the_profile, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    app.post("/customers/CUS-00001/labels", json!({"labels": ["VIP", "Landlord"]})).await;
    app.user("office").await;
    let cookie = app.session("office").await;
    let (_, profile) = app.page(Some(&cookie), "/customers/CUS-00001").await;
    assert!(profile.contains("aria-label=\"Remove the label VIP\""), "{profile}");
    let (status, location, _) = app.form(&cookie, "/customers/CUS-00001/labels/remove", &[("label", "VIP")]).await;
    assert_eq!((status.as_u16(), location.as_str()), (303, "/customers/CUS-00001"));
    let (_, customer) = app.get("/customers/CUS-00001").await;
    assert_eq!(customer["labels"], json!(["Landlord"]));
    let (_, history) = app.get("/customers/CUS-00001/history").await;
    assert_eq!(history["items"][0]["kind"], "customer.labels_changed");
});
