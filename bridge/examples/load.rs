//! Load test of the bridge on loopback, bounded in clients and time.
//!
//! `cargo run --release -p dashlight-bridge --example load -- --clients 50 --seconds 10`
//!
//! A fake dashd on 127.0.0.1 answers `getheaders` with real testnet
//! `headers` messages (2,000 headers each, from `../shared/fixtures`) and
//! `ping` with `pong`. N clients loop over getheaders→headers and
//! ping→pong, first directly over TCP (the baseline), then for several
//! rounds through an in-process bridge in Dash-aware mode, reconnecting each
//! round. It prints connections held, MB/s relayed, round-trip percentiles,
//! the latency the bridge adds over the baseline, and the process RSS after
//! each round, together with the live heap bytes counted by a wrapping
//! global allocator (back to the same level after every round = no memory
//! growth).
//!
//! With `--slow-readers N`, it then connects N clients that read nothing
//! while their target sends large messages again and again, and checks that
//! the heap they add stays under the bound documented in the README
//! (`dashlight_bridge::memory::MemoryBound`).

use clap::Parser;
use dashlight::encode::write_compact_size;
use dashlight::network::Network;
use dashlight::protocol::framing::{Command, RawMessage, StreamDecoder};
use dashlight_bridge::budget::BudgetTable;
use dashlight_bridge::{Bridge, Config, Mode, Target};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const HEADERS_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/testnet/headers/testnet_headers_898560_947248.bin"
);
const MAX_CLIENTS: usize = 2_000;
const MAX_IDLE: usize = 4_000;
const MAX_SECONDS: u64 = 120;
const MAX_ROUNDS: u32 = 10;
const MAX_SLOW_READERS: usize = 1_000;
const NETWORK: Network = Network::Testnet;
/// Read buffer of each load client and of each fake dashd connection, so
/// that their share of the memory per connection is known (2 × 16 KiB).
const CLIENT_READ_BUFFER: usize = 16 * 1024;

#[path = "../tests/memory/counting.rs"]
mod counting;
#[path = "../tests/memory/slow_readers.rs"]
mod slow_readers;

fn live_heap_mb() -> f64 {
    counting::live_heap() as f64 / (1024.0 * 1024.0)
}

#[derive(Debug, Parser)]
#[command(about = "Loopback load test of dashlight-bridge")]
struct Args {
    /// Concurrent clients exchanging traffic (at most 2,000).
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Seconds of traffic per phase (at most 120).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Rounds through the bridge after the direct baseline (at most 10).
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Extra connections held open without traffic through the bridge (at most 4,000).
    #[arg(long, default_value_t = 0)]
    idle: usize,
    /// Relay in raw mode instead of Dash-aware mode.
    #[arg(long)]
    raw: bool,
    /// Clients that stop reading, run after the rounds (at most 1,000).
    #[arg(long, default_value_t = 0)]
    slow_readers: usize,
    /// Size in MiB of the messages the slow readers' target sends (at most 8).
    #[arg(long, default_value_t = 4)]
    slow_message_mib: usize,
}

/// Where clients connect.
#[derive(Debug, Clone)]
enum Route {
    Direct(SocketAddr),
    Bridge(String),
}

/// One client connection, either plain TCP or WebSocket through the bridge.
enum Conn {
    Tcp(TcpStream, StreamDecoder),
    Ws(
        Box<WebSocketStream<MaybeTlsStream<TcpStream>>>,
        StreamDecoder,
    ),
}

