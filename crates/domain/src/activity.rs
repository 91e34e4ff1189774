//! The activity log's shape: kinds, groups, actors, links, and the canonical
//! form that the tamper-evident hash chain is computed over.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::customer::string_enum;
use crate::diff::FieldChange;
use crate::ids::{ActivityId, CustomerId, OrgId};

string_enum!(
    /// The timeline's predefined groupings.
    ActivityGroup { Works = "works", Billing = "billing", Communication = "communication", Profile = "profile", Portal = "portal", System = "system" }
);

string_enum!(
    /// Who did it.
    ActorType { User = "user", System = "system", Customer = "customer", Api = "api" }
);

string_enum!(
    /// Internal entries are for staff only; customer entries may show in the portal.
    Visibility { Internal = "internal", Customer = "customer" }
);

string_enum!(
    /// The kinds of thing an activity can concern.
    EntityType {
        Org = "org",
        User = "user",
        ApiToken = "api_token",
        Customer = "customer",
        Contact = "contact",
        Site = "site",
        Inquiry = "inquiry",
        Quote = "quote",
        Job = "job",
        Invoice = "invoice",
        Payment = "payment",
        CreditNote = "credit_note",
        PortalLink = "portal_link",
        Message = "message",
        FollowUp = "follow_up",
        File = "file",
        CustomField = "custom_field",
        Task = "task",
        InboxItem = "inbox_item",
    }
);

string_enum!(
    /// What happened.
    ActivityKind {
        OrgCreated = "org.created",
        OrgSettingsChanged = "org.settings_changed",
        UserCreated = "user.created",
        ApiTokenCreated = "api_token.created",
        UserInvited = "user.invited",
        UserInvitationSent = "user.invitation_sent",
        UserInvitationFailed = "user.invitation_failed",
        UserUpdated = "user.updated",
        UserPasswordSet = "user.password_set",
        UserRoleChanged = "user.role_changed",
        UserDeactivated = "user.deactivated",
        UserReactivated = "user.reactivated",
        UserSignedIn = "user.signed_in",
        UserSignInFailed = "user.sign_in_failed",
        UserLockedOut = "user.locked_out",
        UserSignedOut = "user.signed_out",
        ApiTokenRevoked = "api_token.revoked",
        PortalLinkCreated = "portal_link.created",
        PortalLinkRevoked = "portal_link.revoked",
        CustomerCreated = "customer.created",
        CustomerImported = "customer.imported",
        CustomerUpdated = "customer.updated",
        CustomerStatusChanged = "customer.status_changed",
        CustomerLabelsChanged = "customer.labels_changed",
        CustomerBlockOverridden = "customer.block_overridden",
        CustomerErased = "customer.erased",
        CustomerDeleted = "customer.deleted",
        CustomerRestored = "customer.restored",
        CustomerMerged = "customer.merged",
        CustomerMergeUndone = "customer.merge_undone",
        CustomerDuplicateDismissed = "customer.duplicate_dismissed",
        CustomerDataExported = "customer.data_exported",
        ContactCreated = "contact.created",
        ContactUpdated = "contact.updated",
        ContactDeleted = "contact.deleted",
        SiteCreated = "site.created",
        SiteUpdated = "site.updated",
        SiteDeleted = "site.deleted",
        InquiryCreated = "inquiry.created",
        InquiryStatusChanged = "inquiry.status_changed",
        InquiryConverted = "inquiry.converted",
        QuoteCreated = "quote.created",
        QuoteStatusChanged = "quote.status_changed",
        QuoteEdited = "quote.edited",
        JobCreated = "job.created",
        JobStatusChanged = "job.status_changed",
        InvoiceCreated = "invoice.created",
        InvoiceIssued = "invoice.issued",
        InvoiceVoided = "invoice.voided",
        InvoiceClosed = "invoice.closed",
        InvoiceEdited = "invoice.edited",
        InvoiceReopened = "invoice.reopened",
        PaymentReceived = "payment.received",
        PaymentAllocated = "payment.allocated",
        PaymentUnallocated = "payment.unallocated",
        PaymentRefunded = "payment.refunded",
        CreditNoteIssued = "credit_note.issued",
        CreditNoteAllocated = "credit_note.allocated",
        CreditNoteUnallocated = "credit_note.unallocated",
        CreditNoteRefunded = "credit_note.refunded",
        MessagePosted = "message.posted",
        MessageEdited = "message.edited",
        MessageDeleted = "message.deleted",
        MessagePinned = "message.pinned",
        MessageUnpinned = "message.unpinned",
        MessageQueued = "message.queued",
        MessageHeld = "message.held",
        MessageSent = "message.sent",
        MessageDelivered = "message.delivered",
        MessageBounced = "message.bounced",
        MessageFailed = "message.failed",
        MessageCancelled = "message.cancelled",
        MessageReceived = "message.received",
        MessageNotSent = "message.not_sent",
        FollowUpCreated = "follow_up.created",
        FollowUpDone = "follow_up.done",
        FollowUpCancelled = "follow_up.cancelled",
        FollowUpRescheduled = "follow_up.rescheduled",
        FileAttached = "file.attached",
        FileDeleted = "file.deleted",
        JobUpdated = "job.updated",
        CustomFieldDefined = "custom_field.defined",
        CustomFieldUpdated = "custom_field.updated",
        CustomFieldsReordered = "custom_field.reordered",
        CustomFieldRemoved = "custom_field.removed",
        TaskRetried = "task.retried",
        TaskCancelled = "task.cancelled",
        TemplateChanged = "template.changed",
        TemplateReset = "template.reset",
        InboxDismissed = "inbox.dismissed",
    }
);

