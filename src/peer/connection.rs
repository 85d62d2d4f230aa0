//! One peer connection, sans-IO: framing, the version handshake, keep-alive
//! pings and dead-peer detection. Bytes and the time go in; messages to send,
//! messages for the sync layer and a verdict on the peer come out.

use crate::network::Network;
use crate::protocol::framing::{FramingError, StreamDecoder};
use crate::protocol::handshake::{NetAddress, VersionMessage};
use crate::protocol::message::{MessageError, NetworkMessage};
use crate::protocol::version::{MIN_PEER_PROTO_VERSION, PROTOCOL_VERSION};
use crate::sync::time::{Millis, Timestamp};
use core::fmt;

/// Timeouts of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// From the socket opening to a complete version/verack exchange.
    pub handshake_timeout: Millis,
    /// How long a quiet, ready connection waits before it pings.
    pub ping_interval: Millis,
    /// How long a ping may go unanswered before the peer counts as dead.
    pub pong_timeout: Millis,
}

impl ConnectionConfig {
    /// How long a silent peer may go unnoticed: a ping interval, then a pong timeout.
    pub fn keep_alive_timeout(&self) -> Millis {
        Millis(
            self.ping_interval
                .as_millis()
                .saturating_add(self.pong_timeout.as_millis()),
        )
    }
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            handshake_timeout: Millis::from_secs(10),
            ping_interval: Millis::from_secs(30),
            pong_timeout: Millis::from_secs(20),
        }
    }
}

/// What dashlight learnt about a peer in the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The protocol version both sides speak: the lower of the two.
    pub protocol_version: u32,
    /// The peer's service bits.
    pub services: u64,
    /// The peer's user agent.
    pub user_agent: String,
    /// The best height the peer has: from `version`, raised when it announces a block on our
    /// chain, lowered to our tip when it has nothing after it.
    pub best_height: u32,
}

/// The keep-alive state of a ready connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingState {
    /// No ping outstanding; the last message arrived at `since`.
    Idle {
        /// When the peer was last heard from.
        since: Timestamp,
    },
    /// A ping is outstanding.
    AwaitingPong {
        /// Its nonce.
        nonce: u64,
        /// When it was sent.
        since: Timestamp,
    },
}

/// Where a connection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    /// Our `version` is sent; neither the peer's `version` nor its `verack` has arrived.
    AwaitingVersion {
        /// When the socket opened.
        since: Timestamp,
    },
    /// The peer's `version` arrived; its `verack` has not.
    AwaitingVerack {
        /// When the socket opened.
        since: Timestamp,
        /// What the peer told us.
        info: PeerInfo,
    },
    /// The peer's `verack` arrived before its `version`.
    AwaitingVersionAfterVerack {
        /// When the socket opened.
        since: Timestamp,
    },
    /// The handshake is done.
    Ready {
        /// What the peer told us.
        info: PeerInfo,
        /// Keep-alive.
        ping: PingState,
    },
    /// The connection must be closed; nothing more is processed.
    Failed(DisconnectReason),
}

/// Why a connection is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The handshake did not finish in time.
    HandshakeTimeout,
    /// A ping went unanswered.
    PongTimeout,
    /// The peer speaks a protocol version older than dashlight supports.
    ObsoletePeer(u32),
    /// The peer broke the framing (wrong magic, bad checksum, oversize payload).
    Framing(FramingError),
    /// The peer sent a message that does not decode.
    MalformedMessage(MessageError),
    /// The peer sent a message in a version this client does not know (a newer Dash Core's
    /// layout): nothing in it can be used, but nothing in it is proven wrong either.
    UnsupportedMessage(MessageError),
    /// The peer sent something other than the handshake before finishing it.
    UnexpectedBeforeHandshake(String),
    /// The peer sent `version` twice.
    DuplicateVersion,
    /// The sync layer found the peer's data invalid (the text says what was invalid and
    /// why, e.g. "invalid qrinfo: …").
    InvalidData(String),
    /// The peer let this many requests in a row go unanswered: it is rotated out, without
    /// blame (it may be overloaded, or the requests may have been lost on the way).
    Unresponsive(u32),
    /// The browser went offline, the user asked, or the client stopped.
    Local(String),
}

