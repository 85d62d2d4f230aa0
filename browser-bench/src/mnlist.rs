//! The masternode benchmark (`page/mnlist.mjs`): a fresh engine takes a
//! QRInfo and a full list, then verifies every pending quorum either in its
//! own thread or by check jobs spread over worker threads, which call
//! [`check_jobs`] here; and, as a ChainLock waits for its signing quorum, that
//! one quorum in its own thread or with its aggregation split over the workers
//! ([`sum_part`] here), then, in the client's order, every other pending quorum
//! over the same workers ([`mnlist_prepare_rest`]).

use dashlight::bls::KeyCache;
use dashlight::chain::{HeaderLookup, HeaderMap};
use dashlight::mnlist::check::{check_encoded, encode_jobs, split_jobs, CheckJob};
use dashlight::mnlist::split::{encode_part, split_aggregation, sum_encoded_part};
use dashlight::mnlist::{
    MasternodeEngine, QuorumKey, QuorumStatus, VerifyOnApply, WORK_BLOCK_OFFSET,
};
use dashlight::network::Network;
use dashlight::protocol::chainlock::ClSig;
use dashlight::protocol::mnlistdiff::MnListDiff;
use dashlight::protocol::qrinfo::QrInfo;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

include!("../../tests/support/mainnet_heights.rs");

/// One scenario's messages and the header chain they are checked against.
struct Scenario {
    network: Network,
    headers: HeaderMap,
    qrinfo: QrInfo,
    diff: MnListDiff,
}

/// An engine waiting for the outcomes of the jobs it sent to workers.
struct Waiting {
    engine: MasternodeEngine,
    shares: Vec<Vec<CheckJob>>,
}

/// An engine waiting for the sums of its ChainLock quorum's aggregation parts.
struct WaitingSums {
    engine: MasternodeEngine,
    job: CheckJob,
}

thread_local! {
    /// The engine between `mnlistChainLockSplit` and `mnlistChainLockFinish`.
    static WAITING_SUMS: RefCell<Option<WaitingSums>> = const { RefCell::new(None) };
    /// The engine after `mnlistChainLockFinish`, its other quorums still pending.
    static AFTER_CHAINLOCK: RefCell<Option<MasternodeEngine>> = const { RefCell::new(None) };
    /// The scenario of this (engine) worker.
    static SCENARIO: RefCell<Option<Scenario>> = const { RefCell::new(None) };
    /// The engine between `mnlistPrepare` and `mnlistApply`.
    static WAITING: RefCell<Option<Waiting>> = const { RefCell::new(None) };
    /// The key cache of this (checking) worker.
    static KEYS: RefCell<KeyCache> = RefCell::new(KeyCache::new());
}

/// Loads a scenario: `network` (`testnet` or `mainnet`), the QRInfo and the
/// full-list diff payloads (protocol 70230), and for testnet the header run
/// from `start` and the quorum base blocks' CSV (mainnet heights are read
/// from the messages).
#[wasm_bindgen(js_name = mnlistOpen)]
pub fn mnlist_open(
    network: &str,
    qrinfo: &[u8],
    diff: &[u8],
    run: &[u8],
    start: u32,
    base_csv: &str,
) -> Result<(), JsError> {
    let qrinfo = QrInfo::from_payload(qrinfo, 70230)?;
    let diff = MnListDiff::from_payload(diff, 70230)?;
    let (network, headers) = match network {
        "testnet" => {
            let mut headers = HeaderMap::default();
            headers.add_run(run, start);
            headers
                .add_csv(base_csv)
                .map_err(|line| JsError::new(&format!("base headers: line {line}")))?;
            (Network::Testnet, headers)
        }
        "mainnet" => {
            let headers = mainnet_heights(&qrinfo, &[&diff]);
            (Network::Mainnet, headers)
        }
        other => return Err(JsError::new(&format!("unknown network {other}"))),
    };
    SCENARIO.with(|cell| {
        *cell.borrow_mut() = Some(Scenario {
            network,
            headers,
            qrinfo,
            diff,
        })
    });
    Ok(())
}

/// A fresh engine that applied the scenario's messages, verifying nothing,
/// and its pending quorums.
fn applied(scenario: &Scenario) -> Result<(MasternodeEngine, Vec<QuorumKey>), JsError> {
    let mut engine = MasternodeEngine::new(scenario.network);
    engine.set_require_block_proofs(scenario.network == Network::Testnet);
    engine.set_verify_on_apply(VerifyOnApply::None);
    engine.apply_qrinfo(&scenario.qrinfo, &scenario.headers)?;
    engine.apply_diff(&scenario.diff, &scenario.headers)?;
    let pending = engine
        .pending_quorums()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    Ok((engine, pending))
}

