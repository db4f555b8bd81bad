//! The whole client connection as one sans-IO machine: a [`Session`] plus the HTTP transports
//! under it. It decides which HTTP requests to make (POSTs, the optional GET stream, resumption
//! GETs with `Last-Event-ID`, legacy SSE, DELETE), reads their bodies (JSON, SSE, error text),
//! falls back from Streamable HTTP to legacy HTTP+SSE, re-initializes when the server forgets the
//! session, and reconnects with backoff when the server vanishes. The platform only performs the
//! [`Output`]s and feeds back heads, body chunks, ends and failures, with the time.

use crate::core::address::{ServerUrl, same_origin_text};
use crate::core::auth::tokens::Bearer;
use crate::core::history::{SentOver, Traffic};
use crate::core::http::{AUTHORIZATION_HEADER, HttpRequest};
use crate::core::jsonrpc::{Message, RequestId};
use crate::core::map::SortedMap;
use crate::core::negotiation::Probe;
use crate::core::protocol::request_version;
use crate::core::reconnect::Backoff;
use crate::core::session::{Millis, Phase, Session, SessionConfig, SessionEvent};
use crate::core::sse::SseDecoder;
use crate::core::streamable::{
    BodyKind, PROTOCOL_HEADER, SESSION_HEADER, StreamableHttp, TransportError,
};
use oauth2::AccessToken;
use std::collections::VecDeque;
use url::Url;

/// Identifies one HTTP exchange between the engine and the platform.
pub type StreamId = u64;

/// Bytes of an error body kept to explain a status.
const ERROR_BODY_LIMIT: usize = 4 * 1024;
/// Largest JSON body accepted whole.
const JSON_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Which transport to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransportChoice {
    /// Streamable HTTP, falling back to legacy HTTP+SSE on 400/404/405 (the spec's rule).
    #[default]
    Auto,
    StreamableHttp,
    LegacySse,
}

/// The transport in use once connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    StreamableHttp,
    LegacySse,
}

/// What the status line shows.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionState {
    Disconnected {
        reason: Option<String>,
    },
    Connecting,
    Connected {
        transport: TransportKind,
    },
    /// The server went away; the next attempt is at `at` on the caller's clock.
    Reconnecting {
        at: Millis,
        attempt: u32,
        reason: String,
    },
    /// The server asked for a (better) token: requests wait until the caller supplies one with
    /// [`Engine::resume_with_bearer`] or gives up with [`Engine::auth_failed`].
    SigningIn,
}

/// The server refused the request for want of a (good enough) token: 401, or 403 with
/// `error="insufficient_scope"`. One is raised per wait, however many requests were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequired {
    pub status: u16,
    /// The response's `WWW-Authenticate` header, unparsed.
    pub www_authenticate: Option<String>,
    /// Whether the refused request carried a token.
    pub had_token: bool,
}

/// Everything the UI hears from the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    State(ConnectionState),
    Session(Box<SessionEvent>),
    AuthRequired(AuthRequired),
    /// A step of finding out how to talk to the server (revision, transport), for the
    /// connection trace.
    Step(String),
    /// A JSON-RPC message sent or received, for the history.
    Traffic(Box<Traffic>),
}

/// The status line and headers of a response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResponseHead {
    pub status: u16,
    pub content_type: Option<String>,
    pub session_id: Option<String>,
    /// `WWW-Authenticate`, read on 401 and 403.
    pub www_authenticate: Option<String>,
    /// `Content-Length`, when the server sent one: a JSON reply announced as larger than the
    /// console reads is refused before any of it is read.
    pub content_length: Option<u64>,
}

/// A fetch that produced no (readable) response, or a body that broke off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkFailure {
    /// Nothing answered: the server is down, the address is wrong, or the browser withheld the
    /// answer because the server does not allow this origin (CORS) — a page cannot tell which.
    Unreachable,
    /// The body stopped in the middle.
    Interrupted(String),
}

/// What the platform must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Perform `request` and report on it as `stream`.
    Start { stream: StreamId, request: HttpRequest },
    /// Stop reading `stream` (its request is no longer wanted).
    Abort { stream: StreamId },
}

