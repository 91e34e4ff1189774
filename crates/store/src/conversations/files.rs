//! Files: what names each blob, attached to what.

use std::collections::HashSet;

use dossier_domain::activity::{Actor, ActorType, Visibility};
use dossier_domain::file::{MediaType, StoredFile};
use dossier_domain::ids::{CustomerId, FileId, MessageId};
use dossier_domain::message::{Deletion, RecordRef, RecordType};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::words::FILE_WORDS;
use crate::customers::timestamp;
use crate::{Handle, Result, StoreError, run};

/// A file as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FileRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub customer_id: Uuid,
    pub record_type: Option<String>,
    pub record_id: Option<Uuid>,
    pub record_code: Option<String>,
    pub message_id: Option<Uuid>,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub thumbnail_sha256: Option<String>,
    pub visibility: String,
    pub uploaded_by_type: String,
    pub uploaded_by_id: Option<Uuid>,
    pub uploaded_by_name: String,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
    pub deleted_by: Option<String>,
}

impl FileRow {
    pub fn new(org_id: Uuid, file: &StoredFile) -> Self {
        Self {
            org_id,
            id: file.id.0,
            customer_id: file.customer_id.0,
            record_type: file.record.as_ref().map(|r| r.kind.as_str().to_owned()),
            record_id: file.record.as_ref().map(|r| r.id),
            record_code: file.record.as_ref().and_then(|r| r.code.clone()),
            message_id: file.message_id.map(|m| m.0),
            name: file.name.clone(),
            media_type: file.media_type.as_str().to_owned(),
            size: i64::try_from(file.size).unwrap_or(i64::MAX),
            sha256: file.sha256.clone(),
            thumbnail_sha256: file.thumbnail_sha256.clone(),
            visibility: file.visibility.as_str().to_owned(),
            uploaded_by_type: file.uploaded_by.kind.as_str().to_owned(),
            uploaded_by_id: file.uploaded_by.id,
            uploaded_by_name: file.uploaded_by.name.clone(),
            created_at: file.created_at.as_microsecond(),
            deleted_at: None,
            deleted_by: None,
        }
    }

    pub fn into_file(self) -> Result<StoredFile> {
        let bad = |what: &str, value: &str| StoreError::corrupt(format!("file {} has {what} '{value}'", self.id));
        let record = match (&self.record_type, self.record_id) {
            (Some(kind), Some(id)) => {
                Some(RecordRef { kind: RecordType::parse(kind).ok_or_else(|| bad("record type", kind))?, id, code: self.record_code.clone() })
            }
            _ => None,
        };
        let deleted = match self.deleted_at {
            Some(at) => Some(Deletion { by: self.deleted_by.clone().unwrap_or_default(), at: timestamp(at)? }),
            None => None,
        };
        Ok(StoredFile {
            id: FileId(self.id),
            customer_id: CustomerId(self.customer_id),
            media_type: MediaType::parse(&self.media_type).ok_or_else(|| bad("media type", &self.media_type))?,
            size: u64::try_from(self.size).map_err(StoreError::corrupt)?,
            visibility: Visibility::parse(&self.visibility).ok_or_else(|| bad("visibility", &self.visibility))?,
            uploaded_by: Actor {
                kind: ActorType::parse(&self.uploaded_by_type).ok_or_else(|| bad("uploader type", &self.uploaded_by_type))?,
                id: self.uploaded_by_id,
                name: self.uploaded_by_name.clone(),
            },
            created_at: timestamp(self.created_at)?,
            message_id: self.message_id.map(MessageId),
            record,
            deleted,
            name: self.name,
            sha256: self.sha256,
            thumbnail_sha256: self.thumbnail_sha256,
        })
    }
}

