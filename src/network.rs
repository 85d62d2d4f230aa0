//! The Dash networks dashlight knows: their magic bytes, ports and genesis blocks.

use crate::hash::BlockHash;
use core::fmt;
use core::str::FromStr;

/// A Dash network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Network {
    /// The main network.
    Mainnet,
    /// The public test network.
    Testnet,
}

impl Network {
    /// The four magic bytes that start every P2P message, in wire order.
    pub const fn magic(self) -> [u8; 4] {
        match self {
            Network::Mainnet => [0xbf, 0x0c, 0x6b, 0xbd],
            Network::Testnet => [0xce, 0xe2, 0xca, 0xff],
        }
    }

    /// The network whose messages start with `magic`, if any.
    pub fn from_magic(magic: [u8; 4]) -> Option<Network> {
        [Network::Mainnet, Network::Testnet]
            .into_iter()
            .find(|n| n.magic() == magic)
    }

    /// The default P2P port.
    pub const fn default_port(self) -> u16 {
        match self {
            Network::Mainnet => 9999,
            Network::Testnet => 19999,
        }
    }

    /// The hash of the genesis block.
    pub fn genesis_hash(self) -> BlockHash {
        let mut bytes = [0u8; 32];
        let display = match self {
            Network::Mainnet => "00000ffd590b1485b3caadc19b22e6379c733355108f107a430458cdf3407ab6",
            Network::Testnet => "00000bafbc94add76cb75e2ec92894837288a481e5c005f6563d91623bf8bc2c",
        };
        // Both literals are 64 valid hex digits.
        if hex::decode_to_slice(display, &mut bytes).is_ok() {
            bytes.reverse();
        }
        BlockHash(bytes)
    }

    /// The lower-case name used in options and file names.
    pub const fn name(self) -> &'static str {
        match self {
            Network::Mainnet => "mainnet",
            Network::Testnet => "testnet",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name given is not a network dashlight knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownNetwork(pub String);

impl fmt::Display for UnknownNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown network {:?} (expected \"mainnet\" or \"testnet\")",
            self.0
        )
    }
}

impl std::error::Error for UnknownNetwork {}

impl FromStr for Network {
    type Err = UnknownNetwork;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mainnet" => Ok(Network::Mainnet),
            "testnet" => Ok(Network::Testnet),
            other => Err(UnknownNetwork(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_identifies_the_network() {
        for n in [Network::Mainnet, Network::Testnet] {
            assert_eq!(Network::from_magic(n.magic()), Some(n));
            assert_eq!(n.name().parse::<Network>(), Ok(n));
        }
        assert_eq!(Network::from_magic([0; 4]), None);
    }

    #[test]
    fn genesis_hash_is_parsed() {
        assert_eq!(
            Network::Testnet.genesis_hash().to_string(),
            "00000bafbc94add76cb75e2ec92894837288a481e5c005f6563d91623bf8bc2c"
        );
    }
}
