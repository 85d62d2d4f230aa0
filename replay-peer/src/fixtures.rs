//! Loading the fixture files: the header chain and the captured messages.
//!
//! Under `<fixtures>/<network>/`, every `qrinfo_*.bin`, `mnlistdiff_*.bin`
//! and `clsig_*.bin` (in any folder but `fork/`) is loaded; files in an older
//! layout (`*_LAYOUT70228.bin`) are skipped.

use crate::catalog::{Capture, Catalog, CAPTURE_PROTOCOL_VERSION};
use crate::chain::{ChainError, ServedChain};
use core::fmt;
use dashlight::block::{BlockHeader, HEADER_SIZE};
use dashlight::encode::{deserialize, DecodeError};
use dashlight::network::Network;
use dashlight::protocol::chainlock::ClSig;
use dashlight::protocol::mnlistdiff::MnListDiff;
use dashlight::protocol::qrinfo::QrInfo;
use std::path::{Path, PathBuf};

/// The default headers file of testnet, relative to the fixtures folder.
pub const TESTNET_HEADERS: &str = "testnet/headers/testnet_headers_898560_947248.bin";

/// The stale testnet branch's headers, relative to the fixtures folder.
pub const STALE_FORK_HEADERS: &str = "testnet/fork/testnet_stale_fork_headers_899760_902320.bin";

/// The QRInfo captured on the stale testnet branch, relative to the fixtures folder.
pub const STALE_FORK_QRINFO: &str = "testnet/fork/qrinfo_901668_on_stale_fork.bin";

/// The ChainLocks derived from coinbase transactions, relative to the
/// network's folder (`cl_height,block_hash,bls_signature_hex,...`).
pub const DERIVED_CHAINLOCKS: &str = "clsig/clsigs_derived_from_cbtx.csv";

/// What to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureSource {
    /// The fixtures folder.
    pub root: PathBuf,
    /// The network.
    pub network: Network,
    /// The headers file (relative paths are taken from `root`); `None`: the
    /// network's default (testnet: [`TESTNET_HEADERS`]; mainnet: none, only genesis).
    pub headers: Option<PathBuf>,
    /// Height of the file's first header; `None`: read from the file name
    /// (`..._<first>_<last>.bin`).
    pub headers_start_height: Option<u32>,
    /// Serve the stale testnet fork instead of the canonical headers from its
    /// first height on, and answer every `getqrinfo` with its QRInfo.
    pub stale_fork: bool,
    /// Also load the ChainLocks of [`DERIVED_CHAINLOCKS`] (where the network has them).
    pub derived_chainlocks: bool,
}

/// Why the fixtures could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// A file or folder could not be read.
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// A headers file's length is not a multiple of 80 bytes.
    HeaderFileLength {
        /// The file.
        path: PathBuf,
        /// Its length.
        len: usize,
    },
    /// No start height was given and the file name does not tell it.
    UnknownStartHeight {
        /// The file.
        path: PathBuf,
    },
    /// A captured message does not decode.
    Decode {
        /// The file.
        path: PathBuf,
        /// The error.
        error: DecodeError,
    },
    /// The headers do not form a chain.
    Chain {
        /// The file.
        path: PathBuf,
        /// The error.
        error: ChainError,
    },
    /// The stale fork exists for testnet only.
    NoStaleFork(Network),
    /// A line of the derived ChainLocks file is not a ChainLock.
    ChainLockLine {
        /// The file.
        path: PathBuf,
        /// The line number (1-based).
        line: usize,
        /// What is wrong with it.
        error: ChainLockLineError,
    },
}

/// What is wrong with a line of the derived ChainLocks file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainLockLineError {
    /// Fewer than three comma-separated fields.
    MissingField,
    /// The height is not a non-negative 32-bit integer.
    BadHeight,
    /// The block hash is not 64 hex digits.
    BadBlockHash,
    /// The signature is not 192 hex digits.
    BadSignature,
}

impl fmt::Display for ChainLockLineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MissingField => "expected cl_height,block_hash,bls_signature_hex",
            Self::BadHeight => "the height is not a non-negative 32-bit integer",
            Self::BadBlockHash => "the block hash is not 64 hex digits",
            Self::BadSignature => "the signature is not 192 hex digits",
        })
    }
}

