//! What can go wrong with browser storage, as a typed error.
//!
//! Every JavaScript exception, rejected promise and failed request is mapped
//! here; nothing in the storage module panics on a JS error.

use core::fmt;

use wasm_bindgen::{JsCast, JsValue};
use web_sys::DomException;

/// Why a connection stopped being usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// Another context (a newer version of the page in another tab, or
    /// `deleteDatabase`) asked for a version change; this connection closed
    /// itself so that it could proceed.
    VersionChange {
        /// The version the other context asked for; `None` when it deletes the database.
        new_version: Option<u32>,
    },
    /// The browser closed the connection by itself (the user cleared site
    /// data, the disk failed, or the origin's storage was evicted).
    ClosedByBrowser,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::VersionChange {
                new_version: Some(v),
            } => write!(f, "another context upgrades the database to version {v}"),
            Self::VersionChange { new_version: None } => {
                f.write_str("another context deletes the database")
            }
            Self::ClosedByBrowser => f.write_str("the browser closed the connection"),
        }
    }
}

/// An error from the IndexedDB header store, the Web Locks API or the
/// storage manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdbError {
    /// The browser API is missing in this context (old browser, insecure
    /// context, or storage disabled by the user).
    Unsupported {
        /// The API that is missing, e.g. `"indexedDB"`.
        api: &'static str,
    },
    /// The origin is out of storage quota (`QuotaExceededError`). The
    /// transaction that hit it was aborted: the store still holds the
    /// previous consistent state.
    QuotaExceeded {
        /// The browser's message.
        message: String,
    },
    /// Opening (or deleting) the database has waited
    /// [`BLOCKED_GRACE_MS`](super::BLOCKED_GRACE_MS) for a connection in
    /// another context that did not close on `versionchange`. The request
    /// stays queued: it completes (and any upgrade runs) once that
    /// connection closes, and the connection it opens is closed again at
    /// once. Retry later, or ask the user to close other tabs.
    Blocked,
    /// The database was created by a newer version of this client
    /// (`VersionError`); this version cannot read it.
    NewerSchema {
        /// The browser's message.
        message: String,
    },
    /// The connection was closed and must be opened again.
    Closed(CloseReason),
    /// A write on a connection opened with [`HeaderDb::open_read_only`](super::HeaderDb::open_read_only).
    ReadOnly,
    /// A value in a write batch has a length that the store does not allow.
    InvalidValue {
        /// The object store.
        store: &'static str,
        /// The record's key.
        key: String,
        /// The value's length in bytes.
        len: usize,
    },
    /// A `meta` key that only the store itself may write (the tip record).
    ReservedKey(String),
    /// A stored record does not have the expected type or layout.
    Corrupt {
        /// The object store.
        store: &'static str,
        /// The record's key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Any other JavaScript error or `DOMException`.
    Js {
        /// The exception's name, e.g. `"AbortError"` or `"InvalidStateError"`.
        name: String,
        /// The exception's message.
        message: String,
    },
}

impl IdbError {
    /// Maps a thrown or rejected JavaScript value to an error, keeping the
    /// `DOMException` name and message.
    pub fn from_js(value: &JsValue) -> IdbError {
        if let Some(exception) = value.dyn_ref::<DomException>() {
            return IdbError::from_dom_exception(exception);
        }
        if let Some(error) = value.dyn_ref::<js_sys::Error>() {
            return IdbError::Js {
                name: String::from(error.name()),
                message: String::from(error.message()),
            };
        }
        IdbError::Js {
            name: String::from("Error"),
            message: value
                .as_string()
                .unwrap_or_else(|| format!("non-error value thrown: {value:?}")),
        }
    }

    /// Maps a `DOMException` by its name.
    pub fn from_dom_exception(exception: &DomException) -> IdbError {
        let name = exception.name();
        let message = exception.message();
        match name.as_str() {
            "QuotaExceededError" => IdbError::QuotaExceeded { message },
            "VersionError" => IdbError::NewerSchema { message },
            _ => IdbError::Js { name, message },
        }
    }

    /// The error for a transaction or request that ended without saying why.
    pub(crate) fn aborted(what: &str) -> IdbError {
        IdbError::Js {
            name: String::from("AbortError"),
            message: format!("{what} was aborted"),
        }
    }
}

impl fmt::Display for IdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsupported { api } => write!(f, "{api} is not available in this context"),
            Self::QuotaExceeded { message } => {
                write!(f, "storage quota exceeded (nothing was written): {message}")
            }
            Self::Blocked => f.write_str(
                "the database is held open by another tab that did not close it; close other tabs",
            ),
            Self::NewerSchema { message } => {
                write!(
                    f,
                    "the database was written by a newer client version: {message}"
                )
            }
            Self::Closed(reason) => write!(f, "the database connection is closed: {reason}"),
            Self::ReadOnly => f.write_str("this connection was opened read-only"),
            Self::InvalidValue { store, key, len } => {
                write!(f, "{store}[{key}]: a value of {len} bytes is not allowed")
            }
            Self::ReservedKey(key) => write!(f, "meta key {key:?} is reserved"),
            Self::Corrupt { store, key, reason } => {
                write!(f, "{store}[{key}] is corrupt: {reason}")
            }
            Self::Js { name, message } => write!(f, "{name}: {message}"),
        }
    }
}

impl std::error::Error for IdbError {}
