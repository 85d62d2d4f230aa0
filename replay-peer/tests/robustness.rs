//! Bad input closes that client's connection and nothing else.

mod common;

use common::*;
use dashlight::network::Network;
use dashlight::protocol::framing::{Command, RawMessage};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

async fn assert_closes(peer: &dashlight_replay_peer::Running, bytes: &[u8]) {
    let mut stream = TcpStream::connect(peer.p2p_addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(RECV_TIMEOUT, async {
        use tokio::io::AsyncReadExt;
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the peer closes the connection");
}

#[tokio::test]
async fn garbage_and_malformed_messages_close_only_that_connection() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let peer = start_peer(&[]).await;
        assert_closes(&peer, &[0x55; 200]).await;
        let wrong_network = RawMessage {
            command: Command::new("verack"),
            payload: Vec::new(),
        }
        .to_wire(Network::Mainnet);
        assert_closes(&peer, &wrong_network).await;
        let truncated = RawMessage {
            command: Command::new("getheaders"),
            payload: vec![1, 2, 3],
        }
        .to_wire(Network::Testnet);
        assert_closes(&peer, &truncated).await;
        let mut oversize = RawMessage {
            command: Command::new("headers"),
            payload: Vec::new(),
        }
        .to_wire(Network::Testnet);
        oversize[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_closes(&peer, &oversize).await;

        let mut client = Client::connect(peer.p2p_addr).await;
        client.handshake().await;
        let counters = counters(&peer).await;
        assert_eq!(counters["connections_total"], 5);
        assert_eq!(counters["connections_open"], 1);
    })
    .await
    .expect("test timed out");
}
