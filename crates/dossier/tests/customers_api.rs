//! Customers through the JSON API, on SQLite and PostgreSQL.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

fn fields(changes: &Value) -> Vec<&str> {
    changes.as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect()
}

both_backends!(creating_a_customer_assigns_the_next_code_and_records_what_was_given, |app| {
    let first = app.customer(json!({"given_name": "Ann", "family_name": "Lee", "phone": "07912 345678", "labels": ["VIP"]})).await;
    let second = app.customer(json!({"kind": "business", "business_name": "Acme Ltd"})).await;
    assert_eq!(first["code"], "CUS-00001");
    assert_eq!(second["code"], "CUS-00002");
    assert_eq!(first["display_name"], "Ann Lee");
    assert_eq!(first["phone"], "+447912345678");
    assert_eq!(first["status"], "active");
    assert_eq!(first["labels"], json!(["VIP"]));

    let (status, timeline) = app.get("/customers/CUS-00001/timeline").await;
    assert_eq!(status, StatusCode::OK);
    let created = &timeline["items"][0];
    assert_eq!(created["kind"], "customer.created");
    assert_eq!(created["group"], "profile");
    assert_eq!(created["actor"]["type"], "api");
    assert_eq!(created["actor"]["name"], "Ada Admin");
    assert_eq!(created["subject_code"], "CUS-00001");
    let recorded = fields(&created["changes"]);
    for field in ["given_name", "family_name", "phone", "labels", "kind"] {
        assert!(recorded.contains(&field), "{field} missing from {recorded:?}");
    }
});

