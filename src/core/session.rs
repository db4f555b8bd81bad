//! The MCP client session as a sans-IO state machine: the `initialize` handshake and version
//! negotiation, request ids and the pending table, per-request timeouts that end in
//! `notifications/cancelled`, and paginated listing. Messages go in through `handle_*`, come out
//! through `poll_*`, and time is always an argument — the caller owns I/O and the clock.

use crate::core::jsonrpc::{Message, RequestId, RpcError, codes};
use crate::core::protocol::{
    Implementation, InitializeResult, ListToolsResult, Tool, initialize_params, is_supported,
    SUPPORTED_VERSIONS,
};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, VecDeque};
use thiserror::Error;

/// Milliseconds on the caller's clock. Only differences matter.
pub type Millis = u64;

/// Limits a session runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// How long a request may wait for its answer.
    pub request_timeout: Millis,
    /// A server that keeps returning cursors is cut off after this many pages.
    pub max_pages: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig { request_timeout: 60_000, max_pages: 1_000 }
    }
}

/// What the server told us about itself during `initialize`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSummary {
    pub protocol_version: String,
    pub server_info: Implementation,
    pub capabilities: Map<String, Value>,
    pub instructions: Option<String>,
}

impl ServerSummary {
    /// True when the server declared the capability `name` (e.g. "tools").
    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities.contains_key(name)
    }
}

/// Where the session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Idle,
    Initializing,
    Ready,
    Closed,
}

/// Something the UI should learn about.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// The handshake finished; requests may flow.
    Ready(ServerSummary),
    /// Every page of `tools/list`, in server order.
    ToolsListed(Vec<Tool>),
    /// The session cannot go on.
    Failed(SessionError),
    /// One request failed; the session goes on.
    RequestFailed { method: String, error: SessionError },
    /// A notification from the server, passed through.
    Notification { method: String, params: Option<Value> },
}

/// What went wrong in the protocol layer, phrased for the person at the console.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SessionError {
    #[error(
        "The server speaks MCP revision {0:?}, which this console does not support (it supports {supported}). Use a server that supports one of those.",
        supported = SUPPORTED_VERSIONS.join(", ")
    )]
    UnsupportedVersion(String),
    #[error("The server's answer to {method} was not understood ({detail}). Check that the URL points at an MCP endpoint.")]
    BadResult { method: String, detail: String },
    #[error("The server refused {method}: {message} (JSON-RPC error {code}).")]
    Rpc { method: String, code: i64, message: String },
    #[error("The server did not answer {method} within {seconds} s, so the request was cancelled. Try again, or check that the server is healthy.")]
    TimedOut { method: String, seconds: u64 },
    #[error("The server kept returning more pages of {method} (over {pages}); the console stopped asking. The server's pagination looks broken.")]
    TooManyPages { method: String, pages: usize },
    #[error("{0}")]
    Transport(String),
    #[error("Not connected yet: connect to a server first.")]
    NotReady,
}

/// Why a request was sent, so its answer can be put to use.
#[derive(Debug, Clone, PartialEq)]
enum Purpose {
    Initialize,
    ListTools { so_far: Vec<Tool>, pages: usize },
    /// A request whose answer nobody waits for beyond success or failure.
    Plain,
}

#[derive(Debug, Clone, PartialEq)]
struct Pending {
    method: String,
    purpose: Purpose,
    deadline: Millis,
}

/// One MCP session with one server.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    phase: Phase,
    next_id: i64,
    pending: BTreeMap<RequestId, Pending>,
    transmit: VecDeque<Message>,
    events: VecDeque<SessionEvent>,
    server: Option<ServerSummary>,
}

