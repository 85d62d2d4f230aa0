//! Bitcoin-style merkle trees: full roots and partial-tree (`CPartialMerkleTree`) proofs.

use crate::hash::{sha256d, MerkleNode};
use crate::protocol::partial_merkle_tree::PartialMerkleTree;
use core::fmt;

/// The parent of two merkle nodes: `dSHA256(left || right)`.
pub(crate) fn parent(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut data = [0u8; 64];
    data[..32].copy_from_slice(left);
    data[32..].copy_from_slice(right);
    sha256d(&data)
}

/// The merkle root of `leaves` (the last node of an odd level is paired with
/// itself); all zeros for no leaves.
pub fn merkle_root(level: Vec<[u8; 32]>) -> [u8; 32] {
    merkle_root_by(level, parent)
}

/// [`merkle_root`] with the parents computed by `parent_of`.
fn merkle_root_by(
    mut level: Vec<[u8; 32]>,
    mut parent_of: impl FnMut(&[u8; 32], &[u8; 32]) -> [u8; 32],
) -> [u8; 32] {
    if level.is_empty() {
        return [0; 32];
    }
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => parent_of(left, right),
                [single] => parent_of(single, single),
                _ => [0; 32],
            })
            .collect();
    }
    level[0]
}

/// The most parent nodes a [`ParentMemo`] holds (about 3.5 MB) before it forgets them all.
pub const PARENT_MEMO_CAPACITY: usize = 32_768;

/// Parent nodes already hashed, so that trees sharing subtrees hash them once: the lists of
/// a QRInfo and the lists that follow repeat most entries in the same order (on mainnet about
/// 60 % of a QRInfo's parent nodes were hashed before). Bounded by
/// [`PARENT_MEMO_CAPACITY`]; a parent is a pure function of its children, so what the memo
/// holds never changes a root.
#[derive(Debug, Default)]
pub struct ParentMemo {
    parents: std::collections::HashMap<([u8; 32], [u8; 32]), [u8; 32]>,
}

impl ParentMemo {
    /// The merkle root of `leaves`, as [`merkle_root`], reusing and remembering parents.
    pub fn merkle_root(&mut self, leaves: Vec<[u8; 32]>) -> [u8; 32] {
        merkle_root_by(leaves, |left, right| {
            if let Some(known) = self.parents.get(&(*left, *right)) {
                return *known;
            }
            if self.parents.len() >= PARENT_MEMO_CAPACITY {
                self.parents.clear();
            }
            let node = parent(left, right);
            self.parents.insert((*left, *right), node);
            node
        })
    }
}

/// Why a partial merkle tree is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartialTreeError {
    /// The tree claims no transactions.
    NoTransactions,
    /// More hashes than transactions.
    TooManyHashes,
    /// The flags or hashes ran out while walking the tree.
    Truncated,
    /// Hashes or flag bytes were left over.
    Unused,
    /// Two children of one node are equal (CVE-2012-2459 malleability).
    DuplicateChildren,
}

impl fmt::Display for PartialTreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PartialTreeError::NoTransactions => "partial merkle tree with no transactions",
            PartialTreeError::TooManyHashes => "more hashes than transactions",
            PartialTreeError::Truncated => "flags or hashes ran out",
            PartialTreeError::Unused => "hashes or flag bytes left over",
            PartialTreeError::DuplicateChildren => "identical sibling hashes",
        })
    }
}

impl std::error::Error for PartialTreeError {}

/// What a partial merkle tree proves: its root and the matched leaves with their positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialTreeProof {
    /// The merkle root the tree hashes to.
    pub root: MerkleNode,
    /// The matched leaves as (position, hash).
    pub matches: Vec<(u32, MerkleNode)>,
    /// How many flag bits the walk read (the rest of the last byte is padding).
    pub flag_bits_used: usize,
}

struct Walker<'a> {
    tree: &'a PartialMerkleTree,
    bits_used: usize,
    hashes_used: usize,
    matches: Vec<(u32, MerkleNode)>,
}

fn tree_width(total: u32, height: u32) -> u32 {
    ((u64::from(total) + (1u64 << height) - 1) >> height) as u32
}

