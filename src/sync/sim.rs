//! A deterministic simulated network for the sync machines (test support).
//!
//! Nothing here touches a socket or a clock: a [`SimNetwork`] holds a coordinator, a
//! synthetic chain of real (X11-hashed) headers standing for the network, and one simulated
//! peer that answers the coordinator's requests, optionally with faults (dropped, duplicated,
//! delayed, invalid or "not yet available" answers). Time moves only when the test says so.
//! [`SimChain`] and [`SimEngine`] are small in-memory stand-ins for the header chain and the
//! masternode list engine, so the managers can be exercised without cryptography.

use super::chain_view::{ChainView, ExtendableChain, HeaderError, HeaderFault, HeadersConnected};
use super::config::SyncConfig;
use super::coordinator::Coordinator;
use super::engine::{
    ChainLockSigner, ChainLockTarget, ClassifiedError, DiffBlocks, EngineVerdict, QuorumCheck,
    QuorumId, QuorumNeed, SyncEngine,
};
use super::events::{HeldRequests, NetworkEvent};
use super::masternodes::MasternodeWork;
use super::requests::{InvalidMessage, Output, Request};
use super::state::SyncState;
use super::time::{Millis, Now, Timestamp};
use crate::block::BlockHeader;
use crate::chain::{BlockId, HashedHeader, HeaderLookup};
use crate::hash::{sha256d, BlockHash, MerkleNode};
use crate::network::Network;
use core::fmt;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// The configuration used by simulations: testnet timeouts, but 24-block DKG cycles and
/// 50-header batches so short chains exercise cycles and batching.
pub fn sim_config() -> SyncConfig {
    SyncConfig {
        dkg_interval: 24,
        mining_window_end: 10,
        max_headers_per_message: 50,
        ..SyncConfig::for_network(Network::Testnet)
    }
}

fn synthetic_header(prev: BlockHash, height: u32) -> BlockHeader {
    BlockHeader {
        version: 0x2000_0000,
        prev_blockhash: prev,
        merkle_root: MerkleNode(sha256d(&height.to_le_bytes())),
        time: 1_700_000_000u32.saturating_add(height.saturating_mul(150)),
        bits: 0x207f_ffff,
        nonce: height,
    }
}

/// The network's chain: synthetic headers that link by hash, from a synthetic genesis.
#[derive(Clone, Debug)]
pub struct SimBlocks {
    headers: Vec<BlockHeader>,
    hashes: Vec<BlockHash>,
    heights: HashMap<BlockHash, u32>,
}

impl SimBlocks {
    /// A chain from genesis up to `height`.
    pub fn new(height: u32) -> Self {
        let genesis = synthetic_header(BlockHash::ZERO, 0);
        let hash = genesis.block_hash();
        let mut blocks = SimBlocks {
            headers: vec![genesis],
            hashes: vec![hash],
            heights: HashMap::from([(hash, 0)]),
        };
        blocks.grow(height);
        blocks
    }

    /// Mines `count` blocks; returns their headers.
    pub fn grow(&mut self, count: u32) -> Vec<BlockHeader> {
        let mut new = Vec::new();
        for _ in 0..count {
            let tip = self.tip();
            let height = tip.height.saturating_add(1);
            let header = synthetic_header(tip.hash, height);
            let hash = header.block_hash();
            self.headers.push(header);
            self.hashes.push(hash);
            self.heights.insert(hash, height);
            new.push(header);
        }
        new
    }

    /// The genesis header.
    pub fn genesis(&self) -> BlockHeader {
        self.headers
            .first()
            .copied()
            .unwrap_or(synthetic_header(BlockHash::ZERO, 0))
    }

    /// The best block.
    pub fn tip(&self) -> BlockId {
        let height = u32::try_from(self.hashes.len().saturating_sub(1)).unwrap_or(u32::MAX);
        BlockId {
            height,
            hash: self.hashes.last().copied().unwrap_or(BlockHash::ZERO),
        }
    }

    /// The hash at `height`.
    pub fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.hashes.get(usize::try_from(height).ok()?).copied()
    }

    /// The height of `hash`.
    pub fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.heights.get(hash).copied()
    }

    /// Headers in `from..=to`.
    pub fn headers(&self, from: u32, to: u32) -> Vec<BlockHeader> {
        let start = usize::try_from(from).unwrap_or(usize::MAX);
        let end = usize::try_from(to).unwrap_or(usize::MAX).saturating_add(1);
        self.headers
            .get(start..end.min(self.headers.len()))
            .map(<[BlockHeader]>::to_vec)
            .unwrap_or_default()
    }

    /// What a peer answers to `getheaders`: up to `max` headers after the first locator hash
    /// it knows.
    pub fn answer_getheaders(&self, locator: &[BlockHash], max: usize) -> Vec<BlockHeader> {
        let fork = locator
            .iter()
            .find_map(|hash| self.height_of(hash))
            .unwrap_or(0);
        let first = fork.saturating_add(1);
        let count = u32::try_from(max).unwrap_or(u32::MAX);
        let last = first
            .saturating_add(count)
            .saturating_sub(1)
            .min(self.tip().height);
        if first > last {
            return Vec::new();
        }
        self.headers(first, last)
    }
}

