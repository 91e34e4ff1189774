//! Every list and map in an input has a bound (crates/domain/src/limits.rs);
//! the largest allowed inputs do not keep other clients from writing; past a
//! bound the answer is a 422 naming the field, and nothing changes. Dates
//! fall in 1900–2200, and text holds no spoofing characters. Both backends.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use dossier_domain::limits::{
    MAX_ALLOCATIONS, MAX_ASSIGNEES, MAX_BULK_CUSTOMERS, MAX_CONTACT_POINTS, MAX_CUSTOM_FIELD_TEXT_CHARS, MAX_CUSTOM_FIELDS, MAX_INVOICE_JOBS, MAX_LABEL_CHARS,
    MAX_LABELS, MAX_LINES, MAX_MESSAGE_BODY_CHARS, MAX_MESSAGE_SUBJECT_CHARS,
};
use serde_json::{Map, Value, json};

use common::TestApp;

fn labels(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:0>width$}", width = MAX_LABEL_CHARS - prefix.len())).collect()
}

fn custom_fields(n: usize) -> Map<String, Value> {
    (0..n).map(|i| (format!("field_{i}"), json!("v".repeat(MAX_CUSTOM_FIELD_TEXT_CHARS)))).collect()
}

fn lines(n: usize) -> Vec<Value> {
    (0..n).map(|i| json!({"description": format!("{i} {}", "d".repeat(480)), "quantity": "1.5", "unit_price": 1999, "tax_rate_bp": 2000})).collect()
}

/// The problem's first field and code.
fn refusal(body: &Value) -> (String, String) {
    (body["field"].as_str().unwrap_or_default().to_owned(), body["errors"][0]["code"].as_str().unwrap_or_default().to_owned())
}

/// A request at a bound, how long it took, and that it succeeded.
async fn timed(app: &TestApp, what: &str, longest: &mut (Duration, String), path: &str, body: Value) -> Value {
    let started = Instant::now();
    let (status, answer) = app.post(path, body).await;
    let took = started.elapsed();
    assert!(status.is_success(), "{what}: {status} {answer}");
    println!("{what}: {took:?}");
    if took > longest.0 {
        *longest = (took, what.to_owned());
    }
    answer
}

