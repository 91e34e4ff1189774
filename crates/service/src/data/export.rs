//! A full export of one org, and loading it into another database.
//!
//! The export is a ZIP file:
//! - `manifest.json`: the format, the schema version, the org, each
//!   table's columns and row count, the files, and the head of the org's
//!   activity chain (its last sequence number and hash);
//! - `tables/<table>.jsonl` and `tables/<table>.csv`: every row of the org,
//!   one JSON object per line and the same as CSV;
//! - `files/<sha256>`: the content of every file the rows name.
//!
//! It is read from one snapshot, so it is consistent however busy the
//! server is. [`verify_export`] proves the activity log in it offline, with
//! the same walk as `dossier audit verify`; [`load_export`] loads it into
//! another (empty, or at least org-less) database: the documented way from
//! SQLite to PostgreSQL.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use dossier_domain::activity::ActivityContent;
use dossier_domain::chain::{ChainRow, ChainWalk, hex};
use dossier_domain::ids::OrgId;
use dossier_domain::permissions::{Action, Module};
use dossier_store::Db;
use dossier_store::blobs::Blobs;
use dossier_store::data::tables::{self, Column, EXPORTED};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zip::write::SimpleFileOptions;

use crate::audit::{AuditReport, BadRow};
use crate::{Ctx, Result, ServiceError};

/// What `manifest.json` holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `dossier-export`.
    pub format: String,
    pub version: u32,
    /// The newest migration of the database it came from; it loads into a
    /// database of the same schema.
    pub schema_version: i64,
    pub org_id: Uuid,
    pub org_name: String,
    pub exported_at: String,
    pub tables: Vec<ExportedTable>,
    /// The content files, by SHA-256.
    pub files: Vec<String>,
    /// Files a row names whose content the store no longer had.
    pub missing_files: Vec<String>,
    /// The head of the org's activity chain when the export was read.
    pub chain: ChainHead,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExportedTable {
    pub name: String,
    pub rows: u64,
    pub columns: Vec<Column>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChainHead {
    pub seq: i64,
    /// Hex.
    pub head: String,
}

const FORMAT: &str = "dossier-export";

pub(crate) fn io(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::conflict("export_failed", e.to_string())
}

/// How an export's entries are written: deflated, ZIP64 when large.
pub(crate) fn zip_options() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true)
}

/// Write `out` with `write` into a temporary file, and answer it open at
/// its start with its size; its name is gone already, so it leaves the
/// disk once closed.
pub(crate) async fn spooled<T, F>(write: impl FnOnce(std::path::PathBuf) -> F) -> Result<(File, u64, T)>
where
    F: std::future::Future<Output = Result<T>>,
{
    let spool = tempfile::NamedTempFile::new().map_err(io)?;
    let made = write(spool.path().to_owned()).await?;
    let file = File::open(spool.path()).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    Ok((file, size, made))
}

/// Copy the content of the blob `sha` into the ZIP as `name` (stored: it
/// is usually compressed already). False when the store no longer has it.
pub(crate) async fn copy_blob(blobs: &Blobs, org: OrgId, sha: &str, name: &str, zip: &mut zip::ZipWriter<File>) -> Result<bool> {
    use tokio::io::AsyncReadExt;
    let Ok(mut content) = blobs.open(org.0, sha).await else { return Ok(false) };
    zip.start_file(name, SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored).large_file(true)).map_err(io)?;
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let n = content.reader.read(&mut buffer).await.map_err(io)?;
        if n == 0 {
            return Ok(true);
        }
        zip.write_all(&buffer[..n]).map_err(io)?;
    }
}

/// Export the caller's org (owners and admins: settings, export) to `out`.
pub async fn export_own_org(db: &Db, blobs: &Blobs, ctx: &Ctx, out: &Path) -> Result<Manifest> {
    ctx.require(Module::Settings, Action::Export)?;
    export_org(db, blobs, ctx.org.id, out).await
}

