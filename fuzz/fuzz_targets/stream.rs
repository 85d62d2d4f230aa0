//! The stream decoder fed in chunks: it never panics, never buffers more than
//! the payload bound allows, and frames exactly the messages written.
//!
//! Input: chunk size · then records of (command index, payload length `u16`,
//! payload) written as framed testnet messages · with the top bit of the
//! chunk size set, the bytes after the records are appended raw (garbage).
#![no_main]

use dashlight::network::Network;
use dashlight::protocol::framing::{Command, RawMessage, StreamDecoder, HEADER_LEN};
use dashlight::protocol::NetworkMessage;
use libfuzzer_sys::fuzz_target;

const MAX_PAYLOAD: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let Some((chunk, mut rest)) = data.split_first() else {
        return;
    };
    let chunk_size = usize::from(chunk & 0x7f) + 1;
    let append_garbage = chunk & 0x80 != 0;
    let commands = NetworkMessage::KNOWN_COMMANDS;
    let mut written = Vec::new();
    while let &[command, len_lo, len_hi, ref tail @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([len_lo, len_hi])).min(tail.len());
        let (payload, after) = tail.split_at(len);
        written.push(RawMessage {
            command: Command::new(commands[usize::from(command) % commands.len()]),
            payload: payload.to_vec(),
        });
        rest = after;
    }
    let mut wire: Vec<u8> = written
        .iter()
        .flat_map(|m| m.to_wire(Network::Testnet))
        .collect();
    if append_garbage {
        wire.extend_from_slice(rest);
    }
    let mut decoder = StreamDecoder::with_max_payload(Network::Testnet, MAX_PAYLOAD);
    let mut framed = Vec::new();
    let mut failed = false;
    for piece in wire.chunks(chunk_size) {
        decoder.feed(piece);
        loop {
            match decoder.next_message() {
                Ok(Some(raw)) => {
                    let _ = NetworkMessage::from_raw(&raw, 70230);
                    framed.push(raw);
                }
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        assert!(decoder.buffered() <= HEADER_LEN + MAX_PAYLOAD + chunk_size);
    }
    let within_bound = written.iter().take_while(|m| m.payload.len() <= MAX_PAYLOAD);
    assert!(framed.iter().eq(within_bound.clone().take(framed.len())));
    if !failed && !append_garbage {
        assert_eq!(framed, written);
    }
});
