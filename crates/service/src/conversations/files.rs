//! File use cases: attach uploads to a customer, a record or a message,
//! list them, open one, delete one.
//!
//! Who sees a file follows what it is attached to: the customer (anyone
//! who sees the customer, but not a fieldworker), a record (whoever sees
//! that record: a fieldworker only their own jobs) or a message (whoever
//! sees the message). The customer sees, in the portal, only files that
//! came with a customer-visible message or were shared on an invoice.
//!
//! An upload is written to the blob store before the transaction that
//! names it (so no request holds the writer while bytes arrive), and is
//! checked (size, type from the content, name) before it is kept.

use std::time::Duration;

use dossier_domain::ValidationErrors;
use dossier_domain::activity::{ActivityKind, EntityRef, EntityType, NewActivity, Visibility};
use dossier_domain::file::{self, MediaType, StoredFile, size_text};
use dossier_domain::ids::{CustomerId, FileId, MessageId};
use dossier_domain::limits::{DEFAULT_MAX_FILE_BYTES, MAX_FILES_PER_UPLOAD};
use dossier_domain::message::{Message, RecordRef, RecordType};
use dossier_domain::permissions::{Access, Action, Module, module_of};
pub use dossier_store::BlobContent;
use dossier_store::queries as q;
use dossier_store::{BlobError, Blobs, Db, FileFilter, FileRow, Handle, Staged, Staging, Tx};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::page::{Page, limit, paginate, time_cursor};
use crate::record::activity;
use crate::{Ctx, Result, ServiceError, customers, messages};

/// Where file contents are kept, and what an upload may be.
#[derive(Clone, Debug)]
pub struct Files {
    pub blobs: Blobs,
    /// The largest file accepted, in bytes.
    pub max_bytes: u64,
    /// The content types accepted.
    pub allowed: Vec<MediaType>,
}

impl Files {
    /// The store in `blobs` with the default limits (25 MB; photos, PDFs,
    /// office documents and text).
    pub fn new(blobs: Blobs) -> Self {
        Self { blobs, max_bytes: DEFAULT_MAX_FILE_BYTES, allowed: MediaType::DEFAULT_ALLOWED.to_vec() }
    }

    /// The store in `folder` (created if missing), with these limits: a
    /// largest size in bytes, and the accepted types as media types
    /// (`image/jpeg,application/pdf`); `None` and an empty list keep the
    /// defaults.
    pub fn open(folder: impl Into<std::path::PathBuf>, max_bytes: Option<u64>, types: &[String]) -> std::result::Result<Self, String> {
        let folder = folder.into();
        let blobs = Blobs::local(&folder).map_err(|e| format!("cannot use {} for files: {e}", folder.display()))?;
        Self::new(blobs).limited(max_bytes, types)
    }

    /// The store at `location`: a folder, or `s3://bucket/prefix` (an
    /// S3-compatible object store configured by the `AWS_*` environment
    /// variables, uploads staged in the local folder `staging`).
    pub fn at(location: &str, staging: std::path::PathBuf, max_bytes: Option<u64>, types: &[String]) -> std::result::Result<Self, String> {
        if location.starts_with("s3://") {
            let blobs = Blobs::object_store(location, &[], &staging).map_err(|e| format!("cannot use {location} for files: {e}"))?;
            Self::new(blobs).limited(max_bytes, types)
        } else {
            Self::open(location, max_bytes, types)
        }
    }

    fn limited(mut self, max_bytes: Option<u64>, types: &[String]) -> std::result::Result<Self, String> {
        if let Some(max) = max_bytes {
            self.max_bytes = max;
        }
        if !types.is_empty() {
            self.allowed = types
                .iter()
                .map(|t| MediaType::parse(t.trim()).ok_or_else(|| format!("unknown file type '{t}'; known: {}", known_types())))
                .collect::<std::result::Result<_, _>>()?;
        }
        Ok(self)
    }

    /// The default folder of a database's files: `files` beside a SQLite
    /// file, `dossier-data/files` for PostgreSQL.
    pub fn default_folder(database_url: &str) -> std::path::PathBuf {
        Blobs::default_root(database_url)
    }

    /// Start receiving one uploaded file.
    pub async fn stage(&self) -> Result<Staging> {
        Ok(self.blobs.stage(self.max_bytes).await?)
    }

