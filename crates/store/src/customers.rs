pub(crate) mod contacts;
pub(crate) mod erasure;
pub(crate) mod search;
pub(crate) mod sites;
use std::collections::HashMap;

use dossier_domain::activity::{ActivityKind, NewActivity};
use dossier_domain::contact_point::{Email, Phone};
use dossier_domain::customer::{Customer, CustomerKind, CustomerProfile, CustomerStatus};
use dossier_domain::data::deletion::Deleted;
use dossier_domain::ids::CustomerId;
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, QueryBuilder};
use uuid::Uuid;

use crate::{Handle, RecordKey, Result, StoreError, run};

/// A customer as stored: the profile in columns, preferences and custom
/// fields as JSON text.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CustomerRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub number: i64,
    /// The code it was given (`INV-00042`): its series' prefix at the time and its number.
    pub code: String,
    pub kind: String,
    pub title: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub business_name: Option<String>,
    pub display_name: String,
    pub sort_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub source: Option<String>,
    pub communication: String,
    pub auto_comms_paused: bool,
    pub auto_comms_paused_until: Option<String>,
    pub payment_terms: Option<String>,
    pub custom_fields: String,
    pub do_not_work_reason: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When its personal data was erased.
    pub erased_at: Option<i64>,
    /// When it was deleted (microseconds), by whom (the actor's name) and
    /// why; `None` while it is not deleted.
    pub deleted_at: Option<i64>,
    pub deleted_by: Option<String>,
    pub delete_reason: Option<String>,
    /// The survivor it was merged into (it is then deleted too: out of
    /// every list), while the merge is not undone.
    pub merged_into: Option<Uuid>,
}

impl CustomerRow {
    /// The row for a profile; `number`, status and times are the caller's.
    #[allow(clippy::too_many_arguments)] // one per column group; a struct for them would only repeat this row
    pub fn new(
        org_id: Uuid,
        id: CustomerId,
        number: i64,
        code: String,
        profile: &CustomerProfile,
        status: CustomerStatus,
        status_reason: Option<String>,
        created_at: Timestamp,
        updated_at: Timestamp,
    ) -> Self {
        let display_name = profile.display_name();
        Self {
            org_id,
            id: id.0,
            number,
            code,
            kind: profile.kind.as_str().to_owned(),
            title: profile.title.clone(),
            given_name: profile.given_name.clone(),
            family_name: profile.family_name.clone(),
            business_name: profile.business_name.clone(),
            sort_name: sort_name(profile),
            display_name,
            email: profile.email.as_ref().map(|e| e.as_str().to_owned()),
            phone: profile.phone.as_ref().map(|p| p.as_str().to_owned()),
            source: profile.source.clone(),
            communication: serde_json::to_string(&profile.communication).unwrap_or_default(),
            auto_comms_paused: profile.auto_comms_paused,
            auto_comms_paused_until: profile.auto_comms_paused_until.map(|d| d.to_string()),
            payment_terms: profile.payment_terms.map(|t| serde_json::to_string(&t).unwrap_or_default()),
            custom_fields: serde_json::to_string(&profile.custom_fields).unwrap_or_default(),
            do_not_work_reason: profile.do_not_work_reason.clone(),
            status: status.as_str().to_owned(),
            status_reason,
            created_at: created_at.as_microsecond(),
            updated_at: updated_at.as_microsecond(),
            erased_at: None,
            deleted_at: None,
            deleted_by: None,
            delete_reason: None,
            merged_into: None,
        }
    }

