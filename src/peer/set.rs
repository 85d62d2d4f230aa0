//! The set of peers: one connection per bridge URL, dialled with jittered
//! backoff, kept alive, banned for a while when they misbehave, and closed at
//! once when the browser goes offline. Sans-IO: the runtime opens and closes
//! sockets when told and reports what happened to them.

use super::backoff::{Backoff, Jitter};
use super::ban::{BanList, Penalty};
use super::connection::{
    Connection, ConnectionConfig, ConnectionOutput, DisconnectReason, PeerInfo,
};
use crate::network::Network;
use crate::protocol::message::NetworkMessage;
use crate::sync::time::{Millis, Timestamp};

/// Identifies one socket (a new id for every dial).
pub type PeerId = u64;

/// Settings of the peer set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerSetConfig {
    /// How many connections to keep.
    pub max_peers: usize,
    /// How long a WebSocket may take to open.
    pub connect_timeout: Millis,
    /// The first reconnection delay.
    pub backoff_base: Millis,
    /// The longest reconnection delay.
    pub backoff_max: Millis,
    /// How long a misbehaving peer is not dialled again the first time (each later ban of
    /// the same address lasts twice as long, up to [`super::ban::MAX_BAN`]).
    pub ban_duration: Millis,
    /// Timeouts of each connection.
    pub connection: ConnectionConfig,
}

impl PeerSetConfig {
    /// Every timeout and delay multiplied by `factor` (for tests).
    pub fn scaled(&self, factor: f64) -> PeerSetConfig {
        PeerSetConfig {
            connect_timeout: self.connect_timeout.scaled(factor),
            backoff_base: self.backoff_base.scaled(factor),
            backoff_max: self.backoff_max.scaled(factor),
            ban_duration: self.ban_duration.scaled(factor),
            connection: ConnectionConfig {
                handshake_timeout: self.connection.handshake_timeout.scaled(factor),
                ping_interval: self.connection.ping_interval.scaled(factor),
                pong_timeout: self.connection.pong_timeout.scaled(factor),
            },
            ..*self
        }
    }
}

impl Default for PeerSetConfig {
    fn default() -> Self {
        PeerSetConfig {
            max_peers: 3,
            connect_timeout: Millis::from_secs(10),
            backoff_base: Millis(500),
            backoff_max: Millis::from_secs(60),
            ban_duration: Millis::from_secs(600),
            connection: ConnectionConfig::default(),
        }
    }
}

/// What the runtime must do with a WebSocket.
#[derive(Debug, Clone, PartialEq)]
pub enum SocketCommand {
    /// Open a WebSocket to `url` and report it as `peer`.
    Connect {
        /// The id to report the socket's events with.
        peer: PeerId,
        /// The bridge URL.
        url: String,
    },
    /// Send bytes on a socket.
    Send {
        /// The socket.
        peer: PeerId,
        /// Wire bytes.
        bytes: Vec<u8>,
    },
    /// Close a socket (no `socket_closed` report is needed afterwards).
    Close {
        /// The socket.
        peer: PeerId,
    },
}

/// What the peer set asks of the runtime, or tells the sync layer.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerOutput {
    /// Something to do with a socket.
    Socket(SocketCommand),
    /// A peer finished its handshake.
    Ready {
        /// The peer.
        peer: PeerId,
        /// What it told us.
        info: PeerInfo,
    },
    /// A ready peer is gone.
    Gone {
        /// The peer.
        peer: PeerId,
        /// Why.
        reason: DisconnectReason,
        /// What it cost the peer's address, if it misbehaved.
        penalty: Option<Penalty>,
    },
    /// A connection closed before its handshake finished (it never was a peer the sync
    /// layer knew): why, for the user.
    ConnectFailed {
        /// The bridge URL.
        url: String,
        /// Why.
        reason: DisconnectReason,
        /// What it cost the address, if it misbehaved.
        penalty: Option<Penalty>,
    },
    /// A message from a ready peer for the sync layer.
    Deliver {
        /// The peer.
        peer: PeerId,
        /// The message.
        message: NetworkMessage,
    },
}

