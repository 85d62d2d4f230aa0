//! A cheap low-difficulty fork after the last checkpoint, offered before the
//! real chain, must not lock the real chain out: a chain below the minimum
//! chain work is not reported as synced, the reorganisation limit does not
//! protect it, and the peer serving the real chain is not blamed.
//!
//! No real chain past the last compiled-in checkpoint (testnet 1,284,480) is
//! in the fixtures, so both chains are fabricated on top of its real header:
//! the honest one at the checkpoint's difficulty, 150 s apart, the fork with
//! blocks 601 s apart, which testnet's minimum-difficulty rule lets carry the
//! easiest target (about a tenth of the honest work per block). Their `bits`
//! follow the retargeting rules; their hashes are stand-ins that meet the
//! target, handed to the chain with [`HashedHeader::with_hash`] as hashes
//! computed elsewhere are (grinding real X11 proof of work for 2,500 headers
//! is out of a test's reach).
//!
//! Two floors are used. A test floor, the work through honest block 300, sits
//! between the fork and the honest chain, so the honest chain is seen to reach
//! `Synced`. The compiled-in floor ([`ChainConfig::for_network`]) is Dash
//! Core's testnet `nMinimumChainWork`, the work through block 1,450,000: about
//! 165,000 real blocks past the checkpoint, above both fabricated chains. So
//! under it neither chain is reported as synced (the real chain, past
//! 1,450,000, would be); what the production floor is shown to do is keep the
//! fork below it, unreported and unprotected by the reorganisation limit, so
//! that it gives way to the honest chain without blame, where the former
//! floor (the newest checkpoint's work, which the fork meets) let the fork
//! lock the honest chain out.
#![cfg(not(target_arch = "wasm32"))]

use dashlight::block::BlockHeader;
use dashlight::chain::checkpoints::{minimum_chain_work, newest_checkpoint_work};
use dashlight::chain::difficulty::{next_work_required, Ancestry};
use dashlight::chain::{
    BlockId, ChainConfig, ConsensusParams, HashedHeader, HeaderChain, Outcome, SyncBase,
};
use dashlight::hash::{BlockHash, MerkleNode};
use dashlight::network::Network;
use dashlight::sync::config::SyncConfig;
use dashlight::sync::events::{NetworkEvent, SyncEvent};
use dashlight::sync::headers::HeaderManager;
use dashlight::sync::requests::Output;
use dashlight::sync::state::{SyncFailure, SyncState};
use dashlight::sync::time::Timestamp;

/// Real testnet headers from the 898,560 checkpoint on.
static HEADERS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/testnet/headers/testnet_headers_898560_947248.bin"
));

/// Blocks in the low-work fork: one more than the reorganisation limit.
const FORK_BLOCKS: usize = 1_001;
/// Blocks in the honest chain.
const HONEST_BLOCKS: usize = 1_500;
/// Seconds between honest blocks (the target spacing).
const HONEST_SPACING: u32 = 150;
/// Seconds between fork blocks: over four spacings, so each may be ten times
/// easier than its parent, which from the checkpoint's difficulty is the limit.
const FORK_SPACING: u32 = 601;

/// Headers from the sync base on, as the retargeting rules read them.
struct Built {
    first_height: u32,
    headers: Vec<BlockHeader>,
}

impl Ancestry for Built {
    fn tip_height(&self) -> u32 {
        self.first_height + self.headers.len() as u32 - 1
    }

    fn header_at(&self, height: u32) -> Option<&BlockHeader> {
        self.headers
            .get(usize::try_from(height.checked_sub(self.first_height)?).ok()?)
    }
}

/// `count` headers on top of `base`, `spacing` seconds apart, each with the
/// `bits` the rules require (its parent's where they need headers before the
/// base) and a stand-in hash, distinct per `branch`, that meets any target.
fn fabricate(base: &SyncBase, count: usize, spacing: u32, branch: u8) -> Vec<HashedHeader> {
    let params = ConsensusParams::for_network(Network::Testnet);
    let mut built = Built {
        first_height: base.height(),
        headers: vec![*base.header()],
    };
    let mut prev = base.hash();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let parent = built.headers[built.headers.len() - 1];
        let time = parent.time + spacing;
        let header = BlockHeader {
            version: 0x2000_0000,
            prev_blockhash: prev,
            merkle_root: MerkleNode([branch; 32]),
            time,
            bits: next_work_required(&params, &built, time).unwrap_or(parent.bits),
            nonce: i as u32,
        };
        let mut hash = [0u8; 32];
        hash[..4].copy_from_slice(&(i as u32 + 1).to_le_bytes());
        hash[4] = branch;
        let hash = BlockHash(hash);
        out.push(HashedHeader::with_hash(header, hash));
        built.headers.push(header);
        prev = hash;
    }
    out
}

