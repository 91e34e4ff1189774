//! Importing customers with their first contact and site from a CSV or
//! XLSX file: preview with a suggested mapping, a dry run that writes
//! nothing, and the import itself.
//!
//! The file is read on a blocking thread, which also parses each row (the
//! CPU work: phone numbers, emails, postcodes) and hands batches of
//! [`IMPORT_BATCH_ROWS`] to the writer over a short channel, so memory
//! stays flat whatever the file's size. Each batch is ONE transaction:
//! its customers, contacts, sites, search terms, activities (chained in
//! one go) and import keys, so a failure half-way leaves whole batches or
//! nothing, and no request holds SQLite's single writer for long.
//!
//! Importing the same file again creates nothing new: each row's key —
//! its reference (`ref:<value>`) when a reference column is mapped, else
//! its fingerprint (`row:<hash of its cells>`) — is kept with the customer
//! it created, and a row whose key is known is skipped. A reference that
//! is the code of a customer already here with the row's name (a Dossier
//! export re-imported) is known too: the row is that customer, already here.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

pub use dossier_domain::activity::{Actor, ActorType};
use dossier_domain::code::CodeKind;
use dossier_domain::code::CodeRef;
use dossier_domain::custom_fields::{Definitions, FieldEntity};
use dossier_domain::customer::{CustomerStatus, StatusChange};
use dossier_domain::data::csv_cell::{neutralise, unneutralise};
pub use dossier_domain::data::import::MappingInput;
use dossier_domain::data::import::{ImportField, Mapping, template_example, template_header};
use dossier_domain::data::import_row::{CellIssue, ImportedRow, RowReader, fingerprint};
use dossier_domain::ids::CustomerId;
use dossier_domain::limits::IMPORT_BATCH_ROWS;
use dossier_domain::permissions::{Action, Module};
use dossier_store::queries as q;
use dossier_store::{Db, ImportRow};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::read::{self, FileShape, ReadError};
use crate::customers::{CustomerBundle, ImportOrigin, change_status_in, import_customers_in};
use crate::{Ctx, Result, ServiceError};

/// Rows a preview shows.
pub const PREVIEW_ROWS: usize = 10;

/// The tables an import grows.
const GROWN_TABLES: [&str; 6] = ["customer", "customer_search", "customer_label", "contact", "site", "import_key"];

/// How often a worker running an import renews its hold on the task.
const LEASE_RENEWAL: std::time::Duration = std::time::Duration::from_secs(30);

impl From<ReadError> for ServiceError {
    fn from(e: ReadError) -> Self {
        ServiceError::Refused { code: e.code(), message: e.to_string() }
    }
}

fn may_import(ctx: &Ctx) -> Result<()> {
    // Data in and out: who creates customers and may take them out.
    ctx.require(Module::Customers, Action::Create)?;
    ctx.require(Module::Customers, Action::Export)?;
    Ok(())
}

/// A column a file's column can be mapped to, for a form's select.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportColumn {
    /// What the mapping names it by: `given_name`, `cf.<key>`.
    pub value: String,
    pub label: String,
}

/// The first rows of a file and the mapping suggested for it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportPreview {
    pub shape: FileShape,
    pub header: Vec<String>,
    /// Up to 10 rows, as read.
    pub rows: Vec<Vec<String>>,
    /// One entry per column: what it is mapped to, or null (ignored).
    pub suggested: MappingInput,
    /// Every column a file's column can be mapped to.
    pub columns: Vec<ImportColumn>,
}

/// Our columns and the org's customer fields, as a mapping offers them.
pub fn import_columns(custom: &Definitions) -> Vec<ImportColumn> {
    ImportField::ALL
        .iter()
        .map(|f| ImportColumn { value: f.as_str().to_owned(), label: f.label().to_owned() })
        .chain(custom.iter().map(|d| ImportColumn { value: format!("cf.{}", d.key), label: format!("{} (custom field)", d.spec.label) }))
        .collect()
}

/// Read the start of the file at `path` and suggest a mapping.
pub async fn preview(db: &Db, ctx: &Ctx, path: &Path) -> Result<ImportPreview> {
    may_import(ctx)?;
    let custom = crate::custom_fields::definitions_of(db, ctx, FieldEntity::Customer).await?;
    let owned = path.to_owned();
    let (shape, (header, rows)) = blocking(move || Ok((read::shape(&owned)?, read::preview(&owned, PREVIEW_ROWS)?))).await?;
    let suggested = Mapping::suggest(&header, &custom).to_input();
    Ok(ImportPreview { shape, header, rows, suggested, columns: import_columns(&custom) })
}

