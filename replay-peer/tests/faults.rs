//! Each fault flag behaves as documented.

mod common;

use common::*;
use dashlight::encode::deserialize;
use dashlight::hash::BlockHash;
use dashlight::network::Network;
use dashlight::protocol::chainlock::ClSig;
use dashlight::protocol::framing::FramingError;
use dashlight::protocol::inventory::{InvType, Inventory};
use dashlight::protocol::mnlistdiff::{GetMnListDiff, MnListDiff};
use dashlight::protocol::qrinfo::{GetQrInfo, QrInfo};
use dashlight::protocol::NetworkMessage;
use dashlight_replay_peer::faults::{forge_clsig, forge_diff, forge_qrinfo};
use dashlight_replay_peer::fixtures::read_headers;
use dashlight_replay_peer::session::clsig_inv_hash;
use std::time::{Duration, Instant};

fn getqrinfo(block: BlockHash) -> NetworkMessage {
    NetworkMessage::GetQrInfo(GetQrInfo {
        base_block_hashes: vec![Network::Testnet.genesis_hash()],
        block_request_hash: block,
        extra_share: true,
    })
}

fn is_qrinfo(messages: &[NetworkMessage]) -> bool {
    matches!(messages, [NetworkMessage::QrInfo(_)])
}

#[tokio::test]
async fn drop_qrinfo_ignores_the_first_n_requests_of_the_run() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let tip = canonical_hash(&canonical_headers(), 905_294);
        let peer = start_peer(&["--drop-qrinfo", "2"]).await;
        let mut first = Client::connect(peer.p2p_addr).await;
        first.handshake().await;
        first.send(getqrinfo(tip)).await;
        assert!(first.sync_point().await.is_empty());
        drop(first);

        let mut second = Client::connect(peer.p2p_addr).await;
        second.handshake().await;
        second.send(getqrinfo(tip)).await;
        assert!(second.sync_point().await.is_empty());
        second.send(getqrinfo(tip)).await;
        assert!(is_qrinfo(&second.sync_point().await));
        let counters = counters(&peer).await;
        assert_eq!(counters["qrinfo"]["received"], 3);
        assert_eq!(counters["qrinfo"]["dropped"], 2);
        assert_eq!(counters["qrinfo"]["answered"], 1);

        // A reset re-arms the drops.
        let (status, _) = control(peer.control_addr.unwrap(), "POST", "/reset").await;
        assert_eq!(status, 200);
        second.send(getqrinfo(tip)).await;
        assert!(second.sync_point().await.is_empty());
        assert_eq!(common::counters(&peer).await["qrinfo"]["dropped"], 1);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn delay_ms_delays_every_message() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let peer = start_peer(&["--delay-ms", "300"]).await;
        let mut client = Client::connect(peer.p2p_addr).await;
        client.handshake().await;
        let sent = Instant::now();
        client.send(NetworkMessage::Ping(5)).await;
        assert_eq!(client.recv().await, NetworkMessage::Pong(5));
        assert!(
            sent.elapsed() >= Duration::from_millis(300),
            "{:?}",
            sent.elapsed()
        );
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn disconnect_after_closes_each_connection_after_n_messages() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let peer = start_peer(&["--disconnect-after", "5"]).await;
        for _ in 0..2 {
            let mut client = Client::connect(peer.p2p_addr).await;
            client.send_version(70230).await;
            client.send(NetworkMessage::Verack).await;
            assert_eq!(client.recv().await, NetworkMessage::SendHeaders);
            assert!(matches!(client.recv().await, NetworkMessage::Ping(_)));
            assert!(client.closed().await);
        }
        let counters = counters(&peer).await;
        assert_eq!(counters["faults"]["disconnect_after"], 2);
        let sent: u64 = counters["messages_sent"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(sent, 10);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn disconnect_on_qrinfo_closes_the_first_qrinfo_connection_only() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let tip = canonical_hash(&canonical_headers(), 905_294);
        let peer = start_peer(&["--disconnect-on-qrinfo"]).await;
        let mut first = Client::connect(peer.p2p_addr).await;
        first.handshake().await;
        first.send(getqrinfo(tip)).await;
        assert!(first.closed().await);

        let mut second = Client::connect(peer.p2p_addr).await;
        second.handshake().await;
        second.send(getqrinfo(tip)).await;
        assert!(is_qrinfo(&second.sync_point().await));
        let counters = counters(&peer).await;
        assert_eq!(counters["faults"]["disconnect_on_qrinfo"], 1);
        assert_eq!(counters["qrinfo"]["received"], 2);
        assert_eq!(counters["qrinfo"]["answered"], 1);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn corrupt_after_sends_a_message_with_a_bad_checksum() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let peer = start_peer(&["--corrupt-after", "3"]).await;
        let mut client = Client::connect(peer.p2p_addr).await;
        let handshake = client.send_version(70230).await;
        assert_eq!(handshake[2], NetworkMessage::Verack);
        client.send(NetworkMessage::Verack).await;
        match client.try_recv().await {
            Err(RecvError::Framing(FramingError::BadChecksum { command })) => {
                assert_eq!(command.name(), "sendheaders")
            }
            other => panic!("expected a bad checksum, got {other:?}"),
        }
        assert_eq!(counters(&peer).await["faults"]["corrupted"], 1);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn fork_serves_the_stale_branch_and_its_qrinfo() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let canonical = canonical_headers();
        let fork = read_headers(
            &fixtures_dir().join("testnet/fork/testnet_stale_fork_headers_899760_902320.bin"),
        )
        .unwrap();
        let peer = start_peer(&["--fork", "--tip-height", "905800"]).await;
        let mut client = Client::connect(peer.p2p_addr).await;
        let after_verack = client.handshake().await;
        assert!(
            !after_verack.iter().any(|m| matches!(
                m,
                NetworkMessage::Inv(items) if items.iter().any(|i| i.inv_type == InvType::ClSig)
            )),
            "the ChainLock's block is not on the fork: {after_verack:?}"
        );
        let synced = client
            .sync_headers_from(canonical_hash(&canonical, 898_560))
            .await;
        assert_eq!(synced.len(), 902_320 - 898_560);
        let split = (899_760 - 898_561) as usize;
        assert_eq!(&synced[..split], &canonical[1..=split]);
        assert_eq!(&synced[split..], fork.as_slice());

        let expected = QrInfo::from_payload(
            &fixture("testnet/fork/qrinfo_901668_on_stale_fork.bin"),
            70230,
        )
        .unwrap();
        for block in [
            fork[901_668 - 899_760].block_hash(),
            canonical_hash(&canonical, 905_294),
        ] {
            client.send(getqrinfo(block)).await;
            let answers = client.sync_point().await;
            match answers.as_slice() {
                [NetworkMessage::QrInfo(info)] => assert!(**info == expected),
                _ => panic!("expected the stale-fork qrinfo"),
            }
        }
        assert_eq!(counters(&peer).await["tip_height"], 902_320);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn invalid_flags_serve_well_framed_forgeries_and_count_them() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let canonical = canonical_headers();
        let qrinfo =
            QrInfo::from_payload(&fixture("testnet/qrinfo/qrinfo_905294.bin"), 70230).unwrap();
        let diff = MnListDiff::from_payload(
            &fixture("testnet/mnlistdiff/mnlistdiff_0_905762.bin"),
            70230,
        )
        .unwrap();
        let clsig: ClSig = deserialize(&fixture("testnet/clsig/clsig_905775.bin")).unwrap();
        let forged_clsig = forge_clsig(&clsig);
        let peer = start_peer(&[
            "--tip-height",
            "905800",
            "--invalid-qrinfo",
            "--invalid-mnlistdiff",
            "--invalid-clsig",
        ])
        .await;
        let mut client = Client::connect(peer.p2p_addr).await;
        // The forged ChainLock is announced by its own hash.
        let announcement = Inventory {
            inv_type: InvType::ClSig,
            hash: clsig_inv_hash(&forged_clsig),
        };
        let after_verack = client.handshake().await;
        assert!(
            after_verack.contains(&NetworkMessage::Inv(vec![announcement])),
            "{after_verack:?}"
        );

        client
            .send(getqrinfo(canonical_hash(&canonical, 905_294)))
            .await;
        match client.sync_point().await.as_slice() {
            [NetworkMessage::QrInfo(served)] => {
                assert!(**served == forge_qrinfo(&qrinfo));
                assert!(**served != qrinfo);
            }
            other => panic!("expected the forged qrinfo, got {other:?}"),
        }
        client
            .send(NetworkMessage::GetMnListDiff(GetMnListDiff {
                base_block_hash: BlockHash::ZERO,
                block_hash: canonical_hash(&canonical, 905_762),
            }))
            .await;
        match client.sync_point().await.as_slice() {
            [NetworkMessage::MnListDiff(served)] => assert!(**served == forge_diff(&diff)),
            other => panic!("expected the forged mnlistdiff, got {other:?}"),
        }
        client
            .send(NetworkMessage::GetData(vec![announcement]))
            .await;
        assert_eq!(
            client.sync_point().await,
            vec![NetworkMessage::ClSig(forged_clsig)]
        );
        assert_ne!(forged_clsig, clsig);

        let counters = counters(&peer).await;
        assert_eq!(counters["faults"]["invalid_qrinfo"], 1);
        assert_eq!(counters["faults"]["invalid_mnlistdiff"], 1);
        assert_eq!(counters["faults"]["invalid_clsig"], 1);
        assert_eq!(counters["faults"]["corrupted"], 0);
        assert_eq!(counters["qrinfo"]["answered"], 1);
        assert_eq!(counters["clsig_sent"], 1);
    })
    .await
    .expect("test timed out");
}
