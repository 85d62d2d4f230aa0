//! The bridge server: accepting clients, admitting them, connecting their
//! targets, relaying, health reports and graceful shutdown.

use crate::admission::{admit, Admission, Refusal};
use crate::commands::CommandSet;
use crate::config::{Config, ConfigError, Mode, RateLimit};
use crate::health::{self, HealthReport, HealthSource};
use crate::inspect::{Filter, Violation};
use crate::limits::{ConnectionLimits, ConnectionPermit, LimitSettings, Refused};
use crate::memory::WS_READ_BUFFER;
use crate::rate::TokenBucket;
use crate::relay::{self, close_frame, CloseReason, RelaySettings};
use crate::stats::Stats;
use crate::target::ConnectError;
use crate::tls::{ClientStream, Tls, TlsError};
use futures_util::SinkExt;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tracing::{debug, info, warn, Instrument};

/// The answer to a connection over the total cap, written without reading
/// the request.
const OVER_CAPACITY: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
/// The answer to a client (or proxy) over its share, written without
/// reading the request.
const OVER_SHARE: &[u8] =
    b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
/// Refusals at accept that wait for the client's request before closing,
/// so that it reads the answer instead of a reset; beyond these, refused
/// sockets are closed at once.
const LINGERING_REFUSALS: usize = 64;
/// How long a refused socket is read (and discarded) before it is closed.
const REFUSAL_LINGER: Duration = Duration::from_millis(500);

/// State shared by the accept loop, the connections and the health endpoint.
#[derive(Debug)]
struct Shared {
    config: Config,
    client_commands: Arc<CommandSet>,
    limits: Arc<ConnectionLimits>,
    global_bucket: Option<Arc<Mutex<TokenBucket>>>,
    refusals: Arc<Semaphore>,
    tls: Option<Tls>,
    stats: Stats,
    started: Instant,
    stopping: AtomicBool,
    next_id: AtomicU64,
}

impl HealthSource for Shared {
    fn report(&self) -> HealthReport {
        HealthReport {
            status: if self.stopping.load(Ordering::Relaxed) {
                "shutting_down"
            } else {
                "ok"
            },
            network: self.config.network.name(),
            mode: match self.config.mode {
                Mode::Dash => "dash",
                Mode::Raw => "raw",
            },
            connections: self.limits.total(),
            clients: self.limits.clients(),
            max_connections: self.config.max_connections,
            uptime_secs: self.started.elapsed().as_secs(),
            totals: self.stats.snapshot(),
        }
    }

    fn metrics(&self) -> String {
        crate::metrics::render(&self.report(), &self.stats)
    }
}

/// A bridge bound to its addresses, ready to run.
#[derive(Debug)]
pub struct Bridge {
    shared: Arc<Shared>,
    listener: TcpListener,
    health: Option<TcpListener>,
}