/// The template: every column's name and an example row, as CSV.
pub async fn template_csv(db: &Db, ctx: &Ctx) -> Result<String> {
    may_import(ctx)?;
    let custom = crate::custom_fields::definitions_of(db, ctx, FieldEntity::Customer).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(template_header(&custom)).and_then(|_| out.write_record(template_example(&custom))).map_err(|e| ServiceError::Internal(e.to_string()))?;
    String::from_utf8(out.into_inner().map_err(|e| ServiceError::Internal(e.to_string()))?).map_err(|e| ServiceError::Internal(e.to_string()))
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| ServiceError::Internal(format!("file reader stopped: {e}")))?
}

/// What happened to one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// Would be imported (dry run).
    Valid,
    /// Imported: a customer was created.
    Created,
    /// Not imported: see its issues.
    Invalid,
    /// Not imported: the same reference, or the same row, came earlier in the file.
    DuplicateInFile,
    /// Not imported: imported before (same reference or same row).
    AlreadyImported,
}

/// One row of the report: only rows with something to say (all but
/// valid rows without warnings in a dry run).
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowOutcome {
    /// The row's number as a spreadsheet shows the file (the header is row 1).
    pub row: usize,
    pub status: RowStatus,
    /// The customer created, or imported before, by its code.
    pub customer: Option<String>,
    /// Why the row is not imported, by column.
    pub issues: Vec<CellIssue>,
    /// What to look at, not stopping the row: probable duplicates.
    pub warnings: Vec<CellIssue>,
}

/// Counts of an import or a dry run, and its rows' outcomes.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub import_id: Uuid,
    pub file_name: String,
    pub dry_run: bool,
    /// Rows read (empty rows skipped).
    pub rows: u64,
    /// Rows that are (dry run) or were imported.
    pub valid: u64,
    pub created: u64,
    pub invalid: u64,
    pub duplicates_in_file: u64,
    pub already_imported: u64,
    /// Valid rows that look like a customer already here (same email or phone).
    pub probable_duplicates: u64,
    /// Each column's name, for reading the issues' positions.
    pub header: Vec<String>,
    /// The first 1,000 rows with something to say (the CSV has them all).
    pub outcomes: Vec<RowOutcome>,
    #[serde(skip)]
    pub lines: ReportLines,
}

/// The report's lines as CSV, written to a temporary file as the rows are
/// read (the report in memory keeps only its first [`KEPT_OUTCOMES`]
/// rows), so a large file's report does not grow the importer.
#[derive(Clone, Debug, Default)]
pub struct ReportLines(Option<std::sync::Arc<tempfile::NamedTempFile>>);

/// The report's header line.
const REPORT_HEADER: [&str; 6] = ["row", "status", "customer", "column", "code", "message"];

/// Outcomes a report keeps in memory; its CSV has them all.
pub const KEPT_OUTCOMES: usize = 1_000;