/// Why [`SimChain`] rejected headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimChainError {
    /// The header's proof of work is wrong (the simulation marks it with `bits == 0`).
    BadProofOfWork {
        /// The header's hash.
        hash: BlockHash,
    },
    /// The header's parent is not the tip.
    DoesNotConnect {
        /// The header's hash.
        hash: BlockHash,
    },
}

impl fmt::Display for SimChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimChainError::BadProofOfWork { hash } => write!(f, "header {hash}: bad proof of work"),
            SimChainError::DoesNotConnect { hash } => write!(f, "header {hash} does not connect"),
        }
    }
}

impl HeaderError for SimChainError {
    /// Both are provable once the batch connects (the header manager checks that).
    fn fault(&self) -> HeaderFault {
        HeaderFault::Invalid
    }
}

/// An in-memory header chain that only checks linkage.
#[derive(Clone, Debug)]
pub struct SimChain {
    hashes: Vec<BlockHash>,
    heights: HashMap<BlockHash, u32>,
}

impl SimChain {
    /// A chain holding only `genesis`.
    pub fn new(genesis: &BlockHeader) -> Self {
        let hash = genesis.block_hash();
        SimChain {
            hashes: vec![hash],
            heights: HashMap::from([(hash, 0)]),
        }
    }

    /// A chain holding `blocks` up to `height`.
    pub fn with_blocks(blocks: &SimBlocks, height: u32) -> Self {
        let mut chain = SimChain::new(&blocks.genesis());
        for h in 1..=height {
            if let Some(hash) = blocks.hash_at(h) {
                chain.heights.insert(hash, h);
                chain.hashes.push(hash);
            }
        }
        chain
    }
}

impl HeaderLookup for SimChain {
    fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.hashes.get(usize::try_from(height).ok()?).copied()
    }

    fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.heights.get(hash).copied()
    }

    /// The simulated chain keeps hashes only.
    fn header_at(&self, _height: u32) -> Option<crate::block::BlockHeader> {
        None
    }
}

impl ChainView for SimChain {
    fn tip(&self) -> BlockId {
        BlockId {
            height: u32::try_from(self.hashes.len().saturating_sub(1)).unwrap_or(u32::MAX),
            hash: self.hashes.last().copied().unwrap_or(BlockHash::ZERO),
        }
    }

    fn locator(&self) -> Vec<BlockHash> {
        let mut locator = Vec::new();
        let mut height = self.tip().height;
        let mut step = 1u32;
        loop {
            if let Some(hash) = self.hash_at(height) {
                locator.push(hash);
            }
            if height == 0 {
                break;
            }
            if locator.len() >= 10 {
                step = step.saturating_mul(2);
            }
            height = height.saturating_sub(step);
        }
        locator
    }
}

impl ExtendableChain for SimChain {
    type Error = SimChainError;

    /// The simulation's headers carry no meaningful times: the wall clock is not consulted.
    fn connect_headers(
        &mut self,
        headers: &[HashedHeader],
        _unix_secs: u64,
    ) -> Result<HeadersConnected, SimChainError> {
        let mut new_headers = 0;
        for &HashedHeader { header, hash } in headers {
            if self.heights.contains_key(&hash) {
                continue;
            }
            if header.bits == 0 {
                return Err(SimChainError::BadProofOfWork { hash });
            }
            let tip = self.tip();
            if header.prev_blockhash != tip.hash {
                return Err(SimChainError::DoesNotConnect { hash });
            }
            self.heights.insert(hash, tip.height.saturating_add(1));
            self.hashes.push(hash);
            new_headers += 1;
        }
        Ok(HeadersConnected {
            new_headers,
            tip: self.tip(),
        })
    }
}

/// How a simulated message should fare in [`SimEngine`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimVerdict {
    /// It verifies.
    Valid,
    /// It is forged or corrupt.
    Invalid,
    /// It cannot be verified yet (a required rotated ChainLock signature is missing).
    NotYetAvailable,
}

/// A simulated `qrinfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimQrInfo {
    /// The tip it answers.
    pub tip: BlockHash,
    /// The base hashes of the request.
    pub base_block_hashes: Vec<BlockHash>,
    /// How it fares.
    pub verdict: SimVerdict,
}

/// A simulated `mnlistdiff`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimMnListDiff {
    /// Base block.
    pub base: BlockHash,
    /// Target block.
    pub block: BlockHash,
    /// How it fares.
    pub verdict: SimVerdict,
}

/// A simulated `clsig`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimChainLock {
    /// Locked height.
    pub height: u32,
    /// Locked block.
    pub hash: BlockHash,
    /// How it fares.
    pub verdict: SimVerdict,
}

