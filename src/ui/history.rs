//! The tab's traffic (`core::history`): every message with its direction, method, time and
//! duration, filtered by text and method, the cap the person chose, export as JSON, and each
//! entry opened as formatted JSON with copies (JSON-RPC, curl) and, for a tool call, Replay.

use crate::core::history::{CAP_RANGE, Entry};
use crate::core::launch::Opened;
use crate::ui::Console;
use crate::ui::calls::{Replay, Selected};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Rows drawn at most; the filter finds older ones.
const SHOWN: usize = 200;

fn copy(text: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}

/// `at` (milliseconds since 1970) as the time of day, UTC, to the millisecond.
fn time_of_day(at: u64) -> String {
    let ms = at % 86_400_000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1_000 % 60,
        ms % 1_000
    )
}

#[component]
pub fn HistoryPanel() -> impl IntoView {
    let console = expect_context::<Console>();
    let selected = expect_context::<Selected>();
    let replay = expect_context::<Replay>();
    let text = RwSignal::new(String::new());
    let method = RwSignal::new(String::new());
    let open = RwSignal::new(None::<u64>);
    let newest = Memo::new(move |_| console.state.with(|s| s.traffic.newest()));
    let methods = Memo::new(move |_| {
        newest.get();
        console.state.with_untracked(|s| s.traffic.methods())
    });
    let rows = Memo::new(move |_| {
        newest.get();
        let (text, method) = (text.get(), method.get());
        console.state.with_untracked(|s| {
            s.traffic.matching(&text, &method).take(SHOWN).cloned().collect::<Vec<Entry>>()
        })
    });
    let count = move || {
        console.state.with(|s| match s.traffic.dropped() {
            0 => format!("{} messages", s.traffic.len()),
            dropped => format!("{} messages ({dropped} older dropped)", s.traffic.len()),
        })
    };
    let export = move |ev: leptos::ev::MouseEvent| {
        let server = console.workspace.server_of(console.tab).map(|s| s.to_string());
        let doc = console.state.with_untracked(|s| s.traffic.export(&server.unwrap_or_default()));
        let href = format!("data:application/json;base64,{}", STANDARD.encode(doc));
        // Set as the click happens: the download then takes the history as it is now.
        if let Some(link) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        {
            let _ = link.set_attribute("href", &href);
        }
    };
    view! {
        <section class="mc-history" aria-label="History" data-testid="history">
            <h2>"History"</h2>
            <div class="mc-history__tools">
                <input
                    type="search"
                    aria-label="Filter the history by text"
                    placeholder="Filter"
                    data-testid="history-filter"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                />
                <select
                    aria-label="Only this method"
                    data-testid="history-method"
                    on:change=move |ev| method.set(event_target_value(&ev))
                >
                    <option value="">"All methods"</option>
                    {move || {
                        methods
                            .get()
                            .into_iter()
                            .map(|m| view! { <option value=m.clone()>{m.clone()}</option> })
                            .collect_view()
                    }}
                </select>
                <label>
                    "Keep "
                    <input
                        type="number"
                        min=CAP_RANGE.0
                        max=CAP_RANGE.1
                        data-testid="history-cap"
                        prop:value=move || console.state.with(|s| s.traffic.cap())
                        on:change=move |ev| {
                            if let Ok(cap) = event_target_value(&ev).trim().parse::<usize>() {
                                console.state.update(|s| s.traffic.set_cap(cap));
                            }
                        }
                    />
                </label>
                <span data-testid="history-count">{count}</span>
                <a
                    class="mc-secondary"
                    href="#"
                    download="mcp-history.json"
                    data-testid="history-export"
                    on:click=export
                >
                    "Export JSON"
                </a>
            </div>
            <ol class="mc-history__list">
                {move || rows.get().into_iter().map(move |entry| {
                        let seq = entry.seq;
                        let is_open = move || open.get() == Some(seq);
                        let arrow = if entry.sent { "→" } else { "←" };
                        let took = entry.took.map(|t| format!("{t} ms")).unwrap_or_default();
                        let size = if entry.is_cut() {
                            format!("{} B, cut", entry.size)
                        } else {
                            format!("{} B", entry.size)
                        };
                        let summary = format!(
                            "{arrow} {} {} {}",
                            if entry.method.is_empty() { "(unknown)" } else { &entry.method },
                            entry.kind.name(),
                            entry.id.as_deref().map(|id| format!("#{id}")).unwrap_or_default(),
                        );
                        let entry_for_view = entry.clone();
                        view! {
                            <li class="mc-history__entry" data-testid="history-entry">
                                <button
                                    type="button"
                                    class="mc-history__row"
                                    aria-expanded=move || is_open().to_string()
                                    data-testid="history-open"
                                    on:click=move |_| {
                                        open.update(|o| *o = if *o == Some(seq) { None } else { Some(seq) })
                                    }
                                >
                                    <span class="mc-history__what">{summary}</span>
                                    <span class="mc-history__meta">
                                        {time_of_day(entry.at)} " " {took} " " {size}
                                    </span>
                                </button>
                                {move || is_open().then(|| {
                                        let entry = entry_for_view.clone();
                                        let curl = entry.as_curl();
                                        let jsonrpc = entry.as_jsonrpc();
                                        let again = entry.replay();
                                        view! {
                                            <pre class="mc-json" data-testid="history-json">{entry.pretty()}</pre>
                                            <div class="mc-history__actions">
                                                <button
                                                    type="button"
                                                    class="mc-secondary"
                                                    data-testid="history-copy-jsonrpc"
                                                    on:click=move |_| copy(&jsonrpc)
                                                >
                                                    "Copy as JSON-RPC"
                                                </button>
                                                {curl
                                                    .map(|curl| {
                                                        let shown = curl.clone();
                                                        view! {
                                                            <button
                                                                type="button"
                                                                class="mc-secondary"
                                                                data-testid="history-copy-curl"
                                                                on:click=move |_| copy(&curl)
                                                            >
                                                                "Copy as curl"
                                                            </button>
                                                            <pre class="mc-json" data-testid="history-curl">
                                                                {shown}
                                                            </pre>
                                                        }
                                                    })}
                                                {again
                                                    .map(|(tool, args)| {
                                                        view! {
                                                            <button
                                                                type="button"
                                                                class="mc-secondary"
                                                                data-testid="history-replay"
                                                                on:click=move |_| {
                                                                    replay.0.set(Some((tool.clone(), args.clone())));
                                                                    selected.0.set(Some(Opened::Tool(tool.clone())));
                                                                }
                                                            >
                                                                "Replay in the call form"
                                                            </button>
                                                        }
                                                    })}
                                            </div>
                                        }
                                })}
                            </li>
                        }
                }).collect_view()}
            </ol>
        </section>
    }
}
