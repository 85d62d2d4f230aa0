//! The database layout, its version, and the upgrade from each older version.

use wasm_bindgen::JsValue;
use web_sys::IdbDatabase;

/// The schema version this client opens databases with.
///
/// | version | object stores |
/// |---|---|
/// | 1 | `chunks` (key: chunk index, a number; value: `Uint8Array` of 1 to 2,000 headers), `meta` (key: a string; value: `Uint8Array`; the [`TipRecord`](super::TipRecord) under `"tip"`) |
/// | 2 | adds `mnlists` (key: block height, a number; value: `Uint8Array`, serialized masternode state) |
///
/// An upgrade only adds what the older version lacks, inside the browser's
/// `versionchange` transaction: it completes entirely or not at all, and
/// keeps every record already stored.
pub const SCHEMA_VERSION: u32 = 2;

/// The key of the tip record in the `meta` store.
pub(crate) const TIP_KEY: &str = "tip";

/// An object store of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Store {
    /// Header chunks by chunk index.
    Chunks,
    /// Serialized masternode state by block height.
    MnLists,
    /// Small named records: the tip and other client state.
    Meta,
}

impl Store {
    /// Every store of the current schema.
    pub(crate) const ALL: [Store; 3] = [Store::Chunks, Store::MnLists, Store::Meta];

    /// The object store's name in IndexedDB.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Store::Chunks => "chunks",
            Store::MnLists => "mnlists",
            Store::Meta => "meta",
        }
    }

    /// The schema version that introduced the store.
    fn since(self) -> u32 {
        match self {
            Store::Chunks | Store::Meta => 1,
            Store::MnLists => 2,
        }
    }
}

/// Brings a database at `old_version` (0 when it did not exist) to
/// [`SCHEMA_VERSION`]. Runs inside the `upgradeneeded` event; an error aborts
/// the upgrade, leaving the database as it was.
pub(crate) fn upgrade(db: &IdbDatabase, old_version: u32) -> Result<(), JsValue> {
    for store in Store::ALL {
        if store.since() > old_version {
            db.create_object_store(store.name())?;
        }
    }
    Ok(())
}
