//! The browser's side of signing in: the HTTP exchanges with the authorization server (discovery
//! GETs, registration and token POSTs) through `fetch`, fresh random octets, the one record kept
//! in sessionStorage across a full-page redirect (and deleted when read), cleaning the address
//! bar, and the popup whose callback page hands the answer back over a `BroadcastChannel` named
//! after the sign-in's `state`. Every decision is made in `core::auth`.

use crate::core::auth::discovery::{BearerInfo, Discovered, Discovery, DiscoverySettings};
use crate::core::auth::flow::{PENDING_LIFETIME, PendingSignIn};
use crate::core::auth::signin::TraceLine;
use crate::platform::clock;
use gloo_net::http::{Method, RequestBuilder};
use oauth2::http;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use url::Url;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{BroadcastChannel, MessageEvent, Window};

/// The sessionStorage key of the one sign-in waiting for its full-page redirect to come back.
const PENDING_KEY: &str = "mcp-console.pending-sign-in";
/// The BroadcastChannel a popup's callback page answers on: this prefix, then the `state`.
const CHANNEL_PREFIX: &str = "mcp-console-signin:";
/// Answers from authorization servers are small; anything bigger is cut off.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

fn window() -> Option<Window> {
    web_sys::window()
}

/// 96 octets from the browser's CSPRNG (`crypto.getRandomValues`).
pub fn random96() -> Result<[u8; 96], String> {
    let mut octets = [0u8; 96];
    getrandom::fill(&mut octets).map_err(|e| {
        format!("The browser gave the console no secure random numbers ({e}), so it cannot sign in safely; use a current browser.")
    })?;
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

/// The page's whole address.
pub fn href() -> String {
    window().and_then(|w| w.location().href().ok()).unwrap_or_default()
}

/// Replaces the address bar's URL without a new history entry or a reload.
pub fn replace_url(url: &str) {
    if let Some(history) = window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url));
    }
}

/// Leaves the page for `url` (the full-page sign-in).
pub fn go_to(url: &str) -> Result<(), String> {
    let w = window().ok_or("no window")?;
    w.location().assign(url).map_err(|_| "The browser refused to open the sign-in page.".to_owned())
}

fn session_storage() -> Option<web_sys::Storage> {
    window().and_then(|w| w.session_storage().ok().flatten())
}

/// What survives a full-page redirect: the pending sign-in and the trace so far (URLs and
/// statuses, with `state`, nonce and challenge redacted: never a token or a code).
#[derive(serde::Serialize, serde::Deserialize)]
struct Kept {
    pending: PendingSignIn,
    trace: Vec<(String, String)>,
}

/// Keeps `pending` (PKCE verifier, `state`, nonce; never a token) and its trace in sessionStorage
/// until the redirect returns: the one thing the console ever writes to browser storage. It is
/// deleted when read ([`take_pending`]) or, if the sign-in was abandoned, once it has expired
/// ([`drop_expired_pending`]).
pub fn save_pending(pending: PendingSignIn, trace: &[TraceLine]) -> Result<(), String> {
    let trace = trace.iter().map(|l| (l.step.clone(), l.detail.clone())).collect();
    let text = serde_json::to_string(&Kept { pending, trace }).map_err(|e| e.to_string())?;
    session_storage()
        .and_then(|s| s.set_item(PENDING_KEY, &text).ok())
        .ok_or_else(|| "The browser's session storage is not available (private mode or a policy blocks it), so a full-page sign-in cannot come back; choose the popup sign-in in the sign-in settings.".to_owned())
}

/// Reads and deletes the pending sign-in and its trace: they are used once, whatever happens
/// next.
pub fn take_pending() -> Option<(PendingSignIn, Vec<TraceLine>)> {
    let storage = session_storage()?;
    let text = storage.get_item(PENDING_KEY).ok().flatten();
    let _ = storage.remove_item(PENDING_KEY);
    let kept: Kept = serde_json::from_str(&text?).ok()?;
    let trace = kept.trace.into_iter().map(|(step, detail)| TraceLine::new(step, detail)).collect();
    Some((kept.pending, trace))
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
pub fn drop_expired_pending(now: crate::core::session::Millis) {
    let Some(storage) = session_storage() else { return };
    let Some(text) = storage.get_item(PENDING_KEY).ok().flatten() else { return };
    let expired = serde_json::from_str::<Kept>(&text).map_or(true, |k| k.pending.is_expired(now));
    if expired {
        let _ = storage.remove_item(PENDING_KEY);
    }
}

/// Why an exchange gave no answer, as a clause for a sentence (the URL is named around it).
fn no_answer() -> String {
    "the server is down, or it does not allow this page's origin (CORS)".to_owned()
}

/// Performs a POST built by `core` and returns its status and body (at most 1 MiB).
pub async fn exchange(request: http::Request<Vec<u8>>) -> Result<(u16, Vec<u8>), String> {
    let url = request.uri().to_string();
    let method = if request.method() == http::Method::GET { Method::GET } else { Method::POST };
    let mut builder = RequestBuilder::new(&url).method(method);
    for (name, value) in request.headers() {
        if let Ok(value) = value.to_str() {
            builder = builder.header(name.as_str(), value);
        }
    }
    let body = String::from_utf8_lossy(request.body()).into_owned();
    let built = builder.body(body).map_err(|e| e.to_string())?;
    let response = built.send().await.map_err(|_| no_answer())?;
    let status = response.status();
    let mut bytes = response.binary().await.map_err(|_| no_answer())?;
    bytes.truncate(MAX_ANSWER_BYTES);
    Ok((status, bytes))
}

/// A plain GET for a metadata document (no custom header, so no CORS preflight).
async fn get_document(url: &Url) -> Result<(u16, String), String> {
    let response = RequestBuilder::new(url.as_str())
        .method(Method::GET)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|_| no_answer())?;
    let status = response.status();
    let mut text = response.text().await.unwrap_or_default();
    if text.len() > MAX_ANSWER_BYTES {
        text = String::new();
    }
    Ok((status, text))
}

