//! What `dossier bench` needs from the data: a dataset of a named scale
//! (the demo's generator, reused when it is already there), an API token,
//! and the customers, cursors and search terms its scenarios ask for.

use dossier_domain::activity::{EntityRef, EntityType};
use dossier_domain::code::CodeKind;
use dossier_domain::customer::CustomerStatus;
use dossier_store::queries as q;

use crate::demo::{ADMIN_EMAIL, DemoOptions};
use crate::page::encode_cursor;
use crate::{Ctx, Db, Org, Result, orgs, tokens};

/// The dataset sizes `dossier bench` knows by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// 10,000 customers.
    S,
    /// 100,000 customers.
    M,
    /// 1,000,000 customers.
    L,
}

impl Scale {
    pub fn customers(self) -> u32 {
        match self {
            Scale::S => 10_000,
            Scale::M => 100_000,
            Scale::L => 1_000_000,
        }
    }
}

/// The dataset as the benchmark drives it.
pub struct Dataset {
    pub org: Org,
    pub customers: i64,
    pub activities: i64,
    /// Inquiries, quotes and jobs.
    pub works: i64,
    pub invoices: i64,
    /// Seconds the generator took and rows it wrote per second, when it ran now.
    pub generated: Option<(f64, f64)>,
    pub token: String,
    /// Customers with the longest timelines: code, timeline entries, invoices.
    pub heavy: Vec<(String, i64, i64)>,
    /// Per heavy customer: a timeline cursor 90 % of the way back.
    pub deep_cursors: Vec<(String, String)>,
    /// Search terms of each kind: name prefixes, email fragments, phone digits, codes.
    pub searches: Vec<(&'static str, String)>,
    /// Customers that refuse the writes measured (blocked: no new work;
    /// deactivated: read-only), by code: the write scenarios pass them by,
    /// so a refusal is never counted as a write.
    pub refusing: Vec<String>,
}

/// The dataset of `scale` in `db` (generated beforehand with `dossier demo
/// --seed 1`, see [`demo_options`]) and the targets the scenarios use.
pub async fn prepare(db: &Db, scale: Scale) -> Result<Dataset> {
    let existing = db.count_rows("customer").await?;
    if existing != i64::from(scale.customers()) {
        return Err(crate::ServiceError::conflict(
            "wrong_dataset",
            format!("this database holds {existing} customers, not the {} of this scale: use another --db", scale.customers()),
        ));
    }
    let org = orgs::single(db).await?;
    let system = Ctx::system(org.clone(), "Benchmark");
    let token = tokens::create_token(db, &system, ADMIN_EMAIL, "benchmark").await?.token;
    let customers = db.count_rows("customer").await?;
    let activities = db.count_rows("activity").await?;
    let works = db.count_rows("inquiry").await? + db.count_rows("quote").await? + db.count_rows("job").await?;
    let invoices = db.count_rows("invoice").await?;

    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let mut heavy = Vec::new();
    let mut deep_cursors = Vec::new();
    for id in q::busiest_customers(h, org.id.0, 3).await? {
        let entity = EntityRef::new(EntityType::Customer, id);
        let length = q::timeline_length(h, org.id.0, entity).await?;
        let code = crate::customers::find(h, &system, &id.to_string()).await?.code().to_string();
        if let Some(at) = q::timeline_entry_at(h, org.id.0, entity, length * 9 / 10).await? {
            deep_cursors.push((code.clone(), encode_cursor(&at.to_string())));
        }
        let bars = dossier_store::summary::customer_bars(h, org.id.0, id).await?;
        let invoices = bars.iter().filter(|b| b.record == EntityType::Invoice.as_str()).map(|b| b.count).sum();
        heavy.push((code, length, invoices));
    }
    let mut searches = Vec::new();
    for number in [7, customers / 3, customers / 2, customers - 5].into_iter().filter(|n| *n > 0) {
        let code = org.code(CodeKind::Customer, number);
        let customer = crate::customers::find(h, &system, &code).await?.into_customer(Vec::new())?;
        let name = customer.profile.family_name.clone().or(customer.profile.business_name.clone()).unwrap_or_else(|| customer.display_name.clone());
        searches.push(("name prefix", name.chars().take(4).collect()));
        if let Some(email) = &customer.profile.email {
            let local = email.as_str().split('@').next().unwrap_or_default();
            searches.push(("email fragment", local.chars().take(8).collect()));
        }
        // A phone number as staff type it: its first 8 digits, national form.
        if let Some(phone) = &customer.profile.phone {
            let national = phone.as_str().strip_prefix("+44").map_or_else(|| phone.as_str().to_owned(), |rest| format!("0{rest}"));
            searches.push(("phone digits", national.chars().filter(char::is_ascii_digit).take(8).collect()));
        }
        searches.push(("customer code", code));
    }
    drop(conn);
    // A search that finds nothing measures nothing: each must find someone.
    for (kind, term) in &searches {
        let query = crate::customers::CustomerQuery { q: Some(term.clone()), limit: Some(1), ..Default::default() };
        if crate::customers::list_customers(db, &system, query).await?.items.is_empty() {
            return Err(crate::ServiceError::Internal(format!("the benchmark's {kind} search '{term}' finds no customer")));
        }
    }
    let mut refusing = Vec::new();
    for status in [CustomerStatus::Blocked, CustomerStatus::Deactivated] {
        let mut cursor = None;
        loop {
            let query = crate::customers::CustomerQuery { status: Some(status), cursor, limit: Some(200), ..Default::default() };
            let page = crate::customers::list_customers(db, &system, query).await?;
            refusing.extend(page.items.into_iter().map(|c| c.code));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    Ok(Dataset { org, customers, activities, works, invoices, generated: None, token, heavy, deep_cursors, searches, refusing })
}

/// How the benchmark's dataset of `scale` is generated: the demo, seed 1.
pub fn demo_options(scale: Scale) -> DemoOptions {
    DemoOptions { customers: scale.customers(), seed: 1, per_transaction: None, files: None, second_org: false }
}
