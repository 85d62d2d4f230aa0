//! `mnlistdiff` payloads in every supported layout: decoding never panics, and
//! whatever decodes re-encodes to the same bytes.
//!
//! Input: protocol version index · payload.
#![no_main]

use dashlight::protocol::mnlistdiff::MnListDiff;
use libfuzzer_sys::fuzz_target;

const VERSIONS: [u32; 4] = [70227, 70228, 70229, 70230];

fuzz_target!(|data: &[u8]| {
    let [version, payload @ ..] = data else {
        return;
    };
    let version = VERSIONS[usize::from(*version) % VERSIONS.len()];
    if let Ok(diff) = MnListDiff::from_payload(payload, version) {
        assert_eq!(diff.to_payload(version), payload);
    }
});
