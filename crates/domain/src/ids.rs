//! Typed ids: a customer id can never be passed where a site id is expected.
//!
//! All ids are UUIDv7, so they sort by creation time.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// A business using Dossier (a tenant). Every row carries one.
    OrgId
);
id_type!(UserId);
id_type!(ApiTokenId);
id_type!(SessionId);
id_type!(PortalLinkId);
id_type!(CustomerId);
id_type!(ContactId);
id_type!(SiteId);
id_type!(InquiryId);
id_type!(QuoteId);
id_type!(JobId);
id_type!(InvoiceId);
id_type!(PaymentId);
id_type!(CreditNoteId);
id_type!(
    /// Part of a payment or credit note set against one invoice.
    AllocationId
);
id_type!(
    /// Money returned to the customer from a payment or credit note.
    RefundId
);
id_type!(
    /// A note, logged call, email, SMS, WhatsApp or portal message, or letter.
    MessageId
);
id_type!(
    /// A task with a due day: call back, send the quote, chase the payment.
    FollowUpId
);
id_type!(
    /// A file attached to a customer, a record or a message.
    FileId
);
id_type!(
    /// A custom field an org defined for customers, sites or jobs.
    CustomFieldId
);
id_type!(
    /// A background task: work queued to happen later (see `tasks`).
    TaskId
);
id_type!(
    /// Built from the activity's `occurred_at`, so id order is time order.
    ActivityId
);

impl ActivityId {
    /// An activity id whose time part is `at`: ordering by id orders by time
    /// even for history recorded after the fact (imports, demo data).
    pub fn at(at: jiff::Timestamp) -> Self {
        let micros = at.as_microsecond();
        let secs = micros.div_euclid(1_000_000) as u64;
        let nanos = (micros.rem_euclid(1_000_000) * 1000) as u32;
        Self(Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, secs, nanos)))
    }
}