both_backends!(a_customer_is_found_by_id_and_by_code, |app| {
    let customer = app.customer(json!({"family_name": "Lee"})).await;
    let id = customer["id"].as_str().unwrap();
    let (status, by_id) = app.get(&format!("/customers/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, by_code) = app.get("/customers/cus-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id, by_code);
    let (status, problem) = app.get("/customers/CUS-00099").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(problem["code"], "not_found");
    let (status, _) = app.get("/customers/not-a-customer").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

both_backends!(an_update_records_each_changed_field_with_old_and_new_values, |app| {
    app.post("/custom-fields", json!({"entity": "customer", "key": "gate_code", "label": "Gate code", "type": "text"})).await;
    app.post("/custom-fields", json!({"entity": "customer", "key": "dogs", "label": "Dogs", "type": "number"})).await;
    app.customer(json!({"given_name": "Ann", "family_name": "Lee", "email": "ann@example.com", "source": "Google", "custom_fields": {"gate_code": "1234"}}))
        .await;
    let (status, updated) = app
        .patch(
            "/customers/CUS-00001",
            json!({"email": "ANN.LEE@example.com", "source": null, "phone": "+44 7912 345678", "communication": {"sms": {"marketing": true}},
                   "custom_fields": {"gate_code": "9999", "dogs": 2}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["email"], "ann.lee@example.com");
    assert_eq!(updated["source"], Value::Null);
    assert_eq!(updated["given_name"], "Ann");

    let (_, history) = app.get("/customers/CUS-00001/history").await;
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "creation is not a profile edit: {history}");
    let edit = &items[0];
    assert_eq!(edit["kind"], "customer.updated");
    let changes: Vec<(String, Value, Value)> =
        edit["changes"].as_array().unwrap().iter().map(|c| (c["field"].as_str().unwrap().to_owned(), c["old"].clone(), c["new"].clone())).collect();
    assert_eq!(
        changes,
        vec![
            ("communication.sms.marketing".into(), json!(false), json!(true)),
            ("custom_fields.dogs".into(), json!(null), json!(2)),
            ("custom_fields.gate_code".into(), json!("1234"), json!("9999")),
            ("email".into(), json!("ann@example.com"), json!("ann.lee@example.com")),
            ("phone".into(), json!(null), json!("+447912345678")),
            ("source".into(), json!("Google"), json!(null)),
        ]
    );

    let (status, _) = app.patch("/customers/CUS-00001", json!({"given_name": "Ann"})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, history) = app.get("/customers/CUS-00001/history").await;
    assert_eq!(history["items"].as_array().unwrap().len(), 1, "a patch that changes nothing records nothing");
});

both_backends!(invalid_input_answers_422_naming_the_field_and_writes_nothing, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let activities = app.count("activity").await;

    let (status, problem) = app.post("/customers", json!({"kind": "individual", "given_name": "Ann", "email": "nope", "phone": "12"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["code"], "validation_failed");
    assert_eq!(problem["field"], "email");
    let bad: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(bad, vec!["email", "phone", "family_name"]);

    let (status, problem) = app.post("/customers", json!({"family_name": "Lee", "shoe_size": 9})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["code"], "invalid_body");
    assert_eq!(problem["field"], "shoe_size");

    let (status, problem) = app.post("/customers", json!({"family_name": 42})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "family_name");

    let (status, problem) = app.patch("/customers/CUS-00001", json!({"family_name": null})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "family_name");

    let (status, problem) = app.patch("/customers/CUS-00001", json!({"status": "blocked"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "status changes only with a reason, through /status: {problem}");

    let (status, problem) = app.get("/customers?limit=500").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "limit");
    let (status, _) = app.get("/customers?colour=red").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    assert_eq!(app.count("customer").await, 1);
    assert_eq!(app.count("activity").await, activities);
    let (_, customer) = app.get("/customers/CUS-00001").await;
    assert_eq!(customer["family_name"], "Lee");
});

both_backends!(requests_without_a_valid_token_are_refused, |app| {
    for token in [None, Some("nonsense"), Some("dsr_00000000000000000000000000000000_x")] {
        let (status, problem) = app.call_as(token, Method::GET, "/customers", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(problem["code"], "unauthenticated");
    }
    let forged = format!("{}x", app.token);
    let (status, _) = app.call_as(Some(&forged), Method::GET, "/customers", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
});

both_backends!(another_orgs_records_answer_404_and_leak_nothing, |app| {
    let customer = app.customer(json!({"family_name": "Secretson", "email": "secret@example.com"})).await;
    let id = customer["id"].as_str().unwrap().to_owned();
    let (_, contact) = app.post(&format!("/customers/{id}/contacts"), json!({"family_name": "Hidden"})).await;
    let (_, site) = app.post(&format!("/customers/{id}/sites"), json!({"address_line1": "1 Secret Lane", "postcode": "LS1 4AP"})).await;
    let contact = contact["id"].as_str().unwrap().to_owned();
    let site = site["id"].as_str().unwrap().to_owned();
    let (_, other) = app.add_org("Rival Ltd", "boss@rival.example").await;

    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/customers/{id}"), None),
        (Method::GET, "/customers/CUS-00001".into(), None),
        (Method::PATCH, format!("/customers/{id}"), Some(json!({"family_name": "Pwned"}))),
        (Method::POST, "/customers/CUS-00001/status".into(), Some(json!({"status": "blocked", "reason": "x"}))),
        (Method::POST, format!("/customers/{id}/labels"), Some(json!({"labels": ["x"]}))),
        (Method::DELETE, format!("/customers/{id}/labels/x"), None),
        (Method::GET, format!("/customers/{id}/timeline"), None),
        (Method::GET, format!("/customers/{id}/history"), None),
        (Method::GET, format!("/customers/{id}/status-history"), None),
        (Method::GET, format!("/customers/{id}/contacts"), None),
        (Method::POST, format!("/customers/{id}/contacts"), Some(json!({"family_name": "Spy"}))),
        (Method::GET, format!("/customers/{id}/sites"), None),
        (Method::POST, format!("/customers/{id}/sites"), Some(json!({"address_line1": "2 Spy St", "postcode": "LS1 1AA"}))),
        (Method::GET, format!("/contacts/{contact}"), None),
        (Method::PATCH, format!("/contacts/{contact}"), Some(json!({"family_name": "Pwned"}))),
        (Method::DELETE, format!("/contacts/{contact}"), None),
        (Method::GET, format!("/sites/{site}"), None),
        (Method::PATCH, format!("/sites/{site}"), Some(json!({"town": "Nowhere"}))),
        (Method::DELETE, format!("/sites/{site}"), None),
        (Method::GET, format!("/sites/{site}/timeline"), None),
    ];
    let activities = app.count("activity").await;
    for (method, path, body) in routes {
        let (status, response) = app.call_as(Some(&other), method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {response}");
        let text = response.to_string();
        assert!(!text.contains("Secretson") && !text.contains("secret@") && !text.contains(&id), "{method} {path} leaked: {text}");
    }
    let (_, listed) = app.call_as(Some(&other), Method::GET, "/customers?q=secretson", None).await;
    assert_eq!(listed["items"], json!([]));
    assert_eq!(app.count("activity").await, activities, "nothing was written for the other org");
    let (_, mine) = app.get(&format!("/customers/{id}")).await;
    assert_eq!(mine["family_name"], "Secretson");
});

both_backends!(search_finds_customers_by_name_email_phone_code_and_postcode, |app| {
    let ann = app.customer(json!({"given_name": "Ann", "family_name": "O'Neill", "email": "ann.oneill@example.com", "phone": "07912 345678"})).await;
    let acme = app.customer(json!({"kind": "business", "business_name": "Acme Plumbing Ltd"})).await;
    app.customer(json!({"given_name": "Bob", "family_name": "Smith", "email": "bob@elsewhere.example"})).await;
    app.customer(json!({"given_name": "José", "family_name": "Müller"})).await;
    app.post(&format!("/customers/{}/sites", acme["id"].as_str().unwrap()), json!({"address_line1": "1 Mill Lane", "postcode": "LS6 2AB"})).await;
    app.post(
        &format!("/customers/{}/contacts", acme["id"].as_str().unwrap()),
        json!({"given_name": "Cara", "family_name": "Jones", "phones": [{"number": "0161 832 0000"}]}),
    )
    .await;

    let codes = |page: &Value| page["items"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let cases = [
        ("ann", vec!["CUS-00001"]),
        ("o'neill", vec!["CUS-00001"]),
        ("ANN ONE", vec![]),
        ("ann o", vec!["CUS-00001"]),
        ("acme", vec!["CUS-00002"]),
        ("plumb", vec!["CUS-00002"]),
        ("ann.oneill@", vec!["CUS-00001"]),
        ("elsewhere.example", vec!["CUS-00003"]),
        ("07912 345678", vec!["CUS-00001"]),
        ("+44 7912 345678", vec!["CUS-00001"]),
        ("(07912) 345-678", vec!["CUS-00001"]),
        ("7912345", vec!["CUS-00001"]),
        ("0161 832", vec!["CUS-00002"]),
        ("CUS-00003", vec!["CUS-00003"]),
        ("cus-2", vec!["CUS-00002"]),
        ("LS6 2AB", vec!["CUS-00002"]),
        ("ls62ab", vec!["CUS-00002"]),
        ("jones", vec!["CUS-00002"]),
        ("nobody", vec![]),
        ("jose", vec!["CUS-00004"]),
        ("MÜLLER", vec!["CUS-00004"]),
    ];
    for (query, expected) in cases {
        let (status, page) = app.get(&format!("/customers?q={}", urlencode(query))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(codes(&page), expected, "q={query}");
    }
    assert_eq!(ann["code"], "CUS-00001");
});

fn urlencode(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

both_backends!(the_list_filters_by_status_kind_and_label_and_pages_in_name_order, |app| {
    for name in ["Evans", "Adams", "Davies", "Baker", "Clark"] {
        app.customer(json!({"family_name": name, "labels": if name < "C" { json!(["VIP"]) } else { json!([]) }})).await;
    }
    app.customer(json!({"kind": "business", "business_name": "Zed Ltd"})).await;
    app.post("/customers/CUS-00003/status", json!({"status": "dormant", "reason": "Quiet"})).await;

    let names = |page: &Value| page["items"].as_array().unwrap().iter().map(|c| c["display_name"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let (_, page) = app.get("/customers?limit=2").await;
    assert_eq!(names(&page), ["Adams", "Baker"]);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let (_, page) = app.get(&format!("/customers?limit=2&cursor={cursor}")).await;
    assert_eq!(names(&page), ["Clark", "Davies"]);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let (_, page) = app.get(&format!("/customers?limit=2&cursor={cursor}")).await;
    assert_eq!(names(&page), ["Evans", "Zed Ltd"]);
    assert_eq!(page["next_cursor"], Value::Null);

    let (_, page) = app.get("/customers?status=dormant").await;
    assert_eq!(names(&page), ["Davies"]);
    let (_, page) = app.get("/customers?kind=business").await;
    assert_eq!(names(&page), ["Zed Ltd"]);
    let (_, page) = app.get("/customers?label=VIP").await;
    assert_eq!(names(&page), ["Adams", "Baker"]);
    let (status, problem) = app.get("/customers?status=sleeping").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "status");
    let (status, _) = app.get("/customers?cursor=garbage!").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
});

both_backends!(a_status_change_needs_a_reason_and_shows_in_the_status_history, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let (status, problem) = app.post("/customers/CUS-00001/status", json!({"status": "blocked"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "reason");
    let (status, customer) = app.post("/customers/CUS-00001/status", json!({"status": "blocked", "reason": "Abusive on the phone"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(customer["status"], "blocked");
    assert_eq!(customer["status_reason"], "Abusive on the phone");
    let (status, problem) = app.post("/customers/CUS-00001/status", json!({"status": "blocked", "reason": "again"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "status_unchanged");
    app.post("/customers/CUS-00001/status", json!({"status": "active", "reason": "Apologised"})).await;

    let (_, history) = app.get("/customers/CUS-00001/status-history").await;
    let steps: Vec<(Value, Value, Value)> = history.as_array().unwrap().iter().map(|e| (e["from"].clone(), e["to"].clone(), e["reason"].clone())).collect();
    assert_eq!(
        steps,
        vec![
            (json!("blocked"), json!("active"), json!("Apologised")),
            (json!("active"), json!("blocked"), json!("Abusive on the phone")),
            (json!(null), json!("active"), json!(null)),
        ]
    );
    assert_eq!(history[0]["actor"]["name"], "Ada Admin");
});

both_backends!(labels_are_added_and_removed_with_a_record_of_each_change, |app| {
    app.customer(json!({"family_name": "Lee", "labels": ["Landlord"]})).await;
    let (status, customer) = app.post("/customers/CUS-00001/labels", json!({"labels": ["VIP", " Key   account ", "VIP"]})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(customer["labels"], json!(["Key account", "Landlord", "VIP"]));
    let (_, customer) = app.delete("/customers/CUS-00001/labels/Landlord").await;
    assert_eq!(customer["labels"], json!(["Key account", "VIP"]));
    let (status, _) = app.post("/customers/CUS-00001/labels", json!({"labels": []})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (_, history) = app.get("/customers/CUS-00001/history").await;
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["summary"], "Labels changed: -Landlord");
    assert_eq!(items[0]["changes"][0]["old"], json!(["Key account", "Landlord", "VIP"]));
    assert_eq!(items[1]["changes"][0]["new"], json!(["Key account", "Landlord", "VIP"]));
});

both_backends!(errors_outside_the_handlers_are_problem_documents_too, |app| {
    let (status, problem) = app.call(Method::PUT, "/customers", Some(json!({}))).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(problem["code"], "method_not_allowed");
    let (status, problem) = app.get("/no/such/route").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(problem["code"], "route_not_found");
});

both_backends!(customers_sort_by_name_or_code_both_ways_and_pages_follow_the_sort, |app| {
    for name in ["Cole", "Adams", "Baker", "Evans", "Dunn"] {
        app.customer(json!({"family_name": name})).await;
    }
    let names = |page: &Value| page["items"].as_array().unwrap().iter().map(|c| c["family_name"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let (_, page) = app.get("/customers?sort=-name").await;
    assert_eq!(names(&page), ["Evans", "Dunn", "Cole", "Baker", "Adams"]);
    let (_, page) = app.get("/customers?sort=code").await;
    assert_eq!(names(&page), ["Cole", "Adams", "Baker", "Evans", "Dunn"]);
    // Two at a time, newest code first, all the way through.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/customers?sort=-code&limit=2&cursor={c}"),
            None => "/customers?sort=-code&limit=2".to_owned(),
        };
        let (status, page) = app.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(names(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["Dunn", "Evans", "Baker", "Adams", "Cole"]);
    // A cursor of one order is refused by another.
    let (_, page) = app.get("/customers?sort=-code&limit=2").await;
    let (status, problem) = app.get(&format!("/customers?sort=name&cursor={}", page["next_cursor"].as_str().unwrap())).await;
    assert_eq!((status, problem["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_cursor")));
    let (status, _) = app.get("/customers?sort=age").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
});

both_backends!(the_overdue_filter_finds_customers_who_owe_past_their_due_date, |app| {
    app.customer(json!({"family_name": "Late"})).await;
    app.customer(json!({"family_name": "Punctual"})).await;
    app.customer(json!({"family_name": "Paid"})).await;
    let invoice = |customer: &str, due: &str| json!({"customer": customer, "issue": true, "issue_date": "2026-01-01", "due_date": due, "lines": [{"description": "Work", "unit_price": 1000}]});
    for body in [invoice("CUS-00001", "2026-01-15"), invoice("CUS-00002", "2099-01-01"), invoice("CUS-00003", "2026-01-15")] {
        let (status, created) = app.post("/invoices", body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
    }
    let (status, _) = app.post("/payments", json!({"customer": "CUS-00003", "amount": 1000, "allocations": [{"invoice": "INV-00003", "amount": 1000}]})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, page) = app.get("/customers?overdue=true").await;
    let codes: Vec<&str> = page["items"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["CUS-00001"]);
    let (_, page) = app.get("/customers?overdue=false").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
});

both_backends!(labels_change_on_many_customers_at_once_or_on_none, |app| {
    for name in ["One", "Two", "Three"] {
        app.customer(json!({"family_name": name, "labels": ["Old"]})).await;
    }
    let (status, changed) = app.post("/customers/labels", json!({"customers": ["CUS-00001", "CUS-00002"], "add": ["Spring promo"], "remove": ["Old"]})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed[0]["labels"], json!(["Spring promo"]));
    let (_, third) = app.get("/customers/CUS-00003").await;
    assert_eq!(third["labels"], json!(["Old"]));
    // One unknown customer: nobody changes.
    let (status, _) = app.post("/customers/labels", json!({"customers": ["CUS-00003", "CUS-09999"], "add": ["Never"]})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, third) = app.get("/customers/CUS-00003").await;
    assert_eq!(third["labels"], json!(["Old"]));
    let (status, problem) = app.post("/customers/labels", json!({"customers": [], "add": []})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["add", "customers"]);
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?kind=customer.labels_changed").await;
    assert_eq!(timeline["items"].as_array().unwrap().len(), 1);
});

both_backends!(a_search_pages_through_its_matches_in_the_order_asked_for, |app| {
    for name in ["Lee", "Leeming", "Smith", "Leech", "Leeds", "Jones"] {
        app.customer(json!({"family_name": name})).await;
    }
    let codes = |page: &Value| page["items"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let (_, page) = app.get("/customers?q=lee&sort=-code&limit=2").await;
    assert_eq!(codes(&page), ["CUS-00005", "CUS-00004"]);
    let (_, page) = app.get(&format!("/customers?q=lee&sort=-code&limit=2&cursor={}", page["next_cursor"].as_str().unwrap())).await;
    assert_eq!(codes(&page), ["CUS-00002", "CUS-00001"]);
    assert_eq!(page["next_cursor"], Value::Null);
    let (_, page) = app.get("/customers?q=lee&sort=-name").await;
    let names: Vec<&str> = page["items"].as_array().unwrap().iter().map(|c| c["family_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Leeming", "Leeds", "Leech", "Lee"]);

    // By name, page by page and both ways, each customer once though a
    // contact of Jones is also a Lee; a renamed customer moves in the order.
    app.post("/customers/CUS-00006/contacts", json!({"given_name": "Amy", "family_name": "Leech"})).await;
    app.patch("/customers/CUS-00003", json!({"family_name": "Leeson"})).await;
    let family = |page: &Value| page["items"].as_array().unwrap().iter().map(|c| c["family_name"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    for (sort, expected) in
        [("name", ["Jones", "Lee", "Leech", "Leeds", "Leeming", "Leeson"]), ("-name", ["Leeson", "Leeming", "Leeds", "Leech", "Lee", "Jones"])]
    {
        let mut seen = Vec::new();
        let mut url = format!("/customers?q=lee&sort={sort}&limit=2");
        loop {
            let (status, page) = app.get(&url).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            seen.extend(family(&page));
            match page["next_cursor"].as_str() {
                Some(cursor) => url = format!("/customers?q=lee&sort={sort}&limit=2&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(seen, expected, "sort={sort}");
    }
    let (_, page) = app.get("/customers?q=leec%20amy").await;
    assert_eq!(family(&page), ["Jones"]);
    // A word that starts more terms than are merged is searched the other way, with the same answer.
    for i in 0..20 {
        app.customer(json!({"family_name": format!("Zed{}", char::from(b'a' + i))})).await;
    }
    let (_, page) = app.get("/customers?q=zed&limit=3").await;
    assert_eq!(family(&page), ["Zeda", "Zedb", "Zedc"]);
    let (_, page) = app.get("/customers?q=zedt").await;
    assert_eq!(family(&page), ["Zedt"]);
});
