//! [`SyncLock`]: the Web Locks API lock that makes one context (tab or
//! worker) of an origin the only writer of the header database.
//!
//! Pattern: each context calls [`SyncLock::try_acquire`]; the one that gets
//! the lock opens the database with [`HeaderDb::open`](super::HeaderDb::open)
//! and syncs, the others open it with
//! [`HeaderDb::open_read_only`](super::HeaderDb::open_read_only) and may
//! wait for it with [`SyncLock::acquire`] (the lock is free again once its
//! holder drops it or its tab closes: the browser releases the locks of a
//! closed context). Anything that deletes the database holds the lock too.

use std::cell::Cell;
use std::rc::Rc;

use futures::channel::oneshot;
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::error::IdbError;
use super::global::navigator_member;

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks` (web-sys has it only behind its unstable-API flag).
    type LockManager;

    /// `LockManager.request(name, options, callback)`.
    #[wasm_bindgen(method, catch)]
    fn request(
        this: &LockManager,
        name: &str,
        options: &Object,
        callback: &Function,
    ) -> Result<Promise, JsValue>;

    /// `AbortController` (web-sys has it behind a feature this crate does not build).
    type AbortController;

    /// `new AbortController()`.
    #[wasm_bindgen(constructor, catch)]
    fn new() -> Result<AbortController, JsValue>;

    /// `AbortController.signal`.
    #[wasm_bindgen(method, getter)]
    fn signal(this: &AbortController) -> JsValue;

    /// `AbortController.abort()`.
    #[wasm_bindgen(method)]
    fn abort(this: &AbortController);
}

/// Withdraws a waiting [`SyncLock::acquire`] from the browser's queue for
/// the lock: the `acquire` then returns `Ok(None)`. Cancelling after the
/// lock was granted does nothing (the lock is then released by dropping it).
#[derive(Clone)]
pub struct AcquireCancel {
    controller: Rc<AbortController>,
}

impl AcquireCancel {
    /// A handle to cancel one [`SyncLock::acquire`] with.
    pub fn new() -> Result<AcquireCancel, IdbError> {
        let controller = AbortController::new().map_err(|error| IdbError::from_js(&error))?;
        Ok(AcquireCancel {
            controller: Rc::new(controller),
        })
    }

    /// Cancels the wait.
    pub fn cancel(&self) {
        self.controller.abort();
    }

    /// Whether `other` is a clone of this handle.
    pub fn same_as(&self, other: &AcquireCancel) -> bool {
        Rc::ptr_eq(&self.controller, &other.controller)
    }
}

/// How a lock request waits.
enum Wait<'a> {
    /// Not at all: granted now or refused (`ifAvailable`).
    IfAvailable,
    /// Until the lock is free, unless cancelled.
    Queue(&'a AcquireCancel),
}

/// Whether the lock request was granted, or why it failed.
type Grant = Result<bool, IdbError>;

/// An exclusive Web Lock held by this context; released when dropped or
/// [released](SyncLock::release).
pub struct SyncLock {
    name: String,
    release: Function,
    /// Fires once the browser has released the lock.
    released: Option<oneshot::Receiver<()>>,
}

impl SyncLock {
    /// Takes the lock `name` if no context of this origin holds it, without
    /// waiting: `Some` when this context now holds it, `None` when another
    /// does. Fails with [`IdbError::Unsupported`] where the Web Locks API is
    /// missing (insecure contexts, old browsers).
    pub async fn try_acquire(name: &str) -> Result<Option<SyncLock>, IdbError> {
        SyncLock::request(name, Wait::IfAvailable).await
    }

    /// Takes the lock `name`, waiting (in the browser's queue for it) until
    /// the context that holds it releases it or closes: `Some` once this
    /// context holds it, `None` if `cancel` was cancelled first.
    pub async fn acquire(name: &str, cancel: &AcquireCancel) -> Result<Option<SyncLock>, IdbError> {
        SyncLock::request(name, Wait::Queue(cancel)).await
    }

    async fn request(name: &str, wait: Wait<'_>) -> Result<Option<SyncLock>, IdbError> {
        let locks = navigator_member("locks")
            .ok_or(IdbError::Unsupported {
                api: "navigator.locks",
            })?
            .unchecked_into::<LockManager>();

        // The lock is held until the promise the callback returns settles:
        // `held` settles when `release` is called.
        let mut release = None;
        let held = Promise::new(&mut |resolve, _reject| release = Some(resolve));
        let release = release.ok_or(IdbError::Js {
            name: String::from("TypeError"),
            message: String::from("the Promise executor did not run"),
        })?;

        let (grant_tx, grant_rx) = oneshot::channel::<Grant>();
        let grant_tx = Rc::new(Cell::new(Some(grant_tx)));
        let callback_tx = Rc::clone(&grant_tx);
        let callback = Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |lock: JsValue| {
            let granted = !lock.is_null() && !lock.is_undefined();
            if let Some(tx) = callback_tx.take() {
                let _ = tx.send(Ok(granted));
            }
            if granted {
                JsValue::from(held.clone())
            } else {
                JsValue::UNDEFINED
            }
        });

        let options = Object::new();
        let set = |key: &str, value: &JsValue| {
            Reflect::set(&options, &JsValue::from_str(key), value)
                .map(drop)
                .map_err(|error| IdbError::from_js(&error))
        };
        match wait {
            Wait::IfAvailable => set("ifAvailable", &JsValue::TRUE)?,
            Wait::Queue(cancel) => set("signal", &cancel.controller.signal())?,
        }
        let outcome = locks
            .request(name, &options, callback.as_ref().unchecked_ref())
            .map_err(|error| IdbError::from_js(&error))?;

        // The request's promise settles once the lock is released (or at once
        // when it was not granted, or rejects if the request was invalid or
        // cancelled). The callback lives until then.
        let (released_tx, released) = oneshot::channel();
        wasm_bindgen_futures::spawn_local(async move {
            let settled = JsFuture::from(outcome).await;
            drop(callback);
            if let (Err(error), Some(tx)) = (settled, grant_tx.take()) {
                let _ = tx.send(Err(IdbError::from_js(&error)));
            }
            let _ = released_tx.send(());
        });

        match grant_rx.await {
            Ok(Ok(true)) => Ok(Some(SyncLock {
                name: String::from(name),
                release,
                released: Some(released),
            })),
            Ok(Ok(false)) => Ok(None),
            Ok(Err(IdbError::Js { name, .. }))
                if name == "AbortError" && matches!(wait, Wait::Queue(_)) =>
            {
                Ok(None)
            }
            Ok(Err(error)) => Err(error),
            Err(oneshot::Canceled) => Err(IdbError::aborted("the lock request")),
        }
    }

    /// The lock's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Releases the lock and waits until the browser has released it, so
    /// another context's `try_acquire` can succeed right after.
    pub async fn release(mut self) {
        self.resolve_held();
        if let Some(released) = self.released.take() {
            // A closed channel means the wait is over as well.
            let _ = released.await;
        }
    }

    /// Settles the promise that holds the lock.
    fn resolve_held(&self) {
        // Resolving an already resolved promise does nothing.
        let _ = self.release.call0(&JsValue::UNDEFINED);
    }
}

impl Drop for SyncLock {
    fn drop(&mut self) {
        self.resolve_held();
    }
}
