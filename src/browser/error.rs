//! The error the client's API returns: a stable code and a message.

use crate::storage::StorageError;
use core::fmt;

/// Why the client could not do what was asked; `code` is stable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    /// Stable code (see `js/index.d.ts`).
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<StorageError> for ClientError {
    fn from(error: StorageError) -> Self {
        let code = match error {
            StorageError::QuotaExceeded => "storage_quota_exceeded",
            _ => "storage_failed",
        };
        ClientError {
            code,
            message: error.to_string(),
        }
    }
}
