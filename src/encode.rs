//! Consensus encoding: the `Encodable`/`Decodable` traits and a bounds-checked reader.
//!
//! Every read checks the bytes actually present before it allocates, so a length
//! field from the network can never make the decoder allocate more than the
//! message holds, and no input can make it panic.
//!
//! Counts are bounded twice. A count may not claim more items than the bytes
//! left could encode ([`Reader::read_count`]), and every allocation sized by a
//! count is charged, at its in-memory size, against the reader's allocation
//! budget of [`ALLOCATION_FACTOR`] × the input's length
//! ([`Reader::reserve`]). The second bound matters where an item takes few
//! bytes on the wire but many in memory (an empty quorum snapshot: 6 bytes
//! encoded, 64 in memory): without it an 8 MiB message of such items would
//! allocate tens of megabytes before failing.

use core::fmt;

/// Why a byte string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Decoding the value would allocate more than the input can back
    /// ([`ALLOCATION_FACTOR`] × its length): a list of items far larger in
    /// memory than on the wire, as no real message has.
    AllocationTooLarge {
        /// The field whose items were to be allocated.
        field: &'static str,
        /// Bytes the allocation needed.
        needed: u64,
        /// Bytes of the budget left.
        left: u64,
    },
    /// The input ended before the field was complete.
    UnexpectedEnd {
        /// Bytes the field needed.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A compact size was not in its shortest form.
    NonCanonicalCompactSize(u64),
    /// A count or length claims more items than the remaining bytes could hold.
    LengthTooLarge {
        /// The field that carried the length.
        field: &'static str,
        /// The claimed length.
        len: u64,
        /// The largest length the remaining input allows.
        max: u64,
    },
    /// A version this client does not know: the layout of what follows is
    /// unknown, so nothing after it can be read. Not proof of anything wrong
    /// (a newer Dash Core may send it): report it as unsupported, blame no one.
    UnsupportedVersion {
        /// The versioned structure.
        field: &'static str,
        /// The version found.
        version: u64,
    },
    /// Bytes were left over after a complete value.
    TrailingBytes(usize),
    /// A field holds a value that this layout does not allow.
    InvalidValue {
        /// The field.
        field: &'static str,
        /// The value found.
        value: u64,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEnd { needed, remaining } => {
                write!(
                    f,
                    "unexpected end of input: needed {needed} bytes, {remaining} left"
                )
            }
            Self::NonCanonicalCompactSize(v) => write!(f, "non-canonical compact size {v}"),
            Self::AllocationTooLarge {
                field,
                needed,
                left,
            } => write!(
                f,
                "{field}: {needed} bytes to allocate exceed the {left} the input can back"
            ),
            Self::LengthTooLarge { field, len, max } => {
                write!(
                    f,
                    "{field}: length {len} exceeds the {max} the input can hold"
                )
            }
            Self::UnsupportedVersion { field, version } => {
                write!(f, "{field} {version} is not supported by this client")
            }
            Self::TrailingBytes(n) => write!(f, "{n} trailing bytes after the value"),
            Self::InvalidValue { field, value } => write!(f, "{field}: invalid value {value}"),
        }
    }
}

impl DecodeError {
    /// Whether the input may be valid in a newer protocol than this client
    /// knows ([`DecodeError::UnsupportedVersion`]), as opposed to malformed.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, DecodeError::UnsupportedVersion { .. })
    }
}

impl std::error::Error for DecodeError {}

/// How many bytes of heap a decode may allocate by count per byte of input.
pub const ALLOCATION_FACTOR: usize = 2;

