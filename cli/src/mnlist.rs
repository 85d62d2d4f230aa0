//! `dashlight mnlist`: applies `mnlistdiff` and `qrinfo` payload files in
//! order to a masternode list engine and prints, per applied diff, a JSON line
//! with the list, its merkle-root checks, the quorums by type and status, and
//! timings; then a summary of every quorum. Exits non-zero if any check fails.

use clap::Args;
use dashlight::block::HEADER_SIZE;
use dashlight::chain::HeaderMap;
use dashlight::hash::BlockHash;
use dashlight::llmq::LlmqType;
use dashlight::mnlist::{
    ChainLockCheck, ChainLockFailure, DiffError, DiffReport, EngineError, EngineErrorKind,
    MasternodeEngine, QuorumStatus,
};
use dashlight::network::Network;
use dashlight::protocol::mnlistdiff::MnListDiff;
use dashlight::protocol::qrinfo::QrInfo;
use dashlight::protocol::PROTOCOL_VERSION;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where the engine's inputs come from; shared by `mnlist` and `clsig`.
#[derive(Args)]
pub struct SourceArgs {
    /// The network: mainnet or testnet.
    #[arg(long)]
    pub network: Network,
    /// A file of consecutive 80-byte headers (repeatable, each with a `--start-height`).
    /// Without headers, diffs are placed by their coinbase height and their
    /// coinbase is not proven against a block header.
    #[arg(long)]
    pub headers: Vec<PathBuf>,
    /// Height of the first header of the matching `--headers` file.
    #[arg(long = "start-height")]
    pub start_height: Vec<u32>,
    /// A CSV of single headers, `height,hash,header_hex` after a title line
    /// (such as the old quorum base blocks); repeatable.
    #[arg(long = "headers-csv")]
    pub headers_csv: Vec<PathBuf>,
    /// Protocol version whose layout the payloads have (default: the current one,
    /// or 70228 for files named `*_LAYOUT70228*`).
    #[arg(long)]
    pub protocol: Option<u32>,
}

/// Arguments of `dashlight mnlist`.
#[derive(Args)]
pub struct MnlistArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// `mnlistdiff` or `qrinfo` payload files (a name containing `qrinfo` is read
    /// as a QRInfo), applied in order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Why the command failed.
#[derive(Debug)]
pub enum MnlistFailure {
    /// A file could not be read.
    Io(PathBuf, std::io::Error),
    /// `--headers` and `--start-height` do not pair up.
    HeaderArgs,
    /// A header file is not whole 80-byte headers.
    PartialHeader(PathBuf),
    /// A line of a header CSV is malformed.
    BadCsvLine(PathBuf, usize),
    /// A payload could not be decoded.
    Decode(PathBuf, dashlight::encode::DecodeError),
    /// At least one check failed (details were printed).
    ChecksFailed(usize),
}

impl fmt::Display for MnlistFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(path, err) => write!(f, "cannot read {}: {err}", path.display()),
            Self::HeaderArgs => f.write_str("give one --start-height per --headers file"),
            Self::PartialHeader(path) => {
                write!(
                    f,
                    "{}: not a whole number of 80-byte headers",
                    path.display()
                )
            }
            Self::BadCsvLine(path, line) => {
                write!(
                    f,
                    "{} line {line}: expected height,hash,header_hex",
                    path.display()
                )
            }
            Self::Decode(path, err) => write!(f, "{}: {err}", path.display()),
            Self::ChecksFailed(n) => write!(f, "{n} check(s) failed"),
        }
    }
}

impl std::error::Error for MnlistFailure {}

/// A decoded input file.
pub enum Payload {
    /// An `mnlistdiff`.
    Diff(Box<MnListDiff>),
    /// A `qrinfo`.
    QrInfo(Box<QrInfo>),
}

fn read(path: &Path) -> Result<Vec<u8>, MnlistFailure> {
    std::fs::read(path).map_err(|e| MnlistFailure::Io(path.to_owned(), e))
}

