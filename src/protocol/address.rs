//! Network addresses as the `version` message and SML entries carry them:
//! 16 bytes of IPv6 (IPv4 mapped into `::ffff:0:0/96`) and a big-endian port.

use crate::encode::{Decodable, DecodeError, Encodable, Reader};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// An IP address and port (Dash Core's `CService`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ServiceAddress {
    /// The address as 16 IPv6 bytes; IPv4 addresses are IPv4-mapped.
    pub ip: [u8; 16],
    /// The port (big-endian on the wire).
    pub port: u16,
}

impl ServiceAddress {
    /// The size on the wire.
    pub const SIZE: usize = 18;

    /// The address as a socket address (IPv4-mapped addresses become IPv4).
    pub fn socket_addr(&self) -> SocketAddr {
        let v6 = Ipv6Addr::from(self.ip);
        let ip = match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        };
        SocketAddr::new(ip, self.port)
    }
}

impl From<SocketAddr> for ServiceAddress {
    fn from(addr: SocketAddr) -> Self {
        let ip = match addr.ip() {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        };
        ServiceAddress {
            ip: ip.octets(),
            port: addr.port(),
        }
    }
}

impl Encodable for ServiceAddress {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ip);
        out.extend_from_slice(&self.port.to_be_bytes());
    }
}

impl Decodable for ServiceAddress {
    const MIN_ENCODED_SIZE: usize = Self::SIZE;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let ip = r.read_array()?;
        let port = u16::from_be_bytes(r.read_array()?);
        Ok(ServiceAddress { ip, port })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{deserialize, serialize};

    #[test]
    fn ipv4_is_mapped_and_the_port_is_big_endian() {
        let addr: SocketAddr = "1.2.3.4:19999".parse().unwrap();
        let service = ServiceAddress::from(addr);
        let bytes = serialize(&service);
        assert_eq!(&bytes[10..], &[0xff, 0xff, 1, 2, 3, 4, 0x4e, 0x1f]);
        assert_eq!(deserialize::<ServiceAddress>(&bytes), Ok(service));
        assert_eq!(service.socket_addr(), addr);
    }
}
