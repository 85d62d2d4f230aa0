//! `dashlight decode` on the real fixtures, and on malformed input.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(relative: &str) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures"
    ))
    .join(relative)
}

fn dashlight(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dashlight"))
        .args(args)
        .output()
        .unwrap()
}

fn decode(args: &[&str]) -> Value {
    let mut all = vec!["decode"];
    all.extend_from_slice(args);
    let out = dashlight(&all);
    assert!(
        out.status.success(),
        "dashlight {all:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn fails(args: &[&str]) -> String {
    let mut all = vec!["decode"];
    all.extend_from_slice(args);
    let out = dashlight(&all);
    assert!(!out.status.success(), "dashlight {all:?} succeeded");
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).unwrap()
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("dashlight-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The full P2P form of a payload: testnet magic, command, length, checksum.
fn p2p_message(command: &str, payload: &[u8]) -> Vec<u8> {
    dashlight::protocol::framing::RawMessage {
        command: dashlight::protocol::framing::Command::new(command),
        payload: payload.to_vec(),
    }
    .to_wire(dashlight::network::Network::Testnet)
}

#[test]
fn summarizes_a_full_masternode_list_diff() {
    let path = fixture("testnet/mnlistdiff/mnlistdiff_0_905762.bin");
    let v = decode(&["--kind", "mnlistdiff", path.to_str().unwrap()]);
    assert_eq!(v["kind"], "mnlistdiff");
    assert_eq!(
        v["base_block_hash"],
        "00000bafbc94add76cb75e2ec92894837288a481e5c005f6563d91623bf8bc2c"
    );
    assert_eq!(v["coinbase"]["height"], 905_762);
    assert_eq!(v["entries"]["by_version"]["1"], 464);
    assert_eq!(v["entries"]["by_version"]["2"], 51);
    assert_eq!(v["new_quorums"]["count"], 109);
    assert_eq!(v["deleted_entries"], 0);
}

#[test]
fn reads_the_older_layout_when_told_the_protocol() {
    let path = fixture("testnet/mnlistdiff/mnlistdiff_0_530000_LAYOUT70228.bin");
    let v = decode(&[
        "--kind",
        "mnlistdiff",
        "--protocol",
        "70228",
        path.to_str().unwrap(),
    ]);
    assert_eq!(v["coinbase"]["height"], 530_000);
    let err = fails(&["--kind", "mnlistdiff", path.to_str().unwrap()]);
    assert!(err.contains("malformed mnlistdiff payload"), "{err}");
}

#[test]
fn summarizes_a_qrinfo_per_diff_and_snapshot() {
    let path = fixture("testnet/qrinfo/qrinfo_905294.bin");
    let v = decode(&["--kind", "qrinfo", path.to_str().unwrap()]);
    assert_eq!(v["extra_share"], true);
    assert_eq!(v["diffs"]["tip"]["coinbase"]["height"], 905_294);
    assert_eq!(v["diffs"]["h-4c"]["coinbase"]["height"], 904_024);
    assert_eq!(v["snapshots"]["h-c"]["members"], 515);
    assert_eq!(v["last_commitment_per_index"].as_array().unwrap().len(), 32);
}

#[test]
fn summarizes_a_chainlock_as_payload_and_as_p2p_message() {
    let path = fixture("testnet/clsig/clsig_905775.bin");
    let v = decode(&["--kind", "clsig", path.to_str().unwrap()]);
    assert_eq!(v["height"], 905_775);
    assert_eq!(
        v["block_hash"],
        "000000e832ac791591489ccfbb531ace828e1465b68b203158c9974c4c2b23b5"
    );
    let wire = temp_file(
        "clsig.msg",
        &p2p_message("clsig", &std::fs::read(&path).unwrap()),
    );
    let v = decode(&["--kind", "clsig", "--p2p", wire.to_str().unwrap()]);
    assert_eq!(v["network"], "testnet");
    assert_eq!(v["height"], 905_775);
}

#[test]
fn summarizes_raw_headers_and_a_headers_message() {
    let path = fixture("testnet/headers/testnet_headers_898560_947248.bin");
    let v = decode(&["--kind", "headers", path.to_str().unwrap()]);
    assert_eq!(v["count"], 48_689);
    let raw = std::fs::read(&path).unwrap();
    let mut payload = vec![0xfd, 0xd0, 0x07];
    for header in raw[..2000 * 80].chunks(80) {
        payload.extend_from_slice(header);
        payload.push(0);
    }
    let wire = temp_file("headers.msg", &p2p_message("headers", &payload));
    let m = decode(&["--kind", "headers", "--p2p", wire.to_str().unwrap()]);
    assert_eq!(m["count"], 2000);
    assert_eq!(m["first_hash"], v["first_hash"]);
}

#[test]
fn malformed_input_exits_non_zero_with_the_typed_error() {
    let clsig = std::fs::read(fixture("testnet/clsig/clsig_905775.bin")).unwrap();
    let short = temp_file("short.bin", &clsig[..100]);
    let err = fails(&["--kind", "clsig", short.to_str().unwrap()]);
    assert!(err.contains("unexpected end of input"), "{err}");

    let mut wire = p2p_message("clsig", &clsig);
    wire[30] ^= 1;
    let corrupt = temp_file("corrupt.msg", &wire);
    let err = fails(&["--kind", "clsig", "--p2p", corrupt.to_str().unwrap()]);
    assert!(err.contains("checksum"), "{err}");

    let wrong = temp_file("wrong.msg", &p2p_message("clsig", &clsig));
    let err = fails(&["--kind", "qrinfo", "--p2p", wrong.to_str().unwrap()]);
    assert!(err.contains("expected a qrinfo message"), "{err}");

    let garbage = temp_file("garbage.bin", &[0xff; 50]);
    let err = fails(&["--kind", "mnlistdiff", "--p2p", garbage.to_str().unwrap()]);
    assert!(err.contains("magic"), "{err}");

    let err = fails(&["--kind", "headers", short.to_str().unwrap()]);
    assert!(err.contains("80-byte"), "{err}");

    let err = fails(&["--kind", "clsig", "/nonexistent/file"]);
    assert!(err.contains("cannot read"), "{err}");
}
