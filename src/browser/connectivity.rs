//! The browser's own connectivity signals: `online`, `offline`, and a page
//! becoming visible again (a tab woken from sleep may hold dead sockets).
//!
//! Listens on the global scope, so it works in a window and in a worker
//! (where `online`/`offline` fire on the worker's global scope and visibility
//! is forwarded by the page).

use futures::channel::mpsc::UnboundedSender;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Event, EventTarget, VisibilityState};

/// A change in the browser's connectivity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectivityEvent {
    /// The browser reports the network back.
    Online,
    /// The browser reports the network gone.
    Offline,
    /// The page became visible; connections should be checked for liveness.
    Visible,
}

/// Installed event listeners; dropping it removes them.
pub struct ConnectivityListener {
    target: EventTarget,
    document: Option<Document>,
    on_online: Closure<dyn FnMut(Event)>,
    on_offline: Closure<dyn FnMut(Event)>,
    on_visibility: Closure<dyn FnMut(Event)>,
}

impl ConnectivityListener {
    /// Starts listening; events go to `sink`.
    pub fn install(
        sink: UnboundedSender<ConnectivityEvent>,
    ) -> Result<ConnectivityListener, JsValue> {
        let target: EventTarget = js_sys::global().unchecked_into();
        let callback = |sink: UnboundedSender<ConnectivityEvent>, event: ConnectivityEvent| {
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                let _ = sink.unbounded_send(event);
            })
        };
        let on_online = callback(sink.clone(), ConnectivityEvent::Online);
        let on_offline = callback(sink.clone(), ConnectivityEvent::Offline);
        let document = js_sys::Reflect::get(&target, &JsValue::from_str("document"))
            .ok()
            .and_then(|d| d.dyn_into::<Document>().ok());
        let visibility_document = document.clone();
        let on_visibility = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            let visible = visibility_document.as_ref().map(|d| d.visibility_state())
                == Some(VisibilityState::Visible);
            if visible {
                let _ = sink.unbounded_send(ConnectivityEvent::Visible);
            }
        });
        target.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref())?;
        target.add_event_listener_with_callback("offline", on_offline.as_ref().unchecked_ref())?;
        if let Some(doc) = &document {
            doc.add_event_listener_with_callback(
                "visibilitychange",
                on_visibility.as_ref().unchecked_ref(),
            )?;
        }
        Ok(ConnectivityListener {
            target,
            document,
            on_online,
            on_offline,
            on_visibility,
        })
    }

    /// Whether the browser currently believes it is online (`navigator.onLine`).
    pub fn is_online() -> bool {
        let navigator =
            js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("navigator")).ok();
        navigator
            .and_then(|n| js_sys::Reflect::get(&n, &JsValue::from_str("onLine")).ok())
            .and_then(|v| v.as_bool())
            .unwrap_or(true)
    }
}

impl Drop for ConnectivityListener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback("online", self.on_online.as_ref().unchecked_ref());
        let _ = self.target.remove_event_listener_with_callback(
            "offline",
            self.on_offline.as_ref().unchecked_ref(),
        );
        if let Some(doc) = &self.document {
            let _ = doc.remove_event_listener_with_callback(
                "visibilitychange",
                self.on_visibility.as_ref().unchecked_ref(),
            );
        }
    }
}
