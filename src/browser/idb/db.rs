//! [`HeaderDb`]: one connection to the header database.

use core::ops::Range;
use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Array, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    Event, IdbDatabase, IdbKeyRange, IdbObjectStore, IdbRequest, IdbTransaction,
    IdbTransactionMode, IdbVersionChangeEvent,
};

use super::batch::{is_chunk_len, WriteBatch};
use super::error::{CloseReason, IdbError};
use super::event::{RequestFuture, TransactionFuture};
use super::open::{delete, open_connection};
use super::record::TipRecord;
use super::schema::{Store, TIP_KEY};

/// Whether a connection may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// This context holds the sync lock and writes.
    ReadWrite,
    /// Another context syncs; this one only reads.
    ReadOnly,
}

/// A connection to the header database.
///
/// Writes go through [`HeaderDb::write`] (or [`HeaderDb::write_batch`]):
/// one transaction each, so the tip pointer and the chunks it covers change
/// together or not at all. A connection closes itself when another context
/// needs a version change (and reports it through
/// [`HeaderDb::closed_reason`] and [`IdbError::Closed`]); dropping it closes it too.
pub struct HeaderDb {
    db: IdbDatabase,
    name: String,
    access: Access,
    closed: Rc<Cell<Option<CloseReason>>>,
    _on_version_change: Closure<dyn FnMut(IdbVersionChangeEvent)>,
    _on_close: Closure<dyn FnMut(Event)>,
}

impl HeaderDb {
    /// Opens (creating or upgrading) the database `name` for reading and
    /// writing. Only the context holding the [`SyncLock`](super::SyncLock)
    /// should do this.
    ///
    /// Fails with [`IdbError::Blocked`] when an upgrade has to wait for a
    /// connection in another context that does not close, and with
    /// [`IdbError::NewerSchema`] when a newer client wrote the database.
    pub async fn open(name: &str) -> Result<HeaderDb, IdbError> {
        HeaderDb::open_with(name, Access::ReadWrite).await
    }

    /// Opens the database `name` for reading only: for a context that does
    /// not hold the sync lock. Writes fail with [`IdbError::ReadOnly`].
    pub async fn open_read_only(name: &str) -> Result<HeaderDb, IdbError> {
        HeaderDb::open_with(name, Access::ReadOnly).await
    }

