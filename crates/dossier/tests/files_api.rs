//! Files: attached to a customer, a record or a message; kept once per
//! content in the blob store; served with their sniffed type and never as
//! a page; refused whole when anything is wrong; seen by whom the record
//! or message they hang off is seen by (a fieldworker: their jobs; the
//! customer: customer-visible messages and invoices shared with them).
//! Both backends.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode, header};
use common::{PNG, TestApp};
use serde_json::{Value, json};

/// A customer with a job and an issued invoice: (job code, invoice code).
async fn customer_with_work(app: &TestApp) -> (String, String) {
    app.customer(json!({"given_name": "Pat", "family_name": "Files", "email": "pat@example.com"})).await;
    let (_, job) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "Boiler service"})).await;
    let (_, invoice) = app.post("/invoices", json!({"customer": "CUS-00001", "issue": true, "lines": [{"description": "Service", "unit_price": 9000}]})).await;
    (job["code"].as_str().unwrap().to_owned(), invoice["code"].as_str().unwrap().to_owned())
}

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

both_backends!(files_hang_off_records_and_messages_are_kept_once_and_served_by_their_content, |app| {
    let (job, _) = customer_with_work(&app).await;
    let (status, added) = app
        .upload(
            "/customers/CUS-00001/files",
            &[("record_type", "job"), ("record", &job)],
            &[("boiler.png", PNG), ("../../etc/notes.txt", b"Serial 12345\nFlue ok")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let items = added["items"].as_array().unwrap();
    let (photo, notes) = (&items[0], &items[1]);
    assert_eq!((text(photo, "name"), text(photo, "media_type"), photo["size"].as_u64()), ("boiler.png".into(), "image/png".into(), Some(PNG.len() as u64)));
    assert_eq!((text(notes, "name"), text(notes, "media_type")), ("notes.txt".into(), "text/plain".into()), "the path is dropped from the name");
    assert_eq!((photo["record"]["type"].as_str(), photo["record"]["code"].as_str()), (Some("job"), Some(job.as_str())));
    assert_eq!((text(photo, "visibility"), text(&photo["uploaded_by"], "type")), ("internal".into(), "api".into()));

    // A picture opens in the browser with its own type; text is a download.
    let auth = format!("Bearer {}", app.token);
    let (status, headers, bytes) = app.fetch(&format!("/api/v1/files/{}/content", text(photo, "id")), Some(("authorization", &auth))).await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PNG));
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(headers[header::CONTENT_DISPOSITION], "inline; filename=\"boiler.png\"; filename*=UTF-8''boiler.png");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let (_, headers, bytes) = app.fetch(&format!("/api/v1/files/{}/content", text(notes, "id")), Some(("authorization", &auth))).await;
    assert_eq!(bytes, b"Serial 12345\nFlue ok");
    assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
    assert!(headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment;"));
    let (_, headers, _) = app.fetch(&format!("/api/v1/files/{}/content?download=true", text(photo, "id")), Some(("authorization", &auth))).await;
    assert!(headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment;"));

    // The same content again is a new file but not a new blob.
    let blobs = app.blobs_stored();
    let (status, again) = app.upload("/customers/CUS-00001/files", &[], &[("same photo.png", PNG)]).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(app.blobs_stored(), blobs);
    assert_eq!(text(&again["items"][0], "sha256"), text(photo, "sha256"));

    // Files of a message: its record and audience come with it.
    let (_, note) =
        app.post("/customers/CUS-00001/messages", json!({"channel": "note", "body": "Photo of the gauge", "record_type": "job", "record": job})).await;
    let (status, with_note) = app.upload("/customers/CUS-00001/files", &[("message_id", &text(&note, "id"))], &[("gauge reading.png", PNG)]).await;
    assert_eq!(status, StatusCode::CREATED, "{with_note}");
    assert_eq!((with_note["items"][0]["message_id"].as_str(), with_note["items"][0]["record"]["code"].as_str()), (note["id"].as_str(), Some(job.as_str())));

    // Lists: all, by record, by words of the name.
    let (_, all) = app.get("/customers/CUS-00001/files").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 4);
    let (_, of_job) = app.get(&format!("/customers/CUS-00001/files?record_type=job&record={job}")).await;
    assert_eq!(of_job["items"].as_array().unwrap().len(), 3);
    let (_, found) = app.get("/customers/CUS-00001/files?q=gauge").await;
    let names: Vec<&str> = found["items"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["gauge reading.png"]);
    let (_, found) = app.get("/customers/CUS-00001/files?q=boil").await;
    assert_eq!(found["items"][0]["name"], "boiler.png", "a word's start matches");

    // Each is on the customer's timeline and the job's, under Communication.
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?group=communication").await;
    let summaries: Vec<&str> = timeline["items"].as_array().unwrap().iter().map(|e| e["summary"].as_str().unwrap()).collect();
    assert!(summaries.iter().any(|s| *s == format!("Photo boiler.png (70 B) added to {job}")), "{summaries:?}");
    let (_, job_row) = app.get(&format!("/jobs/{job}")).await;
    let (_, job_timeline) = app.get(&format!("/jobs/{}/timeline", text(&job_row, "id"))).await;
    assert!(job_timeline.to_string().contains("gauge reading.png"), "{job_timeline}");
});

both_backends!(bad_uploads_are_refused_whole_and_leave_nothing_behind, |app| {
    let (job, _) = customer_with_work(&app).await;
    app.customer(json!({"family_name": "Other"})).await;
    let (_, other_job) = app.post("/jobs", json!({"customer": "CUS-00002", "title": "Theirs"})).await;
    let (_, note) = app.post("/customers/CUS-00002/messages", json!({"channel": "note", "body": "Not yours"})).await;
    let (rows, blobs) = (app.count("file").await, app.blobs_stored());
    let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>".as_slice();
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>".as_slice();
    // What is wrong, the form's fields, its files, the answer and the code expected.
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, Vec<(&'a str, &'a [u8])>, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        ("a lying extension", vec![], vec![("photo.jpg", html)], StatusCode::UNPROCESSABLE_ENTITY, "type_mismatch"),
        ("a PNG named as a PDF, beside a good file", vec![], vec![("ok.png", PNG), ("invoice.pdf", PNG)], StatusCode::UNPROCESSABLE_ENTITY, "type_mismatch"),
        ("HTML", vec![], vec![("page.html", html)], StatusCode::UNPROCESSABLE_ENTITY, "type_not_allowed"),
        ("SVG under no extension", vec![], vec![("logo", svg)], StatusCode::UNPROCESSABLE_ENTITY, "type_not_allowed"),
        ("no file", vec![], vec![], StatusCode::UNPROCESSABLE_ENTITY, "required"),
        ("an empty file", vec![], vec![("empty.txt", b"".as_slice())], StatusCode::UNPROCESSABLE_ENTITY, "empty"),
        ("eleven files", vec![], vec![("a.png", PNG); 11], StatusCode::UNPROCESSABLE_ENTITY, "too_many"),
        (
            "another customer's job",
            vec![("record_type", "job".into()), ("record", text(&other_job, "code"))],
            vec![("a.png", PNG)],
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_found",
        ),
        ("another customer's message", vec![("message_id", text(&note, "id"))], vec![("a.png", PNG)], StatusCode::UNPROCESSABLE_ENTITY, "not_found"),
        (
            "a job's file shown to the customer",
            vec![("record_type", "job".into()), ("record", job.clone()), ("visibility", "customer".into())],
            vec![("a.png", PNG)],
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_shareable",
        ),
        ("an unknown field", vec![("colour", "red".into())], vec![("a.png", PNG)], StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
    ];
    for (case, fields, files, expected, code) in cases {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, problem) = app.upload("/customers/CUS-00001/files", &fields, &files).await;
        assert_eq!(status, expected, "{case}: {problem}");
        let codes: Vec<&str> = problem["errors"].as_array().map(|e| e.iter().map(|e| e["code"].as_str().unwrap()).collect()).unwrap_or_default();
        assert!(codes.contains(&code), "{case}: {problem}");
        assert_eq!((app.count("file").await, app.blobs_stored()), (rows, blobs), "{case} wrote something");
    }
    // Not multipart at all, and a customer of another org.
    let (status, problem) = app.post("/customers/CUS-00001/files", json!({"file": "x"})).await;
    assert_eq!((status, problem["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("malformed_upload")), "{problem}");
    let (_, other_org_token) = app.add_org("Elsewhere", "admin@elsewhere.example").await;
    let (status, _) = app.upload_as(Some(&other_org_token), "/customers/CUS-00001/files", &[], &[("a.png", PNG)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // An Idempotency-Key cannot be honoured on an upload and is refused.
    let (content_type, body) = common::multipart(&[], &[("a.png", PNG)]);
    let request = axum::http::Request::post("/api/v1/customers/CUS-00001/files")
        .header("authorization", format!("Bearer {}", app.token))
        .header("content-type", content_type)
        .header("idempotency-key", "upload-1")
        .body(axum::body::Body::from(body))
        .unwrap();
    let (status, _, problem) = TestApp::send(&app.router, request).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_idempotency_key")), "{problem}");
    assert_eq!((app.count("file").await, app.blobs_stored()), (rows, blobs));

    // A 1,000-character name with a path and a direction override is kept
    // clean (control characters cannot be in a multipart header at all).
    let long = format!("../../{}\u{202E}.png", "x".repeat(1000));
    let (status, added) = app.upload("/customers/CUS-00001/files", &[], &[(&long, PNG)]).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let name = text(&added["items"][0], "name");
    assert_eq!((name.chars().count(), name.ends_with("x.png"), name.contains('\u{202E}')), (200, true, false));
});

both_backends!(a_file_over_the_limit_is_413_and_nothing_is_kept, |app| {
    customer_with_work(&app).await;
    // The same database behind a server with a 1 kB limit.
    let small = dossier_service::files::Files::open(&app.files_dir, Some(1000), &[]).unwrap();
    let router = dossier_web::app(dossier_web::AppState::new(app.db.clone(), small));
    let (content_type, body) = common::multipart(&[], &[("small.png", PNG), ("big.txt", &[b'a'; 1001])]);
    let request = axum::http::Request::post("/api/v1/customers/CUS-00001/files")
        .header("authorization", format!("Bearer {}", app.token))
        .header("content-type", content_type)
        .body(axum::body::Body::from(body))
        .unwrap();
    let (status, headers, problem) = TestApp::send(&router, request).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("file_too_large")), "{problem}");
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!((app.count("file").await, app.blobs_stored()), (0, 0), "neither the small file nor a part of the big one is kept");
});

both_backends!(a_fieldworker_adds_and_sees_only_the_files_of_their_jobs, |app| {
    let (fieldworker_id, fieldworker) = app.user("fieldworker").await;
    app.customer(json!({"family_name": "Field"})).await;
    let (_, mine) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "Mine", "assignees": [fieldworker_id]})).await;
    let (_, theirs) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "Theirs"})).await;
    let (mine, theirs) = (text(&mine, "code"), text(&theirs, "code"));
    let (status, photo) =
        app.upload_as(Some(&fieldworker), "/customers/CUS-00001/files", &[("record_type", "job"), ("record", &mine)], &[("meter.png", PNG)]).await;
    assert_eq!(status, StatusCode::CREATED, "{photo}");
    let (status, problem) = app.upload_as(Some(&fieldworker), "/customers/CUS-00001/files", &[], &[("loose.png", PNG)]).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("record")), "{problem}");
    let (status, _) = app.upload_as(Some(&fieldworker), "/customers/CUS-00001/files", &[("record_type", "job"), ("record", &theirs)], &[("x.png", PNG)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The office's files of the other job and of the customer stay out of reach.
    let (_, office_files) = app.upload("/customers/CUS-00001/files", &[("record_type", "job"), ("record", &theirs)], &[("theirs.png", PNG)]).await;
    let (_, profile_files) = app.upload("/customers/CUS-00001/files", &[], &[("contract.pdf", b"%PDF-1.4 contract")]).await;
    let (_, listed) = app.call_as(Some(&fieldworker), Method::GET, "/customers/CUS-00001/files", None).await;
    let names: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["meter.png"]);
    for other in [&office_files["items"][0], &profile_files["items"][0]] {
        let (status, _) = app.call_as(Some(&fieldworker), Method::GET, &format!("/files/{}", text(other, "id")), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _, _) =
            app.fetch(&format!("/api/v1/files/{}/content", text(other, "id")), Some(("authorization", &format!("Bearer {fieldworker}")))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // Their timeline of the customer names only their own job's file.
    let (_, timeline) = app.call_as(Some(&fieldworker), Method::GET, "/customers/CUS-00001/timeline?group=communication", None).await;
    let seen = timeline.to_string();
    assert!(seen.contains("meter.png") && !seen.contains("theirs.png") && !seen.contains("contract.pdf"), "{seen}");
    // The office sees the fieldworker's photo.
    let (status, _, bytes) =
        app.fetch(&format!("/api/v1/files/{}/content", text(&photo["items"][0], "id")), Some(("authorization", &format!("Bearer {}", app.token)))).await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PNG));
});

