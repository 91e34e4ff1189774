//! Who may do what: the one permission matrix, role × module × action.
//!
//! The service layer asks [`access`] before every use case; `docs/permissions.md`
//! is generated from [`markdown`] (a test keeps it in step).

use crate::activity::EntityType;
use crate::customer::string_enum;
use crate::role::Role;

string_enum!(
    /// What a permission is about. `deleted_customers`: deleting a customer
    /// (`delete`), the Deleted page (`view`) and restoring from it (`edit`).
    /// `merges`: the Duplicates page (`view`), "not a duplicate", merging
    /// and undoing a merge (`edit`).
    Module {
        Customers = "customers",
        Timeline = "timeline",
        Messages = "messages",
        Files = "files",
        Inquiries = "inquiries",
        Quotes = "quotes",
        Jobs = "jobs",
        Invoices = "invoices",
        Payments = "payments",
        CreditNotes = "credit_notes",
        Statements = "statements",
        PortalLinks = "portal_links",
        Users = "users",
        Settings = "settings",
        Audit = "audit",
        CustomFields = "custom_fields",
        Tasks = "tasks",
        // Erasing a customer's personal data (`delete`) and exporting it (`export`).
        PersonalData = "personal_data",
        DeletedCustomers = "deleted_customers",
        // Duplicates (`view`), dismissing a pair, merging and undoing a
        // merge (`edit`): owners and admins, as merging moves money records.
        Merges = "merges",
    }
);

string_enum!(
    /// What the caller wants to do.
    Action { View = "view", Create = "create", Edit = "edit", Delete = "delete", Export = "export" }
);

/// How much of a module a role reaches for an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    None,
    /// Only what the caller is assigned to (a fieldworker's jobs, and the
    /// customers, sites and contacts behind them).
    Assigned,
    All,
}

/// The matrix. Each role lists, per module, the actions it has in full;
/// a fieldworker's are limited to what is assigned to them.
pub fn access(role: Role, module: Module, action: Action) -> Access {
    use Action::*;
    use Module::*;
    let actions: &[Action] = match (role, module) {
        (Role::Owner | Role::Admin, _) => &[View, Create, Edit, Delete, Export],
        (Role::Office, Customers | Inquiries | Quotes | Jobs | Messages | Files) => &[View, Create, Edit, Delete, Export],
        (Role::Office, Invoices | Payments | CreditNotes) => &[View, Create, Edit],
        (Role::Office, Timeline | Statements) => &[View, Export],
        // Staff read the org's settings (its tax rates, terms, formats); owners and admins change them.
        (Role::Office | Role::Finance | Role::Sales | Role::Support, Settings) => &[View],
        (Role::Office | Role::Finance, PortalLinks) => &[View, Create, Delete],
        (Role::Support, PortalLinks) => &[View, Create],
        (Role::Finance, Invoices | Payments | CreditNotes | Statements) => &[View, Create, Edit, Delete, Export],
        (Role::Finance, Customers) => &[View, Edit, Export],
        (Role::Finance | Role::Sales | Role::Support, Messages) => &[View, Create, Edit],
        (Role::Finance | Role::Sales | Role::Support, Files) => &[View, Create],
        (Role::Finance, Timeline | Inquiries | Quotes | Jobs) => &[View],
        (Role::Sales, Customers | Inquiries | Quotes) => &[View, Create, Edit],
        (Role::Sales, Jobs) => &[View, Create],
        (Role::Sales, Timeline | Invoices) => &[View],
        (Role::Support, Customers | Inquiries | Jobs) => &[View, Create, Edit],
        (Role::Support, Timeline | Quotes | Invoices | Payments | CreditNotes | Statements) => &[View],
        // Every member of staff reads the definitions their forms are made of.
        (Role::Office | Role::Finance | Role::Sales | Role::Support | Role::Fieldworker, CustomFields) => &[View],
        (Role::Fieldworker, Jobs) => return if matches!(action, View | Edit) { Access::Assigned } else { Access::None },
        // A fieldworker reads and adds the notes and messages of their own jobs.
        (Role::Fieldworker, Messages) => return if matches!(action, View | Create | Edit) { Access::Assigned } else { Access::None },
        // …and the photos and files of their own jobs.
        (Role::Fieldworker, Files) => return if matches!(action, View | Create) { Access::Assigned } else { Access::None },
        (Role::Fieldworker, Customers | Timeline) => return if action == View { Access::Assigned } else { Access::None },
        _ => &[],
    };
    if actions.contains(&action) { Access::All } else { Access::None }
}

