//! The console inside a portal's frame: the postMessage API between the page that embeds it (the
//! host) and the console (docs/embedding.md). A message counts only when it comes from an origin
//! `config.json` lists under `EmbedOrigins`, from the window the console is framed by, in this
//! API's envelope; the first such message binds the console to its origin, which every event goes
//! to and no other origin may take over. Anything else is ignored and counted, never answered.
//! What a host sets is judged by `Deployment::host`, as a link's settings are; events carry
//! states, sentences and MCP results, never a token (an event whose text would hold one is
//! replaced by a sentence). Sans-IO: origins and texts in, commands and texts to post out.

use crate::core::auth::machine::SignInStatus;
use crate::core::auth::settings::SignInSettings;
use crate::core::console::{CallState, ConsoleState, Status};
use crate::core::json::{Fields, Malformed};
use crate::core::jsonrpc::RequestId;
use crate::core::launch::proposed_sign_in;
use crate::core::protocol::Tool;
use crate::core::tabs::TabId;
use serde_json::{Map, Value, json};

/// The envelope's mark and version: `{"mcpConsole": 1, …}`.
pub const VERSION: u64 = 1;
/// The longest message read, as JSON text: tool arguments fit; a page flooding the console does
/// not make it parse megabytes.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// The host's calls followed at once; beyond them the oldest is no longer reported, so a host
/// that never waits cannot grow the page's memory.
pub const MAX_HOST_CALLS: usize = 64;
/// The longest `id` a host may give.
const MAX_ID_CHARS: usize = 200;
/// Said instead of an event whose text would hold a token or secret.
const WITHHELD: &str = "The console did not pass this on: it holds one of your sign-in tokens.";
/// Said when a followed call left the console's list (a new connection starts the list afresh).
const CALL_LOST: &str = "The console no longer follows this call: it connected again or dropped the call from its list, so whether it ran is unknown.";

/// The host's name for a command (a string or a number), echoed on the events it causes.
#[derive(Debug, Clone, PartialEq)]
pub struct HostId(Value);

/// What the host asks of the console.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Answer `ready` again (for a host whose listener came late).
    Hello,
    /// Show this server, with these sign-in settings proposed for it (and, to be refused unless
    /// it is the console's own page, a redirect URI): for `Deployment::host`.
    SetServer {
        server: String,
        sign_in: SignInSettings,
        redirect_uri: Option<String>,
    },
    Connect,
    Disconnect,
    /// Call a tool of the connected server; `Received::id` is always given for this one.
    CallTool {
        name: String,
        arguments: Map<String, Value>,
    },
}

/// A command accepted from the host, with its `id` if it gave one.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub id: Option<HostId>,
    pub command: Command,
}

/// Why a message was ignored. None is answered: the sender may not be the host at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// From an origin `EmbedOrigins` does not list.
    NotListed,
    /// From a listed origin, but not from the window the console is framed by.
    NotParent,
    /// From a listed origin other than the one the console answers to.
    OtherOrigin,
    TooLarge,
    /// Not a JSON object in this API's envelope, or a member of the wrong type.
    Malformed,
    /// In the envelope, of a type this console does not know.
    UnknownType,
}

const REFUSALS: [Refusal; 6] = [
    Refusal::NotListed,
    Refusal::NotParent,
    Refusal::OtherOrigin,
    Refusal::TooLarge,
    Refusal::Malformed,
    Refusal::UnknownType,
];

impl Refusal {
    /// What the page says of the messages ignored for this reason.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::NotListed => "from a page this console's configuration does not list",
            Refusal::NotParent => "from a window other than the page this console is embedded in",
            Refusal::OtherOrigin => "from another origin than the one the console answers to",
            Refusal::TooLarge => "too large",
            Refusal::Malformed => "not in the console's message format",
            Refusal::UnknownType => "of a type this console does not know",
        }
    }
}

/// What the console tells the host.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The console listens.
    Ready,
    /// Where the connection to `server` stands; `detail` says why it failed or reconnects.
    Connection {
        server: Option<String>,
        state: &'static str,
        detail: Option<String>,
    },
    /// Where signing in to `server` stands; the person acts on it inside the console.
    SignIn {
        server: Option<String>,
        state: &'static str,
    },
    CallStarted {
        id: HostId,
        name: String,
    },
    /// The MCP `CallToolResult`, as the server sent it (a tool's own failure has `isError`).
    CallResult {
        id: HostId,
        result: Value,
    },
    CallError {
        id: HostId,
        message: String,
    },
    /// A command the console refused, with its `id` if it had one.
    Error {
        id: Option<HostId>,
        message: String,
    },
}