both_backends!(largest_allowed_inputs_leave_other_writers_running, |app| {
    let app = Arc::new(app);
    // Set up outside the measured part: the most text fields customers can
    // have, customers for the bulk change and open invoices for the
    // payment's allocations.
    for i in 0..MAX_CUSTOM_FIELDS {
        let (status, field) =
            app.post("/custom-fields", json!({"entity": "customer", "key": format!("field_{i}"), "label": format!("Field {i}"), "type": "text"})).await;
        assert_eq!(status, StatusCode::CREATED, "{field}");
    }
    let (status, problem) = app.post("/custom-fields", json!({"entity": "customer", "key": "one_more", "label": "One more", "type": "text"})).await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("entity".into(), "too_many".into())));
    let mut bulk = Vec::new();
    for i in 0..MAX_BULK_CUSTOMERS {
        bulk.push(app.customer(json!({"family_name": format!("Bulk {i}")})).await["code"].as_str().unwrap().to_owned());
    }
    let payer = app.customer(json!({"family_name": "Payer"})).await["code"].as_str().unwrap().to_owned();
    let mut invoices = Vec::new();
    for _ in 0..MAX_ALLOCATIONS {
        let (status, invoice) =
            app.post("/invoices", json!({"customer": payer, "issue": true, "lines": [{"description": "Service", "unit_price": 100}]})).await;
        assert_eq!(status, StatusCode::CREATED, "{invoice}");
        invoices.push(invoice["code"].as_str().unwrap().to_owned());
    }

    // Another client writes small things all the while.
    let done = Arc::new(AtomicBool::new(false));
    let other = {
        let (app, done) = (app.clone(), done.clone());
        tokio::spawn(async move {
            let mut written = 0;
            while !done.load(Ordering::Relaxed) || written < 5 {
                let (status, body) = app.post("/customers", json!({"family_name": format!("Other {written}")})).await;
                assert_eq!(status, StatusCode::CREATED, "a small write beside the large ones failed: {body}");
                written += 1;
            }
            written
        })
    };

    let mut longest = (Duration::ZERO, String::new());
    let big = timed(
        &app,
        "customer with 50 labels and 50 custom fields",
        &mut longest,
        "/customers",
        json!({"family_name": "Big", "labels": labels("a", MAX_LABELS), "custom_fields": custom_fields(MAX_CUSTOM_FIELDS)}),
    )
    .await;
    assert_eq!(big["labels"].as_array().unwrap().len(), MAX_LABELS);
    let code = big["code"].as_str().unwrap().to_owned();
    let path = format!("/customers/{code}");
    // Replace every label: 50 removed and 50 added in one request.
    let bulk_body = json!({"customers": [code], "add": labels("b", MAX_LABELS), "remove": labels("a", MAX_LABELS)});
    let relabelled = timed(&app, "relabel one customer: 50 out, 50 in", &mut longest, "/customers/labels", bulk_body).await;
    assert_eq!(relabelled[0]["labels"], json!(labels("b", MAX_LABELS)));
    let (status, patched) = app.patch(&path, json!({"custom_fields": custom_fields(MAX_CUSTOM_FIELDS)})).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let bulk_body = json!({"customers": bulk, "add": labels("c", MAX_LABELS)});
    timed(&app, "label 500 customers with 50 labels each", &mut longest, "/customers/labels", bulk_body).await;
    timed(&app, "invoice with 500 lines", &mut longest, "/invoices", json!({"customer": code, "issue": true, "lines": lines(MAX_LINES)})).await;
    timed(&app, "quote with 500 lines", &mut longest, "/quotes", json!({"customer": code, "title": "Big quote", "lines": lines(MAX_LINES)})).await;
    let allocations: Vec<Value> = invoices.iter().map(|i| json!({"invoice": i, "amount": 100})).collect();
    let payment = json!({"customer": payer, "amount": 100 * MAX_ALLOCATIONS, "allocations": allocations});
    let paid = timed(&app, "payment with 100 allocations", &mut longest, "/payments", payment).await;
    assert_eq!(paid["unallocated"], json!(0));
    let points = |f: &dyn Fn(usize) -> Value| (0..MAX_CONTACT_POINTS).map(f).collect::<Vec<_>>();
    let contact = json!({
        "family_name": "Many",
        "emails": points(&|i| json!({"address": format!("c{i}@example.com")})),
        "phones": points(&|i| json!({"number": format!("07911 1234{i:02}")})),
        "urls": points(&|i| json!(format!("https://example.com/{i}"))),
    });
    timed(&app, "contact with 10 emails, 10 phones and 10 URLs", &mut longest, &format!("{path}/contacts"), contact).await;
    // The largest note (its words go into the history search index too),
    // once, then eight at once.
    let body = "boiler valve leak ".repeat(MAX_MESSAGE_BODY_CHARS / 18);
    let note = json!({"channel": "note", "subject": "s".repeat(MAX_MESSAGE_SUBJECT_CHARS), "body": body});
    timed(&app, "note of 20,000 characters", &mut longest, &format!("{path}/messages"), note.clone()).await;
    let started = Instant::now();
    let posts: Vec<_> = (0..8)
        .map(|_| {
            let (app, path, note) = (app.clone(), format!("{path}/messages"), note.clone());
            tokio::spawn(async move { app.post(&path, note).await.0 })
        })
        .collect();
    for post in posts {
        assert_eq!(post.await.unwrap(), StatusCode::CREATED);
    }
    let took = started.elapsed();
    println!("eight notes of 20,000 characters at once: {took:?}");
    if took > longest.0 {
        longest = (took, "eight notes of 20,000 characters at once".to_owned());
    }

    done.store(true, Ordering::Relaxed);
    let written = other.await.expect("the other client did not fail");
    println!("the longest writer hold with the largest allowed input: {:?} ({}); the other client wrote {written} customers meanwhile", longest.0, longest.1);
});

