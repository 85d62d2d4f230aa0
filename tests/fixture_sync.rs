//! The whole client core, sans-IO, against a simulated dashd serving the real
//! captured testnet data (fixtures README, scenario A): headers from the
//! 898560 checkpoint to 905294, the QRInfo for that tip, then the chain grows
//! to 905770 (whose signing list, 905762, is answered by
//! `mnlistdiff_0_905762.bin`) and to 905800 with the
//! ChainLock for 905775. The node must reach `Synced` with that ChainLock
//! verified against the signing quorum the protocol selects (whose own
//! commitment cannot be checked here: its members need the list at 905248,
//! which the fixtures lack).
#![cfg(not(target_arch = "wasm32"))]

use dashlight::block::BlockHeader;
use dashlight::chain::header_chain::HeaderChain;
use dashlight::chain::sync_base::SyncBase;
use dashlight::encode::Reader;
use dashlight::hash::BlockHash;
use dashlight::mnlist::MasternodeEngine;
use dashlight::network::Network;
use dashlight::node::engine::ClientEngine;
use dashlight::node::{Node, NodeOutput, Notification};
use dashlight::peer::set::{PeerId, PeerSetConfig, SocketCommand};
use dashlight::protocol::framing::{Command, RawMessage, StreamDecoder};
use dashlight::protocol::handshake::{NetAddress, VersionMessage};
use dashlight::protocol::message::NetworkMessage;
use dashlight::protocol::mnlistdiff::MnListDiff;
use dashlight::protocol::version::PROTOCOL_VERSION;
use dashlight::sync::config::SyncConfig;
use dashlight::sync::state::SyncState;
use dashlight::sync::time::{Millis, Now, Timestamp};
use std::collections::HashMap;
use std::path::PathBuf;

const FIRST_HEIGHT: u32 = 898_560;

fn fixture(path: &str) -> Vec<u8> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// A dashd stand-in answering from the captured data.
struct FixturePeer {
    headers: Vec<BlockHeader>,
    hashes: HashMap<BlockHash, u32>,
    served_tip: u32,
    qrinfos: HashMap<BlockHash, Vec<u8>>,
    diffs: HashMap<BlockHash, Vec<u8>>,
    decoder: StreamDecoder,
    qrinfo_answered: u32,
    headers_served: usize,
}

