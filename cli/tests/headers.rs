//! `dashlight headers` on the real testnet headers, on damaged copies, on the
//! stale fork, and on a mainnet checkpoint header.

use dashlight::block::HEADER_SIZE;
use dashlight::chain::{HashedHeader, HeaderChain, SyncBase};
use dashlight::network::Network;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// 2025-01-01T00:00:00Z: after every header in the fixtures.
const NOW: &str = "1735689600";

fn fixture(relative: &str) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures"
    ))
    .join(relative)
}

fn canonical_path() -> PathBuf {
    fixture("testnet/headers/testnet_headers_898560_947248.bin")
}

/// Runs `dashlight headers` on `file`, at the fixed time `NOW`.
fn headers(network: &str, start_height: &str, file: &Path) -> (Output, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_dashlight"))
        .args([
            "headers",
            "--network",
            network,
            "--start-height",
            start_height,
        ])
        .args(["--now", NOW])
        .arg(file)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output, report)
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "dashlight-cli-headers-{}-{name}",
        std::process::id()
    ));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn validates_the_canonical_testnet_headers_from_a_sync_base() {
    let path = canonical_path();
    let (output, report) = headers("testnet", "898560", &path);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The library computes the same tip and work.
    let bytes = std::fs::read(&path).unwrap();
    let mut chain = HeaderChain::new(SyncBase::at_checkpoint(Network::Testnet, 898_560).unwrap());
    for batch in bytes[HEADER_SIZE..].chunks(2000 * HEADER_SIZE) {
        assert_eq!(
            chain
                .extend(&HashedHeader::parse_all(batch), 1_735_689_600)
                .rejected,
            None
        );
    }
    assert_eq!(report["network"], "testnet");
    assert_eq!(report["count"], 48_689);
    assert_eq!(report["valid"], 48_689);
    assert_eq!(report["start"], "checkpoint");
    assert_eq!(report["tip"]["height"], 947_248);
    assert_eq!(report["tip"]["hash"], chain.tip().hash.to_string());
    assert_eq!(report["chain_work"], chain.tip().chain_work.to_string());
    assert_eq!(report["chain_work_from_height"], 0);
    assert_eq!(report["invalid"], Value::Null);
}

#[test]
fn names_the_first_invalid_header_and_fails() {
    let mut bytes = std::fs::read(canonical_path()).unwrap();
    bytes.truncate(5_000 * HEADER_SIZE);
    // Flip a bit of `bits` in the header at index 3000 (height 901560).
    bytes[3_000 * HEADER_SIZE + 72] ^= 1;
    let path = temp_file("flipped.bin", &bytes);
    let (output, report) = headers("testnet", "898560", &path);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid header at height 901560"));
    assert_eq!(report["count"], 5_000);
    assert_eq!(report["valid"], 3_000);
    assert_eq!(report["tip"]["height"], 901_559);
    assert_eq!(report["invalid"]["index"], 3_000);
    assert_eq!(report["invalid"]["height"], 901_560);
    assert_eq!(report["invalid"]["reason"], "BadDifficulty");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn the_stale_fork_contradicts_a_checkpoint() {
    // 899760 is no sync base: the first header is trusted.
    let path = fixture("testnet/fork/testnet_stale_fork_headers_899760_902320.bin");
    let (output, report) = headers("testnet", "899760", &path);
    assert!(!output.status.success());
    assert_eq!(report["start"], "trusted");
    assert_eq!(report["chain_work_from_height"], 899_760);
    assert_eq!(report["tip"]["height"], 900_287);
    assert_eq!(report["invalid"]["height"], 900_288);
    assert_eq!(report["invalid"]["reason"], "CheckpointMismatch");
}

#[test]
fn a_file_that_does_not_start_at_the_given_checkpoint_is_invalid() {
    let path = canonical_path();
    let (output, report) = headers("testnet", "875520", &path);
    assert!(!output.status.success());
    assert_eq!(report["valid"], 0);
    assert_eq!(report["invalid"]["index"], 0);
    assert_eq!(report["invalid"]["reason"], "CheckpointMismatch");
}

#[test]
fn a_mainnet_checkpoint_header_validates() {
    let base = SyncBase::latest(Network::Mainnet);
    let path = temp_file("mainnet.bin", &base.header().to_bytes());
    let height = base.height().to_string();
    let (output, report) = headers("mainnet", &height, &path);
    assert!(output.status.success());
    assert_eq!(report["network"], "mainnet");
    assert_eq!(report["tip"]["hash"], base.hash().to_string());
    assert_eq!(report["chain_work"], base.chain_work().to_string());
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_file_of_partial_headers_is_an_error() {
    let path = temp_file("partial.bin", &[0u8; 81]);
    let (output, _) = headers("testnet", "0", &path);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("81 bytes"));
    std::fs::remove_file(path).unwrap();
}
