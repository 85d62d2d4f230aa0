//! The header chain the peer serves: the genesis block, then consecutive
//! headers from a file (which may start far above genesis, as a client
//! syncing from a checkpoint never asks for the blocks in between), served up
//! to a tip height that can grow while the peer runs.
//!
//! Block hashes are taken from the next header's `prev_blockhash` (the header
//! files are checked to link), so only the last header is hashed with X11 and
//! even the full 1.1-million-header testnet file loads in moments.

use core::fmt;
use dashlight::block::BlockHeader;
use dashlight::chain::sync_base::genesis_header;
use dashlight::hash::BlockHash;
use dashlight::network::Network;
use std::collections::HashMap;

/// Why a set of headers cannot form the served chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainError {
    /// A file said to start at height 0 does not start with the network's genesis block.
    NotGenesis {
        /// The hash of the file's first header.
        found: BlockHash,
    },
    /// A file said to start at height 1 does not build on the genesis block.
    NotOnGenesis {
        /// The first header's `prev_blockhash`.
        prev: BlockHash,
    },
    /// A header's hash differs from the next header's `prev_blockhash`:
    /// the file is not a chain of consecutive headers.
    Unlinked {
        /// Height of the header whose successor does not link.
        height: u32,
    },
    /// The fork's first height is outside the headers it would replace.
    ForkOutOfRange {
        /// The fork's first height.
        fork_start: u32,
        /// The first height of the file part of the chain.
        first: u32,
        /// The last height of the chain.
        last: u32,
    },
    /// The fork's first header does not build on the chain's block before it.
    ForkNotLinked {
        /// The fork's first height.
        fork_start: u32,
    },
    /// The chain would pass the largest height a `u32` holds.
    TooLong,
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotGenesis { found } => write!(
                f,
                "headers said to start at height 0 start with block {found}, not the genesis block"
            ),
            Self::NotOnGenesis { prev } => write!(
                f,
                "headers said to start at height 1 build on {prev}, not on the genesis block"
            ),
            Self::Unlinked { height } => write!(
                f,
                "the header at height {height} is not the parent of the next one"
            ),
            Self::ForkOutOfRange {
                fork_start,
                first,
                last,
            } => write!(
                f,
                "a fork from height {fork_start} does not replace headers of the served range {first}..={last}"
            ),
            Self::ForkNotLinked { fork_start } => write!(
                f,
                "the fork's first header (height {fork_start}) does not build on the served block before it"
            ),
            Self::TooLong => f.write_str("the chain is longer than heights can count"),
        }
    }
}

impl std::error::Error for ChainError {}

/// The headers a `getheaders` answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderRun<'a> {
    /// Height of the first header (meaningless when `headers` is empty).
    pub first_height: u32,
    /// The headers, at consecutive heights.
    pub headers: &'a [BlockHeader],
    /// Height of the first locator hash found on the served chain, if any.
    pub locator_match: Option<u32>,
}

impl HeaderRun<'_> {
    /// Height of the last header, if there is one.
    pub fn last_height(&self) -> Option<u32> {
        let count = u32::try_from(self.headers.len()).ok()?;
        count
            .checked_sub(1)
            .map(|n| self.first_height.saturating_add(n))
    }
}

/// Genesis, then consecutive headers from `first_height` on.
///
/// Position 0 holds the genesis block; position `p >= 1` holds height
/// `first_height + p - 1`.
#[derive(Debug, Clone)]
pub struct ServedChain {
    network: Network,
    headers: Vec<BlockHeader>,
    hashes: Vec<BlockHash>,
    first_height: u32,
    index: HashMap<BlockHash, usize>,
}

impl ServedChain {
    /// The chain made of the genesis block and `file_headers`, the first of
    /// which is at `start_height`. A file starting at height 0 must start
    /// with the genesis block; one starting at 1 must build on it; one
    /// starting higher is served after genesis with a gap, for clients that
    /// sync from a checkpoint.
    pub fn new(
        network: Network,
        file_headers: Vec<BlockHeader>,
        start_height: u32,
    ) -> Result<ServedChain, ChainError> {
        let genesis = genesis_header(network);
        let (headers, first_height) = match (start_height, file_headers.first()) {
            (_, None) => (vec![genesis], 1),
            (0, Some(first)) => {
                let found = first.block_hash();
                if found != network.genesis_hash() {
                    return Err(ChainError::NotGenesis { found });
                }
                (file_headers, 1)
            }
            (_, Some(first)) => {
                if start_height == 1 && first.prev_blockhash != network.genesis_hash() {
                    return Err(ChainError::NotOnGenesis {
                        prev: first.prev_blockhash,
                    });
                }
                let mut headers = Vec::with_capacity(file_headers.len().saturating_add(1));
                headers.push(genesis);
                headers.extend(file_headers);
                (headers, start_height)
            }
        };
        Self::build(network, headers, first_height)
    }

