//! The captured `qrinfo`, `mnlistdiff` and `clsig` messages, indexed by the
//! block they answer for, and the choice of which capture answers a request.

use dashlight::encode::deserialize;
use dashlight::hash::BlockHash;
use dashlight::network::Network;
use dashlight::protocol::chainlock::ClSig;
use dashlight::protocol::isdlock::InstantLock;
use dashlight::protocol::mnlistdiff::{GetMnListDiff, MnListDiff};
use dashlight::protocol::qrinfo::{GetQrInfo, QrInfo};
use std::collections::{HashMap, HashSet};

/// The protocol version whose layout the captured payloads are in.
pub const CAPTURE_PROTOCOL_VERSION: u32 = 70230;

/// A message whose payload layout depends on the protocol version.
pub trait Versioned {
    /// The payload in the layout of `protocol_version`.
    fn payload_for(&self, protocol_version: u32) -> Vec<u8>;
}

impl Versioned for QrInfo {
    fn payload_for(&self, protocol_version: u32) -> Vec<u8> {
        self.to_payload(protocol_version)
    }
}

impl Versioned for MnListDiff {
    fn payload_for(&self, protocol_version: u32) -> Vec<u8> {
        self.to_payload(protocol_version)
    }
}

/// One captured message.
#[derive(Debug, Clone)]
pub struct Capture<T> {
    /// The file it was read from.
    pub name: String,
    /// The decoded message.
    pub message: T,
    /// The payload exactly as captured, in the layout of [`CAPTURE_PROTOCOL_VERSION`].
    pub payload: Vec<u8>,
}

impl<T: Versioned> Capture<T> {
    /// The payload for a peer that negotiated `protocol_version`: the
    /// captured bytes for the capture's own layout, re-encoded otherwise.
    pub fn payload_for(&self, protocol_version: u32) -> Vec<u8> {
        if protocol_version == CAPTURE_PROTOCOL_VERSION {
            self.payload.clone()
        } else {
            self.message.payload_for(protocol_version)
        }
    }
}

/// How well a capture fits a request: lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fit {
    /// Built on exactly the bases the request names.
    Bases,
    /// Built on genesis (or the empty list), which every client can apply.
    Genesis,
    /// Built on something else.
    Other,
}

