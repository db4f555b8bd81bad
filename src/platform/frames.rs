//! An MCP App's frame (`static/sandbox.html` in `<iframe sandbox="allow-scripts">`): the messages
//! that frame's window posts, as JSON text, and texts posted into it. `core::apps::Bridge` decides
//! everything.

use crate::platform::messages::{self, Listening};
use web_sys::{HtmlIFrameElement, MessageEvent};

/// Hands `on_text` each message `frame`'s own window posts — from its opaque origin, never one
/// the app inside it or any other window posts — as JSON text.
pub fn listen(frame: HtmlIFrameElement, on_text: impl Fn(String) + 'static) -> Option<Listening> {
    messages::listen(move |event: MessageEvent| {
        let from_frame = match (event.source(), frame.content_window()) {
            (Some(source), Some(own)) => js_sys::Object::is(&source, &own),
            _ => false,
        };
        if !from_frame || event.origin() != "null" {
            return;
        }
        if let Some(text) = messages::text(&event) {
            on_text(text);
        }
    })
}

/// Posts `text` (JSON from the bridge) into `frame` as an object. Its origin is opaque, so it
/// cannot be named: `*`, with the frame's own window as the only receiver.
pub fn post(frame: &HtmlIFrameElement, text: &str) {
    let (Some(window), Ok(message)) = (frame.content_window(), js_sys::JSON::parse(text)) else {
        return;
    };
    let _ = window.post_message(&message, "*");
}
