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
}

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
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { error, .. } => Some(error),
            Self::Decode { error, .. } => Some(error),
            Self::Chain { error, .. } => Some(error),
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
}
