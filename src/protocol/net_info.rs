//! A masternode's network addresses as a simplified masternode list entry
//! carries them (Dash Core's `NetInfoSerWrapper`).
//!
//! Entry versions 1 and 2 carry one 18-byte [`ServiceAddress`] (`MnNetInfo`).
//! Version 3 (`ProTxVersion::ExtAddr`, DIP-3 extended addresses, Dash Core 23)
//! carries an [`ExtNetInfo`]: `version: u8` (1), then a map, ordered by key,
//! from a purpose code (`u8`) to a list of entries, each a type byte (`0x01`:
//! an address follows; `0xff`: an invalid entry, nothing follows) and an
//! address in the BIP155 (`addrv2`) form: network id `u8`, compact-size
//! length, address bytes, big-endian port.

use super::address::ServiceAddress;
use crate::encode::{write_compact_size, DecodeError, Encodable, Reader};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Purpose code of the Core P2P addresses (mandatory for every masternode).
pub const PURPOSE_CORE_P2P: u8 = 0;
/// Purpose code of the Platform P2P addresses (Evo nodes).
pub const PURPOSE_PLATFORM_P2P: u8 = 1;
/// Purpose code of the Platform HTTPS addresses (Evo nodes).
pub const PURPOSE_PLATFORM_HTTPS: u8 = 2;

/// The [`ExtNetInfo`] format version this decoder reads.
pub const EXT_NET_INFO_VERSION: u8 = 1;

/// BIP155 network id of IPv4 (4 address bytes).
pub const BIP155_IPV4: u8 = 1;
/// BIP155 network id of IPv6 (16 address bytes).
pub const BIP155_IPV6: u8 = 2;

/// The longest BIP155 address accepted (`MAX_ADDRV2_SIZE`).
pub const MAX_ADDRV2_SIZE: usize = 512;

/// Entry type byte: an address follows.
const ENTRY_SERVICE: u8 = 0x01;
/// Entry type byte: an invalid entry, nothing follows.
const ENTRY_INVALID: u8 = 0xff;

/// A masternode's network addresses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NetInfo {
    /// One address and port (entry versions 1 and 2).
    Service(ServiceAddress),
    /// Addresses by purpose (entry version 3).
    Extended(Box<ExtNetInfo>),
}

impl NetInfo {
    /// The Core P2P address as an 18-byte service address: the legacy
    /// address itself, or the first IPv4 or IPv6 Core P2P entry of an
    /// extended one; all zero when there is none.
    pub fn core_p2p(&self) -> ServiceAddress {
        match self {
            NetInfo::Service(service) => *service,
            NetInfo::Extended(ext) => ext
                .entries(PURPOSE_CORE_P2P)
                .iter()
                .find_map(|e| match e {
                    NetInfoEntry::Service(addr) => addr.socket_addr(),
                    NetInfoEntry::Invalid => None,
                })
                .map(ServiceAddress::from)
                .unwrap_or_default(),
        }
    }

    /// Reads the addresses in the form `extended` says (entry version 3 and later).
    pub fn decode(r: &mut Reader<'_>, extended: bool) -> Result<NetInfo, DecodeError> {
        if extended {
            Ok(NetInfo::Extended(Box::new(ExtNetInfo::decode(r)?)))
        } else {
            Ok(NetInfo::Service(crate::encode::Decodable::decode(r)?))
        }
    }
}

impl Encodable for NetInfo {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            NetInfo::Service(service) => service.encode(out),
            NetInfo::Extended(ext) => ext.encode(out),
        }
    }
}

/// Extended network info (format version 1), kept as its exact encoding: it
/// is hashed as it is (the list's merkle tree), and a copy of the bytes costs
/// no more memory than the message that carried them. Read it with
/// [`ExtNetInfo::purposes`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtNetInfo {
    /// The encoding after the version byte: purpose count and lists.
    encoded: Box<[u8]>,
}

/// The addresses given for one purpose.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PurposeEntries {
    /// The purpose code (see [`PURPOSE_CORE_P2P`] and the others).
    pub purpose: u8,
    /// The entries, in wire order.
    pub entries: Vec<NetInfoEntry>,
}

/// One entry of an address list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NetInfoEntry {
    /// An address and port.
    Service(NetAddress),
    /// An entry marked invalid (type `0xff`; nothing follows it).
    Invalid,
}

/// An address of any BIP155 network, with a port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NetAddress {
    /// The BIP155 network id (1 IPv4, 2 IPv6, 4 Tor v3, 5 I2P, 6 CJDNS, …).
    pub network: u8,
    /// The address bytes, as many as the network uses.
    pub address: Vec<u8>,
    /// The port.
    pub port: u16,
}

impl NetAddress {
    /// The address as a socket address, if it is IPv4 or IPv6.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        let ip = match (self.network, self.address.as_slice()) {
            (BIP155_IPV4, &[a, b, c, d]) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
            (BIP155_IPV6, bytes) => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?)),
            _ => return None,
        };
        Some(SocketAddr::new(ip, self.port))
    }
}

