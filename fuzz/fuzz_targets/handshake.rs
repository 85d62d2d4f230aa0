//! The connection handshake over random message orders: a `Connection` fed
//! any sequence of well-framed messages (the handshake's, others before it,
//! duplicates, garbage) and clock steps never panics, becomes ready only
//! after both the peer's `version` and its `verack`, reports ready at most
//! once, and once it asks to disconnect says nothing more.
//!
//! Input: records of one byte each: the low 4 bits pick a message (or a clock
//! step), the high 4 bits a parameter (protocol version, chunking).
#![no_main]

use dashlight::network::Network;
use dashlight::peer::connection::{Connection, ConnectionConfig, ConnectionOutput};
use dashlight::protocol::framing::{Command, RawMessage};
use dashlight::protocol::handshake::{NetAddress, VersionMessage};
use dashlight::protocol::NetworkMessage;
use dashlight::sync::time::{Millis, Timestamp};
use libfuzzer_sys::fuzz_target;

const PROTOCOLS: [i32; 4] = [70_216, 70_228, 70_230, 80_000];

fn version(param: u8) -> NetworkMessage {
    NetworkMessage::Version(VersionMessage {
        version: PROTOCOLS[usize::from(param) % PROTOCOLS.len()],
        services: 5,
        timestamp: 1_700_000_000,
        receiver: NetAddress::default(),
        sender: NetAddress::default(),
        nonce: u64::from(param),
        user_agent: b"/Dash Core:23.0.0/".to_vec(),
        start_height: 905_000,
        relay: Some(true),
        mnauth_challenge: None,
        masternode_connection: None,
    })
}

fuzz_target!(|data: &[u8]| {
    let mut now = Timestamp(0);
    let (mut connection, _) = Connection::open(
        Network::Testnet,
        ConnectionConfig::default(),
        now,
        1_700_000_000,
        7,
        0,
    );
    let mut saw_version = false;
    let mut saw_verack = false;
    let mut ready = 0;
    let mut disconnected = false;
    for &record in data {
        let param = record >> 4;
        let wire = match record & 0x0f {
            0 | 1 => version(param).encode(70_230).to_wire(Network::Testnet),
            2 | 3 => NetworkMessage::Verack.encode(70_230).to_wire(Network::Testnet),
            4 => NetworkMessage::Ping(u64::from(param)).encode(70_230).to_wire(Network::Testnet),
            5 => NetworkMessage::Pong(u64::from(param)).encode(70_230).to_wire(Network::Testnet),
            6 => NetworkMessage::SendHeaders.encode(70_230).to_wire(Network::Testnet),
            7 => NetworkMessage::Headers(Vec::new()).encode(70_230).to_wire(Network::Testnet),
            8 => RawMessage {
                command: Command::new("senddsq"),
                payload: vec![param],
            }
            .to_wire(Network::Testnet),
            9 => vec![param; usize::from(param) + 1],
            _ => {
                now = now + Millis(u64::from(param) * 1_000);
                let out = connection.tick(now);
                assert!(!disconnected || out.is_empty(), "output after disconnect");
                disconnected |= out.iter().any(|o| matches!(o, ConnectionOutput::Disconnect(_)));
                continue;
            }
        };
        let is_version = record & 0x0f < 2;
        let is_verack = (2..4).contains(&(record & 0x0f));
        // Fed in one or two pieces.
        let cut = usize::from(param) % (wire.len() + 1);
        let mut out = connection.receive(&wire[..cut], now);
        out.extend(connection.receive(&wire[cut..], now));
        if disconnected {
            assert!(out.is_empty(), "output after disconnect: {out:?}");
            continue;
        }
        saw_version |= is_version;
        saw_verack |= is_verack;
        for output in &out {
            match output {
                ConnectionOutput::Ready(_) => {
                    ready += 1;
                    assert!(saw_version && saw_verack, "ready before the handshake");
                    assert_eq!(ready, 1, "ready twice");
                }
                ConnectionOutput::Disconnect(_) => disconnected = true,
                ConnectionOutput::Send(_) | ConnectionOutput::Deliver(_) => {}
            }
        }
    }
});
