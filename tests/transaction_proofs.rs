//! Transaction inclusion proofs on real data: the coinbase partial merkle
//! trees of the captured testnet `mnlistdiff`s, against the real headers.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;
mod support;

use dashlight::chain::{HeaderLookup, HeaderMap};
use dashlight::encode::serialize;
use dashlight::hash::MerkleNode;
use dashlight::proof::{check_inclusion, ProofFailure, TransactionProof};
use dashlight::protocol::mnlistdiff::MnListDiff;
use support::testnet_headers;

/// The testnet diffs whose block has a header in the fixtures.
fn diffs_with_headers(headers: &HeaderMap) -> Vec<(&'static str, MnListDiff)> {
    common::MNLISTDIFFS
        .iter()
        .filter(|(path, _)| path.starts_with("testnet/"))
        .map(|(path, bytes)| {
            (
                *path,
                MnListDiff::from_payload(bytes, common::layout_version(path)).unwrap(),
            )
        })
        .filter(|(_, d)| headers.height_of(&d.block_hash).is_some())
        .collect()
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn every_captured_coinbase_proof_is_included_at_its_height() {
    let headers = testnet_headers();
    let diffs = diffs_with_headers(&headers);
    assert!(diffs.len() >= 70, "{} diffs", diffs.len());
    for (path, diff) in &diffs {
        let txid = diff.coinbase_tx.txid();
        let height = diff.coinbase_payload().height;
        let tip = height + 10;
        for bytes in [
            serialize(&diff.coinbase_merkle_tree),
            [
                headers.header_at(height).unwrap().to_bytes().to_vec(),
                serialize(&diff.coinbase_merkle_tree),
            ]
            .concat(),
        ] {
            let proof = TransactionProof::from_bytes(&bytes, &diff.block_hash).unwrap();
            let inclusion =
                check_inclusion(&proof, &txid, &diff.block_hash, &headers, tip, Some(height))
                    .unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(inclusion.height, height, "{path}");
            assert_eq!(inclusion.position, 0, "{path}");
            assert_eq!(inclusion.confirmations, 11, "{path}");
            assert!(inclusion.chain_locked, "{path}");
            let unlocked = check_inclusion(
                &proof,
                &txid,
                &diff.block_hash,
                &headers,
                tip,
                Some(height - 1),
            )
            .unwrap();
            assert!(!unlocked.chain_locked, "{path}");
        }
        // The same proof as a plain branch: the tree's hashes after the
        // coinbase are its siblings from the leaf up.
        let branch = TransactionProof::Branch {
            siblings: diff.coinbase_merkle_tree.hashes[1..].to_vec(),
            position: 0,
        };
        let inclusion =
            check_inclusion(&branch, &txid, &diff.block_hash, &headers, tip, None).unwrap();
        assert_eq!((inclusion.height, inclusion.chain_locked), (height, false));
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_flipped_bit_anywhere_in_a_real_proof_is_rejected() {
    let headers = testnet_headers();
    let diffs = diffs_with_headers(&headers);
    let mut checked = 0;
    for (path, diff) in diffs.iter().take(6) {
        let txid = diff.coinbase_tx.txid();
        let height = diff.coinbase_payload().height;
        let header = headers.header_at(height).unwrap().to_bytes().to_vec();
        let tree = serialize(&diff.coinbase_merkle_tree);
        let total = diff.coinbase_merkle_tree.total_transactions;
        for (offset, bytes) in [(0, tree.clone()), (80, [header, tree].concat())] {
            for bit in 0..bytes.len() * 8 {
                let mut flipped = bytes.clone();
                flipped[bit / 8] ^= 1 << (bit % 8);
                let result =
                    TransactionProof::from_bytes(&flipped, &diff.block_hash).and_then(|p| {
                        check_inclusion(&p, &txid, &diff.block_hash, &headers, height, None)
                    });
                checked += 1;
                // The transaction count is not committed to by the merkle
                // root: a flip that keeps the tree's height proves the same
                // (the transaction at the same position under the same
                // root), in any BIP-37 verifier.
                let in_count = (offset * 8..(offset + 4) * 8).contains(&bit);
                if let (true, Ok(inclusion)) = (in_count, &result) {
                    assert_eq!((inclusion.height, inclusion.position), (height, 0));
                    let other = total ^ (1 << (bit - offset * 8));
                    assert_eq!(other.next_power_of_two(), total.next_power_of_two());
                    continue;
                }
                assert!(result.is_err(), "{path}: bit {bit} of {}", bytes.len());
            }
        }
        let siblings = diff.coinbase_merkle_tree.hashes[1..].to_vec();
        for level in 0..siblings.len() {
            for bit in 0..256 {
                let mut flipped = siblings.clone();
                flipped[level].0[bit / 8] ^= 1 << (bit % 8);
                let branch = TransactionProof::Branch {
                    siblings: flipped,
                    position: 0,
                };
                assert!(matches!(
                    check_inclusion(&branch, &txid, &diff.block_hash, &headers, height, None),
                    Err(ProofFailure::RootMismatch { .. })
                ));
            }
            let branch = TransactionProof::Branch {
                siblings: siblings.clone(),
                position: 1 << level,
            };
            assert!(
                check_inclusion(&branch, &txid, &diff.block_hash, &headers, height, None).is_err()
            );
        }
    }
    assert!(checked > 10_000, "{checked}");
    // A proof of another block's coinbase does not prove this one.
    let (_, a) = &diffs[0];
    let (_, b) = &diffs[1];
    let proof = TransactionProof::PartialTree(b.coinbase_merkle_tree.clone());
    assert!(matches!(
        check_inclusion(
            &proof,
            &a.coinbase_tx.txid(),
            &a.block_hash,
            &headers,
            0,
            None
        ),
        Err(ProofFailure::RootMismatch { .. })
    ));
    let unknown = dashlight::hash::BlockHash([9; 32]);
    assert_eq!(
        check_inclusion(&proof, &b.coinbase_tx.txid(), &unknown, &headers, 0, None),
        Err(ProofFailure::UnknownBlock(unknown))
    );
    let _: MerkleNode = b.coinbase_merkle_tree.hashes[0];
}
