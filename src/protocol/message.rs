//! The messages dashlight speaks, decoded from and encoded to payloads.
//!
//! [`NetworkMessage`] lists every command the light client understands; any
//! other command is kept as [`NetworkMessage::Unknown`] with its raw bytes so
//! it can be skipped (or forwarded) untouched.

use super::bloom::{BloomFilter, MerkleBlock};
use super::chainlock::ClSig;
use super::framing::{Command, RawMessage};
use super::handshake::VersionMessage;
use super::headers::{read_headers, write_headers, GetHeaders};
use super::inventory::{read_inventory_list, Inventory};
use super::isdlock::InstantLock;
use super::mnlistdiff::{GetMnListDiff, MnListDiff};
use super::qrinfo::{GetQrInfo, QrInfo};
use super::reject::Reject;
use crate::block::BlockHeader;
use crate::encode::{write_vec, Decodable, DecodeError, Encodable, Reader};
use core::fmt;

/// A decoded P2P message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkMessage {
    /// `version`: opens the handshake.
    Version(VersionMessage),
    /// `verack`: acknowledges the peer's `version`.
    Verack,
    /// `ping` with its nonce.
    Ping(u64),
    /// `pong` echoing a ping's nonce.
    Pong(u64),
    /// `sendheaders`: announce new blocks with `headers` rather than `inv`.
    SendHeaders,
    /// `sendaddrv2`: the sender understands `addrv2` (BIP-155).
    SendAddrV2,
    /// `getheaders`.
    GetHeaders(GetHeaders),
    /// `headers`: up to 2,000 block headers.
    Headers(Vec<BlockHeader>),
    /// `getmnlistd`.
    GetMnListDiff(GetMnListDiff),
    /// `mnlistdiff`.
    MnListDiff(Box<MnListDiff>),
    /// `getqrinfo`.
    GetQrInfo(GetQrInfo),
    /// `qrinfo`.
    QrInfo(Box<QrInfo>),
    /// `clsig`: a ChainLock.
    ClSig(ClSig),
    /// A deterministic InstantSend lock (`isdlock`).
    IsDLock(Box<InstantLock>),
    /// A BIP-37 filter for the peer to filter blocks with (`filterload`).
    FilterLoad(BloomFilter),
    /// A filtered block (`merkleblock`).
    MerkleBlock(Box<MerkleBlock>),
    /// `inv`: announces objects.
    Inv(Vec<Inventory>),
    /// `getdata`: asks for objects.
    GetData(Vec<Inventory>),
    /// `notfound`: objects asked for that the peer does not have.
    NotFound(Vec<Inventory>),
    /// `reject`.
    Reject(Reject),
    /// Any other command, with its payload as received.
    Unknown {
        /// The command.
        command: Command,
        /// The raw payload.
        payload: Vec<u8>,
    },
}

/// Why a payload could not be decoded as its command's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageError {
    /// The message's command.
    pub command: Command,
    /// Where in the payload decoding stopped.
    pub offset: usize,
    /// What was wrong.
    pub error: DecodeError,
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "malformed {} payload at byte {}: {}",
            self.command, self.offset, self.error
        )
    }
}

impl std::error::Error for MessageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl NetworkMessage {
    /// Every command decoded into its own variant; all others are [`NetworkMessage::Unknown`].
    pub const KNOWN_COMMANDS: [&'static str; 20] = [
        "version",
        "verack",
        "ping",
        "pong",
        "sendheaders",
        "sendaddrv2",
        "getheaders",
        "headers",
        "getmnlistd",
        "mnlistdiff",
        "getqrinfo",
        "qrinfo",
        "clsig",
        "isdlock",
        "filterload",
        "merkleblock",
        "inv",
        "getdata",
        "notfound",
        "reject",
    ];

    /// The command name this message is sent under.
    pub fn command(&self) -> Command {
        let name = match self {
            NetworkMessage::Version(_) => "version",
            NetworkMessage::Verack => "verack",
            NetworkMessage::Ping(_) => "ping",
            NetworkMessage::Pong(_) => "pong",
            NetworkMessage::SendHeaders => "sendheaders",
            NetworkMessage::SendAddrV2 => "sendaddrv2",
            NetworkMessage::GetHeaders(_) => "getheaders",
            NetworkMessage::Headers(_) => "headers",
            NetworkMessage::GetMnListDiff(_) => "getmnlistd",
            NetworkMessage::MnListDiff(_) => "mnlistdiff",
            NetworkMessage::GetQrInfo(_) => "getqrinfo",
            NetworkMessage::QrInfo(_) => "qrinfo",
            NetworkMessage::ClSig(_) => "clsig",
            NetworkMessage::IsDLock(_) => "isdlock",
            NetworkMessage::FilterLoad(_) => "filterload",
            NetworkMessage::MerkleBlock(_) => "merkleblock",
            NetworkMessage::Inv(_) => "inv",
            NetworkMessage::GetData(_) => "getdata",
            NetworkMessage::NotFound(_) => "notfound",
            NetworkMessage::Reject(_) => "reject",
            NetworkMessage::Unknown { command, .. } => return *command,
        };
        Command::new(name)
    }

