//! What can go wrong reading or writing stored headers.

use core::fmt;

/// Why a header store operation failed. A failed write leaves the store as
/// it was before the write (writes are atomic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// The browser's storage quota is exhausted (`QuotaExceededError`).
    QuotaExceeded,
    /// Another connection (another tab) holds the database and blocks this one.
    Blocked,
    /// The store has no chain yet: call `initialize` first.
    NotInitialized,
    /// The stored data was written by a schema this version cannot read.
    UnsupportedSchema {
        /// The stored schema version.
        found: u32,
        /// The newest schema version this code reads.
        supported: u32,
    },
    /// A stored record cannot be decoded.
    Corrupt {
        /// What is wrong.
        what: String,
    },
    /// A write does not continue or overwrite the stored chain.
    InvalidWrite {
        /// The first height written.
        first_height: u32,
        /// The stored sync base height (writes start above it).
        base_height: u32,
        /// The stored tip height (writes start at most one above it).
        tip_height: u32,
    },
    /// The store holds a chain from another sync base than the one saved.
    BaseMismatch {
        /// The stored sync base height.
        stored: u32,
        /// The saved chain's sync base height.
        saved: u32,
    },
    /// The store cannot be brought up to date from the headers held in
    /// memory: the stored chain leaves the saved one, or ends, below the
    /// oldest header the saved chain still holds in full (and no kept
    /// headers of failed writes bridge the gap). The store stays a
    /// consistent, older chain: a reload resumes syncing from its tip.
    Diverged {
        /// The stored tip's height.
        stored_tip: u32,
        /// The height of the oldest header held in full.
        held_from: u32,
    },
    /// Heights outside the stored chain were asked for.
    OutOfRange {
        /// The first height asked for.
        from_height: u32,
        /// The stored sync base height.
        base_height: u32,
        /// The stored tip height.
        tip_height: u32,
    },
    /// Any other failure of the storage backend.
    Backend {
        /// The operation that failed.
        operation: &'static str,
        /// The backend's message.
        message: String,
    },
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::QuotaExceeded => f.write_str("storage quota exceeded"),
            Self::Blocked => f.write_str("the database is held by another connection"),
            Self::NotInitialized => f.write_str("no chain stored yet"),
            Self::UnsupportedSchema { found, supported } => write!(
                f,
                "stored schema version {found} is not readable (newest known: {supported})"
            ),
            Self::Corrupt { what } => write!(f, "corrupt stored data: {what}"),
            Self::InvalidWrite {
                first_height,
                base_height,
                tip_height,
            } => write!(
                f,
                "write at height {first_height} does not fit the stored chain \
                 (base {base_height}, tip {tip_height})"
            ),
            Self::BaseMismatch { stored, saved } => write!(
                f,
                "the store starts at height {stored}, the chain saved at {saved}"
            ),
            Self::Diverged {
                stored_tip,
                held_from,
            } => write!(
                f,
                "the stored chain (tip {stored_tip}) no longer joins the headers held \
                 in memory (from {held_from}): a reload resumes from the stored tip"
            ),
            Self::OutOfRange {
                from_height,
                base_height,
                tip_height,
            } => write!(
                f,
                "height {from_height} is outside the stored chain ({base_height}..={tip_height})"
            ),
            Self::Backend { operation, message } => write!(f, "{operation} failed: {message}"),
        }
    }
}

impl std::error::Error for StorageError {}
