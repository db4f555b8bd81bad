//! The Streamable HTTP transport's rules, without doing any HTTP: which headers each POST carries
//! (`Accept`, `Mcp-Session-Id`, `MCP-Protocol-Version`), how a response's status and content type
//! decide how its body is read, and what each failure means to the person at the console.

use crate::core::address::{AddressError, ServerUrl};
use crate::core::http::HttpRequest;
use crate::core::jsonrpc::Message;
use crate::core::mcp_headers::standard_headers;
use crate::core::protocol::request_version;
use std::borrow::Cow;
use thiserror::Error;
use url::Url;

/// Headers the MCP transport uses, lower-cased as the Fetch API reports them.
pub const SESSION_HEADER: &str = "mcp-session-id";
pub const PROTOCOL_HEADER: &str = "mcp-protocol-version";

/// How the body of a successful response must be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// One JSON-RPC message (or batch).
    Json,
    /// A stream of SSE events, each carrying a JSON-RPC message.
    EventStream,
    /// 202 Accepted or similar: nothing to read.
    Empty,
}

/// What went wrong between the console and the server, phrased for the person at the console.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransportError {
    #[error(transparent)]
    InvalidUrl(#[from] AddressError),
    #[error(
        "The browser could not reach {origin}. The server may be down or the address wrong — or the server refused this page's origin (CORS): it must send Access-Control-Allow-Origin for this page, allow the headers Content-Type, Accept, Authorization, Mcp-Session-Id, MCP-Protocol-Version and Last-Event-ID, and expose Mcp-Session-Id, MCP-Protocol-Version and WWW-Authenticate."
    )]
    Unreachable { origin: String },
    #[error(
        "The browser could not reach {origin}. The server may be down or the address wrong — or the server refused this page's origin or headers (CORS): for MCP 2026-07-28 it must send Access-Control-Allow-Origin for this page and allow the headers Content-Type, Accept, Authorization, {headers}."
    )]
    UnreachableStateless { origin: String, headers: String },
    #[error(
        "The legacy SSE stream named a message endpoint on another origin ({0:?}); the console refuses to send messages there."
    )]
    ForeignEndpoint(String),
    #[error(
        "This URL speaks neither Streamable HTTP nor legacy HTTP+SSE (the POST was refused, then the SSE GET got HTTP {status}). Check the URL — it is often /mcp or /sse."
    )]
    NoTransport { status: u16 },
    #[error("The server requires sign-in (HTTP 401); sign in and connect again.")]
    Unauthorized,
    #[error(
        "The server refused access (HTTP 403): the signed-in account lacks permission; ask the server's operator for access or sign in with another account."
    )]
    Forbidden,
    #[error("The server forgot this session (HTTP {status}). Reconnect to start a new one.")]
    SessionExpired { status: u16 },
    #[error("There is no MCP endpoint at this URL (HTTP 404). Check the path — it is often /mcp.")]
    NotFound,
    #[error(
        "The server does not accept MCP messages by POST at this URL (HTTP 405). It may be a legacy SSE endpoint (often /sse)."
    )]
    MethodNotAllowed,
    #[error("The server answered HTTP {status}{detail}. Check the server's logs.")]
    Status { status: u16, detail: String },
    #[error(
        "The server answered with content type {0:?}, not JSON or an event stream. Check that the URL points at an MCP endpoint."
    )]
    UnexpectedContentType(String),
    #[error("The server's reply could not be read: {0}")]
    Malformed(String),
    #[error("The connection to the server broke while reading its reply ({0}). Try again.")]
    Interrupted(String),
}

/// Client side of one Streamable HTTP connection: the endpoint and the session the server gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamableHttp {
    endpoint: Url,
    session_id: Option<String>,
    protocol_version: Option<String>,
}

impl StreamableHttp {
    /// Checks the endpoint URL the user typed.
    pub fn new(endpoint: &str) -> Result<Self, TransportError> {
        let endpoint = ServerUrl::parse(endpoint)?.url().clone();
        Ok(StreamableHttp { endpoint, session_id: None, protocol_version: None })
    }

    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// The origin (scheme, host, port) messages go to, for error messages.
    pub fn origin(&self) -> String {
        crate::core::address::origin_of(&self.endpoint)
    }

    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// Records the negotiated revision; every later request carries it.
    pub fn set_protocol_version(&mut self, version: &str) {
        self.protocol_version = Some(version.to_owned());
    }

