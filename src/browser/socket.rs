//! A WebSocket to a bridge, carrying the binary P2P byte stream.
//!
//! Browser callbacks push [`SocketEvent`]s into a channel that the runtime's
//! loop drains, so all protocol work happens in one place.

use futures::channel::mpsc::UnboundedSender;
use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

/// Something that happened on a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketEvent {
    /// The WebSocket handshake with the bridge completed.
    Opened,
    /// Bytes arrived in one binary frame.
    Data(Vec<u8>),
    /// The socket closed (after an error too); `code` and `reason` as the close frame gave them.
    Closed {
        /// The WebSocket close code.
        code: u16,
        /// The close reason text.
        reason: String,
    },
}

/// An open or opening WebSocket. Dropping it closes the socket and detaches
/// its callbacks, so no event arrives for it afterwards.
pub struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Opens a WebSocket to `url`; each event is sent as `(id, event)` to `sink`.
    pub fn connect<Id: Copy + 'static>(
        url: &str,
        id: Id,
        sink: UnboundedSender<(Id, SocketEvent)>,
    ) -> Result<Socket, JsValue> {
        let ws = WebSocket::new(url)?;
        ws.set_binary_type(BinaryType::Arraybuffer);

        let open_sink = sink.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            let _ = open_sink.unbounded_send((id, SocketEvent::Opened));
        });
        let message_sink = sink.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Ok(buffer) = event.data().dyn_into::<ArrayBuffer>() {
                let bytes = Uint8Array::new(&buffer).to_vec();
                let _ = message_sink.unbounded_send((id, SocketEvent::Data(bytes)));
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            let _ = sink.unbounded_send((
                id,
                SocketEvent::Closed {
                    code: event.code(),
                    reason: event.reason(),
                },
            ));
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Sends bytes as one binary frame.
    pub fn send(&self, bytes: &[u8]) -> Result<(), JsValue> {
        self.ws.send_with_u8_array(bytes)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}
