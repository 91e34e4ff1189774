//! Importing customers from CSV and XLSX files: the dry run's report, the
//! import in batches, its history, and importing the same file again, on
//! SQLite and PostgreSQL.

mod common;

use dossier_domain::activity::{Actor, ActorType};
use dossier_domain::data::import::MappingInput;
use dossier_domain::ids::UserId;
use dossier_domain::role::Role;
use dossier_service::Ctx;
use dossier_service::data::import::{self, ImportFile, ImportReport, RowStatus};
use serde_json::json;

/// The admin importing, as a person (their name is in the history).
fn admin(app: &common::TestApp) -> Ctx {
    let actor = Actor { kind: ActorType::User, id: None, name: "Ada Admin".into() };
    Ctx::new(app.org.clone(), actor, Some(UserId(uuid::Uuid::now_v7())), Some(Role::Admin))
}

struct Upload {
    _dir: tempfile::TempDir,
    file: ImportFile,
}

fn upload(name: &str, bytes: &[u8]) -> Upload {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    Upload { _dir: dir, file: ImportFile { path, file_name: name.into() } }
}

/// A file as an old system exported it: Windows-1252, `;`-separated, a
/// quoted newline, and something wrong on most lines.
fn messy_file() -> Vec<u8> {
    let text = "First Name;Last Name;E-mail Address;Mobile Phone;Status;Billing Street;Postal Code;Notes\r\n\
                Zoë;Brontë;zoe@example.com;07911 123456;Active;1 High St;LS1 4AP;\"likes tea\r\nand cake\"\r\n\
                Bob;Able;not-an-email;07911 123457;;;;\r\n\
                Cy;Baker;cy@example.com;12;;;;\r\n\
                Di;Carter;di@example.com;;gold;;;\r\n\
                Zoë;Brontë;zoe@example.com;07911 123456;Active;1 High St;LS1 4AP;\"likes tea\r\nand cake\"\r\n\
                Ed;Dunn;taken@example.com;;dormant;2 Low Rd;LS2 7EW;\r\n\
                ;;;;;;;\r\n\
                Flo;Evans;;;;9 Side St;;\r\n";
    encoding_rs::WINDOWS_1252.encode(text).0.into_owned()
}

fn auto(preview: &import::ImportPreview) -> MappingInput {
    preview.suggested.clone()
}

fn status_of(report: &ImportReport, line: usize) -> Option<RowStatus> {
    report.outcomes.iter().find(|o| o.row == line).map(|o| o.status)
}

fn issue_codes(report: &ImportReport, line: usize) -> Vec<(String, String)> {
    let outcome = report.outcomes.iter().find(|o| o.row == line).expect("an outcome for the line");
    outcome.issues.iter().chain(&outcome.warnings).map(|i| (i.column.map(|c| report.header[c].clone()).unwrap_or_default(), i.code.clone())).collect()
}

both_backends!(a_dry_run_reports_each_row_and_column_and_writes_nothing, |app| {
    let ctx = admin(&app);
    app.customer(json!({"family_name": "Taken", "email": "taken@example.com"})).await;
    let file = upload("old-crm.csv", &messy_file());
    let preview = import::preview(&app.db, &ctx, &file.file.path).await.unwrap();
    assert_eq!((preview.shape.encoding.as_str(), preview.shape.separator.as_deref()), ("windows-1252", Some(";")));
    assert_eq!(preview.rows[0][0], "Zoë");
    assert_eq!(preview.rows[0][7], "likes tea\r\nand cake");
    let suggested: Vec<Option<&str>> = preview.suggested.columns.iter().map(|c| c.as_deref()).collect();
    assert_eq!(
        suggested,
        [Some("given_name"), Some("family_name"), Some("email"), Some("mobile"), Some("status"), Some("address_line1"), Some("postcode"), None]
    );

    let customers_before = app.count("customer").await;
    let activities_before = app.count("activity").await;
    let report = import::dry_run(&app.db, &ctx, &file.file, auto(&preview), |_| {}).await.unwrap();
    assert_eq!((report.rows, report.valid, report.invalid, report.duplicates_in_file, report.probable_duplicates), (7, 2, 4, 1, 1), "{report:#?}");
    assert_eq!(status_of(&report, 2), None, "a valid row without warnings has nothing to say");
    assert_eq!(issue_codes(&report, 3), [("E-mail Address".into(), "invalid_email".into())]);
    assert_eq!(issue_codes(&report, 4), [("Mobile Phone".into(), "invalid_phone".into())]);
    assert_eq!(issue_codes(&report, 5), [("Status".into(), "unknown_status".into())]);
    assert_eq!(status_of(&report, 6), Some(RowStatus::DuplicateInFile));
    assert_eq!(issue_codes(&report, 7), [("E-mail Address".into(), "probable_duplicate".into())]);
    assert_eq!(issue_codes(&report, 9), [("Postal Code".into(), "required".into())]);
    let csv = report.to_csv();
    assert!(csv.starts_with("row,status,customer,column,code,message\n"), "{csv}");
    assert!(csv.contains("3,invalid,,E-mail Address,invalid_email,"), "{csv}");
    assert!(csv.contains("7,valid,,E-mail Address,probable_duplicate,taken@example.com belongs to CUS-00001 already"), "{csv}");
    assert_eq!((app.count("customer").await, app.count("activity").await), (customers_before, activities_before), "a dry run writes nothing");
});

