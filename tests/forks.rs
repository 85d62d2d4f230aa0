//! The real stale testnet branch (headers 899,760..902,320, sharing blocks up
//! to 899,759 with the canonical chain) loses to the canonical chain whichever
//! is offered first: it contradicts the checkpoint at 900,288, and the
//! canonical branch has more work.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod chain_fixtures;

use chain_fixtures::{
    canonical, canonical_base, stale, CANONICAL_FIRST, CANONICAL_LAST, NOW, STALE_FIRST, STALE_LAST,
};
use dashlight::chain::checkpoints::checkpoint;
use dashlight::chain::{
    BatchReport, ChainConfig, HashedHeader, HeaderChain, Outcome, ValidationError,
};
use dashlight::network::Network;

/// The checkpoint the stale branch contradicts.
const CHECKPOINT: u32 = 900_288;

fn new_chain() -> HeaderChain {
    HeaderChain::new(canonical_base())
}

/// Offers `headers` in batches of `size`, as a peer would send them.
fn offer(chain: &mut HeaderChain, headers: &[HashedHeader], size: usize) -> Vec<BatchReport> {
    headers
        .chunks(size)
        .map(|batch| chain.accept(batch, NOW))
        .collect()
}

fn assert_canonical_tip(chain: &HeaderChain) {
    let last = canonical(CANONICAL_LAST, CANONICAL_LAST)[0];
    assert_eq!(chain.tip().height, CANONICAL_LAST);
    assert_eq!(chain.tip().hash, last.hash);
    for h in stale(STALE_FIRST, STALE_LAST).iter().step_by(37) {
        assert_eq!(
            chain.height_of(&h.hash),
            None,
            "stale block on the best chain"
        );
    }
    let at = canonical(STALE_FIRST, STALE_FIRST)[0];
    assert_eq!(chain.hash_at(STALE_FIRST), Some(at.hash));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_fixtures_share_blocks_up_to_899759() {
    let fork_parent = canonical(STALE_FIRST - 1, STALE_FIRST - 1)[0];
    let stale_first = stale(STALE_FIRST, STALE_FIRST)[0];
    assert_eq!(stale_first.header.prev_blockhash, fork_parent.hash);
    assert_ne!(
        stale_first.hash,
        canonical(STALE_FIRST, STALE_FIRST)[0].hash
    );
    let stale_at_checkpoint = stale(CHECKPOINT, CHECKPOINT)[0];
    assert!(checkpoint(Network::Testnet, CHECKPOINT)
        .is_some_and(|c| !c.matches(&stale_at_checkpoint.hash)));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn canonical_first_then_stale_is_rejected() {
    let mut chain = new_chain();
    for report in offer(
        &mut chain,
        &canonical(CANONICAL_FIRST + 1, CANONICAL_LAST),
        2000,
    ) {
        assert_eq!(report.rejected, None);
    }
    let reports = offer(&mut chain, &stale(STALE_FIRST, STALE_LAST), 2000);
    for report in &reports {
        assert_eq!(report.outcome, Outcome::Unchanged);
    }
    // The branch leaves the best chain below checkpoints it has passed.
    assert!(matches!(
        reports[0].rejected.map(|r| r.reason),
        Some(ValidationError::ForkBelowCheckpoint {
            fork_height: 899_759,
            ..
        })
    ));
    assert!(chain.side_branches().is_empty());
    assert_canonical_tip(&chain);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn stale_first_is_reorganised_away_by_the_canonical_chain() {
    let mut chain = new_chain();
    // The shared part, then the stale branch in small batches.
    assert_eq!(
        chain
            .accept(&canonical(CANONICAL_FIRST + 1, STALE_FIRST - 1), NOW)
            .rejected,
        None
    );
    let reports = offer(&mut chain, &stale(STALE_FIRST, STALE_LAST), 500);
    assert!(matches!(reports[0].outcome, Outcome::Extended { .. }));
    // 899760..900287 are accepted; the block at the checkpoint is not.
    let rejected = reports[1]
        .rejected
        .expect("the checkpoint stops the branch");
    assert_eq!(rejected.height, Some(CHECKPOINT));
    assert!(matches!(
        rejected.reason,
        ValidationError::CheckpointMismatch {
            height: CHECKPOINT,
            ..
        }
    ));
    assert_eq!(chain.tip().height, CHECKPOINT - 1);
    // The rest of the stale branch cannot connect.
    for report in &reports[2..] {
        assert!(matches!(
            report.rejected.map(|r| r.reason),
            Some(ValidationError::UnknownParent { .. })
        ));
    }

    // Now the canonical chain, from the sync base on: the shared prefix is
    // skipped, and the canonical branch overtakes the stale one.
    let reports = offer(
        &mut chain,
        &canonical(CANONICAL_FIRST + 1, CANONICAL_LAST),
        2000,
    );
    let reorg = reports
        .iter()
        .find_map(|r| match r.outcome {
            Outcome::Reorganized {
                from,
                fork_height,
                depth,
                ..
            } => Some((from, fork_height, depth)),
            _ => None,
        })
        .expect("a reorganisation");
    assert_eq!(reorg.0.height, CHECKPOINT - 1);
    assert_eq!(reorg.1, STALE_FIRST - 1);
    assert_eq!(reorg.2, CHECKPOINT - STALE_FIRST);
    for report in &reports {
        assert_eq!(report.rejected, None);
    }
    assert_canonical_tip(&chain);
    // The stale blocks were put aside, then dropped once below a checkpoint.
    assert!(chain.side_branches().is_empty());

    // Offered again, the stale branch is rejected outright.
    let again = offer(&mut chain, &stale(STALE_FIRST, STALE_LAST), 2000);
    assert!(matches!(
        again[0].rejected.map(|r| r.reason),
        Some(ValidationError::ForkBelowCheckpoint { .. })
    ));
    assert_canonical_tip(&chain);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_weaker_branch_is_kept_aside_and_wins_once_it_has_more_work() {
    let mut chain = new_chain();
    chain.accept(&canonical(CANONICAL_FIRST + 1, STALE_FIRST - 1), NOW);
    // The stale branch first, up to 900200 (the checkpoint at 900288 is ahead).
    let report = chain.accept(&stale(STALE_FIRST, 900_200), NOW);
    assert!(matches!(report.outcome, Outcome::Extended { .. }));
    // A few canonical blocks: less work than the stale ones, kept aside.
    let report = chain.accept(&canonical(STALE_FIRST, STALE_FIRST + 100), NOW);
    assert!(matches!(
        report.outcome,
        Outcome::SideBranch {
            fork_height: 899_759,
            kept: true,
            ..
        }
    ));
    assert_eq!(chain.side_branches().len(), 1);
    assert_eq!(chain.tip().height, 900_200);
    // Grown to as many blocks as the stale branch, the canonical one has more
    // work (the stale branch is easier) and replaces it.
    let report = chain.accept(&canonical(STALE_FIRST + 101, 900_200), NOW);
    assert!(matches!(
        report.outcome,
        Outcome::Reorganized {
            fork_height: 899_759,
            depth: 441,
            ..
        }
    ));
    assert_eq!(chain.tip().height, 900_200);
    // The stale blocks are now the side branch; they may still grow there.
    assert_eq!(chain.side_branches().len(), 1);
    let report = chain.accept(&stale(900_201, 900_250), NOW);
    assert!(matches!(
        report.outcome,
        Outcome::SideBranch {
            kept: true,
            tip: dashlight::chain::BlockId {
                height: 900_250,
                ..
            },
            ..
        }
    ));
    assert_eq!(chain.tip().height, 900_200);
    // Once the best chain passes the checkpoint at 900288, the stale branch
    // can never win and is dropped.
    offer(&mut chain, &canonical(900_201, CANONICAL_LAST), 2000);
    assert!(chain.side_branches().is_empty());
    assert_canonical_tip(&chain);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn reorganisations_are_bounded_in_depth() {
    let config = ChainConfig {
        max_reorg_depth: 100,
        ..ChainConfig::default()
    };
    let mut chain = HeaderChain::with_config(canonical_base(), config);
    chain.accept(&canonical(CANONICAL_FIRST + 1, 900_000), NOW);
    let report = chain.accept(&stale(STALE_FIRST, STALE_FIRST + 500), NOW);
    assert_eq!(report.outcome, Outcome::Unchanged);
    assert_eq!(
        report.rejected.map(|r| r.reason),
        Some(ValidationError::ReorgTooDeep {
            depth: 900_000 - 899_759,
            max_depth: 100,
        })
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn known_headers_are_skipped_and_orphans_named() {
    let mut chain = new_chain();
    let batch = canonical(CANONICAL_FIRST + 1, CANONICAL_FIRST + 100);
    chain.accept(&batch, NOW);
    let again = chain.accept(&batch, NOW);
    assert_eq!(again.outcome, Outcome::Unchanged);
    assert_eq!(again.rejected, None);
    let orphan = canonical(CANONICAL_FIRST + 200, CANONICAL_FIRST + 201);
    let report = chain.accept(&orphan, NOW);
    assert_eq!(report.rejected.map(|r| r.height), Some(None));
    assert!(matches!(
        report.rejected.map(|r| r.reason),
        Some(ValidationError::UnknownParent { .. })
    ));
}
