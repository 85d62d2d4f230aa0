//! Relaying one WebSocket client and its TCP target both ways, with
//! backpressure: each direction reads the next chunk only after the previous
//! one was written to the other side (and allowed by the rate limit).

use crate::config::RateLimit;
use crate::inspect::{Filter, Violation};
use crate::memory::{MAX_FRAME_OUT, READ_CHUNK};
use crate::rate::TokenBucket;
use crate::stats::{Stats, TargetStats};
use crate::tls::ClientStream;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Time allowed to deliver a close frame.
const CLOSE_SEND_TIMEOUT: Duration = Duration::from_secs(2);
/// Time allowed for the client to answer a close frame.
const CLOSE_REPLY_TIMEOUT: Duration = Duration::from_secs(1);

type WsSink = futures_util::stream::SplitSink<WebSocketStream<ClientStream>, Message>;
type WsSource = futures_util::stream::SplitStream<WebSocketStream<ClientStream>>;

/// How one connection is relayed.
#[derive(Debug)]
pub struct RelaySettings {
    /// What passes from the client to the target.
    pub to_target: Filter,
    /// What passes from the target to the client.
    pub to_client: Filter,
    /// Per-direction byte-rate limit.
    pub rate_limit: Option<RateLimit>,
    /// The byte-rate limit shared by every connection's target→client direction.
    pub global_limit: Option<Arc<Mutex<TokenBucket>>>,
    /// No traffic for this long closes the connection; also bounds each write.
    pub idle_timeout: Duration,
}

/// Why a relay ended.
#[derive(Debug)]
pub enum CloseReason {
    /// The client sent a close frame.
    ClientClosed,
    /// The client's connection ended or failed without a close frame.
    ClientGone(String),
    /// The client broke the WebSocket protocol.
    ClientProtocol(String),
    /// The client sent a text frame.
    TextFrame,
    /// The client sent a frame or message over the size limits.
    TooBig(String),
    /// The client sent traffic that is not allowed.
    ClientViolation(Violation),
    /// The client stopped reading for longer than the idle timeout.
    ClientStalled,
    /// The target closed its connection.
    TargetClosed,
    /// The target connection failed.
    TargetGone(std::io::Error),
    /// The target sent traffic that is not valid.
    TargetViolation(Violation),
    /// The target stopped reading for longer than the idle timeout.
    TargetStalled,
    /// No traffic either way for the idle timeout.
    Idle,
    /// The bridge is shutting down.
    Shutdown,
}

impl CloseReason {
    /// The close frame to send the client, if one can still be delivered.
    pub fn close_frame(&self) -> Option<CloseFrame> {
        let code = match self {
            Self::ClientClosed | Self::ClientGone(_) | Self::ClientStalled => return None,
            Self::ClientProtocol(_) => CloseCode::Protocol,
            Self::TextFrame => CloseCode::Unsupported,
            Self::TooBig(_) => CloseCode::Size,
            Self::ClientViolation(v) if v.is_oversize() => CloseCode::Size,
            Self::ClientViolation(_) => CloseCode::Policy,
            Self::TargetClosed | Self::Idle => CloseCode::Normal,
            Self::TargetGone(_) | Self::TargetViolation(_) | Self::TargetStalled => {
                CloseCode::Error
            }
            Self::Shutdown => CloseCode::Away,
        };
        Some(close_frame(code, &self.to_string()))
    }