/// Reads and decodes one payload file.
pub fn load_payload(path: &Path, protocol: Option<u32>) -> Result<Payload, MnlistFailure> {
    let bytes = read(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let protocol = protocol.unwrap_or(if name.contains("_LAYOUT70228") {
        70228
    } else {
        PROTOCOL_VERSION
    });
    let decode_err = |e| MnlistFailure::Decode(path.to_owned(), e);
    if name.contains("qrinfo") {
        QrInfo::from_payload(&bytes, protocol)
            .map(|q| Payload::QrInfo(Box::new(q)))
            .map_err(decode_err)
    } else {
        MnListDiff::from_payload(&bytes, protocol)
            .map(|d| Payload::Diff(Box::new(d)))
            .map_err(decode_err)
    }
}

/// Builds the engine and header chain of the source arguments.
pub fn setup(source: &SourceArgs) -> Result<(MasternodeEngine, HeaderMap), MnlistFailure> {
    if source.headers.len() != source.start_height.len() {
        return Err(MnlistFailure::HeaderArgs);
    }
    let mut headers = HeaderMap::default();
    for (path, &start) in source.headers.iter().zip(&source.start_height) {
        let bytes = read(path)?;
        if bytes.len() % HEADER_SIZE != 0 {
            return Err(MnlistFailure::PartialHeader(path.clone()));
        }
        headers.add_run(&bytes, start);
    }
    for path in &source.headers_csv {
        let text = String::from_utf8_lossy(&read(path)?).into_owned();
        headers
            .add_csv(&text)
            .map_err(|line| MnlistFailure::BadCsvLine(path.clone(), line))?;
    }
    let mut engine = MasternodeEngine::new(source.network);
    engine.set_max_lists(4096);
    engine.set_require_block_proofs(!headers.is_empty());
    let epoch = Instant::now();
    engine.set_clock(Box::new(move || epoch.elapsed().as_secs_f64()));
    Ok((engine, headers))
}

fn hex_hash(hash: &BlockHash) -> String {
    hash.to_string()
}

/// The JSON of a rejected diff; which root check failed, if one did.
fn error_json(file: &Path, err: &EngineError) -> Value {
    let (mn_ok, q_ok) = match err.error.as_ref() {
        EngineErrorKind::Diff(DiffError::MnListRoot { .. }) => (Value::Bool(false), Value::Null),
        EngineErrorKind::Diff(DiffError::QuorumsRoot { .. }) => {
            (Value::Bool(true), Value::Bool(false))
        }
        _ => (Value::Null, Value::Null),
    };
    json!({
        "file": file.display().to_string(),
        "diff": err.diff,
        "block_hash": hex_hash(&err.block_hash),
        "height": err.height,
        "merkle_root_mn_list_ok": mn_ok,
        "merkle_root_quorums_ok": q_ok,
        "error": err.to_string(),
    })
}

fn status_key(status: &QuorumStatus) -> &'static str {
    match status {
        QuorumStatus::Verified { .. } => "verified",
        QuorumStatus::Failed(_) => "failed",
        QuorumStatus::NotVerifiable(_) => "not_verifiable",
    }
}

/// Quorum counts by type name and status for a set of quorums.
fn quorum_counts<'a>(
    engine: &MasternodeEngine,
    quorums: impl Iterator<Item = &'a (LlmqType, BlockHash)>,
) -> Value {
    let mut counts: BTreeMap<String, BTreeMap<&'static str, usize>> = BTreeMap::new();
    for (llmq_type, hash) in quorums {
        let by_status = counts.entry(llmq_type.name()).or_default();
        for key in ["verified", "failed", "not_verifiable"] {
            by_status.entry(key).or_insert(0);
        }
        if let Some(record) = engine.quorum_record(*llmq_type, hash) {
            *by_status.entry(status_key(&record.status)).or_insert(0) += 1;
        }
    }
    json!(counts)
}

fn chainlock_json(check: &ChainLockCheck) -> Value {
    json!({
        "height": check.height,
        "block_hash": hex_hash(&check.block_hash),
        "on_header_chain": check.on_header_chain,
        "quorum_type": check.quorum.map(|(t, _)| t.name()),
        "quorum_hash": check.quorum.map(|(_, h)| hex_hash(&h)),
        "quorum_status": check.quorum_status.as_ref().map(|s| s.to_string()),
        "quorum_set_ambiguous": check.quorum_set_ambiguous,
        "signature_valid": check.signature_valid(),
        "fully_verified": check.fully_verified(),
        "error": check.result.as_ref().err().map(|e| e.to_string()),
    })
}

/// The coinbase's best ChainLock check, and whether its signature was found invalid.
fn coinbase_chainlock(report: &DiffReport) -> (Value, bool) {
    match (&report.coinbase_chainlock_check, report.coinbase_chainlock) {
        (Some(check), _) => (
            chainlock_json(check),
            matches!(check.result, Err(ChainLockFailure::InvalidSignature)),
        ),
        (None, Some((height, _))) => (json!({"height": height, "checked": false}), false),
        (None, None) => (Value::Null, false),
    }
}

