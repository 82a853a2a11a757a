//! The `howl` binary: reads the settings, binds the listener and serves until SIGTERM or
//! Ctrl-C.
//!
//! Exit codes: 0 after a graceful shutdown, 2 for unusable settings (with a line naming the
//! setting), 1 when the server cannot start or fails (with its cause on one line).

use anyhow::Context;
use howl::config::ConfigError;
use howl::Config;
use std::process::ExitCode;
use tokio::net::TcpListener;

/// jemalloc (the default `jemalloc` feature): less memory per idle connection than glibc's
/// malloc.
#[cfg(all(feature = "jemalloc", target_os = "linux"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args_os()) {
        Ok(config) => config,
        // clap prints usage errors (exit 2) and --help/--version (exit 0) itself.
        Err(ConfigError::Cli(e)) => e.exit(),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // The error is printed here, rather than returned from `main`, so it is one line with its
    // causes and never an empty backtrace block (RUST_BACKTRACE would add one).
    match serve(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn serve(config: Config) -> anyhow::Result<()> {
    howl::logging::init(config.log_format);
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    howl::run(config, listener, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
