//! The window's `message` events, listened to until the returned value is dropped: the one way
//! `platform::embed` (the host page) and `platform::frames` (an MCP App) hear other windows.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{MessageEvent, Window};

/// The window's messages being listened to; dropping it stops.
pub struct Listening {
    window: Window,
    handler: Closure<dyn Fn(MessageEvent)>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let handler = self.handler.as_ref().unchecked_ref();
        let _ = self.window.remove_event_listener_with_callback("message", handler);
    }
}

/// Hands every message the window receives to `on_message`; `None` without a window.
pub fn listen(on_message: impl Fn(MessageEvent) + 'static) -> Option<Listening> {
    let window = web_sys::window()?;
    let handler = Closure::<dyn Fn(MessageEvent)>::new(on_message);
    window.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref()).ok()?;
    Some(Listening { window, handler })
}

/// An event's data as JSON text (`JSON.stringify`); `None` when it has none (a function, a cycle).
pub fn text(event: &MessageEvent) -> Option<String> {
    js_sys::JSON::stringify(&event.data()).ok().and_then(|text| text.as_string())
}