/// A text to post to the parent window, and the one origin it may be delivered to.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub target: String,
    pub text: String,
}

impl Event {
    /// The connection event for `state`'s status.
    pub fn connection(server: Option<&str>, state: &ConsoleState) -> Event {
        let (state, detail) = match &state.status {
            Status::Disconnected => ("disconnected", None),
            Status::Connecting => ("connecting", None),
            // Ready for `callTool` once the tools are listed: the console calls only those.
            Status::Connected(_)
                if state.tools.is_none()
                    && state.server.as_ref().is_some_and(|s| s.has_capability("tools")) =>
            {
                ("connecting", None)
            }
            Status::Connected(_) => ("connected", None),
            Status::Reconnecting { reason, .. } => ("reconnecting", Some(reason.clone())),
            Status::SigningIn => ("waitingForSignIn", None),
            Status::Failed(reason) => ("failed", Some(reason.clone())),
        };
        Event::Connection { server: server.map(str::to_owned), state, detail }
    }

    /// The sign-in event for `status`. A failure's sentence stays in the console: it may name
    /// the person's account or the sign-in service's answers.
    pub fn sign_in(server: Option<&str>, status: &SignInStatus) -> Event {
        let state = match status {
            SignInStatus::SignedOut => "signedOut",
            SignInStatus::Needed(_) => "needed",
            SignInStatus::Confirm(_) => "confirming",
            SignInStatus::Working(_) => "signingIn",
            SignInStatus::SignedIn => "signedIn",
            SignInStatus::Failed(_) => "failed",
        };
        Event::SignIn { server: server.map(str::to_owned), state }
    }

    /// The event as JSON text in the envelope.
    pub fn to_json(&self) -> String {
        let id = |id: &Option<HostId>| id.as_ref().map_or(Value::Null, |id| id.0.clone());
        let mut message = match self {
            Event::Ready => json!({"type": "ready"}),
            Event::Connection { server, state, detail } => {
                json!({"type": "connection", "server": server, "state": state, "detail": detail})
            }
            Event::SignIn { server, state } => {
                json!({"type": "signIn", "server": server, "state": state})
            }
            Event::CallStarted { id, name } => {
                json!({"type": "callStarted", "id": id.0, "name": name})
            }
            Event::CallResult { id, result } => {
                json!({"type": "callResult", "id": id.0, "result": result})
            }
            Event::CallError { id, message } => {
                json!({"type": "callError", "id": id.0, "message": message})
            }
            Event::Error { id: host_id, message } => {
                json!({"type": "error", "id": id(host_id), "message": message})
            }
        };
        if let Value::Object(members) = &mut message {
            members.retain(|_, v| !v.is_null());
            members.insert("mcpConsole".into(), VERSION.into());
        }
        message.to_string()
    }

    /// The same event with a sentence in place of what it carried.
    fn withheld(self) -> Event {
        match self {
            Event::CallStarted { id, .. }
            | Event::CallResult { id, .. }
            | Event::CallError { id, .. } => Event::CallError { id, message: WITHHELD.to_owned() },
            Event::Error { id, .. } => Event::Error { id, message: WITHHELD.to_owned() },
            _ => Event::Error { id: None, message: WITHHELD.to_owned() },
        }
    }
}

/// The console's side of the embedding: who it listens to, who it answers, what it ignored, the
/// host's calls under way and what the host was last told.
#[derive(Debug, Default)]
pub struct Embedding {
    /// `config.json`'s `EmbedOrigins`, as the browser writes origins.
    listed: Vec<String>,
    /// The origin of the first host message accepted: the only one answered from then on.
    host: Option<String>,
    refused: [u32; REFUSALS.len()],
    /// The tab the host drives and hears of: the one in front when it first asked for
    /// something. Never another: the person's other tabs are not the host's business.
    tab: Option<TabId>,
    /// The host's calls under way, oldest first: the connection of the host's tab they went out
    /// on (`ConsoleState::generation`), the console's request id and the host's id.
    calls: Vec<(u32, RequestId, HostId)>,
    told_connection: Option<Event>,
    told_sign_in: Option<Event>,
}