impl Session {
    pub fn new(config: SessionConfig) -> Self {
        Session {
            config,
            phase: Phase::Idle,
            next_id: 0,
            pending: BTreeMap::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            server: None,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The negotiated revision, once `initialize` succeeded.
    pub fn protocol_version(&self) -> Option<&str> {
        self.server.as_ref().map(|s| s.protocol_version.as_str())
    }

    pub fn server(&self) -> Option<&ServerSummary> {
        self.server.as_ref()
    }

    /// Starts the handshake: queues `initialize`. Calling it again while running does nothing.
    pub fn connect(&mut self, now: Millis) {
        if self.phase != Phase::Idle {
            return;
        }
        self.phase = Phase::Initializing;
        self.send_request("initialize", Some(initialize_params()), Purpose::Initialize, now);
    }

    /// Asks for every page of `tools/list`; the whole list arrives as one
    /// [`SessionEvent::ToolsListed`].
    pub fn list_tools(&mut self, now: Millis) -> Result<RequestId, SessionError> {
        self.ensure_ready()?;
        Ok(self.send_request(
            "tools/list",
            None,
            Purpose::ListTools { so_far: Vec::new(), pages: 0 },
            now,
        ))
    }

    /// Sends `ping`.
    pub fn ping(&mut self, now: Millis) -> Result<RequestId, SessionError> {
        self.ensure_ready()?;
        Ok(self.send_request("ping", None, Purpose::Plain, now))
    }

    /// Ends the session locally: pending requests are dropped without cancellation (the transport
    /// tears the HTTP session down) and nothing more is sent.
    pub fn close(&mut self) {
        self.phase = Phase::Closed;
        self.pending.clear();
        self.transmit.clear();
    }

    /// Feeds one message that arrived from the server.
    pub fn handle_message(&mut self, message: Message, now: Millis) {
        if self.phase == Phase::Closed {
            return;
        }
        match message {
            Message::Response { id, result } => self.on_answer(id, Ok(result), now),
            Message::Error { id: Some(id), error } => self.on_answer(id, Err(error), now),
            Message::Error { id: None, error } => {
                // An error without id answers nothing we can match: the server could not parse
                // something we sent. Say so without failing the whole session.
                self.events.push_back(SessionEvent::RequestFailed {
                    method: "(unknown request)".into(),
                    error: SessionError::Rpc {
                        method: "(unknown request)".into(),
                        code: error.code,
                        message: error.message,
                    },
                });
            }
            Message::Request { id, method, .. } => self.on_server_request(id, &method),
            Message::Notification { method, params } => {
                self.events.push_back(SessionEvent::Notification { method, params });
            }
        }
    }

    /// The transport could not deliver request `id` or read its answer.
    pub fn handle_transport_failure(&mut self, id: &RequestId, error: String) {
        if let Some(p) = self.pending.remove(id) {
            self.fail(p, SessionError::Transport(error));
        }
    }

    /// Expires requests whose deadline has passed. Each expired request except `initialize`
    /// (which must never be cancelled) is followed by `notifications/cancelled`.
    pub fn handle_timeout(&mut self, now: Millis) {
        let expired: Vec<RequestId> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            let Some(p) = self.pending.remove(&id) else { continue };
            if !matches!(p.purpose, Purpose::Initialize) {
                self.transmit.push_back(Message::notification(
                    "notifications/cancelled",
                    Some(json!({"requestId": id_value(&id), "reason": "timed out"})),
                ));
            }
            let seconds = self.config.request_timeout / 1000;
            let method = p.method.clone();
            self.fail(p, SessionError::TimedOut { method, seconds });
        }
    }

    /// The next message to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Message> {
        self.transmit.pop_front()
    }

