//! Dash-aware inspection of one direction of a relayed stream: only
//! checked messages of the configured network (and, from the client, of
//! allowed commands within their budgets) pass; anything else ends the
//! connection.
//!
//! From the client, whole messages pass (they are small: at most the
//! client message size). From the target, messages of up to 8 MiB are
//! streamed through as they arrive, so that a connection never holds a
//! whole one: the header is checked before anything of it is forwarded,
//! the checksum is computed on the way, and the last bytes of a message
//! are forwarded only once its checksum matched. A client therefore never
//! receives a complete message that failed the checks.

use crate::budget::{OverBudget, SharedBudget};
use crate::commands::CommandSet;
use bitcoin_hashes::{sha256d, HashEngine};
use dashlight::network::Network;
use dashlight::protocol::framing::{
    Command, FramingError, MessageHeader, StreamDecoder, HEADER_LEN,
};
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

/// What passes one direction of a connection.
#[derive(Debug)]
pub enum Filter {
    /// Every byte, in the chunks it arrived in.
    Raw,
    /// Whole checked Dash messages.
    Dash {
        /// Frames the stream.
        decoder: StreamDecoder,
        /// Commands allowed in this direction; `None` allows all.
        allowed: Option<Arc<CommandSet>>,
        /// The sender's command budget, if budgeted.
        budget: Option<SharedBudget>,
    },
    /// Checked Dash messages, streamed through as they arrive.
    DashStream(MessageStream),
}

impl Filter {
    /// A Dash-aware filter for `network`'s messages of at most `max_payload`
    /// bytes, allowing only `allowed` commands if given, each spent from
    /// `budget` if given.
    pub fn dash(
        network: Network,
        max_payload: usize,
        allowed: Option<Arc<CommandSet>>,
        budget: Option<SharedBudget>,
    ) -> Filter {
        Filter::Dash {
            decoder: StreamDecoder::with_max_payload(network, max_payload),
            allowed,
            budget,
        }
    }

    /// A Dash-aware filter that streams `network`'s messages of at most
    /// `max_payload` bytes through (every command allowed).
    pub fn dash_stream(network: Network, max_payload: usize) -> Filter {
        Filter::DashStream(MessageStream::new(network, max_payload))
    }

    /// Takes received bytes and returns those that may be forwarded now:
    /// everything in raw mode; in Dash mode the complete messages they end,
    /// concatenated (possibly none, while a message is incomplete); in
    /// streaming Dash mode, at most the received bytes plus one buffered
    /// header. A violation is final.
    pub fn pass(&mut self, bytes: Vec<u8>) -> Result<Vec<u8>, Violation> {
        match self {
            Filter::Raw => Ok(bytes),
            Filter::DashStream(stream) => stream.pass(&bytes).map_err(Violation::Framing),
            Filter::Dash {
                decoder,
                allowed,
                budget,
            } => {
                decoder.feed(&bytes);
                let mut out = Vec::new();
                while let Some(message) = decoder.next_wire_message().map_err(Violation::Framing)? {
                    if let Some(allowed) = allowed {
                        if !allowed.contains(&message.command) {
                            return Err(Violation::CommandNotAllowed(message.command));
                        }
                    }
                    if let Some(budget) = budget {
                        budget
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .spend(&message.command, Instant::now())
                            .map_err(Violation::OverBudget)?;
                    }
                    if out.is_empty() {
                        out = message.bytes;
                    } else {
                        out.extend_from_slice(&message.bytes);
                    }
                }
                Ok(out)
            }
        }
    }
}

/// Frames and checks a stream of messages without buffering their payloads.
#[derive(Debug)]
pub struct MessageStream {
    magic: [u8; 4],
    max_payload: usize,
    state: StreamState,
}

#[derive(Debug)]
enum StreamState {
    /// Reading a header: the bytes so far.
    Header { bytes: [u8; HEADER_LEN], len: usize },
    /// Inside a payload.
    Payload {
        header: MessageHeader,
        remaining: usize,
        engine: sha256d::HashEngine,
    },
    /// A violation ended the stream.
    Failed(FramingError),
}

impl MessageStream {
    /// A stream of `network`'s messages of at most `max_payload` bytes.
    pub fn new(network: Network, max_payload: usize) -> MessageStream {
        MessageStream {
            magic: network.magic(),
            max_payload,
            state: StreamState::Header {
                bytes: [0; HEADER_LEN],
                len: 0,
            },
        }
    }

