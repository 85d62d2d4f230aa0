//! Simplified masternode list entries (DIP-4 `CSimplifiedMNListEntry`).
//!
//! Layout by protocol version `p` and entry version `v`:
//! `v: u16` (only if `p >= 70228`) · proRegTxHash · confirmedHash · service
//! (18 bytes) · operator BLS key (48 bytes) · voting key id (20) · isValid ·
//! if `p >= 70227` and `v >= 2`: type `u16`, and for Evo nodes the platform
//! HTTP port `u16` and platform node id (20).
//! Below 70228 entries carry no version and are version 1 (legacy BLS keys).

use super::address::ServiceAddress;
use super::version::{DMN_TYPE_PROTO_VERSION, SMNLE_VERSIONED_PROTO_VERSION};
use crate::encode::{Decodable, DecodeError, Encodable, Reader};
use crate::hash::{BlockHash, ProTxHash};

/// Entry version whose operator key uses the legacy (pre-IETF) BLS encoding.
pub const SML_ENTRY_VERSION_LEGACY_BLS: u16 = 1;
/// Entry version whose operator key uses the basic-scheme BLS encoding.
pub const SML_ENTRY_VERSION_BASIC_BLS: u16 = 2;

/// The kind of masternode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MasternodeType {
    /// A regular masternode (type 0).
    Regular,
    /// An Evo masternode, which also serves Dash Platform (type 1).
    Evo {
        /// Platform HTTP port.
        platform_http_port: u16,
        /// Platform node id (the hash160 of its P2P key).
        platform_node_id: [u8; 20],
    },
}

impl MasternodeType {
    /// The type number on the wire.
    pub fn type_id(&self) -> u16 {
        match self {
            MasternodeType::Regular => 0,
            MasternodeType::Evo { .. } => 1,
        }
    }
}

/// One masternode in the simplified masternode list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SmlEntry {
    /// Entry version: 1 (legacy BLS operator key) or 2 (basic-scheme key).
    pub version: u16,
    /// Hash of the masternode's registration transaction: its identity.
    pub pro_reg_tx_hash: ProTxHash,
    /// Hash of the block at which the masternode was confirmed (zero until then).
    pub confirmed_hash: BlockHash,
    /// The masternode's P2P address.
    pub service: ServiceAddress,
    /// The operator's BLS public key as on the wire; the entry version says
    /// whether it is in the legacy or the basic-scheme encoding.
    pub operator_public_key: [u8; 48],
    /// Hash160 of the voting key.
    pub voting_key_id: [u8; 20],
    /// Whether the masternode is valid (not PoSe-banned).
    pub is_valid: bool,
    /// Regular or Evo (always `Regular` for version 1 entries).
    pub mn_type: MasternodeType,
}

impl SmlEntry {
    /// The fewest bytes an entry takes on the wire (version 1, no version field).
    pub const MIN_ENCODED_SIZE: usize = 32 + 32 + ServiceAddress::SIZE + 48 + 20 + 1;

    /// The masternode's identity: its registration transaction hash.
    pub fn pro_reg_tx_hash(&self) -> ProTxHash {
        self.pro_reg_tx_hash
    }

    /// Whether the operator key is in the legacy BLS encoding (version 1).
    pub fn uses_legacy_bls(&self) -> bool {
        self.version == SML_ENTRY_VERSION_LEGACY_BLS
    }

    /// Whether this is an Evo masternode.
    pub fn is_evo(&self) -> bool {
        matches!(self.mn_type, MasternodeType::Evo { .. })
    }

    /// Reads an entry in the layout of `protocol_version`.
    pub fn decode(r: &mut Reader<'_>, protocol_version: u32) -> Result<SmlEntry, DecodeError> {
        let version = if protocol_version >= SMNLE_VERSIONED_PROTO_VERSION {
            r.read_u16()?
        } else {
            SML_ENTRY_VERSION_LEGACY_BLS
        };
        if version == 0 {
            return Err(DecodeError::InvalidValue {
                field: "SML entry version",
                value: 0,
            });
        }
        if version > SML_ENTRY_VERSION_BASIC_BLS {
            // Version 3 (Dash Core 23, DIP-3 extended addresses) replaces the
            // 18-byte service with a variable-length network-info list.
            return Err(DecodeError::UnsupportedVersion {
                field: "SML entry version",
                version: u64::from(version),
            });
        }
        let pro_reg_tx_hash = ProTxHash::decode(r)?;
        let confirmed_hash = BlockHash::decode(r)?;
        let service = ServiceAddress::decode(r)?;
        let operator_public_key = r.read_array()?;
        let voting_key_id = r.read_array()?;
        let is_valid = r.read_bool("SML entry isValid")?;
        let mn_type = if protocol_version >= DMN_TYPE_PROTO_VERSION
            && version >= SML_ENTRY_VERSION_BASIC_BLS
        {
            match r.read_u16()? {
                0 => MasternodeType::Regular,
                1 => MasternodeType::Evo {
                    platform_http_port: r.read_u16()?,
                    platform_node_id: r.read_array()?,
                },
                // A type a newer Dash Core may add, with fields of its own.
                other => {
                    return Err(DecodeError::UnsupportedVersion {
                        field: "masternode type",
                        version: u64::from(other),
                    })
                }
            }
        } else {
            MasternodeType::Regular
        };
        Ok(SmlEntry {
            version,
            pro_reg_tx_hash,
            confirmed_hash,
            service,
            operator_public_key,
            voting_key_id,
            is_valid,
            mn_type,
        })
    }