impl Walker<'_> {
    fn next_bit(&mut self) -> Result<bool, PartialTreeError> {
        if self.bits_used >= self.tree.flags.len() * 8 {
            return Err(PartialTreeError::Truncated);
        }
        let bit = self.tree.flag(self.bits_used);
        self.bits_used += 1;
        Ok(bit)
    }

    fn next_hash(&mut self) -> Result<[u8; 32], PartialTreeError> {
        let hash = self
            .tree
            .hashes
            .get(self.hashes_used)
            .ok_or(PartialTreeError::Truncated)?;
        self.hashes_used += 1;
        Ok(hash.0)
    }

    fn walk(&mut self, height: u32, pos: u32) -> Result<[u8; 32], PartialTreeError> {
        let parent_of_match = self.next_bit()?;
        if height == 0 || !parent_of_match {
            let hash = self.next_hash()?;
            if height == 0 && parent_of_match {
                self.matches.push((pos, MerkleNode(hash)));
            }
            return Ok(hash);
        }
        let left = self.walk(height - 1, pos * 2)?;
        let right = if pos * 2 + 1 < tree_width(self.tree.total_transactions, height - 1) {
            let right = self.walk(height - 1, pos * 2 + 1)?;
            if right == left {
                return Err(PartialTreeError::DuplicateChildren);
            }
            right
        } else {
            left
        };
        Ok(parent(&left, &right))
    }
}

