//! Demo data: an org "Demo Services" with staff, an API token and N
//! customers whose history spreads over the three years before today:
//! profile edits, labels, status changes, and for three in four of them
//! inquiries (1.6 each on average): some lost, some quoted (and accepted or
//! declined), most turned into jobs that are scheduled, started and done by
//! the fieldworker and invoiced, then paid (most in full, some in part, some
//! late or never) or credited. Staff log about ten messages per customer
//! (notes, calls with their length and outcome, emails and texts, some shown
//! in the portal; one customer in a hundred has a few hundred), one in
//! twenty-five has an important note pinned, and one job in three gets a
//! note of what was done. One in five gets a follow-up, closed on its due
//! day unless it falls in the last fortnight (some of those are overdue).
//! That makes about 28 activity rows and 3.6 work
//! records (inquiries, quotes, jobs) per customer. From 1,000 customers
//! on, three heavy customers (maintenance contracts) have a tenth as many
//! inquiries as there are customers, at most 12,000 each, and two messages
//! per inquiry: about 125,000 activity rows and 5,000 invoices each, the
//! rest of their visits being free of charge under the contract.
//!
//! Everything goes through the same use cases as real input (the `_in`
//! functions, batched in transactions of up to 10,000 customers), so the
//! demo's activity log is exactly what users would have produced: customers
//! join in the order of their numbers and their later events are played in
//! the order they happen. The same seed gives the same customers, codes,
//! names and events; only ids and the anchor date (today) differ between
//! runs.

use dossier_domain::activity::{Actor, ActorType, Visibility};
use dossier_domain::contact::{ContactInput, ContactRole, EmailInput, PhoneInput};
use dossier_domain::custom_fields::Definitions;
use dossier_domain::customer::{CommunicationPreferences, CustomerInput, CustomerKind, CustomerPatch, CustomerStatus, Label, StatusChange};
use dossier_domain::follow_up::{FollowUpChange, FollowUpInput, FollowUpStatus};
use dossier_domain::ids::{CustomerId, JobId, SiteId, UserId};
use dossier_domain::message::{CallOutcome, Channel, Direction, MessageInput, RecordType};
use dossier_domain::money::{Line, Money, Quantity, TaxRate};
use dossier_domain::patch::Patch;
use dossier_domain::site::{SiteInput, SiteKind, SitePatch};
use dossier_domain::workflow::{InquiryStatus, JobStatus, PaymentMethod, QuoteStatus};
use dossier_domain::works::{AllocationRequest, ConvertInput, ConvertInto, IssueInput, JobMove, NewCreditNote, NewInquiry, NewInvoice, NewPayment, Parties};
use dossier_store::queries as q;
use jiff::{SignedDuration, Timestamp, ToSpan};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use crate::customers::CustomerBundle;
use crate::tokens::create_token_in;
use crate::users::{NewUser, add_user_in};
use crate::works::InquiryStatusInput;
use crate::{Ctx, Db, Org, Result, ServiceError, billing, contacts, customers, follow_ups, messages, orgs, sites, works};

pub const DEMO_ORG: &str = "Demo Services";
pub const ADMIN_EMAIL: &str = "admin@demo.example";
const DEMO_ADDRESS: &[&str] = &["Unit 4, Riverside Works", "12 Canal Street", "Leeds LS11 5QR"];
/// The demo's staff all share this password; it is printed after loading.
pub const DEMO_PASSWORD: &str = "demo-password-2026";

pub struct DemoOptions {
    pub customers: u32,
    pub seed: u64,
    /// Customers per transaction; `None`: the backend's own (10,000 on
    /// SQLite, 500 on PostgreSQL). The history played is the same
    /// whatever it is.
    pub per_transaction: Option<u32>,
    /// Where the demo's photos and job cards go; `None`: no files.
    pub files: Option<crate::files::Files>,
    /// Also make the small second org (US dollars, Los Angeles time). The
    /// benchmark leaves it out: its figures describe one org of its scale.
    pub second_org: bool,
}

/// What the demo created, to print for the operator.
pub struct DemoLoaded {
    pub org: Org,
    pub admin_email: String,
    pub admin_password: String,
    pub api_token: String,
    /// A portal link for the first customer, if there is one.
    pub portal_url: Option<String>,
    pub activities: u64,
    /// The second, small org (US dollars, Los Angeles time): its name and
    /// its owner's email (the same password).
    pub second_org: Option<(String, String)>,
}

/// Customers per transaction on SQLite: fewer, larger commits write each
/// changed page to the WAL fewer times (1,000 → 4,000 took a 100,000-customer
/// load from 35 s to 30 s; with works and money, 4,000 → 10,000 took it from
/// 48 s to 44 s). PostgreSQL's statistics are refreshed this often too.
const BATCH: u32 = 10000;

/// Customers per transaction on PostgreSQL. A row updated many times in one
/// transaction (a number counter, a customer's status bar, the chain head)
/// keeps every version until the transaction ends, and each lookup of it
/// walks them all: in batches of 10,000 customers the load spent its time
/// in `heap_hot_search_buffer` and slowed as each batch went on.
const POSTGRES_BATCH: u32 = 500;

