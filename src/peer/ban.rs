//! A timed ban list: a peer that sent invalid data is not dialled again until
//! its ban expires.

use crate::sync::time::{Millis, Timestamp};
use std::collections::HashMap;

/// Addresses banned until a given time.
#[derive(Debug, Clone, Default)]
pub struct BanList {
    until: HashMap<String, Timestamp>,
}

impl BanList {
    /// An empty list.
    pub fn new() -> BanList {
        BanList::default()
    }

    /// Bans `address` until `now + duration`, keeping a longer existing ban.
    pub fn ban(&mut self, address: &str, now: Timestamp, duration: Millis) {
        let until = now + duration;
        let entry = self.until.entry(address.to_owned()).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// Whether `address` is banned at `now`.
    pub fn is_banned(&self, address: &str, now: Timestamp) -> bool {
        self.until.get(address).is_some_and(|&until| now < until)
    }

    /// When the ban on `address` ends, if it is banned at `now`.
    pub fn banned_until(&self, address: &str, now: Timestamp) -> Option<Timestamp> {
        self.until
            .get(address)
            .copied()
            .filter(|&until| now < until)
    }

    /// Forgets expired bans.
    pub fn expire(&mut self, now: Timestamp) {
        self.until.retain(|_, until| now < *until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ban_expires() {
        let mut bans = BanList::new();
        bans.ban("ws://a", Timestamp(1_000), Millis(60_000));
        assert!(bans.is_banned("ws://a", Timestamp(60_999)));
        assert!(!bans.is_banned("ws://a", Timestamp(61_000)));
        assert!(!bans.is_banned("ws://b", Timestamp(1_000)));
        bans.expire(Timestamp(61_000));
        assert_eq!(bans.banned_until("ws://a", Timestamp(0)), None);
    }

    #[test]
    fn a_shorter_ban_does_not_shorten_a_longer_one() {
        let mut bans = BanList::new();
        bans.ban("ws://a", Timestamp(0), Millis(100_000));
        bans.ban("ws://a", Timestamp(0), Millis(10));
        assert!(bans.is_banned("ws://a", Timestamp(50_000)));
    }
}
