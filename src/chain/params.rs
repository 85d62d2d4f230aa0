//! Each network's proof-of-work consensus parameters (Dash Core's `chainparams.cpp`).

use super::u256::U256;
use crate::network::Network;

/// The proof-of-work rules of one network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsensusParams {
    /// The network these parameters belong to.
    pub network: Network,
    /// The easiest target allowed (`powLimit`).
    pub pow_limit: U256,
    /// Seconds between blocks the retargeting aims at (`nPowTargetSpacing`).
    pub target_spacing: i64,
    /// The Bitcoin-style retargeting period in seconds (`nPowTargetTimespan`).
    pub target_timespan: i64,
    /// Whether minimum-difficulty blocks are allowed after a gap (testnet).
    pub allow_min_difficulty_blocks: bool,
    /// First height retargeted with Kimoto Gravity Well (`nPowKGWHeight`).
    pub kgw_height: u32,
    /// First height retargeted with Dark Gravity Wave v3 (`nPowDGWHeight`).
    pub dgw_height: u32,
}

/// Seconds a header's time may lie ahead of the current time (`MAX_FUTURE_BLOCK_TIME`).
pub const MAX_FUTURE_BLOCK_TIME: u64 = 2 * 60 * 60;

/// Blocks whose median time a new header must exceed.
pub const MEDIAN_TIME_SPAN: u32 = 11;

impl ConsensusParams {
    /// The parameters of `network`.
    pub fn for_network(network: Network) -> ConsensusParams {
        // (allow_min_difficulty_blocks, kgw_height, dgw_height); on testnet
        // nPowKGWHeight >= nPowDGWHeight: it never used KGW.
        let (allow_min_difficulty_blocks, kgw_height, dgw_height) = match network {
            Network::Mainnet => (false, 15_200, 34_140),
            Network::Testnet => (true, 4_002, 4_002),
        };
        ConsensusParams {
            network,
            // ~uint256(0) >> 20 on both networks.
            pow_limit: U256::MAX >> 20,
            target_spacing: 150,
            target_timespan: 24 * 60 * 60,
            allow_min_difficulty_blocks,
            kgw_height,
            dgw_height,
        }
    }

    /// Blocks per Bitcoin-style retargeting period (576).
    pub fn difficulty_adjustment_interval(&self) -> u32 {
        (self.target_timespan / self.target_spacing) as u32
    }
}
