//! The trace of the last sign-in, for the Auth view and Copy trace: every URL asked with its
//! status, the authorization request and the token endpoint's answers. It shows an allow-list:
//! of an answer's members only the named harmless ones with their values, the known secrets by
//! name as `[redacted]`, nothing nested and nothing else; of the authorization URL only the
//! parameters the console sets, with `state`, `nonce` and `code_challenge` redacted. A secret the
//! console has never heard of therefore cannot appear either.

use crate::core::auth::challenge;

use serde_json::{Map, Value};
use url::Url;

/// Members shown with their values: what the person needs to understand an answer.
const SHOWN: [&str; 21] = [
    "token_type",
    "expires_in",
    "ext_expires_in",
    "scope",
    "error",
    "error_description",
    "error_codes",
    "error_uri",
    "timestamp",
    "trace_id",
    "correlation_id",
    "client_id",
    "client_name",
    "client_id_issued_at",
    "client_secret_expires_at",
    "token_endpoint_auth_method",
    "grant_types",
    "response_types",
    "redirect_uris",
    "application_type",
    "suberror",
];
/// Members whose presence is worth knowing but whose value is a secret.
const REDACTED: [&str; 5] =
    ["access_token", "refresh_token", "id_token", "client_secret", "registration_access_token"];
/// Query parameters of an authorization URL shown as they are.
const SHOWN_PARAMETERS: [&str; 9] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "code_challenge_method",
    "resource",
    "prompt",
    "login_hint",
    "claims",
];
const REDACTED_PARAMETERS: [&str; 3] = ["state", "nonce", "code_challenge"];
const MARK: &str = "[redacted]";
/// Longer values are cut: a hostile server's text stays readable and bounded.
const MAX_VALUE: usize = 300;

/// One step of the last sign-in; never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceLine {
    pub step: String,
    pub detail: String,
}

impl TraceLine {
    pub fn new(step: impl Into<String>, detail: impl Into<String>) -> TraceLine {
        TraceLine { step: step.into(), detail: detail.into() }
    }
}

/// The trace as text to copy.
pub fn trace_text(lines: &[TraceLine]) -> String {
    lines.iter().map(|l| format!("{}: {}\n", l.step, l.detail)).collect()
}

fn scalar(value: &Value) -> bool {
    !matches!(value, Value::Object(_) | Value::Array(_))
}

fn clipped(value: Value) -> Value {
    match value {
        Value::String(text) if text.chars().count() > MAX_VALUE => {
            Value::from(format!("{}…", text.chars().take(MAX_VALUE).collect::<String>()))
        }
        other => other,
    }
}

/// A JSON answer (token, registration or revocation endpoint) as the trace shows it: see the
/// module's allow-list. Other text is described, not shown.
pub fn shown_answer(body: &[u8]) -> String {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return format!("({} bytes, not a JSON object)", body.len());
    };
    let mut shown = Map::new();
    let mut hidden = 0;
    for (name, value) in map {
        if REDACTED.contains(&name.as_str()) {
            shown.insert(name, Value::from(MARK));
        } else if SHOWN.contains(&name.as_str()) {
            let value = match value {
                Value::Array(items) if items.iter().all(scalar) => {
                    Value::Array(items.into_iter().map(clipped).collect())
                }
                v if scalar(&v) => clipped(v),
                _ => Value::from("…"),
            };
            shown.insert(name, value);
        } else {
            hidden += 1;
        }
    }
    let text = Value::Object(shown).to_string();
    if hidden == 0 { text } else { format!("{text} (+{hidden} more members not shown)") }
}

/// An answer as the trace shows it: its status and the allow-listed body, or that none came.
pub fn shown_reply(reply: Result<(u16, &[u8]), &str>) -> String {
    match reply {
        Ok((status, body)) => format!("HTTP {status}: {}", shown_answer(body)),
        Err(reason) => format!("no response: {reason}"),
    }
}

