//! The demo org's custom fields: a contract tier and an account manager on
//! customers, the boiler and its gas safety check on sites, parking on
//! jobs; and values on the first few customers, their first sites and jobs,
//! so that the forms and pages show them. Cheap whatever the demo's size:
//! only [`FILLED`] customers are touched.

use dossier_domain::custom_fields::DefinitionInput;
use dossier_domain::customer::{CustomerPatch, CustomerStatus};
use dossier_domain::site::SitePatch;
use dossier_domain::works::JobPatch;
use serde_json::{Value, json};

use crate::works::JobQuery;
use crate::{Ctx, Db, Result, ServiceError, custom_fields, customers, sites, works};

/// How many customers (from CUS-00001) get values.
const FILLED: u32 = 20;
/// Of those, how many get values on their first site and first job.
const FILLED_SITES_AND_JOBS: u32 = 3;

const TIERS: [&str; 3] = ["Gold", "Silver", "Bronze"];
const MANAGERS: [&str; 4] = ["Priya Shah", "Tom Okafor", "Lucy Bennett", "Sam Hughes"];
const BOILERS: [&str; 4] = ["Worcester Bosch", "Vaillant", "Baxi", "Ideal"];

/// Define the demo org's fields (called once, as the org is set up).
pub(crate) async fn define_demo_fields(db: &Db, system: &Ctx) -> Result<()> {
    let fields = [
        json!({"entity": "customer", "key": "contract_tier", "label": "Contract tier", "type": "choice", "options": TIERS}),
        json!({"entity": "customer", "key": "account_manager", "label": "Account manager", "type": "text"}),
        json!({"entity": "site", "key": "boiler_make", "label": "Boiler make", "type": "text"}),
        json!({"entity": "site", "key": "gas_safety_due", "label": "Gas safety due", "type": "date"}),
        json!({"entity": "job", "key": "parking", "label": "Parking", "type": "yes_no"}),
    ];
    for field in fields {
        custom_fields::define(db, system, parse::<DefinitionInput>(field)?).await?;
    }
    Ok(())
}

/// Values on the first customers of the `loaded` (their first site and job
/// too for the first few), through the same use cases as an edit; the
/// deactivated among them are left as they are.
pub(crate) async fn fill_demo_values(db: &Db, system: &Ctx, loaded: u32) -> Result<()> {
    for n in 1..=loaded.min(FILLED) {
        let i = n as usize - 1;
        let code = format!("CUS-{n:05}");
        // A deactivated customer is read-only.
        if customers::get_customer(db, system, &code).await?.status == CustomerStatus::Deactivated {
            continue;
        }
        let values = json!({"contract_tier": TIERS[i % TIERS.len()], "account_manager": MANAGERS[i % MANAGERS.len()]});
        customers::update_customer(db, system, &code, CustomerPatch { custom_fields: Some(object(values)), ..Default::default() }).await?;
        if n > FILLED_SITES_AND_JOBS {
            continue;
        }
        if let Some(site) = sites::list_sites(db, system, &code).await?.first() {
            let due = system.today().checked_add(jiff::Span::new().days(30 * i64::from(n))).unwrap_or_else(|_| system.today());
            let values = json!({"boiler_make": BOILERS[i % BOILERS.len()], "gas_safety_due": due.to_string()});
            sites::update_site(db, system, &site.id.0.to_string(), SitePatch { custom_fields: Some(object(values)), ..Default::default() }).await?;
        }
        let query = JobQuery { customer: Some(code.clone()), limit: Some(1), ..Default::default() };
        if let Some(job) = works::list_jobs(db, system, query).await?.items.first() {
            let values = json!({"parking": n % 2 == 1});
            works::update_job(db, system, &job.code, JobPatch { custom_fields: Some(object(values)) }).await?;
        }
    }
    Ok(())
}

fn object(value: Value) -> std::collections::BTreeMap<String, Value> {
    match value {
        Value::Object(map) => map.into_iter().collect(),
        _ => Default::default(),
    }
}

/// An API input written as JSON, as an integrator would send it.
fn parse<T: serde::de::DeserializeOwned>(value: Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| ServiceError::Internal(format!("demo input: {e}")))
}
