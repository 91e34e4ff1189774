//! Duplicates and merges, on SQLite and PostgreSQL: probable duplicates
//! found by email, phone, similar name and address with their reasons;
//! "not a duplicate" remembered; a merge moves everything of the merged
//! customer to the survivor in one step, the merged code keeps resolving
//! (API and web app), the survivor's timeline holds the merged history;
//! undoing it puts both back; refused cases answer stable codes; and money
//! adds up through a merge and its undo (a property test).

mod common;

use axum::http::{Method, StatusCode};
use common::TestApp;
use dossier_domain::data::merge::MergeInput;
use dossier_service::{merge, statement, summary};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use serde_json::{Value, json};

async fn ok(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, answer) = app.call(method, path, body).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

fn items(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(list) => list.clone(),
        other => other["items"].as_array().cloned().unwrap_or_default(),
    }
}

fn codes(page: &Value) -> Vec<String> {
    items(page).iter().map(|i| i["code"].as_str().unwrap().to_owned()).collect()
}

async fn timeline(app: &TestApp, customer: &str) -> Vec<Value> {
    items(&app.get(&format!("/customers/{customer}/timeline?limit=200")).await.1)
}

fn kinds(entries: &[Value]) -> Vec<String> {
    entries.iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
}

/// The pairs of the duplicates list, as "CUS-a CUS-b" with their reason kinds.
async fn pairs(app: &TestApp) -> Vec<(String, Vec<String>, u64)> {
    let (status, page) = app.get("/duplicates?limit=200").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    items(&page)
        .iter()
        .map(|p| {
            let reasons = p["reasons"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap().to_owned()).collect();
            (format!("{} {}", p["a"]["code"].as_str().unwrap(), p["b"]["code"].as_str().unwrap()), reasons, p["score"].as_u64().unwrap())
        })
        .collect()
}

both_backends!(duplicates_are_suggested_by_email_phone_similar_name_and_address_with_their_reasons, |app| {
    // CUS-00001 / CUS-00002: the same email, the second's on a contact, in another case.
    app.customer(json!({"given_name": "Bob", "family_name": "Carter", "email": "bob@carter.example"})).await;
    app.customer(json!({"kind": "business", "business_name": "Carter Plumbing", "family_name": "Carter"})).await;
    ok(&app, Method::POST, "/customers/CUS-00002/contacts", Some(json!({"family_name": "Office", "emails": [{"address": "BOB@carter.example"}]}))).await;
    // CUS-00003 / CUS-00004: one phone, written two ways.
    app.customer(json!({"given_name": "Priya", "family_name": "Patel", "phone": "0113 496 0000"})).await;
    app.customer(json!({"given_name": "Kiran", "family_name": "Shah", "phone": "+44 113 496 0000"})).await;
    // CUS-00005 / CUS-00006: a similar name (accents folded, one letter apart).
    app.customer(json!({"given_name": "Jonathan", "family_name": "Núñez"})).await;
    app.customer(json!({"given_name": "Jonathon", "family_name": "Nunez"})).await;
    // CUS-00007 / CUS-00008: one address, written two ways.
    app.customer(json!({"given_name": "Ada", "family_name": "Lovelace"})).await;
    app.customer(json!({"given_name": "Grace", "family_name": "Hopper"})).await;
    ok(&app, Method::POST, "/customers/CUS-00007/sites", Some(json!({"address_line1": "1 Quarry Lane", "town": "Otley", "postcode": "LS21 1AA"}))).await;
    ok(&app, Method::POST, "/customers/CUS-00008/sites", Some(json!({"address_line1": "1 quarry lane.", "postcode": "ls21 1aa"}))).await;
    // CUS-00009: alone. CUS-00010: bob's email too, but deleted.
    app.customer(json!({"given_name": "Zed", "family_name": "Quist"})).await;
    app.customer(json!({"given_name": "Bobby", "family_name": "Tables", "email": "bob@carter.example"})).await;
    ok(&app, Method::DELETE, "/customers/CUS-00010", None).await;
    // CUS-00011 / CUS-00012: erased, so both named "Erased customer" now.
    for (code, name) in [("CUS-00011", "Olga"), ("CUS-00012", "Oleg")] {
        app.customer(json!({"given_name": name, "family_name": "Gone"})).await;
        ok(&app, Method::POST, &format!("/customers/{code}/erasure"), Some(json!({"reason": "Erasure request"}))).await;
    }

    let found = pairs(&app).await;
    let shown: Vec<(&str, Vec<&str>)> = found.iter().map(|(p, r, _)| (p.as_str(), r.iter().map(String::as_str).collect())).collect();
    assert!(shown.contains(&("CUS-00001 CUS-00002", vec!["same_email"])), "{shown:?}");
    assert!(shown.contains(&("CUS-00003 CUS-00004", vec!["same_phone"])), "{shown:?}");
    assert!(shown.contains(&("CUS-00005 CUS-00006", vec!["similar_name"])), "{shown:?}");
    assert!(shown.contains(&("CUS-00007 CUS-00008", vec!["same_address"])), "{shown:?}");
    assert_eq!(found.len(), 4, "no other pair: {shown:?}");
    assert!(!found.iter().any(|(p, ..)| p.contains("CUS-00009") || p.contains("CUS-00010")), "a deleted customer never appears");
    assert!(!found.iter().any(|(p, ..)| p.contains("CUS-00011")), "nor an erased one");
    // Scored by their reasons, best first, with the reasons in words.
    let scores: Vec<u64> = found.iter().map(|(_, _, s)| *s).collect();
    assert_eq!(scores, [50, 40, 35, 20], "{found:?}");
    let (_, page) = app.get("/duplicates").await;
    assert_eq!(page["items"][0]["explained"][0], "Same email (bob@carter.example)");
    // Paged.
    let (_, first) = app.get("/duplicates?limit=3").await;
    assert_eq!(items(&first).len(), 3);
    let (_, rest) = app.get(&format!("/duplicates?limit=3&cursor={}", first["next_cursor"].as_str().unwrap())).await;
    assert_eq!(items(&rest).len(), 1);
    assert_eq!(rest["next_cursor"], Value::Null);
    let (status, problem) = app.get("/duplicates?cursor=nonsense").await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")));
});

