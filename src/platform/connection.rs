//! The async driver that runs a `core::engine::Engine` in the browser: each `Output::Start`
//! becomes a fetch whose head, body chunks, end or failure are fed back with the time; each
//! `Output::Abort` aborts that fetch; the engine's timer is armed with `setTimeout`; events go to
//! the UI's listener. It makes no protocol decisions of its own.

use crate::core::address::ServerUrl;
use crate::core::auth::tokens::Bearer;
use crate::core::engine::{
    Engine, EngineEvent, NetworkFailure, Output, ResponseHead, StreamId, TransportChoice,
};
use crate::core::http::HttpRequest;
use crate::core::map::SortedMap;
use crate::core::session::{Millis, Session, SessionConfig};
use crate::core::streamable::{SESSION_HEADER, TransportError};
use crate::platform::clock;
use crate::platform::fetch::{self, FetchFailure};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use web_sys::AbortController;

type Listener = Box<dyn Fn(EngineEvent)>;

struct Inner {
    engine: RefCell<Engine>,
    listener: Listener,
    fetches: RefCell<SortedMap<StreamId, AbortController>>,
    timer: clock::Timer,
    /// True once the user disconnected: late callbacks are ignored.
    closed: Cell<bool>,
}

/// A live connection. Cloning shares it; call [`Connection::disconnect`] to end it.
#[derive(Clone)]
pub struct Connection {
    inner: Rc<Inner>,
}

impl Connection {
    /// Starts connecting to `endpoint`; everything that happens reaches `listener`.
    pub fn open(
        endpoint: &str,
        choice: TransportChoice,
        config: SessionConfig,
        bearer: Option<Bearer>,
        listener: impl Fn(EngineEvent) + 'static,
    ) -> Result<Connection, TransportError> {
        let mut engine = Engine::new(endpoint, choice, config)?;
        engine.set_bearer(bearer);
        let inner = Rc::new(Inner {
            engine: RefCell::new(engine),
            listener: Box::new(listener),
            fetches: RefCell::new(SortedMap::new()),
            timer: clock::Timer::default(),
            closed: Cell::new(false),
        });
        inner.engine.borrow_mut().connect(clock::now_ms());
        pump(&inner);
        Ok(Connection { inner })
    }

    /// Runs `f` on the session (to make a request, cancel, answer the server) and sends what it
    /// queued.
    pub fn with_session<R>(&self, f: impl FnOnce(&mut Session, Millis) -> R) -> R {
        let now = clock::now_ms();
        let result = {
            let mut engine = self.inner.engine.borrow_mut();
            let result = f(engine.session_mut(), now);
            engine.flush(now);
            result
        };
        pump(&self.inner);
        result
    }

    /// Whether this connection talks to `server`.
    pub fn serves(&self, server: &ServerUrl) -> bool {
        self.inner.engine.borrow().serves(server)
    }

    /// The token to send from now on (after a sign-in or a refresh), if it is for this server;
    /// requests held for want of one go out with it.
    pub fn resume_with_bearer(&self, bearer: Bearer) {
        self.inner.engine.borrow_mut().resume_with_bearer(bearer, clock::now_ms());
        pump(&self.inner);
    }

    /// No token can be had for `server`: if that is this connection's, waiting requests fail
    /// with `reason` and the connection ends.
    pub fn auth_failed(&self, server: &ServerUrl, reason: &str) {
        self.inner.engine.borrow_mut().auth_failed(server, reason, clock::now_ms());
        pump(&self.inner);
    }

    /// Ends the connection: fetches are aborted and the server's session is deleted.
    pub fn disconnect(&self) {
        self.inner.engine.borrow_mut().disconnect();
        pump(&self.inner);
        self.inner.closed.set(true);
    }
}