/// Export the caller's org to a temporary file and answer it open, with
/// its size; its name is gone already, so it leaves the disk once closed.
pub async fn export_own_org_spooled(db: &Db, blobs: &Blobs, ctx: &Ctx) -> Result<(File, u64)> {
    let (file, size, _) = spooled(|path| async move { export_own_org(db, blobs, ctx, &path).await }).await?;
    Ok((file, size))
}

/// Write the export of `org` to `out` (an operator's command: no caller).
pub async fn export_org(db: &Db, blobs: &Blobs, org: OrgId, out: &Path) -> Result<Manifest> {
    let mut conn = db.read().await?;
    // The snapshot's transaction never goes back to the pool, even if the
    // export fails half-way.
    conn.close_on_drop();
    let h = &mut conn.handle();
    tables::begin_snapshot(h).await?;
    let org_row = dossier_store::queries::get_org(h, org.0).await?.ok_or(ServiceError::NotFound("org"))?;
    let schema_version = tables::schema_version(h).await?;
    let (chain_seq, chain_head) = dossier_store::queries::chain_head(h, org.0).await?.unwrap_or_default();
    let mut zip = zip::ZipWriter::new(File::create(out).map_err(io)?);
    let options = zip_options();
    let mut exported = Vec::new();
    let mut named_files = BTreeSet::new();
    for (table, org_column) in EXPORTED {
        let columns = tables::columns(h, table).await?;
        let file_columns: Vec<usize> =
            columns.iter().enumerate().filter(|(_, c)| matches!(c.name.as_str(), "sha256" | "thumbnail_sha256" | "raw_sha256")).map(|(i, _)| i).collect();
        zip.start_file(format!("tables/{table}.jsonl"), options).map_err(io)?;
        let mut csv_rows = csv::Writer::from_writer(tempfile::tempfile().map_err(io)?);
        csv_rows.write_record(columns.iter().map(|c| c.name.as_str())).map_err(io)?;
        let rows = tables::each_row(h, table, org_column, org.0, &columns, |values| {
            for &i in &file_columns {
                if let Some(sha) = values[i].as_str() {
                    named_files.insert(sha.to_owned());
                }
            }
            let object: Map<String, Value> = columns.iter().map(|c| c.name.clone()).zip(values.iter().cloned()).collect();
            let mut line = serde_json::to_vec(&object).map_err(|e| e.to_string())?;
            line.push(b'\n');
            zip.write_all(&line).map_err(|e| e.to_string())?;
            csv_rows.write_record(values.iter().map(csv_cell)).map_err(|e| e.to_string())
        })
        .await?;
        let csv_file = csv_rows.into_inner().map_err(io)?;
        // The CSV waited in a temporary file while the JSON Lines went in.
        zip.start_file(format!("tables/{table}.csv"), options).map_err(io)?;
        copy_spooled(csv_file, &mut zip)?;
        exported.push(ExportedTable { name: (*table).to_owned(), rows, columns });
    }
    tables::end_snapshot(h).await?;
    drop(conn);
    let (mut files, mut missing_files) = (Vec::new(), Vec::new());
    for sha in named_files {
        if copy_blob(blobs, org, &sha, &format!("files/{sha}"), &mut zip).await? {
            files.push(sha);
        } else {
            missing_files.push(sha);
        }
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        version: 1,
        schema_version,
        org_id: org.0,
        org_name: org_row.name,
        exported_at: jiff::Timestamp::now().to_string(),
        tables: exported,
        files,
        missing_files,
        chain: ChainHead { seq: chain_seq, head: hex(&chain_head) },
    };
    zip.start_file("manifest.json", options).map_err(io)?;
    zip.write_all(&serde_json::to_vec_pretty(&manifest).map_err(io)?).map_err(io)?;
    zip.finish().map_err(io)?;
    Ok(manifest)
}

