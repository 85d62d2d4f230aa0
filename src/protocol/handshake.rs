//! The `version` message that opens a connection, with Dash's additions:
//! after Bitcoin's fields a masternode-auth challenge and whether the sender
//! connects as a masternode.
//!
//! Layout: version `i32` · services `u64` · timestamp `i64` · receiver's
//! address · sender's address · nonce `u64` · user agent (compact-size string,
//! at most 256 bytes) · start height `i32` · then optional in order: relay
//! `bool` · mnauth challenge (32 bytes) · masternode connection `bool`.

use super::address::ServiceAddress;
use crate::encode::{write_var_bytes, Decodable, DecodeError, Encodable, Reader};

/// The longest user agent accepted (Dash Core's `MAX_SUBVERSION_LENGTH`).
pub const MAX_USER_AGENT_LEN: usize = 256;

/// An address with its services, as in the `version` message (no timestamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NetAddress {
    /// Service bits of the node at the address.
    pub services: u64,
    /// IP and port.
    pub address: ServiceAddress,
}

impl Encodable for NetAddress {
    fn encode(&self, out: &mut Vec<u8>) {
        self.services.encode(out);
        self.address.encode(out);
    }
}

impl Decodable for NetAddress {
    const MIN_ENCODED_SIZE: usize = 8 + ServiceAddress::SIZE;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(NetAddress {
            services: r.read_u64()?,
            address: ServiceAddress::decode(r)?,
        })
    }
}

/// The `version` message.
///
/// The trailing fields are optional on the wire: each is written only if it
/// and every field before it is `Some`, and read only if bytes remain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VersionMessage {
    /// The sender's protocol version.
    pub version: i32,
    /// The sender's service bits.
    pub services: u64,
    /// The sender's clock, seconds since the Unix epoch.
    pub timestamp: i64,
    /// The receiver's address as the sender sees it.
    pub receiver: NetAddress,
    /// The sender's address.
    pub sender: NetAddress,
    /// A random nonce to detect connections to self.
    pub nonce: u64,
    /// The sender's user agent (BIP-14), as bytes.
    pub user_agent: Vec<u8>,
    /// The sender's best height.
    pub start_height: i32,
    /// Whether the sender wants transactions relayed (BIP-37).
    pub relay: Option<bool>,
    /// A challenge for the receiver's `mnauth`, if it is a masternode.
    pub mnauth_challenge: Option<[u8; 32]>,
    /// Whether the sender connects as a masternode.
    pub masternode_connection: Option<bool>,
}

impl VersionMessage {
    /// The user agent as text (invalid UTF-8 replaced).
    pub fn user_agent_lossy(&self) -> String {
        String::from_utf8_lossy(&self.user_agent).into_owned()
    }
}

impl Encodable for VersionMessage {
    fn encode(&self, out: &mut Vec<u8>) {
        self.version.encode(out);
        self.services.encode(out);
        self.timestamp.encode(out);
        self.receiver.encode(out);
        self.sender.encode(out);
        self.nonce.encode(out);
        write_var_bytes(out, &self.user_agent);
        self.start_height.encode(out);
        let Some(relay) = self.relay else { return };
        out.push(u8::from(relay));
        let Some(challenge) = self.mnauth_challenge else {
            return;
        };
        challenge.encode(out);
        if let Some(masternode) = self.masternode_connection {
            out.push(u8::from(masternode));
        }
    }
}

impl Decodable for VersionMessage {
    const MIN_ENCODED_SIZE: usize = 4 + 8 + 8 + 26 + 26 + 8 + 1 + 4;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.read_i32()?;
        let services = r.read_u64()?;
        let timestamp = r.read_i64()?;
        let receiver = NetAddress::decode(r)?;
        let sender = NetAddress::decode(r)?;
        let nonce = r.read_u64()?;
        let user_agent = r.read_var_bytes("user agent")?;
        if user_agent.len() > MAX_USER_AGENT_LEN {
            return Err(DecodeError::LengthTooLarge {
                field: "user agent",
                len: user_agent.len() as u64,
                max: MAX_USER_AGENT_LEN as u64,
            });
        }
        let start_height = r.read_i32()?;
        let relay = match r.remaining() {
            0 => None,
            _ => Some(r.read_bool("relay")?),
        };
        let mnauth_challenge = match r.remaining() {
            0 => None,
            _ => Some(r.read_array()?),
        };
        let masternode_connection = match r.remaining() {
            0 => None,
            _ => Some(r.read_bool("masternode connection")?),
        };
        Ok(VersionMessage {
            version,
            services,
            timestamp,
            receiver,
            sender,
            nonce,
            user_agent: user_agent.to_vec(),
            start_height,
            relay,
            mnauth_challenge,
            masternode_connection,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{deserialize, serialize};

    fn message() -> VersionMessage {
        VersionMessage {
            version: 70230,
            services: 0,
            timestamp: 1_700_000_000,
            receiver: NetAddress {
                services: 1,
                address: ServiceAddress {
                    ip: [9; 16],
                    port: 19999,
                },
            },
            sender: NetAddress::default(),
            nonce: 0x0102_0304_0506_0708,
            user_agent: b"/dashlight:0.1.0/".to_vec(),
            start_height: 905_000,
            relay: Some(false),
            mnauth_challenge: Some([7; 32]),
            masternode_connection: Some(false),
        }
    }

    #[test]
    fn full_message_has_the_dash_fields_at_the_end() {
        let m = message();
        let bytes = serialize(&m);
        assert_eq!(bytes.len(), 4 + 8 + 8 + 26 + 26 + 8 + 18 + 4 + 1 + 32 + 1);
        assert_eq!(&bytes[bytes.len() - 33..bytes.len() - 1], &[7; 32]);
        assert_eq!(deserialize::<VersionMessage>(&bytes), Ok(m));
    }

    #[test]
    fn trailing_fields_are_optional() {
        let mut m = message();
        m.masternode_connection = None;
        m.mnauth_challenge = None;
        assert_eq!(deserialize::<VersionMessage>(&serialize(&m)), Ok(m.clone()));
        m.relay = None;
        assert_eq!(deserialize::<VersionMessage>(&serialize(&m)), Ok(m));
    }

    #[test]
    fn an_overlong_user_agent_is_rejected() {
        let mut m = message();
        m.user_agent = vec![b'a'; MAX_USER_AGENT_LEN + 1];
        assert!(matches!(
            deserialize::<VersionMessage>(&serialize(&m)),
            Err(DecodeError::LengthTooLarge { .. })
        ));
    }
}
