//! The activity log: append-only in the database itself, tamper-evident
//! through its hash chain, and written with gapless codes under concurrency.

mod common;

use common::Backend;
use dossier_domain::customer::CustomerInput;
use dossier_service::{audit, customers};
use serde_json::json;

async fn some_history(app: &common::TestApp) {
    app.customer(json!({"family_name": "Lee"})).await;
    app.patch("/customers/CUS-00001", json!({"given_name": "Ann"})).await;
    app.post("/customers/CUS-00001/sites", json!({"address_line1": "1 High St", "postcode": "LS1 4AP"})).await;
    app.post("/customers/CUS-00001/status", json!({"status": "dormant", "reason": "Quiet"})).await;
}

both_backends!(the_database_refuses_to_update_or_delete_activity, |app| {
    some_history(&app).await;
    let before = app.count("activity").await;
    for sql in [
        "UPDATE activity SET summary = 'rewritten'",
        "DELETE FROM activity",
        "DELETE FROM activity WHERE seq = 1",
        "UPDATE activity_link SET entity_type = 'site'",
        "DELETE FROM activity_link",
    ] {
        let error = app.db.execute_raw(sql).await.expect_err(sql);
        assert!(error.to_string().contains("append-only"), "{sql}: {error}");
    }
    if let Backend::Postgres = app.backend {
        let error = app.db.execute_raw("TRUNCATE activity CASCADE").await.expect_err("truncate");
        assert!(error.to_string().contains("append-only"), "{error}");
    }
    assert_eq!(app.count("activity").await, before);
    let report = audit::verify(&app.db, |_| {}).await.unwrap();
    assert_eq!(report.first_bad, None);
    assert_eq!(report.rows_checked as i64, before);
});

both_backends!(an_altered_row_breaks_the_chain_and_is_named, |app| {
    some_history(&app).await;
    let rows = app.count("activity").await;
    assert!(rows >= 7, "org, user, token and four customer rows: {rows}");
    app.disable_activity_guard().await;
    app.db.execute_raw("UPDATE activity SET summary = 'Nothing happened' WHERE seq = 5").await.unwrap();
    let report = audit::verify(&app.db, |_| {}).await.unwrap();
    let bad = report.first_bad.expect("tampering detected");
    assert_eq!(bad.seq, 5);
    assert!(bad.activity_id.is_some());
    assert!(bad.reason.contains("content was altered"), "{}", bad.reason);
    assert_eq!(report.rows_checked, 4, "the rows before it still verify");
});

both_backends!(rehashing_an_altered_row_still_breaks_the_chain, |app| {
    some_history(&app).await;
    app.disable_activity_guard().await;
    // Forge row 6 completely: new content and a matching content hash, but
    // the chain hash cannot be recomputed without rewriting every later row.
    let forged = app.db.execute_raw("UPDATE activity SET chain_hash = content_hash WHERE seq = 6").await.unwrap();
    assert_eq!(forged, 1);
    let bad = audit::verify(&app.db, |_| {}).await.unwrap().first_bad.expect("detected");
    assert_eq!(bad.seq, 6);
    assert!(bad.reason.contains("chain is broken"), "{}", bad.reason);
});

both_backends!(removed_rows_are_detected, |app| {
    some_history(&app).await;
    app.disable_activity_guard().await;
    let last = app.count("activity").await;
    app.db.execute_raw(&format!("DELETE FROM activity WHERE seq = {last}")).await.unwrap();
    let bad = audit::verify(&app.db, |_| {}).await.unwrap().first_bad.expect("a removed last row is detected");
    assert!(bad.reason.contains("rows were removed"), "{}", bad.reason);
    app.db.execute_raw("DELETE FROM activity WHERE seq = 3").await.unwrap();
    let bad = audit::verify(&app.db, |_| {}).await.unwrap().first_bad.expect("a gap is detected");
    assert_eq!(bad.seq, 3);
    assert!(bad.reason.contains("missing"), "{}", bad.reason);
});

