//! `reject` (BIP-61): why a peer rejected a message. Dash Core still sends it.
//!
//! Layout: rejected command (compact-size string) · code `u8` · reason
//! (compact-size string) · for a rejected block or transaction its 32-byte hash.

use crate::encode::{write_var_bytes, Decodable, DecodeError, Encodable, Reader};
use crate::hash::Sha256dHash;

/// A `reject` message. Strings are kept as the bytes received.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reject {
    /// The command of the rejected message.
    pub message: Vec<u8>,
    /// The reject code (e.g. 0x01 malformed, 0x10 invalid, 0x11 obsolete).
    pub code: u8,
    /// A human-readable reason.
    pub reason: Vec<u8>,
    /// The hash of the rejected block or transaction, if sent.
    pub hash: Option<Sha256dHash>,
}

impl Reject {
    /// The reason as text (invalid UTF-8 replaced).
    pub fn reason_lossy(&self) -> String {
        String::from_utf8_lossy(&self.reason).into_owned()
    }
}

impl Encodable for Reject {
    fn encode(&self, out: &mut Vec<u8>) {
        write_var_bytes(out, &self.message);
        out.push(self.code);
        write_var_bytes(out, &self.reason);
        if let Some(hash) = &self.hash {
            hash.encode(out);
        }
    }
}

impl Decodable for Reject {
    const MIN_ENCODED_SIZE: usize = 3;
    /// Reads a reject; the hash is read when 32 bytes remain.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let message = r.read_var_bytes_owned("reject message")?;
        let code = r.read_u8()?;
        let reason = r.read_var_bytes_owned("reject reason")?;
        let hash = match r.remaining() {
            32 => Some(Sha256dHash::decode(r)?),
            _ => None,
        };
        Ok(Reject {
            message,
            code,
            reason,
            hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{deserialize, serialize};

    #[test]
    fn reject_round_trips_with_and_without_hash() {
        let mut m = Reject {
            message: b"block".to_vec(),
            code: 0x10,
            reason: b"bad-diffbits".to_vec(),
            hash: Some(Sha256dHash([5; 32])),
        };
        assert_eq!(deserialize::<Reject>(&serialize(&m)), Ok(m.clone()));
        m.hash = None;
        assert_eq!(deserialize::<Reject>(&serialize(&m)), Ok(m.clone()));
        assert_eq!(m.reason_lossy(), "bad-diffbits");
    }
}
