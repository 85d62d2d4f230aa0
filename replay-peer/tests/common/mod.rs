//! A minimal P2P client built on the core's codecs, a control-endpoint
//! client, and helpers to start a replay peer on loopback.

#![allow(dead_code)]

use clap::Parser;
use dashlight::block::BlockHeader;
use dashlight::hash::BlockHash;
use dashlight::network::Network;
use dashlight::protocol::framing::{FramingError, StreamDecoder};
use dashlight::protocol::handshake::{NetAddress, VersionMessage};
use dashlight::protocol::headers::GetHeaders;
use dashlight::protocol::NetworkMessage;
use dashlight_replay_peer::config::Options;
use dashlight_replay_peer::fixtures::read_headers;
use dashlight_replay_peer::{load_fixtures, start, Running};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Every test finishes within this.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How long to wait for one message.
pub const RECV_TIMEOUT: Duration = Duration::from_secs(10);

/// The fixtures folder.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures"
    ))
}

/// A fixture file's bytes.
pub fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(path)).expect("fixture file")
}

/// The canonical testnet headers from 898560 on.
pub fn canonical_headers() -> Vec<BlockHeader> {
    read_headers(&fixtures_dir().join("testnet/headers/testnet_headers_898560_947248.bin"))
        .expect("headers")
}

/// The canonical hash at `height` (>= 898560).
pub fn canonical_hash(headers: &[BlockHeader], height: u32) -> BlockHash {
    headers[(height - 898_560) as usize].block_hash()
}

/// Starts a peer on loopback with ephemeral ports, no periodic pings and
/// the extra `args`.
pub async fn start_peer(args: &[&str]) -> Running {
    let mut argv = vec![
        "dashlight-replay-peer",
        "--listen",
        "127.0.0.1:0",
        "--control",
        "127.0.0.1:0",
        "--ping-every",
        "0",
    ];
    argv.extend_from_slice(args);
    let options = Options::parse_from(argv);
    let fixtures = load_fixtures(&options).expect("fixtures load");
    start(fixtures, &options).await.expect("peer starts")
}

/// Why receiving failed.
#[derive(Debug)]
pub enum RecvError {
    /// Nothing arrived in time.
    Timeout,
    /// The peer closed the connection.
    Closed,
    /// The bytes did not frame.
    Framing(FramingError),
}

/// A P2P client.
pub struct Client {
    stream: TcpStream,
    decoder: StreamDecoder,
    pub version: u32,
    next_nonce: u64,
    /// Messages that arrived while waiting for `headers` answers.
    pub others: Vec<NetworkMessage>,
}

impl Client {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> Client {
        Client {
            stream: TcpStream::connect(addr).await.expect("connect"),
            decoder: StreamDecoder::new(Network::Testnet),
            version: 70230,
            next_nonce: 1000,
            others: Vec::new(),
        }
    }

    /// Sends `message`.
    pub async fn send(&mut self, message: NetworkMessage) {
        let wire = message.encode(self.version).to_wire(Network::Testnet);
        self.stream.write_all(&wire).await.expect("send");
    }

    /// The next message.
    pub async fn try_recv(&mut self) -> Result<NetworkMessage, RecvError> {
        loop {
            match self.decoder.next_message() {
                Ok(Some(raw)) => {
                    return Ok(NetworkMessage::from_raw(&raw, self.version).expect("decodes"))
                }
                Ok(None) => {}
                Err(error) => return Err(RecvError::Framing(error)),
            }
            let mut buf = [0u8; 65536];
            let n = match tokio::time::timeout(RECV_TIMEOUT, self.stream.read(&mut buf)).await {
                Err(_) => return Err(RecvError::Timeout),
                Ok(Err(_)) | Ok(Ok(0)) => return Err(RecvError::Closed),
                Ok(Ok(n)) => n,
            };
            self.decoder.feed(&buf[..n]);
        }
    }

    /// The next message; panics if none comes.
    pub async fn recv(&mut self) -> NetworkMessage {
        self.try_recv().await.expect("a message")
    }

    /// Receives until `pick` accepts a message, answering pings on the way;
    /// returns the skipped messages too.
    pub async fn recv_until<T>(
        &mut self,
        mut pick: impl FnMut(&NetworkMessage) -> Option<T>,
    ) -> (T, Vec<NetworkMessage>) {
        let mut skipped = Vec::new();
        loop {
            let message = self.recv().await;
            if let Some(found) = pick(&message) {
                return (found, skipped);
            }
            if let NetworkMessage::Ping(nonce) = message {
                self.send(NetworkMessage::Pong(nonce)).await;
            }
            skipped.push(message);
        }
    }

