//! How Auto finds out which revision a server speaks. The console first asks `server/discover`
//! in the newest stateless revision (2026-07-28); what comes back decides, by the table in
//! [`judge`], whether to use that revision, send again in one the server offers, fall back to the
//! `initialize` handshake of 2025-11-25 and older (and from there, as before, to legacy
//! HTTP+SSE), or stop with a sentence. Sign-in refusals never count as an answer: the engine
//! holds the request until a token comes and asks again.

use crate::core::json::FromJson;
use crate::core::jsonrpc::codes;
use crate::core::protocol::{
    DiscoverResult, HANDSHAKE_VERSIONS, STATELESS_VERSIONS, spoken_versions,
};
use serde_json::Value;

/// A stateless revision's errors (2026-07-28).
pub const HEADER_MISMATCH: i64 = -32020;
pub const MISSING_CLIENT_CAPABILITY: i64 = -32021;
pub const UNSUPPORTED_VERSION: i64 = -32022;

/// What came back to `server/discover`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Probe<'a> {
    /// A result, in a 2xx reply.
    Result(&'a Value),
    /// A JSON-RPC error for the request, whatever the HTTP status.
    Error { code: i64, message: &'a str, data: Option<&'a Value> },
    /// An HTTP error status whose body is not a JSON-RPC error for the request.
    Refused { status: u16 },
    /// No readable reply: the server is down, or the browser refused to send the new headers or
    /// to hand over the reply (CORS).
    Unreachable,
    /// A reply that did not answer it (an empty body, an error without id).
    Unanswered,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The server speaks `version` without a session.
    Stateless { version: String, discovered: Box<DiscoverResult> },
    /// Send the request again in `version`, which the server offered.
    Retry { version: String },
    /// The server predates the stateless revisions: open a session with `initialize`. `why` is
    /// the connection trace's line.
    Handshake { why: String },
    /// Nothing will work; the sentence says why and what to do.
    Fail(String),
}

/// Decides what a reply to `server/discover` means. `retried` is true when this reply answers
/// a request already sent again after an unsupported-version error: a second one ends the
/// negotiation instead of looping.
pub fn judge(probe: Probe, retried: bool) -> Verdict {
    match probe {
        Probe::Result(result) => match DiscoverResult::from_json(result.clone()) {
            Ok(discovered) => match first_stateless(&discovered.supported_versions) {
                Some(version) => Verdict::Stateless { version, discovered: Box::new(discovered) },
                None => Verdict::Handshake {
                    why: format!(
                        "server/discover lists only {}: starting a session with initialize.",
                        discovered.supported_versions.join(", ")
                    ),
                },
            },
            Err(_) => Verdict::Handshake {
                why: "server/discover was answered with something else than a discovery result: starting a session with initialize.".into(),
            },
        },
        Probe::Error { code: UNSUPPORTED_VERSION, data, .. } => match offered(data) {
            None => Verdict::Handshake {
                why: "server/discover was refused as an unsupported version without a list of supported ones: starting a session with initialize.".into(),
            },
            Some(offered) => unsupported(&offered, retried),
        },
        Probe::Error { code: code @ (HEADER_MISMATCH | MISSING_CLIENT_CAPABILITY), message, .. } => {
            Verdict::Fail(format!(
                "The server refused server/discover: {} (JSON-RPC error {code}). It speaks the 2026-07-28 revision but rejected the console's request, which something between the page and the server may have altered (a proxy that drops MCP-Protocol-Version or Mcp-Method); check the server's logs.",
                short(message)
            ))
        }
        Probe::Error { code, .. } => Verdict::Handshake {
            why: match code {
                codes::METHOD_NOT_FOUND => {
                    "server/discover is unknown to the server: starting a session with initialize."
                        .into()
                }
                _ => format!(
                    "server/discover was refused (JSON-RPC error {code}): starting a session with initialize."
                ),
            },
        },
        Probe::Refused { status } => Verdict::Handshake {
            why: format!(
                "server/discover was refused (HTTP {status}): starting a session with initialize."
            ),
        },
        Probe::Unanswered => Verdict::Handshake {
            why: "server/discover got a reply that did not answer it: starting a session with initialize.".into(),
        },
        Probe::Unreachable => Verdict::Handshake {
            why: "server/discover got no readable reply (the server may be down, or may not allow the 2026-07-28 headers MCP-Protocol-Version and Mcp-Method from this page): trying initialize.".into(),
        },
    }
}

