//! The sync machines end to end through the simulated network: the main recovery scenarios,
//! deterministic, natively and in headless Chromium.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use dashlight::sync::chain_view::ChainView;
use dashlight::sync::masternodes::{MasternodeWork, QrInfoState};
use dashlight::sync::requests::{ManagerKind, Output, Request};
use dashlight::sync::sim::{
    sim_config, Fault, SimMessage, SimMnListDiff, SimNetwork, SimQrInfo, SimVerdict,
};
use dashlight::sync::state::{SyncFailure, SyncState};
use dashlight::sync::time::{Millis, Timestamp};

const HEIGHT: u32 = 130;

fn secs(s: u64) -> Millis {
    Millis::from_secs(s)
}

fn qrinfos_sent_since(net: &SimNetwork, since: usize) -> usize {
    net.sent
        .get(since..)
        .unwrap_or_default()
        .iter()
        .filter(|(_, r)| matches!(r, Request::GetQrInfo { .. }))
        .count()
}

/// Connects and syncs headers; the QRInfo request is then waiting at the peer.
fn headers_synced() -> SimNetwork {
    let mut net = SimNetwork::new(sim_config(), HEIGHT);
    net.connect();
    for _ in 0..3 {
        net.step();
    }
    assert_eq!(net.client.chain().tip(), net.blocks.tip());
    assert_eq!(*net.client.headers().state(), SyncState::Synced);
    assert_eq!(*net.client.masternodes().state(), SyncState::Syncing);
    assert!(matches!(
        net.pending_requests(),
        [Request::GetQrInfo { .. }]
    ));
    net
}

