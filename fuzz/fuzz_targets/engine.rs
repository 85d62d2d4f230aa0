//! The masternode engine over mutated real messages: `apply_qrinfo` and
//! `apply_diff` never panic, whatever a peer's `qrinfo` or `mnlistdiff` holds.
//!
//! Input: target byte (even: the genesis-based `mnlistdiff`, odd: a `qrinfo`)
//! · then patches of 4 bytes (offset `u24`, xor mask) applied to the real
//! payload. A payload that still decodes is applied to a fresh engine over
//! the fixture headers.
#![no_main]

mod common;

use common::{headers, patch, read};
use dashlight::mnlist::MasternodeEngine;
use dashlight::network::Network;
use dashlight::protocol::mnlistdiff::MnListDiff;
use dashlight::protocol::qrinfo::QrInfo;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const PROTOCOL_VERSION: u32 = 70230;

fn payloads() -> &'static [Vec<u8>; 2] {
    static PAYLOADS: OnceLock<[Vec<u8>; 2]> = OnceLock::new();
    PAYLOADS.get_or_init(|| {
        [
            read("mnlistdiff/mnlistdiff_0_905762.bin"),
            read("qrinfo/qrinfo_905294.bin"),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&target, patches)) = data.split_first() else {
        return;
    };
    let mut payload = payloads()[usize::from(target & 1)].clone();
    patch(&mut payload, patches);
    let mut engine = MasternodeEngine::new(Network::Testnet);
    if target & 1 == 0 {
        if let Ok(diff) = MnListDiff::from_payload(&payload, PROTOCOL_VERSION) {
            let _ = engine.apply_diff(&diff, headers());
        }
    } else if let Ok(qrinfo) = QrInfo::from_payload(&payload, PROTOCOL_VERSION) {
        let _ = engine.apply_qrinfo(&qrinfo, headers());
    }
});