/// Why [`SimEngine`] rejected a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimEngineError {
    /// A signature does not verify.
    BadSignature,
    /// A required rotated ChainLock signature is not present.
    ChainLockSignatureMissing,
    /// A block is not on our chain.
    UnknownBlock(BlockHash),
    /// A base list is not stored.
    UnknownBase(BlockHash),
    /// No list covers the height.
    NoList(u32),
    /// Quorum checks this engine prepared did not decode when they came back.
    BadChecks,
}

impl fmt::Display for SimEngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimEngineError::BadSignature => f.write_str("signature does not verify"),
            SimEngineError::ChainLockSignatureMissing => {
                f.write_str("required rotated ChainLock signature not present")
            }
            SimEngineError::UnknownBlock(hash) => write!(f, "block {hash} not on our chain"),
            SimEngineError::UnknownBase(hash) => write!(f, "no stored list at base {hash}"),
            SimEngineError::NoList(height) => write!(f, "no masternode list at or below {height}"),
            SimEngineError::BadChecks => f.write_str("quorum checks do not decode"),
        }
    }
}

impl ClassifiedError for SimEngineError {
    fn verdict(&self) -> EngineVerdict {
        match self {
            SimEngineError::ChainLockSignatureMissing | SimEngineError::NoList(_) => {
                EngineVerdict::NotYetAvailable
            }
            SimEngineError::BadSignature => EngineVerdict::Invalid,
            SimEngineError::UnknownBlock(_)
            | SimEngineError::UnknownBase(_)
            | SimEngineError::BadChecks => EngineVerdict::Inconclusive,
        }
    }
}

/// Bytes of a quorum id in a [`SimEngine`] share: its type, then its hash.
const SIM_ID_SIZE: usize = 33;

/// A simulated checking worker's answer to a [`SimEngine`] share: a byte per quorum.
pub fn sim_check(share: &[u8]) -> Vec<u8> {
    vec![1; share.len() / SIM_ID_SIZE]
}

/// The quorum ids of a [`SimEngine`] share.
fn decode_sim_share(share: &[u8]) -> Result<Vec<QuorumId>, SimEngineError> {
    if share.len() % SIM_ID_SIZE != 0 {
        return Err(SimEngineError::BadChecks);
    }
    share
        .chunks_exact(SIM_ID_SIZE)
        .map(|id| {
            let (llmq_type, hash) = id.split_first().ok_or(SimEngineError::BadChecks)?;
            let hash: [u8; 32] = hash.try_into().map_err(|_| SimEngineError::BadChecks)?;
            Ok(QuorumId {
                llmq_type: *llmq_type,
                quorum_hash: BlockHash(hash),
            })
        })
        .collect()
}

/// The LLMQ type of the simulated quorums that sign ChainLocks.
const SIM_CHAINLOCK_TYPE: u8 = 1;

/// The LLMQ type of the other simulated quorums.
const SIM_OTHER_TYPE: u8 = 2;

/// Where a simulated quorum stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SimQuorum {
    /// Not tried since it was seen.
    Untried,
    /// Tried: its list is missing.
    MissingList,
    /// Verified.
    Verified,
}

/// An in-memory engine: a QRInfo for tip `T` stores lists at `T` and at the four previous
/// cycle starts, with three ChainLock quorums (formed two blocks into each of the last three
/// cycles, needing the list at their height − 8) and one other quorum per list it stores
/// (needing that list). A quorum verifies once its list is stored; applying a message tries
/// only the ChainLock quorums, the others wait for [`SyncEngine::verify_quorum_set`].
/// With [`SimEngine::set_split_checks`] it behaves as the client's engine with checking
/// workers: applying tries no quorum, a ChainLock names its pending signer (the first
/// ChainLock quorum not verified) and checks it, and a quorum's check can be split.
#[derive(Clone, Debug)]
pub struct SimEngine {
    dkg_interval: u32,
    /// Whether checks are split and ChainLock quorums left pending on apply.
    split_checks: bool,
    lists: BTreeMap<u32, BlockHash>,
    /// Every quorum seen, with the height of the list it needs.
    quorums: BTreeMap<QuorumId, (u32, SimQuorum)>,
    last_qrinfo_height: Option<u32>,
}

impl SimEngine {
    /// An empty engine for cycles of `dkg_interval` blocks.
    pub fn new(dkg_interval: u32) -> Self {
        SimEngine {
            dkg_interval: dkg_interval.max(1),
            split_checks: false,
            lists: BTreeMap::new(),
            quorums: BTreeMap::new(),
            last_qrinfo_height: None,
        }
    }

    /// Leaves the ChainLock quorums pending on apply, names a ChainLock's pending signer and
    /// splits its check in parts (the quorum's id, once per part; [`sim_check`] answers
    /// them), as the client's engine does with checking workers.
    pub fn set_split_checks(&mut self, on: bool) {
        self.split_checks = on;
    }

    /// Whether the quorum `id` is verified.
    pub fn is_verified(&self, id: &QuorumId) -> bool {
        self.quorums
            .get(id)
            .is_some_and(|(_, status)| *status == SimQuorum::Verified)
    }