/// Walks a partial merkle tree (Bitcoin's `CPartialMerkleTree::ExtractMatches`).
pub fn extract_matches(tree: &PartialMerkleTree) -> Result<PartialTreeProof, PartialTreeError> {
    let total = tree.total_transactions;
    if total == 0 {
        return Err(PartialTreeError::NoTransactions);
    }
    if tree.hashes.len() as u64 > u64::from(total) {
        return Err(PartialTreeError::TooManyHashes);
    }
    let mut height = 0;
    while tree_width(total, height) > 1 {
        height += 1;
    }
    let mut walker = Walker {
        tree,
        bits_used: 0,
        hashes_used: 0,
        matches: Vec::new(),
    };
    let root = walker.walk(height, 0)?;
    if walker.bits_used.div_ceil(8) != tree.flags.len() || walker.hashes_used != tree.hashes.len() {
        return Err(PartialTreeError::Unused);
    }
    Ok(PartialTreeProof {
        root: MerkleNode(root),
        matches: walker.matches,
        flag_bits_used: walker.bits_used,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_leaf_is_its_own_root() {
        assert_eq!(merkle_root(vec![[7; 32]]), [7; 32]);
        assert_eq!(merkle_root(vec![]), [0; 32]);
    }

    #[test]
    fn odd_level_duplicates_its_last_node() {
        let a = [1; 32];
        let b = [2; 32];
        let c = [3; 32];
        let expected = parent(&parent(&a, &b), &parent(&c, &c));
        assert_eq!(merkle_root(vec![a, b, c]), expected);
    }

    #[test]
    fn a_memo_gives_the_same_roots_and_reuses_shared_subtrees() {
        let leaf = |i: u32| sha256d(&i.to_le_bytes());
        let first: Vec<[u8; 32]> = (0..1000).map(leaf).collect();
        // One leaf changed, one inserted near the end, one list shorter: what lists do.
        let mut changed = first.clone();
        changed[10] = leaf(5000);
        let mut inserted = first.clone();
        inserted.insert(900, leaf(6000));
        let shorter = first[..777].to_vec();
        let mut memo = ParentMemo::default();
        for leaves in [&first, &changed, &inserted, &shorter, &first] {
            assert_eq!(
                memo.merkle_root(leaves.clone()),
                merkle_root(leaves.clone())
            );
        }
        // The first tree's 999 parents, then only what differs: a path for the changed leaf,
        // the nodes right of the insertion, the shorter tree's new right edge.
        assert!(
            memo.parents.len() < 1_400,
            "{} parents remembered",
            memo.parents.len()
        );
        assert_eq!(memo.merkle_root(Vec::new()), [0; 32]);
    }

    #[test]
    fn a_memo_forgets_everything_at_its_capacity() {
        let leaves: Vec<[u8; 32]> = (0..PARENT_MEMO_CAPACITY as u32 + 10)
            .map(|i| sha256d(&i.to_le_bytes()))
            .collect();
        let mut memo = ParentMemo::default();
        assert_eq!(memo.merkle_root(leaves.clone()), merkle_root(leaves));
        assert!(memo.parents.len() <= PARENT_MEMO_CAPACITY);
        assert!(!memo.parents.is_empty());
    }

    #[test]
    fn partial_tree_of_one_matched_leaf_among_three() {
        let leaves = [[1u8; 32], [2; 32], [3; 32]];
        let root = merkle_root(leaves.to_vec());
        // Match leaf 0: flags 1 (root), 1 (left inner), 1 (leaf 0), 0 (leaf 1), 0 (right inner).
        let tree = PartialMerkleTree {
            total_transactions: 3,
            hashes: vec![
                MerkleNode(leaves[0]),
                MerkleNode(leaves[1]),
                MerkleNode(parent(&leaves[2], &leaves[2])),
            ],
            flags: vec![0b0000_0111],
        };
        let proof = extract_matches(&tree).unwrap();
        assert_eq!(proof.root, MerkleNode(root));
        assert_eq!(proof.matches, vec![(0, MerkleNode(leaves[0]))]);
    }

    #[test]
    fn truncated_tree_is_an_error() {
        let tree = PartialMerkleTree {
            total_transactions: 3,
            hashes: vec![],
            flags: vec![0b111],
        };
        assert_eq!(extract_matches(&tree), Err(PartialTreeError::Truncated));
    }

    /// The partial tree proving `matched` among `leaves` (Bitcoin's traversal)
    /// and how many of its flag bits are used.
    #[cfg(not(target_arch = "wasm32"))]
    fn build(leaves: &[[u8; 32]], matched: &[bool]) -> (PartialMerkleTree, usize) {
        let total = leaves.len() as u32;
        fn hash_at(leaves: &[[u8; 32]], height: u32, pos: u32) -> [u8; 32] {
            if height == 0 {
                return leaves[pos as usize];
            }
            let left = hash_at(leaves, height - 1, pos * 2);
            let right = if pos * 2 + 1 < tree_width(leaves.len() as u32, height - 1) {
                hash_at(leaves, height - 1, pos * 2 + 1)
            } else {
                left
            };
            parent(&left, &right)
        }
        fn walk(
            leaves: &[[u8; 32]],
            matched: &[bool],
            height: u32,
            pos: u32,
            bits: &mut Vec<bool>,
            hashes: &mut Vec<MerkleNode>,
        ) {
            let first = (pos as usize) << height;
            let last = (((pos as usize) + 1) << height).min(leaves.len());
            let parent_of_match = matched[first..last].iter().any(|&m| m);
            bits.push(parent_of_match);
            if height == 0 || !parent_of_match {
                hashes.push(MerkleNode(hash_at(leaves, height, pos)));
            } else {
                walk(leaves, matched, height - 1, pos * 2, bits, hashes);
                if pos * 2 + 1 < tree_width(leaves.len() as u32, height - 1) {
                    walk(leaves, matched, height - 1, pos * 2 + 1, bits, hashes);
                }
            }
        }
        let mut height = 0;
        while tree_width(total, height) > 1 {
            height += 1;
        }
        let (mut bits, mut hashes) = (Vec::new(), Vec::new());
        walk(leaves, matched, height, 0, &mut bits, &mut hashes);
        let used = bits.len();
        let mut flags = vec![0u8; used.div_ceil(8)];
        for (i, bit) in bits.into_iter().enumerate() {
            flags[i / 8] |= u8::from(bit) << (i % 8);
        }
        let tree = PartialMerkleTree {
            total_transactions: total,
            hashes,
            flags,
        };
        (tree, used)
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        #[test]
        fn every_built_tree_proves_its_root_and_matches(
            matched in proptest::collection::vec(proptest::prelude::any::<bool>(), 1..80),
            salt in proptest::prelude::any::<u8>(),
        ) {
            let leaves: Vec<[u8; 32]> = (0..matched.len())
                .map(|i| {
                    let mut leaf = [salt; 32];
                    leaf[..8].copy_from_slice(&(i as u64).to_le_bytes());
                    leaf
                })
                .collect();
            let proof = extract_matches(&build(&leaves, &matched).0).unwrap();
            proptest::prop_assert_eq!(proof.root, MerkleNode(merkle_root(leaves.clone())));
            let expected: Vec<(u32, MerkleNode)> = matched
                .iter()
                .enumerate()
                .filter(|(_, &m)| m)
                .map(|(i, _)| (i as u32, MerkleNode(leaves[i])))
                .collect();
            proptest::prop_assert_eq!(proof.matches, expected);
        }

        #[test]
        fn any_tree_is_walked_without_panicking(
            total in proptest::prelude::any::<u32>(),
            hashes in proptest::collection::vec(proptest::prelude::any::<[u8; 32]>(), 0..40),
            flags in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..12),
        ) {
            let tree = PartialMerkleTree {
                total_transactions: total,
                hashes: hashes.into_iter().map(MerkleNode).collect(),
                flags,
            };
            let _ = extract_matches(&tree);
        }

        #[test]
        fn a_flipped_flag_never_proves_the_same_root_and_matches(
            matched in proptest::collection::vec(proptest::prelude::any::<bool>(), 2..40),
            bit in proptest::prelude::any::<proptest::sample::Index>(),
        ) {
            let leaves: Vec<[u8; 32]> =
                (0..matched.len()).map(|i| [i as u8 + 1; 32]).collect();
            // A used flag bit: the padding after them is not part of the proof.
            let (tree, used) = build(&leaves, &matched);
            let honest = extract_matches(&tree).unwrap();
            let mut flipped = tree.clone();
            let at = bit.index(used);
            flipped.flags[at / 8] ^= 1 << (at % 8);
            if let Ok(proof) = extract_matches(&flipped) {
                proptest::prop_assert!(proof != honest, "a flipped flag proved the same");
            }
        }
    }
}
