//! Building the activity rows that use cases append.

use dossier_domain::activity::{ActivityKind, EntityRef, NewActivity, Visibility};
use dossier_domain::diff::FieldChange;
use dossier_domain::ids::CustomerId;
use serde_json::{Value, json};

use crate::Ctx;

/// An internal activity by the caller, now.
pub(crate) fn activity(
    ctx: &Ctx,
    kind: ActivityKind,
    customer: Option<CustomerId>,
    subject: EntityRef,
    subject_code: Option<String>,
    summary: String,
    changes: Vec<FieldChange>,
) -> NewActivity {
    NewActivity {
        org_id: ctx.org.id,
        customer_id: customer,
        subject,
        subject_code,
        kind,
        actor: ctx.actor.clone(),
        occurred_at: ctx.now(),
        summary,
        changes,
        detail: json!({}),
        visibility: Visibility::Internal,
        also_links: Vec::new(),
    }
}

/// "email, phone and 2 more" for a summary line.
pub(crate) fn field_list(changes: &[FieldChange]) -> String {
    let mut fields: Vec<&str> = changes.iter().map(|c| c.field.split('.').next().unwrap_or(&c.field)).collect();
    fields.dedup();
    match fields.len() {
        0 => String::new(),
        1..=3 => fields.join(", "),
        n => format!("{} and {} more", fields[..2].join(", "), n - 2),
    }
}

pub(crate) fn with_detail(mut activity: NewActivity, detail: Value) -> NewActivity {
    activity.detail = detail;
    activity
}
