//! JSON-RPC 2.0 messages as MCP uses them: requests, notifications, responses and error responses,
//! decoded from untrusted text into a typed [`Message`] without ever panicking, and encoded back.
//! Parameters and results stay `serde_json::Value` here; the MCP types in `protocol` give them
//! shape, so unknown fields survive a round trip.

use serde_json::{Map, Value};
use std::fmt;
use thiserror::Error;

/// A request id: JSON-RPC allows a string or a number (MCP forbids null).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestId {
    Number(i64),
    String(String),
}

impl RequestId {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Number(n) => n.as_i64().map(RequestId::Number),
            Value::String(s) => Some(RequestId::String(s.clone())),
            _ => None,
        }
    }

    fn to_value(&self) -> Value {
        match self {
            RequestId::Number(n) => Value::from(*n),
            RequestId::String(s) => Value::from(s.as_str()),
        }
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

/// The `error` member of an error response.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

/// Standard JSON-RPC error codes the console sends or recognises.
pub mod codes {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL_ERROR: i64 = -32603;
}

/// One JSON-RPC message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request { id: RequestId, method: String, params: Option<Value> },
    Notification { method: String, params: Option<Value> },
    Response { id: RequestId, result: Value },
    Error { id: Option<RequestId>, error: RpcError },
}

/// Why a piece of text is not a JSON-RPC message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("the server sent text that is not JSON ({0})")]
    NotJson(String),
    #[error("the server sent JSON that is not a JSON-RPC 2.0 message ({0})")]
    NotJsonRpc(&'static str),
}

impl Message {
    pub fn request(id: RequestId, method: impl Into<String>, params: Option<Value>) -> Self {
        Message::Request { id, method: method.into(), params }
    }

    pub fn notification(method: impl Into<String>, params: Option<Value>) -> Self {
        Message::Notification { method: method.into(), params }
    }

    /// Decodes one HTTP body or SSE `data` field. A JSON array is a batch (allowed by the
    /// 2025-03-26 revision); each element must itself be a message.
    pub fn decode_all(text: &str) -> Result<Vec<Message>, DecodeError> {
        let value: Value = match serde_json::from_str(text) {
            Ok(value) => value,
            // JavaScript strings may hold half of a surrogate pair, which JSON.stringify writes
            // as an escape serde refuses: such a half becomes U+FFFD rather than losing the
            // whole message.
            Err(e) => match without_lone_surrogates(text) {
                Some(mended) => serde_json::from_str(&mended)
                    .map_err(|e| DecodeError::NotJson(e.to_string()))?,
                None => return Err(DecodeError::NotJson(e.to_string())),
            },
        };
        match value {
            Value::Array(items) if items.is_empty() => Err(DecodeError::NotJsonRpc("empty batch")),
            Value::Array(items) => items.into_iter().map(Message::from_value).collect(),
            other => Ok(vec![Message::from_value(other)?]),
        }
    }