impl ImportReport {
    /// The report as CSV: one line per issue or warning, and one per
    /// created row (which rows went in).
    pub fn to_csv(&self) -> String {
        if let Some(file) = &self.lines.0 {
            return std::fs::read_to_string(file.path()).unwrap_or_default();
        }
        let mut out = csv::Writer::from_writer(Vec::new());
        let _ = out.write_record(REPORT_HEADER);
        for o in &self.outcomes {
            write_outcome(&mut out, &self.header, o);
        }
        String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// Where the whole report's CSV is, when it was written as the import went.
    pub fn csv_path(&self) -> Option<&Path> {
        self.lines.0.as_deref().map(|f| f.path())
    }
}

fn write_outcome<W: std::io::Write>(out: &mut csv::Writer<W>, header: &[String], o: &RowOutcome) {
    let status = serde_json::to_value(o.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let customer = o.customer.clone().unwrap_or_default();
    let notes: Vec<&CellIssue> = o.issues.iter().chain(&o.warnings).collect();
    if notes.is_empty() {
        let _ = out.write_record([o.row.to_string(), status.clone(), customer.clone(), String::new(), String::new(), String::new()]);
    }
    for issue in notes {
        let column = issue.column.and_then(|c| header.get(c)).cloned().unwrap_or_default();
        let row = [o.row.to_string(), status.clone(), customer.clone(), column, issue.code.clone(), issue.message.clone()];
        let _ = out.write_record(row.map(|cell| neutralise(&cell)));
    }
}

/// Writes a report's outcomes to its CSV file as each batch is done.
struct ReportSink {
    file: std::sync::Arc<tempfile::NamedTempFile>,
    out: csv::Writer<std::io::BufWriter<std::fs::File>>,
}

impl ReportSink {
    fn new() -> Result<Self> {
        let io = |e: std::io::Error| ServiceError::Internal(format!("cannot write the import's report: {e}"));
        let file = tempfile::NamedTempFile::new().map_err(io)?;
        let mut out = csv::Writer::from_writer(std::io::BufWriter::new(file.reopen().map_err(io)?));
        let _ = out.write_record(REPORT_HEADER);
        Ok(ReportSink { file: std::sync::Arc::new(file), out })
    }

    /// Write the outcomes from `from` on, then keep only the first
    /// [`KEPT_OUTCOMES`] in memory.
    fn drain(&mut self, report: &mut ImportReport, from: usize) {
        for o in report.outcomes.iter().skip(from) {
            write_outcome(&mut self.out, &report.header, o);
        }
        report.outcomes.truncate(KEPT_OUTCOMES);
    }

    fn finish(mut self, report: &mut ImportReport) {
        let _ = self.out.flush();
        report.lines = ReportLines(Some(self.file));
    }
}

/// How far an import has come, for a progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub rows_done: u64,
    pub rows_total: u64,
}

/// Check every row of the file against `mapping`, writing nothing.
pub async fn dry_run(db: &Db, ctx: &Ctx, file: &ImportFile, mapping: MappingInput, progress: impl FnMut(Progress)) -> Result<ImportReport> {
    may_import(ctx)?;
    Importer::new(db, ctx, file, mapping, true).await?.go(progress).await
}

/// Import the valid rows of the file, in batches of one transaction each.
pub async fn run_import(db: &Db, ctx: &Ctx, file: &ImportFile, mapping: MappingInput, progress: impl FnMut(Progress)) -> Result<ImportReport> {
    may_import(ctx)?;
    Importer::new(db, ctx, file, mapping, false).await?.go(progress).await
}

/// A new import's row: by `ctx`'s user, now, with nothing counted yet.
pub(crate) fn new_import_row(ctx: &Ctx, file_name: String, mapping: String, status: &str, step: &str) -> ImportRow {
    let now = ctx.now().as_microsecond();
    ImportRow {
        org_id: ctx.org.id.0,
        id: Uuid::now_v7(),
        file_name,
        user_id: ctx.user_id.map(|u| u.0),
        actor_name: ctx.actor.name.clone(),
        mapping,
        status: status.to_owned(),
        total_rows: 0,
        processed_rows: 0,
        created_count: 0,
        skipped_count: 0,
        invalid_count: 0,
        error: None,
        created_at: now,
        updated_at: now,
        file_sha256: None,
        report_sha256: None,
        step: step.to_owned(),
        started_at: None,
        summary: None,
    }
}

/// A stored import's step to run: the import's row, the mapping it
/// runs with and the customer fields that mapping names.
pub(crate) struct StoredStep {
    pub row: ImportRow,
    pub mapping: MappingInput,
    pub custom: Definitions,
    pub dry_run: bool,
}

/// Run a stored import's step, the dry run or the import, for the worker
/// holding `lease`; the caller saves the outcome.
pub(crate) async fn run_stored(db: &Db, ctx: &Ctx, file: &ImportFile, step: StoredStep, lease: &crate::automation::tasks::Claimed) -> Result<ImportReport> {
    may_import(ctx)?;
    let StoredStep { row, mapping, custom, dry_run } = step;
    let mut importer = Importer::with_run(db, ctx, file, mapping, dry_run, Some((row, custom))).await?;
    importer.lease = Some(lease);
    importer.go(|_| {}).await
}

/// A file to import: where it is and the name it was given.
#[derive(Clone, Debug)]
pub struct ImportFile {
    pub path: PathBuf,
    /// The name its history says it came from (at most 200 characters kept).
    pub file_name: String,
}

/// One row as the reader thread hands it over.
struct ReadRow {
    line: usize,
    key: String,
    parsed: Result<ImportedRow, Vec<CellIssue>>,
}

struct Importer<'a> {
    db: &'a Db,
    ctx: &'a Ctx,
    file: ImportFile,
    mapping: Mapping,
    custom: Definitions,
    sites: Definitions,
    header: Vec<String>,
    dry_run: bool,
    import: ImportRow,
    /// Whether `import` is a stored run (its caller saves the outcome).
    stored: bool,
    /// The worker's task running it, whose lease is renewed as it goes.
    lease: Option<&'a crate::automation::tasks::Claimed>,
    /// Customers created when the tables' statistics were last refreshed.
    analysed_at: u64,
}

