//! `dossier import` and `dossier import-bench`: customers from a file, with
//! a progress bar (rows per second, time left).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use dossier_service::data::import::{self, Actor, ActorType, ImportFile, ImportReport, MappingInput, Progress};
use dossier_service::{Ctx, Db, users};
use indicatif::{ProgressBar, ProgressStyle};

/// What `dossier import` was asked.
pub struct ImportArgs {
    pub org: Option<String>,
    pub file: PathBuf,
    pub mapping: String,
    pub dry_run: bool,
    pub report: Option<PathBuf>,
    pub by: String,
}

pub async fn import_file(db: &Db, args: ImportArgs) -> anyhow::Result<ImportReport> {
    let org = users::org_for_cli(db, args.org.as_deref(), users::OrgChoice::Existing).await?;
    let actor = Actor { kind: ActorType::System, id: None, name: args.by.clone() };
    let ctx = Ctx::new(org, actor, None, None);
    let file_name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "import".into());
    let file = ImportFile { path: args.file.clone(), file_name };
    let preview = import::preview(db, &ctx, &file.path).await?;
    let mapping = match args.mapping.as_str() {
        "auto" => preview.suggested.clone(),
        path => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the mapping {path}"))?;
            serde_json::from_str::<MappingInput>(&text).with_context(|| format!("{path} is not a mapping: {{\"columns\": [\"given_name\", null, …]}}"))?
        }
    };
    eprintln!(
        "{}: {}, {}{}",
        file.file_name,
        preview.shape.format,
        preview.shape.encoding,
        preview.shape.separator.as_deref().map(|s| format!(", separated by {s}")).unwrap_or_default()
    );
    for (header, target) in preview.header.iter().zip(&mapping.columns) {
        eprintln!("  {header:<30} → {}", target.as_deref().unwrap_or("(ignored)"));
    }
    let bar = ProgressBar::new(0);
    bar.set_style(ProgressStyle::with_template("{spinner} rows {pos}/{len} [{bar:40}] {per_sec} eta {eta}").unwrap_or_else(|_| ProgressStyle::default_bar()));
    let on_progress = |p: Progress| {
        bar.set_length(p.rows_total);
        bar.set_position(p.rows_done);
    };
    let report = if args.dry_run {
        import::dry_run(db, &ctx, &file, mapping, on_progress).await?
    } else {
        // As the benchmark measures it: a larger page cache for the writer
        // while the import runs (durability unchanged).
        db.bulk_load(true).await?;
        let report = import::run_import(db, &ctx, &file, mapping, on_progress).await;
        db.bulk_load(false).await?;
        report?
    };
    bar.finish_and_clear();
    if let Some(path) = &args.report {
        let written = match report.csv_path() {
            Some(csv) => std::fs::copy(csv, path).map(drop),
            None => std::fs::write(path, report.to_csv()),
        };
        written.with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(report)
}

/// The summary line of a report.
pub fn summary(report: &ImportReport) -> String {
    let verb = if report.dry_run { "would import" } else { "imported" };
    format!(
        "{} rows: {verb} {}, {} invalid, {} repeated in the file, {} imported before, {} probable duplicates of customers already here",
        report.rows,
        if report.dry_run { report.valid } else { report.created },
        report.invalid,
        report.duplicates_in_file,
        report.already_imported,
        report.probable_duplicates
    )
}

/// Generate `rows` customers as a CSV, import them and print the figures.
pub async fn bench(db: &Db, rows: u32) -> anyhow::Result<()> {
    let org = users::org_for_cli(db, None, users::OrgChoice::CreateIfNone { name: "Import Bench", region: "GB" }).await?;
    let dir = std::env::temp_dir().join(format!("dossier-import-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("customers.csv");
    write_bench_file(&path, rows)?;
    let bytes = std::fs::metadata(&path)?.len();
    let ctx = Ctx::system(org, "Import bench");
    let file = ImportFile { path: path.clone(), file_name: "customers.csv".into() };
    let mapping = import::preview(db, &ctx, &path).await?.suggested;
    db.bulk_load(true).await?;
    let started = Instant::now();
    let report = import::run_import(db, &ctx, &file, mapping, |_| {}).await?;
    let seconds = started.elapsed().as_secs_f64();
    db.bulk_load(false).await?;
    let _ = std::fs::remove_dir_all(&dir);
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok()));
    println!("| backend | rows | file | created | seconds | rows/s | peak RSS |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| {} | {rows} | {:.1} MB | {} | {seconds:.1} | {:.0} | {} |",
        db.backend(),
        bytes as f64 / 1e6,
        report.created,
        report.created as f64 / seconds,
        peak.map_or_else(|| "?".to_owned(), |kib| format!("{:.0} MB", kib as f64 / 1024.0))
    );
    Ok(())
}

/// A deterministic file like a real export: a person or a business, an
/// email, a phone, an address (each with a site), a reference.
fn write_bench_file(path: &Path, rows: u32) -> anyhow::Result<()> {
    const GIVEN: &[&str] = &["Ann", "Bob", "Cara", "Dev", "Emma", "Finn", "Gita", "Hugo", "Isla", "Jon"];
    const FAMILY: &[&str] = &["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright"];
    const TOWNS: &[(&str, &str)] = &[("Leeds", "LS1 4AP"), ("York", "YO1 7HH"), ("Bath", "BA1 1LZ"), ("Hull", "HU1 2AA"), ("Ely", "CB7 4DL")];
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "Customer ID,First Name,Last Name,Company Name,Email,Phone,Street,City,Postcode,Tags")?;
    for i in 0..rows {
        let given = GIVEN[(i % 10) as usize];
        let family = FAMILY[((i / 10) % 10) as usize];
        let (town, postcode) = TOWNS[(i % 5) as usize];
        let company = if i % 4 == 0 { format!("{family} & Sons {i}") } else { String::new() };
        writeln!(
            out,
            "B-{i},{given},{family},{company},{}.{}{i}@example.com,07911 {:06},{} High Street,{town},{postcode},{}",
            given.to_lowercase(),
            family.to_lowercase(),
            100_000 + i % 900_000,
            1 + i % 200,
            if i % 3 == 0 { "newsletter" } else { "" }
        )?;
    }
    out.flush()?;
    Ok(())
}