    /// The quorum a ChainLock names while [`SimEngine::set_split_checks`] is on: the last
    /// ChainLock quorum seen, by id.
    fn chainlock_quorum(&self) -> Option<QuorumId> {
        self.quorums
            .keys()
            .rfind(|id| id.llmq_type == SIM_CHAINLOCK_TYPE)
            .copied()
    }

    /// Heights of the stored lists.
    pub fn list_heights(&self) -> Vec<u32> {
        self.lists.keys().copied().collect()
    }

    /// Stores the list at `height` (as if synced before).
    pub fn store_list(&mut self, height: u32, hash: BlockHash) {
        self.lists.insert(height, hash);
    }

    fn block_height(chain: &dyn ChainView, hash: &BlockHash) -> Result<u32, SimEngineError> {
        chain
            .height_of(hash)
            .ok_or(SimEngineError::UnknownBlock(*hash))
    }

    /// Records a quorum that needs the list at `list_height`, untried.
    fn see_quorum(&mut self, llmq_type: u8, quorum_hash: BlockHash, list_height: u32) {
        let id = QuorumId {
            llmq_type,
            quorum_hash,
        };
        self.quorums
            .entry(id)
            .or_insert((list_height, SimQuorum::Untried));
    }

    /// Tries the quorums of `ids` not verified yet.
    fn try_quorums(&mut self, ids: &[QuorumId]) {
        for id in ids {
            if let Some((list_height, status)) = self.quorums.get_mut(id) {
                if *status != SimQuorum::Verified {
                    *status = if self.lists.contains_key(list_height) {
                        SimQuorum::Verified
                    } else {
                        SimQuorum::MissingList
                    };
                }
            }
        }
    }

    /// Tries the ChainLock quorums, as applying a message does (unless checks are split).
    fn try_chainlock_quorums(&mut self) {
        if self.split_checks {
            return;
        }
        let urgent: Vec<QuorumId> = self
            .quorums
            .keys()
            .filter(|id| id.llmq_type == SIM_CHAINLOCK_TYPE)
            .copied()
            .collect();
        self.try_quorums(&urgent);
    }

    fn check(verdict: SimVerdict) -> Result<(), SimEngineError> {
        match verdict {
            SimVerdict::Valid => Ok(()),
            SimVerdict::Invalid => Err(SimEngineError::BadSignature),
            SimVerdict::NotYetAvailable => Err(SimEngineError::ChainLockSignatureMissing),
        }
    }
}

impl SyncEngine for SimEngine {
    type QrInfo = SimQrInfo;
    type MnListDiff = SimMnListDiff;
    type ChainLock = SimChainLock;
    type Error = SimEngineError;

    fn qrinfo_tip(&self, qrinfo: &SimQrInfo) -> BlockHash {
        qrinfo.tip
    }

    fn apply_qrinfo(
        &mut self,
        qrinfo: SimQrInfo,
        chain: &dyn ChainView,
    ) -> Result<u32, SimEngineError> {
        Self::check(qrinfo.verdict)?;
        let tip_height = Self::block_height(chain, &qrinfo.tip)?;
        for base in &qrinfo.base_block_hashes {
            if !self.lists.values().any(|hash| hash == base) {
                return Err(SimEngineError::UnknownBase(*base));
            }
        }
        let interval = self.dkg_interval;
        let cycle_start = tip_height.saturating_sub(tip_height % interval);
        self.lists.insert(tip_height, qrinfo.tip);
        self.see_quorum(SIM_OTHER_TYPE, qrinfo.tip, tip_height);
        self.last_qrinfo_height = Some(tip_height);
        for k in 1..=4u32 {
            if let Some(height) = cycle_start.checked_sub(k.saturating_mul(interval)) {
                if let Some(hash) = chain.hash_at(height) {
                    self.lists.insert(height, hash);
                    self.see_quorum(SIM_OTHER_TYPE, hash, height);
                }
            }
        }
        for k in 0..3u32 {
            let Some(quorum_height) = cycle_start
                .checked_sub(k.saturating_mul(interval))
                .map(|start| start.saturating_add(2))
            else {
                continue;
            };
            let (Some(quorum_hash), Some(list_height)) =
                (chain.hash_at(quorum_height), quorum_height.checked_sub(8))
            else {
                continue;
            };
            if quorum_height <= tip_height {
                self.see_quorum(SIM_CHAINLOCK_TYPE, quorum_hash, list_height);
            }
        }
        self.try_chainlock_quorums();
        Ok(tip_height)
    }

    fn mnlistdiff_blocks(&self, diff: &SimMnListDiff) -> DiffBlocks {
        DiffBlocks {
            base: diff.base,
            block: diff.block,
        }
    }

    fn apply_mnlistdiff(
        &mut self,
        diff: SimMnListDiff,
        chain: &dyn ChainView,
    ) -> Result<u32, SimEngineError> {
        Self::check(diff.verdict)?;
        if !diff.base.is_zero() && !self.lists.values().any(|hash| *hash == diff.base) {
            return Err(SimEngineError::UnknownBase(diff.base));
        }
        let height = Self::block_height(chain, &diff.block)?;
        self.lists.insert(height, diff.block);
        self.try_chainlock_quorums();
        Ok(height)
    }