    /// Add the next piece of an upload: past the limit, 413 `file_too_large`.
    pub async fn write(&self, staging: &mut Staging, chunk: &[u8]) -> Result<()> {
        Ok(staging.write(chunk).await?)
    }

    /// The upload is complete.
    pub async fn finish(&self, staging: Staging) -> Result<Staged> {
        Ok(staging.finish().await?)
    }

    /// Sweep what a process that died left behind: staged uploads older
    /// than `age`, and blobs older than `age` that no live file names.
    pub async fn sweep(&self, db: &Db, age: Duration) -> Result<(usize, usize)> {
        let staged = self.blobs.sweep_staging(age).map_err(BlobError::Io)?;
        let blobs = self
            .blobs
            .remove_unreferenced(age, |org, hashes| async move {
                let mut conn = db.read().await?;
                Ok::<_, ServiceError>(q::named_blobs(&mut conn.handle(), org, &hashes).await?)
            })
            .await?;
        Ok((staged, blobs))
    }
}

fn known_types() -> String {
    MediaType::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
}

/// How old a staged upload or an unnamed blob must be before a sweep
/// removes it: well past the request deadline, so nothing in flight is.
pub const SWEEP_AGE: Duration = Duration::from_secs(600);

/// How often a running server sweeps. A sweep lists every blob, so not
/// often; the first comes one period after start, not while the server is
/// warming up (a process that died mid-upload leaves staged files that
/// wait until then).
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Sweep every [`SWEEP_EVERY`] while the server runs.
pub fn sweep_in_background(db: Db, files: Files) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + SWEEP_EVERY, SWEEP_EVERY);
        loop {
            tick.tick().await;
            match files.sweep(&db, SWEEP_AGE).await {
                Ok((0, 0)) => {}
                Ok((staged, blobs)) => tracing::info!(staged, blobs, "swept abandoned uploads and unnamed file contents"),
                Err(error) => tracing::warn!(%error, "sweeping the file store failed; it is tried again later"),
            }
        }
    });
}

/// One received file: the name it came with and its content.
pub struct Upload {
    pub name: String,
    pub content: Content,
}

/// An upload's content: just received, or kept already by an earlier step
/// (a customer-visible message's confirmation page carries its files by
/// hash; only content the org holds can be named so).
pub enum Content {
    Staged(Staged),
    Kept { sha256: String },
}

/// An upload checked and kept in the blob store, not yet named by a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kept {
    pub name: String,
    pub media_type: MediaType,
    pub size: u64,
    pub sha256: String,
    pub thumbnail_sha256: Option<String>,
}

/// What an upload is attached to, besides the customer.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachTo {
    /// With `record`: the kind of record the files are for.
    pub record_type: Option<RecordType>,
    /// The record's id, or its code (`BOK-00012`) for works and money records.
    pub record: Option<String>,
    /// A message of the customer the files came with (its author or an
    /// admin may add them); they take its record and audience.
    pub message_id: Option<String>,
    /// `customer` shares files on an invoice with the customer (the
    /// portal); default `internal`. Files of a message take the message's.
    pub visibility: Option<Visibility>,
}

/// Attach uploaded files to a customer (and a record or a message of
/// theirs): each is checked (type from its content against its name and
/// the accepted types), kept in the blob store and recorded. All or none.
pub async fn attach(db: &Db, files: &Files, ctx: &Ctx, customer: &str, to: AttachTo, uploads: Vec<Upload>) -> Result<Vec<StoredFile>> {
    let access = ctx.require(Module::Files, Action::Create)?;
    let mut errors = ValidationErrors::default();
    if uploads.is_empty() {
        errors.push("file", "required", "choose at least one file");
    }
    let record = dossier_domain::message::record_reference(&mut errors, to.record_type, to.record);
    if !errors.is_empty() {
        return Err(errors.into());
    }
    // Read where the files go before keeping any content: a refused target
    // leaves nothing behind.
    let (customer_id, target) = {
        let mut conn = db.read().await?;
        let h = &mut conn.handle();
        let customer = customers::find(h, ctx, customer).await?;
        let target = target(h, ctx, customer.id, record, to.message_id.as_deref(), to.visibility).await?;
        (CustomerId(customer.id), target)
    };
    if access == Access::Assigned && target.record.as_ref().is_none_or(|r| r.kind != RecordType::Job) {
        return Err(ValidationErrors::one("record", "required", "a fieldworker's files go on one of their jobs: give record_type job and its code").into());
    }
    let kept = keep(files, ctx, uploads).await?;
    let mut tx = db.begin().await?;
    // The message may have been deleted since it was read.
    if let Some(message) = target.message
        && q::get_message(&mut tx.handle(), ctx.org.id.0, message.0).await?.is_none_or(|m| m.deleted_at.is_some())
    {
        return Err(ServiceError::conflict("message_deleted", "this message was deleted; files can no longer be added to it"));
    }
    let stored = record_in(&mut tx, ctx, customer_id, &target, kept).await?;
    tx.commit().await?;
    Ok(stored)
}

