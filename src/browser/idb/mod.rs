//! IndexedDB storage for the header chain (and other client state) that
//! survives reloads, closed tabs, a second tab and a full disk.
//!
//! # Layout
//! Headers are stored in chunks of [`CHUNK_SIZE`] consecutive 80-byte
//! headers (one record per header would cost a transaction or a record per
//! header: far too slow), keyed by chunk index; a [`TipRecord`] in the `meta`
//! store says which chunks are valid. [`SCHEMA_VERSION`] lists the object
//! stores and the upgrade path.
//!
//! # Atomicity
//! [`HeaderDb::write`] puts a batch of chunks, masternode states,
//! meta records and the tip in ONE readwrite transaction and waits for it to
//! commit. If the tab closes, the browser crashes, the quota runs out
//! ([`IdbError::QuotaExceeded`]) or any request fails, the transaction aborts
//! and the database keeps its previous, consistent state: the tip never
//! points past stored headers.
//!
//! # Several contexts
//! - One context syncs: the one holding the [`SyncLock`] (Web Locks API,
//!   exclusive across tabs and workers of the origin); the others open the
//!   database with [`HeaderDb::open_read_only`].
//! - `versionchange`: every [`HeaderDb`] closes itself when another context
//!   upgrades or deletes the database, and reports
//!   [`IdbError::Closed`]`(`[`CloseReason::VersionChange`]`)` on later calls.
//! - `blocked`: opening or deleting fails with [`IdbError::Blocked`] when a
//!   connection elsewhere does not close within [`BLOCKED_GRACE_MS`]; the
//!   request stays queued and completes once it does.
//!
//! # Storage pressure
//! [`request_persistence`] asks the browser not to evict the data;
//! [`estimate`] reports usage and quota.

mod batch;
mod db;
mod error;
mod event;
mod global;
mod lock;
mod open;
mod record;
mod schema;
mod storage;

pub use batch::WriteBatch;
pub use db::HeaderDb;
pub use error::{CloseReason, IdbError};
pub use lock::{AcquireCancel, SyncLock};
pub use open::BLOCKED_GRACE_MS;
pub use record::{chunk_position, TipRecord, CHUNK_SIZE, MAX_CHUNK_BYTES};
pub use schema::SCHEMA_VERSION;
pub use storage::{estimate, is_persisted, request_persistence, StorageEstimate};
