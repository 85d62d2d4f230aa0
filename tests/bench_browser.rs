//! The `bench_mnlist` benchmark in the browser, both scenarios: a fresh
//! engine takes `qrinfo_905294.bin` and `mnlistdiff_0_905762.bin` (testnet)
//! or `qrinfo_2028764.bin` and `mnlistdiff_0_2028691.bin` (mainnet),
//! verifies every verifiable quorum and checks ChainLocks; the split of the
//! time is printed to the console; the engine verifies no quorum while
//! applying, then a ChainLock with its own signing quorum, then the rest, as
//! the client does (the native version, with what each figure means, is
//! `examples/bench_mnlist.rs`).
#![cfg(target_arch = "wasm32")]

// In a dedicated worker, as the client runs.
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

mod common;
mod support;

use dashlight::chain::HeaderLookup;
use dashlight::encode::deserialize;
use dashlight::mnlist::{MasternodeEngine, QuorumStatus, Timings, VerifyOnApply};
use dashlight::network::Network;
use dashlight::protocol::chainlock::ClSig;
use dashlight::protocol::mnlistdiff::MnListDiff;
use dashlight::protocol::qrinfo::QrInfo;
use support::{first_chainlock, mainnet_heights, testnet_cbtx_clsig, testnet_headers};

use wasm_bindgen::JsCast;
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

fn payload(list: &[(&str, &'static [u8])], name: &str) -> &'static [u8] {
    list.iter()
        .find(|(p, _)| p.ends_with(name))
        .map(|(_, b)| *b)
        .unwrap()
}

/// The files of one scenario.
struct Scenario {
    network: Network,
    qrinfo: &'static [u8],
    diff: &'static [u8],
    clsig: Option<&'static [u8]>,
    verified_clsig: Option<ClSig>,
}

struct Run {
    total: f64,
    parsing: f64,
    first_chainlock: f64,
    chainlock: f64,
    timings: Timings,
    at_first_chainlock: Timings,
    verified: usize,
    failed: usize,
}

fn run(s: &Scenario, headers: &impl HeaderLookup, proofs: bool, verify: VerifyOnApply) -> Run {
    let start = now_ms();
    let qrinfo = QrInfo::from_payload(s.qrinfo, 70230).unwrap();
    let diff = MnListDiff::from_payload(s.diff, 70230).unwrap();
    let clsig: Option<ClSig> = s.clsig.map(|b| deserialize(b).unwrap());
    let parsing = now_ms() - start;
    let mut engine = MasternodeEngine::new(s.network);
    engine.set_clock(Box::new(|| now_ms() / 1000.0));
    engine.set_require_block_proofs(proofs);
    engine.set_verify_on_apply(verify);
    engine.apply_qrinfo(&qrinfo, headers).unwrap();
    engine.apply_diff(&diff, headers).unwrap();
    assert!(first_chainlock(
        &mut engine,
        s.verified_clsig.as_ref(),
        headers
    ));
    let first_chainlock = now_ms() - start;
    let at_first_chainlock = *engine.timings();
    let rest: Vec<_> = engine
        .pending_quorums()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    engine.verify_quorum_set(&rest, headers);
    let cl_start = now_ms();
    if let Some(clsig) = &clsig {
        assert!(engine.verify_chainlock(clsig, headers).signature_valid());
    }
    let chainlock = now_ms() - cl_start;
    let count = |f: &dyn Fn(&QuorumStatus) -> bool| {
        engine.quorum_records().filter(|r| f(&r.status)).count()
    };
    Run {
        total: now_ms() - start,
        parsing,
        first_chainlock,
        chainlock,
        timings: *engine.timings(),
        at_first_chainlock,
        verified: count(&|s| s.is_verified()),
        failed: count(&|s| s.is_final() && !s.is_verified()),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn report(name: &str, runs: &[Run]) {
    let ms = |f: &dyn Fn(&Run) -> f64| median(runs.iter().map(f).collect());
    let s = |f: &dyn Fn(&Run) -> f64| ms(&|r| f(r) * 1000.0);
    console_log!(
        "bench_mnlist {name} (browser, median of {}, ms): total {:.1}, parsing {:.1}, list building {:.1}, member selection {:.1}, key decompression {:.1}, aggregation {:.1}, pairings {:.1}, chainlock {:.1}, received -> first ChainLock {:.1} (list building {:.1}, member selection {:.1}, key decompression {:.1}, aggregation {:.1}, pairings {:.1}); quorums verified {}, failed {}, checks {}",
        runs.len(),
        ms(&|r| r.total),
        ms(&|r| r.parsing),
        s(&|r| r.timings.list_building),
        s(&|r| r.timings.member_selection),
        s(&|r| r.timings.key_decompression),
        s(&|r| r.timings.aggregation),
        s(&|r| r.timings.pairings),
        ms(&|r| r.chainlock),
        ms(&|r| r.first_chainlock),
        s(&|r| r.at_first_chainlock.list_building),
        s(&|r| r.at_first_chainlock.member_selection),
        s(&|r| r.at_first_chainlock.key_decompression),
        s(&|r| r.at_first_chainlock.aggregation),
        s(&|r| r.at_first_chainlock.pairings),
        runs[0].verified,
        runs[0].failed,
        runs[0].timings.quorums_checked,
    );
}

#[wasm_bindgen_test]
async fn bench_testnet_and_mainnet_qrinfo_with_full_list() {
    let testnet = Scenario {
        network: Network::Testnet,
        qrinfo: payload(common::QRINFOS, "qrinfo_905294.bin"),
        diff: payload(common::MNLISTDIFFS, "mnlistdiff_0_905762.bin"),
        clsig: Some(common::CLSIG_905775),
        verified_clsig: testnet_cbtx_clsig(905_768),
    };
    let mainnet = Scenario {
        network: Network::Mainnet,
        qrinfo: payload(common::QRINFOS, "qrinfo_2028764.bin"),
        diff: payload(common::MNLISTDIFFS, "mnlistdiff_0_2028691.bin"),
        clsig: None,
        verified_clsig: None,
    };
    let testnet_headers = testnet_headers();
    let mainnet_heights = mainnet_heights(
        &QrInfo::from_payload(mainnet.qrinfo, 70230).unwrap(),
        &[&MnListDiff::from_payload(mainnet.diff, 70230).unwrap()],
    );
    // The runner gives up after 20 s (`WASM_BINDGEN_TEST_TIMEOUT`), so only
    // the client's mode runs here (`examples/bench_mnlist.rs` runs both), once
    // unless `BENCH_RUNS` was set when the test was built.
    let runs: usize = option_env!("BENCH_RUNS")
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    let mode = VerifyOnApply::None;
    let mut testnet_runs = Vec::new();
    for _ in 0..runs {
        testnet_runs.push(run(&testnet, &testnet_headers, true, mode));
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    report("testnet qrinfo_905294", &testnet_runs);
    let mut mainnet_runs = Vec::new();
    for _ in 0..runs {
        mainnet_runs.push(run(&mainnet, &mainnet_heights, false, mode));
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    report("mainnet qrinfo_2028764", &mainnet_runs);
    assert_eq!(testnet_runs[0].verified, 52);
    assert_eq!(mainnet_runs[0].verified, 42);
    assert_eq!(testnet_runs[0].failed + mainnet_runs[0].failed, 0);
}
