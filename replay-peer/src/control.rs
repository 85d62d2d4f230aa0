//! The HTTP control endpoint, for tests (in the browser or not) to read the
//! counters and steer the peer:
//!
//! - `GET /counters`: the counters as JSON;
//! - `POST /reset`: zero the counters and re-arm the run-wide faults;
//! - `POST /kill-connections`: drop every client;
//! - `POST /tip?height=H`: move the served tip up to H and announce it;
//! - `GET /health`: `{"status":"ok", ...}`;
//! - `GET /live`: the live clock and the served tip (live mode only).
//!
//! Every answer is JSON and allows any origin (CORS), so a page served from
//! elsewhere can call it.

use crate::live::LiveReport;
use crate::state::ReplayState;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, info, warn};

/// The largest request accepted, head and body together.
const MAX_REQUEST: usize = 16 * 1024;

/// How long a client may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves the control endpoint on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, state: Arc<ReplayState>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    if let Err(error) = handle(stream, &state).await {
                        debug!(%error, "control request failed");
                    }
                });
            }
            Err(error) => {
                warn!(%error, "control accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// JSON body (none for 204).
    pub body: Option<serde_json::Value>,
}

impl Response {
    fn json(status: u16, body: serde_json::Value) -> Response {
        Response {
            status,
            body: Some(body),
        }
    }

    fn error(status: u16, message: &str) -> Response {
        Response::json(status, json!({ "error": message }))
    }
}

/// Answers `method` on `target` (path and query).
pub fn route(state: &ReplayState, method: &str, target: &str) -> Response {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match (method, path) {
        ("OPTIONS", _) => Response {
            status: 204,
            body: None,
        },
        ("GET", "/counters") => match serde_json::to_value(state.report()) {
            Ok(report) => Response::json(200, report),
            Err(error) => Response::error(500, &error.to_string()),
        },
        ("GET", "/health") => Response::json(
            200,
            json!({
                "status": "ok",
                "network": state.settings().network.name(),
                "tip_height": state.tip(),
            }),
        ),
        ("GET", "/live") => match state.live() {
            Some(clock) => match serde_json::to_value(LiveReport::new(clock, state)) {
                Ok(report) => Response::json(200, report),
                Err(error) => Response::error(500, &error.to_string()),
            },
            None => Response::error(404, "live mode is off (start with --live)"),
        },
        ("POST", "/reset") => {
            state.reset();
            info!("counters reset");
            Response::json(200, json!({ "reset": true }))
        }
        ("POST", "/kill-connections") => {
            let killed = state.kill_connections();
            info!(killed, "dropping every connection");
            Response::json(200, json!({ "killed": killed }))
        }
        ("POST", "/tip") => {
            let height = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("height="))
                .and_then(|h| h.parse::<u32>().ok());
            let Some(height) = height else {
                return Response::error(400, "expected /tip?height=<u32>");
            };
            match state.advance_tip(height) {
                Ok(tip) => {
                    info!(tip, "served tip moved through the control endpoint");
                    Response::json(200, json!({ "tip_height": tip }))
                }
                Err(error) => Response::error(409, &error.to_string()),
            }
        }
        (_, "/counters" | "/health" | "/live" | "/reset" | "/kill-connections" | "/tip") => {
            Response::error(405, "method not allowed")
        }
        _ => Response::error(404, "not found"),
    }
}

async fn handle(mut stream: TcpStream, state: &ReplayState) -> std::io::Result<()> {
    let request = tokio::time::timeout(REQUEST_TIMEOUT, read_request(&mut stream))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "request timed out"))??;
    let response = match request {
        Some((method, target)) => route(state, &method, &target),
        None => Response::error(400, "bad request"),
    };
    stream.write_all(&encode_response(&response)).await?;
    stream.shutdown().await
}

/// Reads the request head and any body; returns the method and target.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<(String, String)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    let head_end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if buf.len() > MAX_REQUEST {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    };
    let head = String::from_utf8_lossy(buf.get(..head_end).unwrap_or_default()).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target)) = (request_line.next(), request_line.next()) else {
        return Ok(None);
    };
    let body_len = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    if body_len > MAX_REQUEST {
        return Ok(None);
    }
    let mut have = buf.len().saturating_sub(head_end);
    while have < body_len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        have += n;
    }
    Ok(Some((method.to_owned(), target.to_owned())))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        _ => "Internal Server Error",
    }
}

fn encode_response(response: &Response) -> Vec<u8> {
    let body = response
        .body
        .as_ref()
        .map(|b| format!("{b}\n"))
        .unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n\
         Access-Control-Allow-Origin: *\r\n\
         Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n\
         Access-Control-Allow-Headers: content-type\r\n\
         Cache-Control: no-store\r\n\
         Connection: close\r\n\
         Content-Length: {}\r\n",
        response.status,
        reason(response.status),
        body.len()
    );
    if response.body.is_some() {
        out.push_str("Content-Type: application/json\r\n");
    }
    out.push_str("\r\n");
    out.push_str(&body);
    out.into_bytes()
}
