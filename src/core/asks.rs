//! What a server may ask of the person at the console, and the answers sent back: elicitation
//! (a form, or a URL to visit), sampling (a human writes the model's reply) and roots (answered
//! from the console's list without asking). The UI renders an [`Ask`]; this module builds the
//! JSON results so their shape is tested here.

use crate::core::apps;
use crate::core::engine::EngineEvent;
use crate::core::jsonrpc::RpcError;
use crate::core::schema_form::{self, FieldError, Form, FormValues};
use crate::core::session::{AskId, SessionEvent};
use serde_json::{Value, json};

/// The client capabilities the console declares: it can answer all three kinds of ask.
pub fn client_capabilities() -> serde_json::Map<String, Value> {
    let Value::Object(map) = json!({
        "roots": { "listChanged": true },
        "sampling": {},
        "elicitation": { "form": {}, "url": {} },
        // MCP Apps: a tool's `ui://` resource is shown in a sandboxed frame (`core::apps`).
        "extensions": { (apps::EXTENSION): { "mimeTypes": [apps::MIME_TYPE] } },
    }) else {
        return serde_json::Map::new();
    };
    map
}

/// One open request from the server, shaped for the UI.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    pub id: AskId,
    pub kind: AskKind,
}

/// The kinds of ask.
#[derive(Debug, Clone, PartialEq)]
pub enum AskKind {
    /// Fill in a form built from `requestedSchema`.
    Form { message: String, form: Form },
    /// Visit a URL (2025-11-25 URL mode); the person decides whether to.
    Url { message: String, url: String, elicitation_id: Option<String> },
    /// Write the reply a model would give to `messages`.
    Sampling {
        system_prompt: Option<String>,
        messages: Vec<(String, String)>,
        max_tokens: Option<u64>,
    },
}

/// How a person may end an elicitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Decline,
    Cancel,
}

impl Ask {
    /// Reads a server request, or an input a stateless server asked for; `None` for methods
    /// that are not asks (roots are answered without asking).
    pub fn from_request(id: AskId, method: &str, params: Option<&Value>) -> Option<Ask> {
        let params = params.cloned().unwrap_or(Value::Null);
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let kind = match method {
            "elicitation/create" => {
                let message = text(&params, "message").unwrap_or_default();
                if params.get("mode").and_then(Value::as_str) == Some("url") {
                    AskKind::Url {
                        message,
                        url: text(&params, "url").unwrap_or_default(),
                        elicitation_id: text(&params, "elicitationId"),
                    }
                } else {
                    let schema = params.get("requestedSchema").cloned().unwrap_or(Value::Null);
                    AskKind::Form { message, form: schema_form::form_for(&schema) }
                }
            }
            "sampling/createMessage" => {
                let messages = params
                    .get("messages")
                    .and_then(Value::as_array)
                    .map(|list| {
                        list.iter().map(|m| (role_of(m), content_text(m.get("content")))).collect()
                    })
                    .unwrap_or_default();
                AskKind::Sampling {
                    system_prompt: text(&params, "systemPrompt"),
                    messages,
                    max_tokens: params.get("maxTokens").and_then(Value::as_u64),
                }
            }
            _ => return None,
        };
        Some(Ask { id, kind })
    }

    /// The pre-filled values of a form ask (the schema's defaults, per SEP-1034).
    pub fn initial_values(&self) -> FormValues {
        match &self.kind {
            AskKind::Form { form, .. } => schema_form::defaults(form),
            _ => FormValues::new(),
        }
    }
}

fn role_of(message: &Value) -> String {
    message.get("role").and_then(Value::as_str).unwrap_or("user").to_owned()
}

/// The readable text of a sampling message's content (a block or, in 2025-11-25, a list).
fn content_text(content: Option<&Value>) -> String {
    let block_text = |b: &Value| match b.get("type").and_then(Value::as_str) {
        Some("text") => b.get("text").and_then(Value::as_str).unwrap_or("").to_owned(),
        Some(other) => format!("[{other} content]"),
        None => String::new(),
    };
    match content {
        Some(Value::Array(blocks)) => blocks.iter().map(block_text).collect::<Vec<_>>().join("\n"),
        Some(block) => block_text(block),
        None => String::new(),
    }
}