impl Encodable for NetAddress {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.network);
        write_compact_size(out, self.address.len() as u64);
        out.extend_from_slice(&self.address);
        out.extend_from_slice(&self.port.to_be_bytes());
    }
}

/// One entry as [`walk`] reads it, borrowing the address bytes.
enum EntryRef<'a> {
    Service {
        network: u8,
        address: &'a [u8],
        port: u16,
    },
    Invalid,
}

/// Reads purpose count and lists (the encoding after the version byte),
/// handing each entry to `visit` with its purpose; allocates nothing.
fn walk<'a>(
    r: &mut Reader<'a>,
    mut visit: impl FnMut(u8, EntryRef<'a>),
) -> Result<(), DecodeError> {
    // Each purpose takes at least its code and an entry count.
    let count = r.read_count("network info purposes", 2)?;
    let mut last = None;
    for _ in 0..count {
        let purpose = r.read_u8()?;
        if last.is_some_and(|last| last >= purpose) {
            // A map is written in key order, each key once.
            return Err(DecodeError::InvalidValue {
                field: "network info purpose order",
                value: u64::from(purpose),
            });
        }
        last = Some(purpose);
        let len = r.read_count("network info entries", 1)?;
        for _ in 0..len {
            let entry = match r.read_u8()? {
                ENTRY_SERVICE => read_address(r)?,
                ENTRY_INVALID => EntryRef::Invalid,
                // A kind of entry a newer Dash Core may add, with fields of its own.
                other => {
                    return Err(DecodeError::UnsupportedVersion {
                        field: "network info entry type",
                        version: u64::from(other),
                    })
                }
            };
            visit(purpose, entry);
        }
    }
    Ok(())
}

fn read_address<'a>(r: &mut Reader<'a>) -> Result<EntryRef<'a>, DecodeError> {
    let network = r.read_u8()?;
    let len = r.read_count("network address", 1)?;
    if len > MAX_ADDRV2_SIZE {
        return Err(DecodeError::InvalidValue {
            field: "network address length",
            value: len as u64,
        });
    }
    let expected = match network {
        BIP155_IPV4 => Some(4),
        BIP155_IPV6 => Some(16),
        _ => None,
    };
    if expected.is_some_and(|n| n != len) {
        return Err(DecodeError::InvalidValue {
            field: "IP address length",
            value: len as u64,
        });
    }
    let address = r.read_bytes(len)?;
    let port = u16::from_be_bytes(r.read_array()?);
    Ok(EntryRef::Service {
        network,
        address,
        port,
    })
}

impl ExtNetInfo {
    /// Extended network info holding `purposes` (in increasing purpose order,
    /// as the wire requires).
    pub fn new(purposes: &[PurposeEntries]) -> ExtNetInfo {
        let mut out = Vec::new();
        write_compact_size(&mut out, purposes.len() as u64);
        for p in purposes {
            out.push(p.purpose);
            write_compact_size(&mut out, p.entries.len() as u64);
            for entry in &p.entries {
                match entry {
                    NetInfoEntry::Service(addr) => {
                        out.push(ENTRY_SERVICE);
                        addr.encode(&mut out);
                    }
                    NetInfoEntry::Invalid => out.push(ENTRY_INVALID),
                }
            }
        }
        ExtNetInfo {
            encoded: out.into_boxed_slice(),
        }
    }

    /// The address lists by purpose, in increasing purpose order.
    pub fn purposes(&self) -> Vec<PurposeEntries> {
        let mut purposes: Vec<PurposeEntries> = Vec::new();
        // The encoding was checked when it was read or written.
        let walked = walk(&mut Reader::new(&self.encoded), |purpose, entry| {
            let entry = match entry {
                EntryRef::Service {
                    network,
                    address,
                    port,
                } => NetInfoEntry::Service(NetAddress {
                    network,
                    address: address.to_vec(),
                    port,
                }),
                EntryRef::Invalid => NetInfoEntry::Invalid,
            };
            match purposes.last_mut() {
                Some(last) if last.purpose == purpose => last.entries.push(entry),
                _ => purposes.push(PurposeEntries {
                    purpose,
                    entries: vec![entry],
                }),
            }
        });
        match walked {
            Ok(()) => purposes,
            Err(_) => Vec::new(),
        }
    }

    /// The entries given for `purpose`.
    pub fn entries(&self, purpose: u8) -> Vec<NetInfoEntry> {
        self.purposes()
            .into_iter()
            .find(|p| p.purpose == purpose)
            .map(|p| p.entries)
            .unwrap_or_default()
    }

