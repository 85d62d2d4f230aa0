//! The `bench_mnlist` benchmark in the browser: a fresh engine takes
//! `qrinfo_905294.bin` and `mnlistdiff_0_905762.bin`, verifies every
//! verifiable quorum and checks `clsig_905775.bin`; the split of the time is
//! printed to the console (the native version is `examples/bench_mnlist.rs`).
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;
mod support;

use dashlight::encode::deserialize;
use dashlight::mnlist::{MasternodeEngine, Timings};
use dashlight::network::Network;
use dashlight::protocol::chainlock::ClSig;
use dashlight::protocol::mnlistdiff::MnListDiff;
use dashlight::protocol::qrinfo::QrInfo;
use support::TestHeaders;
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

struct Run {
    total: f64,
    parsing: f64,
    chainlock: f64,
    timings: Timings,
    verified: usize,
}

fn run(headers: &TestHeaders) -> Run {
    let start = now_ms();
    let qrinfo =
        QrInfo::from_payload(payload(common::QRINFOS, "qrinfo_905294.bin"), 70230).unwrap();
    let diff = MnListDiff::from_payload(
        payload(common::MNLISTDIFFS, "mnlistdiff_0_905762.bin"),
        70230,
    )
    .unwrap();
    let clsig: ClSig = deserialize(common::CLSIG_905775).unwrap();
    let parsing = now_ms() - start;
    let mut engine = MasternodeEngine::new(Network::Testnet);
    engine.set_clock(Box::new(|| now_ms() / 1000.0));
    engine.apply_qrinfo(&qrinfo, headers).unwrap();
    engine.apply_diff(&diff, headers).unwrap();
    let cl_start = now_ms();
    assert!(engine.verify_chainlock(&clsig, headers).signature_valid());
    let chainlock = now_ms() - cl_start;
    Run {
        total: now_ms() - start,
        parsing,
        chainlock,
        timings: *engine.timings(),
        verified: engine
            .quorum_records()
            .filter(|r| r.status.is_verified())
            .count(),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

#[wasm_bindgen_test]
fn bench_qrinfo_905294_and_full_list_with_chainlock() {
    let headers = TestHeaders::testnet();
    let runs: Vec<Run> = (0..3).map(|_| run(&headers)).collect();
    let ms = |f: &dyn Fn(&Run) -> f64| median(runs.iter().map(f).collect());
    let s = |f: &dyn Fn(&Run) -> f64| ms(&|r| f(r) * 1000.0);
    console_log!(
        "bench_mnlist (browser, median of 3, ms): total {:.1}, parsing {:.1}, list building {:.1}, member selection {:.1}, key decompression {:.1}, aggregation {:.1}, pairings {:.1}, chainlock {:.1}; quorums verified {}",
        ms(&|r| r.total),
        ms(&|r| r.parsing),
        s(&|r| r.timings.list_building),
        s(&|r| r.timings.member_selection),
        s(&|r| r.timings.key_decompression),
        s(&|r| r.timings.aggregation),
        s(&|r| r.timings.pairings),
        ms(&|r| r.chainlock),
        runs[0].verified
    );
    assert_eq!(runs[0].verified, 52);
}