/// The module a kind of record belongs to: who may see a timeline entry
/// about it.
pub fn module_of(entity: EntityType) -> Module {
    match entity {
        EntityType::Org | EntityType::User | EntityType::ApiToken => Module::Users,
        EntityType::Customer | EntityType::Contact | EntityType::Site => Module::Customers,
        EntityType::Inquiry => Module::Inquiries,
        EntityType::Quote => Module::Quotes,
        EntityType::Job => Module::Jobs,
        EntityType::Invoice => Module::Invoices,
        EntityType::Payment => Module::Payments,
        EntityType::CreditNote => Module::CreditNotes,
        EntityType::PortalLink => Module::PortalLinks,
        EntityType::Message | EntityType::FollowUp | EntityType::InboxItem => Module::Messages,
        EntityType::File => Module::Files,
        EntityType::CustomField => Module::CustomFields,
        EntityType::Task => Module::Tasks,
    }
}

/// The matrix as a Markdown table per role, for `docs/permissions.md`.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Permissions\n\nGenerated from `crates/domain/src/permissions.rs` (a test fails if this file is out of date; \
         regenerate with `UPDATE_PERMISSIONS=1 cargo nextest run -E 'test(docs_permissions)'`).\n\n\
         ✓ all records · ◐ only records assigned to the caller: a fieldworker's jobs, and the customers (with their \
         contacts and sites) those jobs are for; anything else answers 404 as if it did not exist · blank: refused (403 `forbidden`). Operator commands (CLI, demo) act as the system and reach \
         everything.\n\n\
         A timeline shows only entries about records of modules the caller may view (a fieldworker: their customers' \
         profile changes and their own jobs); a customer summary leaves out the bars and balances of modules the caller \
         may not view.\n\n",
    );
    for role in Role::ALL {
        out.push_str(&format!("## {role}\n\n| module |"));
        for action in Action::ALL {
            out.push_str(&format!(" {action} |"));
        }
        out.push_str("\n| --- |");
        out.push_str(&" :---: |".repeat(Action::ALL.len()));
        out.push('\n');
        for module in Module::ALL {
            out.push_str(&format!("| {module} |"));
            for action in Action::ALL {
                out.push_str(match access(*role, *module, *action) {
                    Access::All => " ✓ |",
                    Access::Assigned => " ◐ |",
                    Access::None => " |",
                });
            }
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fieldworkers_never_reach_money_and_only_their_own_jobs() {
        for module in [
            Module::Invoices,
            Module::Payments,
            Module::CreditNotes,
            Module::Statements,
            Module::Quotes,
            Module::PortalLinks,
            Module::Users,
            Module::Settings,
            Module::Audit,
        ] {
            for action in Action::ALL {
                assert_eq!(access(Role::Fieldworker, module, *action), Access::None, "{module} {action}");
            }
        }
        assert_eq!(access(Role::Fieldworker, Module::Jobs, Action::View), Access::Assigned);
        assert_eq!(access(Role::Fieldworker, Module::Jobs, Action::Delete), Access::None);
    }

    #[test]
    fn only_owners_and_admins_manage_users_and_audit() {
        for role in Role::ALL {
            let expected = if matches!(role, Role::Owner | Role::Admin) { Access::All } else { Access::None };
            assert_eq!(access(*role, Module::Users, Action::Edit), expected, "{role}");
            assert_eq!(access(*role, Module::Audit, Action::View), expected, "{role}");
            assert_eq!(access(*role, Module::Settings, Action::Edit), expected, "{role}");
            for action in [Action::View, Action::Edit, Action::Delete] {
                assert_eq!(access(*role, Module::DeletedCustomers, action), expected, "{role} {action}");
                assert_eq!(access(*role, Module::Merges, action), expected, "{role} {action}");
            }
        }
    }
}
