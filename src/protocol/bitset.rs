//! Bit sets as Dash serializes them: a compact-size bit count, then the bits
//! packed least-significant first into `ceil(count / 8)` bytes.
//!
//! Used for a quorum commitment's signers and valid members and a quorum
//! snapshot's active members.

use crate::encode::{Decodable, DecodeError, Encodable, Reader};

/// A bit set of a fixed length, kept in its packed wire form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BitSet {
    len: usize,
    bytes: Vec<u8>,
}

impl BitSet {
    /// A set of `len` bits, all clear.
    pub fn new(len: usize) -> BitSet {
        BitSet {
            len,
            bytes: vec![0; len.div_ceil(8)],
        }
    }

    /// A set from its bits in order.
    pub fn from_bits(bits: &[bool]) -> BitSet {
        let mut set = BitSet::new(bits.len());
        for (i, &bit) in bits.iter().enumerate() {
            set.set(i, bit);
        }
        set
    }

    /// The number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set has no bits at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bit `i`; `false` past the end.
    pub fn get(&self, i: usize) -> bool {
        i < self.len
            && self
                .bytes
                .get(i / 8)
                .is_some_and(|byte| byte & (1 << (i % 8)) != 0)
    }

    /// Sets bit `i` to `value`; does nothing past the end.
    pub fn set(&mut self, i: usize, value: bool) {
        if i >= self.len {
            return;
        }
        if let Some(byte) = self.bytes.get_mut(i / 8) {
            if value {
                *byte |= 1 << (i % 8);
            } else {
                *byte &= !(1 << (i % 8));
            }
        }
    }

    /// How many bits are set.
    pub fn count_ones(&self) -> usize {
        self.bytes.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// The bits in order.
    pub fn iter(&self) -> impl Iterator<Item = bool> + '_ {
        (0..self.len).map(|i| self.get(i))
    }

    /// The packed bytes as on the wire (without the count).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl Encodable for BitSet {
    fn encode(&self, out: &mut Vec<u8>) {
        crate::encode::write_compact_size(out, self.len as u64);
        out.extend_from_slice(&self.bytes);
    }
}

impl Decodable for BitSet {
    /// Compact size and no bytes (an empty set).
    const MIN_ENCODED_SIZE: usize = 1;

    /// Reads a bit set, rejecting one whose padding bits in the last byte are
    /// set (as Dash Core does), so every accepted set re-encodes identically.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bits = r.read_compact_size()?;
        let byte_len = bits.div_ceil(8);
        let remaining = r.remaining() as u64;
        if byte_len > remaining {
            return Err(DecodeError::LengthTooLarge {
                field: "bit set",
                len: bits,
                max: remaining.saturating_mul(8),
            });
        }
        // Both fit in usize: `byte_len` is at most the remaining input.
        let len = bits as usize;
        let bytes = r.read_owned_bytes("bit set", byte_len as usize)?;
        // At most 7: `byte_len` is `bits` divided by 8, rounded up.
        let padding = byte_len * 8 - bits;
        if let Some(&last) = bytes.last() {
            if padding > 0 && last >> (8 - padding) != 0 {
                return Err(DecodeError::InvalidValue {
                    field: "bit set padding",
                    value: u64::from(last),
                });
            }
        }
        Ok(BitSet { len, bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{deserialize, serialize};

    #[test]
    fn bits_are_packed_least_significant_first() {
        let set = BitSet::from_bits(&[true, false, false, true, false, false, false, false, true]);
        assert_eq!(serialize(&set), vec![9, 0b0000_1001, 0b0000_0001]);
        assert_eq!(set.count_ones(), 3);
        assert!(set.get(8) && !set.get(9));
        assert_eq!(deserialize::<BitSet>(&serialize(&set)), Ok(set));
    }

    #[test]
    fn set_padding_bits_are_rejected() {
        assert!(matches!(
            deserialize::<BitSet>(&[3, 0b0000_1000]),
            Err(DecodeError::InvalidValue { .. })
        ));
    }

    #[test]
    fn a_count_beyond_the_input_is_rejected_before_allocating() {
        let mut bytes = vec![0xff];
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            deserialize::<BitSet>(&bytes),
            Err(DecodeError::LengthTooLarge { .. })
        ));
    }
}