/// Performs the engine's outputs, hands its events to the listener and arms its timer.
fn pump(inner: &Rc<Inner>) {
    loop {
        let output = inner.engine.borrow_mut().poll_output();
        match output {
            Some(Output::Start { stream, request }) => start(inner, stream, request),
            Some(Output::Abort { stream }) => {
                if let Some(controller) = inner.fetches.borrow_mut().remove(&stream) {
                    controller.abort();
                }
            }
            None => break,
        }
    }
    if inner.closed.get() {
        return;
    }
    let events: Vec<EngineEvent> =
        std::iter::from_fn(|| inner.engine.borrow_mut().poll_event()).collect();
    for event in events {
        (inner.listener)(event);
    }
    arm_timer(inner);
}

fn arm_timer(inner: &Rc<Inner>) {
    let Some(deadline) = inner.engine.borrow().poll_timeout() else { return };
    let weak = Rc::downgrade(inner);
    inner.timer.arm(deadline, move || {
        let Some(inner) = weak.upgrade().filter(|i| !i.closed.get()) else { return };
        inner.engine.borrow_mut().handle_timeout(clock::now_ms());
        pump(&inner);
    });
}

fn start(inner: &Rc<Inner>, stream: StreamId, request: HttpRequest) {
    let controller = AbortController::new().ok();
    let signal = controller.as_ref().map(AbortController::signal);
    if let Some(c) = controller {
        inner.fetches.borrow_mut().insert(stream, c);
    }
    let inner = inner.clone();
    spawn_local(async move {
        run(&inner, stream, &request, signal).await;
        inner.fetches.borrow_mut().remove(&stream);
        pump(&inner);
    });
}

/// One HTTP exchange, start to finish, reported to the engine step by step.
async fn run(
    inner: &Rc<Inner>,
    stream: StreamId,
    request: &HttpRequest,
    signal: Option<web_sys::AbortSignal>,
) {
    let aborted = || signal.as_ref().is_some_and(web_sys::AbortSignal::aborted);
    let response = match fetch::send(request, signal.as_ref()).await {
        Ok(r) => r,
        Err(FetchFailure::Aborted) => return,
        Err(failure) => {
            // A CORS refusal and a server that is down look the same to a page: a fetch with
            // no response. (A `no-cors` probe cannot tell them apart either: Chromium blocks
            // opaque JSON answers, which is what MCP servers send.) The sentence names both.
            let kind = match failure {
                FetchFailure::Invalid(why) => NetworkFailure::Interrupted(why),
                _ => NetworkFailure::Unreachable,
            };
            if !aborted() {
                inner.engine.borrow_mut().handle_failure(stream, kind, clock::now_ms());
            }
            return;
        }
    };
    let head = ResponseHead {
        status: response.status(),
        content_type: response.header("content-type"),
        session_id: response.header(SESSION_HEADER),
        www_authenticate: response.header("www-authenticate"),
        content_length: response.header("content-length").and_then(|n| n.trim().parse().ok()),
    };
    inner.engine.borrow_mut().handle_head(stream, head, clock::now_ms());
    pump(inner);
    let Some(mut body) = response.body() else {
        inner.engine.borrow_mut().handle_end(stream, clock::now_ms());
        return;
    };
    loop {
        if aborted() || !inner.fetches.borrow().contains_key(&stream) {
            body.cancel();
            return;
        }
        match body.next_chunk().await {
            Ok(Some(chunk)) => {
                inner.engine.borrow_mut().handle_chunk(stream, &chunk, clock::now_ms());
                pump(inner);
            }
            Ok(None) => {
                inner.engine.borrow_mut().handle_end(stream, clock::now_ms());
                return;
            }
            Err(error) => {
                if !aborted() {
                    let why = match error {
                        TransportError::Interrupted(why) => why,
                        other => other.to_string(),
                    };
                    let failure = NetworkFailure::Interrupted(why);
                    inner.engine.borrow_mut().handle_failure(stream, failure, clock::now_ms());
                }
                return;
            }
        }
    }
}