impl Embedding {
    /// Listens to the pages `config.json` lists (`Config::embed_origins`); with none, to nobody.
    pub fn new(listed: Vec<String>) -> Embedding {
        Embedding { listed, ..Embedding::default() }
    }

    /// A `message` event came: from `origin` (`MessageEvent.origin`), from the window the
    /// console is framed by or not, with `text`, its data as JSON (asked for only once the
    /// origin passed; `None` when it is not JSON). A command, or why it was ignored (counted).
    pub fn receive(
        &mut self,
        origin: &str,
        from_parent: bool,
        text: impl FnOnce() -> Option<String>,
    ) -> Result<Received, Refusal> {
        let received = self.judge(origin, from_parent, text);
        match &received {
            Ok(_) => {
                self.host.get_or_insert_with(|| origin.to_owned());
            }
            Err(refusal) => {
                let count = &mut self.refused[*refusal as usize];
                *count = count.saturating_add(1);
            }
        }
        received
    }

    fn judge(
        &self,
        origin: &str,
        from_parent: bool,
        text: impl FnOnce() -> Option<String>,
    ) -> Result<Received, Refusal> {
        if !self.listed.iter().any(|listed| listed == origin) {
            return Err(Refusal::NotListed);
        }
        if !from_parent {
            return Err(Refusal::NotParent);
        }
        // The parent's origin cannot change while the console lives in its frame (navigating
        // the parent unloads the frame), so another origin here is not the host.
        if self.host.as_deref().is_some_and(|host| host != origin) {
            return Err(Refusal::OtherOrigin);
        }
        let text = text().ok_or(Refusal::Malformed)?;
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(Refusal::TooLarge);
        }
        read(&text)
    }

    /// How many messages were ignored, for every reason.
    pub fn refused(&self) -> u32 {
        self.refused.iter().fold(0, |sum, n| sum.saturating_add(*n))
    }

    /// How many were ignored for each reason that ignored any, for the page to say.
    pub fn refusals(&self) -> Vec<(Refusal, u32)> {
        REFUSALS.iter().map(|r| (*r, self.refused[*r as usize])).filter(|(_, n)| *n > 0).collect()
    }

    /// The origin events go to: the host's, once it spoke.
    pub fn answers_to(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// `ready`, before the host spoke: its origin is not known yet, so it goes to each listed
    /// origin with that exact target, and the browser delivers only the one that is the
    /// parent's. `parent` is the browser's word on it (`location.ancestorOrigins`, where there
    /// is one): when listed, only it is posted to.
    pub fn ready(&self, parent: Option<&str>) -> Vec<Post> {
        let text = Event::Ready.to_json();
        let post = |target: &String| Post { target: target.clone(), text: text.clone() };
        match (&self.host, parent) {
            (Some(host), _) => vec![post(host)],
            (None, Some(parent)) if self.listed.iter().any(|l| l == parent) => {
                vec![post(&parent.to_owned())]
            }
            (None, _) => self.listed.iter().map(post).collect(),
        }
    }

    /// `event` as a text for the host, if one spoke; `reveals` says whether a text holds a
    /// token or secret the page keeps (`SignIn::reveals_secret`), and such an event is replaced
    /// by a sentence.
    pub fn post(&self, event: Event, reveals: impl Fn(&str) -> bool) -> Option<Post> {
        let target = self.host.clone()?;
        let mut text = event.to_json();
        if reveals(&text) {
            text = event.withheld().to_json();
        }
        Some(Post { target, text })
    }

    /// The tab the host's commands act on: the one it was given, or `front` if it has none yet
    /// or its tab was closed (`open` says whether a tab is still open).
    pub fn tab(&mut self, front: TabId, open: impl Fn(TabId) -> bool) -> TabId {
        match self.tab {
            Some(tab) if open(tab) => tab,
            _ => {
                self.calls.clear();
                self.told_connection = None;
                *self.tab.insert(front)
            }
        }
    }

    /// The tab the host drives, once it asked for something.
    pub fn bound_tab(&self) -> Option<TabId> {
        self.tab
    }

    /// The host's call `id` went out as `request` on connection `generation` of its tab:
    /// followed until it ends.
    pub fn call_started(
        &mut self,
        id: HostId,
        generation: u32,
        request: RequestId,
        name: &str,
    ) -> Event {
        if self.calls.len() >= MAX_HOST_CALLS {
            self.calls.remove(0);
        }
        self.calls.push((generation, request, id.clone()));
        Event::CallStarted { id, name: name.to_owned() }
    }

    /// What the host has not been told yet about tab `tab` (its server and state): its
    /// connection if it changed, and each of its calls that ended (or left the list: a new
    /// connection starts ids afresh, so a call of an older one is lost, never matched by id).
    /// Nothing of any tab but the host's.
    pub fn follow(&mut self, tab: TabId, server: Option<&str>, state: &ConsoleState) -> Vec<Event> {
        let mut events = Vec::new();
        // Nobody to tell yet: the host hears where things stand once it speaks.
        if self.host.is_none() || self.tab != Some(tab) {
            return events;
        }
        let connection = Event::connection(server, state);
        if self.told_connection.as_ref() != Some(&connection) {
            self.told_connection = Some(connection.clone());
            events.push(connection);
        }
        self.calls.retain(|(generation, request, id)| {
            let call = (*generation == state.generation).then(|| state.call(request)).flatten();
            let ended = match call.map(|call| &call.state) {
                Some(CallState::Running { .. }) => return true,
                Some(CallState::Done(result)) => {
                    Event::CallResult { id: id.clone(), result: result.clone() }
                }
                Some(CallState::Failed(message)) => {
                    Event::CallError { id: id.clone(), message: message.clone() }
                }
                None => Event::CallError { id: id.clone(), message: CALL_LOST.to_owned() },
            };
            events.push(ended);
            false
        });
        events
    }

    /// The sign-in event, if it changed since the host was last told (`server` and `status` are
    /// the Auth view's).
    pub fn follow_sign_in(&mut self, server: Option<&str>, status: &SignInStatus) -> Option<Event> {
        self.host.as_ref()?;
        let event = Event::sign_in(server, status);
        if self.told_sign_in.as_ref() == Some(&event) {
            return None;
        }
        self.told_sign_in = Some(event.clone());
        Some(event)
    }
}

