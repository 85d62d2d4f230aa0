//! Dash-aware inspection of one direction of a relayed stream: only whole,
//! checked messages of the configured network (and, from the client, of
//! allowed commands) pass; anything else ends the connection.

use crate::commands::CommandSet;
use dashlight::network::Network;
use dashlight::protocol::framing::{Command, FramingError, StreamDecoder};
use std::fmt;
use std::sync::Arc;

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
    },
}

impl Filter {
    /// A Dash-aware filter for `network`'s messages of at most `max_payload`
    /// bytes, allowing only `allowed` commands if given.
    pub fn dash(network: Network, max_payload: usize, allowed: Option<Arc<CommandSet>>) -> Filter {
        Filter::Dash {
            decoder: StreamDecoder::with_max_payload(network, max_payload),
            allowed,
        }
    }

    /// Takes received bytes and returns those that may be forwarded now:
    /// everything in raw mode; in Dash mode the complete messages they end,
    /// concatenated (possibly none, while a message is incomplete). A
    /// violation is final.
    pub fn pass(&mut self, bytes: Vec<u8>) -> Result<Vec<u8>, Violation> {
        match self {
            Filter::Raw => Ok(bytes),
            Filter::Dash { decoder, allowed } => {
                decoder.feed(&bytes);
                let mut out = Vec::new();
                while let Some(message) = decoder.next_wire_message().map_err(Violation::Framing)? {
                    if let Some(allowed) = allowed {
                        if !allowed.contains(&message.command) {
                            return Err(Violation::CommandNotAllowed(message.command));
                        }
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

/// Traffic that is not allowed through the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// Not a valid message of the configured network.
    Framing(FramingError),
    /// A command outside the allow-list.
    CommandNotAllowed(Command),
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
        let mut filter = Filter::dash(Network::Testnet, 1000, None);
        assert_eq!(filter.pass(wire("addr", &[0])).unwrap(), wire("addr", &[0]));
    }

    #[test]
    fn raw_passes_anything() {
        let mut filter = Filter::Raw;
        assert_eq!(filter.pass(vec![1, 2, 3]).unwrap(), vec![1, 2, 3]);
    }
}
