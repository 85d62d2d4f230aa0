//! `GET /health` and `GET /metrics`: a tiny HTTP/1.1 endpoint answering
//! with JSON counters and with the same (and more) in the Prometheus text
//! format.

use crate::stats::StatsSnapshot;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Longest request head read.
const MAX_REQUEST: usize = 8 * 1024;
/// Time allowed to send a request and receive the answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Health requests served at once.
const CONCURRENT_REQUESTS: usize = 16;

/// The JSON body of `GET /health`.
#[derive(Debug, Clone, Serialize)]
pub struct HealthReport {
    /// `"ok"`, or `"shutting_down"` once shutdown began.
    pub status: &'static str,
    /// The network Dash-aware mode expects.
    pub network: &'static str,
    /// `"dash"` or `"raw"`.
    pub mode: &'static str,
    /// Connections held now (including handshakes in progress).
    pub connections: usize,
    /// Distinct client addresses holding connections.
    pub clients: usize,
    /// The total connection cap.
    pub max_connections: usize,
    /// Seconds since start.
    pub uptime_secs: u64,
    /// Running totals.
    #[serde(flatten)]
    pub totals: StatsSnapshot,
}

/// Something that can report health now.
pub trait HealthSource: Send + Sync + 'static {
    /// The current report.
    fn report(&self) -> HealthReport;

    /// The current metrics in the Prometheus text format.
    fn metrics(&self) -> String;
}

/// Serves health requests until the task is aborted.
pub async fn serve<S: HealthSource>(listener: TcpListener, source: Arc<S>) {
    let slots = Arc::new(Semaphore::new(CONCURRENT_REQUESTS));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            continue;
        };
        let source = Arc::clone(&source);
        tokio::spawn(async move {
            let _ = tokio::time::timeout(REQUEST_TIMEOUT, answer(stream, source.as_ref())).await;
            drop(slot);
        });
    }
}

async fn answer<S: HealthSource>(mut stream: TcpStream, source: &S) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    let request_line = head.split(|&b| b == b'\r').next().unwrap_or_default();
    let mut parts = request_line.split(|&b| b == b' ');
    let (method, path) = (parts.next(), parts.next());
    const JSON: &str = "application/json";
    let (status, content_type, body) = match (method, path) {
        (Some(b"GET"), Some(b"/health")) => (
            "200 OK",
            JSON,
            serde_json::to_string(&source.report())
                .unwrap_or_else(|_| "{\"status\":\"error\"}".to_owned()),
        ),
        (Some(b"GET"), Some(b"/metrics")) => {
            ("200 OK", crate::metrics::CONTENT_TYPE, source.metrics())
        }
        (Some(b"GET"), Some(_)) => (
            "404 Not Found",
            JSON,
            "{\"error\":\"not found\"}".to_owned(),
        ),
        _ => (
            "405 Method Not Allowed",
            JSON,
            "{\"error\":\"only GET /health and GET /metrics\"}".to_owned(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