    /// This chain with the headers from `fork_start` on replaced by `fork`
    /// (whose first header must build on the block at `fork_start - 1`).
    pub fn with_fork(
        self,
        fork: Vec<BlockHeader>,
        fork_start: u32,
    ) -> Result<ServedChain, ChainError> {
        let out_of_range = ChainError::ForkOutOfRange {
            fork_start,
            first: self.first_height,
            last: self.last_height(),
        };
        let position = match self.position(fork_start) {
            Some(p) if p >= 2 => p,
            _ => return Err(out_of_range),
        };
        let linked = match (fork.first(), self.hashes.get(position - 1)) {
            (Some(first), Some(parent)) => first.prev_blockhash == *parent,
            _ => false,
        };
        if !linked {
            return Err(ChainError::ForkNotLinked { fork_start });
        }
        let mut headers = self.headers;
        headers.truncate(position);
        headers.extend(fork);
        Self::build(self.network, headers, self.first_height)
    }

    fn build(
        network: Network,
        headers: Vec<BlockHeader>,
        first_height: u32,
    ) -> Result<ServedChain, ChainError> {
        let count = u32::try_from(headers.len()).map_err(|_| ChainError::TooLong)?;
        if first_height.checked_add(count).is_none() {
            return Err(ChainError::TooLong);
        }
        let mut hashes = Vec::with_capacity(headers.len());
        hashes.push(network.genesis_hash());
        for position in 1..headers.len() {
            let hash = match (headers.get(position + 1), headers.get(position)) {
                (Some(next), _) => next.prev_blockhash,
                (None, Some(last)) => last.block_hash(),
                (None, None) => break,
            };
            hashes.push(hash);
        }
        // The first file header is hashed too, to catch a misaligned file early.
        if let (Some(first), Some(claimed)) = (headers.get(1), hashes.get(1)) {
            if first.block_hash() != *claimed {
                return Err(ChainError::Unlinked {
                    height: first_height,
                });
            }
        }
        let mut index = HashMap::with_capacity(hashes.len());
        for (position, hash) in hashes.iter().enumerate() {
            index.insert(*hash, position);
        }
        Ok(ServedChain {
            network,
            headers,
            hashes,
            first_height,
            index,
        })
    }

    /// The network the chain belongs to.
    pub fn network(&self) -> Network {
        self.network
    }

    /// Number of headers, genesis included.
    pub fn len(&self) -> usize {
        self.headers.len()
    }

    /// Whether the chain holds only the genesis block.
    pub fn is_empty(&self) -> bool {
        self.headers.len() <= 1
    }

    /// Height of the first header after genesis.
    pub fn first_height(&self) -> u32 {
        self.first_height
    }

    /// Height of the last header.
    pub fn last_height(&self) -> u32 {
        self.height_at(self.headers.len().saturating_sub(1))
    }

    /// Height of the header at `position` (positions past the end are
    /// counted on from the last header).
    pub fn height_at(&self, position: usize) -> u32 {
        match position {
            0 => 0,
            p => {
                let offset = u32::try_from(p - 1).unwrap_or(u32::MAX);
                self.first_height.saturating_add(offset)
            }
        }
    }

    /// Position of `height` in the chain, if the chain has it.
    pub fn position(&self, height: u32) -> Option<usize> {
        let position = match height {
            0 => 0,
            h if h >= self.first_height => usize::try_from(h - self.first_height)
                .ok()?
                .checked_add(1)?,
            _ => return None,
        };
        (position < self.headers.len()).then_some(position)
    }

    /// The served tip: `tip` clamped to the heights the chain has.
    pub fn clamp_tip(&self, tip: u32) -> u32 {
        self.height_at(self.tip_position(tip))
    }

    fn tip_position(&self, tip: u32) -> usize {
        if tip >= self.last_height() {
            self.headers.len().saturating_sub(1)
        } else {
            self.position(tip).unwrap_or(0)
        }
    }

    /// Height of `hash` if it is on the chain at or below `tip`.
    pub fn height_of(&self, hash: &BlockHash, tip: u32) -> Option<u32> {
        self.served_position(hash, tip).map(|p| self.height_at(p))
    }

    fn served_position(&self, hash: &BlockHash, tip: u32) -> Option<usize> {
        let position = *self.index.get(hash)?;
        (position <= self.tip_position(tip)).then_some(position)
    }

    /// The header at `height`.
    pub fn header_at(&self, height: u32) -> Option<&BlockHeader> {
        self.headers.get(self.position(height)?)
    }

