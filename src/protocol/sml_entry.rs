//! Simplified masternode list entries (DIP-4 `CSimplifiedMNListEntry`).
//!
//! Layout by protocol version `p` and entry version `v`:
//! `v: u16` (only if `p >= 70228`) · proRegTxHash · confirmedHash · network
//! info (versions 1 and 2: an 18-byte service address; version 3: extended
//! network info, see [`super::net_info`]) · operator BLS key (48 bytes) ·
//! voting key id (20) · isValid · if `p >= 70227` and `v >= 2`: type `u16`,
//! and for Evo nodes the platform HTTP port `u16` and platform node id (20).
//! Below 70228 entries carry no version and are version 1 (legacy BLS keys).
//! A later entry version is reported as unsupported, not as invalid.

use super::address::ServiceAddress;
use super::net_info::NetInfo;
use super::version::{DMN_TYPE_PROTO_VERSION, SMNLE_VERSIONED_PROTO_VERSION};
use crate::encode::{Decodable, DecodeError, Encodable, Reader};
use crate::hash::{BlockHash, ProTxHash};

/// Entry version whose operator key uses the legacy (pre-IETF) BLS encoding.
pub const SML_ENTRY_VERSION_LEGACY_BLS: u16 = 1;
/// Entry version whose operator key uses the basic-scheme BLS encoding.
pub const SML_ENTRY_VERSION_BASIC_BLS: u16 = 2;
/// Entry version with extended network info (`ProTxVersion::ExtAddr`, Dash
/// Core 23): a list of addresses per purpose instead of one service address.
pub const SML_ENTRY_VERSION_EXT_ADDR: u16 = 3;

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
    /// Entry version: 1 (legacy BLS operator key), 2 (basic-scheme key) or
    /// 3 (basic-scheme key, extended network info).
    pub version: u16,
    /// Hash of the masternode's registration transaction: its identity.
    pub pro_reg_tx_hash: ProTxHash,
    /// Hash of the block at which the masternode was confirmed (zero until then).
    pub confirmed_hash: BlockHash,
    /// The masternode's addresses: one service address up to version 2,
    /// extended network info from version 3.
    pub net_info: NetInfo,
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
    /// The fewest bytes an entry takes on the wire: a version 3 entry with
    /// empty network info (version byte and purpose count) and its type, or a
    /// version 1 entry without version field, whichever is smaller.
    pub const MIN_ENCODED_SIZE: usize = {
        let unversioned = 32 + 32 + ServiceAddress::SIZE + 48 + 20 + 1;
        let extended = 2 + 32 + 32 + 2 + 48 + 20 + 1 + 2;
        if extended < unversioned {
            extended
        } else {
            unversioned
        }
    };

    /// The masternode's identity: its registration transaction hash.
    pub fn pro_reg_tx_hash(&self) -> ProTxHash {
        self.pro_reg_tx_hash
    }

    /// The Core P2P address (for version 3 entries, the first IPv4 or IPv6
    /// one; all zero if there is none).
    pub fn service(&self) -> ServiceAddress {
        self.net_info.core_p2p()
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
        if version > SML_ENTRY_VERSION_EXT_ADDR {
            return Err(DecodeError::UnsupportedVersion {
                field: "SML entry version",
                version: u64::from(version),
            });
        }
        let pro_reg_tx_hash = ProTxHash::decode(r)?;
        let confirmed_hash = BlockHash::decode(r)?;
        let net_info = NetInfo::decode(r, version >= SML_ENTRY_VERSION_EXT_ADDR)?;
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
            net_info,
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
        self.net_info.encode(out);
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
    use crate::hash::sha256d;
    use crate::protocol::net_info::{
        ExtNetInfo, NetAddress, NetInfoEntry, PurposeEntries, BIP155_IPV4, BIP155_IPV6,
        PURPOSE_CORE_P2P, PURPOSE_PLATFORM_HTTPS, PURPOSE_PLATFORM_P2P,
    };
    use crate::protocol::version::PROTOCOL_VERSION;

    fn entry(version: u16, mn_type: MasternodeType) -> SmlEntry {
        SmlEntry {
            version,
            pro_reg_tx_hash: ProTxHash([1; 32]),
            confirmed_hash: BlockHash([2; 32]),
            net_info: NetInfo::Service(ServiceAddress {
                ip: [3; 16],
                port: 19999,
            }),
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

    fn address(network: u8, address: &[u8], port: u16) -> NetInfoEntry {
        NetInfoEntry::Service(NetAddress {
            network,
            address: address.to_vec(),
            port,
        })
    }

    /// A version 3 Evo entry: two Core P2P addresses (IPv4, IPv6) and Platform ones.
    fn extended_evo() -> SmlEntry {
        let mut ipv6 = [0u8; 16];
        ipv6[0] = 0x20;
        ipv6[1] = 0x01;
        ipv6[15] = 7;
        SmlEntry {
            net_info: NetInfo::Extended(Box::new(ExtNetInfo::new(&[
                PurposeEntries {
                    purpose: PURPOSE_CORE_P2P,
                    entries: vec![
                        address(BIP155_IPV4, &[10, 0, 0, 1], 19999),
                        address(BIP155_IPV6, &ipv6, 19999),
                    ],
                },
                PurposeEntries {
                    purpose: PURPOSE_PLATFORM_P2P,
                    entries: vec![address(BIP155_IPV4, &[10, 0, 0, 1], 36656)],
                },
                PurposeEntries {
                    purpose: PURPOSE_PLATFORM_HTTPS,
                    entries: vec![address(BIP155_IPV4, &[10, 0, 0, 1], 443)],
                },
            ]))),
            ..entry(
                SML_ENTRY_VERSION_EXT_ADDR,
                MasternodeType::Evo {
                    platform_http_port: 443,
                    platform_node_id: [6; 20],
                },
            )
        }
    }

    #[test]
    fn version_3_entries_carry_extended_network_info() {
        let e = extended_evo();
        let bytes = round_trip(&e, PROTOCOL_VERSION);
        // version · hashes · ext info (version, count, then per purpose its code, count
        // and entries: IPv4 9 bytes, IPv6 21) · key, id, valid · type, port, node id
        let ext = 2 + (2 + 9 + 21) + (2 + 9) + (2 + 9);
        assert_eq!(bytes.len(), 2 + 64 + ext + 48 + 20 + 1 + 2 + 2 + 20);
        assert_eq!(&bytes[66..70], &[1, 3, PURPOSE_CORE_P2P, 2]);
        assert_eq!(e.service().socket_addr(), "10.0.0.1:19999".parse().unwrap());
        assert!(!e.uses_legacy_bls());
        // The smallest entry: no addresses at all.
        let empty = SmlEntry {
            net_info: NetInfo::Extended(Box::default()),
            ..entry(SML_ENTRY_VERSION_EXT_ADDR, MasternodeType::Regular)
        };
        assert_eq!(
            round_trip(&empty, PROTOCOL_VERSION).len(),
            SmlEntry::MIN_ENCODED_SIZE
        );
    }

    #[test]
    fn the_entry_hash_covers_the_exact_extended_serialization() {
        let e = extended_evo();
        let mut wire = Vec::new();
        e.encode(&mut wire, PROTOCOL_VERSION);
        let mut hashed = Vec::new();
        e.encode_without_version(&mut hashed);
        assert_eq!(&wire[2..], &hashed[..]);
        // Any change to an address changes the leaf of the list's merkle tree.
        let mut moved = e.clone();
        if let NetInfo::Extended(ext) = &e.net_info {
            let mut purposes = ext.purposes();
            purposes[2].entries[0] = address(BIP155_IPV4, &[10, 0, 0, 1], 444);
            moved.net_info = NetInfo::Extended(Box::new(ExtNetInfo::new(&purposes)));
        }
        let mut moved_bytes = Vec::new();
        moved.encode_without_version(&mut moved_bytes);
        assert_ne!(sha256d(&hashed), sha256d(&moved_bytes));
    }

    #[test]
    fn unknown_versions_and_types_are_rejected() {
        let mut bytes = Vec::new();
        entry(2, MasternodeType::Regular).encode(&mut bytes, PROTOCOL_VERSION);
        let mut v4 = bytes.clone();
        v4[0] = 4;
        assert_eq!(
            SmlEntry::decode(&mut Reader::new(&v4), PROTOCOL_VERSION),
            Err(DecodeError::UnsupportedVersion {
                field: "SML entry version",
                version: 4
            })
        );
        // A version 2 entry's service read as version 3 network info: not an
        // extended format this client knows (its first byte is the IP's).
        let mut v3 = bytes.clone();
        v3[0] = 3;
        assert!(SmlEntry::decode(&mut Reader::new(&v3), PROTOCOL_VERSION).is_err());
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
