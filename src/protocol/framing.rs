//! The 24-byte message header and a streaming decoder that frames messages
//! from bytes arriving in arbitrary chunks.

use crate::hash::sha256d;
use crate::network::Network;
use crate::protocol::NetworkMessage;
use core::fmt;

/// The size of a message header.
pub const HEADER_LEN: usize = 24;

/// Buffer capacity a [`StreamDecoder`] keeps once it has returned every byte;
/// a larger buffer (left by a large message) is released, so that idle
/// decoders do not hold megabytes.
const RETAINED_CAPACITY: usize = 64 * 1024;

/// The largest payload accepted for any command. The largest real messages,
/// QRInfos from genesis on mainnet, are about 3.5 MB. Most commands have a far
/// smaller bound ([`crate::protocol::NetworkMessage::max_payload`]).
pub const MAX_PAYLOAD: usize = 8 * 1024 * 1024;

/// A message command: up to 12 ASCII bytes, NUL-padded on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Command([u8; 12]);

impl Command {
    /// A command from its name. Names longer than 12 bytes are cut.
    pub fn new(name: &str) -> Command {
        let mut bytes = [0u8; 12];
        for (slot, b) in bytes.iter_mut().zip(name.bytes()) {
            *slot = b;
        }
        Command(bytes)
    }

    /// The 12 wire bytes.
    pub fn as_bytes(&self) -> &[u8; 12] {
        &self.0
    }

    /// The name without padding (non-ASCII bytes are shown escaped).
    pub fn name(&self) -> String {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(12);
        self.0[..end].escape_ascii().to_string()
    }

    /// Whether the command is printable ASCII followed only by NUL padding.
    fn is_well_formed(&self) -> bool {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(12);
        end > 0
            && self.0[..end].iter().all(|b| b.is_ascii_graphic())
            && self.0[end..].iter().all(|&b| b == 0)
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Command({})", self.name())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// The first four bytes of the double SHA-256 of a payload.
pub fn checksum(payload: &[u8]) -> [u8; 4] {
    let h = sha256d(payload);
    [h[0], h[1], h[2], h[3]]
}

/// A message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageHeader {
    /// Network magic.
    pub magic: [u8; 4],
    /// The command.
    pub command: Command,
    /// Payload length in bytes.
    pub length: u32,
    /// Checksum of the payload.
    pub checksum: [u8; 4],
}

impl MessageHeader {
    /// Reads a header from its 24 bytes.
    pub fn from_bytes(bytes: &[u8; HEADER_LEN]) -> MessageHeader {
        let mut magic = [0u8; 4];
        magic.copy_from_slice(&bytes[0..4]);
        let mut command = [0u8; 12];
        command.copy_from_slice(&bytes[4..16]);
        let mut length = [0u8; 4];
        length.copy_from_slice(&bytes[16..20]);
        let mut sum = [0u8; 4];
        sum.copy_from_slice(&bytes[20..24]);
        MessageHeader {
            magic,
            command: Command(command),
            length: u32::from_le_bytes(length),
            checksum: sum,
        }
    }

    /// The 24 wire bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&self.magic);
        out[4..16].copy_from_slice(self.command.as_bytes());
        out[16..20].copy_from_slice(&self.length.to_le_bytes());
        out[20..24].copy_from_slice(&self.checksum);
        out
    }
}

/// A framed message whose payload has not been interpreted yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The command.
    pub command: Command,
    /// The payload bytes.
    pub payload: Vec<u8>,
}

impl RawMessage {
    /// The full wire form (header and payload) for `network`.
    pub fn to_wire(&self, network: Network) -> Vec<u8> {
        let header = MessageHeader {
            magic: network.magic(),
            command: self.command,
            length: self.payload.len() as u32,
            checksum: checksum(&self.payload),
        };
        let mut out = Vec::with_capacity(HEADER_LEN + self.payload.len());
        out.extend_from_slice(&header.to_bytes());
        out.extend_from_slice(&self.payload);
        out
    }
}

/// A framed, checked message kept as the bytes it arrived in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireMessage {
    /// The command.
    pub command: Command,
    /// The full wire form: the 24-byte header followed by the payload.
    pub bytes: Vec<u8>,
}

/// Why a byte stream is not a valid sequence of messages. Every variant is
/// fatal for the connection: the stream cannot be resynchronised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramingError {
    /// The magic is not the expected network's.
    WrongMagic {
        /// The magic expected.
        expected: [u8; 4],
        /// The magic found.
        found: [u8; 4],
    },
    /// The command is not NUL-padded printable ASCII.
    MalformedCommand([u8; 12]),
    /// The declared payload is larger than its command allows
    /// ([`crate::protocol::NetworkMessage::max_payload`]) or than the
    /// decoder's configured bound.
    PayloadTooLarge {
        /// The command.
        command: Command,
        /// Declared length.
        length: u32,
        /// The bound.
        max: usize,
    },
    /// The payload does not match the header's checksum.
    BadChecksum {
        /// The command.
        command: Command,
    },
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongMagic { expected, found } => {
                write!(
                    f,
                    "wrong network magic {} (expected {})",
                    hex::encode(found),
                    hex::encode(expected)
                )
            }
            Self::MalformedCommand(bytes) => write!(f, "malformed command {}", hex::encode(bytes)),
            Self::PayloadTooLarge {
                command,
                length,
                max,
            } => {
                write!(
                    f,
                    "{command}: payload of {length} bytes exceeds the limit of {max}"
                )
            }
            Self::BadChecksum { command } => write!(f, "{command}: payload checksum mismatch"),
        }
    }
}