impl Bridge {
    /// Validates `config` and binds the listen (and health) addresses.
    pub async fn bind(config: Config) -> Result<Bridge, StartError> {
        config.validate().map_err(StartError::Config)?;
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some(Tls::load(cert, key).map_err(StartError::Tls)?),
            _ => None,
        };
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let stats = Stats::default();
        for target in &config.targets {
            stats.target(&target.name);
        }
        let health = match config.health_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?,
            ),
            None => None,
        };
        Ok(Bridge {
            shared: Arc::new(Shared {
                client_commands: Arc::new(config.client_commands.clone()),
                limits: ConnectionLimits::new(
                    LimitSettings {
                        max_total: config.max_connections,
                        max_per_client: config.max_connections_per_ip,
                        max_per_proxy: config.max_connections_per_proxy,
                        ipv6_prefix: config.ipv6_prefix,
                    },
                    Arc::new(config.command_budgets.clone()),
                ),
                global_bucket: config.global_rate_limit.map(|rate| {
                    Arc::new(Mutex::new(TokenBucket::new(
                        RateLimit {
                            bytes_per_sec: rate,
                            burst_bytes: rate,
                        },
                        Instant::now(),
                    )))
                }),
                refusals: Arc::new(Semaphore::new(LINGERING_REFUSALS)),
                tls,
                stats,
                started: Instant::now(),
                stopping: AtomicBool::new(false),
                next_id: AtomicU64::new(1),
                config,
            }),
            listener,
            health,
        })
    }

    /// The address WebSocket clients connect to.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The built-in TLS settings, if enabled: `reload()` them on SIGHUP.
    pub fn tls(&self) -> Option<Tls> {
        self.shared.tls.clone()
    }

    /// The health endpoint's address, if enabled.
    pub fn health_addr(&self) -> Option<SocketAddr> {
        self.health.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Serves until `shutdown` completes; then stops accepting, closes every
    /// connection with a close frame, waits up to the grace period and returns.
    pub async fn run<F: Future<Output = ()>>(self, shutdown: F) {
        let Bridge {
            shared,
            listener,
            health,
        } = self;
        let config = &shared.config;
        info!(
            listen = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            tls = shared.tls.is_some(),
            health = ?health.as_ref().and_then(|l| l.local_addr().ok()),
            network = %config.network,
            mode = ?config.mode,
            targets = ?config.targets.iter().map(|t| format!("{}={}", t.name, t.address())).collect::<Vec<_>>(),
            "bridge listening"
        );
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let health =
            health.map(|listener| tokio::spawn(health::serve(listener, Arc::clone(&shared))));
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => accept(stream, peer, &shared, &mut tasks, &stop_rx),
                    Err(err) => {
                        warn!(error = %err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        drop(listener);
        shared.stopping.store(true, Ordering::Relaxed);
        info!(
            connections = shared.limits.total(),
            "shutting down: closing connections"
        );
        let _ = stop_tx.send(true);
        let drained = tokio::time::timeout(config.shutdown_grace, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            warn!(
                remaining = tasks.len(),
                "shutdown grace period over; dropping the remaining connections"
            );
            tasks.shutdown().await;
        }
        if let Some(health) = health {
            health.abort();
        }
        info!(totals = ?shared.stats.snapshot(), "bridge stopped");
    }
}

fn accept(
    stream: TcpStream,
    peer: SocketAddr,
    shared: &Arc<Shared>,
    tasks: &mut JoinSet<()>,
    stop: &watch::Receiver<bool>,
) {
    let accepted = Instant::now();
    shared.stats.accepted();
    let permit = match shared
        .limits
        .try_acquire(peer.ip(), shared.config.trust_proxy)
    {
        Ok(permit) => permit,
        Err(refused) => {
            shared.stats.refused(refused.label());
            // Debug only: a flood of refusals must not become a flood of logs.
            debug!(peer = %peer, reason = %refused, "refused at accept");
            let answer = match refused {
                Refused::Total { .. } => OVER_CAPACITY,
                Refused::PerClient(_) | Refused::PerProxy { .. } => OVER_SHARE,
            };
            refuse(stream, answer, &shared.refusals);
            return;
        }
    };
    let _ = stream.set_nodelay(true);
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let span = tracing::info_span!("conn", id, peer = %peer);
    tasks.spawn(
        handle(
            stream,
            peer,
            accepted,
            permit,
            Arc::clone(shared),
            stop.clone(),
        )
        .instrument(span),
    );
}

/// Answers a refused socket with `answer` and closes it: after reading
/// (and discarding) its request for a moment when a lingering slot is free,
/// so that the client sees the answer rather than a reset.
fn refuse(stream: TcpStream, answer: &'static [u8], slots: &Arc<Semaphore>) {
    let Ok(slot) = Arc::clone(slots).try_acquire_owned() else {
        let _ = stream.try_write(answer);
        return;
    };
    tokio::spawn(async move {
        let mut stream = stream;
        let _ = tokio::time::timeout(REFUSAL_LINGER, async {
            stream.write_all(answer).await?;
            stream.shutdown().await?;
            let mut sink = [0u8; 512];
            while stream.read(&mut sink).await? > 0 {}
            Ok::<(), std::io::Error>(())
        })
        .await;
        drop(slot);
    });
}

/// One client from accept to close.
async fn handle(
    stream: TcpStream,
    peer: SocketAddr,
    accepted: Instant,
    mut permit: ConnectionPermit,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let config = &shared.config;
    let ws_config = WebSocketConfig::default()
        .read_buffer_size(WS_READ_BUFFER)
        .max_frame_size(Some(config.max_frame_size))
        .max_message_size(Some(config.max_message_size));
    let mut decision: Option<Result<Admission, Refusal>> = None;
    // The error type is tungstenite's handshake callback contract.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, response: Response| {
        let result = admit(request, peer.ip(), &mut permit, config);
        let reply = match &result {
            Ok(_) => Ok(response),
            Err(refusal) => Err(refusal.response()),
        };
        decision = Some(result);
        reply
    };
    let deadline = tokio::time::Instant::from(accepted + config.handshake_timeout);
    let stream = match &shared.tls {
        None => ClientStream::Plain(stream),
        Some(tls) => match tokio::time::timeout_at(deadline, tls.acceptor().accept(stream)).await {
            Ok(Ok(stream)) => ClientStream::Tls(Box::new(stream)),
            Ok(Err(err)) => {
                shared.stats.refused("tls_failed");
                info!(error = %err, "refused: TLS handshake failed");
                return;
            }
            Err(_) => {
                shared.stats.refused("handshake_timeout");
                info!(timeout = ?config.handshake_timeout, "refused: TLS handshake timed out");
                return;
            }
        },
    };
    let handshake = tokio::time::timeout_at(
        deadline,
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(ws_config)),
    )
    .await;
    let (mut ws, admission) = match (handshake, decision) {
        (Ok(Ok(ws)), Some(Ok(admission))) => {
            info!(client = %admission.client, target = %admission.target.name, "client connected");
            (ws, admission)
        }
        (_, Some(Err(refusal))) => {
            shared.stats.refused(refusal.label());
            warn!(reason = %refusal, status = refusal.status().as_u16(), "refused");
            return;
        }
        (Err(_), _) => {
            shared.stats.refused("handshake_timeout");
            info!(timeout = ?config.handshake_timeout, "refused: handshake timed out");
            return;
        }
        (Ok(Err(err)), _) => {
            shared.stats.refused("handshake_failed");
            info!(error = %err, "refused: WebSocket handshake failed");
            return;
        }
        (Ok(Ok(_)), None) => {
            shared.stats.refused("handshake_failed");
            warn!("refused: handshake finished without a decision");
            return;
        }
    };
    let connect = admission
        .target
        .connect(config.allow_private, config.connect_timeout);
    let stopping = async {
        let _ = stop.wait_for(|stopping| *stopping).await;
    };
    let tcp = tokio::select! {
        result = connect => Some(result),
        _ = stopping => None,
    };
    let tcp = match tcp {
        None => {
            send_close(&mut ws, CloseReason::Shutdown.close_frame()).await;
            return;
        }
        Some(Ok(tcp)) => tcp,
        Some(Err(err)) => {
            let code = match err {
                ConnectError::Forbidden { .. } => CloseCode::Policy,
                _ => CloseCode::Error,
            };
            warn!(target = %admission.target.name, error = %err, "closing: target connection failed");
            shared.stats.refused("target_connect");
            send_close(&mut ws, Some(close_frame(code, &err.to_string()))).await;
            return;
        }
    };
    let _ = tcp.set_nodelay(true);
    debug!(target_addr = ?tcp.peer_addr().ok(), "target connected");
    let settings = relay_settings(&shared, &permit);
    let target_stats = shared.stats.target(&admission.target.name);
    shared.stats.relay_started();
    target_stats.relays_active.fetch_add(1, Ordering::Relaxed);
    target_stats.relays_total.fetch_add(1, Ordering::Relaxed);
    let started = Instant::now();
    let outcome = relay::run(ws, tcp, settings, &shared.stats, &target_stats, &mut stop).await;
    shared.stats.relay_ended();
    target_stats.relays_active.fetch_sub(1, Ordering::Relaxed);
    shared.stats.closed(outcome.reason.label());
    if let CloseReason::ClientViolation(Violation::OverBudget(over)) = &outcome.reason {
        shared.stats.budget_hit(&over.command.name());
    }
    let seconds = started.elapsed().as_secs_f64();
    if outcome.reason.is_violation() {
        shared.stats.violation();
        warn!(
            target = %admission.target.name,
            reason = %outcome.reason,
            bytes_to_target = outcome.bytes_to_target,
            bytes_to_client = outcome.bytes_to_client,
            seconds,
            "closed for a violation"
        );
    } else {
        info!(
            target = %admission.target.name,
            reason = %outcome.reason,
            bytes_to_target = outcome.bytes_to_target,
            bytes_to_client = outcome.bytes_to_client,
            seconds,
            "closed"
        );
    }
    drop(permit);
}