    fn pending_quorums(&self) -> Vec<QuorumId> {
        self.quorums
            .iter()
            .filter(|(_, (_, status))| *status != SimQuorum::Verified)
            .map(|(id, _)| *id)
            .collect()
    }

    fn verify_quorum_set(
        &mut self,
        quorums: &[QuorumId],
        _chain: &dyn ChainView,
    ) -> Result<(), SimEngineError> {
        if self.lists.is_empty() {
            return Err(SimEngineError::NoList(u32::MAX));
        }
        self.try_quorums(quorums);
        Ok(())
    }

    /// The ids of the quorums still to try, dealt round-robin over `parts` shares, each
    /// share the ids' bytes ([`sim_check`] answers them).
    fn prepare_quorum_checks(
        &mut self,
        quorums: &[QuorumId],
        parts: usize,
        _chain: &dyn ChainView,
    ) -> Result<Vec<Vec<u8>>, SimEngineError> {
        if self.lists.is_empty() {
            return Err(SimEngineError::NoList(u32::MAX));
        }
        let parts = parts.max(1);
        let mut shares = vec![Vec::new(); parts];
        let pending = quorums.iter().filter(|id| {
            self.quorums
                .get(id)
                .is_some_and(|(_, status)| *status != SimQuorum::Verified)
        });
        for (index, id) in pending.enumerate() {
            shares[index % parts].push(id.llmq_type);
            shares[index % parts].extend_from_slice(&id.quorum_hash.0);
        }
        shares.retain(|share| !share.is_empty());
        Ok(shares)
    }

    /// Tries each share's quorums; those of a share whose answer is what [`sim_check`]
    /// gives count as checked in a worker.
    fn apply_quorum_checks(
        &mut self,
        shares: &[Vec<u8>],
        answers: &[Vec<u8>],
        _chain: &dyn ChainView,
    ) -> Result<u32, SimEngineError> {
        let mut from_answers = 0u32;
        for (index, share) in shares.iter().enumerate() {
            let ids = decode_sim_share(share)?;
            self.try_quorums(&ids);
            if answers.get(index) == Some(&sim_check(share)) {
                let count = u32::try_from(ids.len()).unwrap_or(u32::MAX);
                from_answers = from_answers.saturating_add(count);
            }
        }
        Ok(from_answers)
    }

    /// With [`SimEngine::set_split_checks`], the quorum's id once per part if it is not
    /// verified and its list is stored (one that would stay unverifiable is checked whole).
    fn prepare_split_check(
        &mut self,
        quorum: &QuorumId,
        parts: usize,
        _chain: &dyn ChainView,
    ) -> Result<Option<Vec<Vec<u8>>>, SimEngineError> {
        let splittable = self.split_checks
            && self
                .quorums
                .get(quorum)
                .is_some_and(|(list_height, status)| {
                    *status != SimQuorum::Verified && self.lists.contains_key(list_height)
                });
        if !splittable {
            return Ok(None);
        }
        let mut id = vec![quorum.llmq_type];
        id.extend_from_slice(&quorum.quorum_hash.0);
        Ok(Some(vec![id; parts.max(1)]))
    }

    /// Tries the quorum; the answers verified it if each is what [`sim_check`] gives.
    fn apply_split_check(
        &mut self,
        quorum: &QuorumId,
        answers: &[Vec<u8>],
        _chain: &dyn ChainView,
    ) -> Result<bool, SimEngineError> {
        self.try_quorums(&[*quorum]);
        Ok(!answers.is_empty() && answers.iter().all(|a| *a == sim_check(&[0; SIM_ID_SIZE])))
    }

    fn quorum_check(&self) -> QuorumCheck {
        let mut check = QuorumCheck::default();
        for (quorum, (list_height, status)) in &self.quorums {
            match status {
                SimQuorum::Verified => check.verified = check.verified.saturating_add(1),
                SimQuorum::MissingList => check.unverifiable.push(QuorumNeed {
                    quorum: *quorum,
                    list_height: *list_height,
                }),
                SimQuorum::Untried => {}
            }
        }
        check
    }

    fn chainlock_target(&self, chainlock: &SimChainLock) -> ChainLockTarget {
        ChainLockTarget {
            height: chainlock.height,
            hash: chainlock.hash,
        }
    }

    fn verify_chainlock(
        &mut self,
        chainlock: &SimChainLock,
        _chain: &dyn ChainView,
    ) -> Result<ChainLockSigner, SimEngineError> {
        if chainlock.verdict == SimVerdict::Invalid {
            return Err(SimEngineError::BadSignature);
        }
        if let (true, Some(quorum)) = (self.split_checks, self.chainlock_quorum()) {
            // As the client's engine: a pending signer is checked with the ChainLock.
            self.try_quorums(&[quorum]);
            return Ok(ChainLockSigner {
                quorum,
                quorum_verified: self.is_verified(&quorum),
            });
        }
        // The simulated signer is the quorum named after the newest list's block.
        let (_, &quorum_hash) = self
            .lists
            .range(..=chainlock.height)
            .next_back()
            .ok_or(SimEngineError::NoList(chainlock.height))?;
        Ok(ChainLockSigner {
            quorum: QuorumId {
                llmq_type: 1,
                quorum_hash,
            },
            quorum_verified: true,
        })
    }