#[derive(Debug, Clone, PartialEq)]
enum Mode {
    /// Auto mode before the first answer: is this Streamable HTTP?
    Probing,
    Streamable,
    /// Legacy HTTP+SSE; `endpoint` arrives in the stream's first event.
    Legacy {
        endpoint: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum StreamKind {
    Post {
        message: Message,
    },
    /// A GET event stream: the standalone one (`awaiting` empty) or one resuming a POST stream.
    Get,
    LegacyGet,
    LegacyPost {
        message: Message,
    },
    Delete,
    /// `server/discover` asked of a stateless server that went away; only its status matters.
    Probe,
}

#[derive(Debug)]
enum Body {
    Pending,
    Json(Vec<u8>),
    Sse(SseDecoder),
    Error(Vec<u8>),
    Ignore,
}

#[derive(Debug)]
struct Stream {
    kind: StreamKind,
    status: u16,
    body: Body,
    /// Requests whose answers are expected on this stream.
    awaiting: Vec<RequestId>,
    /// For a resumption GET: the event id it resumed after, kept in case it fails before
    /// bringing a newer one.
    resumed_from: String,
    /// Whether it went with a token: a request sent before the token came is refused for want
    /// of one, whatever the console holds by the time the refusal arrives.
    carried_token: bool,
}

impl Stream {
    /// The id to resume this stream from: the newest event id it carried, or the one it
    /// itself resumed from.
    fn resume_point(&self) -> String {
        match &self.body {
            Body::Sse(d) if !d.last_event_id().is_empty() => d.last_event_id().to_owned(),
            _ => self.resumed_from.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Timer {
    /// Open a GET stream, resuming after `last_event_id` when given, expecting `awaiting`.
    Get { last_event_id: Option<String>, awaiting: Vec<RequestId> },
    /// Reopen the legacy SSE stream.
    LegacyGet,
    /// Ask a stateless server `server/discover` again, to learn whether it is back.
    Rediscover,
}

/// One connection to one MCP server.
#[derive(Debug)]
pub struct Engine {
    session: Session,
    http: StreamableHttp,
    mode: Mode,
    choice: TransportChoice,
    backoff: Backoff,
    state: ConnectionState,
    streams: SortedMap<StreamId, Stream>,
    next_stream: StreamId,
    /// Messages held back while the server is unreachable.
    held: Vec<Message>,
    timers: Vec<(Millis, Timer)>,
    failures: u32,
    retry_hint: Option<u32>,
    get_supported: bool,
    /// True once any session was ready: failures after that are recovered, not fatal.
    ever_ready: bool,
    standalone_open: bool,
    /// `notifications/initialized` on its way: requests wait until the server took it, as the
    /// SDKs' clients do (a server may only then set up some of its tools, and announce them on a
    /// stream not yet open).
    initialized_pending: Option<StreamId>,
    /// The last event id seen on the standalone GET stream.
    standalone_last_id: Option<String>,
    outputs: VecDeque<Output>,
    events: VecDeque<EngineEvent>,
    /// Sent as `Authorization: Bearer` on every request to the endpoint's origin.
    bearer: Option<AccessToken>,
    /// Waiting for a token: everything to send is held.
    auth_wait: bool,
    /// Refusals since the last successful response: a second one means a fresh token was refused
    /// too, and the engine stops asking instead of looping.
    refusals: u32,
    /// Streams refused for want of a token, to open again once one comes.
    after_auth: Vec<Timer>,
}

/// Token refusals in a row before the engine gives up: one fresh token is tried, then a clear
/// error.
const MAX_REFUSALS: u32 = 2;

impl Engine {
    /// A connection to `endpoint`, not yet started.
    pub fn new(
        endpoint: &str,
        choice: TransportChoice,
        config: SessionConfig,
    ) -> Result<Engine, TransportError> {
        let http = StreamableHttp::new(endpoint)?;
        let mode = match choice {
            TransportChoice::Auto => Mode::Probing,
            TransportChoice::StreamableHttp => Mode::Streamable,
            TransportChoice::LegacySse => Mode::Legacy { endpoint: None },
        };
        Ok(Engine {
            session: Session::new(config),
            http,
            mode,
            choice,
            backoff: Backoff::default(),
            state: ConnectionState::Disconnected { reason: None },
            streams: SortedMap::new(),
            next_stream: 0,
            held: Vec::new(),
            timers: Vec::new(),
            failures: 0,
            retry_hint: None,
            get_supported: true,
            ever_ready: false,
            standalone_open: false,
            initialized_pending: None,
            standalone_last_id: None,
            outputs: VecDeque::new(),
            events: VecDeque::new(),
            bearer: None,
            auth_wait: false,
            refusals: 0,
            after_auth: Vec::new(),
        })
    }

    /// Whether `server` is the one this connection talks to: a token, or news about one, for any
    /// other server is not for it.
    pub fn serves(&self, server: &ServerUrl) -> bool {
        ServerUrl::parse(self.http.endpoint()).is_ok_and(|mine| mine == *server)
    }

    /// Sets the token sent from now on (one obtained before connecting), if it is for this
    /// server; `None` sends none. Requests already under way keep the one they went out with.
    pub fn set_bearer(&mut self, bearer: Option<Bearer>) {
        match bearer {
            None => self.bearer = None,
            Some(bearer) if self.serves(&bearer.server) => self.bearer = Some(bearer.token),
            Some(_) => {}
        }
    }

    /// The token for this server has come (a sign-in or a refresh): everything held goes out with
    /// it, and refused streams open again. Request timeouts start afresh: waiting for a sign-in
    /// does not count. A bearer for another server is dropped: it changes nothing here.
    pub fn resume_with_bearer(&mut self, bearer: Bearer, now: Millis) {
        if !self.serves(&bearer.server) {
            return;
        }
        self.bearer = Some(bearer.token);
        if !self.auth_wait {
            return;
        }
        self.auth_wait = false;
        self.session.restart_deadlines(now);
        let state = match (self.session.phase(), &self.mode) {
            (Phase::Ready, Mode::Legacy { .. }) => {
                ConnectionState::Connected { transport: TransportKind::LegacySse }
            }
            (Phase::Ready, _) => {
                ConnectionState::Connected { transport: TransportKind::StreamableHttp }
            }
            _ => ConnectionState::Connecting,
        };
        self.set_state(state);
        for timer in std::mem::take(&mut self.after_auth) {
            match timer {
                Timer::Get { last_event_id, awaiting } => self.open_get(last_event_id, awaiting),
                Timer::LegacyGet => self.open_legacy_stream(),
                Timer::Rediscover => {}
            }
        }
        self.release_held(now);
        self.flush(now);
    }

    /// No token can be had for `server` (the sign-in failed or was declined): if that is this
    /// connection's, requests waiting for one fail with `reason`, and the connection ends with it.
    pub fn auth_failed(&mut self, server: &ServerUrl, reason: &str, now: Millis) {
        if !self.serves(server) {
            return;
        }
        self.give_up_auth(reason, now);
    }

    fn give_up_auth(&mut self, reason: &str, now: Millis) {
        if !self.auth_wait {
            return;
        }
        self.auth_wait = false;
        self.fail_held(reason);
        self.flush(now);
        self.session.close();
        self.abort_all();
        self.timers.clear();
        self.after_auth.clear();
        self.set_state(ConnectionState::Disconnected { reason: Some(reason.to_owned()) });
    }

    pub fn state(&self) -> &ConnectionState {
        &self.state
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The session, for making requests; call [`Engine::flush`] afterwards.
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// Starts connecting.
    pub fn connect(&mut self, now: Millis) {
        if self.session.phase() != Phase::Idle {
            return;
        }
        self.set_state(ConnectionState::Connecting);
        if matches!(self.mode, Mode::Legacy { .. }) {
            self.open_legacy_stream();
            self.session.connect(now);
        } else {
            // Newest first: a stateless revision if the server speaks one, else the handshake.
            self.session.discover(now);
        }
        self.flush(now);
    }

    /// Ends the connection: streams are aborted and the server's session is deleted.
    pub fn disconnect(&mut self) {
        if matches!(self.state, ConnectionState::Disconnected { .. })
            && self.session.phase() == Phase::Closed
        {
            return;
        }
        self.session.close();
        self.abort_all();
        self.timers.clear();
        self.held.clear();
        self.auth_wait = false;
        self.after_auth.clear();
        if let (Mode::Streamable, Some(request)) = (&self.mode, self.http.delete()) {
            self.start(StreamKind::Delete, request, Vec::new());
        }
        self.set_state(ConnectionState::Disconnected { reason: None });
    }

    /// Sends what the session queued and passes its events on. Call after every session call.
    pub fn flush(&mut self, now: Millis) {
        // The negotiated revision goes on every request after initialization, starting with
        // `notifications/initialized`.
        if let Some(version) = self.session.protocol_version() {
            let version = version.to_owned();
            self.http.set_protocol_version(&version);
        }
        while let Some(message) = self.session.poll_transmit() {
            self.send(message, now);
        }
        if self.session.is_stateless() {
            self.abort_unwanted();
        }
        while let Some(event) = self.session.poll_event() {
            match &event {
                SessionEvent::Ready(summary) => {
                    self.ever_ready = true;
                    if self.mode == Mode::Probing {
                        self.mode = Mode::Streamable;
                    }
                    self.http.set_protocol_version(&summary.protocol_version);
                    let transport = match self.mode {
                        Mode::Legacy { .. } => TransportKind::LegacySse,
                        _ => TransportKind::StreamableHttp,
                    };
                    self.set_state(ConnectionState::Connected { transport });
                    self.events.push_back(EngineEvent::Session(Box::new(event)));
                    self.open_standalone_stream(now);
                    continue;
                }
                SessionEvent::Step(line) => {
                    self.events.push_back(EngineEvent::Step(line.clone()));
                    continue;
                }
                SessionEvent::Failed(error) => {
                    let reason = error.to_string();
                    self.abort_all();
                    self.timers.clear();
                    self.events.push_back(EngineEvent::Session(Box::new(event)));
                    self.set_state(ConnectionState::Disconnected { reason: Some(reason) });
                    continue;
                }
                _ => {}
            }
            self.events.push_back(EngineEvent::Session(Box::new(event)));
        }
    }

    /// The response head of `stream` arrived.
    pub fn handle_head(&mut self, stream: StreamId, head: ResponseHead, now: Millis) {
        self.initialized_taken(stream, now);
        let Some(s) = self.streams.get_mut(&stream) else { return };
        s.status = head.status;
        let ok = (200..300).contains(&head.status);
        let kind = s.kind.clone();
        if wants_token(&head) && !matches!(kind, StreamKind::Delete) {
            self.on_refused(stream, head, now);
            return;
        }
        if ok {
            self.refusals = 0;
        }

        // Auto mode: a Streamable HTTP server answers initialize with 2xx; 400/404/405 means
        // try the legacy transport at the same URL.
        if self.mode == Mode::Probing {
            // A 2xx to server/discover proves nothing yet: the session's verdict on its body may
            // still be the handshake, whose refusal leads to legacy SSE.
            let discovering =
                matches!(&kind, StreamKind::Post { message } if is_stateless(message));
            if ok && !discovering {
                self.mode = Mode::Streamable;
            } else if let (400 | 404 | 405, StreamKind::Post { message }) = (head.status, &kind)
                && !is_stateless(message)
            {
                self.held.push(message.clone());
                self.streams.remove(&stream);
                self.outputs.push_back(Output::Abort { stream });
                self.events.push_back(EngineEvent::Step(format!(
                    "initialize was refused (HTTP {}): trying legacy HTTP+SSE at the same URL.",
                    head.status
                )));
                self.open_legacy_stream();
                return;
            }
        }

        if ok {
            self.link_is_up(now);
        }
        let Some(s) = self.streams.get_mut(&stream) else { return };
        s.body = if !ok {
            Body::Error(Vec::new())
        } else {
            match &kind {
                StreamKind::Post { message } => {
                    // A stateless revision has no session: a session id sent anyway is ignored.
                    let session_id =
                        if is_stateless(message) { None } else { head.session_id.as_deref() };
                    let declared_too_large =
                        head.content_length.is_some_and(|n| n > JSON_BODY_LIMIT as u64);
                    match self
                        .http
                        .on_response(head.status, head.content_type.as_deref(), session_id, "")
                        .and_then(|kind| match kind {
                            BodyKind::Json if declared_too_large => Err(too_large()),
                            kind => Ok(kind),
                        }) {
                        Ok(BodyKind::Json) => Body::Json(Vec::new()),
                        Ok(BodyKind::EventStream) => Body::Sse(SseDecoder::new()),
                        Ok(BodyKind::Empty) => Body::Ignore,
                        Err(error) => {
                            let awaiting = std::mem::take(&mut s.awaiting);
                            self.streams.remove(&stream);
                            self.outputs.push_back(Output::Abort { stream });
                            self.fail_requests(&awaiting, &error);
                            self.flush(now);
                            return;
                        }
                    }
                }
                StreamKind::Get | StreamKind::LegacyGet => {
                    if is_event_stream(head.content_type.as_deref()) {
                        if matches!(kind, StreamKind::Get) && s.awaiting.is_empty() {
                            self.standalone_open = true;
                        }
                        Body::Sse(SseDecoder::new())
                    } else {
                        Body::Ignore
                    }
                }
                StreamKind::LegacyPost { .. } | StreamKind::Delete | StreamKind::Probe => {
                    Body::Ignore
                }
            }
        };
    }

    /// A chunk of `stream`'s body arrived.
    pub fn handle_chunk(&mut self, stream: StreamId, chunk: &[u8], now: Millis) {
        let Some(s) = self.streams.get_mut(&stream) else { return };
        let mut messages = Vec::new();
        let mut endpoint = None;
        let mut problem = None;
        match &mut s.body {
            Body::Json(buf) => {
                if buf.len() + chunk.len() > JSON_BODY_LIMIT {
                    problem = Some(too_large());
                } else {
                    buf.extend_from_slice(chunk);
                }
            }
            Body::Error(buf) => {
                let room = ERROR_BODY_LIMIT.saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Body::Sse(decoder) => match decoder.feed(chunk) {
                Ok(events) => {
                    if let Some(r) = decoder.retry() {
                        self.retry_hint = Some(r);
                    }
                    let last_id = decoder.last_event_id().to_owned();
                    if matches!(s.kind, StreamKind::Get)
                        && s.awaiting.is_empty()
                        && !last_id.is_empty()
                    {
                        self.standalone_last_id = Some(last_id);
                    }
                    for event in events {
                        if matches!(s.kind, StreamKind::LegacyGet) && event.event == "endpoint" {
                            endpoint = Some(event.data);
                        } else if event.event == "message" && !event.data.trim().is_empty() {
                            match Message::decode_all(&event.data) {
                                Ok(m) => messages.extend(m),
                                Err(e) => problem = Some(TransportError::Malformed(e.to_string())),
                            }
                        }
                    }
                }
                Err(e) => problem = Some(TransportError::Malformed(e.to_string())),
            },
            Body::Pending | Body::Ignore => {}
        }
        if let Some(endpoint) = endpoint {
            self.on_endpoint(&endpoint, now);
        }
        for m in messages {
            self.receive(m, now);
        }
        // (Removing the stream only when there is a problem: an `if let` over a tuple would
        // remove it every time.)
        if let Some(error) = problem {
            let awaiting = self.streams.remove(&stream).map(|s| s.awaiting).unwrap_or_default();
            self.outputs.push_back(Output::Abort { stream });
            self.fail_requests(&awaiting, &error);
        }
        self.flush(now);
    }

    /// `stream`'s body ended normally.
    pub fn handle_end(&mut self, stream: StreamId, now: Millis) {
        let Some(s) = self.streams.remove(&stream) else { return };
        match &s.body {
            Body::Json(bytes) => {
                let text = String::from_utf8_lossy(bytes);
                if !text.trim().is_empty() {
                    match Message::decode_all(&text) {
                        Ok(messages) => {
                            for m in messages {
                                self.receive(m, now);
                            }
                        }
                        Err(e) => self
                            .fail_requests(&s.awaiting, &TransportError::Malformed(e.to_string())),
                    }
                }
                // A JSON reply is complete: an answer it did not carry is not coming.
                self.settle_unanswered(&s.awaiting, now);
            }
            Body::Error(bytes) => {
                let hint = String::from_utf8_lossy(bytes).into_owned();
                self.on_error_status(stream, s.kind, s.status, &hint, s.awaiting, now);
                self.flush(now);
                return;
            }
            Body::Sse(_) => {
                let last_id = s.resume_point();
                self.stream_ended(s.kind, s.awaiting, last_id, false, now);
                self.flush(now);
                return;
            }
            // 202 to a POST, or a legacy POST whose answers come on the SSE stream: any answer
            // still owed arrives elsewhere or times out.
            Body::Pending | Body::Ignore => {}
        }
        self.flush(now);
    }

    /// `stream` failed: no response at all, or its body broke off.
    pub fn handle_failure(&mut self, stream: StreamId, failure: NetworkFailure, now: Millis) {
        self.initialized_taken(stream, now);
        let Some(s) = self.streams.remove(&stream) else { return };
        // A failed probe: the next one is already planned.
        if matches!(s.kind, StreamKind::Delete | StreamKind::Probe) {
            return;
        }
        let last_id = s.resume_point();
        if s.awaiting.iter().any(|id| self.session.discovery_failed(id, Probe::Unreachable, now)) {
            self.flush(now);
            return;
        }
        // Before the first session exists there is nothing to recover: say what happened.
        if !self.ever_ready {
            let error = self.failure_error(&failure, &s.kind);
            self.session.close();
            self.abort_all();
            self.timers.clear();
            self.set_state(ConnectionState::Disconnected { reason: Some(error.to_string()) });
            return;
        }
        let reason = self.failure_error(&failure, &s.kind).to_string();
        self.note_failure(reason, now);
        if self.session.is_stateless()
            && let ConnectionState::Reconnecting { at, .. } = self.state
            && !self.timers.iter().any(|(_, t)| *t == Timer::Rediscover)
        {
            // No stream notices when a stateless server is back: ask it.
            self.timers.push((at, Timer::Rediscover));
        }
        match s.kind {
            StreamKind::Post { message }
                if !s.awaiting.is_empty() || matches!(s.body, Body::Pending) =>
            {
                if matches!(s.body, Body::Sse(_)) {
                    self.stream_ended(StreamKind::Post { message }, s.awaiting, last_id, true, now);
                } else {
                    for id in &s.awaiting {
                        self.session.handle_lost(id, now);
                    }
                }
            }
            StreamKind::Get => self.stream_ended(StreamKind::Get, s.awaiting, last_id, true, now),
            StreamKind::LegacyGet => self.legacy_stream_lost(now),
            StreamKind::LegacyPost { .. } => {
                for id in &s.awaiting {
                    self.session.handle_lost(id, now);
                }
            }
            _ => {}
        }
        self.flush(now);
    }

    /// Runs what is due at `now`: request timeouts and reconnection attempts.
    pub fn handle_timeout(&mut self, now: Millis) {
        if !self.auth_wait {
            self.session.handle_timeout(now);
        }
        let (due, later): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.timers).into_iter().partition(|(at, _)| *at <= now);
        self.timers = later;
        for (_, timer) in due {
            match timer {
                Timer::Get { last_event_id, awaiting } => self.open_get(last_event_id, awaiting),
                Timer::LegacyGet => self.open_legacy_stream(),
                Timer::Rediscover => self.rediscover(now),
            }
        }
        self.flush(now);
    }

    /// When `handle_timeout` should next run.
    pub fn poll_timeout(&self) -> Option<Millis> {
        let timers = self.timers.iter().map(|(at, _)| *at).min();
        let session = if self.auth_wait { None } else { self.session.poll_timeout() };
        match (timers, session) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<EngineEvent> {
        self.events.pop_front()
    }

    // ---- internals ----

    fn set_state(&mut self, state: ConnectionState) {
        if self.state != state {
            self.state = state.clone();
            self.events.push_back(EngineEvent::State(state));
        }
    }

    fn failure_error(&self, failure: &NetworkFailure, kind: &StreamKind) -> TransportError {
        match (failure, kind) {
            // A stateless request's own headers are what a server's CORS policy may refuse:
            // name each.
            (NetworkFailure::Unreachable, StreamKind::Post { message })
                if is_stateless(message) =>
            {
                let request = self.http.post(message, self.session.param_headers(message));
                let headers: Vec<String> = request
                    .headers
                    .iter()
                    .map(|(name, _)| header_display_name(name))
                    .filter(|name| !matches!(name.as_str(), "Content-Type" | "Accept"))
                    .collect();
                TransportError::UnreachableStateless {
                    origin: self.http.origin(),
                    headers: headers.join(", "),
                }
            }
            (NetworkFailure::Unreachable, _) => {
                TransportError::Unreachable { origin: self.http.origin() }
            }
            (NetworkFailure::Interrupted(why), _) => TransportError::Interrupted(why.clone()),
        }
    }

    fn start(
        &mut self,
        kind: StreamKind,
        mut request: HttpRequest,
        awaiting: Vec<RequestId>,
    ) -> StreamId {
        // The token goes to the endpoint's origin only (a legacy message endpoint elsewhere is
        // refused before anything is sent to it, and this holds even so).
        let mut carried_token = false;
        if let Some(token) = &self.bearer
            && same_origin_text(&request.url, self.http.endpoint())
        {
            request
                .headers
                .push((AUTHORIZATION_HEADER.into(), format!("Bearer {}", token.secret())));
            carried_token = true;
        }
        self.next_stream += 1;
        let id = self.next_stream;
        let resumed_from = request
            .headers
            .iter()
            .find(|(name, _)| *name == "last-event-id")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let stream =
            Stream { kind, status: 0, body: Body::Pending, awaiting, resumed_from, carried_token };
        self.streams.insert(id, stream);
        self.outputs.push_back(Output::Start { stream: id, request });
        id
    }

    fn abort_all(&mut self) {
        for (id, _) in std::mem::take(&mut self.streams) {
            self.outputs.push_back(Output::Abort { stream: id });
        }
        self.standalone_open = false;
        self.initialized_pending = None;
    }

    /// The server answered (or failed) `stream`: if it carried `notifications/initialized`, the
    /// requests that waited for it go out.
    fn initialized_taken(&mut self, stream: StreamId, now: Millis) {
        if self.initialized_pending == Some(stream) {
            self.initialized_pending = None;
            self.release_held(now);
        }
    }

    /// Sends one message by the transport in use, or holds it while the server is away.
    fn send(&mut self, message: Message, now: Millis) {
        let waits_for_initialized =
            self.initialized_pending.is_some() && matches!(message, Message::Request { .. });
        if self.auth_wait
            || waits_for_initialized
            || matches!(self.state, ConnectionState::Reconnecting { .. })
        {
            self.held.push(message);
            return;
        }
        let initialized = matches!(&message, Message::Notification { method, .. } if method == "notifications/initialized");
        let awaiting = match &message {
            Message::Request { id, .. } => vec![id.clone()],
            _ => Vec::new(),
        };
        match &self.mode {
            Mode::Probing | Mode::Streamable => {
                let request = self.http.post(&message, self.session.param_headers(&message));
                self.sent(&message, &request, now);
                let stream = self.start(StreamKind::Post { message }, request, awaiting);
                if initialized {
                    self.initialized_pending = Some(stream);
                }
            }
            Mode::Legacy { endpoint: Some(url) } => {
                let request = HttpRequest {
                    method: "POST",
                    url: url.clone(),
                    headers: vec![("content-type".into(), "application/json".to_owned())],
                    body: Some(message.encode()),
                };
                self.sent(&message, &request, now);
                let stream = self.start(StreamKind::LegacyPost { message }, request, awaiting);
                if initialized {
                    self.initialized_pending = Some(stream);
                }
            }
            Mode::Legacy { endpoint: None } => self.held.push(message),
        }
    }

    /// `message` goes out by `request`: the history gets it, with the request's address and
    /// headers (the bearer, which `start` adds, only as whether one goes).
    fn sent(&mut self, message: &Message, request: &HttpRequest, now: Millis) {
        let over = SentOver {
            url: request.url.clone(),
            headers: request.headers.iter().map(|(n, v)| (n.to_string(), v.clone())).collect(),
            bearer: self.bearer.is_some() && same_origin_text(&request.url, self.http.endpoint()),
        };
        let traffic = Traffic { sent: true, at: now, message: message.clone(), over: Some(over) };
        self.events.push_back(EngineEvent::Traffic(Box::new(traffic)));
    }

    /// A message from the server: to the history, then to the session.
    fn receive(&mut self, message: Message, now: Millis) {
        let traffic = Traffic { sent: false, at: now, message: message.clone(), over: None };
        self.events.push_back(EngineEvent::Traffic(Box::new(traffic)));
        self.session.handle_message(message, now);
    }

    fn release_held(&mut self, now: Millis) {
        for message in std::mem::take(&mut self.held) {
            self.send(message, now);
        }
    }

    fn open_standalone_stream(&mut self, _now: Millis) {
        // A stateless revision has no GET stream: notifications come by subscriptions/listen.
        if self.mode == Mode::Streamable
            && self.get_supported
            && !self.standalone_open
            && !self.session.is_stateless()
        {
            self.standalone_open = true;
            self.open_get(self.standalone_last_id.clone(), Vec::new());
        }
    }

    fn open_get(&mut self, last_event_id: Option<String>, awaiting: Vec<RequestId>) {
        let mut request = HttpRequest {
            method: "GET",
            url: self.http.endpoint().to_owned(),
            headers: vec![("accept".into(), "text/event-stream".to_owned())],
            body: None,
        };
        if let Some(id) = self.http.session_id() {
            request.headers.push((SESSION_HEADER.into(), id.to_owned()));
        }
        if let Some(v) = self.session.protocol_version() {
            request.headers.push((PROTOCOL_HEADER.into(), v.to_owned()));
        }
        if let Some(last) = last_event_id.filter(|l| !l.is_empty()) {
            request.headers.push(("last-event-id".into(), last));
        }
        self.start(StreamKind::Get, request, awaiting);
    }

    fn open_legacy_stream(&mut self) {
        self.mode = Mode::Legacy { endpoint: None };
        let request = HttpRequest {
            method: "GET",
            url: self.http.endpoint().to_owned(),
            headers: vec![("accept".into(), "text/event-stream".to_owned())],
            body: None,
        };
        self.start(StreamKind::LegacyGet, request, Vec::new());
    }

    /// The legacy stream named its POST endpoint: resolve it, insist on the same origin, and
    /// start (or restart) the session over it.
    fn on_endpoint(&mut self, data: &str, now: Millis) {
        let base = match Url::parse(self.http.endpoint()) {
            Ok(u) => u,
            Err(_) => return,
        };
        let resolved = match base.join(data.trim()) {
            Ok(u) if crate::core::address::same_origin(&u, &base) => u,
            _ => {
                let reason =
                    TransportError::ForeignEndpoint(data.chars().take(200).collect()).to_string();
                self.session.close();
                self.abort_all();
                self.set_state(ConnectionState::Disconnected { reason: Some(reason) });
                return;
            }
        };
        let reopened = self.ever_ready;
        if !reopened {
            self.events.push_back(EngineEvent::Step(format!(
                "The SSE stream named its message endpoint, {resolved}."
            )));
        }
        self.mode = Mode::Legacy { endpoint: Some(resolved.to_string()) };
        self.link_is_up(now);
        if reopened {
            // A new legacy stream is a new server session: start over. Held requests were
            // never delivered, so they are safe to send again.
            let not_run: Vec<RequestId> = self.held.iter().filter_map(request_id).collect();
            self.held.clear();
            self.session.restart(now, &not_run);
            self.set_state(ConnectionState::Connecting);
        }
        self.release_held(now);
    }

    fn link_is_up(&mut self, now: Millis) {
        self.failures = 0;
        self.timers.retain(|(_, t)| *t != Timer::Rediscover);
        if matches!(self.state, ConnectionState::Reconnecting { .. }) {
            let transport = match self.mode {
                Mode::Legacy { .. } => TransportKind::LegacySse,
                _ => TransportKind::StreamableHttp,
            };
            if self.session.phase() == Phase::Ready {
                self.set_state(ConnectionState::Connected { transport });
            } else {
                self.set_state(ConnectionState::Connecting);
            }
            self.release_held(now);
        }
    }

    /// The server refused `stream` for want of a token. The refused request did not run, so it is
    /// held and sent again once a token comes; a refused stream is opened again then. The first
    /// refusal asks the caller for a token; a refusal right after a fresh one ends the wait with a
    /// clear error instead of asking again.
    fn on_refused(&mut self, stream: StreamId, head: ResponseHead, now: Millis) {
        let Some(s) = self.streams.remove(&stream) else { return };
        self.outputs.push_back(Output::Abort { stream });
        match s.kind {
            StreamKind::Post { message } | StreamKind::LegacyPost { message } => {
                self.held.push(message);
            }
            StreamKind::Get => {
                let standalone = s.awaiting.is_empty();
                if standalone {
                    self.standalone_open = false;
                }
                let last_event_id = if standalone {
                    self.standalone_last_id.clone()
                } else {
                    Some(s.resume_point())
                };
                self.after_auth.push(Timer::Get { last_event_id, awaiting: s.awaiting });
            }
            StreamKind::LegacyGet => {
                self.mode = Mode::Legacy { endpoint: None };
                self.after_auth.push(Timer::LegacyGet);
            }
            StreamKind::Delete => return,
            // The server is back and wants a token: what was held goes out and asks for it.
            StreamKind::Probe => return self.link_is_up(now),
        }
        if self.auth_wait {
            return;
        }
        // A request without a token is refused as a matter of course; only refused tokens count.
        if s.carried_token {
            self.refusals = self.refusals.saturating_add(1);
        }
        self.auth_wait = true;
        if self.refusals >= MAX_REFUSALS {
            let reason = refused_again(head.status);
            self.give_up_auth(&reason, now);
            return;
        }
        self.set_state(ConnectionState::SigningIn);
        self.events.push_back(EngineEvent::AuthRequired(AuthRequired {
            status: head.status,
            www_authenticate: head.www_authenticate,
            had_token: s.carried_token,
        }));
    }

    /// Fails every held request with `reason` and drops the rest of what was held.
    fn fail_held(&mut self, reason: &str) {
        for message in std::mem::take(&mut self.held) {
            if let Some(id) = request_id(&message) {
                self.session.handle_transport_failure(&id, reason.to_owned());
            }
        }
    }

    /// A request failed in a way that retrying will not fix.
    fn fail_requests(&mut self, ids: &[RequestId], error: &TransportError) {
        for id in ids {
            self.session.handle_transport_failure(id, error.to_string());
        }
    }

    /// Answers still missing when a body ended: the server dropped them.
    fn settle_unanswered(&mut self, ids: &[RequestId], now: Millis) {
        for id in ids {
            if self.session.is_pending(id) {
                self.session.handle_lost(id, now);
            }
        }
    }

    fn note_failure(&mut self, reason: String, now: Millis) {
        let attempt = self.failures;
        self.failures = self.failures.saturating_add(1);
        match self.backoff.delay(attempt, self.retry_hint, 0) {
            Some(delay) => self.set_state(ConnectionState::Reconnecting {
                at: now + delay,
                attempt: attempt + 1,
                reason,
            }),
            None => {
                let reason = format!(
                    "{reason} The console gave up reconnecting; press Connect to try again."
                );
                self.session.close();
                self.abort_all();
                self.timers.clear();
                self.set_state(ConnectionState::Disconnected { reason: Some(reason) });
            }
        }
    }

    fn reconnect_at(&self, now: Millis) -> Millis {
        match self.state {
            ConnectionState::Reconnecting { at, .. } => at,
            _ => now.saturating_add(Millis::from(self.retry_hint.unwrap_or(0))),
        }
    }

    /// An SSE stream (POST reply, resumption or standalone GET) ended or broke off. Answers it
    /// still owed are fetched by resuming with `Last-Event-ID`; the standalone stream reopens.
    fn stream_ended(
        &mut self,
        kind: StreamKind,
        awaiting: Vec<RequestId>,
        last_id: String,
        broke: bool,
        now: Millis,
    ) {
        if self.session.phase() == Phase::Closed {
            return;
        }
        let owed: Vec<RequestId> =
            awaiting.into_iter().filter(|id| self.session.is_pending(id)).collect();
        if self.session.is_stateless() {
            // No resumption in a stateless revision: what a stream owed is lost, and the
            // session re-issues what it safely can.
            return self.settle_unanswered(&owed, now);
        }
        let standalone = matches!(kind, StreamKind::Get) && owed.is_empty();
        if standalone {
            self.standalone_open = false;
            if !self.get_supported {
                return;
            }
            // Servers may close the standalone stream at any time; open it again.
            let at = if broke {
                self.reconnect_at(now)
            } else {
                now.saturating_add(Millis::from(self.retry_hint.unwrap_or(1_000)))
            };
            self.standalone_open = true;
            self.timers.push((
                at,
                Timer::Get { last_event_id: self.standalone_last_id.clone(), awaiting: Vec::new() },
            ));
            return;
        }
        if owed.is_empty() {
            return;
        }
        if last_id.is_empty() {
            // Nothing to resume from: the answers are lost.
            self.settle_unanswered(&owed, now);
            if broke && !self.timers.iter().any(|(_, t)| matches!(t, Timer::Get { .. })) {
                // Something must notice when the server is back.
                let at = self.reconnect_at(now);
                self.timers.push((at, Timer::Get { last_event_id: None, awaiting: Vec::new() }));
                self.standalone_open = true;
            }
            return;
        }
        let at = if broke {
            self.reconnect_at(now)
        } else {
            now.saturating_add(Millis::from(self.retry_hint.unwrap_or(0)))
        };
        self.timers.push((at, Timer::Get { last_event_id: Some(last_id), awaiting: owed }));
    }

    fn legacy_stream_lost(&mut self, now: Millis) {
        // The legacy session lived in that stream; a new stream brings a new endpoint and a new
        // session, and the restart then settles whatever was still unanswered.
        self.mode = Mode::Legacy { endpoint: None };
        let at = self.reconnect_at(now);
        self.timers.push((at, Timer::LegacyGet));
    }

    fn on_error_status(
        &mut self,
        _stream: StreamId,
        kind: StreamKind,
        status: u16,
        hint: &str,
        awaiting: Vec<RequestId>,
        now: Millis,
    ) {
        if let StreamKind::Post { message } = &kind
            && is_stateless(message)
        {
            return self.on_stateless_refusal(status, hint, &awaiting, now);
        }
        match kind {
            StreamKind::Post { .. } => match self.http.on_response(status, None, None, hint) {
                Err(TransportError::SessionExpired { .. }) => {
                    self.restart_session(&awaiting, now);
                }
                Err(error) => {
                    if !self.ever_ready {
                        self.session.close();
                        self.abort_all();
                        self.set_state(ConnectionState::Disconnected {
                            reason: Some(error.to_string()),
                        });
                    } else {
                        self.fail_requests(&awaiting, &error);
                    }
                }
                Ok(_) => {}
            },
            StreamKind::Get => {
                let standalone = awaiting.is_empty();
                match self.http.on_response(status, None, None, hint) {
                    Err(TransportError::SessionExpired { .. }) => self.restart_session(&[], now),
                    Err(TransportError::MethodNotAllowed) => {
                        // No GET stream at this server; answers cannot be resumed.
                        self.get_supported = false;
                        if standalone {
                            self.standalone_open = false;
                        }
                        self.link_is_up(now);
                        self.settle_unanswered(&awaiting, now);
                    }
                    Err(error) => {
                        if standalone {
                            self.standalone_open = false;
                        }
                        self.fail_requests(&awaiting, &error);
                    }
                    Ok(_) => {}
                }
            }
            StreamKind::LegacyGet => {
                let reason = if self.choice == TransportChoice::Auto {
                    TransportError::NoTransport { status }.to_string()
                } else {
                    TransportError::Status { status, detail: String::new() }.to_string()
                };
                self.session.close();
                self.abort_all();
                self.set_state(ConnectionState::Disconnected { reason: Some(reason) });
            }
            StreamKind::LegacyPost { .. } => {
                let error = TransportError::Status { status, detail: short(hint) };
                self.fail_requests(&awaiting, &error);
            }
            // The next probe is already planned.
            StreamKind::Delete | StreamKind::Probe => {}
        }
    }

    /// A stateless request got an HTTP error status. Its body is usually the JSON-RPC error
    /// (an unsupported revision, a refused header, an unknown method), which the session
    /// reads; otherwise `server/discover` falls back to the handshake and anything else fails
    /// with the status.
    fn on_stateless_refusal(
        &mut self,
        status: u16,
        body: &str,
        awaiting: &[RequestId],
        now: Millis,
    ) {
        let answers: Vec<Message> = Message::decode_all(body)
            .unwrap_or_default()
            .into_iter()
            .filter(|m| matches!(m, Message::Error { id: Some(id), .. } if awaiting.contains(id)))
            .collect();
        for answer in answers {
            self.receive(answer, now);
        }
        let unanswered: Vec<RequestId> =
            awaiting.iter().filter(|id| self.session.is_pending(id)).cloned().collect();
        for id in &unanswered {
            if !self.session.discovery_failed(id, Probe::Refused { status }, now) {
                let error = self
                    .http
                    .on_response(status, None, None, body)
                    .err()
                    .unwrap_or(TransportError::Status { status, detail: short(body) });
                self.fail_requests(std::slice::from_ref(id), &error);
            }
        }
    }

    /// Ends the streams of stateless requests the session no longer waits for (cancelled, timed
    /// out): over HTTP, closing a request's stream is how a stateless client cancels it.
    fn abort_unwanted(&mut self) {
        let unwanted: Vec<StreamId> = self
            .streams
            .iter()
            .filter(|(_, s)| {
                matches!(s.kind, StreamKind::Post { .. })
                    && !s.awaiting.is_empty()
                    && !s.awaiting.iter().any(|id| self.session.is_pending(id))
            })
            .map(|(id, _)| *id)
            .collect();
        for stream in unwanted {
            self.streams.remove(&stream);
            self.outputs.push_back(Output::Abort { stream });
        }
    }

    /// Asks a stateless server that went away `server/discover`, to learn whether it is back: a
    /// 2xx reply brings the link up and releases what was held; until then a probe goes out at
    /// each backoff step, the previous one given up.
    fn rediscover(&mut self, now: Millis) {
        let ConnectionState::Reconnecting { reason, .. } = self.state.clone() else { return };
        let probes: Vec<StreamId> = self
            .streams
            .iter()
            .filter(|(_, s)| matches!(s.kind, StreamKind::Probe))
            .map(|(id, _)| *id)
            .collect();
        for stream in probes {
            self.streams.remove(&stream);
            self.outputs.push_back(Output::Abort { stream });
        }
        let Some(message) = self.session.probe() else { return };
        let request = self.http.post(&message, Vec::new());
        self.start(StreamKind::Probe, request, Vec::new());
        self.note_failure(reason, now);
        if let ConnectionState::Reconnecting { at, .. } = self.state {
            self.timers.push((at, Timer::Rediscover));
        }
    }

    /// The server forgot the session: start a new one without the user doing anything.
    fn restart_session(&mut self, not_run: &[RequestId], now: Millis) {
        let mut not_run = not_run.to_vec();
        not_run.extend(self.held.iter().filter_map(request_id));
        self.held.clear();
        self.abort_all();
        self.timers.clear();
        self.failures = 0;
        self.standalone_last_id = None;
        self.session.restart(now, &not_run);
        self.set_state(ConnectionState::Connecting);
        self.flush(now);
    }
}

/// A header's name as the specification writes it (`Mcp-Param-*` names keep their case).
fn header_display_name(name: &str) -> String {
    match name {
        "content-type" => "Content-Type".into(),
        "accept" => "Accept".into(),
        "mcp-protocol-version" => "MCP-Protocol-Version".into(),
        "mcp-method" => "Mcp-Method".into(),
        "mcp-name" => "Mcp-Name".into(),
        other => other.to_owned(),
    }
}

/// Whether `message` is a stateless revision's request (its revision is in its `_meta`).
fn is_stateless(message: &Message) -> bool {
    matches!(message, Message::Request { params, .. } if request_version(params.as_ref()).is_some())
}

fn request_id(message: &Message) -> Option<RequestId> {
    match message {
        Message::Request { id, .. } => Some(id.clone()),
        _ => None,
    }
}

/// Whether a response refuses the request for want of a (better) token: 401, or 403 whose
/// challenge says `insufficient_scope` (any other 403 is a plain refusal).
fn wants_token(head: &ResponseHead) -> bool {
    match head.status {
        401 => true,
        403 => head
            .www_authenticate
            .as_deref()
            .and_then(crate::core::auth::challenge::bearer)
            .is_some_and(|c| c.error.as_deref() == Some("insufficient_scope")),
        _ => false,
    }
}

/// The sentence for a server that refuses even a fresh token.
fn refused_again(status: u16) -> String {
    if status == 403 {
        "The server still refuses access (HTTP 403, insufficient_scope) after signing in again with the scopes it asked for: this account lacks the permission, or the app registration does not offer it; ask the server's operator for access, or sign in with another account.".to_owned()
    } else {
        "The server refused the token the console had just obtained (HTTP 401), so the console stopped instead of asking again: the token is probably meant for another audience or issuer; check the scopes and resource in the sign-in settings and the server's accepted audiences, then connect again.".to_owned()
    }
}
/// A JSON reply over the limit, announced or read so far.
fn too_large() -> TransportError {
    TransportError::Malformed(format!(
        "the reply is larger than {} MiB",
        JSON_BODY_LIMIT / (1024 * 1024)
    ))
}

fn is_event_stream(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|c| c.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/event-stream"))
}

fn short(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.trim().is_empty() { String::new() } else { format!(" ({})", clean.trim()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::session::{SessionError, SessionEvent};
    use serde_json::{Map, Value, json};

    const URL: &str = "http://127.0.0.1:3001/mcp";

    /// The engine on one side, a scripted server (the test) on the other, on a fake clock.
    struct Rig {
        engine: Engine,
        now: Millis,
    }

    impl Rig {
        fn new(choice: TransportChoice) -> Rig {
            let engine = Engine::new(URL, choice, SessionConfig::default())
                .unwrap_or_else(|e| panic!("{e}"));
            Rig { engine, now: 1_000 }
        }

        fn starts(&mut self) -> Vec<(StreamId, HttpRequest)> {
            std::iter::from_fn(|| self.engine.poll_output())
                .filter_map(|o| match o {
                    Output::Start { stream, request } => Some((stream, request)),
                    Output::Abort { .. } => None,
                })
                .collect()
        }

        fn one_start(&mut self) -> (StreamId, HttpRequest) {
            let mut starts = self.starts();
            assert_eq!(starts.len(), 1, "{starts:#?}");
            starts.remove(0)
        }

        fn events(&mut self) -> Vec<EngineEvent> {
            std::iter::from_fn(|| self.engine.poll_event()).collect()
        }

        fn states(&mut self) -> Vec<ConnectionState> {
            self.events()
                .into_iter()
                .filter_map(|e| match e {
                    EngineEvent::State(s) => Some(s),
                    _ => None,
                })
                .collect()
        }

        fn head(
            &mut self,
            stream: StreamId,
            status: u16,
            content_type: &str,
            session: Option<&str>,
        ) {
            let head = ResponseHead {
                status,
                content_type: (!content_type.is_empty()).then(|| content_type.to_owned()),
                session_id: session.map(str::to_owned),
                www_authenticate: None,
                content_length: None,
            };
            self.engine.handle_head(stream, head, self.now);
        }

        fn sse(&mut self, stream: StreamId, text: &str) {
            self.engine.handle_chunk(stream, text.as_bytes(), self.now);
        }

        fn end(&mut self, stream: StreamId) {
            self.engine.handle_end(stream, self.now);
        }

        /// Answers a POSTed request with one SSE event carrying `result`.
        fn answer_sse(
            &mut self,
            stream: StreamId,
            req: &HttpRequest,
            result: Value,
            session: Option<&str>,
        ) {
            let id = request_id_in(req);
            self.head(stream, 200, "text/event-stream", session);
            let data = json!({"jsonrpc": "2.0", "id": id, "result": result});
            self.sse(stream, &format!("event: message\ndata: {data}\n\n"));
            self.end(stream);
        }

        fn accept(&mut self, stream: StreamId) {
            self.head(stream, 202, "", None);
            self.end(stream);
        }

        /// Connects to a 2025 server: `server/discover` is refused the way the TypeScript SDK
        /// 1.x refuses a request before `initialize` (400, a JSON-RPC error without id), so
        /// the next start is `initialize`.
        fn connect_past_discovery(&mut self) {
            self.engine.connect(self.now);
            let (discover, req) = self.one_start();
            assert_eq!(method_of(&req), "server/discover");
            self.head(discover, 400, "application/json", None);
            self.sse(
                discover,
                r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: Server not initialized"}}"#,
            );
            self.end(discover);
        }

        /// Connects over Streamable HTTP with session `s1`; leaves the GET stream open.
        fn connected(&mut self) -> StreamId {
            self.connect_past_discovery();
            let (init, req) = self.one_start();
            assert_eq!(method_of(&req), "initialize");
            self.answer_sse(init, &req, init_result("2025-11-25"), Some("s1"));
            let starts = self.starts();
            assert_eq!(starts.len(), 2, "initialized + GET stream: {starts:#?}");
            let (note, _) = &starts[0];
            self.accept(*note);
            let (get, get_req) = &starts[1];
            assert_eq!(get_req.method, "GET");
            self.head(*get, 200, "text/event-stream", None);
            self.events();
            *get
        }

        fn call(&mut self, tool: &str) -> RequestId {
            let id = self
                .engine
                .session_mut()
                .call_tool(tool, Map::new(), self.now)
                .unwrap_or_else(|e| panic!("{e}"));
            self.engine.flush(self.now);
            id
        }

        fn advance_to(&mut self, at: Millis) {
            self.now = at;
            self.engine.handle_timeout(at);
        }
    }

    fn init_result(version: &str) -> Value {
        json!({"protocolVersion": version, "capabilities": {"tools": {}}, "serverInfo": {"name": "scripted", "version": "1"}})
    }

    fn body_of(req: &HttpRequest) -> Message {
        let text = req.body.clone().unwrap_or_default();
        Message::decode_all(&text)
            .ok()
            .and_then(|mut v| v.pop())
            .unwrap_or_else(|| panic!("no message in {req:?}"))
    }

    fn method_of(req: &HttpRequest) -> String {
        body_of(req).method().unwrap_or("").to_owned()
    }

    fn request_id_in(req: &HttpRequest) -> Value {
        match body_of(req) {
            Message::Request { id: RequestId::Number(n), .. } => json!(n),
            Message::Request { id: RequestId::String(s), .. } => json!(s),
            other => panic!("not a request: {other:?}"),
        }
    }

    fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
        req.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    fn session_events(events: &[EngineEvent]) -> Vec<&SessionEvent> {
        events
            .iter()
            .filter_map(|e| match e {
                EngineEvent::Session(s) => Some(s.as_ref()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn streamable_handshake_carries_the_session_and_opens_the_get_stream() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connect_past_discovery();
        assert_eq!(rig.states(), vec![ConnectionState::Connecting]);
        let (init, req) = rig.one_start();
        assert_eq!(header(&req, SESSION_HEADER), None);
        rig.answer_sse(init, &req, init_result("2025-06-18"), Some("s1"));
        let starts = rig.starts();
        let (_, note) = &starts[0];
        assert_eq!(method_of(note), "notifications/initialized");
        assert_eq!(header(note, SESSION_HEADER), Some("s1"));
        assert_eq!(header(note, PROTOCOL_HEADER), Some("2025-06-18"));
        let (_, get) = &starts[1];
        assert_eq!((get.method, header(get, "accept")), ("GET", Some("text/event-stream")));
        assert_eq!(header(get, SESSION_HEADER), Some("s1"));
        let events = rig.events();
        assert!(events.contains(&EngineEvent::State(ConnectionState::Connected {
            transport: TransportKind::StreamableHttp
        })));
        assert!(matches!(session_events(&events)[..], [SessionEvent::Ready(_)]));
    }

    #[test]
    fn a_405_to_the_get_stream_means_the_server_has_none() {
        let mut rig = Rig::new(TransportChoice::StreamableHttp);
        rig.connect_past_discovery();
        let (init, req) = rig.one_start();
        rig.answer_sse(init, &req, init_result("2025-11-25"), Some("s1"));
        let starts = rig.starts();
        let (get, _) = starts[1];
        rig.head(get, 405, "text/plain", None);
        rig.end(get);
        rig.advance_to(rig.now + 120_000);
        assert!(rig.starts().is_empty(), "no GET is tried again");
        assert!(matches!(rig.engine.state(), ConnectionState::Connected { .. }));
    }

    #[test]
    fn a_json_reply_is_read_whole() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connect_past_discovery();
        let (init, req) = rig.one_start();
        let id = request_id_in(&req);
        rig.head(init, 200, "application/json", Some("s1"));
        let body =
            json!({"jsonrpc": "2.0", "id": id, "result": init_result("2024-11-05")}).to_string();
        let (a, b) = body.split_at(body.len() / 2);
        rig.engine.handle_chunk(init, a.as_bytes(), rig.now);
        rig.engine.handle_chunk(init, b.as_bytes(), rig.now);
        rig.end(init);
        assert_eq!(rig.engine.session().protocol_version(), Some("2024-11-05"));
    }

    #[test]
    fn a_forgotten_session_is_reinitialized_and_the_refused_request_resent() {
        for (status, body) in [(404, ""), (400, "Bad Request: No valid session ID provided")] {
            let mut rig = Rig::new(TransportChoice::Auto);
            rig.connected();
            let id = rig.call("echo");
            let (post, req) = rig.one_start();
            assert_eq!(header(&req, SESSION_HEADER), Some("s1"));
            rig.head(post, status, "text/plain", None);
            rig.sse(post, body);
            rig.end(post);
            assert_eq!(rig.states(), vec![ConnectionState::Connecting]);
            let (init, init_req) = rig.one_start();
            assert_eq!(method_of(&init_req), "initialize");
            assert_eq!(
                header(&init_req, SESSION_HEADER),
                None,
                "a new session starts without an id"
            );
            rig.answer_sse(init, &init_req, init_result("2025-11-25"), Some("s2"));
            let starts = rig.starts();
            let methods: Vec<_> = starts
                .iter()
                .map(|(_, r)| if r.method == "GET" { "GET".to_owned() } else { method_of(r) })
                .collect();
            assert_eq!(methods, ["notifications/initialized", "GET"], "{status}");
            // The call waits until the server took `notifications/initialized`.
            rig.accept(starts[0].0);
            let (_, resent) = &rig.one_start();
            assert_eq!(
                body_of(resent),
                body_of(&req),
                "the server never ran it, so it goes again unchanged"
            );
            assert_eq!(header(resent, SESSION_HEADER), Some("s2"));
            assert!(rig.engine.session().is_pending(&id));
        }
    }

    #[test]
    fn a_dropped_reply_stream_is_resumed_with_last_event_id_after_retry() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connected();
        let id = rig.call("slow");
        let (post, req) = rig.one_start();
        let RequestId::Number(n) = id.clone() else { panic!() };
        rig.head(post, 200, "text/event-stream", None);
        rig.sse(post, "id: ev-0\nretry: 500\ndata:\n\n");
        let progress = json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": n, "progress": 1}});
        rig.sse(post, &format!("id: ev-1\ndata: {progress}\n\n"));
        rig.end(post);
        assert!(rig.starts().is_empty(), "waits for the retry interval");
        assert_eq!(rig.engine.poll_timeout(), Some(rig.now + 500));
        rig.advance_to(rig.now + 500);
        let (get, get_req) = rig.one_start();
        assert_eq!(get_req.method, "GET");
        assert_eq!(header(&get_req, "last-event-id"), Some("ev-1"));
        assert_eq!(header(&get_req, SESSION_HEADER), Some("s1"));
        rig.answer_sse(get, &req, json!({"content": [{"type": "text", "text": "done"}]}), None);
        let events = rig.events();
        let session = session_events(&events);
        assert!(
            session
                .iter()
                .any(|e| matches!(e, SessionEvent::Answered { id: got, .. } if *got == id)),
            "{events:?}"
        );
    }

    #[test]
    fn a_server_that_vanishes_mid_call_is_reconnected_and_the_call_reported() {
        let mut rig = Rig::new(TransportChoice::Auto);
        let get = rig.connected();
        let id = rig.call("slow");
        let (post, _) = rig.one_start();
        rig.head(post, 200, "text/event-stream", None);
        rig.sse(post, "id: ev-0\ndata:\n\n");
        rig.engine.handle_failure(
            post,
            NetworkFailure::Interrupted("network error".into()),
            rig.now,
        );
        rig.engine.handle_failure(
            get,
            NetworkFailure::Interrupted("network error".into()),
            rig.now,
        );
        let states = rig.states();
        let Some(ConnectionState::Reconnecting { at, attempt: 1, reason }) =
            states.first().cloned()
        else {
            panic!("{states:?}")
        };
        assert!(reason.contains("broke"), "{reason}");
        assert_eq!(at, rig.now + 1_000);

        // First attempt: the server is still down.
        rig.advance_to(at);
        let starts = rig.starts();
        assert!(starts.iter().all(|(_, r)| r.method == "GET"), "{starts:?}");
        let resume = starts
            .iter()
            .find(|(_, r)| header(r, "last-event-id") == Some("ev-0"))
            .map(|(s, _)| *s);
        let Some(resume) = resume else { panic!("no resumption GET in {starts:?}") };
        for (s, _) in &starts {
            rig.engine.handle_failure(*s, NetworkFailure::Unreachable, rig.now);
        }
        let states = rig.states();
        assert!(
            matches!(states.last(), Some(ConnectionState::Reconnecting { attempt, at, .. }) if *attempt >= 2 && *at >= rig.now + 2_000),
            "{states:?}"
        );
        let _ = resume;

        // The server is back, restarted without its sessions: 404 → a new session.
        let at = rig.engine.poll_timeout().unwrap_or_default();
        rig.advance_to(at);
        let starts = rig.starts();
        let (first, _) = starts[0];
        rig.head(first, 404, "text/plain", None);
        rig.end(first);
        let events = rig.events();
        let session = session_events(&events);
        assert!(session.iter().any(|e| matches!(e, SessionEvent::RequestFailed { id: Some(got), error: SessionError::MayHaveRun { .. }, .. } if *got == id)), "{events:?}");
        let starts = rig.starts();
        let (init, init_req) = starts
            .iter()
            .find(|(_, r)| r.method == "POST")
            .cloned()
            .unwrap_or_else(|| panic!("{starts:?}"));
        assert_eq!(method_of(&init_req), "initialize");
        rig.answer_sse(init, &init_req, init_result("2025-11-25"), Some("s2"));
        assert!(rig.events().contains(&EngineEvent::State(ConnectionState::Connected {
            transport: TransportKind::StreamableHttp
        })));
    }

    #[test]
    fn the_legacy_endpoint_handshake_posts_to_the_announced_url() {
        let mut rig = Rig::new(TransportChoice::LegacySse);
        rig.engine.connect(rig.now);
        let (sse, get) = rig.one_start();
        assert_eq!((get.method, get.url.as_str()), ("GET", URL));
        rig.head(sse, 200, "text/event-stream", None);
        rig.sse(sse, "event: endpoint\ndata: /message?sessionId=abc\n\n");
        let (post, req) = rig.one_start();
        assert_eq!(req.url, "http://127.0.0.1:3001/message?sessionId=abc");
        assert_eq!(method_of(&req), "initialize");
        rig.accept(post);
        let id = request_id_in(&req);
        let reply = json!({"jsonrpc": "2.0", "id": id, "result": init_result("2024-11-05")});
        rig.sse(sse, &format!("event: message\ndata: {reply}\n\n"));
        let (_, note) = rig.one_start();
        assert_eq!(method_of(&note), "notifications/initialized");
        assert!(rig.events().contains(&EngineEvent::State(ConnectionState::Connected {
            transport: TransportKind::LegacySse
        })));
    }

    #[test]
    fn a_legacy_endpoint_on_another_origin_is_refused() {
        let mut rig = Rig::new(TransportChoice::LegacySse);
        rig.engine.connect(rig.now);
        let (sse, _) = rig.one_start();
        rig.head(sse, 200, "text/event-stream", None);
        rig.sse(sse, "event: endpoint\ndata: http://evil.example/steal\n\n");
        assert!(rig.starts().is_empty(), "nothing is sent to a foreign origin");
        let states = rig.states();
        assert!(
            matches!(states.last(), Some(ConnectionState::Disconnected { reason: Some(r) }) if r.contains("another origin")),
            "{states:?}"
        );
    }

    #[test]
    fn auto_mode_falls_back_to_legacy_sse_exactly_on_400_404_405() {
        for (status, falls_back) in
            [(400, true), (404, true), (405, true), (401, false), (500, false), (406, false)]
        {
            let mut rig = Rig::new(TransportChoice::Auto);
            rig.connect_past_discovery();
            let (init, _) = rig.one_start();
            rig.head(init, status, "text/plain", None);
            rig.end(init);
            let starts = rig.starts();
            if falls_back {
                assert!(
                    matches!(&starts[..], [(_, r)] if r.method == "GET" && header(r, "accept") == Some("text/event-stream")),
                    "{status}: {starts:?}"
                );
            } else if status == 401 {
                assert!(starts.is_empty(), "{status}: {starts:?}");
                assert_eq!(rig.engine.state(), &ConnectionState::SigningIn, "a sign-in, not SSE");
            } else {
                assert!(starts.is_empty(), "{status}: {starts:?}");
                assert!(
                    matches!(rig.engine.state(), ConnectionState::Disconnected { reason: Some(_) }),
                    "{status}"
                );
            }
        }
    }

    #[test]
    fn forcing_streamable_http_never_falls_back() {
        let mut rig = Rig::new(TransportChoice::StreamableHttp);
        rig.connect_past_discovery();
        let (init, _) = rig.one_start();
        rig.head(init, 405, "text/plain", None);
        rig.end(init);
        assert!(rig.starts().is_empty());
        let states = rig.states();
        assert!(
            matches!(states.last(), Some(ConnectionState::Disconnected { reason: Some(r) }) if r.contains("405")),
            "{states:?}"
        );
    }

    #[test]
    fn when_neither_transport_answers_the_user_is_told_to_check_the_url() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connect_past_discovery();
        let (init, _) = rig.one_start();
        rig.head(init, 404, "", None);
        let (sse, _) = rig.one_start();
        rig.head(sse, 404, "text/html", None);
        rig.end(sse);
        let states = rig.states();
        assert!(
            matches!(states.last(), Some(ConnectionState::Disconnected { reason: Some(r) }) if r.contains("neither Streamable HTTP nor legacy")),
            "{states:?}"
        );
    }

    #[test]
    fn first_connect_failures_name_their_cause() {
        for (failure, words) in [
            (NetworkFailure::Unreachable, "Access-Control-Allow-Origin"),
            (NetworkFailure::Interrupted("reset".into()), "broke"),
        ] {
            let mut rig = Rig::new(TransportChoice::Auto);
            rig.connect_past_discovery();
            let (init, _) = rig.one_start();
            rig.engine.handle_failure(init, failure, rig.now);
            let states = rig.states();
            assert!(
                matches!(states.last(), Some(ConnectionState::Disconnected { reason: Some(r) }) if r.contains(words)),
                "{states:?}"
            );
            assert!(rig.starts().is_empty(), "no retry loop before the first session");
        }
    }

    #[test]
    fn a_timed_out_call_is_cancelled_over_http() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connected();
        rig.call("slow");
        let (_post, _) = rig.one_start();
        let deadline = rig.engine.poll_timeout().unwrap_or_default();
        rig.advance_to(deadline);
        let (_, note) = rig.one_start();
        assert_eq!(method_of(&note), "notifications/cancelled");
    }

    #[test]
    fn disconnect_deletes_the_session() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connected();
        rig.engine.disconnect();
        let starts = rig.starts();
        assert!(
            matches!(&starts[..], [(_, r)] if r.method == "DELETE" && header(r, SESSION_HEADER) == Some("s1")),
            "{starts:?}"
        );
        assert_eq!(rig.engine.state(), &ConnectionState::Disconnected { reason: None });
    }

    #[test]
    fn a_reply_with_the_wrong_content_type_fails_that_request_only() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connected();
        let id = rig.call("echo");
        let (post, _) = rig.one_start();
        rig.head(post, 200, "text/html", None);
        let events = rig.events();
        assert!(session_events(&events).iter().any(|e| matches!(e, SessionEvent::RequestFailed { id: Some(got), error: SessionError::Transport(t), .. } if *got == id && t.contains("text/html"))), "{events:?}");
        assert!(matches!(rig.engine.state(), ConnectionState::Connected { .. }));
    }

    #[test]
    fn a_json_reply_announced_over_the_limit_is_refused_before_it_is_read() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connected();
        let id = rig.call("big");
        let (post, _) = rig.one_start();
        let announced = ResponseHead {
            status: 200,
            content_type: Some("application/json".into()),
            session_id: Some("s1".into()),
            www_authenticate: None,
            content_length: Some(JSON_BODY_LIMIT as u64 + 1),
        };
        rig.engine.handle_head(post, announced, rig.now);
        let outputs: Vec<Output> = std::iter::from_fn(|| rig.engine.poll_output()).collect();
        assert!(outputs.contains(&Output::Abort { stream: post }), "{outputs:?}");
        let events = rig.events();
        assert!(session_events(&events).iter().any(|e| matches!(e, SessionEvent::RequestFailed { id: Some(got), error: SessionError::Transport(t), .. } if *got == id && t.contains("larger than 32 MiB"))), "{events:?}");
        // Nothing of the body is kept should the platform still hand some over.
        rig.engine.handle_chunk(post, b"{", rig.now);
        assert!(rig.events().is_empty());
        assert!(matches!(rig.engine.state(), ConnectionState::Connected { .. }));
    }

    #[test]
    fn a_malformed_event_fails_its_request_with_a_sentence() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connected();
        rig.call("echo");
        let (post, _) = rig.one_start();
        rig.head(post, 200, "text/event-stream", None);
        rig.sse(post, "data: {not json\n\n");
        let events = rig.events();
        assert!(session_events(&events).iter().any(|e| matches!(e, SessionEvent::RequestFailed { error: SessionError::Transport(t), .. } if t.starts_with("The server's reply could not be read"))), "{events:?}");
    }

    #[test]
    fn server_requests_on_the_get_stream_are_answered_by_post() {
        let mut rig = Rig::new(TransportChoice::Auto);
        let get = rig.connected();
        rig.sse(
            get,
            "id: g1\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"srv-1\",\"method\":\"ping\"}\n\n",
        );
        let (_, reply) = rig.one_start();
        assert_eq!(
            body_of(&reply),
            Message::Response { id: RequestId::String("srv-1".into()), result: json!({}) }
        );
    }

    // ---- sign-in: bearer tokens, 401 and 403 ----

    const CHALLENGE: &str = r#"Bearer resource_metadata="http://127.0.0.1:3001/.well-known/oauth-protected-resource/mcp", scope="api://x/mcp:tools""#;

    impl Rig {
        fn refuse(&mut self, stream: StreamId, status: u16, challenge: &str) {
            let head = ResponseHead {
                status,
                content_type: Some("application/json".into()),
                session_id: None,
                www_authenticate: (!challenge.is_empty()).then(|| challenge.to_owned()),
                content_length: None,
            };
            self.engine.handle_head(stream, head, self.now);
        }

        fn auth_events(&mut self) -> Vec<AuthRequired> {
            self.events()
                .into_iter()
                .filter_map(|e| match e {
                    EngineEvent::AuthRequired(a) => Some(a),
                    _ => None,
                })
                .collect()
        }
    }

    fn token(value: &str) -> Bearer {
        Bearer { server: this_server(), token: AccessToken::new(value.to_owned()) }
    }

    fn this_server() -> ServerUrl {
        ServerUrl::parse(URL).unwrap_or_else(|e| panic!("{e}"))
    }

    fn bearer_of(req: &HttpRequest) -> Option<&str> {
        header(req, AUTHORIZATION_HEADER)
    }

    #[test]
    fn a_401_to_initialize_waits_for_a_token_then_sends_it_on_every_request() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connect_past_discovery();
        let (init, req) = rig.one_start();
        assert_eq!(bearer_of(&req), None, "no token yet");
        rig.refuse(init, 401, CHALLENGE);
        let events = rig.events();
        assert!(events.contains(&EngineEvent::State(ConnectionState::SigningIn)), "{events:?}");
        assert!(events.contains(&EngineEvent::AuthRequired(AuthRequired {
            status: 401,
            www_authenticate: Some(CHALLENGE.into()),
            had_token: false,
        })));
        assert!(rig.starts().is_empty(), "nothing is sent while waiting");
        // The wait does not count against initialize's timeout.
        assert_eq!(rig.engine.poll_timeout(), None);
        rig.advance_to(rig.now + 10 * 60_000);
        assert!(rig.events().is_empty(), "no timeout while signing in");

        rig.engine.resume_with_bearer(token("t1"), rig.now);
        let (init, req) = rig.one_start();
        assert_eq!(method_of(&req), "initialize");
        assert_eq!(bearer_of(&req), Some("Bearer t1"));
        rig.answer_sse(init, &req, init_result("2025-11-25"), Some("s1"));
        let starts = rig.starts();
        assert_eq!(starts.len(), 2, "{starts:#?}");
        for (_, r) in &starts {
            assert_eq!(bearer_of(r), Some("Bearer t1"), "{r:?}");
        }
        assert!(matches!(rig.engine.state(), ConnectionState::Connected { .. }));
        rig.accept(starts[0].0);
        // A refreshed token is used from then on.
        rig.engine.set_bearer(Some(token("t2")));
        rig.call("echo");
        let (_, call) = rig.one_start();
        assert_eq!(bearer_of(&call), Some("Bearer t2"));
        assert!(!format!("{call:?}").contains("t2"), "Debug redacts the token");
    }

    /// Requests wait until the server took `notifications/initialized` (server-everything sets up
    /// some tools only then); a failed delivery releases them too.
    #[test]
    fn requests_wait_for_notifications_initialized_to_be_taken() {
        for fail in [false, true] {
            let mut rig = Rig::new(TransportChoice::Auto);
            rig.connect_past_discovery();
            let (init, req) = rig.one_start();
            rig.answer_sse(init, &req, init_result("2025-11-25"), Some("s1"));
            let starts = rig.starts();
            let (note, _) = starts[0];
            let _ = rig.call("echo");
            assert!(rig.starts().is_empty(), "the call waits");
            if fail {
                rig.engine.handle_failure(note, NetworkFailure::Unreachable, rig.now);
            } else {
                rig.accept(note);
            }
            let (_, call) = rig.one_start();
            assert_eq!(method_of(&call), "tools/call", "fail: {fail}");
        }
    }

    /// Every message sent and received reaches the history, a sent one with how it went (its
    /// address and headers; the token only as whether one went).
    #[test]
    fn the_traffic_is_reported_with_how_each_message_went() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.engine.set_bearer(Some(token("secret-token")));
        rig.connected();
        let _ = rig.events();
        let _ = rig.call("echo");
        let (post, req) = rig.one_start();
        rig.answer_sse(post, &req, json!({"content": []}), Some("s1"));
        let traffic: Vec<Traffic> = rig
            .events()
            .into_iter()
            .filter_map(|e| match e {
                EngineEvent::Traffic(t) => Some(*t),
                _ => None,
            })
            .collect();
        assert_eq!(traffic.len(), 2, "{traffic:?}");
        let over = traffic[0].over.clone().unwrap_or_else(|| panic!("sent by a POST"));
        assert!(traffic[0].sent && over.bearer);
        assert_eq!(over.url, req.url);
        assert!(over.headers.iter().any(|(n, v)| n == "mcp-session-id" && !v.is_empty()));
        assert!(!format!("{over:?}").contains("secret-token"), "{over:?}");
        assert!(!traffic[1].sent && traffic[1].over.is_none());
        assert!(matches!(traffic[1].message, Message::Response { .. }));
    }

    /// A request that left before the token came, refused after it came, was refused for want
    /// of a token: the machine is told so (it then hands over the token it holds), and it counts
    /// as no refused token.
    #[test]
    fn a_refusal_of_a_request_sent_before_the_token_came_says_it_had_none() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connected();
        let _ = rig.call("a");
        let (post, _) = rig.one_start();
        rig.engine.set_bearer(Some(token("fresh")));
        rig.refuse(post, 401, "Bearer");
        let asked = rig.auth_events();
        assert_eq!(asked.len(), 1);
        assert!(!asked[0].had_token, "the request went without one");
        rig.engine.resume_with_bearer(token("fresh"), rig.now);
        let (again, req) = rig.one_start();
        assert_eq!(bearer_of(&req), Some("Bearer fresh"));
        rig.refuse(again, 401, r#"Bearer error="invalid_token""#);
        let asked = rig.auth_events();
        assert!(asked.len() == 1 && asked[0].had_token, "{asked:?}");
    }

    #[test]
    fn calls_refused_together_raise_one_sign_in_and_all_go_out_again() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.engine.set_bearer(Some(token("old")));
        rig.connected();
        let ids = [rig.call("a"), rig.call("b"), rig.call("c")];
        let posts = rig.starts();
        assert_eq!(posts.len(), 3);
        for (stream, _) in &posts {
            rig.refuse(*stream, 401, r#"Bearer error="invalid_token""#);
        }
        let asked = rig.auth_events();
        assert_eq!(asked.len(), 1, "one sign-in for three refusals: {asked:?}");
        assert!(asked[0].had_token);
        rig.call("d");
        assert!(rig.starts().is_empty(), "a call made while waiting is held");
        rig.engine.resume_with_bearer(token("new"), rig.now);
        let again = rig.starts();
        assert_eq!(again.len(), 4, "{again:#?}");
        for (stream, req) in &again {
            assert_eq!(bearer_of(req), Some("Bearer new"));
            rig.answer_sse(*stream, req, json!({"content": []}), None);
        }
        let events = rig.events();
        let done = session_events(&events)
            .iter()
            .filter(|e| matches!(e, SessionEvent::Answered { id, .. } if ids.contains(id)))
            .count();
        assert_eq!(done, 3, "{events:#?}");
    }

    #[test]
    fn a_fresh_token_refused_again_ends_with_a_sentence_not_a_loop() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connect_past_discovery();
        let (init, _) = rig.one_start();
        rig.refuse(init, 401, CHALLENGE);
        assert_eq!(rig.auth_events().len(), 1);
        rig.engine.resume_with_bearer(token("fresh"), rig.now);
        let (init, _) = rig.one_start();
        // The fresh token is refused: one retry with another token…
        rig.refuse(init, 401, r#"Bearer error="invalid_token""#);
        assert_eq!(rig.auth_events().len(), 1, "one retry");
        rig.engine.resume_with_bearer(token("fresher"), rig.now);
        let (init, _) = rig.one_start();
        // …and when that is refused too, a sentence instead of another round.
        rig.refuse(init, 401, r#"Bearer error="invalid_token""#);
        let events = rig.events();
        assert!(!events.iter().any(|e| matches!(e, EngineEvent::AuthRequired(_))), "{events:?}");
        let reason = match rig.engine.state() {
            ConnectionState::Disconnected { reason: Some(r) } => r.clone(),
            other => panic!("{other:?}"),
        };
        assert!(reason.starts_with("The server refused the token the console had just obtained"));
        assert!(rig.starts().is_empty());
    }

    #[test]
    fn success_in_between_lets_a_later_401_ask_again() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.engine.set_bearer(Some(token("t1")));
        rig.connected();
        for round in 2..5 {
            rig.call("echo");
            let (post, _) = rig.one_start();
            rig.refuse(post, 401, r#"Bearer error="invalid_token""#);
            assert_eq!(rig.auth_events().len(), 1, "round {round}");
            rig.engine.resume_with_bearer(token(&format!("t{round}")), rig.now);
            let (post, req) = rig.one_start();
            rig.answer_sse(post, &req, json!({"content": []}), None);
            assert!(matches!(rig.engine.state(), ConnectionState::Connected { .. }));
        }
    }

    #[test]
    fn insufficient_scope_asks_for_a_token_but_a_plain_403_is_a_refusal() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.engine.set_bearer(Some(token("narrow")));
        rig.connected();
        rig.call("echo");
        let (post, _) = rig.one_start();
        let step_up = r#"Bearer error="insufficient_scope", scope="mcp:tools mcp:admin""#;
        rig.refuse(post, 403, step_up);
        let asked = rig.auth_events();
        assert_eq!(asked.len(), 1);
        assert_eq!((asked[0].status, asked[0].www_authenticate.as_deref()), (403, Some(step_up)));
        rig.engine.resume_with_bearer(token("wide"), rig.now);
        let (post, req) = rig.one_start();
        assert_eq!(bearer_of(&req), Some("Bearer wide"));
        rig.refuse(post, 403, step_up);
        match rig.engine.state() {
            ConnectionState::Disconnected { reason: Some(r) } => {
                assert!(r.starts_with("The server still refuses access (HTTP 403"), "{r}")
            }
            other => panic!("{other:?}"),
        }

        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connected();
        let id = rig.call("echo");
        let (post, _) = rig.one_start();
        rig.refuse(post, 403, "");
        rig.end(post);
        let events = rig.events();
        assert!(!events.iter().any(|e| matches!(e, EngineEvent::AuthRequired(_))));
        assert!(
            session_events(&events)
                .iter()
                .any(|e| matches!(e, SessionEvent::RequestFailed { id: Some(i), .. } if *i == id)),
            "{events:#?}"
        );
    }

    #[test]
    fn a_first_401_without_a_token_does_not_count_against_the_step_up() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connect_past_discovery();
        let (init, _) = rig.one_start();
        rig.refuse(init, 401, CHALLENGE);
        assert_eq!(rig.auth_events().len(), 1);
        rig.engine.resume_with_bearer(token("narrow"), rig.now);
        let (init, _) = rig.one_start();
        rig.refuse(init, 403, r#"Bearer error="insufficient_scope", scope="more""#);
        let asked = rig.auth_events();
        assert_eq!(asked.len(), 1, "the step-up is asked for");
        assert!(asked[0].had_token);
    }

    #[test]
    fn a_refused_get_stream_opens_again_with_the_token() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connect_past_discovery();
        let (init, req) = rig.one_start();
        rig.answer_sse(init, &req, init_result("2025-11-25"), Some("s1"));
        let starts = rig.starts();
        let (get, _) = starts[1];
        rig.refuse(get, 401, CHALLENGE);
        assert_eq!(rig.auth_events().len(), 1);
        rig.engine.resume_with_bearer(token("t"), rig.now);
        let (_, again) = rig.one_start();
        assert_eq!((again.method, bearer_of(&again)), ("GET", Some("Bearer t")));
    }

    #[test]
    fn a_declined_sign_in_fails_the_waiting_calls() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.engine.set_bearer(Some(token("t")));
        rig.connected();
        let id = rig.call("echo");
        let (post, _) = rig.one_start();
        rig.refuse(post, 401, CHALLENGE);
        rig.events();
        rig.engine.auth_failed(&this_server(), "The sign-in was declined.", rig.now);
        let events = rig.events();
        assert!(session_events(&events).iter().any(|e| matches!(e, SessionEvent::RequestFailed { id: Some(i), error: SessionError::Transport(t), .. } if *i == id && t == "The sign-in was declined.")), "{events:#?}");
        assert_eq!(
            rig.engine.state(),
            &ConnectionState::Disconnected { reason: Some("The sign-in was declined.".into()) }
        );
    }

