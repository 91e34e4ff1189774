//! `dossier`: the customer record for service businesses, in one binary.

mod bench;
mod bench_worker;
mod cli;
mod commands;
mod cores;
mod import;
mod sqlite_memory;

use clap::Parser;

/// mimalloc: the loader and the server allocate many small, short-lived
/// buffers (query arguments, rows, JSON); glibc's allocator spent a quarter
/// of the demo load's CPU time on them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let sqlite_tuned = sqlite_memory::use_mimalloc();
    let cli = cli::Cli::parse();
    init_logging(&cli.log_format);
    if !sqlite_tuned {
        tracing::warn!("SQLite kept its own allocator: it was started before Dossier could give it mimalloc");
    }
    // The server uses every core; one-shot commands (demo, audit, …) run on
    // one thread, on one core with their database threads (see `cores`).
    let mut builder = match cli.command {
        cli::Command::Serve { .. } | cli::Command::Bench { .. } | cli::Command::BenchWorker { .. } | cli::Command::Worker { .. } => {
            tokio::runtime::Builder::new_multi_thread()
        }
        _ => {
            let mut builder = tokio::runtime::Builder::new_current_thread();
            if let Some(elsewhere) = cores::keep_caller_on_one_core() {
                builder.on_thread_start(elsewhere);
            }
            builder
        }
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging(format: &cli::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DOSSIER_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        cli::LogFormat::Json => builder.json().init(),
        cli::LogFormat::Text => builder.init(),
    }
}
