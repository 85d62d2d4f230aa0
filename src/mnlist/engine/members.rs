//! Member selection: the members the stored lists select for a quorum, with the caches of
//! rotation cycles' quarters and members.

use super::{MasternodeEngine, WORK_BLOCK_OFFSET};
use crate::chain::HeaderLookup;
use crate::hash::BlockHash;
use crate::llmq::hashes::{modifier_from_block_hash, modifier_from_chainlock};
use crate::llmq::members::{new_quarters, non_rotated_members, quarters_from_snapshot, Members};
use crate::llmq::{LlmqParams, LlmqType};
use crate::mnlist::list::MasternodeList;
use crate::mnlist::status::Unverifiable;
use crate::network::Network;
use std::sync::Arc;

impl MasternodeEngine {
    /// The members the stored lists select for a quorum, in quorum order,
    /// with the height of the list they come from (for a non-rotated quorum
    /// whose exact list is missing: from a stored list within 8 blocks of it).
    pub fn quorum_members(
        &mut self,
        llmq_type: LlmqType,
        quorum_hash: &BlockHash,
        headers: &impl HeaderLookup,
    ) -> Result<(Members, u32), Unverifiable> {
        let params = llmq_type
            .params()
            .ok_or(Unverifiable::UnknownType(llmq_type))?;
        let height = headers
            .height_of(quorum_hash)
            .ok_or(Unverifiable::UnknownBaseBlock)?;
        if self.rules.rotation_enabled(params, height) {
            let cycle = height - height % params.dkg_interval;
            let members = self.rotated_members(params, cycle, headers)?;
            let index = (height - cycle) as usize;
            Ok((
                members.get(index).cloned().unwrap_or_default(),
                cycle.saturating_sub(WORK_BLOCK_OFFSET),
            ))
        } else {
            let (mut candidates, required) =
                self.non_rotated(params, height, quorum_hash, headers, false)?;
            candidates
                .pop()
                .ok_or(Unverifiable::MissingList { height: required })
        }
    }

    /// The quorum modifier of a quorum (or rotation cycle) based at `base_height`
    /// (Dash Core's `GetHashModifier`).
    fn modifier(
        &self,
        params: &LlmqParams,
        base_height: u32,
        base_hash: &BlockHash,
        headers: &impl HeaderLookup,
    ) -> Result<[u8; 32], Unverifiable> {
        let work = base_height
            .checked_sub(WORK_BLOCK_OFFSET)
            .ok_or(Unverifiable::UnknownBaseBlock)?;
        let work_hash = || {
            self.lists
                .get(&work)
                .map(|l| l.block_hash)
                .or_else(|| headers.hash_at(work))
                .ok_or(Unverifiable::MissingList { height: work })
        };
        if self.rules.v20_active_after(work) {
            match self.coinbase_chainlocks.get(&work) {
                Some(Some(sig)) => Ok(modifier_from_chainlock(params.llmq_type, work, sig)),
                Some(None) => Ok(modifier_from_block_hash(params.llmq_type, &work_hash()?)),
                None => Err(Unverifiable::MissingList { height: work }),
            }
        } else if params.use_rotation {
            Ok(modifier_from_block_hash(params.llmq_type, &work_hash()?))
        } else {
            Ok(modifier_from_block_hash(params.llmq_type, base_hash))
        }
    }

    /// The member lists to try for a non-rotated quorum: from the list at its
    /// work block (the base block before v20, base - 8 after), or, when that
    /// list is missing, from the nearest lists within 8 blocks of it. A member
    /// set from a nearby list only counts if both signatures verify with it.
    pub(super) fn non_rotated(
        &self,
        params: &LlmqParams,
        height: u32,
        quorum_hash: &BlockHash,
        headers: &impl HeaderLookup,
        skip_tried: bool,
    ) -> Result<(Vec<(Members, u32)>, u32), Unverifiable> {
        let work = if self.rules.v20_active_after(height) {
            height
                .checked_sub(WORK_BLOCK_OFFSET)
                .ok_or(Unverifiable::UnknownBaseBlock)?
        } else {
            height
        };
        let modifier = self.modifier(params, height, quorum_hash, headers)?;
        let evo_only = self.rules.evo_only(params.llmq_type, height);
        let size = usize::from(params.size);
        if let Some(list) = self.lists.get(&work) {
            return Ok((
                vec![(non_rotated_members(list, &modifier, size, evo_only), work)],
                work,
            ));
        }
        let below = self
            .lists
            .range(work.saturating_sub(WORK_BLOCK_OFFSET)..work)
            .next_back();
        let above = self
            .lists
            .range(work.saturating_add(1)..=work.saturating_add(WORK_BLOCK_OFFSET))
            .next();
        let key = (params.llmq_type, *quorum_hash);
        let candidates: Vec<(Members, u32)> = below
            .into_iter()
            .chain(above)
            .filter(|(h, _)| !skip_tried || !self.tried_nearby.contains(&(key, **h)))
            .map(|(h, list)| (non_rotated_members(list, &modifier, size, evo_only), *h))
            .collect();
        if candidates.is_empty() {
            return Err(Unverifiable::MissingList { height: work });
        }
        Ok((candidates, work))
    }