/// One bridge URL and what is happening on it.
#[derive(Debug, Clone)]
enum Slot {
    /// Not connected; dial again at `retry_at`.
    Idle { retry_at: Timestamp },
    /// A socket is opening.
    Dialing { peer: PeerId, since: Timestamp },
    /// A socket is open (the handshake may still be running).
    Open {
        peer: PeerId,
        connection: Box<Connection>,
    },
}

#[derive(Debug, Clone)]
struct Endpoint {
    url: String,
    slot: Slot,
    backoff: Backoff,
}

/// The client's peers, sans-IO.
#[derive(Debug, Clone)]
pub struct PeerSet {
    network: Network,
    config: PeerSetConfig,
    endpoints: Vec<Endpoint>,
    bans: BanList,
    jitter: Jitter,
    next_peer: PeerId,
    online: bool,
    next_request_peer: usize,
}

impl PeerSet {
    /// A peer set for `urls`; nothing is dialled before the first `tick`.
    pub fn new(network: Network, urls: &[String], config: PeerSetConfig, seed: u64) -> PeerSet {
        let endpoints = urls
            .iter()
            .map(|url| Endpoint {
                url: url.clone(),
                slot: Slot::Idle {
                    retry_at: Timestamp(0),
                },
                backoff: Backoff::new(config.backoff_base, config.backoff_max),
            })
            .collect();
        PeerSet {
            network,
            config,
            endpoints,
            bans: BanList::new(),
            jitter: Jitter::new(seed),
            next_peer: 1,
            online: true,
            next_request_peer: 0,
        }
    }

    /// Peers whose handshake is done.
    pub fn ready_peers(&self) -> impl Iterator<Item = (PeerId, &str, &PeerInfo)> {
        self.endpoints.iter().filter_map(|e| match &e.slot {
            Slot::Open { peer, connection } => {
                connection.info().map(|info| (*peer, e.url.as_str(), info))
            }
            _ => None,
        })
    }

    /// How many peers are ready.
    pub fn ready_count(&self) -> usize {
        self.ready_peers().count()
    }

    /// The best height any ready peer has announced.
    pub fn best_height(&self) -> Option<u32> {
        self.ready_peers()
            .map(|(_, _, info)| info.best_height)
            .max()
    }

    /// The ready peer that has announced the highest block (the first such, if several).
    pub fn best_peer(&self) -> Option<(PeerId, u32)> {
        self.ready_peers()
            .map(|(peer, _, info)| (peer, info.best_height))
            .fold(None, |best, (peer, height)| match best {
                Some((_, best_height)) if best_height >= height => best,
                _ => Some((peer, height)),
            })
    }

    /// Each endpoint's URL and a word for its state (for status displays).
    pub fn endpoint_states(&self, now: Timestamp) -> Vec<(String, &'static str)> {
        self.endpoints
            .iter()
            .map(|e| {
                let state = match &e.slot {
                    _ if self.bans.is_banned(&e.url, now) => "banned",
                    Slot::Idle { .. } if !self.online => "offline",
                    Slot::Idle { .. } => "waiting",
                    Slot::Dialing { .. } => "connecting",
                    Slot::Open { connection, .. } if connection.info().is_some() => "ready",
                    Slot::Open { .. } => "handshake",
                };
                (e.url.clone(), state)
            })
            .collect()
    }

    /// Dials endpoints that are due, and runs every connection's timers.
    pub fn tick(&mut self, now: Timestamp) -> Vec<PeerOutput> {
        let mut out = Vec::new();
        for index in 0..self.endpoints.len() {
            let outputs = match &mut self.endpoints[index].slot {
                Slot::Open { connection, .. } => connection.tick(now),
                _ => Vec::new(),
            };
            self.apply(index, outputs, now, &mut out);
            if let Slot::Dialing { peer, since } = self.endpoints[index].slot {
                if now.since(since) >= self.config.connect_timeout {
                    out.push(PeerOutput::Socket(SocketCommand::Close { peer }));
                    self.schedule_retry(index, now);
                }
            }
        }
        self.bans.expire(now);
        self.dial_due(now, &mut out);
        out
    }