/// Whether the host may call `name` now: a tool that may delete or change things or reach
/// outside the server runs only after the person confirms it in the console (unless the person
/// turned that question off), so the host cannot run it behind their back.
pub fn host_may_call(tools: &[Tool], name: &str, ask_first: bool) -> Result<(), String> {
    match tools.iter().find(|t| t.name == name) {
        None => Err(format!(
            "The console has not seen {name} in the server's list of tools, so it does not call it for the page it is embedded in: list the tools first (connect, and wait for the connection event)."
        )),
        Some(tool) if ask_first && tool.needs_confirmation() => Err(format!(
            "{name} may delete or change things or reach outside the server, so it runs only from the console, once the person confirms it."
        )),
        Some(_) => Ok(()),
    }
}

/// A message's text as a command.
fn read(text: &str) -> Result<Received, Refusal> {
    let value: Value = serde_json::from_str(text).map_err(|_| Refusal::Malformed)?;
    let mut f = Fields::of(value, "message").map_err(|_| Refusal::Malformed)?;
    if f.take("mcpConsole").and_then(|v| v.as_u64()) != Some(VERSION) {
        return Err(Refusal::Malformed);
    }
    let kind = f.string("type").map_err(|_| Refusal::Malformed)?;
    let id = match f.take("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= MAX_ID_CHARS => {
            Some(HostId(Value::String(s)))
        }
        Some(Value::Number(n)) => Some(HostId(Value::Number(n))),
        Some(_) => return Err(Refusal::Malformed),
    };
    let command = match kind.as_str() {
        "hello" => Command::Hello,
        "connect" => Command::Connect,
        "disconnect" => Command::Disconnect,
        "setServer" => set_server(f).map_err(|_| Refusal::Malformed)?,
        "callTool" if id.is_some() => call_tool(f).map_err(|_| Refusal::Malformed)?,
        "callTool" => return Err(Refusal::Malformed),
        _ => return Err(Refusal::UnknownType),
    };
    Ok(Received { id, command })
}

fn set_server(mut f: Fields) -> Result<Command, Malformed> {
    let server = f.string("server")?;
    let (sign_in, redirect_uri) = proposed_sign_in(f)?;
    Ok(Command::SetServer { server, sign_in, redirect_uri })
}