/// What to do with an unsupported-version error carrying the server's `offered` revisions, on
/// `server/discover` or any later request.
pub fn unsupported(offered: &[String], retried: bool) -> Verdict {
    match first_stateless(offered) {
        Some(_) if retried => Verdict::Fail(format!(
            "The server refused the revision the console chose from its own list ({}) a second time, so the console stopped asking. The server's version negotiation looks broken; check its logs.",
            offered.join(", ")
        )),
        Some(version) => Verdict::Retry { version },
        None if offered.iter().any(|v| HANDSHAKE_VERSIONS.contains(&v.as_str())) => {
            Verdict::Handshake {
                why: format!(
                    "The server offers only {}: starting a session with initialize.",
                    offered.join(", ")
                ),
            }
        }
        None => Verdict::Fail(format!(
            "The server speaks MCP revisions {}, none of which this console speaks (it speaks {}). Use a server that supports one of those.",
            offered.join(", "),
            spoken_versions()
        )),
    }
}

/// The revisions an unsupported-version error offers (`data.supported`), when it names any.
pub fn offered(data: Option<&Value>) -> Option<Vec<String>> {
    let list = data?.get("supported")?.as_array()?;
    let versions: Option<Vec<String>> =
        list.iter().map(|v| v.as_str().map(str::to_owned)).collect();
    versions.filter(|v| !v.is_empty())
}

/// The newest stateless revision the console speaks among `offered`.
fn first_stateless(offered: &[String]) -> Option<String> {
    STATELESS_VERSIONS.iter().find(|v| offered.iter().any(|o| o == *v)).map(|v| (*v).to_owned())
}