/// A cell as CSV shows it: text as is, others as JSON.
fn csv_cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn copy_spooled(mut file: File, zip: &mut zip::ZipWriter<File>) -> Result<()> {
    use std::io::Seek;
    file.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
    std::io::copy(&mut file, zip).map_err(io)?;
    Ok(())
}

fn open(path: &Path) -> Result<zip::ZipArchive<File>> {
    zip::ZipArchive::new(File::open(path).map_err(io)?).map_err(|e| ServiceError::conflict("not_an_export", format!("not a Dossier export: {e}")))
}

fn manifest_of(archive: &mut zip::ZipArchive<File>) -> Result<Manifest> {
    let file = archive.by_name("manifest.json").map_err(|_| ServiceError::conflict("not_an_export", "not a Dossier export: it has no manifest.json"))?;
    let manifest: Manifest = serde_json::from_reader(file).map_err(|e| ServiceError::conflict("not_an_export", format!("its manifest cannot be read: {e}")))?;
    if manifest.format != FORMAT || manifest.version != 1 {
        return Err(ServiceError::conflict("not_an_export", format!("unknown export format {} {}", manifest.format, manifest.version)));
    }
    Ok(manifest)
}

/// One activity row as the export holds it.
#[derive(Deserialize)]
struct ExportedActivity {
    org_id: Uuid,
    id: Uuid,
    seq: i64,
    customer_id: Option<Uuid>,
    subject_type: String,
    subject_id: Uuid,
    subject_code: Option<String>,
    kind: String,
    grp: String,
    actor_type: String,
    actor_id: Option<Uuid>,
    actor_name: String,
    occurred_at: i64,
    summary: String,
    changes: String,
    detail: String,
    visibility: String,
    links: String,
    content_hash: String,
    chain_hash: String,
    #[serde(default)]
    erased_by: Option<Uuid>,
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2).filter_map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()).collect()
}

/// Verify an export offline: the activity log's chain up to the head the
/// manifest recorded (the same checks as `dossier audit verify`), each
/// table's row count, and each file's content against its SHA-256.
pub fn verify_export(path: &Path, mut progress: impl FnMut(u64)) -> Result<AuditReport> {
    let mut archive = open(path)?;
    let manifest = manifest_of(&mut archive)?;
    let org_id = manifest.org_id;
    let mut report = AuditReport { orgs: 1, rows_checked: 0, first_bad: None };
    let bad = |seq, activity_id, reason: String| Some(BadRow { org_id, seq, activity_id, reason });
    for table in &manifest.tables {
        let file = archive.by_name(&format!("tables/{}.jsonl", table.name)).map_err(io)?;
        let lines = BufReader::new(file).lines().count() as u64;
        if lines != table.rows {
            report.first_bad = bad(0, None, format!("tables/{}.jsonl has {lines} rows, the manifest {}", table.name, table.rows));
            return Ok(report);
        }
    }
    let mut walk = ChainWalk::default();
    let file = archive.by_name("tables/activity.jsonl").map_err(io)?;
    for line in BufReader::new(file).lines() {
        let line = line.map_err(io)?;
        let row: ExportedActivity = match serde_json::from_str(&line) {
            Ok(row) => row,
            Err(e) => {
                report.first_bad = bad(walk.last_seq() + 1, None, format!("an activity row cannot be read: {e}"));
                return Ok(report);
            }
        };
        let (content_hash, chain_hash) = (unhex(&row.content_hash), unhex(&row.chain_hash));
        let content = ActivityContent {
            version: 1,
            id: row.id,
            org_id: row.org_id,
            seq: row.seq,
            customer_id: row.customer_id,
            subject_type: &row.subject_type,
            subject_id: row.subject_id,
            subject_code: row.subject_code.as_deref(),
            kind: &row.kind,
            group: &row.grp,
            actor_type: &row.actor_type,
            actor_id: row.actor_id,
            actor_name: &row.actor_name,
            occurred_at: row.occurred_at,
            summary: &row.summary,
            changes: &row.changes,
            detail: &row.detail,
            visibility: &row.visibility,
            links: &row.links,
        };
        let chain_row = ChainRow { seq: row.seq, id: row.id, content, content_hash: &content_hash, chain_hash: &chain_hash, erased_by: row.erased_by };
        if let Err(b) = walk.step(&chain_row) {
            report.first_bad = bad(b.seq, b.activity_id, b.reason);
            return Ok(report);
        }
        report.rows_checked += 1;
        if report.rows_checked.is_multiple_of(1000) {
            progress(report.rows_checked);
        }
    }
    progress(report.rows_checked);
    if let Err(b) = walk.finish(manifest.chain.seq, &unhex(&manifest.chain.head), &Default::default()) {
        report.first_bad = bad(b.seq, b.activity_id, b.reason);
        return Ok(report);
    }
    for sha in &manifest.files {
        let mut file = archive.by_name(&format!("files/{sha}")).map_err(io)?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let n = file.read(&mut buffer).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        if hex(&hasher.finalize()) != *sha {
            report.first_bad = bad(0, None, format!("files/{sha}: its content does not match its SHA-256"));
            return Ok(report);
        }
    }
    Ok(report)
}

