//! Futures over IndexedDB's event callbacks.
//!
//! A request or transaction reports its outcome once, through `success`/`error`
//! or `complete`/`abort` events; these futures carry that outcome into async
//! Rust. Dropping a future detaches its handlers first, so a late event never
//! calls a freed closure.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::cell::Cell;
use std::rc::Rc;

use futures::channel::oneshot;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Event, IdbRequest, IdbTransaction};

use super::error::IdbError;

/// The outcome of a request: its result, or the error it failed with.
type Outcome<T> = Result<T, IdbError>;

/// A sender that delivers the first outcome only; later events are ignored.
type OnceSender<T> = Rc<Cell<Option<oneshot::Sender<Outcome<T>>>>>;

/// Sends `outcome` if nothing was sent yet.
fn send_once<T>(sender: &OnceSender<T>, outcome: Outcome<T>) {
    if let Some(tx) = sender.take() {
        let _ = tx.send(outcome);
    }
}

/// Polls a receiver; a dropped sender means the event can no longer arrive.
fn poll_outcome<T>(
    receiver: &mut oneshot::Receiver<Outcome<T>>,
    cx: &mut Context<'_>,
    what: &str,
) -> Poll<Outcome<T>> {
    match Pin::new(receiver).poll(cx) {
        Poll::Ready(Ok(outcome)) => Poll::Ready(outcome),
        Poll::Ready(Err(oneshot::Canceled)) => Poll::Ready(Err(IdbError::aborted(what))),
        Poll::Pending => Poll::Pending,
    }
}

/// Resolves with an `IDBRequest`'s result once its `success` event fires, or
/// with its error once `error` fires.
pub(crate) struct RequestFuture {
    request: IdbRequest,
    receiver: oneshot::Receiver<Outcome<JsValue>>,
    _on_success: Closure<dyn FnMut(Event)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl RequestFuture {
    /// Attaches to `request`, which must not have fired yet (true for any
    /// request made in the current task).
    pub(crate) fn new(request: IdbRequest) -> RequestFuture {
        let (tx, receiver) = oneshot::channel();
        let sender: OnceSender<JsValue> = Rc::new(Cell::new(Some(tx)));

        let success_sender = Rc::clone(&sender);
        let success_request = request.clone();
        let on_success = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            let outcome = success_request
                .result()
                .map_err(|error| IdbError::from_js(&error));
            send_once(&success_sender, outcome);
        });

        let error_request = request.clone();
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            send_once(&sender, Err(request_error(&error_request)));
        });

        request.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
        request.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        RequestFuture {
            request,
            receiver,
            _on_success: on_success,
            _on_error: on_error,
        }
    }
}

/// The error a failed request carries.
pub(crate) fn request_error(request: &IdbRequest) -> IdbError {
    match request.error() {
        Ok(Some(exception)) => IdbError::from_dom_exception(&exception),
        Ok(None) => IdbError::aborted("the request"),
        Err(error) => IdbError::from_js(&error),
    }
}

impl Future for RequestFuture {
    type Output = Outcome<JsValue>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        poll_outcome(&mut self.get_mut().receiver, cx, "the request")
    }
}

impl Drop for RequestFuture {
    fn drop(&mut self) {
        self.request.set_onsuccess(None);
        self.request.set_onerror(None);
    }
}

/// Resolves once a transaction has committed (`complete`), or with the
/// reason it was aborted (`abort`, with `transaction.error`).
///
/// Request errors are not handled here: an unhandled request error aborts
/// its transaction, which then reports the abort.
pub(crate) struct TransactionFuture {
    transaction: IdbTransaction,
    receiver: oneshot::Receiver<Outcome<()>>,
    _on_complete: Closure<dyn FnMut(Event)>,
    _on_abort: Closure<dyn FnMut(Event)>,
}

impl TransactionFuture {
    /// Attaches to `transaction`, which must still be running (true for any
    /// transaction created in the current task).
    pub(crate) fn new(transaction: IdbTransaction) -> TransactionFuture {
        let (tx, receiver) = oneshot::channel();
        let sender: OnceSender<()> = Rc::new(Cell::new(Some(tx)));

        let complete_sender = Rc::clone(&sender);
        let on_complete = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            send_once(&complete_sender, Ok(()));
        });

        let aborted = transaction.clone();
        let on_abort = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            let error = match aborted.error() {
                Some(exception) => IdbError::from_dom_exception(&exception),
                None => IdbError::aborted("the transaction"),
            };
            send_once(&sender, Err(error));
        });

        transaction.set_oncomplete(Some(on_complete.as_ref().unchecked_ref()));
        transaction.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
        TransactionFuture {
            transaction,
            receiver,
            _on_complete: on_complete,
            _on_abort: on_abort,
        }
    }

    /// Aborts the transaction after a request could not be made (`cause`),
    /// waits for the abort to finish, and returns why the write failed: when
    /// this returns, nothing the transaction did is left in the database.
    ///
    /// If the request failed because the transaction had already been
    /// aborted underneath it (`TransactionInactiveError`, e.g. by a
    /// `QuotaExceededError` on an earlier request), the abort's own reason is
    /// returned instead.
    pub(crate) async fn abort_with(self, cause: IdbError) -> IdbError {
        let finished_underneath =
            matches!(&cause, IdbError::Js { name, .. } if name == "TransactionInactiveError");
        // Fails only if the transaction already finished or is aborting; the
        // abort (or completion) event still arrives below.
        let _ = self.transaction.abort();
        match self.await {
            Err(reason) if finished_underneath => reason,
            _ => cause,
        }
    }
}

impl Future for TransactionFuture {
    type Output = Outcome<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        poll_outcome(&mut self.get_mut().receiver, cx, "the transaction")
    }
}

impl Drop for TransactionFuture {
    fn drop(&mut self) {
        self.transaction.set_oncomplete(None);
        self.transaction.set_onabort(None);
    }
}