both_backends!(not_a_duplicate_is_remembered_and_recorded_on_both, |app| {
    app.customer(json!({"given_name": "Ann", "family_name": "Lee", "email": "office@lee.example"})).await;
    app.customer(json!({"given_name": "Tom", "family_name": "Lee", "email": "office@lee.example"})).await;
    assert_eq!(pairs(&app).await.len(), 1);
    let dismissed = ok(&app, Method::POST, "/duplicates/dismissals", Some(json!({"a": "CUS-00002", "b": "CUS-00001"}))).await;
    assert_eq!((dismissed["a"]["code"].as_str(), dismissed["b"]["code"].as_str()), (Some("CUS-00001"), Some("CUS-00002")), "in id order: {dismissed}");
    assert!(pairs(&app).await.is_empty(), "a dismissed pair is not suggested again");
    for customer in ["CUS-00001", "CUS-00002"] {
        let dismissals = kinds(&timeline(&app, customer).await).iter().filter(|k| *k == "customer.duplicate_dismissed").count();
        assert_eq!(dismissals, 1, "{customer}");
    }
    // Again: no change, no second entry.
    ok(&app, Method::POST, "/duplicates/dismissals", Some(json!({"a": "CUS-00001", "b": "CUS-00002"}))).await;
    assert_eq!(kinds(&timeline(&app, "CUS-00001").await).iter().filter(|k| *k == "customer.duplicate_dismissed").count(), 1);
    // The same customer twice, or nobody: refused.
    let (status, problem) = app.post("/duplicates/dismissals", json!({"a": "CUS-00001", "b": "CUS-00001"})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("b")), "{problem}");
    let (status, _) = app.post("/duplicates/dismissals", json!({"a": "CUS-00001", "b": "CUS-00099"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

const LINES: &str = r#"[{"description": "Boiler service", "unit_price": 9000}]"#;

/// Kim (CUS-00001, the survivor) with an inquiry and a primary contact;
/// Kym (CUS-00002) with a contact, a site, an inquiry, a quote, a job, an
/// issued invoice part paid, a credit note, a note, a follow-up and a file,
/// an email and a label.
async fn world(app: &TestApp) {
    let lines: Value = serde_json::from_str(LINES).unwrap();
    app.customer(json!({"given_name": "Kim", "family_name": "Kowalski", "source": "Web", "labels": ["VIP"]})).await;
    app.customer(json!({"given_name": "Kym", "family_name": "Kowalsky", "email": "kym@kowalsky.example", "source": "Flyer", "labels": ["Boiler"]})).await;
    ok(app, Method::POST, "/customers/CUS-00001/contacts", Some(json!({"family_name": "Kowalski", "is_primary": true}))).await;
    ok(app, Method::POST, "/inquiries", Some(json!({"customer": "CUS-00001", "title": "Draught"}))).await;
    ok(
        app,
        Method::POST,
        "/customers/CUS-00002/contacts",
        Some(json!({"given_name": "Bo", "family_name": "Kowalsky", "is_primary": true, "emails": [{"address": "bo@kowalsky.example"}]})),
    )
    .await;
    ok(app, Method::POST, "/customers/CUS-00002/sites", Some(json!({"address_line1": "1 Quarry Lane", "town": "Otley", "postcode": "LS21 1AA"}))).await;
    ok(app, Method::POST, "/inquiries", Some(json!({"customer": "CUS-00002", "title": "Leak"}))).await;
    ok(app, Method::POST, "/quotes", Some(json!({"customer": "CUS-00002", "title": "New boiler", "lines": lines}))).await;
    let job = ok(app, Method::POST, "/jobs", Some(json!({"customer": "CUS-00002", "title": "Service"}))).await;
    let invoice = ok(app, Method::POST, "/invoices", Some(json!({"customer": "CUS-00002", "issue": true, "lines": lines}))).await;
    ok(app, Method::POST, "/payments", Some(json!({"customer": "CUS-00002", "amount": 5000, "allocations": [{"invoice": invoice["code"], "amount": 4000}]})))
        .await;
    ok(app, Method::POST, "/credit-notes", Some(json!({"customer": "CUS-00002", "amount": 500, "reason": "Goodwill"}))).await;
    ok(app, Method::POST, "/customers/CUS-00002/messages", Some(json!({"channel": "note", "body": "Prefers mornings"}))).await;
    ok(app, Method::POST, "/customers/CUS-00002/follow-ups", Some(json!({"title": "Call back", "due_on": "2026-12-31"}))).await;
    let (status, file) =
        app.upload("/customers/CUS-00002/files", &[("record_type", "job"), ("record", job["code"].as_str().unwrap())], &[("boiler.png", common::PNG)]).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
}

/// What a customer has, as the API lists it: contacts, sites, works,
/// money, messages, follow-ups, files, and its summary's counts.
async fn holdings(app: &TestApp, customer: &str) -> Value {
    let count = |v: Value| items(&v).len();
    let get = |path: String| async move { app.get(&path).await.1 };
    let summary = get(format!("/customers/{customer}/summary")).await;
    json!({
        "contacts": count(get(format!("/customers/{customer}/contacts")).await),
        "sites": count(get(format!("/customers/{customer}/sites")).await),
        "inquiries": count(get(format!("/inquiries?customer={customer}")).await),
        "quotes": count(get(format!("/quotes?customer={customer}")).await),
        "jobs": count(get(format!("/jobs?customer={customer}")).await),
        "invoices": count(get(format!("/invoices?customer={customer}")).await),
        "payments": count(get(format!("/payments?customer={customer}")).await),
        "credit_notes": count(get(format!("/credit-notes?customer={customer}")).await),
        "messages": count(get(format!("/customers/{customer}/messages")).await),
        "follow_ups": count(get(format!("/customers/{customer}/follow-ups")).await),
        "files": count(get(format!("/customers/{customer}/files")).await),
        "bars": [summary["inquiries"]["count"].clone(), summary["quotes"]["count"].clone(), summary["jobs"]["count"].clone(), summary["invoices"]["count"].clone()],
        "open_balance": summary["open_balance"].clone(),
        "account_credit": summary["account_credit"].clone(),
    })
}

both_backends!(a_merge_moves_everything_and_the_merged_code_resolves_to_the_survivor, |app| {
    world(&app).await;
    let (kim_before, kym_before) = (holdings(&app, "CUS-00001").await, holdings(&app, "CUS-00002").await);
    assert_eq!(kym_before["files"], 1, "{kym_before}");
    let (_, kym) = app.get("/customers/CUS-00002").await;
    let ids = |entries: &[Value]| entries.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let (kim_history, kym_history) = (ids(&timeline(&app, "CUS-00001").await), ids(&timeline(&app, "CUS-00002").await));

    let merged = ok(&app, Method::POST, "/customers/CUS-00001/merge", Some(json!({"merged": "CUS-00002", "fields": {"email": "merged"}}))).await;
    assert_eq!((merged["survivor"]["code"].as_str(), merged["merged"]["code"].as_str()), (Some("CUS-00001"), Some("CUS-00002")));
    for (table, n) in
        [("contact", 1), ("site", 1), ("inquiry", 1), ("quote", 1), ("job", 1), ("invoice", 1), ("payment", 1), ("credit_note", 1), ("allocation", 1)]
    {
        assert_eq!(merged["moved"][table], n, "{table}: {merged}");
    }
    assert_eq!(merged["undone_at"], Value::Null);

    // Everything is the survivor's: each list, the bars and the balances add up.
    let kim = holdings(&app, "CUS-00001").await;
    for key in ["contacts", "sites", "inquiries", "quotes", "jobs", "invoices", "payments", "credit_notes", "messages", "follow_ups", "files"] {
        let sum = kim_before[key].as_u64().unwrap() + kym_before[key].as_u64().unwrap();
        assert_eq!(kim[key].as_u64(), Some(sum), "{key}: {kim}");
    }
    for i in 0..4 {
        let sum = kim_before["bars"][i].as_i64().unwrap() + kym_before["bars"][i].as_i64().unwrap();
        assert_eq!(kim["bars"][i].as_i64(), Some(sum), "bar {i}: {kim}");
    }
    assert_eq!(kim["open_balance"].as_i64(), Some(kim_before["open_balance"].as_i64().unwrap() + kym_before["open_balance"].as_i64().unwrap()));
    assert_eq!(kim["account_credit"].as_i64(), Some(kim_before["account_credit"].as_i64().unwrap() + kym_before["account_credit"].as_i64().unwrap()));
    // Fields as chosen: Kym's email (chosen), Kim's name and source (default); both labels; one primary contact.
    let (_, survivor) = app.get("/customers/CUS-00001").await;
    assert_eq!(
        (survivor["display_name"].as_str(), survivor["email"].as_str(), survivor["source"].as_str()),
        (Some("Kim Kowalski"), Some("kym@kowalsky.example"), Some("Web"))
    );
    assert_eq!(survivor["labels"], json!(["Boiler", "VIP"]));
    assert!(survivor.get("merged_from").is_none(), "{survivor}");
    let (_, contacts) = app.get("/customers/CUS-00001/contacts").await;
    assert_eq!(items(&contacts).iter().filter(|c| c["is_primary"] == true).count(), 1, "{contacts}");

    // The merged code and id answer the survivor, saying so.
    for reference in ["CUS-00002", kym["id"].as_str().unwrap()] {
        let (status, answer) = app.get(&format!("/customers/{reference}")).await;
        assert_eq!((status, answer["code"].as_str()), (StatusCode::OK, Some("CUS-00001")), "{answer}");
        assert_eq!(answer["merged_from"]["code"], "CUS-00002");
        assert_eq!(answer["merged_from"]["merge_id"], merged["id"]);
    }
    // Gone from lists and search; its contact's email finds the survivor.
    assert_eq!(codes(&app.get("/customers").await.1), ["CUS-00001"]);
    assert_eq!(codes(&app.get("/customers?q=kowalsky").await.1), ["CUS-00001"], "the moved contact's name");
    assert_eq!(codes(&app.get("/customers?q=bo@kowalsky.example").await.1), ["CUS-00001"]);
    assert_eq!(codes(&app.get("/customers?q=CUS-00002").await.1), Vec::<String>::new());
    let (_, deleted) = app.get("/customers/deleted").await;
    assert!(codes(&deleted).is_empty(), "a merged customer is not on the Deleted page: {deleted}");

    // One merge entry, on both, and the survivor's timeline holds Kym's history.
    let entries = timeline(&app, "CUS-00001").await;
    assert_eq!(kinds(&entries).iter().filter(|k| *k == "customer.merged").count(), 1, "{:?}", kinds(&entries));
    let created: Vec<&str> = entries.iter().filter(|e| e["kind"] == "customer.created").map(|e| e["subject_code"].as_str().unwrap()).collect();
    assert!(created.contains(&"CUS-00001") && created.contains(&"CUS-00002"), "{created:?}");
    let now_held = ids(&entries);
    assert!(kim_history.iter().chain(&kym_history).all(|id| now_held.contains(id)), "every entry of both, before the merge");
    assert_eq!(now_held.len(), kim_history.len() + kym_history.len() + 1, "each once, and the merge");
    assert_eq!(entries[0]["kind"], "customer.merged");
    assert!(entries[0]["summary"].as_str().unwrap().starts_with("CUS-00002 (Kym Kowalsky) merged into CUS-00001"), "{}", entries[0]);

    // The search within the survivor's history finds the moved note and file.
    assert_eq!(items(&app.get("/customers/CUS-00001/messages?q=mornings").await.1).len(), 1, "the moved note's words");
    assert_eq!(items(&app.get("/customers/CUS-00001/files?q=boiler").await.1).len(), 1, "the moved file's name");

    // Every write to the merged customer is refused.
    let (status, problem) = app.patch("/customers/CUS-00002", json!({"source": "Radio"})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("customer_merged")), "{problem}");
    let (status, problem) = app.post("/inquiries", json!({"customer": kym["id"], "title": "Another"})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("customer_merged")), "{problem}");
    let (status, problem) = app.post("/customers/CUS-00002/messages", json!({"channel": "note", "body": "Hello"})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("customer_merged")), "{problem}");

    // The web app: the merged code redirects to the survivor, with a note.
    app.user("owner").await;
    let cookie = app.session("owner").await;
    let request = axum::http::Request::builder().uri("/customers/CUS-00002").header("cookie", &cookie).body(axum::body::Body::empty()).unwrap();
    let (status, headers, _) = TestApp::send(&app.router, request).await;
    assert!(status.is_redirection(), "{status}");
    let location = headers["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/customers/CUS-00001?merged_from=CUS-00002");
    let (status, html) = app.page(Some(&cookie), &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("CUS-00002 was merged into this customer on"), "{html}");
    assert!(html.contains("Undo merge"), "an owner may undo it");
});

both_backends!(undoing_a_merge_puts_both_back_and_leaves_what_the_survivor_gained_since, |app| {
    world(&app).await;
    let (kim_before, kym_before) = (holdings(&app, "CUS-00001").await, holdings(&app, "CUS-00002").await);
    let (_, kim_profile) = app.get("/customers/CUS-00001").await;
    let (_, kym_profile) = app.get("/customers/CUS-00002").await;
    let merged =
        ok(&app, Method::POST, "/customers/CUS-00001/merge", Some(json!({"merged": "CUS-00002", "fields": {"name": "merged", "email": "merged"}}))).await;
    let (_, renamed) = app.get("/customers/CUS-00001").await;
    assert_eq!(renamed["display_name"], "Kym Kowalsky");
    // Since the merge, the survivor gained an inquiry.
    ok(&app, Method::POST, "/inquiries", Some(json!({"customer": "CUS-00001", "title": "After the merge"}))).await;

    let undone = ok(&app, Method::POST, &format!("/merges/{}/undo", merged["id"].as_str().unwrap()), None).await;
    assert!(undone["undone_at"].is_string(), "{undone}");
    let (kim, kym) = (holdings(&app, "CUS-00001").await, holdings(&app, "CUS-00002").await);
    assert_eq!(kym, kym_before, "the merged customer has exactly what it had");
    let mut expected = kim_before.clone();
    expected["inquiries"] = json!(kim_before["inquiries"].as_u64().unwrap() + 1);
    expected["bars"][0] = json!(kim_before["bars"][0].as_i64().unwrap() + 1);
    assert_eq!(kim, expected, "the survivor keeps what it gained since");
    // Both profiles as they were (the survivor's own fields back).
    let (_, kim_after) = app.get("/customers/CUS-00001").await;
    let (_, kym_after) = app.get("/customers/CUS-00002").await;
    for field in ["display_name", "email", "source", "labels"] {
        assert_eq!(kim_after[field], kim_profile[field], "{field}");
        assert_eq!(kym_after[field], kym_profile[field], "{field}");
    }
    assert!(kym_after.get("merged_from").is_none() && kym_after.get("deleted").is_none(), "{kym_after}");
    let (_, contacts) = app.get("/customers/CUS-00002/contacts").await;
    assert_eq!(items(&contacts)[0]["is_primary"], true, "its primary contact is primary again");
    // Live again: listed and found.
    assert_eq!(codes(&app.get("/customers?sort=code").await.1), ["CUS-00001", "CUS-00002"]);
    assert_eq!(codes(&app.get("/customers?q=bo@kowalsky.example").await.1), ["CUS-00002"]);
    assert_eq!(codes(&app.get("/customers?q=kym").await.1), ["CUS-00002"]);
    assert_eq!(items(&app.get("/customers/CUS-00002/messages?q=mornings").await.1).len(), 1, "its note's words are its own again");
    assert!(items(&app.get("/customers/CUS-00001/messages?q=mornings").await.1).is_empty());
    // The undo is recorded on both; the survivor's timeline no longer holds Kym's history.
    let kim_entries = timeline(&app, "CUS-00001").await;
    let kym_entries = timeline(&app, "CUS-00002").await;
    assert_eq!(kim_entries[0]["kind"], "customer.merge_undone");
    assert_eq!(kym_entries[0]["kind"], "customer.merge_undone");
    assert!(!kim_entries.iter().any(|e| e["kind"] == "customer.created" && e["subject_code"] == "CUS-00002"));
    // The merged customer takes writes again.
    ok(&app, Method::PATCH, "/customers/CUS-00002", Some(json!({"source": "Radio"}))).await;
    // Undone once only.
    let (status, problem) = app.post(&format!("/merges/{}/undo", merged["id"].as_str().unwrap()), json!({})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("merge_undone")), "{problem}");
});