impl std::error::Error for FramingError {}

/// Frames messages out of a byte stream that arrives in chunks of any size.
///
/// Feed bytes with [`StreamDecoder::feed`] and take messages with
/// [`StreamDecoder::next_message`]. Memory is bounded by the payload limit of
/// each command: a header that declares a larger payload is an error at once,
/// before any of its payload is buffered.
#[derive(Debug, Clone)]
pub struct StreamDecoder {
    magic: [u8; 4],
    max_payload: usize,
    buf: Vec<u8>,
    start: usize,
    failed: Option<FramingError>,
}

impl StreamDecoder {
    /// A decoder for `network`'s messages with the default payload bound.
    pub fn new(network: Network) -> StreamDecoder {
        Self::with_max_payload(network, MAX_PAYLOAD)
    }

    /// A decoder with a custom payload bound.
    pub fn with_max_payload(network: Network, max_payload: usize) -> StreamDecoder {
        StreamDecoder {
            magic: network.magic(),
            max_payload,
            buf: Vec::new(),
            start: 0,
            failed: None,
        }
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Bytes received but not yet returned as messages.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete message, `Ok(None)` if more bytes are needed, or the
    /// error that ended the stream (returned again on every later call).
    pub fn next_message(&mut self) -> Result<Option<RawMessage>, FramingError> {
        Ok(self.next_frame()?.map(|(command, wire)| RawMessage {
            command,
            payload: wire.get(HEADER_LEN..).unwrap_or_default().to_vec(),
        }))
    }

    /// The next complete message as its verified wire bytes (header and
    /// payload, exactly as received), for relays that forward messages
    /// untouched. Errors as [`StreamDecoder::next_message`].
    pub fn next_wire_message(&mut self) -> Result<Option<WireMessage>, FramingError> {
        Ok(self.next_frame()?.map(|(command, wire)| WireMessage {
            command,
            bytes: wire.to_vec(),
        }))
    }

    fn next_frame(&mut self) -> Result<Option<(Command, &[u8])>, FramingError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        self.compact();
        match self.check_frame() {
            Ok(Some((command, len))) => {
                let begin = self.start;
                self.start += len;
                let wire = self.buf.get(begin..self.start).unwrap_or_default();
                Ok(Some((command, wire)))
            }
            Ok(None) => Ok(None),
            Err(err) => {
                self.failed = Some(err.clone());
                self.buf = Vec::new();
                self.start = 0;
                Err(err)
            }
        }
    }

    /// Drops the bytes already returned once they are all consumed (releasing
    /// a large buffer) or make up more than half of the buffer.
    fn compact(&mut self) {
        if self.start == self.buf.len() {
            if self.buf.capacity() > RETAINED_CAPACITY {
                self.buf = Vec::new();
            } else {
                self.buf.clear();
            }
            self.start = 0;
        } else if self.start > self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }

    /// Checks the message at the front of the buffer: its command and full
    /// wire length when it is complete and valid.
    fn check_frame(&self) -> Result<Option<(Command, usize)>, FramingError> {
        let pending = self.buf.get(self.start..).unwrap_or_default();
        let Some(head) = pending.get(..HEADER_LEN) else {
            return Ok(None);
        };
        let mut head_bytes = [0u8; HEADER_LEN];
        head_bytes.copy_from_slice(head);
        let header = MessageHeader::from_bytes(&head_bytes);
        if header.magic != self.magic {
            return Err(FramingError::WrongMagic {
                expected: self.magic,
                found: header.magic,
            });
        }
        if !header.command.is_well_formed() {
            return Err(FramingError::MalformedCommand(header.command.0));
        }
        let length = header.length as usize;
        let max = self
            .max_payload
            .min(NetworkMessage::max_payload(header.command));
        if length > max {
            return Err(FramingError::PayloadTooLarge {
                command: header.command,
                length: header.length,
                max,
            });
        }
        let Some(payload) = pending.get(HEADER_LEN..HEADER_LEN + length) else {
            return Ok(None);
        };
        if checksum(payload) != header.checksum {
            return Err(FramingError::BadChecksum {
                command: header.command,
            });
        }
        Ok(Some((header.command, HEADER_LEN + length)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_stream() -> (Vec<RawMessage>, Vec<u8>) {
        let messages = vec![
            RawMessage {
                command: Command::new("verack"),
                payload: vec![],
            },
            RawMessage {
                command: Command::new("ping"),
                payload: 42u64.to_le_bytes().to_vec(),
            },
            RawMessage {
                command: Command::new("headers"),
                payload: vec![7; 5000],
            },
        ];
        let wire = messages
            .iter()
            .flat_map(|m| m.to_wire(Network::Testnet))
            .collect();
        (messages, wire)
    }

    fn drain(decoder: &mut StreamDecoder) -> Vec<RawMessage> {
        let mut out = Vec::new();
        while let Some(m) = decoder.next_message().unwrap() {
            out.push(m);
        }
        out
    }

    #[test]
    fn frames_a_stream_fed_at_once() {
        let (messages, wire) = sample_stream();
        let mut decoder = StreamDecoder::new(Network::Testnet);
        decoder.feed(&wire);
        assert_eq!(drain(&mut decoder), messages);
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn wire_messages_are_the_received_bytes() {
        let (messages, wire) = sample_stream();
        let mut decoder = StreamDecoder::new(Network::Testnet);
        let (first, rest) = wire.split_at(30);
        decoder.feed(first);
        let mut got = Vec::new();
        while let Some(m) = decoder.next_wire_message().unwrap() {
            got.push(m);
        }
        decoder.feed(rest);
        while let Some(m) = decoder.next_wire_message().unwrap() {
            got.push(m);
        }
        let expected: Vec<WireMessage> = messages
            .iter()
            .map(|m| WireMessage {
                command: m.command,
                bytes: m.to_wire(Network::Testnet),
            })
            .collect();
        assert_eq!(got, expected);
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn a_large_buffer_is_released_once_consumed() {
        let big = RawMessage {
            command: Command::new("qrinfo"),
            payload: vec![1; 200_000],
        }
        .to_wire(Network::Testnet);
        let mut decoder = StreamDecoder::new(Network::Testnet);
        decoder.feed(&big);
        assert!(decoder.next_wire_message().unwrap().is_some());
        assert!(decoder.next_wire_message().unwrap().is_none());
        assert!(decoder.buf.capacity() <= RETAINED_CAPACITY);
    }

    #[test]
    fn wrong_magic_is_fatal() {
        let (_, wire) = sample_stream();
        let mut decoder = StreamDecoder::new(Network::Mainnet);
        decoder.feed(&wire);
        assert!(matches!(
            decoder.next_message(),
            Err(FramingError::WrongMagic { .. })
        ));
        assert!(decoder.next_message().is_err());
    }

    #[test]
    fn oversize_payload_is_rejected_from_the_header_alone() {
        let mut header = MessageHeader {
            magic: Network::Testnet.magic(),
            command: Command::new("qrinfo"),
            length: (MAX_PAYLOAD + 1) as u32,
            checksum: [0; 4],
        }
        .to_bytes()
        .to_vec();
        header.truncate(HEADER_LEN);
        let mut decoder = StreamDecoder::new(Network::Testnet);
        decoder.feed(&header);
        assert!(matches!(
            decoder.next_message(),
            Err(FramingError::PayloadTooLarge { .. })
        ));
    }

    #[test]
    fn each_command_is_bounded_from_its_header_alone() {
        for (name, max) in [("headers", 2000 * 81 + 9), ("clsig", 132), ("ping", 8)] {
            let header = MessageHeader {
                magic: Network::Testnet.magic(),
                command: Command::new(name),
                length: max as u32 + 1,
                checksum: [0; 4],
            };
            let mut decoder = StreamDecoder::new(Network::Testnet);
            decoder.feed(&header.to_bytes());
            assert_eq!(
                decoder.next_message(),
                Err(FramingError::PayloadTooLarge {
                    command: Command::new(name),
                    length: max as u32 + 1,
                    max
                })
            );
        }
    }

    #[test]
    fn corrupted_payload_fails_the_checksum() {
        let (_, mut wire) = sample_stream();
        let last = wire.len() - 1;
        wire[last] ^= 1;
        let mut decoder = StreamDecoder::new(Network::Testnet);
        decoder.feed(&wire);
        assert!(decoder.next_message().unwrap().is_some());
        assert!(decoder.next_message().unwrap().is_some());
        assert!(matches!(
            decoder.next_message(),
            Err(FramingError::BadChecksum { .. })
        ));
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn any_chunking_yields_the_same_messages(cuts in proptest::collection::vec(0usize..6000, 0..20)) {
            let (messages, wire) = sample_stream();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (wire.len() + 1)).collect();
            cuts.push(0);
            cuts.push(wire.len());
            cuts.sort_unstable();
            let mut decoder = StreamDecoder::new(Network::Testnet);
            let mut got = Vec::new();
            for pair in cuts.windows(2) {
                decoder.feed(&wire[pair[0]..pair[1]]);
                got.extend(drain(&mut decoder));
            }
            proptest::prop_assert_eq!(got, messages);
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let mut decoder = StreamDecoder::new(Network::Testnet);
            decoder.feed(&bytes);
            while let Ok(Some(_)) = decoder.next_message() {}
        }
    }
}