    /// This customer with another profile, updated at `updated_at`.
    pub fn with_profile(&self, profile: &CustomerProfile, updated_at: Timestamp) -> Self {
        Self {
            status: self.status.clone(),
            status_reason: self.status_reason.clone(),
            created_at: self.created_at,
            erased_at: self.erased_at,
            deleted_at: self.deleted_at,
            deleted_by: self.deleted_by.clone(),
            delete_reason: self.delete_reason.clone(),
            merged_into: self.merged_into,
            ..Self::new(self.org_id, CustomerId(self.id), self.number, self.code.clone(), profile, CustomerStatus::Active, None, updated_at, updated_at)
        }
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    /// That it was deleted, when it is.
    pub fn deleted(&self) -> Result<Option<Deleted>> {
        self.deleted_at.map(|at| Ok(Deleted::new(timestamp(at)?, self.deleted_by.clone().unwrap_or_default(), self.delete_reason.clone()))).transpose()
    }

    /// Whether nothing of it may change: deleted, or deactivated.
    pub fn read_only(&self) -> Result<bool> {
        Ok(self.deleted_at.is_some() || self.status()? == CustomerStatus::Deactivated)
    }

    pub fn status(&self) -> Result<CustomerStatus> {
        CustomerStatus::parse(&self.status).ok_or_else(|| StoreError::corrupt(format!("customer status '{}'", self.status)))
    }

    pub fn profile(&self) -> Result<CustomerProfile> {
        Ok(CustomerProfile {
            kind: CustomerKind::parse(&self.kind).ok_or_else(|| StoreError::corrupt(format!("customer kind '{}'", self.kind)))?,
            title: self.title.clone(),
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            business_name: self.business_name.clone(),
            email: self.email.clone().map(Email::from_stored),
            phone: self.phone.clone().map(Phone::from_stored),
            source: self.source.clone(),
            communication: serde_json::from_str(&self.communication).map_err(StoreError::corrupt)?,
            auto_comms_paused: self.auto_comms_paused,
            auto_comms_paused_until: self.auto_comms_paused_until.as_deref().map(str::parse).transpose().map_err(StoreError::corrupt)?,
            payment_terms: self.payment_terms.as_deref().map(serde_json::from_str).transpose().map_err(StoreError::corrupt)?,
            custom_fields: serde_json::from_str(&self.custom_fields).map_err(StoreError::corrupt)?,
            do_not_work_reason: self.do_not_work_reason.clone(),
        })
    }

    pub fn into_customer(self, labels: Vec<String>) -> Result<Customer> {
        let deleted = self.deleted()?;
        Ok(Customer {
            deleted,
            id: CustomerId(self.id),
            code: self.code().to_string(),
            profile: self.profile()?,
            status: self.status()?,
            display_name: self.display_name,
            status_reason: self.status_reason,
            labels,
            created_at: timestamp(self.created_at)?,
            updated_at: timestamp(self.updated_at)?,
            erased_at: self.erased_at.map(timestamp).transpose()?,
            matched: None,
            merged_from: None,
        })
    }
}

/// The key customers are listed by, case-folded: a person by family name
/// then given name ("Smith Ann"), a business by its whole name as it is
/// read, without a leading article ("The Leeds Plumbing Co" under L), the
/// way directories file them.
fn sort_name(profile: &CustomerProfile) -> String {
    match profile.kind {
        CustomerKind::Business => {
            let name = profile.display_name().to_lowercase();
            ["the ", "a ", "an "].iter().find_map(|article| name.strip_prefix(article)).map(str::trim_start).unwrap_or(&name).to_owned()
        }
        CustomerKind::Individual => {
            [profile.family_name.as_deref(), profile.given_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ").to_lowercase()
        }
    }
}

pub(crate) fn timestamp(micros: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(micros).map_err(StoreError::corrupt)
}

/// Insert new customers, a few multi-row statements for any number.
pub async fn insert_customers(h: &mut Handle<'_>, rows: &[CustomerRow]) -> Result<()> {
    for chunk in crate::chunks::power_of_two(rows, 32) {
        run!(h, c => {
            let mut q = QueryBuilder::new(
                "INSERT INTO customer (org_id, id, number, code, kind, title, given_name, family_name, business_name, display_name, sort_name, email, phone, \
                 source, communication, auto_comms_paused, auto_comms_paused_until, payment_terms, custom_fields, do_not_work_reason, status, status_reason, \
                 created_at, updated_at) ");
            q.push_values(chunk, |mut b, row| {
                b.push_bind(row.org_id).push_bind(row.id).push_bind(row.number).push_bind(&row.code).push_bind(&row.kind).push_bind(&row.title).push_bind(&row.given_name)
                    .push_bind(&row.family_name).push_bind(&row.business_name).push_bind(&row.display_name).push_bind(&row.sort_name)
                    .push_bind(&row.email).push_bind(&row.phone).push_bind(&row.source).push_bind(&row.communication).push_bind(row.auto_comms_paused)
                    .push_bind(&row.auto_comms_paused_until).push_bind(&row.payment_terms).push_bind(&row.custom_fields).push_bind(&row.do_not_work_reason)
                    .push_bind(&row.status).push_bind(&row.status_reason)
                    .push_bind(row.created_at).push_bind(row.updated_at);
            });
            q.build().execute(c).await.map(drop)?
        });
    }
    Ok(())
}

/// Write the profile columns and `updated_at` of `row`.
pub async fn update_customer_profile(h: &mut Handle<'_>, row: &CustomerRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "UPDATE customer SET kind = $3, title = $4, given_name = $5, family_name = $6, business_name = $7, display_name = $8, sort_name = $9, \
         email = $10, phone = $11, source = $12, communication = $13, auto_comms_paused = $14, auto_comms_paused_until = $15, custom_fields = $16, \
         updated_at = $17, payment_terms = $18, do_not_work_reason = $19 WHERE org_id = $1 AND id = $2")
        .bind(row.org_id).bind(row.id).bind(&row.kind).bind(&row.title).bind(&row.given_name).bind(&row.family_name)
        .bind(&row.business_name).bind(&row.display_name).bind(&row.sort_name).bind(&row.email).bind(&row.phone).bind(&row.source)
        .bind(&row.communication).bind(row.auto_comms_paused).bind(&row.auto_comms_paused_until).bind(&row.custom_fields).bind(row.updated_at)
        .bind(&row.payment_terms).bind(&row.do_not_work_reason).execute(c).await.map(drop)?);
    Ok(())
}

pub async fn update_customer_status(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, status: CustomerStatus, reason: &str, at: i64) -> Result<()> {
    run!(h, c => sqlx::query("UPDATE customer SET status = $3, status_reason = $4, updated_at = $5 WHERE org_id = $1 AND id = $2")
        .bind(org_id).bind(id).bind(status.as_str()).bind(reason).bind(at).execute(c).await.map(drop)?);
    Ok(())
}

/// A customer and its labels, read in one statement.
#[derive(sqlx::FromRow)]
struct LabelledRow {
    #[sqlx(flatten)]
    row: CustomerRow,
    /// The labels in order, joined by U+001F (which a label cannot hold).
    labels: Option<String>,
}

/// The customer with this id or number and its labels, in one statement
/// (opening a customer reads it first).
pub async fn get_customer_labelled(h: &mut Handle<'_>, org_id: Uuid, key: RecordKey) -> Result<Option<(CustomerRow, Vec<String>)>> {
    let joined = match h {
        Handle::Sqlite(_) => "group_concat(label, char(31) ORDER BY label)",
        Handle::Postgres(_) => "string_agg(label, chr(31) ORDER BY label)",
    };
    let condition = match key {
        RecordKey::Id(_) => "c.id = $2",
        RecordKey::Code { .. } => "c.number = $2 AND c.code = $3",
    };
    let sql = format!(
        "SELECT c.*, (SELECT {joined} FROM customer_label l WHERE l.org_id = c.org_id AND l.customer_id = c.id) AS labels \
         FROM customer c WHERE c.org_id = $1 AND {condition}"
    );
    let found: Option<LabelledRow> = run!(h, c => {
        let query = sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(org_id);
        match &key {
            RecordKey::Id(id) => query.bind(id).fetch_optional(c).await?,
            RecordKey::Code { number, code } => query.bind(number).bind(code).fetch_optional(c).await?,
        }
    });
    Ok(found.map(|f| (f.row, f.labels.map(|l| l.split('\u{1f}').map(str::to_owned).collect()).unwrap_or_default())))
}

pub async fn labels_of(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid) -> Result<Vec<String>> {
    Ok(run!(h, c => sqlx::query_scalar("SELECT label FROM customer_label WHERE org_id = $1 AND customer_id = $2 ORDER BY label")
        .bind(org_id).bind(customer_id).fetch_all(c).await?))
}

/// Labels of many customers at once, for a list page.
pub async fn labels_of_many(h: &mut Handle<'_>, org_id: Uuid, customer_ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<String>>> {
    let mut labels: HashMap<Uuid, Vec<String>> = HashMap::new();
    if customer_ids.is_empty() {
        return Ok(labels);
    }
    let rows: Vec<(Uuid, String)> = run!(h, c => {
        let mut q = QueryBuilder::new("SELECT customer_id, label FROM customer_label WHERE org_id = ");
        q.push_bind(org_id).push(" AND customer_id IN ");
        // No ORDER BY: sorting by label would have SQLite walk the org's
        // whole label index (22 ms at 100,000 customers) instead of looking
        // up these few customers' labels (0.1 ms). Sorted below, in byte
        // order as the database sorts.
        crate::in_list::push_ids(&mut q, customer_ids);
        q.build_query_as().fetch_all(c).await?
    });
    for (id, label) in rows {
        labels.entry(id).or_default().push(label);
    }
    for list in labels.values_mut() {
        list.sort();
    }
    Ok(labels)
}

/// Put labels on customers: `(customer id, label)` pairs; ones already there stay.
pub async fn add_labels(h: &mut Handle<'_>, org_id: Uuid, labels: &[(Uuid, String)]) -> Result<()> {
    for chunk in crate::chunks::power_of_two(labels, 64) {
        run!(h, c => {
            let mut q = QueryBuilder::new("INSERT INTO customer_label (org_id, customer_id, label) ");
            q.push_values(chunk, |mut b, (customer_id, label)| {
                b.push_bind(org_id).push_bind(*customer_id).push_bind(label);
            });
            q.push(" ON CONFLICT DO NOTHING");
            q.build().execute(c).await.map(drop)?
        });
    }
    Ok(())
}

/// Take `labels` off one customer, a few statements for any number.
pub async fn remove_labels(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid, labels: &[String]) -> Result<()> {
    for chunk in crate::chunks::power_of_two(labels, 64) {
        run!(h, c => {
            let mut q = QueryBuilder::new("DELETE FROM customer_label WHERE org_id = ");
            q.push_bind(org_id).push(" AND customer_id = ").push_bind(customer_id).push(" AND label IN (");
            let mut list = q.separated(", ");
            for label in chunk {
                list.push_bind(label);
            }
            q.push(")");
            q.build().execute(c).await.map(drop)?
        });
    }
    Ok(())
}

/// What a customer list is narrowed by.
#[derive(Clone, Debug, Default)]
pub struct CustomerFilter {
    /// Each must be the prefix of one of the customer's search terms.
    pub terms: Vec<String>,
    pub status: Option<CustomerStatus>,
    pub kind: Option<CustomerKind>,
    pub label: Option<String>,
    /// Only customers with a job this user is assigned to.
    pub assigned_to: Option<Uuid>,
    /// Only customers with an open invoice due before this day (overdue).
    pub overdue_on: Option<jiff::civil::Date>,
}

/// The order of a customer list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CustomerOrder {
    #[default]
    Name,
    NameDesc,
    Code,
    CodeDesc,
}