/// Check uploads (how many, each one's type from its content against its
/// name and the accepted types) and keep their content. Nothing is kept
/// unless all pass.
pub async fn keep(files: &Files, ctx: &Ctx, uploads: Vec<Upload>) -> Result<Vec<Kept>> {
    ctx.require(Module::Files, Action::Create)?;
    dossier_domain::limits::check_count("file", uploads.len(), MAX_FILES_PER_UPLOAD, "files")?;
    let org = ctx.org.id.0;
    let mut errors = ValidationErrors::default();
    let mut checked = Vec::with_capacity(uploads.len());
    for (i, upload) in uploads.into_iter().enumerate() {
        let name = file::clean_name(&upload.name);
        let (size, sha256, head) = match &upload.content {
            Content::Staged(staged) => (staged.size, staged.sha256.clone(), staged.head.clone()),
            Content::Kept { sha256 } => match files.blobs.head(org, sha256).await? {
                Some((size, head)) => (size, sha256.clone(), head),
                None => {
                    errors.push(format!("file[{i}]"), "not_found", "is no longer held: choose the file again");
                    continue;
                }
            },
        };
        let media_type = file::sniff(&head);
        if size == 0 {
            errors.push(format!("file[{i}]"), "empty", "is empty: choose the file again");
        } else {
            errors.take(file::check_type(&format!("file[{i}]"), &name, media_type, &files.allowed));
        }
        checked.push((upload.content, Kept { name, media_type, size, sha256, thumbnail_sha256: None }));
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let mut kept = Vec::with_capacity(checked.len());
    for (content, mut file) in checked {
        if file.media_type.is_image() {
            file.thumbnail_sha256 = thumbnail(files, org, &content).await?;
        }
        if let Content::Staged(staged) = content {
            files.blobs.keep(org, staged).await?;
        }
        kept.push(file);
    }
    Ok(kept)
}

/// Make and keep a picture's thumbnail, reading the picture from where it
/// is now (staging, or the store for content kept earlier); `None` when it
/// needs none or cannot be read.
async fn thumbnail(files: &Files, org: Uuid, content: &Content) -> Result<Option<String>> {
    let turn = crate::thumbnails::turn().await;
    let picture = match content {
        Content::Staged(staged) => staged.read().await?,
        Content::Kept { sha256 } => {
            let mut picture = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut files.blobs.open(org, sha256).await?.reader, &mut picture).await?;
            picture
        }
    };
    let small = crate::thumbnails::make(picture).await;
    drop(turn);
    match small {
        Some(small) => Ok(Some(files.blobs.put(org, &small).await?)),
        None => Ok(None),
    }
}

/// Check and keep content made here (the demo's pictures and job cards).
pub(crate) async fn keep_bytes(files: &Files, ctx: &Ctx, name: &str, bytes: &[u8]) -> Result<Kept> {
    let mut staging = files.stage().await?;
    files.write(&mut staging, bytes).await?;
    let content = Content::Staged(files.finish(staging).await?);
    let mut kept = keep(files, ctx, vec![Upload { name: name.to_owned(), content }]).await?;
    kept.pop().ok_or_else(|| ServiceError::Internal("a kept file went missing".into()))
}

/// Name kept content as files of `customer` on `target`, recording each.
async fn record_in(tx: &mut Tx, ctx: &Ctx, customer_id: CustomerId, target: &Target, kept: Vec<Kept>) -> Result<Vec<StoredFile>> {
    let now = ctx.now();
    let stored: Vec<StoredFile> = kept
        .into_iter()
        .map(|k| StoredFile {
            id: FileId::new(),
            customer_id,
            name: k.name,
            media_type: k.media_type,
            size: k.size,
            sha256: k.sha256,
            thumbnail_sha256: k.thumbnail_sha256,
            record: target.record.clone(),
            message_id: target.message,
            visibility: target.visibility,
            uploaded_by: ctx.actor.clone(),
            created_at: now,
            deleted: None,
        })
        .collect();
    q::insert_files(&mut tx.handle(), &stored.iter().map(|f| FileRow::new(ctx.org.id.0, f)).collect::<Vec<_>>()).await?;
    for file in &stored {
        let on = file.record.as_ref().and_then(|r| r.code.as_deref()).map(|code| format!(" to {code}")).unwrap_or_default();
        let summary = format!("{} {} ({}) added{on}", noun(file.media_type), file.name, size_text(file.size));
        tx.append(file_activity(ctx, ActivityKind::FileAttached, file, summary)).await?;
    }
    Ok(stored)
}

