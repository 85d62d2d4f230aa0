//! The control endpoint and the growth of the served tip.

mod common;

use common::*;
use dashlight::hash::{BlockHash, Sha256dHash};
use dashlight::network::Network;
use dashlight::protocol::inventory::{InvType, Inventory};
use dashlight::protocol::qrinfo::GetQrInfo;
use dashlight::protocol::NetworkMessage;
use std::time::Duration;

fn block_inv(hash: BlockHash) -> NetworkMessage {
    NetworkMessage::Inv(vec![Inventory {
        inv_type: InvType::Block,
        hash: Sha256dHash(*hash.as_bytes()),
    }])
}

fn is_clsig_inv(message: &NetworkMessage) -> bool {
    matches!(message, NetworkMessage::Inv(items) if items.iter().all(|i| i.inv_type == InvType::ClSig))
}

#[tokio::test]
async fn kill_connections_drops_every_client() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let peer = start_peer(&[]).await;
        let mut a = Client::connect(peer.p2p_addr).await;
        let mut b = Client::connect(peer.p2p_addr).await;
        a.handshake().await;
        b.handshake().await;
        let (status, body) = control(peer.control_addr.unwrap(), "POST", "/kill-connections").await;
        assert_eq!(status, 200);
        assert_eq!(body["killed"], 2);
        assert!(a.closed().await);
        assert!(b.closed().await);
        let mut c = Client::connect(peer.p2p_addr).await;
        c.handshake().await;
        let counters = counters(&peer).await;
        assert_eq!(counters["faults"]["killed"], 2);
        assert_eq!(counters["connections_total"], 3);
        assert_eq!(counters["connections_open"], 1);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn control_routes_and_errors() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let peer = start_peer(&[]).await;
        let addr = peer.control_addr.unwrap();
        let (status, body) = control(addr, "GET", "/health").await;
        assert_eq!(
            (status, &body["status"], &body["tip_height"]),
            (200, &"ok".into(), &905_294.into())
        );
        assert_eq!(control(addr, "GET", "/nope").await.0, 404);
        assert_eq!(control(addr, "DELETE", "/counters").await.0, 405);
        assert_eq!(control(addr, "POST", "/tip").await.0, 400);
        assert_eq!(control(addr, "POST", "/tip?height=900000").await.0, 409);
        assert_eq!(control(addr, "OPTIONS", "/counters").await.0, 204);
        let (status, body) = control(addr, "POST", "/tip?height=2000000").await;
        assert_eq!((status, &body["tip_height"]), (200, &947_248.into()));
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn moving_the_tip_announces_headers_or_the_tip_and_the_chainlock() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let canonical = canonical_headers();
        let at = |height: u32| canonical_hash(&canonical, height);
        let peer = start_peer(&[]).await;
        let addr = peer.control_addr.unwrap();
        let mut client = Client::connect(peer.p2p_addr).await;
        client.handshake().await;
        client.sync_headers_from(at(898_560)).await;

        // A few blocks: announced with `headers` to a client that is caught up.
        assert_eq!(control(addr, "POST", "/tip?height=905300").await.0, 200);
        let announced = client.recv().await;
        let NetworkMessage::Headers(headers) = &announced else {
            panic!("expected headers, got {announced:?}");
        };
        assert_eq!(headers.len(), 6);
        assert_eq!(headers[0].prev_blockhash, at(905_294));
        assert_eq!(headers[5].block_hash(), at(905_300));

        // Many blocks: an inv of the tip, then the ChainLock it now reaches.
        assert_eq!(control(addr, "POST", "/tip?height=905800").await.0, 200);
        assert_eq!(client.recv().await, block_inv(at(905_800)));
        assert!(is_clsig_inv(&client.recv().await));
        let synced = client.sync_headers_from(at(905_300)).await;
        assert_eq!(synced.len(), 500);

        let counters = counters(&peer).await;
        assert_eq!(counters["headers_announced"], 6);
        assert_eq!(
            counters["headers_sent_ranges"],
            serde_json::json!([[898_561, 905_800]])
        );
        assert_eq!(counters["headers_sent_more_than_once"], 0);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn grow_every_adds_one_header_at_a_time() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let canonical = canonical_headers();
        let peer = start_peer(&[
            "--tip-steps",
            "none",
            "--grow-every",
            "0.3",
            "--grow-start",
            "now",
        ])
        .await;
        let mut client = Client::connect(peer.p2p_addr).await;
        client.handshake().await;
        let synced = client
            .sync_headers_from(canonical_hash(&canonical, 898_560))
            .await;
        let tip = 898_560 + synced.len() as u32;
        let (headers, _) = client
            .recv_until(|m| match m {
                NetworkMessage::Headers(h) => Some(h.clone()),
                _ => None,
            })
            .await;
        assert_eq!(headers, vec![canonical[(tip + 1 - 898_560) as usize]]);
        assert!(counters(&peer).await["headers_announced"].as_u64().unwrap() >= 1);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn tip_steps_start_after_the_first_qrinfo_and_reach_the_chainlock() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let canonical = canonical_headers();
        let at = |height: u32| canonical_hash(&canonical, height);
        let peer = start_peer(&["--tip-step-every", "0.2"]).await;
        let mut client = Client::connect(peer.p2p_addr).await;
        client.handshake().await;
        client.sync_headers_from(at(898_560)).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(
            counters(&peer).await["tip_height"],
            905_294,
            "no step before a qrinfo"
        );

        client
            .send(NetworkMessage::GetQrInfo(GetQrInfo {
                base_block_hashes: vec![Network::Testnet.genesis_hash()],
                block_request_hash: at(905_294),
                extra_share: true,
            }))
            .await;
        let (_, _) = client
            .recv_until(|m| matches!(m, NetworkMessage::QrInfo(_)).then_some(()))
            .await;
        assert_eq!(client.recv().await, block_inv(at(905_770)));
        assert_eq!(client.recv().await, block_inv(at(905_800)));
        assert!(is_clsig_inv(&client.recv().await));
        assert_eq!(counters(&peer).await["tip_height"], 905_800);
    })
    .await
    .expect("test timed out");
}
