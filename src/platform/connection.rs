//! The async driver that pumps one `core` session over Streamable HTTP in the browser: every
//! message the session wants sent becomes a fetch, every reply (JSON or an SSE stream) is fed back
//! in, timers wake the session at its deadlines, and events go to the UI's callback. It holds no
//! protocol logic of its own.

use crate::core::jsonrpc::{Message, RequestId};
use crate::core::session::{Session, SessionConfig, SessionError, SessionEvent};
use crate::core::sse::SseDecoder;
use crate::core::streamable::{BodyKind, SESSION_HEADER, StreamableHttp, TransportError};
use crate::platform::{clock, fetch};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use web_sys::AbortController;

/// Bytes of an error body shown beside an HTTP status.
const ERROR_BODY_HINT: usize = 4096;

type Listener = Box<dyn Fn(SessionEvent)>;

struct Inner {
    session: RefCell<Session>,
    transport: RefCell<StreamableHttp>,
    listener: Listener,
    abort: Option<AbortController>,
    closed: Cell<bool>,
    timer_generation: Cell<u64>,
}

/// A live connection. Dropping the handle does not stop it; call [`Connection::close`].
#[derive(Clone)]
pub struct Connection {
    inner: Rc<Inner>,
}

impl Connection {
    /// Starts connecting to `endpoint`; events (including failure) reach `listener`.
    pub fn open(
        endpoint: &str,
        listener: impl Fn(SessionEvent) + 'static,
    ) -> Result<Connection, TransportError> {
        let transport = StreamableHttp::new(endpoint)?;
        let inner = Rc::new(Inner {
            session: RefCell::new(Session::new(SessionConfig::default())),
            transport: RefCell::new(transport),
            listener: Box::new(listener),
            abort: AbortController::new().ok(),
            closed: Cell::new(false),
            timer_generation: Cell::new(0),
        });
        inner.session.borrow_mut().connect(clock::now_ms());
        pump(&inner);
        Ok(Connection { inner })
    }

    /// Lists every tool again.
    pub fn list_tools(&self) {
        let result = self.inner.session.borrow_mut().list_tools(clock::now_ms());
        if let Err(error) = result {
            (self.inner.listener)(SessionEvent::RequestFailed {
                id: None,
                method: "tools/list".into(),
                error,
            });
        }
        pump(&self.inner);
    }

    /// Ends the connection: in-flight fetches are aborted and the server's session is deleted.
    pub fn close(&self) {
        if self.inner.closed.replace(true) {
            return;
        }
        self.inner.session.borrow_mut().close();
        if let Some(abort) = &self.inner.abort {
            abort.abort();
        }
        let transport = self.inner.transport.borrow();
        if let Some(request) = transport.delete() {
            let origin = transport.origin();
            spawn_local(async move {
                // 405 is an allowed answer and a failure changes nothing for the user.
                let _ = fetch::send(&request, None, &origin).await;
            });
        }
    }
}

/// Sends what the session wants sent, hands its events to the listener and arms its timer.
fn pump(inner: &Rc<Inner>) {
    if inner.closed.get() {
        return;
    }
    // Adopt the negotiated revision before anything else goes out.
    let version = inner.session.borrow().protocol_version().map(str::to_owned);
    if let Some(version) = version {
        inner.transport.borrow_mut().set_protocol_version(&version);
    }
    loop {
        let next = inner.session.borrow_mut().poll_transmit();
        let Some(message) = next else { break };
        spawn_local(deliver(inner.clone(), message));
    }
    let events: Vec<SessionEvent> =
        std::iter::from_fn(|| inner.session.borrow_mut().poll_event()).collect();
    for event in events {
        // The console lists tools as soon as a server that has them is ready.
        let list_now = matches!(&event, SessionEvent::Ready(s) if s.has_capability("tools"));
        (inner.listener)(event);
        if list_now {
            let result = inner.session.borrow_mut().list_tools(clock::now_ms());
            if let Err(error) = result {
                (inner.listener)(SessionEvent::RequestFailed {
                    id: None,
                    method: "tools/list".into(),
                    error,
                });
            }
            pump(inner);
        }
    }
    arm_timer(inner);
}

