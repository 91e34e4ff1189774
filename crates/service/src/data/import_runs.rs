//! Imports through the API and the web app, step by step: upload (the
//! file is kept in the blob store and its first rows shown with a
//! suggested mapping), the dry run, then the import of the valid rows. The
//! worker runs both steps (tasks `imports.check` and `imports.run`) as the
//! user who started them; the import's row shows how far each has come,
//! and the last report is kept as CSV beside the file.
//!
//! The import's own work is [`super::import`]'s, the same as
//! `dossier import`'s.

use dossier_domain::ValidationErrors;
use dossier_domain::custom_fields::{DefinitionInput, Definitions, FieldDefinition, FieldEntity, FieldSpec, FieldType};
use dossier_domain::data::import_run::{ImportStatus, ImportStep, KEEP_AS_CUSTOM_FIELD, kept_field_key};
use dossier_domain::ids::CustomFieldId;
use dossier_domain::permissions::{Action, Module};
use dossier_domain::tasks::TaskKind;
use dossier_store::queries as q;
use dossier_store::{BlobContent, Db, ImportMove, ImportRow};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::import::{self, ImportFile, ImportPreview, ImportReport, MappingInput};
use crate::automation::tasks::{Claimed, NewTask, enqueue_in};
use crate::files::{Content, Files, Upload};
use crate::{Ctx, Result, ServiceError};

/// Rows of a report an import's page and answer show; the whole report is
/// its CSV.
pub const SHOWN_OUTCOMES: usize = 50;
/// Imports a list shows (newest first).
pub const LISTED_IMPORTS: i64 = 20;
/// The longest error an import keeps.
const MAX_ERROR_CHARS: usize = 1_000;
/// The file name extensions an import accepts.
const EXTENSIONS: [&str; 4] = ["csv", "txt", "tsv", "xlsx"];

/// What an import's page and the API show of it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ImportRun {
    pub id: Uuid,
    pub file_name: String,
    pub status: ImportStatus,
    /// Which step `status` is about.
    pub step: ImportStep,
    /// Who uploaded it.
    pub by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// The mapping of the last dry run (or the suggested one, before).
    pub mapping: MappingInput,
    /// The file's kind, first rows and every column it may be mapped to.
    pub preview: Option<ImportPreview>,
    pub progress: RunProgress,
    /// The last report's counts and its first rows with something to say
    /// (at most 50; the CSV has them all).
    pub report: Option<ImportReport>,
    /// Why the last step stopped.
    pub error: Option<String>,
}

/// How far the current step has come.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct RunProgress {
    pub rows_done: u64,
    /// 0 until the step has counted the file's rows.
    pub rows_total: u64,
    /// Whole percent.
    pub percent: u8,
    pub rows_per_second: Option<u64>,
    pub seconds_left: Option<u64>,
}

/// What is kept of the file as it is uploaded (the preview), with the run's
/// report once there is one.
#[derive(Serialize, Deserialize)]
struct Kept {
    preview: ImportPreview,
    report: Option<ImportReport>,
}

fn may_import(ctx: &Ctx) -> Result<()> {
    ctx.require(Module::Customers, Action::Create)?;
    ctx.require(Module::Customers, Action::Export)?;
    Ok(())
}

impl ImportRun {
    fn from_row(row: ImportRow, now: Timestamp) -> Result<Self> {
        let kept: Option<Kept> = row.summary.as_deref().and_then(|s| serde_json::from_str(s).ok());
        let (preview, report) = kept.map_or((None, None), |k| (Some(k.preview), k.report));
        let mapping = serde_json::from_str(&row.mapping).unwrap_or_default();
        let status = ImportStatus::parse(&row.status).ok_or_else(|| ServiceError::Internal(format!("import status {}", row.status)))?;
        let step = ImportStep::parse(&row.step).unwrap_or(ImportStep::Import);
        let (done, total) = (row.processed_rows.max(0) as u64, row.total_rows.max(0) as u64);
        let mut progress = RunProgress { rows_done: done, rows_total: total, ..Default::default() };
        progress.percent = (done.min(total) * 100).checked_div(total).unwrap_or(0) as u8;
        if let (Some(started), true) = (row.started_at, status == ImportStatus::Running) {
            let seconds = (now.as_microsecond() - started) as f64 / 1e6;
            if seconds >= 1.0 && done > 0 {
                let rate = done as f64 / seconds;
                progress.rows_per_second = Some(rate.round() as u64);
                progress.seconds_left = Some((total.saturating_sub(done) as f64 / rate).ceil() as u64);
            }
        }
        Ok(ImportRun {
            id: row.id,
            file_name: row.file_name,
            status,
            step,
            by: row.actor_name,
            created_at: Timestamp::from_microsecond(row.created_at).unwrap_or(now),
            mapping,
            preview,
            progress,
            report,
            error: row.error,
        })
    }
}