    /// The next event for the UI, if any.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// When `handle_timeout` should next be called.
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.pending.values().map(|p| p.deadline).min()
    }

    /// True while request `id` waits for its answer.
    pub fn is_pending(&self, id: &RequestId) -> bool {
        self.pending.contains_key(id)
    }

    /// Number of requests waiting for an answer.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    fn ensure_ready(&self) -> Result<(), SessionError> {
        if self.phase == Phase::Ready { Ok(()) } else { Err(SessionError::NotReady) }
    }

    fn send_request(
        &mut self,
        method: &str,
        params: Option<Value>,
        purpose: Purpose,
        now: Millis,
    ) -> RequestId {
        self.next_id += 1;
        let id = RequestId::Number(self.next_id);
        let deadline = now.saturating_add(self.config.request_timeout);
        self.pending.insert(id.clone(), Pending { method: method.to_owned(), purpose, deadline });
        self.transmit.push_back(Message::request(id.clone(), method, params));
        id
    }

    fn on_answer(&mut self, id: RequestId, answer: Result<Value, RpcError>, now: Millis) {
        // An answer to a request we no longer wait for (timed out, cancelled) is dropped.
        let Some(pending) = self.pending.remove(&id) else { return };
        let result = match answer {
            Ok(result) => result,
            Err(e) => {
                let method = pending.method.clone();
                self.fail(pending, SessionError::Rpc { method, code: e.code, message: e.message });
                return;
            }
        };
        match pending.purpose {
            Purpose::Initialize => self.on_initialized(result),
            Purpose::ListTools { so_far, pages } => self.on_tools_page(result, so_far, pages, now),
            Purpose::Plain => {}
        }
    }

    fn on_initialized(&mut self, result: Value) {
        let parsed: InitializeResult = match serde_json::from_value(result) {
            Ok(r) => r,
            Err(e) => {
                return self.fail_session(SessionError::BadResult {
                    method: "initialize".into(),
                    detail: e.to_string(),
                });
            }
        };
        if !is_supported(&parsed.protocol_version) {
            return self.fail_session(SessionError::UnsupportedVersion(parsed.protocol_version));
        }
        let summary = ServerSummary {
            protocol_version: parsed.protocol_version,
            server_info: parsed.server_info,
            capabilities: parsed.capabilities,
            instructions: parsed.instructions,
        };
        self.phase = Phase::Ready;
        self.server = Some(summary.clone());
        self.transmit.push_back(Message::notification("notifications/initialized", None));
        self.events.push_back(SessionEvent::Ready(summary));
    }

    fn on_tools_page(&mut self, result: Value, mut so_far: Vec<Tool>, pages: usize, now: Millis) {
        let page: ListToolsResult = match serde_json::from_value(result) {
            Ok(p) => p,
            Err(e) => {
                let error =
                    SessionError::BadResult { method: "tools/list".into(), detail: e.to_string() };
                self.events
                    .push_back(SessionEvent::RequestFailed { method: "tools/list".into(), error });
                return;
            }
        };
        so_far.extend(page.tools);
        let pages = pages + 1;
        match page.next_cursor {
            Some(cursor) if pages >= self.config.max_pages => {
                let _ = cursor;
                let error = SessionError::TooManyPages { method: "tools/list".into(), pages };
                self.events
                    .push_back(SessionEvent::RequestFailed { method: "tools/list".into(), error });
            }
            Some(cursor) => {
                self.send_request(
                    "tools/list",
                    Some(json!({ "cursor": cursor })),
                    Purpose::ListTools { so_far, pages },
                    now,
                );
            }
            None => self.events.push_back(SessionEvent::ToolsListed(so_far)),
        }
    }

    fn on_server_request(&mut self, id: RequestId, method: &str) {
        let reply = if method == "ping" {
            Message::Response { id, result: json!({}) }
        } else {
            // The console declares no client capabilities yet, so a conforming server sends no
            // other requests; anything else is answered as unknown rather than left hanging.
            Message::Error {
                id: Some(id),
                error: RpcError {
                    code: codes::METHOD_NOT_FOUND,
                    message: format!("the console does not handle {method}"),
                    data: None,
                },
            }
        };
        self.transmit.push_back(reply);
    }

    fn fail(&mut self, pending: Pending, error: SessionError) {
        if matches!(pending.purpose, Purpose::Initialize) {
            self.fail_session(error);
        } else {
            self.events.push_back(SessionEvent::RequestFailed { method: pending.method, error });
        }
    }

    fn fail_session(&mut self, error: SessionError) {
        self.close();
        self.events.push_back(SessionEvent::Failed(error));
    }
}

