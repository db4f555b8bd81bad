//! The console's view of one connection, as plain data: what the status line says, which server
//! answered, its tools, the tool calls made (with progress and results) and the server's log.
//! The UI keeps one of these in a signal and folds engine events into it with
//! [`ConsoleState::apply`]; the folding is tested here without a browser.

use crate::core::asks::Ask;
use crate::core::engine::{ConnectionState, EngineEvent, TransportKind};
use crate::core::history::History;
use crate::core::json::FromJson;
use crate::core::json_schema::{self, Violation};
use crate::core::jsonrpc::RequestId;
use crate::core::protocol::{Prompt, Resource, ResourceTemplate, Tool};
use crate::core::session::{AskId, ListKind, Millis, ServerSummary, SessionEvent};
use serde_json::{Map, Value, json};
use std::ops::Range;
use std::sync::Arc;

/// How many log lines are kept; older ones scroll away.
pub const LOG_LIMIT: usize = 500;
/// How many requests the history keeps, newest first; older ones are forgotten, so a long
/// session's memory stays flat.
pub const CALL_LIMIT: usize = 200;
/// How many connection steps are kept.
const STEP_LIMIT: usize = 20;

/// Where the connection stands, as the status line shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Disconnected,
    Connecting,
    Connected(TransportKind),
    Reconnecting {
        at: Millis,
        attempt: u32,
        reason: String,
    },
    /// The server asked for a sign-in; requests wait for it.
    SigningIn,
    /// The connection ended; the sentence says what happened and what to do.
    Failed(String),
}

/// Where one tool call stands.
#[derive(Debug, Clone, PartialEq)]
pub enum CallState {
    Running { progress: Option<(f64, Option<f64>)>, message: Option<String> },
    Done(Value),
    Failed(String),
}

/// What a request in the history was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    Tool,
    /// `resources/read`; `Call::tool` holds the URI.
    Resource,
    /// `prompts/get`; `Call::tool` holds the prompt's name.
    Prompt,
}

/// One tool call (or resource read, or prompt fetch) as the console shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub id: RequestId,
    pub kind: CallKind,
    /// The tool or prompt name, or the resource URI.
    pub tool: String,
    pub arguments: Map<String, Value>,
    pub state: CallState,
    /// What the server asked along the way and how each was answered (multi-round-trip
    /// requests, a task's questions), oldest first.
    pub rounds: Vec<String>,
    /// Changes whenever the call does, so a view can redraw this call and no other.
    pub revision: u32,
    /// For a tool that declares an `outputSchema`: how its result met it.
    pub output: Option<OutputCheck>,
    /// The MCP App (its `ui://` resource) that made this request, if one did; its result is not
    /// shown in an app of its own.
    pub by_app: Option<String>,
}

/// How a tool's structured result met the output schema it declares.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputCheck {
    pub violations: Vec<Violation>,
    /// Keywords of the schema the console does not check.
    pub unchecked: Vec<&'static str>,
}

impl OutputCheck {
    /// `result` of `tool`, if the tool declares an output schema and did not report an error.
    fn of(tool: &Tool, result: &Value) -> Option<OutputCheck> {
        let schema = tool.output_schema.as_ref()?;
        if result.get("isError").and_then(Value::as_bool) == Some(true) {
            return None;
        }
        let Some(structured) = result.get("structuredContent") else {
            let sentence =
                "The tool declares an output schema, but its result has no structuredContent.";
            let violations = vec![Violation { at: String::new(), sentence: sentence.to_owned() }];
            return Some(OutputCheck { violations, unchecked: Vec::new() });
        };
        let (violations, unchecked) = json_schema::check(schema, structured);
        Some(OutputCheck { violations, unchecked })
    }
}

impl Call {
    /// True when the result says the tool itself failed (`isError`).
    pub fn is_tool_error(&self) -> bool {
        matches!(&self.state, CallState::Done(r) if r.get("isError").and_then(Value::as_bool) == Some(true))
    }
}

/// One line of the server's log (`notifications/message`).
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub level: String,
    pub logger: Option<String>,
    pub text: String,
}

/// Everything the UI renders about one connection.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConsoleState {
    pub status: Status,
    pub server: Option<ServerSummary>,
    /// Shared, so a view can hold the list without copying it on every change of the state.
    pub tools: Option<Arc<[Tool]>>,
    pub resources: Option<Arc<[Resource]>>,
    pub templates: Option<Arc<[ResourceTemplate]>>,
    pub prompts: Option<Arc<[Prompt]>>,
    /// Newest first.
    pub calls: Vec<Call>,
    pub log: Vec<LogLine>,
    /// How many lines the log has been given, the ones scrolled away included: the log view
    /// redraws when this moves, not on every change of the state.
    pub logged: u64,
    /// Server requests waiting for the person (elicitation, sampling), oldest first.
    pub asks: Vec<Ask>,
    /// The last non-fatal problem (a failed request), shown until the next success.
    pub notice: Option<String>,
    /// How the console found the revision and transport it speaks, oldest first.
    pub steps: Vec<String>,
    /// Every message sent and received, across reconnections.
    pub traffic: History,
    /// The server's suggestions for the field being typed in.
    pub suggestions: Suggestions,
    /// Which connection of the tab this is (each restart counts one): request ids start afresh
    /// with each, so an id names a call only together with it.
    pub generation: u32,
}

/// Suggestions the server gave (`completion/complete`) for one field, from the newest request
/// only: an answer to an older one is stale.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Suggestions {
    /// Which field they are for (the UI's key).
    pub field: String,
    /// The request waiting for its answer, if one is.
    pub asked: Option<RequestId>,
    pub values: Vec<String>,
}

/// Suggestions shown at most, and the longest kept.
const SUGGESTIONS: usize = 100;
const SUGGESTION_CHARS: usize = 200;

