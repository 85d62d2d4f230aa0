//! The browser transport against a local WebSocket server playing Dash peers
//! (`tests/support/ws-test-server.mjs`, started by `scripts/test.sh`): frames
//! that split and merge messages, a peer that sends garbage, a server restart.
#![cfg(target_arch = "wasm32")]

use dashlight::block::BlockHeader;
use dashlight::browser::clock::monotonic_ms;
use dashlight::browser::socket::{Socket, SocketEvent};
use dashlight::network::Network;
use dashlight::peer::set::{PeerId, PeerOutput, PeerSet, PeerSetConfig, SocketCommand};
use dashlight::protocol::message::NetworkMessage;
use dashlight::sync::time::Timestamp;
use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::{FutureExt, StreamExt};
use gloo_timers::future::TimeoutFuture;
use std::collections::HashMap;
use wasm_bindgen_test::wasm_bindgen_test;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn url(path: &str) -> String {
    let port = option_env!("DASHLIGHT_WS_TEST_PORT").unwrap_or("18546");
    format!("ws://127.0.0.1:{port}{path}")
}

/// Real sockets around a peer set, driven like the runtime drives the node.
struct Harness {
    set: PeerSet,
    sockets: HashMap<PeerId, Socket>,
    tx: UnboundedSender<(PeerId, SocketEvent)>,
    rx: UnboundedReceiver<(PeerId, SocketEvent)>,
    seen: Vec<PeerOutput>,
}

impl Harness {
    fn new(path: &str) -> Harness {
        let config = PeerSetConfig {
            max_peers: 1,
            ..PeerSetConfig::default()
        };
        let (tx, rx) = unbounded();
        Harness {
            set: PeerSet::new(Network::Testnet, &[url(path)], config, 3),
            sockets: HashMap::new(),
            tx,
            rx,
            seen: Vec::new(),
        }
    }

    /// Runs until `done` holds for the outputs seen so far, or `limit_ms` passes.
    async fn run_until(&mut self, limit_ms: u64, done: impl Fn(&[PeerOutput]) -> bool) -> bool {
        let deadline = monotonic_ms() + limit_ms;
        while monotonic_ms() < deadline {
            let now = Timestamp(monotonic_ms());
            let outputs = futures::select! {
                event = self.rx.next() => match event {
                    Some((peer, SocketEvent::Opened)) => self.set.socket_opened(peer, now, 0, 0),
                    Some((peer, SocketEvent::Data(bytes))) => self.set.socket_data(peer, &bytes, now),
                    Some((peer, SocketEvent::Closed { .. })) => {
                        self.sockets.remove(&peer);
                        self.set.socket_closed(peer, now)
                    }
                    None => Vec::new(),
                },
                _ = TimeoutFuture::new(50).fuse() => self.set.tick(now),
            };
            for output in outputs {
                match &output {
                    PeerOutput::Socket(SocketCommand::Connect { peer, url }) => {
                        let socket =
                            Socket::connect(url, *peer, self.tx.clone()).expect("socket opens");
                        self.sockets.insert(*peer, socket);
                    }
                    PeerOutput::Socket(SocketCommand::Send { peer, bytes }) => {
                        if let Some(socket) = self.sockets.get(peer) {
                            let _ = socket.send(bytes);
                        }
                    }
                    PeerOutput::Socket(SocketCommand::Close { peer }) => {
                        self.sockets.remove(peer);
                    }
                    _ => {}
                }
                self.seen.push(output);
            }
            if done(&self.seen) {
                return true;
            }
        }
        false
    }
}

fn count_ready(outputs: &[PeerOutput]) -> usize {
    outputs
        .iter()
        .filter(|o| matches!(o, PeerOutput::Ready { .. }))
        .count()
}

#[wasm_bindgen_test]
async fn messages_split_and_merged_across_frames_arrive_whole() {
    let mut harness = Harness::new("/peer");
    let headers = |outputs: &[PeerOutput]| {
        outputs
            .iter()
            .filter(|o| matches!(o, PeerOutput::Deliver { message: NetworkMessage::Headers(h), .. } if h.len() == 1))
            .count()
    };
    assert!(
        harness.run_until(10_000, |seen| headers(seen) == 3).await,
        "three headers messages: {:?}",
        harness.seen
    );
    assert_eq!(count_ready(&harness.seen), 1);
    let fixture: &[u8; 80] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/testnet/headers/testnet_headers_898560_947248.bin"
    ))[..80]
        .try_into()
        .expect("80 bytes");
    let expected = BlockHeader::from_bytes(fixture);
    for output in &harness.seen {
        if let PeerOutput::Deliver {
            message: NetworkMessage::Headers(h),
            ..
        } = output
        {
            assert_eq!(h, &vec![expected]);
        }
    }
}

#[wasm_bindgen_test]
async fn a_peer_that_sends_garbage_is_dropped_and_banned() {
    let mut harness = Harness::new("/garbage");
    let closed = |seen: &[PeerOutput]| {
        seen.iter()
            .any(|o| matches!(o, PeerOutput::Socket(SocketCommand::Close { .. })))
    };
    assert!(
        harness.run_until(10_000, closed).await,
        "{:?}",
        harness.seen
    );
    assert_eq!(count_ready(&harness.seen), 0);
    assert_eq!(
        harness.set.endpoint_states(Timestamp(monotonic_ms()))[0].1,
        "banned"
    );
    harness.seen.clear();
    harness.run_until(1_500, |_| false).await;
    assert!(
        !harness
            .seen
            .iter()
            .any(|o| matches!(o, PeerOutput::Socket(SocketCommand::Connect { .. }))),
        "banned peer redialled"
    );
}

#[wasm_bindgen_test]
async fn reconnects_after_the_server_restarts() {
    let mut harness = Harness::new("/peer");
    assert!(
        harness
            .run_until(10_000, |seen| count_ready(seen) == 1)
            .await
    );
    let (tx, _rx) = unbounded();
    let _restart = Socket::connect(&url("/restart"), 0u64, tx).expect("restart socket");
    let gone = |seen: &[PeerOutput]| seen.iter().any(|o| matches!(o, PeerOutput::Gone { .. }));
    assert!(
        harness.run_until(10_000, gone).await,
        "peer not reported gone: {:?}",
        harness.seen
    );
    assert!(
        harness
            .run_until(20_000, |seen| count_ready(seen) == 2)
            .await,
        "no reconnect: {:?}",
        harness.seen
    );
}
