//! Erasing a customer's personal data from every table that holds it, and
//! tombstoning the activity rows about them. The service decides what and
//! when (`dossier_service::customers::erasure`); these statements are the
//! how. Amounts, dates, numbers and codes stay: the law keeps them.

use uuid::Uuid;

use crate::{Handle, Result, run};

/// What a tombstone holds instead of the summary.
pub use dossier_domain::chain::ERASED_SUMMARY;

/// The name an erased contact, message author or file keeps.
pub const ERASED_NAME: &str = "Erased";

/// Blank the personal data of everything the customer owns: contacts,
/// sites, works' free text, invoice notes, messages, files (marked deleted,
/// so their content goes at the next sweep), follow-ups, assigned inbox
/// items and automated-send reasons; revoke its portal links and cancel
/// what waits to be sent to it. The customer row itself is the service's.
pub async fn erase_owned(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid, at: i64, by: &str) -> Result<()> {
    let statements: &[&str] = &[
        "UPDATE contact SET title = NULL, given_name = NULL, family_name = 'Erased', position = NULL, emails = '[]', phones = '[]', urls = '[]', \
         communication = NULL, updated_at = $3 WHERE org_id = $1 AND customer_id = $2",
        "UPDATE site SET name = NULL, address_line1 = 'Erased', address_line2 = NULL, town = NULL, region = NULL, postcode = '', latitude = NULL, \
         longitude = NULL, access_notes = NULL, custom_fields = '{}', updated_at = $3 WHERE org_id = $1 AND customer_id = $2",
        "UPDATE inquiry SET description = NULL, updated_at = $3 WHERE org_id = $1 AND customer_id = $2",
        "UPDATE job SET description = NULL, completion_notes = NULL, custom_fields = '{}', updated_at = $3 WHERE org_id = $1 AND customer_id = $2",
        "UPDATE invoice SET notes = NULL WHERE org_id = $1 AND customer_id = $2",
        "UPDATE message SET delivery_status = 'cancelled', delivery_updated_at = $3 WHERE org_id = $1 AND customer_id = $2 \
         AND delivery_status IN ('held', 'queued')",
        "UPDATE message SET subject = NULL, body = '', recipients = NULL, delivery_detail = NULL, \
         author_name = CASE WHEN author_type = 'customer' THEN 'Erased' ELSE author_name END WHERE org_id = $1 AND customer_id = $2",
        "UPDATE follow_up SET title = 'Erased', notes = NULL WHERE org_id = $1 AND customer_id = $2",
        "UPDATE portal_link SET revoked_at = $3 WHERE org_id = $1 AND customer_id = $2 AND revoked_at IS NULL",
        "UPDATE inbox_item SET from_address = '', from_name = NULL, subject = NULL, excerpt = '', raw_text = NULL \
         WHERE org_id = $1 AND assigned_customer_id = $2",
        "UPDATE automated_send SET reason = NULL WHERE org_id = $1 AND customer_id = $2",
        "DELETE FROM customer_search WHERE org_id = $1 AND customer_id = $2",
        // A deleted customer's terms, set aside until it is restored.
        "DELETE FROM customer_search_deleted WHERE org_id = $1 AND customer_id = $2",
        // What an import knew it by: a row's fingerprint is a hash of the
        // person's data, a reference their id elsewhere.
        "DELETE FROM import_key WHERE org_id = $1 AND customer_id = $2",
    ];
    for sql in statements {
        // PostgreSQL refuses a parameter the statement does not use.
        run!(h, c => {
            let query = sqlx::query(*sql).bind(org_id).bind(customer_id);
            let query = if sql.contains("$3") { query.bind(at) } else { query };
            query.execute(&mut *c).await.map(drop)?
        });
    }
    run!(h, c => sqlx::query(
        "UPDATE file SET name = 'erased', deleted_at = COALESCE(deleted_at, $3), deleted_by = COALESCE(deleted_by, $4) WHERE org_id = $1 AND customer_id = $2")
        .bind(org_id).bind(customer_id).bind(at).bind(by).execute(&mut *c).await.map(drop)?);
    Ok(())
}

/// One activity row an erasure tombstones.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ErasableRow {
    pub seq: i64,
    pub id: Uuid,
    pub content_hash: Vec<u8>,
}

/// The rows about the customer not tombstoned yet, in chain order: every
/// row linked to them but an erasure's own.
pub async fn erasable_rows(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid) -> Result<Vec<ErasableRow>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT a.seq, a.id, a.content_hash FROM activity_link l JOIN activity a ON a.org_id = l.org_id AND a.id = l.activity_id \
         WHERE l.org_id = $1 AND l.entity_type = 'customer' AND l.entity_id = $2 AND a.erased_by IS NULL AND a.kind <> 'customer.erased' ORDER BY a.seq")
        .bind(org_id).bind(customer_id).fetch_all(c).await?))
}

/// Replace the content of the rows [`erasable_rows`] found up to `upto`
/// with a tombstone naming `erasure`; answers how many were replaced. The
/// kind, time, subject, links and a staff actor stay; a customer actor's
/// name goes.
pub async fn tombstone_rows(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid, upto: i64, erasure: Uuid) -> Result<u64> {
    Ok(run!(h, c => sqlx::query(
        "UPDATE activity SET summary = $4, changes = '[]', detail = '{}', \
         actor_name = CASE WHEN actor_type = 'customer' THEN 'Customer' ELSE actor_name END, erased_by = $5 \
         WHERE org_id = $1 AND seq <= $3 AND erased_by IS NULL AND kind <> 'customer.erased' \
         AND id IN (SELECT activity_id FROM activity_link WHERE org_id = $1 AND entity_type = 'customer' AND entity_id = $2)")
        .bind(org_id).bind(customer_id).bind(upto).bind(ERASED_SUMMARY).bind(erasure).execute(c).await?.rows_affected()))
}

/// Which of `ids` are erasures recorded after sequence number `after`.
pub async fn erasures_after(h: &mut Handle<'_>, org_id: Uuid, after: i64, ids: &[Uuid]) -> Result<std::collections::HashSet<Uuid>> {
    let mut found = std::collections::HashSet::new();
    for id in ids {
        let later: Option<Uuid> = run!(h, c => sqlx::query_scalar("SELECT id FROM activity WHERE org_id = $1 AND id = $2 AND seq > $3 AND kind = 'customer.erased'")
            .bind(org_id).bind(*id).bind(after).fetch_optional(c).await?);
        found.extend(later);
    }
    Ok(found)
}

/// Mark the customer erased at `at`.
pub async fn mark_erased(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid, at: i64) -> Result<()> {
    run!(h, c => sqlx::query("UPDATE customer SET erased_at = $3 WHERE org_id = $1 AND id = $2").bind(org_id).bind(customer_id).bind(at).execute(c).await.map(drop)?);
    Ok(())
}