    /// A short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::ClientClosed => "client_closed",
            Self::ClientGone(_) => "client_gone",
            Self::ClientProtocol(_) => "client_protocol",
            Self::TextFrame => "text_frame",
            Self::TooBig(_) => "too_big",
            Self::ClientViolation(Violation::OverBudget(_)) => "over_budget",
            Self::ClientViolation(_) => "client_violation",
            Self::ClientStalled => "client_stalled",
            Self::TargetClosed => "target_closed",
            Self::TargetGone(_) => "target_gone",
            Self::TargetViolation(_) => "target_violation",
            Self::TargetStalled => "target_stalled",
            Self::Idle => "idle",
            Self::Shutdown => "shutdown",
        }
    }

    /// Whether the connection was closed for disallowed traffic.
    pub fn is_violation(&self) -> bool {
        matches!(
            self,
            Self::ClientViolation(_) | Self::TargetViolation(_) | Self::TooBig(_) | Self::TextFrame
        )
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClientClosed => f.write_str("client closed the connection"),
            Self::ClientGone(why) => write!(f, "client connection lost: {why}"),
            Self::ClientProtocol(why) => write!(f, "WebSocket protocol error: {why}"),
            Self::TextFrame => f.write_str("text frames are not accepted, send binary frames"),
            Self::TooBig(why) => write!(f, "too big: {why}"),
            Self::ClientViolation(v) => write!(f, "client {v}"),
            Self::ClientStalled => f.write_str("client stopped reading"),
            Self::TargetClosed => f.write_str("target closed the connection"),
            Self::TargetGone(err) => write!(f, "target connection lost: {err}"),
            Self::TargetViolation(v) => write!(f, "target {v}"),
            Self::TargetStalled => f.write_str("target stopped reading"),
            Self::Idle => f.write_str("idle timeout"),
            Self::Shutdown => f.write_str("bridge shutting down"),
        }
    }
}

/// A close frame whose reason is cut to the 123 bytes a frame can carry.
pub fn close_frame(code: CloseCode, reason: &str) -> CloseFrame {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    CloseFrame {
        code,
        reason: reason.get(..end).unwrap_or_default().to_owned().into(),
    }
}

/// What a finished relay did.
#[derive(Debug)]
pub struct RelayOutcome {
    /// Why it ended.
    pub reason: CloseReason,
    /// Bytes forwarded to the target.
    pub bytes_to_target: u64,
    /// Bytes forwarded to the client.
    pub bytes_to_client: u64,
}

/// Shared between the two directions of one connection.
struct Progress<'a> {
    stats: &'a Stats,
    target: &'a TargetStats,
    started: Instant,
    last_traffic_ms: AtomicU64,
    bytes_to_target: AtomicU64,
    bytes_to_client: AtomicU64,
}

impl Progress<'_> {
    fn forwarded_to_target(&self, bytes: usize) {
        self.stats.to_target(bytes);
        self.target
            .bytes_to_target
            .fetch_add(bytes as u64, Ordering::Relaxed);
        self.bytes_to_target
            .fetch_add(bytes as u64, Ordering::Relaxed);
        self.touch();
    }

    fn forwarded_to_client(&self, bytes: usize) {
        self.stats.to_client(bytes);
        self.target
            .bytes_to_client
            .fetch_add(bytes as u64, Ordering::Relaxed);
        self.bytes_to_client
            .fetch_add(bytes as u64, Ordering::Relaxed);
        self.touch();
    }

    fn touch(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_traffic_ms.fetch_max(ms, Ordering::Relaxed);
    }

    fn last_traffic(&self) -> Instant {
        self.started + Duration::from_millis(self.last_traffic_ms.load(Ordering::Relaxed))
    }
}

/// Relays until either side ends, a violation, the idle timeout or
/// shutdown; then closes both sides (with a close frame to the client that
/// says why) and reports.
pub async fn run(
    ws: WebSocketStream<ClientStream>,
    tcp: TcpStream,
    settings: RelaySettings,
    stats: &Stats,
    target: &TargetStats,
    stop: &mut watch::Receiver<bool>,
) -> RelayOutcome {
    let RelaySettings {
        to_target,
        to_client,
        rate_limit,
        global_limit,
        idle_timeout,
    } = settings;
    let (mut ws_tx, mut ws_rx) = ws.split();
    let (mut tcp_rx, mut tcp_tx) = tcp.into_split();
    let progress = Progress {
        stats,
        target,
        started: Instant::now(),
        last_traffic_ms: AtomicU64::new(0),
        bytes_to_target: AtomicU64::new(0),
        bytes_to_client: AtomicU64::new(0),
    };
    let lane = |filter, shared: Option<Arc<Mutex<TokenBucket>>>| Lane {
        filter,
        bucket: rate_limit.map(|limit| TokenBucket::new(limit, progress.started)),
        shared,
    };
    let reason = {
        let up = client_to_target(
            &mut ws_rx,
            &mut tcp_tx,
            lane(to_target, None),
            idle_timeout,
            &progress,
        );
        let down = target_to_client(
            &mut tcp_rx,
            &mut ws_tx,
            lane(to_client, global_limit),
            idle_timeout,
            &progress,
        );
        tokio::select! {
            reason = up => reason,
            reason = down => reason,
            reason = idle_watch(idle_timeout, &progress) => reason,
            _ = stop.wait_for(|stopping| *stopping) => CloseReason::Shutdown,
        }
    };
    let _ = tcp_tx.shutdown().await;
    drop((tcp_rx, tcp_tx));
    finish_close(&mut ws_tx, &mut ws_rx, &reason).await;
    RelayOutcome {
        reason,
        bytes_to_target: progress.bytes_to_target.load(Ordering::Relaxed),
        bytes_to_client: progress.bytes_to_client.load(Ordering::Relaxed),
    }
}