/// The result of an accepted form: the checked values, or sentences for the fields at fault.
pub fn accept_form(form: &Form, values: &FormValues) -> Result<Value, Vec<FieldError>> {
    let content = schema_form::to_arguments(form, values)?;
    Ok(json!({ "action": "accept", "content": content }))
}

/// The result of an accepted URL elicitation (the person chose to open it).
pub fn accept_url() -> Value {
    json!({ "action": "accept" })
}

/// The result of a declined or cancelled elicitation.
pub fn decide(decision: Decision) -> Value {
    match decision {
        Decision::Decline => json!({ "action": "decline" }),
        Decision::Cancel => json!({ "action": "cancel" }),
    }
}

/// The result of a sampling request answered by a person.
pub fn sampling_reply(text: &str) -> Value {
    json!({
        "role": "assistant",
        "content": { "type": "text", "text": text },
        "model": "human (mcp-console)",
        "stopReason": "endTurn",
    })
}

/// The error sent when the person refuses a sampling request.
pub fn sampling_refused() -> RpcError {
    RpcError { code: -1, message: "The user declined the sampling request.".into(), data: None }
}

/// The result of `roots/list` for the console's roots (URIs, each `file://…`).
pub fn roots_result(roots: &[String]) -> Value {
    let roots: Vec<Value> = roots
        .iter()
        .map(|uri| {
            let name = uri.trim_end_matches('/').rsplit('/').next().unwrap_or(uri).to_owned();
            json!({ "uri": uri, "name": name })
        })
        .collect();
    json!({ "roots": roots })
}

/// How an answer went, in a word, for a call's rounds.
pub fn answer_word(answer: &Result<Value, RpcError>) -> &'static str {
    match answer {
        Ok(v) => match v.get("action").and_then(Value::as_str) {
            Some("accept") => "accepted",
            Some("decline") => "declined",
            Some("cancel") => "cancelled",
            _ => "answered",
        },
        Err(_) => "refused",
    }
}

/// The asks in `event` for the console's roots, which are answered without asking the person:
/// a server's `roots/list` request, or a stateless server's input asking for it.
pub fn roots_asked(event: &EngineEvent) -> Vec<AskId> {
    let EngineEvent::Session(event) = event else { return Vec::new() };
    match event.as_ref() {
        SessionEvent::ServerRequest { id, method, .. } if method == "roots/list" => {
            vec![AskId::Server(id.clone())]
        }
        SessionEvent::InputRequired { id, requests, .. } => requests
            .iter()
            .filter(|r| r.method == "roots/list")
            .map(|r| AskId::Input { request: id.clone(), key: r.key.clone() })
            .collect(),
        _ => Vec::new(),
    }
}

