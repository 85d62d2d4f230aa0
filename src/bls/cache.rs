//! A cache of decoded masternode operator keys, and of fixed-base tables for
//! the keys that sign most.
//!
//! Decompressing a G1 point is the most expensive step of reading a key; the
//! same operators sign quorum after quorum, so each distinct encoding is
//! decoded once. A key that signs many commitments also gets a table of its
//! multiples ([`KeyCache::build_tables`]), which halves its share of each
//! secure aggregation; the tables are bounded by [`MAX_TABLES`].

use super::aggregate::Signer;
use super::encoding::G1_SIZE;
use super::{BlsError, OperatorKey, Scheme};
use dashlight_g1_tables::PointTable;
use std::collections::{HashMap, HashSet};

/// Fixed-base tables one cache keeps at most: 1,024 tables of 6 KiB
/// ([`dashlight_g1_tables::TABLE_BYTES`]), 6 MiB. Past it, keys get no new
/// table until some are dropped ([`KeyCache::retain`]).
pub const MAX_TABLES: usize = 1_024;

/// An operator key's encoding and the scheme it is written in.
type Encoding = ([u8; G1_SIZE], Scheme);

/// Decoded operator keys by their encoding (and the scheme of that encoding).
#[derive(Debug, Default, Clone)]
pub struct KeyCache {
    keys: HashMap<Encoding, Result<OperatorKey, BlsError>>,
    tables: HashMap<Encoding, PointTable>,
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

    /// The key encoded as `bytes` in `scheme` as a signer of a secure
    /// aggregation, with its table if it has one (decoded now, and not kept,
    /// if the cache has not decoded it).
    pub fn signer(&self, bytes: &[u8; G1_SIZE], scheme: Scheme) -> Result<Signer<'_>, BlsError> {
        let encoding = (*bytes, scheme);
        let key = match self.keys.get(&encoding) {
            Some(decoded) => *decoded,
            None => OperatorKey::from_list_bytes(bytes, scheme),
        }?;
        Ok(Signer {
            key,
            table: self.tables.get(&encoding),
        })
    }

    /// Builds the tables of the keys `encodings` name that decode and have
    /// none yet, in the given order, as long as the cache holds fewer than
    /// [`MAX_TABLES`]; all in one batch.
    pub fn build_tables(&mut self, encodings: &[([u8; G1_SIZE], Scheme)]) {
        let room = MAX_TABLES.saturating_sub(self.tables.len());
        let mut chosen: Vec<Encoding> = Vec::new();
        let mut seen: HashSet<Encoding> = HashSet::new();
        let mut points = Vec::new();
        for &(bytes, scheme) in encodings {
            if chosen.len() == room {
                break;
            }
            let encoding = (bytes, scheme);
            if self.tables.contains_key(&encoding) || !seen.insert(encoding) {
                continue;
            }
            if let Ok(key) = self.get(&bytes, scheme) {
                chosen.push(encoding);
                points.push(key.affine());
            }
        }
        let tables = PointTable::build_all(&points);
        self.tables.extend(chosen.into_iter().zip(tables));
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

    /// Number of keys with a table.
    pub fn table_count(&self) -> usize {
        self.tables.len()
    }

    /// Drops every key, and its table, whose encoding `keep` rejects (bounded memory).
    pub fn retain(&mut self, mut keep: impl FnMut(&[u8; G1_SIZE], Scheme) -> bool) {
        self.keys.retain(|(bytes, scheme), _| keep(bytes, *scheme));
        let keys = &self.keys;
        self.tables
            .retain(|encoding, _| keys.contains_key(encoding));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blst::min_pk;

    fn encoding(seed: u16) -> Encoding {
        let mut ikm = [9u8; 32];
        ikm[..2].copy_from_slice(&seed.to_le_bytes());
        let key = min_pk::SecretKey::key_gen(&ikm, &[]).unwrap().sk_to_pk();
        (key.compress(), Scheme::Basic)
    }

    #[test]
    fn failures_are_cached_too() {
        let mut cache = KeyCache::new();
        assert!(cache.get(&[0xff; 48], Scheme::Basic).is_err());
        assert!(cache.contains(&[0xff; 48], Scheme::Basic));
        assert_eq!(cache.len(), 1);
        cache.retain(|_, _| false);
        assert!(cache.is_empty());
    }

    #[test]
    fn tables_are_built_once_for_keys_that_decode_and_dropped_with_them() {
        let mut cache = KeyCache::new();
        let (a, b) = (encoding(1), encoding(2));
        let bad = ([0xff; 48], Scheme::Basic);
        assert!(cache.signer(&a.0, a.1).unwrap().table.is_none());
        cache.build_tables(&[a, bad, a, b]);
        assert_eq!(cache.table_count(), 2);
        assert!(cache.signer(&a.0, a.1).unwrap().table.is_some());
        assert!(cache.signer(&bad.0, bad.1).is_err());
        cache.build_tables(&[b]);
        assert_eq!(cache.table_count(), 2);
        cache.retain(|bytes, _| *bytes == a.0);
        assert_eq!((cache.len(), cache.table_count()), (1, 1));
        assert!(cache.signer(&b.0, b.1).unwrap().table.is_none());
    }

    #[test]
    fn tables_stop_at_the_bound() {
        let mut cache = KeyCache::new();
        let many: Vec<Encoding> = (0..MAX_TABLES as u16 + 5).map(encoding).collect();
        cache.build_tables(&many[..MAX_TABLES - 2]);
        cache.build_tables(&many);
        assert_eq!(cache.table_count(), MAX_TABLES);
        assert!(cache
            .signer(&many[MAX_TABLES].0, Scheme::Basic)
            .unwrap()
            .table
            .is_none());
        assert!(cache
            .signer(&many[0].0, Scheme::Basic)
            .unwrap()
            .table
            .is_some());
    }
}
