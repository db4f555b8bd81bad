//! Leptos components: they render `core::console::ConsoleState` and turn clicks into calls on a
//! `platform::connection::Connection`. No protocol or auth logic lives here.

mod server_panel;
mod tool_list;

use crate::core::console::{ConsoleState, Status};
use crate::core::launch::Launch;
use crate::platform::connection::Connection;
use crate::platform::location;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The whole console.
#[component]
pub fn App() -> impl IntoView {
    let url = RwSignal::new(String::new());
    let state = RwSignal::new(ConsoleState::default());
    let connection: StoredValue<Option<Connection>, LocalStorage> = StoredValue::new_local(None);

    let connect = move || {
        if let Some(old) = connection.get_value() {
            old.close();
        }
        state.set(ConsoleState::connecting());
        let opened = Connection::open(&url.get_untracked(), move |event| {
            state.update(|s| s.apply(event));
        });
        match opened {
            Ok(c) => connection.set_value(Some(c)),
            Err(e) => {
                connection.set_value(None);
                state.update(|s| s.fail(e.to_string()));
            }
        }
    };

    // What to open comes from config.json and the query string; the query wins.
    spawn_local(async move {
        let query = Launch::from_query(&location::search());
        let file = match location::config_json().await {
            Some(text) => Launch::from_config_json(&text).unwrap_or_else(|sentence| {
                state.update(|s| s.notice = Some(sentence));
                Launch::default()
            }),
            None => Launch::default(),
        };
        let launch = file.overridden_by(query);
        if let Some(server) = launch.server_url {
            url.set(server);
            if launch.auto_connect {
                connect();
            }
        }
    });

    let busy = move || state.with(|s| s.status == Status::Connecting);
    let status_class = move || {
        state.with(|s| match s.status {
            Status::Connected => "mc-status mc-status--ok",
            Status::Failed(_) => "mc-status mc-status--error",
            _ => "mc-status",
        })
    };

    view! {
        <header class="mc-header">
            <h1>"MCP Console"</h1>
            <p class="mc-tagline">"Sign in, list and call the tools of any MCP server — right here in the page."</p>
        </header>
        <main class="mc-main">
            <form
                class="mc-connect"
                on:submit=move |ev| {
                    ev.prevent_default();
                    connect();
                }
            >
                <label for="server-url">"Server URL"</label>
                <input
                    id="server-url"
                    data-testid="server-url"
                    type="url"
                    required
                    spellcheck="false"
                    autocomplete="url"
                    placeholder="http://127.0.0.1:3001/mcp"
                    prop:value=move || url.get()
                    on:input=move |ev| url.set(event_target_value(&ev))
                />
                <button type="submit" data-testid="connect" disabled=busy>
                    {move || if busy() { "Connecting…" } else { "Connect" }}
                </button>
            </form>
            <p class=status_class role="status" aria-live="polite" data-testid="status">
                {move || state.with(ConsoleState::status_line)}
            </p>
            <Show when=move || state.with(|s| s.notice.is_some())>
                <p class="mc-notice" role="alert" data-testid="notice">
                    {move || state.with(|s| s.notice.clone().unwrap_or_default())}
                </p>
            </Show>
            <server_panel::ServerPanel state=state />
            <tool_list::ToolList state=state />
        </main>
    }
}
