//! The masternode benchmark (`page/mnlist.mjs`): a fresh engine takes a
//! QRInfo and a full list, then verifies every pending quorum either in its
//! own thread or by check jobs spread over worker threads, which call
//! [`check_jobs`] here.

use dashlight::bls::KeyCache;
use dashlight::chain::{HeaderLookup, HeaderMap};
use dashlight::mnlist::check::{check_encoded, encode_jobs, split_jobs, CheckJob};
use dashlight::mnlist::{MasternodeEngine, QuorumKey, QuorumStatus, VerifyOnApply};
use dashlight::network::Network;
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

thread_local! {
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
        let (mut engine, pending) = applied(scenario)?;
        let jobs = engine.prepare_checks(&pending, &scenario.headers);
        let shares = split_jobs(jobs, parts);
        let encoded = shares
            .iter()
            .map(|share| js_sys::Uint8Array::from(encode_jobs(share).as_slice()))
            .collect();
        WAITING.with(|cell| *cell.borrow_mut() = Some(Waiting { engine, shares }));
        Ok(encoded)
    })
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
