//! Importing customers in the web app, the API's steps as pages: upload a
//! CSV or XLSX file (with the template to start from), see its first rows
//! and map each column (suggested from its header), run the dry run, read
//! its report (per row and column, downloadable as CSV), then import the
//! valid rows. While the worker runs a step, the page shows its progress
//! and reloads itself every second.

use askama::Template;
use axum::Form;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::data::import_run::{ImportStatus, ImportStep, KEEP_AS_CUSTOM_FIELD};
use dossier_service::data::import::{self, MappingInput, RowStatus};
use dossier_service::data::import_runs::{self, ImportRun};
use dossier_service::{Ctx, Db, ServiceError};

use crate::AppState;
use crate::downloads::attachment;
use crate::ui::forms::{Values, capitalised};
use crate::ui::nav::Viewer;
use crate::ui::views::day;
use crate::ui::{Staff, failure, page};

struct ListedImport {
    id: String,
    file_name: String,
    by: String,
    when: String,
    status: String,
    created: u64,
}

#[derive(Template)]
#[template(path = "ui/imports.html")]
struct ImportsPage {
    user: Option<Viewer>,
    imports: Vec<ListedImport>,
    error: Option<String>,
}

/// `GET /imports`: the upload form, the template, the latest imports.
pub async fn show(State(s): State<AppState>, Staff(ctx): Staff) -> Response {
    imports_page(&s.db, &ctx, None).await
}

async fn imports_page(db: &Db, ctx: &Ctx, error: Option<String>) -> Response {
    let runs = match import_runs::list_imports(db, ctx).await {
        Ok(runs) => runs,
        Err(e) => return failure(e),
    };
    let imports = runs
        .into_iter()
        .map(|r| ListedImport {
            id: r.id.to_string(),
            file_name: r.file_name.clone(),
            by: r.by.clone(),
            when: day(&ctx.org, r.created_at),
            status: status_words(&r),
            created: r.report.as_ref().map_or(0, |rep| rep.created),
        })
        .collect();
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    page(status, &ImportsPage { user: Some(Viewer::of(ctx)), imports, error })
}

fn status_words(run: &ImportRun) -> String {
    match (run.status, run.step) {
        (ImportStatus::Uploaded, _) => "Uploaded: map the columns".into(),
        (ImportStatus::Queued, ImportStep::Check) => "Dry run waiting to start".into(),
        (ImportStatus::Running, ImportStep::Check) => "Dry run running".into(),
        (ImportStatus::Queued, ImportStep::Import) => "Import waiting to start".into(),
        (ImportStatus::Running, ImportStep::Import) => "Importing".into(),
        (ImportStatus::Checked, _) => "Dry run done: ready to import".into(),
        (ImportStatus::Done, _) => "Imported".into(),
        (ImportStatus::Failed, ImportStep::Check) => "Dry run failed".into(),
        (ImportStatus::Failed, ImportStep::Import) => "Import failed".into(),
    }
}

/// `POST /imports` (multipart): keep the file and show its mapping.
pub async fn upload(State(s): State<AppState>, Staff(ctx): Staff, request: Request) -> Response {
    let received = match crate::uploads::receive(&s.files, request).await {
        Ok(received) => received,
        Err(e) => return imports_page(&s.db, &ctx, Some(readable(e))).await,
    };
    let Some(upload) = received.uploads.into_iter().next() else {
        return imports_page(&s.db, &ctx, Some("Choose the file to import.".into())).await;
    };
    match import_runs::upload(&s.db, &s.files, &ctx, upload).await {
        Ok(run) => Redirect::to(&format!("/imports/{}", run.id)).into_response(),
        Err(e @ (ServiceError::Invalid(_) | ServiceError::TooLarge { .. })) => imports_page(&s.db, &ctx, Some(readable(e))).await,
        Err(e) => failure(e),
    }
}

/// An input error as one sentence for the page.
fn readable(error: ServiceError) -> String {
    match error {
        ServiceError::Invalid(errors) => errors.0.iter().map(|e| capitalised(&e.message)).collect::<Vec<_>>().join(" "),
        e => capitalised(&e.to_string()),
    }
}

