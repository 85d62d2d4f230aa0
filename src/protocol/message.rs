//! The messages dashlight speaks, decoded from and encoded to payloads.
//!
//! [`NetworkMessage`] lists every command the light client understands; any
//! other command is kept as [`NetworkMessage::Unknown`] with its raw bytes so
//! it can be skipped (or forwarded) untouched.

use super::bloom::{BloomFilter, MerkleBlock};
use super::chainlock::ClSig;
use super::framing::{Command, RawMessage, MAX_PAYLOAD};
use super::handshake::{VersionMessage, MAX_USER_AGENT_LEN};
use super::headers::{read_headers, write_headers, GetHeaders, MAX_HEADERS, MAX_LOCATOR_HASHES};
use super::inventory::{read_inventory_list, Inventory, MAX_INV_SIZE};
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

    /// The largest payload a `command` message may have, checked from the
    /// message header before the payload is read (see
    /// [`super::framing::StreamDecoder`]). Each bound is the largest payload
    /// the command's layout allows, with its compact sizes at their widest:
    ///
    /// - `headers`: 2,000 headers of 81 bytes; `inv`, `getdata`, `notfound`:
    ///   50,000 entries of 36 bytes; `getheaders`: 101 locator hashes;
    /// - `version`: every optional field and a 256-byte user agent (377 bytes);
    /// - `clsig` 132, `ping`/`pong` 8, `getmnlistd` 64;
    /// - `getqrinfo`: 1,000 base hashes; `reject`: 1 KiB (Dash Core sends at
    ///   most a 12-byte command, a 111-byte reason and a hash);
    /// - the messages without fields (`verack`, `sendheaders`, `sendaddrv2`):
    ///   1 KiB. Any payload is malformed and fails to decode; the bound only
    ///   keeps the buffer small, and leaves a short payload to be framed (and
    ///   its checksum checked) like any other;
    /// - `mnlistdiff` and `qrinfo`: [`MAX_PAYLOAD`], since mainnet QRInfos
    ///   from genesis exceed 3 MB;
    /// - any other command: [`MAX_PAYLOAD`] as well. Unknown commands are
    ///   never decoded (their payload is copied once and skipped), and Dash
    ///   Core sends several whose size dashlight cannot know (`addrv2`,
    ///   `govobj`, future commands): a tighter bound would risk dropping an
    ///   honest peer for a message it was right to send.
    pub fn max_payload(command: Command) -> usize {
        /// The widest compact size.
        const COUNT: usize = 9;
        let name = command.name();
        if Command::new(&name) != command {
            return MAX_PAYLOAD;
        }
        match name.as_str() {
            "version" => VersionMessage::MIN_ENCODED_SIZE - 1 + 3 + MAX_USER_AGENT_LEN + 1 + 32 + 1,
            "verack" | "sendheaders" | "sendaddrv2" | "reject" => 1024,
            "ping" | "pong" => 8,
            "getheaders" => 4 + COUNT + MAX_LOCATOR_HASHES * 32 + 32,
            "headers" => COUNT + MAX_HEADERS * (crate::block::HEADER_SIZE + 1),
            "getmnlistd" => 64,
            "getqrinfo" => COUNT + 1000 * 32 + 32 + 1,
            "clsig" => 4 + 32 + 96,
            "inv" | "getdata" | "notfound" => COUNT + MAX_INV_SIZE * 36,
            _ => MAX_PAYLOAD,
        }
    }

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
    use crate::protocol::handshake::NetAddress;
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
    fn payload_bounds_are_the_layouts_largest() {
        let bound = |name| NetworkMessage::max_payload(Command::new(name));
        assert_eq!(bound("headers"), 2000 * 81 + 9);
        assert_eq!(bound("clsig"), 132);
        assert_eq!(bound("inv"), 50_000 * 36 + 9);
        assert_eq!(bound("version"), 377);
        assert_eq!(bound("ping"), 8);
        assert_eq!(bound("verack"), 1024);
        assert_eq!(bound("qrinfo"), MAX_PAYLOAD);
        assert_eq!(bound("mnlistdiff"), MAX_PAYLOAD);
        assert_eq!(bound("senddsq"), MAX_PAYLOAD);
    }

    #[test]
    fn the_largest_messages_of_a_layout_fit_its_bound() {
        let version = VersionMessage {
            version: 70230,
            services: 0,
            timestamp: 1_700_000_000,
            receiver: NetAddress::default(),
            sender: NetAddress::default(),
            nonce: 1,
            user_agent: vec![b'a'; MAX_USER_AGENT_LEN],
            start_height: 905_000,
            relay: Some(true),
            mnauth_challenge: Some([1; 32]),
            masternode_connection: Some(false),
        };
        let full = [
            NetworkMessage::Version(version),
            NetworkMessage::Headers(vec![
                BlockHeader::decode(&mut Reader::new(&[0; 80])).unwrap();
                MAX_HEADERS
            ]),
            NetworkMessage::Inv(vec![
                Inventory {
                    inv_type: InvType::Block,
                    hash: Sha256dHash([4; 32]),
                };
                MAX_INV_SIZE
            ]),
            NetworkMessage::GetHeaders(GetHeaders {
                version: 70230,
                locator: vec![BlockHash([5; 32]); MAX_LOCATOR_HASHES],
                stop_hash: BlockHash::ZERO,
            }),
            NetworkMessage::Ping(1),
        ];
        for message in full {
            let raw = message.encode(PROTOCOL_VERSION);
            let bound = NetworkMessage::max_payload(raw.command);
            assert!(raw.payload.len() <= bound, "{}", raw.command);
            assert!(
                bound - raw.payload.len() <= 8,
                "{} bound is loose",
                raw.command
            );
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
