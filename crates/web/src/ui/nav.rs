//! The page header: who is signed in, and the main navigation's links to
//! the pages their role may open (a fieldworker has no link to invoices,
//! payments or credit notes, nor to the settings).

use dossier_domain::permissions::Module;
use dossier_service::Ctx;

/// The signed-in person as every page's header shows them.
pub struct Viewer {
    pub name: String,
    /// The main navigation: `(path, label)`, only what the role may open.
    pub nav: Vec<(&'static str, &'static str)>,
}

/// Every link of the main navigation, with the module whose view it needs
/// (`None`: every member of staff).
const LINKS: [(&str, &str, Option<Module>); 12] = [
    ("/customers", "Customers", Some(Module::Customers)),
    ("/inquiries", "Inquiries", Some(Module::Inquiries)),
    ("/quotes", "Quotes", Some(Module::Quotes)),
    ("/jobs", "Jobs", Some(Module::Jobs)),
    ("/invoices", "Invoices", Some(Module::Invoices)),
    ("/payments", "Payments", Some(Module::Payments)),
    ("/credit-notes", "Credit notes", Some(Module::CreditNotes)),
    ("/my-jobs", "My jobs", Some(Module::Jobs)),
    ("/follow-ups", "Follow-ups", Some(Module::Messages)),
    // Staff who may write messages to any customer (not a fieldworker).
    ("/inbox", "Inbox", Some(Module::Messages)),
    // Everyone makes and revokes their own API tokens there.
    ("/admin", "Users and tokens", None),
    ("/settings", "Settings", Some(Module::Settings)),
];

impl Viewer {
    pub fn of(ctx: &Ctx) -> Self {
        let nav = LINKS
            .iter()
            .filter(|(path, _, module)| module.is_none_or(|m| ctx.sees(m)) && (*path != "/inbox" || dossier_service::sending::inbound::may_work_inbox(ctx)))
            .map(|(path, label, _)| (*path, *label))
            .collect();
        Viewer { name: ctx.actor.name.clone(), nav }
    }
}