impl ActivityKind {
    /// The timeline grouping an activity of this kind belongs to.
    pub fn group(self) -> ActivityGroup {
        use ActivityKind::*;
        match self {
            OrgCreated | OrgSettingsChanged | TemplateChanged | TemplateReset | UserCreated | ApiTokenCreated | UserInvited | UserInvitationSent
            | UserInvitationFailed | UserUpdated | UserPasswordSet | UserRoleChanged | UserDeactivated | UserReactivated | UserSignedIn | UserSignInFailed
            | UserLockedOut | UserSignedOut | ApiTokenRevoked => ActivityGroup::System,
            CustomFieldDefined | CustomFieldUpdated | CustomFieldsReordered | CustomFieldRemoved => ActivityGroup::System,
            TaskRetried | TaskCancelled => ActivityGroup::System,
            InboxDismissed => ActivityGroup::Communication,
            PortalLinkCreated | PortalLinkRevoked => ActivityGroup::Portal,
            CustomerCreated
            | CustomerImported
            | CustomerUpdated
            | CustomerStatusChanged
            | CustomerLabelsChanged
            | CustomerErased
            | CustomerDeleted
            | CustomerRestored
            | CustomerMerged
            | CustomerMergeUndone
            | CustomerDuplicateDismissed
            | CustomerDataExported
            | ContactCreated
            | ContactUpdated
            | ContactDeleted
            | SiteCreated
            | SiteUpdated
            | SiteDeleted => ActivityGroup::Profile,
            InquiryCreated
            | InquiryStatusChanged
            | InquiryConverted
            | QuoteCreated
            | QuoteStatusChanged
            | QuoteEdited
            | JobCreated
            | JobStatusChanged
            | JobUpdated
            | CustomerBlockOverridden => ActivityGroup::Works,
            InvoiceCreated
            | InvoiceIssued
            | InvoiceVoided
            | InvoiceClosed
            | InvoiceEdited
            | InvoiceReopened
            | PaymentReceived
            | PaymentAllocated
            | PaymentUnallocated
            | PaymentRefunded
            | CreditNoteIssued
            | CreditNoteAllocated
            | CreditNoteUnallocated
            | CreditNoteRefunded => ActivityGroup::Billing,
            MessagePosted | MessageEdited | MessageDeleted | MessagePinned | MessageUnpinned => ActivityGroup::Communication,
            MessageQueued | MessageHeld | MessageSent | MessageDelivered | MessageBounced | MessageFailed | MessageCancelled | MessageReceived
            | MessageNotSent => ActivityGroup::Communication,
            FollowUpCreated | FollowUpDone | FollowUpCancelled | FollowUpRescheduled => ActivityGroup::Communication,
            FileAttached | FileDeleted => ActivityGroup::Communication,
        }
    }

    /// The kinds the History tab shows: field edits of the customer's
    /// profile (a merge and its undoing change the survivor's fields too).
    pub const PROFILE_EDITS: &'static [ActivityKind] =
        &[ActivityKind::CustomerUpdated, ActivityKind::CustomerLabelsChanged, ActivityKind::CustomerMerged, ActivityKind::CustomerMergeUndone];
}

/// Who did something: a user, the system, the customer (portal) or an API client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: ActorType,
    pub id: Option<Uuid>,
    pub name: String,
}

impl Actor {
    pub fn system() -> Self {
        Self { kind: ActorType::System, id: None, name: "Dossier".to_owned() }
    }
}

/// One entity an activity concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EntityRef {
    #[serde(rename = "type")]
    pub entity: EntityType,
    pub id: Uuid,
}

impl EntityRef {
    pub fn new(entity: EntityType, id: impl Into<Uuid>) -> Self {
        Self { entity, id: id.into() }
    }
}