/// Name kept content as the files of a message just written in `tx`.
pub(crate) async fn record_message_files_in(tx: &mut Tx, ctx: &Ctx, message: &Message, kept: Vec<Kept>) -> Result<Vec<StoredFile>> {
    if kept.is_empty() {
        return Ok(Vec::new());
    }
    let target = Target { record: message.record.clone(), message: Some(message.id), visibility: message.visibility };
    record_in(tx, ctx, message.customer_id, &target, kept).await
}

/// Where checked files go.
struct Target {
    record: Option<RecordRef>,
    message: Option<MessageId>,
    visibility: Visibility,
}

async fn target(
    h: &mut Handle<'_>,
    ctx: &Ctx,
    customer: Uuid,
    record: Option<(RecordType, String)>,
    message: Option<&str>,
    visibility: Option<Visibility>,
) -> Result<Target> {
    if let Some(message) = message {
        if record.is_some() {
            return Err(ValidationErrors::one("message_id", "conflict", "give a message or a record, not both: files of a message go with its record").into());
        }
        let not_found = || ServiceError::from(ValidationErrors::one("message_id", "not_found", "is not a message of this customer"));
        let row = messages::find(h, ctx, message).await.map_err(|_| not_found())?;
        if row.customer_id != customer {
            return Err(not_found());
        }
        let message = row.into_message()?;
        if message.deleted.is_some() {
            return Err(ServiceError::conflict("message_deleted", "this message was deleted; files can no longer be added to it"));
        }
        if !messages::may_change(ctx, &message) {
            return Err(ServiceError::NotAuthor { what: "message", action: "add files to" });
        }
        return Ok(Target { record: message.record, message: Some(message.id), visibility: message.visibility });
    }
    let record = match record {
        Some((kind, reference)) => Some(messages::resolve_record(h, ctx, customer, kind, &reference).await?),
        None => None,
    };
    let visibility = visibility.unwrap_or(Visibility::Internal);
    if visibility == Visibility::Customer && record.as_ref().is_none_or(|r| r.kind != RecordType::Invoice) {
        return Err(ValidationErrors::one(
            "visibility",
            "not_shareable",
            "only files on an invoice, or sent with a customer-visible message, are shown to the customer",
        )
        .into());
    }
    Ok(Target { record, message: None, visibility })
}

/// How a tile names a file of this type.
fn noun(media_type: MediaType) -> &'static str {
    match media_type {
        t if t.is_image() || t == MediaType::Heic => "Photo",
        MediaType::Pdf => "PDF",
        _ => "File",
    }
}

fn file_activity(ctx: &Ctx, kind: ActivityKind, file: &StoredFile, summary: String) -> NewActivity {
    let subject = EntityRef::new(EntityType::File, file.id.0);
    let mut record = activity(ctx, kind, Some(file.customer_id), subject, Some(file.name.clone()), summary, Vec::new());
    record.visibility = file.visibility;
    record.detail = json!({
        "name": file.name,
        "media_type": file.media_type,
        "size": file.size,
        "sha256": file.sha256,
        "thumbnail": file.thumbnail_sha256.is_some(),
        "record": file.record.as_ref().and_then(|r| r.code.clone()),
        "message_id": file.message_id,
        "visibility": file.visibility,
    });
    record.also_links =
        file.record.iter().map(|r| EntityRef::new(r.kind.entity(), r.id)).chain(file.message_id.map(|m| EntityRef::new(EntityType::Message, m.0))).collect();
    record
}

