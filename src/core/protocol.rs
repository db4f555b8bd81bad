//! The MCP vocabulary the console speaks: protocol revisions and their negotiation, the
//! `initialize` exchange, and the shapes of listed tools. Every struct keeps the fields it does not
//! know in `extra`, so a newer server's additions are carried, not rejected.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Protocol revisions the console supports, newest first. The first is offered in `initialize`.
pub const SUPPORTED_VERSIONS: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// The revision offered to servers.
pub const LATEST_VERSION: &str = SUPPORTED_VERSIONS[0];

/// True when the console can speak `version`.
pub fn is_supported(version: &str) -> bool {
    SUPPORTED_VERSIONS.contains(&version)
}

/// Name and version of a client or server (`Implementation` in the schema).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Implementation {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The console's own identity, sent in `initialize`.
pub fn client_info() -> Implementation {
    Implementation {
        name: "mcp-console".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        title: Some("MCP Console".into()),
        extra: Map::new(),
    }
}

/// Parameters of the `initialize` request: the newest revision, our identity and the client
/// capabilities the console can honour today.
pub fn initialize_params() -> Value {
    json!({
        "protocolVersion": LATEST_VERSION,
        "capabilities": {},
        "clientInfo": client_info(),
    })
}

/// The result of `initialize`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeResult {
    pub protocol_version: String,
    #[serde(default)]
    pub capabilities: Map<String, Value>,
    #[serde(default)]
    pub server_info: Implementation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A tool as `tools/list` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub input_schema: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Tool {
    /// What a person should read first: the title when the server gave one, else the name.
    pub fn display_name(&self) -> &str {
        self.title.as_deref().filter(|t| !t.trim().is_empty()).unwrap_or(&self.name)
    }
}

/// One page of `tools/list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListToolsResult {
    pub tools: Vec<Tool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_revision_of_the_spec_is_supported_and_others_are_not() {
        for v in ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"] {
            assert!(is_supported(v), "{v}");
        }
        for v in ["2024-10-07", "", "2025-11-25 ", "latest"] {
            assert!(!is_supported(v), "{v}");
        }
    }

    #[test]
    fn initialize_offers_the_newest_revision() {
        let p = initialize_params();
        assert_eq!(p["protocolVersion"], LATEST_VERSION);
        assert_eq!(p["clientInfo"]["name"], "mcp-console");
    }

    #[test]
    fn tools_keep_unknown_fields_and_survive_a_round_trip() {
        let raw = json!({
            "name": "add",
            "description": "Adds",
            "inputSchema": {"type": "object"},
            "outputSchema": {"type": "object"},
            "icons": [{"src": "data:,"}],
            "_meta": {"x": 1}
        });
        let tool: Tool = serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tool.display_name(), "add");
        assert!(tool.extra.contains_key("icons"));
        assert_eq!(serde_json::to_value(&tool).ok(), Some(raw));
    }

    #[test]
    fn blank_title_falls_back_to_name() {
        let tool: Tool = serde_json::from_value(json!({"name": "n", "title": "  "}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tool.display_name(), "n");
    }
}