    /// The bytes of `input` that may be forwarded now (with a header held
    /// back from an earlier call once it is complete and valid).
    pub fn pass(&mut self, input: &[u8]) -> Result<Vec<u8>, FramingError> {
        let mut out = Vec::with_capacity(input.len() + HEADER_LEN);
        let mut rest = input;
        loop {
            match &mut self.state {
                StreamState::Failed(err) => return Err(err.clone()),
                StreamState::Header { bytes, len } => {
                    let take = (HEADER_LEN - *len).min(rest.len());
                    let (head, tail) = rest.split_at(take);
                    if let Some(slot) = bytes.get_mut(*len..*len + take) {
                        slot.copy_from_slice(head);
                    }
                    *len += take;
                    rest = tail;
                    if *len < HEADER_LEN {
                        return Ok(out);
                    }
                    let head = *bytes;
                    let header = MessageHeader::from_bytes(&head);
                    if let Err(err) = check_header(&header, self.magic, self.max_payload) {
                        self.state = StreamState::Failed(err.clone());
                        return Err(err);
                    }
                    out.extend_from_slice(&head);
                    self.state = StreamState::Payload {
                        header,
                        remaining: header.length as usize,
                        engine: sha256d::HashEngine::new(),
                    };
                }
                StreamState::Payload {
                    header,
                    remaining,
                    engine,
                } => {
                    let take = (*remaining).min(rest.len());
                    let (part, tail) = rest.split_at(take);
                    engine.input(part);
                    *remaining -= take;
                    rest = tail;
                    if *remaining > 0 {
                        out.extend_from_slice(part);
                        return Ok(out);
                    }
                    let sum = sha256d::Hash::from_engine(engine.clone()).to_byte_array();
                    if sum.get(..4) != Some(&header.checksum[..]) {
                        let err = FramingError::BadChecksum {
                            command: header.command,
                        };
                        self.state = StreamState::Failed(err.clone());
                        return Err(err);
                    }
                    out.extend_from_slice(part);
                    self.state = StreamState::Header {
                        bytes: [0; HEADER_LEN],
                        len: 0,
                    };
                    if rest.is_empty() {
                        return Ok(out);
                    }
                }
            }
        }
    }
}

/// Checks a header: `magic`, a well-formed command, a payload of at most
/// `max_payload` bytes.
fn check_header(
    header: &MessageHeader,
    magic: [u8; 4],
    max_payload: usize,
) -> Result<(), FramingError> {
    if header.magic != magic {
        return Err(FramingError::WrongMagic {
            expected: magic,
            found: header.magic,
        });
    }
    let name = header.command.as_bytes();
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    let (text, padding) = name.split_at(end);
    if text.is_empty() || !text.iter().all(u8::is_ascii_graphic) || padding.iter().any(|&b| b != 0)
    {
        return Err(FramingError::MalformedCommand(*name));
    }
    if header.length as usize > max_payload {
        return Err(FramingError::PayloadTooLarge {
            command: header.command,
            length: header.length,
            max: max_payload,
        });
    }
    Ok(())
}

/// Traffic that is not allowed through the bridge.
#[derive(Debug, Clone, PartialEq)]
pub enum Violation {
    /// Not a valid message of the configured network.
    Framing(FramingError),
    /// A command outside the allow-list.
    CommandNotAllowed(Command),
    /// A budgeted command sent more often than its budget allows.
    OverBudget(OverBudget),
}

impl Violation {
    /// Whether the violation is a message larger than allowed.
    pub fn is_oversize(&self) -> bool {
        matches!(
            self,
            Violation::Framing(FramingError::PayloadTooLarge { .. })
        )
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Framing(err) => write!(f, "not Dash P2P: {err}"),
            Self::CommandNotAllowed(command) => write!(f, "command {command} is not allowed"),
            Self::OverBudget(over) => write!(f, "{over}"),
        }
    }
}

impl std::error::Error for Violation {}

#[cfg(test)]
mod tests {
    use super::*;
    use dashlight::protocol::framing::RawMessage;

    fn wire(command: &str, payload: &[u8]) -> Vec<u8> {
        RawMessage {
            command: Command::new(command),
            payload: payload.to_vec(),
        }
        .to_wire(Network::Testnet)
    }

    fn client_filter() -> Filter {
        Filter::dash(
            Network::Testnet,
            1000,
            Some(Arc::new(CommandSet::default_client_commands())),
            None,
        )
    }

