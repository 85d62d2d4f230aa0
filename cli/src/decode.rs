//! `dashlight decode`: decodes a file holding a Dash P2P payload (or, with
//! `--p2p`, a whole message with its 24-byte header) and prints a JSON summary.

use clap::{Args, ValueEnum};
use dashlight::block::{BlockHeader, HEADER_SIZE};
use dashlight::network::Network;
use dashlight::protocol::chainlock::ClSig;
use dashlight::protocol::framing::{Command, FramingError, RawMessage, StreamDecoder};
use dashlight::protocol::mnlistdiff::MnListDiff;
use dashlight::protocol::qrinfo::QrInfo;
use dashlight::protocol::snapshot::QuorumSnapshot;
use dashlight::protocol::{MessageError, NetworkMessage, PROTOCOL_VERSION};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Arguments of `dashlight decode`.
#[derive(Args)]
pub struct DecodeArgs {
    /// What the file holds.
    #[arg(long, value_enum)]
    kind: Kind,
    /// Protocol version whose layout the payload has (mnlistdiff and qrinfo
    /// layouts differ before 70229 and 70230).
    #[arg(long, default_value_t = PROTOCOL_VERSION)]
    protocol: u32,
    /// The file holds a whole P2P message: 24-byte header (magic checked) and payload.
    #[arg(long)]
    p2p: bool,
    /// The file to decode. Without `--p2p`: a raw payload, or for headers
    /// concatenated 80-byte headers.
    file: PathBuf,
}

/// The kinds of data `decode` reads.
#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    /// Block headers.
    Headers,
    /// A masternode-list diff.
    Mnlistdiff,
    /// A quorum rotation info.
    Qrinfo,
    /// A ChainLock.
    Clsig,
}

impl Kind {
    fn command(self) -> Command {
        Command::new(match self {
            Kind::Headers => "headers",
            Kind::Mnlistdiff => "mnlistdiff",
            Kind::Qrinfo => "qrinfo",
            Kind::Clsig => "clsig",
        })
    }
}

/// Why a file could not be decoded.
#[derive(Debug)]
pub enum DecodeFailure {
    /// The file could not be read.
    Io(PathBuf, std::io::Error),
    /// The first four bytes are no known network's magic.
    UnknownMagic([u8; 4]),
    /// The message framing is invalid.
    Framing(FramingError),
    /// The file ends before the message does.
    Truncated {
        /// Bytes in the file.
        len: usize,
    },
    /// Bytes follow the message.
    TrailingBytes(usize),
    /// The message is not of the kind asked for.
    WrongCommand {
        /// The command expected for `--kind`.
        expected: Command,
        /// The message's command.
        found: Command,
    },
    /// A raw header file's length is not a multiple of 80.
    PartialHeader {
        /// The file's length.
        len: usize,
    },
    /// The payload is malformed.
    Message(MessageError),
}

