//! LLMQ types and their consensus parameters, and the fork heights that change
//! how quorums are built (DIP-6, DIP-24, v19, v20).

use crate::network::Network;
use core::fmt;

/// An LLMQ type as its wire byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LlmqType(pub u8);

impl LlmqType {
    /// 50 members, 30 (60%) threshold, one per hour.
    pub const LLMQ_50_60: LlmqType = LlmqType(1);
    /// 400 members, 240 (60%) threshold, one every 12 hours.
    pub const LLMQ_400_60: LlmqType = LlmqType(2);
    /// 400 members, 340 (85%) threshold, one every 24 hours.
    pub const LLMQ_400_85: LlmqType = LlmqType(3);
    /// 100 members, 67 threshold, one per hour (mainnet Platform).
    pub const LLMQ_100_67: LlmqType = LlmqType(4);
    /// 60 members, 45 (75%) threshold, rotated (DIP-24), 32 quorums per 12-hour cycle.
    pub const LLMQ_60_75: LlmqType = LlmqType(5);
    /// 25 members, 17 (67%) threshold, one per hour (testnet Platform).
    pub const LLMQ_25_67: LlmqType = LlmqType(6);

    /// The parameters of this type, if dashlight knows it.
    pub fn params(self) -> Option<&'static LlmqParams> {
        ALL_PARAMS.iter().find(|p| p.llmq_type == self)
    }

    /// The type's name, `llmq_<size>_<threshold%>`, or `llmq_type_<n>` if unknown.
    pub fn name(self) -> String {
        match self.params() {
            Some(p) => p.name.to_owned(),
            None => format!("llmq_type_{}", self.0),
        }
    }
}

impl fmt::Display for LlmqType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// The consensus parameters of one LLMQ type (Dash Core's `LLMQParams`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmqParams {
    /// The type.
    pub llmq_type: LlmqType,
    /// Name used in logs and output.
    pub name: &'static str,
    /// Whether quorums rotate members by quarters (DIP-24).
    pub use_rotation: bool,
    /// Members per quorum.
    pub size: u16,
    /// Fewest valid members a commitment may have.
    pub min_size: u16,
    /// Signature shares needed to recover a quorum signature.
    pub threshold: u16,
    /// Blocks between DKG sessions (the cycle length of rotated types).
    pub dkg_interval: u32,
    /// First block (offset in the interval) where commitments may be mined.
    pub dkg_mining_window_start: u32,
    /// Last block (offset in the interval) where commitments may be mined.
    pub dkg_mining_window_end: u32,
    /// Quorums active for signing at once.
    pub signing_active_quorum_count: u32,
}

impl LlmqParams {
    /// Members per quarter of a rotated quorum.
    pub fn quarter_size(&self) -> usize {
        usize::from(self.size) / 4
    }

    /// Whether a commitment of this type can be mined in the block at `height`.
    pub fn is_mining_height(&self, height: u32) -> bool {
        let offset = height % self.dkg_interval;
        offset >= self.dkg_mining_window_start && offset <= self.dkg_mining_window_end
    }

    /// Whether no commitment of this type can be mined in any block of `from+1..=to`,
    /// so the type's active quorums are the same at `from` and at `to`.
    pub fn no_mining_between(&self, from: u32, to: u32) -> bool {
        if to <= from {
            return true;
        }
        if to - from >= self.dkg_interval {
            return false;
        }
        (from + 1..=to).all(|h| !self.is_mining_height(h))
    }
}

/// Every LLMQ type used on mainnet or testnet.
pub const ALL_PARAMS: [LlmqParams; 6] = [
    LlmqParams {
        llmq_type: LlmqType::LLMQ_50_60,
        name: "llmq_50_60",
        use_rotation: false,
        size: 50,
        min_size: 40,
        threshold: 30,
        dkg_interval: 24,
        dkg_mining_window_start: 10,
        dkg_mining_window_end: 18,
        signing_active_quorum_count: 24,
    },
    LlmqParams {
        llmq_type: LlmqType::LLMQ_60_75,
        name: "llmq_60_75",
        use_rotation: true,
        size: 60,
        min_size: 50,
        threshold: 45,
        dkg_interval: 288,
        dkg_mining_window_start: 42,
        dkg_mining_window_end: 50,
        signing_active_quorum_count: 32,
    },
    LlmqParams {
        llmq_type: LlmqType::LLMQ_400_60,
        name: "llmq_400_60",
        use_rotation: false,
        size: 400,
        min_size: 300,
        threshold: 240,
        dkg_interval: 288,
        dkg_mining_window_start: 20,
        dkg_mining_window_end: 28,
        signing_active_quorum_count: 4,
    },
    LlmqParams {
        llmq_type: LlmqType::LLMQ_400_85,
        name: "llmq_400_85",
        use_rotation: false,
        size: 400,
        min_size: 350,
        threshold: 340,
        dkg_interval: 576,
        dkg_mining_window_start: 20,
        dkg_mining_window_end: 48,
        signing_active_quorum_count: 4,
    },
    LlmqParams {
        llmq_type: LlmqType::LLMQ_100_67,
        name: "llmq_100_67",
        use_rotation: false,
        size: 100,
        min_size: 80,
        threshold: 67,
        dkg_interval: 24,
        dkg_mining_window_start: 10,
        dkg_mining_window_end: 18,
        signing_active_quorum_count: 24,
    },
    LlmqParams {
        llmq_type: LlmqType::LLMQ_25_67,
        name: "llmq_25_67",
        use_rotation: false,
        size: 25,
        min_size: 22,
        threshold: 17,
        dkg_interval: 24,
        dkg_mining_window_start: 10,
        dkg_mining_window_end: 18,
        signing_active_quorum_count: 24,
    },
];

