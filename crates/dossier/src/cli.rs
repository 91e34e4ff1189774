//! Command-line arguments. Every option can also come from a `DOSSIER_*`
//! environment variable.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "dossier", version, about = "The customer record for service businesses")]
pub struct Cli {
    /// Log format on standard error.
    #[arg(long, env = "DOSSIER_LOG_FORMAT", value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Clone)]
pub struct DbArgs {
    /// Database: a SQLite file path (created if missing) or postgres://user@host/db.
    #[arg(long = "db", env = "DOSSIER_DATABASE_URL", default_value = "dossier-data/dossier.db")]
    pub url: String,
}

#[derive(Args, Clone)]
pub struct FileArgs {
    /// Where uploaded files' contents are kept: a folder (default: `files`
    /// beside the SQLite file, `dossier-data/files` with PostgreSQL) or
    /// `s3://bucket/prefix` (credentials and endpoint from the `AWS_*`
    /// environment variables). Back it up with the database.
    #[arg(long = "files", env = "DOSSIER_FILES")]
    pub location: Option<String>,
    /// With object storage: the local folder uploads are written to while
    /// they arrive.
    #[arg(long, env = "DOSSIER_FILES_STAGING", default_value = "dossier-data/staging")]
    pub files_staging: std::path::PathBuf,
    /// The largest file accepted, in bytes (default 25000000: 25 MB).
    #[arg(long, env = "DOSSIER_MAX_FILE_BYTES")]
    pub max_file_bytes: Option<u64>,
    /// The file types accepted, as media types separated by commas (default:
    /// image/jpeg, image/png, image/gif, image/webp, image/heic,
    /// application/pdf, application/zip, application/x-ole-storage, text/plain).
    #[arg(long, env = "DOSSIER_FILE_TYPES", value_delimiter = ',')]
    pub file_types: Vec<String>,
}

/// How the background task worker runs (in `serve` and `worker`).
#[derive(Args, Clone)]
pub struct WorkerArgs {
    /// How long an idle worker waits before looking for due tasks again, in milliseconds.
    #[arg(long, env = "DOSSIER_WORKER_POLL_MS", default_value_t = 1000)]
    pub worker_poll_ms: u64,
    /// How many due tasks a worker claims at once (then runs one after another).
    #[arg(long, env = "DOSSIER_WORKER_BATCH", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub worker_batch: u32,
    /// How long a worker holds a task it claimed, in seconds: if the worker
    /// dies, another takes the task after this.
    #[arg(long, env = "DOSSIER_WORKER_LEASE_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(5..))]
    pub worker_lease_secs: u64,
    /// The outgoing mail server for orgs that set none of their own:
    /// `smtp://user:password@host:587?tls=starttls&from=Name%20<address>`
    /// (tls: none, starttls or tls; `smtps://` means tls).
    #[arg(long, env = "DOSSIER_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The address people reach Dossier at, e.g. `https://crm.example.com`:
    /// the start of the links it emails (portal links, invitations).
    /// Default: the `--listen` address (`http://127.0.0.1:8080` for
    /// `dossier worker`). Set it behind a reverse proxy.
    #[arg(long, env = "DOSSIER_PUBLIC_URL")]
    pub public_url: Option<dossier_service::PublicUrl>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server: the JSON API and health checks (applies migrations first).
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// Address to listen on.
        #[arg(long, env = "DOSSIER_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Dossier runs behind a reverse proxy: trust its X-Forwarded-For
        /// (client address, for sign-in throttling) and X-Forwarded-Proto
        /// (https: session cookies are marked Secure).
        #[arg(long, env = "DOSSIER_TRUST_PROXY")]
        trust_proxy: bool,
        #[command(flatten)]
        files: FileArgs,
        /// Run no background task worker in this process (run `dossier
        /// worker` beside it instead).
        #[arg(long, env = "DOSSIER_NO_WORKER")]
        no_worker: bool,
        #[command(flatten)]
        worker: WorkerArgs,
    },
    /// Run the background task worker on its own (applies migrations
    /// first): for larger installations, beside servers started with
    /// `--no-worker`. Several may run at once on PostgreSQL.
    Worker {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        files: FileArgs,
        #[command(flatten)]
        worker: WorkerArgs,
    },
    /// Remove what interrupted uploads left: staged uploads, and contents no
    /// live file names (the server does this once an hour on its own).
    SweepFiles {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        files: FileArgs,
        /// Only what is at least this many seconds old.
        #[arg(long, default_value_t = 600)]
        older_than_secs: u64,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Fill the database with realistic, deterministic demo data.
    Demo {
        #[command(flatten)]
        db: DbArgs,
        /// How many customers to create.
        #[arg(long, default_value_t = 1000)]
        customers: u32,
        /// Seed of the generator: the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Leave out the small second org "Sunrise Pool Care" (the benchmark
        /// does: its figures describe one org of its scale).
        #[arg(long)]
        single_org: bool,
        /// The address `dossier serve` will listen on: the printed links use it.
        #[arg(long, env = "DOSSIER_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[command(flatten)]
        files: FileArgs,
    },
    /// Manage the businesses (orgs) this installation serves.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Manage staff users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Write a full export of one org to a ZIP file: every table as JSON
    /// Lines and CSV, the files, and a manifest with the activity chain's
    /// head (verify it with `dossier audit verify --export FILE`, load it
    /// into another database with `dossier import --export FILE`).
    Export {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        org: OrgArgs,
        #[command(flatten)]
        files: FileArgs,
        /// Where to write the ZIP file.
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
    /// Import customers (each with a primary contact and a site) from a CSV
    /// or XLSX file: shows the mapping, then checks (`--dry-run`) or imports
    /// every row with a progress bar. Importing the same file again creates
    /// nothing new. With `--export FILE` instead: load a whole org from
    /// `dossier export` into this database (the way from SQLite to
    /// PostgreSQL), then verify its activity chain here.
    Import {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        org: OrgArgs,
        /// The CSV or XLSX file.
        #[arg(required_unless_present = "export", conflicts_with = "export")]
        file: Option<std::path::PathBuf>,
        /// A full export of an org (`dossier export`) to load.
        #[arg(long)]
        export: Option<std::path::PathBuf>,
        #[command(flatten)]
        files: FileArgs,
        /// `auto` (suggested from the header names) or a JSON file
        /// `{"columns": ["given_name", null, "cf.gate_code", …]}`, one entry per column.
        #[arg(long, default_value = "auto")]
        mapping: String,
        /// Check every row and report, creating nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the report (each problem by line and column, and the rows
        /// that went in) to this CSV file.
        #[arg(long)]
        report: Option<std::path::PathBuf>,
        /// The name the customers' history gives for who imported them.
        #[arg(long, default_value = "Command line")]
        by: String,
    },
    /// Measure the import: generate a file of `--rows` customers, import it
    /// into `--db` (use an empty database) and print rows per second and
    /// peak memory.
    ImportBench {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, default_value_t = 100_000)]
        rows: u32,
    },
    /// Write a customer's statement of account as a PDF file.
    Statement {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        org: OrgArgs,
        /// The customer's code (CUS-00001) or id.
        customer: String,
        /// The statement date (YYYY-MM-DD); default today.
        #[arg(long)]
        as_of: Option<jiff::civil::Date>,
        /// First day of the period listed; default one month before the statement date.
        #[arg(long)]
        from: Option<jiff::civil::Date>,
        /// Where to write the PDF.
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
    /// Write an invoice or a quote as a PDF file.
    Document {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        org: OrgArgs,
        #[arg(value_enum)]
        kind: DocumentKind,
        /// The record's code (INV-00001, EST-00001) or id.
        reference: String,
        /// Where to write the PDF.
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
    /// Print the OpenAPI document of the JSON API.
    Openapi,
    /// Measure the server: generate (or reuse) a dataset of a named scale,
    /// start the server on loopback and drive it over HTTP with concurrent
    /// clients; print the figures as Markdown.
    Bench {
        /// S: 10,000 customers; M: 100,000; L: 1,000,000.
        #[arg(long, value_enum, default_value = "s")]
        scale: BenchScale,
        /// The database; default dossier-data/bench-<scale>.db (reused if there).
        #[arg(long = "db")]
        db: Option<String>,
        /// Concurrent clients.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Operations per scenario, after the warm-up.
        #[arg(long, default_value_t = 2000)]
        requests: usize,
        /// Operations per scenario before measuring.
        #[arg(long, default_value_t = 200)]
        warmup: usize,
    },
    /// Receive email: what a mail server pipes in.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Measure the background task worker: queue `--tasks` tasks (nightly
    /// quote expiry runs of one org) and let `--workers` workers run them;
    /// print tasks queued and run per second as Markdown.
    BenchWorker {
        /// The database: a SQLite file or postgres://…; a scratch one is best.
        #[arg(long = "db")]
        db: String,
        #[arg(long, default_value_t = 5000)]
        tasks: usize,
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// Tasks a worker claims at once.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
        batch: u32,
    },
    /// Check the activity log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum BenchScale {
    S,
    M,
    L,
}

#[derive(Args, Clone)]
pub struct OrgArgs {
    /// The org (id or exact name); needed only when the database holds several.
    #[arg(long, env = "DOSSIER_ORG")]
    pub org: Option<String>,
}

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Create an org and print its id; add its first user with `dossier user
    /// add --org <id>`. One installation serves several orgs, each with its
    /// own customers, users, settings and activity log.
    Create {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        name: String,
        /// ISO 4217 code: every amount is in its minor units (JPY 0, BHD 3).
        #[arg(long, default_value = "GBP")]
        currency: String,
        /// IANA time zone: decides "today", overdue and due dates.
        #[arg(long, default_value = "Europe/London")]
        timezone: String,
        /// Country (ISO 3166 alpha-2): phone numbers without a country code;
        /// US orgs write dates month first.
        #[arg(long, default_value = "GB")]
        region: String,
        /// A line of the postal address printed on documents (repeat for each line).
        #[arg(long = "address-line")]
        address: Vec<String>,
    },
    /// List the orgs: id, name, currency and time zone.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Show an org's settings as JSON.
    Settings {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        org: OrgArgs,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input. Creates the org
    /// first when the database has none.
    Add {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        org: OrgArgs,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// owner, admin, office, finance, sales, support or fieldworker.
        #[arg(long)]
        role: String,
        /// Name of the org to create when there is none yet.
        #[arg(long, default_value = "My Business")]
        org_name: String,
        /// Country of the org to create (ISO 3166 alpha-2): default region for phone numbers.
        #[arg(long, default_value = "GB")]
        region: String,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print it, once, on standard output.
    Create {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        org: OrgArgs,
        #[arg(long)]
        email: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "command line")]
        name: String,
    },
}

#[derive(Subcommand)]
pub enum MailCommand {
    /// Take one RFC 5322 message on standard input (as a mail server's
    /// pipe delivers it: Postfix `mailbox_command`, an alias `|dossier mail
    /// ingest --org acme`) and put it on the customer it concerns, or in
    /// the inbox. Exits 0 when it was stored, matched or not, or had been
    /// received before; 65 (data error: the server returns the mail to its
    /// sender) with a one-line reason when it is refused; 75 (try again
    /// later) when the database cannot be reached.
    Ingest {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        org: OrgArgs,
        #[command(flatten)]
        files: FileArgs,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute every activity row's hash and walk each org's chain. Exits
    /// non-zero and names the first bad row if anything was altered.
    Verify {
        #[command(flatten)]
        db: DbArgs,
        /// Only this org (id or exact name); default every org.
        #[arg(long, env = "DOSSIER_ORG")]
        org: Option<String>,
        /// Verify this export file (`dossier export`) instead of the
        /// database, offline: its activity chain up to the head its
        /// manifest recorded, its tables' row counts and its files.
        #[arg(long)]
        export: Option<std::path::PathBuf>,
    },
}

/// The documents `dossier document` writes.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum DocumentKind {
    Invoice,
    Quote,
}
