//! The MCP vocabulary the console speaks: protocol revisions and their negotiation, the
//! `initialize` exchange, tools and their results (content blocks of every kind), resources,
//! resource templates and prompts. Every struct keeps the fields it does not know — `_meta`,
//! annotations, icons, a newer revision's additions — in `extra`, so they are carried, not
//! rejected; content blocks of an unknown type are kept whole.

use crate::core::json::{Fields, FromJson, Malformed};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Revisions without a handshake or a session, newest first: every request names its revision
/// and the client's capabilities in `_meta`, and `server/discover` tells what the server speaks.
pub const STATELESS_VERSIONS: [&str; 1] = ["2026-07-28"];

/// Revisions that open a session with `initialize`, newest first. The first is offered.
pub const HANDSHAKE_VERSIONS: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// The revision offered in `initialize`.
pub const LATEST_VERSION: &str = HANDSHAKE_VERSIONS[0];

/// True when `initialize` may settle on `version`.
pub fn is_supported(version: &str) -> bool {
    HANDSHAKE_VERSIONS.contains(&version)
}

/// Every revision the console speaks, newest first, for sentences.
pub fn spoken_versions() -> String {
    STATELESS_VERSIONS.iter().chain(&HANDSHAKE_VERSIONS).copied().collect::<Vec<_>>().join(", ")
}

/// The `_meta` keys of a stateless revision's request, and the server's identity in a result's.
pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
/// The log level a stateless request asks for (none: no log lines for it).
pub const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";

/// Writes what a stateless request must carry into `params._meta` (created when missing; a
/// `_meta` that is not an object is replaced).
pub fn add_request_meta(
    params: &mut Map<String, Value>,
    version: &str,
    capabilities: &Map<String, Value>,
) {
    let meta = params.entry("_meta").or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    if let Value::Object(meta) = meta {
        meta.insert(META_PROTOCOL_VERSION.into(), Value::from(version));
        meta.insert(META_CLIENT_CAPABILITIES.into(), Value::Object(capabilities.clone()));
        meta.insert(META_CLIENT_INFO.into(), json!(client_info()));
    }
}

/// The revision a message's `_meta` names, when it is a stateless revision's request.
pub fn request_version(params: Option<&Value>) -> Option<&str> {
    params?.get("_meta")?.get(META_PROTOCOL_VERSION)?.as_str()
}

/// Name and version of a client or server (`Implementation` in the schema).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Implementation {
    pub name: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeResult {
    pub protocol_version: String,
    pub capabilities: Map<String, Value>,
    pub server_info: Implementation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The result of `server/discover` (2026-07-28): the revisions, capabilities and identity of a
/// stateless server. The identity is in `_meta` by the revision and in the body by some servers.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoverResult {
    pub supported_versions: Vec<String>,
    pub capabilities: Map<String, Value>,
    pub server_info: Implementation,
    pub instructions: Option<String>,
}

/// A tool as `tools/list` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub input_schema: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a tool declares of itself (`annotations`), each hint true only when declared so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hints {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

/// Image types an icon may have; anything else (an HTML page, say) is not shown.
const ICON_TYPES: [&str; 5] =
    ["image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"];

impl Tool {
    /// What a person should read first: the title when the server gave one, else the name.
    pub fn display_name(&self) -> &str {
        self.title.as_deref().filter(|t| !t.trim().is_empty()).unwrap_or(&self.name)
    }

    /// The hints the tool declares. One it leaves out counts as not given: the spec's defaults
    /// (destructive and open-world) would make every undeclared tool ask before it runs.
    pub fn hints(&self) -> Hints {
        let hint = |name: &str| {
            self.annotations.as_ref().and_then(|a| a.get(name)).and_then(Value::as_bool)
                == Some(true)
        };
        let read_only = hint("readOnlyHint");
        Hints {
            read_only,
            // Meaningful only for a tool that changes something.
            destructive: !read_only && hint("destructiveHint"),
            idempotent: hint("idempotentHint"),
            open_world: hint("openWorldHint"),
        }
    }