/// A server's `WWW-Authenticate` as the trace shows it: of a Bearer challenge its `error`,
/// `error_description`, `scope` and `resource_metadata`, and whether it carries a claims
/// challenge; of any other, only its scheme. A server could echo anything there.
pub fn shown_challenge(header: Option<&str>) -> String {
    let Some(header) = header else { return "(no WWW-Authenticate)".to_owned() };
    let Some(bearer) = challenge::bearer(header) else {
        let schemes: Vec<String> = challenge::parse(header).into_iter().map(|c| c.scheme).collect();
        return format!("no Bearer challenge (schemes: {})", schemes.join(", "));
    };
    let clip = |text: &str| clipped(Value::from(text)).as_str().unwrap_or_default().to_owned();
    let mut shown = vec!["Bearer".to_owned()];
    let fields = [
        ("error", bearer.error.clone()),
        ("error_description", bearer.error_description.clone()),
        ("scope", bearer.scope.map(|s| s.join(" "))),
        ("resource_metadata", bearer.resource_metadata),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            shown.push(format!("{name}=\"{}\"", clip(&value)));
        }
    }
    if bearer.claims.is_some() {
        shown.push("claims=(a claims challenge)".to_owned());
    }
    shown.join(" ")
}

/// An authorization URL as the trace shows it: the parameters the console sets, with `state`,
/// `nonce` and `code_challenge` as `[redacted]`; anything else is left out.
pub fn shown_authorization_url(url: &Url) -> String {
    let mut shown = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter_map(|(k, v)| {
            if REDACTED_PARAMETERS.contains(&k.as_ref()) {
                Some((k.into_owned(), MARK.to_owned()))
            } else if SHOWN_PARAMETERS.contains(&k.as_ref()) {
                Some((k.into_owned(), v.into_owned()))
            } else {
                None
            }
        })
        .collect();
    shown.set_fragment(None);
    shown.query_pairs_mut().clear().extend_pairs(pairs);
    shown.to_string().replace("%5Bredacted%5D", MARK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing::url;

    #[test]
    fn an_answer_shows_its_allowed_members_and_no_secret_nested_or_unknown() {
        let body = br#"{"access_token":"AT","refresh_token":"RT","id_token":"IT","expires_in":10,
            "scope":"a","token_type":"Bearer","foo_token":"FT","nested":{"access_token":"NT"},
            "error_codes":[1,2],"redirect_uris":[{"x":"OBJ"}]}"#;
        let shown = shown_answer(body);
        for secret in ["AT", "RT", "IT", "FT", "NT", "OBJ", "foo_token", "nested"] {
            assert!(!shown.contains(&format!("\"{secret}\"")), "{secret}: {shown}");
        }
        assert!(
            shown.contains("\"expires_in\":10") && shown.contains("\"error_codes\":[1,2]"),
            "{shown}"
        );
        assert!(shown.contains("\"access_token\":\"[redacted]\""), "{shown}");
        assert!(shown.ends_with("(+2 more members not shown)"), "{shown}");
        assert_eq!(shown_answer(b"<html>"), "(6 bytes, not a JSON object)");
    }

    /// Attack 5: a registration answer's access token reached the Auth view, the clipboard and
    /// sessionStorage through a deny-list of four fields.
    #[test]
    fn a_registration_access_token_never_shows() {
        let body = br#"{"client_id":"c9","registration_access_token":"RAT-secret","registration_client_uri":"https://as/reg/c9?token=RCU-secret","client_secret":"CS-secret"}"#;
        let shown = shown_answer(body);
        for secret in ["RAT-secret", "RCU-secret", "CS-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("\"client_id\":\"c9\""), "{shown}");
    }

    #[test]
    fn an_authorization_url_shows_what_the_console_set_with_secrets_redacted() {
        let auth = url(
            "http://as/authorize?response_type=code&state=S3&code_challenge=CC&nonce=N1&scope=a+b&extra=E1#frag",
        );
        let shown = shown_authorization_url(&auth);
        for secret in ["S3", "CC", "N1", "E1", "frag"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("state=[redacted]") && shown.contains("scope=a+b"), "{shown}");
        let long = format!("{{\"error_description\":\"{}\"}}", "x".repeat(1000));
        assert!(shown_answer(long.as_bytes()).len() < 400);
        let challenge = shown_challenge(Some(
            r#"Bearer error="invalid_token", scope="a b", leak="AT-secret", claims="e30""#,
        ));
        assert_eq!(
            challenge,
            r#"Bearer error="invalid_token" scope="a b" claims=(a claims challenge)"#
        );
        assert_eq!(
            shown_challenge(Some("Basic realm=\"x\", token=secret")),
            "no Bearer challenge (schemes: Basic)"
        );
        assert_eq!(shown_challenge(None), "(no WWW-Authenticate)");
        assert_eq!(shown_reply(Err("down")), "no response: down");
        let lines = [TraceLine::new("GET x", "404"), TraceLine::new("token", "ok")];
        assert_eq!(trace_text(&lines), "GET x: 404\ntoken: ok\n");
    }
}