fn short(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn discovered(versions: &[&str]) -> Value {
        json!({
            "resultType": "complete",
            "supportedVersions": versions,
            "capabilities": {"tools": {}},
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "1"}},
        })
    }

    #[test]
    fn a_discovery_result_that_lists_the_stateless_revision_chooses_it() {
        let result = discovered(&["2025-11-25", "2026-07-28"]);
        match judge(Probe::Result(&result), false) {
            Verdict::Stateless { version, discovered } => {
                assert_eq!(version, "2026-07-28");
                assert_eq!(discovered.server_info.name, "s");
                assert!(discovered.capabilities.contains_key("tools"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_server_identity_is_read_from_the_body_when_meta_lacks_it() {
        let result = json!({"supportedVersions": ["2026-07-28"], "serverInfo": {"name": "b", "version": "2"}});
        let Verdict::Stateless { discovered, .. } = judge(Probe::Result(&result), false) else {
            panic!("not stateless")
        };
        assert_eq!(discovered.server_info.name, "b");
    }

    #[test]
    fn a_malformed_meta_or_identity_does_not_undo_the_discovery() {
        for result in [
            json!({"supportedVersions": ["2026-07-28"], "_meta": 5}),
            json!({"supportedVersions": ["2026-07-28"], "_meta": {"io.modelcontextprotocol/serverInfo": "x"}}),
            json!({"supportedVersions": ["2026-07-28"], "serverInfo": {"name": 7}}),
        ] {
            let Verdict::Stateless { discovered, .. } = judge(Probe::Result(&result), false) else {
                panic!("{result}")
            };
            assert_eq!(discovered.server_info.name, "", "{result}");
        }
    }

    #[test]
    fn results_that_do_not_offer_a_stateless_revision_fall_back_to_the_handshake() {
        for result in [
            discovered(&["2025-11-25"]),
            json!({}),
            json!({"supportedVersions": "2026-07-28"}),
            json!({"supportedVersions": [7]}),
            json!([]),
            json!(null),
        ] {
            assert!(
                matches!(judge(Probe::Result(&result), false), Verdict::Handshake { .. }),
                "{result}"
            );
        }
    }

    #[test]
    fn unsupported_version_is_retried_once_in_an_offered_revision() {
        let data = json!({"supported": ["2026-07-28"], "requested": "2026-07-28"});
        let probe = Probe::Error {
            code: UNSUPPORTED_VERSION,
            message: "Unsupported protocol version",
            data: Some(&data),
        };
        assert_eq!(judge(probe, false), Verdict::Retry { version: "2026-07-28".into() });
        assert!(matches!(judge(probe, true), Verdict::Fail(s) if s.contains("second time")));
    }

    #[test]
    fn unsupported_version_offering_only_handshake_revisions_falls_back() {
        let data = json!({"supported": ["2025-06-18"], "requested": "2026-07-28"});
        let probe = Probe::Error { code: UNSUPPORTED_VERSION, message: "", data: Some(&data) };
        assert!(
            matches!(judge(probe, false), Verdict::Handshake { why } if why.contains("2025-06-18"))
        );
    }

    #[test]
    fn unsupported_version_offering_nothing_spoken_is_a_sentence() {
        let data = json!({"supported": ["2099-01-01"], "requested": "2026-07-28"});
        let probe = Probe::Error { code: UNSUPPORTED_VERSION, message: "", data: Some(&data) };
        let Verdict::Fail(sentence) = judge(probe, false) else { panic!("not a failure") };
        assert!(sentence.contains("2099-01-01") && sentence.contains("2026-07-28, 2025-11-25"));
    }

    #[test]
    fn unsupported_version_without_a_usable_list_falls_back() {
        for data in [
            None,
            Some(json!({})),
            Some(json!({"supported": []})),
            Some(json!({"supported": [1]})),
            Some(json!("x")),
        ] {
            let probe =
                Probe::Error { code: UNSUPPORTED_VERSION, message: "", data: data.as_ref() };
            assert!(matches!(judge(probe, false), Verdict::Handshake { .. }), "{data:?}");
        }
    }

    #[test]
    fn a_refused_stateless_request_is_a_sentence_with_the_servers_words() {
        for code in [HEADER_MISMATCH, MISSING_CLIENT_CAPABILITY] {
            let probe = Probe::Error { code, message: "Mcp-Method\u{7} missing", data: None };
            let Verdict::Fail(sentence) = judge(probe, false) else { panic!("not a failure") };
            assert!(sentence.contains(&code.to_string()) && sentence.contains("Mcp-Method"));
        }
    }

    #[test]
    fn older_servers_answers_fall_back_to_the_handshake() {
        for probe in [
            Probe::Error { code: codes::METHOD_NOT_FOUND, message: "", data: None },
            Probe::Error {
                code: -32000,
                message: "Bad Request: Server not initialized",
                data: None,
            },
            Probe::Error { code: -32001, message: "Session not found", data: None },
            Probe::Refused { status: 400 },
            Probe::Refused { status: 404 },
            Probe::Refused { status: 405 },
            Probe::Unanswered,
            Probe::Unreachable,
        ] {
            assert!(matches!(judge(probe, false), Verdict::Handshake { .. }), "{probe:?}");
        }
    }

    #[test]
    fn the_unreachable_line_names_the_headers_a_server_must_allow() {
        let Verdict::Handshake { why } = judge(Probe::Unreachable, false) else { panic!() };
        assert!(why.contains("MCP-Protocol-Version") && why.contains("Mcp-Method"));
    }
}
