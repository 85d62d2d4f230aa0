//! Live mode: the tip follows the captured timestamps at the given speed,
//! new blocks and the real ChainLocks are announced as the tip passes them,
//! and `GET /live` reports the clock.

mod common;

use clap::Parser;
use common::*;
use dashlight::block::BlockHeader;
use dashlight::hash::BlockHash;
use dashlight::network::Network;
use dashlight::protocol::chainlock::ClSig;
use dashlight::protocol::headers::GetHeaders;
use dashlight::protocol::inventory::InvType;
use dashlight::protocol::qrinfo::GetQrInfo;
use dashlight::protocol::NetworkMessage;
use dashlight_replay_peer::config::Options;
use dashlight_replay_peer::load_fixtures;
use std::collections::BTreeMap;
use std::time::Duration;

const FIRST: u32 = 898_560;
const START: u32 = 905_294;

/// The live clock time at which `height` (> START) is released: the latest
/// timestamp from START to it.
fn release(canonical: &[BlockHeader], height: u32) -> u64 {
    (START..=height)
        .map(|h| u64::from(canonical[(h - FIRST) as usize].time))
        .max()
        .unwrap()
}

/// The ChainLocks of the fixtures (the captured one and the derived ones), by height.
fn fixture_chainlocks() -> BTreeMap<i32, ClSig> {
    let options = Options::parse_from([
        "x",
        "--live",
        "--fixtures",
        fixtures_dir().to_str().unwrap(),
    ]);
    let fixtures = load_fixtures(&options).expect("fixtures load");
    fixtures
        .catalog
        .chainlocks()
        .iter()
        .map(|c| (c.height, *c))
        .collect()
}

#[test]
fn live_mode_loads_the_46_real_chainlocks_on_the_served_chain() {
    let options = Options::parse_from(["x", "--live"]);
    let fixtures = load_fixtures(&options).expect("fixtures load");
    let chainlocks = fixtures.catalog.chainlocks();
    assert_eq!(chainlocks.len(), 46);
    for clsig in chainlocks {
        let height = u32::try_from(clsig.height).unwrap();
        assert_eq!(
            fixtures.chain.height_of(&clsig.block_hash, u32::MAX),
            Some(height),
            "ChainLock at {height} is not on the served chain"
        );
    }
    let captured = fixture("testnet/clsig/clsig_905775.bin");
    assert!(chainlocks
        .iter()
        .any(|c| dashlight::encode::serialize(c) == captured));
    // Outside live mode only the captured ChainLock is served.
    let fixtures = load_fixtures(&Options::parse_from(["x"])).expect("fixtures load");
    assert_eq!(fixtures.catalog.chainlocks().len(), 1);
}

#[tokio::test]
async fn live_is_404_without_live_mode() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let peer = start_peer(&[]).await;
        let (status, _) = control(peer.control_addr.unwrap(), "GET", "/live").await;
        assert_eq!(status, 404);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn the_live_tip_follows_the_timestamps_and_blocks_and_chainlocks_are_announced() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let canonical = canonical_headers();
        let at = |height: u32| canonical_hash(&canonical, height);
        let chainlocks = fixture_chainlocks();
        let peer = start_peer(&["--live", "--speed", "6000"]).await;
        let addr = peer.control_addr.unwrap();
        let start_unix = u64::from(canonical[(START - FIRST) as usize].time);

        // The clock waits for the first QRInfo (--grow-start after-qrinfo).
        let mut client = Client::connect(peer.p2p_addr).await;
        client.handshake().await;
        let synced = client.sync_headers_from(at(FIRST)).await;
        assert_eq!(synced.last().map(|h| h.block_hash()), Some(at(START)));
        let (status, live) = control(addr, "GET", "/live").await;
        assert_eq!(status, 200);
        assert_eq!(live["startUnix"], start_unix);
        assert_eq!(live["clockUnix"], start_unix);
        assert_eq!(live["speed"], 6000.0);
        assert_eq!(live["tipHeight"], START);
        assert_eq!(live["tipTime"], start_unix);

        client
            .send(NetworkMessage::GetQrInfo(GetQrInfo {
                base_block_hashes: vec![Network::Testnet.genesis_hash()],
                block_request_hash: at(START),
                extra_share: true,
            }))
            .await;

        // Follow the tip as a client does until the ChainLock at 905350 has
        // arrived (about 2 simulated hours, 1.3 s at 6000×).
        let mut best = START;
        let mut announced_with_headers = 0;
        let mut received: Vec<ClSig> = Vec::new();
        while received.last().is_none_or(|c| c.height < 905_350) {
            match client.recv().await {
                NetworkMessage::Headers(headers) if !headers.is_empty() => {
                    let first = best + 1;
                    assert_eq!(
                        headers[0].prev_blockhash,
                        at(best),
                        "headers do not build on our tip"
                    );
                    for (i, header) in headers.iter().enumerate() {
                        assert_eq!(header.block_hash(), at(first + i as u32));
                    }
                    best += headers.len() as u32;
                    announced_with_headers += 1;
                }
                NetworkMessage::Inv(items) => {
                    for item in items {
                        match item.inv_type {
                            InvType::Block => {
                                client
                                    .send(NetworkMessage::GetHeaders(GetHeaders {
                                        version: 70230,
                                        locator: vec![at(best)],
                                        stop_hash: BlockHash::ZERO,
                                    }))
                                    .await;
                            }
                            InvType::ClSig => {
                                client.send(NetworkMessage::GetData(vec![item])).await;
                            }
                            _ => {}
                        }
                    }
                }
                NetworkMessage::ClSig(clsig) => {
                    let height = u32::try_from(clsig.height).unwrap();
                    assert_eq!(clsig.block_hash, at(height));
                    assert_eq!(chainlocks.get(&clsig.height), Some(&clsig));
                    assert!(best >= height, "ChainLock {height} before its block");
                    received.push(clsig);
                }
                NetworkMessage::Ping(nonce) => client.send(NetworkMessage::Pong(nonce)).await,
                _ => {}
            }
        }
        assert!(
            announced_with_headers > 0,
            "no block announced with headers"
        );
        // A ChainLock announced before the client had fetched it may be announced again.
        let mut heights: Vec<i32> = received.iter().map(|c| c.height).collect();
        heights.dedup();
        assert_eq!(heights, vec![905_302, 905_327, 905_350]);

        // The served tip is what the clock has released, never more.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (_, live) = control(addr, "GET", "/live").await;
        let clock = live["clockUnix"].as_u64().unwrap();
        let tip = u32::try_from(live["tipHeight"].as_u64().unwrap()).unwrap();
        assert!(clock > start_unix + 2 * 3600, "clock {clock}");
        assert!(
            release(&canonical, tip) <= clock,
            "tip {tip} released early"
        );
        // The task wakes when the next block is due: allow a few blocks of lag.
        assert!(
            release(&canonical, tip + 3) > clock,
            "tip {tip} lags clock {clock}"
        );
        assert_eq!(
            live["tipTime"],
            canonical[(tip - FIRST) as usize].time,
            "tipTime"
        );
        let counters = counters(&peer).await;
        assert!(counters["tip_height"].as_u64().unwrap() >= u64::from(tip));
        assert!(counters["clsig_sent"].as_u64().unwrap() >= 3);
    })
    .await
    .expect("test timed out");
}