    /// Sends a ping and returns every message that arrived before its pong:
    /// the peer handles messages in order, so whatever it would answer to
    /// earlier requests has arrived by then.
    pub async fn sync_point(&mut self) -> Vec<NetworkMessage> {
        self.next_nonce += 1;
        let nonce = self.next_nonce;
        self.send(NetworkMessage::Ping(nonce)).await;
        let ((), before) = self
            .recv_until(|m| matches!(m, NetworkMessage::Pong(n) if *n == nonce).then_some(()))
            .await;
        before
    }

    /// Sends `version`, returns the peer's three handshake messages.
    pub async fn send_version(&mut self, version: u32) -> Vec<NetworkMessage> {
        self.version = version;
        self.send(NetworkMessage::Version(VersionMessage {
            version: version as i32,
            services: 0,
            timestamp: 1_700_000_000,
            receiver: NetAddress::default(),
            sender: NetAddress::default(),
            nonce: 42,
            user_agent: b"/replay-peer-test/".to_vec(),
            start_height: 0,
            relay: Some(false),
            mnauth_challenge: None,
            masternode_connection: None,
        }))
        .await;
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(self.recv().await);
        }
        got
    }

    /// Completes the handshake (and `sendheaders`); returns what the peer
    /// sent after its `verack` (pings are answered on the way).
    pub async fn handshake(&mut self) -> Vec<NetworkMessage> {
        self.send_version(70230).await;
        self.send(NetworkMessage::Verack).await;
        self.send(NetworkMessage::SendHeaders).await;
        self.sync_point().await
    }

    /// Sends `getheaders` and returns the headers answered (skipping other messages).
    pub async fn get_headers(
        &mut self,
        locator: Vec<BlockHash>,
        stop: BlockHash,
    ) -> Vec<BlockHeader> {
        self.send(NetworkMessage::GetHeaders(GetHeaders {
            version: 70230,
            locator,
            stop_hash: stop,
        }))
        .await;
        self.recv_headers().await
    }

    /// Receives until a `headers` message and returns its headers (other
    /// messages are set aside in `others`).
    pub async fn recv_headers(&mut self) -> Vec<BlockHeader> {
        let (headers, others) = self
            .recv_until(|m| match m {
                NetworkMessage::Headers(h) => Some(h.clone()),
                _ => None,
            })
            .await;
        self.others.extend(others);
        headers
    }

    /// Syncs headers from `start` (a known block) to the peer's tip; returns
    /// them. Announcements that do not build on the tip are set aside in
    /// `others`.
    pub async fn sync_headers_from(&mut self, start: BlockHash) -> Vec<BlockHeader> {
        let mut all: Vec<BlockHeader> = Vec::new();
        let mut tip = start;
        loop {
            let mut batch = self.get_headers(vec![tip], BlockHash::ZERO).await;
            while batch
                .first()
                .is_some_and(|first| first.prev_blockhash != tip)
            {
                self.others.push(NetworkMessage::Headers(batch));
                batch = self.recv_headers().await;
            }
            let Some(last) = batch.last() else {
                return all;
            };
            for pair in batch.windows(2) {
                assert_eq!(pair[1].prev_blockhash, pair[0].block_hash());
            }
            tip = last.block_hash();
            all.extend(batch);
        }
    }

    /// Whether the peer closed the connection (within the receive timeout),
    /// skipping whatever it still sends.
    pub async fn closed(&mut self) -> bool {
        loop {
            match self.try_recv().await {
                Ok(_) => continue,
                Err(RecvError::Closed) => return true,
                Err(_) => return false,
            }
        }
    }
}

/// A request to the control endpoint: status and JSON body.
pub async fn control(addr: SocketAddr, method: &str, path: &str) -> (u16, serde_json::Value) {
    let mut stream = TcpStream::connect(addr).await.expect("control connect");
    let request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(RECV_TIMEOUT, stream.read_to_end(&mut response))
        .await
        .expect("control answers in time")
        .expect("read");
    let text = String::from_utf8(response).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
    let status = head
        .split(' ')
        .nth(1)
        .expect("status")
        .parse()
        .expect("status code");
    let json = if body.trim().is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(body).expect("json body")
    };
    (status, json)
}

/// The counters of `peer`.
pub async fn counters(peer: &Running) -> serde_json::Value {
    let (status, json) = control(peer.control_addr.expect("control"), "GET", "/counters").await;
    assert_eq!(status, 200);
    json
}