impl FixturePeer {
    fn new() -> FixturePeer {
        let bytes = fixture("testnet/headers/testnet_headers_898560_947248.bin");
        let headers: Vec<BlockHeader> = bytes
            .chunks_exact(80)
            .take(8_000)
            .map(|c| BlockHeader::from_bytes(c.try_into().unwrap()))
            .collect();
        let hashes = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.block_hash(), FIRST_HEIGHT + i as u32))
            .collect();
        let mut peer = FixturePeer {
            headers,
            hashes,
            served_tip: 905_294,
            qrinfos: HashMap::new(),
            diffs: HashMap::new(),
            decoder: StreamDecoder::new(Network::Testnet),
            qrinfo_answered: 0,
            headers_served: 0,
        };
        let tip = peer.hash_at(905_294);
        peer.qrinfos
            .insert(tip, fixture("testnet/qrinfo/qrinfo_905294.bin"));
        let diff = fixture("testnet/mnlistdiff/mnlistdiff_0_905762.bin");
        let decoded = MnListDiff::decode(&mut Reader::new(&diff), PROTOCOL_VERSION).unwrap();
        peer.diffs.insert(decoded.block_hash, diff);
        peer
    }

    /// A peer on the real stale testnet branch (shares blocks up to 899759).
    fn on_stale_fork() -> FixturePeer {
        let mut peer = FixturePeer::new();
        let fork = fixture("testnet/fork/testnet_stale_fork_headers_899760_902320.bin");
        peer.headers.truncate((899_760 - FIRST_HEIGHT) as usize);
        peer.headers.extend(
            fork.chunks_exact(80)
                .map(|c| BlockHeader::from_bytes(c.try_into().unwrap())),
        );
        peer.hashes = peer
            .headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.block_hash(), FIRST_HEIGHT + i as u32))
            .collect();
        peer.served_tip = 902_320;
        peer
    }

    fn hash_at(&self, height: u32) -> BlockHash {
        self.headers[(height - FIRST_HEIGHT) as usize].block_hash()
    }

    fn wire(message: &NetworkMessage) -> Vec<u8> {
        message.encode(PROTOCOL_VERSION).to_wire(Network::Testnet)
    }

    fn raw(command: &str, payload: Vec<u8>) -> Vec<u8> {
        RawMessage {
            command: Command::new(command),
            payload,
        }
        .to_wire(Network::Testnet)
    }

    /// Extends the served chain to `height` and announces the new headers.
    fn grow(&mut self, height: u32) -> Vec<u8> {
        let from = self.served_tip + 1;
        self.served_tip = height;
        let new = self.headers[(from - FIRST_HEIGHT) as usize..=(height - FIRST_HEIGHT) as usize]
            .to_vec();
        self.headers_served += new.len();
        Self::wire(&NetworkMessage::Headers(new))
    }

    fn receive(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.decoder.feed(bytes);
        let mut out = Vec::new();
        while let Some(raw) = self
            .decoder
            .next_message()
            .expect("the client frames correctly")
        {
            let message = NetworkMessage::from_raw(&raw, PROTOCOL_VERSION)
                .expect("the client encodes correctly");
            match message {
                NetworkMessage::Version(_) => {
                    out.extend(Self::wire(&NetworkMessage::Version(VersionMessage {
                        version: PROTOCOL_VERSION as i32,
                        services: 5,
                        timestamp: 1_700_000_000,
                        receiver: NetAddress::default(),
                        sender: NetAddress::default(),
                        nonce: 1,
                        user_agent: b"/fixture-peer/".to_vec(),
                        start_height: self.served_tip as i32,
                        relay: Some(true),
                        mnauth_challenge: None,
                        masternode_connection: None,
                    })));
                    out.extend(Self::wire(&NetworkMessage::Verack));
                }
                NetworkMessage::Ping(nonce) => out.extend(Self::wire(&NetworkMessage::Pong(nonce))),
                NetworkMessage::GetHeaders(request) => {
                    let start = request
                        .locator
                        .iter()
                        .find_map(|h| self.hashes.get(h))
                        .copied()
                        .unwrap_or(FIRST_HEIGHT);
                    let end = self.served_tip.min(start + 2_000);
                    let batch = self.headers
                        [(start + 1 - FIRST_HEIGHT) as usize..=(end - FIRST_HEIGHT) as usize]
                        .to_vec();
                    self.headers_served += batch.len();
                    out.extend(Self::wire(&NetworkMessage::Headers(batch)));
                }
                NetworkMessage::GetQrInfo(request) => {
                    if let Some(payload) = self.qrinfos.get(&request.block_request_hash).cloned() {
                        self.qrinfo_answered += 1;
                        out.extend(Self::raw("qrinfo", payload));
                        out.extend(self.grow(905_770));
                    }
                }
                NetworkMessage::GetMnListDiff(request) => {
                    if let Some(payload) = self.diffs.get(&request.block_hash).cloned() {
                        out.extend(Self::raw("mnlistdiff", payload));
                        out.extend(self.grow(905_800));
                        out.extend(Self::raw(
                            "clsig",
                            fixture("testnet/clsig/clsig_905775.bin"),
                        ));
                    }
                }
                _ => {}
            }
        }
        out
    }
}