    /// Whether the person is asked before it runs: it declares it may destroy something, or
    /// reach outside the server (the open world).
    pub fn needs_confirmation(&self) -> bool {
        let hints = self.hints();
        hints.destructive || hints.open_world
    }

    /// The tool's icon, when it comes inside the answer as a `data:` URL of an image type; an
    /// icon elsewhere is not fetched (a server could learn who opened the console, and when).
    pub fn icon(&self) -> Option<&str> {
        let icons = self.extra.get("icons")?.as_array()?;
        icons.iter().filter_map(|i| i.get("src")?.as_str()).find(|src| {
            let Some(rest) = src.strip_prefix("data:") else { return false };
            let mime = rest.split([';', ',']).next().unwrap_or_default();
            ICON_TYPES.contains(&mime) && rest.contains(";base64,")
        })
    }
}

/// One block of content in a tool result, a prompt message or a sampling message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ContentBlock {
    Known(KnownBlock),
    /// A block of a type this console does not know yet, kept as it came.
    Other(Value),
}

/// The content block types of the 2025-11-25 schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceContents {
    pub uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The result of `tools/call`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    pub content: Vec<ContentBlock>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A resource as `resources/list` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub uri: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A resource template as `resources/templates/list` describes it: an RFC 6570 template whose
