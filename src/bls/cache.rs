//! A cache of decoded masternode operator keys.
//!
//! Decompressing a G1 point is the most expensive step of reading a key; the
//! same operators sign quorum after quorum, so each distinct encoding is
//! decoded once.

use super::encoding::G1_SIZE;
use super::{BlsError, OperatorKey, Scheme};
use std::collections::HashMap;

/// Decoded operator keys by their encoding (and the scheme of that encoding).
#[derive(Debug, Default, Clone)]
pub struct KeyCache {
    keys: HashMap<([u8; G1_SIZE], Scheme), Result<OperatorKey, BlsError>>,
}

impl KeyCache {
    /// An empty cache.
    pub fn new() -> KeyCache {
        KeyCache::default()
    }

    /// The key encoded as `bytes` in `scheme`, decoding it on first use.
    pub fn get(&mut self, bytes: &[u8; G1_SIZE], scheme: Scheme) -> Result<OperatorKey, BlsError> {
        *self
            .keys
            .entry((*bytes, scheme))
            .or_insert_with(|| OperatorKey::from_list_bytes(bytes, scheme))
    }

    /// Whether `bytes` in `scheme` has been decoded already.
    pub fn contains(&self, bytes: &[u8; G1_SIZE], scheme: Scheme) -> bool {
        self.keys.contains_key(&(*bytes, scheme))
    }

    /// Number of cached encodings.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Drops every key whose encoding `keep` rejects (bounded memory).
    pub fn retain(&mut self, mut keep: impl FnMut(&[u8; G1_SIZE], Scheme) -> bool) {
        self.keys.retain(|(bytes, scheme), _| keep(bytes, *scheme));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_cached_too() {
        let mut cache = KeyCache::new();
        assert!(cache.get(&[0xff; 48], Scheme::Basic).is_err());
        assert!(cache.contains(&[0xff; 48], Scheme::Basic));
        assert_eq!(cache.len(), 1);
        cache.retain(|_, _| false);
        assert!(cache.is_empty());
    }
}
