//! The browser's side of signing in, as `connection.rs` is the engine's: a driver that pumps the
//! `core::auth::machine::SignIn` and performs each action — fetches to the authorization server,
//! the sign-in window (opened inside the click, with `opener` cut so the sign-in page cannot
//! reach back into the console) and the `BroadcastChannel` its callback page answers on, the one
//! record kept in sessionStorage across a full-page redirect (deleted when read, or once expired
//! if abandoned), and the machine's timer. Bearers, give-ups and sign-outs go to the page's
//! listener, which hands them to the connection they name. It makes no decision of its own.

use crate::core::auth::flow::{self, PendingSignIn, callback_params_present};
use crate::core::auth::machine::{
    Action, AuthView, BrowserProblem, FetchId, Kept, MAX_ANSWER_BYTES, Press, Random, SignIn,
};
use crate::core::auth::trace::TraceLine;
use crate::core::http::HttpRequest;
use crate::core::launch::Opened;
use crate::core::session::Millis;
use crate::platform::{clock, fetch, location};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use url::Url;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen_futures::spawn_local;
use web_sys::{BroadcastChannel, MessageEvent, Window};

/// The sessionStorage key of the one sign-in waiting for its full-page redirect to come back.
const PENDING_KEY: &str = "mcp-console.pending-sign-in";
/// The BroadcastChannel a popup's callback page answers on: this prefix, then the `state`.
const CHANNEL_PREFIX: &str = "mcp-console-signin:";
/// How often an open sign-in window is looked at (closed windows fire no event).
const POPUP_WATCH_MS: u32 = 250;

fn window() -> Option<Window> {
    web_sys::window()
}

type Listener<T> = RefCell<Option<Box<dyn Fn(T)>>>;
/// The channel a callback page answers on, with the handler that must live as long.
type Channel = (BroadcastChannel, Closure<dyn Fn(MessageEvent)>);

/// Everything the machine's actions reach, besides the machine.
struct Inner {
    machine: RefCell<SignIn>,
    /// Bearers, give-ups and sign-outs, for the page to hand to the connection they name.
    on_connection: Listener<Action>,
    on_view: Listener<AuthView>,
    last_view: RefCell<Option<AuthView>>,
    popup: RefCell<Option<Window>>,
    channel: RefCell<Option<Channel>>,
    timer: clock::Timer,
    popup_generation: Cell<u64>,
}

/// The running sign-in. Cloning shares it.
#[derive(Clone)]
pub struct AuthDriver {
    inner: Rc<Inner>,
}

impl AuthDriver {
    pub fn new(machine: SignIn) -> AuthDriver {
        AuthDriver {
            inner: Rc::new(Inner {
                machine: RefCell::new(machine),
                on_connection: RefCell::new(None),
                on_view: RefCell::new(None),
                last_view: RefCell::new(None),
                popup: RefCell::new(None),
                channel: RefCell::new(None),
                timer: clock::Timer::default(),
                popup_generation: Cell::new(0),
            }),
        }
    }

    /// Where bearers and sign-outs go, and where each new Auth view goes.
    pub fn listen(
        &self,
        on_connection: impl Fn(Action) + 'static,
        on_view: impl Fn(AuthView) + 'static,
    ) {
        *self.inner.on_connection.borrow_mut() = Some(Box::new(on_connection));
        *self.inner.on_view.borrow_mut() = Some(Box::new(on_view));
        pump(&self.inner);
    }

    /// Runs `f` on the machine with the time, then performs what it asked for — at once, so a
    /// sign-in window is opened inside the click that caused it.
    pub fn with<R>(&self, f: impl FnOnce(&mut SignIn, Millis) -> R) -> R {
        let result = f(&mut self.inner.machine.borrow_mut(), clock::now_ms());
        pump(&self.inner);
        result
    }

    /// What a click on Sign in comes with: fresh random octets and whether the page is framed.
    pub fn press(&self, open: Option<Opened>) -> Option<Press> {
        match random96() {
            Ok(random) => Some(Press { framed: is_framed(), random: Random(random), open }),
            Err(problem) => {
                self.with(|m, _| m.handle_browser_problem(problem));
                None
            }
        }
    }
}

fn pump(inner: &Rc<Inner>) {
    loop {
        let action = inner.machine.borrow_mut().poll_output();
        match action {
            Some(action) => perform(inner, action),
            None => break,
        }
    }
    let view = inner.machine.borrow().view().clone();
    let changed = inner.last_view.borrow().as_ref() != Some(&view);
    if changed {
        *inner.last_view.borrow_mut() = Some(view.clone());
        if let Some(on_view) = inner.on_view.borrow().as_ref() {
            on_view(view);
        }
    }
    arm_timer(inner);
}