    #[test]
    fn the_token_never_goes_to_another_origin() {
        assert!(same_origin_text("http://127.0.0.1:3001/messages?x=1", URL));
        assert!(!same_origin_text("http://127.0.0.1:3002/mcp", URL));
        assert!(!same_origin_text("https://127.0.0.1:3001/mcp", URL));
        assert!(!same_origin_text("not a url", URL));
    }

    /// Attack 3 of the security review, at the connection's door: a token obtained for another
    /// server (a refresh for server A finishing while the page talks to B) is never installed,
    /// whether it comes while requests wait for a token or not, nor can news of another server's
    /// failed sign-in end this connection.
    #[test]
    fn a_bearer_or_a_give_up_for_another_server_changes_nothing() {
        let other = |path: &str| Bearer {
            server: ServerUrl::parse(&format!("http://127.0.0.1:3001{path}"))
                .unwrap_or_else(|e| panic!("{e}")),
            token: AccessToken::new("for-a".into()),
        };
        let elsewhere = Bearer {
            server: ServerUrl::parse("http://127.0.0.1:3002/mcp").unwrap_or_else(|e| panic!("{e}")),
            token: AccessToken::new("for-a".into()),
        };
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.engine.set_bearer(Some(elsewhere.clone()));
        rig.connect_past_discovery();
        let (init, req) = rig.one_start();
        assert_eq!(bearer_of(&req), None, "set for another server: dropped");
        rig.refuse(init, 401, CHALLENGE);
        assert_eq!(rig.auth_events().len(), 1);
        for foreign in [elsewhere.clone(), other("/other-mcp")] {
            rig.engine.resume_with_bearer(foreign, rig.now);
            assert!(
                rig.starts().is_empty(),
                "still waiting: nothing sent with another server's token"
            );
        }
        let a = ServerUrl::parse("http://127.0.0.1:3002/mcp").unwrap_or_else(|e| panic!("{e}"));
        rig.engine.auth_failed(&a, "A's sign-in failed.", rig.now);
        assert_eq!(rig.engine.state(), &ConnectionState::SigningIn, "A's failure is not B's");
        rig.engine.resume_with_bearer(token("mine"), rig.now);
        let (init, again) = rig.one_start();
        assert_eq!(bearer_of(&again), Some("Bearer mine"));
        rig.answer_sse(init, &again, init_result("2025-11-25"), Some("s1"));
        let starts = rig.starts();
        assert!(starts.iter().all(|(_, r)| bearer_of(r) == Some("Bearer mine")), "{starts:#?}");
        if let Some((note, _)) = starts.first() {
            rig.accept(*note);
        }
        rig.engine.set_bearer(Some(elsewhere));
        rig.call("echo");
        let (_, call) = rig.one_start();
        assert_eq!(bearer_of(&call), Some("Bearer mine"), "a later foreign bearer is dropped too");
    }