impl DisconnectReason {
    /// The misbehaviour score this reason adds to the peer's address (see
    /// [`super::ban`]): the full [`super::ban::BAN_THRESHOLD`] for what no honest dashd
    /// sends (broken framing, a message that does not decode, data proven invalid), a
    /// little for handshake breaches a buggy but honest node might commit, nothing for what
    /// may be our own gap (timeouts, an unknown newer version, leaving by our choice).
    pub fn misbehaviour_weight(&self) -> u32 {
        match self {
            DisconnectReason::Framing(_)
            | DisconnectReason::MalformedMessage(_)
            | DisconnectReason::InvalidData(_) => super::ban::BAN_THRESHOLD,
            DisconnectReason::UnexpectedBeforeHandshake(_) | DisconnectReason::DuplicateVersion => {
                HANDSHAKE_BREACH_WEIGHT
            }
            DisconnectReason::HandshakeTimeout
            | DisconnectReason::PongTimeout
            | DisconnectReason::ObsoletePeer(_)
            | DisconnectReason::UnsupportedMessage(_)
            | DisconnectReason::Unresponsive(_)
            | DisconnectReason::Local(_) => 0,
        }
    }

    /// Whether the peer misbehaved (its score rises), as opposed to merely being slow,
    /// outdated or gone.
    pub fn is_misbehaviour(&self) -> bool {
        self.misbehaviour_weight() > 0
    }
}

/// The score of a handshake breach (a message out of order, a second `version`): ten
/// such connections in a row ban the address.
pub const HANDSHAKE_BREACH_WEIGHT: u32 = 10;

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HandshakeTimeout => f.write_str("handshake timed out"),
            Self::PongTimeout => f.write_str("ping not answered"),
            Self::ObsoletePeer(v) => write!(
                f,
                "peer protocol version {v} is older than {MIN_PEER_PROTO_VERSION}"
            ),
            Self::Framing(e) => write!(f, "framing error: {e}"),
            Self::UnsupportedMessage(e) => {
                write!(f, "unsupported message (dashlight may need an update): {e}")
            }
            Self::MalformedMessage(e) => write!(f, "{e}"),
            Self::UnexpectedBeforeHandshake(c) => write!(f, "{c} before the handshake finished"),
            Self::DuplicateVersion => f.write_str("second version message"),
            Self::InvalidData(why) => f.write_str(why),
            Self::Unresponsive(count) => {
                write!(f, "left {count} requests in a row unanswered (rotated out)")
            }
            Self::Local(why) => f.write_str(why),
        }
    }
}

/// What the connection asks of its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionOutput {
    /// Send these wire bytes.
    Send(Vec<u8>),
    /// The handshake finished.
    Ready(PeerInfo),
    /// A message for the sync layer.
    Deliver(NetworkMessage),
    /// Close the socket.
    Disconnect(DisconnectReason),
}

/// A peer connection's protocol state.
#[derive(Debug, Clone)]
pub struct Connection {
    network: Network,
    config: ConnectionConfig,
    decoder: StreamDecoder,
    state: ConnectionState,
    nonce_source: u64,
}

impl Connection {
    /// A connection whose socket just opened at `now`; the returned outputs
    /// carry our `version`. `nonce_seed` seeds the version and ping nonces.
    pub fn open(
        network: Network,
        config: ConnectionConfig,
        now: Timestamp,
        unix_time: i64,
        nonce_seed: u64,
        start_height: u32,
    ) -> (Connection, Vec<ConnectionOutput>) {
        let mut connection = Connection {
            network,
            config,
            decoder: StreamDecoder::new(network),
            state: ConnectionState::AwaitingVersion { since: now },
            nonce_source: nonce_seed | 1,
        };
        let version = NetworkMessage::Version(VersionMessage {
            version: PROTOCOL_VERSION as i32,
            services: 0,
            timestamp: unix_time,
            receiver: NetAddress::default(),
            sender: NetAddress::default(),
            nonce: connection.next_nonce(),
            user_agent: format!("/dashlight:{}/", env!("CARGO_PKG_VERSION")).into_bytes(),
            start_height: i32::try_from(start_height).unwrap_or(i32::MAX),
            relay: Some(false),
            mnauth_challenge: None,
            masternode_connection: None,
        });
        let out = vec![connection.send(&version)];
        (connection, out)
    }

    /// The connection's state.
    pub fn state(&self) -> &ConnectionState {
        &self.state
    }

