//! The `dashlight-bridge` command: parses flags (and the optional TOML file),
//! starts the bridge and stops it gracefully on SIGINT or SIGTERM.

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
    let bridge = match Bridge::bind(config).await {
        Ok(bridge) => bridge,
        Err(err) => {
            tracing::error!(error = %err, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    bridge.run(shutdown_signal()).await;
    ExitCode::SUCCESS
}

/// Completes on the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot watch SIGTERM; only SIGINT stops the bridge");
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutdown signal received");
}