    // ---- the stateless revision (2026-07-28) ----

    fn discover_result(versions: &[&str]) -> Value {
        json!({
            "resultType": "complete",
            "supportedVersions": versions,
            "capabilities": {"tools": {}},
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "modern", "version": "2"}},
            "ttlMs": 0,
            "cacheScope": "public",
        })
    }

    fn meta_of(req: &HttpRequest) -> Value {
        match body_of(req) {
            Message::Request { params: Some(p), .. } => p.get("_meta").cloned().unwrap_or_default(),
            other => panic!("no params: {other:?}"),
        }
    }

    fn steps(events: &[EngineEvent]) -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                EngineEvent::Step(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    impl Rig {
        /// Answers `req` with one JSON body, the status and the session header given.
        fn answer_json(
            &mut self,
            stream: StreamId,
            status: u16,
            body: &str,
            session: Option<&str>,
        ) {
            self.head(stream, status, "application/json", session);
            self.sse(stream, body);
            self.end(stream);
        }

        /// Connects to a stateless server that answers `server/discover` (with a session id it
        /// should not have sent, which the console ignores).
        fn connected_stateless(&mut self) {
            self.engine.connect(self.now);
            let (discover, req) = self.one_start();
            let result = discover_result(&["2026-07-28"]);
            let id = request_id_in(&req);
            let body = json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string();
            self.answer_json(discover, 200, &body, Some("stray-session"));
        }
    }

    #[test]
    fn a_stateless_server_is_spoken_to_without_handshake_session_or_get_stream() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.engine.connect(rig.now);
        let (discover, req) = rig.one_start();
        assert_eq!(method_of(&req), "server/discover");
        assert_eq!(header(&req, PROTOCOL_HEADER), Some("2026-07-28"));
        assert_eq!(header(&req, "mcp-method"), Some("server/discover"));
        let meta = meta_of(&req);
        assert_eq!(meta["io.modelcontextprotocol/protocolVersion"], "2026-07-28");
        assert!(meta["io.modelcontextprotocol/clientCapabilities"].is_object());
        assert_eq!(meta["io.modelcontextprotocol/clientInfo"]["name"], "mcp-console");
        let id = request_id_in(&req);
        let body = json!({"jsonrpc": "2.0", "id": id, "result": discover_result(&["2026-07-28"])});
        rig.answer_json(discover, 200, &body.to_string(), Some("stray-session"));

        assert_eq!(rig.starts(), vec![], "no initialized, no GET stream");
        let events = rig.events();
        let Some(SessionEvent::Ready(summary)) = session_events(&events).first().copied() else {
            panic!("{events:?}")
        };
        assert_eq!(summary.protocol_version, "2026-07-28");
        assert_eq!(summary.server_info.name, "modern");
        assert_eq!(steps(&events).len(), 2, "{events:?}");

        rig.call("echo");
        let (_, call) = rig.one_start();
        assert_eq!(header(&call, SESSION_HEADER), None, "a stray session id is never sent back");
        assert_eq!(header(&call, PROTOCOL_HEADER), Some("2026-07-28"));
        assert_eq!(header(&call, "mcp-method"), Some("tools/call"));
        assert_eq!(meta_of(&call)["io.modelcontextprotocol/protocolVersion"], "2026-07-28");
        assert_eq!(meta_of(&call)["progressToken"], json!(2), "progress still asked for");

        rig.engine.disconnect();
        assert_eq!(rig.starts(), vec![], "no session, so no DELETE");
    }

    #[test]
    fn an_unsupported_version_is_asked_again_once_under_a_new_id_then_stops() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.engine.connect(rig.now);
        let refuse = |rig: &mut Rig, stream: StreamId, req: &HttpRequest| {
            let id = request_id_in(req);
            let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32022, "message": "Unsupported protocol version", "data": {"supported": ["2026-07-28"], "requested": "2026-07-28"}}});
            rig.answer_json(stream, 400, &body.to_string(), None);
        };
        let (first, req) = rig.one_start();
        refuse(&mut rig, first, &req);
        let (second, again) = rig.one_start();
        assert_eq!(method_of(&again), "server/discover");
        assert_ne!(request_id_in(&again), request_id_in(&req), "a new JSON-RPC id");
        assert_eq!(header(&again, PROTOCOL_HEADER), Some("2026-07-28"));
        assert_eq!(meta_of(&again)["io.modelcontextprotocol/protocolVersion"], "2026-07-28");
        refuse(&mut rig, second, &again);
        assert_eq!(rig.starts(), vec![], "no third attempt");
        let reason = match rig.states().last() {
            Some(ConnectionState::Disconnected { reason: Some(r) }) => r.clone(),
            other => panic!("{other:?}"),
        };
        assert!(reason.contains("second time"), "{reason}");
    }

    #[test]
    fn older_servers_and_refusing_browsers_lead_to_initialize_with_the_step_said() {
        for (status, body) in [
            (404, ""),
            (405, "Method Not Allowed"),
            (
                400,
                r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: Server not initialized"}}"#,
            ),
            (0, ""),
        ] {
            let mut rig = Rig::new(TransportChoice::Auto);
            rig.engine.connect(rig.now);
            let (discover, _) = rig.one_start();
            if status == 0 {
                rig.engine.handle_failure(discover, NetworkFailure::Unreachable, rig.now);
            } else {
                rig.head(discover, status, "text/plain", None);
                rig.sse(discover, body);
                rig.end(discover);
            }
            let (_, init) = rig.one_start();
            assert_eq!(method_of(&init), "initialize", "after {status}");
            assert_eq!(header(&init, "mcp-method"), None, "no 2026 header to a 2025 server");
            assert_eq!(header(&init, PROTOCOL_HEADER), None);
            let steps = steps(&rig.events());
            assert!(steps.iter().any(|s| s.contains("initialize")), "{status}: {steps:?}");
        }
    }

    #[test]
    fn a_refused_discovery_of_a_legacy_sse_server_still_reaches_legacy_sse() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.engine.connect(rig.now);
        let (discover, _) = rig.one_start();
        rig.head(discover, 405, "", None);
        rig.end(discover);
        let (init, _) = rig.one_start();
        rig.head(init, 405, "", None);
        rig.end(init);
        let (_, get) = rig.one_start();
        assert_eq!((get.method, header(&get, "accept")), ("GET", Some("text/event-stream")));
    }

    #[test]
    fn cancelling_a_stateless_call_closes_its_stream_and_sends_nothing() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connected_stateless();
        rig.events();
        let id = rig.call("slow");
        let (stream, _) = rig.one_start();
        assert!(rig.engine.session_mut().cancel(&id, "changed my mind", rig.now));
        rig.engine.flush(rig.now);
        let outputs: Vec<Output> = std::iter::from_fn(|| rig.engine.poll_output()).collect();
        assert_eq!(outputs, vec![Output::Abort { stream }], "no notifications/cancelled");
    }

    #[test]
    fn a_call_refused_for_its_version_is_sent_again_once_in_the_offered_one() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connected_stateless();
        rig.events();
        let handle = rig.call("echo");
        let (stream, req) = rig.one_start();
        let id = request_id_in(&req);
        let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32022, "message": "no", "data": {"supported": ["2026-07-28"], "requested": "2026-07-28"}}});
        rig.answer_json(stream, 400, &body.to_string(), None);
        let (again_stream, again) = rig.one_start();
        assert_eq!(method_of(&again), "tools/call");
        assert_ne!(request_id_in(&again), id);
        let again_id = request_id_in(&again);
        let answer = json!({"jsonrpc": "2.0", "id": again_id, "result": {"content": []}});
        rig.answer_json(again_stream, 200, &answer.to_string(), None);
        let events = rig.events();
        assert!(
            session_events(&events)
                .iter()
                .any(|e| matches!(e, SessionEvent::Answered { id, .. } if *id == handle)),
            "the answer is reported under the id the caller knows: {events:?}"
        );
    }

    #[test]
    fn a_stateless_server_that_vanishes_is_probed_with_discover_until_it_is_back() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connected_stateless();
        rig.events();
        rig.engine.session_mut().list_tools(rig.now).unwrap_or_else(|e| panic!("{e}"));
        rig.engine.flush(rig.now);
        let (list, first) = rig.one_start();
        rig.engine.handle_failure(list, NetworkFailure::Unreachable, rig.now);
        let at = match rig.states().last() {
            Some(ConnectionState::Reconnecting { at, .. }) => *at,
            other => panic!("{other:?}"),
        };
        assert_eq!(rig.starts(), vec![], "the list waits");
        rig.advance_to(at);
        let (probe, req) = rig.one_start();
        assert_eq!(method_of(&req), "server/discover");
        rig.engine.handle_failure(probe, NetworkFailure::Unreachable, rig.now);
        let next = match rig.states().last() {
            Some(ConnectionState::Reconnecting { at: next, attempt, .. }) => {
                assert_eq!(*attempt, 2);
                *next
            }
            other => panic!("{other:?}"),
        };
        assert!(next > at);
        rig.advance_to(next);
        let (probe, _) = rig.one_start();
        rig.head(probe, 200, "application/json", None);
        let (_, resent) = rig.one_start();
        assert_eq!(method_of(&resent), "tools/list");
        assert_ne!(request_id_in(&resent), request_id_in(&first), "re-issued under a new id");
        assert!(matches!(rig.states().last(), Some(ConnectionState::Connected { .. })));
    }

    #[test]
    fn a_sign_in_asked_by_discover_is_never_taken_for_the_revision() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.engine.connect(rig.now);
        let (discover, _) = rig.one_start();
        rig.refuse(discover, 401, CHALLENGE);
        assert_eq!(rig.auth_events().len(), 1);
        rig.engine.resume_with_bearer(token("t1"), rig.now);
        let (_, again) = rig.one_start();
        assert_eq!(method_of(&again), "server/discover");
        assert_eq!(bearer_of(&again), Some("Bearer t1"));
    }

    #[test]
    fn stateless_calls_carry_their_tools_declared_headers_and_cors_failures_name_them() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.connected_stateless();
        rig.events();
        rig.engine.session_mut().list_tools(rig.now).unwrap_or_else(|e| panic!("{e}"));
        rig.engine.flush(rig.now);
        let (list, req) = rig.one_start();
        let tools = json!([
            {"name": "lookup", "inputSchema": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"}, "id": {"type": "integer"}}}},
            {"name": "broken", "inputSchema": {"type": "object", "properties": {
                "n": {"type": "number", "x-mcp-header": "N"}}}},
        ]);
        let body = json!({"jsonrpc": "2.0", "id": request_id_in(&req), "result": {"resultType": "complete", "tools": tools}});
        rig.answer_json(list, 200, &body.to_string(), None);
        let events = rig.events();
        let listed: Vec<&str> = session_events(&events)
            .iter()
            .find_map(|e| match e {
                SessionEvent::ToolsListed(t) => Some(t.iter().map(|t| t.name.as_str()).collect()),
                _ => None,
            })
            .unwrap_or_default();
        assert_eq!(listed, vec!["lookup"], "the tool with an invalid declaration is left out");
        assert!(
            session_events(&events).iter().any(|e| matches!(e,
                SessionEvent::RequestFailed { id: None, error: SessionError::ToolsLeftOut(why), .. }
                    if why.contains("broken") && why.contains("\"N\""))),
            "{events:?}"
        );

        let bad = rig.engine.session_mut().call_tool(
            "lookup",
            json!({"region": 5}).as_object().cloned().unwrap_or_default(),
            rig.now,
        );
        assert!(matches!(bad, Err(SessionError::BadArgument(s)) if s.contains("region")));
        assert_eq!(rig.starts(), vec![], "a bad argument is caught before sending");

        rig.engine
            .session_mut()
            .call_tool(
                "lookup",
                json!({"region": " eu west", "id": 7}).as_object().cloned().unwrap_or_default(),
                rig.now,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        rig.engine.flush(rig.now);
        let (call, req) = rig.one_start();
        assert_eq!(header(&req, "mcp-name"), Some("lookup"));
        assert_eq!(header(&req, "Mcp-Param-Region"), Some("=?base64?IGV1IHdlc3Q=?="));
        rig.engine.handle_failure(call, NetworkFailure::Unreachable, rig.now);
        let reason = match rig.states().last() {
            Some(ConnectionState::Reconnecting { reason, .. }) => reason.clone(),
            other => panic!("{other:?}"),
        };
        assert!(
            reason.contains("MCP-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Param-Region"),
            "{reason}"
        );
    }

    #[test]
    fn the_listen_stream_brings_notifications_and_is_reopened_when_it_closes() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.engine.connect(rig.now);
        let (discover, req) = rig.one_start();
        let mut result = discover_result(&["2026-07-28"]);
        result["capabilities"] =
            json!({"tools": {"listChanged": true}, "resources": {"subscribe": true}});
        let body = json!({"jsonrpc": "2.0", "id": request_id_in(&req), "result": result});
        rig.answer_json(discover, 200, &body.to_string(), None);
        let (listen, req) = rig.one_start();
        assert_eq!(method_of(&req), "subscriptions/listen");
        assert_eq!(header(&req, "mcp-method"), Some("subscriptions/listen"));
        rig.events();
        rig.head(listen, 200, "text/event-stream", None);
        rig.sse(listen, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/subscriptions/acknowledged\",\"params\":{\"notifications\":{\"toolsListChanged\":true}}}\n\n");
        rig.sse(listen, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\",\"params\":{}}\n\n");
        let events = rig.events();
        assert!(
            steps(&events).iter().any(|s| s.starts_with("Listening for updates")),
            "{events:?}"
        );
        assert!(
            session_events(&events).iter().any(|e| matches!(e, SessionEvent::Notification { method, .. } if method == "notifications/tools/list_changed")),
            "{events:?}"
        );

        // Reading a resource opens a listen that includes it, and closes the old stream.
        rig.engine
            .session_mut()
            .request(
                "resources/read",
                Some(json!({"uri": "note://a"})),
                Default::default(),
                rig.now,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        rig.engine.flush(rig.now);
        let (read, req) = rig.one_start();
        let body = json!({"jsonrpc": "2.0", "id": request_id_in(&req), "result": {"resultType": "complete", "contents": []}});
        rig.answer_json(read, 200, &body.to_string(), None);
        let outputs: Vec<Output> = std::iter::from_fn(|| rig.engine.poll_output()).collect();
        assert!(outputs.contains(&Output::Abort { stream: listen }), "{outputs:?}");
        let Some(Output::Start { stream: second, request }) =
            outputs.iter().find(|o| matches!(o, Output::Start { .. })).cloned()
        else {
            panic!("{outputs:?}")
        };
        assert!(request.body.unwrap_or_default().contains("note://a"));

        // The server closes it: no GET, no resumption; a new listen two seconds later.
        rig.head(second, 200, "text/event-stream", None);
        rig.end(second);
        assert_eq!(rig.starts(), vec![]);
        rig.events();
        rig.advance_to(rig.now + 2_000);
        let (_, again) = rig.one_start();
        assert_eq!(method_of(&again), "subscriptions/listen");
        let events = rig.events();
        assert!(
            session_events(&events).iter().any(|e| matches!(e, SessionEvent::Missed { resources, .. } if resources == &vec!["note://a".to_owned()])),
            "{events:?}"
        );
    }

    #[test]
    fn a_2xx_to_discover_that_is_not_a_discovery_still_allows_the_legacy_fallback() {
        let mut rig = Rig::new(TransportChoice::Auto);
        rig.engine.connect(rig.now);
        let (discover, req) = rig.one_start();
        let body = json!({"jsonrpc": "2.0", "id": request_id_in(&req), "result": {}});
        rig.answer_json(discover, 200, &body.to_string(), None);
        let (init, req) = rig.one_start();
        assert_eq!(method_of(&req), "initialize");
        rig.head(init, 404, "", None);
        rig.end(init);
        let (_, get) = rig.one_start();
        assert_eq!((get.method, header(&get, "accept")), ("GET", Some("text/event-stream")));
    }
}