/// Where the next page of a customer list starts: after this customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomerAfter {
    Name(String, Uuid),
    Number(i64),
}

/// Below this many customers matching its rarest search term, a search is
/// driven from the terms (look the few customers up, then sort them);
/// above it, from the name (or code) index, checking each customer against
/// the terms until the page is full. Measured on 100,000 customers: a term
/// matching one customer took 14 ms the second way and 0.1 ms the first; one
/// matching 9,000 took 4.5 ms the second way and 20 ms the first.
const DRIVE_FROM_TERMS_BELOW: i64 = 1000;

/// How many search-term rows start with `term`, counted up to `cap`.
async fn term_rows(h: &mut Handle<'_>, org_id: Uuid, term: &str, cap: i64) -> Result<i64> {
    let (low, high) = crate::search::prefix_range(term);
    Ok(run!(h, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM customer_search WHERE org_id = $1 AND term >= $2 AND term < $3 LIMIT $4) t")
        .bind(org_id).bind(low).bind(high).bind(cap).fetch_one(c).await?))
}

/// Up to this many distinct terms starting with a search's most specific
/// word, a search by name merges their runs of the term index, each already
/// in name order (a surname prefix has one to three). Above it (an email
/// fragment can have hundreds), it counts and chooses as below.
const MERGE_TERM_RUNS_UP_TO: usize = 16;