/// Keep an uploaded file for an import and show its first rows with the
/// mapping suggested for them. A file that cannot be read as CSV or XLSX
/// is refused and not kept.
pub async fn upload(db: &Db, files: &Files, ctx: &Ctx, upload: Upload) -> Result<ImportRun> {
    may_import(ctx)?;
    let name = dossier_domain::file::clean_name(&upload.name);
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    if !EXTENSIONS.contains(&extension.as_str()) {
        return Err(ValidationErrors::one("file", "unsupported_type", "choose a CSV (.csv, .txt, .tsv) or Excel (.xlsx) file").into());
    }
    let Content::Staged(staged) = upload.content else {
        return Err(ValidationErrors::one("file", "required", "choose the file to import").into());
    };
    if staged.size == 0 {
        return Err(ValidationErrors::one("file", "empty", "is empty: choose the file again").into());
    }
    let path = staged.path().map(ToOwned::to_owned).ok_or_else(|| ServiceError::Internal("the upload is not on disk".into()))?;
    let preview = import::preview(db, ctx, &path).await.map_err(|e| match e {
        ServiceError::Refused { code, message } => ValidationErrors::one("file", code, message).into(),
        e => e,
    })?;
    if preview.header.iter().all(|h| h.trim().is_empty()) {
        return Err(ValidationErrors::one("file", "no_header", "the first row must name the columns").into());
    }
    let sha256 = staged.sha256.clone();
    files.blobs.keep(ctx.org.id.0, staged).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
    let mut row =
        import::new_import_row(ctx, name.chars().take(200).collect(), json(&preview.suggested)?, ImportStatus::Uploaded.as_str(), ImportStep::Check.as_str());
    row.file_sha256 = Some(sha256);
    row.summary = Some(json(&Kept { preview, report: None })?);
    let mut tx = db.begin().await?;
    q::insert_import(&mut tx.handle(), &row).await?;
    tx.commit().await?;
    ImportRun::from_row(row, ctx.now())
}

fn json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| ServiceError::Internal(e.to_string()))
}

async fn stored(db: &Db, ctx: &Ctx, id: &str) -> Result<ImportRow> {
    let id = Uuid::parse_str(id).map_err(|_| ServiceError::NotFound("import"))?;
    let mut conn = db.read().await?;
    let row = q::get_import(&mut conn.handle(), ctx.org.id.0, id).await?.ok_or(ServiceError::NotFound("import"))?;
    // Imports by the CLI have no file here: they are not steps to take.
    row.file_sha256.as_ref().ok_or(ServiceError::NotFound("import"))?;
    Ok(row)
}

pub async fn get_import(db: &Db, ctx: &Ctx, id: &str) -> Result<ImportRun> {
    may_import(ctx)?;
    ImportRun::from_row(stored(db, ctx, id).await?, Timestamp::now())
}

/// The org's latest imports, newest first (at most [`LISTED_IMPORTS`]).
pub async fn list_imports(db: &Db, ctx: &Ctx) -> Result<Vec<ImportRun>> {
    may_import(ctx)?;
    let mut conn = db.read().await?;
    let rows = q::list_imports(&mut conn.handle(), ctx.org.id.0, LISTED_IMPORTS).await?;
    let now = Timestamp::now();
    rows.into_iter().map(|row| ImportRun::from_row(row, now)).collect()
}