    /// What the peer told us, once the handshake is done.
    pub fn info(&self) -> Option<&PeerInfo> {
        match &self.state {
            ConnectionState::Ready { info, .. } => Some(info),
            _ => None,
        }
    }

    /// The protocol version messages are encoded and decoded with.
    pub fn protocol_version(&self) -> u32 {
        match &self.state {
            ConnectionState::Ready { info, .. } | ConnectionState::AwaitingVerack { info, .. } => {
                info.protocol_version
            }
            _ => PROTOCOL_VERSION,
        }
    }

    /// The wire bytes of `message`, encoded for this peer.
    pub fn send(&self, message: &NetworkMessage) -> ConnectionOutput {
        self.wire(message, self.protocol_version())
    }

    fn wire(&self, message: &NetworkMessage, protocol_version: u32) -> ConnectionOutput {
        ConnectionOutput::Send(message.encode(protocol_version).to_wire(self.network))
    }

    /// Raises the peer's known best height (from headers it announced).
    pub fn note_height(&mut self, height: u32) {
        if let ConnectionState::Ready { info, .. } = &mut self.state {
            info.best_height = info.best_height.max(height);
        }
    }

    /// Lowers the peer's best height to `height`: asked for what follows a block at
    /// `height`, it had nothing (whatever its `version` claimed).
    pub fn settle_height(&mut self, height: u32) {
        if let ConnectionState::Ready { info, .. } = &mut self.state {
            info.best_height = info.best_height.min(height);
        }
    }

    /// Takes bytes from the socket.
    pub fn receive(&mut self, bytes: &[u8], now: Timestamp) -> Vec<ConnectionOutput> {
        let mut out = Vec::new();
        if matches!(self.state, ConnectionState::Failed(_)) {
            return out;
        }
        self.decoder.feed(bytes);
        loop {
            let raw = match self.decoder.next_message() {
                Ok(Some(raw)) => raw,
                Ok(None) => break,
                Err(error) => {
                    out.push(self.fail(DisconnectReason::Framing(error)));
                    break;
                }
            };
            match NetworkMessage::from_raw(&raw, self.protocol_version()) {
                Ok(message) => self.handle(message, now, &mut out),
                Err(error) if error.error.is_unsupported() => {
                    out.push(self.fail(DisconnectReason::UnsupportedMessage(error)))
                }
                Err(error) => out.push(self.fail(DisconnectReason::MalformedMessage(error))),
            }
            if matches!(self.state, ConnectionState::Failed(_)) {
                break;
            }
        }
        out
    }

    /// Advances timers: handshake timeout, pings, pong timeout.
    pub fn tick(&mut self, now: Timestamp) -> Vec<ConnectionOutput> {
        match self.state {
            ConnectionState::AwaitingVersion { since }
            | ConnectionState::AwaitingVerack { since, .. }
            | ConnectionState::AwaitingVersionAfterVerack { since }
                if now.since(since) >= self.config.handshake_timeout =>
            {
                vec![self.fail(DisconnectReason::HandshakeTimeout)]
            }
            ConnectionState::Ready {
                ping: PingState::Idle { since },
                ..
            } if now.since(since) >= self.config.ping_interval => self.ping(now),
            ConnectionState::Ready {
                ping: PingState::AwaitingPong { since, .. },
                ..
            } if now.since(since) >= self.config.pong_timeout => {
                vec![self.fail(DisconnectReason::PongTimeout)]
            }
            _ => Vec::new(),
        }
    }