fn arm_timer(inner: &Rc<Inner>) {
    let Some(deadline) = inner.session.borrow().poll_timeout() else { return };
    let generation = inner.timer_generation.get().wrapping_add(1);
    inner.timer_generation.set(generation);
    let wait = deadline.saturating_sub(clock::now_ms());
    let inner = inner.clone();
    spawn_local(async move {
        clock::sleep(u32::try_from(wait).unwrap_or(u32::MAX)).await;
        // A newer timer supersedes this one.
        if inner.timer_generation.get() == generation && !inner.closed.get() {
            inner.session.borrow_mut().handle_timeout(clock::now_ms());
            pump(&inner);
        }
    });
}

/// POSTs one message and feeds whatever comes back into the session.
async fn deliver(inner: Rc<Inner>, message: Message) {
    let id = match &message {
        Message::Request { id, .. } => Some(id.clone()),
        _ => None,
    };
    let method = message.method().unwrap_or("response").to_owned();
    if let Err(error) = exchange(&inner, &message).await {
        if inner.closed.get() {
            return;
        }
        match id {
            Some(id) => inner.session.borrow_mut().handle_transport_failure(&id, error.to_string()),
            None => (inner.listener)(SessionEvent::RequestFailed {
                id: None,
                method,
                error: SessionError::Transport(error.to_string()),
            }),
        }
    }
    pump(&inner);
}

async fn exchange(inner: &Rc<Inner>, message: &Message) -> Result<(), TransportError> {
    let (request, origin) = {
        let transport = inner.transport.borrow();
        (transport.post(message), transport.origin())
    };
    let signal = inner.abort.as_ref().map(AbortController::signal);
    let response = fetch::send(&request, signal.as_ref(), &origin).await?;
    let status = response.status();
    let hint = if (200..300).contains(&status) {
        String::new()
    } else {
        response.text_up_to(ERROR_BODY_HINT).await.unwrap_or_default()
    };
    let kind = inner.transport.borrow_mut().on_response(
        status,
        response.header("content-type").as_deref(),
        response.header(SESSION_HEADER).as_deref(),
        &hint,
    )?;
    match kind {
        BodyKind::Empty => Ok(()),
        BodyKind::Json => {
            let text = response.text_up_to(fetch::MAX_BODY_BYTES).await?;
            if text.trim().is_empty() {
                return Ok(());
            }
            let messages =
                Message::decode_all(&text).map_err(|e| TransportError::Malformed(e.to_string()))?;
            for m in messages {
                inner.session.borrow_mut().handle_message(m, clock::now_ms());
            }
            Ok(())
        }
        BodyKind::EventStream => read_event_stream(inner, &response, message).await,
    }
}

/// Reads an SSE reply until it ends, feeding each message to the session as it arrives.
async fn read_event_stream(
    inner: &Rc<Inner>,
    response: &fetch::FetchResponse,
    sent: &Message,
) -> Result<(), TransportError> {
    let Some(mut body) = response.body() else { return Ok(()) };
    let mut decoder = SseDecoder::new();
    let awaited: Option<RequestId> = match sent {
        Message::Request { id, .. } => Some(id.clone()),
        _ => None,
    };
    while let Some(chunk) = body.next_chunk().await? {
        let events = decoder.feed(&chunk).map_err(|e| TransportError::Malformed(e.to_string()))?;
        for event in events {
            if event.data.trim().is_empty() || event.event != "message" {
                continue;
            }
            match Message::decode_all(&event.data) {
                Ok(messages) => {
                    for m in messages {
                        inner.session.borrow_mut().handle_message(m, clock::now_ms());
                    }
                }
                Err(e) => (inner.listener)(SessionEvent::RequestFailed {
                    id: None,
                    method: sent.method().unwrap_or("message").to_owned(),
                    error: SessionError::Transport(
                        TransportError::Malformed(e.to_string()).to_string(),
                    ),
                }),
            }
            pump(inner);
        }
        if inner.closed.get() {
            body.cancel();
            return Ok(());
        }
    }
    decoder.finish();
    // The stream ended; if our request is still unanswered the server dropped it.
    if let Some(id) = awaited {
        let still_pending = inner.session.borrow().is_pending(&id);
        if still_pending {
            return Err(TransportError::Interrupted(
                "the event stream ended before the answer".into(),
            ));
        }
    }
    Ok(())
}