/// Queue the dry run of an uploaded import with `mapping`: checked now
/// against the file's columns, then run by the worker.
pub async fn check(db: &Db, ctx: &Ctx, id: &str, mapping: MappingInput) -> Result<ImportRun> {
    may_import(ctx)?;
    let row = stored(db, ctx, id).await?;
    let kept: Kept = row.summary.as_deref().and_then(|s| serde_json::from_str(s).ok()).ok_or(ServiceError::NotFound("import"))?;
    // The mapping must fit the file; kept columns are checked as ignored.
    let mut custom = crate::custom_fields::definitions_of(db, ctx, FieldEntity::Customer).await?;
    let (as_checked, _) = resolve_kept(&kept.preview.header, &mapping, &mut custom);
    dossier_domain::data::import::Mapping::parse(as_checked, kept.preview.header.len(), &custom)?;
    queue_step(db, ctx, &row, ImportStep::Check, &mapping).await
}

/// Queue the import of a checked import's valid rows, with the mapping of
/// its dry run.
pub async fn start(db: &Db, ctx: &Ctx, id: &str) -> Result<ImportRun> {
    may_import(ctx)?;
    let row = stored(db, ctx, id).await?;
    let mapping: MappingInput = serde_json::from_str(&row.mapping).unwrap_or_default();
    queue_step(db, ctx, &row, ImportStep::Import, &mapping).await
}

/// Move the import to `step`, queued, and queue the worker's task, in one
/// transaction; refused unless the import is where the step may start.
async fn queue_step(db: &Db, ctx: &Ctx, row: &ImportRow, step: ImportStep, mapping: &MappingInput) -> Result<ImportRun> {
    let from: Vec<&str> = ImportStatus::ALL
        .iter()
        .filter(|s| {
            let current = ImportStep::parse(&row.step).unwrap_or(ImportStep::Import);
            match step {
                ImportStep::Check => s.may_check(current),
                ImportStep::Import => s.may_import(current),
            }
        })
        .map(|s| s.as_str())
        .collect();
    let mut tx = db.begin().await?;
    let now = ctx.now().as_microsecond();
    let mapping = json(mapping)?;
    let change = ImportMove { from: &from, to: ImportStatus::Queued.as_str(), step: step.as_str(), mapping: &mapping, at: now };
    let moved = q::move_import(&mut tx.handle(), ctx.org.id.0, row.id, change).await?;
    if !moved {
        let (code, message) = match step {
            ImportStep::Check => ("import_not_checkable", "this import is running or done: upload the file again to check it anew"),
            ImportStep::Import => ("import_not_checked", "run the dry run first; an import runs once"),
        };
        return Err(ServiceError::conflict(code, message));
    }
    let kind = match step {
        ImportStep::Check => TaskKind::CheckImport,
        ImportStep::Import => TaskKind::RunImport,
    };
    let payload = serde_json::json!({"import_id": row.id.to_string()});
    enqueue_in(&mut tx, ctx, NewTask { kind, payload, run_at: ctx.now(), dedupe_key: None, max_attempts: Some(1) }).await?;
    let row = q::get_import(&mut tx.handle(), ctx.org.id.0, row.id).await?.ok_or(ServiceError::NotFound("import"))?;
    tx.commit().await?;
    ImportRun::from_row(row, ctx.now())
}

