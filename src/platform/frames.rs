//! An MCP App's frame (`static/sandbox.html` in `<iframe sandbox="allow-scripts">`): the messages
//! that frame's window posts, as JSON text, and texts posted into it. `core::apps::Bridge` decides
//! everything.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{HtmlIFrameElement, MessageEvent, Window};

/// The window's messages from one frame being listened to; dropping it stops.
pub struct FrameListening {
    window: Window,
    handler: Closure<dyn Fn(MessageEvent)>,
}

impl Drop for FrameListening {
    fn drop(&mut self) {
        let handler = self.handler.as_ref().unchecked_ref();
        let _ = self.window.remove_event_listener_with_callback("message", handler);
    }
}

/// Hands `on_text` each message `frame`'s own window posts — from its opaque origin, never one
/// the app inside it or any other window posts — as JSON text.
pub fn listen(
    frame: HtmlIFrameElement,
    on_text: impl Fn(String) + 'static,
) -> Option<FrameListening> {
    let window = web_sys::window()?;
    let handler = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let from_frame = match (event.source(), frame.content_window()) {
            (Some(source), Some(own)) => js_sys::Object::is(&source, &own),
            _ => false,
        };
        if !from_frame || event.origin() != "null" {
            return;
        }
        if let Some(text) = js_sys::JSON::stringify(&event.data()).ok().and_then(|t| t.as_string())
        {
            on_text(text);
        }
    });
    window.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref()).ok()?;
    Some(FrameListening { window, handler })
}

/// Posts `text` (JSON from the bridge) into `frame` as an object. Its origin is opaque, so it
/// cannot be named: `*`, with the frame's own window as the only receiver.
pub fn post(frame: &HtmlIFrameElement, text: &str) {
    let (Some(window), Ok(message)) = (frame.content_window(), js_sys::JSON::parse(text)) else {
        return;
    };
    let _ = window.post_message(&message, "*");
}
