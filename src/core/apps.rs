//! The host side of MCP Apps (`io.modelcontextprotocol/ui`, SEP-1865, stable 2026-01-26): which
//! tool points at an app (`_meta.ui.resourceUri`), whether an app may call a tool, the app's
//! `ui://` resource read and refused when unfit, the Content-Security-Policy it runs under — built
//! only from declared domains that are plain origins, so a server cannot write policy — and
//! [`Bridge`], the console's end of the JSON-RPC dialogue with one app frame (through
//! `static/sandbox.js`), as a machine: texts in through [`Bridge::receive`], the person's and the
//! server's answers in through its methods, texts to post out through [`Bridge::poll_message`].

use crate::core::console::LogLine;
use crate::core::json::{FromJson, Malformed};
use crate::core::jsonrpc::{Message, RequestId, RpcError, codes};
use crate::core::protocol::{ReadResourceResult, Tool, client_info};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use std::collections::VecDeque;
use thiserror::Error;

/// The extension's name, declared with [`MIME_TYPE`] in the client capabilities.
pub const EXTENSION: &str = "io.modelcontextprotocol/ui";
/// The only type of app resource there is.
pub const MIME_TYPE: &str = "text/html;profile=mcp-app";
/// The dialogue's revision.
pub const PROTOCOL_VERSION: &str = "2026-01-26";

/// Apps are single files with their scripts inlined (a React app bundled whole is about 1 MB).
/// The HTML is held as a Rust string, encoded into JSON, posted and parsed again as `srcdoc`, so
/// each megabyte costs several; 4 MB leaves room for any real app and keeps a hostile server from
/// making the tab hold hundreds.
pub const MAX_HTML_BYTES: usize = 4 << 20;
/// An app's message may carry a tool's arguments or a text for the person; a megabyte is far
/// beyond either, and the text is refused before it is parsed.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// Tool calls of one app waiting for the server; more are refused until some finish.
pub const MAX_PENDING_CALLS: usize = 8;
/// Domains read from each list of `_meta.ui.csp`; the rest are dropped.
const MAX_DOMAINS: usize = 32;
/// Bounds on the frame's size in CSS pixels: never invisible, never longer than a few screens.
const MIN_SIDE: f64 = 16.0;
const MAX_SIDE: f64 = 4000.0;
/// A log line from an app is cut here: the console keeps its log lines in memory.
const MAX_LOG_CHARS: usize = 4096;
/// The console's one request to an app.
const TEARDOWN_ID: RequestId = RequestId::Number(1);
/// A dropped CSP entry is shown cut to this length.
const MAX_DROPPED_CHARS: usize = 80;

/// Why a tool's app cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AppError {
    #[error("The tool's app address `{0}` is not a ui:// address, so its app is not shown.")]
    NotUiUri(String),
    #[error("The server's answer holds no contents for the app `{0}`; its app is not shown.")]
    NoContents(String),
    #[error("The app resource is of type `{0}`, not {MIME_TYPE}, so it is not shown.")]
    WrongType(String),
    #[error("The app resource holds no HTML (neither `text` nor `blob`), so it is not shown.")]
    NoHtml,
    #[error("The app resource's `blob` is not base64-encoded UTF-8 text, so it is not shown.")]
    BadBlob,
    #[error("The app's HTML is over {} MB, the most the console loads, so it is not shown.", MAX_HTML_BYTES >> 20)]
    TooLarge,
    #[error("The server's answer to resources/read is malformed ({0}); the app is not shown.")]
    Malformed(#[from] Malformed),
}

/// The tool's `_meta`, when it has one.
fn tool_meta(tool: &Tool) -> Option<&Value> {
    tool.extra.get("_meta")
}

/// The `ui://` resource of the tool's app: `_meta.ui.resourceUri`, or the deprecated flat
/// `_meta["ui/resourceUri"]` when the first is absent. `Ok(None)` for a tool without an app.
pub fn app_uri(tool: &Tool) -> Result<Option<&str>, AppError> {
    let Some(meta) = tool_meta(tool) else { return Ok(None) };
    let declared = meta.get("ui").and_then(|ui| ui.get("resourceUri"));
    match declared.or_else(|| meta.get("ui/resourceUri")) {
        None => Ok(None),
        Some(Value::String(uri)) if uri.starts_with("ui://") => Ok(Some(uri)),
        Some(Value::String(uri)) => Err(AppError::NotUiUri(cut(uri, MAX_DROPPED_CHARS))),
        Some(other) => Err(AppError::NotUiUri(cut(&other.to_string(), MAX_DROPPED_CHARS))),
    }
}

/// Whether an app may call `tool`: its `_meta.ui.visibility` names `"app"`, or is absent (the
/// default is both). A visibility that is not a list of strings allows nothing.
pub fn app_may_call(tool: &Tool) -> bool {
    match tool_meta(tool).and_then(|m| m.get("ui")).and_then(|ui| ui.get("visibility")) {
        None => true,
        Some(Value::Array(who)) => who.iter().any(|w| w == "app"),
        Some(_) => false,
    }
}

/// The domains an app's resource declared (`_meta.ui.csp`) that are plain origins, and the
/// entries that were not, as declared (cut short), so the person can see what was refused.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Csp {
    pub connect: Vec<String>,
    pub resource: Vec<String>,
    pub frame: Vec<String>,
    pub base_uri: Vec<String>,
    pub dropped: Vec<String>,
}

impl Csp {
    /// Reads `_meta.ui.csp`; anything but an object declares nothing.
    pub fn read(csp: Option<&Value>) -> Csp {
        let mut out = Csp::default();
        let Some(csp) = csp.filter(|c| c.is_object()) else { return out };
        out.connect = out.origins(csp.get("connectDomains"), "connectDomains", true);
        out.resource = out.origins(csp.get("resourceDomains"), "resourceDomains", false);
        out.frame = out.origins(csp.get("frameDomains"), "frameDomains", false);
        out.base_uri = out.origins(csp.get("baseUriDomains"), "baseUriDomains", false);
        out
    }

    /// The plain origins of one list; every other entry (or the list itself) goes to `dropped`.
    fn origins(&mut self, list: Option<&Value>, name: &str, sockets: bool) -> Vec<String> {
        let items = match list {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => {
                self.dropped.push(name.to_owned());
                return Vec::new();
            }
        };
        let mut kept: Vec<String> = Vec::new();
        for item in items.iter().take(MAX_DOMAINS) {
            match item.as_str().and_then(|text| plain_origin(text, sockets)) {
                Some(origin) if !kept.contains(&origin) => kept.push(origin),
                Some(_) => {}
                None => self.dropped.push(cut(&item.to_string(), MAX_DROPPED_CHARS)),
            }
        }
        if items.len() > MAX_DOMAINS {
            self.dropped.push(format!("{} more entries of {name}", items.len() - MAX_DOMAINS));
        }
        kept
    }

    /// The approved lists in the resource's shape, for `hostCapabilities.sandbox.csp`.
    fn approved(&self) -> Value {
        let mut out = Map::new();
        for (key, list) in [
            ("connectDomains", &self.connect),
            ("resourceDomains", &self.resource),
            ("frameDomains", &self.frame),
            ("baseUriDomains", &self.base_uri),
        ] {
            if !list.is_empty() {
                out.insert(key.into(), json!(list));
            }
        }
        Value::Object(out)
    }
}

