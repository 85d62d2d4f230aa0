//! Any payload under any known command: decoding never panics, and whatever
//! decodes re-encodes to the same bytes.
//!
//! Input: command index · protocol version index · payload.
#![no_main]

use dashlight::protocol::framing::Command;
use dashlight::protocol::NetworkMessage;
use libfuzzer_sys::fuzz_target;

const VERSIONS: [u32; 4] = [70227, 70228, 70229, 70230];

fuzz_target!(|data: &[u8]| {
    let [command, version, payload @ ..] = data else {
        return;
    };
    let commands = NetworkMessage::KNOWN_COMMANDS;
    let command = Command::new(commands[usize::from(*command) % commands.len()]);
    let version = VERSIONS[usize::from(*version) % VERSIONS.len()];
    if let Ok(message) = NetworkMessage::decode(command, payload, version) {
        let raw = message.encode(version);
        assert_eq!(raw.command, command);
        assert_eq!(raw.payload, payload);
    }
});