fn arm_timer(inner: &Rc<Inner>) {
    let Some(deadline) = inner.machine.borrow().poll_timeout() else { return };
    let weak = Rc::downgrade(inner);
    inner.timer.arm(deadline, move || {
        let Some(inner) = weak.upgrade() else { return };
        inner.machine.borrow_mut().handle_timeout(clock::now_ms());
        pump(&inner);
    });
}

fn perform(inner: &Rc<Inner>, action: Action) {
    match action {
        Action::Fetch { id, request } => fetch(inner, id, request),
        Action::OpenPopup => open_popup(inner),
        Action::NavigatePopup(url) => {
            let sent = inner
                .popup
                .borrow()
                .as_ref()
                .is_some_and(|p| p.location().set_href(url.as_str()).is_ok());
            if !sent {
                inner.machine.borrow_mut().handle_browser_problem(BrowserProblem::PopupUnreachable);
            }
        }
        Action::ClosePopup => {
            inner.popup_generation.set(inner.popup_generation.get().wrapping_add(1));
            if let Some(popup) = inner.popup.borrow_mut().take() {
                let _ = popup.close();
            }
        }
        Action::Listen { state } => listen(inner, &state),
        Action::StopListening => {
            if let Some((channel, _)) = inner.channel.borrow_mut().take() {
                channel.set_onmessage(None);
                channel.close();
            }
        }
        Action::Leave { url, pending, trace } => {
            let problem = match save_pending(&pending, &trace) {
                Err(problem) => Some(problem),
                Ok(()) => go_to(url.as_str()).err(),
            };
            if let Some(problem) = problem {
                inner.machine.borrow_mut().handle_browser_problem(problem);
            }
        }
        other => {
            if let Some(on_connection) = inner.on_connection.borrow().as_ref() {
                on_connection(other);
            }
        }
    }
}

/// Performs a request built by `core` and reports its status and body (at most
/// [`MAX_ANSWER_BYTES`]), or that no answer came.
fn fetch(inner: &Rc<Inner>, id: FetchId, request: HttpRequest) {
    let inner = inner.clone();
    spawn_local(async move {
        let answer = match fetch::send(&request, None).await {
            Ok(response) => match response.text_up_to(MAX_ANSWER_BYTES).await {
                Ok(text) => Some((response.status(), text)),
                Err(_) => None,
            },
            Err(_) => None,
        };
        let now = clock::now_ms();
        match answer {
            Some((status, body)) => {
                inner.machine.borrow_mut().handle_response(id, status, body.as_bytes(), now);
            }
            None => inner.machine.borrow_mut().handle_failure(id, now),
        }
        pump(&inner);
    });
}

/// Opens a new, empty sign-in window inside the click that asked for it (browsers block windows
/// opened later), and cuts its `opener`: whatever page it shows next cannot reach the console. A
/// new window each time (`_blank`): a named one could be one a framing page opened first.
fn open_popup(inner: &Rc<Inner>) {
    let opened = window()
        .and_then(|w| {
            w.open_with_url_and_target_and_features("", "_blank", "popup,width=520,height=720").ok()
        })
        .flatten();
    let Some(popup) = opened else {
        inner.machine.borrow_mut().handle_popup_blocked();
        return;
    };
    // Still about:blank and of this origin, so the console may set it; the browser then forgets
    // the opener for every page the window goes on to.
    let _ = popup.set_opener(&wasm_bindgen::JsValue::NULL);
    *inner.popup.borrow_mut() = Some(popup);
    watch_popup(inner);
}

/// Tells the machine once when the window looks closed. A sign-in page with
/// Cross-Origin-Opener-Policy makes an open window look closed too; its answer still comes.
fn watch_popup(inner: &Rc<Inner>) {
    let generation = inner.popup_generation.get().wrapping_add(1);
    inner.popup_generation.set(generation);
    let inner = inner.clone();
    spawn_local(async move {
        loop {
            clock::sleep(POPUP_WATCH_MS).await;
            if inner.popup_generation.get() != generation {
                return;
            }
            let closed = inner.popup.borrow().as_ref().is_none_or(|p| p.closed().unwrap_or(true));
            if closed {
                inner.machine.borrow_mut().handle_popup_closed();
                pump(&inner);
                return;
            }
        }
    });
}