/// Below how many term rows a search by name whose word starts too many
/// terms to merge sorts the rows of its range (index entries only, no
/// customer rows) rather than walking the name index, checking each
/// customer, until the page is full. Sorting costs about one unit per row;
/// the walk about five per customer checked, and it checks about `limit`
/// × customers ÷ matches of them; the two meet where matches² = 5 × limit
/// × customers (at 1,000,000 customers and pages of 50, about 16,000 rows).
async fn sort_term_range_below(h: &mut Handle<'_>, org_id: Uuid, limit: i64) -> Result<i64> {
    let customers: Option<i64> = run!(h, c => sqlx::query_scalar("SELECT MAX(number) FROM customer WHERE org_id = $1").bind(org_id).fetch_one(c).await?);
    Ok(((5 * limit * customers.unwrap_or(0)) as f64).sqrt() as i64 + 1)
}

/// What a search by the term index's runs came to.
enum TermRunSearch {
    /// The page.
    Found(Vec<CustomerRow>),
    /// The search is not of that kind (other filters, or in code order).
    NotTried,
    /// Its most specific word starts too many term rows: at least `rows`.
    TooCommon { term: String, rows: i64 },
}

/// Where a search by name reads its customers: one term's run, already in
/// name order, or a whole prefix range, sorted.
enum TermRun {
    Exact(String),
    Prefix(String),
}