/// Sends the close frame (or the reply to the client's), then waits
/// briefly for the client's answer so that the frame is not lost to a reset.
async fn finish_close(ws_tx: &mut WsSink, ws_rx: &mut WsSource, reason: &CloseReason) {
    match reason.close_frame() {
        Some(frame) => {
            let _ =
                tokio::time::timeout(CLOSE_SEND_TIMEOUT, ws_tx.send(Message::Close(Some(frame))))
                    .await;
        }
        None => {
            let _ = tokio::time::timeout(CLOSE_SEND_TIMEOUT, ws_tx.flush()).await;
        }
    }
    if matches!(
        reason,
        CloseReason::ClientGone(_) | CloseReason::ClientStalled
    ) {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_REPLY_TIMEOUT, async {
        while let Some(Ok(message)) = ws_rx.next().await {
            if message.is_close() {
                break;
            }
        }
    })
    .await;
}

/// One direction's checks: what may pass, and how fast.
struct Lane {
    filter: Filter,
    bucket: Option<TokenBucket>,
    shared: Option<Arc<Mutex<TokenBucket>>>,
}

impl Lane {
    /// The bytes of `received` that may be forwarded now, once the rate
    /// limit allows them (empty while a message is incomplete).
    async fn clear(&mut self, received: Vec<u8>) -> Result<Vec<u8>, Violation> {
        let bytes = self.filter.pass(received)?;
        if bytes.is_empty() {
            return Ok(bytes);
        }
        let now = Instant::now();
        let own = self
            .bucket
            .as_mut()
            .map(|bucket| bucket.take(bytes.len(), now))
            .unwrap_or_default();
        let shared = self
            .shared
            .as_ref()
            .map(|bucket| {
                bucket
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .take(bytes.len(), now)
            })
            .unwrap_or_default();
        let wait = own.max(shared);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(bytes)
    }
}

async fn client_to_target(
    ws_rx: &mut WsSource,
    tcp_tx: &mut OwnedWriteHalf,
    mut lane: Lane,
    write_timeout: Duration,
    progress: &Progress<'_>,
) -> CloseReason {
    loop {
        let data = match ws_rx.next().await {
            None => return CloseReason::ClientGone("end of stream".to_owned()),
            Some(Err(err)) => return classify_ws_error(err),
            Some(Ok(Message::Binary(data))) => data,
            Some(Ok(Message::Text(_))) => return CloseReason::TextFrame,
            Some(Ok(Message::Close(_))) => return CloseReason::ClientClosed,
            Some(Ok(_)) => continue,
        };
        progress.touch();
        let bytes = match lane.clear(Vec::from(data)).await {
            Ok(bytes) if bytes.is_empty() => continue,
            Ok(bytes) => bytes,
            Err(violation) => return CloseReason::ClientViolation(violation),
        };
        match tokio::time::timeout(write_timeout, tcp_tx.write_all(&bytes)).await {
            Err(_) => return CloseReason::TargetStalled,
            Ok(Err(err)) => return CloseReason::TargetGone(err),
            Ok(Ok(())) => progress.forwarded_to_target(bytes.len()),
        }
    }
}