both_backends!(over_limit_inputs_are_refused_and_change_nothing, |app| {
    let customer = app.customer(json!({"family_name": "Full", "labels": labels("a", MAX_LABELS)})).await;
    let code = customer["code"].as_str().unwrap().to_owned();
    let path = format!("/customers/{code}");
    let (customers, labels_before, lines_before) = (app.count("customer").await, app.count("customer_label").await, app.count("invoice").await);

    let (labels_path, contacts_path) = (format!("{path}/labels"), format!("{path}/contacts"));
    let refused: Vec<(&str, Value, (&str, &str))> = vec![
        ("/customers", json!({"family_name": "X", "labels": labels("a", MAX_LABELS + 1)}), ("labels", "too_many")),
        ("/customers", json!({"family_name": "X", "custom_fields": custom_fields(MAX_CUSTOM_FIELDS + 1)}), ("custom_fields", "too_many")),
        ("/customers", json!({"family_name": "X", "labels": ["x".repeat(MAX_LABEL_CHARS + 1)]}), ("labels[0]", "too_long")),
        // One more label on a customer that holds the most it may.
        (&labels_path, json!({"labels": ["one more"]}), ("labels", "too_many")),
        ("/customers/labels", json!({"customers": [code], "add": ["one more"]}), ("labels", "too_many")),
        ("/customers/labels", json!({"customers": vec![code.clone(); MAX_BULK_CUSTOMERS + 1], "add": ["x"]}), ("customers", "too_many")),
        ("/invoices", json!({"customer": code, "lines": lines(MAX_LINES + 1)}), ("lines", "too_many")),
        ("/quotes", json!({"customer": code, "title": "Q", "lines": lines(MAX_LINES + 1)}), ("lines", "too_many")),
        ("/invoices", json!({"customer": code, "lines": lines(1), "job_ids": vec![uuid::Uuid::now_v7(); MAX_INVOICE_JOBS + 1]}), ("job_ids", "too_many")),
        ("/jobs", json!({"customer": code, "title": "J", "assignees": vec![uuid::Uuid::now_v7(); MAX_ASSIGNEES + 1]}), ("assignees", "too_many")),
        (
            "/payments",
            json!({"customer": code, "amount": 1000, "allocations": vec![json!({"invoice": "INV-00001", "amount": 1}); MAX_ALLOCATIONS + 1]}),
            ("allocations", "too_many"),
        ),
        (&contacts_path, json!({"family_name": "C", "phones": vec![json!({"number": "07911 123456"}); MAX_CONTACT_POINTS + 1]}), ("phones", "too_many")),
    ];
    for (route, body, (field, code)) in refused {
        let (status, problem) = app.post(route, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{route}: {problem}");
        assert_eq!(refusal(&problem), (field.to_owned(), code.to_owned()), "{route}: {problem}");
    }
    let (status, problem) = app.patch(&path, json!({"custom_fields": custom_fields(MAX_CUSTOM_FIELDS + 1)})).await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("custom_fields".into(), "too_many".into())));
    assert_eq!((app.count("customer").await, app.count("customer_label").await, app.count("invoice").await), (customers, labels_before, lines_before));
    let (_, after) = app.get(&path).await;
    assert_eq!(after["labels"], customer["labels"]);
    assert_eq!(after["custom_fields"], json!({}));
});