/// The file with this id, if the caller may see it (else 404).
async fn find(h: &mut Handle<'_>, ctx: &Ctx, id: &str) -> Result<FileRow> {
    ctx.require(Module::Files, Action::View)?;
    let not_found = || ServiceError::NotFound("file");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let row = q::get_file(h, ctx.org.id.0, id).await?.ok_or_else(not_found)?;
    crate::scope::check_customer(h, ctx, row.customer_id, "file").await?;
    let kind = row.record_type.as_deref().and_then(RecordType::parse);
    if let Some(kind) = kind
        && !ctx.sees(module_of(kind.entity()))
    {
        return Err(not_found());
    }
    if row.message_id.is_some() && !ctx.sees(Module::Messages) {
        return Err(not_found());
    }
    if ctx.assigned_only(Module::Files).is_some() {
        match (kind, row.record_id) {
            (Some(RecordType::Job), Some(job)) => crate::scope::check_job(h, ctx, job).await.map_err(|_| not_found())?,
            _ => return Err(not_found()),
        }
    }
    Ok(row)
}

/// A file's details.
pub async fn get_file(db: &Db, ctx: &Ctx, id: &str) -> Result<StoredFile> {
    let mut conn = db.read().await?;
    Ok(find(&mut conn.handle(), ctx, id).await?.into_file()?)
}

/// A file's details and its content, to send.
pub async fn open_file(db: &Db, files: &Files, ctx: &Ctx, id: &str) -> Result<(StoredFile, BlobContent)> {
    let file = get_file(db, ctx, id).await?;
    content(files, ctx, file).await
}

async fn content(files: &Files, ctx: &Ctx, file: StoredFile) -> Result<(StoredFile, BlobContent)> {
    if file.deleted.is_some() {
        return Err(ServiceError::conflict("file_deleted", "this file was deleted"));
    }
    let content = files.blobs.open(ctx.org.id.0, &file.sha256).await.map_err(|e| {
        tracing::error!(file = %file.id, error = %e, "a file's content is missing from the blob store");
        ServiceError::Store(e.into())
    })?;
    Ok((file, content))
}

/// Whether the caller may delete `file`: its uploader or an admin, with
/// the right to add files.
pub fn may_delete(ctx: &Ctx, file: &StoredFile) -> bool {
    ctx.is_author_or_admin(&file.uploaded_by) && ctx.access(Module::Files, Action::Create) != Access::None
}

/// A picture's thumbnail, to send: the file as the thumbnail (a JPEG)
/// and its content; 404 when it has none.
pub async fn open_thumbnail(db: &Db, files: &Files, ctx: &Ctx, id: &str) -> Result<(StoredFile, BlobContent)> {
    let file = get_file(db, ctx, id).await?;
    let Some(thumbnail) = file.thumbnail_sha256.clone().filter(|_| file.deleted.is_none()) else { return Err(ServiceError::NotFound("thumbnail")) };
    let content = files.blobs.open(ctx.org.id.0, &thumbnail).await?;
    let size = content.size;
    let name = format!("{} (thumbnail).jpg", file.name.rsplit_once('.').map_or(file.name.as_str(), |(stem, _)| stem));
    Ok((StoredFile { name, media_type: MediaType::Jpeg, size, sha256: thumbnail, ..file }, content))
}

/// Delete a file (its uploader or an admin): it leaves a "deleted by … at
/// …" mark; its content goes once no live file names it.
pub async fn delete_file(db: &Db, ctx: &Ctx, id: &str) -> Result<StoredFile> {
    ctx.require(Module::Files, Action::Create)?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let file = find(h, ctx, id).await?.into_file()?;
    if !may_delete(ctx, &file) {
        return Err(ServiceError::NotAuthor { what: "file", action: "delete" });
    }
    let now = ctx.now();
    if !q::delete_file(h, ctx.org.id.0, file.id.0, now.as_microsecond(), &ctx.actor.name).await? {
        return Err(ServiceError::conflict("file_deleted", "this file was deleted already"));
    }
    let summary = format!("{} {} deleted by {}", noun(file.media_type), file.name, ctx.actor.name);
    tx.append(file_activity(ctx, ActivityKind::FileDeleted, &file, summary)).await?;
    tx.commit().await?;
    Ok(StoredFile { deleted: Some(dossier_domain::message::Deletion { by: ctx.actor.name.clone(), at: now }), ..file })
}

/// Query parameters of a file list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// Only the files of this record (its id or code), with `record_type`.
    pub record: Option<String>,
    pub record_type: Option<RecordType>,
    /// Words the file name must have (each as the start of a word); at most
    /// 8 words and 200 characters.
    #[param(max_length = 200)]
    pub q: Option<String>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// A customer's files, newest first (deleted ones as their marks).