fn id_value(id: &RequestId) -> Value {
    match id {
        RequestId::Number(n) => Value::from(*n),
        RequestId::String(s) => Value::from(s.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scripted server on the other end of a session, driven on a fake clock.
    struct Pair {
        session: Session,
        now: Millis,
        sent: Vec<Message>,
    }

    impl Pair {
        fn new() -> Self {
            Pair { session: Session::new(SessionConfig::default()), now: 1_000, sent: Vec::new() }
        }

        /// Collects everything the session wants to send.
        fn drain(&mut self) -> Vec<Message> {
            let mut out = Vec::new();
            while let Some(m) = self.session.poll_transmit() {
                out.push(m.clone());
                self.sent.push(m);
            }
            out
        }

        fn events(&mut self) -> Vec<SessionEvent> {
            std::iter::from_fn(|| self.session.poll_event()).collect()
        }

        fn answer(&mut self, request: &Message, result: Value) {
            let Message::Request { id, .. } = request else { panic!("not a request: {request:?}") };
            self.session.handle_message(Message::Response { id: id.clone(), result }, self.now);
        }

        fn handshake(&mut self, version: &str) {
            self.session.connect(self.now);
            let out = self.drain();
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].method(), Some("initialize"));
            self.answer(
                &out[0],
                json!({
                    "protocolVersion": version,
                    "capabilities": {"tools": {"listChanged": true}},
                    "serverInfo": {"name": "scripted", "version": "9"}
                }),
            );
        }
    }

    fn tool(name: &str) -> Value {
        json!({"name": name, "inputSchema": {"type": "object"}})
    }

    #[test]
    fn handshake_sends_initialized_and_reports_ready() {
        let mut p = Pair::new();
        p.handshake("2025-11-25");
        let out = p.drain();
        assert_eq!(out, vec![Message::notification("notifications/initialized", None)]);
        let events = p.events();
        let [SessionEvent::Ready(summary)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!(summary.server_info.name, "scripted");
        assert!(summary.has_capability("tools"));
        assert_eq!(p.session.phase(), Phase::Ready);
    }

    #[test]
    fn every_older_supported_revision_is_accepted() {
        for v in ["2025-06-18", "2025-03-26", "2024-11-05"] {
            let mut p = Pair::new();
            p.handshake(v);
            assert_eq!(p.session.protocol_version(), Some(v));
        }
    }

    #[test]
    fn an_unknown_revision_fails_the_session_with_a_clear_message() {
        let mut p = Pair::new();
        p.handshake("2099-01-01");
        let events = p.events();
        let [SessionEvent::Failed(e)] = events.as_slice() else { panic!("{events:?}") };
        assert!(e.to_string().contains("2099-01-01"));
        assert_eq!(p.session.phase(), Phase::Closed);
        assert!(p.drain().is_empty(), "nothing may follow a refused handshake");
    }

    #[test]
    fn requests_before_ready_are_refused() {
        let mut p = Pair::new();
        assert_eq!(p.session.list_tools(p.now), Err(SessionError::NotReady));
    }

    #[test]
    fn tools_are_listed_across_every_page() {
        let mut p = Pair::new();
        p.handshake("2025-06-18");
        p.drain();
        p.events();
        p.session.list_tools(p.now).unwrap_or_else(|e| panic!("{e}"));
        let first = p.drain();
        assert_eq!(first[0].method(), Some("tools/list"));
        p.answer(&first[0], json!({"tools": [tool("a"), tool("b")], "nextCursor": "page2"}));
        let second = p.drain();
        let Message::Request { params, .. } = &second[0] else { panic!() };
        assert_eq!(params.as_ref().map(|p| p["cursor"].clone()), Some(json!("page2")));
        p.answer(&second[0], json!({"tools": [tool("c")]}));
        let events = p.events();
        let [SessionEvent::ToolsListed(tools)] = events.as_slice() else { panic!("{events:?}") };
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn endless_pagination_is_cut_off() {
        let mut p = Pair::new();
        p.session = Session::new(SessionConfig { max_pages: 3, ..SessionConfig::default() });
        p.handshake("2025-06-18");
        p.drain();
        p.events();
        p.session.list_tools(p.now).unwrap_or_else(|e| panic!("{e}"));
        for _ in 0..3 {
            let out = p.drain();
            assert_eq!(out.len(), 1);
            p.answer(&out[0], json!({"tools": [], "nextCursor": "same"}));
        }
        assert!(p.drain().is_empty());
        let events = p.events();
        assert!(matches!(
            events.as_slice(),
            [SessionEvent::RequestFailed { error: SessionError::TooManyPages { .. }, .. }]
        ));
    }

    #[test]
    fn a_timed_out_request_is_cancelled_on_the_wire() {
        let mut p = Pair::new();
        p.handshake("2025-11-25");
        p.drain();
        p.events();
        let id = p.session.list_tools(p.now).unwrap_or_else(|e| panic!("{e}"));
        p.drain();
        let deadline = p.session.poll_timeout().unwrap_or_default();
        p.session.handle_timeout(deadline - 1);
        assert!(p.drain().is_empty(), "nothing fires before the deadline");
        p.session.handle_timeout(deadline);
        let out = p.drain();
        assert_eq!(
            out,
            vec![Message::notification(
                "notifications/cancelled",
                Some(json!({"requestId": id_value(&id), "reason": "timed out"}))
            )]
        );
        assert!(matches!(
            p.events().as_slice(),
            [SessionEvent::RequestFailed { error: SessionError::TimedOut { .. }, .. }]
        ));
        // A late answer is ignored.
        p.session.handle_message(Message::Response { id, result: json!({"tools": []}) }, p.now);
        assert!(p.events().is_empty());
    }

    #[test]
    fn initialize_is_never_cancelled_but_its_timeout_ends_the_session() {
        let mut p = Pair::new();
        p.session.connect(p.now);
        p.drain();
        p.session.handle_timeout(p.now + SessionConfig::default().request_timeout);
        assert!(p.drain().is_empty());
        assert!(matches!(p.events().as_slice(), [SessionEvent::Failed(SessionError::TimedOut { .. })]));
    }

    #[test]
    fn server_ping_is_answered_and_unknown_requests_are_refused() {
        let mut p = Pair::new();
        p.handshake("2025-11-25");
        p.drain();
        p.session.handle_message(Message::request(RequestId::String("p".into()), "ping", None), p.now);
        p.session.handle_message(
            Message::request(RequestId::Number(5), "sampling/createMessage", None),
            p.now,
        );
        let out = p.drain();
        assert_eq!(out[0], Message::Response { id: RequestId::String("p".into()), result: json!({}) });
        assert!(matches!(&out[1], Message::Error { error, .. } if error.code == codes::METHOD_NOT_FOUND));
    }

    #[test]
    fn rpc_errors_and_transport_failures_reach_the_ui() {
        let mut p = Pair::new();
        p.handshake("2025-11-25");
        p.drain();
        p.events();
        let a = p.session.list_tools(p.now).unwrap_or_else(|e| panic!("{e}"));
        let b = p.session.ping(p.now).unwrap_or_else(|e| panic!("{e}"));
        p.session.handle_message(
            Message::Error {
                id: Some(a),
                error: RpcError { code: -32603, message: "boom".into(), data: None },
            },
            p.now,
        );
        p.session.handle_transport_failure(&b, "The server closed the connection.".into());
        let events = p.events();
        assert_eq!(events.len(), 2);
        assert!(events[0].clone() == SessionEvent::RequestFailed {
            method: "tools/list".into(),
            error: SessionError::Rpc { method: "tools/list".into(), code: -32603, message: "boom".into() }
        });
        assert_eq!(p.session.pending_count(), 0);
    }

    #[test]
    fn a_malformed_initialize_result_fails_with_a_sentence() {
        let mut p = Pair::new();
        p.session.connect(p.now);
        let out = p.drain();
        p.answer(&out[0], json!({"capabilities": 5}));
        let events = p.events();
        let [SessionEvent::Failed(e)] = events.as_slice() else { panic!("{events:?}") };
        assert!(e.to_string().starts_with("The server's answer to initialize was not understood"));
    }
}
