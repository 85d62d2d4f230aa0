//! Difficulty retargeting: the `bits` a header at a given height must carry.
//!
//! Dash Core's `GetNextWorkRequired` switches algorithms by height: the
//! original Bitcoin retarget every 576 blocks (with testnet's
//! minimum-difficulty exception), then Kimoto Gravity Well (mainnet only),
//! then Dark Gravity Wave v3. On testnet, after the Bitcoin era, a block more
//! than 2 hours after its parent may use the minimum difficulty and one more
//! than 10 minutes after it may be ten times easier than its parent.
//!
//! The arithmetic mirrors Core's `arith_uint256` (wrapping products, `int64`
//! timespans narrowed to `uint32` where Core's operator overloads narrow them)
//! so the result is bit-for-bit Core's.

use super::params::ConsensusParams;
use super::pow::{decode_compact, encode_compact};
use super::u256::U256;
use crate::block::BlockHeader;

/// Read access to the headers a new header builds on.
pub trait Ancestry {
    /// The height of the header the new one builds on (its parent).
    fn tip_height(&self) -> u32;
    /// The header at `height` (at most [`tip_height`](Ancestry::tip_height)),
    /// or `None` if it lies before the first header known (a sync base).
    fn header_at(&self, height: u32) -> Option<&BlockHeader>;
}

/// Blocks Dark Gravity Wave averages over.
const DGW_PAST_BLOCKS: u32 = 24;

/// The most blocks Kimoto Gravity Well looks back over (`PastBlocksMax`).
pub const KGW_PAST_BLOCKS_MAX: u32 = 4032;

/// The deepest ancestor any retargeting rule reads, counted back from the parent.
pub const MAX_LOOKBACK: u32 = KGW_PAST_BLOCKS_MAX;

/// The `bits` a header with time `new_time` must carry on top of `ancestry`,
/// or `None` if the rule needs ancestors before the first known header.
pub fn next_work_required(
    params: &ConsensusParams,
    ancestry: &impl Ancestry,
    new_time: u32,
) -> Option<u32> {
    let last_height = ancestry.tip_height();
    let last = ancestry.header_at(last_height)?;
    let next_height = last_height.checked_add(1)?;
    let limit = params.pow_limit;
    let limit_bits = encode_compact(limit);

    if next_height < params.kgw_height {
        return bitcoin_retarget(params, ancestry, last_height, last, new_time);
    }

    if params.allow_min_difficulty_blocks {
        let gap = i64::from(new_time) - i64::from(last.time);
        // The parent is more than 2 hours old.
        if gap > 2 * 60 * 60 {
            return Some(limit_bits);
        }
        // The parent is more than 10 minutes old: ten times easier.
        if gap > params.target_spacing * 4 {
            let easier = decode_compact(last.bits).value.wrapping_mul_u64(10);
            return Some(if easier > limit {
                limit_bits
            } else {
                encode_compact(easier)
            });
        }
    }

    if next_height < params.dgw_height {
        return kimoto_gravity_well(params, ancestry, last_height, last);
    }
    dark_gravity_wave(params, ancestry, last_height, last)
}

/// Bitcoin's retarget every `interval` blocks, with testnet's minimum-difficulty rule.
fn bitcoin_retarget(
    params: &ConsensusParams,
    ancestry: &impl Ancestry,
    last_height: u32,
    last: &BlockHeader,
    new_time: u32,
) -> Option<u32> {
    let interval = params.difficulty_adjustment_interval();
    let limit_bits = encode_compact(params.pow_limit);

    if (last_height + 1) % interval != 0 {
        if !params.allow_min_difficulty_blocks {
            return Some(last.bits);
        }
        // A block more than twice the spacing after its parent may use the limit.
        if i64::from(new_time) > i64::from(last.time) + params.target_spacing * 2 {
            return Some(limit_bits);
        }
        // Otherwise: the bits of the last block not mined under that exception.
        let mut height = last_height;
        let mut header = last;
        while height > 0 && height % interval != 0 && header.bits == limit_bits {
            height -= 1;
            header = ancestry.header_at(height)?;
        }
        return Some(header.bits);
    }

    let first = ancestry.header_at(last_height.checked_sub(interval - 1)?)?;
    let actual = (i64::from(last.time) - i64::from(first.time))
        .clamp(params.target_timespan / 4, params.target_timespan * 4);
    let retargeted = decode_compact(last.bits)
        .value
        .wrapping_mul_u64(u64::from(actual as u32))
        / U256::from_u64(params.target_timespan as u64);
    Some(encode_compact(retargeted.min(params.pow_limit)))
}