pub async fn list_files(db: &Db, ctx: &Ctx, customer: &str, query: FileQuery) -> Result<Page<StoredFile>> {
    let mut filter = scoped(ctx)?;
    let mut errors = ValidationErrors::default();
    let record = dossier_domain::message::record_reference(&mut errors, query.record_type, query.record.clone());
    if let Some(q) = errors.take(dossier_domain::text::optional("q", query.q.clone(), 200)).flatten() {
        filter.words = messages::search_words(&q);
    }
    let after = errors.take(time_cursor(query.cursor.as_deref())).flatten();
    let limit = errors.take(limit(query.limit));
    let Some(limit) = limit.filter(|_| errors.is_empty()) else { return Err(errors.into()) };
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let customer = customers::find(h, ctx, customer).await?;
    if let Some((kind, reference)) = record {
        filter.record_id = Some(messages::resolve_record(h, ctx, customer.id, kind, &reference).await?.id);
    }
    filter.customer_id = Some(customer.id);
    page(h, ctx, &filter, after, limit).await
}

/// The files of one record the caller was shown (a job's photos), newest first.
pub async fn record_files(db: &Db, ctx: &Ctx, record: Uuid, limit: i64) -> Result<Vec<StoredFile>> {
    let filter = FileFilter { record_id: Some(record), live_only: true, ..scoped(ctx)? };
    let mut conn = db.read().await?;
    Ok(page(&mut conn.handle(), ctx, &filter, None, limit).await?.items)
}

/// The live files that came with these messages (shown with them).
pub async fn message_files(db: &Db, ctx: &Ctx, messages: &[MessageId]) -> Result<Vec<StoredFile>> {
    if messages.is_empty() || !ctx.sees(Module::Files) {
        return Ok(Vec::new());
    }
    let filter = FileFilter { message_ids: messages.iter().map(|m| m.0).collect(), live_only: true, ..scoped(ctx)? };
    let mut conn = db.read().await?;
    Ok(page(&mut conn.handle(), ctx, &filter, None, i64::from(crate::page::MAX_LIMIT)).await?.items)
}

/// The filter every list of a caller starts from: a fieldworker's is
/// narrowed to the files of their jobs; files of records of modules the
/// caller does not see are left out.
fn scoped(ctx: &Ctx) -> Result<FileFilter> {
    ctx.require(Module::Files, Action::View)?;
    Ok(FileFilter { jobs_assigned_to: ctx.assigned_only(Module::Files), ..Default::default() })
}

async fn page(h: &mut Handle<'_>, ctx: &Ctx, filter: &FileFilter, after: Option<(i64, Uuid)>, limit: i64) -> Result<Page<StoredFile>> {
    let rows = q::list_files(h, ctx.org.id.0, filter, after, limit + 1).await?;
    let mut page = paginate(rows, limit, |r| format!("{}:{}", r.created_at, r.id), |r| Ok(r.into_file()?))?;
    // Files of records the caller may not see (a payment's, for sales) are
    // left out of what the page shows.
    page.items.retain(|f| f.record.as_ref().is_none_or(|r| ctx.sees(module_of(r.kind.entity()))));
    Ok(page)
}

/// The files the customer sees in the portal, newest first.
pub(crate) async fn customer_visible(h: &mut Handle<'_>, ctx: &Ctx, customer: Uuid, limit: i64) -> Result<Vec<StoredFile>> {
    let filter = FileFilter { customer_id: Some(customer), portal: true, ..Default::default() };
    let rows = q::list_files(h, ctx.org.id.0, &filter, None, limit).await?;
    Ok(rows.into_iter().map(FileRow::into_file).collect::<Result<_, _>>()?)
}

/// One file the customer may see in the portal, with its content (404 for
/// any other).
pub(crate) async fn open_customer_visible(db: &Db, files: &Files, ctx: &Ctx, customer: Uuid, id: &str) -> Result<(StoredFile, BlobContent)> {
    let not_found = || ServiceError::NotFound("file");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let filter = FileFilter { id: Some(id), customer_id: Some(customer), portal: true, ..Default::default() };
    let file = {
        let mut conn = db.read().await?;
        q::list_files(&mut conn.handle(), ctx.org.id.0, &filter, None, 1).await?.pop().ok_or_else(not_found)?.into_file()?
    };
    content(files, ctx, file).await
}