impl Conn {
    async fn open(route: &Route) -> Result<Conn, String> {
        match route {
            Route::Direct(addr) => {
                let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
                stream.set_nodelay(true).map_err(|e| e.to_string())?;
                Ok(Conn::Tcp(stream, StreamDecoder::new(NETWORK)))
            }
            Route::Bridge(url) => {
                let config = WebSocketConfig::default().read_buffer_size(CLIENT_READ_BUFFER);
                let (ws, _) =
                    tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true)
                        .await
                        .map_err(|e| e.to_string())?;
                Ok(Conn::Ws(Box::new(ws), StreamDecoder::new(NETWORK)))
            }
        }
    }

    /// Sends `request` and returns the wire size of the first `reply` message.
    async fn round_trip(&mut self, request: &[u8], reply: Command) -> Result<usize, String> {
        match self {
            Conn::Tcp(stream, decoder) => {
                stream.write_all(request).await.map_err(|e| e.to_string())?;
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    if let Some(size) = take_reply(decoder, reply)? {
                        return Ok(size);
                    }
                    let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
                    if n == 0 {
                        return Err("dashd closed".to_owned());
                    }
                    decoder.feed(buf.get(..n).unwrap_or_default());
                }
            }
            Conn::Ws(ws, decoder) => {
                ws.send(Message::binary(request.to_vec()))
                    .await
                    .map_err(|e| e.to_string())?;
                loop {
                    if let Some(size) = take_reply(decoder, reply)? {
                        return Ok(size);
                    }
                    match ws.next().await {
                        Some(Ok(Message::Binary(data))) => decoder.feed(&data),
                        Some(Ok(Message::Close(frame))) => {
                            return Err(format!("closed: {frame:?}"))
                        }
                        Some(Ok(_)) => {}
                        Some(Err(e)) => return Err(e.to_string()),
                        None => return Err("bridge closed".to_owned()),
                    }
                }
            }
        }
    }

    async fn close(self) {
        match self {
            Conn::Tcp(mut stream, _) => {
                let _ = stream.shutdown().await;
            }
            Conn::Ws(mut ws, _) => {
                let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
            }
        }
    }
}

fn take_reply(decoder: &mut StreamDecoder, reply: Command) -> Result<Option<usize>, String> {
    while let Some(message) = decoder.next_message().map_err(|e| e.to_string())? {
        if message.command == reply {
            return Ok(Some(message.payload.len() + 24));
        }
    }
    Ok(None)
}

fn wire(command: &str, payload: Vec<u8>) -> Vec<u8> {
    RawMessage {
        command: Command::new(command),
        payload,
    }
    .to_wire(NETWORK)
}

fn headers_messages(headers: &[u8]) -> Vec<Vec<u8>> {
    headers
        .chunks(2000 * 80)
        .map(|chunk| {
            let mut payload = Vec::with_capacity(chunk.len() + chunk.len() / 80 + 3);
            write_compact_size(&mut payload, (chunk.len() / 80) as u64);
            for header in chunk.chunks(80) {
                payload.extend_from_slice(header);
                payload.push(0);
            }
            wire("headers", payload)
        })
        .collect()
}

/// A `getheaders` with a one-hash locator (the fake dashd ignores it).
fn getheaders(locator: &[u8]) -> Vec<u8> {
    let mut payload = 70230u32.to_le_bytes().to_vec();
    write_compact_size(&mut payload, 1);
    payload.extend_from_slice(locator);
    payload.extend_from_slice(&[0u8; 32]);
    wire("getheaders", payload)
}

/// Serves every connection: `getheaders` → the next `headers` message,
/// `ping` → `pong`.
async fn fake_dashd(listener: TcpListener, messages: Arc<Vec<Vec<u8>>>) {
    while let Ok((stream, _)) = listener.accept().await {
        let messages = Arc::clone(&messages);
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let (mut read, mut write) = stream.into_split();
            let mut decoder = StreamDecoder::new(NETWORK);
            let mut buf = vec![0u8; CLIENT_READ_BUFFER];
            let mut next = 0usize;
            loop {
                let Ok(n) = read.read(&mut buf).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                decoder.feed(buf.get(..n).unwrap_or_default());
                while let Ok(Some(message)) = decoder.next_message() {
                    let reply = match message.command.name().as_str() {
                        "getheaders" => {
                            next = (next + 1) % messages.len();
                            messages.get(next).cloned().unwrap_or_default()
                        }
                        "ping" => wire("pong", message.payload),
                        _ => continue,
                    };
                    if write.write_all(&reply).await.is_err() {
                        return;
                    }
                }
            }
        });
    }
}

/// What one phase measured.
struct Phase {
    name: String,
    connections: usize,
    held_by_bridge: Option<u64>,
    bytes: u64,
    seconds: f64,
    pings: Vec<Duration>,
    downloads: Vec<Duration>,
    errors: Vec<String>,
    peak_rss_kb: u64,
    rss_after_kb: u64,
    heap_mid_mb: f64,
    heap_after_mb: f64,
    cpu_seconds: f64,
}