/// Kimoto Gravity Well (mainnet heights 15,200 to 34,139).
fn kimoto_gravity_well(
    params: &ConsensusParams,
    ancestry: &impl Ancestry,
    last_height: u32,
    last: &BlockHeader,
) -> Option<u32> {
    let past_seconds_min = (params.target_timespan as f64 * 0.025) as u64;
    let past_seconds_max = (params.target_timespan * 7) as u64;
    let past_blocks_min = past_seconds_min / params.target_spacing as u64;
    let past_blocks_max = past_seconds_max / params.target_spacing as u64;

    if last_height == 0 || u64::from(last_height) < past_blocks_min {
        return Some(encode_compact(params.pow_limit));
    }

    let mut mass: u64 = 0;
    let mut actual_seconds: i64 = 0;
    let mut target_seconds: i64 = 0;
    let mut average = U256::ZERO;
    let mut average_prev = U256::ZERO;
    let mut reading_height = last_height;
    let mut i: u64 = 1;
    while reading_height > 0 {
        if past_blocks_max > 0 && i > past_blocks_max {
            break;
        }
        let reading = ancestry.header_at(reading_height)?;
        mass += 1;

        average = decode_compact(reading.bits).value;
        if i > 1 {
            average = if average >= average_prev {
                average
                    .wrapping_sub(average_prev)
                    .div_rem_u64(i)
                    .0
                    .wrapping_add(average_prev)
            } else {
                average_prev.wrapping_sub(average_prev.wrapping_sub(average).div_rem_u64(i).0)
            };
        }
        average_prev = average;

        actual_seconds = i64::from(last.time) - i64::from(reading.time);
        target_seconds = params.target_spacing * mass as i64;
        let mut adjustment_ratio = 1.0f64;
        if actual_seconds < 0 {
            actual_seconds = 0;
        }
        if actual_seconds != 0 && target_seconds != 0 {
            adjustment_ratio = target_seconds as f64 / actual_seconds as f64;
        }
        let event_horizon = 1.0 + 0.7084 * (mass as f64 / 28.2).powf(-1.228);
        let event_horizon_fast = event_horizon;
        let event_horizon_slow = 1.0 / event_horizon;

        if mass >= past_blocks_min
            && (adjustment_ratio <= event_horizon_slow || adjustment_ratio >= event_horizon_fast)
        {
            break;
        }
        reading_height -= 1;
        i += 1;
    }

    let mut retargeted = average;
    if actual_seconds != 0 && target_seconds != 0 {
        retargeted = retargeted.wrapping_mul_u64(u64::from(actual_seconds as u32))
            / U256::from_u64(target_seconds as u64);
    }
    Some(encode_compact(retargeted.min(params.pow_limit)))
}

