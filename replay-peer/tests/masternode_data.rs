//! QRInfo, MnListDiff and ChainLock answers from the captured fixtures.

mod common;

use common::*;
use dashlight::encode::deserialize;
use dashlight::hash::BlockHash;
use dashlight::network::Network;
use dashlight::protocol::chainlock::ClSig;
use dashlight::protocol::inventory::{InvType, Inventory};
use dashlight::protocol::mnlistdiff::{GetMnListDiff, MnListDiff};
use dashlight::protocol::qrinfo::{GetQrInfo, QrInfo};
use dashlight::protocol::NetworkMessage;
use dashlight_replay_peer::fixtures::read_derived_chainlocks;
use dashlight_replay_peer::session::clsig_inv_hash;

fn getqrinfo(block: BlockHash) -> NetworkMessage {
    NetworkMessage::GetQrInfo(GetQrInfo {
        base_block_hashes: vec![Network::Testnet.genesis_hash()],
        block_request_hash: block,
        extra_share: true,
    })
}

fn getmnlistd(base: BlockHash, block: BlockHash) -> NetworkMessage {
    NetworkMessage::GetMnListDiff(GetMnListDiff {
        base_block_hash: base,
        block_hash: block,
    })
}

#[tokio::test]
async fn qrinfo_for_the_tip_is_the_capture_and_unknown_blocks_get_silence() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let canonical = canonical_headers();
        let peer = start_peer(&[]).await;
        let mut client = Client::connect(peer.p2p_addr).await;
        client.handshake().await;
        let synced = client
            .sync_headers_from(canonical_hash(&canonical, 898_560))
            .await;
        let tip = synced.last().unwrap().block_hash();

        client.send(getqrinfo(tip)).await;
        let answers = client.sync_point().await;
        assert_eq!(answers.len(), 1, "{answers:?}");
        let NetworkMessage::QrInfo(info) = &answers[0] else {
            panic!("expected qrinfo, got {answers:?}");
        };
        let expected =
            QrInfo::from_payload(&fixture("testnet/qrinfo/qrinfo_905294.bin"), 70230).unwrap();
        assert_eq!(**info, expected);
        assert_eq!(info.diff_tip.block_hash, tip);

        // No capture for 905293; 905538 has one but is above the served tip.
        for height in [905_293, 905_538] {
            client
                .send(getqrinfo(canonical_hash(&canonical, height)))
                .await;
            assert!(client.sync_point().await.is_empty());
        }
        let counters = counters(&peer).await;
        assert_eq!(counters["qrinfo"]["received"], 3);
        assert_eq!(counters["qrinfo"]["answered"], 1);
        assert_eq!(counters["qrinfo"]["unknown"], 2);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn mnlistdiffs_are_found_by_block_and_base() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let canonical = canonical_headers();
        let at = |height: u32| canonical_hash(&canonical, height);
        let peer = start_peer(&["--tip-height", "905800"]).await;
        let mut client = Client::connect(peer.p2p_addr).await;
        client.handshake().await;
        let full = MnListDiff::from_payload(
            &fixture("testnet/mnlistdiff/mnlistdiff_0_905762.bin"),
            70230,
        )
        .unwrap();

        // From genesis, and from a base with no capture: the genesis-based diff.
        for base in [
            Network::Testnet.genesis_hash(),
            BlockHash::ZERO,
            at(905_294),
        ] {
            client.send(getmnlistd(base, at(905_762))).await;
            let answers = client.sync_point().await;
            assert!(answers == vec![NetworkMessage::MnListDiff(Box::new(full.clone()))]);
        }

        // The base decides between captures for the same block.
        for file in [
            "mnlistdiff_904920_904947.bin",
            "mnlistdiff_530000_904947.bin",
        ] {
            let capture = fixture(&format!("testnet/mnlistdiff/{file}"));
            let base = MnListDiff::from_payload(&capture, 70230)
                .unwrap()
                .base_block_hash;
            client.send(getmnlistd(base, at(904_947))).await;
            let answers = client.sync_point().await;
            let NetworkMessage::MnListDiff(diff) = &answers[0] else {
                panic!("expected mnlistdiff, got {answers:?}");
            };
            assert_eq!(diff.base_block_hash, base, "{file}");
            assert_eq!(diff.block_hash, at(904_947));
            assert_eq!(diff.to_payload(70230), capture);
        }

        // A chained 24-block diff.
        client.send(getmnlistd(at(900_096), at(900_120))).await;
        let answers = client.sync_point().await;
        let expected = MnListDiff::from_payload(
            &fixture("testnet/mnlistdiff/mnlistdiff_900096_900120.bin"),
            70230,
        )
        .unwrap();
        assert!(answers == vec![NetworkMessage::MnListDiff(Box::new(expected))]);

        // Unknown block, and a block above the tip: silence.
        for block in [at(905_763), at(907_128)] {
            client
                .send(getmnlistd(Network::Testnet.genesis_hash(), block))
                .await;
            assert!(client.sync_point().await.is_empty());
        }
        let counters = counters(&peer).await;
        assert_eq!(counters["mnlistdiff"]["received"], 8);
        assert_eq!(counters["mnlistdiff"]["answered"], 6);
        assert_eq!(counters["mnlistdiff"]["unknown"], 2);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn an_older_protocol_gets_the_older_layout() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let canonical = canonical_headers();
        let peer = start_peer(&["--tip-height", "905800"]).await;
        let mut client = Client::connect(peer.p2p_addr).await;
        let handshake = client.send_version(70228).await;
        assert!(matches!(&handshake[0], NetworkMessage::Version(v) if v.version == 70230));
        client.send(NetworkMessage::Verack).await;
        client
            .send(getmnlistd(
                Network::Testnet.genesis_hash(),
                canonical_hash(&canonical, 905_762),
            ))
            .await;
        let answers = client.sync_point().await;
        let diff = answers
            .iter()
            .find_map(|m| match m {
                NetworkMessage::MnListDiff(diff) => Some(diff),
                _ => None,
            })
            .expect("a mnlistdiff decoded in the 70228 layout");
        let captured = MnListDiff::from_payload(
            &fixture("testnet/mnlistdiff/mnlistdiff_0_905762.bin"),
            70230,
        )
        .unwrap();
        assert_eq!(diff.new_masternodes, captured.new_masternodes);
        assert!(diff.quorums_cl_sigs.is_empty());
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn the_chainlock_is_announced_and_served_once_the_tip_reaches_it() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let canonical = canonical_headers();
        let captured: ClSig = deserialize(&fixture("testnet/clsig/clsig_905775.bin")).unwrap();
        let announcement = Inventory {
            inv_type: InvType::ClSig,
            hash: clsig_inv_hash(&captured),
        };
        let peer = start_peer(&["--tip-height", "905800"]).await;
        let mut client = Client::connect(peer.p2p_addr).await;
        let after_verack = client.handshake().await;
        assert!(
            after_verack.contains(&NetworkMessage::Inv(vec![announcement])),
            "{after_verack:?}"
        );

        // Once the client has the locked block, the still-unfetched ChainLock is announced again.
        let synced = client
            .sync_headers_from(canonical_hash(&canonical, 898_560))
            .await;
        assert_eq!(synced.len(), 905_800 - 898_560);
        assert_eq!(client.others, vec![NetworkMessage::Inv(vec![announcement])]);

        client
            .send(NetworkMessage::GetData(vec![announcement]))
            .await;
        let served = client.sync_point().await;
        assert_eq!(served, vec![NetworkMessage::ClSig(captured)]);
        assert_eq!(captured.height, 905_775);
        assert_eq!(captured.block_hash, canonical_hash(&canonical, 905_775));

        // Anything else asked for is not found.
        let other = Inventory {
            inv_type: InvType::Block,
            hash: dashlight::hash::Sha256dHash([1; 32]),
        };
        client.send(NetworkMessage::GetData(vec![other])).await;
        assert_eq!(
            client.sync_point().await,
            vec![NetworkMessage::NotFound(vec![other])]
        );

        let counters = counters(&peer).await;
        assert_eq!(counters["clsig_announced"], 2);
        assert_eq!(counters["clsig_sent"], 1);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn push_clsig_sends_it_once_the_client_has_the_block() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let canonical = canonical_headers();
        let captured: ClSig = deserialize(&fixture("testnet/clsig/clsig_905775.bin")).unwrap();
        let peer = start_peer(&["--tip-height", "905800", "--push-clsig"]).await;
        let mut client = Client::connect(peer.p2p_addr).await;
        let after_verack = client.handshake().await;
        assert!(!after_verack
            .iter()
            .any(|m| matches!(m, NetworkMessage::Inv(_) | NetworkMessage::ClSig(_))));
        let got = client
            .get_headers(vec![canonical_hash(&canonical, 905_700)], BlockHash::ZERO)
            .await;
        assert_eq!(got.len(), 100);
        assert_eq!(
            client.sync_point().await,
            vec![NetworkMessage::ClSig(captured)]
        );
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn below_the_chainlock_height_nothing_is_announced() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let peer = start_peer(&[]).await;
        let mut client = Client::connect(peer.p2p_addr).await;
        let after_verack = client.handshake().await;
        assert_eq!(
            after_verack.len(),
            2,
            "sendheaders and ping only: {after_verack:?}"
        );
        assert!(client.sync_point().await.is_empty());
        assert_eq!(counters(&peer).await["clsig_announced"], 0);
    })
    .await
    .expect("test timed out");
}