fn report_json(
    file: &Path,
    engine: &MasternodeEngine,
    report: &DiffReport,
    elapsed_ms: f64,
) -> (Value, bool) {
    let (cl, cl_invalid) = coinbase_chainlock(report);
    let failed_quorums = report.quorums.iter().any(|(t, h)| {
        engine
            .quorum_record(*t, h)
            .is_some_and(|r| matches!(r.status, QuorumStatus::Failed(_)))
    });
    let value = json!({
        "file": file.display().to_string(),
        "diff": report.diff,
        "height": report.height,
        "block_hash": hex_hash(&report.block_hash),
        "entries": report.entries,
        "valid_entries": report.valid_entries,
        "merkle_root_mn_list_ok": true,
        "merkle_root_quorums_ok": report.merkle_root_quorums.map(|_| true),
        "coinbase_proven": report.coinbase_proven,
        "quorums": quorum_counts(engine, report.quorums.iter()),
        "coinbase_chainlock": cl,
        "file_ms": elapsed_ms,
    });
    (value, cl_invalid || failed_quorums)
}

/// Applies the files in order, printing one JSON line per applied diff (or
/// rejected file). Returns the number of failed checks.
pub fn apply_files(
    engine: &mut MasternodeEngine,
    headers: &mut HeaderMap,
    files: &[PathBuf],
    protocol: Option<u32>,
    print: bool,
) -> Result<usize, MnlistFailure> {
    let learn = headers.is_empty();
    let mut failures = 0;
    for file in files {
        let payload = load_payload(file, protocol)?;
        let start = Instant::now();
        let outcome = match &payload {
            Payload::Diff(diff) => {
                if learn {
                    headers.learn_height(diff.block_hash, diff.coinbase_height());
                }
                engine.apply_diff(diff, &*headers).map(|r| vec![r])
            }
            Payload::QrInfo(qrinfo) => {
                if learn {
                    for (_, diff) in qrinfo.named_diffs() {
                        headers.learn_height(diff.block_hash, diff.coinbase_height());
                    }
                    for diff in &qrinfo.mn_list_diff_list {
                        headers.learn_height(diff.block_hash, diff.coinbase_height());
                    }
                }
                engine.apply_qrinfo(qrinfo, &*headers).map(|r| {
                    for skipped in &r.skipped {
                        if print {
                            println!(
                                "{}",
                                json!({
                                    "file": file.display().to_string(),
                                    "diff": skipped.diff,
                                    "skipped": skipped.to_string(),
                                })
                            );
                        }
                    }
                    r.applied
                })
            }
        };
        let elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
        match outcome {
            Ok(reports) => {
                for report in &reports {
                    let (value, failed) = report_json(file, engine, report, elapsed_ms);
                    if failed {
                        failures += 1;
                    }
                    if print {
                        println!("{value}");
                    }
                }
            }
            Err(err) => {
                failures += 1;
                if print {
                    println!("{}", error_json(file, &err));
                }
            }
        }
    }
    Ok(failures)
}

/// The summary of every quorum the engine has seen.
fn summary_json(engine: &MasternodeEngine) -> Value {
    let keys: Vec<(LlmqType, BlockHash)> = engine
        .quorum_records()
        .map(|r| (r.llmq_type, r.quorum_hash))
        .collect();
    let not_verified: Vec<Value> = engine
        .quorum_records()
        .filter(|r| !r.status.is_verified())
        .map(|r| {
            json!({
                "type": r.llmq_type.name(),
                "height": r.height,
                "quorum_hash": hex_hash(&r.quorum_hash),
                "status": r.status.to_string(),
            })
        })
        .collect();
    let t = engine.timings();
    let mut timings = Map::new();
    for (name, seconds) in [
        ("list_building", t.list_building),
        ("member_selection", t.member_selection),
        ("key_decompression", t.key_decompression),
        ("aggregation", t.aggregation),
        ("pairings", t.pairings),
    ] {
        timings.insert(name.to_owned(), json!(seconds * 1000.0));
    }
    json!({
        "summary": {
            "lists": engine.list_heights().collect::<Vec<_>>(),
            "quorums": quorum_counts(engine, keys.iter()),
            "missing_list_heights": engine.missing_list_heights(),
            "not_verified": not_verified,
            "timings_ms": timings,
            "quorums_checked": t.quorums_checked,
        }
    })
}

/// Runs `dashlight mnlist`.
pub fn run(args: &MnlistArgs) -> Result<(), MnlistFailure> {
    let (mut engine, mut headers) = setup(&args.source)?;
    let failures = apply_files(
        &mut engine,
        &mut headers,
        &args.files,
        args.source.protocol,
        true,
    )?;
    println!("{}", summary_json(&engine));
    if failures > 0 {
        return Err(MnlistFailure::ChecksFailed(failures));
    }
    Ok(())
}

/// The JSON of a ChainLock check, for `clsig`.
pub fn chainlock_value(check: &ChainLockCheck) -> Value {
    chainlock_json(check)
}
