//! Renders a tool result: text, images, audio, resource links and embedded resources, and the
//! structured content. Everything from the server is shown as text or as a `data:` URL of a
//! checked media type — never as HTML.

use crate::core::json::FromJson;
use crate::core::protocol::{
    CallToolResult, ContentBlock, GetPromptResult, KnownBlock, ReadResourceResult,
};
use leptos::prelude::*;
use serde_json::Value;

/// True for base64 text that can go into a `data:` URL unchanged.
fn is_base64(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\n' | b'\r'))
}

/// A `data:` URL for media of `prefix` (e.g. "image/"), or `None` when it is unsafe to show.
fn data_url(mime: &str, data: &str, prefix: &str) -> Option<String> {
    let mime_ok = mime.starts_with(prefix)
        && mime.len() < 100
        && mime
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b'-' | b'.'));
    (mime_ok && is_base64(data))
        .then(|| format!("data:{mime};base64,{}", data.replace(['\n', '\r'], "")))
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// A text that is a JSON object or array, formatted.
fn json_text(text: &str) -> Option<String> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with(['{', '[']) {
        return None;
    }
    serde_json::from_str::<Value>(text).ok().map(|v| pretty(&v))
}

fn block_view(block: &ContentBlock) -> AnyView {
    let known = match block {
        ContentBlock::Known(k) => k,
        ContentBlock::Other(raw) => {
            return view! { <pre class="mc-result__json">{pretty(raw)}</pre> }.into_any();
        }
    };
    match known {
        KnownBlock::Text { text, .. } => match json_text(text) {
            // JSON in a text block: formatted, and folded away with a click.
            Some(formatted) => view! {
                <details class="mc-result__json-text" open>
                    <summary>"JSON"</summary>
                    <pre class="mc-result__text" data-testid="call-result">{formatted}</pre>
                </details>
            }
            .into_any(),
            None => view! { <pre class="mc-result__text" data-testid="call-result">{text.clone()}</pre> }
                .into_any(),
        },
        KnownBlock::Image { data, mime_type, .. } => match data_url(mime_type, data, "image/") {
            Some(src) => view! {
                <img class="mc-result__image" data-testid="call-image" src=src alt="Image returned by the tool" />
            }
            .into_any(),
            None => view! { <p class="mc-notice">"The tool returned an image the console cannot show safely."</p> }
                .into_any(),
        },
        KnownBlock::Audio { data, mime_type, .. } => match data_url(mime_type, data, "audio/") {
            Some(src) => view! { <audio controls src=src></audio> }.into_any(),
            None => view! { <p class="mc-notice">"The tool returned audio the console cannot play safely."</p> }
                .into_any(),
        },
        KnownBlock::ResourceLink { uri, name, .. } => view! {
            <p class="mc-result__link">
                "Resource link: " <strong>{name.clone()}</strong> " " <code>{uri.clone()}</code>
            </p>
        }
        .into_any(),
        KnownBlock::Resource { resource, .. } => {
            let body = match (&resource.text, &resource.blob) {
                (Some(text), _) => text.clone(),
                (None, Some(blob)) => format!("(binary, about {} bytes)", blob.len() * 3 / 4),
                (None, None) => String::new(),
            };
            view! {
                <div class="mc-result__resource">
                    <code>{resource.uri.clone()}</code>
                    <pre class="mc-result__text" data-testid="call-result">{body}</pre>
                </div>
            }
            .into_any()
        }
    }
}

/// A `tools/call` result.
#[component]
pub fn ToolResult(
    /// The result object as the server sent it.
    result: Value,
) -> impl IntoView {
    let Ok(typed) = CallToolResult::from_json(result.clone()) else {
        return view! {
            <div class="mc-result" data-testid="call-done">
                <p class="mc-notice">"The server's answer is not a tools/call result; here it is as sent:"</p>
                <pre class="mc-result__json">{pretty(&result)}</pre>
            </div>
        }
        .into_any();
    };
    let structured = typed.structured_content.as_ref().map(pretty);
    let is_error = typed.is_error == Some(true);
    view! {
        <div class="mc-result" data-testid="call-done">
            {is_error.then(|| view! { <p class="mc-call__failed">"The tool reported an error:"</p> })}
            {typed.content.iter().map(block_view).collect_view()}
            {structured.map(|s| view! {
                <details class="mc-result__structured" open>
                    <summary>"Structured content"</summary>
                    <pre data-testid="call-structured">{s}</pre>
                </details>
            })}
        </div>
    }
    .into_any()
}

