//! The `dashlight-replay-peer` binary starts, logs where it listens, and serves.

mod common;

use common::*;
use std::net::SocketAddr;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

fn field(line: &str, name: &str) -> Option<SocketAddr> {
    line.split_whitespace()
        .find_map(|word| word.strip_prefix(name))
        .and_then(|addr| addr.parse().ok())
}

#[tokio::test]
async fn the_binary_serves_and_reports_its_addresses() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dashlight-replay-peer"))
            .args(["--listen", "127.0.0.1:0", "--control", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the binary starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let (p2p, control_addr) = loop {
            let line = lines.next_line().await.unwrap().expect("a listening line");
            if line.contains("listening") {
                break (
                    field(&line, "p2p=").unwrap(),
                    field(&line, "control=").unwrap(),
                );
            }
        };
        let mut client = Client::connect(p2p).await;
        client.handshake().await;
        let (status, counters) = control(control_addr, "GET", "/counters").await;
        assert_eq!(status, 200);
        assert_eq!(counters["handshakes"], 1);
        assert_eq!(counters["tip_height"], 905_294);
        child.kill().await.unwrap();
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn missing_fixtures_are_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_dashlight-replay-peer"))
        .args(["--listen", "127.0.0.1:0", "--fixtures", "/nonexistent"])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot load the fixtures"), "{stderr}");
    assert!(stderr.contains("/nonexistent"), "{stderr}");
}
