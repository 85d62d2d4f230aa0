//! Misbehaviour scores and timed, escalating bans, in the manner of Dash Core: each
//! offence adds its weight to the address's score; at [`BAN_THRESHOLD`] the address is
//! banned (not dialled again) and its score starts over. Each further ban of the same
//! address lasts twice as long as the one before, up to [`MAX_BAN`]. What could be our
//! own gap (timeouts, unknown future versions, a clock that disagrees) weighs nothing and
//! never gets here.

use crate::sync::time::{Millis, Timestamp};
use std::collections::HashMap;

/// The score at which an address is banned.
pub const BAN_THRESHOLD: u32 = 100;

/// The longest a ban lasts, however often the address offended before.
pub const MAX_BAN: Millis = Millis::from_secs(24 * 3_600);

/// What one offence cost the address, for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Penalty {
    /// The offence's weight.
    pub weight: u32,
    /// The address's score after it (0 again when it led to a ban).
    pub score: u32,
    /// The ban it led to, if the score reached [`BAN_THRESHOLD`].
    pub ban: Option<Ban>,
}

/// One ban of an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ban {
    /// How long the address is not dialled.
    pub duration: Millis,
    /// Which ban of the address this is (1 for the first).
    pub count: u32,
}

/// What is known of one misbehaving address.
#[derive(Debug, Clone, Copy, Default)]
struct Record {
    /// The weights of its offences since its last ban.
    score: u32,
    /// How often it was banned.
    bans: u32,
    /// When its current ban ends, if it is banned.
    until: Option<Timestamp>,
}

/// Misbehaviour scores and bans by address.
#[derive(Debug, Clone, Default)]
pub struct BanList {
    records: HashMap<String, Record>,
}

impl BanList {
    /// An empty list.
    pub fn new() -> BanList {
        BanList::default()
    }

    /// Adds an offence of `weight` to `address`'s score at `now`; at the threshold the address
    /// is banned for `first_ban` doubled for every earlier ban, at most [`MAX_BAN`] (a longer
    /// ban still running is kept).
    pub fn punish(
        &mut self,
        address: &str,
        weight: u32,
        now: Timestamp,
        first_ban: Millis,
    ) -> Penalty {
        let record = self.records.entry(address.to_owned()).or_default();
        record.score = record.score.saturating_add(weight);
        if record.score < BAN_THRESHOLD {
            return Penalty {
                weight,
                score: record.score,
                ban: None,
            };
        }
        record.score = 0;
        record.bans = record.bans.saturating_add(1);
        let doublings = record.bans.saturating_sub(1).min(16);
        let duration = Millis(first_ban.as_millis().saturating_mul(1 << doublings)).min(MAX_BAN);
        let until = now + duration;
        record.until = Some(record.until.map_or(until, |current| current.max(until)));
        Penalty {
            weight,
            score: 0,
            ban: Some(Ban {
                duration,
                count: record.bans,
            }),
        }
    }

    /// Whether `address` is banned at `now`.
    pub fn is_banned(&self, address: &str, now: Timestamp) -> bool {
        self.banned_until(address, now).is_some()
    }

    /// When the ban on `address` ends, if it is banned at `now`.
    pub fn banned_until(&self, address: &str, now: Timestamp) -> Option<Timestamp> {
        self.records
            .get(address)
            .and_then(|record| record.until)
            .filter(|&until| now < until)
    }

    /// Ends expired bans (the count of earlier bans is kept: it makes the next one longer).
    pub fn expire(&mut self, now: Timestamp) {
        for record in self.records.values_mut() {
            if record.until.is_some_and(|until| until <= now) {
                record.until = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN_MINUTES: Millis = Millis::from_secs(600);

    #[test]
    fn a_ban_expires() {
        let mut bans = BanList::new();
        let penalty = bans.punish("ws://a", 100, Timestamp(1_000), Millis(60_000));
        assert_eq!(
            penalty.ban,
            Some(Ban {
                duration: Millis(60_000),
                count: 1
            })
        );
        assert!(bans.is_banned("ws://a", Timestamp(60_999)));
        assert!(!bans.is_banned("ws://a", Timestamp(61_000)));
        assert!(!bans.is_banned("ws://b", Timestamp(1_000)));
        bans.expire(Timestamp(61_000));
        assert_eq!(bans.banned_until("ws://a", Timestamp(0)), None);
    }

    #[test]
    fn light_offences_add_up_to_a_ban_at_the_threshold() {
        let mut bans = BanList::new();
        for round in 1..10 {
            let penalty = bans.punish("ws://a", 10, Timestamp(round), TEN_MINUTES);
            assert_eq!(penalty.score, 10 * round as u32);
            assert_eq!(penalty.ban, None);
            assert!(!bans.is_banned("ws://a", Timestamp(round)));
        }
        let penalty = bans.punish("ws://a", 10, Timestamp(10), TEN_MINUTES);
        assert_eq!(penalty.score, 0, "the score starts over with the ban");
        assert!(penalty.ban.is_some());
        assert!(bans.is_banned("ws://a", Timestamp(11)));
    }

    #[test]
    fn each_ban_of_a_repeat_offender_lasts_twice_as_long_up_to_a_day() {
        let mut bans = BanList::new();
        let mut now = Timestamp(0);
        let mut durations = Vec::new();
        for _ in 0..10 {
            let penalty = bans.punish("ws://a", BAN_THRESHOLD, now, TEN_MINUTES);
            let ban = penalty.ban.expect("banned");
            durations.push(ban.duration.as_millis() / 60_000);
            now = now + ban.duration;
            bans.expire(now);
            assert!(!bans.is_banned("ws://a", now));
        }
        assert_eq!(
            durations,
            [10, 20, 40, 80, 160, 320, 640, 1_280, 1_440, 1_440]
        );
    }

    #[test]
    fn a_shorter_ban_does_not_shorten_a_longer_one() {
        let mut bans = BanList::new();
        bans.punish("ws://a", 100, Timestamp(0), Millis(100_000));
        bans.punish("ws://a", 100, Timestamp(0), Millis(10));
        assert!(bans.is_banned("ws://a", Timestamp(50_000)));
    }
}