/// Dark Gravity Wave v3: the last 24 targets, weighted towards the older ones
/// exactly as Core computes them, scaled by the time they took.
fn dark_gravity_wave(
    params: &ConsensusParams,
    ancestry: &impl Ancestry,
    last_height: u32,
    last: &BlockHeader,
) -> Option<u32> {
    if last_height < DGW_PAST_BLOCKS {
        return Some(encode_compact(params.pow_limit));
    }
    let mut average = U256::ZERO;
    let mut first = last;
    for count in 1..=DGW_PAST_BLOCKS {
        let header = ancestry.header_at(last_height - (count - 1))?;
        let target = decode_compact(header.bits).value;
        average = if count == 1 {
            target
        } else {
            average
                .wrapping_mul_u64(u64::from(count))
                .wrapping_add(target)
                .div_rem_u64(u64::from(count) + 1)
                .0
        };
        first = header;
    }
    let target_timespan = i64::from(DGW_PAST_BLOCKS) * params.target_spacing;
    let actual = (i64::from(last.time) - i64::from(first.time))
        .clamp(target_timespan / 3, target_timespan * 3);
    let retargeted =
        average.wrapping_mul_u64(u64::from(actual as u32)) / U256::from_u64(target_timespan as u64);
    Some(encode_compact(retargeted.min(params.pow_limit)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{BlockHash, MerkleNode};
    use crate::network::Network;

    /// Headers from height `first` on, linked only by position.
    struct Headers {
        first: u32,
        headers: Vec<BlockHeader>,
    }

    impl Ancestry for Headers {
        fn tip_height(&self) -> u32 {
            self.first + self.headers.len() as u32 - 1
        }
        fn header_at(&self, height: u32) -> Option<&BlockHeader> {
            self.headers.get(height.checked_sub(self.first)? as usize)
        }
    }

    fn header(time: u32, bits: u32) -> BlockHeader {
        BlockHeader {
            version: 1,
            prev_blockhash: BlockHash::ZERO,
            merkle_root: MerkleNode::ZERO,
            time,
            bits,
            nonce: 0,
        }
    }

    /// `count` headers from `first`, `spacing` seconds apart, all with `bits`.
    fn regular(first: u32, count: u32, spacing: u32, bits: u32) -> Headers {
        Headers {
            first,
            headers: (0..count)
                .map(|i| header(1_600_000_000 + i * spacing, bits))
                .collect(),
        }
    }

    const BITS: u32 = 0x1b0404cb;

    #[test]
    fn dgw_keeps_difficulty_when_blocks_come_on_time() {
        let params = ConsensusParams::for_network(Network::Mainnet);
        // 24 blocks span 23 intervals, so on-time blocks make DGW slightly harder.
        let chain = regular(100_000, 30, 150, BITS);
        let expected = encode_compact(
            decode_compact(BITS)
                .value
                .wrapping_mul_u64(23 * 150)
                .div_rem_u64(24 * 150)
                .0,
        );
        let next_time = 1_600_000_000 + 30 * 150;
        assert_eq!(
            next_work_required(&params, &chain, next_time),
            Some(expected)
        );
    }

    #[test]
    fn dgw_clamps_the_timespan() {
        let params = ConsensusParams::for_network(Network::Mainnet);
        let slow = regular(100_000, 30, 100_000, BITS);
        let target = decode_compact(BITS).value;
        let three_times = encode_compact(target.wrapping_mul_u64(3));
        assert_eq!(
            next_work_required(&params, &slow, 0),
            Some(three_times),
            "at most three times easier"
        );
        let fast = regular(100_000, 30, 1, BITS);
        let a_third = encode_compact(target.div_rem_u64(3).0);
        assert_eq!(next_work_required(&params, &fast, 0), Some(a_third));
    }

    #[test]
    fn dgw_needs_24_known_ancestors() {
        let params = ConsensusParams::for_network(Network::Mainnet);
        let short = regular(100_000, 23, 150, BITS);
        assert_eq!(next_work_required(&params, &short, 0), None);
    }

    #[test]
    fn testnet_gaps_allow_easier_blocks() {
        let params = ConsensusParams::for_network(Network::Testnet);
        let chain = regular(500_000, 30, 150, BITS);
        let parent_time = 1_600_000_000 + 29 * 150;
        let limit_bits = encode_compact(params.pow_limit);
        assert_eq!(
            next_work_required(&params, &chain, parent_time + 2 * 60 * 60 + 1),
            Some(limit_bits)
        );
        let ten_times = encode_compact(decode_compact(BITS).value.wrapping_mul_u64(10));
        assert_eq!(
            next_work_required(&params, &chain, parent_time + 601),
            Some(ten_times)
        );
        // Exactly 10 minutes is not a gap.
        assert_ne!(
            next_work_required(&params, &chain, parent_time + 600),
            Some(ten_times)
        );
        // Mainnet has no such exception.
        let mainnet = ConsensusParams::for_network(Network::Mainnet);
        assert_ne!(
            next_work_required(&mainnet, &chain, parent_time + 2 * 60 * 60 + 1),
            Some(limit_bits)
        );
    }

    #[test]
    fn bitcoin_era_keeps_bits_between_retargets() {
        let params = ConsensusParams::for_network(Network::Mainnet);
        let chain = regular(0, 100, 150, 0x1e0ffff0);
        assert_eq!(next_work_required(&params, &chain, 0), Some(0x1e0ffff0));
    }

    #[test]
    fn bitcoin_era_retargets_every_576_blocks() {
        let params = ConsensusParams::for_network(Network::Mainnet);
        // Blocks twice as fast as intended: the target halves.
        let chain = regular(0, 576, 75, 0x1d7fffff);
        let expected = encode_compact(
            decode_compact(0x1d7fffff)
                .value
                .wrapping_mul_u64(575 * 75)
                .div_rem_u64(86_400)
                .0,
        );
        assert_eq!(next_work_required(&params, &chain, 0), Some(expected));
    }

    #[test]
    fn testnet_bitcoin_era_skips_back_over_minimum_difficulty_blocks() {
        let params = ConsensusParams::for_network(Network::Testnet);
        let limit_bits = encode_compact(params.pow_limit);
        let mut chain = regular(0, 10, 150, 0x1d7fffff);
        chain.headers[8].bits = limit_bits;
        chain.headers[9].bits = limit_bits;
        let parent_time = chain.headers[9].time;
        assert_eq!(
            next_work_required(&params, &chain, parent_time + 10),
            Some(0x1d7fffff)
        );
        assert_eq!(
            next_work_required(&params, &chain, parent_time + 301),
            Some(limit_bits)
        );
    }

    #[test]
    fn kgw_with_on_time_blocks_keeps_the_average() {
        let params = ConsensusParams::for_network(Network::Mainnet);
        let chain = regular(20_000, 5_000, 150, BITS);
        // All targets equal and every window on time: the average survives and
        // the timespan ratio is (n - 1) / n at the window where KGW stops.
        let next = next_work_required(&params, &chain, 0).unwrap();
        let target = decode_compact(BITS).value;
        let found = decode_compact(next).value;
        assert!(found <= target && found > target.div_rem_u64(2).0);
    }
}
