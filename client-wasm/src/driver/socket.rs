//! The engine's WebSocket: opening it with its handlers, and detaching them when dropped.

use super::{with, Core, Engine};
use crate::platform;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// A WebSocket and its handlers. Dropping it detaches the handlers (so a late event of an
/// abandoned socket never reaches the session) and closes it if still open.
pub(super) struct Socket {
    pub(super) ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        // CONNECTING (0) or OPEN (1): nobody will listen any more.
        if self.ws.ready_state() <= WebSocket::OPEN {
            let _ = self.ws.close_with_code(howl_client_core::close::NORMAL);
        }
    }
}

impl Engine {
    pub(super) fn open_socket(self: &Rc<Self>, core: &mut Core) {
        core.socket = None;
        let ws = match WebSocket::new(&core.url) {
            Ok(ws) => ws,
            Err(e) => {
                platform::console_error("howl: cannot open a WebSocket", &e);
                core.session.on_close(1006, platform::now_ms());
                return;
            }
        };
        ws.set_binary_type(BinaryType::Arraybuffer);
        let weak = Rc::downgrade(self);
        let on_open = Closure::<dyn FnMut()>::new({
            let weak = weak.clone();
            move || with(&weak, |e| e.input(|s, now| s.on_open(now)))
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
            let weak = weak.clone();
            move |event: MessageEvent| {
                // The protocol is text only; a binary frame is a server bug, and is ignored.
                if let Some(text) = event.data().as_string() {
                    with(&weak, |e| e.input(|s, now| s.on_frame(&text, now)));
                }
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            with(&weak, |e| {
                // The socket is gone: drop it (and its handlers, this one included — the
                // glue defers freeing a closure until it returns).
                e.core.borrow_mut().socket = None;
                e.input(|s, now| s.on_close(event.code(), now));
            })
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        core.socket = Some(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        });
    }
}
