//! Opening (with the schema upgrade) and deleting a database, and what
//! `blocked` means for both.

use core::future::Future;
use core::pin::{pin, Pin};
use core::task::{Context, Poll};
use std::cell::Cell;
use std::rc::Rc;

use futures::channel::oneshot;
use futures::future::{self, Either};
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Event, IdbDatabase, IdbOpenDbRequest, IdbVersionChangeEvent};

use super::error::IdbError;
use super::event::request_error;
use super::global::idb_factory;
use super::schema::{upgrade, SCHEMA_VERSION};

/// The handlers attached to an open or delete request.
struct Handlers {
    on_success: Closure<dyn FnMut(Event)>,
    on_error: Closure<dyn FnMut(Event)>,
    on_blocked: Closure<dyn FnMut(Event)>,
    on_upgrade: Option<Closure<dyn FnMut(IdbVersionChangeEvent)>>,
}

/// How long an open or delete request may stay `blocked` before it fails
/// with [`IdbError::Blocked`], in milliseconds.
///
/// A connection that was asked to close (ours close on `versionchange`)
/// still counts as open until its running transactions finish, so a short
/// `blocked` is normal; only one that lasts is reported.
pub const BLOCKED_GRACE_MS: u32 = 1_000;

/// Resolves with the request's result (the connection, or `undefined` for a
/// deletion) or its error.
///
/// Dropped before that (the request is blocked, or the caller gave up), it
/// leaves the request queued in the browser: its handlers are kept alive
/// (leaked, a few closures) so the upgrade still runs when it is unblocked,
/// and the connection it then opens is closed at once.
struct OpenFuture {
    request: IdbOpenDbRequest,
    receiver: oneshot::Receiver<Result<JsValue, IdbError>>,
    settled: Rc<Cell<bool>>,
    handlers: Option<Handlers>,
}

impl OpenFuture {
    /// Attaches to a fresh request; `with_upgrade` runs the schema upgrade on
    /// `upgradeneeded`. The receiver fires on the first `blocked` event.
    fn new(request: IdbOpenDbRequest, with_upgrade: bool) -> (OpenFuture, oneshot::Receiver<()>) {
        let (tx, receiver) = oneshot::channel();
        let (blocked_tx, blocked) = oneshot::channel();
        let blocked_tx = Cell::new(Some(blocked_tx));
        let sender = Rc::new(Cell::new(Some(tx)));
        let settled = Rc::new(Cell::new(false));
        let upgrade_error: Rc<Cell<Option<IdbError>>> = Rc::new(Cell::new(None));

        let on_success = {
            let (sender, settled, request) =
                (Rc::clone(&sender), Rc::clone(&settled), request.clone());
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                settled.set(true);
                let outcome = request.result().map_err(|error| IdbError::from_js(&error));
                let unclaimed = match sender.take() {
                    Some(tx) => tx.send(outcome).err(),
                    None => Some(outcome),
                };
                if let Some(Ok(connection)) = unclaimed {
                    close_if_connection(&connection);
                }
            })
        };
        let on_error = {
            let (sender, settled, request) =
                (Rc::clone(&sender), Rc::clone(&settled), request.clone());
            let upgrade_error = Rc::clone(&upgrade_error);
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                settled.set(true);
                let error = upgrade_error
                    .take()
                    .unwrap_or_else(|| request_error(&request));
                if let Some(tx) = sender.take() {
                    let _ = tx.send(Err(error));
                }
            })
        };
        let on_blocked = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            if let Some(tx) = blocked_tx.take() {
                let _ = tx.send(());
            }
        });
        let on_upgrade = with_upgrade.then(|| {
            let request = request.clone();
            Closure::<dyn FnMut(IdbVersionChangeEvent)>::new(move |event: IdbVersionChangeEvent| {
                // Versions are small whole numbers; `as` saturates and cannot panic.
                let old_version = event.old_version() as u32;
                let result = request
                    .result()
                    .and_then(|db| db.dyn_into::<IdbDatabase>())
                    .and_then(|db| upgrade(&db, old_version));
                if let Err(error) = result {
                    upgrade_error.set(Some(IdbError::from_js(&error)));
                    if let Some(transaction) = request.transaction() {
                        let _ = transaction.abort();
                    }
                }
            })
        });

        request.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
        request.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        request.set_onblocked(Some(on_blocked.as_ref().unchecked_ref()));
        if let Some(on_upgrade) = &on_upgrade {
            request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        }
        let future = OpenFuture {
            request,
            receiver,
            settled,
            handlers: Some(Handlers {
                on_success,
                on_error,
                on_blocked,
                on_upgrade,
            }),
        };
        (future, blocked)
    }

    /// The request's outcome, or [`IdbError::Blocked`] once it has been
    /// blocked for [`BLOCKED_GRACE_MS`].
    async fn settle(self, blocked: oneshot::Receiver<()>) -> Result<JsValue, IdbError> {
        let grace = async {
            match blocked.await {
                Ok(()) => TimeoutFuture::new(BLOCKED_GRACE_MS).await,
                // The handlers are gone: no `blocked` event can come.
                Err(oneshot::Canceled) => future::pending().await,
            }
        };
        match future::select(pin!(self), pin!(grace)).await {
            Either::Left((outcome, _)) => outcome,
            Either::Right(((), _)) => Err(IdbError::Blocked),
        }
    }
}

/// Closes `value` if it is a database connection.
fn close_if_connection(value: &JsValue) {
    if let Some(db) = value.dyn_ref::<IdbDatabase>() {
        db.close();
    }
}

impl Future for OpenFuture {
    type Output = Result<JsValue, IdbError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match Pin::new(&mut self.get_mut().receiver).poll(cx) {
            Poll::Ready(Ok(outcome)) => Poll::Ready(outcome),
            Poll::Ready(Err(oneshot::Canceled)) => {
                Poll::Ready(Err(IdbError::aborted("the open request")))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for OpenFuture {
    fn drop(&mut self) {
        let Some(handlers) = self.handlers.take() else {
            return;
        };
        if self.settled.get() {
            self.request.set_onsuccess(None);
            self.request.set_onerror(None);
            self.request.set_onblocked(None);
            self.request.set_onupgradeneeded(None);
            drop(handlers);
        } else {
            // Still queued (blocked, or the caller gave up): the browser will
            // fire these later, so they must outlive this future.
            handlers.on_success.forget();
            handlers.on_error.forget();
            handlers.on_blocked.forget();
            if let Some(on_upgrade) = handlers.on_upgrade {
                on_upgrade.forget();
            }
        }
    }
}

/// Opens `name` at [`SCHEMA_VERSION`], creating or upgrading it.
pub(crate) async fn open_connection(name: &str) -> Result<IdbDatabase, IdbError> {
    let request = idb_factory()?
        .open_with_u32(name, SCHEMA_VERSION)
        .map_err(|error| IdbError::from_js(&error))?;
    let (open, blocked) = OpenFuture::new(request, true);
    open.settle(blocked)
        .await?
        .dyn_into::<IdbDatabase>()
        .map_err(|value| IdbError::Js {
            name: String::from("TypeError"),
            message: format!("open returned a non-database value: {value:?}"),
        })
}

/// Deletes the database `name` and everything in it.
pub(crate) async fn delete(name: &str) -> Result<(), IdbError> {
    let request = idb_factory()?
        .delete_database(name)
        .map_err(|error| IdbError::from_js(&error))?;
    let (open, blocked) = OpenFuture::new(request, false);
    open.settle(blocked).await.map(|_| ())
}
