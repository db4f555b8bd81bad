//! The MCP client session as a sans-IO state machine: the `initialize` handshake and version
//! negotiation, request ids and the pending table, per-request timeouts that end in
//! `notifications/cancelled`, progress that extends a request's time up to a maximum, user
//! cancellation, paginated listing, server notifications and server-to-client requests surfaced
//! for the UI to answer, and a restart that re-sends only what is safe to repeat. Messages go in
//! through `handle_*`, come out through `poll_*`, and time is always an argument.

use crate::core::json::FromJson;
use crate::core::jsonrpc::{Message, RequestId, RpcError, codes};
use crate::core::map::SortedMap;
use crate::core::mcp_headers::{ParamHeader, param_header_values, param_headers_of};
use crate::core::negotiation::{self, Probe, UNSUPPORTED_VERSION, Verdict};
use crate::core::protocol::{
    Implementation, InitializeResult, META_LOG_LEVEL, STATELESS_VERSIONS, Tool, add_request_meta,
    initialize_params, is_supported, spoken_versions,
};
use crate::core::tasks::{self, TaskReport};
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::collections::VecDeque;
use thiserror::Error;

/// Milliseconds on the caller's clock. Only differences matter.
pub type Millis = u64;

/// Limits a session runs under.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    /// How long a request may wait for its answer (or for its next progress notification).
    pub request_timeout: Millis,
    /// However much progress arrives, a request is cancelled after this long.
    pub max_total_timeout: Millis,
    /// A server that keeps returning cursors is cut off after this many pages.
    pub max_pages: usize,
    /// The client capabilities declared in `initialize`; server requests for undeclared
    /// features are refused without bothering the UI.
    pub capabilities: Map<String, Value>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            request_timeout: 60_000,
            max_total_timeout: 30 * 60_000,
            max_pages: 1_000,
            capabilities: Map::new(),
        }
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

/// The paginated lists a server offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ListKind {
    Tools,
    Resources,
    ResourceTemplates,
    Prompts,
}

impl ListKind {
    pub fn method(self) -> &'static str {
        match self {
            ListKind::Tools => "tools/list",
            ListKind::Resources => "resources/list",
            ListKind::ResourceTemplates => "resources/templates/list",
            ListKind::Prompts => "prompts/list",
        }
    }

    fn field(self) -> &'static str {
        match self {
            ListKind::Tools => "tools",
            ListKind::Resources => "resources",
            ListKind::ResourceTemplates => "resourceTemplates",
            ListKind::Prompts => "prompts",
        }
    }
}

/// How one request is timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestOptions {
    /// Ask the server for progress notifications (adds `_meta.progressToken`).
    pub progress: bool,
    /// Overrides the session's per-request timeout.
    pub timeout: Option<Millis>,
}

/// Something the UI should learn about.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// The handshake finished; requests may flow.
    Ready(ServerSummary),
    /// Every page of `tools/list`, in server order.
    ToolsListed(Vec<Tool>),
    /// Every page of another list, as raw items.
    Listed { kind: ListKind, items: Vec<Value> },
    /// The answer to a request made with [`Session::request`] or [`Session::call_tool`].
    Answered { id: RequestId, method: String, result: Value },
    /// The session cannot go on.
    Failed(SessionError),
    /// One request failed; the session goes on.
    RequestFailed { id: Option<RequestId>, method: String, error: SessionError },
    /// Progress on one of our requests.
    Progress { id: RequestId, progress: f64, total: Option<f64>, message: Option<String> },
    /// The server asks something of the client; answer with [`Session::respond`].
    ServerRequest { id: RequestId, method: String, params: Option<Value> },
    /// The server withdrew one of its requests.
    ServerRequestCancelled { id: RequestId, reason: Option<String> },
    /// Any other notification from the server (log messages, list changes, updates).
    Notification { method: String, params: Option<Value> },
    /// A step of finding out how to talk to the server, for the connection trace.
    Step(String),
    /// Where a task that call `id` became stands: `status` as the server says it (`working`,
    /// `input_required`), with its message.
    TaskStatus { id: RequestId, status: String, message: Option<String> },
    /// Notifications may have been lost (a listen stream ended and is open again): these lists
    /// and watched resources may have changed meanwhile.
    Missed { lists: Vec<ListKind>, resources: Vec<String> },
    /// A stateless server needs answers before it can finish request `id` (an `input_required`
    /// result): answer each with [`Session::respond`] and [`AskId::Input`]; once all are in, the
    /// request goes again with them. `round` counts from 1; 0 when the call's task asks (each
    /// answer then goes to the task at once).
    InputRequired { id: RequestId, method: String, round: u32, requests: Vec<InputRequest> },
}

/// Who waits for the person's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AskId {
    /// A request the server sent (2025-11-25 and older).
    Server(RequestId),
    /// Input `key` that a stateless server asked for in its answer to `request`.
    Input { request: RequestId, key: String },
}

/// One input a stateless server asks for: a request it cannot send itself.
#[derive(Debug, Clone, PartialEq)]
pub struct InputRequest {
    pub key: String,
    pub method: String,
    pub params: Option<Value>,
}

/// How long a listen stream must have stayed open to count as working.
const LISTEN_HELD: Millis = 30_000;

/// Times a request is sent again after replies without its answer before the console gives up.
const MAX_LOST: u32 = 2;

/// Inputs one `input_required` answer or task report may ask for at once, and a task in all:
/// more is a server flooding the person with questions.
const MAX_INPUTS: usize = 16;
const MAX_TASK_INPUTS: usize = 64;

/// Rounds of `input_required` after which the console stops asking the person: a server that
/// keeps asking is looping. (The TypeScript SDK's bound too.)
pub const MAX_INPUT_ROUNDS: u32 = 10;

/// The methods a stateless server may ask for as input, and the client capability each needs.
const INPUT_METHODS: [(&str, &str); 3] = [
    ("elicitation/create", "elicitation"),
    ("sampling/createMessage", "sampling"),
    ("roots/list", "roots"),
];

/// What went wrong in the protocol layer, phrased for the person at the console.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SessionError {
    #[error(
        "The server speaks MCP revision {0:?}, which this console does not support (it supports {supported}). Use a server that supports one of those.",
        supported = spoken_versions()
    )]
    UnsupportedVersion(String),
    /// The revision negotiation ended without one both sides speak; the sentence says why.
    #[error("{0}")]
    Negotiation(String),
    #[error(
        "The server's answer to {method} was not understood ({detail}). Check that the URL points at an MCP endpoint."
    )]
    BadResult { method: String, detail: String },
    #[error("The server refused {method}: {message} (JSON-RPC error {code}).")]
    Rpc { method: String, code: i64, message: String },
    #[error(
        "The server did not answer {method} within {seconds} s, so the request was cancelled. Try again, or check that the server is healthy."
    )]
    TimedOut { method: String, seconds: u64 },
    #[error("You cancelled {method}; the server was told to stop.")]
    Cancelled { method: String },
    #[error(
        "The connection broke while the server was working on {method}; it may or may not have finished. Check its effects before you repeat it."
    )]
    MayHaveRun { method: String },
    #[error(
        "The server kept returning more pages of {method} (over {pages}); the console stopped asking. The server's pagination looks broken."
    )]
    TooManyPages { method: String, pages: usize },
    #[error("{0}")]
    Transport(String),
    #[error("Not connected yet: connect to a server first.")]
    NotReady,
    #[error(
        "The server still asked for input after {rounds} rounds of {method}, so the console stopped; the server looks stuck in a loop. Check its logs."
    )]
    EndlessInput { method: String, rounds: u32 },
    #[error("You declined what the server asked for, so {method} was not completed.")]
    InputDeclined { method: String },
    #[error(
        "The server's replies to {method} came without its answer {times} times, so the console stopped asking. Check the server's logs."
    )]
    NoAnswer { method: String, times: u32 },
    /// Tools whose `x-mcp-header` declarations are invalid, which the revision says to leave out.
    #[error(
        "The console left out tools whose x-mcp-header declarations are invalid (the server must fix them): {0}."
    )]
    ToolsLeftOut(String),
    /// An argument that cannot go in the header its tool declares for it.
    #[error("{0}")]
    BadArgument(String),
}

/// Why a request was sent, so its answer can be put to use.
#[derive(Debug, Clone, PartialEq)]
enum Purpose {
    /// `server/discover`, asked first to learn whether the server speaks a stateless revision.
    Discover,
    Initialize,
    List {
        kind: ListKind,
        so_far: Vec<Value>,
        pages: usize,
        /// Until when every page so far may be kept without asking again (`ttlMs`).
        fresh_until: Millis,
    },
    /// An answer the UI waits for as [`SessionEvent::Answered`].
    Answer,
    /// `subscriptions/listen` (stateless revisions): open until it ends; its notifications are the
    /// point, its result only says it ended.
    Listen,
    /// `resources/subscribe` (handshake revisions): the answer only says it was taken.
    Watch,
    /// `tasks/get` for the task of the call the caller knows as `handle`.
    TaskGet {
        handle: RequestId,
    },
    /// `tasks/update` or `tasks/cancel`: acknowledged, nothing more.
    TaskNote,
    /// (2025-11-25) `tasks/result` for the task of call `handle`: waits for its end.
    TaskResult {
        handle: RequestId,
    },
}

/// A task the server runs for a tool call (Tasks extension), polled until it ends.
#[derive(Debug, Clone, PartialEq)]
struct Task {
    id: String,
    poll_every: Millis,
    /// When to ask `tasks/get` next; `None` while one is out.
    next_poll: Option<Millis>,
    /// The input keys already put to the person: a task asks each once.
    asked: Vec<String>,
    /// A 2025-11-25 task (its own wire, see `core::tasks`).
    of_2025: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct Pending {
    /// The id the caller knows the request by: its first id on the wire. A stateless revision
    /// sends a request again under a new id (another revision, a lost reply), and events still
    /// name the request by this one.
    handle: RequestId,
    /// Sent again already after an unsupported-version error: a second one is final.
    retried: bool,
    /// Rounds of `input_required` answered so far.
    round: u32,
    /// Times it was sent again because a reply came without its answer.
    lost: u32,
    method: String,
    params: Option<Value>,
    purpose: Purpose,
    started: Millis,
    timeout: Millis,
    deadline: Millis,
    progress_token: Option<Value>,
}

/// Methods whose repetition cannot change anything on the server: after a lost connection they
/// are sent again without asking. Everything else (notably `tools/call`) is reported instead.
pub fn is_safe_to_repeat(method: &str) -> bool {
    matches!(
        method,
        "ping"
            | "tools/list"
            | "resources/list"
            | "resources/templates/list"
            | "resources/read"
            | "prompts/list"
            | "prompts/get"
            | "completion/complete"
            | "logging/setLevel"
            | "resources/subscribe"
            | "resources/unsubscribe"
            | "tasks/get"
    )
}

/// A request waiting for the person's answers to what the server asked in its reply.
#[derive(Debug, Clone, PartialEq)]
struct Rounds {
    /// The request as first made: every round sends it again with that round's answers.
    request: Pending,
    round: u32,
    /// The server's state for this round, echoed byte for byte.
    request_state: Option<String>,
    /// Keys still to be answered.
    open: Vec<String>,
    answers: Map<String, Value>,
}

/// Which family of revisions the session speaks.
#[derive(Debug, Clone, PartialEq)]
enum Era {
    /// `initialize` opens a session that the transport keeps (2025-11-25 and older).
    Handshake,
    /// Every request names `version` in its `_meta` (2026-07-28); while `server/discover` is
    /// unanswered this is the revision it was asked in.
    Stateless { version: String },
}

/// One MCP session with one server.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    era: Era,
    phase: Phase,
    next_id: i64,
    pending: SortedMap<RequestId, Pending>,
    /// Requests to send again once a restarted session is ready.
    parked: Vec<(RequestId, Pending)>,
    /// Server requests the UI has not answered yet.
    open_server_requests: SortedMap<RequestId, String>,
    /// Requests whose server asked for input, by the id the caller knows them by.
    awaiting_input: SortedMap<RequestId, Rounds>,
    /// The `Mcp-Param-*` headers each listed tool declares (stateless revisions only).
    tool_headers: SortedMap<String, Vec<ParamHeader>>,
    /// Resources read once, whose updates the server is asked for when it offers them.
    watched: Vec<String>,
    /// Watched resources that changed while being read: read again once that read ends.
    stale: Vec<String>,
    /// When to open `subscriptions/listen` again after it ended, how many ended in a row soon
    /// after opening (the delay doubles with them), and when the open one was opened.
    relisten_at: Option<Millis>,
    listen_failures: u32,
    listen_opened_at: Option<Millis>,
    /// Until when each list may be kept without asking again (its `ttlMs`); a change
    /// notification ends it.
    fresh_until: SortedMap<ListKind, Millis>,
    /// Tasks that tool calls became, by the id the caller knows the call by.
    tasks: SortedMap<RequestId, Task>,
    /// (2025-11-25) Tools that run only as tasks (`execution.taskSupport: "required"`).
    task_tools: Vec<String>,
    /// The log level the person chose, sent with every stateless request (that revision has no
    /// `logging/setLevel`).
    log_level: Option<String>,
    transmit: VecDeque<Message>,
    events: VecDeque<SessionEvent>,
    server: Option<ServerSummary>,
}