/// A cursor over untrusted bytes whose every read is bounds-checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Bytes that allocations sized by counts may still take.
    budget: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `buf`, with an allocation budget of
    /// [`ALLOCATION_FACTOR`] × its length.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            budget: buf.len().saturating_mul(ALLOCATION_FACTOR),
        }
    }

    /// Charges `bytes` of heap, about to be allocated for `field`, against the
    /// allocation budget; fails with [`DecodeError::AllocationTooLarge`] when
    /// the budget cannot cover them.
    pub fn reserve(&mut self, field: &'static str, bytes: usize) -> Result<(), DecodeError> {
        match self.budget.checked_sub(bytes) {
            Some(left) => {
                self.budget = left;
                Ok(())
            }
            None => Err(DecodeError::AllocationTooLarge {
                field,
                needed: bytes as u64,
                left: self.budget as u64,
            }),
        }
    }

    /// Charges `len` items of `T` for `field` (see [`Reader::reserve`]) and
    /// returns an empty vector with room for them.
    pub fn alloc_vec<T>(&mut self, field: &'static str, len: usize) -> Result<Vec<T>, DecodeError> {
        let bytes = len.saturating_mul(core::mem::size_of::<T>());
        self.reserve(field, bytes)?;
        Ok(Vec::with_capacity(len))
    }

    /// Reads `n` bytes into a new vector, charged against the allocation budget.
    pub fn read_owned_bytes(
        &mut self,
        field: &'static str,
        n: usize,
    ) -> Result<Vec<u8>, DecodeError> {
        let bytes = self.read_bytes(n)?;
        self.reserve(field, n)?;
        Ok(bytes.to_vec())
    }

    /// Reads a compact-size-prefixed byte string into a new vector, charged
    /// against the allocation budget.
    pub fn read_var_bytes_owned(&mut self, field: &'static str) -> Result<Vec<u8>, DecodeError> {
        let len = self.read_count(field, 1)?;
        self.read_owned_bytes(field, len)
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless every byte was read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }

    /// Reads `n` bytes.
    pub fn read_bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let remaining = self.remaining();
        if n > remaining {
            return Err(DecodeError::UnexpectedEnd {
                needed: n,
                remaining,
            });
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.buf[start..self.pos])
    }

    /// Reads a fixed-size array.
    pub fn read_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.read_bytes(N)?);
        Ok(out)
    }

    /// Reads one byte.
    pub fn read_u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.read_array::<1>()?[0])
    }

    /// Reads a little-endian `u16`.
    pub fn read_u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.read_array()?))
    }

    /// Reads a little-endian `u32`.
    pub fn read_u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.read_array()?))
    }

    /// Reads a little-endian `i32`.
    pub fn read_i32(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_le_bytes(self.read_array()?))
    }

    /// Reads a little-endian `u64`.
    pub fn read_u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.read_array()?))
    }

    /// Reads a little-endian `i64`.
    pub fn read_i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.read_array()?))
    }

    /// Reads a Bitcoin compact size, rejecting non-canonical encodings.
    pub fn read_compact_size(&mut self) -> Result<u64, DecodeError> {
        let (value, min) = match self.read_u8()? {
            0xfd => (u64::from(self.read_u16()?), 0xfd),
            0xfe => (u64::from(self.read_u32()?), 0x1_0000),
            0xff => (self.read_u64()?, 0x1_0000_0000),
            n => return Ok(u64::from(n)),
        };
        if value < min {
            return Err(DecodeError::NonCanonicalCompactSize(value));
        }
        Ok(value)
    }

    /// Reads a count of items that each take at least `min_item_size` bytes,
    /// rejecting a count the remaining input cannot hold.
    pub fn read_count(
        &mut self,
        field: &'static str,
        min_item_size: usize,
    ) -> Result<usize, DecodeError> {
        let len = self.read_compact_size()?;
        let max = (self.remaining() / min_item_size.max(1)) as u64;
        if len > max {
            return Err(DecodeError::LengthTooLarge { field, len, max });
        }
        Ok(len as usize)
    }

    /// Reads a compact-size-prefixed byte string.
    pub fn read_var_bytes(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.read_count(field, 1)?;
        self.read_bytes(len)
    }

    /// Reads a compact-size-prefixed list of values.
    pub fn read_vec<T: Decodable>(&mut self, field: &'static str) -> Result<Vec<T>, DecodeError> {
        self.read_vec_with(field, T::MIN_ENCODED_SIZE, T::decode)
    }

    /// Reads a compact-size-prefixed list of at most `max` values.
    pub fn read_vec_max<T: Decodable>(
        &mut self,
        field: &'static str,
        max: usize,
    ) -> Result<Vec<T>, DecodeError> {
        let len = self.read_count(field, T::MIN_ENCODED_SIZE)?;
        if len > max {
            return Err(DecodeError::LengthTooLarge {
                field,
                len: len as u64,
                max: max as u64,
            });
        }
        let mut out = self.alloc_vec(field, len)?;
        for _ in 0..len {
            out.push(T::decode(self)?);
        }
        Ok(out)
    }

    /// Reads a compact-size-prefixed list whose items `decode_item` reads
    /// (for items whose layout depends on context, such as a protocol
    /// version). Each item takes at least `min_item_size` bytes, which bounds
    /// the count before anything is allocated, and the list's memory is
    /// charged against the allocation budget.
    pub fn read_vec_with<T>(
        &mut self,
        field: &'static str,
        min_item_size: usize,
        mut decode_item: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let len = self.read_count(field, min_item_size)?;
        let mut out = self.alloc_vec(field, len)?;
        for _ in 0..len {
            out.push(decode_item(self)?);
        }
        Ok(out)
    }

    /// Reads a boolean byte, accepting only its canonical values 0 and 1.
    pub fn read_bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        match self.read_u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeError::InvalidValue {
                field,
                value: u64::from(other),
            }),
        }
    }

    /// Reads a little-endian `i16`.
    pub fn read_i16(&mut self) -> Result<i16, DecodeError> {
        Ok(i16::from_le_bytes(self.read_array()?))
    }
}