/// The ChainLock derived from a coinbase for `height`, as the fixtures give it.
fn derived_chainlock(height: i32) -> ClSig {
    let path = fixtures_dir().join("testnet/clsig/clsigs_derived_from_cbtx.csv");
    read_derived_chainlocks(&path)
        .expect("derived ChainLocks")
        .into_iter()
        .find(|clsig| clsig.height == height)
        .expect("a derived ChainLock at that height")
}

fn clsig_item(clsig: &ClSig) -> Inventory {
    Inventory {
        inv_type: InvType::ClSig,
        hash: clsig_inv_hash(clsig),
    }
}

fn clsig_inv(clsig: &ClSig) -> NetworkMessage {
    NetworkMessage::Inv(vec![clsig_item(clsig)])
}

/// Asks for `clsig` with `getdata` and checks that it, alone, is the answer.
async fn fetch_clsig(client: &mut Client, clsig: ClSig) {
    client
        .send(NetworkMessage::GetData(vec![clsig_item(&clsig)]))
        .await;
    assert_eq!(
        client.sync_point().await,
        vec![NetworkMessage::ClSig(clsig)]
    );
}

#[tokio::test]
async fn chainlock_at_tip_relays_the_derived_chainlock_of_the_tip_and_of_the_next_one() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let canonical = canonical_headers();
        let at = |height: u32| canonical_hash(&canonical, height);
        let at_start = derived_chainlock(905_293);
        let after_qrinfo = derived_chainlock(905_302);
        let peer = start_peer(&[
            "--chainlock-at-tip",
            "--tip-steps",
            "905302",
            "--tip-step-every",
            "0.05",
        ])
        .await;
        let mut client = Client::connect(peer.p2p_addr).await;
        // The tip is 905294: the highest derived ChainLock at or below it, 905293's.
        let after_verack = client.handshake().await;
        assert!(
            after_verack.contains(&clsig_inv(&at_start)),
            "{after_verack:?}"
        );
        client.sync_headers_from(at(898_560)).await;
        fetch_clsig(&mut client, at_start).await;

        // Right after the QRInfo the tip steps to 905302: its headers, then its ChainLock.
        client.send(getqrinfo(at(905_294))).await;
        client
            .recv_until(|m| matches!(m, NetworkMessage::QrInfo(_)).then_some(()))
            .await;
        let announced = client.recv_headers().await;
        assert_eq!(announced.len(), 8);
        assert_eq!(announced[7].block_hash(), at(905_302));
        assert_eq!(client.recv().await, clsig_inv(&after_qrinfo));
        fetch_clsig(&mut client, after_qrinfo).await;
        assert_eq!(after_qrinfo.block_hash, at(905_302));

        let counters = counters(&peer).await;
        // 905293's after the handshake and again once the client had the block, then 905302's.
        assert_eq!(counters["clsig_announced"], 3);
        assert_eq!(counters["clsig_sent"], 2);
        assert_eq!(counters["tip_height"], 905_302);
    })
    .await
    .expect("test timed out");
}