both_backends!(the_portal_offers_only_files_of_messages_meant_for_the_customer_and_of_their_invoices, |app| {
    let (job, invoice) = customer_with_work(&app).await;
    let (_, internal) = app.post("/customers/CUS-00001/messages", json!({"channel": "note", "body": "Internal: slow payer"})).await;
    let (_, internal_file) = app.upload("/customers/CUS-00001/files", &[("message_id", &text(&internal, "id"))], &[("internal-secret.png", PNG)]).await;
    let (_, shared) = app.post("/customers/CUS-00001/messages", json!({"channel": "email", "visibility": "customer", "body": "Your certificate"})).await;
    let (_, shared_file) =
        app.upload("/customers/CUS-00001/files", &[("message_id", &text(&shared, "id"))], &[("gas-certificate.pdf", b"%PDF-1.4 certificate")]).await;
    assert_eq!(shared_file["items"][0]["visibility"], "customer");
    let (status, on_invoice) = app
        .upload(
            "/customers/CUS-00001/files",
            &[("record_type", "invoice"), ("record", &invoice), ("visibility", "customer")],
            &[("receipt.pdf", b"%PDF-1.4 receipt")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{on_invoice}");
    let (_, job_file) = app.upload("/customers/CUS-00001/files", &[("record_type", "job"), ("record", &job)], &[("job-photo.png", PNG)]).await;
    let (_, link) = app.post("/customers/CUS-00001/portal-links", json!({})).await;
    let url = text(&link, "url");

    let (_, page) = app.page(None, &url).await;
    assert!(page.contains("gas-certificate.pdf") && page.contains("receipt.pdf"), "{page}");
    assert!(!page.contains("internal-secret") && !page.contains("job-photo"), "{page}");
    let download = |file: &Value| format!("{url}/files/{}", text(&file["items"][0], "id"));
    let (status, headers, bytes) = app.fetch(&download(&shared_file), None).await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, b"%PDF-1.4 certificate".as_slice()));
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    for hidden in [&internal_file, &job_file] {
        let (status, _, bytes) = app.fetch(&download(hidden), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!bytes.starts_with(PNG));
    }
    // Staff "view as the customer": the same rule.
    app.user("office").await;
    let cookie = app.session("office").await;
    let (_, preview) = app.page(Some(&cookie), "/customers/CUS-00001/as-customer").await;
    assert!(preview.contains("gas-certificate.pdf") && !preview.contains("internal-secret") && !preview.contains("job-photo"), "{preview}");
    // The message made internal again, or deleted, takes its file out of the portal.
    let (status, _) = app.patch(&format!("/messages/{}", text(&shared, "id")), json!({"visibility": "internal"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = app.fetch(&download(&shared_file), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, file) = app.get(&format!("/files/{}", text(&shared_file["items"][0], "id"))).await;
    assert_eq!(file["visibility"], "internal");
    let (status, _) = app.delete(&format!("/messages/{}", text(&shared, "id"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, file) = app.get(&format!("/files/{}", text(&shared_file["items"][0], "id"))).await;
    assert!(file["deleted"]["by"].is_string(), "a deleted message's files go with it: {file}");
});

both_backends!(a_deleted_file_leaves_its_mark_and_its_content_goes_once_nothing_names_it, |app| {
    customer_with_work(&app).await;
    let (_, office) = app.user("office").await;
    let (_, first) = app.upload("/customers/CUS-00001/files", &[], &[("plan.pdf", b"%PDF-1.4 plan")]).await;
    let (_, copy) = app.upload("/customers/CUS-00001/files", &[], &[("plan copy.pdf", b"%PDF-1.4 plan")]).await;
    let (first, copy) = (text(&first["items"][0], "id"), text(&copy["items"][0], "id"));
    // Only its uploader or an admin deletes it.
    let (status, problem) = app.call_as(Some(&office), Method::DELETE, &format!("/files/{first}"), None).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::FORBIDDEN, Some("not_author")));
    let (status, _) = app.delete(&format!("/files/{first}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, problem) = app.delete(&format!("/files/{first}")).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("file_deleted")));
    let (_, file) = app.get(&format!("/files/{first}")).await;
    assert_eq!(file["deleted"]["by"], "Ada Admin");
    let (status, problem) = app.get(&format!("/files/{first}/content")).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("file_deleted")));
    let (_, timeline) = app.get("/customers/CUS-00001/timeline").await;
    assert_eq!(timeline["items"][0]["summary"], "PDF plan.pdf deleted by Ada Admin");
    // The copy still names the content: a sweep keeps it.
    assert_eq!(app.files.sweep(&app.db, Duration::ZERO).await.unwrap(), (0, 0));
    assert_eq!(app.blobs_stored(), 1);
    app.delete(&format!("/files/{copy}")).await;
    assert_eq!(app.files.sweep(&app.db, Duration::ZERO).await.unwrap(), (0, 1));
    assert_eq!(app.blobs_stored(), 0);
});

both_backends!(an_upload_cut_off_mid_way_leaves_no_row_and_no_blob, |app| {
    use tokio::io::AsyncWriteExt;
    customer_with_work(&app).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let state = dossier_web::AppState::new(app.db.clone(), app.files.clone());
    tokio::spawn(dossier_web::serve(listener, state, std::future::pending()));
    let (content_type, body) = common::multipart(&[], &[("first.png", PNG), ("half.txt", &vec![b'a'; 400_000])]);
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/v1/customers/CUS-00001/files HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        app.token,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The first file and part of the second, then the client goes away.
    stream.write_all(&body[..body.len() / 2]).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.blobs_stored() >= 1, "the upload was under way (staged) before the cut");
    drop(stream);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app.blobs_stored() > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!((app.count("file").await, app.blobs_stored()), (0, 0), "nothing of the cut upload is left");
});

both_backends!(staff_upload_from_the_browser_see_thumbnails_and_find_files_by_name, |app| {
    let (job, _) = customer_with_work(&app).await;
    app.user("office").await;
    let cookie = app.session("office").await;
    let (_, profile) = app.page(Some(&cookie), "/customers/CUS-00001?tab=files").await;
    assert!(profile.contains("enctype=\"multipart/form-data\"") && profile.contains("type=\"file\" name=\"file\" multiple"), "{profile}");
    let back = format!("/jobs/{job}");
    let fields = [("record_type", "job"), ("record", job.as_str()), ("back", back.as_str())];
    let (status, location, _) = app.form_with_files(&cookie, "/customers/CUS-00001/files", &fields, &[("boiler front.png", PNG)]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, back.as_str()));
    let (_, job_page) = app.page(Some(&cookie), &back).await;
    let (_, listed) = app.get("/customers/CUS-00001/files").await;
    let id = text(&listed["items"][0], "id");
    assert!(job_page.contains(&format!("<img src=\"/files/{id}\" alt=\"boiler front.png\"")), "{job_page}");
    let (_, files_tab) = app.page(Some(&cookie), "/customers/CUS-00001?tab=files").await;
    assert!(files_tab.contains("boiler front.png") && files_tab.contains(&format!("href=\"/jobs/{job}\"")), "{files_tab}");
    let (status, headers, bytes) = app.fetch(&format!("/files/{id}"), Some(("cookie", &cookie))).await;
    assert_eq!((status, bytes.as_slice(), headers[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, PNG, "image/png"));
    // History search finds the file by a word of its name.
    let (_, found) = app.page(Some(&cookie), "/customers/CUS-00001?tab=timeline&q=boiler").await;
    assert!(found.contains("<h3>Files</h3>") && found.contains("boiler front.png"), "{found}");

    // A refusal comes back as the form with the reason beside the file field.
    let before = app.count("file").await;
    let (status, _, page) = app.form_with_files(&cookie, "/customers/CUS-00001/files", &[], &[("photo.jpg", b"<html><script>x</script>")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"file-error\"") && page.contains("Its name says .jpg but its content is text/html"), "{page}");
    assert_eq!(app.count("file").await, before);
});

both_backends!(a_message_for_the_customer_with_a_file_is_confirmed_with_the_file_shown_then_reaches_the_portal, |app| {
    customer_with_work(&app).await;
    app.user("office").await;
    let cookie = app.session("office").await;
    let fields = [("channel", "email"), ("direction", "outbound"), ("visibility", "customer"), ("body", "Your gas certificate, attached")];
    let (status, _, confirm) = app.form_with_files(&cookie, "/customers/CUS-00001/messages", &fields, &[("gas certificate.pdf", b"%PDF-1.4 cert")]).await;
    assert_eq!(status, StatusCode::OK, "{confirm}");
    assert!(confirm.contains("This goes to Pat Files") && confirm.contains("gas certificate.pdf"), "{confirm}");
    assert_eq!(app.count("message").await + app.count("file").await, 0, "nothing is saved before the confirmation");
    // The confirmation carries the file by its hash, and sends everything again.
    let hidden: Vec<(String, String)> = confirm
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once("\" value=\"").unwrap();
            (name.to_owned(), rest.split_once('"').unwrap().0.replace("&#x20;", " ").replace("&#32;", " "))
        })
        .collect();
    assert!(hidden.iter().any(|(name, _)| name == "kept_file_0"), "{hidden:?}");
    let pairs: Vec<(&str, &str)> = hidden.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, _, page) = app.form(&cookie, "/customers/CUS-00001/messages", &pairs).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let (_, files) = app.get("/customers/CUS-00001/files").await;
    let file = &files["items"][0];
    assert_eq!((file["name"].as_str(), file["visibility"].as_str()), (Some("gas certificate.pdf"), Some("customer")));
    assert!(file["message_id"].is_string());
    let (_, link) = app.post("/customers/CUS-00001/portal-links", json!({})).await;
    let (_, portal) = app.page(None, &text(&link, "url")).await;
    assert!(portal.contains("Your gas certificate, attached") && portal.contains("gas certificate.pdf"), "{portal}");
});