/// variables the person fills in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTemplate {
    pub uri_template: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A prompt as `prompts/list` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prompt {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Vec<PromptArgument>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One argument of a prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromptArgument {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The result of `resources/read`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadResourceResult {
    pub contents: Vec<ResourceContents>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One message of a prompt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromptMessage {
    pub role: String,
    pub content: ContentBlock,
}

/// The result of `prompts/get`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GetPromptResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub messages: Vec<PromptMessage>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// Readers: what serde's derive did, by hand (see `core::json`). Each takes its known members
// and keeps the others in `extra`; a member of the wrong type fails the whole value.

impl FromJson for Implementation {
    fn from_json(value: Value) -> Result<Self, Malformed> {
        let mut f = Fields::of(value, "serverInfo")?;
        Ok(Implementation {
            name: f.string_or_empty("name")?,
            version: f.string_or_empty("version")?,
            title: f.optional_string("title")?,
            extra: f.rest(),
        })
    }
}

impl FromJson for InitializeResult {
    fn from_json(value: Value) -> Result<Self, Malformed> {
        let mut f = Fields::of(value, "result")?;
        Ok(InitializeResult {
            protocol_version: f.string("protocolVersion")?,
            capabilities: f.object_or_empty("capabilities")?,
            server_info: match f.take("serverInfo") {
                Some(info) => Implementation::from_json(info)?,
                None => Implementation::default(),
            },
            instructions: f.optional_string("instructions")?,
            extra: f.rest(),
        })
    }
}

impl FromJson for DiscoverResult {
    fn from_json(value: Value) -> Result<Self, Malformed> {
        let mut f = Fields::of(value, "result")?;
        let supported_versions =
            f.optional_strings("supportedVersions")?.ok_or(Malformed("supportedVersions"))?;
        let capabilities = f.object_or_empty("capabilities")?;
        let instructions = f.optional_string("instructions")?;
        let from_meta =
            f.take("_meta").and_then(|mut m| m.get_mut(META_SERVER_INFO).map(Value::take));
        // Who answered is for show: a malformed identity is shown as none, not a failed discovery.
        let server_info = from_meta
            .or_else(|| f.take("serverInfo"))
            .and_then(|info| Implementation::from_json(info).ok())
            .unwrap_or_default();
        Ok(DiscoverResult { supported_versions, capabilities, server_info, instructions })
    }
}

impl FromJson for Tool {
    fn from_json(value: Value) -> Result<Self, Malformed> {
        let mut f = Fields::of(value, "tool")?;
        Ok(Tool {
            name: f.string("name")?,
            title: f.optional_string("title")?,
            description: f.optional_string("description")?,
            input_schema: f.take("inputSchema").unwrap_or_default(),
            output_schema: f.optional("outputSchema"),
            annotations: f.optional("annotations"),
            extra: f.rest(),
        })
    }
}

impl FromJson for ContentBlock {
    /// A block of a known type with the members it needs is [`ContentBlock::Known`]; anything
    /// else is kept whole.
    fn from_json(value: Value) -> Result<Self, Malformed> {
        Ok(match KnownBlock::from_json(value.clone()) {
            Ok(known) => ContentBlock::Known(known),
            Err(_) => ContentBlock::Other(value),
        })
    }
}

impl FromJson for KnownBlock {
    fn from_json(value: Value) -> Result<Self, Malformed> {
        let mut f = Fields::of(value, "content")?;
        let kind = f.string("type")?;
        Ok(match kind.as_str() {
            "text" => KnownBlock::Text { text: f.string("text")?, extra: f.rest() },
            "image" => KnownBlock::Image {
                data: f.string("data")?,
                mime_type: f.string("mimeType")?,
                extra: f.rest(),
            },
            "audio" => KnownBlock::Audio {
                data: f.string("data")?,
                mime_type: f.string("mimeType")?,
                extra: f.rest(),
            },
            "resource_link" => KnownBlock::ResourceLink {
                uri: f.string("uri")?,
                name: f.string_or_empty("name")?,
                extra: f.rest(),
            },
            "resource" => KnownBlock::Resource {
                resource: ResourceContents::from_json(f.take("resource").unwrap_or_default())?,
                extra: f.rest(),
            },
            _ => return Err(Malformed("type")),
        })
    }
}

impl FromJson for ResourceContents {
    fn from_json(value: Value) -> Result<Self, Malformed> {
        let mut f = Fields::of(value, "resource")?;
        Ok(ResourceContents {
            uri: f.string("uri")?,
            mime_type: f.optional_string("mimeType")?,
            text: f.optional_string("text")?,
            blob: f.optional_string("blob")?,
            extra: f.rest(),
        })
    }
}

impl FromJson for CallToolResult {
    fn from_json(value: Value) -> Result<Self, Malformed> {
        let mut f = Fields::of(value, "result")?;
        Ok(CallToolResult {
            content: f.list("content", ContentBlock::from_json)?,
            structured_content: f.optional("structuredContent"),
            is_error: f.optional_bool("isError")?,
            extra: f.rest(),
        })
    }
}

impl FromJson for Resource {
    fn from_json(value: Value) -> Result<Self, Malformed> {
        let mut f = Fields::of(value, "resource")?;
        Ok(Resource {
            uri: f.string("uri")?,
            name: f.string_or_empty("name")?,
            title: f.optional_string("title")?,
            description: f.optional_string("description")?,
            mime_type: f.optional_string("mimeType")?,
            extra: f.rest(),
        })
    }
}

impl FromJson for ResourceTemplate {
    fn from_json(value: Value) -> Result<Self, Malformed> {
        let mut f = Fields::of(value, "resource template")?;
        Ok(ResourceTemplate {
            uri_template: f.string("uriTemplate")?,
            name: f.string_or_empty("name")?,
            title: f.optional_string("title")?,
            description: f.optional_string("description")?,
            extra: f.rest(),
        })
    }
}

impl FromJson for Prompt {
    fn from_json(value: Value) -> Result<Self, Malformed> {
        let mut f = Fields::of(value, "prompt")?;
        Ok(Prompt {
            name: f.string("name")?,
            title: f.optional_string("title")?,
            description: f.optional_string("description")?,
            arguments: f.optional_list("arguments", PromptArgument::from_json)?,
            extra: f.rest(),
        })
    }
}

impl FromJson for PromptArgument {
    fn from_json(value: Value) -> Result<Self, Malformed> {
        let mut f = Fields::of(value, "argument")?;
        Ok(PromptArgument {
            name: f.string("name")?,
            description: f.optional_string("description")?,
            required: f.optional_bool("required")?,
            extra: f.rest(),
        })
    }
}

impl FromJson for ReadResourceResult {
    fn from_json(value: Value) -> Result<Self, Malformed> {
        let mut f = Fields::of(value, "result")?;
        Ok(ReadResourceResult {
            contents: f.list("contents", ResourceContents::from_json)?,
            extra: f.rest(),
        })
    }
}

impl FromJson for PromptMessage {
    fn from_json(value: Value) -> Result<Self, Malformed> {
        let mut f = Fields::of(value, "message")?;
        Ok(PromptMessage {
            role: f.string("role")?,
            content: ContentBlock::from_json(f.take("content").ok_or(Malformed("content"))?)?,
        })
    }
}

impl FromJson for GetPromptResult {
    fn from_json(value: Value) -> Result<Self, Malformed> {
        let mut f = Fields::of(value, "result")?;
        Ok(GetPromptResult {
            description: f.optional_string("description")?,
            messages: f.list("messages", PromptMessage::from_json)?,
            extra: f.rest(),
        })
    }
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
    fn hints_count_only_when_declared_and_icons_only_inline() {
        let tool = |v: Value| Tool::from_json(v).unwrap_or_else(|e| panic!("{e}"));
        let bare = tool(json!({"name": "t"}));
        assert_eq!((bare.hints(), bare.needs_confirmation()), (Hints::default(), false));
        let rm = tool(
            json!({"name": "rm", "annotations": {"destructiveHint": true, "idempotentHint": true}}),
        );
        assert!(rm.needs_confirmation() && rm.hints().idempotent);
        let read = tool(
            json!({"name": "r", "annotations": {"readOnlyHint": true, "destructiveHint": true}}),
        );
        assert!(!read.needs_confirmation(), "destructive means nothing for a read-only tool");
        let web = tool(
            json!({"name": "w", "annotations": {"openWorldHint": true, "readOnlyHint": true}}),
        );
        assert!(web.needs_confirmation());
        let icons = tool(json!({"name": "i", "icons": [
            {"src": "https://tracker.example/pixel.png"},
            {"src": "data:text/html;base64,PHNjcmlwdD4="},
            {"src": "data:image/svg+xml;base64,PHN2Zy8+"},
        ]}));
        assert_eq!(icons.icon(), Some("data:image/svg+xml;base64,PHN2Zy8+"));
        assert_eq!(tool(json!({"name": "n", "icons": "x"})).icon(), None);
    }

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
        let tool = Tool::from_json(raw.clone()).unwrap_or_else(|e| panic!("{e}"));
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
        fn round_trip<T: FromJson + Serialize>(what: &str, v: &Value) -> T {
            let typed = T::from_json(v.clone()).unwrap_or_else(|e| panic!("{what}: {e}"));
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
        let prompts: Vec<Prompt> = Fields::of(fixture["prompts"].clone(), "prompts")
            .and_then(|mut f| f.list("prompts", Prompt::from_json))
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
        let read = ReadResourceResult::from_json(json!({"contents": [
            {"uri": "a://1", "mimeType": "text/plain", "text": "hi"}, {"uri": "a://2", "blob": "AAAA"}
        ]}))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read.contents[0].text.as_deref(), Some("hi"));
        let got = GetPromptResult::from_json(json!({"messages": [
            {"role": "user", "content": {"type": "text", "text": "Hello"}}
        ]}))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got.messages[0].role, "user");
    }

    #[test]
    fn unknown_content_blocks_are_kept_whole() {
        let raw = json!({"content": [{"type": "hologram", "frames": 3}, {"type": "text", "text": "t", "_meta": {"k": 1}}], "isError": false});
        let r = CallToolResult::from_json(raw.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(&r.content[0], ContentBlock::Other(v) if v["frames"] == 3));
        assert!(
            matches!(&r.content[1], ContentBlock::Known(KnownBlock::Text { extra, .. }) if extra.contains_key("_meta"))
        );
        assert_eq!(serde_json::to_value(&r).ok(), Some(raw));
    }

    #[test]
    fn blank_title_falls_back_to_name() {
        let tool =
            Tool::from_json(json!({"name": "n", "title": "  "})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tool.display_name(), "n");
    }
}