struct MappedColumn {
    index: usize,
    header: String,
    example: String,
    /// `(value, label, selected)`.
    options: Vec<(String, String, bool)>,
    error: Option<String>,
}

struct ShownOutcome {
    row: usize,
    status: &'static str,
    customer: String,
    column: String,
    message: String,
}

#[derive(Template)]
#[template(path = "ui/import.html")]
struct ImportPage {
    user: Option<Viewer>,
    id: String,
    file_name: String,
    status: String,
    shape: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    columns: Vec<MappedColumn>,
    may_check: bool,
    may_import: bool,
    busy: bool,
    done: bool,
    progress: Option<(u64, u64, u8, String)>,
    summary: Option<String>,
    outcomes: Vec<ShownOutcome>,
    more_outcomes: bool,
    has_report: bool,
    valid: u64,
    error: Option<String>,
}

fn mapping_columns(run: &ImportRun, mapping: &MappingInput, errors: &[(usize, String)]) -> Vec<MappedColumn> {
    let Some(preview) = &run.preview else { return Vec::new() };
    preview
        .header
        .iter()
        .enumerate()
        .map(|(i, header)| {
            let chosen = mapping.columns.get(i).cloned().flatten().unwrap_or_default();
            let mut options = vec![(String::new(), "Ignore this column".to_owned(), chosen.is_empty())];
            options.push((KEEP_AS_CUSTOM_FIELD.to_owned(), format!("Keep as a new custom field “{}”", header.trim()), chosen == KEEP_AS_CUSTOM_FIELD));
            options.extend(preview.columns.iter().map(|c| (c.value.clone(), c.label.clone(), c.value == chosen)));
            MappedColumn {
                index: i,
                header: header.clone(),
                example: preview.rows.first().and_then(|r| r.get(i)).cloned().unwrap_or_default(),
                options,
                error: errors.iter().find(|(c, _)| *c == i).map(|(_, m)| capitalised(m)),
            }
        })
        .collect()
}

fn import_page(ctx: &Ctx, run: ImportRun, mapping: Option<MappingInput>, column_errors: &[(usize, String)], error: Option<String>) -> Response {
    let mapping = mapping.unwrap_or_else(|| run.mapping.clone());
    let columns = mapping_columns(&run, &mapping, column_errors);
    let busy = run.status.is_busy();
    let progress = (busy || run.progress.rows_total > 0 && run.status == ImportStatus::Running).then(|| {
        let p = &run.progress;
        let speed = match (p.rows_per_second, p.seconds_left) {
            (Some(rate), Some(left)) => format!(" · {rate} rows per second · about {left} s left"),
            _ => String::new(),
        };
        (p.rows_done, p.rows_total, p.percent, speed)
    });
    let report = run.report.as_ref();
    let summary = report.map(|r| {
        let verb = if r.dry_run { "would be imported" } else { "imported" };
        format!(
            "{} rows: {} {verb}, {} invalid, {} repeated in the file, {} imported before, {} probable duplicates of customers already here.",
            r.rows,
            if r.dry_run { r.valid } else { r.created },
            r.invalid,
            r.duplicates_in_file,
            r.already_imported,
            r.probable_duplicates
        )
    });
    let mut outcomes = Vec::new();
    if let Some(r) = report {
        for o in &r.outcomes {
            let status = match o.status {
                RowStatus::Valid => "would be imported",
                RowStatus::Created => "imported",
                RowStatus::Invalid => "invalid",
                RowStatus::DuplicateInFile => "repeated in the file",
                RowStatus::AlreadyImported => "imported before",
            };
            let notes: Vec<_> = o.issues.iter().chain(&o.warnings).collect();
            if notes.is_empty() {
                outcomes.push(ShownOutcome {
                    row: o.row,
                    status,
                    customer: o.customer.clone().unwrap_or_default(),
                    column: String::new(),
                    message: String::new(),
                });
            }
            for issue in notes {
                let column = issue.column.and_then(|c| r.header.get(c)).cloned().unwrap_or_default();
                outcomes.push(ShownOutcome {
                    row: o.row,
                    status,
                    customer: o.customer.clone().unwrap_or_default(),
                    column,
                    message: capitalised(&issue.message),
                });
            }
        }
    }
    let more_outcomes = report.is_some_and(|r| r.outcomes.len() >= import_runs::SHOWN_OUTCOMES);
    let (shape, header, rows) = match &run.preview {
        Some(p) => {
            let shape = format!(
                "{}, {}{}",
                p.shape.format.to_uppercase(),
                p.shape.encoding,
                p.shape.separator.as_deref().map(|s| format!(", separated by {s}")).unwrap_or_default()
            );
            (shape, p.header.clone(), p.rows.clone())
        }
        None => Default::default(),
    };
    let data = ImportPage {
        user: Some(Viewer::of(ctx)),
        id: run.id.to_string(),
        file_name: run.file_name.clone(),
        status: status_words(&run),
        shape,
        header,
        rows,
        columns,
        may_check: run.status.may_check(run.step),
        may_import: run.status.may_import(run.step) && report.is_some_and(|r| r.valid > 0),
        busy,
        done: run.status == ImportStatus::Done,
        progress,
        summary,
        outcomes,
        more_outcomes,
        has_report: report.is_some(),
        valid: report.map_or(0, |r| r.valid),
        error: error.or(run.error.clone()),
    };
    let status = if column_errors.is_empty() && data.error.is_none() || run.error.is_some() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page(status, &data)
}

