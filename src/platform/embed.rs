//! The browser's side of being embedded in a portal's frame; `core::embed` decides everything.
//! It hands on each `message` event the window receives (its origin, whether the parent window
//! sent it, its data as JSON text when asked) and posts texts to the parent window with an exact
//! target origin, so the browser delivers them to that origin or to nobody.

use crate::platform::messages::{self, Listening};
use web_sys::{MessageEvent, Window};

/// A message as the browser delivered it.
pub struct Incoming {
    /// `MessageEvent.origin`, as the browser writes it.
    pub origin: String,
    /// Whether the window this console is framed by sent it (not a sibling frame or popup).
    pub from_parent: bool,
    event: MessageEvent,
}

impl Incoming {
    /// The data as JSON text (`JSON.stringify`); `None` when it has none (a function, a cycle).
    /// Asked for only once `core` heard the origin, so nobody else's data is copied.
    pub fn text(&self) -> Option<String> {
        messages::text(&self.event)
    }
}

fn parent(window: &Window) -> Option<Window> {
    // A page in no frame is its own parent.
    window.parent().ok().flatten().filter(|parent| !js_sys::Object::is(parent, window))
}

/// Whether the console is in another page's frame.
pub fn framed() -> bool {
    web_sys::window().is_some_and(|window| parent(&window).is_some())
}

/// Hands every message the window receives to `on_message`, until the returned value is
/// dropped; `None` without a window.
pub fn listen(on_message: impl Fn(Incoming) + 'static) -> Option<Listening> {
    let own = web_sys::window()?;
    messages::listen(move |event: MessageEvent| {
        let from_parent = match (event.source(), parent(&own)) {
            (Some(source), Some(parent)) => js_sys::Object::is(&source, &parent),
            _ => false,
        };
        on_message(Incoming { origin: event.origin(), from_parent, event });
    })
}

/// The parent's origin as the browser states it (`location.ancestorOrigins[0]`, in Chromium and
/// WebKit), when it does.
pub fn parent_origin() -> Option<String> {
    let location = web_sys::window()?.location();
    let ancestors = js_sys::Reflect::get(&location, &"ancestorOrigins".into()).ok()?;
    js_sys::Reflect::get(&ancestors, &0.into()).ok()?.as_string()
}

/// Posts `text` (JSON, from `core::embed`) to the parent window as an object, delivered only if
/// the parent's origin is `target`. Nothing happens outside a frame.
pub fn post(target: &str, text: &str) {
    let Some(parent) = web_sys::window().as_ref().and_then(parent) else { return };
    if let Ok(message) = js_sys::JSON::parse(text) {
        let _ = parent.post_message(&message, target);
    }
}