impl fmt::Display for DecodeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(path, err) => write!(f, "cannot read {}: {err}", path.display()),
            Self::UnknownMagic(magic) => write!(
                f,
                "not a P2P message: magic {:02x?} is neither mainnet's nor testnet's",
                magic
            ),
            Self::Framing(err) => write!(f, "invalid message framing: {err}"),
            Self::Truncated { len } => write!(
                f,
                "truncated message: the file's {len} bytes end before the header's declared payload"
            ),
            Self::TrailingBytes(n) => write!(f, "{n} bytes follow the message"),
            Self::WrongCommand { expected, found } => {
                write!(f, "expected a {expected} message, found {found}")
            }
            Self::PartialHeader { len } => write!(
                f,
                "a header file holds whole 80-byte headers, but has {len} bytes"
            ),
            Self::Message(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for DecodeFailure {}

/// Runs `dashlight decode`, printing the summary to standard output.
pub fn run(args: &DecodeArgs) -> Result<(), DecodeFailure> {
    let bytes = std::fs::read(&args.file).map_err(|e| DecodeFailure::Io(args.file.clone(), e))?;
    let summary = summarize(args.kind, args.protocol, args.p2p, &bytes)?;
    println!("{}", Value::Object(summary));
    Ok(())
}

/// Decodes `bytes` as `kind` and returns the JSON summary.
fn summarize(
    kind: Kind,
    protocol: u32,
    p2p: bool,
    bytes: &[u8],
) -> Result<Map<String, Value>, DecodeFailure> {
    let mut summary = Map::new();
    let message = if p2p {
        let (network, raw) = read_p2p_message(bytes)?;
        if raw.command != kind.command() {
            return Err(DecodeFailure::WrongCommand {
                expected: kind.command(),
                found: raw.command,
            });
        }
        summary.insert("network".into(), json!(network.name()));
        NetworkMessage::from_raw(&raw, protocol)
    } else if let Kind::Headers = kind {
        summary.extend(headers_summary(&read_raw_headers(bytes)?));
        return Ok(summary);
    } else {
        NetworkMessage::decode(kind.command(), bytes, protocol)
    }
    .map_err(DecodeFailure::Message)?;
    summary.insert("protocol_version".into(), json!(protocol));
    let details = match message {
        NetworkMessage::Headers(headers) => headers_summary(&headers),
        NetworkMessage::MnListDiff(diff) => diff_summary(&diff),
        NetworkMessage::QrInfo(info) => qrinfo_summary(&info),
        NetworkMessage::ClSig(clsig) => clsig_summary(&clsig),
        other => {
            return Err(DecodeFailure::WrongCommand {
                expected: kind.command(),
                found: other.command(),
            })
        }
    };
    summary.extend(details);
    Ok(summary)
}

/// Frames the one message `bytes` must hold, on whichever network its magic names.
fn read_p2p_message(bytes: &[u8]) -> Result<(Network, RawMessage), DecodeFailure> {
    let magic = match bytes.get(..4) {
        Some(&[a, b, c, d]) => [a, b, c, d],
        _ => return Err(DecodeFailure::Truncated { len: bytes.len() }),
    };
    let network = Network::from_magic(magic).ok_or(DecodeFailure::UnknownMagic(magic))?;
    let mut decoder = StreamDecoder::new(network);
    decoder.feed(bytes);
    match decoder.next_message().map_err(DecodeFailure::Framing)? {
        Some(raw) => match decoder.buffered() {
            0 => Ok((network, raw)),
            n => Err(DecodeFailure::TrailingBytes(n)),
        },
        None => Err(DecodeFailure::Truncated { len: bytes.len() }),
    }
}

fn read_raw_headers(bytes: &[u8]) -> Result<Vec<BlockHeader>, DecodeFailure> {
    if bytes.len() % HEADER_SIZE != 0 {
        return Err(DecodeFailure::PartialHeader { len: bytes.len() });
    }
    Ok(bytes
        .chunks_exact(HEADER_SIZE)
        .filter_map(|chunk| <&[u8; HEADER_SIZE]>::try_from(chunk).ok())
        .map(BlockHeader::from_bytes)
        .collect())
}

fn headers_summary(headers: &[BlockHeader]) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("kind".into(), json!("headers"));
    out.insert("count".into(), json!(headers.len()));
    if let (Some(first), Some(last)) = (headers.first(), headers.last()) {
        out.insert("first_hash".into(), json!(first.block_hash().to_string()));
        out.insert(
            "first_prev_hash".into(),
            json!(first.prev_blockhash.to_string()),
        );
        out.insert("last_hash".into(), json!(last.block_hash().to_string()));
    }
    out
}

fn count_by<K: Ord + ToString>(keys: impl Iterator<Item = K>) -> Value {
    let mut counts = BTreeMap::new();
    for key in keys {
        *counts.entry(key).or_insert(0usize) += 1;
    }
    Value::Object(
        counts
            .into_iter()
            .map(|(k, n)| (k.to_string(), json!(n)))
            .collect(),
    )
}

fn diff_json(diff: &MnListDiff) -> Value {
    let coinbase = diff.coinbase_payload();
    let mut cb = json!({
        "version": coinbase.version,
        "height": coinbase.height,
        "merkle_root_mn_list": coinbase.merkle_root_mn_list.to_string(),
        "txid": diff.coinbase_tx.txid().to_string(),
    });
    if let Some(root) = coinbase.merkle_root_quorums() {
        cb["merkle_root_quorums"] = json!(root.to_string());
    }
    if let Some((height, _)) = coinbase.best_chainlock() {
        cb["best_chainlock_height"] = json!(height);
        cb["credit_pool_balance"] = json!(coinbase.credit_pool_balance);
    }
    json!({
        "version": diff.version,
        "base_block_hash": diff.base_block_hash.to_string(),
        "block_hash": diff.block_hash.to_string(),
        "merkle_proof": {
            "total_transactions": diff.coinbase_merkle_tree.total_transactions,
            "hashes": diff.coinbase_merkle_tree.hashes.len(),
            "flag_bytes": diff.coinbase_merkle_tree.flags.len(),
        },
        "coinbase": cb,
        "entries": {
            "count": diff.new_masternodes.len(),
            "by_version": count_by(diff.new_masternodes.iter().map(|e| e.version)),
            "evo": diff.new_masternodes.iter().filter(|e| e.is_evo()).count(),
            "valid": diff.new_masternodes.iter().filter(|e| e.is_valid).count(),
        },
        "deleted_entries": diff.deleted_masternodes.len(),
        "new_quorums": {
            "count": diff.new_quorums.len(),
            "by_type": count_by(diff.new_quorums.iter().map(|q| q.llmq_type)),
        },
        "deleted_quorums": {
            "count": diff.deleted_quorums.len(),
            "by_type": count_by(diff.deleted_quorums.iter().map(|q| q.llmq_type)),
        },
        "quorum_chainlock_signatures": diff.quorums_cl_sigs.len(),
    })
}

