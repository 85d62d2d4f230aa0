//! Which IP addresses are not on the public internet, so that the bridge
//! cannot be used to reach a host's or a network's internal services.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why `ip` is not a public unicast address (such as "loopback" or
/// "private"), or `None` for a public one. IPv4 addresses embedded in IPv6
/// (mapped, NAT64, 6to4) are judged as the IPv4 address they carry.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        (0, _, _) => Some("unspecified"),
        (127, _, _) => Some("loopback"),
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => Some("private"),
        (100, 64..=127, _) => Some("shared (carrier-grade NAT)"),
        (169, 254, _) => Some("link-local"),
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Some("documentation"),
        (198, 18..=19, _) => Some("benchmarking"),
        (192, 0, 0) | (240..=255, _, _) => Some("reserved"),
        (224..=239, _, _) => Some("multicast"),
        _ => None,
    }
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reason(v4);
    }
    let embedded_low = || {
        let [_, _, _, _, _, _, hi, lo] = s;
        Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))
    };
    match s {
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => v4_reason(embedded_low()),
        [0x2002, hi, lo, ..] => v4_reason(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))),
        [0, 0, 0, 0, 0, 0, _, _] => Some("reserved"),
        [0x100, 0, 0, 0, ..] => Some("reserved"),
        [0x2001, 0xdb8, ..] => Some("documentation"),
        // Transition ranges whose IPv4 side the bridge cannot judge.
        [0x2001, 0, ..] => Some("Teredo"),
        [0x64, 0xff9b, 1, ..] => Some("local-use NAT64"),
        [0x2001, 2, 0, ..] => Some("benchmarking"),
        [first, ..] if first & 0xfe00 == 0xfc00 => Some("unique local"),
        [first, ..] if first & 0xffc0 == 0xfe80 => Some("link-local"),
        [first, ..] if first & 0xffc0 == 0xfec0 => Some("site-local"),
        [first, ..] if first & 0xff00 == 0xff00 => Some("multicast"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(ip: &str) -> Option<&'static str> {
        forbidden_reason(ip.parse().unwrap())
    }

    #[test]
    fn internal_addresses_are_refused() {
        for (ip, why) in [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.100.0.1", "shared (carrier-grade NAT)"),
            ("0.0.0.0", "unspecified"),
            ("255.255.255.255", "reserved"),
            ("224.0.0.1", "multicast"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("64:ff9b::a00:1", "private"),
            ("2002:c0a8:0101::1", "private"),
            ("fd00::1", "unique local"),
            ("fe80::1", "link-local"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
            ("2001::1", "Teredo"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
            ("64:ff9b:1::a00:1", "local-use NAT64"),
            ("64:ff9b:1:ffff::8.8.8.8", "local-use NAT64"),
            ("2001:2::1", "benchmarking"),
            ("2001:2:0:ffff::1", "benchmarking"),
        ] {
            assert_eq!(reason(ip), Some(why), "{ip}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "193.0.0.1",
            "2001:4860:4860::8888",
            "2001:1::1",
            "2001:2:1::1",
            "64:ff9b:2::1",
            "::ffff:8.8.8.8",
            "2a01:4f8::1",
        ] {
            assert_eq!(reason(ip), None, "{ip}");
        }
    }
}