struct Scenario {
    base: SyncBase,
    honest: Vec<HashedHeader>,
    fork: Vec<HashedHeader>,
    /// Unix time after every fabricated header.
    now: u64,
    config: ChainConfig,
}

fn scenario() -> Scenario {
    let base = SyncBase::latest(Network::Testnet);
    let honest = fabricate(&base, HONEST_BLOCKS, HONEST_SPACING, 1);
    let fork = fabricate(&base, FORK_BLOCKS, FORK_SPACING, 2);
    let now = u64::from(fork[fork.len() - 1].header.time);
    // A floor past the checkpoint: the work through honest block 300.
    let mut probe = HeaderChain::new(base);
    assert_eq!(probe.extend(&honest[..300], now).rejected, None);
    let config = ChainConfig {
        minimum_chain_work: probe.tip().chain_work,
        ..ChainConfig::for_network(Network::Testnet)
    };
    Scenario {
        base,
        honest,
        fork,
        now,
        config,
    }
}

fn assert_honest_tip(chain: &HeaderChain, s: &Scenario) {
    let last = s.honest[s.honest.len() - 1];
    assert_eq!(chain.tip().hash, last.hash);
    assert_eq!(chain.tip().height, s.base.height() + HONEST_BLOCKS as u32);
    assert!(chain.has_minimum_work());
    for h in &s.fork {
        assert_eq!(
            chain.height_of(&h.hash),
            None,
            "a fork block on the best chain"
        );
    }
}

#[test]
fn the_fabricated_chains_are_what_they_claim() {
    let s = scenario();
    let limit = s.fork[FORK_BLOCKS - 1].header.bits;
    assert_eq!(limit, 0x1e0f_ffff, "the fork carries the easiest target");
    assert!(s.fork.iter().all(|h| h.header.bits == limit));
    assert!(s.honest.iter().all(|h| h.header.bits < 0x1e02_0000));
    // Each chain alone is valid, and the fork is longer than the reorganisation limit.
    let mut honest = HeaderChain::with_config(s.base, s.config);
    assert_eq!(honest.accept(&s.honest, s.now).rejected, None);
    let mut fork = HeaderChain::with_config(s.base, s.config);
    assert_eq!(fork.accept(&s.fork, s.now).rejected, None);
    assert!(FORK_BLOCKS as u32 > s.config.max_reorg_depth);
    assert!(fork.tip().chain_work < honest.tip().chain_work);
    assert!(!fork.has_minimum_work());
}

#[test]
fn a_1001_block_low_work_fork_offered_first_gives_way_to_the_honest_chain() {
    let s = scenario();
    let mut chain = HeaderChain::with_config(s.base, s.config);
    let report = chain.accept(&s.fork, s.now);
    assert_eq!(report.rejected, None);
    assert!(matches!(report.outcome, Outcome::Extended { .. }));
    assert!(!chain.has_minimum_work(), "the fork is below the floor");

    // The honest chain forks at the checkpoint, 1,001 blocks below the fork's
    // tip: deeper than the limit, but the fork is not trusted, so the branch
    // with more work replaces it, and nothing is held against its sender.
    let report = chain.accept(&s.honest, s.now);
    assert_eq!(report.rejected, None);
    assert!(matches!(
        report.outcome,
        Outcome::Reorganized { depth, fork_height, .. }
            if depth == FORK_BLOCKS as u32 && fork_height == s.base.height()
    ));
    assert_honest_tip(&chain, &s);

    // Offered again, the fork stays aside: it has less work.
    let again = chain.accept(&s.fork, s.now);
    assert!(!matches!(
        again.outcome,
        Outcome::Reorganized { .. } | Outcome::Extended { .. }
    ));
    assert_honest_tip(&chain, &s);
}