/// The bars kept by triggers equal the bars counted from the records.
async fn kept_bars_match_recount(app: &TestApp) {
    use dossier_store::summary::{CustomerBar, all_bars, recount_bars};
    let mut conn = app.db.read().await.unwrap();
    let key = |kept: &CustomerBar| (kept.customer_id, kept.bar.record.clone(), kept.bar.status.clone());
    let mut kept = all_bars(&mut conn.handle(), app.org.id.0).await.unwrap();
    let mut counted = recount_bars(&mut conn.handle(), app.org.id.0).await.unwrap();
    kept.sort_by_key(key);
    counted.sort_by_key(key);
    assert!(!counted.is_empty());
    assert_eq!(kept, counted);
}

both_backends!(the_bars_follow_the_records_through_a_merge_and_its_undo, |app| {
    world(&app).await;
    kept_bars_match_recount(&app).await;
    let merged = ok(&app, Method::POST, "/customers/CUS-00001/merge", Some(json!({"merged": "CUS-00002"}))).await;
    kept_bars_match_recount(&app).await;
    ok(&app, Method::POST, &format!("/merges/{}/undo", merged["id"].as_str().unwrap()), None).await;
    kept_bars_match_recount(&app).await;
});

both_backends!(an_undo_that_would_split_money_allocated_across_the_two_is_refused_until_it_is_taken_back, |app| {
    world(&app).await;
    let (_, invoices) = app.get("/invoices?customer=CUS-00002").await;
    let invoice = items(&invoices)[0]["code"].as_str().unwrap().to_owned();
    let merged = ok(&app, Method::POST, "/customers/CUS-00001/merge", Some(json!({"merged": "CUS-00002"}))).await;
    // After the merge, the survivor's new payment pays the invoice that came from Kym.
    let payment =
        ok(&app, Method::POST, "/payments", Some(json!({"customer": "CUS-00001", "amount": 700, "allocations": [{"invoice": invoice, "amount": 700}]}))).await;
    let before = holdings(&app, "CUS-00001").await;
    let undo = format!("/merges/{}/undo", merged["id"].as_str().unwrap());
    let (status, problem) = app.post(&undo, json!({})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("undo_blocked")), "{problem}");
    assert_eq!(holdings(&app, "CUS-00001").await, before, "a refused undo changes nothing");
    // Taken back, the undo goes through.
    let allocation = payment["allocations"][0]["id"].as_str().unwrap();
    ok(
        &app,
        Method::POST,
        &format!("/payments/{}/allocations/{allocation}/unallocate", payment["code"].as_str().unwrap()),
        Some(json!({"reason": "Wrong customer"})),
    )
    .await;
    ok(&app, Method::POST, &undo, None).await;
    kept_bars_match_recount(&app).await;
});