    /// Classifies one JSON value as a message.
    pub fn from_value(value: Value) -> Result<Message, DecodeError> {
        let Value::Object(mut obj) = value else {
            return Err(DecodeError::NotJsonRpc("not an object"));
        };
        if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Err(DecodeError::NotJsonRpc("missing \"jsonrpc\": \"2.0\""));
        }
        let id = match obj.get("id") {
            None | Some(Value::Null) => None,
            Some(v) => Some(RequestId::from_value(v).ok_or(DecodeError::NotJsonRpc("bad id"))?),
        };
        if let Some(method) = obj.get("method") {
            let method = method
                .as_str()
                .ok_or(DecodeError::NotJsonRpc("method is not a string"))?
                .to_owned();
            let params = obj.remove("params");
            return Ok(match id {
                Some(id) => Message::Request { id, method, params },
                None => Message::Notification { method, params },
            });
        }
        if let Some(result) = obj.remove("result") {
            let id = id.ok_or(DecodeError::NotJsonRpc("response without id"))?;
            return Ok(Message::Response { id, result });
        }
        if let Some(error) = obj.remove("error") {
            let Value::Object(error) = error else {
                return Err(DecodeError::NotJsonRpc("error is not an object"));
            };
            let code = error
                .get("code")
                .and_then(Value::as_i64)
                .ok_or(DecodeError::NotJsonRpc("error without integer code"))?;
            let message = error.get("message").and_then(Value::as_str).unwrap_or("").to_owned();
            let data = error.get("data").cloned();
            return Ok(Message::Error { id, error: RpcError { code, message, data } });
        }
        Err(DecodeError::NotJsonRpc("neither method, result nor error"))
    }

    /// Encodes the message as the JSON text sent on the wire.
    pub fn encode(&self) -> String {
        let mut obj = Map::new();
        obj.insert("jsonrpc".into(), Value::from("2.0"));
        match self {
            Message::Request { id, method, params } => {
                obj.insert("id".into(), id.to_value());
                obj.insert("method".into(), Value::from(method.as_str()));
                if let Some(p) = params {
                    obj.insert("params".into(), p.clone());
                }
            }
            Message::Notification { method, params } => {
                obj.insert("method".into(), Value::from(method.as_str()));
                if let Some(p) = params {
                    obj.insert("params".into(), p.clone());
                }
            }
            Message::Response { id, result } => {
                obj.insert("id".into(), id.to_value());
                obj.insert("result".into(), result.clone());
            }
            Message::Error { id, error } => {
                obj.insert("id".into(), id.as_ref().map_or(Value::Null, RequestId::to_value));
                let mut e = Map::new();
                e.insert("code".into(), Value::from(error.code));
                e.insert("message".into(), Value::from(error.message.as_str()));
                if let Some(d) = &error.data {
                    e.insert("data".into(), d.clone());
                }
                obj.insert("error".into(), Value::Object(e));
            }
        }
        Value::Object(obj).to_string()
    }

    /// True for a message that expects an answer (a request).
    pub fn is_request(&self) -> bool {
        matches!(self, Message::Request { .. })
    }

    /// The method name of a request or notification.
    pub fn method(&self) -> Option<&str> {
        match self {
            Message::Request { method, .. } | Message::Notification { method, .. } => Some(method),
            _ => None,
        }
    }
}