async fn target_to_client(
    tcp_rx: &mut OwnedReadHalf,
    ws_tx: &mut WsSink,
    mut lane: Lane,
    write_timeout: Duration,
    progress: &Progress<'_>,
) -> CloseReason {
    loop {
        // The buffer is allocated only once data is ready, so that idle
        // connections hold none.
        if let Err(err) = tcp_rx.readable().await {
            return CloseReason::TargetGone(err);
        }
        let mut chunk = vec![0u8; READ_CHUNK];
        match tcp_rx.try_read(&mut chunk) {
            Ok(0) => return CloseReason::TargetClosed,
            Ok(n) => chunk.truncate(n),
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(err) => return CloseReason::TargetGone(err),
        }
        progress.touch();
        let bytes = match lane.clear(chunk).await {
            Ok(bytes) if bytes.is_empty() => continue,
            Ok(bytes) => bytes,
            Err(violation) => return CloseReason::TargetViolation(violation),
        };
        let len = bytes.len();
        match tokio::time::timeout(write_timeout, send_message(ws_tx, bytes)).await {
            Err(_) => return CloseReason::ClientStalled,
            Ok(Err(err)) => return classify_ws_error(err),
            Ok(Ok(())) => progress.forwarded_to_client(len),
        }
    }
}

/// Sends `data` as one binary message, in frames of at most
/// [`MAX_FRAME_OUT`] bytes.
async fn send_message(ws_tx: &mut WsSink, data: Vec<u8>) -> Result<(), WsError> {
    if data.len() <= MAX_FRAME_OUT {
        return ws_tx.send(Message::binary(data)).await;
    }
    let data = Bytes::from(data);
    let mut offset = 0;
    while offset < data.len() {
        let end = data.len().min(offset + MAX_FRAME_OUT);
        let opcode = if offset == 0 {
            OpCode::Data(Data::Binary)
        } else {
            OpCode::Data(Data::Continue)
        };
        let frame = Frame::message(data.slice(offset..end), opcode, end == data.len());
        ws_tx.send(Message::Frame(frame)).await?;
        offset = end;
    }
    Ok(())
}

async fn idle_watch(idle_timeout: Duration, progress: &Progress<'_>) -> CloseReason {
    loop {
        let Some(deadline) = progress.last_traffic().checked_add(idle_timeout) else {
            return std::future::pending().await;
        };
        if Instant::now() >= deadline {
            return CloseReason::Idle;
        }
        tokio::time::sleep_until(deadline.into()).await;
    }
}

fn classify_ws_error(err: WsError) -> CloseReason {
    match err {
        WsError::Capacity(err) => CloseReason::TooBig(err.to_string()),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            CloseReason::ClientGone("reset without a closing handshake".to_owned())
        }
        WsError::Protocol(err) => CloseReason::ClientProtocol(err.to_string()),
        WsError::ConnectionClosed | WsError::AlreadyClosed => CloseReason::ClientClosed,
        other => CloseReason::ClientGone(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_frame() {
        let long = "é".repeat(100);
        let frame = close_frame(CloseCode::Policy, &long);
        assert!(frame.reason.len() <= 123);
        assert!(frame.reason.as_str().chars().all(|c| c == 'é'));
    }

    #[test]
    fn close_codes_follow_the_reason() {
        let code = |r: CloseReason| r.close_frame().map(|f| u16::from(f.code));
        assert_eq!(code(CloseReason::Shutdown), Some(1001));
        assert_eq!(code(CloseReason::Idle), Some(1000));
        assert_eq!(code(CloseReason::TextFrame), Some(1003));
        assert_eq!(code(CloseReason::TooBig("x".into())), Some(1009));
        assert_eq!(code(CloseReason::TargetStalled), Some(1011));
        assert_eq!(code(CloseReason::ClientClosed), None);
        assert_eq!(
            code(CloseReason::ClientViolation(Violation::CommandNotAllowed(
                dashlight::protocol::framing::Command::new("addr")
            ))),
            Some(1008)
        );
    }
}
