//! The MCP vocabulary the console speaks: protocol revisions and their negotiation, the
//! `initialize` exchange, tools and their results (content blocks of every kind), resources,
//! resource templates and prompts. Every struct keeps the fields it does not know — `_meta`,
//! annotations, icons, a newer revision's additions — in `extra`, so they are carried, not
//! rejected; content blocks of an unknown type are kept whole.

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

/// One block of content in a tool result, a prompt message or a sampling message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ContentBlock {
    Known(KnownBlock),
    /// A block of a type this console does not know yet, kept as it came.
    Other(Value),
}

/// The content block types of the 2025-11-25 schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KnownBlock {
    Text {
        text: String,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    Image {
        data: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    Audio {
        data: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    ResourceLink {
        uri: String,
        #[serde(default)]
        name: String,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// An embedded resource: `resource` holds `uri` and either `text` or `blob`.
    Resource {
        resource: ResourceContents,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
}

/// The contents of a resource, as `resources/read` and embedded resources carry them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceContents {
    pub uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The result of `tools/call`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    #[serde(default)]
    pub content: Vec<ContentBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A resource as `resources/list` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub uri: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A resource template (RFC 6570 URI template) as `resources/templates/list` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTemplate {
    pub uri_template: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A prompt as `prompts/list` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Prompt {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Vec<PromptArgument>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One argument of a prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptArgument {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The result of `resources/read`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadResourceResult {
    #[serde(default)]
    pub contents: Vec<ResourceContents>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One message of a prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptMessage {
    pub role: String,
    pub content: ContentBlock,
}

/// The result of `prompts/get`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetPromptResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub messages: Vec<PromptMessage>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Prompt {
    /// A JSON Schema for the prompt's arguments (all strings, as MCP defines them), so the same
    /// form machinery serves prompts and tools.
    pub fn arguments_schema(&self) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for arg in self.arguments.iter().flatten() {
            let mut schema = Map::new();
            schema.insert("type".into(), Value::from("string"));
            if let Some(d) = &arg.description {
                schema.insert("description".into(), Value::from(d.as_str()));
            }
            properties.insert(arg.name.clone(), Value::Object(schema));
            if arg.required == Some(true) {
                required.push(Value::from(arg.name.as_str()));
            }
        }
        json!({ "type": "object", "properties": properties, "required": required })
    }
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

    /// Real answers recorded from server-everything (tests/fixtures): every one parses into the
    /// typed shapes and serializes back to exactly what the server sent.
    #[test]
    fn recorded_server_answers_survive_typing_unchanged() {
        let text = include_str!("../../tests/fixtures/everything-2026.8.31.json");
        let fixture: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        fn round_trip<T: serde::de::DeserializeOwned + Serialize>(what: &str, v: &Value) -> T {
            let typed: T =
                serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(serde_json::to_value(&typed).ok().as_ref(), Some(v), "{what} changed");
            typed
        }
        let tools = fixture["tools"]["tools"].as_array().cloned().unwrap_or_default();
        assert!(tools.len() >= 10);
        for t in &tools {
            round_trip::<Tool>("tool", t);
        }
        let mut kinds = std::collections::BTreeSet::new();
        let calls = fixture["calls"].as_object().cloned().unwrap_or_default();
        for (name, result) in &calls {
            let typed: CallToolResult = round_trip(name, result);
            for block in typed.content {
                let ContentBlock::Known(block) = block else { panic!("{name}: unknown block") };
                kinds.insert(match block {
                    KnownBlock::Text { .. } => "text",
                    KnownBlock::Image { .. } => "image",
                    KnownBlock::Audio { .. } => "audio",
                    KnownBlock::ResourceLink { .. } => "resource_link",
                    KnownBlock::Resource { .. } => "resource",
                });
            }
        }
        assert_eq!(
            kinds.into_iter().collect::<Vec<_>>(),
            ["image", "resource", "resource_link", "text"]
        );
        for r in fixture["resources"]["resources"].as_array().cloned().unwrap_or_default() {
            round_trip::<Resource>("resource", &r);
        }
        for p in fixture["prompts"]["prompts"].as_array().cloned().unwrap_or_default() {
            round_trip::<Prompt>("prompt", &p);
        }
    }

    #[test]
    fn prompt_arguments_become_a_string_schema() {
        let fixture: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/everything-2026.8.31.json"))
                .unwrap_or_else(|e| panic!("{e}"));
        let prompts: Vec<Prompt> = serde_json::from_value(fixture["prompts"]["prompts"].clone())
            .unwrap_or_else(|e| panic!("{e}"));
        let args = prompts.iter().find(|p| p.name == "args-prompt").map(Prompt::arguments_schema);
        assert_eq!(
            args,
            Some(json!({"type": "object", "properties": {
                "city": {"type": "string", "description": "Name of the city"},
                "state": {"type": "string"}
            }, "required": ["city"]}))
        );
        let simple =
            prompts.iter().find(|p| p.name == "simple-prompt").map(Prompt::arguments_schema);
        assert_eq!(simple, Some(json!({"type": "object", "properties": {}, "required": []})));
    }

    #[test]
    fn read_and_prompt_results_parse() {
        let read: ReadResourceResult = serde_json::from_value(json!({"contents": [
            {"uri": "a://1", "mimeType": "text/plain", "text": "hi"}, {"uri": "a://2", "blob": "AAAA"}
        ]}))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read.contents[0].text.as_deref(), Some("hi"));
        let got: GetPromptResult = serde_json::from_value(json!({"messages": [
            {"role": "user", "content": {"type": "text", "text": "Hello"}}
        ]}))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got.messages[0].role, "user");
    }

    #[test]
    fn unknown_content_blocks_are_kept_whole() {
        let raw = json!({"content": [{"type": "hologram", "frames": 3}, {"type": "text", "text": "t", "_meta": {"k": 1}}], "isError": false});
        let r: CallToolResult =
            serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(&r.content[0], ContentBlock::Other(v) if v["frames"] == 3));
        assert!(
            matches!(&r.content[1], ContentBlock::Known(KnownBlock::Text { extra, .. }) if extra.contains_key("_meta"))
        );
        assert_eq!(serde_json::to_value(&r).ok(), Some(raw));
    }

    #[test]
    fn blank_title_falls_back_to_name() {
        let tool: Tool = serde_json::from_value(json!({"name": "n", "title": "  "}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tool.display_name(), "n");
    }
}