/// `text` with each `\uXXXX` escape of an unpaired surrogate written as `\ufffd`, or `None`
/// when it has none.
fn without_lone_surrogates(text: &str) -> Option<String> {
    let hex = |at: usize| text.get(at..at + 4).and_then(|h| u16::from_str_radix(h, 16).ok());
    let high = |u: u16| (0xD800..0xDC00).contains(&u);
    let low = |u: u16| (0xDC00..0xE000).contains(&u);
    let bytes = text.as_bytes();
    let (mut out, mut copied, mut mended) = (String::with_capacity(text.len()), 0, false);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        // An escape: `\\` stands for itself; only `\u` is looked at.
        if bytes.get(i + 1) != Some(&b'u') {
            i += 2;
            continue;
        }
        let Some(unit) = hex(i + 2) else {
            i += 2;
            continue;
        };
        let paired = high(unit)
            && bytes.get(i + 6..i + 8) == Some(b"\\u".as_slice())
            && hex(i + 8).is_some_and(low);
        if paired {
            i += 12;
        } else if high(unit) || low(unit) {
            out.push_str(&text[copied..i]);
            out.push_str("\\ufffd");
            (copied, mended) = (i + 6, true);
            i += 6;
        } else {
            i += 6;
        }
    }
    mended.then(|| out + &text[copied..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_a_surrogate_pair_becomes_a_replacement_character_not_a_lost_message() {
        let text = r#"{"jsonrpc":"2.0","id":1,"result":{"a":"x\ud800y","b":"\udc00","c":"\\ud800","d":"\ud83d\ude00"}}"#;
        let messages = Message::decode_all(text).unwrap_or_else(|e| panic!("{e}"));
        let Message::Response { result, .. } = &messages[0] else { panic!("{messages:?}") };
        assert_eq!(result["a"], "x\u{fffd}y");
        assert_eq!(result["b"], "\u{fffd}");
        assert_eq!(result["c"], "\\ud800", "an escaped backslash is text");
        assert_eq!(result["d"], "\u{1f600}", "a whole pair is kept");
        assert!(Message::decode_all(r#"{"jsonrpc":"2.0","id":1,"result":"\ud800"#).is_err());
    }
    use serde_json::json;

    fn one(text: &str) -> Message {
        let mut all = Message::decode_all(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    #[test]
    fn classifies_the_four_kinds() {
        let cases = [
            (r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, "request"),
            (r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, "notification"),
            (r#"{"jsonrpc":"2.0","id":"a","result":{}}"#, "response"),
            (r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"no"}}"#, "error"),
            (r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse"}}"#, "error"),
        ];
        for (text, kind) in cases {
            let got = match one(text) {
                Message::Request { .. } => "request",
                Message::Notification { .. } => "notification",
                Message::Response { .. } => "response",
                Message::Error { .. } => "error",
            };
            assert_eq!(got, kind, "{text}");
        }
    }

    #[test]
    fn encode_then_decode_is_identity_and_keeps_unknown_fields() {
        let messages = [
            Message::request(
                RequestId::Number(7),
                "tools/list",
                Some(json!({"cursor": "c", "x-extra": [1]})),
            ),
            Message::request(RequestId::String("s-1".into()), "ping", None),
            Message::notification(
                "notifications/progress",
                Some(json!({"progress": 1, "_meta": {"k": "v"}})),
            ),
            Message::Response {
                id: RequestId::Number(1),
                result: json!({"tools": [], "future": true}),
            },
            Message::Error {
                id: None,
                error: RpcError {
                    code: codes::PARSE_ERROR,
                    message: "bad".into(),
                    data: Some(json!("x")),
                },
            },
        ];
        for m in messages {
            assert_eq!(one(&m.encode()), m);
        }
    }

    /// Found by the fuzzer: serde_json's default float reading brought this number back one unit
    /// in the last place off, so a value the console relays could change. With
    /// `arbitrary_precision` a number is kept as the text it came as, and read exactly when asked.
    #[test]
    fn large_floats_survive_a_round_trip_exactly() {
        let m = one(r#"{"jsonrpc":"2.0","id":1,"result":92231372033427387903}"#);
        assert_eq!(one(&m.encode()), m);
        let m = one(r#"{"jsonrpc":"2.0","id":1,"result":9.223137203342739e19}"#);
        let Message::Response { result, .. } = &m else { panic!() };
        assert_eq!(result.as_f64(), Some(9.223137203342739e19));
        // Beyond f64 and u64 alike: relayed as sent.
        let exact = r#"{"jsonrpc":"2.0","id":1,"result":[0.10000000000000000000001,123456789012345678901234567890]}"#;
        assert_eq!(one(exact).encode(), exact);
    }

    #[test]
    fn batches_decode_to_several_messages() {
        let all = Message::decode_all(
            r#"[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","id":3,"result":null}]"#,
        )
        .unwrap_or_default();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1], Message::Response { id: RequestId::Number(3), result: Value::Null });
    }

    #[test]
    fn hostile_or_malformed_input_is_an_error_not_a_panic() {
        let bad = [
            "",
            "{",
            "null",
            "[]",
            "[1]",
            r#"{"id":1,"method":"x"}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":{},"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"result":1}"#,
            r#"{"jsonrpc":"2.0","method":5}"#,
            r#"{"jsonrpc":"2.0","result":1}"#,
            r#"{"jsonrpc":"2.0","id":1,"error":"boom"}"#,
            r#"{"jsonrpc":"2.0","id":1,"error":{"message":"no code"}}"#,
            r#"{"jsonrpc":"2.0","id":1}"#,
        ];
        for text in bad {
            assert!(Message::decode_all(text).is_err(), "accepted {text:?}");
        }
    }
}