#[test]
fn syncs_real_testnet_data_to_a_verified_chainlock() {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let base = SyncBase::at_or_below(Network::Testnet, FIRST_HEIGHT);
    assert_eq!(base.height(), FIRST_HEIGHT);
    let chain = HeaderChain::new(base);
    let engine = ClientEngine::new(MasternodeEngine::new(Network::Testnet));
    let mut node = Node::new(
        Network::Testnet,
        &["sim://peer".to_owned()],
        PeerSetConfig::default(),
        SyncConfig::for_network(Network::Testnet),
        chain,
        engine,
        7,
    );
    let mut peer = FixturePeer::new();
    let mut socket: Option<PeerId> = None;
    let mut states = Vec::new();

    let mut now = Now::new(Timestamp(0), unix);
    let mut outputs = node.start(now);
    let mut synced_with_chainlock = false;
    for _ in 0..20_000 {
        let mut inbound = Vec::new();
        for output in outputs.drain(..) {
            match output {
                NodeOutput::Socket(SocketCommand::Connect { peer, .. }) => socket = Some(peer),
                NodeOutput::Socket(SocketCommand::Send { bytes, .. }) => {
                    inbound.extend(peer.receive(&bytes))
                }
                NodeOutput::Socket(SocketCommand::Close { .. }) => {
                    panic!("the fixture peer was dropped")
                }
                NodeOutput::Notify(n) => states.push(format!("{n:?}")),
                NodeOutput::CheckQuorums { .. } | NodeOutput::HashHeaders(_) => {
                    panic!("no workers configured")
                }
            }
        }
        if let Some(id) = socket {
            if node.peers().ready_count() == 0
                && inbound.is_empty()
                && states.iter().all(|s| !s.contains("PeerReady"))
            {
                outputs.extend(node.socket_opened(id, now));
            }
            if !inbound.is_empty() {
                outputs.extend(node.socket_data(id, &inbound, now));
                continue;
            }
        }
        let progress = node.progress();
        if progress.state == SyncState::Synced && progress.best_chainlock.is_some() {
            synced_with_chainlock = true;
            break;
        }
        now = Now::new(
            now.monotonic + Millis(100),
            unix + now.monotonic.as_millis() / 1000,
        );
        outputs.extend(node.tick(now));
    }
    let progress = node.progress();
    assert!(
        synced_with_chainlock,
        "not synced after {} s: {progress:#?}\n{}",
        now.monotonic.as_millis() / 1000,
        states.join("\n")
    );
    assert_eq!(progress.best_chainlock.map(|t| t.height), Some(905_775));
    assert_eq!(node.sync().chain().tip().height, 905_800);
    assert_eq!(peer.qrinfo_answered, 1, "exactly one QRInfo was needed");
    assert_eq!(
        peer.headers_served,
        (905_800 - FIRST_HEIGHT) as usize,
        "no header was served twice"
    );
    let engine = node.sync().engine().inner();
    let verified = engine
        .quorum_records()
        .filter(|r| r.status.is_verified())
        .count();
    assert!(verified >= 37, "{verified} quorums verified");
}

#[test]
fn a_peer_serving_headers_that_contradict_a_checkpoint_is_dropped_and_banned() {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let chain = HeaderChain::new(SyncBase::at_or_below(Network::Testnet, FIRST_HEIGHT));
    let engine = ClientEngine::new(MasternodeEngine::new(Network::Testnet));
    let mut node = Node::new(
        Network::Testnet,
        &["sim://fork".to_owned()],
        PeerSetConfig::default(),
        SyncConfig::for_network(Network::Testnet),
        chain,
        engine,
        7,
    );
    let mut peer = FixturePeer::on_stale_fork();
    let now = Now::new(Timestamp(0), unix);
    let mut outputs = node.start(now);
    let mut closed = false;
    let mut gone = Vec::new();
    for _ in 0..100 {
        let mut inbound = Vec::new();
        let mut socket = None;
        for output in outputs.drain(..) {
            match output {
                NodeOutput::Socket(SocketCommand::Connect { peer: id, .. }) => {
                    socket = Some((id, true))
                }
                NodeOutput::Socket(SocketCommand::Send { peer: id, bytes }) => {
                    inbound.extend(peer.receive(&bytes));
                    socket = Some((id, false));
                }
                NodeOutput::Socket(SocketCommand::Close { .. }) => closed = true,
                NodeOutput::Notify(Notification::PeerGone {
                    reason, penalty, ..
                }) => gone.push((reason, penalty)),
                NodeOutput::Notify(_) => {}
                NodeOutput::CheckQuorums { .. } | NodeOutput::HashHeaders(_) => {
                    panic!("no workers configured")
                }
            }
        }
        match socket {
            Some((id, true)) => outputs.extend(node.socket_opened(id, now)),
            Some((id, false)) if !inbound.is_empty() && !closed => {
                outputs.extend(node.socket_data(id, &inbound, now))
            }
            _ => {}
        }
        if closed {
            break;
        }
    }
    assert!(closed, "the fork peer was not dropped");
    assert_eq!(gone.len(), 1);
    let (reason, penalty) = &gone[0];
    assert!(penalty.is_some_and(|p| p.ban.is_some()), "{penalty:?}");
    assert!(
        reason.starts_with("invalid headers: ") && reason.contains("checkpoint"),
        "{reason}"
    );
    assert_eq!(node.endpoint_states()[0].1, "banned");
    assert!(
        node.sync().chain().tip().height < 900_288,
        "the checkpoint at 900288 stops the fork"
    );
}
