//! The database layout, its version, and the upgrade from each older version.

use wasm_bindgen::JsValue;
use web_sys::IdbDatabase;

/// The schema version this client opens databases with.
///
/// | version | object stores |
/// |---|---|
/// | 1 | `chunks` (key: chunk index, a number; value: `Uint8Array` of 1 to 2,000 headers), `meta` (key: a string; value: `Uint8Array`; the [`TipRecord`](super::TipRecord) under `"tip"`) |
/// | 2 | adds `mnlists` (key: block height, a number; value: `Uint8Array`, serialized masternode state) |
/// | 3 | drops `mnlists`: the masternode state is one record in `meta` (`"masternodes"`) |
///
/// An upgrade adds what the older version lacks and drops what this one no
/// longer has, inside the browser's `versionchange` transaction: it completes
/// entirely or not at all, and keeps every record of the stores that remain.
pub const SCHEMA_VERSION: u32 = 3;

/// Object stores older versions had and this one drops: name, the version
/// that added it, the version that dropped it.
const DROPPED_STORES: [(&str, u32, u32); 1] = [("mnlists", 2, 3)];

/// The key of the tip record in the `meta` store.
pub(crate) const TIP_KEY: &str = "tip";

/// An object store of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Store {
    /// Header chunks by chunk index.
    Chunks,
    /// Small named records: the tip, the chain record, the masternode state.
    Meta,
}

impl Store {
    /// Every store of the current schema.
    pub(crate) const ALL: [Store; 2] = [Store::Chunks, Store::Meta];

    /// The object store's name in IndexedDB.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Store::Chunks => "chunks",
            Store::Meta => "meta",
        }
    }

    /// The schema version that introduced the store.
    fn since(self) -> u32 {
        match self {
            Store::Chunks | Store::Meta => 1,
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
    for (name, added, dropped) in DROPPED_STORES {
        if (added..dropped).contains(&old_version) {
            db.delete_object_store(name)?;
        }
    }
    Ok(())
}