/// What a completion is for: a resource template (by its URI template) or a prompt (by name).
#[derive(Debug, Clone, Copy)]
pub enum CompletionRef<'a> {
    Template(&'a str),
    Prompt(&'a str),
}

/// The `completion/complete` params for argument `name` being `value`, with the other fields
/// filled in so far as context.
pub fn completion_params(
    of: CompletionRef<'_>,
    name: &str,
    value: &str,
    others: &Map<String, Value>,
) -> Value {
    let reference = match of {
        CompletionRef::Template(uri) => json!({"type": "ref/resource", "uri": uri}),
        CompletionRef::Prompt(prompt) => json!({"type": "ref/prompt", "name": prompt}),
    };
    let mut params = json!({"ref": reference, "argument": {"name": name, "value": value}});
    let context: Map<String, Value> =
        others.iter().filter(|(k, _)| *k != name).map(|(k, v)| (k.clone(), v.clone())).collect();
    if !context.is_empty() {
        params["context"] = json!({ "arguments": context });
    }
    params
}

impl ConsoleState {
    /// The tab connects again (to its server or another): everything starts over but the
    /// traffic, which is the tab's.
    pub fn restart(&mut self, status: Status) {
        let traffic = std::mem::take(&mut self.traffic);
        let generation = self.generation.wrapping_add(1);
        *self = ConsoleState { status, traffic, generation, ..ConsoleState::default() };
    }

    /// A completion request for `field` went out as `id`; the one it replaces, if still waiting,
    /// is returned to be cancelled.
    pub fn completion_started(&mut self, field: &str, id: RequestId) -> Option<RequestId> {
        if self.suggestions.field != field {
            self.suggestions = Suggestions { field: field.to_owned(), ..Suggestions::default() };
        }
        self.suggestions.asked.replace(id)
    }

    /// Records a tool call the user just made.
    pub fn call_started(&mut self, id: RequestId, tool: &str, arguments: Map<String, Value>) {
        self.request_started(id, CallKind::Tool, tool, arguments);
    }

    /// Records a request the MCP App at `app` made (a tool call, or the read of its own resource
    /// for the app view), shown like the person's own, with where it came from.
    pub fn app_request_started(
        &mut self,
        id: RequestId,
        kind: CallKind,
        label: &str,
        arguments: Map<String, Value>,
        app: &str,
    ) {
        self.request_started(id, kind, label, arguments);
        if let Some(call) = self.calls.first_mut() {
            call.by_app = Some(app.to_owned());
        }
    }

    /// Records any request the user just made, for the history.
    pub fn request_started(
        &mut self,
        id: RequestId,
        kind: CallKind,
        label: &str,
        arguments: Map<String, Value>,
    ) {
        let state = CallState::Running { progress: None, message: None };
        let call = Call {
            id,
            kind,
            tool: label.to_owned(),
            arguments,
            state,
            rounds: Vec::new(),
            revision: 0,
            output: None,
            by_app: None,
        };
        self.calls.insert(0, call);
        self.calls.truncate(CALL_LIMIT);
    }

    /// Records a read of `uri` the console made by itself because the server said it changed:
    /// it takes the place of the finished reads of that resource, so updates coming fast do not
    /// push the person's calls out of the history.
    pub fn reread_started(&mut self, id: RequestId, uri: &str) {
        self.calls.retain(|c| {
            !(c.kind == CallKind::Resource
                && c.tool == uri
                && !matches!(c.state, CallState::Running { .. }))
        });
        self.request_started(id, CallKind::Resource, uri, Map::new());
    }

    /// The history as (call, revision) pairs, newest first: what identifies each call's view.
    pub fn call_keys(&self) -> Vec<(RequestId, u32)> {
        self.calls.iter().map(|c| (c.id.clone(), c.revision)).collect()
    }

    pub fn call(&self, id: &RequestId) -> Option<&Call> {
        self.calls.iter().find(|c| &c.id == id)
    }

    /// Folds one engine event into the view.
    pub fn apply(&mut self, event: EngineEvent) {
        match event {
            EngineEvent::State(state) => self.status = status_of(state),
            EngineEvent::Session(event) => self.apply_session(*event),
            // The sign-in machinery answers it; the status line already says what happens.
            EngineEvent::AuthRequired(_) => {}
            EngineEvent::Step(line) => {
                // A long-lived connection may renegotiate many times: keep the latest steps.
                if self.steps.len() == STEP_LIMIT {
                    self.steps.remove(0);
                }
                self.steps.push(line);
            }
            EngineEvent::Traffic(traffic) => self.traffic.record(*traffic),
        }
    }

    fn apply_session(&mut self, event: SessionEvent) {
        match event {
            SessionEvent::Ready(summary) => {
                self.server = Some(summary);
                self.notice = None;
                // Asks belong to the session that sent them; a new session starts clean.
                self.asks.clear();
            }
            SessionEvent::ServerRequest { id, method, params } => {
                if let Some(ask) = Ask::from_request(AskId::Server(id), &method, params.as_ref()) {
                    self.asks.push(ask);
                }
            }
            SessionEvent::ServerRequestCancelled { id, .. } => {
                self.asks.retain(|a| a.id != AskId::Server(id.clone()))
            }
            SessionEvent::InputRequired { id, round, requests, .. } => {
                let asked = requests.len();
                let what: Vec<String> =
                    requests.iter().map(|r| format!("{} ({})", r.key, r.method)).collect();
                let line = match round {
                    0 => format!("The task asked for {}.", what.join(", ")),
                    n => format!("Round {n}: the server asked for {}.", what.join(", ")),
                };
                for request in requests {
                    let ask_id = AskId::Input { request: id.clone(), key: request.key };
                    if let Some(ask) =
                        Ask::from_request(ask_id, &request.method, request.params.as_ref())
                    {
                        self.asks.push(ask);
                    }
                }
                if let Some(call) = self.call_mut(&id) {
                    let plural = if asked == 1 { "" } else { "s" };
                    let message = if round == 0 {
                        format!("The task needs {asked} answer{plural} from you to go on.")
                    } else {
                        format!(
                            "Round {round}: the server needs {asked} answer{plural} from you to go on."
                        )
                    };
                    call.state = CallState::Running { progress: None, message: Some(message) };
                    call.rounds.push(line);
                }
            }
            SessionEvent::ToolsListed(tools) => {
                self.tools = Some(tools.into());
                self.notice = None;
            }
            SessionEvent::Listed { kind: ListKind::Resources, items } => {
                self.resources = Some(self.typed(items, "resources/list").into());
            }
            SessionEvent::Listed { kind: ListKind::ResourceTemplates, items } => {
                self.templates = Some(self.typed(items, "resources/templates/list").into());
            }
            SessionEvent::Listed { kind: ListKind::Prompts, items } => {
                self.prompts = Some(self.typed(items, "prompts/list").into());
            }
            SessionEvent::Failed(error) => self.status = Status::Failed(error.to_string()),
            SessionEvent::Answered { id, result, .. }
                if self.suggestions.asked.as_ref() == Some(&id) =>
            {
                self.suggestions.asked = None;
                let values = result.pointer("/completion/values").and_then(Value::as_array);
                self.suggestions.values = values
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .filter(|v| v.chars().count() <= SUGGESTION_CHARS)
                    .take(SUGGESTIONS)
                    .map(str::to_owned)
                    .collect();
            }
            // A stale suggestion, or one for a field left since: not shown.
            SessionEvent::Answered { method, .. } if method == "completion/complete" => {}
            SessionEvent::RequestFailed { method, .. } if method == "completion/complete" => {
                self.suggestions.asked = None;
            }
            SessionEvent::Answered { id, result, .. } => {
                self.drop_inputs_of(&id);
                let tools = self.tools.clone();
                if let Some(call) = self.call_mut(&id) {
                    let tool =
                        tools.as_deref().and_then(|t| t.iter().find(|t| t.name == call.tool));
                    if call.kind == CallKind::Tool {
                        call.output = tool.and_then(|t| OutputCheck::of(t, &result));
                    }
                    call.state = CallState::Done(result);
                }
            }
            // Templates are asked for whenever resources are; a server without them says so,
            // and that is no news for the person.
            SessionEvent::RequestFailed { method, .. } if method == "resources/templates/list" => {
                self.templates = Some(Arc::from([]));
            }
            SessionEvent::RequestFailed { id, error, .. } => {
                if let Some(id) = &id {
                    self.drop_inputs_of(id);
                }
                match id.as_ref().and_then(|id| self.call_mut(id)) {
                    Some(call) => call.state = CallState::Failed(error.to_string()),
                    None => self.notice = Some(error.to_string()),
                }
            }
            SessionEvent::TaskStatus { id, status, message } => {
                if let Some(call) = self.call_mut(&id) {
                    let said = message.map(|m| format!(": {m}")).unwrap_or_default();
                    let message = Some(format!("Task {}{said}", status.replace('_', " ")));
                    call.state = CallState::Running { progress: None, message };
                }
            }
            // Progress moves the bar without redrawing the call: a Cancel button drawn anew with
            // every tick could lose the click being made on it.
            SessionEvent::Progress { id, progress, total, message } => {
                if let Some(call) = self.calls.iter_mut().find(|c| c.id == id)
                    && let CallState::Running { .. } = call.state
                {
                    call.state = CallState::Running { progress: Some((progress, total)), message };
                }
            }
            SessionEvent::Notification { method, params } if method == "notifications/message" => {
                self.push_log(params.unwrap_or(Value::Null));
            }
            _ => {}
        }
    }

    /// The items of a list that parse; the others are counted in a notice, not dropped silently.
    fn typed<T: FromJson>(&mut self, items: Vec<Value>, method: &str) -> Vec<T> {
        let total = items.len();
        let parsed: Vec<T> = items.into_iter().filter_map(|item| T::from_json(item).ok()).collect();
        if parsed.len() < total {
            self.notice = Some(format!(
                "{} of the {total} items of {method} were not understood and are not shown.",
                total - parsed.len()
            ));
        }
        parsed
    }

    /// The person answered (or dismissed) ask `id`, `how` in a word (see
    /// [`crate::core::asks::answer_word`]); an input a call asked for is noted in its rounds.
    pub fn ask_answered(&mut self, id: &AskId, how: &str) {
        self.asks.retain(|a| &a.id != id);
        if let AskId::Input { request, key } = id
            && let Some(call) = self.call_mut(request)
        {
            call.rounds.push(format!("{key}: {how}."));
        }
    }

    /// Request `id` ended: the inputs it asked for are no longer wanted.
    fn drop_inputs_of(&mut self, id: &RequestId) {
        self.asks.retain(|a| !matches!(&a.id, AskId::Input { request, .. } if request == id));
    }

    /// The call `id`, to be changed: its revision moves on.
    fn call_mut(&mut self, id: &RequestId) -> Option<&mut Call> {
        let call = self.calls.iter_mut().find(|c| &c.id == id)?;
        call.revision = call.revision.wrapping_add(1);
        Some(call)
    }

    fn push_log(&mut self, params: Value) {
        let level = params.get("level").and_then(Value::as_str).unwrap_or("info").to_owned();
        let logger = params.get("logger").and_then(Value::as_str).map(str::to_owned);
        let text = match params.get("data") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        self.log_line(LogLine { level, logger, text });
    }

    /// A line for the log (the server's, or an app's), the oldest dropped beyond the limit.
    pub fn log_line(&mut self, line: LogLine) {
        self.log.push(line);
        self.logged += 1;
        if self.log.len() > LOG_LIMIT {
            let excess = self.log.len() - LOG_LIMIT;
            self.log.drain(..excess);
        }
    }

    /// True while requests can be made.
    pub fn is_connected(&self) -> bool {
        matches!(self.status, Status::Connected(_))
    }

    /// The status line's text at time `now` (for the reconnect countdown).
    pub fn status_line(&self, now: Millis) -> String {
        match &self.status {
            Status::Disconnected => "Not connected.".into(),
            Status::Connecting => "Connecting…".into(),
            Status::Connected(transport) => {
                let via = match transport {
                    TransportKind::StreamableHttp => "Streamable HTTP",
                    TransportKind::LegacySse => "legacy HTTP+SSE",
                };
                match &self.server {
                    Some(s) => format!(
                        "Connected to {} {} (MCP {}, {via}).",
                        display_or(&s.server_info.name, "an unnamed server"),
                        s.server_info.version,
                        s.protocol_version
                    ),
                    None => format!("Connected ({via})."),
                }
            }
            Status::Reconnecting { at, attempt, reason } => {
                let seconds = at.saturating_sub(now).div_ceil(1000);
                format!("{reason} Reconnecting in {seconds} s (attempt {attempt})…")
            }
            Status::SigningIn => {
                "The server asks for a sign-in; requests wait until it is done.".into()
            }
            Status::Failed(sentence) => sentence.clone(),
        }
    }
}

/// The resources the console reads again by itself after an event: one the server says was
/// updated (the session passes on only those the console asked updates for), and the watched
/// ones after a gap in listening.
pub fn rereads(event: &EngineEvent) -> Vec<String> {
    let EngineEvent::Session(event) = event else { return Vec::new() };
    match event.as_ref() {
        SessionEvent::Notification { method, params }
            if method == "notifications/resources/updated" =>
        {
            params
                .as_ref()
                .and_then(|p| p.get("uri"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .into_iter()
                .collect()
        }
        SessionEvent::Missed { resources, .. } => resources.clone(),
        _ => Vec::new(),
    }
}

/// What the console fetches by itself after an event: the tools, resources and prompts of a
/// server once it is ready (for the capabilities it declared), and a list again whenever the
/// server says it changed.
pub fn follow_up(event: &EngineEvent) -> Vec<ListKind> {
    let EngineEvent::Session(event) = event else { return Vec::new() };
    match event.as_ref() {
        SessionEvent::Ready(s) => [
            ("tools", ListKind::Tools),
            ("resources", ListKind::Resources),
            ("resources", ListKind::ResourceTemplates),
            ("prompts", ListKind::Prompts),
        ]
        .into_iter()
        .filter(|(cap, _)| s.has_capability(cap))
        .map(|(_, kind)| kind)
        .collect(),
        SessionEvent::Missed { lists, .. } => lists.clone(),
        SessionEvent::Notification { method, .. } => match method.as_str() {
            "notifications/tools/list_changed" => vec![ListKind::Tools],
            "notifications/resources/list_changed" => {
                vec![ListKind::Resources, ListKind::ResourceTemplates]
            }
            "notifications/prompts/list_changed" => vec![ListKind::Prompts],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Reads the arguments a person typed as a JSON object. Empty text means no arguments.
pub fn parse_arguments(text: &str) -> Result<Map<String, Value>, String> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("The arguments must be a JSON object, like {\"message\": \"hi\"}.".into()),
        Err(e) => Err(format!("The arguments are not valid JSON ({e}). Fix them and call again.")),
    }
}

fn status_of(state: ConnectionState) -> Status {
    match state {
        ConnectionState::Connecting => Status::Connecting,
        ConnectionState::Connected { transport } => Status::Connected(transport),
        ConnectionState::Reconnecting { at, attempt, reason } => {
            Status::Reconnecting { at, attempt, reason }
        }
        ConnectionState::Disconnected { reason: Some(reason) } => Status::Failed(reason),
        ConnectionState::Disconnected { reason: None } => Status::Disconnected,
        ConnectionState::SigningIn => Status::SigningIn,
    }
}

fn display_or<'a>(s: &'a str, fallback: &'a str) -> &'a str {
    if s.trim().is_empty() { fallback } else { s }
}

/// The positions of the tools that match `query`, in the server's order: every word of it must
/// appear, ignoring ASCII case, in the tool's name, title or description. (Unicode case folding
/// would cost the release its case tables.)
pub fn matching_tools(tools: &[Tool], query: &str) -> Vec<usize> {
    let words: Vec<String> = query.split_whitespace().map(str::to_ascii_lowercase).collect();
    let matches = |tool: &Tool| {
        let text = [Some(&tool.name), tool.title.as_ref(), tool.description.as_ref()]
            .into_iter()
            .flatten()
            .map(|t| t.to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join("\n");
        words.iter().all(|w| text.contains(w.as_str()))
    };
    tools
        .iter()
        .enumerate()
        .filter(|(_, t)| words.is_empty() || matches(t))
        .map(|(i, _)| i)
        .collect()
}

/// The pitch of the tool list's rows in CSS pixels: `style/console.css` draws each
/// `.mc-tool-scroll .mc-tool` this high, gap included.
pub const TOOL_ROW_PX: usize = 64;
/// At most this many rows are in sight at once (a list box 2,560 pixels high).
const ROWS_IN_SIGHT: usize = 40;
/// Rows drawn above the first one in sight, so that scrolling back up shows no gap.
const ROWS_ABOVE: usize = 8;

/// Which of a list's `rows` to draw when it is scrolled `scroll_top` pixels down: those that can
/// be in sight and a few above. A list of a thousand tools then draws and filters like a short one.
pub fn rows_in_view(scroll_top: f64, rows: usize) -> Range<usize> {
    // A scroll offset is finite and not negative; anything else is read as the top.
    let first = if scroll_top.is_finite() && scroll_top > 0.0 {
        (scroll_top / TOOL_ROW_PX as f64) as usize
    } else {
        0
    };
    let end = first.saturating_add(ROWS_IN_SIGHT).min(rows);
    first.saturating_sub(ROWS_ABOVE).min(end)..end
}

/// The console's colours: the system's, or the person's choice (kept by the page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    /// The next one the toggle offers: system, light, dark, and round again.
    pub fn next(self) -> Theme {
        match self {
            Theme::System => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::System,
        }
    }

    /// Its name, as the page's `data-theme` attribute and the kept choice spell it.
    pub fn name(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// A kept choice read back; anything unknown is the system's.
    pub fn parse(name: &str) -> Theme {
        [Theme::Light, Theme::Dark].into_iter().find(|t| t.name() == name).unwrap_or_default()
    }
}

/// The panes below a tab's work area; at most one is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    History,
    Log,
    SignIn,
    Server,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::History, Pane::Log, Pane::SignIn, Pane::Server];

    /// Its name on the pane's tab, which also names it in the page (`data-pane`).
    pub fn name(self) -> &'static str {
        match self {
            Pane::History => "History",
            Pane::Log => "Log",
            Pane::SignIn => "Sign-in",
            Pane::Server => "Server",
        }
    }

    /// The pane open after its tab is pressed while `open` was: pressing the open one closes it.
    pub fn toggled(self, open: Option<Pane>) -> Option<Pane> {
        (open != Some(self)).then_some(self)
    }
}

/// What the list beside the work pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CatalogView {
    #[default]
    Tools,
    Resources,
    Prompts,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_theme_toggle_goes_round_and_a_kept_choice_reads_back() {
        let mut seen = vec![Theme::default()];
        for _ in 0..3 {
            seen.push(seen.last().copied().unwrap_or_default().next());
        }
        assert_eq!(seen, [Theme::System, Theme::Light, Theme::Dark, Theme::System]);
        for t in [Theme::System, Theme::Light, Theme::Dark] {
            assert_eq!(Theme::parse(t.name()), t);
        }
        assert_eq!(Theme::parse("<script>"), Theme::System);
    }

    #[test]
    fn pressing_a_panes_tab_opens_it_and_pressing_it_again_closes_it() {
        assert_eq!(Pane::Log.toggled(None), Some(Pane::Log));
        assert_eq!(Pane::Log.toggled(Some(Pane::History)), Some(Pane::Log));
        assert_eq!(Pane::Log.toggled(Some(Pane::Log)), None);
    }

    fn connecting() -> ConsoleState {
        ConsoleState { status: Status::Connecting, ..ConsoleState::default() }
    }

    #[test]
    fn the_traffic_is_kept_across_a_new_connection_of_the_tab() {
        use crate::core::history::Traffic;
        use crate::core::jsonrpc::Message;
        let mut s = connecting();
        let note = Message::notification("notifications/initialized", None);
        s.apply(EngineEvent::Traffic(Box::new(Traffic {
            sent: true,
            at: 1,
            message: note,
            over: None,
        })));
        s.notice = Some("old".into());
        s.restart(Status::Connecting);
        assert_eq!((s.traffic.len(), s.notice.clone(), s.generation), (1, None, 1));
        assert_eq!(s.status, Status::Connecting);
    }
    use crate::core::protocol::Implementation;
    use crate::core::session::SessionError;
    use serde_json::json;

    fn summary(name: &str) -> ServerSummary {
        ServerSummary {
            protocol_version: "2025-06-18".into(),
            server_info: Implementation {
                name: name.into(),
                version: "1.2".into(),
                ..Default::default()
            },
            capabilities: Map::new(),
            instructions: None,
        }
    }

    fn session(event: SessionEvent) -> EngineEvent {
        EngineEvent::Session(Box::new(event))
    }

    fn connected(s: &mut ConsoleState) {
        s.apply(EngineEvent::State(ConnectionState::Connected {
            transport: TransportKind::StreamableHttp,
        }));
    }

    #[test]
    fn status_line_follows_the_connection() {
        let mut s = connecting();
        assert_eq!(s.status_line(0), "Connecting…");
        s.apply(session(SessionEvent::Ready(summary("everything"))));
        connected(&mut s);
        assert_eq!(
            s.status_line(0),
            "Connected to everything 1.2 (MCP 2025-06-18, Streamable HTTP)."
        );
        s.apply(EngineEvent::State(ConnectionState::Reconnecting {
            at: 10_000,
            attempt: 2,
            reason: "The server went away.".into(),
        }));
        assert_eq!(s.status_line(7_500), "The server went away. Reconnecting in 3 s (attempt 2)…");
        s.apply(EngineEvent::State(ConnectionState::Disconnected { reason: Some("Gone.".into()) }));
        assert_eq!(s.status_line(0), "Gone.");
        assert!(!s.is_connected());
    }

    #[test]
    fn unnamed_servers_are_still_described() {
        let mut s = connecting();
        s.apply(session(SessionEvent::Ready(summary(" "))));
        connected(&mut s);
        assert!(s.status_line(0).starts_with("Connected to an unnamed server"));
    }

    #[test]
    fn tools_replace_the_list_and_clear_the_notice() {
        let mut s = connecting();
        s.apply(session(SessionEvent::RequestFailed {
            id: None,
            method: "tools/list".into(),
            error: SessionError::NotReady,
        }));
        assert!(s.notice.is_some());
        let tool = Tool::from_json(json!({"name": "echo"})).unwrap_or_else(|e| panic!("{e}"));
        s.apply(session(SessionEvent::ToolsListed(vec![tool])));
        assert_eq!(s.tools.as_ref().map(|t| t.len()), Some(1));
        assert_eq!(s.notice, None);
    }

    #[test]
    fn a_result_is_checked_against_the_output_schema_its_tool_declares() {
        let mut s = connecting();
        let schema = json!({"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]});
        let tools = [json!({"name": "counted", "outputSchema": schema}), json!({"name": "plain"})];
        let tools = tools.into_iter().map(|t| Tool::from_json(t).unwrap_or_else(|e| panic!("{e}")));
        s.apply(session(SessionEvent::ToolsListed(tools.collect())));
        let mut answer = |n: i64, tool: &str, result: Value| {
            s.call_started(RequestId::Number(n), tool, Map::new());
            let (id, method) = (RequestId::Number(n), "tools/call".into());
            s.apply(session(SessionEvent::Answered { id, method, result }));
            s.calls[0].output.clone()
        };
        let wrong =
            answer(1, "counted", json!({"content": [], "structuredContent": {"count": "three"}}));
        let wrong = wrong.unwrap_or_else(|| panic!("checked"));
        assert_eq!(wrong.violations.len(), 1);
        assert_eq!(wrong.violations[0].at, "/count");
        let right = answer(2, "counted", json!({"content": [], "structuredContent": {"count": 3}}));
        assert_eq!(right.map(|c| c.violations.len()), Some(0));
        let missing = answer(3, "counted", json!({"content": []}));
        assert!(missing.is_some_and(|c| c.violations[0].sentence.contains("no structuredContent")));
        assert_eq!(answer(4, "counted", json!({"content": [], "isError": true})), None);
        assert_eq!(answer(5, "plain", json!({"content": [], "structuredContent": 1})), None);
    }

    #[test]
    fn the_history_keeps_the_newest_calls_and_redraws_only_what_changed() {
        let mut s = connecting();
        for n in 0..(CALL_LIMIT as i64 + 5) {
            s.call_started(RequestId::Number(n), "echo", Map::new());
        }
        let keys = ConsoleState::call_keys;
        let before = keys(&s);
        assert_eq!(before.len(), CALL_LIMIT);
        assert_eq!(before.first(), Some(&(RequestId::Number(CALL_LIMIT as i64 + 4), 0)));
        assert_eq!(before.last(), Some(&(RequestId::Number(5), 0)));
        // An answer for a forgotten call changes nothing.
        let answered = |n: i64| SessionEvent::Answered {
            id: RequestId::Number(n),
            method: "tools/call".into(),
            result: json!({"content": []}),
        };
        s.apply(session(answered(0)));
        assert_eq!(keys(&s), before);
        s.apply(session(answered(7)));
        let changed: Vec<_> = keys(&s).into_iter().filter(|k| !before.contains(k)).collect();
        assert_eq!(changed, [(RequestId::Number(7), 1)]);
        assert!(matches!(
            s.call(&RequestId::Number(7)).map(|c| &c.state),
            Some(CallState::Done(_))
        ));
    }

    #[test]
    fn a_long_list_draws_the_rows_in_sight_and_a_few_above() {
        assert_eq!(rows_in_view(0.0, 1_000), 0..ROWS_IN_SIGHT);
        assert_eq!(rows_in_view(0.0, 5), 0..5);
        let row = TOOL_ROW_PX as f64;
        assert_eq!(rows_in_view(500.0 * row + 10.0, 1_000), 492..540);
        assert_eq!(rows_in_view(990.0 * row, 1_000), 982..1_000);
        // Scrolled further than the list reaches (it just got shorter): nothing to draw yet, and
        // the browser's clamped scroll position follows.
        assert_eq!(rows_in_view(990.0 * row, 10), 10..10);
        for odd in [f64::NAN, f64::INFINITY, -5.0, f64::MAX] {
            let range = rows_in_view(odd, 1_000);
            assert!(range.start <= range.end && range.end <= 1_000, "{odd}: {range:?}");
        }
    }

    #[test]
    fn tools_match_every_word_of_the_filter_in_name_title_or_description() {
        let tools: Vec<Tool> = [
            json!({"name": "echo", "description": "Echoes the input back"}),
            json!({"name": "add", "title": "Add Numbers", "description": "Adds two numbers"}),
            json!({"name": "getTinyImage", "description": "Returns an image"}),
        ]
        .into_iter()
        .map(|t| Tool::from_json(t).unwrap_or_else(|e| panic!("{e}")))
        .collect();
        assert_eq!(matching_tools(&tools, ""), [0, 1, 2]);
        assert_eq!(matching_tools(&tools, "  "), [0, 1, 2]);
        assert_eq!(matching_tools(&tools, "ECHO"), [0]);
        assert_eq!(matching_tools(&tools, "numbers add"), [1]);
        assert_eq!(matching_tools(&tools, "image tiny"), [2]);
        assert_eq!(matching_tools(&tools, "e"), [0, 1, 2]);
        assert_eq!(matching_tools(&tools, "echo image"), Vec::<usize>::new());
    }

    #[test]
    fn a_call_shows_progress_then_its_result() {
        let mut s = connecting();
        let id = RequestId::Number(3);
        s.call_started(id.clone(), "slow", Map::new());
        s.apply(session(SessionEvent::Progress {
            id: id.clone(),
            progress: 2.0,
            total: Some(5.0),
            message: Some("step 2".into()),
        }));
        assert_eq!(
            s.calls[0].state,
            CallState::Running { progress: Some((2.0, Some(5.0))), message: Some("step 2".into()) }
        );
        let result = json!({"content": [], "isError": true});
        s.apply(session(SessionEvent::Answered { id, method: "tools/call".into(), result }));
        assert!(s.calls[0].is_tool_error());
    }

    #[test]
    fn a_failed_call_keeps_its_sentence_and_others_go_to_the_notice() {
        let mut s = connecting();
        s.call_started(RequestId::Number(1), "x", Map::new());
        let error = SessionError::Cancelled { method: "tools/call".into() };
        s.apply(session(SessionEvent::RequestFailed {
            id: Some(RequestId::Number(1)),
            method: "tools/call".into(),
            error: error.clone(),
        }));
        assert_eq!(s.calls[0].state, CallState::Failed(error.to_string()));
        assert_eq!(s.notice, None);
    }

    #[test]
    fn only_the_newest_completion_is_shown_and_its_params_carry_the_other_fields() {
        let mut s = connecting();
        let answer = |n: i64, values: Value| {
            let (id, method) = (RequestId::Number(n), "completion/complete".to_owned());
            session(SessionEvent::Answered {
                id,
                method,
                result: json!({"completion": {"values": values}}),
            })
        };
        assert_eq!(s.completion_started("id", RequestId::Number(1)), None);
        assert_eq!(s.completion_started("id", RequestId::Number(2)), Some(RequestId::Number(1)));
        s.apply(answer(1, json!(["stale"])));
        assert!(s.suggestions.values.is_empty(), "the older answer is stale");
        let long = "x".repeat(201);
        s.apply(answer(2, json!(["1", "10", 7, long])));
        assert_eq!(
            (s.suggestions.values.clone(), s.suggestions.asked.clone()),
            (vec!["1".to_owned(), "10".into()], None)
        );
        assert_eq!(s.calls.len(), 0, "not a call");
        // Another field starts afresh; a refusal (no completions) is no news.
        s.completion_started("name", RequestId::Number(3));
        assert!(s.suggestions.values.is_empty());
        s.apply(session(SessionEvent::RequestFailed {
            id: Some(RequestId::Number(3)),
            method: "completion/complete".into(),
            error: SessionError::NotReady,
        }));
        assert_eq!((s.suggestions.asked.clone(), s.notice.clone()), (None, None));
        let mut typed = Map::new();
        typed.insert("id".into(), json!("4"));
        typed.insert("size".into(), json!("big"));
        let params = completion_params(CompletionRef::Template("test://r/{id}"), "id", "4", &typed);
        assert_eq!(
            params,
            json!({"ref": {"type": "ref/resource", "uri": "test://r/{id}"}, "argument": {"name": "id", "value": "4"},
                   "context": {"arguments": {"size": "big"}}})
        );
        let params = completion_params(CompletionRef::Prompt("greet"), "name", "A", &Map::new());
        assert_eq!(
            params,
            json!({"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "name", "value": "A"}})
        );
    }

    #[test]
    fn progress_moves_without_redrawing_the_call() {
        let mut s = connecting();
        s.call_started(RequestId::Number(1), "slow", Map::new());
        let keys = s.call_keys();
        s.apply(session(SessionEvent::Progress {
            id: RequestId::Number(1),
            progress: 1.0,
            total: Some(5.0),
            message: None,
        }));
        assert_eq!(s.call_keys(), keys, "same revision: the Cancel button is not drawn anew");
        assert!(matches!(
            s.calls[0].state,
            CallState::Running { progress: Some((1.0, Some(5.0))), .. }
        ));
    }

    #[test]
    fn templates_are_listed_and_a_server_without_them_is_no_news() {
        let mut s = connecting();
        let items =
            vec![json!({"uriTemplate": "test://static/resource/{id}", "name": "Static"}), json!(7)];
        s.apply(session(SessionEvent::Listed { kind: ListKind::ResourceTemplates, items }));
        assert_eq!(
            s.templates.as_ref().map(|t| t[0].uri_template.clone()).as_deref(),
            Some("test://static/resource/{id}")
        );
        assert!(s.notice.as_deref().is_some_and(|n| n.starts_with("1 of the 2 items")));
        let mut s = connecting();
        s.apply(session(SessionEvent::RequestFailed {
            id: Some(RequestId::Number(9)),
            method: "resources/templates/list".into(),
            error: SessionError::NotReady,
        }));
        assert_eq!((s.notice.clone(), s.templates.map(|t| t.len())), (None, Some(0)));
    }

    #[test]
    fn lists_are_fetched_for_declared_capabilities_and_when_they_change() {
        let mut full = summary("t");
        for cap in ["tools", "prompts", "logging"] {
            full.capabilities.insert(cap.into(), json!({}));
        }
        assert_eq!(
            follow_up(&session(SessionEvent::Ready(full.clone()))),
            vec![ListKind::Tools, ListKind::Prompts]
        );
        full.capabilities.insert("resources".into(), json!({}));
        assert_eq!(
            follow_up(&session(SessionEvent::Ready(full))),
            vec![
                ListKind::Tools,
                ListKind::Resources,
                ListKind::ResourceTemplates,
                ListKind::Prompts
            ],
            "resources bring their templates"
        );
        assert!(follow_up(&session(SessionEvent::Ready(summary("none")))).is_empty());
        for (method, kinds) in [
            ("notifications/tools/list_changed", vec![ListKind::Tools]),
            (
                "notifications/resources/list_changed",
                vec![ListKind::Resources, ListKind::ResourceTemplates],
            ),
            ("notifications/prompts/list_changed", vec![ListKind::Prompts]),
        ] {
            let changed = SessionEvent::Notification { method: method.into(), params: None };
            assert_eq!(follow_up(&session(changed)), kinds);
        }
        assert!(follow_up(&EngineEvent::State(ConnectionState::Connecting)).is_empty());
    }

    #[test]
    fn resources_and_prompts_are_typed_and_bad_items_are_counted() {
        let mut s = connecting();
        s.apply(session(SessionEvent::Listed {
            kind: ListKind::Resources,
            items: vec![json!({"uri": "a://1", "name": "one"}), json!({"name": "no uri"})],
        }));
        assert_eq!(s.resources.as_ref().map(|r| r.len()), Some(1));
        assert_eq!(
            s.notice.as_deref(),
            Some("1 of the 2 items of resources/list were not understood and are not shown.")
        );
        s.apply(session(SessionEvent::Listed {
            kind: ListKind::Prompts,
            items: vec![json!({"name": "p", "arguments": [{"name": "x", "required": true}]})],
        }));
        assert_eq!(s.prompts.as_ref().map(|p| p[0].name.clone()), Some("p".into()));
    }

    #[test]
    fn typed_arguments_must_be_a_json_object() {
        assert_eq!(parse_arguments("  "), Ok(Map::new()));
        assert_eq!(parse_arguments(r#"{"a": 1}"#).map(|m| m.len()), Ok(1));
        assert!(parse_arguments("[1]").is_err_and(|e| e.contains("JSON object")));
        assert!(
            parse_arguments("{oops")
                .is_err_and(|e| e.starts_with("The arguments are not valid JSON"))
        );
    }

    #[test]
    fn asks_queue_up_and_leave_when_answered_withdrawn_or_the_session_restarts() {
        let mut s = connecting();
        for n in 1..=3 {
            s.apply(session(SessionEvent::ServerRequest {
                id: RequestId::Number(n),
                method: "elicitation/create".into(),
                params: Some(json!({"message": "?", "requestedSchema": {"type": "object"}})),
            }));
        }
        s.apply(session(SessionEvent::ServerRequest {
            id: RequestId::Number(9),
            method: "roots/list".into(),
            params: None,
        }));
        assert_eq!(s.asks.len(), 3, "roots are answered without asking");
        s.ask_answered(&AskId::Server(RequestId::Number(1)), "accepted");
        s.apply(session(SessionEvent::ServerRequestCancelled {
            id: RequestId::Number(2),
            reason: None,
        }));
        assert_eq!(
            s.asks.iter().map(|a| a.id.clone()).collect::<Vec<_>>(),
            vec![AskId::Server(RequestId::Number(3))]
        );
        s.apply(session(SessionEvent::Ready(summary("again"))));
        assert!(s.asks.is_empty());
    }

    #[test]
    fn log_lines_are_kept_up_to_the_limit() {
        let mut s = connecting();
        for n in 0..(LOG_LIMIT + 3) {
            s.apply(session(SessionEvent::Notification {
                method: "notifications/message".into(),
                params: Some(json!({"level": "warning", "logger": "x", "data": {"n": n}})),
            }));
        }
        assert_eq!(s.log.len(), LOG_LIMIT);
        assert_eq!(s.log[0].text, r#"{"n":3}"#);
        assert_eq!(s.log[0].level, "warning");
    }

    #[test]
    fn updated_resources_are_read_again_and_a_gap_in_listening_refetches() {
        let updated = session(SessionEvent::Notification {
            method: "notifications/resources/updated".into(),
            params: Some(json!({"uri": "note://counter"})),
        });
        assert_eq!(rereads(&updated), vec!["note://counter".to_owned()]);
        assert_eq!(follow_up(&updated), vec![]);
        let malformed = session(SessionEvent::Notification {
            method: "notifications/resources/updated".into(),
            params: Some(json!({"uri": 5})),
        });
        assert_eq!(rereads(&malformed), Vec::<String>::new());
        let missed = session(SessionEvent::Missed {
            lists: vec![ListKind::Tools],
            resources: vec!["note://a".into()],
        });
        assert_eq!(follow_up(&missed), vec![ListKind::Tools]);
        assert_eq!(rereads(&missed), vec!["note://a".to_owned()]);
    }

    #[test]
    fn each_round_a_call_needed_is_kept_with_how_it_was_answered() {
        use crate::core::session::InputRequest;
        let mut s = connecting();
        s.call_started(RequestId::Number(5), "deploy", Map::new());
        let form = json!({"message": "Sure?", "requestedSchema": {"type": "object"}});
        s.apply(session(SessionEvent::InputRequired {
            id: RequestId::Number(5),
            method: "tools/call".into(),
            round: 1,
            requests: vec![InputRequest {
                key: "confirm".into(),
                method: "elicitation/create".into(),
                params: Some(form),
            }],
        }));
        assert_eq!(s.asks.len(), 1);
        s.ask_answered(
            &AskId::Input { request: RequestId::Number(5), key: "confirm".into() },
            "declined",
        );
        let call = s.call(&RequestId::Number(5)).cloned().unwrap_or_else(|| panic!("no call"));
        assert_eq!(
            call.rounds,
            vec![
                "Round 1: the server asked for confirm (elicitation/create).",
                "confirm: declined."
            ]
        );
        assert!(s.asks.is_empty());
        assert!(
            matches!(&call.state, CallState::Running { message: Some(m), .. } if m.starts_with("Round 1"))
        );
    }

    #[test]
    fn a_reread_takes_the_place_of_the_finished_reads_of_its_resource() {
        let mut s = connecting();
        s.request_started(RequestId::Number(1), CallKind::Resource, "note://a", Map::new());
        s.apply(session(SessionEvent::Answered {
            id: RequestId::Number(1),
            method: "resources/read".into(),
            result: json!({}),
        }));
        s.call_started(RequestId::Number(2), "echo", Map::new());
        for n in 3..100 {
            s.reread_started(RequestId::Number(n), "note://a");
            s.apply(session(SessionEvent::Answered {
                id: RequestId::Number(n),
                method: "resources/read".into(),
                result: json!({}),
            }));
        }
        let ids: Vec<RequestId> = s.calls.iter().map(|c| c.id.clone()).collect();
        assert_eq!(ids, vec![RequestId::Number(99), RequestId::Number(2)], "the call stays");
    }
}