/// The distinct terms that start with `prefix`, in order, if there are no
/// more than `cap`: one statement, one index seek per term (each finds the
/// next term after the last, so a term's many rows are never read).
async fn terms_starting(h: &mut Handle<'_>, org_id: Uuid, prefix: &str, cap: usize) -> Result<Option<Vec<String>>> {
    let (low, high) = crate::search::prefix_range(prefix);
    let terms: Vec<String> = run!(h, c => sqlx::query_scalar(
        "WITH RECURSIVE t(term, n) AS ( \
           SELECT (SELECT term FROM customer_search WHERE org_id = $1 AND term >= $2 AND term < $3 ORDER BY term LIMIT 1), 1 \
           UNION ALL \
           SELECT (SELECT s.term FROM customer_search s WHERE s.org_id = $1 AND s.term > t.term AND s.term < $3 ORDER BY s.term LIMIT 1), t.n + 1 \
           FROM t WHERE t.term IS NOT NULL AND t.n <= $4) \
         SELECT term FROM t WHERE term IS NOT NULL ORDER BY term")
        .bind(org_id).bind(&low).bind(&high).bind(cap as i64).fetch_all(c).await?);
    Ok((terms.len() <= cap).then_some(terms))
}

/// A page of a search by name alone, read off the term index in name
/// order: for each term the search's most specific word starts, the first
/// `limit` customers it finds after `after` (each checked against the
/// other words), merged. Otherwise what it learnt on the way: the word it
/// found too common to drive from, if any.
async fn search_by_term_runs(
    h: &mut Handle<'_>,
    org_id: Uuid,
    filter: &CustomerFilter,
    order: CustomerOrder,
    after: Option<&CustomerAfter>,
    limit: i64,
) -> Result<TermRunSearch> {
    let only_terms = filter.status.is_none() && filter.kind.is_none() && filter.label.is_none() && filter.assigned_to.is_none() && filter.overdue_on.is_none();
    let (beyond, direction) = match order {
        CustomerOrder::Name => (" > ", " ASC"),
        CustomerOrder::NameDesc => (" < ", " DESC"),
        CustomerOrder::Code | CustomerOrder::CodeDesc => return Ok(TermRunSearch::NotTried),
    };
    let Some(driver) = filter.terms.iter().max_by_key(|t| t.len()).filter(|_| only_terms) else { return Ok(TermRunSearch::NotTried) };
    if matches!(after, Some(CustomerAfter::Number(_))) {
        return Ok(TermRunSearch::NotTried);
    }
    let runs = match terms_starting(h, org_id, driver, MERGE_TERM_RUNS_UP_TO).await? {
        Some(terms) if terms.is_empty() => return Ok(TermRunSearch::Found(Vec::new())),
        Some(terms) => terms.into_iter().map(TermRun::Exact).collect(),
        // Too many terms to merge (a given name's prefix starts thousands of
        // email addresses): sort the range's own rows if there are few enough.
        None => {
            let sort_below = sort_term_range_below(h, org_id, limit).await?;
            let rows = term_rows(h, org_id, driver, sort_below).await?;
            if rows >= sort_below {
                return Ok(TermRunSearch::TooCommon { term: driver.clone(), rows });
            }
            vec![TermRun::Prefix(driver.clone())]
        }
    };
    let others: Vec<&String> = filter.terms.iter().filter(|t| *t != driver).collect();
    Ok(TermRunSearch::Found(run!(h, c => {
        let mut q = QueryBuilder::new("SELECT c.* FROM customer c WHERE c.org_id = ");
        q.push_bind(org_id).push(" AND c.id IN (");
        for (i, term) in runs.iter().enumerate() {
            if i > 0 {
                q.push(" UNION ALL ");
            }
            q.push("SELECT customer_id FROM (SELECT DISTINCT s.sort_name, s.customer_id FROM customer_search s WHERE s.org_id = ").push_bind(org_id);
            match term {
                TermRun::Exact(term) => q.push(" AND s.term = ").push_bind(term.clone()),
                TermRun::Prefix(prefix) => {
                    let (low, high) = crate::search::prefix_range(prefix);
                    q.push(" AND s.term >= ").push_bind(low).push(" AND s.term < ").push_bind(high)
                }
            };
            if let Some(CustomerAfter::Name(name, id)) = after {
                q.push(" AND (s.sort_name").push(beyond).push_bind(name.clone())
                    .push(" OR (s.sort_name = ").push_bind(name.clone()).push(" AND s.customer_id").push(beyond).push_bind(*id).push("))");
            }
            for other in &others {
                // `|| ''` keeps the planner on the customer's own terms (the
                // source index) rather than walking the term's whole range.
                let (low, high) = crate::search::prefix_range(other);
                q.push(" AND EXISTS (SELECT 1 FROM customer_search o WHERE o.org_id = s.org_id AND o.customer_id = s.customer_id AND (o.term || '') >= ")
                    .push_bind(low).push(" AND (o.term || '') < ").push_bind(high).push(")");
            }
            q.push(format!(" ORDER BY s.sort_name{direction}, s.customer_id{direction} LIMIT ")).push_bind(limit).push(format!(") r{i}"));
        }
        // Sorting by an expression: look the few customers up, then sort them.
        q.push(format!(") ORDER BY (c.sort_name || ''){direction}, c.id{direction} LIMIT ")).push_bind(limit);
        q.build_query_as().fetch_all(c).await?
    })))
}

