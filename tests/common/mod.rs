//! Fixtures shared by the integration tests, embedded so the same tests run
//! in the browser. `fixture_lists_are_complete` (native) checks that the lists
//! name every file in ../shared/fixtures.
#![allow(dead_code)]

use dashlight::protocol::version::PROTOCOL_VERSION;

/// The protocol version whose layout a fixture payload has (from its name).
pub fn layout_version(path: &str) -> u32 {
    if path.contains("_LAYOUT70228") {
        70228
    } else {
        PROTOCOL_VERSION
    }
}

/// A fixture file's path on disk (native only).
#[cfg(not(target_arch = "wasm32"))]
pub fn fixture_path(relative: &str) -> std::path::PathBuf {
    std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures")).join(relative)
}

macro_rules! fixture {
    ($path:literal) => {
        (
            $path,
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/fixtures/",
                $path
            )) as &[u8],
        )
    };
}

/// Every `mnlistdiff` payload: (path under fixtures/, bytes).
pub static MNLISTDIFFS: &[(&str, &[u8])] = &[
    fixture!("testnet/mnlistdiff/mnlistdiff_0_530000_LAYOUT70228.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_0_905762.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_530000_900096.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_530000_904144.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_530000_904382.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_530000_904920.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_530000_904944.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_530000_904947.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_530000_905465.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_530000_905490.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_530000_905522.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_530000_907104.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_900096_900120.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_900120_900144.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_900144_900168.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_900168_900192.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_900192_900216.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_900216_900240.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_900240_900264.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_900264_900288.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_900288_900312.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_900312_900336.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_900336_900360.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_900360_904344.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904344_904368.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904368_904392.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904392_904416.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904416_904440.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904440_904464.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904464_904488.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904488_904512.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904512_904536.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904536_904560.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904560_904608.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904608_904632.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904632_904656.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904656_904680.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904680_904704.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904704_904728.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904728_904752.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904752_904776.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904776_904800.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904800_904824.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904824_904848.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904848_904872.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904872_904896.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904896_904920.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904920_904944.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904920_904947.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904944_904968.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904947_904948.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904968_904992.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_904992_905016.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905016_905040.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905040_905064.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905064_905088.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905088_905112.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905112_905136.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905136_905160.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905160_905184.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905184_905208.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905208_905232.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905232_905256.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905256_905280.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905280_905304.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905304_905328.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905328_905352.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905352_905376.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905376_905400.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905400_905424.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905424_905448.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905448_905472.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905472_905490.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905472_905496.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905490_905491.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905496_905522.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905522_905523.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905523_905524.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_905524_905525.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_907104_907128.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_907128_907152.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_907152_907176.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_907176_907200.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_907200_907224.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_907224_907248.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_907248_907272.bin"),
    fixture!("testnet/mnlistdiff/mnlistdiff_907272_907296.bin"),
    fixture!("mainnet/p70230/mnlistdiff_0_2028691.bin"),
];

/// Every `qrinfo` payload: (path under fixtures/, bytes).
pub static QRINFOS: &[(&str, &[u8])] = &[
    fixture!("testnet/qrinfo/qrinfo_900692.bin"),
    fixture!("testnet/qrinfo/qrinfo_904144.bin"),
    fixture!("testnet/qrinfo/qrinfo_904382.bin"),
    fixture!("testnet/qrinfo/qrinfo_904383.bin"),
    fixture!("testnet/qrinfo/qrinfo_905294.bin"),
    fixture!("testnet/qrinfo/qrinfo_905538.bin"),
    fixture!("testnet/qrinfo/qrinfo_905770.bin"),
    fixture!("testnet/qrinfo/qrinfo_947248.bin"),
    fixture!("testnet/fork/qrinfo_901668_on_stale_fork.bin"),
    fixture!("mainnet/p70230/qrinfo_2028764.bin"),
];

/// The ChainLock fixture.
pub static CLSIG_905775: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/testnet/clsig/clsig_905775.bin"
));

/// 48,689 consecutive testnet headers from height 898,560.
pub static HEADERS_898560: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/testnet/headers/testnet_headers_898560_947248.bin"
));

/// The stale fork's headers from height 899,760.
pub static FORK_HEADERS_899760: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/testnet/fork/testnet_stale_fork_headers_899760_902320.bin"
));