/// Runs discovery for `server` to its end, adding every URL tried to `trace`.
pub async fn discover(
    server: Url,
    challenge: Option<BearerInfo>,
    settings: DiscoverySettings,
    trace: &mut Vec<TraceLine>,
) -> Result<Discovered, String> {
    let mut discovery = Discovery::new(server, challenge, settings);
    while let Some(url) = discovery.next_request() {
        match get_document(&url).await {
            Ok((status, body)) => discovery.handle_response(&url, status, &body),
            Err(reason) => discovery.handle_failure(&url, &reason),
        }
    }
    for step in discovery.trace() {
        let detail = match step.status {
            Some(status) => format!("HTTP {status}: {}", step.note),
            None => step.note.clone(),
        };
        trace.push(TraceLine::new(format!("GET {}", step.url), detail));
    }
    match discovery.outcome() {
        Some(Ok(found)) => Ok(found),
        Some(Err(error)) => Err(error.to_string()),
        None => Err("Discovery stopped without an answer; try again.".to_owned()),
    }
}

/// Opens an empty sign-in window at once, inside the click that asked for it (browsers block
/// windows opened later); `None` when the browser blocked it.
pub fn open_popup() -> Option<Window> {
    let w = window()?;
    w.open_with_url_and_target_and_features("", "mcp-console-signin", "popup,width=520,height=720")
        .ok()
        .flatten()
}

/// Sends the sign-in window to `url`.
pub fn navigate_popup(popup: &Window, url: &str) -> Result<(), String> {
    popup.location().set_href(url).map_err(|_| {
        "The console could not send the sign-in window to the sign-in page.".to_owned()
    })
}

/// Waits for the callback page to hand back the answer for `state` (its whole URL), until the
/// sign-in expires or `cancelled` is set. When the popup is seen closed, `on_closed` runs once
/// and the wait goes on: a sign-in page with Cross-Origin-Opener-Policy makes an open popup look
/// closed, and its answer still comes over the channel.
pub async fn wait_for_answer(
    state: &str,
    popup: Option<Window>,
    cancelled: Rc<Cell<bool>>,
    on_closed: impl Fn(),
) -> Option<String> {
    let channel = BroadcastChannel::new(&format!("{CHANNEL_PREFIX}{state}")).ok()?;
    let answer: Rc<RefCell<Option<String>>> = Rc::new(RefCell::new(None));
    let origin = window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    let slot = answer.clone();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        // Only our own callback page can post here (a BroadcastChannel is same-origin); the URL
        // must be on our origin too, and `core` checks its state before anything is redeemed.
        let url =
            js_sys::Reflect::get(&event.data(), &"url".into()).ok().and_then(|v| v.as_string());
        if let Some(url) = url.filter(|u| u.starts_with(&format!("{origin}/"))) {
            *slot.borrow_mut() = Some(url);
        }
    });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    let deadline = clock::now_ms().saturating_add(PENDING_LIFETIME);
    let mut told_closed = false;
    let result = loop {
        if let Some(url) = answer.borrow_mut().take() {
            break Some(url);
        }
        if cancelled.get() || clock::now_ms() > deadline {
            break None;
        }
        if !told_closed && popup.as_ref().is_some_and(|p| p.closed().unwrap_or(false)) {
            // Give a callback that was just posted a moment to arrive.
            clock::sleep(300).await;
            if answer.borrow().is_none() {
                told_closed = true;
                on_closed();
            }
            continue;
        }
        clock::sleep(150).await;
    };
    channel.set_onmessage(None);
    channel.close();
    if let Some(p) = popup.filter(|p| !p.closed().unwrap_or(true)) {
        let _ = p.close();
    }
    drop(on_message);
    result
}
