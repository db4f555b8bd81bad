//! Renders a tool result: text, images, audio, resource links and embedded resources, and the
//! structured content. Everything from the server is shown as text or as a `data:` URL of a
//! checked media type — never as HTML.

use leptos::prelude::*;
use serde_json::Value;

/// True for base64 text that can go into a `data:` URL unchanged.
fn is_base64(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\n' | b'\r'))
}

/// A `data:` URL for media of `prefix` (e.g. "image/"), or `None` when the block is unsafe.
fn data_url(block: &Value, prefix: &str) -> Option<String> {
    let mime = block.get("mimeType")?.as_str()?;
    let data = block.get("data")?.as_str()?;
    let mime_ok = mime.starts_with(prefix)
        && mime.len() < 100
        && mime
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b'-' | b'.'));
    (mime_ok && is_base64(data))
        .then(|| format!("data:{mime};base64,{}", data.replace(['\n', '\r'], "")))
}

fn block_view(block: &Value) -> AnyView {
    let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "text" => {
            let text = block.get("text").and_then(Value::as_str).unwrap_or("").to_owned();
            view! { <pre class="mc-result__text" data-testid="call-result">{text}</pre> }.into_any()
        }
        "image" => match data_url(block, "image/") {
            Some(src) => view! { <img class="mc-result__image" data-testid="call-image" src=src alt="Image returned by the tool" /> }.into_any(),
            None => view! { <p class="mc-notice">"The tool returned an image the console cannot show safely."</p> }.into_any(),
        },
        "audio" => match data_url(block, "audio/") {
            Some(src) => view! { <audio controls src=src></audio> }.into_any(),
            None => view! { <p class="mc-notice">"The tool returned audio the console cannot play safely."</p> }.into_any(),
        },
        "resource_link" => {
            let name = block.get("name").and_then(Value::as_str).unwrap_or("resource").to_owned();
            let uri = block.get("uri").and_then(Value::as_str).unwrap_or("").to_owned();
            view! { <p class="mc-result__link">"Resource link: " <strong>{name}</strong> " " <code>{uri}</code></p> }.into_any()
        }
        "resource" => {
            let resource = block.get("resource").cloned().unwrap_or(Value::Null);
            let uri = resource.get("uri").and_then(Value::as_str).unwrap_or("").to_owned();
            let body = match resource.get("text").and_then(Value::as_str) {
                Some(text) => text.to_owned(),
                None => {
                    let size = resource.get("blob").and_then(Value::as_str).map_or(0, |b| b.len() * 3 / 4);
                    format!("(binary, about {size} bytes)")
                }
            };
            view! {
                <div class="mc-result__resource">
                    <code>{uri}</code>
                    <pre class="mc-result__text" data-testid="call-result">{body}</pre>
                </div>
            }
            .into_any()
        }
        _ => {
            let raw = serde_json::to_string_pretty(block).unwrap_or_default();
            view! { <pre class="mc-result__json">{raw}</pre> }.into_any()
        }
    }
}

/// A `tools/call` result.
#[component]
pub fn ToolResult(
    /// The result object as the server sent it.
    result: Value,
) -> impl IntoView {
    let blocks: Vec<Value> =
        result.get("content").and_then(Value::as_array).cloned().unwrap_or_default();
    let structured = result
        .get("structuredContent")
        .map(|v| serde_json::to_string_pretty(v).unwrap_or_default());
    let is_error = result.get("isError").and_then(Value::as_bool) == Some(true);
    view! {
        <div class="mc-result" data-testid="call-done">
            {is_error.then(|| view! { <p class="mc-call__failed">"The tool reported an error:"</p> })}
            {blocks.iter().map(block_view).collect_view()}
            {structured.map(|s| view! {
                <details class="mc-result__structured" open>
                    <summary>"Structured content"</summary>
                    <pre data-testid="call-structured">{s}</pre>
                </details>
            })}
        </div>
    }
}