    /// With [`SimEngine::set_split_checks`], the ChainLock's quorum if it is not verified
    /// and the signature is valid; otherwise none (the ChainLock quorums are tried when a
    /// message is applied).
    fn pending_signer(
        &mut self,
        chainlock: &SimChainLock,
        _chain: &dyn ChainView,
    ) -> Option<QuorumId> {
        if !self.split_checks || chainlock.verdict == SimVerdict::Invalid {
            return None;
        }
        self.chainlock_quorum().filter(|id| !self.is_verified(id))
    }

    fn list_height_at_or_below(&self, height: u32) -> Option<u32> {
        self.lists.range(..=height).next_back().map(|(h, _)| *h)
    }

    fn last_qrinfo_height(&self) -> Option<u32> {
        self.last_qrinfo_height
    }
}

/// A fault the simulated peer applies to its next answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer correctly.
    None,
    /// Never answer.
    Drop,
    /// Answer twice.
    Duplicate,
    /// Answer after the next step (late, possibly after a timeout).
    Delay,
    /// Answer with corrupt data.
    Invalid,
    /// Answer with a QRInfo that cannot be checked yet (other answers: correctly).
    NotYetAvailable,
}

/// The messages `outputs` report provably invalid.
pub fn invalid_messages(outputs: &[Output]) -> Vec<&InvalidMessage> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::InvalidMessage(invalid) => Some(invalid),
            _ => None,
        })
        .collect()
}

/// A message from the simulated peer.
#[derive(Clone, Debug)]
pub enum SimMessage {
    /// A `headers` message.
    Headers(Vec<BlockHeader>),
    /// A `qrinfo` message.
    QrInfo(SimQrInfo),
    /// An `mnlistdiff` message.
    MnListDiff(SimMnListDiff),
    /// A `clsig` message.
    ChainLock(SimChainLock),
    /// Blocks announced by hash (an `inv`), in the order announced.
    BlocksAnnounced(Vec<BlockHash>),
}

impl SimMessage {
    /// Hands the message to the coordinator's handler for its kind, at `at`.
    pub fn deliver_to(self, client: &mut Coordinator<SimChain, SimEngine>, at: Now) -> Vec<Output> {
        match self {
            SimMessage::Headers(headers) => {
                let hashed: Vec<HashedHeader> =
                    headers.into_iter().map(HashedHeader::new).collect();
                client.handle_headers(at, &hashed)
            }
            SimMessage::QrInfo(qrinfo) => client.handle_qrinfo(at.monotonic, qrinfo),
            SimMessage::MnListDiff(diff) => client.handle_mnlistdiff(at.monotonic, diff),
            SimMessage::ChainLock(chainlock) => client.handle_chainlock(at.monotonic, chainlock),
            SimMessage::BlocksAnnounced(hashes) => {
                client.handle_blocks_announced(at.monotonic, &hashes)
            }
        }
    }
}

/// A coordinator, the network's chain and one simulated peer, in simulated time.
pub struct SimNetwork {
    /// The machines under test.
    pub client: Coordinator<SimChain, SimEngine>,
    /// The network's chain, as the peer sees it.
    pub blocks: SimBlocks,
    /// Simulated time.
    pub now: Timestamp,
    /// Every request the client sent, with when.
    pub sent: Vec<(Timestamp, Request)>,
    /// Every output of the client.
    pub outputs: Vec<Output>,
    /// Times a `getqrinfo` was sent while another was outstanding (answered, timed out and
    /// peer resets end an outstanding one).
    pub qrinfo_overlaps: u32,
    /// Messages the client reported invalid although the peer sent them intact.
    pub honest_messages_blamed: u32,
    bans: bool,
    config: SyncConfig,
    connected: bool,
    silent_peers: usize,
    requests: Vec<Request>,
    in_transit: Vec<SimMessage>,
    delayed: Vec<SimMessage>,
    faults: VecDeque<Fault>,
    outstanding_qrinfo: Option<Timestamp>,
}

impl SimNetwork {
    /// A network whose chain is `height` blocks long and a client holding only genesis.
    pub fn new(config: SyncConfig, height: u32) -> Self {
        let blocks = SimBlocks::new(height);
        let chain = SimChain::new(&blocks.genesis());
        let engine = SimEngine::new(config.dkg_interval);
        SimNetwork::with_client(config, blocks, chain, engine)
    }

