//! The `dashlight-bridge` command: parses flags (and the optional TOML file),
//! starts the bridge, reloads its TLS certificate on SIGHUP and stops it
//! gracefully on SIGINT or SIGTERM.

use clap::Parser;
use dashlight_bridge::{logging, Bridge, Cli, Config};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_cli(Cli::parse()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("dashlight-bridge: {err}");
            return ExitCode::from(2);
        }
    };
    if let Err(err) = logging::init(config.log_format, &config.log_level) {
        eprintln!("dashlight-bridge: {err}");
        return ExitCode::from(2);
    }
    let shutdown = match shutdown_signal() {
        Ok(shutdown) => shutdown,
        Err(err) => {
            tracing::error!(error = %err, "cannot install signal handlers");
            return ExitCode::FAILURE;
        }
    };
    let bridge = match Bridge::bind(config).await {
        Ok(bridge) => bridge,
        Err(err) => {
            tracing::error!(error = %err, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    if let Err(err) = reload_on_sighup(bridge.tls()) {
        tracing::error!(error = %err, "cannot install the SIGHUP handler");
        return ExitCode::FAILURE;
    }
    bridge.run(shutdown).await;
    ExitCode::SUCCESS
}

/// Reloads the TLS certificate and key on every SIGHUP (keeping the old
/// ones if the new files are unusable); without TLS, SIGHUP is logged and
/// otherwise ignored.
#[cfg(unix)]
fn reload_on_sighup(tls: Option<dashlight_bridge::tls::Tls>) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            match tls.as_ref().map(|tls| tls.reload()) {
                None => tracing::info!("SIGHUP: no TLS certificate to reload"),
                Some(Ok(())) => tracing::info!("SIGHUP: TLS certificate reloaded"),
                Some(Err(err)) => {
                    tracing::error!(error = %err, "SIGHUP: TLS reload failed; keeping the old certificate")
                }
            }
        }
    });
    Ok(())
}

/// No SIGHUP: the certificate is loaded once.
#[cfg(not(unix))]
fn reload_on_sighup(_tls: Option<dashlight_bridge::tls::Tls>) -> std::io::Result<()> {
    Ok(())
}

/// Installs the SIGINT and SIGTERM handlers now (so that no signal arriving
/// after start-up kills the process) and returns a future completing on the
/// first of them.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        let name = tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        };
        tracing::info!(signal = name, "shutdown signal received");
    })
}

/// A future completing on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received");
    })
}