    async fn open_with(name: &str, access: Access) -> Result<HeaderDb, IdbError> {
        let db = open_connection(name).await?;
        let closed = Rc::new(Cell::new(None));

        let version_closed = Rc::clone(&closed);
        let version_db = db.clone();
        let on_version_change = Closure::<dyn FnMut(IdbVersionChangeEvent)>::new(
            move |event: IdbVersionChangeEvent| {
                // Closing at once lets the other context's upgrade or deletion
                // proceed instead of being blocked by this one.
                version_db.close();
                let new_version = event.new_version().map(|v| v as u32);
                version_closed.set(Some(CloseReason::VersionChange { new_version }));
            },
        );
        let browser_closed = Rc::clone(&closed);
        let on_close = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            browser_closed.set(Some(CloseReason::ClosedByBrowser));
        });
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        db.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(HeaderDb {
            db,
            name: String::from(name),
            access,
            closed,
            _on_version_change: on_version_change,
            _on_close: on_close,
        })
    }

    /// Deletes the database `name` and everything in it. Open connections in
    /// other contexts are asked to close first (ours do); fails with
    /// [`IdbError::Blocked`] if one does not, in which case the deletion
    /// stays queued and happens once it closes.
    pub async fn delete_database(name: &str) -> Result<(), IdbError> {
        delete(name).await
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The schema version of this connection.
    pub fn schema_version(&self) -> u32 {
        // Versions are small whole numbers; `as` saturates and cannot panic.
        self.db.version() as u32
    }

    /// Whether this connection was opened with [`HeaderDb::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        self.access == Access::ReadOnly
    }

    /// Why the connection was closed, or `None` while it is usable.
    pub fn closed_reason(&self) -> Option<CloseReason> {
        self.closed.get()
    }

    /// Closes the connection (as a page reload would).
    pub fn close(self) {
        drop(self);
    }

    /// Applies `batch` in one readwrite transaction and waits for it to
    /// commit. On any error the transaction is aborted before this returns,
    /// and the database is exactly as it was.
    pub async fn write(&self, batch: &WriteBatch<'_>) -> Result<(), IdbError> {
        if self.access == Access::ReadOnly {
            return Err(IdbError::ReadOnly);
        }
        batch.validate()?;
        let tip = batch.tip.map(|tip| tip.to_bytes());
        let transaction = self.transaction(IdbTransactionMode::Readwrite)?;
        let done = TransactionFuture::new(transaction.clone());
        if let Err(error) = issue_writes(&transaction, batch, tip.as_deref()) {
            return Err(done.abort_with(IdbError::from_js(&error)).await);
        }
        done.await
    }

    /// Writes `chunks` (index, 1 to `CHUNK_SIZE` headers) and moves the tip
    /// to `tip`, in one transaction.
    pub async fn write_batch(
        &self,
        chunks: &[(u32, Vec<u8>)],
        tip: &TipRecord,
    ) -> Result<(), IdbError> {
        let batch = chunks
            .iter()
            .fold(WriteBatch::new(), |batch, (index, headers)| {
                batch.put_chunk(*index, headers)
            })
            .put_tip(*tip);
        self.write(&batch).await
    }

    /// The stored tip, or `None` for an empty store.
    pub async fn read_tip(&self) -> Result<Option<TipRecord>, IdbError> {
        let Some(bytes) = self
            .get(Store::Meta, &JsValue::from_str(TIP_KEY), TIP_KEY)
            .await?
        else {
            return Ok(None);
        };
        TipRecord::from_bytes(&bytes)
            .map(Some)
            .map_err(|error| IdbError::Corrupt {
                store: Store::Meta.name(),
                key: String::from(TIP_KEY),
                reason: error.to_string(),
            })
    }

    /// The headers of chunk `index`, or `None` if it is not stored.
    pub async fn read_chunk(&self, index: u32) -> Result<Option<Vec<u8>>, IdbError> {
        let bytes = self
            .get(Store::Chunks, &JsValue::from(index), &index.to_string())
            .await?;
        bytes.map(|bytes| check_chunk(index, bytes)).transpose()
    }

    /// Every stored chunk with an index in `range`, in index order.
    pub async fn read_chunks(&self, range: Range<u32>) -> Result<Vec<(u32, Vec<u8>)>, IdbError> {
        let records = self.get_range(Store::Chunks, range).await?;
        records
            .into_iter()
            .map(|(index, bytes)| check_chunk(index, bytes).map(|bytes| (index, bytes)))
            .collect()
    }

    /// Writes a named record of client state in its own transaction.
    pub async fn put_meta(&self, key: &str, value: &[u8]) -> Result<(), IdbError> {
        self.write(&WriteBatch::new().put_meta(key, value)).await
    }

    /// A named record of client state, or `None` if it was never written.
    pub async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, IdbError> {
        self.get(Store::Meta, &JsValue::from_str(key), key).await
    }

    /// Deletes every record of every store in one transaction (the schema stays).
    pub async fn clear(&self) -> Result<(), IdbError> {
        if self.access == Access::ReadOnly {
            return Err(IdbError::ReadOnly);
        }
        let transaction = self.transaction(IdbTransactionMode::Readwrite)?;
        let done = TransactionFuture::new(transaction.clone());
        let issued = Store::ALL.iter().try_for_each(|store| {
            object_store(&transaction, *store)
                .and_then(|store| store.clear())
                .map(drop)
        });
        if let Err(error) = issued {
            return Err(done.abort_with(IdbError::from_js(&error)).await);
        }
        done.await
    }

    /// A transaction over every store, or why none can be started.
    fn transaction(&self, mode: IdbTransactionMode) -> Result<IdbTransaction, IdbError> {
        if let Some(reason) = self.closed.get() {
            return Err(IdbError::Closed(reason));
        }
        let names = Store::ALL
            .iter()
            .map(|store| JsValue::from_str(store.name()))
            .collect::<Array>();
        self.db
            .transaction_with_str_sequence_and_mode(&names, mode)
            .map_err(|error| IdbError::from_js(&error))
    }

    /// One record's bytes, read in its own transaction.
    async fn get(
        &self,
        store: Store,
        key: &JsValue,
        key_text: &str,
    ) -> Result<Option<Vec<u8>>, IdbError> {
        let transaction = self.transaction(IdbTransactionMode::Readonly)?;
        let request = object_store(&transaction, store)
            .and_then(|object_store| object_store.get(key))
            .map_err(|error| IdbError::from_js(&error))?;
        let value = RequestFuture::new(request).await?;
        if value.is_undefined() {
            return Ok(None);
        }
        bytes_of(store, key_text, &value).map(Some)
    }

    /// Every record with a number key in `range`, read in one transaction.
    async fn get_range(
        &self,
        store: Store,
        range: Range<u32>,
    ) -> Result<Vec<(u32, Vec<u8>)>, IdbError> {
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let transaction = self.transaction(IdbTransactionMode::Readonly)?;
        let requests = range_requests(&transaction, store, &range)
            .map_err(|error| IdbError::from_js(&error))?;
        let (keys, values) = (
            RequestFuture::new(requests.0),
            RequestFuture::new(requests.1),
        );
        let (keys, values) = (Array::from(&keys.await?), Array::from(&values.await?));
        if keys.length() != values.length() {
            return Err(IdbError::Corrupt {
                store: store.name(),
                key: format!("{}..{}", range.start, range.end),
                reason: format!("{} keys but {} values", keys.length(), values.length()),
            });
        }
        keys.iter()
            .zip(values.iter())
            .map(|(key, value)| {
                let index = number_key(store, &key)?;
                bytes_of(store, &index.to_string(), &value).map(|bytes| (index, bytes))
            })
            .collect()
    }
}