fn diff_summary(diff: &MnListDiff) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("kind".into(), json!("mnlistdiff"));
    if let Value::Object(fields) = diff_json(diff) {
        out.extend(fields);
    }
    out
}

fn snapshot_json(snapshot: &QuorumSnapshot) -> Value {
    json!({
        "skip_list_mode": snapshot.skip_list_mode.to_i32(),
        "members": snapshot.active_quorum_members.len(),
        "active_members": snapshot.active_quorum_members.count_ones(),
        "skip_list": snapshot.skip_list.len(),
    })
}

fn qrinfo_summary(info: &QrInfo) -> Map<String, Value> {
    let diffs: Map<String, Value> = info
        .named_diffs()
        .into_iter()
        .map(|(name, diff)| (name.to_string(), diff_json(diff)))
        .collect();
    let snapshots: Map<String, Value> = info
        .named_snapshots()
        .into_iter()
        .map(|(name, snapshot)| (name.to_string(), snapshot_json(snapshot)))
        .collect();
    let mut out = Map::new();
    out.insert("kind".into(), json!("qrinfo"));
    out.insert("extra_share".into(), json!(info.extra_share.is_some()));
    out.insert("diffs".into(), Value::Object(diffs));
    out.insert("snapshots".into(), Value::Object(snapshots));
    out.insert(
        "last_commitment_per_index".into(),
        json!(info
            .last_commitment_per_index
            .iter()
            .map(|c| json!({
                "llmq_type": c.llmq_type,
                "quorum_index": c.quorum_index,
                "quorum_hash": c.quorum_hash.to_string(),
            }))
            .collect::<Vec<_>>()),
    );
    out.insert(
        "quorum_snapshot_list".into(),
        json!(info
            .quorum_snapshot_list
            .iter()
            .map(snapshot_json)
            .collect::<Vec<_>>()),
    );
    out.insert(
        "mn_list_diff_list".into(),
        json!(info
            .mn_list_diff_list
            .iter()
            .map(diff_json)
            .collect::<Vec<_>>()),
    );
    out
}

fn clsig_summary(clsig: &ClSig) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("kind".into(), json!("clsig"));
    out.insert("height".into(), json!(clsig.height));
    out.insert("block_hash".into(), json!(clsig.block_hash.to_string()));
    out.insert("signature".into(), json!(hex_string(&clsig.signature)));
    out
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_headers_message_with_the_wrong_magic_is_refused() {
        let raw = NetworkMessage::Headers(vec![]).encode(PROTOCOL_VERSION);
        let mut wire = raw.to_wire(Network::Testnet);
        assert!(summarize(Kind::Headers, PROTOCOL_VERSION, true, &wire).is_ok());
        wire[0] ^= 1;
        assert!(matches!(
            summarize(Kind::Headers, PROTOCOL_VERSION, true, &wire),
            Err(DecodeFailure::UnknownMagic(_))
        ));
    }

    #[test]
    fn a_message_of_another_kind_is_refused() {
        let wire = NetworkMessage::Verack
            .encode(PROTOCOL_VERSION)
            .to_wire(Network::Mainnet);
        assert!(matches!(
            summarize(Kind::Clsig, PROTOCOL_VERSION, true, &wire),
            Err(DecodeFailure::WrongCommand { .. })
        ));
    }

    #[test]
    fn raw_headers_must_be_whole() {
        assert!(matches!(
            summarize(Kind::Headers, PROTOCOL_VERSION, false, &[0; 81]),
            Err(DecodeFailure::PartialHeader { len: 81 })
        ));
        let summary = summarize(Kind::Headers, PROTOCOL_VERSION, false, &[0; 160]).unwrap();
        assert_eq!(summary["count"], json!(2));
    }
}