impl Phase {
    /// Removes from the heap figures the bytes this program keeps for its
    /// own measurements (`retained` by earlier phases, plus this phase's
    /// samples), so that they show the bridge and the connections only.
    /// Returns the bytes retained after this phase.
    fn exclude_measurements(&mut self, retained: usize) -> usize {
        let own = (self.pings.capacity() + self.downloads.capacity())
            * std::mem::size_of::<Duration>()
            + self.errors.iter().map(String::capacity).sum::<usize>();
        let mb = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
        self.heap_mid_mb -= mb(retained);
        self.heap_after_mb -= mb(retained + own);
        retained + own
    }
}

struct ClientResult {
    bytes: u64,
    pings: Vec<Duration>,
    downloads: Vec<Duration>,
    error: Option<String>,
}

async fn client_loop(mut conn: Conn, deadline: Instant, seed: u64) -> ClientResult {
    let mut result = ClientResult {
        bytes: 0,
        pings: Vec::new(),
        downloads: Vec::new(),
        error: None,
    };
    let mut nonce = seed;
    while Instant::now() < deadline {
        let request = getheaders(&[(nonce % 251) as u8; 32]);
        let started = Instant::now();
        match conn.round_trip(&request, Command::new("headers")).await {
            Ok(size) => {
                result.downloads.push(started.elapsed());
                result.bytes += size as u64;
            }
            Err(err) => {
                result.error = Some(err);
                break;
            }
        }
        nonce = nonce.wrapping_add(1);
        let ping = wire("ping", nonce.to_le_bytes().to_vec());
        let started = Instant::now();
        match conn.round_trip(&ping, Command::new("pong")).await {
            Ok(_) => result.pings.push(started.elapsed()),
            Err(err) => {
                result.error = Some(err);
                break;
            }
        }
    }
    conn.close().await;
    result
}

async fn run_phase(
    name: String,
    route: &Route,
    clients: usize,
    idle: usize,
    duration: Duration,
    health: Option<SocketAddr>,
) -> Result<Phase, String> {
    let mut conns = Vec::with_capacity(clients);
    for _ in 0..clients {
        conns.push(Conn::open(route).await?);
    }
    let mut idle_conns = Vec::with_capacity(idle);
    for _ in 0..idle {
        idle_conns.push(Conn::open(route).await?);
    }
    let started = Instant::now();
    let cpu_start = cpu_seconds();
    let deadline = started + duration;
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, conn)| tokio::spawn(client_loop(conn, deadline, i as u64 * 1_000_003)))
        .collect();
    tokio::time::sleep(duration / 2).await;
    let held_by_bridge = match health {
        Some(addr) => Some(health_connections(addr).await?),
        None => None,
    };
    let peak_rss_kb = rss_kb();
    let heap_mid_mb = live_heap_mb();
    let mut phase = Phase {
        name,
        connections: clients + idle,
        held_by_bridge,
        bytes: 0,
        seconds: 0.0,
        pings: Vec::new(),
        downloads: Vec::new(),
        errors: Vec::new(),
        peak_rss_kb,
        rss_after_kb: 0,
        heap_mid_mb,
        heap_after_mb: 0.0,
        cpu_seconds: 0.0,
    };
    for task in tasks {
        let result = task.await.map_err(|e| e.to_string())?;
        phase.bytes += result.bytes;
        phase.pings.extend(result.pings);
        phase.downloads.extend(result.downloads);
        phase.errors.extend(result.error);
    }
    phase.seconds = started.elapsed().as_secs_f64();
    phase.cpu_seconds = cpu_seconds() - cpu_start;
    for conn in idle_conns {
        conn.close().await;
    }
    if let Some(addr) = health {
        let deadline = Instant::now() + Duration::from_secs(10);
        while health_connections(addr).await? > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    phase.rss_after_kb = rss_kb();
    phase.heap_after_mb = live_heap_mb();
    phase.pings.sort_unstable();
    phase.downloads.sort_unstable();
    Ok(phase)
}

async fn health_connections(addr: SocketAddr) -> Result<u64, String> {
    let body = slow_readers::health_body(addr).await?;
    let json: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    json["connections"]
        .as_u64()
        .ok_or_else(|| "health has no connections".to_owned())
}