/// `[verified, failed, not verifiable]` quorums of `engine`.
fn counts(engine: &MasternodeEngine) -> Vec<u32> {
    let count = |f: &dyn Fn(&QuorumStatus) -> bool| {
        engine.quorum_records().filter(|r| f(&r.status)).count() as u32
    };
    vec![
        count(&|s| s.is_verified()),
        count(&|s| s.is_final() && !s.is_verified()),
        count(&|s| !s.is_final()),
    ]
}

/// Runs `f` on the loaded scenario.
fn with_scenario<T>(f: impl FnOnce(&Scenario) -> Result<T, JsError>) -> Result<T, JsError> {
    SCENARIO.with(|cell| match cell.borrow().as_ref() {
        Some(scenario) => f(scenario),
        None => Err(JsError::new("mnlistOpen first")),
    })
}

/// Applies the messages and verifies every pending quorum in this thread;
/// returns `[verified, failed, not verifiable]`.
#[wasm_bindgen(js_name = mnlistVerifyHere)]
pub fn mnlist_verify_here() -> Result<Vec<u32>, JsError> {
    with_scenario(|scenario| {
        let (mut engine, pending) = applied(scenario)?;
        engine.verify_quorum_set(&pending, &scenario.headers);
        Ok(counts(&engine))
    })
}

/// Applies the messages, prepares the checks of every pending quorum and
/// returns them in `parts` encoded shares, for `checkJobs` in workers.
#[wasm_bindgen(js_name = mnlistPrepare)]
pub fn mnlist_prepare(parts: usize) -> Result<Vec<js_sys::Uint8Array>, JsError> {
    with_scenario(|scenario| {
        let (engine, pending) = applied(scenario)?;
        Ok(send_out(engine, &pending, scenario, parts))
    })
}

/// After `mnlistChainLockFinish`, in the client's order: prepares the checks of
/// every quorum still pending and returns them in `parts` encoded shares, for
/// `checkJobs` in workers and then `mnlistApply`.
#[wasm_bindgen(js_name = mnlistPrepareRest)]
pub fn mnlist_prepare_rest(parts: usize) -> Result<Vec<js_sys::Uint8Array>, JsError> {
    let Some(engine) = AFTER_CHAINLOCK.with(|cell| cell.borrow_mut().take()) else {
        return Err(JsError::new("mnlistChainLockFinish first"));
    };
    with_scenario(|scenario| {
        let pending: Vec<QuorumKey> = engine
            .pending_quorums()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        Ok(send_out(engine, &pending, scenario, parts))
    })
}

/// Prepares the checks of `pending`, keeps `engine` waiting for their outcomes
/// and returns them in `parts` encoded shares.
fn send_out(
    mut engine: MasternodeEngine,
    pending: &[QuorumKey],
    scenario: &Scenario,
    parts: usize,
) -> Vec<js_sys::Uint8Array> {
    let jobs = engine.prepare_checks(pending, &scenario.headers);
    let shares = split_jobs(jobs, parts);
    let encoded = shares
        .iter()
        .map(|share| js_sys::Uint8Array::from(encode_jobs(share).as_slice()))
        .collect();
    WAITING.with(|cell| *cell.borrow_mut() = Some(Waiting { engine, shares }));
    encoded
}

/// Applies the workers' outcomes, one per share in the order `mnlistPrepare`
/// returned the shares; returns `[verified, failed, not verifiable]`.
#[wasm_bindgen(js_name = mnlistApply)]
pub fn mnlist_apply(outcomes: Vec<js_sys::Uint8Array>) -> Result<Vec<u32>, JsError> {
    let Some(mut waiting) = WAITING.with(|cell| cell.borrow_mut().take()) else {
        return Err(JsError::new("mnlistPrepare first"));
    };
    if outcomes.len() != waiting.shares.len() {
        return Err(JsError::new("one outcome per share expected"));
    }
    with_scenario(|scenario| {
        for (share, outcome) in waiting.shares.iter().zip(&outcomes) {
            waiting
                .engine
                .apply_outcomes(share, &outcome.to_vec(), &scenario.headers)?;
        }
        Ok(counts(&waiting.engine))
    })
}

/// A checking worker's task: the outcomes of the encoded `jobs`, checked
/// with this worker's key cache (emptied first if `fresh`).
#[wasm_bindgen(js_name = mnlistCheckJobs)]
pub fn check_jobs(jobs: &[u8], fresh: bool) -> Result<Vec<u8>, JsError> {
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if fresh {
            *keys = KeyCache::new();
        }
        Ok(check_encoded(jobs, &mut keys)?)
    })
}

