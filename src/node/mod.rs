//! The client core, sans-IO: the peer set and the sync coordinator wired
//! together. The runtime (browser or native) opens sockets, carries bytes and
//! the time in, and acts on the [`NodeOutput`]s; everything else happens here.

pub mod chain;
pub mod engine;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

use crate::hash::{BlockHash, Sha256dHash};
use crate::network::Network;
use crate::peer::set::{PeerId, PeerOutput, PeerSet, PeerSetConfig, SocketCommand};
use crate::protocol::bloom::{BloomFilter, MerkleBlock};
use crate::protocol::chainlock::ClSig;
use crate::protocol::headers::GetHeaders;
use crate::protocol::inventory::{InvType, Inventory};
use crate::protocol::isdlock::InstantLock;
use crate::protocol::message::NetworkMessage;
use crate::protocol::mnlistdiff::{GetMnListDiff, MnListDiff};
use crate::protocol::qrinfo::{GetQrInfo, QrInfo};
use crate::protocol::version::PROTOCOL_VERSION;
use crate::sync::chain_view::HeaderChain;
use crate::sync::config::SyncConfig;
use crate::sync::coordinator::Coordinator;
use crate::sync::engine::MasternodeEngine;
use crate::sync::events::{NetworkEvent, SyncMessage};
use crate::sync::progress::SyncProgress;
use crate::sync::requests::{Output, Request};
use crate::sync::time::Timestamp;

/// What the runtime must do, or may show.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeOutput {
    /// Something to do with a WebSocket.
    Socket(SocketCommand),
    /// Something to tell the application.
    Notify(Notification),
}

/// What happened, for the application (events, logs, persistence hooks).
#[derive(Debug, Clone, PartialEq)]
pub enum Notification {
    /// A peer sent an InstantSend lock (not verified yet).
    InstantLock(Box<InstantLock>),
    /// A peer sent a filtered block (not checked yet).
    MerkleBlock(Box<MerkleBlock>),
    /// A sync output: a state change, a routed event (headers stored,
    /// ChainLock verified, …).
    Sync(Output),
    /// A peer finished its handshake.
    PeerReady {
        /// The peer.
        peer: PeerId,
        /// Its user agent.
        user_agent: String,
        /// Its best height.
        best_height: u32,
    },
    /// A peer went away.
    PeerGone {
        /// The peer.
        peer: PeerId,
        /// Why.
        reason: String,
        /// Whether it misbehaved (and is banned for a while).
        misbehaved: bool,
    },
}

/// The client core.
pub struct Node<C: HeaderChain, E: MasternodeEngine> {
    peers: PeerSet,
    sync: Coordinator<C, E>,
    running: bool,
    last_chainlock: Option<ClSig>,
}