impl Session {
    pub fn new(config: SessionConfig) -> Self {
        Session {
            config,
            era: Era::Handshake,
            phase: Phase::Idle,
            next_id: 0,
            pending: SortedMap::new(),
            parked: Vec::new(),
            open_server_requests: SortedMap::new(),
            awaiting_input: SortedMap::new(),
            tool_headers: SortedMap::new(),
            watched: Vec::new(),
            stale: Vec::new(),
            relisten_at: None,
            listen_failures: 0,
            listen_opened_at: None,
            fresh_until: SortedMap::new(),
            tasks: SortedMap::new(),
            task_tools: Vec::new(),
            log_level: None,
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

    /// True when requests carry their revision in `_meta` (2026-07-28): no session id, no
    /// handshake, no notifications from the client. True while `server/discover` is out, too.
    pub fn is_stateless(&self) -> bool {
        matches!(self.era, Era::Stateless { .. })
    }

    /// Starts the handshake: queues `initialize`. Calling it again while running does nothing.
    pub fn connect(&mut self, now: Millis) {
        if self.phase != Phase::Idle {
            return;
        }
        self.phase = Phase::Initializing;
        self.send_initialize(now);
    }

    /// Starts by asking `server/discover` in the newest stateless revision; what comes back
    /// decides (see [`negotiation::judge`]) between that revision and the `initialize`
    /// handshake. Calling it again while running does nothing.
    pub fn discover(&mut self, now: Millis) {
        if self.phase != Phase::Idle {
            return;
        }
        self.phase = Phase::Initializing;
        let version = STATELESS_VERSIONS[0];
        self.era = Era::Stateless { version: version.to_owned() };
        self.step(format!("Asked server/discover in MCP {version}."));
        self.send("server/discover", None, Purpose::Discover, RequestOptions::default(), now);
    }

    /// A `server/discover` that nothing waits for, to find out whether a stateless server that
    /// went away is back: any successful reply means it is.
    pub fn probe(&mut self) -> Option<Message> {
        let Era::Stateless { version } = &self.era else { return None };
        let mut params = Map::new();
        add_request_meta(&mut params, version, &self.config.capabilities);
        self.next_id += 1;
        let id = RequestId::Number(self.next_id);
        Some(Message::request(id, "server/discover", Some(Value::Object(params))))
    }

    /// Request `id` got no JSON-RPC answer: an HTTP error status without one, or no readable
    /// reply. Returns true when it was `server/discover`, which this settles (usually by
    /// falling back to `initialize`); the caller then does nothing more about it.
    pub fn discovery_failed(&mut self, id: &RequestId, probe: Probe, now: Millis) -> bool {
        if !matches!(self.pending.get(id), Some(p) if matches!(p.purpose, Purpose::Discover)) {
            return false;
        }
        let Some(pending) = self.pending.remove(id) else { return false };
        let verdict = negotiation::judge(probe, pending.retried);
        self.on_verdict(verdict, pending, now);
        true
    }

    fn on_verdict(&mut self, verdict: Verdict, pending: Pending, now: Millis) {
        match verdict {
            Verdict::Stateless { version, discovered } => {
                self.step(format!(
                    "The server speaks MCP {version}: no session, every request names the revision."
                ));
                self.era = Era::Stateless { version: version.clone() };
                self.become_ready(
                    ServerSummary {
                        protocol_version: version,
                        server_info: discovered.server_info,
                        capabilities: discovered.capabilities,
                        instructions: discovered.instructions,
                    },
                    now,
                );
            }
            Verdict::Retry { version } => {
                self.step(format!(
                    "The server asked for another revision; asking again in MCP {version}."
                ));
                self.era = Era::Stateless { version };
                self.resend(pending, true, now);
            }
            Verdict::Handshake { why } => {
                self.step(why);
                self.era = Era::Handshake;
                self.send_initialize(now);
            }
            Verdict::Fail(sentence) => self.fail_session(SessionError::Negotiation(sentence)),
        }
    }

    fn step(&mut self, line: String) {
        self.events.push_back(SessionEvent::Step(line));
    }

    fn send_initialize(&mut self, now: Millis) {
        let mut params = initialize_params();
        params["capabilities"] = Value::Object(self.config.capabilities.clone());
        self.send("initialize", Some(params), Purpose::Initialize, RequestOptions::default(), now);
    }

    /// The server forgot our session (or a new one is needed): start over with a fresh
    /// `initialize`. Requests still waiting are sent again once the new session is ready when
    /// the server provably never ran them (`not_run`) or when they are safe to repeat; the
    /// others fail with [`SessionError::MayHaveRun`], so a tool call is never silently repeated.
    pub fn restart(&mut self, now: Millis, not_run: &[RequestId]) {
        if self.phase == Phase::Closed {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        for (id, p) in pending {
            if matches!(p.purpose, Purpose::Initialize) {
                continue;
            }
            if not_run.contains(&id) || is_safe_to_repeat(&p.method) {
                self.parked.push((id, p));
            } else {
                let method = p.method.clone();
                self.events.push_back(SessionEvent::RequestFailed {
                    id: Some(id),
                    method: method.clone(),
                    error: SessionError::MayHaveRun { method },
                });
            }
        }
        // Server requests belong to the old session; answers to them would go nowhere.
        self.open_server_requests.clear();
        self.transmit.retain(|m| !matches!(m, Message::Response { .. } | Message::Error { .. }));
        self.server = None;
        self.phase = Phase::Initializing;
        self.send_initialize(now);
    }

    /// Starts every pending request's clock again at `now`: the time spent waiting for a sign-in
    /// does not count against a request's timeout.
    pub fn restart_deadlines(&mut self, now: Millis) {
        for p in self.pending.values_mut() {
            p.started = now;
            p.deadline = now.saturating_add(p.timeout);
        }
    }

    /// The transport lost request `id` without an answer and cannot resume its stream: repeat it
    /// when that is safe, otherwise report that it may have run.
    pub fn handle_lost(&mut self, id: &RequestId, now: Millis) {
        let Some(p) = self.pending.get(id) else { return };
        if matches!(p.purpose, Purpose::Listen) {
            self.pending.remove(id);
            return self.listen_ended(now);
        }
        if matches!(p.purpose, Purpose::Discover) && self.is_stateless() {
            // A reply to server/discover that did not answer it: not a stateless server.
            let Some(p) = self.pending.remove(id) else { return };
            let verdict = negotiation::judge(Probe::Unanswered, p.retried);
            return self.on_verdict(verdict, p, now);
        }
        if p.lost >= MAX_LOST {
            // A server whose replies keep leaving the answer out would be asked for ever.
            let Some(p) = self.pending.remove(id) else { return };
            let method = p.method.clone();
            return self.fail(p, SessionError::NoAnswer { method, times: MAX_LOST + 1 });
        }
        let repeatable = matches!(p.purpose, Purpose::Initialize | Purpose::Discover)
            || is_safe_to_repeat(&p.method);
        let message = Message::request(id.clone(), p.method.clone(), p.params.clone());
        if let Some(p) = self.pending.get_mut(id) {
            p.lost += 1;
        }
        if repeatable && self.is_stateless() {
            // A stateless revision re-issues a lost request under a new id.
            if let Some(p) = self.pending.remove(id) {
                let retried = p.retried;
                self.resend(p, retried, now);
            }
        } else if repeatable {
            if let Some(p) = self.pending.get_mut(id) {
                p.deadline =
                    now.saturating_add(p.timeout).min(p.started + self.config.max_total_timeout);
            }
            self.transmit.push_back(message);
        } else if let Some(p) = self.pending.remove(id) {
            let method = p.method.clone();
            self.fail(p, SessionError::MayHaveRun { method });
        }
    }

    /// Asks for every page of a list; it arrives whole as [`SessionEvent::ToolsListed`] (tools)
    /// or [`SessionEvent::Listed`].
    pub fn list(&mut self, kind: ListKind, now: Millis) -> Result<RequestId, SessionError> {
        self.ensure_ready()?;
        let purpose =
            Purpose::List { kind, so_far: Vec::new(), pages: 0, fresh_until: Millis::MAX };
        Ok(self.send(kind.method(), None, purpose, RequestOptions::default(), now))
    }

    /// Asks for every page of `tools/list`.
    pub fn list_tools(&mut self, now: Millis) -> Result<RequestId, SessionError> {
        self.list(ListKind::Tools, now)
    }

    /// Sends any request; its result arrives as [`SessionEvent::Answered`].
    pub fn request(
        &mut self,
        method: &str,
        params: Option<Value>,
        options: RequestOptions,
        now: Millis,
    ) -> Result<RequestId, SessionError> {
        self.ensure_ready()?;
        Ok(self.send(method, params, Purpose::Answer, options, now))
    }

    /// Calls a tool, asking for progress.
    pub fn call_tool(
        &mut self,
        name: &str,
        arguments: Map<String, Value>,
        now: Millis,
    ) -> Result<RequestId, SessionError> {
        if let Some(declared) = self.tool_headers.get(name) {
            // Caught here, so the person fixes the argument before anything is sent.
            param_header_values(declared, &arguments)
                .map_err(|e| SessionError::BadArgument(e.to_string()))?;
        }
        let mut params = json!({ "name": name, "arguments": arguments });
        if self.task_tools.iter().any(|t| t == name) {
            // (2025-11-25) The tool runs only as a task.
            params["task"] = json!({});
        }
        self.request(
            "tools/call",
            Some(params),
            RequestOptions { progress: true, timeout: None },
            now,
        )
    }

    /// Asks for the server's log from `level` up (empty: the server's default): by
    /// `logging/setLevel` in a session, on every later request in a stateless revision.
    pub fn set_log_level(&mut self, level: &str, now: Millis) -> Result<(), SessionError> {
        self.ensure_ready()?;
        if self.is_stateless() {
            self.log_level = (!level.is_empty()).then(|| level.to_owned());
        } else if !level.is_empty() {
            let params = json!({ "level": level });
            self.send(
                "logging/setLevel",
                Some(params),
                Purpose::Watch,
                RequestOptions::default(),
                now,
            );
        }
        Ok(())
    }

    /// Sends `ping`.
    pub fn ping(&mut self, now: Millis) -> Result<RequestId, SessionError> {
        self.request("ping", None, RequestOptions::default(), now)
    }

    /// The user gave up on request `id`: the server is told with `notifications/cancelled`.
    /// `initialize` is never cancelled. Returns false when there was nothing to cancel.
    pub fn cancel(&mut self, handle: &RequestId, reason: &str, now: Millis) -> bool {
        if self.tasks.contains_key(handle) {
            let method = "tools/call".to_owned();
            self.cancel_task(handle, now, SessionError::Cancelled { method });
            return true;
        }
        if let Some(rounds) = self.awaiting_input.remove(handle) {
            // Between rounds nothing is on the wire: there is nothing to tell the server.
            let method = rounds.request.method.clone();
            self.fail(rounds.request, SessionError::Cancelled { method });
            return true;
        }
        let Some(id) = self.wire_id(handle) else { return false };
        let id = &id;
        let Some(p) = self.pending.get(id) else { return false };
        if matches!(p.purpose, Purpose::Initialize | Purpose::Discover) {
            return false;
        }
        let Some(p) = self.pending.remove(id) else { return false };
        // Over a stateless revision the client sends no notifications: the transport closes
        // the request's stream instead, which is the cancellation.
        if !self.is_stateless() {
            self.transmit.push_back(cancelled_notification(id, reason));
        }
        let method = p.method.clone();
        self.fail(p, SessionError::Cancelled { method });
        true
    }

    /// Answers a server request surfaced as [`SessionEvent::ServerRequest`]. Answers to requests
    /// that are no longer open (cancelled by the server, or from an old session) are dropped.
    pub fn respond(&mut self, ask: &AskId, answer: Result<Value, RpcError>, now: Millis) {
        match ask {
            AskId::Server(id) => {
                if self.open_server_requests.remove(id).is_none() {
                    return;
                }
                self.transmit.push_back(match answer {
                    Ok(result) => Message::Response { id: id.clone(), result },
                    Err(error) => Message::Error { id: Some(id.clone()), error },
                });
            }
            AskId::Input { request, key } => self.on_input(request, key, answer, now),
        }
    }

    /// The person answered input `key` of `handle`'s round: once every input is in, the request
    /// goes again with the answers and the server's state. A refusal ends the request.
    fn on_input(
        &mut self,
        handle: &RequestId,
        key: &str,
        answer: Result<Value, RpcError>,
        now: Millis,
    ) {
        if let Some(task) = self.tasks.get(handle) {
            // A task's answers go to it one by one; it goes on by itself.
            let task_id = task.id.clone();
            return match answer {
                Ok(answer) => {
                    let params = json!({ "taskId": task_id, "inputResponses": { key: answer } });
                    self.send(
                        "tasks/update",
                        Some(params),
                        Purpose::TaskNote,
                        RequestOptions::default(),
                        now,
                    );
                }
                Err(_) => self.cancel_task(
                    handle,
                    now,
                    SessionError::InputDeclined { method: "tools/call".into() },
                ),
            };
        }
        let Some(rounds) = self.awaiting_input.get_mut(handle) else { return };
        let Some(at) = rounds.open.iter().position(|k| k == key) else { return };
        let answer = match answer {
            Ok(answer) => answer,
            Err(_) => {
                let Some(rounds) = self.awaiting_input.remove(handle) else { return };
                let method = rounds.request.method.clone();
                return self.fail(rounds.request, SessionError::InputDeclined { method });
            }
        };
        rounds.open.remove(at);
        rounds.answers.insert(key.to_owned(), answer);
        if rounds.open.is_empty() {
            self.send_next_round(handle, now);
        }
    }

    /// Sends `handle` again with this round's answers and state, under a new id.
    fn send_next_round(&mut self, handle: &RequestId, now: Millis) {
        let Some(rounds) = self.awaiting_input.remove(handle) else { return };
        let mut request = rounds.request.clone();
        let mut params = match request.params.take() {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        if !rounds.answers.is_empty() {
            params.insert("inputResponses".into(), Value::Object(rounds.answers));
        }
        if let Some(state) = rounds.request_state {
            params.insert("requestState".into(), Value::String(state));
        }
        request.params = Some(Value::Object(params));
        request.round = rounds.round;
        // The person's time to answer does not count against the request.
        request.started = now;
        let retried = request.retried;
        self.resend(request, retried, now);
    }

    /// A stateless server answered `pending` with `input_required`: the person is asked for
    /// each input (roots too, which the caller answers from its list), or, when the server only
    /// sent its state, the request goes again at once. Malformed answers and endless rounds end
    /// the request with a sentence.
    fn on_input_required(&mut self, pending: Pending, result: Value, now: Millis) {
        let method = pending.method.clone();
        let bad = |detail: &str| SessionError::BadResult {
            method: method.clone(),
            detail: detail.into(),
        };
        if !matches!(method.as_str(), "tools/call" | "prompts/get" | "resources/read") {
            return self.fail(pending, bad("input_required is not allowed for this method"));
        }
        let round = pending.round + 1;
        if round > MAX_INPUT_ROUNDS {
            return self
                .fail(pending, SessionError::EndlessInput { method, rounds: MAX_INPUT_ROUNDS });
        }
        let request_state = match result.get("requestState") {
            None => None,
            Some(Value::String(state)) => Some(state.clone()),
            Some(_) => return self.fail(pending, bad("requestState is not a string")),
        };
        let requests = match input_requests(result.get("inputRequests"), &self.config.capabilities)
        {
            Ok(requests) => requests,
            Err(detail) => return self.fail(pending, bad(&detail)),
        };
        if requests.is_empty() && request_state.is_none() {
            return self.fail(
                pending,
                bad("input_required carries neither inputRequests nor requestState"),
            );
        }
        // The first round's params are the request as made; later rounds start from them too.
        let mut request = pending;
        if let Some(Value::Object(params)) = &mut request.params {
            params.remove("inputResponses");
            params.remove("requestState");
        }
        let handle = request.handle.clone();
        let open = requests.iter().map(|r| r.key.clone()).collect();
        self.awaiting_input.insert(
            handle.clone(),
            Rounds { request, round, request_state, open, answers: Map::new() },
        );
        if requests.is_empty() {
            // Only the server's state: nothing to ask, so go again now.
            return self.send_next_round(&handle, now);
        }
        self.events.push_back(SessionEvent::InputRequired { id: handle, method, round, requests });
    }

    /// Sends a notification (e.g. `notifications/roots/list_changed`). A stateless revision
    /// has none from the client, so there it is dropped.
    pub fn notify(&mut self, method: &str, params: Option<Value>) -> Result<(), SessionError> {
        self.ensure_ready()?;
        if !self.is_stateless() {
            self.transmit.push_back(Message::notification(method, params));
        }
        Ok(())
    }

    /// Ends the session locally: pending requests are dropped without cancellation (the transport
    /// tears the HTTP session down) and nothing more is sent.
    pub fn close(&mut self) {
        self.phase = Phase::Closed;
        self.pending.clear();
        self.parked.clear();
        self.open_server_requests.clear();
        self.awaiting_input.clear();
        self.tasks.clear();
        self.relisten_at = None;
        self.listen_opened_at = None;
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
                let method = "(unknown request)".to_owned();
                self.events.push_back(SessionEvent::RequestFailed {
                    id: None,
                    method: method.clone(),
                    error: SessionError::Rpc { method, code: error.code, message: error.message },
                });
            }
            Message::Request { id, method, params } => self.on_server_request(id, method, params),
            Message::Notification { method, params } => self.on_notification(method, params, now),
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
        if self.phase == Phase::Closed {
            return;
        }
        let due: Vec<(RequestId, String)> = self
            .tasks
            .iter_mut()
            .filter(|(_, t)| t.next_poll.is_some_and(|at| at <= now))
            .map(|(handle, t)| {
                t.next_poll = None;
                (handle.clone(), t.id.clone())
            })
            .collect();
        for (handle, task_id) in due {
            let params = json!({ "taskId": task_id });
            self.send(
                "tasks/get",
                Some(params),
                Purpose::TaskGet { handle },
                RequestOptions::default(),
                now,
            );
        }
        if self.relisten_at.is_some_and(|at| at <= now) {
            self.relisten_at = None;
            self.listen(now);
            let lists = self.listed_kinds(now);
            let resources = self.watched.clone();
            self.events.push_back(SessionEvent::Missed { lists, resources });
        }
        let expired: Vec<RequestId> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            let Some(p) = self.pending.remove(&id) else { continue };
            if !matches!(p.purpose, Purpose::Initialize | Purpose::Discover) && !self.is_stateless()
            {
                self.transmit.push_back(cancelled_notification(&id, "timed out"));
            }
            let seconds = now.saturating_sub(p.started) / 1000;
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
        let polls = self.tasks.values().filter_map(|t| t.next_poll);
        self.pending.values().map(|p| p.deadline).chain(self.relisten_at).chain(polls).min()
    }

    /// The `Mcp-Param-*` headers of `message`: a stateless `tools/call` of a tool that declares
    /// some carries its arguments' values in them.
    pub fn param_headers(&self, message: &Message) -> Vec<(Cow<'static, str>, String)> {
        let Message::Request { method, params: Some(params), .. } = message else {
            return Vec::new();
        };
        let name = params.get("name").and_then(Value::as_str).unwrap_or_default();
        match (method.as_str(), self.tool_headers.get(name), params.get("arguments")) {
            ("tools/call", Some(declared), Some(Value::Object(arguments))) => {
                param_header_values(declared, arguments).unwrap_or_default()
            }
            _ => Vec::new(),
        }
    }

    /// True while request `id` (as sent on the wire) waits for its answer.
    pub fn is_pending(&self, id: &RequestId) -> bool {
        self.pending.contains_key(id)
    }

    /// The id on the wire of the request the caller knows as `handle`.
    fn wire_id(&self, handle: &RequestId) -> Option<RequestId> {
        self.pending.iter().find(|(_, p)| &p.handle == handle).map(|(id, _)| id.clone())
    }

    /// Number of requests waiting for an answer.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    fn ensure_ready(&self) -> Result<(), SessionError> {
        if self.phase == Phase::Ready { Ok(()) } else { Err(SessionError::NotReady) }
    }

    fn send(
        &mut self,
        method: &str,
        params: Option<Value>,
        purpose: Purpose,
        options: RequestOptions,
        now: Millis,
    ) -> RequestId {
        self.next_id += 1;
        let id = RequestId::Number(self.next_id);
        let mut params = params;
        let progress_token = options.progress.then(|| Value::from(self.next_id));
        if let Some(token) = &progress_token {
            let mut p = match params.take() {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            let meta = p.entry("_meta").or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(meta) = meta {
                meta.insert("progressToken".into(), token.clone());
            }
            params = Some(Value::Object(p));
        }
        let timeout = options.timeout.unwrap_or(self.config.request_timeout);
        let deadline = now.saturating_add(timeout);
        let pending = Pending {
            handle: id.clone(),
            retried: false,
            round: 0,
            lost: 0,
            method: method.to_owned(),
            params,
            purpose,
            started: now,
            timeout,
            deadline,
            progress_token,
        };
        self.transmit_pending(id.clone(), pending);
        id
    }

    /// Sends `pending` again under a new id, in the revision now in use: a stateless revision's
    /// answer to an unsupported version, or a lost reply. Its deadline starts again.
    fn resend(&mut self, mut pending: Pending, retried: bool, now: Millis) {
        self.next_id += 1;
        pending.retried = retried;
        pending.deadline = now
            .saturating_add(pending.timeout)
            .min(pending.started.saturating_add(self.config.max_total_timeout));
        self.transmit_pending(RequestId::Number(self.next_id), pending);
    }

    /// Queues `pending` as request `id`, with the `_meta` a stateless revision requires.
    fn transmit_pending(&mut self, id: RequestId, mut pending: Pending) {
        if let Era::Stateless { version } = &self.era {
            let mut params = match pending.params.take() {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            // A call may become a task, and a task's own requests must say they know tasks.
            let capabilities =
                if pending.method == "tools/call" || pending.method.starts_with("tasks/") {
                    tasks::with_extension(&self.config.capabilities)
                } else {
                    self.config.capabilities.clone()
                };
            add_request_meta(&mut params, version, &capabilities);
            if let (Some(level), Some(Value::Object(meta))) =
                (&self.log_level, params.get_mut("_meta"))
            {
                meta.insert(META_LOG_LEVEL.into(), Value::String(level.clone()));
            }
            pending.params = Some(Value::Object(params));
        }
        let message = Message::request(id.clone(), pending.method.clone(), pending.params.clone());
        self.pending.insert(id, pending);
        self.transmit.push_back(message);
    }

    fn on_answer(&mut self, id: RequestId, answer: Result<Value, RpcError>, now: Millis) {
        // An answer to a request we no longer wait for (timed out, cancelled) is dropped.
        let Some(pending) = self.pending.remove(&id) else { return };
        if matches!(pending.purpose, Purpose::Discover) {
            let probe = match &answer {
                Ok(result) => Probe::Result(result),
                Err(e) => Probe::Error { code: e.code, message: &e.message, data: e.data.as_ref() },
            };
            let verdict = negotiation::judge(probe, pending.retried);
            return self.on_verdict(verdict, pending, now);
        }
        let result = match answer {
            Ok(result) => result,
            Err(e) if e.code == UNSUPPORTED_VERSION && self.is_stateless() => {
                return self.on_unsupported_version(pending, e.data.as_ref(), now);
            }
            Err(e) => {
                let method = pending.method.clone();
                let error = SessionError::Rpc { method, code: e.code, message: e.message };
                self.fail(pending, error);
                return;
            }
        };
        if self.is_stateless()
            && matches!(pending.purpose, Purpose::List { .. })
            && !matches!(result.get("resultType").and_then(Value::as_str), None | Some("complete"))
        {
            let method = pending.method.clone();
            let detail = "a list must be answered complete".to_owned();
            return self.fail(pending, SessionError::BadResult { method, detail });
        }
        if self.is_stateless() && matches!(pending.purpose, Purpose::Answer) {
            match result.get("resultType").map(|t| t.as_str()) {
                // Absent: a server of an older revision behind the same answer.
                None | Some(Some("complete")) => {}
                Some(Some("input_required")) => {
                    return self.on_input_required(pending, result, now);
                }
                Some(Some("task")) if pending.method == "tools/call" => {
                    return self.on_task_report(pending.handle.clone(), &result, now);
                }
                Some(other) => {
                    let detail =
                        format!("unknown resultType {}", other.unwrap_or("(not a string)"));
                    let method = pending.method.clone();
                    return self.fail(pending, SessionError::BadResult { method, detail });
                }
            }
        }
        if !self.is_stateless()
            && pending.method == "tools/call"
            && matches!(pending.purpose, Purpose::Answer)
            && pending.params.as_ref().is_some_and(|p| p.get("task").is_some())
            && let Some(task) = result.get("task")
        {
            return self.on_task_2025(pending.handle.clone(), task, now);
        }
        let id = pending.handle.clone();
        if pending.method == "resources/read"
            && let Some(uri) =
                pending.params.as_ref().and_then(|p| p.get("uri")).and_then(Value::as_str)
        {
            let uri = uri.to_owned();
            // Changed again while it was being read: read it once more.
            if let Some(at) = self.stale.iter().position(|s| *s == uri) {
                self.stale.remove(at);
                let method = "notifications/resources/updated".to_owned();
                let params = Some(json!({ "uri": uri }));
                self.events.push_back(SessionEvent::Notification { method, params });
            }
            self.watch(uri, now);
        }
        match pending.purpose {
            Purpose::Discover | Purpose::Watch | Purpose::TaskNote => {}
            // (A task ended meanwhile — cancelled, say — stays ended.)
            Purpose::TaskGet { handle } if self.tasks.contains_key(&handle) => {
                self.on_task_report(handle, &result, now)
            }
            Purpose::TaskGet { .. } => {}
            Purpose::TaskResult { handle } if self.tasks.contains_key(&handle) => {
                self.tasks.remove(&handle);
                let method = "tools/call".into();
                self.events.push_back(SessionEvent::Answered { id: handle, method, result });
            }
            Purpose::TaskResult { .. } => {}
            // The server ended the subscription on purpose; it is opened again after a while.
            Purpose::Listen => self.listen_ended(now),
            Purpose::Initialize => self.on_initialized(result, now),
            Purpose::List { kind, so_far, pages, fresh_until } => {
                self.on_list_page(kind, result, so_far, (pages, fresh_until), now)
            }
            Purpose::Answer => {
                self.events.push_back(SessionEvent::Answered { id, method: pending.method, result })
            }
        }
    }

    /// A stateless request was refused for its revision: send it again once in one the server
    /// offers (which later requests then use too), or fail it with the reason.
    fn on_unsupported_version(&mut self, pending: Pending, data: Option<&Value>, now: Millis) {
        let verdict = match negotiation::offered(data) {
            Some(offered) => negotiation::unsupported(&offered, pending.retried),
            None => Verdict::Fail(format!(
                "The server refused {} as an unsupported protocol version without saying which it supports; reconnect to negotiate again.",
                pending.method
            )),
        };
        match verdict {
            Verdict::Retry { version } => {
                self.era = Era::Stateless { version };
                self.resend(pending, true, now);
            }
            Verdict::Handshake { .. } => {
                let sentence = format!(
                    "The server refused {} in this revision and now offers only older ones; connect again to speak one of them.",
                    pending.method
                );
                self.fail(pending, SessionError::Negotiation(sentence));
            }
            Verdict::Fail(why) => self.fail(pending, SessionError::Negotiation(why)),
            Verdict::Stateless { .. } => {}
        }
    }

    fn on_initialized(&mut self, result: Value, now: Millis) {
        let parsed = match InitializeResult::from_json(result) {
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
        self.step(format!("initialize: the server chose MCP {}.", summary.protocol_version));
        self.transmit.push_back(Message::notification("notifications/initialized", None));
        self.become_ready(summary, now);
    }

    fn become_ready(&mut self, summary: ServerSummary, now: Millis) {
        self.phase = Phase::Ready;
        self.server = Some(summary.clone());
        self.events.push_back(SessionEvent::Ready(summary));
        if self.is_stateless() {
            self.listen(now);
        } else {
            // A new session (the server forgot the old one) knows no subscriptions.
            for uri in self.watched.clone() {
                self.subscribe(&uri, now);
            }
        }
        // Requests carried over from a session the server forgot go out again, same ids.
        for (id, mut p) in std::mem::take(&mut self.parked) {
            p.deadline = now.saturating_add(p.timeout);
            p.started = now;
            self.transmit.push_back(Message::request(
                id.clone(),
                p.method.clone(),
                p.params.clone(),
            ));
            self.pending.insert(id, p);
        }
    }

    /// True while a `resources/read` of `uri` waits for its answer.
    fn reading(&self, uri: &str) -> bool {
        self.pending.values().any(|p| {
            p.method == "resources/read"
                && p.params.as_ref().and_then(|p| p.get("uri")).and_then(Value::as_str) == Some(uri)
        })
    }

    /// Asks for updates of resource `uri` from now on, if the server offers them: by
    /// `resources/subscribe` in a session, by a new `subscriptions/listen` (which replaces the
    /// open one) in a stateless revision.
    fn watch(&mut self, uri: String, now: Millis) {
        let offered = self
            .server
            .as_ref()
            .and_then(|s| s.capabilities.get("resources"))
            .and_then(|r| r.get("subscribe"))
            .and_then(Value::as_bool)
            == Some(true);
        if !offered || self.watched.contains(&uri) {
            return;
        }
        self.watched.push(uri.clone());
        if self.is_stateless() {
            self.listen(now);
        } else {
            self.subscribe(&uri, now);
        }
    }

    fn subscribe(&mut self, uri: &str, now: Millis) {
        let params = json!({ "uri": uri });
        self.send(
            "resources/subscribe",
            Some(params),
            Purpose::Watch,
            RequestOptions::default(),
            now,
        );
    }

    /// Opens `subscriptions/listen` for what the server offers: list changes and the watched
    /// resources. An open one is dropped first (the transport closes its stream).
    fn listen(&mut self, now: Millis) {
        self.pending.retain(|_, p| !matches!(p.purpose, Purpose::Listen));
        let Some(filter) = self.listen_filter() else { return };
        self.listen_opened_at = Some(now);
        // It stays open as long as the server keeps it: no deadline.
        let options = RequestOptions { progress: false, timeout: Some(Millis::MAX) };
        self.send(
            "subscriptions/listen",
            Some(json!({ "notifications": filter })),
            Purpose::Listen,
            options,
            now,
        );
    }

    /// What to listen for: the list changes the server declares it sends, and the watched
    /// resources when it offers subscriptions; `None` when that is nothing.
    fn listen_filter(&self) -> Option<Value> {
        let capabilities = &self.server.as_ref()?.capabilities;
        let flag = |cap: &str, key: &str| {
            capabilities.get(cap).and_then(|c| c.get(key)).and_then(Value::as_bool) == Some(true)
        };
        let mut filter = Map::new();
        for (cap, key) in [
            ("tools", "toolsListChanged"),
            ("prompts", "promptsListChanged"),
            ("resources", "resourcesListChanged"),
        ] {
            if flag(cap, "listChanged") {
                filter.insert(key.into(), Value::Bool(true));
            }
        }
        if flag("resources", "subscribe") && !self.watched.is_empty() {
            filter.insert("resourceSubscriptions".into(), json!(self.watched));
        }
        (!filter.is_empty()).then_some(Value::Object(filter))
    }

    /// The listen stream ended (a result, a cancellation, a lost stream): open it again after
    /// two seconds, doubling while it keeps ending soon after opening, up to a minute.
    fn listen_ended(&mut self, now: Millis) {
        // Only a stream that stayed open a while counts as working: a server that ends every
        // listen at once (acknowledged or not) is asked less and less often.
        if self.listen_opened_at.is_some_and(|at| now.saturating_sub(at) >= LISTEN_HELD) {
            self.listen_failures = 0;
        }
        self.listen_opened_at = None;
        let delay = 2_000u64.saturating_mul(1 << self.listen_failures.min(5)).min(60_000);
        self.listen_failures = self.listen_failures.saturating_add(1);
        self.relisten_at = Some(now.saturating_add(delay));
    }

    /// The lists a gap in listening may have left stale: those the server offers, except the
    /// ones still within the `ttlMs` it gave them.
    fn listed_kinds(&self, now: Millis) -> Vec<ListKind> {
        let Some(server) = &self.server else { return Vec::new() };
        let fresh = |kind: &ListKind| self.fresh_until.get(kind).is_some_and(|until| now < *until);
        [
            ("tools", ListKind::Tools),
            ("resources", ListKind::Resources),
            ("prompts", ListKind::Prompts),
        ]
        .into_iter()
        .filter(|(cap, kind)| server.has_capability(cap) && !fresh(kind))
        .map(|(_, kind)| kind)
        .collect()
    }

    /// A report on the task of call `handle` (its creation or a `tasks/get` answer).
    fn on_task_report(&mut self, handle: RequestId, result: &Value, now: Millis) {
        let method = "tools/call".to_owned();
        let of_2025 = self.tasks.get(&handle).is_some_and(|t| t.of_2025);
        let report = if of_2025 { tasks::read_2025(result) } else { tasks::read(result) };
        let report = match report {
            Ok(report) => report,
            Err(detail) => {
                self.tasks.remove(&handle);
                return self.fail_handle(handle, SessionError::BadResult { method, detail });
            }
        };
        let task = self.tasks.get_or_insert_with(handle.clone(), || Task {
            id: report.task_id.clone(),
            poll_every: tasks::poll_delay(None),
            next_poll: None,
            asked: Vec::new(),
            of_2025,
        });
        task.id.clone_from(&report.task_id);
        if let Some(every) = report.poll_every {
            task.poll_every = tasks::poll_delay(Some(every));
        }
        task.next_poll = Some(now.saturating_add(task.poll_every));
        match report.state {
            TaskReport::Working { message } => {
                let status = "working".into();
                self.events.push_back(SessionEvent::TaskStatus { id: handle, status, message });
            }
            TaskReport::InputRequired { message, requests } => {
                let fresh: Map<String, Value> =
                    requests.into_iter().filter(|(key, _)| !task.asked.contains(key)).collect();
                if task.asked.len() + fresh.len() > MAX_TASK_INPUTS {
                    let detail = format!(
                        "the task asked for more than {MAX_TASK_INPUTS} inputs, so the console stopped it"
                    );
                    return self.cancel_task(
                        &handle,
                        now,
                        SessionError::BadResult { method, detail },
                    );
                }
                task.asked.extend(fresh.keys().cloned());
                let status = "input_required".into();
                self.events.push_back(SessionEvent::TaskStatus {
                    id: handle.clone(),
                    status,
                    message,
                });
                match input_requests(Some(&Value::Object(fresh)), &self.config.capabilities) {
                    Ok(requests) if requests.is_empty() => {}
                    Ok(requests) => self.events.push_back(SessionEvent::InputRequired {
                        id: handle,
                        method,
                        round: 0,
                        requests,
                    }),
                    Err(detail) => {
                        self.cancel_task(&handle, now, SessionError::BadResult { method, detail })
                    }
                }
            }
            TaskReport::Completed { result } => {
                self.tasks.remove(&handle);
                self.events.push_back(SessionEvent::Answered { id: handle, method, result });
            }
            TaskReport::Failed { code, message } => {
                self.tasks.remove(&handle);
                self.fail_handle(handle, SessionError::Rpc { method, code, message });
            }
            TaskReport::Cancelled => {
                self.tasks.remove(&handle);
                self.fail_handle(handle, SessionError::Cancelled { method });
            }
            TaskReport::Ready { message } => {
                // Polling ends: tasks/result brings the end, and any question before it.
                task.next_poll = None;
                let params = json!({ "taskId": task.id });
                let status = "waiting for its result".into();
                self.events.push_back(SessionEvent::TaskStatus {
                    id: handle.clone(),
                    status,
                    message,
                });
                let options = RequestOptions {
                    progress: false,
                    timeout: Some(self.config.max_total_timeout),
                };
                self.send(
                    "tasks/result",
                    Some(params),
                    Purpose::TaskResult { handle },
                    options,
                    now,
                );
            }
        }
    }

    /// A 2025-11-25 call that asked for a task got one (`{task: …}`): poll it from now on.
    fn on_task_2025(&mut self, handle: RequestId, task: &Value, now: Millis) {
        let placeholder = Task {
            id: String::new(),
            poll_every: 0,
            next_poll: None,
            asked: Vec::new(),
            of_2025: true,
        };
        self.tasks.insert(handle.clone(), placeholder);
        self.on_task_report(handle, task, now);
    }

    /// `tasks/get` failed: an unknown task ends the call; a lost or late answer is asked again
    /// at the next interval (the task runs on at the server).
    fn task_poll_failed(&mut self, handle: RequestId, pending: &Pending, error: SessionError) {
        let Some(task) = self.tasks.get_mut(&handle) else { return };
        match error {
            SessionError::Rpc { code, .. } if code == codes::INVALID_PARAMS => {
                let id = task.id.clone();
                self.tasks.remove(&handle);
                let sentence = format!(
                    "The server no longer knows task {id} (it expired, or the server lost it), so its result cannot be had; call the tool again."
                );
                self.fail_handle(handle, SessionError::Negotiation(sentence));
            }
            SessionError::Rpc { .. } => {
                self.tasks.remove(&handle);
                self.fail_handle(handle, error);
            }
            _ => task.next_poll = Some(pending.deadline.saturating_add(task.poll_every)),
        }
    }

    /// Asks the server to stop the task of call `handle` and ends the call with `error`.
    fn cancel_task(&mut self, handle: &RequestId, now: Millis, error: SessionError) {
        let Some(task) = self.tasks.remove(handle) else { return };
        let params = json!({ "taskId": task.id });
        self.send("tasks/cancel", Some(params), Purpose::TaskNote, RequestOptions::default(), now);
        self.fail_handle(handle.clone(), error);
    }

    /// Ends call `handle` with `error` (it has no pending request of its own); a poll or a
    /// `tasks/result` still out for it is no longer waited for.
    fn fail_handle(&mut self, handle: RequestId, error: SessionError) {
        self.awaiting_input.remove(&handle);
        self.pending.retain(|_, p| {
            !matches!(&p.purpose, Purpose::TaskGet { handle: h } | Purpose::TaskResult { handle: h } if *h == handle)
        });
        let method = "tools/call".to_owned();
        self.events.push_back(SessionEvent::RequestFailed { id: Some(handle), method, error });
    }

    fn on_list_page(
        &mut self,
        kind: ListKind,
        result: Value,
        mut so_far: Vec<Value>,
        (pages, fresh_until): (usize, Millis),
        now: Millis,
    ) {
        // A page may be kept for its `ttlMs` (absent or negative: not at all); the list as long
        // as its stalest page.
        let ttl = result.get("ttlMs").and_then(Value::as_u64).unwrap_or(0);
        let fresh_until = fresh_until.min(now.saturating_add(ttl));
        let method = kind.method().to_owned();
        let bad = |detail: String| SessionError::BadResult { method: method.clone(), detail };
        let Value::Object(mut page) = result else {
            let error = bad("the result is not an object".into());
            self.events.push_back(SessionEvent::RequestFailed {
                id: None,
                method: method.clone(),
                error,
            });
            return;
        };
        match page.remove(kind.field()) {
            Some(Value::Array(items)) => so_far.extend(items),
            _ => {
                let error = bad(format!("the result has no {:?} array", kind.field()));
                self.events.push_back(SessionEvent::RequestFailed {
                    id: None,
                    method: method.clone(),
                    error,
                });
                return;
            }
        }
        let pages = pages + 1;
        let cursor = match page.remove("nextCursor") {
            Some(Value::String(c)) => Some(c),
            _ => None,
        };
        match cursor {
            Some(_) if pages >= self.config.max_pages => {
                let error = SessionError::TooManyPages { method: method.clone(), pages };
                self.events.push_back(SessionEvent::RequestFailed { id: None, method, error });
            }
            Some(cursor) => {
                self.send(
                    kind.method(),
                    Some(json!({ "cursor": cursor })),
                    Purpose::List { kind, so_far, pages, fresh_until },
                    RequestOptions::default(),
                    now,
                );
            }
            None if kind == ListKind::Tools => {
                self.fresh_until.insert(kind, fresh_until);
                // Read where they are: `json!` would copy every page's tools through serde first.
                match so_far.into_iter().map(Tool::from_json).collect() {
                    Ok(tools) => {
                        let tools = self.keep_valid_headers(tools);
                        self.events.push_back(SessionEvent::ToolsListed(tools));
                    }
                    Err(e) => {
                        let error = bad(e.to_string());
                        self.events.push_back(SessionEvent::RequestFailed {
                            id: None,
                            method,
                            error,
                        });
                    }
                }
            }
            None => {
                self.fresh_until.insert(kind, fresh_until);
                self.events.push_back(SessionEvent::Listed { kind, items: so_far })
            }
        }
    }

    /// Over a stateless revision, records each tool's `Mcp-Param-*` declarations and leaves out
    /// the tools whose declarations are invalid, saying which and why.
    fn keep_valid_headers(&mut self, tools: Vec<Tool>) -> Vec<Tool> {
        self.tool_headers = SortedMap::new();
        if !self.is_stateless() {
            let required = |t: &&Tool| {
                t.extra.get("execution").and_then(|e| e.get("taskSupport")).and_then(Value::as_str)
                    == Some("required")
            };
            self.task_tools = tools.iter().filter(required).map(|t| t.name.clone()).collect();
            return tools;
        }
        let mut left_out = Vec::new();
        let mut kept = Vec::with_capacity(tools.len());
        for tool in tools {
            match param_headers_of(&tool.input_schema) {
                Ok(declared) => {
                    if !declared.is_empty() {
                        self.tool_headers.insert(tool.name.clone(), declared);
                    }
                    kept.push(tool);
                }
                Err(why) => left_out.push(format!("{} ({why})", tool.name)),
            }
        }
        if !left_out.is_empty() {
            let method = "tools/list".to_owned();
            let error = SessionError::ToolsLeftOut(left_out.join("; "));
            self.events.push_back(SessionEvent::RequestFailed { id: None, method, error });
        }
        kept
    }

    fn on_notification(&mut self, method: String, params: Option<Value>, now: Millis) {
        match method.as_str() {
            "notifications/progress" => {
                let Some(p) = params.as_ref() else { return };
                let token = p.get("progressToken");
                let max_total = self.config.max_total_timeout;
                let found = self.pending.values_mut().find(|pending| {
                    pending.progress_token.is_some() && pending.progress_token.as_ref() == token
                });
                let Some(pending) = found else { return };
                // Progress shows the server is working: extend the deadline, but never past
                // the maximum total time.
                pending.deadline = now
                    .saturating_add(pending.timeout)
                    .min(pending.started.saturating_add(max_total));
                let id = pending.handle.clone();
                let progress = p.get("progress").and_then(Value::as_f64).unwrap_or(0.0);
                let total = p.get("total").and_then(Value::as_f64);
                let message = p.get("message").and_then(Value::as_str).map(str::to_owned);
                self.events.push_back(SessionEvent::Progress { id, progress, total, message });
            }
            "notifications/subscriptions/acknowledged" => {
                let honoured = params
                    .as_ref()
                    .and_then(|p| p.get("notifications"))
                    .and_then(Value::as_object)
                    .map(|n| n.keys().cloned().collect::<Vec<_>>().join(", "))
                    .unwrap_or_default();
                self.step(format!("Listening for updates (the server agreed to: {honoured})."));
            }
            "notifications/cancelled" => {
                let Some(p) = params.as_ref() else { return };
                let Some(id) = p.get("requestId").and_then(request_id_of) else { return };
                if matches!(self.pending.get(&id), Some(l) if matches!(l.purpose, Purpose::Listen))
                {
                    self.pending.remove(&id);
                    return self.listen_ended(now);
                }
                if self.open_server_requests.remove(&id).is_some() {
                    let reason = p.get("reason").and_then(Value::as_str).map(str::to_owned);
                    self.events.push_back(SessionEvent::ServerRequestCancelled { id, reason });
                }
            }
            "notifications/tools/list_changed"
            | "notifications/prompts/list_changed"
            | "notifications/resources/list_changed" => {
                let kind = match method.as_str() {
                    "notifications/tools/list_changed" => ListKind::Tools,
                    "notifications/prompts/list_changed" => ListKind::Prompts,
                    _ => ListKind::Resources,
                };
                self.fresh_until.remove(&kind);
                self.events.push_back(SessionEvent::Notification { method, params });
            }
            // Only updates that were asked for: a server cannot make the console read at will.
            // Only updates that were asked for, and only of what the person read: the watched
            // resource is read again, at most once at a time.
            "notifications/resources/updated" => {
                let uri = params.as_ref().and_then(|p| p.get("uri")).and_then(Value::as_str);
                let Some(watched) =
                    uri.and_then(|uri| self.watched.iter().find(|w| within(uri, w)))
                else {
                    return;
                };
                let watched = watched.clone();
                if self.reading(&watched) {
                    if !self.stale.contains(&watched) {
                        self.stale.push(watched);
                    }
                    return;
                }
                let params = Some(json!({ "uri": watched }));
                self.events.push_back(SessionEvent::Notification { method, params });
            }
            _ => self.events.push_back(SessionEvent::Notification { method, params }),
        }
    }

    fn on_server_request(&mut self, id: RequestId, method: String, params: Option<Value>) {
        let needed = match method.as_str() {
            "ping" => {
                self.transmit.push_back(Message::Response { id, result: json!({}) });
                return;
            }
            "roots/list" => Some("roots"),
            "sampling/createMessage" => Some("sampling"),
            "elicitation/create" => Some("elicitation"),
            _ => None,
        };
        match needed {
            Some(cap) if self.config.capabilities.contains_key(cap) => {
                self.open_server_requests.insert(id.clone(), method.clone());
                self.events.push_back(SessionEvent::ServerRequest { id, method, params });
            }
            _ => {
                // Undeclared or unknown: refused at once rather than left hanging.
                self.transmit.push_back(Message::Error {
                    id: Some(id),
                    error: RpcError {
                        code: codes::METHOD_NOT_FOUND,
                        message: format!("the console does not handle {method}"),
                        data: None,
                    },
                });
            }
        }
    }

    fn fail(&mut self, pending: Pending, error: SessionError) {
        // (A request that is failed while waiting for input is no longer waiting.)
        self.awaiting_input.remove(&pending.handle);
        if let Purpose::TaskGet { handle } = &pending.purpose {
            return self.task_poll_failed(handle.clone(), &pending, error);
        }
        if let Purpose::TaskResult { handle } = &pending.purpose {
            self.tasks.remove(handle);
            return self.fail_handle(handle.clone(), error);
        }
        if matches!(pending.purpose, Purpose::TaskNote) {
            return self.step(format!("{} went unanswered: {error}", pending.method));
        }
        if matches!(pending.purpose, Purpose::Listen | Purpose::Watch) {
            // Updates are a convenience: their refusal goes to the connection trace, and the
            // session goes on without them.
            return self.step(format!(
                "{} was refused, so lists and resources will not update by themselves: {error}",
                pending.method
            ));
        }
        if matches!(pending.purpose, Purpose::Initialize | Purpose::Discover) {
            self.fail_session(error);
        } else {
            self.events.push_back(SessionEvent::RequestFailed {
                id: Some(pending.handle),
                method: pending.method,
                error,
            });
        }
    }

    fn fail_session(&mut self, error: SessionError) {
        self.close();
        self.events.push_back(SessionEvent::Failed(error));
    }
}

/// Whether `uri` is `watched` or a part of it (a path below it, a fragment, a query), as an
/// update of a subscribed resource may name.
fn within(uri: &str, watched: &str) -> bool {
    match uri.strip_prefix(watched) {
        Some("") => true,
        Some(rest) => watched.ends_with('/') || rest.starts_with(['/', '#', '?']),
        None => false,
    }
}

/// Reads `inputRequests`: each a method the console declared it can answer, with object params.
fn input_requests(
    value: Option<&Value>,
    capabilities: &Map<String, Value>,
) -> Result<Vec<InputRequest>, String> {
    let Some(value) = value else { return Ok(Vec::new()) };
    let Value::Object(map) = value else { return Err("inputRequests is not an object".into()) };
    if map.len() > MAX_INPUTS {
        return Err(format!(
            "it asks for {} inputs at once; the console answers at most {MAX_INPUTS}",
            map.len()
        ));
    }
    map.iter()
        .map(|(key, request)| {
            let method = request.get("method").and_then(Value::as_str).unwrap_or_default();
            let Some((_, capability)) = INPUT_METHODS.iter().find(|(m, _)| *m == method) else {
                return Err(format!(
                    "input {key:?} asks for {method:?}, which is not something a server may ask"
                ));
            };
            if !capabilities.contains_key(*capability) {
                return Err(format!(
                    "input {key:?} asks for {method}, which the console did not offer"
                ));
            }
            let params = request.get("params").cloned();
            if params.as_ref().is_some_and(|p| !p.is_object()) {
                return Err(format!("the params of input {key:?} are not an object"));
            }
            Ok(InputRequest { key: key.clone(), method: method.to_owned(), params })
        })
        .collect()
}

fn cancelled_notification(id: &RequestId, reason: &str) -> Message {
    Message::notification(
        "notifications/cancelled",
        Some(json!({ "requestId": id_value(id), "reason": reason })),
    )
}

fn id_value(id: &RequestId) -> Value {
    match id {
        RequestId::Number(n) => Value::from(*n),
        RequestId::String(s) => Value::from(s.as_str()),
    }
}

fn request_id_of(value: &Value) -> Option<RequestId> {
    match value {
        Value::Number(n) => n.as_i64().map(RequestId::Number),
        Value::String(s) => Some(RequestId::String(s.clone())),
        _ => None,
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
        let [SessionEvent::Step(step), SessionEvent::Ready(summary)] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert_eq!(step, "initialize: the server chose MCP 2025-11-25.");
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
        assert!(matches!(
            p.events().as_slice(),
            [SessionEvent::Failed(SessionError::TimedOut { .. })]
        ));
    }

    #[test]
    fn server_ping_is_answered_and_unknown_requests_are_refused() {
        let mut p = Pair::new();
        p.handshake("2025-11-25");
        p.drain();
        p.session
            .handle_message(Message::request(RequestId::String("p".into()), "ping", None), p.now);
        p.session.handle_message(
            Message::request(RequestId::Number(5), "sampling/createMessage", None),
            p.now,
        );
        let out = p.drain();
        assert_eq!(
            out[0],
            Message::Response { id: RequestId::String("p".into()), result: json!({}) }
        );
        assert!(
            matches!(&out[1], Message::Error { error, .. } if error.code == codes::METHOD_NOT_FOUND)
        );
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
        assert!(
            events[0].clone()
                == SessionEvent::RequestFailed {
                    id: Some(RequestId::Number(2)),
                    method: "tools/list".into(),
                    error: SessionError::Rpc {
                        method: "tools/list".into(),
                        code: -32603,
                        message: "boom".into()
                    }
                }
        );
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

    fn ready_pair(capabilities: Value) -> Pair {
        let mut p = Pair::new();
        let Value::Object(capabilities) = capabilities else { panic!() };
        p.session = Session::new(SessionConfig {
            request_timeout: 10_000,
            max_total_timeout: 25_000,
            capabilities,
            ..SessionConfig::default()
        });
        p.handshake("2025-11-25");
        p.drain();
        p.events();
        p
    }

    fn progress(token: i64, n: f64) -> Message {
        Message::notification(
            "notifications/progress",
            Some(json!({"progressToken": token, "progress": n, "total": 10, "message": "working"})),
        )
    }

    #[test]
    fn tool_calls_carry_a_progress_token_and_progress_extends_the_deadline_up_to_the_maximum() {
        let mut p = ready_pair(json!({}));
        let id = p.session.call_tool("slow", Map::new(), p.now).unwrap_or_else(|e| panic!("{e}"));
        let out = p.drain();
        let Message::Request { params: Some(params), .. } = &out[0] else { panic!("{out:?}") };
        let RequestId::Number(n) = id.clone() else { panic!() };
        assert_eq!(params["_meta"]["progressToken"], json!(n));
        assert_eq!(params["name"], "slow");
        assert_eq!(p.session.poll_timeout(), Some(p.now + 10_000));

        // Progress at +8 s moves the deadline to +18 s.
        p.session.handle_message(progress(n, 1.0), p.now + 8_000);
        assert_eq!(p.session.poll_timeout(), Some(p.now + 18_000));
        let events = p.events();
        assert!(
            matches!(&events[..], [SessionEvent::Progress { progress, total: Some(t), message: Some(m), .. }]
            if *progress == 1.0 && *t == 10.0 && m == "working"),
            "{events:?}"
        );
        // Progress at +20 s cannot push it past the 25 s maximum.
        p.session.handle_message(progress(n, 2.0), p.now + 20_000);
        assert_eq!(p.session.poll_timeout(), Some(p.now + 25_000));
        p.session.handle_timeout(p.now + 25_000);
        let out = p.drain();
        assert_eq!(out[0].method(), Some("notifications/cancelled"));
        assert!(p.events().iter().any(|e| matches!(
            e,
            SessionEvent::RequestFailed { error: SessionError::TimedOut { seconds: 25, .. }, .. }
        )));
    }

    #[test]
    fn progress_for_an_unknown_token_is_ignored() {
        let mut p = ready_pair(json!({}));
        p.session.call_tool("slow", Map::new(), p.now).unwrap_or_else(|e| panic!("{e}"));
        p.drain();
        p.session.handle_message(progress(999, 1.0), p.now + 1);
        p.session.handle_message(Message::notification("notifications/progress", None), p.now + 1);
        assert!(p.events().is_empty());
        assert_eq!(p.session.poll_timeout(), Some(p.now + 10_000));
    }

    #[test]
    fn the_user_can_cancel_a_call_and_the_server_is_told() {
        let mut p = ready_pair(json!({}));
        let id = p.session.call_tool("slow", Map::new(), p.now).unwrap_or_else(|e| panic!("{e}"));
        p.drain();
        assert!(p.session.cancel(&id, "user", p.now));
        assert!(!p.session.cancel(&id, "user", p.now), "cancelling twice does nothing");
        let out = p.drain();
        assert_eq!(out, vec![cancelled_notification(&id, "user")]);
        assert!(matches!(
            &p.events()[..],
            [SessionEvent::RequestFailed { error: SessionError::Cancelled { .. }, .. }]
        ));
        // The late result is dropped.
        p.session.handle_message(Message::Response { id, result: json!({"content": []}) }, p.now);
        assert!(p.events().is_empty());
    }

    #[test]
    fn initialize_cannot_be_cancelled() {
        let mut p = Pair::new();
        p.session.connect(p.now);
        let out = p.drain();
        let Message::Request { id, .. } = &out[0] else { panic!() };
        assert!(!p.session.cancel(id, "user", p.now));
        assert!(p.drain().is_empty());
    }

    #[test]
    fn answers_arrive_as_events_with_their_id() {
        let mut p = ready_pair(json!({}));
        let id = p.session.call_tool("echo", Map::new(), p.now).unwrap_or_else(|e| panic!("{e}"));
        p.drain();
        p.session.handle_message(
            Message::Response {
                id: id.clone(),
                result: json!({"content": [{"type": "text", "text": "hi"}]}),
            },
            p.now,
        );
        let events = p.events();
        assert!(
            matches!(&events[..], [SessionEvent::Answered { id: got, method, result }]
            if *got == id && method == "tools/call" && result["content"][0]["text"] == "hi"),
            "{events:?}"
        );
    }

    #[test]
    fn server_requests_for_declared_capabilities_reach_the_ui_and_are_answered() {
        let mut p =
            ready_pair(json!({"elicitation": {}, "sampling": {}, "roots": {"listChanged": true}}));
        let req = Message::request(
            RequestId::String("e1".into()),
            "elicitation/create",
            Some(json!({"message": "Name?"})),
        );
        p.session.handle_message(req, p.now);
        let events = p.events();
        assert!(
            matches!(&events[..], [SessionEvent::ServerRequest { method, .. }] if method == "elicitation/create")
        );
        assert!(p.drain().is_empty(), "nothing is sent until the UI answers");
        let id = RequestId::String("e1".into());
        let ask = AskId::Server(id.clone());
        p.session.respond(&ask, Ok(json!({"action": "accept", "content": {"name": "Ada"}})), 0);
        p.session.respond(&ask, Ok(json!({"action": "decline"})), 0);
        let out = p.drain();
        assert_eq!(out.len(), 1, "a request is answered once: {out:?}");
        assert!(
            matches!(&out[0], Message::Response { result, .. } if result["content"]["name"] == "Ada")
        );
    }

    #[test]
    fn server_requests_for_undeclared_capabilities_are_refused_at_once() {
        let mut p = ready_pair(json!({"roots": {}}));
        for method in ["sampling/createMessage", "elicitation/create", "tasks/frobnicate"] {
            p.session.handle_message(Message::request(RequestId::Number(9), method, None), p.now);
            let out = p.drain();
            assert!(
                matches!(&out[..], [Message::Error { error, .. }] if error.code == codes::METHOD_NOT_FOUND),
                "{method}"
            );
        }
        assert!(p.events().is_empty());
    }

    #[test]
    fn a_server_can_withdraw_its_request() {
        let mut p = ready_pair(json!({"sampling": {}}));
        p.session.handle_message(
            Message::request(RequestId::Number(4), "sampling/createMessage", None),
            p.now,
        );
        p.events();
        p.session.handle_message(
            Message::notification(
                "notifications/cancelled",
                Some(json!({"requestId": 4, "reason": "gone"})),
            ),
            p.now,
        );
        let events = p.events();
        assert!(
            matches!(&events[..], [SessionEvent::ServerRequestCancelled { id: RequestId::Number(4), reason: Some(r) }] if r == "gone")
        );
        p.session.respond(&AskId::Server(RequestId::Number(4)), Ok(json!({})), 0);
        assert!(p.drain().is_empty(), "no answer to a withdrawn request");
    }

    #[test]
    fn restart_resends_safe_and_unrun_requests_but_never_silently_repeats_a_tool_call() {
        let mut p = ready_pair(json!({}));
        let list = p.session.list_tools(p.now).unwrap_or_else(|e| panic!("{e}"));
        let run =
            p.session.call_tool("maybe-ran", Map::new(), p.now).unwrap_or_else(|e| panic!("{e}"));
        let rejected =
            p.session.call_tool("rejected", Map::new(), p.now).unwrap_or_else(|e| panic!("{e}"));
        p.drain();
        p.session.restart(p.now + 5, std::slice::from_ref(&rejected));
        let events = p.events();
        assert!(
            matches!(&events[..], [SessionEvent::RequestFailed { id: Some(id), error: SessionError::MayHaveRun { .. }, .. }] if *id == run),
            "{events:?}"
        );
        let out = p.drain();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].method(), Some("initialize"));
        assert!(p.session.list_tools(p.now).is_err(), "not ready while re-initializing");
        p.answer(&out[0], json!({"protocolVersion": "2025-11-25", "capabilities": {}, "serverInfo": {"name": "again", "version": "2"}}));
        let out = p.drain();
        let methods: Vec<_> = out.iter().map(|m| m.method().unwrap_or("?")).collect();
        assert_eq!(methods, ["notifications/initialized", "tools/list", "tools/call"]);
        let ids: Vec<_> = out
            .iter()
            .filter_map(|m| match m {
                Message::Request { id, .. } => Some(id.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(ids, vec![list, rejected], "carried-over requests keep their ids");
    }

    #[test]
    fn a_lost_request_is_repeated_only_when_safe() {
        let mut p = ready_pair(json!({}));
        let list = p.session.list_tools(p.now).unwrap_or_else(|e| panic!("{e}"));
        let call = p.session.call_tool("x", Map::new(), p.now).unwrap_or_else(|e| panic!("{e}"));
        p.drain();
        p.session.handle_lost(&list, p.now);
        p.session.handle_lost(&call, p.now);
        let out = p.drain();
        assert!(matches!(&out[..], [Message::Request { id, .. }] if *id == list), "{out:?}");
        assert!(matches!(
            &p.events()[..],
            [SessionEvent::RequestFailed { error: SessionError::MayHaveRun { .. }, .. }]
        ));
        assert!(!p.session.is_pending(&call));
    }

    #[test]
    fn other_lists_are_paginated_too() {
        let mut p = ready_pair(json!({}));
        p.session.list(ListKind::Resources, p.now).unwrap_or_else(|e| panic!("{e}"));
        let out = p.drain();
        p.answer(&out[0], json!({"resources": [{"uri": "a://1"}], "nextCursor": "2"}));
        let out = p.drain();
        p.answer(&out[0], json!({"resources": [{"uri": "a://2"}]}));
        let events = p.events();
        assert!(
            matches!(&events[..], [SessionEvent::Listed { kind: ListKind::Resources, items }] if items.len() == 2)
        );
    }

    #[test]
    fn a_list_page_without_its_array_is_a_clear_error() {
        let mut p = ready_pair(json!({}));
        p.session.list(ListKind::Prompts, p.now).unwrap_or_else(|e| panic!("{e}"));
        let out = p.drain();
        p.answer(&out[0], json!({"tools": []}));
        let events = p.events();
        let [SessionEvent::RequestFailed { error, .. }] = &events[..] else { panic!("{events:?}") };
        assert!(error.to_string().contains("\"prompts\""), "{error}");
    }

    #[test]
    fn declared_capabilities_are_sent_in_initialize() {
        let mut p = Pair::new();
        let Value::Object(capabilities) = json!({"roots": {"listChanged": true}}) else { panic!() };
        p.session = Session::new(SessionConfig { capabilities, ..SessionConfig::default() });
        p.session.connect(p.now);
        let out = p.drain();
        let Message::Request { params: Some(params), .. } = &out[0] else { panic!() };
        assert_eq!(params["capabilities"], json!({"roots": {"listChanged": true}}));
    }

    // ---- stateless revision: multi-round-trip requests (SEP-2322) ----

    impl Pair {
        /// A session with a stateless (2026-07-28) server that offers the three kinds of input.
        fn stateless() -> Pair {
            let config = SessionConfig {
                capabilities: crate::core::asks::client_capabilities(),
                ..SessionConfig::default()
            };
            let mut p = Pair { session: Session::new(config), now: 1_000, sent: Vec::new() };
            p.session.discover(p.now);
            let out = p.drain();
            p.answer(&out[0], json!({"resultType": "complete", "supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}}}));
            p.events();
            p
        }

        fn call(&mut self, tool: &str) -> (RequestId, Message) {
            let id = self
                .session
                .call_tool(tool, Map::new(), self.now)
                .unwrap_or_else(|e| panic!("{e}"));
            let mut out = self.drain();
            assert_eq!(out.len(), 1, "{out:?}");
            (id, out.remove(0))
        }
    }

    fn params_of(m: &Message) -> Value {
        match m {
            Message::Request { params: Some(p), .. } => p.clone(),
            other => panic!("{other:?}"),
        }
    }

    fn wire_id(m: &Message) -> RequestId {
        match m {
            Message::Request { id, .. } => id.clone(),
            other => panic!("{other:?}"),
        }
    }

    fn confirm_input(state: Option<&str>) -> Value {
        let mut result = json!({
            "resultType": "input_required",
            "inputRequests": {"confirm": {"method": "elicitation/create", "params": {"message": "Sure?", "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}}},
        });
        if let Some(state) = state {
            result["requestState"] = json!(state);
        }
        result
    }

    #[test]
    fn input_required_asks_the_person_then_sends_again_with_answers_and_state_echoed() {
        let mut p = Pair::stateless();
        let (handle, first) = p.call("deploy");
        let state = r#"{"step":1, "nonce":"aé\u00e9"}"#;
        p.answer(&first, confirm_input(Some(state)));
        assert_eq!(p.drain(), vec![], "nothing goes out before the person answers");
        let events = p.events();
        let [SessionEvent::InputRequired { id, round: 1, requests, .. }] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert_eq!(id, &handle);
        assert_eq!(
            (requests[0].key.as_str(), requests[0].method.as_str()),
            ("confirm", "elicitation/create")
        );

        let ask = AskId::Input { request: handle.clone(), key: "confirm".into() };
        p.session.respond(&ask, Ok(json!({"action": "accept", "content": {"ok": true}})), p.now);
        let out = p.drain();
        let [again] = out.as_slice() else { panic!("{out:?}") };
        assert_ne!(wire_id(again), wire_id(&first), "each round has a new JSON-RPC id");
        let params = params_of(again);
        assert_eq!(params["requestState"], json!(state), "echoed byte for byte");
        assert_eq!(params["inputResponses"]["confirm"]["action"], "accept", "bare results");
        assert_eq!(params["name"], "deploy");
        assert_eq!(params["_meta"]["io.modelcontextprotocol/protocolVersion"], "2026-07-28");

        p.answer(
            again,
            json!({"resultType": "complete", "content": [{"type": "text", "text": "done"}]}),
        );
        let events = p.events();
        assert!(
            matches!(&events[..], [SessionEvent::Answered { id, .. }] if *id == handle),
            "{events:?}"
        );
    }

    #[test]
    fn a_round_without_state_sends_none_and_later_rounds_start_from_the_request_as_made() {
        let mut p = Pair::stateless();
        let (handle, first) = p.call("two");
        p.answer(&first, confirm_input(None));
        let ask = AskId::Input { request: handle.clone(), key: "confirm".into() };
        p.session.respond(&ask, Ok(json!({"action": "decline"})), p.now);
        let second = p.drain().remove(0);
        assert_eq!(params_of(&second).get("requestState"), None);
        p.answer(&second, json!({"resultType": "input_required", "requestState": "s2"}));
        let third = p.drain().remove(0);
        let params = params_of(&third);
        assert_eq!(params["requestState"], "s2", "state only: sent again at once");
        assert_eq!(params.get("inputResponses"), None, "earlier answers are not sent again");
    }

    #[test]
    fn a_server_that_keeps_asking_is_stopped_after_the_bound() {
        let mut p = Pair::stateless();
        let (handle, mut request) = p.call("endless");
        for _ in 0..MAX_INPUT_ROUNDS {
            p.answer(&request, json!({"resultType": "input_required", "requestState": "again"}));
            let mut out = p.drain();
            assert_eq!(out.len(), 1);
            request = out.remove(0);
        }
        p.answer(&request, json!({"resultType": "input_required", "requestState": "again"}));
        assert_eq!(p.drain(), vec![]);
        let events = p.events();
        let Some(SessionEvent::RequestFailed { id: Some(id), error, .. }) = events.last() else {
            panic!("{events:?}")
        };
        assert_eq!(id, &handle);
        assert!(error.to_string().contains("after 10 rounds"), "{error}");
    }

    #[test]
    fn malformed_input_required_answers_fail_the_request_with_a_sentence() {
        for result in [
            json!({"resultType": "input_required"}),
            json!({"resultType": "input_required", "requestState": 7}),
            json!({"resultType": "input_required", "inputRequests": []}),
            json!({"resultType": "input_required", "inputRequests": {"x": {"method": "tools/call", "params": {}}}}),
            json!({"resultType": "input_required", "inputRequests": {"x": {"method": "elicitation/create", "params": "no"}}}),
            json!({"resultType": "surprise", "content": []}),
            json!({"resultType": 5}),
        ] {
            let mut p = Pair::stateless();
            let (handle, first) = p.call("bad");
            p.answer(&first, result.clone());
            assert_eq!(p.drain(), vec![], "{result}");
            let events = p.events();
            assert!(
                matches!(&events[..], [SessionEvent::RequestFailed { id: Some(id), error: SessionError::BadResult { .. }, .. }] if *id == handle),
                "{result}: {events:?}"
            );
        }
    }

    #[test]
    fn input_required_outside_calls_reads_and_prompts_is_refused() {
        let mut p = Pair::stateless();
        p.session.list_tools(p.now).unwrap_or_else(|e| panic!("{e}"));
        let list = p.drain().remove(0);
        p.answer(&list, confirm_input(Some("s")));
        assert!(p.events().iter().all(|e| !matches!(e, SessionEvent::InputRequired { .. })));
    }

    #[test]
    fn a_refused_input_or_a_cancel_between_rounds_ends_the_request_without_sending() {
        let mut p = Pair::stateless();
        let (handle, first) = p.call("sample");
        p.answer(&first, confirm_input(Some("s")));
        p.events();
        let ask = AskId::Input { request: handle.clone(), key: "confirm".into() };
        p.session.respond(&ask, Err(crate::core::asks::sampling_refused()), p.now);
        assert_eq!(p.drain(), vec![]);
        assert!(matches!(
            &p.events()[..],
            [SessionEvent::RequestFailed { error: SessionError::InputDeclined { .. }, .. }]
        ));

        let (handle, first) = p.call("other");
        p.answer(&first, confirm_input(Some("s")));
        p.events();
        assert!(p.session.cancel(&handle, "no", p.now));
        assert_eq!(p.drain(), vec![], "nothing on the wire to cancel");
        let late = AskId::Input { request: handle, key: "confirm".into() };
        p.session.respond(&late, Ok(json!({"action": "accept"})), p.now);
        assert_eq!(p.drain(), vec![], "an answer after the end goes nowhere");
    }

    #[test]
    fn a_result_without_result_type_is_complete() {
        let mut p = Pair::stateless();
        let (handle, first) = p.call("old");
        p.answer(&first, json!({"content": []}));
        assert!(matches!(&p.events()[..], [SessionEvent::Answered { id, .. }] if *id == handle));
        assert_eq!(p.drain(), vec![]);
    }

    // ---- updates: subscriptions/listen (stateless) and resources/subscribe (handshake) ----

    fn stateless_with(capabilities: Value) -> Pair {
        let mut p = Pair::new();
        p.session.discover(p.now);
        let out = p.drain();
        p.answer(&out[0], json!({"resultType": "complete", "supportedVersions": ["2026-07-28"], "capabilities": capabilities}));
        p
    }

    fn method_params(m: &Message) -> (&str, Value) {
        match m {
            Message::Request { method, params, .. } => {
                (method.as_str(), params.clone().unwrap_or_default())
            }
            other => panic!("{other:?}"),
        }
    }

    fn read(p: &mut Pair, uri: &str) -> Message {
        p.session
            .request("resources/read", Some(json!({"uri": uri})), RequestOptions::default(), p.now)
            .unwrap_or_else(|e| panic!("{e}"));
        let out = p.drain();
        let read = out.iter().find(|m| m.method() == Some("resources/read")).cloned();
        read.unwrap_or_else(|| panic!("{out:?}"))
    }

    #[test]
    fn a_stateless_session_listens_for_what_the_server_offers_and_for_the_resources_read() {
        let mut p = stateless_with(
            json!({"tools": {"listChanged": true}, "resources": {"subscribe": true}}),
        );
        let out = p.drain();
        let [listen] = out.as_slice() else { panic!("{out:?}") };
        let (method, params) = method_params(listen);
        assert_eq!(method, "subscriptions/listen");
        assert_eq!(params["notifications"], json!({"toolsListChanged": true}));
        assert!(params["_meta"]["io.modelcontextprotocol/protocolVersion"].is_string());
        assert_eq!(p.session.poll_timeout(), Some(Millis::MAX), "a listen has no deadline");

        let r = read(&mut p, "note://counter");
        p.answer(&r, json!({"resultType": "complete", "contents": []}));
        let out = p.drain();
        let [listen_again] = out.as_slice() else { panic!("{out:?}") };
        let (_, params) = method_params(listen_again);
        assert_eq!(params["notifications"]["resourceSubscriptions"], json!(["note://counter"]));
        assert!(!p.session.is_pending(&wire_id(listen)), "the first listen is dropped");
        assert!(p.session.is_pending(&wire_id(listen_again)));

        // Updates for what was asked pass; others are dropped.
        p.events();
        for uri in ["note://counter", "note://counter/part", "note://other", "note://counterfeit"] {
            let params = json!({"uri": uri});
            p.session.handle_message(
                Message::notification("notifications/resources/updated", Some(params)),
                p.now,
            );
        }
        let passed: Vec<String> = p
            .events()
            .into_iter()
            .filter_map(|e| match e {
                SessionEvent::Notification { params, .. } => params.map(|p| p["uri"].to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(
            passed,
            vec!["\"note://counter\"", "\"note://counter\""],
            "the watched one is read"
        );

        // Changes while it is being read again are read once, after that read.
        let again = read(&mut p, "note://counter");
        for _ in 0..50 {
            let params = json!({"uri": "note://counter"});
            p.session.handle_message(
                Message::notification("notifications/resources/updated", Some(params)),
                p.now,
            );
        }
        assert_eq!(p.events(), vec![], "coalesced while a read is out");
        p.answer(&again, json!({"resultType": "complete", "contents": []}));
        let events = p.events();
        let rereads =
            events.iter().filter(|e| matches!(e, SessionEvent::Notification { .. })).count();
        assert_eq!(rereads, 1, "{events:?}");
    }

    #[test]
    fn an_ended_listen_is_opened_again_later_and_says_what_may_have_been_missed() {
        let mut p = stateless_with(json!({"tools": {"listChanged": true}, "prompts": {}}));
        let listen = p.drain().remove(0);
        p.events();
        p.answer(&listen, json!({"resultType": "complete"}));
        assert_eq!(p.drain(), vec![], "not at once");
        let at = p.session.poll_timeout().unwrap_or_else(|| panic!("a relisten is planned"));
        assert_eq!(at, p.now + 2_000);
        p.session.handle_timeout(at);
        let out = p.drain();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].method(), Some("subscriptions/listen"));
        let events = p.events();
        assert!(
            matches!(&events[..], [SessionEvent::Missed { lists, resources }] if *lists == vec![ListKind::Tools, ListKind::Prompts] && resources.is_empty()),
            "{events:?}"
        );

        // Ending again soon after opening, even acknowledged: the wait doubles; a stream that
        // stayed open 30 s brings it back to the start.
        let second = out[0].clone();
        p.session.handle_lost(&wire_id(&second), at);
        assert_eq!(p.session.poll_timeout(), Some(at + 4_000));
        p.session.handle_timeout(at + 4_000);
        let third = p.drain().remove(0);
        p.session.handle_message(
            Message::notification(
                "notifications/subscriptions/acknowledged",
                Some(json!({"notifications": {"toolsListChanged": true}})),
            ),
            p.now,
        );
        assert!(
            p.events()
                .iter()
                .any(|e| matches!(e, SessionEvent::Step(s) if s.contains("toolsListChanged")))
        );
        let cancelled = json!({"requestId": request_id_value(&third)});
        p.session.handle_message(
            Message::notification("notifications/cancelled", Some(cancelled)),
            at + 34_000,
        );
        assert_eq!(p.session.poll_timeout(), Some(at + 36_000), "back to two seconds");
    }

    fn request_id_value(m: &Message) -> Value {
        match wire_id(m) {
            RequestId::Number(n) => json!(n),
            RequestId::String(s) => json!(s),
        }
    }

    #[test]
    fn a_refused_listen_goes_to_the_trace_and_is_not_asked_again() {
        let mut p = stateless_with(json!({"tools": {"listChanged": true}}));
        let listen = p.drain().remove(0);
        p.events();
        let Message::Request { id, .. } = &listen else { panic!() };
        let error = RpcError { code: codes::METHOD_NOT_FOUND, message: "no".into(), data: None };
        p.session.handle_message(Message::Error { id: Some(id.clone()), error }, p.now);
        let events = p.events();
        assert!(
            matches!(&events[..], [SessionEvent::Step(s)] if s.contains("subscriptions/listen was refused")),
            "{events:?}"
        );
        assert_eq!(p.session.poll_timeout(), None);
    }

    #[test]
    fn a_server_offering_nothing_to_listen_for_gets_no_listen() {
        let mut p = stateless_with(json!({"tools": {}}));
        assert_eq!(p.drain(), vec![]);
    }

    #[test]
    fn in_a_session_resources_read_are_subscribed_and_again_after_a_restart() {
        let mut p = Pair::new();
        p.session.connect(p.now);
        let init = p.drain().remove(0);
        p.answer(&init, json!({"protocolVersion": "2025-11-25", "capabilities": {"resources": {"subscribe": true}}, "serverInfo": {"name": "s", "version": "1"}}));
        p.drain();
        let r = read(&mut p, "file:///a");
        p.answer(&r, json!({"contents": []}));
        let out = p.drain();
        let [sub] = out.as_slice() else { panic!("{out:?}") };
        assert_eq!(method_params(sub), ("resources/subscribe", json!({"uri": "file:///a"})));
        p.answer(sub, json!({}));
        let r = read(&mut p, "file:///a");
        p.answer(&r, json!({"contents": []}));
        assert_eq!(p.drain(), vec![], "once per resource");

        p.session.restart(p.now, &[]);
        let init = p.drain().remove(0);
        p.answer(&init, json!({"protocolVersion": "2025-11-25", "capabilities": {"resources": {"subscribe": true}}, "serverInfo": {"name": "s", "version": "1"}}));
        let out = p.drain();
        assert!(out.iter().any(|m| m.method() == Some("resources/subscribe")), "{out:?}");
    }

    #[test]
    fn lists_within_their_ttl_are_not_fetched_again_after_a_gap_and_a_change_ends_it() {
        let mut p = stateless_with(json!({"tools": {"listChanged": true}, "prompts": {}}));
        let listen = p.drain().remove(0);
        p.session.list_tools(p.now).unwrap_or_else(|e| panic!("{e}"));
        let first = p.drain().remove(0);
        p.answer(&first, json!({"resultType": "complete", "tools": [tool("a")], "nextCursor": "2", "ttlMs": 60_000}));
        let second = p.drain().remove(0);
        p.answer(&second, json!({"resultType": "complete", "tools": [tool("b")], "ttlMs": 10_000}));
        p.events();

        let gap = |p: &mut Pair, at: Millis| -> Vec<ListKind> {
            let listen = p.drain().into_iter().find(|m| m.method() == Some("subscriptions/listen"));
            if let Some(listen) = listen {
                p.answer(&listen, json!({"resultType": "complete"}));
            }
            let relisten = p.session.poll_timeout().unwrap_or(at).max(at);
            p.session.handle_timeout(relisten);
            p.events()
                .into_iter()
                .find_map(|e| match e {
                    SessionEvent::Missed { lists, .. } => Some(lists),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("no Missed"))
        };
        p.answer(&listen, json!({"resultType": "complete"}));
        p.session.handle_timeout(p.now + 2_000);
        let missed = p
            .events()
            .into_iter()
            .find_map(|e| match e {
                SessionEvent::Missed { lists, .. } => Some(lists),
                _ => None,
            })
            .unwrap_or_default();
        assert_eq!(missed, vec![ListKind::Prompts], "tools are fresh for the shorter page's 10 s");
        let at = p.now + 11_000;
        assert_eq!(gap(&mut p, at), vec![ListKind::Tools, ListKind::Prompts]);

        // A change notification makes a fresh list stale at once.
        let listen = p.drain().remove(0);
        p.session.list_tools(p.now).unwrap_or_else(|e| panic!("{e}"));
        let list = p.drain().remove(0);
        p.answer(&list, json!({"resultType": "complete", "tools": [], "ttlMs": 600_000}));
        p.session
            .handle_message(Message::notification("notifications/tools/list_changed", None), p.now);
        p.answer(&listen, json!({"resultType": "complete"}));
        let at = p.now + 20_000;
        assert_eq!(gap(&mut p, at), vec![ListKind::Tools, ListKind::Prompts]);
    }

    // ---- the Tasks extension ----

    fn task(status: &str, extra: Value) -> Value {
        let mut t = json!({"resultType": "complete", "taskId": "t-1", "status": status, "pollIntervalMs": 500});
        if let (Value::Object(t), Value::Object(extra)) = (&mut t, extra) {
            t.extend(extra);
        }
        t
    }

    /// A call that the server turns into task `t-1`; returns the call's handle.
    fn task_call(p: &mut Pair) -> RequestId {
        let (handle, call) = p.call("slow_task");
        let caps = &params_of(&call)["_meta"]["io.modelcontextprotocol/clientCapabilities"];
        assert_eq!(
            caps["extensions"]["io.modelcontextprotocol/tasks"],
            json!({}),
            "a call says it accepts tasks"
        );
        let mut created = task("working", json!({"statusMessage": "started"}));
        created["resultType"] = json!("task");
        p.answer(&call, created);
        handle
    }

    fn poll(p: &mut Pair) -> Message {
        let at = p.session.poll_timeout().unwrap_or_else(|| panic!("a poll is planned"));
        p.now = at;
        p.session.handle_timeout(at);
        let mut out = p.drain();
        assert_eq!(out.len(), 1, "{out:?}");
        let get = out.remove(0);
        assert_eq!(method_params(&get).0, "tasks/get");
        assert_eq!(params_of(&get)["taskId"], "t-1");
        get
    }

    #[test]
    fn a_task_is_polled_at_its_interval_shows_its_status_and_ends_with_the_calls_result() {
        let mut p = Pair::stateless();
        let start = p.now;
        let handle = task_call(&mut p);
        let events = p.events();
        assert!(
            matches!(&events[..], [SessionEvent::TaskStatus { id, status, message: Some(m) }] if *id == handle && status == "working" && m == "started"),
            "{events:?}"
        );
        let get = poll(&mut p);
        assert_eq!(p.now, start + 500, "the server's pollIntervalMs");
        assert!(
            params_of(&get)["_meta"]["io.modelcontextprotocol/clientCapabilities"]["extensions"]
                .is_object()
        );
        p.answer(&get, task("working", json!({"statusMessage": "half", "pollIntervalMs": 2000})));
        p.events();
        let get = poll(&mut p);
        assert_eq!(p.now, start + 2_500, "the interval may change");
        p.answer(
            &get,
            task("completed", json!({"result": {"content": [{"type": "text", "text": "done"}]}})),
        );
        let events = p.events();
        assert!(
            matches!(&events[..], [SessionEvent::Answered { id, result, .. }] if *id == handle && result["content"][0]["text"] == "done"),
            "{events:?}"
        );
        assert_eq!(p.session.poll_timeout(), None, "no more polls");
    }

    #[test]
    fn a_tasks_questions_are_asked_once_and_answered_with_tasks_update() {
        let mut p = Pair::stateless();
        let handle = task_call(&mut p);
        p.events();
        let asking = task(
            "input_required",
            json!({"inputRequests": {"proceed": {"method": "elicitation/create", "params": {"message": "Go on?", "requestedSchema": {"type": "object"}}}}}),
        );
        let get = poll(&mut p);
        p.answer(&get, asking.clone());
        let events = p.events();
        assert!(events.iter().any(|e| matches!(e, SessionEvent::InputRequired { id, round: 0, requests, .. } if *id == handle && requests[0].key == "proceed")), "{events:?}");
        let get = poll(&mut p);
        p.answer(&get, asking);
        assert!(
            !p.events().iter().any(|e| matches!(e, SessionEvent::InputRequired { .. })),
            "asked once"
        );

        let ask = AskId::Input { request: handle.clone(), key: "proceed".into() };
        p.session.respond(
            &ask,
            Ok(json!({"action": "accept", "content": {"proceed": true}})),
            p.now,
        );
        let out = p.drain();
        let [update] = out.as_slice() else { panic!("{out:?}") };
        let (method, params) = method_params(update);
        assert_eq!(method, "tasks/update");
        assert_eq!(
            params["inputResponses"],
            json!({"proceed": {"action": "accept", "content": {"proceed": true}}})
        );
        assert_eq!(params["taskId"], "t-1");
        assert!(p.session.poll_timeout().is_some(), "polling goes on");
    }

    #[test]
    fn a_cancelled_task_is_told_to_stop_and_failures_and_unknown_tasks_end_the_call() {
        let mut p = Pair::stateless();
        let handle = task_call(&mut p);
        p.events();
        assert!(p.session.cancel(&handle, "no", p.now));
        let out = p.drain();
        let [cancel] = out.as_slice() else { panic!("{out:?}") };
        assert_eq!(method_params(cancel), ("tasks/cancel", params_of(cancel)));
        assert_eq!(params_of(cancel)["taskId"], "t-1");
        assert!(matches!(
            &p.events()[..],
            [SessionEvent::RequestFailed { error: SessionError::Cancelled { .. }, .. }]
        ));
        p.answer(cancel, json!({"resultType": "complete"}));
        assert_eq!(p.session.poll_timeout(), None, "no more polls");
        assert_eq!(p.events(), vec![], "the acknowledgement says nothing more");

        let handle = task_call(&mut p);
        p.events();
        let get = poll(&mut p);
        p.answer(
            &get,
            task(
                "failed",
                json!({"error": {"code": -32603, "message": "slow_task was asked to fail"}}),
            ),
        );
        assert!(
            matches!(&p.events()[..], [SessionEvent::RequestFailed { id: Some(id), error: SessionError::Rpc { code: -32603, .. }, .. }] if *id == handle)
        );

        let handle = task_call(&mut p);
        p.events();
        let get = poll(&mut p);
        let Message::Request { id, .. } = &get else { panic!() };
        let error =
            RpcError { code: codes::INVALID_PARAMS, message: "unknown task".into(), data: None };
        p.session.handle_message(Message::Error { id: Some(id.clone()), error }, p.now);
        let events = p.events();
        assert!(
            matches!(&events[..], [SessionEvent::RequestFailed { id: Some(id), error, .. }] if *id == handle && error.to_string().contains("no longer knows task t-1")),
            "{events:?}"
        );
    }

    #[test]
    fn a_lost_poll_is_asked_again_and_the_task_outlives_it() {
        let mut p = Pair::stateless();
        let handle = task_call(&mut p);
        p.events();
        let get = poll(&mut p);
        p.session.handle_lost(&wire_id(&get), p.now);
        let again = p.drain().remove(0);
        assert_eq!(method_params(&again).0, "tasks/get", "a poll is safe to repeat");
        // Unanswered until it times out: the next poll is planned, the call goes on.
        let late = p.session.poll_timeout().unwrap_or(0);
        p.session.handle_timeout(late);
        assert!(!p.events().iter().any(|e| matches!(e, SessionEvent::RequestFailed { .. })));
        let get = poll(&mut p);
        p.answer(&get, task("completed", json!({"result": {"content": []}})));
        assert!(matches!(&p.events()[..], [SessionEvent::Answered { id, .. }] if *id == handle));
    }

    #[test]
    fn a_malformed_task_or_a_task_for_another_method_is_refused() {
        let mut p = Pair::stateless();
        let (handle, call) = p.call("slow_task");
        p.answer(&call, json!({"resultType": "task", "status": "working"}));
        assert!(
            matches!(&p.events()[..], [SessionEvent::RequestFailed { id: Some(id), error: SessionError::BadResult { .. }, .. }] if *id == handle)
        );
        p.session
            .request("prompts/get", Some(json!({"name": "x"})), RequestOptions::default(), p.now)
            .unwrap_or_else(|e| panic!("{e}"));
        let get = p.drain().remove(0);
        p.answer(&get, json!({"resultType": "task", "taskId": "t", "status": "working"}));
        assert!(matches!(
            &p.events()[..],
            [SessionEvent::RequestFailed { error: SessionError::BadResult { .. }, .. }]
        ));
        assert_eq!(p.session.poll_timeout(), None);
    }

    #[test]
    fn a_2025_task_tool_is_called_as_a_task_polled_and_its_result_fetched_with_tasks_result() {
        let mut p = Pair::new();
        p.handshake("2025-11-25");
        p.drain();
        p.session.list_tools(p.now).unwrap_or_else(|e| panic!("{e}"));
        let list = p.drain().remove(0);
        let research = json!({"name": "research", "inputSchema": {"type": "object"}, "execution": {"taskSupport": "required"}});
        p.answer(&list, json!({"tools": [research, tool("echo")]}));
        p.events();

        let (_, plain) = p.call("echo");
        assert_eq!(params_of(&plain).get("task"), None, "only tools that require it");
        p.answer(&plain, json!({"content": []}));
        p.events();
        let (handle, call) = p.call("research");
        assert_eq!(params_of(&call)["task"], json!({}));
        p.answer(&call, json!({"task": {"taskId": "r-1", "status": "working", "statusMessage": "Gathering sources...", "pollInterval": 1000, "ttl": 300000, "createdAt": "", "lastUpdatedAt": ""}}));
        let events = p.events();
        assert!(
            matches!(&events[..], [SessionEvent::TaskStatus { id, status, .. }] if *id == handle && status == "working"),
            "{events:?}"
        );

        let at = p.session.poll_timeout().unwrap_or(0);
        p.session.handle_timeout(at);
        let get = p.drain().remove(0);
        assert_eq!(method_params(&get), ("tasks/get", json!({"taskId": "r-1"})));
        p.answer(&get, json!({"taskId": "r-1", "status": "input_required", "pollInterval": 1000}));
        let fetch = p.drain().remove(0);
        assert_eq!(method_params(&fetch), ("tasks/result", json!({"taskId": "r-1"})));
        assert_eq!(
            p.session.poll_timeout(),
            Some(p.now + 30 * 60_000),
            "no polls while tasks/result waits"
        );
        p.answer(&fetch, json!({"content": [{"type": "text", "text": "# Research Report"}]}));
        let events = p.events();
        assert!(
            events.iter().any(|e| matches!(e, SessionEvent::Answered { id, .. } if *id == handle)),
            "{events:?}"
        );
        assert_eq!(p.session.poll_timeout(), None, "nothing left to wait for");
    }

    // ---- what a hostile server cannot do ----

    #[test]
    fn replies_that_keep_leaving_the_answer_out_are_not_asked_for_ever() {
        let mut p = Pair::stateless();
        p.session.list_tools(p.now).unwrap_or_else(|e| panic!("{e}"));
        let mut sent = 1;
        let mut list = p.drain().remove(0);
        loop {
            p.session.handle_lost(&wire_id(&list), p.now);
            let out = p.drain();
            if out.is_empty() {
                break;
            }
            sent += 1;
            assert!(sent <= 3, "sent {sent} times");
            list = out[0].clone();
        }
        assert_eq!(sent, 3);
        assert!(p.events().iter().any(|e| matches!(
            e,
            SessionEvent::RequestFailed { error: SessionError::NoAnswer { .. }, .. }
        )));
    }

    #[test]
    fn a_discover_reply_without_its_answer_falls_back_to_initialize() {
        let mut p = Pair::new();
        p.session.discover(p.now);
        let discover = p.drain().remove(0);
        p.session.handle_message(
            Message::Error {
                id: None,
                error: RpcError { code: -32000, message: "Bad Request".into(), data: None },
            },
            p.now,
        );
        p.session.handle_lost(&wire_id(&discover), p.now);
        let out = p.drain();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].method(), Some("initialize"));
    }

    #[test]
    fn a_poll_answered_after_a_cancel_does_not_bring_the_task_back() {
        let mut p = Pair::stateless();
        let handle = task_call(&mut p);
        p.events();
        let get = poll(&mut p);
        assert!(p.session.cancel(&handle, "no", p.now));
        p.drain();
        p.events();
        p.answer(&get, task("working", json!({})));
        assert_eq!(p.events(), vec![], "no status for an ended call");
        assert!(!p.session.is_pending(&wire_id(&get)), "the poll was dropped at the cancel");
        let cancel_deadline = p.session.poll_timeout();
        assert_eq!(
            cancel_deadline,
            Some(p.now + 60_000),
            "only the cancel's own answer is awaited"
        );
    }

    #[test]
    fn a_flood_of_questions_is_refused() {
        let many: Map<String, Value> = (0..17)
            .map(|i| {
                (
                    format!("k{i}"),
                    json!({"method": "elicitation/create", "params": {"message": "?"}}),
                )
            })
            .collect();
        let mut p = Pair::stateless();
        let (handle, call) = p.call("flood");
        p.answer(&call, json!({"resultType": "input_required", "inputRequests": many.clone()}));
        assert!(
            matches!(&p.events()[..], [SessionEvent::RequestFailed { id: Some(id), error: SessionError::BadResult { detail, .. }, .. }] if *id == handle && detail.contains("17 inputs"))
        );

        let handle = task_call(&mut p);
        p.events();
        for round in 0..5 {
            let get = poll(&mut p);
            let keys: Map<String, Value> = (0..16)
                .map(|i| {
                    (
                        format!("r{round}-{i}"),
                        json!({"method": "elicitation/create", "params": {"message": "?"}}),
                    )
                })
                .collect();
            p.answer(&get, task("input_required", json!({"inputRequests": keys})));
        }
        let events = p.events();
        assert!(
            events.iter().any(
                |e| matches!(e, SessionEvent::RequestFailed { id: Some(id), .. } if *id == handle)
            ),
            "stopped past 64 inputs"
        );
        assert!(p.drain().iter().any(|m| m.method() == Some("tasks/cancel")));
    }

    #[test]
    fn a_closed_session_sends_nothing_more() {
        let mut p = stateless_with(json!({"tools": {"listChanged": true}}));
        let listen = p.drain().remove(0);
        p.answer(&listen, json!({"resultType": "complete"}));
        let _ = task_call(&mut p);
        p.session.close();
        p.session.handle_timeout(Millis::MAX);
        assert_eq!(p.drain(), vec![]);
        assert_eq!(p.session.poll_timeout(), None);
    }
}