    /// The POST that carries `message`. A stateless revision's request names its revision in
    /// `MCP-Protocol-Version` (equal to its `_meta`), carries the standard headers and the
    /// tool's `param_headers` (`Mcp-Param-*`), and no session.
    pub fn post(
        &self,
        message: &Message,
        param_headers: Vec<(Cow<'static, str>, String)>,
    ) -> HttpRequest {
        let mut headers: Vec<(Cow<'static, str>, String)> = vec![
            ("content-type".into(), "application/json".to_owned()),
            ("accept".into(), "application/json, text/event-stream".to_owned()),
        ];
        let stateless = match message {
            Message::Request { method, params, .. } => {
                request_version(params.as_ref()).map(|version| (method, params, version))
            }
            _ => None,
        };
        match stateless {
            Some((method, params, version)) => {
                headers.push((PROTOCOL_HEADER.into(), version.to_owned()));
                headers.extend(standard_headers(method, params.as_ref()));
                headers.extend(param_headers);
            }
            None => self.add_session_headers(&mut headers),
        }
        HttpRequest {
            method: "POST",
            url: self.endpoint.to_string(),
            headers,
            body: Some(message.encode()),
        }
    }

    /// The DELETE that ends the server's session, when there is one to end.
    pub fn delete(&self) -> Option<HttpRequest> {
        self.session_id.as_ref()?;
        let mut headers = Vec::new();
        self.add_session_headers(&mut headers);
        Some(HttpRequest { method: "DELETE", url: self.endpoint.to_string(), headers, body: None })
    }

    fn add_session_headers(&self, headers: &mut Vec<(Cow<'static, str>, String)>) {
        if let Some(id) = &self.session_id {
            headers.push((SESSION_HEADER.into(), id.clone()));
        }
        if let Some(v) = &self.protocol_version {
            headers.push((PROTOCOL_HEADER.into(), v.clone()));
        }
    }

    /// Interprets a response's status line and headers. `session_header` is the response's
    /// `Mcp-Session-Id`, adopted when it arrives (the server assigns it on `initialize`).
    pub fn on_response(
        &mut self,
        status: u16,
        content_type: Option<&str>,
        session_header: Option<&str>,
        body_hint: &str,
    ) -> Result<BodyKind, TransportError> {
        if (200..300).contains(&status) {
            if let Some(id) = session_header.filter(|id| is_visible_ascii(id)) {
                self.session_id = Some(id.to_owned());
            }
            if status == 202 || status == 204 {
                return Ok(BodyKind::Empty);
            }
            let media = content_type
                .and_then(|ct| ct.split(';').next())
                .map(|m| m.trim().to_ascii_lowercase())
                .unwrap_or_default();
            return match media.as_str() {
                "application/json" => Ok(BodyKind::Json),
                "text/event-stream" => Ok(BodyKind::EventStream),
                "" if status == 200 => Ok(BodyKind::Empty),
                other => Err(TransportError::UnexpectedContentType(other.to_owned())),
            };
        }
        let had_session = self.session_id.is_some();
        // server-everything answers 400 "No valid session ID" where the spec says 404.
        let session_gone = had_session
            && (status == 404
                || (status == 400 && body_hint.to_ascii_lowercase().contains("session")));
        if session_gone {
            self.session_id = None;
            self.protocol_version = None;
            return Err(TransportError::SessionExpired { status });
        }
        Err(match status {
            401 => TransportError::Unauthorized,
            403 => TransportError::Forbidden,
            404 => TransportError::NotFound,
            405 => TransportError::MethodNotAllowed,
            _ => TransportError::Status { status, detail: status_detail(body_hint) },
        })
    }
}

/// A short, safe excerpt of an error body to show beside the status.
fn status_detail(body: &str) -> String {
    let clean: String = body.chars().filter(|c| !c.is_control()).take(200).collect();
    let clean = clean.trim();
    if clean.is_empty() { String::new() } else { format!(" ({clean})") }
}

/// Session ids must be visible ASCII (0x21–0x7E) per the transport spec.
fn is_visible_ascii(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::jsonrpc::RequestId;

    fn transport() -> StreamableHttp {
        StreamableHttp::new("http://127.0.0.1:3001/mcp").unwrap_or_else(|e| panic!("{e}"))
    }

    fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
        req.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn only_http_urls_are_accepted() {
        for bad in ["", "ftp://x/mcp", "javascript:alert(1)", "not a url", "http://"] {
            assert!(StreamableHttp::new(bad).is_err(), "{bad}");
        }
        assert!(StreamableHttp::new("  https://example.test/mcp ").is_ok());
    }

    #[test]
    fn first_post_accepts_json_and_sse_and_carries_no_session() {
        let t = transport();
        let req = t.post(&Message::request(RequestId::Number(1), "initialize", None), Vec::new());
        assert_eq!(req.method, "POST");
        assert_eq!(header(&req, "accept"), Some("application/json, text/event-stream"));
        assert_eq!(header(&req, "content-type"), Some("application/json"));
        assert_eq!(header(&req, SESSION_HEADER), None);
        assert_eq!(header(&req, PROTOCOL_HEADER), None);
        assert!(t.delete().is_none(), "no session, nothing to delete");
    }

    #[test]
    fn session_id_and_version_are_sent_once_known() {
        let mut t = transport();
        assert_eq!(
            t.on_response(200, Some("text/event-stream"), Some("abc-123"), ""),
            Ok(BodyKind::EventStream)
        );
        t.set_protocol_version("2025-11-25");
        let req = t.post(&Message::notification("notifications/initialized", None), Vec::new());
        assert_eq!(header(&req, SESSION_HEADER), Some("abc-123"));
        assert_eq!(header(&req, PROTOCOL_HEADER), Some("2025-11-25"));
        let del = t.delete().unwrap_or_else(|| panic!("a session to delete"));
        assert_eq!(del.method, "DELETE");
        assert_eq!(header(&del, SESSION_HEADER), Some("abc-123"));
    }

    #[test]
    fn content_types_decide_how_the_body_is_read() {
        let cases = [
            (200, Some("application/json; charset=utf-8"), Ok(BodyKind::Json)),
            (200, Some("Text/Event-Stream"), Ok(BodyKind::EventStream)),
            (202, None, Ok(BodyKind::Empty)),
            (202, Some("text/plain"), Ok(BodyKind::Empty)),
            (
                200,
                Some("text/html"),
                Err(TransportError::UnexpectedContentType("text/html".into())),
            ),
        ];
        for (status, ct, want) in cases {
            assert_eq!(transport().on_response(status, ct, None, ""), want, "{status} {ct:?}");
        }
    }

    #[test]
    fn a_forgotten_session_is_recognised_as_404_and_as_server_everything_400() {
        for (status, body) in [(404, ""), (400, "Bad Request: No valid session ID provided")] {
            let mut t = transport();
            let _ = t.on_response(200, Some("application/json"), Some("s1"), "");
            assert_eq!(
                t.on_response(status, None, None, body),
                Err(TransportError::SessionExpired { status })
            );
            assert_eq!(t.session_id(), None, "a new initialize must carry no session id");
        }
    }

    #[test]
    fn errors_without_a_session_say_what_to_check() {
        let mut t = transport();
        assert_eq!(t.on_response(404, None, None, ""), Err(TransportError::NotFound));
        assert_eq!(t.on_response(405, None, None, ""), Err(TransportError::MethodNotAllowed));
        assert_eq!(t.on_response(401, None, None, ""), Err(TransportError::Unauthorized));
        let Err(e) = t.on_response(500, None, None, "oops\u{0}\u{1b}[31m") else { panic!() };
        assert_eq!(
            e.to_string(),
            "The server answered HTTP 500 (oops[31m). Check the server's logs."
        );
    }

    #[test]
    fn invisible_session_ids_are_not_adopted() {
        let mut t = transport();
        let _ = t.on_response(200, Some("application/json"), Some("bad id\n"), "");
        assert_eq!(t.session_id(), None);
    }
}