    /// The members of every quorum index of the rotation cycle at `cycle`.
    pub(super) fn rotated_members(
        &mut self,
        params: &LlmqParams,
        cycle: u32,
        headers: &impl HeaderLookup,
    ) -> Result<Arc<Vec<Members>>, Unverifiable> {
        if let Some(members) = self.cycle_members.get(&cycle) {
            return Ok(Arc::clone(members));
        }
        let interval = params.dkg_interval;
        let quorum_count = params.signing_active_quorum_count as usize;
        let quarter_size = params.quarter_size();
        let previous_cycles = [1u32, 2, 3].map(|k| cycle.checked_sub(k * interval));
        let mut previous: Vec<Arc<Vec<Members>>> = Vec::with_capacity(3);
        for previous_cycle in previous_cycles {
            let previous_cycle = previous_cycle.ok_or(Unverifiable::UnknownBaseBlock)?;
            previous.push(self.snapshot_quarters(params, previous_cycle, headers)?);
        }
        let (list, modifier) = self.cycle_list(params, cycle, headers)?;
        let skip_removed =
            self.rules.network == Network::Testnet || self.rules.v19_active_after(cycle);
        let new = new_quarters(
            &list,
            skip_removed,
            [&previous[0], &previous[1], &previous[2]],
            &modifier,
            quorum_count,
            quarter_size,
        );
        let members: Vec<Members> = (0..quorum_count)
            .map(|i| {
                let mut m = Members::new();
                for quarters in [&previous[2], &previous[1], &previous[0]] {
                    m.extend(quarters.get(i).into_iter().flatten().cloned());
                }
                m.extend(new.get(i).into_iter().flatten().cloned());
                m
            })
            .collect();
        let members = Arc::new(members);
        self.cycle_members.insert(cycle, Arc::clone(&members));
        Ok(members)
    }

    /// The list at the work block of the rotation cycle at `cycle`, and the cycle's quorum
    /// modifier.
    fn cycle_list(
        &self,
        params: &LlmqParams,
        cycle: u32,
        headers: &impl HeaderLookup,
    ) -> Result<(Arc<MasternodeList>, [u8; 32]), Unverifiable> {
        let work = cycle
            .checked_sub(WORK_BLOCK_OFFSET)
            .ok_or(Unverifiable::UnknownBaseBlock)?;
        let list = self
            .lists
            .get(&work)
            .cloned()
            .ok_or(Unverifiable::MissingList { height: work })?;
        let cycle_hash = headers
            .hash_at(cycle)
            .ok_or(Unverifiable::UnknownBaseBlock)?;
        let modifier = self.modifier(params, cycle, &cycle_hash, headers)?;
        Ok((list, modifier))
    }

    /// The quarters a past cycle contributed, rebuilt from its snapshot.
    fn snapshot_quarters(
        &mut self,
        params: &LlmqParams,
        cycle: u32,
        headers: &impl HeaderLookup,
    ) -> Result<Arc<Vec<Members>>, Unverifiable> {
        if let Some(q) = self.quarters.get(&cycle) {
            return Ok(Arc::clone(q));
        }
        let snapshot = self
            .snapshots
            .get(&cycle)
            .ok_or(Unverifiable::MissingSnapshot { height: cycle })?;
        let (list, modifier) = self.cycle_list(params, cycle, headers)?;
        let quarters = quarters_from_snapshot(
            &list,
            snapshot,
            &modifier,
            params.signing_active_quorum_count as usize,
            params.quarter_size(),
        )
        .map_err(|e| Unverifiable::UnusableSnapshot {
            height: cycle,
            reason: format!("{e:?}"),
        })?;
        let quarters = Arc::new(quarters);
        self.quarters.insert(cycle, Arc::clone(&quarters));
        Ok(quarters)
    }
}