    /// The block hash at `height`.
    pub fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.hashes.get(self.position(height)?).copied()
    }

    /// The headers at heights `from..=to` (as far as the chain has them).
    pub fn headers_between(&self, from: u32, to: u32) -> &[BlockHeader] {
        let (Some(start), Some(end)) = (self.position(from), self.position(to)) else {
            return &[];
        };
        self.headers.get(start..=end).unwrap_or(&[])
    }

    /// What dashd answers to `getheaders` with this locator and stop hash
    /// when its tip is at `tip`: the headers after the first locator hash on
    /// the served chain, at most `max` of them, ending at the stop hash if it
    /// comes first. A locator with no hash on the served chain is answered
    /// as if it held only the genesis hash: from the first header after
    /// genesis (the first header of the file). An empty locator asks for the
    /// stop block alone.
    pub fn headers_after(
        &self,
        locator: &[BlockHash],
        stop: &BlockHash,
        tip: u32,
        max: usize,
    ) -> HeaderRun<'_> {
        let stop_position = self.served_position(stop, tip);
        if locator.is_empty() {
            let headers = stop_position
                .and_then(|p| self.headers.get(p..=p))
                .unwrap_or(&[]);
            return HeaderRun {
                first_height: stop_position.map_or(0, |p| self.height_at(p)),
                headers,
                locator_match: None,
            };
        }
        let matched = locator
            .iter()
            .find_map(|hash| self.served_position(hash, tip));
        let start = matched.unwrap_or(0).saturating_add(1);
        let mut end = start
            .saturating_add(max)
            .min(self.tip_position(tip).saturating_add(1));
        if let Some(stop) = stop_position {
            if stop >= start && stop < end {
                end = stop + 1;
            }
        }
        HeaderRun {
            first_height: self.height_at(start),
            headers: self.headers.get(start..end).unwrap_or(&[]),
            locator_match: matched.map(|p| self.height_at(p)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dashlight::hash::MerkleNode;

    /// `count` linked headers building on `parent`.
    fn linked(parent: BlockHash, count: u32, salt: u8) -> Vec<BlockHeader> {
        let mut prev = parent;
        (0..count)
            .map(|i| {
                let header = BlockHeader {
                    version: 0x2000_0000,
                    prev_blockhash: prev,
                    merkle_root: MerkleNode([salt; 32]),
                    time: 1_700_000_000 + i,
                    bits: 0x1e0f_fff0,
                    nonce: i,
                };
                prev = header.block_hash();
                header
            })
            .collect()
    }

    fn chain(start: u32, count: u32) -> ServedChain {
        let parent = if start == 1 {
            Network::Testnet.genesis_hash()
        } else {
            BlockHash([9; 32])
        };
        ServedChain::new(Network::Testnet, linked(parent, count, 1), start).unwrap()
    }

    #[test]
    fn heights_and_hashes_follow_the_file() {
        let c = chain(1000, 50);
        assert_eq!(c.len(), 51);
        assert_eq!((c.first_height(), c.last_height()), (1000, 1049));
        assert_eq!(c.hash_at(0), Some(Network::Testnet.genesis_hash()));
        for height in 1000..1050 {
            let header = c.header_at(height).unwrap();
            assert_eq!(c.hash_at(height), Some(header.block_hash()));
            assert_eq!(c.height_of(&header.block_hash(), u32::MAX), Some(height));
        }
        assert_eq!(c.header_at(999), None);
        assert_eq!(c.header_at(1050), None);
    }

    #[test]
    fn a_misaligned_file_is_refused() {
        let mut headers = linked(BlockHash([9; 32]), 5, 1);
        headers.swap(0, 1);
        assert!(matches!(
            ServedChain::new(Network::Testnet, headers, 100),
            Err(ChainError::Unlinked { height: 100 })
        ));
    }

    #[test]
    fn a_file_from_height_one_must_build_on_genesis() {
        assert!(matches!(
            ServedChain::new(Network::Testnet, linked(BlockHash([9; 32]), 3, 1), 1),
            Err(ChainError::NotOnGenesis { .. })
        ));
        let c = chain(1, 3);
        let run = c.headers_after(
            &[Network::Testnet.genesis_hash()],
            &BlockHash::ZERO,
            10,
            2000,
        );
        assert_eq!((run.first_height, run.headers.len()), (1, 3));
    }

    #[test]
    fn a_file_from_height_zero_must_start_with_genesis() {
        let genesis = genesis_header(Network::Testnet);
        let mut headers = vec![genesis];
        headers.extend(linked(genesis.block_hash(), 4, 1));
        let c = ServedChain::new(Network::Testnet, headers.clone(), 0).unwrap();
        assert_eq!((c.len(), c.first_height(), c.last_height()), (5, 1, 4));
        assert!(matches!(
            ServedChain::new(Network::Testnet, headers[1..].to_vec(), 0),
            Err(ChainError::NotGenesis { .. })
        ));
    }

    #[test]
    fn locator_from_the_middle_serves_what_follows() {
        let c = chain(1000, 50);
        let locator = [
            BlockHash([1; 32]),
            c.hash_at(1010).unwrap(),
            c.hash_at(1005).unwrap(),
        ];
        let run = c.headers_after(&locator, &BlockHash::ZERO, u32::MAX, 2000);
        assert_eq!(run.locator_match, Some(1010));
        assert_eq!(run.first_height, 1011);
        assert_eq!(run.headers.len(), 39);
        assert_eq!(run.last_height(), Some(1049));
        assert_eq!(run.headers.first(), c.header_at(1011));
    }

    #[test]
    fn unknown_or_genesis_locators_serve_from_the_first_file_header() {
        let c = chain(1000, 50);
        for locator in [
            vec![BlockHash([1; 32])],
            vec![Network::Testnet.genesis_hash()],
        ] {
            let run = c.headers_after(&locator, &BlockHash::ZERO, u32::MAX, 2000);
            assert_eq!((run.first_height, run.headers.len()), (1000, 50));
        }
    }

    #[test]
    fn the_tip_max_and_stop_hash_bound_the_answer() {
        let c = chain(1000, 50);
        let genesis = [Network::Testnet.genesis_hash()];
        let run = c.headers_after(&genesis, &BlockHash::ZERO, 1019, 2000);
        assert_eq!(run.last_height(), Some(1019));
        let run = c.headers_after(&genesis, &BlockHash::ZERO, 1049, 7);
        assert_eq!(run.last_height(), Some(1006));
        let stop = c.hash_at(1003).unwrap();
        let run = c.headers_after(&genesis, &stop, 1049, 2000);
        assert_eq!(run.last_height(), Some(1003));
        // A stop hash above the tip is not on the served chain: ignored.
        let stop = c.hash_at(1030).unwrap();
        let run = c.headers_after(&genesis, &stop, 1020, 2000);
        assert_eq!(run.last_height(), Some(1020));
    }

    #[test]
    fn hashes_above_the_tip_are_unknown() {
        let c = chain(1000, 50);
        let above = c.hash_at(1030).unwrap();
        assert_eq!(c.height_of(&above, 1029), None);
        let run = c.headers_after(&[above], &BlockHash::ZERO, 1020, 2000);
        assert_eq!(run.locator_match, None);
        assert_eq!(run.first_height, 1000);
    }

    #[test]
    fn the_tip_locator_gets_nothing_and_an_empty_locator_gets_the_stop_block() {
        let c = chain(1000, 50);
        let run = c.headers_after(&[c.hash_at(1049).unwrap()], &BlockHash::ZERO, 1049, 2000);
        assert!(run.headers.is_empty());
        assert_eq!(run.last_height(), None);
        let stop = c.hash_at(1040).unwrap();
        let run = c.headers_after(&[], &stop, 1049, 2000);
        assert_eq!((run.first_height, run.headers.len()), (1040, 1));
        assert!(c
            .headers_after(&[], &BlockHash::ZERO, 1049, 2000)
            .headers
            .is_empty());
    }

    #[test]
    fn a_fork_replaces_the_chain_from_its_first_height() {
        let c = chain(1000, 50);
        let fork = linked(c.hash_at(1019).unwrap(), 10, 2);
        let forked = c.clone().with_fork(fork.clone(), 1020).unwrap();
        assert_eq!(forked.last_height(), 1029);
        assert_eq!(forked.header_at(1020), fork.first());
        assert_eq!(forked.height_of(&c.hash_at(1025).unwrap(), u32::MAX), None);
        assert_eq!(forked.hash_at(1019), c.hash_at(1019));
        assert!(matches!(
            c.clone().with_fork(fork.clone(), 1021),
            Err(ChainError::ForkNotLinked { fork_start: 1021 })
        ));
        assert!(matches!(
            c.with_fork(fork, 2000),
            Err(ChainError::ForkOutOfRange { .. })
        ));
    }

    #[test]
    fn tips_are_clamped_to_the_chain() {
        let c = chain(1000, 50);
        assert_eq!(c.clamp_tip(5_000), 1049);
        assert_eq!(c.clamp_tip(1020), 1020);
        assert_eq!(c.clamp_tip(10), 0);
        assert_eq!(c.headers_between(1048, 1049).len(), 2);
        assert!(c.headers_between(1048, 1050).is_empty());
    }
}