both_backends!(dates_outside_1900_to_2200_are_refused, |app| {
    let code = app.customer(json!({"family_name": "Dates"})).await["code"].as_str().unwrap().to_owned();
    let line = json!([{"description": "Work", "unit_price": 1000}]);
    let invoices = app.count("invoice").await;
    let cases: Vec<(String, Value, &str)> = vec![
        ("/invoices".into(), json!({"customer": code, "lines": line, "issue": true, "issue_date": "0001-01-01"}), "issue_date"),
        ("/invoices".into(), json!({"customer": code, "lines": line, "issue": true, "issue_date": "-009999-06-01"}), "issue_date"),
        ("/invoices".into(), json!({"customer": code, "lines": line, "due_date": "9999-12-31"}), "due_date"),
        ("/quotes".into(), json!({"customer": code, "title": "Q", "lines": line, "valid_until": "2201-01-01"}), "valid_until"),
        (
            "/jobs".into(),
            json!({"customer": code, "title": "J", "scheduled_start": "1899-12-31T09:00:00Z", "scheduled_end": "1899-12-31T10:00:00Z"}),
            "scheduled_start",
        ),
        ("/payments".into(), json!({"customer": code, "amount": 100, "received_on": "0202-01-31"}), "received_on"),
    ];
    for (route, body, field) in cases {
        let (status, problem) = app.post(&route, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{route}: {problem}");
        assert_eq!(refusal(&problem), (field.to_owned(), "date_out_of_range".to_owned()), "{route}: {problem}");
    }
    assert_eq!(app.count("invoice").await, invoices);
    let (status, problem) = app.patch(&format!("/customers/{code}"), json!({"auto_comms_paused": true, "auto_comms_paused_until": "9999-01-01"})).await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("auto_comms_paused_until".into(), "date_out_of_range".into())));
    let (status, draft) = app.post("/invoices", json!({"customer": code, "lines": line})).await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let (status, problem) = app.post(&format!("/invoices/{}/issue", draft["code"].as_str().unwrap()), json!({"issue_date": "0001-01-01"})).await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("issue_date".into(), "date_out_of_range".into())));
    let (status, problem) = app.get(&format!("/customers/{code}/statement?as_of=9999-12-31")).await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("as_of".into(), "date_out_of_range".into())));
    // The bounds themselves are accepted.
    let (status, body) =
        app.post("/invoices", json!({"customer": code, "lines": line, "issue": true, "issue_date": "1900-01-01", "due_date": "2200-12-31"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
});

both_backends!(single_line_fields_refuse_spoofing_characters_in_one_way, |app| {
    let customers = app.count("customer").await;
    for bad in ["Lee\u{202E}gnp.exe", "Lee\r\nX-Injected: 1", "Lee\u{200B}", "\u{FEFF}Lee", "Lee\u{2066}x\u{2069}", "Lee\u{0}", "Lee\u{1b}[2J"] {
        let (status, problem) = app.post("/customers", json!({"family_name": bad})).await;
        assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("family_name".into(), "invalid_characters".into())), "{bad:?}");
    }
    assert_eq!(app.count("customer").await, customers);
    let code = app.customer(json!({"family_name": "Jose\u{301}"})).await["code"].as_str().unwrap().to_owned();
    let (_, stored) = app.get(&format!("/customers/{code}")).await;
    assert_eq!(stored["family_name"], "Jos\u{e9}", "stored in NFC");
    let path = format!("/customers/{code}");
    let refused: Vec<(String, Value, &str)> = vec![
        (format!("{path}/labels"), json!({"labels": ["VIP\nBlocked"]}), "labels[0]"),
        ("/invoices".into(), json!({"customer": code, "lines": [{"description": "Work\r\nTotal due: 0", "unit_price": 100}]}), "lines[0].description"),
        ("/payments".into(), json!({"customer": code, "amount": 100, "reference": "REF\u{202E}1"}), "reference"),
        ("/jobs".into(), json!({"customer": code, "title": "Fix\u{200D}boiler"}), "title"),
        (format!("{path}/sites"), json!({"address_line1": "1 High St\u{2028}Flat 2", "postcode": "LS1 4AP"}), "address_line1"),
        (format!("{path}/sites"), json!({"address_line1": "1 High St", "postcode": "LS1 4AP", "access_notes": "Gate\u{202E}1234"}), "access_notes"),
        (format!("{path}/contacts"), json!({"family_name": "Ng", "emails": [{"address": "a\u{200B}@example.com"}]}), "emails[0].address"),
    ];
    for (route, body, field) in refused {
        let (status, problem) = app.post(&route, body).await;
        assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, (field.into(), "invalid_characters".into())), "{route}: {problem}");
    }
    // Multi-line fields keep their line breaks.
    let (status, site) =
        app.post(&format!("{path}/sites"), json!({"address_line1": "1 High St", "postcode": "ls1 4ap", "access_notes": "Gate 1234\r\nDog"})).await;
    assert_eq!(status, StatusCode::CREATED, "{site}");
    assert_eq!((site["access_notes"].as_str(), site["postcode"].as_str()), (Some("Gate 1234\nDog"), Some("LS1 4AP")));
});