/// One page of customers in `order`, after the `after` customer.
pub async fn list_customers(
    h: &mut Handle<'_>,
    org_id: Uuid,
    filter: &CustomerFilter,
    order: CustomerOrder,
    after: Option<CustomerAfter>,
    limit: i64,
) -> Result<Vec<CustomerRow>> {
    let counted = match search_by_term_runs(h, org_id, filter, order, after.as_ref(), limit).await? {
        TermRunSearch::Found(rows) => return Ok(rows),
        TermRunSearch::TooCommon { term, rows } => Some((term, rows)),
        TermRunSearch::NotTried => None,
    };
    let mut rarest = i64::MAX;
    for term in &filter.terms {
        let rows = match &counted {
            // Counted already, far enough to decide (small orgs count less far).
            Some((common, rows)) if common == term && *rows >= DRIVE_FROM_TERMS_BELOW => *rows,
            _ => term_rows(h, org_id, term, DRIVE_FROM_TERMS_BELOW).await?,
        };
        rarest = rarest.min(rows);
    }
    // Sorting by an expression keeps the planner off the order's index, so
    // it looks up the few matching customers instead.
    let from_terms = rarest < DRIVE_FROM_TERMS_BELOW;
    Ok(run!(h, c => {
        let mut q = QueryBuilder::new("SELECT c.* FROM customer c WHERE c.org_id = ");
        q.push_bind(org_id).push(" AND c.deleted_at IS NULL");
        if let Some(status) = filter.status {
            q.push(" AND c.status = ").push_bind(status.as_str());
        }
        if let Some(kind) = filter.kind {
            q.push(" AND c.kind = ").push_bind(kind.as_str());
        }
        if let Some(label) = &filter.label {
            q.push(" AND EXISTS (SELECT 1 FROM customer_label l WHERE l.org_id = c.org_id AND l.customer_id = c.id AND l.label = ").push_bind(label.clone()).push(")");
        }
        if let Some(user) = filter.assigned_to {
            q.push(" AND c.id IN (SELECT j.customer_id FROM job_assignee a JOIN job j ON j.org_id = a.org_id AND j.id = a.job_id WHERE a.org_id = ")
                .push_bind(org_id).push(" AND a.user_id = ").push_bind(user).push(")");
        }
        for term in &filter.terms {
            let (low, high) = crate::search::prefix_range(term);
            if from_terms {
                q.push(" AND c.id IN (SELECT s.customer_id FROM customer_search s WHERE s.org_id = ").push_bind(org_id)
                    .push(" AND s.term >= ").push_bind(low).push(" AND s.term < ").push_bind(high).push(")");
            } else {
                // Walking an index in order: check each customer's own terms
                // (`|| ''` keeps the planner off the term range, which would
                // gather every match first).
                q.push(" AND EXISTS (SELECT 1 FROM customer_search s WHERE s.org_id = c.org_id AND s.customer_id = c.id AND (s.term || '') >= ")
                    .push_bind(low).push(" AND (s.term || '') < ").push_bind(high).push(")");
            }
        }
        if let Some(today) = filter.overdue_on {
            q.push(" AND EXISTS (SELECT 1 FROM invoice i WHERE i.org_id = c.org_id AND i.customer_id = c.id AND i.status = 'open' AND i.due_date < ")
                .push_bind(today.to_string()).push(")");
        }
        let (beyond, direction) = match order {
            CustomerOrder::Name | CustomerOrder::Code => (" > ", " ASC"),
            CustomerOrder::NameDesc | CustomerOrder::CodeDesc => (" < ", " DESC"),
        };
        match after {
            Some(CustomerAfter::Name(name, id)) => {
                q.push(" AND (c.sort_name").push(beyond).push_bind(name.clone()).push(" OR (c.sort_name = ").push_bind(name).push(" AND c.id").push(beyond).push_bind(id).push("))");
            }
            Some(CustomerAfter::Number(number)) => {
                q.push(" AND c.number").push(beyond).push_bind(number);
            }
            None => {}
        }
        let (name, number) = if from_terms { ("(c.sort_name || '')", "(c.number + 0)") } else { ("c.sort_name", "c.number") };
        match order {
            CustomerOrder::Name | CustomerOrder::NameDesc => q.push(format!(" ORDER BY {name}{direction}, c.id{direction} LIMIT ")),
            CustomerOrder::Code | CustomerOrder::CodeDesc => q.push(format!(" ORDER BY {number}{direction} LIMIT ")),
        };
        q.push_bind(limit);
        q.build_query_as().fetch_all(c).await?
    }))
}