/// Load the demo. Refuses if the database already holds the demo org.
pub async fn load(db: &Db, options: DemoOptions, mut progress: impl FnMut(u64)) -> Result<DemoLoaded> {
    let existing = q::list_orgs(&mut db.read().await?.handle()).await?;
    if existing.iter().any(|o| o.name == DEMO_ORG) {
        return Err(ServiceError::conflict("demo_exists", "this database already holds the demo; use a fresh --db"));
    }
    let anchor = today_at_nine();
    let start = anchor - SignedDuration::from_hours(24 * 365 * 3 + 24);
    let rng = StdRng::seed_from_u64(options.seed);

    let mut tx = db.begin().await?;
    let org = orgs::create_org_in(&mut tx, &orgs::NewOrg::british(DEMO_ORG, DEMO_ADDRESS), "Demo loader", start).await?;
    let system = Ctx::system(org.clone(), "Demo loader").at(start);
    let mut staff = Vec::new();
    for (name, email, role) in STAFF {
        let user =
            add_user_in(&mut tx, &system, NewUser { email: email.to_string(), name: name.to_string(), role: role.to_string(), password: DEMO_PASSWORD.into() })
                .await?;
        staff.push(Actor { kind: ActorType::User, id: Some(user.id.0), name: user.name });
    }
    let token = create_token_in(&mut tx, &system, ADMIN_EMAIL, "demo").await?;
    tx.commit().await?;
    let org = crate::demo_orgs::settle_demo_org(db, &system).await?;
    let system = Ctx::system(org.clone(), "Demo loader").at(start);

    let mut activities = 1 + STAFF.len() as u64 + 1;
    let mut done = 0;
    let calendar = Calendar::new(start, anchor, options.customers);
    let fieldworkers = STAFF.iter().zip(&staff).filter(|((_, _, role), _)| *role == "fieldworker").filter_map(|(_, a)| a.id.map(UserId)).collect();
    let world = World { anchor, fieldworkers, files: options.files.clone() };
    let mut schedule = Schedule::default();
    db.bulk_load(true).await?;
    // Generating and parsing the next batch runs on another thread while
    // this one writes the current batch.
    let prepare = |mut rng: StdRng, first: u32, count: u32| {
        let (system, staff) = (system.clone(), staff.clone());
        tokio::task::spawn_blocking(move || {
            let batch = Batch::prepare(&mut rng, first..first + count, calendar, &system, &staff);
            (rng, batch)
        })
    };
    let default_batch = if db.backend() == "postgres" { POSTGRES_BATCH } else { BATCH };
    let batch_size = options.per_transaction.unwrap_or(default_batch).max(1);
    let mut next = (options.customers > 0).then(|| prepare(rng, 0, batch_size.min(options.customers)));
    while let Some(pending) = next.take() {
        let (rng, batch) = pending.await.map_err(|e| ServiceError::Internal(format!("demo generator thread failed: {e}")))?;
        let batch = batch?;
        let before = done;
        done += batch.histories.len() as u32;
        if done < options.customers {
            next = Some(prepare(rng, done, batch_size.min(options.customers - done)));
        }
        // Events before the next batch's first customer happen now; the
        // last batch plays all that are left.
        let until = if done < options.customers { calendar.slot_start(done) } else { Timestamp::MAX };
        let mut tx = db.begin_bulk().await?;
        activities += batch.write(&mut tx, &mut schedule, until, &world).await?;
        tx.commit().await?;
        // The tables have grown: let the planner know before the next batch
        // (after the last, `bulk_load(false)` analyses them anyway).
        if done < options.customers && before / BATCH != done / BATCH {
            db.refresh_statistics().await?;
        }
        progress(u64::from(done));
    }
    db.bulk_load(false).await?;
    // A few customers, sites and jobs with values in the org's fields.
    crate::demo_fields::fill_demo_values(db, &Ctx::system(org.clone(), "Demo loader").at(anchor), options.customers).await?;
    let portal_url = match options.customers {
        0 => None,
        _ => Some(crate::portal::create_link(db, &Ctx::system(org.clone(), "Demo"), "CUS-00001", Default::default()).await?.url),
    };
    let activities = q::chain_head(&mut db.read().await?.handle(), org.id.0).await?.map_or(activities, |(seq, _)| seq as u64);
    let second = match options.second_org {
        true => Some(crate::demo_orgs::second_org(db, DEMO_PASSWORD).await?),
        false => None,
    };
    Ok(DemoLoaded {
        org,
        admin_email: ADMIN_EMAIL.into(),
        admin_password: DEMO_PASSWORD.into(),
        api_token: token.token,
        portal_url,
        activities,
        second_org: second.map(|org| (org.name, crate::demo_orgs::SECOND_OWNER_EMAIL.into())),
    })
}

/// The demo's "now": today at 09:00 UTC, or, before then, the start of the
/// hour before this one but not before midnight, so the demo's history ends
/// today and never in the future (a staff member's first edit after loading
/// is the newest entry), and two loads in the same hour are the same.
fn today_at_nine() -> Timestamp {
    anchor_for(Timestamp::now())
}

fn anchor_for(now: Timestamp) -> Timestamp {
    let day_start = now.as_second() - now.as_second().rem_euclid(86_400);
    let hour_ago = now.as_second() - 3600;
    let second = (hour_ago - hour_ago.rem_euclid(3600)).clamp(day_start, day_start + 9 * 3600);
    Timestamp::from_second(second).unwrap_or(now)
}

const STAFF: [(&str, &str, &str); 8] = [
    ("Alex Morgan", ADMIN_EMAIL, "admin"),
    ("Priya Shah", "priya@demo.example", "office"),
    ("Tom Baker", "tom@demo.example", "support"),
    ("Grace Okafor", "grace@demo.example", "finance"),
    ("Sam Reid", "sam@demo.example", "sales"),
    ("Luis Romero", "luis@demo.example", "fieldworker"),
    ("Nadia Kowalski", "nadia@demo.example", "fieldworker"),
    ("Ben Carter", "ben@demo.example", "fieldworker"),
];