    /// The socket `peer` opened; the handshake starts.
    pub fn socket_opened(
        &mut self,
        peer: PeerId,
        now: Timestamp,
        unix_time: i64,
        start_height: u32,
    ) -> Vec<PeerOutput> {
        let mut out = Vec::new();
        let Some(index) = self.index_of(peer) else {
            out.push(PeerOutput::Socket(SocketCommand::Close { peer }));
            return out;
        };
        let seed = self.jitter.next_u64();
        let (connection, outputs) = Connection::open(
            self.network,
            self.config.connection,
            now,
            unix_time,
            seed,
            start_height,
        );
        self.endpoints[index].slot = Slot::Open {
            peer,
            connection: Box::new(connection),
        };
        self.apply(index, outputs, now, &mut out);
        out
    }

    /// Bytes arrived on `peer`'s socket.
    pub fn socket_data(&mut self, peer: PeerId, bytes: &[u8], now: Timestamp) -> Vec<PeerOutput> {
        let mut out = Vec::new();
        let Some(index) = self.index_of(peer) else {
            return out;
        };
        let outputs = match &mut self.endpoints[index].slot {
            Slot::Open { connection, .. } => connection.receive(bytes, now),
            _ => Vec::new(),
        };
        self.apply(index, outputs, now, &mut out);
        out
    }

    /// `peer`'s socket closed (or failed to open).
    pub fn socket_closed(&mut self, peer: PeerId, now: Timestamp) -> Vec<PeerOutput> {
        let mut out = Vec::new();
        if let Some(index) = self.index_of(peer) {
            self.close(
                index,
                DisconnectReason::Local("connection closed".into()),
                now,
                &mut out,
            );
        }
        out
    }

    /// The sync layer found `peer`'s data invalid: disconnect it (the offence bans it) and
    /// dial another endpoint that is due.
    pub fn misbehaved(&mut self, peer: PeerId, why: String, now: Timestamp) -> Vec<PeerOutput> {
        let mut out = Vec::new();
        if let Some(index) = self.index_of(peer) {
            self.close(index, DisconnectReason::InvalidData(why), now, &mut out);
            self.dial_due(now, &mut out);
        }
        out
    }

    /// `peer` let `unanswered` requests in a row go unanswered: disconnect it without blame
    /// (it is dialled again after its backoff) and dial another endpoint that is due.
    pub fn rotate_out(&mut self, peer: PeerId, unanswered: u32, now: Timestamp) -> Vec<PeerOutput> {
        let mut out = Vec::new();
        if let Some(index) = self.index_of(peer) {
            self.close(
                index,
                DisconnectReason::Unresponsive(unanswered),
                now,
                &mut out,
            );
            self.dial_due(now, &mut out);
        }
        out
    }

    /// Lowers the best height known for `peer` to `height` (it answered a `getheaders` from
    /// a block at `height` with nothing).
    pub fn settle_height(&mut self, peer: PeerId, height: u32) {
        if let Some(index) = self.index_of(peer) {
            if let Slot::Open { connection, .. } = &mut self.endpoints[index].slot {
                connection.settle_height(height);
            }
        }
    }

    /// Raises the best height known for `peer` (it announced headers up to `height`).
    pub fn note_height(&mut self, peer: PeerId, height: u32) {
        if let Some(index) = self.index_of(peer) {
            if let Slot::Open { connection, .. } = &mut self.endpoints[index].slot {
                connection.note_height(height);
            }
        }
    }

    /// The browser went offline (`false`) or came back (`true`). Offline
    /// closes every socket at once; online dials at once.
    pub fn set_online(&mut self, online: bool, now: Timestamp) -> Vec<PeerOutput> {
        self.online = online;
        let mut out = Vec::new();
        if online {
            for endpoint in &mut self.endpoints {
                endpoint.backoff.reset();
                if let Slot::Idle { retry_at } = &mut endpoint.slot {
                    *retry_at = now;
                }
            }
            self.dial_due(now, &mut out);
        } else {
            self.close_all(
                DisconnectReason::Local("browser offline".into()),
                now,
                &mut out,
            );
        }
        out
    }