/// The testnet ChainLock whose signing quorum the testnet messages let verify
/// (the native benchmark checks its real signature).
const TESTNET_CHAINLOCK_HEIGHT: u32 = 905_768;

/// A fresh engine that applied the scenario's messages and checked a
/// ChainLock, and the key of the quorum that must have signed it: on testnet
/// at [`TESTNET_CHAINLOCK_HEIGHT`], on mainnet at the newest list (no mainnet
/// ChainLock of the fixtures has a known block). A stand-in signature signs
/// it (one of the newest list, which does not verify: the check costs what a
/// valid one does).
fn chainlock_quorum(scenario: &Scenario) -> Result<(MasternodeEngine, QuorumKey), JsError> {
    let (engine, _) = applied(scenario)?;
    let newest = engine
        .latest_list()
        .ok_or_else(|| JsError::new("no list"))?;
    let height = match scenario.network {
        Network::Testnet => TESTNET_CHAINLOCK_HEIGHT,
        _ => newest.height + WORK_BLOCK_OFFSET,
    };
    let signature = newest
        .quorums()
        .next()
        .ok_or_else(|| JsError::new("no quorum"))?
        .commitment
        .members_sig;
    let stand_in = ClSig {
        height: height as i32,
        block_hash: scenario.headers.hash_at(height).unwrap_or_default(),
        signature,
    };
    let key = engine
        .verify_chainlock(&stand_in, &scenario.headers)
        .quorum
        .ok_or_else(|| JsError::new("no signing quorum"))?;
    Ok((engine, key))
}

/// Applies the messages, checks a ChainLock and verifies its signing quorum
/// in this thread; returns whether that quorum verified.
#[wasm_bindgen(js_name = mnlistChainLockHere)]
pub fn mnlist_chainlock_here() -> Result<bool, JsError> {
    with_scenario(|scenario| {
        let (mut engine, key) = chainlock_quorum(scenario)?;
        engine.verify_quorum_set(&[key], &scenario.headers);
        Ok(verified(&engine, &key))
    })
}

/// Applies the messages, checks a ChainLock and splits the aggregation of its
/// signing quorum in `parts` encoded parts, for `mnlistSumPart` in workers.
#[wasm_bindgen(js_name = mnlistChainLockSplit)]
pub fn mnlist_chainlock_split(parts: usize) -> Result<Vec<js_sys::Uint8Array>, JsError> {
    with_scenario(|scenario| {
        let (mut engine, key) = chainlock_quorum(scenario)?;
        let job = engine
            .prepare_checks(&[key], &scenario.headers)
            .pop()
            .ok_or_else(|| JsError::new("the signing quorum needs no check"))?;
        let cut = split_aggregation(&job, parts)
            .ok_or_else(|| JsError::new("the signing quorum's check cannot be split"))?;
        let encoded = cut
            .iter()
            .map(|part| js_sys::Uint8Array::from(encode_part(part).as_slice()))
            .collect();
        WAITING_SUMS.with(|cell| *cell.borrow_mut() = Some(WaitingSums { engine, job }));
        Ok(encoded)
    })
}

/// Adds the workers' sums (one per part, in order), checks the signing
/// quorum's signatures; returns whether that quorum verified. The engine stays
/// for `mnlistPrepareRest`.
#[wasm_bindgen(js_name = mnlistChainLockFinish)]
pub fn mnlist_chainlock_finish(sums: Vec<js_sys::Uint8Array>) -> Result<bool, JsError> {
    let Some(mut waiting) = WAITING_SUMS.with(|cell| cell.borrow_mut().take()) else {
        return Err(JsError::new("mnlistChainLockSplit first"));
    };
    let answers: Vec<Vec<u8>> = sums.iter().map(|s| s.to_vec()).collect();
    with_scenario(|scenario| {
        waiting
            .engine
            .apply_split_sums(&waiting.job, &answers, &scenario.headers);
        let verified = verified(&waiting.engine, &waiting.job.key());
        AFTER_CHAINLOCK.with(|cell| *cell.borrow_mut() = Some(waiting.engine));
        Ok(verified)
    })
}

/// Whether `engine` verified the quorum `key`.
fn verified(engine: &MasternodeEngine, key: &QuorumKey) -> bool {
    engine
        .quorum_record(key.0, &key.1)
        .is_some_and(|r| r.status.is_verified())
}

/// A checking worker's task for a split aggregation: the sum of the encoded
/// `part`, with this worker's key cache (emptied first if `fresh`).
#[wasm_bindgen(js_name = mnlistSumPart)]
pub fn sum_part(part: &[u8], fresh: bool) -> Result<Vec<u8>, JsError> {
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if fresh {
            *keys = KeyCache::new();
        }
        Ok(sum_encoded_part(part, &mut keys)?)
    })
}