    /// A network over `blocks` with a client holding `chain` and `engine`.
    pub fn with_client(
        config: SyncConfig,
        blocks: SimBlocks,
        chain: SimChain,
        engine: SimEngine,
    ) -> Self {
        SimNetwork {
            client: Coordinator::new(config, chain, engine),
            blocks,
            now: Timestamp(0),
            sent: Vec::new(),
            outputs: Vec::new(),
            qrinfo_overlaps: 0,
            honest_messages_blamed: 0,
            bans: false,
            config,
            connected: false,
            silent_peers: 0,
            requests: Vec::new(),
            in_transit: Vec::new(),
            delayed: Vec::new(),
            faults: VecDeque::new(),
            outstanding_qrinfo: None,
        }
    }

    /// Whether a peer whose message the client reports invalid is disconnected at once, as
    /// the node bans it (what else it sent in that step is lost with it).
    pub fn set_bans(&mut self, bans: bool) {
        self.bans = bans;
    }

    /// Queues faults for the peer's next answers (in order; then it behaves).
    pub fn push_faults(&mut self, faults: impl IntoIterator<Item = Fault>) {
        self.faults.extend(faults);
    }

    /// Makes the peer well-behaved from now on.
    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// Requests the peer has not answered yet.
    pub fn pending_requests(&self) -> &[Request] {
        &self.requests
    }

    fn record(&mut self, outputs: Vec<Output>) {
        for output in &outputs {
            if let Output::Send(request) = output {
                if matches!(request, Request::GetQrInfo { .. }) {
                    let min_timeout = self.config.qrinfo.timeout(1);
                    if let Some(sent_at) = self.outstanding_qrinfo {
                        if self.now.since(sent_at) < min_timeout {
                            self.qrinfo_overlaps = self.qrinfo_overlaps.saturating_add(1);
                        }
                    }
                    self.outstanding_qrinfo = Some(self.now);
                }
                self.sent.push((self.now, request.clone()));
                if self.connected {
                    self.requests.push(request.clone());
                }
            }
        }
        self.outputs.extend(outputs);
    }

    fn network_event(&mut self, event: NetworkEvent) {
        // A lost peer may have taken the outstanding QRInfo with it.
        if matches!(event, NetworkEvent::PeerDisconnected { .. }) {
            self.outstanding_qrinfo = None;
        }
        let outputs = self.client.handle_network(self.now, event);
        self.record(outputs);
    }

    fn connected_count(&self) -> usize {
        usize::from(self.connected).saturating_add(self.silent_peers)
    }

    fn peers_updated(&mut self) {
        let connected_count = self.connected_count();
        let best_height = (connected_count > 0).then(|| self.blocks.tip().height);
        self.network_event(NetworkEvent::PeersUpdated {
            connected_count,
            best_height,
        });
    }

    /// Connects the peer (no-op if connected).
    pub fn connect(&mut self) {
        if self.connected {
            return;
        }
        self.connected = true;
        self.network_event(NetworkEvent::PeerConnected);
        self.peers_updated();
    }

    /// Sets how many other peers are connected. They never answer: requests sent while
    /// the simulated peer is away are lost with them.
    pub fn set_silent_peers(&mut self, count: usize) {
        while self.silent_peers < count {
            self.silent_peers = self.silent_peers.saturating_add(1);
            self.network_event(NetworkEvent::PeerConnected);
            self.peers_updated();
        }
        while self.silent_peers > count {
            self.silent_peers = self.silent_peers.saturating_sub(1);
            self.network_event(NetworkEvent::PeerDisconnected {
                held: HeldRequests::ALL,
            });
            self.peers_updated();
        }
    }

    /// Disconnects the peer: everything in flight is lost (no-op if disconnected).
    pub fn disconnect(&mut self) {
        if !self.connected {
            return;
        }
        self.connected = false;
        self.requests.clear();
        self.in_transit.clear();
        self.delayed.clear();
        self.network_event(NetworkEvent::PeerDisconnected {
            held: HeldRequests::ALL,
        });
        self.peers_updated();
    }

    /// Moves time forward by `span` and ticks the client.
    pub fn advance(&mut self, span: Millis) {
        self.now = self.now + span;
        let outputs = self.client.tick(self.now);
        self.record(outputs);
    }

    /// Mines `count` blocks; a connected peer announces their headers.
    pub fn mine(&mut self, count: u32) {
        let headers = self.blocks.grow(count);
        if self.connected && !headers.is_empty() {
            self.in_transit.push(SimMessage::Headers(headers));
        }
    }

    /// Has the peer send `message` unasked (delivered on the next step).
    pub fn inject(&mut self, message: SimMessage) {
        if self.connected {
            self.in_transit.push(message);
        }
    }

    /// A ChainLock for the block at `height` of the network's chain.
    pub fn chainlock(&self, height: u32, verdict: SimVerdict) -> Option<SimMessage> {
        let hash = self.blocks.hash_at(height)?;
        Some(SimMessage::ChainLock(SimChainLock {
            height,
            hash,
            verdict,
        }))
    }