    /// Appends the entry in the layout of `protocol_version`.
    pub fn encode(&self, out: &mut Vec<u8>, protocol_version: u32) {
        if protocol_version >= SMNLE_VERSIONED_PROTO_VERSION {
            self.version.encode(out);
        }
        self.encode_fields(out, protocol_version >= DMN_TYPE_PROTO_VERSION);
    }

    /// Appends the entry as it is hashed for the masternode list's merkle
    /// tree: every field except the leading version, type fields included for
    /// version 2 entries.
    pub fn encode_without_version(&self, out: &mut Vec<u8>) {
        self.encode_fields(out, true);
    }

    fn encode_fields(&self, out: &mut Vec<u8>, with_type: bool) {
        self.pro_reg_tx_hash.encode(out);
        self.confirmed_hash.encode(out);
        self.service.encode(out);
        self.operator_public_key.encode(out);
        self.voting_key_id.encode(out);
        out.push(u8::from(self.is_valid));
        if with_type && self.version >= SML_ENTRY_VERSION_BASIC_BLS {
            self.mn_type.type_id().encode(out);
            if let MasternodeType::Evo {
                platform_http_port,
                platform_node_id,
            } = &self.mn_type
            {
                platform_http_port.encode(out);
                platform_node_id.encode(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::version::PROTOCOL_VERSION;

    fn entry(version: u16, mn_type: MasternodeType) -> SmlEntry {
        SmlEntry {
            version,
            pro_reg_tx_hash: ProTxHash([1; 32]),
            confirmed_hash: BlockHash([2; 32]),
            service: ServiceAddress {
                ip: [3; 16],
                port: 19999,
            },
            operator_public_key: [4; 48],
            voting_key_id: [5; 20],
            is_valid: true,
            mn_type,
        }
    }

    fn round_trip(e: &SmlEntry, protocol_version: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        e.encode(&mut bytes, protocol_version);
        let mut r = Reader::new(&bytes);
        assert_eq!(SmlEntry::decode(&mut r, protocol_version).as_ref(), Ok(e));
        assert_eq!(r.finish(), Ok(()));
        bytes
    }

    #[test]
    fn sizes_follow_version_and_type() {
        let evo = MasternodeType::Evo {
            platform_http_port: 443,
            platform_node_id: [6; 20],
        };
        assert_eq!(
            round_trip(&entry(1, MasternodeType::Regular), PROTOCOL_VERSION).len(),
            153
        );
        assert_eq!(
            round_trip(&entry(2, MasternodeType::Regular), PROTOCOL_VERSION).len(),
            155
        );
        assert_eq!(round_trip(&entry(2, evo), PROTOCOL_VERSION).len(), 177);
        assert_eq!(
            round_trip(&entry(1, MasternodeType::Regular), 70227).len(),
            151
        );
    }

    #[test]
    fn the_hashed_form_drops_only_the_version() {
        let e = entry(2, MasternodeType::Regular);
        let mut wire = Vec::new();
        e.encode(&mut wire, PROTOCOL_VERSION);
        let mut hashed = Vec::new();
        e.encode_without_version(&mut hashed);
        assert_eq!(&wire[2..], &hashed[..]);
    }

    #[test]
    fn unknown_versions_and_types_are_rejected() {
        let mut bytes = Vec::new();
        entry(2, MasternodeType::Regular).encode(&mut bytes, PROTOCOL_VERSION);
        let mut v3 = bytes.clone();
        v3[0] = 3;
        assert!(SmlEntry::decode(&mut Reader::new(&v3), PROTOCOL_VERSION).is_err());
        assert_eq!(
            SmlEntry::decode(&mut Reader::new(&v3), PROTOCOL_VERSION),
            Err(DecodeError::UnsupportedVersion {
                field: "SML entry version",
                version: 3
            })
        );
        let mut v0 = bytes.clone();
        v0[0] = 0;
        assert!(matches!(
            SmlEntry::decode(&mut Reader::new(&v0), PROTOCOL_VERSION),
            Err(DecodeError::InvalidValue { .. })
        ));
        let last = bytes.len() - 2;
        bytes[last] = 7;
        assert!(SmlEntry::decode(&mut Reader::new(&bytes), PROTOCOL_VERSION).is_err());
    }
}
