//! The saved masternode state decoder: a saved state with bytes flipped, or
//! any bytes at all, never panics `MasternodeEngine::load_state`, and a
//! failed load leaves the engine as it was.
//!
//! Input: mode byte (even: patch a real saved state, odd: the bytes as they
//! are) · then patches of 4 bytes (offset `u24`, xor mask) or the raw record.
#![no_main]

mod common;

use common::{headers, patch, read};
use dashlight::mnlist::MasternodeEngine;
use dashlight::network::Network;
use dashlight::protocol::mnlistdiff::MnListDiff;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// A real saved state: the engine after the genesis-based diff to 905,762.
fn saved() -> &'static [u8] {
    static SAVED: OnceLock<Vec<u8>> = OnceLock::new();
    SAVED.get_or_init(|| {
        let bytes = read("mnlistdiff/mnlistdiff_0_905762.bin");
        let diff = MnListDiff::from_payload(&bytes, 70230).expect("a real diff decodes");
        let mut engine = MasternodeEngine::new(Network::Testnet);
        let _ = engine.apply_diff(&diff, headers());
        engine.save_state()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let record = if mode & 1 == 0 {
        let mut record = saved().to_vec();
        patch(&mut record, rest);
        record
    } else {
        rest.to_vec()
    };
    let mut engine = MasternodeEngine::new(Network::Testnet);
    let before = engine.save_state();
    if engine.load_state(&record, headers()).is_err() {
        assert_eq!(engine.save_state(), before, "a failed load changed the engine");
    }
});