const GIVEN: &[&str] = &[
    "Oliver",
    "Amelia",
    "George",
    "Isla",
    "Harry",
    "Ava",
    "Noah",
    "Mia",
    "Jack",
    "Ivy",
    "Leo",
    "Lily",
    "Arthur",
    "Sophia",
    "Muhammad",
    "Grace",
    "Oscar",
    "Freya",
    "Charlie",
    "Emily",
    "Jacob",
    "Ella",
    "Thomas",
    "Poppy",
    "Henry",
    "Evie",
    "William",
    "Chloe",
    "James",
    "Ruby",
    "David",
    "Sarah",
    "Michael",
    "Helen",
    "Peter",
    "Margaret",
    "John",
    "Susan",
    "Robert",
    "Karen",
    "Aisha",
    "Ravi",
    "Chen",
    "Fatima",
    "Tomasz",
    "Agnieszka",
    "Siobhan",
    "Declan",
    "Megan",
    "Rhys",
];
const FAMILY: &[&str] = &[
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Harris",
    "Clarke",
    "Patel",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
    "Watson",
    "Davis",
    "Parker",
    "Price",
    "Bennett",
    "Young",
    "Griffiths",
    "Mitchell",
    "Kelly",
    "Cook",
    "Carter",
    "Richardson",
    "Bailey",
    "Collins",
    "Bell",
    "Shaw",
    "Murphy",
    "Miller",
    "Cox",
    "Richards",
    "Khan",
    "Marshall",
    "Anderson",
    "Simpson",
    "Ellis",
    "Adams",
    "Singh",
    "Begum",
    "Wilkinson",
    "Foster",
    "Chapman",
    "Powell",
    "Webb",
    "Rogers",
    "Gray",
    "Mason",
    "Ali",
    "Hunt",
    "Hussain",
    "O'Brien",
    "Nowak",
    "Kowalski",
    "Nguyen",
    "Okoro",
    "MacDonald",
    "Fraser",
];
const TRADES: &[&str] = &[
    "Lettings",
    "Properties",
    "Dental Practice",
    "Cafe",
    "Bakery",
    "Motors",
    "Veterinary Clinic",
    "Nursery",
    "Hotel",
    "Builders",
    "Fitness",
    "Surgery",
    "Estates",
];
const STREETS: &[&str] = &[
    "High",
    "Station",
    "Church",
    "Park",
    "Victoria",
    "Green",
    "Manor",
    "Mill",
    "Kings",
    "Queens",
    "School",
    "Grange",
    "Albert",
    "New",
    "North",
    "South",
    "West",
    "Chapel",
    "Windsor",
    "York",
    "Springfield",
    "Meadow",
    "Orchard",
    "Willow",
    "Beech",
];
const SUFFIXES: &[&str] = &["Street", "Road", "Lane", "Avenue", "Close", "Drive", "Way", "Gardens", "Crescent", "Terrace"];
/// Town, region, postcode area, latitude, longitude.
const TOWNS: &[(&str, &str, &str, f64, f64)] = &[
    ("Leeds", "West Yorkshire", "LS", 53.7997, -1.5492),
    ("Manchester", "Greater Manchester", "M", 53.4808, -2.2426),
    ("Birmingham", "West Midlands", "B", 52.4862, -1.8904),
    ("Bristol", "Bristol", "BS", 51.4545, -2.5879),
    ("Sheffield", "South Yorkshire", "S", 53.3811, -1.4701),
    ("Nottingham", "Nottinghamshire", "NG", 52.9548, -1.1581),
    ("York", "North Yorkshire", "YO", 53.9590, -1.0815),
    ("Harrogate", "North Yorkshire", "HG", 53.9921, -1.5418),
    ("Bath", "Somerset", "BA", 51.3811, -2.3590),
    ("Cardiff", "Cardiff", "CF", 51.4816, -3.1791),
    ("Exeter", "Devon", "EX", 50.7184, -3.5339),
    ("Norwich", "Norfolk", "NR", 52.6309, 1.2974),
    ("Cambridge", "Cambridgeshire", "CB", 52.2053, 0.1218),
    ("Oxford", "Oxfordshire", "OX", 51.7520, -1.2577),
    ("Brighton", "East Sussex", "BN", 50.8225, -0.1372),
    ("Newcastle upon Tyne", "Tyne and Wear", "NE", 54.9783, -1.6178),
    ("Liverpool", "Merseyside", "L", 53.4084, -2.9916),
    ("Leicester", "Leicestershire", "LE", 52.6369, -1.1398),
    ("Edinburgh", "City of Edinburgh", "EH", 55.9533, -3.1883),
    ("Glasgow", "Glasgow City", "G", 55.8642, -4.2518),
];
const SOURCES: &[&str] = &["Google", "Referral", "Facebook", "Flyer", "Returning customer", "Van signage", "Checkatrade", "Website"];
const LABELS: &[&str] = &["VIP", "Key account", "Landlord", "Commercial", "Residential", "Late payer", "Newsletter", "Referral partner", "Contract"];
const MOBILE_PREFIXES: &[&str] =
    &["7912", "7400", "7500", "7723", "7588", "7830", "7766", "7921", "7931", "7941", "7951", "7961", "7971", "7981", "7123", "7234", "7345", "7801", "7811"];
const ACCESS_NOTES: &[&str] = &[
    "Key safe by the back door, code from office",
    "Dog in the garden: ring first",
    "Park on the drive",
    "Side gate is locked: call on arrival",
    "Meter in the cellar",
];
/// What staff write down, by channel: notes, calls, emails, texts.
const NOTES: &[&str] = &[
    "Prefers to be contacted by email during the day.",
    "Asked us to use the side entrance from now on.",
    "Mentioned a neighbour who may want a quote too.",
    "Happy with the last visit; said they would recommend us.",
    "Wants all invoices sent to the accounts address.",
    "Tenant on site changes next month: check before booking.",
];
const IMPORTANT: &[&str] = &[
    "Important: do not call before 10am, night shifts.",
    "Important: always ask for the site manager on arrival.",
    "Important: vulnerable customer, allow extra time and explain each step.",
    "Important: gate code changes monthly, ask the office first.",
];
const CALLS: &[&str] = &[
    "Called to ask when the engineer will arrive.",
    "Asked for a quote for a second property.",
    "Chased about the open invoice; promised payment this week.",
    "Rang to move the visit to next week.",
    "Reported the problem is back since the last visit.",
    "Asked whether we cover weekends.",
];
const EMAILS: &[&str] = &[
    "Thanks for coming out today, the invoice follows separately.",
    "Please find the details of your next service visit below.",
    "Could you send a copy of the gas safety certificate?",
    "Confirming the booking for next Tuesday morning.",
    "Can we pay in two instalments? Let me know what works.",
];
const TEXTS: &[&str] =
    &["On our way, about 20 minutes.", "Reminder: visit tomorrow between 9 and 11.", "Running late, sorry, there by 2pm.", "Thanks, see you Friday."];
/// What the office sets itself to do next.
const FOLLOW_UPS: &[&str] =
    &["Call back about the quote", "Chase the open invoice", "Send the service reminder", "Check the customer is happy", "Book the next visit"];
/// What the fieldworker notes on a job when it is done.
const JOB_NOTES: &[&str] = &[
    "Replaced the washer and tested for leaks.",
    "Part on order; temporary fix in place.",
    "Customer shown how to bleed the radiators.",
    "Access was difficult: bring the long ladder next time.",
];

const POSITIONS: &[&str] = &["Director", "Office Manager", "Facilities Manager", "Accounts", "Practice Manager", "Owner"];

/// One customer's life: created at some point, then a few events.
struct CustomerPlan {
    created_at: Timestamp,
    input: CustomerInput,
    contacts: Vec<ContactInput>,
    sites: Vec<SiteInput>,
    events: Vec<(Timestamp, Event)>,
}