    fn answer(&self, request: &Request, fault: Fault) -> Option<SimMessage> {
        let verdict = match fault {
            Fault::Invalid => SimVerdict::Invalid,
            Fault::NotYetAvailable => SimVerdict::NotYetAvailable,
            Fault::None | Fault::Drop | Fault::Duplicate | Fault::Delay => SimVerdict::Valid,
        };
        match request {
            Request::GetHeaders { locator, .. } => {
                let mut headers = self
                    .blocks
                    .answer_getheaders(locator, self.config.max_headers_per_message);
                if fault == Fault::Invalid {
                    if let Some(first) = headers.first_mut() {
                        first.bits = 0;
                    }
                }
                Some(SimMessage::Headers(headers))
            }
            Request::GetQrInfo {
                base_block_hashes,
                block_request_hash,
                ..
            } => {
                self.blocks.height_of(block_request_hash)?;
                Some(SimMessage::QrInfo(SimQrInfo {
                    tip: *block_request_hash,
                    base_block_hashes: base_block_hashes.clone(),
                    verdict,
                }))
            }
            Request::GetMnListDiff {
                base_block_hash,
                block_hash,
            } => {
                self.blocks.height_of(block_hash)?;
                let verdict = match verdict {
                    SimVerdict::NotYetAvailable => SimVerdict::Valid,
                    other => other,
                };
                Some(SimMessage::MnListDiff(SimMnListDiff {
                    base: *base_block_hash,
                    block: *block_hash,
                    verdict,
                }))
            }
        }
    }

    fn deliver(&mut self, message: SimMessage) {
        let dropped_before = self.client.masternodes().progress().responses_dropped;
        let is_qrinfo = matches!(message, SimMessage::QrInfo(_));
        let forged = match &message {
            SimMessage::Headers(headers) => headers.iter().any(|header| header.bits == 0),
            SimMessage::QrInfo(qrinfo) => qrinfo.verdict == SimVerdict::Invalid,
            SimMessage::MnListDiff(diff) => diff.verdict == SimVerdict::Invalid,
            SimMessage::ChainLock(chainlock) => chainlock.verdict == SimVerdict::Invalid,
            SimMessage::BlocksAnnounced(_) => false,
        };
        let outputs = message.deliver_to(&mut self.client, Now::new(self.now, 0));
        let accepted = self.client.masternodes().progress().responses_dropped == dropped_before;
        if is_qrinfo && accepted {
            self.outstanding_qrinfo = None;
        }
        let blamed = !invalid_messages(&outputs).is_empty();
        if blamed && !forged {
            self.honest_messages_blamed = self.honest_messages_blamed.saturating_add(1);
        }
        self.record(outputs);
        if blamed && self.bans {
            self.disconnect();
        }
    }

    /// The peer answers every request it has (applying queued faults), then everything in
    /// transit is delivered, in order or (`reversed`) in reverse order. Late answers from
    /// the previous step are delivered first.
    pub fn step_with(&mut self, reversed: bool) {
        let mut deliveries = core::mem::take(&mut self.delayed);
        deliveries.append(&mut self.in_transit);
        for request in core::mem::take(&mut self.requests) {
            let fault = self.faults.pop_front().unwrap_or(Fault::None);
            let Some(answer) = self.answer(&request, fault) else {
                continue;
            };
            match fault {
                Fault::Drop => {}
                Fault::Delay => self.delayed.push(answer),
                Fault::Duplicate => {
                    deliveries.push(answer.clone());
                    deliveries.push(answer);
                }
                Fault::None | Fault::Invalid | Fault::NotYetAvailable => deliveries.push(answer),
            }
        }
        if reversed {
            deliveries.reverse();
        }
        for message in deliveries {
            if !self.connected {
                break;
            }
            self.deliver(message);
        }
    }

    /// [`SimNetwork::step_with`] in order.
    pub fn step(&mut self) {
        self.step_with(false);
    }

    /// Runs the client's verification slices back to back, as the runtime does (each one at
    /// its deadline, a moment after the last), until its queue is empty or a message is due.
    pub fn verify_queued(&mut self) {
        for _ in 0..10_000 {
            let verifying = matches!(
                self.client.masternodes().work(),
                MasternodeWork::Verifying { .. }
            );
            let due = self.client.next_deadline();
            let Some(due) = due.filter(|_| verifying && self.in_transit.is_empty()) else {
                return;
            };
            self.advance(due.since(self.now));
        }
    }

    /// Steps (running verification slices between steps) and advances time by `tick` until
    /// the client is `Synced` with nothing left to exchange or verify, at most `max_ticks`
    /// times; returns the ticks taken.
    pub fn run_until_synced(&mut self, tick: Millis, max_ticks: u32) -> Option<u32> {
        for ticks in 0..=max_ticks {
            for _ in 0..100 {
                self.verify_queued();
                if self.requests.is_empty() && self.in_transit.is_empty() {
                    break;
                }
                self.step();
            }
            if *self.client.state() == SyncState::Synced && self.requests.is_empty() {
                return Some(ticks);
            }
            self.advance(tick);
        }
        None
    }
}