/// The real `isdlock` payloads of `tests/vectors/isdlocks.txt` (mainnet
/// locks: a testnet client finds their cycle unknown).
fn real_instant_locks() -> Vec<InstantLock> {
    include_str!("../../tests/vectors/isdlocks.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| hex::decode(line).ok())
        .filter_map(|bytes| deserialize(&bytes).ok())
        .collect()
}

/// Every captured message the peer can answer with.
#[derive(Debug, Clone)]
pub struct Catalog {
    genesis: BlockHash,
    qrinfos: HashMap<BlockHash, Vec<Capture<QrInfo>>>,
    diffs: HashMap<BlockHash, Vec<Capture<MnListDiff>>>,
    chainlocks: Vec<ClSig>,
    instant_locks: Vec<InstantLock>,
    stale_fork_qrinfo: Option<Capture<QrInfo>>,
}

impl Catalog {
    /// An empty catalog for `network`.
    pub fn new(network: Network) -> Catalog {
        Catalog {
            genesis: network.genesis_hash(),
            qrinfos: HashMap::new(),
            diffs: HashMap::new(),
            chainlocks: Vec::new(),
            instant_locks: real_instant_locks(),
            stale_fork_qrinfo: None,
        }
    }

    /// Adds a QRInfo, indexed by the block of its tip diff (the block a
    /// `getqrinfo` asks for).
    pub fn add_qrinfo(&mut self, capture: Capture<QrInfo>) {
        self.qrinfos
            .entry(capture.message.diff_tip.block_hash)
            .or_default()
            .push(capture);
    }

    /// Adds a MnListDiff, indexed by its block hash.
    pub fn add_diff(&mut self, capture: Capture<MnListDiff>) {
        self.diffs
            .entry(capture.message.block_hash)
            .or_default()
            .push(capture);
    }

    /// Adds a ChainLock.
    pub fn add_chainlock(&mut self, clsig: ClSig) {
        self.chainlocks.push(clsig);
        self.chainlocks.sort_by_key(|c| c.height);
    }

    /// Makes every `getqrinfo` be answered with `capture`, whatever it asks for.
    pub fn set_stale_fork_qrinfo(&mut self, capture: Capture<QrInfo>) {
        self.stale_fork_qrinfo = Some(capture);
    }

    /// The stale-fork QRInfo, when every `getqrinfo` is answered with it.
    pub fn stale_fork_qrinfo(&self) -> Option<&Capture<QrInfo>> {
        self.stale_fork_qrinfo.as_ref()
    }

    /// Number of QRInfos (stale fork included), MnListDiffs and ChainLocks.
    pub fn counts(&self) -> (usize, usize, usize) {
        let qrinfos = self.qrinfos.values().map(Vec::len).sum::<usize>()
            + usize::from(self.stale_fork_qrinfo.is_some());
        let diffs = self.diffs.values().map(Vec::len).sum();
        (qrinfos, diffs, self.chainlocks.len())
    }

    /// A captured diff to the block `hash` (its coinbase proof serves `merkleblock`).
    pub fn diff_of_block(&self, hash: &BlockHash) -> Option<&Capture<MnListDiff>> {
        self.diffs.get(hash).and_then(|captures| captures.first())
    }

    /// The InstantSend locks the peer announces to every client.
    pub fn instant_locks(&self) -> &[InstantLock] {
        &self.instant_locks
    }

    /// The ChainLocks, lowest height first.
    pub fn chainlocks(&self) -> &[ClSig] {
        &self.chainlocks
    }

    /// Whether `hash` names the empty list: all zero, or the genesis block.
    pub fn is_genesis(&self, hash: &BlockHash) -> bool {
        hash.is_zero() || *hash == self.genesis
    }

    /// The capture that answers `request`: one for the requested block, best
    /// one whose diffs all build on the request's base hashes, on genesis
    /// or on other diffs of the same message; failing that, any for the block.
    pub fn qrinfo_for(&self, request: &GetQrInfo) -> Option<&Capture<QrInfo>> {
        let bases: HashSet<&BlockHash> = request.base_block_hashes.iter().collect();
        self.qrinfos
            .get(&request.block_request_hash)?
            .iter()
            .min_by_key(|capture| {
                let info = &capture.message;
                let mut diffs: Vec<&MnListDiff> =
                    info.named_diffs().into_iter().map(|(_, d)| d).collect();
                diffs.extend(info.mn_list_diff_list.iter());
                let inner: HashSet<&BlockHash> = diffs.iter().map(|d| &d.block_hash).collect();
                let fits = |base: &BlockHash| {
                    self.is_genesis(base) || bases.contains(base) || inner.contains(base)
                };
                if diffs.iter().all(|d| fits(&d.base_block_hash)) {
                    if diffs.iter().all(|d| self.is_genesis(&d.base_block_hash)) {
                        Fit::Genesis
                    } else {
                        Fit::Bases
                    }
                } else {
                    Fit::Other
                }
            })
    }

    /// The capture that answers `request`: one for the requested block,
    /// preferably from the requested base, else from genesis, else any.
    pub fn diff_for(&self, request: &GetMnListDiff) -> Option<&Capture<MnListDiff>> {
        self.diffs
            .get(&request.block_hash)?
            .iter()
            .min_by_key(|capture| {
                let base = &capture.message.base_block_hash;
                if *base == request.base_block_hash {
                    Fit::Bases
                } else if self.is_genesis(base) {
                    Fit::Genesis
                } else {
                    Fit::Other
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/");

    fn capture<T>(name: &str, decode: impl Fn(&[u8]) -> T) -> Capture<T> {
        let payload = std::fs::read(format!("{FIXTURES}{name}")).unwrap();
        Capture {
            name: name.to_owned(),
            message: decode(&payload),
            payload,
        }
    }

    fn qrinfo_905294() -> Capture<QrInfo> {
        capture("testnet/qrinfo/qrinfo_905294.bin", |p| {
            QrInfo::from_payload(p, CAPTURE_PROTOCOL_VERSION).unwrap()
        })
    }

    fn diff_0_905762() -> Capture<MnListDiff> {
        capture("testnet/mnlistdiff/mnlistdiff_0_905762.bin", |p| {
            MnListDiff::from_payload(p, CAPTURE_PROTOCOL_VERSION).unwrap()
        })
    }

    #[test]
    fn a_qrinfo_built_on_the_requested_bases_beats_a_genesis_based_one() {
        let genesis_based = qrinfo_905294();
        let tip = genesis_based.message.diff_tip.block_hash;
        let anchor = BlockHash([3; 32]);
        let mut anchored = genesis_based.clone();
        anchored.name = "anchored".to_owned();
        anchored.message.diff_h_minus_3c.base_block_hash = anchor;
        let mut catalog = Catalog::new(Network::Testnet);
        catalog.add_qrinfo(anchored);
        catalog.add_qrinfo(genesis_based);
        let request = |bases: Vec<BlockHash>| GetQrInfo {
            base_block_hashes: bases,
            block_request_hash: tip,
            extra_share: true,
        };
        let pick = |bases| catalog.qrinfo_for(&request(bases)).unwrap().name.clone();
        assert_eq!(pick(vec![anchor]), "anchored");
        assert_eq!(pick(vec![]), "testnet/qrinfo/qrinfo_905294.bin");
        let unknown = GetQrInfo {
            block_request_hash: BlockHash([9; 32]),
            ..request(vec![])
        };
        assert!(catalog.qrinfo_for(&unknown).is_none());
    }

    #[test]
    fn a_diff_from_the_requested_base_beats_genesis_which_beats_others() {
        let genesis_based = diff_0_905762();
        let block = genesis_based.message.block_hash;
        let mut other = genesis_based.clone();
        other.name = "other".to_owned();
        other.message.base_block_hash = BlockHash([4; 32]);
        let mut exact = genesis_based.clone();
        exact.name = "exact".to_owned();
        exact.message.base_block_hash = BlockHash([5; 32]);
        let mut catalog = Catalog::new(Network::Testnet);
        catalog.add_diff(other.clone());
        let pick = |catalog: &Catalog, base| {
            catalog
                .diff_for(&GetMnListDiff {
                    base_block_hash: base,
                    block_hash: block,
                })
                .map(|c| c.name.clone())
        };
        assert_eq!(pick(&catalog, BlockHash::ZERO).as_deref(), Some("other"));
        catalog.add_diff(genesis_based);
        catalog.add_diff(exact);
        assert_eq!(
            pick(&catalog, BlockHash::ZERO).as_deref(),
            Some("testnet/mnlistdiff/mnlistdiff_0_905762.bin")
        );
        assert_eq!(pick(&catalog, BlockHash([5; 32])).as_deref(), Some("exact"));
        assert_eq!(pick(&catalog, BlockHash([4; 32])).as_deref(), Some("other"));
        assert_eq!(catalog.counts(), (0, 3, 0));
    }

    #[test]
    fn captured_payloads_are_reproduced_by_the_codec() {
        let info = qrinfo_905294();
        assert_eq!(
            info.message.payload_for(CAPTURE_PROTOCOL_VERSION),
            info.payload
        );
        assert_eq!(info.payload_for(CAPTURE_PROTOCOL_VERSION), info.payload);
        let diff = diff_0_905762();
        assert_eq!(
            diff.message.payload_for(CAPTURE_PROTOCOL_VERSION),
            diff.payload
        );
        assert_ne!(diff.payload_for(70228), diff.payload);
    }
}

#[cfg(test)]
mod instant_lock_tests {
    use super::*;

    #[test]
    fn both_real_locks_of_the_vectors_are_served() {
        let catalog = Catalog::new(Network::Testnet);
        assert_eq!(catalog.instant_locks().len(), 2);
    }
}