enum Event {
    Update(CustomerPatch),
    /// A note, logged call, email or text about the customer.
    Message(MessageInput),
    /// The office sets a follow-up due some days later.
    FollowUp(&'static str, i64),
    /// The follow-up is done (or, `false`, cancelled) on its due day.
    CloseFollowUp(String, bool),
    Status(CustomerStatus, &'static str),
    Label(&'static str),
    Contact(ContactInput),
    AccessNotes(&'static str),
    /// An inquiry comes in; a quote, a job or nothing follows.
    Inquire(JobPlan),
    /// The office answers an inquiry: it is lost, quoted or booked.
    Answer(String, JobPlan),
    /// The customer accepts or declines a sent quote.
    Decide(String, JobPlan),
    /// The fieldworker arrives (the job starts) or the customer cancels.
    Arrive(JobId, JobPlan),
    /// The visit ends: the job is done (and invoiced unless free of charge).
    Visit(JobId, JobPlan),
    /// The customer pays (all or part) or is credited.
    Settle {
        invoice: String,
        total: i64,
        outcome: Outcome,
    },
}

/// One piece of work from inquiry to payment, decided when the customer is
/// generated.
#[derive(Clone, Copy)]
struct JobPlan {
    title: &'static str,
    /// Net value in pence; the invoice adds 20 % VAT.
    value: i64,
    route: Route,
    /// Hours from the inquiry to the office's answer.
    answer_after_hours: i64,
    /// Hours from booking to the end of the visit.
    visit_after_hours: i64,
    /// Done under a maintenance contract: never invoiced.
    free_of_charge: bool,
    outcome: Outcome,
}

/// How an inquiry goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Lost,
    /// Quoted first; the customer accepts (a job follows) or declines.
    Quoted {
        accepted: bool,
    },
    /// Booked straight away.
    Booked,
}

#[derive(Clone, Copy)]
enum Outcome {
    Cancelled,
    /// Paid `days` after the invoice; `percent` of it (100 is in full).
    Paid {
        days: i64,
        percent: i64,
    },
    /// Credited in full `days` after the invoice (work redone, goodwill).
    Credited {
        days: i64,
    },
    Unpaid,
}

const JOB_TITLES: &[&str] = &[
    "Boiler service",
    "Leaking tap repair",
    "Gutter clearance",
    "Annual gas safety check",
    "Window cleaning",
    "Drain unblocking",
    "Electrical inspection",
    "Fence repair",
    "Carpet deep clean",
    "Radiator bleed and balance",
];

impl JobPlan {
    /// `free_share`: the share of jobs done free of charge under a contract.
    fn generate(rng: &mut StdRng, free_share: f64) -> JobPlan {
        let route = match rng.random_range(0..100) {
            0..10 => Route::Lost,
            10..45 => Route::Quoted { accepted: rng.random_bool(0.85) },
            _ => Route::Booked,
        };
        let roll: f64 = rng.random();
        let days = rng.random_range(0..45);
        let outcome = match roll {
            r if r < 0.05 => Outcome::Cancelled,
            r if r < 0.80 => Outcome::Paid { days, percent: 100 },
            r if r < 0.86 => Outcome::Paid { days, percent: 50 },
            r if r < 0.89 => Outcome::Credited { days },
            _ => Outcome::Unpaid,
        };
        JobPlan {
            title: JOB_TITLES[rng.random_range(0..JOB_TITLES.len())],
            value: rng.random_range(60..1_200) * 100,
            route,
            answer_after_hours: rng.random_range(1..72),
            visit_after_hours: rng.random_range(24..24 * 21),
            free_of_charge: rng.random_bool(free_share),
            outcome,
        }
    }
}

/// A message as staff log it: a note, a call with its length and outcome,
/// an email or a text, to or from the customer; some emails and texts to
/// the customer are shown in their portal.
fn message(rng: &mut StdRng) -> MessageInput {
    let direction = if rng.random_bool(0.5) { Direction::Inbound } else { Direction::Outbound };
    let shown = direction == Direction::Outbound && rng.random_bool(0.5);
    let visibility = Some(if shown { Visibility::Customer } else { Visibility::Internal });
    let (channel, body) = match rng.random_range(0..100) {
        0..30 => return MessageInput { channel: Some(Channel::Note), body: Some(pick(rng, NOTES).to_string()), ..Default::default() },
        30..65 => {
            let outcome = *pick(rng, &[CallOutcome::Answered, CallOutcome::Answered, CallOutcome::Answered, CallOutcome::NoAnswer, CallOutcome::Voicemail]);
            let seconds = if outcome == CallOutcome::Answered { rng.random_range(30..1200) } else { rng.random_range(5..40) };
            return MessageInput {
                channel: Some(Channel::Call),
                direction: Some(direction),
                body: Some(pick(rng, CALLS).to_string()),
                duration_seconds: Some(seconds),
                outcome: Some(outcome),
                ..Default::default()
            };
        }
        65..85 => (Channel::Email, pick(rng, EMAILS)),
        85..95 => (Channel::Sms, pick(rng, TEXTS)),
        _ => (Channel::Whatsapp, pick(rng, TEXTS)),
    };
    let subject = (channel == Channel::Email).then(|| pick(rng, &["Your visit", "Invoice", "Service reminder", "Quote", "Question"]).to_string());
    MessageInput { channel: Some(channel), direction: Some(direction), visibility, subject, body: Some(body.to_string()), ..Default::default() }
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    items.choose(rng).unwrap_or(&items[0])
}

fn mobile(rng: &mut StdRng) -> String {
    format!("0{} {:06}", pick(rng, MOBILE_PREFIXES), rng.random_range(0..1_000_000))
}

fn email(rng: &mut StdRng, given: &str, family: &str) -> String {
    let family: String = family.chars().filter(char::is_ascii_alphabetic).collect();
    let domain = pick(rng, &["example.com", "example.net", "example.org", "mail.example"]);
    format!("{}.{}{}@{domain}", given.to_lowercase(), family.to_lowercase(), rng.random_range(1..100))
}

fn site(rng: &mut StdRng, kind: SiteKind) -> SiteInput {
    let (town, region, area, lat, lon) = *pick(rng, TOWNS);
    let letters = b"ABDEFGHJLNPQRSTUWXYZ";
    let postcode = format!(
        "{area}{} {}{}{}",
        rng.random_range(1..20),
        rng.random_range(1..10),
        letters[rng.random_range(0..letters.len())] as char,
        letters[rng.random_range(0..letters.len())] as char
    );
    SiteInput {
        kind: Some(kind),
        address_line1: Some(format!("{} {} {}", rng.random_range(1..200), pick(rng, STREETS), pick(rng, SUFFIXES))),
        town: Some(town.into()),
        region: Some(region.into()),
        postcode: Some(postcode),
        latitude: Some(((lat + rng.random_range(-0.05..0.05)) * 1e5).round() / 1e5),
        longitude: Some(((lon + rng.random_range(-0.05..0.05)) * 1e5).round() / 1e5),
        ..Default::default()
    }
}

fn between(rng: &mut StdRng, from: Timestamp, to: Timestamp) -> Timestamp {
    let span = (to.as_second() - from.as_second()).max(1);
    Timestamp::from_second(from.as_second() + rng.random_range(0..span)).unwrap_or(from)
}

/// When the demo's customers join: customer `i` of `n` in the `i`-th of `n`
/// equal slots of the three years, so customer numbers follow the order in
/// which customers joined, as they would in a real business.
#[derive(Clone, Copy)]
struct Calendar {
    start: Timestamp,
    anchor: Timestamp,
    slot_seconds: i64,
    customers: u32,
}

impl Calendar {
    fn new(start: Timestamp, anchor: Timestamp, customers: u32) -> Self {
        let span = (anchor - 2.hours()).as_second() - start.as_second();
        Self { start, anchor, slot_seconds: (span / i64::from(customers.max(1))).max(1), customers }
    }

    /// A few customers (from 1,000 customers on: three) have a long history:
    /// a tenth as many inquiries as there are customers, at most 12,000 each.
    fn heavy_inquiries(&self, customer: u32) -> Option<u32> {
        let n = self.customers;
        (n >= 1000 && [n / 4, n / 2, 3 * n / 4].contains(&customer)).then(|| (n / 10).min(12_000))
    }

    fn slot_start(&self, customer: u32) -> Timestamp {
        Timestamp::from_second(self.start.as_second() + self.slot_seconds * i64::from(customer)).unwrap_or(self.start)
    }

    fn joined(&self, rng: &mut StdRng, customer: u32) -> Timestamp {
        let from = self.slot_start(customer);
        between(rng, from, Timestamp::from_second(from.as_second() + self.slot_seconds).unwrap_or(from))
    }
}

impl CustomerPlan {
    /// `heavy_inquiries`: how many inquiries a heavy customer makes; others make zero to five.
    fn generate(rng: &mut StdRng, created_at: Timestamp, anchor: Timestamp, heavy_inquiries: Option<u32>) -> Self {
        let given = *pick(rng, GIVEN);
        let family = *pick(rng, FAMILY);
        let business = rng.random_bool(0.2);
        let mut input = CustomerInput {
            kind: Some(if business { CustomerKind::Business } else { CustomerKind::Individual }),
            source: rng.random_bool(0.8).then(|| pick(rng, SOURCES).to_string()),
            labels: Some((0..rng.random_range(0..3)).map(|_| pick(rng, LABELS).to_string()).collect()),
            communication: Some(CommunicationPreferences::default()),
            ..Default::default()
        };
        let mut contacts = Vec::new();
        let mut sites = Vec::new();
        if business {
            let (town, ..) = *pick(rng, TOWNS);
            input.business_name = Some(match rng.random_range(0..3) {
                0 => format!("{family} & Sons"),
                1 => format!("{town} {} Ltd", pick(rng, TRADES)),
                _ => format!("{family} {}", pick(rng, TRADES)),
            });
            input.email = Some(format!("office@{}.example", family.to_lowercase().replace('\'', "")));
            input.phone = Some(format!("020 7{:03} {:04}", rng.random_range(0..1000), rng.random_range(0..10_000)));
            for i in 0..rng.random_range(1..4) {
                let (g, f) = (*pick(rng, GIVEN), *pick(rng, FAMILY));
                contacts.push(ContactInput {
                    given_name: Some(g.into()),
                    family_name: Some(f.into()),
                    position: Some(pick(rng, POSITIONS).to_string()),
                    roles: Some(if i == 0 { vec![ContactRole::Billing] } else { vec![*pick(rng, &[ContactRole::Scheduling, ContactRole::Technical])] }),
                    emails: Some(vec![EmailInput { kind: dossier_domain::contact::EmailKind::Work, address: email(rng, g, f) }]),
                    phones: Some(vec![PhoneInput { kind: dossier_domain::contact::PhoneKind::Mobile, number: mobile(rng) }]),
                    is_primary: Some(i == 0),
                    is_billing: Some(i == 0),
                    ..Default::default()
                });
            }
            sites.push(site(rng, SiteKind::Billing));
            for _ in 0..rng.random_range(0..4) {
                let kind = *pick(rng, &[SiteKind::Service, SiteKind::Branch]);
                sites.push(site(rng, kind));
            }
        } else {
            input.title = rng.random_bool(0.4).then(|| pick(rng, &["Mr", "Mrs", "Ms", "Dr", "Miss"]).to_string());
            input.given_name = Some(given.into());
            input.family_name = Some(family.into());
            input.email = rng.random_bool(0.9).then(|| email(rng, given, family));
            input.phone = rng.random_bool(0.85).then(|| mobile(rng));
            sites.push(site(rng, SiteKind::Service));
            if rng.random_bool(0.1) {
                sites.push(site(rng, SiteKind::Service));
            }
        }
        let mut events = Vec::new();
        let later = |rng: &mut StdRng| between(rng, created_at + 1.hour(), anchor);
        if rng.random_bool(0.3) {
            let patch = match rng.random_range(0..3) {
                0 => CustomerPatch { phone: Patch::Set(mobile(rng)), ..Default::default() },
                1 => CustomerPatch { email: Patch::Set(email(rng, given, family)), ..Default::default() },
                _ => CustomerPatch { source: Patch::Set(pick(rng, SOURCES).to_string()), ..Default::default() },
            };
            events.push((later(rng), Event::Update(patch)));
        }
        if rng.random_bool(0.05) {
            events.push((later(rng), Event::Update(CustomerPatch { auto_comms_paused: Some(true), ..Default::default() })));
        }
        if rng.random_bool(0.2) {
            let label = LABELS[rng.random_range(0..LABELS.len())];
            events.push((later(rng), Event::Label(label)));
        }
        if rng.random_bool(0.15) {
            let (g, f) = (*pick(rng, GIVEN), family);
            events.push((
                later(rng),
                Event::Contact(ContactInput {
                    given_name: Some(g.into()),
                    family_name: Some(f.into()),
                    phones: Some(vec![PhoneInput { kind: dossier_domain::contact::PhoneKind::Mobile, number: mobile(rng) }]),
                    ..Default::default()
                }),
            ));
        }
        if rng.random_bool(0.1) {
            let notes = ACCESS_NOTES[rng.random_range(0..ACCESS_NOTES.len())];
            events.push((later(rng), Event::AccessNotes(notes)));
        }
        let roll: f64 = rng.random();
        if roll < 0.10 {
            let dormant_at = later(rng);
            events.push((dormant_at, Event::Status(CustomerStatus::Dormant, "No work booked for twelve months")));
            if rng.random_bool(0.5) {
                let at = between(rng, dormant_at + 1.hour(), anchor);
                if at <= anchor {
                    events.push((at, Event::Status(CustomerStatus::Active, "Booked again")));
                }
            }
        } else if roll < 0.13 {
            events.push((later(rng), Event::Status(CustomerStatus::Blocked, "Repeated unpaid invoices")));
        } else if roll < 0.15 {
            events.push((later(rng), Event::Status(CustomerStatus::Deactivated, "Moved out of the area")));
        }
        // In the three years shown, three in four customers ask for work:
        // most once or twice, some up to five times. A heavy customer's
        // contract covers nearly half its visits.
        let inquiries = heavy_inquiries.unwrap_or_else(|| match rng.random_range(0..100) {
            0..25 => 0,
            25..53 => 1,
            53..75 => 2,
            75..88 => 3,
            88..95 => 4,
            _ => 5,
        });
        let free_share = if heavy_inquiries.is_some() { 0.45 } else { 0.0 };
        for _ in 0..inquiries {
            events.push((later(rng), Event::Inquire(JobPlan::generate(rng, free_share))));
        }
        // About ten messages a customer; one in a hundred is busy (a few
        // hundred), a heavy customer has two for each inquiry.
        let messages = heavy_inquiries.map_or_else(|| if rng.random_bool(0.01) { rng.random_range(100..300) } else { rng.random_range(0..=20) }, |n| n * 2);
        for _ in 0..messages {
            events.push((later(rng), Event::Message(message(rng))));
        }
        // One customer in five gets a follow-up; those of the last weeks are still open.
        if rng.random_bool(0.2) {
            events.push((later(rng), Event::FollowUp(FOLLOW_UPS[rng.random_range(0..FOLLOW_UPS.len())], rng.random_range(1..14))));
        }
        if rng.random_bool(0.04) {
            let note = MessageInput { channel: Some(Channel::Note), body: Some(pick(rng, IMPORTANT).to_string()), pinned: Some(true), ..Default::default() };
            events.push((later(rng), Event::Message(note)));
        }
        events.sort_by_key(|(at, _)| *at);
        Self { created_at, input, contacts, sites, events }
    }
}

/// One batch of customers, generated and parsed, ready to be written.
struct Batch {
    bundles: Vec<CustomerBundle>,
    /// Each customer's later events, with who did them and when.
    histories: Vec<Vec<(Ctx, Event)>>,
}

/// A later event of a customer already created, waiting for its time.
struct Scheduled {
    customer: CustomerId,
    first_site: Option<SiteId>,
    ctx: Ctx,
    event: Event,
}

/// What playing events needs to know of the demo.
struct World {
    /// Today: nothing is played after it.
    anchor: Timestamp,
    /// Jobs are spread over the demo's fieldworkers.
    fieldworkers: Vec<UserId>,
    /// Where photos and job cards go, if the demo writes files.
    files: Option<crate::files::Files>,
}

impl World {
    /// Schedule what happens next to a customer, by the same person, unless
    /// it would happen after today.
    fn follow_up(&self, schedule: &mut Schedule, customer: CustomerId, first_site: Option<SiteId>, ctx: &Ctx, at: Timestamp, event: Event) {
        if at <= self.anchor {
            schedule.add(Scheduled { customer, first_site, ctx: ctx.at(at), event });
        }
    }
}

/// Why the demo's office finishes work for a customer blocked meanwhile.
const AGREED_BEFORE_THE_BLOCK: &str = "Work agreed before the customer was blocked";

/// Events still to play, in the order they happen (ties in the order they
/// were scheduled).
#[derive(Default)]
struct Schedule {
    events: BTreeMap<(Timestamp, u64), Scheduled>,
    scheduled: u64,
    /// The customers blocked or deactivated so far: a blocked customer's
    /// new inquiries are turned away and work agreed before the block goes
    /// ahead with a reason; a deactivated customer's story ends.
    standing: HashMap<CustomerId, CustomerStatus>,
}

impl Schedule {
    fn add(&mut self, event: Scheduled) {
        self.scheduled += 1;
        self.events.insert((event.ctx.now(), self.scheduled), event);
    }

    fn next_before(&mut self, until: Timestamp) -> Option<Scheduled> {
        let entry = self.events.first_entry().filter(|e| e.key().0 < until)?;
        Some(entry.remove())
    }
}

impl Batch {
    /// Generate customers number `customers` and parse them as the API would.
    fn prepare(rng: &mut StdRng, customers: Range<u32>, calendar: Calendar, system: &Ctx, staff: &[Actor]) -> Result<Batch> {
        let region = system.org.region;
        // Custom fields are defined, and filled in, after the customers are made.
        let fields = Definitions::default();
        let actor_at = |at: Timestamp, rng: &mut StdRng| {
            let mut ctx = system.at(at);
            ctx.actor = pick(rng, &staff[..5]).clone();
            ctx
        };
        let count = customers.len();
        let mut batch = Batch { bundles: Vec::with_capacity(count), histories: Vec::with_capacity(count) };
        for customer in customers {
            let created_at = calendar.joined(rng, customer);
            let plan = CustomerPlan::generate(rng, created_at, calendar.anchor, calendar.heavy_inquiries(customer));
            batch.bundles.push(CustomerBundle {
                ctx: actor_at(plan.created_at, rng),
                customer: plan.input.parse(region, &fields)?,
                contacts: plan.contacts.into_iter().map(|c| c.parse(region)).collect::<Result<_, _>>()?,
                sites: plan.sites.into_iter().map(|s| s.parse(region, &fields)).collect::<Result<_, _>>()?,
            });
            batch.histories.push(plan.events.into_iter().map(|(at, event)| (actor_at(at, rng), event)).collect());
        }
        Ok(batch)
    }

    /// Create the customers with their contacts and sites in one go, then
    /// play, in time order, every scheduled event that happens before
    /// `until`; returns the number of activities recorded.
    async fn write(self, tx: &mut dossier_store::Tx, schedule: &mut Schedule, until: Timestamp, world: &World) -> Result<u64> {
        let mut count = self.bundles.iter().map(|b| 1 + b.contacts.len() + b.sites.len()).sum::<usize>() as u64;
        let created = customers::create_customers_in(tx, self.bundles).await?;
        for (created, events) in created.into_iter().zip(self.histories) {
            let (customer, first_site) = (created.customer.id, created.sites.first().map(|s| s.id));
            for (ctx, event) in events {
                schedule.add(Scheduled { customer, first_site, ctx, event });
            }
        }
        while let Some(Scheduled { customer, first_site, ctx, event }) = schedule.next_before(until) {
            let reference = customer.to_string();
            let standing = schedule.standing.get(&customer).copied();
            let go_ahead = (standing == Some(CustomerStatus::Blocked)).then(|| AGREED_BEFORE_THE_BLOCK.to_owned());
            match (&event, standing) {
                (Event::Status(..), _) | (_, None) => {}
                (_, Some(CustomerStatus::Deactivated)) | (Event::Inquire(_), Some(CustomerStatus::Blocked)) => continue,
                _ => {}
            }
            match event {
                Event::Update(patch) => {
                    customers::update_customer_in(tx, &ctx, &reference, patch).await?;
                }
                Event::Message(input) => {
                    messages::post_message_in(tx, &ctx, customer, input.parse(ctx.now())?).await?;
                }
                Event::FollowUp(title, due_in_days) => {
                    let due = ctx.now() + SignedDuration::from_hours(24 * due_in_days);
                    let input = FollowUpInput {
                        title: Some(title.into()),
                        due_on: Some(due.to_zoned(jiff::tz::TimeZone::UTC).date()),
                        assignee_id: ctx.actor.id.map(UserId),
                        ..Default::default()
                    };
                    let created = follow_ups::create_follow_up_in(tx, &ctx, customer, input.parse()?).await?;
                    let done = due_in_days % 5 != 0;
                    world.follow_up(schedule, customer, first_site, &ctx, due, Event::CloseFollowUp(created.id.to_string(), done));
                }
                Event::CloseFollowUp(id, done) => {
                    let status = if done { FollowUpStatus::Done } else { FollowUpStatus::Cancelled };
                    follow_ups::change_follow_up_in(tx, &ctx, &id, FollowUpChange { status: Some(status), ..Default::default() }).await?;
                }
                Event::Status(status, reason) => {
                    customers::change_status_in(tx, &ctx, &reference, StatusChange { status, reason: reason.into() }).await?;
                    match status {
                        CustomerStatus::Blocked | CustomerStatus::Deactivated => schedule.standing.insert(customer, status),
                        _ => schedule.standing.remove(&customer),
                    };
                }
                Event::Label(label) => {
                    customers::relabel_in(tx, &ctx, &reference, &[Label::parse("label", label)?], &[]).await?;
                }
                Event::Contact(contact) => {
                    contacts::add_contact_in(tx, &ctx, customer, contact.parse(ctx.org.region)?).await?;
                }
                Event::AccessNotes(notes) => {
                    let Some(site) = first_site else { continue };
                    let patch = SitePatch { access_notes: Patch::Set(notes.into()), ..Default::default() };
                    sites::update_site_in(tx, &ctx, &site.to_string(), patch).await?;
                }
                Event::Inquire(plan) => {
                    let parties = Parties { customer: Some(reference), site_id: first_site, contact_id: None, blocked_override: None };
                    let source = Some("Phone".to_owned());
                    let new = NewInquiry { title: plan.title.into(), description: None, estimated_value: Money(plan.value), source };
                    let inquiry = works::create_inquiry_in(tx, &ctx, parties, new).await?;
                    let answer_at = ctx.now() + SignedDuration::from_hours(plan.answer_after_hours);
                    world.follow_up(schedule, customer, first_site, &ctx, answer_at, Event::Answer(inquiry.code, plan));
                }
                Event::Answer(inquiry, plan) => match plan.route {
                    Route::Lost => {
                        let lost = InquiryStatusInput { status: InquiryStatus::Lost, reason: Some("Went with another firm".into()) };
                        works::move_inquiry_in(tx, &ctx, &inquiry, lost).await?;
                    }
                    Route::Quoted { .. } => {
                        let converted =
                            works::convert_inquiry_in(tx, &ctx, &inquiry, ConvertInput { into: ConvertInto::Quote, blocked_override: go_ahead.clone() })
                                .await?;
                        let Some(quote) = converted.quote else { continue };
                        works::move_quote_in(tx, &ctx, &quote.code, QuoteStatus::Sent, false, None).await?;
                        let decide_at = ctx.now() + SignedDuration::from_hours(plan.answer_after_hours * 2);
                        world.follow_up(schedule, customer, first_site, &ctx, decide_at, Event::Decide(quote.code, plan));
                    }
                    Route::Booked => {
                        let converted =
                            works::convert_inquiry_in(tx, &ctx, &inquiry, ConvertInput { into: ConvertInto::Job, blocked_override: go_ahead.clone() }).await?;
                        let Some(job) = converted.job else { continue };
                        schedule_job(tx, schedule, world, (customer, first_site), &ctx, job.id, plan).await?;
                    }
                },
                Event::Decide(quote, plan) => {
                    let accepted = plan.route == Route::Quoted { accepted: true };
                    let status = if accepted { QuoteStatus::Accepted } else { QuoteStatus::Declined };
                    let quote = works::move_quote_in(tx, &ctx, &quote, status, accepted, go_ahead.as_deref()).await?;
                    if let Some(job) = quote.job_id {
                        schedule_job(tx, schedule, world, (customer, first_site), &ctx, job, plan).await?;
                    }
                }
                Event::Arrive(job, plan) => {
                    let (status, notes) = match plan.outcome {
                        Outcome::Cancelled => (JobStatus::Cancelled, Some("Customer cancelled".into())),
                        _ => (JobStatus::InProgress, None),
                    };
                    works::move_job_in(tx, &ctx, &job.to_string(), JobMove { status, window: None, assignees: None, notes }).await?;
                    if status == JobStatus::InProgress {
                        world.follow_up(schedule, customer, first_site, &ctx, ctx.now() + SignedDuration::from_hours(2), Event::Visit(job, plan));
                    }
                }
                Event::Visit(job, plan) => {
                    let change = JobMove { status: JobStatus::Completed, window: None, assignees: None, notes: Some("Work done".into()) };
                    let done = works::move_job_in(tx, &ctx, &job.to_string(), change).await?;
                    // One job in three gets a note of what was done.
                    if plan.visit_after_hours % 3 == 0 {
                        let body = JOB_NOTES[plan.answer_after_hours as usize % JOB_NOTES.len()];
                        let note = MessageInput {
                            channel: Some(Channel::Note),
                            body: Some(body.into()),
                            record_type: Some(RecordType::Job),
                            record: Some(done.code.clone()),
                            ..Default::default()
                        };
                        let message = messages::post_message_in(tx, &ctx, customer, note.parse(ctx.now())?).await?;
                        // Every other such note comes with a photo, and
                        // every fourth with the signed job card too.
                        if let Some(files) = world.files.as_ref().filter(|_| plan.visit_after_hours % 2 == 0) {
                            let variant = (plan.answer_after_hours % 8) as u8;
                            let mut kept =
                                vec![crate::files::keep_bytes(files, &ctx, &format!("{}-photo.png", done.code), &crate::demo_files::photo(variant)).await?];
                            if plan.visit_after_hours % 4 == 0 {
                                let day = ctx.now().strftime("%Y-%m-%d").to_string();
                                let card = crate::demo_files::job_card(&done.code, &day);
                                kept.push(crate::files::keep_bytes(files, &ctx, &format!("{} job card.pdf", done.code), &card).await?);
                            }
                            crate::files::record_message_files_in(tx, &ctx, &message, kept).await?;
                        }
                    }
                    if !plan.free_of_charge {
                        let line = Line::new(plan.title.into(), Quantity::ONE, Money(plan.value), TaxRate(2000));
                        let invoice = NewInvoice { lines: vec![line], due_date: None, job_ids: vec![job], notes: None, issue: Some(IssueInput::default()) };
                        let parties = Parties { customer: Some(reference), site_id: first_site, contact_id: None, blocked_override: go_ahead };
                        let invoice = billing::create_invoice_in(tx, &ctx, parties, invoice).await?;
                        let days = match plan.outcome {
                            Outcome::Paid { days, .. } | Outcome::Credited { days } => days,
                            Outcome::Cancelled | Outcome::Unpaid => continue,
                        };
                        let settle = Event::Settle { invoice: invoice.code, total: invoice.totals.total.0, outcome: plan.outcome };
                        world.follow_up(schedule, customer, first_site, &ctx, ctx.now() + SignedDuration::from_hours(24 * days), settle);
                    }
                }
                Event::Settle { invoice, total, outcome } => match outcome {
                    Outcome::Credited { .. } => {
                        let credit =
                            NewCreditNote { customer: None, invoice: Some(invoice), amount: Money(total), reason: "Work redone free of charge".into() };
                        billing::create_credit_note_in(tx, &ctx, credit).await?;
                    }
                    Outcome::Paid { percent, .. } => {
                        let amount = Money((total * percent / 100).max(1));
                        let method = if percent == 100 { PaymentMethod::BankTransfer } else { PaymentMethod::Card };
                        let allocations = vec![AllocationRequest { invoice, amount }];
                        let payment = NewPayment { customer: reference, amount, method, reference: None, received_on: None, allocations };
                        billing::record_payment_in(tx, &ctx, payment).await?;
                    }
                    Outcome::Cancelled | Outcome::Unpaid => {}
                },
            }
            count += 1;
        }
        Ok(count)
    }
}

/// The office books a job: a window some days ahead, the fieldworker
/// assigned; the fieldworker's arrival follows.
async fn schedule_job(
    tx: &mut dossier_store::Tx,
    schedule: &mut Schedule,
    world: &World,
    (customer, first_site): (CustomerId, Option<SiteId>),
    ctx: &Ctx,
    job: JobId,
    plan: JobPlan,
) -> Result<()> {
    let end = ctx.now() + SignedDuration::from_hours(plan.visit_after_hours);
    let start = end - SignedDuration::from_hours(2);
    // Spread by the plan's own random draw, so the same seed books the same fieldworker.
    let fieldworker = world.fieldworkers.get(plan.visit_after_hours as usize % world.fieldworkers.len().max(1)).copied();
    let booking = JobMove { status: JobStatus::Scheduled, window: Some((start, end)), assignees: Some(fieldworker.into_iter().collect()), notes: None };
    works::move_job_in(tx, ctx, &job.to_string(), booking).await?;
    world.follow_up(schedule, customer, first_site, ctx, start, Event::Arrive(job, plan));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dossier_domain::contact_point::{Phone, Region};

    #[test]
    fn the_demo_s_now_is_today_and_never_in_the_future() {
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        assert_eq!(anchor_for(at("2026-12-08T15:30:00Z")), at("2026-12-08T09:00:00Z"));
        assert_eq!(anchor_for(at("2026-12-08T04:30:00Z")), at("2026-12-08T03:00:00Z"));
        assert_eq!(anchor_for(at("2026-12-08T04:59:59Z")), anchor_for(at("2026-12-08T04:00:01Z")), "the same within an hour");
        assert_eq!(anchor_for(at("2026-12-08T00:20:00Z")), at("2026-12-08T00:00:00Z"));
    }

    #[test]
    fn generated_customers_are_valid_input() {
        let mut rng = StdRng::seed_from_u64(7);
        let anchor = today_at_nine();
        let calendar = Calendar::new(anchor - SignedDuration::from_hours(24 * 365 * 3), anchor, 2000);
        let mut joined = Vec::new();
        for customer in 0..2000 {
            let created_at = calendar.joined(&mut rng, customer);
            joined.push(created_at);
            let plan = CustomerPlan::generate(&mut rng, created_at, anchor, None);
            plan.input.clone().parse(Region::default(), &Definitions::default()).unwrap();
            for contact in &plan.contacts {
                contact.clone().parse(Region::default()).unwrap();
            }
            for site in &plan.sites {
                site.clone().parse(Region::default(), &Definitions::default()).unwrap();
            }
            assert!(plan.events.iter().all(|(at, _)| *at > plan.created_at && *at <= anchor), "events happen between joining and the demo's now");
        }
        assert!(joined.is_sorted(), "customers join in the order of their numbers");
        assert!(joined[0] >= calendar.start && joined[1999] < anchor);
        for _ in 0..2000 {
            Phone::parse("phone", &mobile(&mut rng), Region::default()).unwrap();
        }
    }
}
