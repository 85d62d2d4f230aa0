//! `dashlight headers`: validates a file of consecutive block headers (proof
//! of work, difficulty retargeting, median time, future time, checkpoints)
//! and prints a JSON report; fails when a header is invalid.

use clap::Args;
use dashlight::block::HEADER_SIZE;
use dashlight::chain::checkpoints::HashFingerprint;
use dashlight::chain::{
    HashedHeader, HeaderChain, Rejection, SyncBase, SyncBaseError, ValidationError, Work,
};
use dashlight::network::Network;
use serde_json::{json, Value};
use std::fmt;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// Headers validated per batch, as in a P2P `headers` message.
const BATCH: usize = 2000;

/// Arguments of `dashlight headers`.
#[derive(Args)]
pub struct HeadersArgs {
    /// The network the headers belong to (testnet or mainnet).
    #[arg(long)]
    network: Network,
    /// Height of the file's first header. At 0 it must be genesis, at a
    /// compiled-in sync base that checkpoint block; at any other height it
    /// is trusted as the start (and must match a checkpoint there is one).
    #[arg(long)]
    start_height: u32,
    /// The current time in Unix seconds for the future-time limit (default: the system clock).
    #[arg(long)]
    now: Option<u64>,
    /// Concatenated 80-byte headers at consecutive heights.
    file: PathBuf,
}

/// Why `dashlight headers` failed.
#[derive(Debug)]
pub enum HeadersFailure {
    /// The file could not be read.
    Io(PathBuf, std::io::Error),
    /// The file's length is not a positive multiple of 80.
    NotHeaders {
        /// The file's length.
        len: usize,
    },
    /// A header is invalid (the report has been printed).
    InvalidChain {
        /// Its height.
        height: u32,
        /// Why.
        reason: ValidationError,
    },
}

impl fmt::Display for HeadersFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(path, err) => write!(f, "cannot read {}: {err}", path.display()),
            Self::NotHeaders { len } => write!(
                f,
                "a header file holds one or more whole 80-byte headers, but has {len} bytes"
            ),
            Self::InvalidChain { height, reason } => {
                write!(f, "invalid header at height {height}: {reason}")
            }
        }
    }
}

impl std::error::Error for HeadersFailure {}

/// How the chain in the file is anchored.
enum Start {
    /// At genesis or a compiled-in checkpoint: chain work counts from genesis.
    Known(SyncBase),
    /// The first header, taken on trust: chain work counts from it.
    Trusted(SyncBase),
}

/// Runs `dashlight headers`, printing the report to standard output.
pub fn run(args: &HeadersArgs) -> Result<(), HeadersFailure> {
    let bytes = std::fs::read(&args.file).map_err(|e| HeadersFailure::Io(args.file.clone(), e))?;
    if bytes.is_empty() || bytes.len() % HEADER_SIZE != 0 {
        return Err(HeadersFailure::NotHeaders { len: bytes.len() });
    }
    let now = args.now.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let (report, failure) = validate(args.network, args.start_height, &bytes, now);
    println!("{report}");
    match failure {
        Some(failure) => Err(failure),
        None => Ok(()),
    }
}

/// Where the chain starts, or why its first header cannot start it.
fn start(network: Network, height: u32, first: &HashedHeader) -> Result<Start, ValidationError> {
    if let Some(base) = SyncBase::at_checkpoint(network, height) {
        if base.hash() != first.hash {
            return Err(ValidationError::CheckpointMismatch {
                height,
                expected: HashFingerprint::of(&base.hash()),
                found: first.hash,
            });
        }
        return Ok(Start::Known(base));
    }
    let header = first.header;
    match SyncBase::new(network, height, header, Work::from_bits(header.bits)) {
        Ok(base) => Ok(Start::Trusted(base)),
        Err(SyncBaseError::CheckpointMismatch {
            height,
            expected,
            found,
        }) => Err(ValidationError::CheckpointMismatch {
            height,
            expected,
            found,
        }),
    }
}

/// Validates the concatenated headers in `bytes` (the first at
/// `start_height`), hashing them a batch at a time, and builds the report.
fn validate(
    network: Network,
    start_height: u32,
    bytes: &[u8],
    now: u64,
) -> (Value, Option<HeadersFailure>) {
    let mut report = json!({
        "network": network.name(),
        "start_height": start_height,
        "count": bytes.len() / HEADER_SIZE,
    });
    let (first, rest) = bytes.split_at(HEADER_SIZE.min(bytes.len()));
    let Some(first) = HashedHeader::parse_all(first).pop() else {
        return (report, None);
    };
    let (base, anchored) = match start(network, start_height, &first) {
        Ok(Start::Known(base)) => (base, true),
        Ok(Start::Trusted(base)) => (base, false),
        Err(reason) => {
            let rejection = Rejection {
                index: 0,
                height: Some(start_height),
                hash: first.hash,
                reason,
            };
            report["valid"] = json!(0);
            report["invalid"] = rejection_json(&rejection);
            let failure = HeadersFailure::InvalidChain {
                height: start_height,
                reason,
            };
            return (report, Some(failure));
        }
    };
    let mut chain = HeaderChain::new(base);
    let mut rejected = None;
    for (batch_number, batch) in rest.chunks(BATCH * HEADER_SIZE).enumerate() {
        let batch = HashedHeader::parse_all(batch);
        if let Some(mut rejection) = chain.extend(&batch, now).rejected {
            rejection.index += 1 + batch_number * BATCH;
            rejected = Some(rejection);
            break;
        }
    }
    let tip = chain.tip();
    report["start"] = json!(if anchored { "checkpoint" } else { "trusted" });
    report["valid"] = json!(tip.height - start_height + 1);
    report["tip"] = json!({ "height": tip.height, "hash": tip.hash.to_string() });
    report["chain_work"] = json!(tip.chain_work.to_string());
    // Work from genesis when anchored, else from the trusted first header.
    report["chain_work_from_height"] = json!(if anchored { 0 } else { start_height });
    report["invalid"] = rejected.as_ref().map_or(Value::Null, rejection_json);
    let failure = rejected.map(|r| HeadersFailure::InvalidChain {
        height: r.height.unwrap_or(tip.height + 1),
        reason: r.reason,
    });
    (report, failure)
}

fn rejection_json(rejection: &Rejection) -> Value {
    json!({
        "index": rejection.index,
        "height": rejection.height,
        "hash": rejection.hash.to_string(),
        "reason": rejection.reason.kind(),
        "message": rejection.reason.to_string(),
    })
}
