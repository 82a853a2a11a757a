//! The page's lifecycle, fed to the session: `visibilitychange` and `pageshow` (a hidden
//! page does not ping; a shown one checks its connection at once), `online` and `offline`
//! (no reconnect attempts while offline; back online, reconnect or check at once). Only in
//! a window: a worker has no `document`, and gets none of this.

use crate::driver::{with, Engine};
use js_sys::Reflect;
use std::rc::Weak;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::EventTarget;

/// The listeners on `document` and `window`; removed when dropped.
pub(crate) struct PageListeners {
    document: EventTarget,
    window: EventTarget,
    navigator: JsValue,
    on_visibility: Closure<dyn FnMut()>,
    on_page_show: Closure<dyn FnMut()>,
    on_online: Closure<dyn FnMut()>,
    on_offline: Closure<dyn FnMut()>,
}

impl PageListeners {
    /// Listens for the page's lifecycle on behalf of `engine`; `None` outside a window.
    pub(crate) fn attach(engine: Weak<Engine>) -> Option<Self> {
        let global = js_sys::global();
        let document = Reflect::get(&global, &"document".into()).ok()?;
        if document.is_undefined() || document.is_null() {
            return None;
        }
        let document: EventTarget = document.dyn_into().ok()?;
        let window: EventTarget = global.dyn_into().ok()?;
        let navigator = Reflect::get(&window, &"navigator".into()).unwrap_or(JsValue::UNDEFINED);
        let visibility = {
            let document = document.clone();
            move || is_hidden(&document)
        };
        let on_visibility = Closure::<dyn FnMut()>::new({
            let engine = engine.clone();
            let hidden = visibility.clone();
            move || {
                let hidden = hidden();
                with(&engine, |e| e.input(|s, now| s.on_visibility(hidden, now)))
            }
        });
        let on_page_show = Closure::<dyn FnMut()>::new({
            let engine = engine.clone();
            move || {
                let hidden = visibility();
                with(&engine, |e| e.input(|s, now| s.on_visibility(hidden, now)))
            }
        });
        let on_online = Closure::<dyn FnMut()>::new({
            let engine = engine.clone();
            move || with(&engine, |e| e.input(|s, now| s.on_network(true, now)))
        });
        let on_offline = Closure::<dyn FnMut()>::new(move || {
            with(&engine, |e| e.input(|s, now| s.on_network(false, now)))
        });
        let listeners = Self {
            document,
            window,
            navigator,
            on_visibility,
            on_page_show,
            on_online,
            on_offline,
        };
        listeners.each(|target, name, f| {
            let _ = target.add_event_listener_with_callback(name, f);
        });
        Some(listeners)
    }

    /// Whether the page is hidden now.
    pub(crate) fn hidden(&self) -> bool {
        is_hidden(&self.document)
    }

    /// Whether the browser thinks it is online now (`navigator.onLine`; true if unknown).
    pub(crate) fn online(&self) -> bool {
        Reflect::get(&self.navigator, &"onLine".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true)
    }

    fn each(&self, mut f: impl FnMut(&EventTarget, &str, &js_sys::Function)) {
        f(
            &self.document,
            "visibilitychange",
            self.on_visibility.as_ref().unchecked_ref(),
        );
        f(
            &self.window,
            "pageshow",
            self.on_page_show.as_ref().unchecked_ref(),
        );
        f(
            &self.window,
            "online",
            self.on_online.as_ref().unchecked_ref(),
        );
        f(
            &self.window,
            "offline",
            self.on_offline.as_ref().unchecked_ref(),
        );
    }
}

impl Drop for PageListeners {
    fn drop(&mut self) {
        self.each(|target, name, f| {
            let _ = target.remove_event_listener_with_callback(name, f);
        });
    }
}

fn is_hidden(document: &EventTarget) -> bool {
    Reflect::get(document, &"visibilityState".into())
        .ok()
        .and_then(|v| v.as_string())
        .is_some_and(|state| state == "hidden")
}