    /// Decodes `payload` as a `command` message in the layout of
    /// `protocol_version`. Unknown commands (and commands not exactly in
    /// their NUL-padded form) become [`NetworkMessage::Unknown`]. The payload
    /// must be consumed exactly.
    pub fn decode(
        command: Command,
        payload: &[u8],
        protocol_version: u32,
    ) -> Result<NetworkMessage, MessageError> {
        let mut r = Reader::new(payload);
        let result = Self::decode_known(command, &mut r, protocol_version).and_then(|message| {
            if message.is_some() {
                r.finish()?;
            }
            Ok(message)
        });
        match result {
            Ok(Some(message)) => Ok(message),
            Ok(None) => Ok(NetworkMessage::Unknown {
                command,
                payload: payload.to_vec(),
            }),
            Err(error) => Err(MessageError {
                command,
                offset: r.position(),
                error,
            }),
        }
    }

    fn decode_known(
        command: Command,
        r: &mut Reader<'_>,
        protocol_version: u32,
    ) -> Result<Option<NetworkMessage>, DecodeError> {
        let name = command.name();
        if Command::new(&name) != command {
            return Ok(None);
        }
        let message = match name.as_str() {
            "version" => NetworkMessage::Version(VersionMessage::decode(r)?),
            "verack" => NetworkMessage::Verack,
            "ping" => NetworkMessage::Ping(r.read_u64()?),
            "pong" => NetworkMessage::Pong(r.read_u64()?),
            "sendheaders" => NetworkMessage::SendHeaders,
            "sendaddrv2" => NetworkMessage::SendAddrV2,
            "getheaders" => NetworkMessage::GetHeaders(GetHeaders::decode(r)?),
            "headers" => NetworkMessage::Headers(read_headers(r)?),
            "getmnlistd" => NetworkMessage::GetMnListDiff(GetMnListDiff::decode(r)?),
            "mnlistdiff" => {
                NetworkMessage::MnListDiff(Box::new(MnListDiff::decode(r, protocol_version)?))
            }
            "getqrinfo" => NetworkMessage::GetQrInfo(GetQrInfo::decode(r)?),
            "qrinfo" => NetworkMessage::QrInfo(Box::new(QrInfo::decode(r, protocol_version)?)),
            "clsig" => NetworkMessage::ClSig(ClSig::decode(r)?),
            "isdlock" => NetworkMessage::IsDLock(Box::new(InstantLock::decode(r)?)),
            "filterload" => NetworkMessage::FilterLoad(BloomFilter::decode(r)?),
            "merkleblock" => NetworkMessage::MerkleBlock(Box::new(MerkleBlock::decode(r)?)),
            "inv" => NetworkMessage::Inv(read_inventory_list(r)?),
            "getdata" => NetworkMessage::GetData(read_inventory_list(r)?),
            "notfound" => NetworkMessage::NotFound(read_inventory_list(r)?),
            "reject" => NetworkMessage::Reject(Reject::decode(r)?),
            _ => return Ok(None),
        };
        Ok(Some(message))
    }