    fn decode(r: &mut Reader<'_>) -> Result<ExtNetInfo, DecodeError> {
        match r.read_u8()? {
            EXT_NET_INFO_VERSION => {}
            0 => {
                return Err(DecodeError::InvalidValue {
                    field: "extended network info version",
                    value: 0,
                })
            }
            // A later format: what follows it is unknown.
            other => {
                return Err(DecodeError::UnsupportedVersion {
                    field: "extended network info version",
                    version: u64::from(other),
                })
            }
        }
        let mut probe = r.clone();
        let start = probe.position();
        walk(&mut probe, |_, _| {})?;
        let encoded = r.read_owned_bytes("extended network info", probe.position() - start)?;
        Ok(ExtNetInfo {
            encoded: encoded.into_boxed_slice(),
        })
    }
}

/// No addresses at all.
impl Default for ExtNetInfo {
    fn default() -> Self {
        ExtNetInfo::new(&[])
    }
}

impl Encodable for ExtNetInfo {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(EXT_NET_INFO_VERSION);
        out.extend_from_slice(&self.encoded);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4(a: [u8; 4], port: u16) -> NetInfoEntry {
        NetInfoEntry::Service(NetAddress {
            network: BIP155_IPV4,
            address: a.to_vec(),
            port,
        })
    }

    fn sample() -> ExtNetInfo {
        ExtNetInfo::new(&[
            PurposeEntries {
                purpose: PURPOSE_CORE_P2P,
                entries: vec![
                    NetInfoEntry::Service(NetAddress {
                        network: 4,
                        address: vec![9; 32],
                        port: 9999,
                    }),
                    ipv4([1, 2, 3, 4], 9999),
                ],
            },
            PurposeEntries {
                purpose: PURPOSE_PLATFORM_HTTPS,
                entries: vec![ipv4([5, 6, 7, 8], 443), NetInfoEntry::Invalid],
            },
        ])
    }

    #[test]
    fn the_layout_is_version_then_purposes_then_addrv2_entries() {
        let mut bytes = Vec::new();
        ExtNetInfo::new(&[PurposeEntries {
            purpose: PURPOSE_CORE_P2P,
            entries: vec![ipv4([1, 2, 3, 4], 19999)],
        }])
        .encode(&mut bytes);
        assert_eq!(
            bytes,
            [1, 1, 0, 1, 0x01, BIP155_IPV4, 4, 1, 2, 3, 4, 0x4e, 0x1f]
        );
    }

    #[test]
    fn extended_info_round_trips_byte_for_byte() {
        let info = NetInfo::Extended(Box::new(sample()));
        let mut bytes = Vec::new();
        info.encode(&mut bytes);
        let mut r = Reader::new(&bytes);
        assert_eq!(NetInfo::decode(&mut r, true), Ok(info.clone()));
        assert_eq!(r.finish(), Ok(()));
        assert_eq!(sample().purposes().len(), 2);
        assert_eq!(
            sample().entries(PURPOSE_PLATFORM_HTTPS)[1],
            NetInfoEntry::Invalid
        );
        assert!(sample().entries(PURPOSE_PLATFORM_P2P).is_empty());
        // The Core P2P address is the first IP one (the Tor address is skipped).
        assert_eq!(
            info.core_p2p().socket_addr(),
            "1.2.3.4:9999".parse().unwrap()
        );
        assert_eq!(
            NetInfo::Extended(Box::default()).core_p2p(),
            ServiceAddress::default()
        );
    }

    #[test]
    fn later_formats_and_entry_kinds_are_unsupported_not_invalid() {
        let mut bytes = Vec::new();
        sample().encode(&mut bytes);
        let mut later = bytes.clone();
        later[0] = 2;
        let error = NetInfo::decode(&mut Reader::new(&later), true).unwrap_err();
        assert!(error.is_unsupported(), "{error}");
        // The first entry's type byte: after version, count, purpose and entry count.
        let mut kind = bytes.clone();
        kind[4] = 0x02;
        let error = NetInfo::decode(&mut Reader::new(&kind), true).unwrap_err();
        assert!(error.is_unsupported(), "{error}");
        let mut zero = bytes.clone();
        zero[0] = 0;
        assert!(!NetInfo::decode(&mut Reader::new(&zero), true)
            .unwrap_err()
            .is_unsupported());
    }

    #[test]
    fn malformed_lists_are_rejected() {
        // Purposes out of order.
        let unordered = [1, 2, 2, 0, 0, 0];
        assert!(matches!(
            NetInfo::decode(&mut Reader::new(&unordered), true),
            Err(DecodeError::InvalidValue { .. })
        ));
        // An IPv4 address of 5 bytes.
        let long_ipv4 = [1, 1, 0, 1, 0x01, BIP155_IPV4, 5, 1, 2, 3, 4, 5, 0, 1];
        assert!(matches!(
            NetInfo::decode(&mut Reader::new(&long_ipv4), true),
            Err(DecodeError::InvalidValue { .. })
        ));
        // A count the input cannot hold.
        let huge = [1, 0xfd, 0xff, 0xff];
        assert!(matches!(
            NetInfo::decode(&mut Reader::new(&huge), true),
            Err(DecodeError::LengthTooLarge { .. })
        ));
    }
}
