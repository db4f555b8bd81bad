//! Time for the browser build: milliseconds from `Date.now()`, a promise-based sleep, and the one
//! pending timer a sans-IO machine's driver keeps. `core` never reads a clock; it is handed these
//! values.

use crate::core::session::Millis;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen_futures::JsFuture;

/// Milliseconds since the Unix epoch, as the browser sees them.
pub fn now_ms() -> u64 {
    let now = js_sys::Date::now();
    if now.is_finite() && now > 0.0 { now as u64 } else { 0 }
}

/// Resolves after `ms` milliseconds (a `setTimeout` wrapped in a promise).
pub async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let Some(window) = web_sys::window() else { return };
        let callback = Closure::once_into_js(move || {
            let _ = resolve.call0(&wasm_bindgen::JsValue::UNDEFINED);
        });
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            callback.unchecked_ref(),
            i32::try_from(ms).unwrap_or(i32::MAX),
        );
    });
    let _ = JsFuture::from(promise).await;
}

/// The timer of a machine that says when it next needs the time (`poll_timeout`): at most one
/// sleep is pending. A sleep per arming (one per request) would each hold a promise and a closure
/// until its deadline, minutes away: memory that grew with every call.
#[derive(Default)]
pub struct Timer {
    armed: Rc<Cell<Option<Millis>>>,
}

impl Timer {
    /// Runs `fire` at `deadline`, unless the pending sleep ends no later: then that one fires
    /// instead, and the machine, asked again, arms the next deadline.
    pub fn arm(&self, deadline: Millis, fire: impl FnOnce() + 'static) {
        if self.armed.get().is_some_and(|armed| armed <= deadline) {
            return;
        }
        self.armed.set(Some(deadline));
        let armed = self.armed.clone();
        let wait = deadline.saturating_sub(now_ms());
        wasm_bindgen_futures::spawn_local(async move {
            sleep(u32::try_from(wait).unwrap_or(u32::MAX)).await;
            // An earlier deadline replaced this one.
            if armed.get() == Some(deadline) {
                armed.set(None);
                fire();
            }
        });
    }
}