#[test]
fn the_fork_offered_after_the_honest_chain_never_becomes_best() {
    let s = scenario();
    let mut chain = HeaderChain::with_config(s.base, s.config);
    assert_eq!(chain.accept(&s.honest, s.now).rejected, None);
    for batch in s.fork.chunks(500) {
        let report = chain.accept(batch, s.now);
        assert!(!matches!(
            report.outcome,
            Outcome::Reorganized { .. } | Outcome::Extended { .. }
        ));
    }
    assert_honest_tip(&chain, &s);
}

fn blamed(out: &[Output]) -> bool {
    out.iter().any(|o| matches!(o, Output::InvalidMessage(_)))
}

fn completed(out: &[Output]) -> Option<BlockId> {
    out.iter().find_map(|o| match o {
        Output::Event(SyncEvent::HeaderSyncComplete { tip }) => Some(*tip),
        _ => None,
    })
}

/// What the header sync did: the fork answered first (and said it had no
/// more), then, at the retry, the honest chain.
struct HeaderRun {
    chain: HeaderChain,
    after_fork: SyncState,
    fork_out: Vec<Output>,
    /// Whether the retry after the fork asked again.
    retried: bool,
    after_honest: SyncState,
    honest_out: Vec<Output>,
}

fn sync_fork_then_honest(s: &Scenario) -> HeaderRun {
    let mut chain = HeaderChain::with_config(s.base, s.config);
    let config = SyncConfig::for_network(Network::Testnet);
    let mut headers = HeaderManager::new(config, s.base.height());
    let mut now = Timestamp::from_millis(1_000);
    let mut out = Vec::new();
    headers.handle_network(
        now,
        &NetworkEvent::PeersUpdated {
            connected_count: 2,
            best_height: None,
        },
        &chain,
        &mut out,
    );
    assert_eq!(headers.state(), &SyncState::Syncing);

    // The hostile peer answers first: its fork is connected, and it says it has no more.
    let mut fork_out = Vec::new();
    headers.handle_headers(now, s.now, &s.fork, &mut chain, &mut fork_out);
    headers.handle_headers(now, s.now, &[], &mut chain, &mut fork_out);
    let after_fork = headers.state().clone();

    // The retry reaches the honest peer.
    let mut honest_out = Vec::new();
    now = now + config.error_backoff(0);
    headers.tick(now, &chain, &mut honest_out);
    let retried = headers.state() == &SyncState::Syncing;
    headers.handle_headers(now, s.now, &s.honest, &mut chain, &mut honest_out);
    headers.handle_headers(now, s.now, &[], &mut chain, &mut honest_out);
    HeaderRun {
        chain,
        after_fork,
        fork_out,
        retried,
        after_honest: headers.state().clone(),
        honest_out,
    }
}

/// The sync did not complete on the fork, ended below the floor there without blaming its
/// peer, asked again, and did not blame the peer of the honest chain.
fn assert_fork_unfinished_and_no_one_blamed(s: &Scenario, run: &HeaderRun) {
    assert_eq!(
        completed(&run.fork_out),
        None,
        "header sync completed on the fork"
    );
    assert!(matches!(
        run.after_fork,
        SyncState::Error(SyncFailure::BelowMinimumWork { tip_height })
            if tip_height == s.base.height() + FORK_BLOCKS as u32
    ));
    assert!(!blamed(&run.fork_out));
    assert!(run.retried);
    assert!(!blamed(&run.honest_out), "the honest peer was blamed");
}

#[test]
fn header_sync_does_not_complete_on_the_fork_and_blames_no_one_for_the_honest_chain() {
    let s = scenario();
    let run = sync_fork_then_honest(&s);
    assert_fork_unfinished_and_no_one_blamed(&s, &run);
    // The honest chain replaces the fork, and the sync completes on it.
    let last = s.honest[s.honest.len() - 1];
    assert_eq!(
        completed(&run.honest_out),
        Some(BlockId {
            height: s.base.height() + HONEST_BLOCKS as u32,
            hash: last.hash,
        })
    );
    assert_eq!(run.after_honest, SyncState::Synced);
    assert_honest_tip(&run.chain, &s);
}