    /// The next time [`Connection::tick`] has something to do.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        match self.state {
            ConnectionState::AwaitingVersion { since }
            | ConnectionState::AwaitingVerack { since, .. }
            | ConnectionState::AwaitingVersionAfterVerack { since } => {
                Some(since + self.config.handshake_timeout)
            }
            ConnectionState::Ready {
                ping: PingState::Idle { since },
                ..
            } => Some(since + self.config.ping_interval),
            ConnectionState::Ready {
                ping: PingState::AwaitingPong { since, .. },
                ..
            } => Some(since + self.config.pong_timeout),
            ConnectionState::Failed(_) => None,
        }
    }

    /// Checks that a connection that may have died while the tab slept is alive: sends a
    /// ping now, or, with one outstanding, gives its pong a full timeout from `now` (the
    /// peer could not have been heard while we slept).
    pub fn check_liveness(&mut self, now: Timestamp) -> Vec<ConnectionOutput> {
        match &mut self.state {
            ConnectionState::Ready {
                ping: PingState::Idle { .. },
                ..
            } => self.ping(now),
            ConnectionState::Ready {
                ping: PingState::AwaitingPong { since, .. },
                ..
            } => {
                *since = now;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Marks the connection failed (e.g. the sync layer found its data invalid)
    /// and returns the disconnect request.
    pub fn fail(&mut self, reason: DisconnectReason) -> ConnectionOutput {
        self.state = ConnectionState::Failed(reason.clone());
        ConnectionOutput::Disconnect(reason)
    }

    fn ping(&mut self, now: Timestamp) -> Vec<ConnectionOutput> {
        let nonce = self.next_nonce();
        if let ConnectionState::Ready { ping, .. } = &mut self.state {
            *ping = PingState::AwaitingPong { nonce, since: now };
        }
        vec![self.send(&NetworkMessage::Ping(nonce))]
    }

    fn next_nonce(&mut self) -> u64 {
        let mut x = self.nonce_source;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.nonce_source = x;
        x
    }

    fn handle(&mut self, message: NetworkMessage, now: Timestamp, out: &mut Vec<ConnectionOutput>) {
        use ConnectionState::*;
        let version = self.protocol_version();
        let state = core::mem::replace(&mut self.state, AwaitingVersion { since: now });
        self.state = match (state, message) {
            (AwaitingVersion { since }, NetworkMessage::Version(peer)) => {
                match self.accept_version(&peer, out) {
                    Ok(info) => AwaitingVerack { since, info },
                    Err(reason) => Failed(reason),
                }
            }
            (AwaitingVersionAfterVerack { .. }, NetworkMessage::Version(peer)) => {
                match self.accept_version(&peer, out) {
                    Ok(info) => self.ready(info, now, out),
                    Err(reason) => Failed(reason),
                }
            }
            (AwaitingVersion { since }, NetworkMessage::Verack) => {
                AwaitingVersionAfterVerack { since }
            }
            (AwaitingVerack { info, .. }, NetworkMessage::Verack) => self.ready(info, now, out),
            (Ready { .. } | AwaitingVerack { .. }, NetworkMessage::Version(_)) => {
                Failed(DisconnectReason::DuplicateVersion)
            }
            (Ready { info, ping }, message) => {
                self.ready_message(info, ping, message, now, version, out)
            }
            (Failed(reason), _) => Failed(reason),
            // Between version and verack dashd announces features (sendaddrv2 and
            // others) and may ping; anything else must wait for the handshake.
            (handshaking, NetworkMessage::Ping(nonce)) => {
                out.push(self.wire(&NetworkMessage::Pong(nonce), version));
                handshaking
            }
            (
                handshaking,
                NetworkMessage::SendAddrV2
                | NetworkMessage::SendHeaders
                | NetworkMessage::Unknown { .. },
            ) => handshaking,
            (_, other) => Failed(DisconnectReason::UnexpectedBeforeHandshake(
                other.command().name(),
            )),
        };
        if let Failed(reason) = &self.state {
            out.push(ConnectionOutput::Disconnect(reason.clone()));
        }
    }

    fn accept_version(
        &mut self,
        version: &VersionMessage,
        out: &mut Vec<ConnectionOutput>,
    ) -> Result<PeerInfo, DisconnectReason> {
        let peer_version = u32::try_from(version.version).unwrap_or(0);
        if peer_version < MIN_PEER_PROTO_VERSION {
            return Err(DisconnectReason::ObsoletePeer(peer_version));
        }
        out.push(self.send(&NetworkMessage::Verack));
        Ok(PeerInfo {
            protocol_version: peer_version.min(PROTOCOL_VERSION),
            services: version.services,
            user_agent: version.user_agent_lossy(),
            best_height: u32::try_from(version.start_height).unwrap_or(0),
        })
    }

    fn ready(
        &mut self,
        info: PeerInfo,
        now: Timestamp,
        out: &mut Vec<ConnectionOutput>,
    ) -> ConnectionState {
        out.push(ConnectionOutput::Ready(info.clone()));
        out.push(self.wire(&NetworkMessage::SendHeaders, info.protocol_version));
        ConnectionState::Ready {
            info,
            ping: PingState::Idle { since: now },
        }
    }

    fn ready_message(
        &mut self,
        info: PeerInfo,
        ping: PingState,
        message: NetworkMessage,
        now: Timestamp,
        version: u32,
        out: &mut Vec<ConnectionOutput>,
    ) -> ConnectionState {
        let ping = match (ping, &message) {
            (PingState::AwaitingPong { nonce, .. }, NetworkMessage::Pong(answer))
                if *answer == nonce =>
            {
                PingState::Idle { since: now }
            }
            (PingState::AwaitingPong { nonce, since }, _) => {
                PingState::AwaitingPong { nonce, since }
            }
            (PingState::Idle { .. }, _) => PingState::Idle { since: now },
        };
        match message {
            NetworkMessage::Ping(nonce) => {
                out.push(self.wire(&NetworkMessage::Pong(nonce), version))
            }
            NetworkMessage::Pong(_) | NetworkMessage::Verack => {}
            other => out.push(ConnectionOutput::Deliver(other)),
        }
        ConnectionState::Ready { info, ping }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::protocol::framing::RawMessage;

    /// The wire bytes a well-behaved remote peer at `version` sends for `message`.
    pub(crate) fn remote(message: &NetworkMessage) -> Vec<u8> {
        message.encode(PROTOCOL_VERSION).to_wire(Network::Testnet)
    }

    /// A `version` message as dashd would send it.
    pub(crate) fn remote_version(protocol: i32, height: i32) -> NetworkMessage {
        NetworkMessage::Version(VersionMessage {
            version: protocol,
            services: 5,
            timestamp: 1_700_000_000,
            receiver: NetAddress::default(),
            sender: NetAddress::default(),
            nonce: 99,
            user_agent: b"/Dash Core:20.0.0/".to_vec(),
            start_height: height,
            relay: Some(true),
            mnauth_challenge: Some([7; 32]),
            masternode_connection: Some(false),
        })
    }

    fn sent_commands(outputs: &[ConnectionOutput]) -> Vec<String> {
        outputs
            .iter()
            .filter_map(|o| match o {
                ConnectionOutput::Send(bytes) => {
                    let mut decoder = StreamDecoder::new(Network::Testnet);
                    decoder.feed(bytes);
                    decoder
                        .next_message()
                        .ok()
                        .flatten()
                        .map(|m: RawMessage| m.command.name())
                }
                _ => None,
            })
            .collect()
    }

    fn open() -> Connection {
        let (connection, out) = Connection::open(
            Network::Testnet,
            ConnectionConfig::default(),
            Timestamp(0),
            1_700_000_000,
            5,
            0,
        );
        assert_eq!(sent_commands(&out), ["version"]);
        connection
    }

    fn handshake() -> Connection {
        let mut connection = open();
        let mut bytes = remote(&remote_version(70230, 905_000));
        bytes.extend(remote(&NetworkMessage::SendAddrV2));
        bytes.extend(remote(&NetworkMessage::Verack));
        let out = connection.receive(&bytes, Timestamp(10));
        assert_eq!(sent_commands(&out), ["verack", "sendheaders"]);
        assert!(out
            .iter()
            .any(|o| matches!(o, ConnectionOutput::Ready(info) if info.best_height == 905_000)));
        connection
    }

    #[test]
    fn handshake_in_one_chunk_makes_the_peer_ready() {
        let connection = handshake();
        assert_eq!(connection.info().map(|i| i.protocol_version), Some(70230));
    }

    #[test]
    fn verack_before_version_also_completes() {
        let mut connection = open();
        assert!(connection
            .receive(&remote(&NetworkMessage::Verack), Timestamp(1))
            .is_empty());
        let out = connection.receive(&remote(&remote_version(70235, 1)), Timestamp(2));
        assert!(out.iter().any(|o| matches!(o, ConnectionOutput::Ready(_))));
        assert_eq!(
            connection.protocol_version(),
            PROTOCOL_VERSION,
            "the lower version is spoken"
        );
    }

    #[test]
    fn handshake_times_out() {
        let mut connection = open();
        assert!(connection.tick(Timestamp(9_999)).is_empty());
        assert_eq!(
            connection.tick(Timestamp(10_000)),
            vec![ConnectionOutput::Disconnect(
                DisconnectReason::HandshakeTimeout
            )]
        );
    }

    #[test]
    fn obsolete_peer_is_refused() {
        let mut connection = open();
        let out = connection.receive(&remote(&remote_version(70215, 1)), Timestamp(1));
        assert_eq!(
            out,
            vec![ConnectionOutput::Disconnect(
                DisconnectReason::ObsoletePeer(70215)
            )]
        );
    }

    #[test]
    fn sync_messages_before_the_handshake_are_misbehaviour() {
        let mut connection = open();
        let out = connection.receive(&remote(&NetworkMessage::Headers(vec![])), Timestamp(1));
        let [ConnectionOutput::Disconnect(reason)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert!(reason.is_misbehaviour());
    }

    #[test]
    fn quiet_peer_is_pinged_and_dropped_when_it_does_not_answer() {
        let mut connection = handshake();
        assert!(connection.tick(Timestamp(20_000)).is_empty());
        assert_eq!(sent_commands(&connection.tick(Timestamp(30_010))), ["ping"]);
        assert_eq!(
            connection.tick(Timestamp(50_010)),
            vec![ConnectionOutput::Disconnect(DisconnectReason::PongTimeout)]
        );
    }

    #[test]
    fn pong_with_the_right_nonce_keeps_the_peer() {
        let mut connection = handshake();
        connection.tick(Timestamp(30_010));
        let ConnectionState::Ready {
            ping: PingState::AwaitingPong { nonce, .. },
            ..
        } = *connection.state()
        else {
            panic!("no ping outstanding")
        };
        connection.receive(
            &remote(&NetworkMessage::Pong(nonce.wrapping_add(1))),
            Timestamp(30_020),
        );
        assert!(matches!(
            connection.state(),
            ConnectionState::Ready {
                ping: PingState::AwaitingPong { .. },
                ..
            }
        ));
        connection.receive(&remote(&NetworkMessage::Pong(nonce)), Timestamp(30_030));
        assert_eq!(
            *connection.state(),
            ConnectionState::Ready {
                info: connection.info().cloned().unwrap(),
                ping: PingState::Idle {
                    since: Timestamp(30_030)
                }
            }
        );
    }

    #[test]
    fn pings_are_answered_and_other_messages_delivered() {
        let mut connection = handshake();
        let mut bytes = remote(&NetworkMessage::Ping(42));
        bytes.extend(remote(&NetworkMessage::Headers(vec![])));
        let out = connection.receive(&bytes, Timestamp(100));
        assert_eq!(sent_commands(&out), ["pong"]);
        assert!(out.contains(&ConnectionOutput::Deliver(NetworkMessage::Headers(vec![]))));
    }

    #[test]
    fn garbage_disconnects_and_counts_as_misbehaviour() {
        let mut connection = handshake();
        let out = connection.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", Timestamp(100));
        let [ConnectionOutput::Disconnect(reason @ DisconnectReason::Framing(_))] = out.as_slice()
        else {
            panic!("{out:?}")
        };
        assert!(reason.is_misbehaviour());
        assert!(connection
            .receive(&remote(&NetworkMessage::Ping(1)), Timestamp(101))
            .is_empty());
    }

    #[test]
    fn a_message_in_an_unknown_version_disconnects_without_misbehaviour() {
        use crate::protocol::mnlistdiff::MnListDiff;
        let real = include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/testnet/mnlistdiff/mnlistdiff_530000_900096.bin"
        ));
        let mut diff = MnListDiff::from_payload(real, PROTOCOL_VERSION).expect("decodes");
        let entry = diff
            .new_masternodes
            .first_mut()
            .expect("the diff adds entries");
        entry.version = 4;
        let raw = RawMessage {
            command: crate::protocol::framing::Command::new("mnlistdiff"),
            payload: diff.to_payload(PROTOCOL_VERSION),
        };
        let mut connection = handshake();
        let out = connection.receive(&raw.to_wire(Network::Testnet), Timestamp(100));
        let [ConnectionOutput::Disconnect(reason @ DisconnectReason::UnsupportedMessage(_))] =
            out.as_slice()
        else {
            panic!("{out:?}")
        };
        assert!(!reason.is_misbehaviour());
        assert!(
            reason
                .to_string()
                .contains("SML entry version 4 is not supported"),
            "{reason}"
        );
    }
}
