//! The genesis blocks hash to the known values: X11 compiled from C works on
//! this target (natively and in the browser).

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use dashlight::block::BlockHeader;
use dashlight::hash::BlockHash;
use dashlight::network::Network;

/// The genesis header of `network`, as Dash Core defines it.
fn genesis_header(network: Network) -> BlockHeader {
    let (time, nonce) = match network {
        Network::Mainnet => (1390095618, 28917698),
        Network::Testnet => (1390666206, 3861367235),
    };
    BlockHeader {
        version: 1,
        prev_blockhash: BlockHash::ZERO,
        merkle_root: "e0028eb9648db56b1ac77cf090b99048a8007e2bb64b68f092c03c7f56a662c7"
            .parse()
            .unwrap(),
        time,
        bits: 0x1e0ffff0,
        nonce,
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn genesis_headers_hash_to_the_network_genesis() {
    for network in [Network::Mainnet, Network::Testnet] {
        assert_eq!(
            genesis_header(network).block_hash(),
            network.genesis_hash(),
            "{network}"
        );
    }
}