/// What loading an export did.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub org_id: Uuid,
    pub org_name: String,
    pub rows: u64,
    pub files: usize,
}

impl Loaded {
    /// The org loaded, as the audit names it.
    pub fn org(&self) -> OrgId {
        OrgId(self.org_id)
    }
}

/// Load an export into `db` (and its files into `blobs`), in one
/// transaction: all of it or nothing. The database must have the same
/// schema version and must not hold the org yet. Run it while nothing else
/// writes: on SQLite it holds the writer until it is done.
pub async fn load_export(db: &Db, blobs: &Blobs, path: &Path, mut progress: impl FnMut(&str, u64)) -> Result<Loaded> {
    let mut archive = open(path)?;
    let manifest = manifest_of(&mut archive)?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let version = tables::schema_version(h).await?;
    if version != manifest.schema_version {
        return Err(ServiceError::conflict(
            "schema_mismatch",
            format!(
                "the export was made at schema version {} and this database is at {version}: load it with the same Dossier version",
                manifest.schema_version
            ),
        ));
    }
    if dossier_store::queries::get_org(h, manifest.org_id).await?.is_some() {
        return Err(ServiceError::conflict("org_exists", format!("this database already holds the org {} ({})", manifest.org_name, manifest.org_id)));
    }
    let mut total = 0;
    for table in &manifest.tables {
        let file = archive.by_name(&format!("tables/{}.jsonl", table.name)).map_err(io)?;
        let mut batch = Vec::with_capacity(500);
        for line in BufReader::new(file).lines() {
            let object: Map<String, Value> = serde_json::from_str(&line.map_err(io)?).map_err(io)?;
            batch.push(table.columns.iter().map(|c| object.get(&c.name).cloned().unwrap_or(Value::Null)).collect::<Vec<_>>());
            if batch.len() == 500 {
                tables::insert_rows(h, &table.name, &table.columns, &batch).await?;
                total += batch.len() as u64;
                batch.clear();
            }
        }
        tables::insert_rows(h, &table.name, &table.columns, &batch).await?;
        total += batch.len() as u64;
        progress(&table.name, table.rows);
    }
    tx.commit().await?;
    for sha in &manifest.files {
        let mut file = archive.by_name(&format!("files/{sha}")).map_err(io)?;
        let mut bytes = Vec::with_capacity(file.size() as usize);
        file.read_to_end(&mut bytes).map_err(io)?;
        blobs.put(manifest.org_id, &bytes).await.map_err(io)?;
    }
    Ok(Loaded { org_id: manifest.org_id, org_name: manifest.org_name, rows: total, files: manifest.files.len() })
}