/// The scenario under the compiled-in floor (Dash Core's).
fn compiled_scenario() -> Scenario {
    Scenario {
        config: ChainConfig::for_network(Network::Testnet),
        ..scenario()
    }
}

#[test]
fn under_the_compiled_floor_the_fork_is_below_it_and_unprotected() {
    let s = compiled_scenario();
    assert_eq!(
        s.config.minimum_chain_work,
        minimum_chain_work(Network::Testnet)
    );
    let mut fork = HeaderChain::with_config(s.base, s.config);
    assert_eq!(fork.accept(&s.fork, s.now).rejected, None);
    assert!(!fork.has_minimum_work(), "the fork meets Dash Core's floor");
    assert!(FORK_BLOCKS as u32 > s.config.max_reorg_depth);

    // Offered first, the fork gives way to the honest chain however deep the fork.
    let report = fork.accept(&s.honest, s.now);
    assert_eq!(report.rejected, None);
    assert!(matches!(
        report.outcome,
        Outcome::Reorganized { depth, fork_height, .. }
            if depth == FORK_BLOCKS as u32 && fork_height == s.base.height()
    ));
    let last = s.honest[s.honest.len() - 1];
    assert_eq!(fork.tip().hash, last.hash);
    // The fabricated honest chain is 1,500 blocks, not the 165,000 to Dash
    // Core's block: it is below the floor too.
    assert!(!fork.has_minimum_work());
}

#[test]
fn under_the_former_floor_the_fork_locked_the_honest_chain_out() {
    // The newest checkpoint's work, the floor before Dash Core's: the fork
    // meets it, so the reorganisation limit protects the fork.
    let s = Scenario {
        config: ChainConfig {
            minimum_chain_work: newest_checkpoint_work(Network::Testnet),
            ..ChainConfig::for_network(Network::Testnet)
        },
        ..scenario()
    };
    let mut chain = HeaderChain::with_config(s.base, s.config);
    assert_eq!(chain.accept(&s.fork, s.now).rejected, None);
    assert!(chain.has_minimum_work());
    let report = chain.accept(&s.honest, s.now);
    assert!(!matches!(report.outcome, Outcome::Reorganized { .. }));
    assert_eq!(chain.tip().hash, s.fork[FORK_BLOCKS - 1].hash);
}

#[test]
fn under_the_compiled_floor_header_sync_never_completes_on_the_fork_and_blames_no_one() {
    let s = compiled_scenario();
    let run = sync_fork_then_honest(&s);
    assert_fork_unfinished_and_no_one_blamed(&s, &run);
    // The honest chain replaces the fork and its peer is not blamed; being
    // below Dash Core's floor too, it is not reported as synced either.
    assert_eq!(completed(&run.honest_out), None);
    assert!(matches!(
        run.after_honest,
        SyncState::Error(SyncFailure::BelowMinimumWork { tip_height })
            if tip_height == s.base.height() + HONEST_BLOCKS as u32
    ));
    let tip = run.chain.tip();
    assert_eq!(tip.hash, s.honest[s.honest.len() - 1].hash);
    for h in &s.fork {
        assert_eq!(run.chain.height_of(&h.hash), None);
    }
}

#[test]
fn the_compiled_in_floor_lies_past_the_newest_checkpoint() {
    let n = Network::Testnet;
    let config = ChainConfig::for_network(n);
    assert_eq!(config.minimum_chain_work, minimum_chain_work(n));
    // From the newest checkpoint, a chain must still pass Dash Core's block.
    assert!(!HeaderChain::with_config(SyncBase::latest(n), config).has_minimum_work());
    let checkpoint_floor = ChainConfig {
        minimum_chain_work: newest_checkpoint_work(n),
        ..config
    };
    assert!(HeaderChain::with_config(SyncBase::latest(n), checkpoint_floor).has_minimum_work());
    // From an older one, real headers up to 947,248 are not enough, unless
    // the floor is lowered for a replay.
    let old = SyncBase::at_checkpoint(n, 898_560).expect("a sync base");
    let mut chain = HeaderChain::with_config(old, config);
    let headers = HashedHeader::parse_all(&HEADERS[80..80 * 101]);
    assert_eq!(chain.extend(&headers, 1_735_689_600).rejected, None);
    assert!(!chain.has_minimum_work());
    assert!(HeaderChain::new(old).has_minimum_work());
}