/// Checks one root URI typed by a person: MCP roots are `file://` URIs.
pub fn check_root(uri: &str) -> Result<String, String> {
    let uri = uri.trim();
    match url::Url::parse(uri) {
        Ok(u) if u.scheme() == "file" => Ok(u.to_string()),
        _ => Err(format!(
            "{uri:?} is not a root: roots are file:// URIs, like file:///home/me/project."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::jsonrpc::RequestId;
    use crate::core::schema_form::FieldValue;

    fn ask(method: &str, params: Value) -> Ask {
        Ask::from_request(AskId::Server(RequestId::Number(1)), method, Some(&params))
            .unwrap_or_else(|| panic!("{method} is an ask"))
    }

    #[test]
    fn a_form_elicitation_prefills_defaults_and_accepts_checked_values() {
        let a = ask(
            "elicitation/create",
            json!({
                "message": "Who are you?",
                "requestedSchema": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "minLength": 1},
                        "age": {"type": "integer", "default": 30},
                        "newsletter": {"type": "boolean", "default": true}
                    },
                    "required": ["name"]
                }
            }),
        );
        let AskKind::Form { message, form } = &a.kind else { panic!("{a:?}") };
        assert_eq!(message, "Who are you?");
        let mut values = a.initial_values();
        assert_eq!(values.get("/age"), Some(&FieldValue::Text("30".into())));
        let missing = accept_form(form, &values).err().unwrap_or_default();
        assert_eq!(missing.len(), 1, "{missing:?}");
        values.insert("/name".into(), FieldValue::Text("Ada".into()));
        assert_eq!(
            accept_form(form, &values),
            Ok(
                json!({"action": "accept", "content": {"name": "Ada", "age": 30, "newsletter": true}})
            )
        );
    }

    #[test]
    fn url_elicitations_and_decisions_have_their_shapes() {
        let a = ask(
            "elicitation/create",
            json!({"mode": "url", "message": "Authorize", "url": "https://x.test/a", "elicitationId": "e-1"}),
        );
        assert_eq!(
            a.kind,
            AskKind::Url {
                message: "Authorize".into(),
                url: "https://x.test/a".into(),
                elicitation_id: Some("e-1".into())
            }
        );
        assert_eq!(accept_url(), json!({"action": "accept"}));
        assert_eq!(decide(Decision::Decline), json!({"action": "decline"}));
        assert_eq!(decide(Decision::Cancel), json!({"action": "cancel"}));
    }

    #[test]
    fn sampling_shows_the_conversation_and_replies_as_the_assistant() {
        let a = ask(
            "sampling/createMessage",
            json!({
                "systemPrompt": "Be brief.",
                "maxTokens": 100,
                "messages": [
                    {"role": "user", "content": {"type": "text", "text": "Summarize this"}},
                    {"role": "user", "content": [{"type": "image", "data": "AA==", "mimeType": "image/png"}, {"type": "text", "text": "and this"}]}
                ]
            }),
        );
        let AskKind::Sampling { system_prompt, messages, max_tokens } = a.kind else { panic!() };
        assert_eq!(system_prompt.as_deref(), Some("Be brief."));
        assert_eq!(max_tokens, Some(100));
        assert_eq!(messages[0], ("user".into(), "Summarize this".into()));
        assert_eq!(messages[1].1, "[image content]\nand this");
        let reply = sampling_reply("Short.");
        assert_eq!(reply["role"], "assistant");
        assert_eq!(reply["content"]["text"], "Short.");
        assert_eq!(sampling_refused().code, -1);
    }

    #[test]
    fn roots_are_file_uris_with_names() {
        assert_eq!(
            roots_result(&["file:///home/me/project/".into()]),
            json!({"roots": [{"uri": "file:///home/me/project/", "name": "project"}]})
        );
        assert!(check_root("file:///tmp").is_ok());
        assert!(check_root("https://x.test").is_err_and(|e| e.contains("file://")));
        assert!(check_root("not a uri").is_err());
    }

    #[test]
    fn other_requests_and_missing_params_are_handled() {
        assert_eq!(
            Ask::from_request(AskId::Server(RequestId::Number(1)), "roots/list", None),
            None
        );
        let a = Ask::from_request(AskId::Server(RequestId::Number(2)), "elicitation/create", None);
        assert!(matches!(a, Some(Ask { kind: AskKind::Form { .. }, .. })));
        let a = Ask::from_request(
            AskId::Server(RequestId::Number(3)),
            "sampling/createMessage",
            Some(&json!({"messages": 5})),
        );
        assert!(
            matches!(a, Some(Ask { kind: AskKind::Sampling { messages, .. }, .. }) if messages.is_empty())
        );
    }

    #[test]
    fn the_console_declares_what_it_can_answer() {
        let caps = client_capabilities();
        for key in ["roots", "sampling", "elicitation"] {
            assert!(caps.contains_key(key), "{key}");
        }
    }
}