/// The codes (`CUS-00001`) of these customers, by id: what a page of work
/// or money records names its customers by beside their ids.
pub async fn customer_codes(h: &mut Handle<'_>, org_id: Uuid, customer_ids: &[Uuid]) -> Result<HashMap<Uuid, String>> {
    if customer_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, String)> = run!(h, c => {
        let mut q = QueryBuilder::new("SELECT id, code FROM customer WHERE org_id = ");
        q.push_bind(org_id).push(" AND id IN ");
        crate::in_list::push_ids(&mut q, customer_ids);
        q.build_query_as().fetch_all(c).await?
    });
    Ok(rows.into_iter().collect())
}

/// The codes and names of these customers, by id: what a list of many
/// customers' records shows beside each. With `assigned_to`, only the
/// customers with a job that user is assigned to.
pub async fn customer_names(h: &mut Handle<'_>, org_id: Uuid, customer_ids: &[Uuid], assigned_to: Option<Uuid>) -> Result<HashMap<Uuid, (String, String)>> {
    if customer_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, String, String)> = run!(h, c => {
        let mut q = QueryBuilder::new("SELECT c.id, c.code, c.display_name FROM customer c WHERE c.org_id = ");
        q.push_bind(org_id).push(" AND c.id IN ");
        crate::in_list::push_ids(&mut q, customer_ids);
        if let Some(user) = assigned_to {
            q.push(" AND c.id IN (SELECT j.customer_id FROM job_assignee a JOIN job j ON j.org_id = a.org_id AND j.id = a.job_id WHERE a.org_id = ")
                .push_bind(org_id).push(" AND a.user_id = ").push_bind(user).push(")");
        }
        q.build_query_as().fetch_all(c).await?
    });
    Ok(rows.into_iter().map(|(id, code, name)| (id, (code, name))).collect())
}

