//! Fair slots and command budgets: one address cannot take every slot, and
//! a client flooding expensive commands is closed while others go on.

use crate::support::*;
use dashlight::encode::write_compact_size;
use dashlight::network::Network;
use dashlight::protocol::framing::{Command, StreamDecoder};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::MaybeTlsStream;

/// A TCP connection to `addr` from the loopback address `source`.
async fn connect_from(source: &str, addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(source.parse().unwrap(), 0))
        .unwrap();
    socket.connect(addr).await.unwrap()
}

/// A WebSocket client of `bridge` connecting from the loopback address `source`.
async fn client_from(source: &str, bridge: &RunningBridge) -> Client {
    let stream = connect_from(source, bridge.addr).await;
    let (ws, _) = within(
        10,
        tokio_tungstenite::client_async(bridge.url("/"), MaybeTlsStream::Plain(stream)),
    )
    .await
    .expect("handshake");
    ws
}

#[tokio::test]
async fn silent_sockets_from_one_address_leave_room_for_another() {
    within(60, async {
        let dashd = FakeDashd::silent().await;
        let mut config = config(vec![target(dashd.addr)]);
        // The silent sockets outlive the test instead of timing out.
        config.handshake_timeout = Duration::from_secs(60);
        assert_eq!(config.max_connections, 1024);
        let per_ip = config.max_connections_per_ip;
        let bridge = RunningBridge::start(config).await;
        let mut silent = Vec::with_capacity(1024);
        for _ in 0..1024 {
            silent.push(connect_from("127.0.0.1", bridge.addr).await);
        }
        bridge.wait_for_health("accepted_total", 1024).await;

        let mut client = client_from("127.0.0.2", &bridge).await;
        bridge.wait_for_health("relays_active", 1).await;
        assert_eq!(bridge.health().await["connections"], per_ip + 1);
        client
            .send(Message::binary(wire("ping", &[7; 8])))
            .await
            .unwrap();
        drop(silent);
    })
    .await;
}

/// The fixture's headers as `headers` messages, and a small `qrinfo`.
struct Answers {
    headers: Vec<Vec<u8>>,
    qrinfo: Vec<u8>,
}

/// A fake dashd answering `getheaders` with the next `headers` message and
/// `getqrinfo` with a `qrinfo`; it counts the `getqrinfo` it received.
async fn answering_dashd(
    counted: Arc<std::sync::atomic::AtomicUsize>,
) -> (SocketAddr, JoinHandle<()>) {
    let answers = Arc::new(Answers {
        headers: headers_messages(&fixture_headers()[..80 * 20_000]),
        qrinfo: wire("qrinfo", &[0; 1000]),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let answers = Arc::clone(&answers);
            let counted = Arc::clone(&counted);
            tokio::spawn(async move {
                let (mut read, mut write) = stream.into_split();
                let mut decoder = StreamDecoder::new(Network::Testnet);
                let mut buf = vec![0u8; 16 * 1024];
                let mut next = 0;
                loop {
                    let n = match read.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    decoder.feed(&buf[..n]);
                    while let Ok(Some(message)) = decoder.next_message() {
                        let reply = match message.command.name().as_str() {
                            "getheaders" => {
                                next = (next + 1) % answers.headers.len();
                                &answers.headers[next]
                            }
                            "getqrinfo" => {
                                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                &answers.qrinfo
                            }
                            _ => continue,
                        };
                        if write.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (addr, task)
}

fn getheaders() -> Vec<u8> {
    let mut payload = 70230u32.to_le_bytes().to_vec();
    write_compact_size(&mut payload, 1);
    payload.extend_from_slice(&[1; 32]);
    payload.extend_from_slice(&[0; 32]);
    wire("getheaders", &payload)
}

fn getqrinfo() -> Vec<u8> {
    wire("getqrinfo", &[0; 69])
}

/// Sends `request` and reads until a `reply` message arrived.
async fn round_trip(client: &mut Client, request: Vec<u8>, reply: &str) {
    client.send(Message::binary(request)).await.unwrap();
    let mut decoder = StreamDecoder::new(Network::Testnet);
    loop {
        match within(10, client.next()).await {
            Some(Ok(Message::Binary(data))) => decoder.feed(&data),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected {reply}, got {other:?}"),
        }
        while let Some(message) = decoder.next_message().unwrap() {
            if message.command == Command::new(reply) {
                return;
            }
        }
    }
}

/// A light client's sync: batches of headers and, now and then, a QRInfo.
async fn polite_sync(client: &mut Client, rounds: usize) {
    for round in 0..rounds {
        round_trip(client, getheaders(), "headers").await;
        if round % 4 == 0 {
            round_trip(client, getqrinfo(), "qrinfo").await;
        }
    }
}

#[tokio::test]
async fn a_client_flooding_getqrinfo_is_closed_while_a_polite_one_syncs() {
    within(60, async {
        let counted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (dashd, _task) = answering_dashd(Arc::clone(&counted)).await;
        let config = config(vec![target(dashd)]);
        let burst = config
            .command_budgets
            .get(&Command::new("getqrinfo"))
            .unwrap()
            .burst as usize;
        let bridge = RunningBridge::start(config).await;
        let mut polite = client_from("127.0.0.2", &bridge).await;
        let mut flooder = client_from("127.0.0.1", &bridge).await;
        polite_sync(&mut polite, 4).await;

        let mut flood = Vec::new();
        for _ in 0..200 {
            flood.extend(getqrinfo());
        }
        for piece in flood.chunks(8 * 1024) {
            if flooder.send(Message::binary(piece.to_vec())).await.is_err() {
                break;
            }
        }
        assert_closed(&mut flooder, 1008, "getqrinfo over its budget").await;
        polite_sync(&mut polite, 12).await;
        let polite_qrinfos = 4;
        let reached_dashd = counted.load(std::sync::atomic::Ordering::SeqCst);
        assert!(
            reached_dashd <= burst + polite_qrinfos,
            "{reached_dashd} getqrinfo reached dashd"
        );
        bridge.wait_for_health("violations_total", 1).await;
    })
    .await;
}

#[tokio::test]
async fn behind_a_proxy_the_proxy_is_capped_at_accept_and_clients_after_parsing() {
    within(30, async {
        let dashd = FakeDashd::silent().await;
        let mut config = config(vec![target(dashd.addr)]);
        config.trust_proxy = true;
        config.max_connections_per_ip = 1;
        config.max_connections_per_proxy = 3;
        let bridge = RunningBridge::start(config).await;
        let xff = |ip| [("x-forwarded-for", ip)];
        let _a = bridge
            .connect_with("/", &xff("198.51.100.1"))
            .await
            .unwrap();
        let _b = bridge
            .connect_with("/", &xff("198.51.100.2"))
            .await
            .unwrap();
        assert_eq!(
            refusal_status(bridge.connect_with("/", &xff("198.51.100.1")).await),
            429,
            "the forwarded client's cap"
        );
        let _silent = TcpStream::connect(bridge.addr).await.unwrap();
        bridge.wait_for_health("connections", 3).await;
        // The proxy holds 3: the next connection is refused before its request.
        let mut refused = TcpStream::connect(bridge.addr).await.unwrap();
        let mut answer = Vec::new();
        within(5, refused.read_to_end(&mut answer)).await.unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 429"), "{answer:?}");
        assert_eq!(bridge.health().await["clients"], 2);
    })
    .await;
}