both_backends!(concurrent_creation_gives_gapless_unique_codes, |app| {
    let writers = 8;
    let each = 12;
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let db = app.db.clone();
            let ctx = app.ctx();
            tokio::spawn(async move {
                let mut codes = Vec::new();
                for i in 0..each {
                    let input: CustomerInput = serde_json::from_value(json!({"family_name": format!("Writer{w} {i}")})).unwrap();
                    codes.push(customers::create_customer(&db, &ctx, input).await.unwrap().code);
                }
                codes
            })
        })
        .collect();
    let mut codes: Vec<String> = Vec::new();
    for task in tasks {
        codes.extend(task.await.unwrap());
    }
    codes.sort();
    let expected: Vec<String> = (1..=writers * each).map(|n| format!("CUS-{n:05}")).collect();
    assert_eq!(codes, expected);
    let report = audit::verify(&app.db, |_| {}).await.unwrap();
    assert_eq!(report.first_bad, None, "concurrent appends keep the chain whole");
});

both_backends!(a_rolled_back_creation_gives_its_code_back, |app| {
    let input = |name: &str| serde_json::from_value::<CustomerInput>(json!({"family_name": name})).unwrap().parse(app.org.region, &Default::default()).unwrap();
    let activities = app.count("activity").await;
    let mut tx = app.db.begin().await.unwrap();
    let abandoned = customers::create_customer_in(&mut tx, &app.ctx(), input("Ghost")).await.unwrap();
    assert_eq!(abandoned.code, "CUS-00001");
    drop(tx);
    assert_eq!(app.count("activity").await, activities);
    assert_eq!(app.count("customer").await, 0);
    let mut tx = app.db.begin().await.unwrap();
    let kept = customers::create_customer_in(&mut tx, &app.ctx(), input("Real")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(kept.code, "CUS-00001");
    assert_eq!(audit::verify(&app.db, |_| {}).await.unwrap().first_bad, None);
});

both_backends!(creating_customers_together_records_what_creating_each_records, |app| {
    use dossier_service::customers::CustomerBundle;
    let region = app.org.region;
    let customer =
        serde_json::from_value::<CustomerInput>(json!({"family_name": "Lee", "labels": ["VIP"]})).unwrap().parse(region, &Default::default()).unwrap();
    let contact =
        serde_json::from_value::<dossier_domain::contact::ContactInput>(json!({"family_name": "Lee", "is_primary": true})).unwrap().parse(region).unwrap();
    let site = serde_json::from_value::<dossier_domain::site::SiteInput>(json!({"address_line1": "1 Mill Lane", "postcode": "LS6 2AB"}))
        .unwrap()
        .parse(region, &Default::default())
        .unwrap();
    let mut tx = app.db.begin().await.unwrap();
    let bundles = vec![
        CustomerBundle { ctx: app.ctx(), customer: customer.clone(), contacts: vec![contact], sites: vec![site] },
        CustomerBundle { ctx: app.ctx(), customer, contacts: vec![], sites: vec![] },
    ];
    let created = customers::create_customers_in(&mut tx, bundles).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(created.iter().map(|c| c.customer.code.as_str()).collect::<Vec<_>>(), ["CUS-00001", "CUS-00002"]);
    assert_eq!(created[0].sites.len(), 1);

    let (_, timeline) = app.get("/customers/CUS-00001/timeline").await;
    let kinds: Vec<&str> = timeline["items"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["site.created", "contact.created", "customer.created"]);
    let (_, found) = app.get("/customers?q=LS6%202AB").await;
    assert_eq!(found["items"][0]["code"], "CUS-00001");
    let single = app.customer(json!({"family_name": "Lee", "labels": ["VIP"]})).await;
    assert_eq!(single["code"], "CUS-00003");
    let (_, a) = app.get("/customers/CUS-00002/timeline").await;
    let (_, b) = app.get("/customers/CUS-00003/timeline").await;
    assert_eq!(a["items"][0]["changes"], b["items"][0]["changes"], "the same fields recorded either way");
    assert_eq!(audit::verify(&app.db, |_| {}).await.unwrap().first_bad, None);
});

/// The demo writes in transactions of many customers (10,000 on SQLite,
/// 500 on PostgreSQL); events later than a transaction's customers wait in
/// a schedule for the next. What happened, to whom, by whom and when must
/// not depend on where those transactions end; only the order in which
/// entries were written (their place in the chain) may. (The portal link
/// the demo makes at the end is made now, not in the demo's past.)
#[tokio::test]
async fn the_demo_plays_the_same_history_whatever_its_transaction_size() {
    use dossier_service::{Db, demo};
    let dir = tempfile::tempdir().unwrap();
    let mut histories = Vec::new();
    for (name, per_transaction) in [("one.db", None), ("small.db", Some(7))] {
        let db = Db::connect(dir.path().join(name).to_str().unwrap()).await.unwrap();
        db.migrate().await.unwrap();
        let loaded = demo::load(&db, demo::DemoOptions { customers: 60, seed: 5, per_transaction, files: None, second_org: true }, |_| {}).await.unwrap();
        let rows = dossier_store::queries::activity_page(&mut db.read().await.unwrap().handle(), loaded.org.id.0, 0, i64::MAX, 1_000_000).await.unwrap();
        let start = rows[0].occurred_at;
        let mut history: Vec<_> = rows
            .into_iter()
            .filter(|r| r.kind != "portal_link.created")
            .map(|r| (r.occurred_at - start, r.kind, r.subject_code, r.actor_name, r.summary, without_ids(&r.changes)))
            .collect();
        history.sort();
        histories.push(history);
        db.close().await;
    }
    assert!(histories[0].len() > 60 * 10, "{} rows", histories[0].len());
    let first_difference = histories[0].iter().zip(&histories[1]).position(|(a, b)| a != b);
    assert_eq!(first_difference, None, "{:?}", first_difference.map(|i| (&histories[0][i], &histories[1][i])));
    assert_eq!(histories[0].len(), histories[1].len());
}

/// A change list with every id (which differs between databases) replaced
/// by the same placeholder.
fn without_ids(changes: &str) -> String {
    fn mask(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) if uuid::Uuid::parse_str(text).is_ok() => *text = "<id>".into(),
            serde_json::Value::Array(items) => items.iter_mut().for_each(mask),
            serde_json::Value::Object(fields) => fields.values_mut().for_each(mask),
            _ => {}
        }
    }
    let mut value = serde_json::from_str(changes).unwrap();
    mask(&mut value);
    value.to_string()
}

/// The Kinds table of docs/audit.md: every activity kind with its group and
/// the kind of record it is about.
fn kinds_table() -> String {
    use dossier_domain::activity::ActivityKind;
    let mut out = String::from("| kind | group | about |\n| --- | --- | --- |\n");
    for kind in ActivityKind::ALL {
        let about = kind.as_str().split('.').next().unwrap_or_default().replace('_', " ");
        out.push_str(&format!("| `{kind}` | {} | {about} |\n", kind.group()));
    }
    out
}

#[test]
fn docs_audit_md_lists_every_activity_kind() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/audit.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- kinds:start -->\n", "<!-- kinds:end -->");
    let (before, rest) = doc.split_once(start).expect("docs/audit.md has the kinds markers");
    let (listed, after) = rest.split_once(end).expect("docs/audit.md has the kinds end marker");
    let generated = kinds_table();
    if std::env::var_os("UPDATE_AUDIT_KINDS").is_some() {
        std::fs::write(&path, format!("{before}{start}{generated}{end}{after}")).unwrap();
        return;
    }
    assert!(listed == generated, "docs/audit.md's kinds are out of date: run `UPDATE_AUDIT_KINDS=1 cargo nextest run -E 'test(docs_audit)'`");
}
