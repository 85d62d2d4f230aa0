//! Relaying: real Dash traffic both ways, raw mode, and the violations that
//! close a connection.

use crate::support::*;
use dashlight_bridge::{Mode, RateLimit};
use futures_util::SinkExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

/// Piece sizes that split messages (1 byte, mid-header, mid-payload) and
/// merge them (pieces larger than a message).
const TCP_PIECES: &[usize] = &[1, 23, 500, 4096, 70_000, 1, 200_000, 333_333];
const FRAME_PIECES: &[usize] = &[5, 30, 1, 200, 19, 1000];

fn client_stream() -> Vec<u8> {
    let mut stream = wire("version", &noise(120, 1));
    stream.extend(wire("verack", &[]));
    stream.extend(wire("sendheaders", &[]));
    stream.extend(wire("getheaders", &noise(1 + 4 + 32 * 10 + 32, 2)));
    stream.extend(wire("ping", &7u64.to_le_bytes()));
    stream.extend(wire("getqrinfo", &noise(100, 3)));
    stream
}

#[tokio::test]
async fn relays_real_headers_both_ways_across_split_and_merged_frames() {
    within(60, async {
        let headers = fixture_headers();
        let messages = headers_messages(&headers);
        let served: Vec<u8> = messages.concat();
        let mut dashd = FakeDashd::sending(served.clone(), TCP_PIECES).await;
        let bridge = RunningBridge::start(config(vec![target(dashd.addr)])).await;
        let mut client = bridge.connect().await;

        let sent = client_stream();
        let mut pieces = cut(&sent, FRAME_PIECES);
        // The last frame carries several whole messages at once.
        let tail: Vec<u8> = [wire("pong", &[1; 8]), wire("getmnlistd", &noise(64, 4))].concat();
        pieces.push(&tail);
        send_frames(&mut client, &pieces).await;

        let received = receive_bytes(&mut client, served.len()).await;
        // Dash-aware mode streams messages from the target through as they
        // arrive (a WebSocket message may end mid-message): the stream
        // decodes whole.
        let carried = headers_in(&received);
        assert_eq!(carried, headers, "every real header arrives intact");

        client.close(None).await.unwrap();
        let upstream = dashd.next_received().await;
        assert_eq!(
            upstream,
            [sent, tail].concat(),
            "client bytes reach dashd intact"
        );
        bridge
            .wait_for_health("bytes_to_client", served.len() as u64)
            .await;
        bridge.wait_for_health("violations_total", 0).await;
    })
    .await;
}