/// An activity about to be appended.
#[derive(Clone, Debug, PartialEq)]
pub struct NewActivity {
    pub org_id: OrgId,
    pub customer_id: Option<CustomerId>,
    pub subject: EntityRef,
    /// The subject's human code or name, e.g. `CUS-00001`.
    pub subject_code: Option<String>,
    pub kind: ActivityKind,
    pub actor: Actor,
    pub occurred_at: Timestamp,
    pub summary: String,
    pub changes: Vec<FieldChange>,
    /// Anything else worth keeping: a reason, amounts. A JSON object.
    pub detail: Value,
    pub visibility: Visibility,
    /// Every entity this concerns beyond the subject and customer (which are
    /// always linked), e.g. the site a contact change touched.
    pub also_links: Vec<EntityRef>,
}

impl NewActivity {
    /// All entities to link: the subject, the customer and the extra links,
    /// sorted and without repeats.
    pub fn links(&self) -> Vec<EntityRef> {
        let mut links = vec![self.subject];
        if let Some(customer) = self.customer_id {
            links.push(EntityRef::new(EntityType::Customer, customer.0));
        }
        links.extend(self.also_links.iter().copied());
        links.sort();
        links.dedup();
        links
    }
}

/// An activity as the timeline shows it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Activity {
    pub id: ActivityId,
    pub customer_id: Option<CustomerId>,
    pub subject: EntityRef,
    pub subject_code: Option<String>,
    pub kind: ActivityKind,
    pub group: ActivityGroup,
    pub actor: Actor,
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: Timestamp,
    pub summary: String,
    pub changes: Vec<FieldChange>,
    #[schema(value_type = Object)]
    pub detail: Value,
    pub visibility: Visibility,
    /// The customer's personal data was erased: summary, changes and detail
    /// are a tombstone; when, what kind and who (staff) remain.
    pub erased: bool,
}

/// The stored content of one activity row, exactly as it is hashed.
/// Field order is the canonical order: never reorder, only append fields
/// behind a new `version`.
#[derive(Clone, Debug, Serialize)]
pub struct ActivityContent<'a> {
    pub version: u8,
    pub id: Uuid,
    pub org_id: Uuid,
    pub seq: i64,
    pub customer_id: Option<Uuid>,
    pub subject_type: &'a str,
    pub subject_id: Uuid,
    pub subject_code: Option<&'a str>,
    pub kind: &'a str,
    pub group: &'a str,
    pub actor_type: &'a str,
    pub actor_id: Option<Uuid>,
    pub actor_name: &'a str,
    pub occurred_at: i64,
    pub summary: &'a str,
    pub changes: &'a str,
    pub detail: &'a str,
    pub visibility: &'a str,
    pub links: &'a str,
}

/// The chain hash before an org's first activity.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

impl ActivityContent<'_> {
    /// SHA-256 of the canonical JSON of this content.
    pub fn hash(&self) -> [u8; 32] {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(&bytes).into()
    }
}

/// The chain hash of a row: SHA-256 of the previous row's chain hash and this
/// row's content hash. Erasing personal data later replaces the content but
/// keeps its content hash, so the chain still verifies.
pub fn chain_hash(previous: &[u8], content_hash: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(content_hash);
    hasher.finalize().into()
}

/// Links in their stored, hashed form: `customer:<uuid> site:<uuid>`.
pub fn links_text(links: &[EntityRef]) -> String {
    links.iter().map(|l| format!("{}:{}", l.entity, l.id)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(summary: &str) -> ActivityContent<'_> {
        ActivityContent {
            version: 1,
            id: Uuid::nil(),
            org_id: Uuid::nil(),
            seq: 1,
            customer_id: None,
            subject_type: "customer",
            subject_id: Uuid::nil(),
            subject_code: Some("CUS-00001"),
            kind: "customer.created",
            group: "profile",
            actor_type: "system",
            actor_id: None,
            actor_name: "Dossier",
            occurred_at: 0,
            summary,
            changes: "[]",
            detail: "{}",
            visibility: "internal",
            links: "",
        }
    }

    #[test]
    fn any_change_of_content_changes_the_hash_and_the_chain() {
        let a = content("Customer created");
        let b = content("Customer created!");
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.hash(), content("Customer created").hash());
        assert_ne!(chain_hash(&GENESIS_HASH, &a.hash()), chain_hash(&[1; 32], &a.hash()));
    }

    #[test]
    fn every_kind_has_a_group_and_round_trips_as_text() {
        for kind in ActivityKind::ALL {
            assert_eq!(ActivityKind::parse(kind.as_str()), Some(*kind));
            let _ = kind.group();
        }
    }
}