/// The mapping with its kept columns (see [`KEEP_AS_CUSTOM_FIELD`]) made
/// `cf.<key>`; the kept columns the org has no field for yet are added to
/// `custom` as they will be made (a text field named after the header), so
/// a dry run checks their values as the import will, and returned as
/// `(key, label)`.
fn resolve_kept(header: &[String], mapping: &MappingInput, custom: &mut Definitions) -> (MappingInput, Vec<(String, String)>) {
    let mut missing = Vec::new();
    let mut columns = Vec::with_capacity(mapping.columns.len());
    for (i, entry) in mapping.columns.iter().enumerate() {
        if entry.as_deref().map(str::trim) != Some(KEEP_AS_CUSTOM_FIELD) {
            columns.push(entry.clone());
            continue;
        }
        let label: String = header.get(i).map(|h| h.trim()).filter(|h| !h.is_empty()).unwrap_or("Imported column").chars().take(100).collect();
        let key = kept_field_key(&label);
        if custom.get(&key).is_none() {
            let now = Timestamp::now();
            let position = custom.0.iter().map(|d| d.position).max().unwrap_or(0) + 1;
            let spec = FieldSpec { label: label.clone(), field_type: FieldType::Text, required: false, options: Vec::new() };
            custom.0.push(FieldDefinition {
                id: CustomFieldId(Uuid::now_v7()),
                entity: FieldEntity::Customer,
                key: key.clone(),
                spec,
                position,
                created_at: now,
                updated_at: now,
            });
            missing.push((key.clone(), label));
        }
        columns.push(Some(format!("cf.{key}")));
    }
    (MappingInput { columns }, missing)
}