/// Sends a close frame, giving up after a short while.
async fn send_close(ws: &mut WebSocketStream<ClientStream>, frame: Option<CloseFrame>) {
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.send(Message::Close(frame))).await;
}

fn relay_settings(shared: &Shared, permit: &ConnectionPermit) -> RelaySettings {
    let config = &shared.config;
    let (to_target, to_client) = match config.mode {
        Mode::Raw => (Filter::Raw, Filter::Raw),
        Mode::Dash => (
            Filter::dash(
                config.network,
                config.max_message_size,
                Some(Arc::clone(&shared.client_commands)),
                permit.budget(),
            ),
            Filter::dash_stream(config.network, config.max_target_message_size),
        ),
    };
    RelaySettings {
        to_target,
        to_client,
        rate_limit: config.rate_limit,
        global_limit: shared.global_bucket.clone(),
        idle_timeout: config.idle_timeout,
    }
}

/// Why the bridge could not start.
#[derive(Debug)]
pub enum StartError {
    /// The settings are invalid.
    Config(ConfigError),
    /// The TLS certificate or key is unusable.
    Tls(TlsError),
    /// An address could not be bound.
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(err) => write!(f, "{err}"),
            Self::Tls(err) => write!(f, "TLS: {err}"),
            Self::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(err) => Some(err),
            Self::Tls(err) => Some(err),
            Self::Bind { source, .. } => Some(source),
        }
    }
}