/// Shows an answer that does not have the expected shape, as sent.
fn not_understood(what: &str, raw: &Value) -> AnyView {
    let sentence = format!("The server's answer is not a {what} result; here it is as sent:");
    view! {
        <div class="mc-result" data-testid="call-done">
            <p class="mc-notice">{sentence}</p>
            <pre class="mc-result__json">{pretty(raw)}</pre>
        </div>
    }
    .into_any()
}

/// A `resources/read` result: each content as text, an image, or its size.
#[component]
pub fn ResourceResult(
    /// The result object as the server sent it.
    result: Value,
) -> impl IntoView {
    let Ok(read) = ReadResourceResult::from_json(result.clone()) else {
        return not_understood("resources/read", &result);
    };
    let items = read
        .contents
        .into_iter()
        .map(|c| {
            let mime = c.mime_type.clone().unwrap_or_default();
            let body = match (&c.text, &c.blob) {
                // An MCP App's HTML runs in its view; here it is only there to read, folded.
                (Some(text), _) if mime == crate::core::apps::MIME_TYPE => view! {
                    <details>
                        <summary>{format!("The app's HTML ({} bytes)", text.len())}</summary>
                        <pre class="mc-result__text" data-testid="call-result">{text.clone()}</pre>
                    </details>
                }
                .into_any(),
                (Some(text), _) => {
                    view! { <pre class="mc-result__text" data-testid="call-result">{text.clone()}</pre> }
                        .into_any()
                }
                (None, Some(blob)) => {
                    let size = format!("{mime}, about {} bytes", blob.len() * 3 / 4);
                    // Shown when it is an image or audio; anything else only downloads, as bytes
                    // the browser never interprets.
                    let shown = match (data_url(&mime, blob, "image/"), data_url(&mime, blob, "audio/")) {
                        (Some(src), _) => Some(view! { <img class="mc-result__image" src=src alt="Resource image" /> }.into_any()),
                        (None, Some(src)) => Some(view! { <audio controls src=src></audio> }.into_any()),
                        _ => None,
                    };
                    let download = is_base64(blob).then(|| {
                        let href = format!("data:application/octet-stream;base64,{}", blob.replace(['\n', '\r'], ""));
                        let name = c.uri.rsplit('/').next().filter(|n| !n.is_empty()).unwrap_or("resource").to_owned();
                        view! { <a href=href download=name data-testid="resource-download">"Download (" {size.clone()} ")"</a> }
                    });
                    view! { <div data-testid="resource-binary">{shown} <p>{download}</p></div> }.into_any()
                }
                (None, None) => view! { <p>"(empty)"</p> }.into_any(),
            };
            view! {
                <div class="mc-result__resource">
                    <code>{c.uri}</code>
                    {body}
                </div>
            }
        })
        .collect_view();
    view! { <div class="mc-result" data-testid="call-done">{items}</div> }.into_any()
}

/// A `prompts/get` result: its messages, each with its role.
#[component]
pub fn PromptResult(
    /// The result object as the server sent it.
    result: Value,
) -> impl IntoView {
    let Ok(prompt) = GetPromptResult::from_json(result.clone()) else {
        return not_understood("prompts/get", &result);
    };
    let messages = prompt
        .messages
        .iter()
        .map(|m| {
            view! {
                <div class="mc-result__message">
                    <strong class="mc-result__role">{m.role.clone()}</strong>
                    {block_view(&m.content)}
                </div>
            }
        })
        .collect_view();
    view! {
        <div class="mc-result" data-testid="call-done">
            {prompt.description.map(|d| view! { <p class="mc-form__help">{d}</p> })}
            {messages}
        </div>
    }
    .into_any()
}