/// The worker's handler of `imports.check` and `imports.run`.
pub(crate) async fn run_task(db: &Db, files: Option<&Files>, task: &Claimed) -> std::result::Result<(), String> {
    let id = task.task.payload.get("import_id").and_then(|v| v.as_str()).and_then(|s| Uuid::parse_str(s).ok()).ok_or("the task names no import")?;
    let mut conn = db.read().await.map_err(|e| e.to_string())?;
    let org = crate::orgs::load(&mut conn.handle(), task.org_id.0).await.map_err(|e| e.to_string())?;
    let row = q::get_import(&mut conn.handle(), task.org_id.0, id).await.map_err(|e| e.to_string())?.ok_or("the import is gone")?;
    drop(conn);
    if row.status != ImportStatus::Queued.as_str() {
        return Ok(());
    }
    let dry_run = task.task.kind == TaskKind::CheckImport;
    let outcome = match files {
        None => Err(ServiceError::Internal("this worker has no file store".into())),
        Some(files) => run_step(db, files, org, row.clone(), dry_run, task).await,
    };
    if let Err(e) = outcome {
        let mut failed = row;
        if let Ok(mut conn) = db.read().await
            && let Ok(Some(now)) = q::get_import(&mut conn.handle(), failed.org_id, failed.id).await
        {
            failed = now;
        }
        failed.status = ImportStatus::Failed.as_str().to_owned();
        failed.error = Some(e.to_string().chars().take(MAX_ERROR_CHARS).collect());
        failed.updated_at = Timestamp::now().as_microsecond();
        let mut tx = db.begin().await.map_err(|e| e.to_string())?;
        q::update_import(&mut tx.handle(), &failed).await.map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Run one step as the user who started the import, then keep its report.
async fn run_step(db: &Db, files: &Files, org: crate::Org, mut row: ImportRow, dry_run: bool, task: &Claimed) -> Result<()> {
    let user_id = row.user_id.ok_or_else(|| ServiceError::conflict("no_user", "only a user's import runs here"))?;
    let user = {
        let mut conn = db.read().await?;
        q::get_user(&mut conn.handle(), org.id.0, user_id).await?
    };
    let user = user.filter(|u| u.active).ok_or_else(|| ServiceError::conflict("user_inactive", "the user who started this import can no longer sign in"))?;
    let ctx = crate::access::users::as_user(org, &user);
    let mut kept: Kept = row.summary.as_deref().and_then(|s| serde_json::from_str(s).ok()).ok_or(ServiceError::NotFound("import"))?;
    let mapping: MappingInput = serde_json::from_str(&row.mapping).unwrap_or_default();
    let mut custom = crate::custom_fields::definitions_of(db, &ctx, FieldEntity::Customer).await?;
    let (mut resolved, missing) = resolve_kept(&kept.preview.header, &mapping, &mut custom);
    if !dry_run && !missing.is_empty() {
        // The import makes the kept columns' fields, each recorded as a
        // definition by this user, before its first batch.
        for (key, label) in &missing {
            let input = DefinitionInput {
                entity: Some(FieldEntity::Customer),
                key: Some(key.clone()),
                label: Some(label.clone()),
                field_type: Some(FieldType::Text),
                required: Some(false),
                options: None,
            };
            crate::custom_fields::define(db, &ctx, input).await?;
        }
        custom = crate::custom_fields::definitions_of(db, &ctx, FieldEntity::Customer).await?;
        resolved = resolve_kept(&kept.preview.header, &mapping, &mut custom).0;
    }
    row.status = ImportStatus::Running.as_str().to_owned();
    let sha256 = row.file_sha256.clone().ok_or(ServiceError::NotFound("import"))?;
    let local = local_copy(files, row.org_id, &sha256).await?;
    let file = ImportFile { path: local.path().to_owned(), file_name: row.file_name.clone() };
    let step = import::StoredStep { row: row.clone(), mapping: resolved, custom, dry_run };
    let report = import::run_stored(db, &ctx, &file, step, task).await?;
    drop(local);
    let report_sha256 = keep_report(files, row.org_id, &report).await?;
    let mut shown = report;
    shown.outcomes.truncate(SHOWN_OUTCOMES);
    let mut conn = db.read().await?;
    let mut row = q::get_import(&mut conn.handle(), row.org_id, row.id).await?.ok_or(ServiceError::NotFound("import"))?;
    drop(conn);
    row.status = if dry_run { ImportStatus::Checked } else { ImportStatus::Done }.as_str().to_owned();
    row.processed_rows = shown.rows as i64;
    row.total_rows = shown.rows as i64;
    row.created_count = shown.created as i64;
    row.skipped_count = (shown.already_imported + shown.duplicates_in_file) as i64;
    row.invalid_count = shown.invalid as i64;
    row.report_sha256 = Some(report_sha256);
    row.updated_at = Timestamp::now().as_microsecond();
    kept.report = Some(shown);
    row.summary = Some(json(&kept)?);
    let mut tx = db.begin().await?;
    q::update_import(&mut tx.handle(), &row).await?;
    tx.commit().await?;
    Ok(())
}

/// Keep a report's CSV in the blob store, read from its file a piece at a time.
async fn keep_report(files: &Files, org: Uuid, report: &ImportReport) -> Result<String> {
    use tokio::io::AsyncReadExt;
    let blob = |e: dossier_store::BlobError| ServiceError::Internal(e.to_string());
    let Some(path) = report.csv_path() else {
        return files.blobs.put(org, report.to_csv().as_bytes()).await.map_err(blob);
    };
    let mut source = tokio::fs::File::open(path).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
    let mut staging = files.blobs.stage(u64::MAX).await.map_err(blob)?;
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let read = source.read(&mut buffer).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
        if read == 0 {
            break;
        }
        staging.write(&buffer[..read]).await.map_err(blob)?;
    }
    let staged = staging.finish().await.map_err(blob)?;
    let sha256 = staged.sha256.clone();
    files.blobs.keep(org, staged).await.map_err(blob)?;
    Ok(sha256)
}

/// A blob copied to a file of its own on this machine (the reader seeks
/// in XLSX files; the store may be remote). Deleted when dropped.
async fn local_copy(files: &Files, org: Uuid, sha256: &str) -> Result<tempfile::NamedTempFile> {
    let BlobContent { mut reader, .. } = files.blobs.open(org, sha256).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
    let copy = tempfile::NamedTempFile::new().map_err(|e| ServiceError::Internal(e.to_string()))?;
    let mut out = tokio::fs::File::create(copy.path()).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
    tokio::io::copy(&mut reader, &mut out).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(copy)
}

/// The last report of an import, as CSV (its file name too).
pub async fn report_csv(db: &Db, files: &Files, ctx: &Ctx, id: &str) -> Result<(String, BlobContent)> {
    may_import(ctx)?;
    let row = stored(db, ctx, id).await?;
    let sha256 = row.report_sha256.ok_or_else(|| ServiceError::conflict("no_report", "this import has no report yet: run the dry run"))?;
    let content = files.blobs.open(ctx.org.id.0, &sha256).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
    let stem = row.file_name.rsplit_once('.').map_or(row.file_name.as_str(), |(s, _)| s).to_owned();
    Ok((format!("{stem}-report.csv"), content))
}
