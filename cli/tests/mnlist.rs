//! `dashlight mnlist` and `dashlight clsig` on the real fixtures, and on tampered input.

use dashlight::protocol::mnlistdiff::MnListDiff;
use dashlight::protocol::PROTOCOL_VERSION;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(relative: &str) -> String {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures"
    ))
    .join(relative)
    .display()
    .to_string()
}

fn dashlight(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dashlight"))
        .args(args)
        .output()
        .unwrap()
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn testnet_args() -> Vec<String> {
    [
        "--network",
        "testnet",
        "--headers",
        &fixture("testnet/headers/testnet_headers_898560_947248.bin"),
        "--start-height",
        "898560",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn run(command: &str, extra: &[String]) -> Output {
    let mut args: Vec<String> = vec![command.to_owned()];
    args.extend(testnet_args());
    args.extend_from_slice(extra);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    dashlight(&refs)
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("dashlight-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn mnlist_applies_the_qrinfo_and_the_full_diff_and_counts_quorums_by_type() {
    let out = run(
        "mnlist",
        &[
            fixture("testnet/qrinfo/qrinfo_905294.bin"),
            fixture("testnet/mnlistdiff/mnlistdiff_0_905762.bin"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 8, "6 QRInfo diffs, 1 diff, 1 summary");
    for line in &lines[..7] {
        assert_eq!(line["merkle_root_mn_list_ok"], true, "{line}");
        assert_eq!(line["merkle_root_quorums_ok"], true, "{line}");
        assert_eq!(line["coinbase_proven"], true, "{line}");
        assert_eq!(line["entries"], 515);
    }
    assert_eq!(lines[6]["height"], 905_762);
    let summary = &lines[7]["summary"];
    assert!(
        summary["quorums"]["llmq_60_75"]["verified"]
            .as_u64()
            .unwrap()
            >= 37
    );
    for t in ["llmq_50_60", "llmq_100_67", "llmq_25_67", "llmq_60_75"] {
        assert_eq!(summary["quorums"][t]["failed"], 0, "{t}");
    }
    let not_verified = summary["not_verified"].as_array().unwrap();
    assert!(not_verified
        .iter()
        .all(|q| q["status"].as_str().unwrap().starts_with("not verifiable")));
}

#[test]
fn mnlist_exits_non_zero_on_a_tampered_entry() {
    let bytes = std::fs::read(fixture("testnet/mnlistdiff/mnlistdiff_0_905762.bin")).unwrap();
    let mut diff = MnListDiff::from_payload(&bytes, PROTOCOL_VERSION).unwrap();
    diff.new_masternodes[0].is_valid ^= true;
    let path = temp_file("tampered.bin", &diff.to_payload(PROTOCOL_VERSION));
    let out = run("mnlist", &[path.display().to_string()]);
    std::fs::remove_file(&path).unwrap();
    assert!(!out.status.success());
    let lines = json_lines(&out);
    assert_eq!(lines[0]["merkle_root_mn_list_ok"], false, "{}", lines[0]);
    assert!(lines[0]["error"]
        .as_str()
        .unwrap()
        .contains("merkleRootMNList mismatch"));
}

#[test]
fn mnlist_rejects_the_stale_fork_qrinfo() {
    let out = run(
        "mnlist",
        &[fixture("testnet/fork/qrinfo_901668_on_stale_fork.bin")],
    );
    assert!(!out.status.success());
    let lines = json_lines(&out);
    assert!(lines[0]["error"]
        .as_str()
        .unwrap()
        .contains("not on the header chain"));
}

#[test]
fn clsig_verifies_the_chainlock_and_rejects_a_flipped_bit() {
    let lists = [
        "--list".to_owned(),
        fixture("testnet/qrinfo/qrinfo_905294.bin"),
        "--list".to_owned(),
        fixture("testnet/mnlistdiff/mnlistdiff_0_905762.bin"),
    ];
    let mut args = lists.to_vec();
    args.push(fixture("testnet/clsig/clsig_905775.bin"));
    let out = run("clsig", &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result = &json_lines(&out)[0];
    assert_eq!(result["signature_valid"], true);
    assert_eq!(
        result["quorum_hash"],
        "0000000472494322447f539a0f784bf60f374899893a1d5312d920998f00c688"
    );

    let mut bytes = std::fs::read(fixture("testnet/clsig/clsig_905775.bin")).unwrap();
    bytes[60] ^= 1;
    let path = temp_file("clsig.bin", &bytes);
    let mut args = lists.to_vec();
    args.push(path.display().to_string());
    let out = run("clsig", &args);
    std::fs::remove_file(&path).unwrap();
    assert!(!out.status.success());
    assert_eq!(json_lines(&out)[0]["signature_valid"], false);
}