/// Waits on the channel named after `state` for the callback page's answer (its whole URL);
/// `core` checks where it came from and what it says.
fn listen(inner: &Rc<Inner>, state: &str) {
    let Ok(channel) = BroadcastChannel::new(&format!("{CHANNEL_PREFIX}{state}")) else {
        inner.machine.borrow_mut().handle_browser_problem(BrowserProblem::PopupUnreachable);
        return;
    };
    let weak = Rc::downgrade(inner);
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let url =
            js_sys::Reflect::get(&event.data(), &"url".into()).ok().and_then(|v| v.as_string());
        if let (Some(url), Some(inner)) = (url, weak.upgrade()) {
            inner.machine.borrow_mut().handle_answer(&url, clock::now_ms());
            pump(&inner);
        }
    });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    if let Some((old, _)) = inner.channel.borrow_mut().replace((channel, on_message)) {
        old.set_onmessage(None);
        old.close();
    }
}

/// 96 octets from the browser's CSPRNG (`crypto.getRandomValues`).
pub fn random96() -> Result<[u8; 96], BrowserProblem> {
    let mut octets = [0u8; 96];
    getrandom::fill(&mut octets).map_err(|_| BrowserProblem::NoRandomness)?;
    Ok(octets)
}

/// Whether the console runs inside a frame (where sign-in pages refuse to render).
pub fn is_framed() -> bool {
    let Some(w) = window() else { return false };
    match w.parent() {
        Ok(Some(parent)) => !js_sys::Object::is(&parent, &w),
        _ => false,
    }
}

/// Replaces the address bar's URL without a new history entry or a reload.
fn replace_url(url: &str) {
    if let Some(history) = window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url));
    }
}

fn go_to(url: &str) -> Result<(), BrowserProblem> {
    let w = window().ok_or(BrowserProblem::NavigationRefused)?;
    w.location().assign(url).map_err(|_| BrowserProblem::NavigationRefused)
}

fn session_storage() -> Option<web_sys::Storage> {
    window().and_then(|w| w.session_storage().ok().flatten())
}

/// Keeps `pending` (PKCE verifier, `state`, nonce; never a token) and its trace in sessionStorage
/// until the redirect returns: the one thing the console ever writes to browser storage. It is
/// deleted when read ([`take_pending`]) or, if the sign-in was abandoned, once it has expired.
pub fn save_pending(pending: &PendingSignIn, trace: &[TraceLine]) -> Result<(), BrowserProblem> {
    let text = flow::keep(pending, trace);
    session_storage()
        .and_then(|s| s.set_item(PENDING_KEY, &text).ok())
        .ok_or(BrowserProblem::NoSessionStorage)
}

/// Reads and deletes the pending sign-in and its trace: they are used once, whatever happens
/// next.
pub fn take_pending() -> Option<Kept> {
    let storage = session_storage()?;
    let text = storage.get_item(PENDING_KEY).ok().flatten();
    let _ = storage.remove_item(PENDING_KEY);
    flow::kept(&text?)
}

/// The answer `callback.html` left for a full-page sign-in (its whole URL) in this history
/// entry's state; the state is cleared at once.
pub fn take_answer() -> Option<String> {
    let history = window()?.history().ok()?;
    let state = history.state().ok()?;
    let answer = js_sys::Reflect::get(&state, &"mcpConsoleAnswer".into()).ok()?.as_string()?;
    let _ = history.replace_state(&wasm_bindgen::JsValue::NULL, "");
    Some(answer)
}

/// Deletes a pending sign-in that has expired without its answer (abandoned at the sign-in
/// page); one still in time is kept, for the person may come back to it.
pub fn drop_expired_pending(now: Millis) {
    let Some(storage) = session_storage() else { return };
    let Some(text) = storage.get_item(PENDING_KEY).ok().flatten() else { return };
    let expired = flow::kept(&text).is_none_or(|(pending, _)| pending.is_expired(now));
    if expired {
        let _ = storage.remove_item(PENDING_KEY);
    }
}

/// Whether the page was loaded as the answer to a full-page sign-in (left by `callback.html` as
/// this history entry's state, or in the address); if so the address bar is set at once to where
/// the person was, and the answer is returned with what was kept for it (read from sessionStorage
/// and deleted there). Otherwise an abandoned, expired pending sign-in is deleted.
pub fn take_redirect_answer() -> Option<(String, Option<Kept>)> {
    let here = location::href();
    let answer = match take_answer() {
        Some(answer) if callback_params_present(&answer) => answer,
        _ if callback_params_present(&here) => here.clone(),
        _ => {
            drop_expired_pending(clock::now_ms());
            return None;
        }
    };
    let kept = take_pending();
    let clean = match &kept {
        Some((pending, _)) if !pending.return_to.is_empty() => pending.return_to.clone(),
        _ => {
            let mut url = Url::parse(&here).ok()?;
            url.set_query(None);
            url.set_fragment(None);
            url.to_string()
        }
    };
    replace_url(&clean);
    Some((answer, kept))
}
