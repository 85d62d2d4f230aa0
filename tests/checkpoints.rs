//! Checkpoints: the compiled-in headers meet their proof of work, the tables
//! match the records' headers, and a block at a checkpoint height must be the
//! checkpoint. Mainnet has no run of consecutive headers in the fixtures, so
//! its checkpoint records are what is tested.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use dashlight::chain::checkpoints::{checkpoint, HashFingerprint, CHECKPOINT_SPACING};
use dashlight::chain::pow::check_proof_of_work;
use dashlight::chain::{
    ConsensusParams, HashedHeader, HeaderChain, SyncBase, SyncBaseError, ValidationError,
};
use dashlight::network::Network;

/// 2025-01-01T00:00:00Z.
const NOW: u64 = 1_735_689_600;

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn sync_base_headers_meet_their_proof_of_work() {
    for network in [Network::Mainnet, Network::Testnet] {
        let limit = ConsensusParams::for_network(network).pow_limit;
        let mut previous_work = None;
        for height in SyncBase::available_heights(network) {
            let base = SyncBase::at_checkpoint(network, height).unwrap();
            let hash = base.header().block_hash();
            assert_eq!(hash, base.hash());
            assert_eq!(
                checkpoint(network, height),
                Some(HashFingerprint::of(&hash))
            );
            assert_eq!(
                check_proof_of_work(&hash, base.header().bits, limit),
                Ok(()),
                "{network} {height}"
            );
            if let Some(previous) = previous_work {
                assert!(base.chain_work() > previous, "{network} {height}");
            }
            previous_work = Some(base.chain_work());
        }
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_mainnet_sync_base_must_be_the_checkpoint_block() {
    let real = SyncBase::latest(Network::Mainnet);
    assert_eq!(real.height(), 2_302_272);
    let mut other = *real.header();
    other.time += 1;
    assert!(matches!(
        SyncBase::new(Network::Mainnet, real.height(), other, real.chain_work()),
        Err(SyncBaseError::CheckpointMismatch { .. })
    ));
    // Any header will do at a height that is not a checkpoint.
    assert!(SyncBase::new(
        Network::Mainnet,
        real.height() + 1,
        other,
        real.chain_work()
    )
    .is_ok());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_mainnet_header_at_a_checkpoint_height_must_match() {
    // A chain trusted up to the block before a checkpoint (any header stands
    // in for it); the header offered at the checkpoint height links to it but
    // is not the checkpoint block.
    let checkpoint = SyncBase::latest(Network::Mainnet);
    let stand_in = *SyncBase::at_or_below(Network::Mainnet, checkpoint.height() - 1).header();
    let base = SyncBase::new(
        Network::Mainnet,
        checkpoint.height() - 1,
        stand_in,
        checkpoint.chain_work(),
    )
    .unwrap();
    let mut chain = HeaderChain::new(base);
    let mut impostor = *checkpoint.header();
    impostor.prev_blockhash = base.hash();
    let impostor = HashedHeader::new(impostor);
    let rejected = chain.extend(&[impostor], NOW).rejected.unwrap();
    assert_eq!(
        rejected.reason,
        ValidationError::CheckpointMismatch {
            height: checkpoint.height(),
            expected: HashFingerprint::of(&checkpoint.hash()),
            found: impostor.hash,
        }
    );
    assert_eq!(checkpoint.height() % CHECKPOINT_SPACING, 0);
}

#[cfg(not(target_arch = "wasm32"))]
mod records {
    use super::*;
    use dashlight::block::BlockHeader;

    fn decode_base64(line: &str) -> Vec<u8> {
        let value = |c: u8| match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            _ => 63,
        };
        let mut out = Vec::new();
        let (mut acc, mut bits) = (0u32, 0);
        for c in line.bytes().filter(|&c| c != b'=') {
            acc = (acc << 6) | value(c);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
        out
    }

    /// Every record of a dashj checkpoint file: its header meets its proof of
    /// work and hashes to the compiled-in checkpoint at its height.
    fn check_file(network: Network, path: &str) -> usize {
        let limit = ConsensusParams::for_network(network).pow_limit;
        let text = std::fs::read_to_string(path).expect("checkpoint fixture");
        let mut count = 0;
        for line in text.lines().skip(3).filter(|l| !l.is_empty()) {
            let record = decode_base64(line);
            let height = u32::from_be_bytes(record[12..16].try_into().unwrap());
            let header = BlockHeader::from_bytes(&record[16..96].try_into().unwrap());
            let hash = header.block_hash();
            assert_eq!(check_proof_of_work(&hash, header.bits, limit), Ok(()));
            assert_eq!(
                checkpoint(network, height),
                Some(HashFingerprint::of(&hash)),
                "{height}"
            );
            count += 1;
        }
        count
    }

    #[test]
    fn every_mainnet_checkpoint_record_meets_its_proof_of_work() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/mainnet/checkpoints/dashj_mainnet_checkpoints.txt"
        );
        assert_eq!(check_file(Network::Mainnet, path), 3997);
    }

    #[test]
    fn every_testnet_checkpoint_record_meets_its_proof_of_work() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/testnet/headers/dashj_testnet_checkpoints.txt"
        );
        assert_eq!(check_file(Network::Testnet, path), 2230);
    }
}