impl std::error::Error for ChainLockLineError {}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, error } => write!(f, "{}: {error}", path.display()),
            Self::HeaderFileLength { path, len } => write!(
                f,
                "{}: {len} bytes is not a whole number of 80-byte headers",
                path.display()
            ),
            Self::UnknownStartHeight { path } => write!(
                f,
                "{}: the file name does not tell the first header's height; pass --headers-start-height",
                path.display()
            ),
            Self::Decode { path, error } => write!(f, "{}: {error}", path.display()),
            Self::Chain { path, error } => write!(f, "{}: {error}", path.display()),
            Self::NoStaleFork(network) => write!(f, "there is no stale fork fixture for {network}"),
            Self::ChainLockLine { path, line, error } => {
                write!(f, "{} line {line}: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { error, .. } => Some(error),
            Self::Decode { error, .. } => Some(error),
            Self::Chain { error, .. } => Some(error),
            Self::ChainLockLine { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// The loaded data.
#[derive(Debug, Clone)]
pub struct Fixtures {
    /// The header chain.
    pub chain: ServedChain,
    /// The captured messages.
    pub catalog: Catalog,
    /// Files skipped, with the reason.
    pub skipped: Vec<String>,
}

/// Loads the chain and the captured messages described by `source`.
pub fn load(source: &FixtureSource) -> Result<Fixtures, LoadError> {
    let headers_path = match (&source.headers, source.network) {
        (Some(path), _) => Some(source.root.join(path)),
        (None, Network::Testnet) => Some(source.root.join(TESTNET_HEADERS)),
        (None, Network::Mainnet) => None,
    };
    let mut chain = match &headers_path {
        Some(path) => {
            let start = match source.headers_start_height {
                Some(height) => height,
                None => start_height_from_name(path)?,
            };
            let headers = read_headers(path)?;
            ServedChain::new(source.network, headers, start).map_err(|error| LoadError::Chain {
                path: path.clone(),
                error,
            })?
        }
        None => {
            ServedChain::new(source.network, Vec::new(), 1).map_err(|error| LoadError::Chain {
                path: source.root.clone(),
                error,
            })?
        }
    };
    let mut catalog = Catalog::new(source.network);
    let mut skipped = Vec::new();
    let network_dir = source.root.join(source.network.name());
    for path in message_files(&network_dir)? {
        load_message(&path, &mut catalog, &mut skipped)?;
    }
    if source.derived_chainlocks {
        let path = network_dir.join(DERIVED_CHAINLOCKS);
        if path.exists() {
            for clsig in read_derived_chainlocks(&path)? {
                catalog.add_chainlock(clsig);
            }
        } else {
            skipped.push(format!(
                "{DERIVED_CHAINLOCKS}: no derived ChainLocks for {}",
                source.network
            ));
        }
    }
    if source.stale_fork {
        if source.network != Network::Testnet {
            return Err(LoadError::NoStaleFork(source.network));
        }
        let path = source.root.join(STALE_FORK_HEADERS);
        let start = start_height_from_name(&path)?;
        let fork = read_headers(&path)?;
        chain = chain
            .with_fork(fork, start)
            .map_err(|error| LoadError::Chain { path, error })?;
        let path = source.root.join(STALE_FORK_QRINFO);
        catalog.set_stale_fork_qrinfo(read_qrinfo(&path)?);
    }
    Ok(Fixtures {
        chain,
        catalog,
        skipped,
    })
}

/// Reads a file of concatenated 80-byte headers.
pub fn read_headers(path: &Path) -> Result<Vec<BlockHeader>, LoadError> {
    let bytes = read(path)?;
    if bytes.len() % HEADER_SIZE != 0 {
        return Err(LoadError::HeaderFileLength {
            path: path.to_owned(),
            len: bytes.len(),
        });
    }
    Ok(bytes
        .chunks_exact(HEADER_SIZE)
        .filter_map(|chunk| <&[u8; HEADER_SIZE]>::try_from(chunk).ok())
        .map(BlockHeader::from_bytes)
        .collect())
}

/// Reads the derived ChainLocks file: a header line, then
/// `cl_height,block_hash,bls_signature_hex,...` per line (the hash in display
/// order). Each becomes the `clsig` payload `le32(height) || hash (wire
/// order) || signature`.
pub fn read_derived_chainlocks(path: &Path) -> Result<Vec<ClSig>, LoadError> {
    let text = String::from_utf8_lossy(&read(path)?).into_owned();
    let mut chainlocks = Vec::new();
    for (index, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let clsig = parse_chainlock_line(line).map_err(|error| LoadError::ChainLockLine {
            path: path.to_owned(),
            line: index + 1,
            error,
        })?;
        chainlocks.push(clsig);
    }
    Ok(chainlocks)
}

/// One line of the derived ChainLocks file.
fn parse_chainlock_line(line: &str) -> Result<ClSig, ChainLockLineError> {
    let mut fields = line.split(',').map(str::trim);
    let (Some(height), Some(hash), Some(signature)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(ChainLockLineError::MissingField);
    };
    let height: i32 = height
        .parse::<u32>()
        .ok()
        .and_then(|h| i32::try_from(h).ok())
        .ok_or(ChainLockLineError::BadHeight)?;
    let mut hash = decode_hex(hash)
        .filter(|bytes| bytes.len() == 32)
        .ok_or(ChainLockLineError::BadBlockHash)?;
    hash.reverse();
    let signature = decode_hex(signature)
        .filter(|bytes| bytes.len() == 96)
        .ok_or(ChainLockLineError::BadSignature)?;
    let mut payload = Vec::with_capacity(4 + 32 + 96);
    payload.extend_from_slice(&height.to_le_bytes());
    payload.extend_from_slice(&hash);
    payload.extend_from_slice(&signature);
    deserialize(&payload).map_err(|_| ChainLockLineError::BadSignature)
}

/// Bytes from hex digits (`None` if any is not one, or their count is odd).
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    let digits = hex.as_bytes();
    if digits.len() % 2 != 0 {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            let text = core::str::from_utf8(pair).ok()?;
            u8::from_str_radix(text, 16).ok()
        })
        .collect()
}

/// The first height in a name like `testnet_headers_898560_947248.bin`.
fn start_height_from_name(path: &Path) -> Result<u32, LoadError> {
    let unknown = || LoadError::UnknownStartHeight {
        path: path.to_owned(),
    };
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(unknown)?;
    let mut numbers = stem.rsplit('_').map(str::parse::<u32>);
    match (numbers.next(), numbers.next()) {
        (Some(Ok(_last)), Some(Ok(first))) => Ok(first),
        _ => Err(unknown()),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|error| LoadError::Io {
        path: path.to_owned(),
        error,
    })
}

/// Every `.bin` file under `dir` except in `fork/` folders, sorted by path.
fn message_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|error| LoadError::Io {
            path: dir.clone(),
            error,
        })?;
        for entry in entries {
            let path = entry
                .map_err(|error| LoadError::Io {
                    path: dir.clone(),
                    error,
                })?
                .path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name != "fork") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|ext| ext == "bin") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn load_message(
    path: &Path,
    catalog: &mut Catalog,
    skipped: &mut Vec<String>,
) -> Result<(), LoadError> {
    let name = file_name(path);
    if name.contains("_LAYOUT") {
        skipped.push(format!(
            "{name}: captured in an older layout than {CAPTURE_PROTOCOL_VERSION}"
        ));
    } else if name.starts_with("qrinfo_") {
        catalog.add_qrinfo(read_qrinfo(path)?);
    } else if name.starts_with("mnlistdiff_") {
        let payload = read(path)?;
        let message = MnListDiff::from_payload(&payload, CAPTURE_PROTOCOL_VERSION)
            .map_err(|error| decode_error(path, error))?;
        catalog.add_diff(Capture {
            name,
            message,
            payload,
        });
    } else if name.starts_with("clsig_") {
        let payload = read(path)?;
        let clsig: ClSig = deserialize(&payload).map_err(|error| decode_error(path, error))?;
        catalog.add_chainlock(clsig);
    }
    Ok(())
}

