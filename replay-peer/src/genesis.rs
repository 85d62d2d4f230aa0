//! The genesis block headers: the root of every served chain.

use dashlight::block::BlockHeader;
use dashlight::hash::{BlockHash, MerkleNode};
use dashlight::network::Network;

/// The merkle root shared by the mainnet and testnet genesis blocks, in wire order.
const GENESIS_MERKLE_ROOT: [u8; 32] = [
    0xc7, 0x62, 0xa6, 0x56, 0x7f, 0x3c, 0xc0, 0x92, 0xf0, 0x68, 0x4b, 0xb6, 0x2b, 0x7e, 0x00, 0xa8,
    0x48, 0x90, 0xb9, 0x90, 0xf0, 0x7c, 0xc7, 0x1a, 0x6b, 0xb5, 0x8d, 0x64, 0xb9, 0x8e, 0x02, 0xe0,
];

/// The genesis block header of `network`.
pub fn genesis_header(network: Network) -> BlockHeader {
    let (time, nonce) = match network {
        Network::Mainnet => (1_390_095_618, 28_917_698),
        Network::Testnet => (1_390_666_206, 3_861_367_235),
    };
    BlockHeader {
        version: 1,
        prev_blockhash: BlockHash::ZERO,
        merkle_root: MerkleNode(GENESIS_MERKLE_ROOT),
        time,
        bits: 0x1e0f_fff0,
        nonce,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_headers_hash_to_the_network_genesis() {
        for network in [Network::Mainnet, Network::Testnet] {
            assert_eq!(
                genesis_header(network).block_hash(),
                network.genesis_hash(),
                "{network}"
            );
        }
    }
}
