//! The TCP side: accepting clients, running their sessions, pings, the
//! growth of the served tip, and dropping every client on demand.

use crate::session::{Outbound, Session};
use crate::state::ReplayState;
use dashlight::protocol::framing::{RawMessage, StreamDecoder, HEADER_LEN};
use dashlight::protocol::NetworkMessage;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tracing::{info, warn};

/// When the served tip starts to grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GrowStart {
    /// As soon as the peer starts.
    Now,
    /// Once a `getqrinfo` has been answered (so a fresh client gets its
    /// QRInfo at the initial tip first).
    AfterQrinfo,
}

/// How the served tip grows over time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrowPlan {
    /// Heights to move the tip to, in turn.
    pub steps: Vec<u32>,
    /// Time between two steps.
    pub step_every: Duration,
    /// After the steps, add one header this often.
    pub one_every: Option<Duration>,
    /// When growth starts.
    pub start: GrowStart,
}

impl GrowPlan {
    /// The next tip after `tip` on a chain ending at `last`, and how long to
    /// wait before moving to it.
    pub fn next(&self, tip: u32, last: u32) -> Option<(u32, Duration)> {
        if let Some(&step) = self.steps.iter().find(|&&h| h > tip) {
            let target = step.min(last);
            return (target > tip).then_some((target, self.step_every));
        }
        let every = self.one_every?;
        let next = tip.checked_add(1)?;
        (next <= last).then_some((next, every))
    }
}

/// Timing of the peer's own activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// Ping each client this often (`None`: only the ping after the handshake).
    pub ping_every: Option<Duration>,
    /// How the tip grows.
    pub grow: GrowPlan,
}

/// Accepts clients on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, state: Arc<ReplayState>, ping_every: Option<Duration>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let id = state.next_connection_id();
            state.run().counters.connection_opened();
            info!(conn = id, %peer, "connected");
            let reason = run_connection(&state, stream, peer, id, ping_every).await;
            state.run().counters.connection_closed();
            info!(conn = id, "closed: {reason}");
        });
    }
}

/// Moves the served tip along `plan`, until the plan ends or the task is dropped.
pub async fn grow(state: Arc<ReplayState>, plan: GrowPlan) {
    let last = state.chain().last_height();
    while let Some((_, wait)) = plan.next(state.tip(), last) {
        tokio::time::sleep(wait).await;
        if plan.start == GrowStart::AfterQrinfo && !state.run().qrinfo_answered {
            continue;
        }
        let Some((target, _)) = plan.next(state.tip(), last) else {
            break;
        };
        match state.advance_tip(target) {
            Ok(tip) => info!(tip, "served tip advanced"),
            Err(error) => warn!(%error, "served tip not advanced"),
        }
    }
}

fn unix_time() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Runs one client until it closes, the session closes it, or all clients
/// are killed; returns why it ended.
async fn run_connection(
    state: &ReplayState,
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    ping_every: Option<Duration>,
) -> String {
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.into_split();
    let seed = RandomState::new().hash_one(id);
    let mut session = Session::new(state, id, peer, seed);
    let mut decoder = StreamDecoder::new(state.settings().network);
    let mut buf = vec![0u8; 64 * 1024];
    let mut tip = state.subscribe_tip();
    let mut kill = state.subscribe_kill();
    let ping_period = ping_every.unwrap_or(Duration::from_secs(365 * 24 * 3600));
    let mut pings =
        tokio::time::interval_at(tokio::time::Instant::now() + ping_period, ping_period);
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let outbound = tokio::select! {
            read = reader.read(&mut buf) => {
                let n = match read {
                    Ok(0) => return "the client closed the connection".to_owned(),
                    Ok(n) => n,
                    Err(error) => return format!("read error: {error}"),
                };
                decoder.feed(buf.get(..n).unwrap_or_default());
                let mut outbound = Vec::new();
                loop {
                    let raw = match decoder.next_message() {
                        Ok(Some(raw)) => raw,
                        Ok(None) => break,
                        Err(error) => return format!("bad bytes from the client: {error}"),
                    };
                    let message = match NetworkMessage::from_raw(&raw, session.protocol_version()) {
                        Ok(message) => message,
                        Err(error) => return format!("bad message from the client: {error}"),
                    };
                    outbound.extend(session.on_message(state, message, unix_time()));
                }
                outbound
            }
            changed = tip.changed() => {
                if changed.is_err() {
                    return "the peer is shutting down".to_owned();
                }
                session.on_tip_changed(state)
            }
            _ = pings.tick(), if ping_every.is_some() => session.on_ping_due(state),
            _ = kill.changed() => {
                state.run().counters.faults().killed += 1;
                return "killed through the control endpoint".to_owned();
            }
        };
        for action in outbound {
            let (message, corrupt) = match action {
                Outbound::Send(message) => (message, false),
                Outbound::SendCorrupted(message) => (message, true),
                Outbound::Close(reason) => {
                    let _ = writer.shutdown().await;
                    return reason.to_string();
                }
            };
            if let Err(error) = send(state, &mut writer, &message, corrupt).await {
                return format!("write error: {error}");
            }
        }
    }
}

/// Writes one message after the configured delay.
async fn send(
    state: &ReplayState,
    writer: &mut OwnedWriteHalf,
    message: &RawMessage,
    corrupt: bool,
) -> std::io::Result<()> {
    let delay = state.settings().faults.delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut wire = message.to_wire(state.settings().network);
    if corrupt {
        corrupt_wire(&mut wire);
    }
    writer.write_all(&wire).await
}

/// Breaks a framed message so that its checksum no longer matches: flips
/// a payload byte, or the checksum itself when the payload is empty.
pub fn corrupt_wire(wire: &mut [u8]) {
    let index = if wire.len() > HEADER_LEN {
        wire.len() - 1
    } else {
        HEADER_LEN - 1
    };
    if let Some(byte) = wire.get_mut(index) {
        *byte ^= 0xff;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_come_first_then_single_blocks() {
        let plan = GrowPlan {
            steps: vec![100, 150],
            step_every: Duration::from_secs(2),
            one_every: Some(Duration::from_secs(1)),
            start: GrowStart::Now,
        };
        assert_eq!(plan.next(50, 1000), Some((100, Duration::from_secs(2))));
        assert_eq!(plan.next(100, 1000), Some((150, Duration::from_secs(2))));
        assert_eq!(plan.next(150, 1000), Some((151, Duration::from_secs(1))));
        assert_eq!(plan.next(1000, 1000), None);
        assert_eq!(plan.next(120, 140), Some((140, Duration::from_secs(2))));
        let steps_only = GrowPlan {
            one_every: None,
            ..plan
        };
        assert_eq!(steps_only.next(150, 1000), None);
    }

    #[test]
    fn a_corrupted_message_fails_its_checksum() {
        use dashlight::network::Network;
        use dashlight::protocol::framing::{Command, FramingError};
        for payload in [vec![], vec![1, 2, 3]] {
            let message = RawMessage {
                command: Command::new("verack"),
                payload,
            };
            let mut wire = message.to_wire(Network::Testnet);
            corrupt_wire(&mut wire);
            let mut decoder = StreamDecoder::new(Network::Testnet);
            decoder.feed(&wire);
            assert!(matches!(
                decoder.next_message(),
                Err(FramingError::BadChecksum { .. })
            ));
        }
    }
}