fn read_qrinfo(path: &Path) -> Result<Capture<QrInfo>, LoadError> {
    let payload = read(path)?;
    let message = QrInfo::from_payload(&payload, CAPTURE_PROTOCOL_VERSION)
        .map_err(|error| decode_error(path, error))?;
    Ok(Capture {
        name: file_name(path),
        message,
        payload,
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn decode_error(path: &Path, error: DecodeError) -> LoadError {
    LoadError::Decode {
        path: path.to_owned(),
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_heights_come_from_file_names() {
        let path = Path::new("x/testnet_headers_898560_947248.bin");
        assert_eq!(start_height_from_name(path).unwrap(), 898560);
        assert!(start_height_from_name(Path::new("headers.bin")).is_err());
    }

    #[test]
    fn derived_chainlock_lines_become_clsig_payloads() {
        let hash = "00000031a7a9d5cb37a62403ebe2b80d58641d79dcde6d54a3d641528684d6c0";
        let sig = "ab".repeat(96);
        let clsig = parse_chainlock_line(&format!("905111,{hash},{sig},905120,x.bin,q")).unwrap();
        assert_eq!(clsig.height, 905_111);
        assert_eq!(clsig.block_hash.to_string(), hash);
        assert_eq!(clsig.signature, [0xab; 96]);
        for (line, error) in [
            ("905111,abc", ChainLockLineError::MissingField),
            ("-1,x,y", ChainLockLineError::BadHeight),
            ("3000000000,x,y", ChainLockLineError::BadHeight),
            (
                &format!("1,{},{sig}", &hash[2..]),
                ChainLockLineError::BadBlockHash,
            ),
            (&format!("1,{hash},zz"), ChainLockLineError::BadSignature),
            (
                &format!("1,{hash},{}", &sig[2..]),
                ChainLockLineError::BadSignature,
            ),
        ] {
            assert_eq!(parse_chainlock_line(line), Err(error), "{line}");
        }
    }
}
