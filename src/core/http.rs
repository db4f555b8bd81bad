//! The one shape of an HTTP request the platform performs for `core` — the MCP transport's POSTs,
//! GETs and DELETEs, and the sign-in's metadata GETs and token, registration and revocation
//! POSTs — and the redaction rule: `Debug` never prints an `Authorization` value or a body (a
//! sign-in body holds codes, verifiers, refresh tokens and secrets; a tool call, the person's
//! arguments).

use std::borrow::Cow;
use std::fmt;

pub const AUTHORIZATION_HEADER: &str = "authorization";
pub const CONTENT_TYPE_HEADER: &str = "content-type";
pub const ACCEPT_HEADER: &str = "accept";

/// An HTTP request for the platform to perform.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    /// Lower-case names; most are fixed, `Mcp-Param-*` names come from a tool's schema.
    pub headers: Vec<(Cow<'static, str>, String)>,
    pub body: Option<String>,
}

impl HttpRequest {
    /// The value of header `name` (lower-case), if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = if name.eq_ignore_ascii_case(AUTHORIZATION_HEADER) {
                    "[redacted]"
                } else {
                    value.as_str()
                };
                (name.as_ref(), shown)
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body", &self.body.as_ref().map(|b| format!("[{} bytes]", b.len())))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_bearer_token_or_the_body() {
        let req = HttpRequest {
            method: "POST",
            url: "http://127.0.0.1/mcp".into(),
            headers: vec![(AUTHORIZATION_HEADER.into(), "Bearer s3cr3t-token".into())],
            body: Some("code_verifier=v3r1f13r".into()),
        };
        let shown = format!("{req:?}");
        assert!(!shown.contains("s3cr3t") && !shown.contains("v3r1f13r"), "{shown}");
        assert!(shown.contains("[redacted]") && shown.contains("[22 bytes]"), "{shown}");
        assert_eq!(req.header(AUTHORIZATION_HEADER), Some("Bearer s3cr3t-token"));
        assert_eq!(req.header(ACCEPT_HEADER), None);
    }
}
