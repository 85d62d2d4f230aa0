//! The `dashlight-bridge` binary: flags, JSON logs, SIGTERM.

use crate::support::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn bridge_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dashlight-bridge"))
}

#[tokio::test]
async fn binary_relays_and_stops_on_sigterm() {
    within(60, async {
        let mut dashd = FakeDashd::sending(wire("verack", &[]), &[24]).await;
        let mut child = bridge_command()
            .args(["--listen", "127.0.0.1:0", "--network", "testnet"])
            .args(["--target", &format!("local={}", dashd.addr)])
            .args(["--allow-private", "--log-format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
            }
        });
        let listen = loop {
            let line = lines.recv().await.expect("bridge output");
            let json: serde_json::Value = serde_json::from_str(&line).expect("JSON log line");
            if json["message"] == "bridge listening" {
                break json["listen"].as_str().unwrap().to_owned();
            }
        };

        let url = format!("ws://{listen}/local");
        let (mut client, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let got = receive_bytes(&mut client, 24).await;
        assert_eq!(got, wire("verack", &[]));
        send_frames(&mut client, &[&wire("ping", &[3; 8])]).await;

        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        assert_closed(&mut client, 1001, "shutting down").await;
        assert_eq!(dashd.next_received().await, wire("ping", &[3; 8]));
        let exit = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(exit.success(), "{exit:?}");
        let mut saw_stopped = false;
        while let Ok(Some(line)) = tokio::time::timeout(Duration::from_secs(2), lines.recv()).await
        {
            saw_stopped |= line.contains("bridge stopped");
        }
        assert!(saw_stopped);
    })
    .await;
}

#[test]
fn binary_refuses_private_targets_without_the_flag() {
    let output = bridge_command()
        .args(["--network", "testnet", "--target", "127.0.0.1:19999"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--allow-private"), "{stderr}");
}