    #[test]
    fn split_and_merged_messages_pass_whole() {
        let mut stream = wire("version", &[1; 100]);
        stream.extend(wire("verack", &[]));
        stream.extend(wire("ping", &[2; 8]));
        let mut filter = client_filter();
        assert!(filter.pass(stream[..50].to_vec()).unwrap().is_empty());
        assert_eq!(filter.pass(stream[50..].to_vec()).unwrap(), stream);
    }

    #[test]
    fn violations_are_reported() {
        let mut filter = client_filter();
        assert_eq!(
            filter.pass(wire("addr", &[0])),
            Err(Violation::CommandNotAllowed(Command::new("addr")))
        );
        let mut filter = client_filter();
        let mut bad = wire("ping", &[0; 8]);
        bad[0] ^= 0xff;
        assert!(matches!(
            filter.pass(bad),
            Err(Violation::Framing(FramingError::WrongMagic { .. }))
        ));
        let mut filter = client_filter();
        let mut bad = wire("ping", &[0; 8]);
        bad[30] ^= 1;
        assert!(matches!(
            filter.pass(bad),
            Err(Violation::Framing(FramingError::BadChecksum { .. }))
        ));
        let mut filter = client_filter();
        let err = filter.pass(wire("tx", &[0; 1001])).unwrap_err();
        assert!(err.is_oversize(), "{err}");
    }

    #[test]
    fn target_direction_allows_every_command() {
        let mut filter = Filter::dash(Network::Testnet, 1000, None, None);
        assert_eq!(filter.pass(wire("addr", &[0])).unwrap(), wire("addr", &[0]));
    }

    #[test]
    fn budgets_are_spent_per_message() {
        let mut table = crate::budget::BudgetTable::none();
        table.set(
            Command::new("getqrinfo"),
            crate::budget::Budget {
                burst: 2,
                per_second: 0.0,
            },
        );
        let budget = crate::budget::ClientBudget::shared(Arc::new(table));
        let mut filter = Filter::dash(Network::Testnet, 1000, None, Some(budget));
        let mut two = wire("getqrinfo", &[1]);
        two.extend(wire("ping", &[0; 8]));
        two.extend(wire("getqrinfo", &[2]));
        assert_eq!(filter.pass(two.clone()).unwrap(), two);
        let err = filter.pass(wire("getqrinfo", &[3])).unwrap_err();
        assert!(matches!(err, Violation::OverBudget(_)), "{err}");
    }

    #[test]
    fn streams_pass_whatever_the_cuts() {
        let mut stream = wire("headers", &[7; 5000]);
        stream.extend(wire("verack", &[]));
        stream.extend(wire("addr", &[1; 30]));
        for cut in [1, 7, 23, 24, 25, 1000, 6000] {
            let mut filter = Filter::dash_stream(Network::Testnet, 10_000);
            let mut out = Vec::new();
            for piece in stream.chunks(cut) {
                let passed = filter.pass(piece.to_vec()).unwrap();
                assert!(passed.len() <= piece.len() + HEADER_LEN);
                out.extend(passed);
            }
            assert_eq!(out, stream, "cut {cut}");
        }
    }

    #[test]
    fn streams_hold_back_the_end_of_a_bad_message() {
        let mut bad = wire("headers", &[7; 5000]);
        let last = bad.len() - 1;
        bad[last] ^= 1;
        let mut filter = Filter::dash_stream(Network::Testnet, 10_000);
        let passed = filter.pass(bad[..4000].to_vec()).unwrap();
        assert_eq!(passed, bad[..4000]);
        assert!(matches!(
            filter.pass(bad[4000..].to_vec()),
            Err(Violation::Framing(FramingError::BadChecksum { .. }))
        ));
        assert!(filter.pass(wire("ping", &[0; 8])).is_err());
        let mut filter = Filter::dash_stream(Network::Testnet, 100);
        let err = filter.pass(wire("headers", &[0; 101])).unwrap_err();
        assert!(err.is_oversize());
        let mut filter = Filter::dash_stream(Network::Testnet, 100);
        let mut wrong = wire("ping", &[0; 8]);
        wrong[0] ^= 1;
        assert!(filter.pass(wrong[..24].to_vec()).is_err());
        let mut filter = Filter::dash_stream(Network::Testnet, 100);
        let mut malformed = wire("ping", &[0; 8]);
        malformed[4] = b' ';
        assert!(filter.pass(malformed).is_err());
    }

    #[test]
    fn raw_passes_anything() {
        let mut filter = Filter::Raw;
        assert_eq!(filter.pass(vec![1, 2, 3]).unwrap(), vec![1, 2, 3]);
    }
}
