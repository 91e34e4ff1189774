//! Outbound email: an org's mail server settings and what each queued
//! email carries.

use uuid::Uuid;

use crate::{Handle, Result, run};

/// An org's mail server as stored. The password is a secret: this row's
/// `Debug` leaves it out.
#[derive(Clone, sqlx::FromRow)]
pub struct SmtpRow {
    pub org_id: Uuid,
    pub sender_name: String,
    pub sender_address: String,
    pub host: String,
    pub port: i32,
    pub tls: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub updated_at: i64,
}

impl std::fmt::Debug for SmtpRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpRow")
            .field("org_id", &self.org_id)
            .field("sender_address", &self.sender_address)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

pub async fn get_smtp(h: &mut Handle<'_>, org_id: Uuid) -> Result<Option<SmtpRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM smtp_settings WHERE org_id = $1").bind(org_id).fetch_optional(c).await?))
}

/// Set an org's mail server (insert or replace).
pub async fn put_smtp(h: &mut Handle<'_>, row: &SmtpRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO smtp_settings (org_id, sender_name, sender_address, host, port, tls, username, password, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (org_id) DO UPDATE SET sender_name = excluded.sender_name, sender_address = excluded.sender_address,
           host = excluded.host, port = excluded.port, tls = excluded.tls, username = excluded.username,
           password = excluded.password, updated_at = excluded.updated_at")
        .bind(row.org_id).bind(&row.sender_name).bind(&row.sender_address).bind(&row.host).bind(row.port).bind(&row.tls)
        .bind(&row.username).bind(&row.password).bind(row.updated_at)
        .execute(c).await.map(drop)?);
    Ok(())
}

/// One thing an email carries: a file, or a document made when it is sent.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct EmailAttachmentRow {
    pub org_id: Uuid,
    pub message_id: Uuid,
    pub position: i32,
    pub file_id: Option<Uuid>,
    pub document: Option<String>,
    pub record_id: Option<Uuid>,
}

pub async fn insert_email_attachments(h: &mut Handle<'_>, rows: &[EmailAttachmentRow]) -> Result<()> {
    for row in rows {
        run!(h, c => sqlx::query(
            "INSERT INTO email_attachment (org_id, message_id, position, file_id, document, record_id) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(row.org_id).bind(row.message_id).bind(row.position).bind(row.file_id).bind(&row.document).bind(row.record_id)
            .execute(c).await.map(drop)?);
    }
    Ok(())
}

/// What an email carries, in order.
pub async fn email_attachments(h: &mut Handle<'_>, org_id: Uuid, message_id: Uuid) -> Result<Vec<EmailAttachmentRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM email_attachment WHERE org_id = $1 AND message_id = $2 ORDER BY position")
        .bind(org_id).bind(message_id).fetch_all(c).await?))
}