both_backends!(refused_merges_and_undos_answer_stable_codes_and_change_nothing, |app| {
    for name in ["Ann", "Bea", "Cy", "Di", "Ed"] {
        app.customer(json!({"given_name": name, "family_name": "Test"})).await;
    }
    let refused = |status: StatusCode, problem: &Value| (status, problem["code"].as_str().unwrap_or_default().to_owned());
    let (status, problem) = app.post("/customers/CUS-00001/merge", json!({"merged": "CUS-00001"})).await;
    assert_eq!(refused(status, &problem), (StatusCode::CONFLICT, "merge_into_itself".into()));
    let (status, problem) = app.post("/customers/CUS-00001/merge", json!({"merged": "CUS-00002", "fields": {"colour": "merged"}})).await;
    assert_eq!(refused(status, &problem), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed".into()));
    assert_eq!(problem["errors"][0]["field"], "fields.colour");
    let (status, problem) = app.post("/customers/CUS-00001/merge", json!({"merged": "x".repeat(101)})).await;
    assert_eq!(refused(status, &problem), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed".into()));
    let (status, _) = app.post("/customers/CUS-00001/merge", json!({"merged": "CUS-00099"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Deleted, erased, merged already.
    ok(&app, Method::DELETE, "/customers/CUS-00003", None).await;
    let (status, problem) = app.post("/customers/CUS-00001/merge", json!({"merged": "CUS-00003"})).await;
    assert_eq!(refused(status, &problem), (StatusCode::CONFLICT, "customer_deleted".into()));
    ok(&app, Method::POST, "/customers/CUS-00004/erasure", Some(json!({"reason": "Erasure request"}))).await;
    let (status, problem) = app.post("/customers/CUS-00001/merge", json!({"merged": "CUS-00004"})).await;
    assert_eq!(refused(status, &problem), (StatusCode::CONFLICT, "customer_erased".into()));
    let merge = ok(&app, Method::POST, "/customers/CUS-00001/merge", Some(json!({"merged": "CUS-00002"}))).await;
    let (status, problem) = app.post("/customers/CUS-00005/merge", json!({"merged": "CUS-00002"})).await;
    assert_eq!(refused(status, &problem), (StatusCode::CONFLICT, "customer_merged".into()));
    let (status, problem) = app.post("/customers/CUS-00002/merge", json!({"merged": "CUS-00005"})).await;
    // CUS-00002 resolves for reads only: a write to it names the merge.
    assert_eq!(refused(status, &problem), (StatusCode::CONFLICT, "customer_merged".into()));
    // A merged customer is neither deleted nor restored.
    let (status, problem) = app.delete("/customers/CUS-00002").await;
    assert_eq!(refused(status, &problem), (StatusCode::CONFLICT, "customer_merged".into()));
    let (status, problem) = app.post("/customers/CUS-00002/restore", json!({})).await;
    assert_eq!(refused(status, &problem), (StatusCode::CONFLICT, "customer_merged".into()));
    // Not an owner or admin: forbidden, for office staff too.
    for role in ["office", "fieldworker"] {
        let (_, token) = app.user(role).await;
        let (status, _) = app.call_as(Some(&token), Method::POST, "/customers/CUS-00001/merge", Some(json!({"merged": "CUS-00005"}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
        let (status, _) = app.call_as(Some(&token), Method::GET, "/duplicates", None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
        let (status, _) = app.call_as(Some(&token), Method::POST, &format!("/merges/{}/undo", merge["id"].as_str().unwrap()), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
        // Nor do the web pages open for them.
        let cookie = app.session(role).await;
        for page in ["/admin/duplicates", "/customers/CUS-00001/merge?with=CUS-00005"] {
            assert_eq!(app.page(Some(&cookie), page).await.0, StatusCode::FORBIDDEN, "{role} {page}");
        }
    }
    // After the window: undo_window_ended (the service's clock a month on).
    let id = merge["id"].as_str().unwrap();
    let later = app.ctx().at(Timestamp::now() + SignedDuration::from_hours(24 * 30 + 1));
    let late = merge::undo_merge(&app.db, &later, id).await.unwrap_err();
    assert_eq!(late.code(), "undo_window_ended", "{late}");
    let (status, problem) = app.post("/merges/not-a-merge/undo", json!({})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    // None of it changed anything: CUS-00002 is merged, CUS-00003 deleted, the erased CUS-00004 listed as it was.
    assert_eq!(codes(&app.get("/customers?sort=code").await.1), ["CUS-00001", "CUS-00004", "CUS-00005"]);
    let (_, still) = app.get(&format!("/merges/{id}")).await;
    assert_eq!(still["undone_at"], Value::Null);
    // A merge's body is bounded.
    let by_field: serde_json::Map<String, Value> = (0..60).map(|i| (format!("custom.f{i}"), json!("merged"))).collect();
    let (status, problem) = app.post("/customers/CUS-00001/merge", json!({"merged": "CUS-00005", "fields": by_field})).await;
    assert_eq!((status, problem["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("too_many")), "{problem}");
});

// ------------------------------------------------------- money, as a property

#[derive(Clone, Debug)]
enum Step {
    /// Issue an invoice for customer 0 or 1, due this many days ago (negative: not yet due).
    Invoice { customer: usize, price: i64, overdue_days: i64 },
    /// A payment, part of it set against the customer's n-th invoice.
    Pay { customer: usize, amount: i64, invoice: usize, allocate: i64 },
    /// A credit note against the customer's n-th invoice.
    Credit { customer: usize, invoice: usize, amount: i64 },
    /// Standalone credit.
    AccountCredit { customer: usize, amount: i64 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..2usize, 1..50_000i64, -20..120i64).prop_map(|(customer, price, overdue_days)| Step::Invoice { customer, price, overdue_days }),
        (0..2usize, 1..60_000i64, 0..6usize, 0..60_000i64).prop_map(|(customer, amount, invoice, allocate)| Step::Pay { customer, amount, invoice, allocate }),
        (0..2usize, 0..6usize, 1..30_000i64).prop_map(|(customer, invoice, amount)| Step::Credit { customer, invoice, amount }),
        (0..2usize, 1..20_000i64).prop_map(|(customer, amount)| Step::AccountCredit { customer, amount }),
    ]
}

/// A customer's money as every reader sees it: balances, ageing, the
/// invoice bars, and the statement (closing balance and its lines).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Money {
    open_balance: i64,
    overdue_balance: i64,
    account_credit: i64,
    ageing: [i64; 5],
    /// Per invoice state: count, total, balance.
    bars: Vec<(String, i64, i64, i64)>,
    opening_balance: i64,
    closing_balance: i64,
    /// (kind, code, amount), sorted.
    lines: Vec<(String, String, i64)>,
}

impl Money {
    fn plus(&self, other: &Money) -> Money {
        let mut lines: Vec<_> = self.lines.iter().chain(&other.lines).cloned().collect();
        lines.sort();
        Money {
            open_balance: self.open_balance + other.open_balance,
            overdue_balance: self.overdue_balance + other.overdue_balance,
            account_credit: self.account_credit + other.account_credit,
            ageing: std::array::from_fn(|i| self.ageing[i] + other.ageing[i]),
            bars: self.bars.iter().zip(&other.bars).map(|(a, b)| (a.0.clone(), a.1 + b.1, a.2 + b.2, a.3 + b.3)).collect(),
            opening_balance: self.opening_balance + other.opening_balance,
            closing_balance: self.closing_balance + other.closing_balance,
            lines,
        }
    }
}

async fn money(app: &TestApp, customer: &str) -> Money {
    let ctx = app.ctx();
    let found = summary::customer_summary(&app.db, &ctx, customer).await.unwrap();
    let b = found.balances.unwrap();
    let a = &b.ageing;
    let bars =
        found.invoices.unwrap().bars.iter().map(|bar| (bar.status.clone(), bar.count, bar.total.map_or(0, |m| m.0), bar.balance.map_or(0, |m| m.0))).collect();
    let st = statement::statement(&app.db, &ctx, customer, Default::default()).await.unwrap();
    let mut lines: Vec<(String, String, i64)> = st.lines.iter().map(|l| (l.kind.clone(), l.code.clone(), l.amount.0)).collect();
    lines.sort();
    Money {
        open_balance: b.open_balance.0,
        overdue_balance: b.overdue_balance.0,
        account_credit: b.account_credit.0,
        ageing: [a.current.0, a.days_1_30.0, a.days_31_60.0, a.days_61_90.0, a.days_over_90.0],
        bars,
        opening_balance: st.opening_balance.0,
        closing_balance: st.closing_balance.0,
        lines,
    }
}

fn input<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

async fn play(app: &TestApp, steps: &[Step]) {
    use dossier_service::billing;
    let (db, ctx) = (&app.db, app.ctx());
    let names = ["CUS-00001", "CUS-00002"];
    app.customer(json!({"family_name": "Survivor"})).await;
    app.customer(json!({"family_name": "Merged"})).await;
    let mut invoices: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    let today = ctx.today();
    for step in steps {
        let pick = |list: &Vec<String>, n: usize| list.get(n % list.len().max(1)).cloned();
        let result = match step {
            Step::Invoice { customer, price, overdue_days } => {
                let due = today.checked_sub(jiff::Span::new().days(*overdue_days)).unwrap();
                let issued = if due < today { due } else { today };
                let body = json!({"customer": names[*customer], "issue": true, "issue_date": issued, "due_date": due,
                    "lines": [{"description": "Work", "unit_price": price, "tax_rate_bp": 2000}]});
                billing::create_invoice(db, &ctx, input(body)).await.map(|i| invoices[*customer].push(i.code))
            }
            Step::Pay { customer, amount, invoice, allocate } => {
                let mut body = json!({"customer": names[*customer], "amount": amount});
                if let (Some(invoice), true) = (pick(&invoices[*customer], *invoice), *allocate > 0) {
                    body["allocations"] = json!([{"invoice": invoice, "amount": allocate}]);
                }
                billing::record_payment(db, &ctx, input(body)).await.map(drop)
            }
            Step::Credit { customer, invoice, amount } => match pick(&invoices[*customer], *invoice) {
                Some(invoice) => {
                    billing::create_credit_note(db, &ctx, input(json!({"invoice": invoice, "amount": amount, "reason": "Adjustment"}))).await.map(drop)
                }
                None => Ok(()),
            },
            Step::AccountCredit { customer, amount } => {
                billing::create_credit_note(db, &ctx, input(json!({"customer": names[*customer], "amount": amount, "reason": "Goodwill"}))).await.map(drop)
            }
        };
        if let Err(e) = result {
            assert!(matches!(e.code(), "validation_failed" | "invoice_not_open"), "{step:?}: {e}");
        }
    }
    let (survivor, merged) = (money(app, names[0]).await, money(app, names[1]).await);
    let done = merge::merge_customers(db, &ctx, names[0], MergeInput { merged: names[1].into(), ..Default::default() }).await.unwrap();
    assert_eq!(money(app, names[0]).await, survivor.plus(&merged), "after the merge the survivor holds both");
    merge::undo_merge(db, &ctx, &done.id.to_string()).await.unwrap();
    assert_eq!(money(app, names[0]).await, survivor, "after the undo the survivor's money is as before");
    assert_eq!(money(app, names[1]).await, merged, "after the undo the merged customer's money is as before");
}

fn check(backend: common::Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let config = ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(steps in prop::collection::vec(step(), 1..20))| {
        runtime.block_on(async {
            if let Some(app) = TestApp::new(backend).await {
                play(&app, &steps).await;
            }
        });
    });
}

#[test]
fn money_adds_up_through_a_merge_and_its_undo_sqlite() {
    check(common::Backend::Sqlite);
}

#[test]
fn money_adds_up_through_a_merge_and_its_undo_postgres() {
    check(common::Backend::Postgres);
}