/// The QRInfo goes unanswered three times: the masternode manager is in `Error`.
fn qrinfo_lost_three_times() -> SimNetwork {
    let mut net = headers_synced();
    net.push_faults([Fault::Drop, Fault::Drop, Fault::Drop]);
    net.step();
    net.advance(secs(10));
    net.step();
    net.advance(secs(30));
    net.step();
    net.advance(secs(60));
    assert_eq!(
        *net.client.masternodes().state(),
        SyncState::Error(SyncFailure::QrInfoUnanswered { attempts: 3 })
    );
    assert_eq!(
        *net.client.state(),
        SyncState::Error(SyncFailure::QrInfoUnanswered { attempts: 3 })
    );
    net
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_fresh_client_syncs_and_verifies_a_chainlock() {
    let mut net = SimNetwork::new(sim_config(), HEIGHT);
    net.connect();
    assert_eq!(net.run_until_synced(secs(1), 5), Some(0));
    let chainlock = net.chainlock(HEIGHT, SimVerdict::Valid).expect("on chain");
    net.inject(chainlock);
    net.step();
    let progress = net.client.progress();
    assert_eq!(progress.state, SyncState::Synced);
    assert_eq!(progress.headers.current_height, HEIGHT);
    assert_eq!(progress.masternodes.current_height, HEIGHT);
    assert_eq!(progress.masternodes.qrinfos_requested, 1);
    assert_eq!(progress.masternodes.diffs_processed, 3);
    assert_eq!(progress.best_chainlock.map(|c| c.height), Some(HEIGHT));
    assert_eq!(net.qrinfo_overlaps, 0);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_error_is_published_as_a_state_change() {
    let net = qrinfo_lost_three_times();
    let failure = SyncFailure::QrInfoUnanswered { attempts: 3 };
    assert!(net.outputs.contains(&Output::StateChanged {
        manager: ManagerKind::Masternodes,
        from: SyncState::Syncing,
        to: SyncState::Error(failure.clone()),
    }));
    assert!(net.outputs.contains(&Output::SyncStateChanged {
        from: SyncState::Syncing,
        to: SyncState::Error(failure.clone()),
    }));
    assert_eq!(net.client.progress().masternodes.last_error, Some(failure));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn wifi_drop_during_qrinfo_then_reconnect_recovers() {
    let mut net = qrinfo_lost_three_times();
    net.advance(secs(1));
    net.disconnect();
    assert_eq!(*net.client.state(), SyncState::WaitingForConnections);
    assert_eq!(*net.client.masternodes().work(), MasternodeWork::Idle);
    assert_eq!(net.client.next_deadline(), None);
    net.advance(secs(30));
    let before = net.sent.len();
    net.connect();
    assert_eq!(net.run_until_synced(secs(1), 5), Some(0));
    assert_eq!(qrinfos_sent_since(&net, before), 1);
    assert_eq!(net.qrinfo_overlaps, 0);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn error_recovers_when_another_peer_connects_without_a_full_disconnect() {
    let mut net = qrinfo_lost_three_times();
    net.advance(secs(1));
    let before = net.sent.len();
    net.set_silent_peers(1);
    assert_eq!(qrinfos_sent_since(&net, before), 1);
    assert_eq!(*net.client.masternodes().state(), SyncState::Syncing);
    assert!(net.client.masternodes().waiting_for_qrinfo());
    assert_eq!(net.run_until_synced(secs(1), 5), Some(0));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn error_retries_on_its_own_while_a_peer_stays_connected() {
    let mut net = qrinfo_lost_three_times();
    let before = net.sent.len();
    net.advance(secs(4));
    assert_eq!(qrinfos_sent_since(&net, before), 0);
    net.advance(secs(1));
    assert_eq!(qrinfos_sent_since(&net, before), 1);
    assert_eq!(*net.client.masternodes().state(), SyncState::Syncing);
    assert_eq!(net.run_until_synced(secs(1), 5), Some(0));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn full_disconnect_mid_sync_then_reconnect_restarts() {
    let mut net = headers_synced();
    net.disconnect();
    assert_eq!(
        *net.client.headers().state(),
        SyncState::WaitingForConnections
    );
    assert_eq!(
        *net.client.masternodes().state(),
        SyncState::WaitingForConnections
    );
    assert_eq!(
        *net.client.chainlocks().state(),
        SyncState::WaitingForConnections
    );
    assert_eq!(*net.client.state(), SyncState::WaitingForConnections);
    assert!(net.client.tick(Timestamp(u64::MAX)).is_empty());
    net.mine(5);
    net.connect();
    assert_eq!(net.run_until_synced(secs(1), 5), Some(0));
    assert_eq!(net.client.chain().tip(), net.blocks.tip());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn chainlock_signature_missing_then_error_then_reconnect_sends_no_duplicate() {
    let mut net = headers_synced();
    // Attempts 1 and 2 are lost, attempt 3 lacks a rotated ChainLock signature.
    net.push_faults([Fault::Drop, Fault::Drop, Fault::NotYetAvailable]);
    net.step();
    net.advance(secs(10));
    net.step();
    net.advance(secs(30));
    net.step();
    assert!(net.client.masternodes().state().is_error());
    let stale_deadline = net.now + secs(5);
    assert_eq!(net.client.next_deadline(), Some(stale_deadline));

    net.advance(secs(1));
    net.disconnect();
    net.connect();
    let reconnected_at = net.now;
    net.step();
    let before = net.sent.len();
    // Peer reconnected: the headers manager re-synced and the masternode manager sent one
    // fresh QRInfo; the stale deadline is gone.
    assert!(matches!(
        net.client.masternodes().work(),
        MasternodeWork::QrInfo(QrInfoState::Awaiting { attempt, .. }) if attempt.number == 1
    ));
    net.push_faults([Fault::Drop]);
    net.step();
    net.advance(stale_deadline.since(net.now));
    assert_eq!(qrinfos_sent_since(&net, before), 0);
    net.advance((reconnected_at + secs(10)).since(net.now) - Millis(1));
    assert_eq!(qrinfos_sent_since(&net, before), 0);
    net.advance(Millis(1));
    assert_eq!(qrinfos_sent_since(&net, before), 1);
    assert_eq!(net.run_until_synced(secs(1), 5), Some(0));
    assert_eq!(net.qrinfo_overlaps, 0);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_rejected_qrinfo_is_retried_and_sync_completes() {
    let mut net = headers_synced();
    net.push_faults([Fault::Invalid]);
    assert_eq!(net.run_until_synced(secs(1), 5), Some(0));
    assert_eq!(net.client.progress().masternodes.qrinfos_requested, 2);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn an_unanswerable_mnlistdiff_leaves_quorums_unverified_but_sync_completes() {
    let mut net = headers_synced();
    // The QRInfo is answered; the first getmnlistd never is.
    net.push_faults([Fault::None, Fault::Drop, Fault::None, Fault::None]);
    net.step();
    net.step();
    net.push_faults([Fault::Drop, Fault::Drop]);
    let ticks = net.run_until_synced(secs(1), 200).expect("synced");
    assert!((105..=107).contains(&ticks), "{ticks}");
    let progress = net.client.progress();
    assert_eq!(progress.state, SyncState::Synced);
    assert_eq!(progress.masternodes.unverified_quorums, 1);
    assert_eq!(net.client.masternodes().unverifiable_quorums().len(), 1);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn duplicated_reordered_and_unsolicited_responses_are_dropped() {
    let mut net = headers_synced();
    let stray = net.blocks.hash_at(50).expect("on chain");
    net.inject(SimMessage::QrInfo(SimQrInfo {
        tip: stray,
        base_block_hashes: Vec::new(),
        verdict: SimVerdict::Valid,
    }));
    net.inject(SimMessage::MnListDiff(SimMnListDiff {
        base: stray,
        block: stray,
        verdict: SimVerdict::Valid,
    }));
    net.push_faults([Fault::Duplicate, Fault::Duplicate, Fault::Duplicate]);
    net.step_with(true);
    net.step_with(true);
    assert_eq!(net.run_until_synced(secs(1), 5), Some(0));
    let progress = net.client.progress();
    assert_eq!(progress.masternodes.qrinfos_requested, 1);
    assert_eq!(progress.masternodes.diffs_processed, 3);
    assert_eq!(progress.masternodes.responses_dropped, 5);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn new_blocks_are_followed_once_synced() {
    let mut net = SimNetwork::new(sim_config(), HEIGHT);
    net.connect();
    net.run_until_synced(secs(1), 5).expect("synced");
    // The list followed is the signing list, 8 blocks below the tip.
    net.mine(10);
    net.step();
    net.step();
    assert_eq!(*net.client.state(), SyncState::Synced);
    assert_eq!(net.client.progress().masternodes.current_height, HEIGHT + 2);
    // Past the next cycle's mining window: a QRInfo, while staying Synced.
    net.mine(22);
    net.step();
    assert_eq!(*net.client.masternodes().state(), SyncState::Synced);
    net.run_until_synced(secs(1), 5).expect("synced");
    assert_eq!(net.client.progress().masternodes.qrinfos_requested, 2);
    assert_eq!(
        net.client.progress().masternodes.current_height,
        HEIGHT + 32
    );
}
