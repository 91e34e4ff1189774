//! The web app in a real browser: Debian's Chromium, headless, driven over
//! WebDriver (chromedriver) against a server started here on a random port
//! with a fresh SQLite database holding the demo data. Each page visited is
//! saved as a screenshot under `target/browser-screenshots/`.
//!
//! Without chromedriver the tests say they were skipped, except under
//! `CI=true`, where that is a failure (`scripts/test` installs it).

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dossier_service::customers::CustomerQuery;
use dossier_service::demo::{self, DemoOptions};
use dossier_service::works::JobQuery;
use dossier_service::{Ctx, Db, billing, customers, summary, users, works};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A running Dossier with demo data, a browser, and where screenshots go.
struct Session {
    base: String,
    db: Db,
    ctx: Ctx,
    browser: Client,
    driver: Child,
    shots: PathBuf,
    _dir: tempfile::TempDir,
    /// The server's file store (a worker a test runs needs it).
    files: dossier_service::files::Files,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Session {
    /// `None` (after saying so) when this machine has no chromedriver.
    async fn start(name: &str) -> Option<Session> {
        Session::start_with(name, &["--window-size=1280,900"]).await
    }

    /// With extra Chromium arguments: a window size, `--force-dark-mode`.
    async fn start_with(name: &str, extra: &[&str]) -> Option<Session> {
        if !std::path::Path::new(CHROMEDRIVER).exists() {
            assert!(std::env::var("CI").is_err(), "chromedriver is missing at {CHROMEDRIVER}: scripts/test installs chromium-driver");
            eprintln!("skipped: {CHROMEDRIVER} is not installed, so this browser test did not run (scripts/test installs it)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(dir.path().join("browser.db").to_str().unwrap()).await.unwrap();
        db.migrate().await.unwrap();
        let files = dossier_service::files::Files::open(dir.path().join("files"), None, &[]).unwrap();
        let loaded =
            demo::load(&db, DemoOptions { customers: 40, seed: 7, per_transaction: None, files: Some(files.clone()), second_org: true }, |_| {}).await.unwrap();
        let ctx = Ctx::system(loaded.org.clone(), "Browser test");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let state = dossier_web::AppState::new(db.clone(), files.clone());
        tokio::spawn(async move { dossier_web::serve(listener, state, async move { stop.await.ok().unwrap_or(()) }).await });

        let port = free_port();
        let driver = Command::new(CHROMEDRIVER).arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start chromedriver");
        let profile = dir.path().join("chromium-profile");
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ];
        let mut chrome_args: Vec<String> = args.iter().chain(extra).map(|a| a.to_string()).collect();
        chrome_args.push(format!("--user-data-dir={}", profile.display()));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), json!({"binary": CHROMIUM, "args": chrome_args}));
        let started = Instant::now();
        let browser = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(capabilities.clone()).connect(&format!("http://127.0.0.1:{port}")).await {
                Ok(client) => break client,
                Err(e) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("cannot start Chromium through chromedriver: {e}"),
            }
        };
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-screenshots").join(name);
        std::fs::create_dir_all(&shots).unwrap();
        Some(Session { base, db, ctx, browser, driver, shots, files, _dir: dir, _shutdown: shutdown })
    }

    async fn goto(&self, path: &str) {
        self.browser.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    async fn shot(&self, name: &str) {
        let png = self.browser.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    async fn text(&self, css: &str) -> String {
        self.browser.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.unwrap()
    }

    /// The text of `css`, or nothing while the page that has it is still
    /// loading: for waiting on, where [`Session::text`] would fail at once.
    async fn text_now(&self, css: &str) -> String {
        match self.browser.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    async fn count(&self, css: &str) -> usize {
        self.browser.find_all(Locator::Css(css)).await.unwrap().len()
    }

    async fn path(&self) -> String {
        let url = self.browser.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    async fn sign_in(&self, email: &str) {
        self.goto("/customers").await;
        assert!(self.path().await.starts_with("/sign-in"), "not signed in yet: {}", self.path().await);
        self.shot("sign-in").await;
        self.browser.find(Locator::Css("input[name=email]")).await.unwrap().send_keys(email).await.unwrap();
        self.browser.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(demo::DEMO_PASSWORD).await.unwrap();
        self.browser.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
        self.browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("header.top")).await.unwrap();
    }

    /// Wait until `check` holds, or fail naming `what`.
    async fn until<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let started = Instant::now();
        while !check().await {
            assert!(started.elapsed() < Duration::from_secs(10), "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn finish(mut self) {
        let _ = self.browser.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_sign_in_search_open_a_customer_and_follow_a_status_bar() {
    let Some(s) = Session::start("staff").await else { return };
    // A customer with invoices, and what the service says about them.
    let invoice = billing::list_invoices(&s.db, &s.ctx, Default::default()).await.unwrap().items.remove(0);
    let customer = customers::get_customer(&s.db, &s.ctx, &invoice.customer_id.0.to_string()).await.unwrap();
    let expected = summary::customer_summary(&s.db, &s.ctx, &customer.code).await.unwrap();
    let family = customer.display_name.split_whitespace().last().unwrap().to_owned();
    let matching = customers::list_customers(&s.db, &s.ctx, CustomerQuery { q: Some(family.clone()), ..Default::default() }).await.unwrap().items.len();

    s.sign_in(demo::ADMIN_EMAIL).await;
    assert_eq!(s.path().await, "/customers");
    s.shot("directory").await;
    let everyone = s.count("#customer-results tbody tr").await;
    assert!(everyone > matching, "the search must narrow the list ({everyone} vs {matching})");

    // Sorting by code, newest first, then ticking two customers and labelling them at once.
    s.browser.find(Locator::Css("a[data-sort=code]")).await.unwrap().click().await.unwrap();
    s.until("code order", || async { s.path().await.contains("sort=code") }).await;
    s.browser.find(Locator::Css("a[data-sort=code]")).await.unwrap().click().await.unwrap();
    s.until("newest code first", || async { s.path().await.contains("sort=-code") }).await;
    let first_code = s.text("#customer-results tbody tr:first-child td:nth-child(2)").await;
    assert_eq!(first_code, "CUS-00040", "newest first");
    for n in [1, 2] {
        s.browser.find(Locator::Css(&format!("#customer-results tbody tr:nth-child({n}) input[type=checkbox]"))).await.unwrap().click().await.unwrap();
    }
    s.browser.find(Locator::Css("input[name=bulk_label]")).await.unwrap().send_keys("Browser batch").await.unwrap();
    s.shot("directory-bulk-label").await;
    s.browser.find(Locator::Css("button[name=action][value=add]")).await.unwrap().click().await.unwrap();
    s.until("the labelled notice", || async { s.path().await.contains("labelled=2") }).await;
    let labelled = customers::list_customers(&s.db, &s.ctx, CustomerQuery { label: Some("Browser batch".into()), ..Default::default() }).await.unwrap().items;
    let codes: Vec<&str> = labelled.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes.len(), 2);
    assert!(codes.contains(&"CUS-00040") && codes.contains(&"CUS-00039"), "{codes:?}");
    s.goto("/customers").await;

    // Search as you type: the rows narrow without a page load.
    s.browser.find(Locator::Css("input[name=q]")).await.unwrap().send_keys(&family).await.unwrap();
    s.until("the live search results", || async { s.count("#customer-results tbody tr").await == matching }).await;
    assert!(s.path().await.contains(&format!("q={family}")), "the URL follows the search: {}", s.path().await);
    s.shot("directory-search").await;
    s.browser.find(Locator::Css(&format!("#customer-results a[href='/customers/{}']", customer.code))).await.unwrap().click().await.unwrap();
    s.until("the profile", || async { s.path().await == format!("/customers/{}", customer.code) }).await;
    assert!(s.text("h1").await.contains(&customer.display_name));
    s.shot("profile-activity").await;

    // The invoices bar says what the summary says, state by state.
    let invoices = expected.invoices.as_ref().unwrap();
    for bar in invoices.bars.iter().filter(|b| b.count > 0) {
        let label = dossier_web_words(&bar.status);
        let item = format!("details[data-bar=Invoices] li[data-status='{label}']");
        assert_eq!(s.text(&format!("{item} .count")).await, bar.count.to_string(), "{label}");
        assert_eq!(s.text(&format!("{item} .total")).await, bar.total.expect("staff see money").format("GBP"), "{label}");
    }
    // "Show all" for the first state with invoices lists exactly those.
    let first = invoices.bars.iter().find(|b| b.count > 0).unwrap();
    let label = dossier_web_words(&first.status);
    s.browser.find(Locator::Css(&format!("details[data-bar=Invoices] li[data-status='{label}'] a"))).await.unwrap().click().await.unwrap();
    s.until("the filtered invoice list", || async { s.path().await.contains("state=") }).await;
    s.shot("profile-billing-filtered").await;
    assert_eq!(s.count("section[aria-label^='Invoices'] tbody tr").await as i64, first.count);

    // "Show all" lists every invoice of the customer.
    s.goto(&format!("/customers/{}", customer.code)).await;
    s.browser.find(Locator::Css("details[data-bar=Invoices] > a")).await.unwrap().click().await.unwrap();
    s.until("all invoices", || async { s.path().await.contains("type=invoices") && !s.path().await.contains("state=") }).await;
    assert_eq!(s.count("section[aria-label='Invoices'] tbody tr").await as i64, invoices.count);

    // The timeline, narrowed to billing by a chip.
    s.goto(&format!("/customers/{}?tab=timeline", customer.code)).await;
    let all = s.count("ol.timeline > li[data-group]").await;
    s.browser.find(Locator::Css(".chips a[href*='group=billing']")).await.unwrap().click().await.unwrap();
    s.until("the billing chip", || async { s.path().await.contains("group=billing") }).await;
    let billing = s.count("ol.timeline > li[data-group]").await;
    assert!(billing > 0 && billing <= all, "{billing} of {all}");
    assert_eq!(s.count("ol.timeline > li[data-group=billing]").await, billing, "only billing entries");
    s.shot("profile-timeline-billing").await;

    // Sign out: the pages are closed again.
    s.browser.find(Locator::Css("header.top form button")).await.unwrap().click().await.unwrap();
    s.until("the sign-in page", || async { s.path().await.starts_with("/sign-in") }).await;
    s.goto("/customers").await;
    assert!(s.path().await.starts_with("/sign-in"));
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fieldworker_sees_their_customers_jobs_and_no_invoice_section_at_all() {
    let Some(s) = Session::start("fieldworker").await else { return };
    let staff = users::list_users(&s.db, &s.ctx).await.unwrap();
    let luis = staff.iter().find(|u| u.email == "luis@demo.example").unwrap();
    let jobs = works::list_jobs(&s.db, &s.ctx, JobQuery { assignee: Some(luis.id), ..Default::default() }).await.unwrap().items;
    let job = jobs.first().expect("the demo assigns jobs to its fieldworker");
    let customer = customers::get_customer(&s.db, &s.ctx, &job.customer_id.0.to_string()).await.unwrap();

    s.sign_in("luis@demo.example").await;
    s.shot("directory").await;
    let listed = s.count("#customer-results tbody tr").await;
    let theirs = customers::list_customers(&s.db, &s.ctx, CustomerQuery::default()).await.unwrap().items.len();
    assert!(listed > 0 && listed < theirs, "only their customers: {listed} of {theirs}");

    s.goto(&format!("/customers/{}", customer.code)).await;
    s.shot("profile").await;
    assert!(s.count("details[data-bar=Jobs]").await == 1, "their jobs are shown");
    assert_eq!(s.count("details[data-bar=Invoices]").await, 0, "no invoice bar");
    assert_eq!(s.count("nav.tabs a[href$='tab=billing']").await, 0, "no billing tab");
    assert_eq!(s.count("#debt").await, 0, "no debt");
    let page = s.browser.source().await.unwrap();
    assert!(!page.contains("INV-") && !page.contains("Invoices"), "an invoice shows on a fieldworker's page");
    s.goto(&format!("/customers/{}?tab=billing", customer.code)).await;
    assert!(!s.browser.source().await.unwrap().contains("INV-"));
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_edit_a_field_then_invoice_and_take_a_payment_and_the_bars_follow() {
    let Some(s) = Session::start("forms").await else { return };
    let customer = customers::list_customers(&s.db, &s.ctx, CustomerQuery::default()).await.unwrap().items.remove(0);
    let code = customer.code.clone();
    s.sign_in(demo::ADMIN_EMAIL).await;

    // Edit a field: it shows in History, old and new.
    s.goto(&format!("/customers/{code}")).await;
    s.browser.find(Locator::LinkText("Edit")).await.unwrap().click().await.unwrap();
    s.until("the edit form", || async { s.path().await.ends_with("/edit") }).await;
    s.shot("customer-edit").await;
    let source = s.browser.find(Locator::Css("input[name=source]")).await.unwrap();
    source.clear().await.unwrap();
    source.send_keys("Radio advert").await.unwrap();
    s.browser.find(Locator::Css("form.stacked button[type=submit]")).await.unwrap().click().await.unwrap();
    s.until("the History tab", || async { s.path().await.contains("tab=history") }).await;
    s.shot("customer-history").await;
    let change = s.text("ol.timeline > li[data-group]:nth-child(2)").await;
    assert!(change.contains("updated") && change.contains("source"), "{change}");
    s.browser.find(Locator::Css("ol.timeline > li[data-group]:nth-child(2) summary")).await.unwrap().click().await.unwrap();
    assert!(s.text("ol.timeline > li[data-group]:nth-child(2) table.changes").await.contains("Radio advert"));

    // An invoice without lines is refused next to the first line; nothing is written.
    let before = invoice_bar(&s, &code).await;
    s.goto(&format!("/customers/{code}/invoices/new")).await;
    s.browser.find(Locator::Css("form.stacked button[type=submit]")).await.unwrap().click().await.unwrap();
    s.browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#line1_description-error")).await.unwrap();
    s.shot("invoice-form-error").await;
    assert_eq!(invoice_bar(&s, &code).await, before);

    // A real one: 250.00 + 20 % tax, issued at once, shows in the Open bar.
    s.goto(&format!("/customers/{code}/invoices/new")).await;
    s.browser.find(Locator::Css("input[name=line1_description]")).await.unwrap().send_keys("Browser test work").await.unwrap();
    s.browser.find(Locator::Css("input[name=line1_unit_price]")).await.unwrap().send_keys("250.00").await.unwrap();
    s.shot("invoice-form").await;
    s.browser.find(Locator::Css("form.stacked button[type=submit]")).await.unwrap().click().await.unwrap();
    s.until("the Billing tab", || async { s.path().await.contains("tab=billing") }).await;
    s.shot("billing").await;
    let invoiced = invoice_bar(&s, &code).await;
    assert_eq!(invoiced["Open"].0, before["Open"].0 + 1, "{before:?} → {invoiced:?}");
    assert_eq!(invoiced["Open"].1, before["Open"].1 + 30000);

    // Paid in full against that invoice: it leaves Open for Closed.
    s.goto(&format!("/customers/{code}/payments/new")).await;
    s.browser.find(Locator::Css("input[name=amount]")).await.unwrap().send_keys("300.00").await.unwrap();
    let newest = billing::list_invoices(&s.db, &s.ctx, dossier_service::billing::InvoiceQuery { customer: Some(code.clone()), ..Default::default() })
        .await
        .unwrap()
        .items
        .remove(0);
    s.browser.find(Locator::Css(&format!("input[name=pay_{}]", newest.code))).await.unwrap().send_keys("300").await.unwrap();
    s.shot("payment-form").await;
    s.browser.find(Locator::Css("form.stacked button[type=submit]")).await.unwrap().click().await.unwrap();
    s.until("the Billing tab", || async { s.path().await.contains("tab=billing") }).await;
    // The invoice's own page names its customer, linked back to the profile.
    s.browser.find(Locator::Css(&format!("a[href='/invoices/{}']", newest.code))).await.unwrap().click().await.unwrap();
    s.until("the invoice page", || async { s.path().await == format!("/invoices/{}", newest.code) }).await;
    s.shot("invoice").await;
    assert!(s.text("dl.facts").await.contains("Closed"), "{}", s.text("dl.facts").await);
    assert_eq!(s.text("a.customer-link").await, customer.display_name);
    s.browser.find(Locator::Css("a.customer-link")).await.unwrap().click().await.unwrap();
    s.until("the profile", || async { s.path().await == format!("/customers/{code}") }).await;
    let paid = invoice_bar(&s, &code).await;
    assert_eq!((paid["Open"], paid["Closed"].0), (before["Open"], before["Closed"].0 + 1), "{invoiced:?} → {paid:?}");
    s.shot("activity-after-payment").await;
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_fit_a_phone_in_the_dark() {
    let Some(s) = Session::start_with("phone-dark", &["--window-size=390,844", "--force-dark-mode"]).await else { return };
    let invoice = billing::list_invoices(&s.db, &s.ctx, Default::default()).await.unwrap().items.remove(0);
    let customer = customers::get_customer(&s.db, &s.ctx, &invoice.customer_id.0.to_string()).await.unwrap();
    s.sign_in(demo::ADMIN_EMAIL).await;
    let dark = s.browser.execute("return matchMedia('(prefers-color-scheme: dark)').matches", vec![]).await.unwrap();
    assert_eq!(dark, json!(true), "the dark theme is in force");
    for (name, path) in [
        ("directory", "/customers".to_owned()),
        ("profile", format!("/customers/{}", customer.code)),
        ("timeline", format!("/customers/{}?tab=timeline", customer.code)),
        ("billing", format!("/customers/{}?tab=billing", customer.code)),
        ("invoice", format!("/invoices/{}", invoice.code)),
        ("new-invoice", format!("/customers/{}/invoices/new", customer.code)),
        ("invoice-list", "/invoices?state=overdue".to_owned()),
        ("job-list", "/jobs".to_owned()),
        ("follow-ups", "/follow-ups?assignee=anyone".to_owned()),
    ] {
        s.goto(&path).await;
        s.shot(name).await;
        // Nothing wider than the phone: no sideways scrolling of the page.
        let fits = s.browser.execute("return document.documentElement.scrollWidth <= window.innerWidth", vec![]).await.unwrap();
        assert_eq!(fits, json!(true), "{path} is wider than the phone");
        let background = s.browser.execute("return getComputedStyle(document.body).backgroundColor", vec![]).await.unwrap();
        assert_eq!(background, json!("rgb(18, 22, 27)"), "{path} is not dark");
    }
    s.finish().await;
}

/// The invoice bar on the customer's Activity tab: per state, count and total in minor units.
async fn invoice_bar(s: &Session, code: &str) -> std::collections::HashMap<String, (i64, i64)> {
    s.goto(&format!("/customers/{code}")).await;
    let mut bar = std::collections::HashMap::new();
    for item in s.browser.find_all(Locator::Css("details[data-bar=Invoices] li")).await.unwrap() {
        let state = item.attr("data-status").await.unwrap().unwrap();
        let count = item.find(Locator::Css(".count")).await.unwrap().text().await.unwrap().parse().unwrap();
        let total = item.find(Locator::Css(".total")).await.unwrap().text().await.unwrap();
        let total = dossier_domain::money::Money::parse_decimal("total", &total, "GBP").unwrap().minor();
        bar.insert(state, (count, total));
    }
    bar
}

/// "to_schedule" → "To schedule", as the pages label statuses.
fn dossier_web_words(status: &str) -> String {
    let text = status.replace('_', " ");
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

impl Session {
    async fn click(&self, css: &str) {
        self.browser.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
    }

    async fn type_in(&self, css: &str, text: &str) {
        self.browser.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).send_keys(text).await.unwrap();
    }

    /// Type `text` into the field `css`, replacing what it held.
    async fn fill(&self, css: &str, text: &str) {
        let field = self.browser.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// The page's HTML source.
    async fn source(&self) -> String {
        self.browser.source().await.unwrap()
    }

    /// Open the quick message form of the page, fill it and save.
    async fn post_message(&self, channel: &str, visibility: &str, body: &str, pinned: bool) {
        self.post_message_with(channel, visibility, body, pinned, None).await;
    }

    /// The same, with a file chosen in the form's file input.
    async fn post_message_with(&self, channel: &str, visibility: &str, body: &str, pinned: bool, file: Option<&std::path::Path>) {
        self.click("details.compose summary").await;
        if let Some(file) = file {
            self.type_in("form.compose-form input[type=file]", file.to_str().unwrap()).await;
        }
        self.click(&format!("form.compose-form select[name=channel] option[value={channel}]")).await;
        self.click(&format!("form.compose-form select[name=visibility] option[value={visibility}]")).await;
        self.type_in("form.compose-form textarea[name=body]", body).await;
        if pinned {
            self.click("form.compose-form input[name=pinned]").await;
        }
        self.click("form.compose-form button[type=submit]").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_log_a_call_and_pin_a_note_and_see_both_on_the_timeline() {
    let Some(s) = Session::start("messages").await else { return };
    s.sign_in(demo::ADMIN_EMAIL).await;
    s.goto("/customers/CUS-00003").await;
    s.post_message("call", "internal", "Rang about the boiler noise, booked a visit", false).await;
    s.until("the timeline", || async { s.path().await == "/customers/CUS-00003?tab=timeline" }).await;
    s.post_message("note", "internal", "Keep the dog inside before visits", true).await;
    s.until("the note on the timeline", || async { s.source().await.contains("Note added and pinned: Keep the dog inside") }).await;
    let timeline = s.text("ol.timeline").await;
    assert!(timeline.contains("Call logged: Rang about the boiler noise"), "{timeline}");
    // The pinned note stays above the tabs on every tab.
    s.goto("/customers/CUS-00003?tab=sites").await;
    assert!(s.text("section.pinned").await.contains("Keep the dog inside before visits"));
    s.shot("profile-pinned-note").await;
    s.goto("/customers/CUS-00003?tab=timeline&group=communication").await;
    s.shot("timeline-messages").await;
    let posted = dossier_service::messages::list_messages(&s.db, &s.ctx, "CUS-00003", Default::default()).await.unwrap().items;
    assert_eq!(posted[0].author.name, "Alex Morgan");
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_for_the_customer_reaches_the_portal_and_they_reply_but_internal_notes_never_show() {
    let Some(s) = Session::start("portal-messages").await else { return };
    s.sign_in(demo::ADMIN_EMAIL).await;
    s.goto("/customers/CUS-00004").await;
    let secret = s.picture("secret-dispute-notes.png");
    s.post_message_with("note", "internal", "Internal only: disputes every invoice", false, Some(&secret)).await;
    s.until("the internal note", || async { s.source().await.contains("Internal only: disputes") }).await;
    let files = dossier_service::files::list_files(&s.db, &s.ctx, "CUS-00004", Default::default()).await.unwrap().items;
    assert_eq!(files[0].name, "secret-dispute-notes.png", "the note's attachment was kept");
    // A customer-visible message is shown as the customer will see it before it goes.
    s.post_message("email", "customer", "Your visit is confirmed for Monday at 9am", false).await;
    s.until("the confirmation", || async { s.source().await.contains("This goes to") }).await;
    assert!(s.text("ol.preview").await.contains("Your visit is confirmed for Monday at 9am"));
    s.shot("confirm-customer-message").await;
    s.click("form.confirm-send button[type=submit]").await;
    s.until("the timeline", || async { s.path().await.starts_with("/customers/CUS-00004?tab=timeline") }).await;

    // The customer's portal: the message, never the internal note; they reply.
    let link = dossier_service::portal::create_link(&s.db, &s.ctx, "CUS-00004", Default::default()).await.unwrap();
    s.goto(&link.url).await;
    let conversation = s.text("ol.messages").await;
    assert!(conversation.contains("Your visit is confirmed for Monday at 9am"), "{conversation}");
    assert!(!s.source().await.contains("disputes every invoice") && !s.source().await.contains("secret-dispute-notes"));
    s.type_in("textarea[name=body]", "Monday is fine, the side gate will be open").await;
    s.click("section[aria-labelledby=messages] button[type=submit]").await;
    s.until("the reply in the portal", || async { s.source().await.contains("Your message was sent") }).await;
    assert!(s.text("ol.messages").await.contains("Monday is fine, the side gate will be open"));
    s.shot("portal-conversation").await;

    // Staff see the reply by the customer; "view as the customer" shows no internal note.
    let replies = dossier_service::messages::list_messages(&s.db, &s.ctx, "CUS-00004", Default::default()).await.unwrap().items;
    assert_eq!(replies[0].author.kind, dossier_domain::activity::ActorType::Customer);
    s.goto("/customers/CUS-00004/as-customer").await;
    let preview = s.source().await;
    assert!(preview.contains("Monday is fine") && preview.contains("Your visit is confirmed"), "{preview}");
    assert!(!preview.contains("disputes every invoice") && !preview.contains("secret-dispute-notes") && !preview.contains("<textarea"), "{preview}");
    s.shot("view-as-customer").await;
    s.finish().await;
}

impl Session {
    /// A small real picture on disk to upload, named `name`.
    fn picture(&self, name: &str) -> PathBuf {
        let path = self._dir.path().join(name);
        std::fs::write(&path, PICTURE).unwrap();
        path
    }

    /// Whether the picture `alt` on the page has loaded (has a width).
    async fn picture_loaded(&self, alt: &str) -> bool {
        let script = format!("const i = document.querySelector('img[alt=\"{alt}\"]'); return !!i && i.complete && i.naturalWidth > 0;");
        self.browser.execute(&script, vec![]).await.ok().and_then(|v| v.as_bool()).unwrap_or(false)
    }
}

/// A 1 × 1 PNG.
const PICTURE: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
    0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00,
    0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fieldworker_uploads_a_photo_to_their_job_and_the_office_sees_it() {
    let Some(s) = Session::start("files").await else { return };
    let staff = users::list_users(&s.db, &s.ctx).await.unwrap();
    let luis = staff.iter().find(|u| u.email == "luis@demo.example").unwrap();
    let job = works::list_jobs(&s.db, &s.ctx, JobQuery { assignee: Some(luis.id), ..Default::default() }).await.unwrap().items.remove(0);
    let customer = customers::get_customer(&s.db, &s.ctx, &job.customer_id.0.to_string()).await.unwrap();

    s.sign_in("luis@demo.example").await;
    s.goto(&format!("/jobs/{}", job.code)).await;
    let photo = s.picture("meter-reading.png");
    s.type_in("form.upload input[type=file]", photo.to_str().unwrap()).await;
    s.shot("fieldworker-job-upload").await;
    s.click("form.upload button[type=submit]").await;
    s.until("the photo on the job page", || async { s.picture_loaded("meter-reading.png").await }).await;
    s.shot("fieldworker-job-photo").await;
    // A fieldworker has no upload on the profile (only on their jobs).
    s.goto(&format!("/customers/{}?tab=files", customer.code)).await;
    assert_eq!(s.count("form.upload").await, 0);
    s.click("form[action='/sign-out'] button").await;

    s.sign_in(demo::ADMIN_EMAIL).await;
    s.goto(&format!("/customers/{}?tab=files", customer.code)).await;
    s.until("the photo in the Files tab", || async { s.picture_loaded("meter-reading.png").await }).await;
    let tile = s.text("ul.files li[data-file='meter-reading.png']").await;
    assert!(tile.contains("Luis") && tile.contains(&job.code), "{tile}");
    s.shot("office-files-tab").await;
    s.goto(&format!("/jobs/{}", job.code)).await;
    assert!(s.picture_loaded("meter-reading.png").await);
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_customer_s_new_job_is_refused_with_the_reason_shown() {
    let Some(s) = Session::start("blocked-customer").await else { return };
    let query = CustomerQuery { status: Some(dossier_domain::customer::CustomerStatus::Active), ..Default::default() };
    let customer = customers::list_customers(&s.db, &s.ctx, query).await.unwrap().items.remove(0);
    let code = customer.code.clone();
    let jobs = || async { works::list_jobs(&s.db, &s.ctx, JobQuery { customer: Some(code.clone()), ..Default::default() }).await.unwrap().items.len() };
    let before = jobs().await;
    s.sign_in(demo::ADMIN_EMAIL).await;

    // The office blocks the customer with a reason; the profile says what that means.
    s.goto(&format!("/customers/{code}/status")).await;
    s.browser.find(Locator::Css("select[name=status] option[value=blocked]")).await.unwrap().click().await.unwrap();
    s.browser.find(Locator::Css("textarea[name=reason]")).await.unwrap().send_keys("Three invoices unpaid since May").await.unwrap();
    s.browser.find(Locator::Css("form.stacked button[type=submit]")).await.unwrap().click().await.unwrap();
    s.until("the profile", || async { !s.path().await.ends_with("/status") }).await;
    s.goto(&format!("/customers/{code}")).await;
    let consequence = s.text("#status-consequence").await;
    assert!(consequence.contains("No new inquiries, quotes, jobs or invoices") && consequence.contains("Three invoices unpaid since May"), "{consequence}");
    s.shot("blocked-profile").await;

    // A new job: the form says why, and without a reason to go ahead it is refused beside that field.
    s.goto(&format!("/customers/{code}/jobs/new")).await;
    assert!(s.text("section.card").await.contains("is blocked (Three invoices unpaid since May)"));
    s.browser.find(Locator::Css("input[name=title]")).await.unwrap().send_keys("Annual service").await.unwrap();
    s.browser.find(Locator::Css("form.stacked button[type=submit]")).await.unwrap().click().await.unwrap();
    s.browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#blocked_override-error")).await.unwrap();
    s.shot("blocked-job-refused").await;
    assert!(s.text("#blocked_override-error").await.contains("Three invoices unpaid since May"));
    assert_eq!(jobs().await, before, "nothing was made");

    // With a reason it is made, and the timeline says who went ahead and why.
    s.browser.find(Locator::Css("input[name=blocked_override]")).await.unwrap().send_keys("Paid up front by card").await.unwrap();
    s.browser.find(Locator::Css("form.stacked button[type=submit]")).await.unwrap().click().await.unwrap();
    s.until("the Works tab", || async { s.path().await.contains("tab=works") }).await;
    assert_eq!(jobs().await, before + 1);
    s.goto(&format!("/customers/{code}?tab=timeline")).await;
    let newest = s.text("ol.timeline > li[data-group]:nth-child(2)").await;
    assert!(newest.contains("although") && newest.contains("Paid up front by card"), "{newest}");
    s.shot("blocked-timeline").await;
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fieldworker_starts_and_completes_their_job_on_a_phone() {
    let Some(s) = Session::start_with("fieldworker-phone", &["--window-size=390,844"]).await else { return };
    let staff = users::list_users(&s.db, &s.ctx).await.unwrap();
    let luis = staff.iter().find(|u| u.email == "luis@demo.example").unwrap();
    let query = CustomerQuery { status: Some(dossier_domain::customer::CustomerStatus::Active), ..Default::default() };
    let customer = customers::list_customers(&s.db, &s.ctx, query).await.unwrap().items.remove(0);
    let input = dossier_domain::works::JobInput {
        customer: Some(customer.code.clone()),
        title: Some("Replace the pump".into()),
        scheduled_start: Some(s.ctx.now()),
        scheduled_end: Some(s.ctx.now() + jiff::SignedDuration::from_hours(2)),
        assignees: Some(vec![luis.id]),
        value: Some(25_000),
        ..Default::default()
    };
    let job = works::create_job(&s.db, &s.ctx, input).await.unwrap();

    s.sign_in("luis@demo.example").await;
    s.goto(&format!("/jobs/{}", job.code)).await;
    s.shot("job-scheduled").await;
    let page = s.browser.source().await.unwrap();
    assert!(!page.contains("£250") && !page.contains("Value"), "no money on a fieldworker's job page");
    s.browser.find(Locator::Css("form.move[data-move=in_progress] button")).await.unwrap().click().await.unwrap();
    s.until("the job in progress", || async { s.text_now("dl.facts").await.to_lowercase().contains("in progress") }).await;
    s.shot("job-in-progress").await;
    s.browser.find(Locator::Css("form.move[data-move=completed] textarea[name=notes]")).await.unwrap().send_keys("Pump replaced, system bled").await.unwrap();
    s.browser.find(Locator::Css("form.move[data-move=completed] button")).await.unwrap().click().await.unwrap();
    s.until("the job completed", || async { s.text_now("dl.facts").await.to_lowercase().contains("completed") }).await;
    s.shot("job-completed").await;
    assert!(s.text("dl.facts").await.contains("Pump replaced, system bled"));
    assert_eq!(s.count("form.move").await, 0, "a completed job has no moves left");
    let done = works::get_job(&s.db, &s.ctx, &job.code).await.unwrap();
    assert_eq!(done.status, dossier_domain::workflow::JobStatus::Completed);
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_choice_field_and_filters_the_directory_by_it() {
    let Some(s) = Session::start("custom-fields").await else { return };
    let active = CustomerQuery { status: Some(dossier_domain::customer::CustomerStatus::Active), ..Default::default() };
    let listed = customers::list_customers(&s.db, &s.ctx, active).await.unwrap().items;
    let (gold, silver) = (&listed[0], &listed[1]);

    s.sign_in(demo::ADMIN_EMAIL).await;
    s.goto("/admin").await;
    s.browser.find(Locator::Css("a[href='/admin/custom-fields']")).await.unwrap().click().await.unwrap();
    s.until("the custom fields page", || async { s.path().await == "/admin/custom-fields" }).await;
    let form = "section[aria-label='Add a field'] form";
    s.browser.find(Locator::Css(&format!("{form} input[name=label]"))).await.unwrap().send_keys("Service plan").await.unwrap();
    s.browser.find(Locator::Css(&format!("{form} input[name=key]"))).await.unwrap().send_keys("service_plan").await.unwrap();
    s.browser.find(Locator::Css(&format!("{form} select[name=type] option[value=choice]"))).await.unwrap().click().await.unwrap();
    s.browser.find(Locator::Css(&format!("{form} textarea[name=options]"))).await.unwrap().send_keys("Premium\nBasic").await.unwrap();
    s.shot("define-choice").await;
    s.browser.find(Locator::Css(&format!("{form} button[type=submit]"))).await.unwrap().click().await.unwrap();
    s.until("the new field in the list", || async { s.count("tr[data-field='customer.service_plan']").await == 1 }).await;
    s.shot("defined").await;

    // Staff set it in the customer's form; the profile shows it.
    s.goto(&format!("/customers/{}/edit", gold.code)).await;
    s.browser.find(Locator::Css("select[name='custom_fields.service_plan'] option[value=Premium]")).await.unwrap().click().await.unwrap();
    s.browser.find(Locator::Css("form.stacked button[type=submit]")).await.unwrap().click().await.unwrap();
    s.until("the profile's history", || async { s.path().await == format!("/customers/{}?tab=history", gold.code) }).await;
    let shown = s.browser.find(Locator::XPath("//div[@class='custom-field'][dt='Service plan']/dd")).await.expect("the new field on the profile");
    assert_eq!(shown.text().await.unwrap(), "Premium");
    let patch: dossier_domain::customer::CustomerPatch = serde_json::from_value(json!({"custom_fields": {"service_plan": "Basic"}})).unwrap();
    customers::update_customer(&s.db, &s.ctx, &silver.code, patch).await.unwrap();

    // The directory filters by it: only the Premium customer is left.
    s.goto("/customers").await;
    s.browser.find(Locator::Css("select[name='cf.service_plan'] option[value=Premium]")).await.unwrap().click().await.unwrap();
    s.browser.find(Locator::Css("form[role=search] button[type=submit]")).await.unwrap().click().await.unwrap();
    s.until("the filtered directory", || async { s.path().await.contains("cf.service_plan=Premium") }).await;
    s.until("one customer", || async { s.count("#customer-results tbody tr").await == 1 }).await;
    s.shot("directory-filtered").await;
    assert_eq!(s.text("#customer-results tbody tr td:nth-child(2)").await, gold.code);
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_issues_a_draft_raises_a_credit_note_and_refunds_a_payment_and_finance_voids_a_draft() {
    use dossier_domain::money::LineInput;
    use dossier_domain::works::{InvoiceInput, PaymentInput};
    let Some(s) = Session::start("office-money").await else { return };
    let query = CustomerQuery { status: Some(dossier_domain::customer::CustomerStatus::Active), ..Default::default() };
    let customer = customers::list_customers(&s.db, &s.ctx, query).await.unwrap().items.remove(0);
    let draft = |price: i64| InvoiceInput {
        customer: Some(customer.code.clone()),
        lines: Some(vec![LineInput { description: Some("Boiler service".into()), unit_price: Some(price), tax_rate_bp: Some(2000), ..Default::default() }]),
        ..Default::default()
    };
    let first = billing::create_invoice(&s.db, &s.ctx, draft(10_000)).await.unwrap();
    let second = billing::create_invoice(&s.db, &s.ctx, draft(5_000)).await.unwrap();
    let paid = PaymentInput { customer: Some(customer.code.clone()), amount: Some(3_000), ..Default::default() };
    let payment = billing::record_payment(&s.db, &s.ctx, paid).await.unwrap();

    // The office (Priya) issues the first draft from its page.
    s.sign_in("priya@demo.example").await;
    s.goto(&format!("/invoices/{}", first.code)).await;
    s.shot("draft").await;
    s.click("form.move[data-move=open] button").await;
    s.until("the invoice issued", || async { s.text_now("dl.facts").await.to_lowercase().contains("open") }).await;
    s.shot("issued").await;
    assert_eq!(billing::get_invoice(&s.db, &s.ctx, &first.code).await.unwrap().status.as_str(), "open");

    // …raises a credit note against it, and lands on the credit note.
    s.fill("form.move[data-move=credit_note] input[name=amount]", "30.00").await;
    s.fill("form.move[data-move=credit_note] input[name=reason]", "Arrived late").await;
    s.click("form.move[data-move=credit_note] button").await;
    s.until("the credit note's page", || async { s.path().await.starts_with("/credit-notes/") }).await;
    s.shot("credit-note").await;
    assert_eq!(billing::get_invoice(&s.db, &s.ctx, &first.code).await.unwrap().credited.0, 3_000);

    // …refunds part of a payment's credit: too much first, refused beside the amount.
    s.goto(&format!("/payments/{}", payment.code)).await;
    s.fill("form.move[data-move=refund] input[name=amount]", "31.00").await;
    s.fill("form.move[data-move=refund] input[name=reason]", "Overpaid").await;
    s.click("form.move[data-move=refund] button").await;
    s.browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("form.move[data-move=refund] #refund-amount-error")).await.unwrap();
    s.shot("refund-refused").await;
    s.fill("form.move[data-move=refund] input[name=amount]", "20.00").await;
    s.click("form.move[data-move=refund] select[name=method] option[value=card]").await;
    s.click("form.move[data-move=refund] button").await;
    s.until("the refund shown", || async { s.text_now("dl.facts").await.contains("by card: Overpaid") }).await;
    s.shot("refunded").await;
    let refunded = billing::get_payment(&s.db, &s.ctx, &payment.code).await.unwrap();
    assert_eq!((refunded.refunded.0, refunded.unallocated.0), (2_000, 1_000));

    // The office may not void (permissions.rs: invoices view, create, edit):
    // the page does not offer it, so finance (Grace) voids the second draft.
    s.goto(&format!("/invoices/{}", second.code)).await;
    assert_eq!(s.count("form.move[data-move=void]").await, 0, "the office is not offered a void");
    s.browser.delete_all_cookies().await.unwrap();
    s.sign_in("grace@demo.example").await;
    s.goto(&format!("/invoices/{}", second.code)).await;
    s.fill("form.move[data-move=void] input[name=reason]", "Raised twice").await;
    s.click("form.move[data-move=void] button").await;
    s.until("the invoice void", || async { s.text_now("dl.facts").await.to_lowercase().contains("void") }).await;
    s.shot("voided").await;
    assert_eq!(billing::get_invoice(&s.db, &s.ctx, &second.code).await.unwrap().status.as_str(), "void");
    s.finish().await;
}

#[path = "common/smtp.rs"]
mod smtp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_emails_an_invoice_pdf_from_its_page_confirms_it_and_sees_it_sent() {
    use dossier_domain::customer::{CommunicationPreferences, CustomerPatch};
    use dossier_domain::money::LineInput;
    use dossier_domain::patch::Patch;
    use dossier_domain::sending::email::{MailServerInput, TlsMode};
    use dossier_domain::works::InvoiceInput;
    use dossier_service::sending::{email::Outbox, smtp as mail};
    use dossier_service::tasks::{Handlers, Worker, WorkerSettings};
    let Some(sink) = smtp::SmtpSink::start() else { return };
    let Some(s) = Session::start("email").await else { return };
    let query = CustomerQuery { status: Some(dossier_domain::customer::CustomerStatus::Active), ..Default::default() };
    let customer = customers::list_customers(&s.db, &s.ctx, query).await.unwrap().items.remove(0);
    let patch =
        CustomerPatch { email: Patch::Set("ann@browser.example".into()), communication: Some(CommunicationPreferences::default()), ..Default::default() };
    customers::update_customer(&s.db, &s.ctx, &customer.code, patch).await.unwrap();
    let input = InvoiceInput {
        customer: Some(customer.code.clone()),
        lines: Some(vec![LineInput { description: Some("Boiler service".into()), unit_price: Some(12_000), tax_rate_bp: Some(2000), ..Default::default() }]),
        issue: Some(true),
        ..Default::default()
    };
    let invoice = billing::create_invoice(&s.db, &s.ctx, input).await.unwrap();
    let server = MailServerInput {
        sender_name: Some("Demo Heating".into()),
        sender_address: Some("office@demo.example".into()),
        host: Some("127.0.0.1".into()),
        port: Some(u32::from(sink.port)),
        tls: Some(TlsMode::None),
        ..Default::default()
    };
    mail::update_settings(&s.db, &s.ctx, server).await.unwrap();

    // The office (Priya) opens the invoice and emails it.
    s.sign_in("priya@demo.example").await;
    s.goto(&format!("/invoices/{}", invoice.code)).await;
    s.browser.find(Locator::Css("p.email-action a")).await.unwrap().click().await.unwrap();
    s.browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("textarea[name=body]")).await.unwrap();
    s.shot("compose").await;
    s.browser.find(Locator::Css("textarea[name=body]")).await.unwrap().send_keys("Dear customer,\nyour invoice is attached.").await.unwrap();
    s.browser.find(Locator::Css("form.stacked button[type=submit]")).await.unwrap().click().await.unwrap();
    s.browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("dl.email-review")).await.unwrap();
    s.shot("review").await;
    let review = s.text("section.card").await;
    assert!(review.contains("ann@browser.example") && review.contains(&format!("{}.pdf", invoice.code)), "{review}");
    assert!(review.contains("The customer agreed to billing messages by email"), "{review}");
    s.browser.find(Locator::Css("form.confirm-send button[type=submit]")).await.unwrap().click().await.unwrap();
    let timeline = format!("/customers/{}?tab=timeline", customer.code);
    s.until("the timeline", || async { s.path().await == timeline }).await;

    let handlers = Handlers { outbox: Outbox { files: None, configured: None }, ..Default::default() };
    Worker::new(s.db.clone(), handlers, WorkerSettings::default()).work_once(jiff::Timestamp::now()).await.unwrap();
    s.goto(&timeline).await;
    let sent = format!("Email (outbound) on {} sent", invoice.code);
    s.until("the email sent on the timeline", || async { s.text_now("ol.timeline").await.contains(&sent) }).await;
    s.shot("timeline-sent").await;
    let mail = sink.messages();
    assert_eq!(mail.len(), 1, "the email arrived");
    assert_eq!(mail[0].to, vec!["ann@browser.example".to_owned()]);
    assert_eq!(mail[0].attachments.len(), 1);
    assert!(mail[0].attachments[0].1.starts_with(b"%PDF"), "the invoice PDF");
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_deletes_a_customer_from_its_profile_finds_it_on_the_deleted_page_and_restores_it() {
    let Some(s) = Session::start("delete-and-restore").await else { return };
    let query = CustomerQuery { status: Some(dossier_domain::customer::CustomerStatus::Active), ..Default::default() };
    let code = customers::list_customers(&s.db, &s.ctx, query).await.unwrap().items.remove(0).code;
    let listed = |html: String| html.contains(&format!("href=\"/customers/{code}\""));
    s.sign_in(demo::ADMIN_EMAIL).await;

    // Delete from the profile: a page asks first, with a reason to give.
    s.goto(&format!("/customers/{code}")).await;
    s.click(&format!("a.button[href='/customers/{code}/delete']")).await;
    s.until("the confirmation", || async { s.path().await.ends_with("/delete") }).await;
    assert!(s.text("section.card").await.contains("restore it, as it was, for 30 days"));
    s.type_in("textarea[name=reason]", "Duplicate record").await;
    s.shot("delete-confirm").await;
    s.click("form.stacked button[type=submit]").await;
    s.until("the read-only profile", || async { s.text_now("#deleted-banner").await.contains("Deleted") }).await;
    let banner = s.text("#deleted-banner").await;
    assert!(banner.contains("restorable until") && banner.contains("Duplicate record") && banner.contains("by "), "{banner}");
    assert_eq!(s.count(&format!("a.button[href='/customers/{code}/edit']")).await, 0, "nothing on it can be changed");
    s.shot("deleted-profile").await;
    s.goto(&format!("/customers?q={code}")).await;
    assert!(!listed(s.source().await), "gone from the directory's search");

    // The Deleted page, linked from the admin page, lists it with who, when, why.
    s.goto("/admin").await;
    s.click("a[href='/admin/deleted']").await;
    s.until("the Deleted page", || async { s.path().await == "/admin/deleted" }).await;
    let row = format!("tr[data-customer='{code}']");
    let text = s.text(&row).await;
    assert!(text.contains("Duplicate record") && text.contains("Restore"), "{text}");
    s.shot("deleted-page").await;

    // Restored: back in the directory, the profile as before.
    s.click(&format!("{row} button[type=submit]")).await;
    s.until("the restored notice", || async { s.text_now("#deleted-notice").await.contains(&code) }).await;
    assert_eq!(s.count(&row).await, 0);
    s.shot("restored").await;
    s.goto(&format!("/customers?q={code}")).await;
    assert!(listed(s.source().await), "back in the directory");
    s.goto(&format!("/customers/{code}")).await;
    assert_eq!(s.count("#deleted-banner").await, 0);
    assert!(customers::get_customer(&s.db, &s.ctx, &code).await.unwrap().deleted.is_none());
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_imports_a_csv_with_a_mapping_and_a_dry_run() {
    use dossier_service::sending::email::Outbox;
    use dossier_service::tasks::{Handlers, Worker, WorkerSettings};
    let Some(s) = Session::start("import").await else { return };
    // A worker runs the dry run and the import, as `dossier serve` does.
    let handlers = Handlers { outbox: Outbox { files: Some(s.files.clone()), configured: None }, ..Default::default() };
    let worker = Worker::new(s.db.clone(), handlers, WorkerSettings { poll_interval: Duration::from_millis(200), ..Default::default() });
    let (stop_worker, stopping) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(async move { worker.run_until_stopped(stopping).await });
    let file = s._dir.path().join("old-crm.csv");
    std::fs::write(
        &file,
        "First Name,Last Name,Email,Mobile,Favourite colour\nZoë,Brontë,zoe@import.example,07911 123456,Green\nBob,Able,not-an-email,,Blue\nCy,Baker,cy@import.example,,Red\n",
    )
    .unwrap();
    s.sign_in(demo::ADMIN_EMAIL).await;

    // From the directory to the upload, then the first rows and the mapping.
    s.goto("/customers").await;
    s.click("a[href='/imports']").await;
    s.until("the import page", || async { s.path().await == "/imports" }).await;
    s.type_in("input[type=file][name=file]", file.to_str().unwrap()).await;
    s.shot("import-upload").await;
    s.click("form[action='/imports'] button[type=submit]").await;
    s.until("the preview", || async { s.text_now("#import-preview").await.contains("Zoë") }).await;
    let suggested = s.browser.find(Locator::Css("select[name=column_2]")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(suggested.as_deref(), Some("email"), "the mapping is suggested from the header");
    s.click("select[name=column_4] option[value=keep]").await;
    s.shot("import-mapping").await;

    // The dry run: its report per row and column; nothing imported yet.
    s.click("#run-dry-run").await;
    s.until("the dry run's report", || async { s.text_now("#import-summary").await.contains("would be imported") }).await;
    assert!(s.text("#import-summary").await.contains("3 rows: 2 would be imported, 1 invalid"));
    let report = s.text("#import-report").await;
    assert!(report.contains("Email") && report.contains("is not a valid email address"), "{report}");
    assert!(
        customers::list_customers(&s.db, &s.ctx, CustomerQuery { q: Some("zoe@import.example".into()), ..Default::default() }).await.unwrap().items.is_empty()
    );
    s.shot("import-dry-run").await;

    // The import of the valid rows.
    s.click("#run-import").await;
    s.until("the import's report", || async { s.text_now("#import-summary").await.contains("2 imported") }).await;
    s.shot("import-done").await;
    s.goto("/customers?q=zoe@import.example").await;
    assert!(s.source().await.contains("Brontë"), "the imported customer is in the directory");
    let zoe =
        customers::list_customers(&s.db, &s.ctx, CustomerQuery { q: Some("zoe@import.example".into()), ..Default::default() }).await.unwrap().items.remove(0);
    assert_eq!(
        zoe.profile.custom_fields.get("favourite_colour"),
        Some(&dossier_domain::custom_fields::CustomValue::Text("Green".into())),
        "the kept column is a custom field"
    );
    stop_worker.send(true).unwrap();
    running.await.unwrap();
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_merges_two_duplicates_from_the_duplicates_page_and_undoes_the_merge() {
    let Some(s) = Session::start("merge-and-undo").await else { return };
    let new = |body: serde_json::Value| serde_json::from_value::<dossier_domain::customer::CustomerInput>(body).unwrap();
    let first = customers::create_customer(&s.db, &s.ctx, new(json!({"given_name": "Mara", "family_name": "Quillfeather", "email": "mara@quill.example"})))
        .await
        .unwrap()
        .code;
    let second = customers::create_customer(
        &s.db,
        &s.ctx,
        new(json!({"given_name": "Mára", "family_name": "Quillfeather", "email": "mara@quill.example", "phone": "0113 496 0999"})),
    )
    .await
    .unwrap()
    .code;
    s.sign_in(demo::ADMIN_EMAIL).await;

    // The Duplicates page, linked from the admin page, lists the pair with its reasons.
    s.goto("/admin").await;
    s.click("a[href='/admin/duplicates']").await;
    s.until("the Duplicates page", || async { s.path().await == "/admin/duplicates" }).await;
    let row = format!("tr[data-pair='{first} {second}']");
    let text = s.text(&row).await;
    assert!(text.contains("Same email (mara@quill.example)") && text.contains("Same name") && text.contains("Not a duplicate"), "{text}");
    s.shot("duplicates").await;

    // Merge…: the two side by side, a choice per differing field.
    s.click(&format!("{row} a[href='/customers/{first}/merge?with={second}']")).await;
    s.until("the Merge page", || async { s.count("#merge-submit").await == 1 }).await;
    assert_eq!(s.count("tr[data-field='phone'] input[value='merged'][checked]").await, 1, "the survivor has no phone: the merged one's is taken");
    s.click("tr[data-field='name'] input[value='merged']").await;
    s.shot("merge-choices").await;
    s.click("#merge-submit").await;
    s.until("the survivor with the merge", || async { s.count("div[data-merge]").await == 1 }).await;
    assert!(s.text("div[data-merge]").await.contains(&format!("{second} (Mára Quillfeather) was merged into this customer")));
    assert!(s.text("h1").await.contains("Mára Quillfeather"), "the merged customer's name, as chosen");
    s.shot("merged").await;

    // The merged code opens the survivor, with a note.
    s.goto(&format!("/customers/{second}")).await;
    s.until("the redirect", || async { s.path().await == format!("/customers/{first}?merged_from={second}") }).await;
    assert!(s.text("#merged-note").await.contains(&format!("{second} was merged into this customer on")));

    // Undo: both as they were.
    s.click("div[data-merge] button[type=submit]").await;
    s.until("the undone note", || async { s.text_now("#merged-note").await.contains("undone") }).await;
    assert_eq!(s.count("div[data-merge]").await, 0);
    assert!(s.text("h1").await.contains("Mara Quillfeather"), "the survivor's own name again");
    s.shot("merge-undone").await;
    let back = customers::get_customer(&s.db, &s.ctx, &second).await.unwrap();
    assert_eq!((back.code.as_str(), back.merged_from.is_none(), back.deleted.is_none()), (second.as_str(), true, true));
    s.finish().await;
}
