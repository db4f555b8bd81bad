//! A server's traffic, message by message: every JSON-RPC request, answer and notification the
//! console sent or received, with its direction, method, time and (for an answer) how long it
//! took. Kept in memory up to a cap the person sets (the oldest dropped, and counted); bodies over
//! [`BODY_LIMIT`] are kept cut, with their size. From an entry: formatted JSON, a copy as JSON-RPC,
//! a copy as `curl` with the bearer left as `$MCP_TOKEN` (never the token), the tool call to
//! replay, and the whole history as JSON.

use crate::core::jsonrpc::Message;
use crate::core::map::SortedMap;
use crate::core::session::Millis;
use serde_json::{Value, json};
use std::collections::VecDeque;

/// Bytes of a message body kept; a longer one is kept cut, with its size.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Entries kept when the person has not chosen.
pub const DEFAULT_CAP: usize = 500;
/// The choices for the cap.
pub const CAP_RANGE: (usize, usize) = (10, 5_000);
/// Requests waiting for their answer, remembered for the answer's method and duration.
const OPEN_LIMIT: usize = 1_000;

/// How a sent message went over HTTP, for a copy as `curl`: the request's address and headers,
/// without `Authorization` (whether one went is `bearer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentOver {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub bearer: bool,
}

/// A message as it crossed the wire (`EngineEvent::Traffic`).
#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    pub sent: bool,
    pub at: Millis,
    pub message: Message,
    /// For a message sent by its own POST.
    pub over: Option<SentOver>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Notification,
    Result,
    Error,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Request => "request",
            Kind::Notification => "notification",
            Kind::Result => "result",
            Kind::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Its place in the whole session, counting dropped entries.
    pub seq: u64,
    pub sent: bool,
    pub at: Millis,
    pub kind: Kind,
    /// A request's or notification's method; for an answer, its request's (empty if unknown).
    pub method: String,
    pub id: Option<String>,
    /// For an answer: since its request.
    pub took: Option<Millis>,
    /// The whole message's size in bytes.
    pub size: usize,
    /// The message as sent or received (compact JSON), cut at [`BODY_LIMIT`].
    pub body: String,
    pub over: Option<SentOver>,
}

impl Entry {
    pub fn is_cut(&self) -> bool {
        self.size > self.body.len()
    }

    /// The body as formatted JSON (a cut body as it is).
    pub fn pretty(&self) -> String {
        match serde_json::from_str::<Value>(&self.body) {
            Ok(value) if !self.is_cut() => {
                serde_json::to_string_pretty(&value).unwrap_or_else(|_| self.body.clone())
            }
            _ => self.body.clone(),
        }
    }

    /// The body, to paste into another JSON-RPC client.
    pub fn as_jsonrpc(&self) -> String {
        self.pretty()
    }

    /// A `curl` command that sends this message again, the bearer left as `$MCP_TOKEN`; none for
    /// a received message, or one whose body was cut.
    pub fn as_curl(&self) -> Option<String> {
        let over = self.over.as_ref().filter(|_| self.sent && !self.is_cut())?;
        let mut out = format!("curl -sS -X POST {}", quoted(&over.url));
        for (name, value) in &over.headers {
            out.push_str(&format!(" -H {}", quoted(&format!("{name}: {value}"))));
        }
        if over.bearer {
            out.push_str(" -H \"Authorization: Bearer $MCP_TOKEN\"");
        }
        out.push_str(&format!(" --data-binary {}", quoted(&self.body)));
        Some(out)
    }

    /// The tool and arguments of a `tools/call` the console sent, to put into the call form.
    pub fn replay(&self) -> Option<(String, Value)> {
        if !self.sent || self.kind != Kind::Request || self.method != "tools/call" {
            return None;
        }
        let value: Value = serde_json::from_str(&self.body).ok()?;
        let params = value.get("params")?;
        let name = params.get("name")?.as_str()?.to_owned();
        Some((name, params.get("arguments").cloned().unwrap_or_else(|| json!({}))))
    }

    fn exported(&self) -> Value {
        let message = match serde_json::from_str::<Value>(&self.body) {
            Ok(value) if !self.is_cut() => value,
            _ => Value::String(self.body.clone()),
        };
        json!({
            "seq": self.seq,
            "direction": if self.sent { "sent" } else { "received" },
            "at": self.at,
            "kind": self.kind.name(),
            "method": self.method,
            "id": self.id,
            "durationMs": self.took,
            "size": self.size,
            "truncated": self.is_cut(),
            "message": message,
        })
    }
}