impl Drop for HeaderDb {
    fn drop(&mut self) {
        self.db.set_onversionchange(None);
        self.db.set_onclose(None);
        self.db.close();
    }
}

/// Issues every request of a write batch (truncation first, tip last)
/// without waiting between them; the transaction commits once all succeed.
fn issue_writes(
    transaction: &IdbTransaction,
    batch: &WriteBatch<'_>,
    tip: Option<&[u8]>,
) -> Result<(), JsValue> {
    let chunks = object_store(transaction, Store::Chunks)?;
    if let Some(from) = batch.truncate_chunks_from {
        let beyond = IdbKeyRange::lower_bound(&JsValue::from(from))?;
        chunks.delete(&beyond)?;
    }
    for (index, headers) in &batch.chunks {
        put(&chunks, &JsValue::from(*index), headers)?;
    }
    let meta = object_store(transaction, Store::Meta)?;
    for (key, value) in &batch.meta {
        put(&meta, &JsValue::from_str(key), value)?;
    }
    if let Some(tip) = tip {
        put(&meta, &JsValue::from_str(TIP_KEY), tip)?;
    }
    Ok(())
}

/// Puts `bytes` under `key` as a `Uint8Array` of its own.
fn put(store: &IdbObjectStore, key: &JsValue, bytes: &[u8]) -> Result<IdbRequest, JsValue> {
    store.put_with_key(&Uint8Array::from(bytes), key)
}

/// The object store `store` of `transaction`.
fn object_store(transaction: &IdbTransaction, store: Store) -> Result<IdbObjectStore, JsValue> {
    transaction.object_store(store.name())
}

/// The `getAllKeys` and `getAll` requests for `range` (end exclusive).
fn range_requests(
    transaction: &IdbTransaction,
    store: Store,
    range: &Range<u32>,
) -> Result<(IdbRequest, IdbRequest), JsValue> {
    let object_store = object_store(transaction, store)?;
    let bounds = IdbKeyRange::bound_with_lower_open_and_upper_open(
        &JsValue::from(range.start),
        &JsValue::from(range.end),
        false,
        true,
    )?;
    Ok((
        object_store.get_all_keys_with_key(&bounds)?,
        object_store.get_all_with_key(&bounds)?,
    ))
}

/// A stored key that must be a number in `u32` range.
fn number_key(store: Store, key: &JsValue) -> Result<u32, IdbError> {
    key.as_f64()
        .filter(|n| n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(n))
        .map(|n| n as u32)
        .ok_or_else(|| IdbError::Corrupt {
            store: store.name(),
            key: format!("{key:?}"),
            reason: String::from("the key is not a chunk index or height"),
        })
}

/// A stored value that must be a `Uint8Array`.
fn bytes_of(store: Store, key: &str, value: &JsValue) -> Result<Vec<u8>, IdbError> {
    value
        .dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .ok_or_else(|| IdbError::Corrupt {
            store: store.name(),
            key: String::from(key),
            reason: String::from("the value is not a Uint8Array"),
        })
}

/// A stored chunk must hold 1 to `CHUNK_SIZE` whole headers.
fn check_chunk(index: u32, bytes: Vec<u8>) -> Result<Vec<u8>, IdbError> {
    if !is_chunk_len(bytes.len()) {
        return Err(IdbError::Corrupt {
            store: Store::Chunks.name(),
            key: index.to_string(),
            reason: format!("{} bytes is not 1 to 2,000 whole headers", bytes.len()),
        });
    }
    Ok(bytes)
}