/// `entry` as a CSP source that names one origin and nothing else, lower-cased:
/// `https://host[:port]` (a leading `*.` allowed), `http://` only for `localhost` and `127.0.0.1`,
/// and with `sockets` `wss://` (and `ws://` on those two). Anything with quotes, separators,
/// spaces, a path, another wildcard or a keyword is not one, so it cannot add a directive.
fn plain_origin(entry: &str, sockets: bool) -> Option<String> {
    let entry = entry.strip_suffix('/').unwrap_or(entry);
    if !entry.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:/*".contains(&b)) {
        return None;
    }
    let entry = entry.to_ascii_lowercase();
    let (scheme, rest) = entry.split_once("://")?;
    let (host, port) = match rest.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    if let Some(port) = port {
        let ok = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
        if !ok || !(1..=65535).contains(&port.parse::<u32>().ok()?) {
            return None;
        }
    }
    let loopback = host == "localhost" || host == "127.0.0.1";
    let scheme_ok = match scheme {
        "https" => true,
        "wss" => sockets,
        "http" => loopback,
        "ws" => sockets && loopback,
        _ => false,
    };
    let name = host.strip_prefix("*.").unwrap_or(host);
    let labels_ok = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    // A wildcard needs a registrable name under it: `*.com` would name half the web.
    let wildcard_ok = name.len() == host.len() || name.contains('.');
    (scheme_ok && labels_ok && wildcard_ok).then_some(entry)
}

/// The Content-Security-Policy an app runs under. Inline scripts and styles and `data:` images
/// and media (the spec's restrictive default, less `'self'`: the app's origin is opaque, and
/// `'self'` there would name the console's) plus the declared origins of `csp`; nothing else, no
/// workers, plugins, forms or `<base>` elsewhere. sandbox.html's own policy bounds this one.
pub fn app_csp(csp: &Csp) -> String {
    let mut policy = String::from("default-src 'none'");
    let mut directive = |name: &str, base: &str, origins: &[String]| {
        let base = (!base.is_empty()).then_some(base);
        if base.is_none() && origins.is_empty() {
            return;
        }
        policy.push_str("; ");
        policy.push_str(name);
        for source in base.into_iter().chain(origins.iter().map(String::as_str)) {
            policy.push(' ');
            policy.push_str(source);
        }
    };
    directive("script-src", "'unsafe-inline'", &csp.resource);
    directive("style-src", "'unsafe-inline'", &csp.resource);
    directive("img-src", "data:", &csp.resource);
    directive("media-src", "data:", &csp.resource);
    directive("font-src", "", &csp.resource);
    directive("connect-src", "", &csp.connect);
    let none = if csp.frame.is_empty() { "'none'" } else { "" };
    directive("frame-src", none, &csp.frame);
    let none = if csp.base_uri.is_empty() { "'none'" } else { "" };
    directive("base-uri", none, &csp.base_uri);
    policy.push_str("; worker-src 'none'; object-src 'none'; form-action 'none'");
    policy
}

/// An app's `ui://` resource, read and judged fit to show.
#[derive(Debug, Clone, PartialEq)]
pub struct AppResource {
    pub uri: String,
    pub html: String,
    pub csp: Csp,
    /// The browser permissions the app asked for (`camera`, `microphone`, `geolocation`,
    /// `clipboardWrite`); the console grants none of them.
    pub permissions: Vec<&'static str>,
    /// Whether the app wants the host's border and background; `None` leaves it to the host.
    pub prefers_border: Option<bool>,
}

impl AppResource {
    /// Reads the answer to `resources/read` of `uri`: the contents item for that address (or
    /// the first), which must be [`MIME_TYPE`] HTML of at most [`MAX_HTML_BYTES`].
    pub fn read(uri: &str, result: Value) -> Result<AppResource, AppError> {
        let result = ReadResourceResult::from_json(result)?;
        let mut contents = result.contents;
        let at = contents.iter().position(|c| c.uri == uri).unwrap_or(0);
        if at >= contents.len() {
            return Err(AppError::NoContents(cut(uri, MAX_DROPPED_CHARS)));
        }
        let item = contents.swap_remove(at);
        let mime = item.mime_type.as_deref().unwrap_or("(none)");
        let plain: String = mime.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        if !plain.eq_ignore_ascii_case(MIME_TYPE) {
            return Err(AppError::WrongType(cut(mime, MAX_DROPPED_CHARS)));
        }
        let html = match (item.text, item.blob) {
            (Some(text), _) => text,
            // Base64 is 4 bytes for 3: refuse an oversized blob before decoding it.
            (None, Some(blob)) if blob.len() > MAX_HTML_BYTES / 3 * 4 + 4 => {
                return Err(AppError::TooLarge);
            }
            (None, Some(blob)) => {
                let bytes = STANDARD.decode(blob.trim()).map_err(|_| AppError::BadBlob)?;
                String::from_utf8(bytes).map_err(|_| AppError::BadBlob)?
            }
            (None, None) => return Err(AppError::NoHtml),
        };
        if html.len() > MAX_HTML_BYTES {
            return Err(AppError::TooLarge);
        }
        if html.trim().is_empty() {
            return Err(AppError::NoHtml);
        }
        let ui = item.extra.get("_meta").and_then(|m| m.get("ui"));
        let asked = ui.and_then(|ui| ui.get("permissions"));
        let permissions = ["camera", "microphone", "geolocation", "clipboardWrite"]
            .into_iter()
            .filter(|p| asked.and_then(|a| a.get(p)).is_some_and(Value::is_object))
            .collect();
        Ok(AppResource {
            uri: item.uri,
            html,
            csp: Csp::read(ui.and_then(|ui| ui.get("csp"))),
            permissions,
            prefers_border: ui.and_then(|ui| ui.get("prefersBorder")).and_then(Value::as_bool),
        })
    }
}

/// The console's colour scheme, passed to the app in `hostContext.theme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

/// What an app's message asks of the console. Requests carry the id to [`Bridge::answer`].
#[derive(Debug, Clone, PartialEq)]
pub enum BridgeAction {
    /// Call `name` on this app's server, visibly; answer with the call's result (or its error).
    CallTool {
        id: RequestId,
        name: String,
        arguments: Map<String, Value>,
    },
    /// Ask the person whether to open `url` (http or https); answer `{}`, or an error if they
    /// decline.
    OpenLink {
        id: RequestId,
        url: String,
    },
    /// A message from the app for the person (the text of its text blocks); answer `{}`.
    Message {
        id: RequestId,
        text: String,
    },
    /// The app's content size changed: size the frame (CSS pixels, within bounds).
    Resize {
        width: Option<u32>,
        height: Option<u32>,
    },
    Log(LogLine),
    /// The app asks to be closed (`ui/notifications/request-teardown`); see [`Bridge::teardown`].
    CloseRequested,
    /// The app answered `ui/resource-teardown`: remove the frame.
    Closed,
}

/// Where the dialogue stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The frame's proxy has not said it is ready for the resource.
    AwaitingProxy,
    /// The resource was handed over; the app has not sent `ui/initialize`.
    Loading,
    /// `ui/initialize` was answered; `ui/notifications/initialized` has not come.
    Initializing,
    Ready,
    /// `ui/resource-teardown` was sent; only its answer is awaited.
    Closing,
    Closed,
}

/// What an app's request that awaits the console is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Call,
    Link,
    Message,
}

/// How far the tool call that opened the app is told.
#[derive(Debug)]
enum Told {
    Nothing,
    /// The end (result or cancellation) came first; it goes out after the input.
    EndWaiting(Message),
    Input,
    Ended,
}

/// One app frame's dialogue. Messages to the app are held until it has sent
/// `ui/notifications/initialized`, as the spec requires; answers to its requests are not.
#[derive(Debug)]
pub struct Bridge {
    phase: Phase,
    /// The HTML and its policy, until the proxy takes them.
    resource: Option<(String, String)>,
    approved: Value,
    theme: Theme,
    pending: Vec<(RequestId, Pending)>,
    told: Told,
    held: Vec<Message>,
    outbox: VecDeque<String>,
    ignored: u32,
}

impl Bridge {
    pub fn new(resource: &AppResource, theme: Theme) -> Bridge {
        Bridge {
            phase: Phase::AwaitingProxy,
            resource: Some((resource.html.clone(), app_csp(&resource.csp))),
            approved: resource.csp.approved(),
            theme,
            pending: Vec::new(),
            told: Told::Nothing,
            held: Vec::new(),
            outbox: VecDeque::new(),
            ignored: 0,
        }
    }

    /// The next JSON-RPC text to post into the frame.
    pub fn poll_message(&mut self) -> Option<String> {
        self.outbox.pop_front()
    }

    /// Messages that were ignored: too large, not JSON-RPC, out of turn or unreadable.
    pub fn ignored(&self) -> u32 {
        self.ignored
    }

    /// One message from the frame (its JSON text); what the console must do about it, if
    /// anything. `tools` are this app's server's tools: an app calls no other.
    pub fn receive(&mut self, text: &str, tools: &[Tool]) -> Option<BridgeAction> {
        let message = (text.len() <= MAX_MESSAGE_BYTES)
            .then(|| serde_json::from_str(text).ok())
            .flatten()
            .and_then(|value| Message::from_value(value).ok());
        let action = match message {
            _ if self.phase == Phase::Closed => Err(()),
            Some(Message::Request { id, method, params }) => {
                self.request(id, &method, params, tools)
            }
            Some(Message::Notification { method, params }) => self.notification(&method, params),
            Some(Message::Response { id, .. } | Message::Error { id: Some(id), .. })
                if self.phase == Phase::Closing && id == TEARDOWN_ID =>
            {
                self.phase = Phase::Closed;
                self.pending.clear();
                Ok(Some(BridgeAction::Closed))
            }
            _ => Err(()),
        };
        action.unwrap_or_else(|()| {
            self.ignored = self.ignored.saturating_add(1);
            None
        })
    }

    /// A notification from the frame; `Err` when it is ignored.
    fn notification(
        &mut self,
        method: &str,
        params: Option<Value>,
    ) -> Result<Option<BridgeAction>, ()> {
        let params = params.unwrap_or(Value::Null);
        match method {
            "ui/notifications/sandbox-proxy-ready" if self.phase == Phase::AwaitingProxy => {
                let (html, csp) = self.resource.take().ok_or(())?;
                self.phase = Phase::Loading;
                self.post(Message::notification(
                    "ui/notifications/sandbox-resource-ready",
                    Some(json!({ "html": html, "csp": csp })),
                ));
                Ok(None)
            }
            "ui/notifications/initialized" if self.phase == Phase::Initializing => {
                self.phase = Phase::Ready;
                for message in std::mem::take(&mut self.held) {
                    self.post(message);
                }
                Ok(None)
            }
            _ if self.phase == Phase::Closing => Err(()),
            "ui/notifications/size-changed" => {
                let side = |key: &str| {
                    let x = params.get(key)?.as_f64()?;
                    Some(x.clamp(MIN_SIDE, MAX_SIDE).round() as u32)
                };
                let (width, height) = (side("width"), side("height"));
                if width.is_none() && height.is_none() {
                    return Err(());
                }
                Ok(Some(BridgeAction::Resize { width, height }))
            }
            "notifications/message" => {
                const LEVELS: [&str; 8] = [
                    "debug",
                    "info",
                    "notice",
                    "warning",
                    "error",
                    "critical",
                    "alert",
                    "emergency",
                ];
                let level = params.get("level").and_then(Value::as_str).ok_or(())?;
                let level = LEVELS.into_iter().find(|l| *l == level).ok_or(())?;
                let text = match params.get("data") {
                    Some(Value::String(s)) => cut(s, MAX_LOG_CHARS),
                    Some(other) => cut(&other.to_string(), MAX_LOG_CHARS),
                    None => String::new(),
                };
                let logger = params.get("logger").and_then(Value::as_str);
                let logger = logger.map(|l| cut(l, MAX_DROPPED_CHARS));
                Ok(Some(BridgeAction::Log(LogLine { level: level.into(), logger, text })))
            }
            "ui/notifications/request-teardown" if self.phase == Phase::Ready => {
                Ok(Some(BridgeAction::CloseRequested))
            }
            _ => Err(()),
        }
    }

    /// A request from the frame; `Err` when it is ignored (no answer is sent).
    fn request(
        &mut self,
        id: RequestId,
        method: &str,
        params: Option<Value>,
        tools: &[Tool],
    ) -> Result<Option<BridgeAction>, ()> {
        // A second request under an id still open would make its answer ambiguous.
        if self.phase == Phase::Closing || self.pending.iter().any(|(open, _)| *open == id) {
            return Err(());
        }
        let params = params.unwrap_or(Value::Null);
        let refuse = |code: i64, message: &str| Err((code, message.to_owned()));
        let outcome: Result<Option<BridgeAction>, (i64, String)> = match method {
            "ping" => Ok(None),
            "ui/initialize" if self.phase == Phase::Loading => {
                self.phase = Phase::Initializing;
                self.reply(&id, Ok(self.initialize_result()));
                return Ok(None);
            }
            "ui/initialize" => refuse(codes::INVALID_REQUEST, "The app is already initialized."),
            _ if self.phase != Phase::Ready => refuse(
                -32000,
                "The app must send ui/initialize and ui/notifications/initialized first.",
            ),
            "tools/call" => self.tool_call(id.clone(), &params, tools),
            "ui/open-link" => match params.get("url").and_then(Value::as_str).and_then(web_link) {
                None => refuse(-32000, "Invalid URL: only http and https links are opened."),
                Some(_) if self.waiting(Pending::Link) > 0 => {
                    refuse(-32000, "Another link is waiting for the person to allow it.")
                }
                Some(url) => Ok(Some(BridgeAction::OpenLink { id: id.clone(), url })),
            },
            "ui/message" => match message_text(&params) {
                None => {
                    refuse(codes::INVALID_PARAMS, "Invalid message format: send text as the user.")
                }
                Some(_) if self.waiting(Pending::Message) > 0 => {
                    refuse(-32000, "The previous message has not been taken yet.")
                }
                Some(text) => Ok(Some(BridgeAction::Message { id: id.clone(), text })),
            },
            // The console shows apps inline only; the spec asks for the mode in force.
            "ui/request-display-mode" => {
                self.reply(&id, Ok(json!({ "mode": "inline" })));
                return Ok(None);
            }
            _ => refuse(codes::METHOD_NOT_FOUND, "The console does not offer this method to apps."),
        };
        match outcome {
            Ok(None) => self.reply(&id, Ok(json!({}))),
            Ok(Some(action)) => {
                let kind = match action {
                    BridgeAction::CallTool { .. } => Pending::Call,
                    BridgeAction::OpenLink { .. } => Pending::Link,
                    _ => Pending::Message,
                };
                self.pending.push((id, kind));
                return Ok(Some(action));
            }
            Err((code, message)) => self.reply(&id, Err((code, message))),
        }
        Ok(None)
    }

    fn tool_call(
        &self,
        id: RequestId,
        params: &Value,
        tools: &[Tool],
    ) -> Result<Option<BridgeAction>, (i64, String)> {
        let name = params.get("name").and_then(Value::as_str);
        let arguments = match params.get("arguments") {
            None | Some(Value::Null) => Some(Map::new()),
            Some(Value::Object(args)) => Some(args.clone()),
            Some(_) => None,
        };
        let (Some(name), Some(arguments)) = (name, arguments) else {
            return Err((
                codes::INVALID_PARAMS,
                "tools/call needs a name and object arguments.".into(),
            ));
        };
        match tools.iter().find(|t| t.name == name) {
            None => Err((codes::INVALID_PARAMS, "This server has no tool of that name.".into())),
            Some(tool) if !app_may_call(tool) => {
                Err((-32000, "The tool's visibility does not include apps.".into()))
            }
            Some(_) if self.waiting(Pending::Call) >= MAX_PENDING_CALLS => {
                Err((-32000, "Too many tool calls are already running for this app.".into()))
            }
            Some(_) => Ok(Some(BridgeAction::CallTool { id, name: name.into(), arguments })),
        }
    }

    fn waiting(&self, kind: Pending) -> usize {
        self.pending.iter().filter(|(_, k)| *k == kind).count()
    }

    /// The answer to `ui/initialize`. Only one revision exists, so an app asking for another is
    /// told this one, as the spec says.
    fn initialize_result(&self) -> Value {
        let mut capabilities = json!({
            "serverTools": {},
            "openLinks": {},
            "message": { "text": {} },
            "logging": {},
        });
        if self.approved.as_object().is_some_and(|o| !o.is_empty()) {
            capabilities["sandbox"] = json!({ "csp": self.approved });
        }
        let theme = match self.theme {
            Theme::Light => "light",
            Theme::Dark => "dark",
        };
        json!({
            "protocolVersion": PROTOCOL_VERSION,
            "hostInfo": client_info(),
            "hostCapabilities": capabilities,
            "hostContext": {
                "theme": theme,
                "displayMode": "inline",
                "availableDisplayModes": ["inline"],
                "platform": "web",
            },
        })
    }

    /// Answers the app's request `id` (from a [`BridgeAction`]): `Ok` with the result, or `Err`
    /// with a sentence for the app. False when `id` is not awaiting an answer.
    pub fn answer(&mut self, id: &RequestId, outcome: Result<Value, String>) -> bool {
        let Some(at) = self.pending.iter().position(|(open, _)| open == id) else { return false };
        self.pending.swap_remove(at);
        if self.phase != Phase::Closed {
            self.reply(id, outcome.map_err(|message| (-32000, message)));
        }
        true
    }

    /// The arguments of the call that opened the app (`ui/notifications/tool-input`); once.
    pub fn tool_input(&mut self, arguments: Map<String, Value>) {
        let end = match std::mem::replace(&mut self.told, Told::Input) {
            Told::Nothing => None,
            Told::EndWaiting(end) => Some(end),
            told => {
                self.told = told;
                return;
            }
        };
        self.tell(Message::notification(
            "ui/notifications/tool-input",
            Some(json!({ "arguments": arguments })),
        ));
        if let Some(end) = end {
            self.told = Told::Ended;
            self.tell(end);
        }
    }

    /// The result of that call (`ui/notifications/tool-result`); after the input, once.
    pub fn tool_result(&mut self, result: Value) {
        self.end(Message::notification("ui/notifications/tool-result", Some(result)));
    }

    /// That call was cancelled (`ui/notifications/tool-cancelled`); after the input, once.
    pub fn tool_cancelled(&mut self, reason: &str) {
        self.end(Message::notification(
            "ui/notifications/tool-cancelled",
            Some(json!({ "reason": reason })),
        ));
    }

    fn end(&mut self, end: Message) {
        match self.told {
            Told::Nothing => self.told = Told::EndWaiting(end),
            Told::Input => {
                self.told = Told::Ended;
                self.tell(end);
            }
            Told::EndWaiting(_) | Told::Ended => {}
        }
    }

    /// Sends `ui/resource-teardown` with `reason`. True when the console should wait for
    /// [`BridgeAction::Closed`] (with a deadline of its own); false when the frame can go at
    /// once, because the app never initialized and may not be sent anything.
    pub fn teardown(&mut self, reason: &str) -> bool {
        if self.phase != Phase::Ready {
            self.phase = Phase::Closed;
            return false;
        }
        self.phase = Phase::Closing;
        let params = json!({ "reason": reason });
        self.post(Message::request(TEARDOWN_ID, "ui/resource-teardown", Some(params)));
        true
    }

    /// A message of the host's own: sent once the app is initialized, held before.
    fn tell(&mut self, message: Message) {
        match self.phase {
            Phase::Ready => self.post(message),
            Phase::Closing | Phase::Closed => {}
            _ => self.held.push(message),
        }
    }

    fn reply(&mut self, id: &RequestId, outcome: Result<Value, (i64, String)>) {
        self.post(match outcome {
            Ok(result) => Message::Response { id: id.clone(), result },
            Err((code, message)) => Message::Error {
                id: Some(id.clone()),
                error: RpcError { code, message, data: None },
            },
        });
    }

    fn post(&mut self, message: Message) {
        self.outbox.push_back(message.encode());
    }
}

/// `text` as an absolute http(s) URL with a host, normalised; nothing else is opened.
fn web_link(text: &str) -> Option<String> {
    let url = url::Url::parse(text).ok()?;
    crate::core::address::is_http(&url).then(|| url.into())
}

/// The text of a `ui/message` from the user: its text blocks joined by blank lines. `content` is
/// an array in the SDK and a single block in the spec's example; both are read.
fn message_text(params: &Value) -> Option<String> {
    if params.get("role").and_then(Value::as_str) != Some("user") {
        return None;
    }
    let blocks = match params.get("content")? {
        Value::Array(blocks) => blocks.iter().collect::<Vec<_>>(),
        block => vec![block],
    };
    let texts: Vec<&str> = blocks
        .into_iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n\n"))
}

/// `text` cut to at most `max` bytes on a character boundary, with an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = text[..end].to_owned();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing::strings;

    fn tool(name: &str, meta: Value) -> Tool {
        let mut t = json!({"name": name, "inputSchema": {"type": "object"}});
        if !meta.is_null() {
            t["_meta"] = meta;
        }
        Tool::from_json(t).unwrap_or_else(|e| panic!("{e}"))
    }

    fn resource(meta: Value) -> AppResource {
        let item = json!({"uri": "ui://t/app.html", "mimeType": MIME_TYPE, "text": "<p>hi</p>", "_meta": meta});
        AppResource::read("ui://t/app.html", json!({"contents": [item]}))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn csp(declared: Value) -> Csp {
        Csp::read(Some(&declared))
    }

    fn text(value: Value) -> String {
        value.to_string()
    }

    /// Everything the bridge has to post, parsed.
    fn drain(b: &mut Bridge) -> Vec<Value> {
        std::iter::from_fn(|| b.poll_message())
            .map(|t| serde_json::from_str(&t).unwrap_or_else(|e| panic!("{t}: {e}")))
            .collect()
    }

    fn request(id: i64, method: &str, params: Value) -> String {
        text(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
    }

    fn notification(method: &str, params: Value) -> String {
        text(json!({"jsonrpc": "2.0", "method": method, "params": params}))
    }

    fn tools() -> Vec<Tool> {
        vec![
            tool("get-time", json!({"ui": {"resourceUri": "ui://t/app.html"}})),
            tool("refresh", json!({"ui": {"visibility": ["app"]}})),
            tool("model-only", json!({"ui": {"visibility": ["model"]}})),
        ]
    }

    /// A bridge whose app has loaded and initialized, with nothing left to post.
    fn ready() -> Bridge {
        let mut b = Bridge::new(&resource(Value::Null), Theme::Dark);
        b.receive(&notification("ui/notifications/sandbox-proxy-ready", json!({})), &[]);
        b.receive(&request(1, "ui/initialize", json!({"protocolVersion": PROTOCOL_VERSION})), &[]);
        b.receive(&notification("ui/notifications/initialized", json!({})), &[]);
        drain(&mut b);
        b
    }

    fn error_of(answer: &Value) -> (i64, &str) {
        let e = &answer["error"];
        (e["code"].as_i64().unwrap_or(0), e["message"].as_str().unwrap_or(""))
    }

    #[test]
    fn a_tool_points_at_its_app_by_the_nested_key_then_the_flat_one() {
        let both = json!({"ui": {"resourceUri": "ui://a/new"}, "ui/resourceUri": "ui://a/old"});
        assert_eq!(app_uri(&tool("t", both)), Ok(Some("ui://a/new")));
        assert_eq!(
            app_uri(&tool("t", json!({"ui/resourceUri": "ui://a/old"}))),
            Ok(Some("ui://a/old"))
        );
        assert_eq!(app_uri(&tool("t", Value::Null)), Ok(None));
        assert_eq!(app_uri(&tool("t", json!({"ui": {"visibility": ["app"]}}))), Ok(None));
    }

    #[test]
    fn an_app_address_that_is_not_ui_is_refused() {
        for bad in [json!("https://evil.example/app.html"), json!(7), json!("UI:x")] {
            let t = tool("t", json!({"ui": {"resourceUri": bad}}));
            assert!(matches!(app_uri(&t), Err(AppError::NotUiUri(_))), "{bad}");
        }
        // The nested key wins even when it is the bad one.
        let t = tool("t", json!({"ui": {"resourceUri": "data:x"}, "ui/resourceUri": "ui://ok"}));
        assert!(app_uri(&t).is_err());
    }

    #[test]
    fn only_tools_visible_to_apps_may_be_called_by_them() {
        let [model_and_app, app, model] =
            [json!(["model", "app"]), json!(["app"]), json!(["model"])];
        assert!(app_may_call(&tool("t", Value::Null)));
        assert!(app_may_call(&tool("t", json!({"ui": {"visibility": model_and_app}}))));
        assert!(app_may_call(&tool("t", json!({"ui": {"visibility": app}}))));
        assert!(!app_may_call(&tool("t", json!({"ui": {"visibility": model}}))));
        assert!(!app_may_call(&tool("t", json!({"ui": {"visibility": "app"}}))));
    }

    #[test]
    fn a_resource_is_read_with_its_metadata() {
        let r = resource(json!({"ui": {
            "csp": {"connectDomains": ["https://api.example"], "resourceDomains": ["https://cdn.example"]},
            "permissions": {"camera": {}, "clipboardWrite": {}, "microphone": true},
            "prefersBorder": false,
        }}));
        assert_eq!(r.html, "<p>hi</p>");
        assert_eq!(r.csp.connect, strings(&["https://api.example"]));
        assert_eq!(r.csp.resource, strings(&["https://cdn.example"]));
        assert_eq!(r.permissions, ["camera", "clipboardWrite"]);
        assert_eq!(r.prefers_border, Some(false));
        let bare = resource(Value::Null);
        assert_eq!(
            (bare.csp, bare.permissions.len(), bare.prefers_border),
            (Csp::default(), 0, None)
        );
    }

    #[test]
    fn a_base64_blob_is_decoded_and_the_matching_item_is_taken() {
        let items = json!({"contents": [
            {"uri": "ui://other", "mimeType": MIME_TYPE, "text": "<p>other</p>"},
            {"uri": "ui://t", "mimeType": "text/html; profile=mcp-app", "blob": STANDARD.encode("<p>é</p>")},
        ]});
        let r = AppResource::read("ui://t", items).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.uri.as_str(), r.html.as_str()), ("ui://t", "<p>é</p>"));
    }

    #[test]
    fn unfit_resources_are_refused_with_a_sentence() {
        let read = |item: Value| AppResource::read("ui://t", json!({"contents": [item]}));
        let html = |mime: Value| json!({"uri": "ui://t", "mimeType": mime, "text": "<p>x</p>"});
        assert_eq!(read(html(json!("text/html"))), Err(AppError::WrongType("text/html".into())));
        assert_eq!(read(html(Value::Null)), Err(AppError::WrongType("(none)".into())));
        assert_eq!(read(json!({"uri": "ui://t", "mimeType": MIME_TYPE})), Err(AppError::NoHtml));
        let blank = json!({"uri": "ui://t", "mimeType": MIME_TYPE, "text": "  \n"});
        assert_eq!(read(blank), Err(AppError::NoHtml));
        let latin1 = STANDARD.encode([0xff, 0xfe]);
        for blob in [json!("%%%"), json!(latin1)] {
            let item = json!({"uri": "ui://t", "mimeType": MIME_TYPE, "blob": blob});
            assert_eq!(read(item), Err(AppError::BadBlob));
        }
        let huge = "x".repeat(MAX_HTML_BYTES + 1);
        let item = json!({"uri": "ui://t", "mimeType": MIME_TYPE, "text": huge});
        assert_eq!(read(item), Err(AppError::TooLarge));
        let item = json!({"uri": "ui://t", "mimeType": MIME_TYPE, "blob": STANDARD.encode(&huge)});
        assert_eq!(read(item), Err(AppError::TooLarge));
        let empty = AppResource::read("ui://t", json!({"contents": []}));
        assert_eq!(empty, Err(AppError::NoContents("ui://t".into())));
        let wrong = AppResource::read("ui://t", json!({"contents": "x"}));
        assert_eq!(wrong, Err(AppError::Malformed(Malformed("contents"))));
        let sentence = AppError::TooLarge.to_string();
        assert!(sentence.ends_with('.') && sentence.contains("4 MB"), "{sentence}");
    }

    #[test]
    fn without_declared_domains_only_inline_code_and_data_images_are_allowed() {
        assert_eq!(
            app_csp(&Csp::default()),
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
             img-src data:; media-src data:; frame-src 'none'; base-uri 'none'; \
             worker-src 'none'; object-src 'none'; form-action 'none'"
        );
    }

    #[test]
    fn declared_origins_reach_their_directives_only() {
        let c = csp(json!({
            "connectDomains": ["https://api.example", "wss://live.example:8443"],
            "resourceDomains": ["https://*.cdn.example", "http://localhost:5173"],
            "frameDomains": ["https://www.youtube.com/"],
            "baseUriDomains": ["https://base.example"],
        }));
        assert_eq!(c.dropped, Vec::<String>::new());
        assert_eq!(
            app_csp(&c),
            "default-src 'none'; \
             script-src 'unsafe-inline' https://*.cdn.example http://localhost:5173; \
             style-src 'unsafe-inline' https://*.cdn.example http://localhost:5173; \
             img-src data: https://*.cdn.example http://localhost:5173; \
             media-src data: https://*.cdn.example http://localhost:5173; \
             font-src https://*.cdn.example http://localhost:5173; \
             connect-src https://api.example wss://live.example:8443; \
             frame-src https://www.youtube.com; base-uri https://base.example; \
             worker-src 'none'; object-src 'none'; form-action 'none'"
        );
    }

    #[test]
    fn a_declared_domain_cannot_inject_policy() {
        let hostile = "https://a.example; script-src *";
        let c = csp(json!({"resourceDomains": [hostile], "connectDomains": [hostile]}));
        assert_eq!(app_csp(&c), app_csp(&Csp::default()));
        assert_eq!(c.dropped, [text(json!(hostile)), text(json!(hostile))]);
    }

    #[test]
    fn only_plain_origins_are_kept_and_the_rest_are_named() {
        let kept = [
            "https://a.example",
            "https://A.Example:443",
            "https://*.b.example",
            "https://127.0.0.1:9",
            "http://127.0.0.1:8080",
            "https://xn--bcher-kva.example",
        ];
        let dropped = [
            "'self'",
            "'unsafe-eval'",
            "*",
            "https:",
            "data:",
            "blob:",
            "https://*",
            "https://*.com",
            "https://a.*.example",
            "https://a.example:*",
            "https://a.example/path",
            "https://a.example,https://b.example",
            "https://a.example https://b.example",
            "\"https://a.example\"",
            "http://a.example",
            "http://10.0.0.1",
            "ws://a.example",
            "wss://a.example",
            "ftp://a.example",
            "https://a.example:0",
            "https://a.example:65536",
            "https://a.example:123456",
            "https://-a.example",
            "https://a..example",
            "https://",
            "https://[::1]",
            "https://user@a.example",
            "https://a.example?x",
            "https://ü.example",
            "javascript:alert(1)",
            "https://a.example\n",
        ];
        let c = csp(json!({"resourceDomains": kept, "frameDomains": dropped}));
        let expected = ["https://a.example", "https://a.example:443"]
            .into_iter()
            .chain(kept[2..].iter().copied())
            .map(|s| s.to_ascii_lowercase())
            .collect::<Vec<_>>();
        assert_eq!(c.resource, expected);
        assert!(c.frame.is_empty());
        let named: Vec<String> = dropped.iter().map(|d| text(json!(d))).collect();
        assert_eq!(c.dropped, named);
    }

    #[test]
    fn sockets_are_connect_sources_only_and_duplicates_and_surplus_are_dropped() {
        let c = csp(json!({
            "connectDomains": ["wss://a.example", "ws://localhost:1", "https://a.example", "https://a.example/"],
            "frameDomains": ["wss://a.example"],
            "baseUriDomains": "https://a.example",
            "resourceDomains": [3, null, {"x": 1}],
        }));
        assert_eq!(
            c.connect,
            strings(&["wss://a.example", "ws://localhost:1", "https://a.example"])
        );
        assert!(c.frame.is_empty() && c.base_uri.is_empty() && c.resource.is_empty());
        assert_eq!(
            c.dropped,
            strings(&["3", "null", "{\"x\":1}", "\"wss://a.example\"", "baseUriDomains"])
        );
        let many: Vec<String> =
            (0..40).map(|n| ["https://h", &n.to_string(), ".example"].concat()).collect();
        let c = csp(json!({"connectDomains": many}));
        assert_eq!(c.connect.len(), MAX_DOMAINS);
        assert_eq!(c.dropped, strings(&["8 more entries of connectDomains"]));
        assert_eq!(Csp::read(Some(&json!("https://a.example"))), Csp::default());
        let long = ["'", &"x".repeat(500), "'"].concat();
        let c = csp(json!({"connectDomains": [long]}));
        assert_eq!(c.dropped[0].chars().count(), MAX_DROPPED_CHARS + 1);
    }

    #[test]
    fn the_proxy_gets_the_html_and_its_policy_once_it_is_ready() {
        let r = resource(json!({"ui": {"csp": {"connectDomains": ["https://api.example"]}}}));
        let mut b = Bridge::new(&r, Theme::Light);
        assert_eq!(b.poll_message(), None);
        let ready = notification("ui/notifications/sandbox-proxy-ready", json!({}));
        assert_eq!(b.receive(&ready, &[]), None);
        let sent = drain(&mut b);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["method"], "ui/notifications/sandbox-resource-ready");
        assert_eq!(sent[0]["params"]["html"], "<p>hi</p>");
        assert_eq!(sent[0]["params"]["csp"], app_csp(&r.csp));
        // A second "ready" is not answered with the app again.
        b.receive(&ready, &[]);
        assert_eq!((drain(&mut b).len(), b.ignored()), (0, 1));
    }

    #[test]
    fn initialize_is_answered_with_what_the_console_offers() {
        let r =
            resource(json!({"ui": {"csp": {"connectDomains": ["https://api.example", "'self'"]}}}));
        let mut b = Bridge::new(&r, Theme::Dark);
        b.receive(&notification("ui/notifications/sandbox-proxy-ready", json!({})), &[]);
        drain(&mut b);
        let init = json!({"appInfo": {"name": "a", "version": "1"}, "appCapabilities": {}, "protocolVersion": "2099-01-01"});
        assert_eq!(b.receive(&request(7, "ui/initialize", init), &[]), None);
        let answer = drain(&mut b).remove(0);
        assert_eq!(answer["id"], 7);
        let result = &answer["result"];
        assert_eq!(result["protocolVersion"], PROTOCOL_VERSION);
        assert_eq!(result["hostInfo"]["name"], "mcp-console");
        assert_eq!(
            result["hostCapabilities"],
            json!({"serverTools": {}, "openLinks": {}, "message": {"text": {}}, "logging": {},
                   "sandbox": {"csp": {"connectDomains": ["https://api.example"]}}})
        );
        assert_eq!(
            result["hostContext"],
            json!({"theme": "dark", "displayMode": "inline", "availableDisplayModes": ["inline"], "platform": "web"})
        );
        // Initializing twice is refused; the first answer stands.
        b.receive(&request(8, "ui/initialize", json!({})), &[]);
        assert_eq!(error_of(&drain(&mut b)[0]).0, codes::INVALID_REQUEST);
    }

    #[test]
    fn nothing_is_told_to_the_app_before_it_is_initialized_and_then_in_order() {
        let mut b = Bridge::new(&resource(Value::Null), Theme::Light);
        let args = Map::from_iter([("city".to_owned(), json!("Oslo"))]);
        // The result is handed in before the input: it still goes out after it.
        b.tool_result(json!({"content": [{"type": "text", "text": "4°"}]}));
        b.tool_input(args.clone());
        b.tool_input(Map::new());
        b.tool_cancelled("late");
        b.receive(&notification("ui/notifications/sandbox-proxy-ready", json!({})), &[]);
        b.receive(&request(1, "ui/initialize", json!({})), &[]);
        let before: Vec<Value> = drain(&mut b);
        assert!(before.iter().all(|m| m["method"] != "ui/notifications/tool-input"));
        b.receive(&notification("ui/notifications/initialized", json!({})), &[]);
        let told = drain(&mut b);
        let methods: Vec<&str> = told.iter().filter_map(|m| m["method"].as_str()).collect();
        assert_eq!(methods, ["ui/notifications/tool-input", "ui/notifications/tool-result"]);
        assert_eq!(told[0]["params"], json!({"arguments": args}));
        assert_eq!(told[1]["params"]["content"][0]["text"], "4°");
        // Once initialized, news goes out at once.
        let mut b = ready();
        b.tool_input(Map::new());
        b.tool_cancelled("the person cancelled");
        let told = drain(&mut b);
        assert_eq!(
            told[1],
            json!({"jsonrpc": "2.0", "method": "ui/notifications/tool-cancelled", "params": {"reason": "the person cancelled"}})
        );
    }

    #[test]
    fn requests_before_initialized_are_refused_but_ping_is_answered() {
        let mut b = Bridge::new(&resource(Value::Null), Theme::Light);
        b.receive(&notification("ui/notifications/sandbox-proxy-ready", json!({})), &[]);
        drain(&mut b);
        assert_eq!(
            b.receive(&request(2, "tools/call", json!({"name": "get-time"})), &tools()),
            None
        );
        assert_eq!(b.receive(&request(3, "ping", json!({})), &[]), None);
        b.receive(&request(4, "ui/initialize", json!({})), &[]);
        b.receive(&request(5, "ui/open-link", json!({"url": "https://a.example"})), &[]);
        let answers = drain(&mut b);
        assert_eq!(error_of(&answers[0]).0, -32000);
        assert_eq!(answers[1], json!({"jsonrpc": "2.0", "id": 3, "result": {}}));
        assert_eq!(error_of(&answers[3]).0, -32000);
        // An initialized notification out of turn is ignored.
        let mut b = Bridge::new(&resource(Value::Null), Theme::Light);
        b.receive(&notification("ui/notifications/initialized", json!({})), &[]);
        assert_eq!(b.ignored(), 1);
    }

    #[test]
    fn an_app_calls_its_servers_tools_visible_to_apps_and_gets_the_answer() {
        let mut b = ready();
        let call = request(9, "tools/call", json!({"name": "refresh", "arguments": {"n": 1}}));
        let Some(BridgeAction::CallTool { id, name, arguments }) = b.receive(&call, &tools())
        else {
            panic!("no call")
        };
        assert_eq!(
            (&id, name.as_str(), arguments.get("n")),
            (&RequestId::Number(9), "refresh", Some(&json!(1)))
        );
        assert!(b.answer(&id, Ok(json!({"content": []}))));
        assert_eq!(drain(&mut b), [json!({"jsonrpc": "2.0", "id": 9, "result": {"content": []}})]);
        assert!(!b.answer(&id, Ok(json!({}))), "answered twice");
        let failed = request(10, "tools/call", json!({"name": "get-time"}));
        assert!(b.receive(&failed, &tools()).is_some());
        b.answer(&RequestId::Number(10), Err("The server refused the call.".into()));
        assert_eq!(error_of(&drain(&mut b)[0]), (-32000, "The server refused the call."));
    }

    #[test]
    fn tool_calls_the_app_may_not_make_are_refused() {
        let mut b = ready();
        let cases = [
            (json!({"name": "model-only"}), -32000),
            (json!({"name": "elsewhere"}), codes::INVALID_PARAMS),
            (json!({"name": 5}), codes::INVALID_PARAMS),
            (json!({"name": "refresh", "arguments": [1]}), codes::INVALID_PARAMS),
            (json!(null), codes::INVALID_PARAMS),
        ];
        for (n, (params, code)) in cases.into_iter().enumerate() {
            assert_eq!(b.receive(&request(n as i64, "tools/call", params), &tools()), None);
            assert_eq!(error_of(&drain(&mut b)[0]).0, code);
        }
    }

    #[test]
    fn a_flood_of_calls_is_bounded() {
        let mut b = ready();
        let call = |n: i64| request(n, "tools/call", json!({"name": "refresh"}));
        for n in 0..MAX_PENDING_CALLS as i64 {
            assert!(b.receive(&call(n), &tools()).is_some());
        }
        assert_eq!(b.receive(&call(99), &tools()), None);
        assert_eq!(error_of(&drain(&mut b)[0]).0, -32000);
        b.answer(&RequestId::Number(0), Ok(json!({"content": []})));
        assert!(b.receive(&call(100), &tools()).is_some());
    }

    #[test]
    fn an_id_still_open_is_not_reused() {
        let mut b = ready();
        let call = request(3, "tools/call", json!({"name": "refresh"}));
        assert!(b.receive(&call, &tools()).is_some());
        assert_eq!(b.receive(&request(3, "ping", json!({})), &tools()), None);
        assert_eq!((drain(&mut b).len(), b.ignored()), (0, 1));
        let string_id = text(json!({"jsonrpc": "2.0", "id": "3", "method": "ping"}));
        b.receive(&string_id, &[]);
        assert_eq!(drain(&mut b)[0]["id"], "3");
    }

    #[test]
    fn links_are_http_only_and_wait_for_the_person_one_at_a_time() {
        let mut b = ready();
        let open = |n: i64, url: &str| request(n, "ui/open-link", json!({"url": url}));
        let action = b.receive(&open(1, "https://Example.org/a b"), &[]);
        let url = "https://example.org/a%20b".to_owned();
        assert_eq!(action, Some(BridgeAction::OpenLink { id: RequestId::Number(1), url }));
        assert_eq!(b.receive(&open(2, "https://example.org/other"), &[]), None);
        assert_eq!(error_of(&drain(&mut b)[0]).0, -32000);
        b.answer(&RequestId::Number(1), Err("Link opening denied by user".into()));
        assert_eq!(error_of(&drain(&mut b)[0]), (-32000, "Link opening denied by user"));
        for (n, bad) in [
            "javascript:alert(1)",
            "data:text/html,x",
            "file:///etc/passwd",
            "//a.example",
            "mailto:a@b",
        ]
        .into_iter()
        .enumerate()
        {
            assert_eq!(b.receive(&open(10 + n as i64, bad), &[]), None, "{bad}");
            assert_eq!(
                error_of(&drain(&mut b)[0]).1,
                "Invalid URL: only http and https links are opened."
            );
        }
        b.receive(&request(20, "ui/open-link", json!({"url": 3})), &[]);
        assert_eq!(error_of(&drain(&mut b)[0]).0, -32000);
    }

    #[test]
    fn a_message_carries_its_text_whether_content_is_a_list_or_one_block() {
        let mut b = ready();
        let list = json!({"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image", "data": ""}, {"type": "text", "text": "b"}]});
        let action = b.receive(&request(1, "ui/message", list), &[]);
        assert_eq!(
            action,
            Some(BridgeAction::Message { id: RequestId::Number(1), text: "a\n\nb".into() })
        );
        b.answer(&RequestId::Number(1), Ok(json!({})));
        let one = json!({"role": "user", "content": {"type": "text", "text": "hello"}});
        let action = b.receive(&request(2, "ui/message", one), &[]);
        assert_eq!(
            action,
            Some(BridgeAction::Message { id: RequestId::Number(2), text: "hello".into() })
        );
        drain(&mut b);
        for bad in [
            json!({"role": "assistant", "content": {"type": "text", "text": "x"}}),
            json!({"role": "user", "content": [{"type": "image"}]}),
            json!({"role": "user"}),
        ] {
            assert_eq!(b.receive(&request(3, "ui/message", bad), &[]), None);
        }
        let answers = drain(&mut b);
        assert!(answers.iter().all(|a| error_of(a).0 == codes::INVALID_PARAMS), "{answers:?}");
        // A second message while the first is not taken is refused.
        let ok = json!({"role": "user", "content": {"type": "text", "text": "again"}});
        assert_eq!(b.receive(&request(4, "ui/message", ok), &[]), None);
        assert_eq!(error_of(&drain(&mut b)[0]).0, -32000);
    }

    #[test]
    fn sizes_are_clamped_and_nonsense_is_ignored() {
        let mut b = ready();
        let size = |params: Value| notification("ui/notifications/size-changed", params);
        let resize = |width, height| Some(BridgeAction::Resize { width, height });
        assert_eq!(
            b.receive(&size(json!({"width": 320.6, "height": 200})), &[]),
            resize(Some(321), Some(200))
        );
        assert_eq!(b.receive(&size(json!({"height": 1e308})), &[]), resize(None, Some(4000)));
        assert_eq!(
            b.receive(&size(json!({"height": -5, "width": "9"})), &[]),
            resize(None, Some(16))
        );
        let huge = r#"{"jsonrpc":"2.0","method":"ui/notifications/size-changed","params":{"height":1e999999}}"#;
        let ignored = b.ignored();
        // Beyond f64 serde_json reads no number at all: nothing usable, so ignored.
        assert_eq!(b.receive(huge, &[]), None);
        assert_eq!(b.receive(&size(json!({"width": null})), &[]), None);
        assert_eq!(b.receive(&size(json!([1, 2])), &[]), None);
        assert_eq!(b.ignored(), ignored + 3);
    }

    #[test]
    fn app_logs_become_log_lines_of_a_known_level() {
        let mut b = ready();
        let log = |params: Value| notification("notifications/message", params);
        let line =
            b.receive(&log(json!({"level": "warning", "logger": "app", "data": {"n": 1}})), &[]);
        let expected = LogLine {
            level: "warning".into(),
            logger: Some("app".into()),
            text: r#"{"n":1}"#.into(),
        };
        assert_eq!(line, Some(BridgeAction::Log(expected)));
        let long = b.receive(&log(json!({"level": "info", "data": "é".repeat(5000)})), &[]);
        let Some(BridgeAction::Log(LogLine { text, .. })) = long else { panic!("no line") };
        assert!(text.len() <= MAX_LOG_CHARS + '…'.len_utf8() && text.ends_with('…'));
        for bad in [json!({"level": "loud", "data": "x"}), json!({"data": "x"}), json!("x")] {
            assert_eq!(b.receive(&log(bad), &[]), None);
        }
        assert_eq!(b.ignored(), 3);
    }

    #[test]
    fn unknown_methods_are_answered_and_unknown_notifications_ignored() {
        let mut b = ready();
        for method in [
            "resources/read",
            "ui/update-model-context",
            "sampling/createMessage",
            "ui/notifications/sandbox-resource-ready",
        ] {
            assert_eq!(b.receive(&request(1, method, json!({})), &[]), None);
            assert_eq!(error_of(&drain(&mut b)[0]).0, codes::METHOD_NOT_FOUND, "{method}");
        }
        b.receive(&request(2, "ui/request-display-mode", json!({"mode": "fullscreen"})), &[]);
        assert_eq!(drain(&mut b)[0]["result"], json!({"mode": "inline"}));
        b.receive(&notification("notifications/whatever", json!({})), &[]);
        assert_eq!((drain(&mut b).len(), b.ignored()), (0, 1));
    }

    #[test]
    fn malformed_and_oversized_messages_are_ignored_and_counted() {
        let mut b = ready();
        let oversized = request(1, "ping", json!({"pad": "x".repeat(MAX_MESSAGE_BYTES)}));
        let inputs = [
            "not json".to_owned(),
            "[]".into(),
            "null".into(),
            r#"{"id":1,"method":"ping"}"#.into(),
            r#"{"jsonrpc":"2.0","id":1e400,"method":"ping"}"#.into(),
            r#"{"jsonrpc":"2.0","id":18446744073709551616,"method":"ping"}"#.into(),
            r#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#.into(),
            r#"{"jsonrpc":"2.0","method":7}"#.into(),
            r#"{"jsonrpc":"2.0","id":5,"result":{}}"#.into(),
            oversized,
        ];
        for input in &inputs {
            assert_eq!(b.receive(input, &tools()), None, "{input:.60}");
        }
        assert_eq!((drain(&mut b).len(), b.ignored() as usize), (0, inputs.len()));
    }

    #[test]
    fn teardown_waits_for_the_apps_answer_and_then_nothing_goes_through() {
        let mut b = ready();
        assert!(
            b.receive(&request(4, "tools/call", json!({"name": "refresh"})), &tools()).is_some()
        );
        assert!(b.teardown("The person closed the app."));
        let sent = drain(&mut b);
        assert_eq!(sent[0]["method"], "ui/resource-teardown");
        assert_eq!(sent[0]["params"], json!({"reason": "The person closed the app."}));
        let id = sent[0]["id"].clone();
        // While closing, the app's requests go unanswered and the host's news is not sent.
        assert_eq!(b.receive(&request(5, "ping", json!({})), &[]), None);
        b.tool_result(json!({"content": []}));
        assert!(drain(&mut b).is_empty());
        let wrong = text(json!({"jsonrpc": "2.0", "id": 999, "result": {}}));
        assert_eq!(b.receive(&wrong, &[]), None);
        let done = text(json!({"jsonrpc": "2.0", "id": id, "result": {}}));
        assert_eq!(b.receive(&done, &[]), Some(BridgeAction::Closed));
        assert_eq!(b.receive(&done, &[]), None);
        assert!(!b.answer(&RequestId::Number(4), Ok(json!({}))));
        assert!(drain(&mut b).is_empty());
    }

    #[test]
    fn an_app_that_never_initialized_is_removed_at_once() {
        let mut b = Bridge::new(&resource(Value::Null), Theme::Light);
        b.receive(&notification("ui/notifications/sandbox-proxy-ready", json!({})), &[]);
        drain(&mut b);
        assert!(!b.teardown("closed"));
        assert!(drain(&mut b).is_empty());
        assert_eq!(b.receive(&request(1, "ui/initialize", json!({})), &[]), None);
        assert!(drain(&mut b).is_empty());
    }

    #[test]
    fn the_app_may_ask_to_be_closed() {
        let mut b = ready();
        let ask = notification("ui/notifications/request-teardown", json!({}));
        assert_eq!(b.receive(&ask, &[]), Some(BridgeAction::CloseRequested));
    }
}
