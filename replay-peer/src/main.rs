//! `dashlight-replay-peer`: serve captured Dash data over P2P (see README.md).

use clap::Parser;
use dashlight_replay_peer::config::Options;
use dashlight_replay_peer::{load_fixtures, start};
use std::io::IsTerminal;
use std::process::ExitCode;
use tracing::{error, info, warn};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .compact()
        .init();
    let options = Options::parse();
    let fixtures = match load_fixtures(&options) {
        Ok(fixtures) => fixtures,
        Err(err) => {
            error!("cannot load the fixtures: {err}");
            return ExitCode::from(2);
        }
    };
    for skipped in &fixtures.skipped {
        warn!("skipped {skipped}");
    }
    let chain = &fixtures.chain;
    let (qrinfos, diffs, clsigs) = fixtures.catalog.counts();
    info!(
        network = %options.network,
        headers = format!("genesis + {}..={}", chain.first_height(), chain.last_height()),
        tip = chain.clamp_tip(options.tip_height),
        qrinfos,
        diffs,
        clsigs,
        fork = options.fork,
        "fixtures loaded"
    );
    let running = match start(fixtures, &options).await {
        Ok(running) => running,
        Err(err) => {
            error!("cannot listen: {err}");
            return ExitCode::from(2);
        }
    };
    match running.control_addr {
        Some(control) => info!(p2p = %running.p2p_addr, control = %control, "listening"),
        None => info!(p2p = %running.p2p_addr, "listening"),
    }
    if let Err(err) = tokio::signal::ctrl_c().await {
        error!("cannot wait for Ctrl-C: {err}");
        return ExitCode::FAILURE;
    }
    info!("shutting down");
    ExitCode::SUCCESS
}
