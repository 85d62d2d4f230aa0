//! Handshake and header sync against the replay peer, over loopback TCP.

mod common;

use common::*;
use dashlight::hash::BlockHash;
use dashlight::network::Network;
use dashlight::protocol::NetworkMessage;

#[tokio::test]
async fn handshake_is_dashd_like() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let peer = start_peer(&[]).await;
        let mut client = Client::connect(peer.p2p_addr).await;
        let first = client.send_version(70230).await;
        let NetworkMessage::Version(version) = &first[0] else {
            panic!("expected version first, got {first:?}");
        };
        assert_eq!(version.version, 70230);
        assert_eq!(version.start_height, 905_294);
        assert!(version
            .user_agent_lossy()
            .starts_with("/dashlight-replay-peer:"));
        assert_eq!(first[1], NetworkMessage::SendAddrV2);
        assert_eq!(first[2], NetworkMessage::Verack);
        client.send(NetworkMessage::Verack).await;
        assert_eq!(client.recv().await, NetworkMessage::SendHeaders);
        let NetworkMessage::Ping(nonce) = client.recv().await else {
            panic!("expected a ping");
        };
        client.send(NetworkMessage::Pong(nonce)).await;
        client.send(NetworkMessage::Ping(77)).await;
        assert_eq!(client.recv().await, NetworkMessage::Pong(77));
        let counters = counters(&peer).await;
        assert_eq!(counters["handshakes"], 1);
        assert_eq!(counters["pings_sent"], 1);
        assert_eq!(counters["pongs_received"], 1);
        assert_eq!(counters["connections_total"], 1);
        assert_eq!(counters["connections_open"], 1);
        assert_eq!(counters["messages_received"]["version"], 1);
        assert_eq!(counters["messages_sent"]["verack"], 1);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn requests_before_the_handshake_are_ignored_and_old_versions_refused() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let peer = start_peer(&[]).await;
        let mut client = Client::connect(peer.p2p_addr).await;
        client.send(NetworkMessage::Ping(1)).await;
        let first = client.send_version(70230).await;
        assert!(
            matches!(first[0], NetworkMessage::Version(_)),
            "no pong before version"
        );

        let mut old = Client::connect(peer.p2p_addr).await;
        old.version = 70215;
        old.send(NetworkMessage::Version(
            dashlight::protocol::handshake::VersionMessage {
                version: 70215,
                services: 0,
                timestamp: 0,
                receiver: Default::default(),
                sender: Default::default(),
                nonce: 1,
                user_agent: Vec::new(),
                start_height: 0,
                relay: None,
                mnauth_challenge: None,
                masternode_connection: None,
            },
        ))
        .await;
        assert!(old.closed().await);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn headers_sync_from_the_checkpoint_to_the_tip_without_repeats() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let canonical = canonical_headers();
        let peer = start_peer(&[]).await;
        let mut client = Client::connect(peer.p2p_addr).await;
        client.handshake().await;
        let checkpoint = canonical_hash(&canonical, 898_560);
        let synced = client.sync_headers_from(checkpoint).await;
        assert_eq!(synced.len(), 905_294 - 898_560);
        assert_eq!(synced.as_slice(), &canonical[1..=(905_294 - 898_560)]);

        // A reload: a new connection resuming from the stored tip gets nothing again.
        drop(client);
        let mut reloaded = Client::connect(peer.p2p_addr).await;
        reloaded.handshake().await;
        let tip = synced.last().unwrap().block_hash();
        let locator = vec![tip, synced[synced.len() - 2].block_hash(), checkpoint];
        assert!(reloaded
            .get_headers(locator, BlockHash::ZERO)
            .await
            .is_empty());

        let counters = counters(&peer).await;
        assert_eq!(counters["headers_served"], 905_294 - 898_560);
        assert_eq!(
            counters["headers_sent_ranges"],
            serde_json::json!([[898_561, 905_294]])
        );
        assert_eq!(counters["headers_sent_more_than_once"], 0);
        assert_eq!(counters["max_sends_of_one_header"], 1);
        assert_eq!(counters["getheaders"], 6);
        let batches = counters["header_batches"].as_array().unwrap();
        assert_eq!(batches.len(), 4);
        assert_eq!(batches[0]["first"], 898_561);
        assert_eq!(batches[0]["last"], 900_560);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn locators_from_the_middle_unknown_and_with_a_stop_hash() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let canonical = canonical_headers();
        let at = |height: u32| canonical_hash(&canonical, height);
        let peer = start_peer(&[]).await;
        let mut client = Client::connect(peer.p2p_addr).await;
        client.handshake().await;

        // The first locator hash on the served chain wins.
        let unknown = BlockHash([7; 32]);
        let got = client
            .get_headers(vec![unknown, at(904_000), at(902_000)], BlockHash::ZERO)
            .await;
        assert_eq!(got.len(), 905_294 - 904_000);
        assert_eq!(got[0], canonical[(904_001 - 898_560) as usize]);

        // Only unknown hashes, or only genesis: from the first served header (898560).
        for locator in [vec![unknown], vec![Network::Testnet.genesis_hash()]] {
            let got = client.get_headers(locator, BlockHash::ZERO).await;
            assert_eq!(got.len(), 2000);
            assert_eq!(got[0], canonical[0]);
        }

        // The stop hash ends the answer.
        let got = client.get_headers(vec![at(900_000)], at(900_010)).await;
        assert_eq!(got.len(), 10);
        assert_eq!(got.last().unwrap().block_hash(), at(900_010));

        // Blocks above the served tip are unknown.
        let got = client.get_headers(vec![at(905_500)], BlockHash::ZERO).await;
        assert_eq!(got[0], canonical[0]);

        // An empty locator asks for the stop block alone.
        let got = client.get_headers(vec![], at(901_234)).await;
        assert_eq!(got, vec![canonical[(901_234 - 898_560) as usize]]);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn the_full_chain_file_serves_from_genesis() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let peer = start_peer(&[
            "--headers",
            "testnet/full_chain/testnet_headers_0_1100000.bin",
            "--tip-height",
            "3000",
        ])
        .await;
        let mut client = Client::connect(peer.p2p_addr).await;
        client.handshake().await;
        let synced = client
            .sync_headers_from(Network::Testnet.genesis_hash())
            .await;
        assert_eq!(synced.len(), 3000);
        let got = client
            .get_headers(vec![BlockHash([7; 32])], BlockHash::ZERO)
            .await;
        assert_eq!(got[0].prev_blockhash, Network::Testnet.genesis_hash());
    })
    .await
    .expect("test timed out");
}