    /// The payload in the layout of `protocol_version`.
    pub fn payload(&self, protocol_version: u32) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            NetworkMessage::Version(m) => m.encode(&mut out),
            NetworkMessage::Verack | NetworkMessage::SendHeaders | NetworkMessage::SendAddrV2 => {}
            NetworkMessage::Ping(nonce) | NetworkMessage::Pong(nonce) => nonce.encode(&mut out),
            NetworkMessage::GetHeaders(m) => m.encode(&mut out),
            NetworkMessage::Headers(headers) => write_headers(&mut out, headers),
            NetworkMessage::GetMnListDiff(m) => m.encode(&mut out),
            NetworkMessage::MnListDiff(m) => m.encode(&mut out, protocol_version),
            NetworkMessage::GetQrInfo(m) => m.encode(&mut out),
            NetworkMessage::QrInfo(m) => m.encode(&mut out, protocol_version),
            NetworkMessage::ClSig(m) => m.encode(&mut out),
            NetworkMessage::IsDLock(m) => m.encode(&mut out),
            NetworkMessage::FilterLoad(m) => m.encode(&mut out),
            NetworkMessage::MerkleBlock(m) => m.encode(&mut out),
            NetworkMessage::Inv(list)
            | NetworkMessage::GetData(list)
            | NetworkMessage::NotFound(list) => write_vec(&mut out, list),
            NetworkMessage::Reject(m) => m.encode(&mut out),
            NetworkMessage::Unknown { payload, .. } => out.extend_from_slice(payload),
        }
        out
    }

    /// The message as a framed command and payload in the layout of
    /// `protocol_version`; [`RawMessage::to_wire`] adds the header.
    pub fn encode(&self, protocol_version: u32) -> RawMessage {
        RawMessage {
            command: self.command(),
            payload: self.payload(protocol_version),
        }
    }

    /// Decodes a framed message (as [`super::framing::StreamDecoder`] yields it).
    pub fn from_raw(
        raw: &RawMessage,
        protocol_version: u32,
    ) -> Result<NetworkMessage, MessageError> {
        NetworkMessage::decode(raw.command, &raw.payload, protocol_version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{BlockHash, Sha256dHash};
    use crate::protocol::inventory::InvType;
    use crate::protocol::version::PROTOCOL_VERSION;

    fn round_trip(message: NetworkMessage) {
        let raw = message.encode(PROTOCOL_VERSION);
        assert_eq!(
            NetworkMessage::from_raw(&raw, PROTOCOL_VERSION),
            Ok(message)
        );
    }

    #[test]
    fn small_messages_round_trip() {
        round_trip(NetworkMessage::Verack);
        round_trip(NetworkMessage::Ping(7));
        round_trip(NetworkMessage::Pong(7));
        round_trip(NetworkMessage::SendHeaders);
        round_trip(NetworkMessage::SendAddrV2);
        round_trip(NetworkMessage::GetMnListDiff(GetMnListDiff {
            base_block_hash: BlockHash::ZERO,
            block_hash: BlockHash([1; 32]),
        }));
        round_trip(NetworkMessage::GetQrInfo(GetQrInfo {
            base_block_hashes: vec![BlockHash([2; 32])],
            block_request_hash: BlockHash([3; 32]),
            extra_share: true,
        }));
        round_trip(NetworkMessage::Inv(vec![Inventory {
            inv_type: InvType::ClSig,
            hash: Sha256dHash([4; 32]),
        }]));
        round_trip(NetworkMessage::Unknown {
            command: Command::new("sendcmpct"),
            payload: vec![0, 1, 0, 0, 0, 0, 0, 0, 0],
        });
    }

    #[test]
    fn trailing_bytes_are_an_error_with_their_offset() {
        let err =
            NetworkMessage::decode(Command::new("verack"), &[0], PROTOCOL_VERSION).unwrap_err();
        assert_eq!(err.error, DecodeError::TrailingBytes(1));
        assert_eq!(err.offset, 0);
        assert_eq!(
            err.to_string(),
            "malformed verack payload at byte 0: 1 trailing bytes after the value"
        );
    }

    #[test]
    fn a_truncated_ping_is_an_error() {
        let err =
            NetworkMessage::decode(Command::new("ping"), &[1, 2, 3], PROTOCOL_VERSION).unwrap_err();
        assert!(matches!(
            err.error,
            DecodeError::UnexpectedEnd {
                needed: 8,
                remaining: 3
            }
        ));
    }

    #[test]
    fn every_known_command_has_its_own_decoder() {
        for name in NetworkMessage::KNOWN_COMMANDS {
            let decoded = NetworkMessage::decode(Command::new(name), &[], PROTOCOL_VERSION);
            assert!(
                !matches!(decoded, Ok(NetworkMessage::Unknown { .. })),
                "{name}"
            );
            if let Ok(message) = decoded {
                assert_eq!(message.command(), Command::new(name));
            }
        }
    }

    #[test]
    fn unknown_commands_keep_their_bytes() {
        let message =
            NetworkMessage::decode(Command::new("senddsq"), &[1], PROTOCOL_VERSION).unwrap();
        assert_eq!(
            message,
            NetworkMessage::Unknown {
                command: Command::new("senddsq"),
                payload: vec![1]
            }
        );
    }
}