/// `GET /imports/{id}`: the step the import is at.
pub async fn show_import(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match import_runs::get_import(&s.db, &ctx, &id).await {
        Ok(run) => import_page(&ctx, run, None, &[], None),
        Err(e) => failure(e),
    }
}

/// `POST /imports/{id}/dry-run`: the mapping as chosen (`column_<i>`).
pub async fn check(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let run = match import_runs::get_import(&s.db, &ctx, &id).await {
        Ok(run) => run,
        Err(e) => return failure(e),
    };
    let width = run.preview.as_ref().map_or(0, |p| p.header.len());
    let columns = (0..width).map(|i| values.get(&format!("column_{i}")).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())).collect();
    let mapping = MappingInput { columns };
    match import_runs::check(&s.db, &ctx, &id, mapping.clone()).await {
        Ok(run) => Redirect::to(&format!("/imports/{}", run.id)).into_response(),
        Err(ServiceError::Invalid(errors)) => {
            let mut by_column = Vec::new();
            let mut general = Vec::new();
            for e in &errors.0 {
                match e.field.strip_prefix("columns[").and_then(|f| f.strip_suffix(']')).and_then(|n| n.parse().ok()) {
                    Some(i) => by_column.push((i, e.message.clone())),
                    None => general.push(capitalised(&e.message)),
                }
            }
            let error = (!general.is_empty()).then(|| general.join(" "));
            import_page(&ctx, run, Some(mapping), &by_column, error.or_else(|| Some("Some columns cannot be mapped so: see below.".into())))
        }
        Err(ServiceError::Conflict { message, .. }) => import_page(&ctx, run, Some(mapping), &[], Some(message)),
        Err(e) => failure(e),
    }
}

/// `POST /imports/{id}/run`: import the valid rows.
pub async fn start(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match import_runs::start(&s.db, &ctx, &id).await {
        Ok(run) => Redirect::to(&format!("/imports/{}", run.id)).into_response(),
        Err(ServiceError::Conflict { message, .. }) => match import_runs::get_import(&s.db, &ctx, &id).await {
            Ok(run) => import_page(&ctx, run, None, &[], Some(message)),
            Err(e) => failure(e),
        },
        Err(e) => failure(e),
    }
}

/// `GET /imports/{id}/report.csv`.
pub async fn report(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match import_runs::report_csv(&s.db, &s.files, &ctx, &id).await {
        Ok((name, content)) => {
            attachment("text/csv; charset=utf-8", &name, Body::from_stream(tokio_util::io::ReaderStream::new(content.reader)), Some(content.size))
        }
        Err(e) => failure(e),
    }
}

/// `GET /imports/template.csv`.
pub async fn template(State(s): State<AppState>, Staff(ctx): Staff) -> Response {
    match import::template_csv(&s.db, &ctx).await {
        Ok(csv) => attachment("text/csv; charset=utf-8", "dossier-import-template.csv", Body::from(csv), None),
        Err(e) => failure(e),
    }
}