both_backends!(postcodes_follow_the_sites_country, |app| {
    let code = app.customer(json!({"family_name": "Post"})).await["code"].as_str().unwrap().to_owned();
    let path = format!("/customers/{code}/sites");
    let site = |postcode: &str, country: Option<&str>| {
        let mut body = json!({"address_line1": "1 Main Street", "postcode": postcode});
        if let Some(country) = country {
            body["country"] = json!(country);
        }
        body
    };
    for (postcode, country) in [("12345", None), ("LS1", None), ("LS1 4AP", Some("US")), ("1234", Some("DE")), ("0123 AB", Some("NL")), ("X", Some("AT"))] {
        let (status, problem) = app.post(&path, site(postcode, country)).await;
        assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("postcode".into(), "invalid_postcode".into())), "{postcode} {country:?}");
    }
    for (postcode, country, stored) in [
        ("sw1a1aa", None, "SW1A 1AA"),
        ("90210-1234", Some("US"), "90210-1234"),
        ("1234ab", Some("NL"), "1234 AB"),
        ("k1a0b1", Some("CA"), "K1A 0B1"),
        ("a65f4e2", Some("IE"), "A65 F4E2"),
        ("1010", Some("AT"), "1010"),
    ] {
        let (status, body) = app.post(&path, site(postcode, country)).await;
        assert_eq!((status, body["postcode"].as_str()), (StatusCode::CREATED, Some(stored)), "{body}");
    }
});

both_backends!(a_customer_labelled_past_the_bound_before_it_existed_can_be_cleaned_up, |app| {
    let customer = app.customer(json!({"family_name": "Legacy"})).await;
    let (code, id) = (customer["code"].as_str().unwrap().to_owned(), customer["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap());
    // Written under the store, as a release without the bound could have.
    let rows: Vec<(uuid::Uuid, String)> = labels("old", 2 * MAX_LABELS).into_iter().map(|l| (id, l)).collect();
    let mut tx = app.db.begin().await.unwrap();
    dossier_store::queries::add_labels(&mut tx.handle(), app.org.id.0, &rows).await.unwrap();
    tx.commit().await.unwrap();
    let (status, problem) = app.post(&format!("/customers/{code}/labels"), json!({"labels": ["one more"]})).await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("labels".into(), "too_many".into())));
    let body = json!({"customers": [code], "remove": labels("old", 2 * MAX_LABELS)[..MAX_LABELS + 1].to_vec()});
    let (status, problem) = app.post("/customers/labels", body).await;
    assert_eq!((status, refusal(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, ("remove".into(), "too_many".into())), "one request names at most 50");
    let (status, cleaned) = app.post("/customers/labels", json!({"customers": [code], "remove": labels("old", MAX_LABELS)})).await;
    assert_eq!(status, StatusCode::OK, "{cleaned}");
    assert_eq!(cleaned[0]["labels"].as_array().unwrap().len(), MAX_LABELS);
});