    /// Closes every connection (they are dialled again after the backoff).
    pub fn drop_all(&mut self, why: &str, now: Timestamp) -> Vec<PeerOutput> {
        let mut out = Vec::new();
        self.close_all(DisconnectReason::Local(why.to_owned()), now, &mut out);
        out
    }

    /// The next time [`PeerSet::tick`] has something to do: a connection's timer, a dial
    /// timing out, or an endpoint due to be dialled (after its backoff and any ban), if a
    /// dial would be made then.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        let can_dial = self.online && self.active_count() < self.config.max_peers;
        self.endpoints
            .iter()
            .filter_map(|e| match &e.slot {
                Slot::Open { connection, .. } => connection.next_deadline(),
                Slot::Dialing { since, .. } => Some(*since + self.config.connect_timeout),
                Slot::Idle { retry_at } if can_dial => Some(
                    self.bans
                        .banned_until(&e.url, *retry_at)
                        .map_or(*retry_at, |until| until.max(*retry_at)),
                ),
                Slot::Idle { .. } => None,
            })
            .min()
    }

    /// Pings every ready peer that has no ping outstanding (after the tab
    /// became visible again, sockets may be dead without knowing it).
    pub fn check_liveness(&mut self, now: Timestamp) -> Vec<PeerOutput> {
        let mut out = Vec::new();
        for index in 0..self.endpoints.len() {
            let outputs = match &mut self.endpoints[index].slot {
                Slot::Open { connection, .. } => connection.check_liveness(now),
                _ => Vec::new(),
            };
            self.apply(index, outputs, now, &mut out);
        }
        out
    }

    /// Sends `message` to a ready peer, spreading requests round-robin: the
    /// [`SocketCommand::Send`] to carry out, or `None` when no peer is ready.
    pub fn send_to_any(&mut self, message: &NetworkMessage) -> Option<SocketCommand> {
        self.send_to_any_but(message, None)
    }

    /// Like [`PeerSet::send_to_any`], but to another peer than `avoid` while there is one
    /// (a retry goes to a peer that has not failed it).
    pub fn send_to_any_but(
        &mut self,
        message: &NetworkMessage,
        avoid: Option<PeerId>,
    ) -> Option<SocketCommand> {
        let is_ready = |slot: &Slot| matches!(slot, Slot::Open { connection, .. } if connection.info().is_some());
        let all: Vec<usize> = (0..self.endpoints.len())
            .filter(|&i| is_ready(&self.endpoints[i].slot))
            .collect();
        let others: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| !matches!(self.endpoints[i].slot, Slot::Open { peer, .. } if Some(peer) == avoid))
            .collect();
        let ready = if others.is_empty() { all } else { others };
        let index = *ready.get(self.next_request_peer % ready.len().max(1))?;
        self.next_request_peer = self.next_request_peer.wrapping_add(1);
        self.send_at(index, message)
    }

    /// Sends `message` to `peer`, if it is ready: the [`SocketCommand::Send`] to carry out.
    pub fn send_to(&mut self, peer: PeerId, message: &NetworkMessage) -> Option<SocketCommand> {
        let index = self.index_of(peer)?;
        self.send_at(index, message)
    }

    fn send_at(&self, index: usize, message: &NetworkMessage) -> Option<SocketCommand> {
        match &self.endpoints[index].slot {
            Slot::Open { peer, connection } if connection.info().is_some() => {
                match connection.send(message) {
                    ConnectionOutput::Send(bytes) => {
                        Some(SocketCommand::Send { peer: *peer, bytes })
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn index_of(&self, peer: PeerId) -> Option<usize> {
        self.endpoints.iter().position(|e| match e.slot {
            Slot::Dialing { peer: p, .. } | Slot::Open { peer: p, .. } => p == peer,
            Slot::Idle { .. } => false,
        })
    }

    fn active_count(&self) -> usize {
        self.endpoints
            .iter()
            .filter(|e| !matches!(e.slot, Slot::Idle { .. }))
            .count()
    }

    fn dial_due(&mut self, now: Timestamp, out: &mut Vec<PeerOutput>) {
        if !self.online {
            return;
        }
        for index in 0..self.endpoints.len() {
            if self.active_count() >= self.config.max_peers {
                break;
            }
            let endpoint = &self.endpoints[index];
            let due = matches!(endpoint.slot, Slot::Idle { retry_at } if retry_at <= now);
            if due && !self.bans.is_banned(&endpoint.url, now) {
                let peer = self.next_peer;
                self.next_peer += 1;
                out.push(PeerOutput::Socket(SocketCommand::Connect {
                    peer,
                    url: endpoint.url.clone(),
                }));
                self.endpoints[index].slot = Slot::Dialing { peer, since: now };
            }
        }
    }

    fn apply(
        &mut self,
        index: usize,
        outputs: Vec<ConnectionOutput>,
        now: Timestamp,
        out: &mut Vec<PeerOutput>,
    ) {
        let Slot::Open { peer, .. } = self.endpoints[index].slot else {
            return;
        };
        for output in outputs {
            match output {
                ConnectionOutput::Send(bytes) => {
                    out.push(PeerOutput::Socket(SocketCommand::Send { peer, bytes }))
                }
                ConnectionOutput::Deliver(message) => {
                    out.push(PeerOutput::Deliver { peer, message })
                }
                ConnectionOutput::Ready(info) => {
                    self.endpoints[index].backoff.reset();
                    out.push(PeerOutput::Ready { peer, info });
                }
                ConnectionOutput::Disconnect(reason) => {
                    self.close(index, reason, now, out);
                    return;
                }
            }
        }
    }

    /// Closes endpoint `index`'s socket for `reason`, scores the offence if it is one, and
    /// schedules the next dial.
    fn close(
        &mut self,
        index: usize,
        reason: DisconnectReason,
        now: Timestamp,
        out: &mut Vec<PeerOutput>,
    ) {
        if let Slot::Idle { .. } = self.endpoints[index].slot {
            return;
        }
        let previous = core::mem::replace(
            &mut self.endpoints[index].slot,
            Slot::Idle { retry_at: now },
        );
        let weight = reason.misbehaviour_weight();
        let penalty = (weight > 0).then(|| {
            self.bans.punish(
                &self.endpoints[index].url,
                weight,
                now,
                self.config.ban_duration,
            )
        });
        match previous {
            Slot::Idle { .. } => {}
            Slot::Dialing { peer, .. } => {
                out.push(PeerOutput::Socket(SocketCommand::Close { peer }))
            }
            Slot::Open { peer, connection } => {
                out.push(PeerOutput::Socket(SocketCommand::Close { peer }));
                if connection.info().is_some() {
                    out.push(PeerOutput::Gone {
                        peer,
                        reason,
                        penalty,
                    });
                } else {
                    out.push(PeerOutput::ConnectFailed {
                        url: self.endpoints[index].url.clone(),
                        reason,
                        penalty,
                    });
                }
            }
        }
        self.schedule_retry(index, now);
    }

    fn schedule_retry(&mut self, index: usize, now: Timestamp) {
        let delay = self.endpoints[index].backoff.next_delay(&mut self.jitter);
        self.endpoints[index].slot = Slot::Idle {
            retry_at: now + delay,
        };
    }

    fn close_all(&mut self, reason: DisconnectReason, now: Timestamp, out: &mut Vec<PeerOutput>) {
        for index in 0..self.endpoints.len() {
            self.close(index, reason.clone(), now, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peer::connection::tests::{remote, remote_version};

    fn urls() -> Vec<String> {
        vec!["ws://a".to_owned(), "ws://b".to_owned()]
    }

    fn connects(out: &[PeerOutput]) -> Vec<(PeerId, String)> {
        out.iter()
            .filter_map(|o| match o {
                PeerOutput::Socket(SocketCommand::Connect { peer, url }) => {
                    Some((*peer, url.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// Dials both endpoints and completes both handshakes.
    fn ready_set() -> (PeerSet, Vec<PeerId>) {
        let mut set = PeerSet::new(Network::Testnet, &urls(), PeerSetConfig::default(), 1);
        let dialled = connects(&set.tick(Timestamp(0)));
        assert_eq!(
            dialled.iter().map(|(_, u)| u.as_str()).collect::<Vec<_>>(),
            ["ws://a", "ws://b"]
        );
        let mut peers = Vec::new();
        for (peer, _) in dialled {
            set.socket_opened(peer, Timestamp(1), 0, 0);
            let mut bytes = remote(&remote_version(70230, 100));
            bytes.extend(remote(&NetworkMessage::Verack));
            let out = set.socket_data(peer, &bytes, Timestamp(2));
            assert!(out
                .iter()
                .any(|o| matches!(o, PeerOutput::Ready { peer: p, .. } if *p == peer)));
            peers.push(peer);
        }
        assert_eq!(set.ready_count(), 2);
        (set, peers)
    }

    #[test]
    fn offline_closes_everything_at_once_and_online_redials_at_once() {
        let (mut set, peers) = ready_set();
        let out = set.set_online(false, Timestamp(1_000));
        for peer in &peers {
            assert!(out.contains(&PeerOutput::Socket(SocketCommand::Close { peer: *peer })));
            assert!(out
                .iter()
                .any(|o| matches!(o, PeerOutput::Gone { peer: p, .. } if p == peer)));
        }
        assert_eq!(set.ready_count(), 0);
        assert!(
            connects(&set.tick(Timestamp(600_000))).is_empty(),
            "no dialling while offline"
        );
        let redialled = connects(&set.set_online(true, Timestamp(600_001)));
        assert_eq!(
            redialled.len(),
            2,
            "online dials every endpoint immediately"
        );
    }

    #[test]
    fn a_peer_sending_garbage_is_dropped_and_banned() {
        let (mut set, peers) = ready_set();
        let out = set.socket_data(
            peers[0],
            b"\x00\x01garbage that is no dash message at all",
            Timestamp(10),
        );
        assert!(out.contains(&PeerOutput::Socket(SocketCommand::Close { peer: peers[0] })));
        assert_eq!(set.ready_count(), 1);
        let later = set.tick(Timestamp(300_000));
        assert!(
            connects(&later).is_empty(),
            "banned endpoint is not redialled: {later:?}"
        );
        assert_eq!(set.endpoint_states(Timestamp(300_000))[0].1, "banned");
        let after_ban = connects(&set.tick(Timestamp(10 + 600_000)));
        assert_eq!(
            after_ban
                .iter()
                .map(|(_, u)| u.as_str())
                .collect::<Vec<_>>(),
            ["ws://a"]
        );
    }

    /// Dials the one endpoint (it must be due at `now`), opens it and lets it send `bytes`;
    /// returns what the peer set reported.
    fn dial_and_receive(set: &mut PeerSet, now: Timestamp, bytes: &[u8]) -> Vec<PeerOutput> {
        let dialled = connects(&set.tick(now));
        let [(peer, _)] = dialled.as_slice() else {
            panic!("one dial expected at {now}: {dialled:?}")
        };
        set.socket_opened(*peer, now, 0, 0);
        set.socket_data(*peer, bytes, now + Millis(1))
    }

    fn penalties(out: &[PeerOutput]) -> Vec<Option<Penalty>> {
        out.iter()
            .filter_map(|o| match o {
                PeerOutput::Gone { penalty, .. } | PeerOutput::ConnectFailed { penalty, .. } => {
                    Some(*penalty)
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_repeat_offender_is_banned_twice_as_long_each_time() {
        let mut set = PeerSet::new(Network::Testnet, &urls()[..1], PeerSetConfig::default(), 1);
        let mut now = Timestamp(0);
        let mut bans = Vec::new();
        for _ in 0..3 {
            let out = dial_and_receive(&mut set, now, b"\x00\x01garbage, not a dash message");
            let [Some(penalty)] = penalties(&out)[..] else {
                panic!("{out:?}")
            };
            let ban = penalty.ban.expect("framing errors ban at once");
            bans.push(ban.duration.as_millis() / 60_000);
            let until = set.bans.banned_until("ws://a", now).expect("banned");
            assert!(connects(&set.tick(Timestamp(until.as_millis() - 1))).is_empty());
            now = until;
        }
        assert_eq!(bans, [10, 20, 40]);
    }

    #[test]
    fn handshake_breaches_add_up_and_timeouts_cost_nothing() {
        let mut set = PeerSet::new(Network::Testnet, &urls()[..1], PeerSetConfig::default(), 1);
        let mut now = Timestamp(0);
        let breach = remote(&NetworkMessage::Headers(Vec::new()));
        for round in 1..=10u32 {
            let out = dial_and_receive(&mut set, now, &breach);
            let [Some(penalty)] = penalties(&out)[..] else {
                panic!("{out:?}")
            };
            assert_eq!(
                penalty.weight,
                super::super::connection::HANDSHAKE_BREACH_WEIGHT
            );
            if round < 10 {
                assert_eq!(penalty.score, 10 * round);
                assert_eq!(penalty.ban, None);
                assert_ne!(set.endpoint_states(now)[0].1, "banned");
            } else {
                assert!(penalty.ban.is_some(), "the tenth breach bans");
                assert_eq!(set.endpoint_states(now)[0].1, "banned");
            }
            now = set.next_deadline().expect("a redial is scheduled").max(now);
        }
        let mut set = PeerSet::new(Network::Testnet, &urls()[..1], PeerSetConfig::default(), 1);
        let (peer, _) = connects(&set.tick(Timestamp(0)))[0].clone();
        set.socket_opened(peer, Timestamp(0), 0, 0);
        let out = set.tick(Timestamp(60_000));
        assert_eq!(penalties(&out), [None], "a handshake timeout is no offence");
    }

    #[test]
    fn a_closed_socket_is_redialled_after_a_jittered_backoff() {
        let (mut set, peers) = ready_set();
        let out = set.socket_closed(peers[1], Timestamp(1_000));
        assert!(out.iter().any(|o| matches!(o, PeerOutput::Gone { .. })));
        assert!(connects(&set.tick(Timestamp(1_000 + 249))).is_empty());
        assert_eq!(connects(&set.tick(Timestamp(1_000 + 500))).len(), 1);
    }

    #[test]
    fn a_socket_that_never_opens_times_out() {
        let mut set = PeerSet::new(Network::Testnet, &urls()[..1], PeerSetConfig::default(), 1);
        let (peer, _) = connects(&set.tick(Timestamp(0)))[0].clone();
        let out = set.tick(Timestamp(10_000));
        assert!(out.contains(&PeerOutput::Socket(SocketCommand::Close { peer })));
        assert_eq!(set.endpoint_states(Timestamp(10_000))[0].1, "waiting");
    }

    #[test]
    fn requests_are_spread_over_ready_peers() {
        let (mut set, peers) = ready_set();
        let targets: Vec<PeerId> = (0..4)
            .filter_map(|_| match set.send_to_any(&NetworkMessage::Ping(1)) {
                Some(SocketCommand::Send { peer, .. }) => Some(peer),
                _ => None,
            })
            .collect();
        assert_eq!(targets, [peers[0], peers[1], peers[0], peers[1]]);
        set.drop_all("test", Timestamp(5));
        assert_eq!(set.send_to_any(&NetworkMessage::Ping(1)), None);
    }

    #[test]
    fn a_retry_goes_to_another_peer_than_the_one_that_failed_it() {
        let (mut set, peers) = ready_set();
        for _ in 0..4 {
            let to = match set.send_to_any_but(&NetworkMessage::Ping(1), Some(peers[0])) {
                Some(SocketCommand::Send { peer, .. }) => peer,
                other => panic!("{other:?}"),
            };
            assert_eq!(to, peers[1]);
        }
        // With only the failed peer left, it is asked again rather than no one.
        set.misbehaved(peers[1], "test".into(), Timestamp(5));
        let to = set.send_to_any_but(&NetworkMessage::Ping(1), Some(peers[0]));
        assert!(matches!(to, Some(SocketCommand::Send { peer, .. }) if peer == peers[0]));
    }
}
