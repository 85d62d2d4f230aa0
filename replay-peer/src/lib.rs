//! A dashd stand-in for end-to-end tests: it speaks Dash P2P over TCP and
//! serves captured testnet data (headers, QRInfos, MnListDiffs, a ChainLock)
//! from `shared/fixtures`, answering by looking up the requested block hash,
//! with flags that inject faults, and an HTTP endpoint that exposes counters.
//!
//! [`session`] holds the per-connection protocol logic (sans-IO); [`server`]
//! and [`control`] do the I/O.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod catalog;
pub mod chain;
pub mod config;
pub mod control;
pub mod counters;
pub mod faults;
pub mod fixtures;
pub mod live;
pub mod server;
pub mod session;
pub mod state;

use config::Options;
use fixtures::{Fixtures, LoadError};
use state::ReplayState;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Loads the fixtures the options describe.
pub fn load_fixtures(options: &Options) -> Result<Fixtures, LoadError> {
    fixtures::load(&options.fixture_source())
}

/// A running peer. Dropping it stops accepting and drops every client.
#[derive(Debug)]
pub struct Running {
    /// Where it accepts P2P connections.
    pub p2p_addr: SocketAddr,
    /// Where the control endpoint listens, if enabled.
    pub control_addr: Option<SocketAddr>,
    /// The shared state (counters, tip).
    pub state: Arc<ReplayState>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        self.state.kill_connections();
    }
}

/// Binds the listeners and starts serving `fixtures` as `options` say.
pub async fn start(fixtures: Fixtures, options: &Options) -> std::io::Result<Running> {
    let state = Arc::new(ReplayState::new(
        fixtures,
        options.peer_settings(),
        options.initial_tip(),
        options.live_speed(),
    ));
    let listener = TcpListener::bind(options.listen_addr()).await?;
    let p2p_addr = listener.local_addr()?;
    let timing = options.timing();
    let mut tasks = vec![tokio::spawn(server::serve(
        listener,
        Arc::clone(&state),
        timing.ping_every,
    ))];
    if state.live().is_some() {
        tasks.push(tokio::spawn(live::run(
            Arc::clone(&state),
            timing.grow.start,
        )));
    } else {
        tasks.push(tokio::spawn(server::grow(Arc::clone(&state), timing.grow)));
    }
    let control_addr = match options.control {
        Some(addr) => {
            let listener = TcpListener::bind(addr).await?;
            let bound = listener.local_addr()?;
            tasks.push(tokio::spawn(control::serve(listener, Arc::clone(&state))));
            Some(bound)
        }
        None => None,
    };
    Ok(Running {
        p2p_addr,
        control_addr,
        state,
        tasks,
    })
}