fn call_tool(mut f: Fields) -> Result<Command, Malformed> {
    let name = f.string("name")?;
    if name.trim().is_empty() {
        return Err(Malformed("name"));
    }
    Ok(Command::CallTool { name, arguments: f.object_or_empty("arguments")? })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::auth::machine::Need;
    use crate::core::engine::TransportKind;

    const PORTAL: &str = "https://portal.contoso.example";
    const OTHER: &str = "https://intranet.contoso.example:8443";

    fn embedding() -> Embedding {
        Embedding::new(vec![PORTAL.into(), OTHER.into()])
    }

    fn text(message: Value) -> impl FnOnce() -> Option<String> {
        move || Some(message.to_string())
    }

    fn command(e: &mut Embedding, message: Value) -> Result<Received, Refusal> {
        e.receive(PORTAL, true, text(message))
    }

    fn id(s: &str) -> HostId {
        HostId(Value::String(s.into()))
    }

    #[test]
    fn each_command_is_read_from_its_envelope() {
        let mut e = embedding();
        let set = command(
            &mut e,
            json!({"mcpConsole": 1, "type": "setServer", "id": "s1",
                   "server": "https://mcp.example/mcp", "tenantId": "t", "clientId": "c",
                   "scopes": ["api://x/mcp:tools"], "clientSecret": "never read"}),
        );
        let Ok(Received {
            id: Some(set_id),
            command: Command::SetServer { server, sign_in, redirect_uri },
        }) = set
        else {
            panic!("{set:?}")
        };
        assert_eq!(
            (set_id, server.as_str(), redirect_uri),
            (id("s1"), "https://mcp.example/mcp", None)
        );
        assert_eq!(
            (sign_in.tenant_id.as_deref(), sign_in.client_id.as_deref()),
            (Some("t"), Some("c"))
        );
        assert_eq!(sign_in.scopes, ["api://x/mcp:tools"]);
        for (kind, expected) in [
            ("hello", Command::Hello),
            ("connect", Command::Connect),
            ("disconnect", Command::Disconnect),
        ] {
            let got = command(&mut e, json!({"mcpConsole": 1, "type": kind}));
            assert_eq!(got, Ok(Received { id: None, command: expected }), "{kind}");
        }
        let call = command(
            &mut e,
            json!({"mcpConsole": 1, "type": "callTool", "id": 7, "name": "echo", "arguments": {"message": "hi"}}),
        );
        let Ok(Received { id: Some(call_id), command: Command::CallTool { name, arguments } }) =
            call
        else {
            panic!("{call:?}")
        };
        assert_eq!(call_id, HostId(json!(7)));
        assert_eq!((name.as_str(), arguments.get("message")), ("echo", Some(&json!("hi"))));
        assert_eq!(e.refused(), 0);
    }

    /// An unlisted page can do nothing: whatever it sends is ignored, counted, and binds nothing.
    #[test]
    fn only_a_listed_origin_framing_the_console_is_heard_and_the_rest_is_counted() {
        let mut e = embedding();
        let connect = json!({"mcpConsole": 1, "type": "connect"});
        for origin in [
            "https://evil.example",
            "https://portal.contoso.example.evil.example",
            "http://portal.contoso.example",
            "https://portal.contoso.example:444",
            "null",
            "",
        ] {
            let asked = std::cell::Cell::new(false);
            let got = e.receive(origin, true, || {
                asked.set(true);
                Some(connect.to_string())
            });
            assert_eq!(got, Err(Refusal::NotListed), "{origin}");
            assert!(!asked.get(), "{origin}: its data is not even read");
        }
        assert_eq!(e.receive(PORTAL, false, text(connect.clone())), Err(Refusal::NotParent));
        assert_eq!(e.answers_to(), None, "nothing bound the console");
        assert_eq!(e.post(Event::Ready, |_| false), None, "and nothing is answered");
        assert_eq!(e.refused(), 7);
        assert_eq!(e.refusals(), [(Refusal::NotListed, 6), (Refusal::NotParent, 1)]);
        assert!(Refusal::NotListed.reason().contains("does not list"));
    }

    #[test]
    fn malformed_unknown_and_oversized_messages_are_counted_not_answered() {
        let mut e = embedding();
        let cases = [
            (None, Refusal::Malformed),
            (Some("not json".to_owned()), Refusal::Malformed),
            (Some("\"connect\"".to_owned()), Refusal::Malformed),
            (Some(json!({"type": "connect"}).to_string()), Refusal::Malformed),
            (Some(json!({"mcpConsole": 2, "type": "connect"}).to_string()), Refusal::Malformed),
            (Some(json!({"mcpConsole": 1, "type": 3}).to_string()), Refusal::Malformed),
            (Some(json!({"mcpConsole": 1, "type": "connect", "id": {}}).to_string()), Refusal::Malformed),
            (Some(json!({"mcpConsole": 1, "type": "connect", "id": "x".repeat(201)}).to_string()), Refusal::Malformed),
            (Some(json!({"mcpConsole": 1, "type": "setServer"}).to_string()), Refusal::Malformed),
            (Some(json!({"mcpConsole": 1, "type": "setServer", "server": "https://s/mcp", "tenantId": 1}).to_string()), Refusal::Malformed),
            (Some(json!({"mcpConsole": 1, "type": "callTool", "name": "echo"}).to_string()), Refusal::Malformed),
            (Some(json!({"mcpConsole": 1, "type": "callTool", "id": "c", "name": " "}).to_string()), Refusal::Malformed),
            (Some(json!({"mcpConsole": 1, "type": "callTool", "id": "c", "name": "echo", "arguments": []}).to_string()), Refusal::Malformed),
            (Some(json!({"mcpConsole": 1, "type": "getToken"}).to_string()), Refusal::UnknownType),
            (Some(json!({"mcpConsole": 1, "type": "connect", "pad": "x".repeat(MAX_MESSAGE_BYTES)}).to_string()), Refusal::TooLarge),
        ];
        let count = cases.len();
        for (data, refusal) in cases {
            let shown = data.clone().unwrap_or_default();
            assert_eq!(e.receive(PORTAL, true, || data), Err(refusal), "{:.80}", shown);
        }
        assert_eq!(e.answers_to(), None);
        assert_eq!(e.refused() as usize, count);
    }

    /// The first listed origin that sends a valid message is the host; the parent's origin
    /// cannot change while the console lives in its frame, so no other listed origin takes over.
    #[test]
    fn the_first_host_to_speak_is_the_only_one_answered() {
        let mut e = embedding();
        let hello = json!({"mcpConsole": 1, "type": "hello"});
        assert!(command(&mut e, hello.clone()).is_ok());
        assert_eq!(e.answers_to(), Some(PORTAL));
        assert_eq!(e.receive(OTHER, true, text(hello.clone())), Err(Refusal::OtherOrigin));
        assert_eq!(e.answers_to(), Some(PORTAL));
        let post = e.post(Event::Ready, |_| false);
        assert_eq!(post.map(|p| p.target), Some(PORTAL.to_owned()));
        assert_eq!(e.ready(Some(OTHER)).len(), 1, "once bound, ready goes to the host alone");
    }

    #[test]
    fn ready_goes_to_each_listed_origin_or_to_the_parent_the_browser_names() {
        let e = embedding();
        let targets = |parent| e.ready(parent).into_iter().map(|p| p.target).collect::<Vec<_>>();
        assert_eq!(targets(None), [PORTAL, OTHER]);
        assert_eq!(targets(Some(OTHER)), [OTHER]);
        assert_eq!(
            targets(Some("https://evil.example")),
            [PORTAL, OTHER],
            "the browser drops these"
        );
        assert!(Embedding::new(Vec::new()).ready(None).is_empty(), "nobody listed, nobody told");
        let ready: Value = serde_json::from_str(&e.ready(None)[0].text).unwrap_or_default();
        assert_eq!(ready, json!({"mcpConsole": 1, "type": "ready"}));
    }

    fn bound() -> Embedding {
        let mut e = embedding();
        let hello = command(&mut e, json!({"mcpConsole": 1, "type": "hello"}));
        assert!(hello.is_ok());
        assert_eq!(e.tab(0, |_| true), 0);
        e
    }

    fn posted(e: &Embedding, event: Event) -> Value {
        let post =
            e.post(event, |text| text.contains("at-secret")).unwrap_or_else(|| panic!("bound"));
        serde_json::from_str(&post.text).unwrap_or_default()
    }

    #[test]
    fn a_host_call_is_followed_to_its_result_and_then_forgotten() {
        let mut e = bound();
        let request = RequestId::Number(4);
        let started = e.call_started(id("c1"), 0, request.clone(), "echo");
        assert_eq!(
            posted(&e, started),
            json!({"mcpConsole": 1, "type": "callStarted", "id": "c1", "name": "echo"})
        );
        let mut state = ConsoleState::default();
        state.call_started(request.clone(), "echo", Map::new());
        let events = e.follow(0, Some("https://mcp.example/mcp"), &state);
        assert_eq!(events.len(), 1, "the connection only: {events:?}");
        assert!(e.follow(0, Some("https://mcp.example/mcp"), &state).is_empty(), "nothing new");
        let result = json!({"content": [{"type": "text", "text": "hi"}]});
        state.calls[0].state = CallState::Done(result.clone());
        let events = e.follow(0, Some("https://mcp.example/mcp"), &state);
        assert_eq!(events, [Event::CallResult { id: id("c1"), result: result.clone() }]);
        assert_eq!(
            posted(&e, events[0].clone()),
            json!({"mcpConsole": 1, "type": "callResult", "id": "c1", "result": result})
        );
        assert!(e.follow(0, Some("https://mcp.example/mcp"), &state).is_empty(), "told once");
    }

    #[test]
    fn a_failed_or_lost_call_is_an_error_and_the_person_s_own_calls_are_not_reported() {
        let mut e = bound();
        let mut state = ConsoleState::default();
        state.call_started(RequestId::Number(1), "mine", Map::new());
        state.calls[0].state = CallState::Done(json!({"content": []}));
        state.call_started(RequestId::Number(2), "echo", Map::new());
        state.calls[0].state = CallState::Failed("The server refused the call.".into());
        e.call_started(id("a"), 0, RequestId::Number(2), "echo");
        e.call_started(id("b"), 0, RequestId::Number(3), "echo");
        let events = e.follow(0, None, &state);
        assert_eq!(
            events[1..],
            [
                Event::CallError { id: id("a"), message: "The server refused the call.".into() },
                Event::CallError { id: id("b"), message: CALL_LOST.into() },
            ]
        );
    }

    #[test]
    fn a_destructive_or_open_world_tool_is_not_the_hosts_to_run_while_the_person_is_asked() {
        let tool = |name: &str, annotations: Value| {
            let value = json!({"name": name, "inputSchema": {}, "annotations": annotations});
            <Tool as crate::core::json::FromJson>::from_json(value)
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let tools = [
            tool("erase", json!({"destructiveHint": true})),
            tool("fetch", json!({"openWorldHint": true})),
            tool("echo", json!({"readOnlyHint": true})),
        ];
        assert!(host_may_call(&tools, "erase", true).is_err_and(|e| e.contains("confirms")));
        assert!(host_may_call(&tools, "fetch", true).is_err());
        assert_eq!(host_may_call(&tools, "echo", true), Ok(()));
        assert_eq!(host_may_call(&tools, "erase", false), Ok(()), "the person turned it off");
        // One the console has not seen listed (the list not in yet, or the server leaving it
        // out) cannot be judged, so it is not the host's to call.
        assert!(host_may_call(&tools, "unlisted", false).is_err_and(|e| e.contains("not seen")));
        assert!(host_may_call(&[], "erase", true).is_err());
    }

    /// Before the host speaks there is nobody to tell; once it does, it hears where things stand,
    /// not only what changes after.
    #[test]
    fn the_host_hears_where_things_stand_once_it_speaks() {
        let mut e = embedding();
        let state = ConsoleState { status: Status::Connecting, ..ConsoleState::default() };
        assert!(e.follow(0, None, &state).is_empty());
        assert_eq!(e.follow_sign_in(None, &SignInStatus::SignedOut), None);
        assert!(command(&mut e, json!({"mcpConsole": 1, "type": "hello"})).is_ok());
        e.tab(0, |_| true);
        assert!(matches!(
            &e.follow(0, None, &state)[..],
            [Event::Connection { state: "connecting", .. }]
        ));
        assert!(e.follow_sign_in(None, &SignInStatus::SignedOut).is_some());
    }

    /// The host hears of its own tab alone: the person's calls in another tab share request ids
    /// with the host's (each session counts from 1), and are never reported; after the host's
    /// tab connects again, a call of the old connection is lost, never matched by its id.
    #[test]
    fn the_host_hears_of_its_own_tab_and_connection_only() {
        let mut e = bound();
        e.call_started(id("h1"), 0, RequestId::Number(5), "slow");
        let mut other = ConsoleState::default();
        other.call_started(RequestId::Number(5), "read_payroll", Map::new());
        other.calls[0].state = CallState::Done(json!({"content": []}));
        assert!(e.follow(1, Some("https://other.example/mcp"), &other).is_empty());
        assert_eq!(e.tab(1, |_| true), 0, "the host's tab stays its tab");
        // The host's tab connected again: its request 5 is another call now.
        let mut again = ConsoleState::default();
        again.restart(Status::Connecting);
        again.call_started(RequestId::Number(5), "mine", Map::new());
        again.calls[0].state = CallState::Done(json!({"content": [{"type": "text", "text": "x"}]}));
        let events = e.follow(0, None, &again);
        assert_eq!(events[1..], [Event::CallError { id: id("h1"), message: CALL_LOST.into() }]);
        // Its tab closed: the host gets the one in front, with nothing followed from before.
        e.call_started(id("h2"), 1, RequestId::Number(6), "slow");
        assert_eq!(e.tab(3, |tab| tab != 0), 3);
        assert!(e.calls.is_empty());
    }

    #[test]
    fn host_calls_followed_are_bounded() {
        let mut e = bound();
        for n in 0..(MAX_HOST_CALLS as i64 + 5) {
            e.call_started(id(&n.to_string()), 0, RequestId::Number(n), "echo");
        }
        assert_eq!(e.calls.len(), MAX_HOST_CALLS);
        assert_eq!(e.calls[0].2, id("5"), "the oldest went first");
    }

    /// A token never leaves the page: an event whose text holds one is replaced by a sentence.
    #[test]
    fn an_event_holding_a_token_is_withheld() {
        let e = bound();
        let echoed =
            json!({"content": [{"type": "text", "text": "Authorization: Bearer at-secret"}]});
        let sent = posted(&e, Event::CallResult { id: id("c"), result: echoed });
        assert_eq!(
            sent,
            json!({"mcpConsole": 1, "type": "callError", "id": "c", "message": WITHHELD})
        );
        let sent = posted(&e, Event::Error { id: None, message: "at-secret".into() });
        assert_eq!(sent["message"], json!(WITHHELD));
    }

    #[test]
    fn connection_and_sign_in_events_say_states_and_only_when_they_change() {
        let mut e = bound();
        let mut state = ConsoleState { status: Status::Connecting, ..ConsoleState::default() };
        let server = Some("https://mcp.example/mcp");
        assert_eq!(
            e.follow(0, server, &state),
            [Event::Connection {
                server: server.map(Into::into),
                state: "connecting",
                detail: None
            }]
        );
        state.status = Status::Connected(TransportKind::StreamableHttp);
        // A server with tools is ready for `callTool` once they are listed.
        let mut capabilities = Map::new();
        capabilities.insert("tools".into(), json!({}));
        state.server = Some(crate::core::session::ServerSummary {
            protocol_version: "2025-11-25".into(),
            server_info: Default::default(),
            capabilities,
            instructions: None,
        });
        assert!(e.follow(0, server, &state).is_empty(), "still connecting until listed");
        state.tools = Some(Vec::new().into());
        let connected = e.follow(0, server, &state);
        assert_eq!(
            posted(&e, connected[0].clone()),
            json!({"mcpConsole": 1, "type": "connection", "server": server, "state": "connected"})
        );
        state.status = Status::Failed("The server went away.".into());
        let failed = e.follow(0, server, &state);
        assert!(matches!(
            &failed[..],
            [Event::Connection { state: "failed", detail: Some(_), .. }]
        ));
        assert_eq!(
            e.follow_sign_in(server, &SignInStatus::Needed(Need::First)),
            Some(Event::SignIn { server: server.map(Into::into), state: "needed" })
        );
        assert_eq!(e.follow_sign_in(server, &SignInStatus::Needed(Need::First)), None);
        let signed_in = e.follow_sign_in(server, &SignInStatus::SignedIn);
        let sent = posted(&e, signed_in.unwrap_or(Event::Ready));
        assert_eq!(
            sent,
            json!({"mcpConsole": 1, "type": "signIn", "server": server, "state": "signedIn"})
        );
    }
}