#[tokio::test]
async fn a_client_that_does_not_read_holds_back_the_target() {
    within(60, async {
        const ROUNDS: usize = 16;
        let round = Arc::new(headers_messages(&fixture_headers()).concat());
        let total = round.len() * ROUNDS;
        let written = Arc::new(AtomicUsize::new(0));
        let (served, counter) = (Arc::clone(&round), Arc::clone(&written));
        let dashd = FakeDashd::start(move |mut write| {
            let (served, counter) = (Arc::clone(&served), Arc::clone(&counter));
            async move {
                for _ in 0..ROUNDS {
                    for piece in served.chunks(64 * 1024) {
                        if write.write_all(piece).await.is_err() {
                            return;
                        }
                        counter.fetch_add(piece.len(), Ordering::SeqCst);
                    }
                }
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
        })
        .await;
        let bridge = RunningBridge::start(config(vec![target(dashd.addr)])).await;
        let mut client = bridge.connect().await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let held_back = written.load(Ordering::SeqCst);
        // Only socket buffers and one message in the bridge fill up.
        assert!(
            held_back < total / 4,
            "dashd wrote {held_back} of {total} bytes to a client that reads nothing"
        );
        let received = receive_bytes(&mut client, total).await;
        assert_eq!(received.len(), total);
        assert!(received.chunks(round.len()).all(|r| r == round.as_slice()));
    })
    .await;
}

#[tokio::test]
async fn raw_mode_relays_arbitrary_bytes() {
    within(30, async {
        let down = noise(300_000, 9);
        let mut dashd = FakeDashd::sending(down.clone(), TCP_PIECES).await;
        let mut config = config(vec![target(dashd.addr)]);
        config.mode = Mode::Raw;
        let bridge = RunningBridge::start(config).await;
        let mut client = bridge.connect().await;
        let up = noise(50_000, 10);
        send_frames(&mut client, &cut(&up, FRAME_PIECES)).await;
        let received = receive_bytes(&mut client, down.len()).await;
        assert_eq!(received, down);
        client.close(None).await.unwrap();
        assert_eq!(dashd.next_received().await, up);
    })
    .await;
}

#[tokio::test]
async fn wrong_magic_closes_the_connection() {
    within(30, async {
        let mut dashd = FakeDashd::silent().await;
        let bridge = RunningBridge::start(config(vec![target(dashd.addr)])).await;
        let mut client = bridge.connect().await;
        let mut mainnet_ping = wire("ping", &[0; 8]);
        mainnet_ping[..4].copy_from_slice(&dashlight::network::Network::Mainnet.magic());
        send_frames(&mut client, &[&mainnet_ping]).await;
        assert_closed(&mut client, 1008, "wrong network magic").await;
        assert!(
            dashd.next_received().await.is_empty(),
            "nothing reached dashd"
        );
        bridge.wait_for_health("violations_total", 1).await;
    })
    .await;
}

#[tokio::test]
async fn non_dash_bytes_close_the_connection() {
    within(30, async {
        let mut dashd = FakeDashd::silent().await;
        let bridge = RunningBridge::start(config(vec![target(dashd.addr)])).await;
        let mut client = bridge.connect().await;
        send_frames(&mut client, &[b"GET / HTTP/1.1\r\nHost: internal\r\n\r\n"]).await;
        assert_closed(&mut client, 1008, "not Dash P2P").await;
        assert!(dashd.next_received().await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn bad_checksum_closes_after_the_good_messages() {
    within(30, async {
        let mut dashd = FakeDashd::silent().await;
        let bridge = RunningBridge::start(config(vec![target(dashd.addr)])).await;
        let mut client = bridge.connect().await;
        let good = wire("ping", &[1; 8]);
        let mut bad = wire("ping", &[2; 8]);
        let last = bad.len() - 1;
        bad[last] ^= 0x40;
        send_frames(&mut client, &[&good]).await;
        send_frames(&mut client, &[&bad]).await;
        assert_closed(&mut client, 1008, "checksum").await;
        assert_eq!(dashd.next_received().await, good);
    })
    .await;
}

#[tokio::test]
async fn disallowed_command_closes_the_connection() {
    within(30, async {
        let mut dashd = FakeDashd::silent().await;
        let bridge = RunningBridge::start(config(vec![target(dashd.addr)])).await;
        let mut client = bridge.connect().await;
        let frame = [wire("verack", &[]), wire("addr", &noise(31, 5))].concat();
        send_frames(&mut client, &[&frame]).await;
        assert_closed(&mut client, 1008, "command addr is not allowed").await;
        assert!(dashd.next_received().await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn target_sending_non_dash_bytes_is_cut_off() {
    within(30, async {
        let served = b"SSH-2.0-OpenSSH_9.6p1 Debian-4\r\n".to_vec();
        let dashd = FakeDashd::sending(served, &[1000]).await;
        let bridge = RunningBridge::start(config(vec![target(dashd.addr)])).await;
        let mut client = bridge.connect().await;
        assert_closed(&mut client, 1011, "target not Dash P2P").await;
    })
    .await;
}

#[tokio::test]
async fn oversize_messages_and_frames_are_rejected() {
    within(30, async {
        let dashd = FakeDashd::silent().await;
        let mut config = config(vec![target(dashd.addr)]);
        config.max_message_size = 1000;
        config.max_frame_size = 600;
        let bridge = RunningBridge::start(config).await;

        // A WebSocket message over the limit, in frames each within it.
        let mut client = bridge.connect().await;
        let half = noise(550, 6);
        client
            .send(Message::Frame(Frame::message(
                half.clone(),
                OpCode::Data(Data::Binary),
                false,
            )))
            .await
            .unwrap();
        client
            .send(Message::Frame(Frame::message(
                half,
                OpCode::Data(Data::Continue),
                true,
            )))
            .await
            .unwrap();
        assert_closed(&mut client, 1009, "too big").await;

        // One frame over the frame limit.
        let mut client = bridge.connect().await;
        client.send(Message::binary(noise(700, 7))).await.unwrap();
        assert_closed(&mut client, 1009, "too big").await;

        // A Dash header declaring a payload over the limit.
        let mut client = bridge.connect().await;
        let header = &wire("tx", &noise(1001, 8))[..24];
        send_frames(&mut client, &[header]).await;
        assert_closed(&mut client, 1009, "exceeds the limit").await;
    })
    .await;
}

#[tokio::test]
async fn text_frames_are_refused() {
    within(30, async {
        let dashd = FakeDashd::silent().await;
        let bridge = RunningBridge::start(config(vec![target(dashd.addr)])).await;
        let mut client = bridge.connect().await;
        client.send(Message::text("hello")).await.unwrap();
        assert_closed(&mut client, 1003, "binary").await;
    })
    .await;
}

#[tokio::test]
async fn rate_limit_paces_the_download() {
    within(30, async {
        let headers = fixture_headers();
        let served: Vec<u8> = headers_messages(&headers[..4000 * 80]).concat();
        let dashd = FakeDashd::sending(served.clone(), &[1 << 20]).await;
        let mut config = config(vec![target(dashd.addr)]);
        config.rate_limit = Some(RateLimit {
            bytes_per_sec: 100_000,
            burst_bytes: 100_000,
        });
        let bridge = RunningBridge::start(config).await;
        let mut client = bridge.connect().await;
        let started = Instant::now();
        let received = receive_bytes(&mut client, served.len()).await;
        let elapsed = started.elapsed();
        assert_eq!(received, served);
        // 324,054 bytes at 100 kB/s after a 100 kB burst: about 2.2 s.
        assert!(elapsed >= Duration::from_millis(1900), "{elapsed:?}");
    })
    .await;
}

#[tokio::test]
async fn global_rate_limit_paces_all_clients_together() {
    within(30, async {
        let headers = fixture_headers();
        let served: Vec<u8> = headers_messages(&headers[..2000 * 80]).concat();
        let dashd = FakeDashd::sending(served.clone(), &[1 << 20]).await;
        let mut config = config(vec![target(dashd.addr)]);
        config.global_rate_limit = Some(200_000);
        let bridge = RunningBridge::start(config).await;
        let mut a = bridge.connect().await;
        let mut b = bridge.connect().await;
        let started = Instant::now();
        let (got_a, got_b) = tokio::join!(
            receive_bytes(&mut a, served.len()),
            receive_bytes(&mut b, served.len())
        );
        let elapsed = started.elapsed();
        assert_eq!((got_a, got_b), (served.clone(), served));
        // 2 × 162,027 bytes at 200 kB/s in all after a 200 kB burst: about
        // 0.6 s, where each connection alone would pass at once.
        assert!(elapsed >= Duration::from_millis(500), "{elapsed:?}");
    })
    .await;
}