/// A text as one POSIX shell word: in single quotes, each `'` written `'\''`.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The history of one server's traffic. See the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    entries: VecDeque<Entry>,
    cap: usize,
    /// How many were dropped for the cap.
    dropped: u64,
    next: u64,
    /// Requests awaiting an answer, by (sent by the console, id): when, and the method.
    open: SortedMap<(bool, String), (Millis, String)>,
}

impl Default for History {
    fn default() -> History {
        History {
            entries: VecDeque::new(),
            cap: DEFAULT_CAP,
            dropped: 0,
            next: 0,
            open: SortedMap::new(),
        }
    }
}

/// At most `limit` bytes of `text`, cut at a character boundary.
fn cut(text: &str, limit: usize) -> &str {
    let mut end = text.len().min(limit);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl History {
    pub fn record(&mut self, traffic: Traffic) {
        let Traffic { sent, at, message, over } = traffic;
        let text = message.encode();
        let (kind, method, id) = match &message {
            Message::Request { id, method, .. } => {
                let id = id.to_string();
                if self.open.len() >= OPEN_LIMIT {
                    self.open.clear();
                }
                self.open.insert((sent, id.clone()), (at, method.clone()));
                (Kind::Request, method.clone(), Some(id))
            }
            Message::Notification { method, .. } => (Kind::Notification, method.clone(), None),
            Message::Response { id, .. } => (Kind::Result, String::new(), Some(id.to_string())),
            Message::Error { id, .. } => {
                (Kind::Error, String::new(), id.as_ref().map(ToString::to_string))
            }
        };
        // An answer goes the other way from its request.
        let asked = match (&kind, &id) {
            (Kind::Result | Kind::Error, Some(id)) => self.open.remove(&(!sent, id.clone())),
            _ => None,
        };
        let (method, took) = match asked {
            Some((then, method)) => (method, Some(at.saturating_sub(then))),
            None => (method, None),
        };
        self.next += 1;
        self.entries.push_back(Entry {
            seq: self.next,
            sent,
            at,
            kind,
            method,
            id,
            took,
            size: text.len(),
            body: cut(&text, BODY_LIMIT).to_owned(),
            over,
        });
        self.trim();
    }

    fn trim(&mut self) {
        while self.entries.len() > self.cap {
            self.entries.pop_front();
            self.dropped += 1;
        }
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// The person chose how many entries to keep (within [`CAP_RANGE`]).
    pub fn set_cap(&mut self, cap: usize) {
        self.cap = cap.clamp(CAP_RANGE.0, CAP_RANGE.1);
        self.trim();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The newest entry's `seq`: it moves whenever the history changes.
    pub fn newest(&self) -> u64 {
        self.next
    }

    pub fn get(&self, seq: u64) -> Option<&Entry> {
        self.entries.iter().find(|e| e.seq == seq)
    }

    /// The entries whose method is `method` (any, if empty) and whose method or body contains
    /// `text` (ignoring ASCII case: Unicode's case tables would cost the page 25 KB), newest
    /// first.
    pub fn matching<'a>(&'a self, text: &str, method: &'a str) -> impl Iterator<Item = &'a Entry> {
        let needle = text.trim().to_ascii_lowercase();
        self.entries.iter().rev().filter(move |e| {
            (method.is_empty() || e.method == method)
                && (needle.is_empty()
                    || e.method.to_ascii_lowercase().contains(&needle)
                    || e.body.to_ascii_lowercase().contains(&needle))
        })
    }

    /// Every method seen, sorted, for the filter.
    pub fn methods(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in self.entries.iter().filter(|e| !e.method.is_empty()) {
            // Kept in order as they come: a sort would cost the page 4 KB.
            if let Err(at) = out.binary_search(&e.method) {
                out.insert(at, e.method.clone());
            }
        }
        out
    }

    /// The whole history as a JSON document: what was dropped, and each entry with its message.
    pub fn export(&self, server: &str) -> String {
        let entries: Vec<Value> = self.entries.iter().map(Entry::exported).collect();
        let doc = json!({ "server": server, "dropped": self.dropped, "entries": entries });
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::jsonrpc::Message;

    fn message(text: &str) -> Message {
        Message::decode_all(text)
            .ok()
            .and_then(|mut m| m.pop())
            .unwrap_or_else(|| panic!("not a message: {text}"))
    }

    fn traffic(sent: bool, at: Millis, text: &str) -> Traffic {
        Traffic { sent, at, message: message(text), over: None }
    }

    #[test]
    fn answers_take_their_requests_method_and_duration_in_either_direction() {
        let mut h = History::default();
        h.record(traffic(true, 100, r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#));
        h.record(traffic(false, 110, r#"{"jsonrpc":"2.0","id":7,"method":"roots/list"}"#));
        h.record(traffic(true, 115, r#"{"jsonrpc":"2.0","id":7,"result":{"roots":[]}}"#));
        h.record(traffic(false, 130, r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}"#));
        h.record(traffic(false, 131, r#"{"jsonrpc":"2.0","method":"notifications/message"}"#));
        h.record(traffic(
            false,
            140,
            r#"{"jsonrpc":"2.0","id":9,"error":{"code":1,"message":"x"}}"#,
        ));
        let shown: Vec<(Kind, &str, Option<Millis>)> =
            h.matching("", "").map(|e| (e.kind, e.method.as_str(), e.took)).collect();
        assert_eq!(
            shown,
            vec![
                (Kind::Error, "", None),
                (Kind::Notification, "notifications/message", None),
                (Kind::Result, "tools/list", Some(30)),
                (Kind::Result, "roots/list", Some(5)),
                (Kind::Request, "roots/list", None),
                (Kind::Request, "tools/list", None),
            ]
        );
        assert_eq!(h.methods(), vec!["notifications/message", "roots/list", "tools/list"]);
        assert_eq!(h.matching("", "tools/list").count(), 2);
        assert_eq!(h.matching("ROOTS\"", "").count(), 1, "text in the body, any case");
    }

    #[test]
    fn the_cap_drops_the_oldest_and_counts_them() {
        let mut h = History::default();
        h.set_cap(3);
        assert_eq!(h.cap(), CAP_RANGE.0, "no fewer than the least");
        for n in 0..25 {
            h.record(traffic(true, n, &format!(r#"{{"jsonrpc":"2.0","method":"n/{n}"}}"#)));
        }
        assert_eq!((h.len(), h.dropped()), (10, 15));
        assert_eq!(h.matching("", "").last().map(|e| e.seq), Some(16));
        h.set_cap(1_000_000);
        assert_eq!(h.cap(), CAP_RANGE.1);
    }

    #[test]
    fn a_big_body_is_kept_cut_with_its_size_and_never_copied_as_curl() {
        let mut h = History::default();
        let big = "é".repeat(BODY_LIMIT);
        let text = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{big}"}}}}"#
        );
        let over =
            SentOver { url: "http://127.0.0.1:1/mcp".into(), headers: vec![], bearer: false };
        h.record(Traffic { sent: true, at: 0, message: message(&text), over: Some(over) });
        let e = h.get(1).unwrap_or_else(|| panic!("kept"));
        assert!(e.is_cut() && e.size == text.len() && e.body.len() <= BODY_LIMIT);
        assert_eq!(e.pretty(), e.body, "shown as it is");
        assert_eq!(e.as_curl(), None);
        assert_eq!(e.replay(), None);
        let doc: Value = serde_json::from_str(&h.export("s")).unwrap_or_default();
        assert_eq!(doc["entries"][0]["truncated"], json!(true));
        assert!(doc["entries"][0]["message"].is_string());
    }

    #[test]
    fn curl_quotes_everything_and_leaves_the_bearer_to_the_shell() {
        let mut h = History::default();
        let text = r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"message":"it's $HOME"}}}"#;
        let over = SentOver {
            url: "http://127.0.0.1:3001/mcp".into(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("mcp-session-id".into(), "s'1".into()),
            ],
            bearer: true,
        };
        h.record(Traffic { sent: true, at: 5, message: message(text), over: Some(over) });
        let e = h.get(1).unwrap_or_else(|| panic!("kept"));
        let curl = e.as_curl().unwrap_or_default();
        assert_eq!(
            curl,
            format!(
                "curl -sS -X POST 'http://127.0.0.1:3001/mcp' -H 'content-type: application/json' -H 'mcp-session-id: s'\\''1' -H \"Authorization: Bearer $MCP_TOKEN\" --data-binary '{}'",
                e.body.replace('\'', "'\\''")
            )
        );
        assert_eq!(e.replay(), Some(("echo".to_owned(), json!({"message": "it's $HOME"}))));
        let doc: Value = serde_json::from_str(&h.export("http://127.0.0.1:3001/mcp"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(doc["entries"][0]["message"]["params"]["name"], json!("echo"));
        assert_eq!(doc["entries"][0]["direction"], json!("sent"));
        // A received message is not sent again.
        h.record(traffic(false, 9, r#"{"jsonrpc":"2.0","id":3,"result":{}}"#));
        assert_eq!(h.get(2).and_then(Entry::as_curl), None);
        assert_eq!(h.get(2).and_then(|e| e.took), Some(4));
    }
}