/// The one guard every write passes: a transaction whose history concerns
/// a deleted customer ([`StoreError::CustomerDeleted`]), a merged one
/// ([`StoreError::CustomerMerged`]: only the undoing of its merge) or a deactivated
/// one ([`StoreError::CustomerDeactivated`]) is refused, whatever use case
/// wrote it, so such a customer is read-only until restored or
/// reactivated. Only its deletion and restoring, its status change (the
/// reactivation), the revoking of its portal links, the erasure of its
/// personal data and the record of an export of it (a data-subject access
/// request) may be written (a deleted customer: only its restoring, its
/// erasure, the purge, and its export; its status stays as it was, so
/// restoring brings it back so).
///
/// The entries are checked in the order they were appended, against the
/// status the customer had at that point: as stored, unless a status change
/// of the same batch says otherwise (a bulk load can deactivate a customer
/// after writing its earlier history in the same transaction). Deletion is
/// read as stored when the batch is written (after the transaction's own
/// changes).
pub(crate) async fn refuse_deactivated(h: &mut Handle<'_>, pending: &[NewActivity]) -> Result<()> {
    let allowed = |kind: ActivityKind| {
        use ActivityKind::*;
        matches!(kind, CustomerStatusChanged | PortalLinkRevoked | CustomerErased | CustomerDeleted | CustomerRestored | CustomerDataExported)
    };
    // Whether each customer was deactivated when the batch began: what its
    // first status change in the batch changed from, else as stored.
    let mut deactivated: HashMap<(Uuid, Uuid), Option<bool>> = HashMap::new();
    for activity in pending {
        let Some(customer) = activity.customer_id else { continue };
        let known = deactivated.entry((activity.org_id.0, customer.0)).or_insert(None);
        if known.is_none() && activity.kind == ActivityKind::CustomerStatusChanged {
            *known = status_change(activity).map(|(was, _)| was);
        }
    }
    let mut keys: Vec<(Uuid, Uuid)> = deactivated.keys().copied().collect();
    keys.sort_unstable();
    let mut deleted: HashMap<(Uuid, Uuid), (String, Option<Uuid>)> = HashMap::new();
    for of_org in keys.chunk_by(|a, b| a.0 == b.0) {
        let ids: Vec<Uuid> = of_org.iter().map(|(_, customer)| *customer).collect();
        for batch in ids.chunks(500) {
            // Only the customers that are deactivated or deleted come back.
            let stored: Vec<(Uuid, String, String, bool, Option<Uuid>)> = run!(h, c => {
                let mut q = QueryBuilder::new(
                    "SELECT id, code, status, deleted_at IS NOT NULL, merged_into FROM customer WHERE (status = 'deactivated' OR deleted_at IS NOT NULL) AND org_id = ");
                q.push_bind(of_org[0].0).push(" AND id IN ");
                crate::in_list::push_ids(&mut q, batch);
                q.build_query_as().fetch_all(c).await?
            });
            for customer in batch {
                let found = stored.iter().find(|(id, ..)| id == customer);
                let known = deactivated.entry((of_org[0].0, *customer)).or_insert(None);
                if known.is_none() {
                    *known = Some(found.is_some_and(|(_, _, status, ..)| status == CustomerStatus::Deactivated.as_str()));
                }
                if let Some((_, code, _, true, merged_into)) = found {
                    deleted.insert((of_org[0].0, *customer), (code.clone(), *merged_into));
                }
            }
        }
    }
    for activity in pending {
        let Some(customer) = activity.customer_id else { continue };
        let key = (activity.org_id.0, customer.0);
        match deleted.get(&key) {
            // A merged customer: only the undoing of its merge.
            Some((code, Some(survivor))) if activity.kind != ActivityKind::CustomerMergeUndone => {
                let survivor: String = run!(h, c => sqlx::query_scalar("SELECT code FROM customer WHERE org_id = $1 AND id = $2")
                    .bind(key.0).bind(*survivor).fetch_one(c).await?);
                return Err(StoreError::CustomerMerged { customer: code.clone(), survivor });
            }
            Some((code, None))
                if !matches!(
                    activity.kind,
                    ActivityKind::CustomerDeleted | ActivityKind::CustomerRestored | ActivityKind::CustomerErased | ActivityKind::CustomerDataExported
                ) =>
            {
                return Err(StoreError::CustomerDeleted(code.clone()));
            }
            _ => {}
        }
        if activity.kind == ActivityKind::CustomerStatusChanged {
            if let Some((_, now)) = status_change(activity) {
                deactivated.insert(key, Some(now));
            }
        } else if deactivated.get(&key) == Some(&Some(true)) && !allowed(activity.kind) {
            let code: String = run!(h, c => sqlx::query_scalar("SELECT code FROM customer WHERE org_id = $1 AND id = $2")
                .bind(key.0).bind(key.1).fetch_one(c).await?);
            return Err(StoreError::CustomerDeactivated(code));
        }
    }
    Ok(())
}

/// Whether a status change's customer was deactivated before it and after it.
fn status_change(activity: &NewActivity) -> Option<(bool, bool)> {
    let change = activity.changes.iter().find(|c| c.field == "status")?;
    let deactivated = |value: &serde_json::Value| value.as_str() == Some(CustomerStatus::Deactivated.as_str());
    Some((deactivated(&change.old), deactivated(&change.new)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_sort_by_family_name_and_businesses_by_their_name_without_an_article() {
        let person = CustomerProfile { given_name: Some("Ann".into()), family_name: Some("Smith".into()), ..CustomerProfile::empty(CustomerKind::Individual) };
        assert_eq!(sort_name(&person), "smith ann");
        let business = |name: &str| CustomerProfile {
            business_name: Some(name.into()),
            family_name: Some("Owner".into()),
            ..CustomerProfile::empty(CustomerKind::Business)
        };
        assert_eq!(sort_name(&business("The Leeds Plumbing Co")), "leeds plumbing co");
        assert_eq!(sort_name(&business("Smith & Sons")), "smith & sons");
        assert_eq!(sort_name(&business("Theatre Royal")), "theatre royal");
    }
}