impl<C, E> Node<C, E>
where
    C: HeaderChain,
    E: MasternodeEngine<QrInfo = QrInfo, MnListDiff = MnListDiff, ChainLock = ClSig>,
{
    /// A stopped node for `network` dialling `bridges`, over `chain` and `engine`.
    pub fn new(
        network: Network,
        bridges: &[String],
        peer_config: PeerSetConfig,
        sync_config: SyncConfig,
        chain: C,
        engine: E,
        seed: u64,
    ) -> Node<C, E> {
        Node {
            peers: PeerSet::new(network, bridges, peer_config, seed),
            sync: Coordinator::new(sync_config, chain, engine),
            running: false,
            last_chainlock: None,
        }
    }

    /// The last ChainLock a peer sent (verified or not: see the progress).
    pub fn last_chainlock(&self) -> Option<&ClSig> {
        self.last_chainlock.as_ref()
    }

    /// Asks one ready peer for a filtered block of `block_hash` matching
    /// `filter` (`filterload`, then `getdata` of `MSG_FILTERED_BLOCK`); the
    /// answer arrives as [`Notification::MerkleBlock`]. Nothing is sent
    /// without a ready peer.
    pub fn request_merkle_block(
        &mut self,
        filter: BloomFilter,
        block_hash: BlockHash,
    ) -> Vec<NodeOutput> {
        let Some(peer) = self.peers.ready_peers().map(|(peer, ..)| peer).next() else {
            return Vec::new();
        };
        let messages = [
            NetworkMessage::FilterLoad(filter),
            NetworkMessage::GetData(vec![Inventory {
                inv_type: InvType::FilteredBlock,
                hash: Sha256dHash(block_hash.0),
            }]),
        ];
        messages
            .iter()
            .filter_map(|m| self.peers.send_to(peer, m))
            .map(NodeOutput::Socket)
            .collect()
    }

    /// The sync coordinator (chain, engine, managers).
    pub fn sync(&self) -> &Coordinator<C, E> {
        &self.sync
    }

    /// The peers.
    pub fn peers(&self) -> &PeerSet {
        &self.peers
    }

    /// Progress of every manager.
    pub fn progress(&self) -> SyncProgress {
        self.sync.progress()
    }

    /// Whether the node is running.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Starts: peers are dialled on this and every later tick.
    pub fn start(&mut self, now: Timestamp) -> Vec<NodeOutput> {
        self.running = true;
        self.tick(now)
    }

    /// Stops: every connection closes and the sync machines are told there are no peers.
    pub fn stop(&mut self, now: Timestamp) -> Vec<NodeOutput> {
        self.running = false;
        let outputs = self.peers.drop_all("client stopped", now);
        self.route_peers(outputs, now)
    }

    /// Advances every timer: dialling, handshakes, pings, sync timeouts and retries.
    pub fn tick(&mut self, now: Timestamp) -> Vec<NodeOutput> {
        if !self.running {
            return Vec::new();
        }
        let outputs = self.peers.tick(now);
        let mut out = self.route_peers(outputs, now);
        let sync = self.sync.tick(now);
        self.route_sync(sync, &mut out);
        out
    }

    /// The socket of `peer` opened.
    pub fn socket_opened(
        &mut self,
        peer: PeerId,
        now: Timestamp,
        unix_time: i64,
    ) -> Vec<NodeOutput> {
        let height = self.sync.chain().tip().height;
        let outputs = self.peers.socket_opened(peer, now, unix_time, height);
        self.route_peers(outputs, now)
    }

    /// Bytes arrived on `peer`'s socket.
    pub fn socket_data(&mut self, peer: PeerId, bytes: &[u8], now: Timestamp) -> Vec<NodeOutput> {
        let outputs = self.peers.socket_data(peer, bytes, now);
        self.route_peers(outputs, now)
    }

    /// `peer`'s socket closed.
    pub fn socket_closed(&mut self, peer: PeerId, now: Timestamp) -> Vec<NodeOutput> {
        let outputs = self.peers.socket_closed(peer, now);
        self.route_peers(outputs, now)
    }

    /// The browser went offline or came back online.
    pub fn set_online(&mut self, online: bool, now: Timestamp) -> Vec<NodeOutput> {
        let outputs = self.peers.set_online(online, now);
        if !self.running {
            return Vec::new();
        }
        self.route_peers(outputs, now)
    }

    /// Closes every connection now (they are dialled again after a backoff).
    pub fn drop_connections(&mut self, now: Timestamp) -> Vec<NodeOutput> {
        let outputs = self.peers.drop_all("connections dropped on request", now);
        self.route_peers(outputs, now)
    }

    /// Pings every peer: the tab became visible and sockets may be dead.
    pub fn check_liveness(&mut self, now: Timestamp) -> Vec<NodeOutput> {
        let outputs = self.peers.check_liveness(now);
        self.route_peers(outputs, now)
    }

    fn peers_updated(&self) -> NetworkEvent {
        NetworkEvent::PeersUpdated {
            connected_count: self.peers.ready_count(),
            best_height: self.peers.best_height(),
        }
    }

    fn route_peers(&mut self, outputs: Vec<PeerOutput>, now: Timestamp) -> Vec<NodeOutput> {
        let mut out = Vec::new();
        for output in outputs {
            match output {
                PeerOutput::Socket(command) => out.push(NodeOutput::Socket(command)),
                PeerOutput::Ready { peer, info } => {
                    out.push(NodeOutput::Notify(Notification::PeerReady {
                        peer,
                        user_agent: info.user_agent,
                        best_height: info.best_height,
                    }));
                    self.network_event(NetworkEvent::PeerConnected, now, &mut out);
                    self.network_event(self.peers_updated(), now, &mut out);
                }
                PeerOutput::Gone { peer, reason } => {
                    out.push(NodeOutput::Notify(Notification::PeerGone {
                        peer,
                        misbehaved: reason.is_misbehaviour(),
                        reason: reason.to_string(),
                    }));
                    self.network_event(NetworkEvent::PeerDisconnected, now, &mut out);
                    self.network_event(self.peers_updated(), now, &mut out);
                }
                PeerOutput::Deliver { peer, message } => self.deliver(peer, message, now, &mut out),
            }
        }
        out
    }

    fn network_event(&mut self, event: NetworkEvent, now: Timestamp, out: &mut Vec<NodeOutput>) {
        let outputs = self.sync.handle_network(now, event);
        self.route_sync(outputs, out);
    }

    fn deliver(
        &mut self,
        peer: PeerId,
        message: NetworkMessage,
        now: Timestamp,
        out: &mut Vec<NodeOutput>,
    ) {
        // A ban earlier in the same read leaves messages from the banned peer behind.
        if !self.peers.ready_peers().any(|(ready, ..)| ready == peer) {
            return;
        }
        let sync_message = match message {
            NetworkMessage::Headers(headers) => SyncMessage::Headers(headers),
            NetworkMessage::QrInfo(qrinfo) => SyncMessage::QrInfo(*qrinfo),
            NetworkMessage::MnListDiff(diff) => SyncMessage::MnListDiff(*diff),
            NetworkMessage::ClSig(clsig) => {
                self.last_chainlock = Some(clsig);
                SyncMessage::ChainLock(clsig)
            }
            NetworkMessage::IsDLock(lock) => {
                out.push(NodeOutput::Notify(Notification::InstantLock(lock)));
                return;
            }
            NetworkMessage::MerkleBlock(block) => {
                out.push(NodeOutput::Notify(Notification::MerkleBlock(block)));
                return;
            }
            NetworkMessage::Inv(items) => {
                let announces_block = items
                    .iter()
                    .any(|item| matches!(item.inv_type, InvType::Block));
                let wanted: Vec<Inventory> = items
                    .into_iter()
                    .filter(|item| matches!(item.inv_type, InvType::ClSig | InvType::IsDLock))
                    .collect();
                let mut replies = Vec::new();
                if announces_block {
                    // A block announced by hash: ask that peer for the headers up to it.
                    replies.push(NetworkMessage::GetHeaders(GetHeaders {
                        version: PROTOCOL_VERSION,
                        locator: self.sync.chain().locator(),
                        stop_hash: BlockHash::ZERO,
                    }));
                }
                if !wanted.is_empty() {
                    replies.push(NetworkMessage::GetData(wanted));
                }
                for reply in replies {
                    if let Some(send) = self.peers.send_to(peer, &reply) {
                        out.push(NodeOutput::Socket(send));
                    }
                }
                return;
            }
            _ => return,
        };
        let outputs = self.sync.handle_message(now, sync_message);
        // A verdict on this message can only blame the peer that delivered it. It is closed
        // before the managers' requests are routed, so their retries go to other peers; its
        // departure reaches the managers after the outputs of the message that caused it.
        let mut departure = Vec::new();
        let mut routed = Vec::with_capacity(outputs.len());
        for output in outputs {
            match output {
                Output::InvalidMessage(invalid) => {
                    departure.extend(self.peers.misbehaved(peer, invalid.to_string(), now));
                }
                other => routed.push(other),
            }
        }
        self.route_sync(routed, out);
        out.extend(self.route_peers(departure, now));
    }

    fn route_sync(&mut self, outputs: Vec<Output>, out: &mut Vec<NodeOutput>) {
        for output in outputs {
            match output {
                Output::Send(request) => {
                    let message = to_message(request);
                    if let Some(send) = self.peers.send_to_any(&message) {
                        out.push(NodeOutput::Socket(send));
                    }
                }
                other => out.push(NodeOutput::Notify(Notification::Sync(other))),
            }
        }
    }
}

/// The wire message for a sync request.
fn to_message(request: Request) -> NetworkMessage {
    match request {
        Request::GetHeaders { locator, stop } => NetworkMessage::GetHeaders(GetHeaders {
            version: PROTOCOL_VERSION,
            locator,
            stop_hash: stop,
        }),
        Request::GetQrInfo {
            base_block_hashes,
            block_request_hash,
            extra_share,
        } => NetworkMessage::GetQrInfo(GetQrInfo {
            base_block_hashes,
            block_request_hash,
            extra_share,
        }),
        Request::GetMnListDiff {
            base_block_hash,
            block_hash,
        } => NetworkMessage::GetMnListDiff(GetMnListDiff {
            base_block_hash,
            block_hash,
        }),
    }
}
