//! Slow readers: WebSocket clients that complete the handshake and then
//! read nothing while their target sends large messages. The bridge must
//! hold back the target (backpressure) instead of buffering: its heap stays
//! under the documented bound ([`dashlight_bridge::memory::MemoryBound`]).

use crate::counting::{live_heap, peak_heap, reset_peak};
use dashlight::network::Network;
use dashlight::protocol::framing::{Command, RawMessage};
use dashlight_bridge::memory::MemoryBound;
use dashlight_bridge::{Bridge, Config, Target};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a slow-reader run measured.
#[derive(Debug, Clone, Copy)]
pub struct SlowReport {
    /// Clients that stopped reading.
    pub readers: usize,
    /// Size of each message the target sends, again and again.
    pub message_bytes: usize,
    /// Live heap before the clients connected.
    pub heap_before: usize,
    /// Highest live heap while they were connected.
    pub heap_peak: usize,
    /// Live heap once they were all stalled.
    pub heap_stalled: usize,
    /// The documented bound for the bridge's settings.
    pub bound: MemoryBound,
    /// Bytes the bridge forwarded to the clients before they stalled.
    pub bytes_to_client: u64,
}

impl SlowReport {
    /// Heap added at the peak by the clients' connections.
    pub fn held(&self) -> usize {
        self.heap_peak.saturating_sub(self.heap_before)
    }

    /// What the bound allows for that many connections.
    pub fn allowed(&self) -> usize {
        self.readers * self.bound.per_connection
    }

    /// One line of figures.
    pub fn summary(&self) -> String {
        let kib = |bytes: usize| bytes as f64 / 1024.0;
        format!(
            "{} slow readers, target messages of {:.1} MiB: heap peak +{:.0} KiB ({:.1} KiB per connection), stalled +{:.0} KiB; documented bound {:.0} KiB per connection = {:.0} KiB; {:.1} MB reached the clients' socket buffers",
            self.readers,
            self.message_bytes as f64 / (1024.0 * 1024.0),
            kib(self.held()),
            kib(self.held()) / self.readers.max(1) as f64,
            kib(self.heap_stalled.saturating_sub(self.heap_before)),
            kib(self.bound.per_connection),
            kib(self.allowed()),
            self.bytes_to_client as f64 / 1e6,
        )
    }
}

/// A target that sends `message` again and again on every connection.
async fn flooding_target(listener: TcpListener, message: Arc<Vec<u8>>) {
    while let Ok((mut stream, _)) = listener.accept().await {
        let message = Arc::clone(&message);
        tokio::spawn(async move { while stream.write_all(&message).await.is_ok() {} });
    }
}

/// Opens a WebSocket connection by hand and reads nothing after the answer.
async fn slow_reader(addr: SocketAddr) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    stream
        .write_all(
            b"GET / HTTP/1.1\r\nHost: bridge\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut head = [0u8; 512];
    let mut len = 0;
    while !head[..len].ends_with(b"\r\n\r\n") {
        if len == head.len() {
            return Err("answer too long".to_owned());
        }
        let n = stream
            .read(&mut head[len..=len])
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed during the handshake".to_owned());
        }
        len += n;
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        return Err(format!(
            "refused: {}",
            String::from_utf8_lossy(&head[..len.min(40)])
        ));
    }
    Ok(stream)
}

/// The body of the bridge's `GET /health` (also used by the load example).
pub async fn health_body(addr: SocketAddr) -> Result<String, String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: bridge\r\n\r\n")
        .await
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .map_err(|e| e.to_string())?;
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .ok_or_else(|| "bad health response".to_owned())
}

/// The bridge's `bytes_to_client` and `relays_active` from `GET /health`.
async fn health(addr: SocketAddr) -> Result<(u64, u64), String> {
    let body = health_body(addr).await?;
    let json: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    Ok((
        json["bytes_to_client"].as_u64().unwrap_or(0),
        json["relays_active"].as_u64().unwrap_or(0),
    ))
}

/// Runs `readers` slow readers against an in-process bridge whose target
/// sends `message_bytes`-byte messages, waits until no more bytes move (or
/// `settle` passed) and reports the heap.
pub async fn run(
    readers: usize,
    message_bytes: usize,
    settle: Duration,
) -> Result<SlowReport, String> {
    let network = Network::Testnet;
    let payload: Vec<u8> = (0..message_bytes).map(|i| (i % 251) as u8).collect();
    let message = Arc::new(
        RawMessage {
            command: Command::new("mnlistdiff"),
            payload,
        }
        .to_wire(network),
    );
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let target = listener.local_addr().map_err(|e| e.to_string())?;
    let target_task = tokio::spawn(flooding_target(listener, message));

    let target = Target::new("slow", &target.to_string()).map_err(|e| e.to_string())?;
    let mut config = Config::new(network, vec![target]);
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.health_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    config.allow_private = true;
    config.rate_limit = None;
    config.max_connections = readers + 16;
    config.max_connections_per_ip = readers + 16;
    config.idle_timeout = Duration::from_secs(120);
    config.max_frame_size = 64 * 1024;
    config.max_message_size = 64 * 1024;
    config.max_target_message_size = message_bytes.max(1);
    let bound = MemoryBound::of(&config);
    let bridge = Bridge::bind(config).await.map_err(|e| e.to_string())?;
    let addr = bridge.local_addr().map_err(|e| e.to_string())?;
    let health_addr = bridge.health_addr().ok_or("no health address")?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let bridge_task = tokio::spawn(bridge.run(async {
        let _ = stop_rx.await;
    }));
    // One reader first, so that lazily built state (tracing, runtime) is
    // not counted against the connections.
    drop(slow_reader(addr).await?);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let heap_before = live_heap();
    reset_peak();
    let mut clients = Vec::with_capacity(readers);
    for _ in 0..readers {
        clients.push(slow_reader(addr).await?);
    }
    let deadline = Instant::now() + settle;
    let mut last = (0, 0);
    let bytes_to_client = loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = health(health_addr).await?;
        if (now == last && now.1 as usize >= readers) || Instant::now() >= deadline {
            break now.0;
        }
        last = now;
    };
    let heap_stalled = live_heap();
    let heap_peak = peak_heap();
    drop(clients);
    let _ = stop_tx.send(());
    let _ = bridge_task.await;
    target_task.abort();
    Ok(SlowReport {
        readers,
        message_bytes,
        heap_before,
        heap_peak,
        heap_stalled,
        bound,
        bytes_to_client,
    })
}