pub async fn insert_files(h: &mut Handle<'_>, rows: &[FileRow]) -> Result<()> {
    for chunk in crate::chunks::power_of_two(rows, 32) {
        run!(h, c => {
            let mut q = QueryBuilder::new(
                "INSERT INTO file (org_id, id, customer_id, record_type, record_id, record_code, message_id, name, media_type, size, sha256, \
                 thumbnail_sha256, visibility, uploaded_by_type, uploaded_by_id, uploaded_by_name, created_at) ");
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.org_id).push_bind(r.id).push_bind(r.customer_id).push_bind(&r.record_type).push_bind(r.record_id)
                    .push_bind(&r.record_code).push_bind(r.message_id).push_bind(&r.name).push_bind(&r.media_type).push_bind(r.size)
                    .push_bind(&r.sha256).push_bind(&r.thumbnail_sha256).push_bind(&r.visibility).push_bind(&r.uploaded_by_type).push_bind(r.uploaded_by_id)
                    .push_bind(&r.uploaded_by_name).push_bind(r.created_at);
            });
            q.build().execute(c).await.map(drop)?
        });
    }
    Ok(())
}

pub async fn get_file(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<Option<FileRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM file WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).fetch_optional(c).await?))
}

/// Mark a file deleted: `false` if it was already.
pub async fn delete_file(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, at: i64, by: &str) -> Result<bool> {
    let done = run!(h, c => sqlx::query("UPDATE file SET deleted_at = $3, deleted_by = $4 WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL")
        .bind(org_id).bind(id).bind(at).bind(by).execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Mark the live files of a deleted message deleted too.
pub async fn delete_message_files(h: &mut Handle<'_>, org_id: Uuid, message: Uuid, at: i64, by: &str) -> Result<u64> {
    Ok(run!(h, c => sqlx::query("UPDATE file SET deleted_at = $3, deleted_by = $4 WHERE org_id = $1 AND message_id = $2 AND deleted_at IS NULL")
        .bind(org_id).bind(message).bind(at).bind(by).execute(c).await?.rows_affected()))
}

/// The files of a message follow its audience.
pub async fn set_message_files_visibility(h: &mut Handle<'_>, org_id: Uuid, message: Uuid, visibility: Visibility) -> Result<()> {
    run!(h, c => sqlx::query("UPDATE file SET visibility = $3 WHERE org_id = $1 AND message_id = $2")
        .bind(org_id).bind(message).bind(visibility.as_str()).execute(c).await.map(drop)?);
    Ok(())
}

/// Which of `hashes` (content of `org_id`) a live file names, as its
/// content or its thumbnail, an open inbox item as its raw mail, or an
/// import as its file or report; asked [`HASHES_PER_STATEMENT`] at a time.
pub async fn named_blobs(h: &mut Handle<'_>, org_id: Uuid, hashes: &[String]) -> Result<HashSet<String>> {
    let mut named = HashSet::new();
    for batch in hashes.chunks(HASHES_PER_STATEMENT) {
        let found: Vec<String> = run!(h, c => {
            let mut q = QueryBuilder::new("SELECT sha256 FROM file WHERE deleted_at IS NULL AND org_id = ");
            q.push_bind(org_id).push(" AND sha256 IN ");
            crate::in_list::push_values(&mut q, batch);
            q.push(" UNION SELECT thumbnail_sha256 FROM file WHERE deleted_at IS NULL AND org_id = ");
            q.push_bind(org_id).push(" AND thumbnail_sha256 IN ");
            crate::in_list::push_values(&mut q, batch);
            // The raw mail an inbox item keeps until it is assigned or dismissed.
            q.push(" UNION SELECT raw_sha256 FROM inbox_item WHERE status = 'open' AND org_id = ");
            q.push_bind(org_id).push(" AND raw_sha256 IN ");
            crate::in_list::push_values(&mut q, batch);
            // An import's uploaded file and its last report, while the import is kept.
            q.push(" UNION SELECT file_sha256 FROM import_run WHERE org_id = ");
            q.push_bind(org_id).push(" AND file_sha256 IN ");
            crate::in_list::push_values(&mut q, batch);
            q.push(" UNION SELECT report_sha256 FROM import_run WHERE org_id = ");
            q.push_bind(org_id).push(" AND report_sha256 IN ");
            crate::in_list::push_values(&mut q, batch);
            q.build_query_scalar().fetch_all(c).await?
        });
        named.extend(found);
    }
    Ok(named)
}

/// How many hashes one statement of [`named_blobs`] asks about (five times that
/// many bound values, well under either backend's limit).
const HASHES_PER_STATEMENT: usize = 400;

/// Which files a list holds.
#[derive(Clone, Debug, Default)]
pub struct FileFilter {
    /// Only this one (to check a download against the same rule as the list).
    pub id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    /// Only those attached to this record (a job, an invoice…).
    pub record_id: Option<Uuid>,
    /// Only those that came with these messages.
    pub message_ids: Vec<Uuid>,
    /// Leave deleted files out.
    pub live_only: bool,
    /// What the portal shows: customer-visible, live, on a live message or
    /// an issued invoice.
    pub portal: bool,
    /// Only those of jobs this user is assigned to (a fieldworker); files of
    /// a message carry the message's record.
    pub jobs_assigned_to: Option<Uuid>,
    /// Only those whose name has a word starting with each of these
    /// (lower-case ASCII letters and digits). Needs `customer_id`.
    pub words: Vec<String>,
}

/// A page of files, newest first, after the `(created_at, id)` of the
/// previous page's last.
pub async fn list_files(h: &mut Handle<'_>, org_id: Uuid, filter: &FileFilter, after: Option<(i64, Uuid)>, limit: i64) -> Result<Vec<FileRow>> {
    let search = FILE_WORDS.search(matches!(h, Handle::Sqlite(_)), filter.customer_id, &filter.words);
    Ok(run!(h, c => {
        let mut q = QueryBuilder::new("SELECT f.* FROM file f");
        if let Some(search) = &search {
            search.push_join(&mut q, "f");
        }
        q.push(" WHERE f.org_id = ").push_bind(org_id);
        if let Some(search) = &search {
            search.push_condition(&mut q, "f");
        }
        if let Some(id) = filter.id {
            q.push(" AND f.id = ").push_bind(id);
        }
        if let Some(customer) = filter.customer_id {
            q.push(" AND f.customer_id = ").push_bind(customer);
        }
        if let Some(record) = filter.record_id {
            q.push(" AND f.record_id = ").push_bind(record);
        }
        if !filter.message_ids.is_empty() {
            q.push(" AND f.message_id IN (");
            let mut list = q.separated(", ");
            for id in &filter.message_ids {
                list.push_bind(*id);
            }
            q.push(")");
        }
        if filter.live_only || filter.portal {
            q.push(" AND f.deleted_at IS NULL");
        }
        if filter.portal {
            q.push(" AND f.visibility = 'customer' AND (f.message_id IN (SELECT id FROM message WHERE org_id = ").push_bind(org_id)
                .push(" AND visibility = 'customer' AND deleted_at IS NULL) OR (f.record_type = 'invoice' AND f.record_id IN (SELECT id FROM invoice WHERE org_id = ")
                .push_bind(org_id).push(" AND status <> 'draft')))");
        }
        if let Some(user) = filter.jobs_assigned_to {
            q.push(" AND f.record_type = 'job' AND f.record_id IN (SELECT job_id FROM job_assignee WHERE org_id = ").push_bind(org_id)
                .push(" AND user_id = ").push_bind(user).push(")");
        }
        if let Some((at, id)) = after {
            q.push(" AND (f.created_at < ").push_bind(at).push(" OR (f.created_at = ").push_bind(at).push(" AND f.id < ").push_bind(id).push("))");
        }
        q.push(" ORDER BY f.created_at DESC, f.id DESC LIMIT ").push_bind(limit);
        q.build_query_as().fetch_all(c).await?
    }))
}
