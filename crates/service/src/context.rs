//! Who is asking, for which org, and what time it is for them.

use std::collections::BTreeMap;

use dossier_domain::activity::{Actor, ActorType};
use dossier_domain::code::CodeKind;
use dossier_domain::contact_point::Region;
use dossier_domain::currency::{Currency, MoneyStyle, NumberFormat};
use dossier_domain::ids::{OrgId, UserId};
use dossier_domain::orgs::{DateFormat, TaxRateSetting};
use dossier_domain::permissions::{self, Access, Action, Module};
use dossier_domain::role::Role;
use dossier_domain::terms::PaymentTerms;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use uuid::Uuid;

/// The org a request acts within.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    /// Default region for phone numbers and country for addresses.
    pub region: Region,
    /// ISO 4217 code of the currency all amounts are in.
    pub currency: String,
    /// IANA time zone: decides what "today" is (due dates, overdue).
    pub timezone: String,
    /// Payment terms of customers that have none of their own.
    pub payment_terms: PaymentTerms,
    /// Postal address lines, for documents.
    pub address: Vec<String>,
    /// How dates are written on pages, documents and in the portal.
    pub date_format: DateFormat,
    /// How amounts are written: digit grouping and decimal separator.
    pub number_format: NumberFormat,
    /// Named tax rates; a line without a rate gets the default one.
    pub tax_rates: Vec<TaxRateSetting>,
    /// Prefixes the org chose for its series (the others keep their own).
    pub code_prefixes: BTreeMap<CodeKind, String>,
}

impl Org {
    /// The prefix new records of `kind` get.
    pub fn prefix(&self, kind: CodeKind) -> &str {
        dossier_domain::orgs::prefix_of(&self.code_prefixes, kind)
    }

    /// The code a new record of `kind` numbered `number` gets.
    pub fn code(&self, kind: CodeKind, number: i64) -> String {
        dossier_domain::code::code_text(self.prefix(kind), number)
    }

    /// How this org's amounts are written and read.
    pub fn money_style(&self) -> MoneyStyle {
        MoneyStyle::new(Currency::of(&self.currency).unwrap_or(Currency::GBP), self.number_format)
    }

    /// A date as this org writes it.
    pub fn date(&self, date: Date) -> String {
        self.date_format.show(date)
    }

    /// The org's time zone (UTC if this machine does not know it).
    pub fn zone(&self) -> TimeZone {
        TimeZone::get(&self.timezone).unwrap_or(TimeZone::UTC)
    }
}

/// The caller of a use case: every service function takes one, so the org
/// is never forgotten.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub org: Org,
    pub actor: Actor,
    pub user_id: Option<UserId>,
    pub role: Option<Role>,
    clock: Option<Timestamp>,
}

impl Ctx {
    pub fn new(org: Org, actor: Actor, user_id: Option<UserId>, role: Option<Role>) -> Self {
        Self { org, actor, user_id, role, clock: None }
    }

    /// The system acting on its own (CLI, background work).
    pub fn system(org: Org, name: &str) -> Self {
        let mut actor = Actor::system();
        actor.name = name.to_owned();
        Self::new(org, actor, None, None)
    }

    /// The same caller at a fixed time: for recording history that happened
    /// earlier (imports, demo data).
    pub fn at(&self, when: Timestamp) -> Self {
        Self { clock: Some(when), ..self.clone() }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.unwrap_or_else(Timestamp::now)
    }

    /// How far this caller reaches `module` for `action`, or 403 if not at
    /// all. Callers without a role (the system: CLI, demo) reach everything.
    /// `Assigned` access is narrowed by [`crate::scope`].
    pub fn require(&self, module: Module, action: Action) -> crate::Result<Access> {
        match self.access(module, action) {
            Access::None => Err(crate::ServiceError::Forbidden { module: module.as_str(), action: action.as_str() }),
            access => Ok(access),
        }
    }

    pub fn access(&self, module: Module, action: Action) -> Access {
        self.role.map_or(Access::All, |role| permissions::access(role, module, action))
    }

    /// Whether the caller did what `author` did (the same user, in the web
    /// app or with their token) or administers the org (or is the system):
    /// who may change or delete a message or a file.
    pub fn is_author_or_admin(&self, author: &Actor) -> bool {
        let same = matches!(author.kind, ActorType::User | ActorType::Api) && author.id.is_some() && author.id == self.actor.id;
        same || self.role.is_none_or(|role| matches!(role, Role::Owner | Role::Admin))
    }

    /// Whether the caller may see any of `module`'s records.
    pub fn sees(&self, module: Module) -> bool {
        self.access(module, Action::View) != Access::None
    }

    /// Whether the caller may see amounts of money at all: those who see
    /// invoices do. Anyone else (a fieldworker) gets no amount in any
    /// answer: no job value, no bar total, no amount in a timeline entry.
    pub fn sees_money(&self) -> bool {
        self.sees(Module::Invoices)
    }

    /// The org's currency for a caller who sees money, to render amounts in.
    pub fn money_currency(&self) -> Option<&str> {
        self.sees_money().then_some(self.org.currency.as_str())
    }

    /// The user whose assignments bound what the caller sees of `module`,
    /// if they are so bounded (a fieldworker and jobs or customers).
    pub fn assigned_only(&self, module: Module) -> Option<Uuid> {
        // A role bounded by assignments but no user sees nothing: the nil id
        // is assigned to no job.
        (self.access(module, Action::View) == Access::Assigned).then(|| self.user_id.map_or(Uuid::nil(), |u| u.0))
    }

    /// Today's date in the org's time zone (UTC if the zone is unknown).
    pub fn today(&self) -> Date {
        self.now().to_zoned(self.org.zone()).date()
    }
}