/// A value with a consensus encoding that can be written.
pub trait Encodable {
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);
}

/// A value with a consensus encoding that can be read from untrusted bytes.
pub trait Decodable: Sized {
    /// The fewest bytes any encoding of this type takes; bounds list lengths.
    const MIN_ENCODED_SIZE: usize = 1;

    /// Reads one value.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

/// Encodes a value into a new buffer.
pub fn serialize<T: Encodable + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.encode(&mut out);
    out
}

/// Decodes a value that must take up all of `bytes`.
pub fn deserialize<T: Decodable>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut r = Reader::new(bytes);
    let value = T::decode(&mut r)?;
    r.finish()?;
    Ok(value)
}

/// Appends a compact size.
pub fn write_compact_size(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=0xfc => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

/// Appends a compact-size-prefixed byte string.
pub fn write_var_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_compact_size(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends a compact-size-prefixed list of values.
pub fn write_vec<T: Encodable>(out: &mut Vec<u8>, items: &[T]) {
    write_compact_size(out, items.len() as u64);
    for item in items {
        item.encode(out);
    }
}

macro_rules! impl_int {
    ($($t:ty => $read:ident),*) => {$(
        impl Encodable for $t {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
        impl Decodable for $t {
            const MIN_ENCODED_SIZE: usize = core::mem::size_of::<$t>();
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                r.$read()
            }
        }
    )*};
}
impl_int!(u8 => read_u8, u16 => read_u16, u32 => read_u32, i32 => read_i32, u64 => read_u64, i64 => read_i64);

impl<const N: usize> Encodable for [u8; N] {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl<const N: usize> Decodable for [u8; N] {
    const MIN_ENCODED_SIZE: usize = N;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_array()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_size_round_trips_at_every_boundary() {
        for n in [
            0u64,
            0xfc,
            0xfd,
            0xffff,
            0x1_0000,
            0xffff_ffff,
            0x1_0000_0000,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            write_compact_size(&mut out, n);
            assert_eq!(Reader::new(&out).read_compact_size(), Ok(n));
        }
    }

    #[test]
    fn non_canonical_compact_size_is_rejected() {
        assert_eq!(
            Reader::new(&[0xfd, 0x10, 0x00]).read_compact_size(),
            Err(DecodeError::NonCanonicalCompactSize(0x10))
        );
    }

    #[test]
    fn huge_count_is_rejected_before_allocating() {
        let bytes = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3,
        ];
        let err = Reader::new(&bytes).read_vec::<u32>("items").unwrap_err();
        assert_eq!(
            err,
            DecodeError::LengthTooLarge {
                field: "items",
                len: 0x7fff_ffff_ffff_ffff,
                max: 0
            }
        );
    }

    #[test]
    fn counts_the_bytes_allow_are_still_bounded_by_memory() {
        // 100 one-byte items fit the input, but 100 × 24-byte vectors exceed
        // twice its 101 bytes.
        let mut bytes = vec![100];
        bytes.extend([0u8; 100]);
        let err = Reader::new(&bytes)
            .read_vec_with("lists", 1, |r| r.read_var_bytes_owned("list"))
            .unwrap_err();
        assert_eq!(
            err,
            DecodeError::AllocationTooLarge {
                field: "lists",
                needed: 2400,
                left: 202
            }
        );
    }

    #[test]
    fn the_budget_is_shared_by_every_allocation_of_one_input() {
        let bytes = [4, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.read_var_bytes_owned("a"), Ok(vec![1, 2, 3, 4]));
        assert!(r.reserve("b", 18).is_ok());
        assert_eq!(
            r.reserve("c", 1),
            Err(DecodeError::AllocationTooLarge {
                field: "c",
                needed: 1,
                left: 0
            })
        );
    }

    #[test]
    fn reads_past_the_end_fail_without_moving() {
        let mut r = Reader::new(&[1, 2]);
        assert_eq!(
            r.read_u32(),
            Err(DecodeError::UnexpectedEnd {
                needed: 4,
                remaining: 2
            })
        );
        assert_eq!(r.read_u16(), Ok(0x0201));
        assert_eq!(r.finish(), Ok(()));
    }
}