both_backends!(a_large_picture_gets_a_thumbnail_kept_and_swept_with_it, |app| {
    customer_with_work(&app).await;
    let picture = image::RgbImage::from_fn(1600, 1200, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 120]));
    let mut png = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let (status, added) = app.upload("/customers/CUS-00001/files", &[], &[("roof.png", &png.into_inner()), ("tiny.png", PNG)]).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let (roof, tiny) = (&added["items"][0], &added["items"][1]);
    assert!(roof["thumbnail_sha256"].is_string() && tiny["thumbnail_sha256"].is_null(), "{added}");
    let auth = format!("Bearer {}", app.token);
    let (status, headers, bytes) = app.fetch(&format!("/api/v1/files/{}/thumbnail", text(roof, "id")), Some(("authorization", &auth))).await;
    assert_eq!((status, headers[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, "image/jpeg"));
    let small = image::load_from_memory(&bytes).unwrap();
    assert_eq!((small.width(), small.height()), (320, 240));
    let (status, _) = app.get(&format!("/files/{}/thumbnail", text(tiny, "id"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a picture that small shows as it is");
    // Three blobs (two pictures and a thumbnail); the thumbnail lives as long as its file.
    assert_eq!(app.blobs_stored(), 3);
    assert_eq!(app.files.sweep(&app.db, Duration::ZERO).await.unwrap(), (0, 0));
    app.delete(&format!("/files/{}", text(roof, "id"))).await;
    assert_eq!(app.files.sweep(&app.db, Duration::ZERO).await.unwrap(), (0, 2));
    assert_eq!(app.blobs_stored(), 1);
});

/// The S3-compatible test server (`scripts/s3-test-server`), if any.
fn s3_endpoint() -> Option<String> {
    let endpoint = std::env::var("DOSSIER_TEST_S3_ENDPOINT").ok().filter(|e| !e.is_empty());
    if endpoint.is_none() {
        assert!(std::env::var("CI").is_err(), "DOSSIER_TEST_S3_ENDPOINT is not set: scripts/test starts an S3-compatible server");
        eprintln!("skipped: DOSSIER_TEST_S3_ENDPOINT is not set, so this object-storage test did not run (scripts/test starts a server)");
    }
    endpoint
}

both_backends!(files_round_trip_through_s3_compatible_object_storage, |app| {
    let Some(endpoint) = s3_endpoint() else { return };
    // A bucket of this test's own (the test server takes an unsigned create).
    let bucket = format!("dossier-{}", uuid::Uuid::new_v4().simple());
    let address = endpoint.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let create = format!("PUT /{bucket} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    tokio::io::AsyncWriteExt::write_all(&mut stream, create.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let staging = tempfile::tempdir().unwrap();
    let config = [("endpoint", endpoint.as_str()), ("allow_http", "true"), ("access_key_id", "test"), ("secret_access_key", "test"), ("region", "us-east-1")];
    let blobs = dossier_store::Blobs::object_store(&format!("s3://{bucket}/dossier"), &config, staging.path()).unwrap();
    let files = dossier_service::files::Files::new(blobs);
    let app = app.with_files(files.clone());
    let (job, _) = customer_with_work(&app).await;

    // A small file, one past the size of a single part (sent in parts), and a picture with a thumbnail.
    let big: Vec<u8> = (0..9_500_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let picture = image::RgbImage::from_fn(800, 600, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 40]));
    let mut png = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let png = png.into_inner();
    let (status, added) = app
        .upload(
            "/customers/CUS-00001/files",
            &[("record_type", "job"), ("record", &job)],
            &[("notes.txt", b"Flue checked"), ("log.txt", &big), ("roof.png", &png)],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let auth = format!("Bearer {}", app.token);
    for (item, content) in added["items"].as_array().unwrap().iter().zip([b"Flue checked".as_slice(), &big, &png]) {
        let (status, _, bytes) = app.fetch(&format!("/api/v1/files/{}/content", text(item, "id")), Some(("authorization", &auth))).await;
        assert_eq!(status, StatusCode::OK);
        assert!(bytes == content, "{} came back whole", item["name"]);
    }
    let roof = &added["items"][2];
    let (status, headers, _) = app.fetch(&format!("/api/v1/files/{}/thumbnail", text(roof, "id")), Some(("authorization", &auth))).await;
    assert_eq!((status, headers[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, "image/jpeg"));
    assert_eq!(std::fs::read_dir(staging.path()).unwrap().count(), 0, "nothing is left in staging");

    // Deleted and swept: the objects go; what is still named stays.
    app.delete(&format!("/files/{}", text(roof, "id"))).await;
    assert_eq!(files.sweep(&app.db, Duration::ZERO).await.unwrap(), (0, 2), "the picture and its thumbnail");
    let (status, _, bytes) = app.fetch(&format!("/api/v1/files/{}/content", text(&added["items"][0], "id")), Some(("authorization", &auth))).await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, b"Flue checked".as_slice()));
});