/// Resident set size of this process in kB (Linux), 0 if unknown.
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time (user + system) used by this process so far, in seconds (Linux;
/// `/proc` counts in USER_HZ = 100 ticks per second), 0 if unknown.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // Fields after the parenthesised command name; utime and stime
            // are fields 14 and 15 of the whole line.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted
        .get(rank.min(sorted.len() - 1))
        .copied()
        .unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn added(bridge: Duration, direct: Duration) -> String {
    format!(
        "{:+.3}",
        (bridge.as_secs_f64() - direct.as_secs_f64()) * 1000.0
    )
}

fn print_phase(p: &Phase) {
    println!(
        "{:<15} {:>6} {:>8} {:>9} {:>8.1} {:>7.1} {:>8.1} {:>9} {:>9} {:>9} {:>9} {:>9.1} {:>9.1} {:>9.2} {:>9.2} {:>6}",
        p.name,
        p.connections,
        p.held_by_bridge
            .map(|n| n.to_string())
            .unwrap_or_else(|| "-".to_owned()),
        p.downloads.len(),
        p.bytes as f64 / 1e6 / p.seconds,
        p.cpu_seconds,
        p.bytes as f64 / 1e6 / p.cpu_seconds.max(0.01),
        ms(percentile(&p.pings, 0.5)),
        ms(percentile(&p.pings, 0.99)),
        ms(percentile(&p.downloads, 0.5)),
        ms(percentile(&p.downloads, 0.99)),
        p.peak_rss_kb as f64 / 1024.0,
        p.rss_after_kb as f64 / 1024.0,
        p.heap_mid_mb,
        p.heap_after_mb,
        p.errors.len(),
    );
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if !(1..=MAX_CLIENTS).contains(&args.clients)
        || !(1..=MAX_SECONDS).contains(&args.seconds)
        || !(1..=MAX_ROUNDS).contains(&args.rounds)
        || args.idle > MAX_IDLE
        || args.slow_readers > MAX_SLOW_READERS
        || !(1..=8).contains(&args.slow_message_mib)
    {
        eprintln!(
            "load: --clients 1..={MAX_CLIENTS}, --seconds 1..={MAX_SECONDS}, --rounds 1..={MAX_ROUNDS}, --idle 0..={MAX_IDLE}, --slow-readers 0..={MAX_SLOW_READERS}, --slow-message-mib 1..=8"
        );
        return ExitCode::from(2);
    }
    let budget = Duration::from_secs(args.seconds * (u64::from(args.rounds) + 1) * 2 + 60);
    match tokio::time::timeout(budget, run(args)).await {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(err)) => {
            eprintln!("load: {err}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("load: did not finish within {budget:?}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let headers = std::fs::read(HEADERS_FIXTURE).map_err(|e| format!("{HEADERS_FIXTURE}: {e}"))?;
    let messages = Arc::new(headers_messages(&headers));
    let fixture_bytes: usize = messages.iter().map(Vec::len).sum();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let dashd = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(fake_dashd(listener, Arc::clone(&messages)));

    let mut config = Config::new(
        NETWORK,
        vec![Target::new("local", &dashd.to_string()).map_err(|e| e.to_string())?],
    );
    config.listen = "127.0.0.1:0".parse().map_err(|_| "listen address")?;
    config.health_listen = Some("127.0.0.1:0".parse().map_err(|_| "health address")?);
    config.allow_private = true;
    config.mode = if args.raw { Mode::Raw } else { Mode::Dash };
    config.rate_limit = None;
    // The clients loop over getheaders as fast as they can: a load test of
    // the relay, not of the budgets.
    config.command_budgets = BudgetTable::none();
    config.max_connections = args.clients + args.idle + 16;
    config.max_connections_per_ip = args.clients + args.idle + 16;
    config.idle_timeout = Duration::from_secs(args.seconds + 30);
    let bridge = Bridge::bind(config).await.map_err(|e| e.to_string())?;
    let url = format!(
        "ws://{}/local",
        bridge.local_addr().map_err(|e| e.to_string())?
    );
    let health_addr = bridge.health_addr().ok_or("no health address")?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let bridge_task = tokio::spawn(bridge.run(async {
        let _ = stop_rx.await;
    }));

    println!(
        "dashlight-bridge load test: {} clients (+{} idle through the bridge), {} s per phase, {} bridge rounds, {} mode, loopback, {} worker threads",
        args.clients,
        args.idle,
        args.seconds,
        args.rounds,
        if args.raw { "raw" } else { "Dash-aware" },
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    );
    println!(
        "traffic: loop of getheaders -> headers (2,000 real testnet headers, {} messages, {:.2} MB in all) and ping -> pong",
        messages.len(),
        fixture_bytes as f64 / 1e6
    );
    let rss_start = rss_kb();
    let heap_start = live_heap_mb();
    let duration = Duration::from_secs(args.seconds);
    let mut direct = run_phase(
        "direct TCP".to_owned(),
        &Route::Direct(dashd),
        args.clients,
        0,
        duration,
        None,
    )
    .await?;
    let mut retained = direct.exclude_measurements(0);
    let route = Route::Bridge(url);
    let mut rounds = Vec::new();
    for round in 1..=args.rounds {
        let mut phase = run_phase(
            format!("bridge round {round}"),
            &route,
            args.clients,
            args.idle,
            duration,
            Some(health_addr),
        )
        .await?;
        retained = phase.exclude_measurements(retained);
        rounds.push(phase);
    }
    let final_health = slow_readers::health_body(health_addr).await?;

    println!();
    println!(
        "{:<15} {:>6} {:>8} {:>9} {:>8} {:>7} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "phase",
        "conns",
        "held",
        "downloads",
        "MB/s",
        "CPU s",
        "MB/CPU s",
        "ping p50",
        "ping p99",
        "hdrs p50",
        "hdrs p99",
        "RSS mid",
        "RSS after",
        "heap mid",
        "heap aft",
        "errors"
    );
    print_phase(&direct);
    for round in &rounds {
        print_phase(round);
    }
    println!("(latencies in ms; 'held' = connections the bridge reported mid-phase; CPU s = process CPU time in the phase; RSS and live heap in MB of the whole process: fake dashd, clients and bridge, heap without the latency samples kept; start: RSS {:.1} MB, heap {:.2} MB)", rss_start as f64 / 1024.0, heap_start);
    println!();
    let all = |f: fn(&Phase) -> &Vec<Duration>| {
        let mut v: Vec<Duration> = rounds.iter().flat_map(|r| f(r).iter().copied()).collect();
        v.sort_unstable();
        v
    };
    let (pings, downloads) = (all(|p| &p.pings), all(|p| &p.downloads));
    println!(
        "added latency, all bridge rounds vs direct: ping p50 {} ms, p99 {} ms; headers download p50 {} ms, p99 {} ms",
        added(percentile(&pings, 0.5), percentile(&direct.pings, 0.5)),
        added(percentile(&pings, 0.99), percentile(&direct.pings, 0.99)),
        added(percentile(&downloads, 0.5), percentile(&direct.downloads, 0.5)),
        added(percentile(&downloads, 0.99), percentile(&direct.downloads, 0.99)),
    );
    if let (Some(first), Some(last)) = (rounds.first(), rounds.last()) {
        println!(
            "after bridge round 1 -> round {}: live heap {:.2} -> {:.2} MB ({:+.3} MB), RSS {:.1} -> {:.1} MB",
            rounds.len(),
            first.heap_after_mb,
            last.heap_after_mb,
            last.heap_after_mb - first.heap_after_mb,
            first.rss_after_kb as f64 / 1024.0,
            last.rss_after_kb as f64 / 1024.0,
        );
    }
    println!("bridge health after the rounds: {final_health}");
    let errors: Vec<&String> = std::iter::once(&direct)
        .chain(rounds.iter())
        .flat_map(|p| p.errors.iter())
        .collect();
    let _ = stop_tx.send(());
    bridge_task.await.map_err(|e| e.to_string())?;
    if let Some(first) = errors.first() {
        return Err(format!("{} client errors, first: {first}", errors.len()));
    }
    if args.slow_readers > 0 {
        let report = slow_readers::run(
            args.slow_readers,
            args.slow_message_mib * 1024 * 1024,
            Duration::from_secs(30),
        )
        .await?;
        println!();
        println!("{}", report.summary());
        if report.held() > report.allowed() {
            return Err("the slow readers' heap is over the documented bound".to_owned());
        }
    }
    Ok(())
}