impl<'a> Importer<'a> {
    async fn new(db: &'a Db, ctx: &'a Ctx, file: &ImportFile, input: MappingInput, dry_run: bool) -> Result<Importer<'a>> {
        Self::with_run(db, ctx, file, input, dry_run, None).await
    }

    /// An importer for `stored`, an import kept by the API or the web app,
    /// with the customer fields it maps to: its row shows the progress of
    /// the dry run too, and its caller saves the outcome with the report.
    async fn with_run(
        db: &'a Db,
        ctx: &'a Ctx,
        file: &ImportFile,
        input: MappingInput,
        dry_run: bool,
        stored: Option<(ImportRow, Definitions)>,
    ) -> Result<Importer<'a>> {
        let (stored, custom) = match stored {
            Some((row, custom)) => (Some(row), custom),
            None => (None, crate::custom_fields::definitions_of(db, ctx, FieldEntity::Customer).await?),
        };
        let sites = crate::custom_fields::definitions_of(db, ctx, FieldEntity::Site).await?;
        let path = file.path.clone();
        let (header, _) = blocking(move || Ok(read::preview(&path, 0)?)).await?;
        let mapping = Mapping::parse(input, header.len(), &custom)?;
        let file_name: String = file.file_name.chars().filter(|c| !c.is_control()).take(200).collect();
        let stored_run = stored.is_some();
        let import = stored.unwrap_or_else(|| {
            let mapping = serde_json::to_string(&mapping.to_input()).unwrap_or_default();
            new_import_row(ctx, file_name.clone(), mapping, if dry_run { "checked" } else { "running" }, "import")
        });
        let file = ImportFile { path: file.path.clone(), file_name };
        Ok(Importer { db, ctx, file, mapping, custom, sites, header, dry_run, import, stored: stored_run, lease: None, analysed_at: 0 })
    }

    async fn go(mut self, mut progress: impl FnMut(Progress)) -> Result<ImportReport> {
        let path = self.file.path.clone();
        let total = blocking(move || {
            let mut n = 0u64;
            read::read_rows(&path, |_, _, _| {
                n += 1;
                ControlFlow::Continue(())
            })?;
            Ok(n)
        })
        .await?;
        self.import.total_rows = total as i64;
        if self.stored {
            self.import.started_at = Some(self.ctx.now().as_microsecond());
            self.save_counts(&ImportReport::default(), 0).await?;
        } else if !self.dry_run {
            let mut tx = self.db.begin().await?;
            q::insert_import(&mut tx.handle(), &self.import).await?;
            tx.commit().await?;
        }
        let mut report = ImportReport {
            import_id: self.import.id,
            file_name: self.file.file_name.clone(),
            dry_run: self.dry_run,
            header: self.header.clone(),
            ..ImportReport::default()
        };
        let (sender, mut batches) = tokio::sync::mpsc::channel::<Vec<ReadRow>>(2);
        let reader = self.spawn_reader(sender);
        let mut seen = Seen::default();
        let mut done = 0u64;
        progress(Progress { rows_done: 0, rows_total: total });
        let mut failure = None;
        let mut renewed_at = std::time::Instant::now();
        let mut sink = ReportSink::new()?;
        while let Some(batch) = batches.recv().await {
            done += batch.len() as u64;
            let from = report.outcomes.len();
            let outcome = self.batch(batch, &mut seen, &mut report).await;
            // Even a failed batch's rows are reported (as not imported).
            sink.drain(&mut report, from);
            if let Err(e) = outcome {
                failure = Some(e);
                break;
            }
            // The tables grow as the import goes: the planner is told each
            // time they have doubled, else its lookups by email and phone
            // read whole tables (PostgreSQL).
            if report.created >= (self.analysed_at * 2).max(IMPORT_BATCH_ROWS as u64) {
                if let Err(e) = self.db.refresh_statistics_of(&GROWN_TABLES).await {
                    failure = Some(e.into());
                    break;
                }
                self.analysed_at = report.created;
            }
            if self.stored && self.dry_run {
                // A dry run writes nothing but where it stands.
                if let Err(e) = self.save_counts(&report, done).await {
                    failure = Some(e);
                    break;
                }
            }
            if let Some(lease) = self.lease
                && renewed_at.elapsed() > LEASE_RENEWAL
            {
                renewed_at = std::time::Instant::now();
                if !matches!(lease.renew(self.db).await, Ok(true)) {
                    failure = Some(ServiceError::conflict("lease_lost", "another worker took this import over"));
                    break;
                }
            }
            progress(Progress { rows_done: done, rows_total: total });
        }
        drop(batches);
        sink.finish(&mut report);
        let read = reader.await.map_err(|e| ServiceError::Internal(format!("file reader stopped: {e}")))?;
        let failure = failure.or(read.err().map(ServiceError::from));
        if !self.dry_run && !self.stored {
            self.import.status = if failure.is_some() { "failed" } else { "done" }.to_owned();
            self.import.error = failure.as_ref().map(|e| e.to_string());
            self.save_counts(&report, done).await?;
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    async fn save_counts(&mut self, report: &ImportReport, done: u64) -> Result<()> {
        self.import.processed_rows = done as i64;
        self.import.created_count = report.created as i64;
        self.import.skipped_count = (report.already_imported + report.duplicates_in_file) as i64;
        self.import.invalid_count = report.invalid as i64;
        self.import.updated_at = self.ctx.now().as_microsecond();
        let mut tx = self.db.begin().await?;
        q::update_import(&mut tx.handle(), &self.import).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Read and parse rows on a blocking thread, in batches.
    fn spawn_reader(&self, sender: tokio::sync::mpsc::Sender<Vec<ReadRow>>) -> tokio::task::JoinHandle<Result<(), ReadError>> {
        let (path, mapping, custom, sites) = (self.file.path.clone(), self.mapping.clone(), self.custom.clone(), self.sites.clone());
        let (region, currency) = (self.ctx.org.region, self.ctx.org.currency.clone());
        let ref_column = mapping.column_of(ImportField::ExternalRef);
        tokio::task::spawn_blocking(move || {
            let reader = RowReader::new(&mapping, region, &currency, &custom, &sites);
            let mut batch = Vec::with_capacity(IMPORT_BATCH_ROWS);
            read::read_rows(&path, |_, line, cells| {
                // A cell a Dossier export neutralised (`'+44 7700 900123`)
                // reads as it was.
                let cells: Vec<String> = cells.into_iter().map(|c| if c.starts_with('\'') { unneutralise(&c).to_owned() } else { c }).collect();
                let reference = ref_column.and_then(|c| cells.get(c)).map(|r| r.trim()).filter(|r| !r.is_empty());
                let key = match reference {
                    Some(r) => format!("ref:{r}"),
                    None => format!("row:{}", fingerprint(&cells)),
                };
                batch.push(ReadRow { line, key, parsed: reader.read(&cells) });
                if batch.len() == IMPORT_BATCH_ROWS && sender.blocking_send(std::mem::replace(&mut batch, Vec::with_capacity(IMPORT_BATCH_ROWS))).is_err() {
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            })?;
            if !batch.is_empty() {
                let _ = sender.blocking_send(batch);
            }
            Ok(())
        })
    }

    async fn batch(&mut self, batch: Vec<ReadRow>, seen: &mut Seen, report: &mut ImportReport) -> Result<()> {
        report.rows += batch.len() as u64;
        // What this org has imported before, and who it has already, by these rows' keys.
        let keys: Vec<String> = batch.iter().map(|r| r.key.clone()).collect();
        let terms: Vec<String> =
            batch.iter().filter_map(|r| r.parsed.as_ref().ok()).flat_map(|row| row.keys.iter().map(|k| k.trim_start_matches('+').to_owned())).collect();
        let (known, existing) = {
            let mut conn = self.db.read().await?;
            let h = &mut conn.handle();
            (q::imported_keys(h, self.ctx.org.id.0, &keys).await?, q::customers_by_terms(h, self.ctx.org.id.0, &terms).await?)
        };
        let mut known = known;
        self.known_by_code(&batch, &mut known).await?;
        let codes = self.codes_of(&known).await?;
        let mut existing_by_term: HashMap<String, Vec<String>> = HashMap::new();
        for (term, _, number) in &existing {
            let code = self.ctx.org.code(CodeKind::Customer, *number);
            let list = existing_by_term.entry(term.clone()).or_default();
            if !list.contains(&code) {
                list.push(code);
            }
        }
        let mut to_create: Vec<(usize, String, ImportedRow)> = Vec::new();
        for row in batch {
            let ReadRow { line, key, parsed } = row;
            let mut outcome = RowOutcome { row: line, status: RowStatus::Valid, customer: None, issues: Vec::new(), warnings: Vec::new() };
            if let Some(customer) = known.get(&key) {
                outcome.status = RowStatus::AlreadyImported;
                outcome.customer = codes.get(customer).cloned();
                report.already_imported += 1;
                report.outcomes.push(outcome);
                continue;
            }
            if let Some(first) = seen.keys.get(&key) {
                outcome.status = RowStatus::DuplicateInFile;
                let what = if key.starts_with("ref:") { "the same reference" } else { "the same row" };
                let column = if key.starts_with("ref:") { self.mapping.column_of(ImportField::ExternalRef) } else { None };
                outcome.issues.push(CellIssue::new(column, "duplicate_in_file", format!("{what} is on row {first}")));
                report.duplicates_in_file += 1;
                report.outcomes.push(outcome);
                continue;
            }
            seen.keys.insert(key.clone(), line);
            match parsed {
                Err(issues) => {
                    outcome.status = RowStatus::Invalid;
                    outcome.issues = issues;
                    report.invalid += 1;
                    report.outcomes.push(outcome);
                }
                Ok(parsed) => {
                    self.warn_duplicates(&parsed, line, seen, &existing_by_term, &mut outcome);
                    if !outcome.warnings.is_empty() {
                        report.probable_duplicates += 1;
                    }
                    report.valid += 1;
                    if self.dry_run {
                        if !outcome.warnings.is_empty() {
                            report.outcomes.push(outcome);
                        }
                    } else {
                        let at = report.outcomes.len();
                        report.outcomes.push(outcome);
                        to_create.push((at, key, parsed));
                    }
                }
            }
        }
        if !self.dry_run && !to_create.is_empty() {
            self.create(to_create, report).await?;
        }
        Ok(())
    }

    /// Warn of another row of the file, or a customer already here, with
    /// one of this row's emails or phones.
    fn warn_duplicates(&self, row: &ImportedRow, line: usize, seen: &mut Seen, existing: &HashMap<String, Vec<String>>, outcome: &mut RowOutcome) {
        for key in &row.keys {
            let column = self.column_of_key(row, key);
            match seen.contacts.get(key) {
                Some(first) => outcome.warnings.push(CellIssue::new(column, "duplicate_in_file", format!("{key} is also on row {first}"))),
                None => {
                    seen.contacts.insert(key.clone(), line);
                }
            }
            if let Some(codes) = existing.get(key.trim_start_matches('+')) {
                outcome.warnings.push(CellIssue::new(column, "probable_duplicate", format!("{key} belongs to {} already", codes.join(", "))));
            }
        }
    }

    fn column_of_key(&self, row: &ImportedRow, key: &str) -> Option<usize> {
        let p = &row.customer.profile;
        let field = if p.email.as_ref().is_some_and(|e| e.as_str() == key) {
            ImportField::Email
        } else if p.phone.as_ref().is_some_and(|ph| ph.as_str() == key) {
            if self.mapping.column_of(ImportField::Phone).is_some() { ImportField::Phone } else { ImportField::Mobile }
        } else if key.contains('@') {
            ImportField::ContactEmail
        } else if row
            .contact
            .as_ref()
            .is_some_and(|c| c.phones.iter().any(|ph| ph.number.as_str() == key && ph.kind == dossier_domain::contact::PhoneKind::Mobile))
        {
            ImportField::Mobile
        } else {
            ImportField::ContactPhone
        };
        self.mapping.column_of(field)
    }

    /// Add to `known` the rows whose reference is the code of a customer
    /// already here (`CUS-00001`) with the row's name: a Dossier export
    /// re-imported into the same org finds its customers by their codes.
    /// Into another org the same codes name other people, so the name
    /// must match too.
    async fn known_by_code(&self, batch: &[ReadRow], known: &mut HashMap<String, Uuid>) -> Result<()> {
        let wanted: Vec<(&str, CodeRef, String)> = batch
            .iter()
            .filter(|r| !known.contains_key(&r.key))
            .filter_map(|r| {
                let code = CodeRef::parse(r.key.strip_prefix("ref:")?)?;
                Some((r.key.as_str(), code, r.parsed.as_ref().ok()?.customer.profile.display_name()))
            })
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let numbers: Vec<i64> = wanted.iter().map(|(_, code, _)| code.number).collect();
        let found = {
            let mut conn = self.db.read().await?;
            q::customers_by_numbers(&mut conn.handle(), self.ctx.org.id.0, &numbers).await?
        };
        for (key, code, name) in wanted {
            let same = |(number, text, existing, _): &&(i64, String, String, Uuid)| {
                *number == code.number && *text == code.to_string() && existing.to_lowercase() == name.to_lowercase()
            };
            if let Some((_, _, _, id)) = found.iter().find(same) {
                known.insert(key.to_owned(), *id);
            }
        }
        Ok(())
    }

    async fn codes_of(&self, known: &HashMap<String, Uuid>) -> Result<HashMap<Uuid, String>> {
        if known.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<CustomerId> = known.values().map(|id| CustomerId(*id)).collect();
        let mut codes = HashMap::new();
        for chunk in ids.chunks(crate::page::MAX_LIMIT as usize) {
            let names = crate::customers::customer_names(self.db, self.ctx, chunk).await?;
            codes.extend(names.into_iter().map(|(id, name)| (id.0, name.code)));
        }
        Ok(codes)
    }

    /// Create one batch's customers in one transaction.
    async fn create(&mut self, rows: Vec<(usize, String, ImportedRow)>, report: &mut ImportReport) -> Result<()> {
        let origin = ImportOrigin { import_id: self.import.id, file_name: self.file.file_name.clone() };
        let mut bundles = Vec::with_capacity(rows.len());
        let mut statuses = Vec::new();
        for (i, (_, _, row)) in rows.iter().enumerate() {
            let ImportedRow { customer, contact, site, status, .. } = row.clone();
            if status != CustomerStatus::Active {
                statuses.push((i, status));
            }
            bundles.push(CustomerBundle { ctx: self.ctx.clone(), customer, contacts: contact.into_iter().collect(), sites: site.into_iter().collect() });
        }
        let mut tx = self.db.begin_bulk().await?;
        let created = import_customers_in(&mut tx, bundles, &origin).await?;
        for (i, status) in statuses {
            let reason = format!("Imported as {status} from {}", origin.file_name);
            change_status_in(&mut tx, self.ctx, &created[i].customer.code, StatusChange { status, reason }).await?;
        }
        let keys: Vec<(String, Uuid)> = rows.iter().zip(&created).map(|((_, key, _), c)| (key.clone(), c.customer.id.0)).collect();
        q::insert_import_keys(&mut tx.handle(), self.ctx.org.id.0, self.import.id, &keys).await?;
        self.import.processed_rows = report.rows as i64;
        self.import.created_count = (report.created + created.len() as u64) as i64;
        self.import.updated_at = self.ctx.now().as_microsecond();
        q::update_import(&mut tx.handle(), &self.import).await?;
        tx.commit().await?;
        for ((at, _, _), c) in rows.iter().zip(created) {
            let outcome = &mut report.outcomes[*at];
            outcome.status = RowStatus::Created;
            outcome.customer = Some(c.customer.code);
        }
        report.created += rows.len() as u64;
        Ok(())
    }
}

/// What earlier rows of the file had: keys (reference or fingerprint) and
/// emails and phones, each with the first line it was on.
#[derive(Default)]
struct Seen {
    keys: HashMap<String, usize>,
    contacts: HashMap<String, usize>,
}