both_backends!(an_import_creates_the_valid_rows_with_their_history_and_a_second_run_creates_nothing, |app| {
    let ctx = admin(&app);
    let file = upload("old-crm.csv", &messy_file());
    let mapping = import::preview(&app.db, &ctx, &file.file.path).await.unwrap().suggested;
    let mut seen = Vec::new();
    let report = import::run_import(&app.db, &ctx, &file.file, mapping.clone(), |p| seen.push(p)).await.unwrap();
    assert_eq!((report.created, report.invalid, report.duplicates_in_file), (2, 4, 1), "{report:#?}");
    assert_eq!(seen.last().map(|p| (p.rows_done, p.rows_total)), Some((7, 7)));
    let created: Vec<(usize, &str)> =
        report.outcomes.iter().filter(|o| o.status == RowStatus::Created).map(|o| (o.row, o.customer.as_deref().unwrap())).collect();
    assert_eq!(created, [(2, "CUS-00001"), (7, "CUS-00002")]);
    assert!(report.to_csv().contains("2,created,CUS-00001,,,"));

    // The history says where the customer came from, and who brought it.
    let (_, timeline) = app.get("/customers/CUS-00001/timeline").await;
    let first = &timeline["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(first["kind"], "customer.imported");
    assert_eq!(first["summary"], "Customer CUS-00001 imported from old-crm.csv by Ada Admin: Zoë Brontë", "{first}");
    let (_, customer) = app.get("/customers/CUS-00001").await;
    assert_eq!((customer["phone"].as_str(), customer["email"].as_str()), (Some("+447911123456"), Some("zoe@example.com")));
    let (_, sites) = app.get("/customers/CUS-00001/sites").await;
    assert_eq!(sites[0]["postcode"], "LS1 4AP");
    // Dormant as the file says, with why.
    let (_, ed) = app.get("/customers/CUS-00002").await;
    assert_eq!(ed["status"], "dormant");
    // Found by search like any customer.
    let (_, found) = app.get("/customers?q=zoe%40example.com").await;
    assert_eq!(found["items"][0]["code"], "CUS-00001", "{found}");
    let report = dossier_service::audit::verify(&app.db, |_| {}).await.unwrap();
    assert!(report.first_bad.is_none(), "{:?}", report.first_bad);

    // The same file again: nothing new.
    let customers = app.count("customer").await;
    let again = import::run_import(&app.db, &ctx, &file.file, mapping, |_| {}).await.unwrap();
    assert_eq!((again.created, again.already_imported), (0, 3), "{again:#?}");
    assert_eq!(again.outcomes.iter().find(|o| o.row == 2).and_then(|o| o.customer.as_deref()), Some("CUS-00001"));
    assert_eq!(app.count("customer").await, customers);
});

both_backends!(a_reference_column_recognises_a_customer_whose_row_changed, |app| {
    let ctx = admin(&app);
    let first = upload("accounts.csv", b"Account Number,Company Name,Contact Person\nA-1,Acme Ltd,Bo Jones\nA-2,Beta plc,\n");
    let mapping = import::preview(&app.db, &ctx, &first.file.path).await.unwrap().suggested;
    assert_eq!(mapping.columns[0].as_deref(), Some("external_ref"));
    let report = import::run_import(&app.db, &ctx, &first.file, mapping.clone(), |_| {}).await.unwrap();
    assert_eq!(report.created, 2, "{report:#?}");
    let (_, contacts) = app.get("/customers/CUS-00001/contacts").await;
    assert_eq!((contacts[0]["family_name"].as_str(), contacts[0]["is_primary"].as_bool()), (Some("Jones"), Some(true)), "{contacts}");
    // A later export: the names changed, the references did not.
    let later = upload("accounts-2.csv", b"Account Number,Company Name,Contact Person\nA-1,Acme Limited,Bo Jones\nA-3,Gamma,\nA-3,Gamma again,\n");
    let report = import::run_import(&app.db, &ctx, &later.file, mapping, |_| {}).await.unwrap();
    assert_eq!((report.created, report.already_imported, report.duplicates_in_file), (1, 1, 1), "{report:#?}");
    assert_eq!(app.count("customer").await, 3);
});

both_backends!(spreadsheets_import_in_batches_of_one_transaction_each, |app| {
    let ctx = admin(&app);
    // 1,201 rows: three batches. An XLSX file of them.
    let mut rows: Vec<Vec<String>> = vec![vec!["First Name".into(), "Last Name".into(), "Phone".into()]];
    for i in 0..1201 {
        rows.push(vec![format!("Person{i}"), format!("Family{i}"), format!("07911 {:06}", 100_000 + i)]);
    }
    let borrowed: Vec<Vec<&str>> = rows.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
    let slices: Vec<&[&str]> = borrowed.iter().map(Vec::as_slice).collect();
    let file = upload("people.xlsx", &xlsx(&slices));
    let preview = import::preview(&app.db, &ctx, &file.file.path).await.unwrap();
    assert_eq!(preview.shape.format, "xlsx");
    let mut batches = Vec::new();
    let report = import::run_import(&app.db, &ctx, &file.file, preview.suggested, |p| batches.push(p.rows_done)).await.unwrap();
    assert_eq!(report.created, 1201, "{:?}", report.outcomes.iter().find(|o| o.status != RowStatus::Created));
    assert_eq!(batches, [0, 500, 1000, 1201]);
    assert_eq!(app.count("customer").await, 1201);
    let (_, found) = app.get("/customers?q=Family1200").await;
    assert_eq!(found["items"][0]["display_name"], "Person1200 Family1200", "{found}");
    let report = dossier_service::audit::verify(&app.db, |_| {}).await.unwrap();
    assert!(report.first_bad.is_none(), "{:?}", report.first_bad);
});

both_backends!(a_failure_half_way_leaves_whole_batches_and_the_next_run_goes_on_from_there, |app| {
    let ctx = admin(&app);
    let mut text = String::from("Last Name,Email\n");
    for i in 0..1201 {
        let name = if i == 700 { "Boom".to_owned() } else { format!("Family{i}") };
        text.push_str(&format!("{name},person{i}@example.com\n"));
    }
    let file = upload("big.csv", text.as_bytes());
    let mapping = import::preview(&app.db, &ctx, &file.file.path).await.unwrap().suggested;
    // The database refuses one customer of the second batch.
    let refuse = match app.backend {
        common::Backend::Sqlite => {
            "CREATE TRIGGER boom BEFORE INSERT ON customer WHEN NEW.family_name = 'Boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;".to_owned()
        }
        common::Backend::Postgres => "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF NEW.family_name = 'Boom' THEN RAISE EXCEPTION 'boom'; \
             END IF; RETURN NEW; END $$ LANGUAGE plpgsql; CREATE TRIGGER boom BEFORE INSERT ON customer FOR EACH ROW EXECUTE FUNCTION boom();"
            .to_owned(),
    };
    app.db.execute_raw(&refuse).await.unwrap();
    let failed = import::run_import(&app.db, &ctx, &file.file, mapping.clone(), |_| {}).await;
    assert!(failed.is_err());
    assert_eq!(app.count("customer").await, 500, "the first batch went in whole, the second not at all");
    let mut conn = app.db.read().await.unwrap();
    let imports = dossier_store::queries::list_imports(&mut conn.handle(), app.org.id.0, 5).await.unwrap();
    drop(conn);
    assert_eq!((imports[0].status.as_str(), imports[0].created_count), ("failed", 500));
    assert!(imports[0].error.as_deref().unwrap_or_default().contains("boom"), "{:?}", imports[0].error);

    let drop_it = match app.backend {
        common::Backend::Sqlite => "DROP TRIGGER boom",
        common::Backend::Postgres => "DROP TRIGGER boom ON customer",
    };
    app.db.execute_raw(drop_it).await.unwrap();
    let resumed = import::run_import(&app.db, &ctx, &file.file, mapping, |_| {}).await.unwrap();
    assert_eq!((resumed.already_imported, resumed.created), (500, 701));
    assert_eq!(app.count("customer").await, 1201);
});

both_backends!(only_staff_who_create_and_export_customers_import, |app| {
    let file = upload("x.csv", b"Last Name\nSmith\n");
    let actor = Actor { kind: ActorType::User, id: None, name: "Sam Sales".into() };
    let sales = Ctx::new(app.org.clone(), actor, None, Some(Role::Sales));
    let refused = import::preview(&app.db, &sales, &file.file.path).await.unwrap_err();
    assert_eq!(refused.code(), "forbidden");
    let wrong = MappingInput { columns: vec![Some("nope".into())] };
    let refused = import::dry_run(&app.db, &admin(&app), &file.file, wrong, |_| {}).await.unwrap_err();
    assert_eq!(refused.code(), "validation_failed");
});

/// A minimal XLSX file: one sheet, shared strings.
fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut strings = Vec::new();
    let mut sheet =
        String::from(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#);
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!("<row r=\"{}\">", r + 1));
        for (c, value) in row.iter().enumerate() {
            strings.push(value.replace('&', "&amp;").replace('<', "&lt;"));
            sheet.push_str(&format!("<c r=\"{}{}\" t=\"s\"><v>{}</v></c>", (b'A' + c as u8) as char, r + 1, strings.len() - 1));
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let shared = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{}</sst>"#,
        strings.iter().map(|s| format!("<si><t>{s}</t></si>")).collect::<String>()
    );
    let rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#;
    let files = [
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#.to_owned()),
        ("_rels/.rels", format!(r#"{rels}<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#)),
        ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_owned()),
        ("xl/_rels/workbook.xml.rels", format!(r#"{rels}<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#)),
        ("xl/worksheets/sheet1.xml", sheet),
        ("xl/sharedStrings.xml", shared),
    ];
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    for (name, body) in files {
        zip.start_file(name, SimpleFileOptions::default()).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

both_backends!(a_large_report_is_kept_whole_in_its_csv_and_only_its_start_in_memory, |app| {
    let ctx = admin(&app);
    let mut text = String::from("Last Name,Email\n");
    for i in 0..1_100 {
        text.push_str(&format!("Lee{i},not-an-email-{i}\n"));
    }
    let file = upload("bad-emails.csv", text.as_bytes());
    let preview = import::preview(&app.db, &ctx, &file.file.path).await.unwrap();
    let report = import::dry_run(&app.db, &ctx, &file.file, auto(&preview), |_| {}).await.unwrap();
    assert_eq!(report.invalid, 1_100);
    assert_eq!(report.outcomes.len(), import::KEPT_OUTCOMES, "the report in memory keeps its start");
    let csv = report.to_csv();
    assert_eq!(csv.lines().count(), 1 + 1_100, "the CSV has every row");
    assert!(csv.lines().last().unwrap().starts_with("1101,invalid,,Email,invalid_email,"), "{}", csv.lines().last().unwrap());
});

both_backends!(erasing_an_imported_customer_forgets_the_keys_its_import_knew_it_by, |app| {
    let ctx = admin(&app);
    let file = upload("people.csv", b"Customer ID,Last Name,Email\nX-1,Lee,lee@example.com\nX-2,Kim,kim@example.com\n");
    let preview = import::preview(&app.db, &ctx, &file.file.path).await.unwrap();
    let report = import::run_import(&app.db, &ctx, &file.file, auto(&preview), |_| {}).await.unwrap();
    assert_eq!((report.created, app.count("import_key").await), (2, 2));
    let lee = report.outcomes.iter().find(|o| o.row == 2).and_then(|o| o.customer.clone()).unwrap();
    let input = dossier_service::customers::erasure::ErasureInput { reason: Some("Request 7".into()) };
    dossier_service::customers::erasure::erase_customer(&app.db, &app.ctx(), &lee, input).await.unwrap();
    assert_eq!(app.count("import_key").await, 1, "the erased customer's reference is gone, Kim's stays");
});