/// The fork heights and LLMQ roles of one network (Dash Core's chain parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRules {
    /// The network.
    pub network: Network,
    /// First block of DIP-24 (rotated quorums).
    pub dip0024_height: u32,
    /// First block of v19 (basic BLS scheme, evo nodes).
    pub v19_height: u32,
    /// First block of v20 (ChainLock-based quorum modifier, coinbase ChainLocks).
    pub v20_height: u32,
    /// The type that signs ChainLocks.
    pub chainlock_type: LlmqType,
    /// The rotated type that signs InstantSend locks.
    pub instantsend_type: LlmqType,
    /// The type whose members are evo nodes only (after v19).
    pub platform_type: LlmqType,
    /// The types active on this network.
    pub llmq_types: &'static [LlmqType],
}

impl ChainRules {
    /// The rules of `network`.
    pub fn for_network(network: Network) -> ChainRules {
        match network {
            Network::Mainnet => ChainRules {
                network,
                dip0024_height: 1_737_792,
                v19_height: 1_899_072,
                v20_height: 1_987_776,
                chainlock_type: LlmqType::LLMQ_400_60,
                instantsend_type: LlmqType::LLMQ_60_75,
                platform_type: LlmqType::LLMQ_100_67,
                llmq_types: &[
                    LlmqType::LLMQ_50_60,
                    LlmqType::LLMQ_60_75,
                    LlmqType::LLMQ_400_60,
                    LlmqType::LLMQ_400_85,
                    LlmqType::LLMQ_100_67,
                ],
            },
            Network::Testnet => ChainRules {
                network,
                dip0024_height: 769_700,
                v19_height: 850_100,
                v20_height: 905_100,
                chainlock_type: LlmqType::LLMQ_50_60,
                instantsend_type: LlmqType::LLMQ_60_75,
                platform_type: LlmqType::LLMQ_25_67,
                llmq_types: &[
                    LlmqType::LLMQ_50_60,
                    LlmqType::LLMQ_60_75,
                    LlmqType::LLMQ_400_60,
                    LlmqType::LLMQ_400_85,
                    LlmqType::LLMQ_100_67,
                    LlmqType::LLMQ_25_67,
                ],
            },
        }
    }

    /// Whether v19 rules apply to the block after `height` (Dash Core's `DeploymentActiveAfter`).
    pub fn v19_active_after(&self, height: u32) -> bool {
        height.saturating_add(1) >= self.v19_height
    }

    /// The BLS scheme of signatures made for the block at `height`: legacy
    /// before v19, basic from it on.
    pub fn scheme_at(&self, height: u32) -> crate::bls::Scheme {
        if height >= self.v19_height {
            crate::bls::Scheme::Basic
        } else {
            crate::bls::Scheme::Legacy
        }
    }

    /// Whether v20 rules apply to the block after `height`.
    pub fn v20_active_after(&self, height: u32) -> bool {
        height.saturating_add(1) >= self.v20_height
    }

    /// Whether v20 rules apply to the block at `height` (Dash Core's `DeploymentActiveAt`).
    pub fn v20_active_at(&self, height: u32) -> bool {
        height >= self.v20_height
    }

    /// Whether quorums of `params` whose base block is at `height` rotate (DIP-24 active
    /// at least one block before the cycle start).
    pub fn rotation_enabled(&self, params: &LlmqParams, height: u32) -> bool {
        if !params.use_rotation {
            return false;
        }
        let cycle_start = height - height % params.dkg_interval;
        cycle_start >= 1 && cycle_start >= self.dip0024_height
    }

    /// Whether quorums of `llmq_type` based at `height` take evo nodes only.
    pub fn evo_only(&self, llmq_type: LlmqType, height: u32) -> bool {
        llmq_type == self.platform_type && self.v19_active_after(height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn testnet_rotated_type_has_32_quorums_per_288_blocks() {
        let p = LlmqType::LLMQ_60_75.params().unwrap();
        assert!(p.use_rotation);
        assert_eq!(p.signing_active_quorum_count, 32);
        assert_eq!(p.dkg_interval, 288);
        assert_eq!(p.quarter_size(), 15);
        assert_eq!(LlmqType(99).params(), None);
        assert_eq!(LlmqType(99).name(), "llmq_type_99");
    }

    #[test]
    fn v20_boundary_follows_dash_core() {
        let rules = ChainRules::for_network(Network::Testnet);
        assert!(!rules.v20_active_after(905_098));
        assert!(rules.v20_active_after(905_099));
        assert!(!rules.v20_active_at(905_099));
        assert!(rules.v20_active_at(905_100));
    }

    #[test]
    fn mining_windows_bound_quorum_changes() {
        let p = LlmqType::LLMQ_50_60.params().unwrap();
        // 905_762 % 24 == 2 and 905_767 % 24 == 7: outside the 10..=18 window.
        assert!(p.no_mining_between(905_762, 905_767));
        assert!(!p.no_mining_between(905_762, 905_772));
        assert!(!p.no_mining_between(0, 1000));
    }
}
