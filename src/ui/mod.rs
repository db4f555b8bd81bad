//! Leptos components: they render `core::console::ConsoleState` and turn clicks into calls on a
//! `platform::connection::Connection`. No protocol or auth logic lives here.

mod asks;
mod auth;
mod calls;
mod catalog;
mod content;
mod form;
mod log_panel;
mod server_panel;
mod tool_list;

use crate::core::asks::{client_capabilities, roots_result};
use crate::core::console::{ConsoleState, Status, follow_up};
use crate::core::engine::{EngineEvent, TransportChoice};
use crate::core::launch::{Launch, Opened};
use crate::core::session::{SessionConfig, SessionEvent};
use crate::platform::connection::Connection;
use crate::platform::{clock, location};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// What every component may reach: the state, the clock and the live connection.
#[derive(Clone, Copy)]
pub struct Console {
    pub state: RwSignal<ConsoleState>,
    /// Milliseconds, ticking once a second (for countdowns).
    pub now: RwSignal<u64>,
    pub connection: StoredValue<Option<Connection>, LocalStorage>,
}

impl Console {
    /// Ends the live connection, if there is one (its server session is deleted), and says so.
    pub fn disconnect(&self) {
        if let Some(old) = self.connection.get_value() {
            old.disconnect();
        }
        self.connection.set_value(None);
        self.state.update(|s| s.status = Status::Disconnected);
    }

    /// Runs `f` on the live connection, if there is one.
    pub fn with_connection<R>(&self, f: impl FnOnce(&Connection) -> R) -> Option<R> {
        self.connection.with_value(|c| c.as_ref().map(f))
    }
}

/// The whole console.
#[component]
pub fn App() -> impl IntoView {
    let url = RwSignal::new(String::new());
    let transport = RwSignal::new(TransportChoice::Auto);
    let console = Console {
        state: RwSignal::new(ConsoleState::default()),
        now: RwSignal::new(clock::now_ms()),
        connection: StoredValue::new_local(None),
    };
    provide_context(console);
    let selected = calls::Selected(RwSignal::new(None));
    provide_context(selected);
    let roots = asks::Roots(RwSignal::new(Vec::new()));
    provide_context(roots);
    let auth = auth::Auth::new(selected);
    provide_context(auth);
    // A full-page sign-in coming back: the address bar is cleaned before anything else runs.
    let redirect_answer = auth.take_redirect_answer();
    let state = console.state;

    let disconnect = move || {
        if let Some(old) = console.connection.get_value() {
            old.disconnect();
        }
        console.connection.set_value(None);
    };
    let connect = move || {
        disconnect();
        state.set(ConsoleState::connecting());
        let server = url.get_untracked();
        let endpoint = server.clone();
        let opened = Connection::open(
            &endpoint,
            transport.get_untracked(),
            SessionConfig { capabilities: client_capabilities(), ..SessionConfig::default() },
            auth.bearer_for(&endpoint),
            move |event| {
                if let EngineEvent::AuthRequired(asked) = &event {
                    auth.on_required(console, server.clone(), asked.clone());
                }
                // Roots are answered at once, from the roots editor.
                if let EngineEvent::Session(e) = &event
                    && let SessionEvent::ServerRequest { id, method, .. } = e.as_ref()
                    && method == "roots/list"
                {
                    let result = roots_result(&roots.0.get_untracked());
                    console.with_connection(|c| c.with_session(|s, _| s.respond(id, Ok(result))));
                }
                let follow = follow_up(&event);
                state.update(|s| s.apply(event));
                for kind in follow {
                    let listed = console.with_connection(|c| {
                        c.with_session(|session, now| session.list(kind, now))
                    });
                    if let Some(Err(e)) = listed {
                        state.update(|s| s.notice = Some(e.to_string()));
                    }
                }
            },
        );
        match opened {
            Ok(c) => console.connection.set_value(Some(c)),
            Err(e) => state.update(|s| s.status = Status::Failed(e.to_string())),
        }
    };

    // The countdown while reconnecting needs a clock that ticks.
    spawn_local(async move {
        loop {
            clock::sleep(1_000).await;
            console.now.set(clock::now_ms());
        }
    });

    // What to open comes from config.json and the query string; the query wins.
    spawn_local(async move {
        if let Some((answer, pending)) = redirect_answer {
            auth.finish_redirect(console, answer, pending).await;
        }
        let query = Launch::from_query(&location::search());
        let file = match location::config_json().await {
            Some(text) => Launch::from_config_json(&text).unwrap_or_else(|sentence| {
                state.update(|s| s.notice = Some(sentence));
                Launch::default()
            }),
            None => Launch::default(),
        };
        let launch = file.overridden_by(query);
        auth.settings.set(launch.sign_in);
        match launch.open {
            Some(Opened::Tool(name)) => selected.0.set(Some(calls::Pick::Tool(name))),
            Some(Opened::Prompt(name)) => selected.0.set(Some(calls::Pick::Prompt(name))),
            None => {}
        }
        if let Some(server) = launch.server_url {
            url.set(server);
            if launch.auto_connect {
                connect();
            }
        }
    });

    let busy = move || state.with(|s| s.status == Status::Connecting);
    let live =
        move || state.with(|s| !matches!(s.status, Status::Disconnected | Status::Failed(_)));
    let status_class = move || {
        state.with(|s| match s.status {
            Status::Connected(_) => "mc-status mc-status--ok",
            Status::Failed(_) => "mc-status mc-status--error",
            Status::Reconnecting { .. } => "mc-status mc-status--warn",
            _ => "mc-status",
        })
    };

    view! {
        <header class="mc-header">
            <h1>"MCP Console"</h1>
            <p class="mc-tagline">
                "List and call the tools of any MCP server — right here in the page."
            </p>
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
                <select
                    aria-label="Transport"
                    data-testid="transport"
                    on:change=move |ev| {
                        transport
                            .set(
                                match event_target_value(&ev).as_str() {
                                    "streamable" => TransportChoice::StreamableHttp,
                                    "sse" => TransportChoice::LegacySse,
                                    _ => TransportChoice::Auto,
                                },
                            )
                    }
                >
                    <option value="auto">"Auto"</option>
                    <option value="streamable">"Streamable HTTP"</option>
                    <option value="sse">"Legacy SSE"</option>
                </select>
                <button type="submit" data-testid="connect" disabled=busy>
                    {move || if busy() { "Connecting…" } else { "Connect" }}
                </button>
                <Show when=live>
                    <button
                        type="button"
                        class="mc-secondary"
                        data-testid="disconnect"
                        on:click=move |_| console.disconnect()
                    >
                        "Disconnect"
                    </button>
                </Show>
            </form>
            <p class=status_class role="status" aria-live="polite" data-testid="status">
                {move || state.with(|s| s.status_line(console.now.get()))}
            </p>
            <Show when=move || state.with(|s| s.notice.is_some())>
                <p class="mc-notice" role="alert" data-testid="notice">
                    {move || state.with(|s| s.notice.clone().unwrap_or_default())}
                </p>
            </Show>
            <auth::AuthPanel server=url />
            <server_panel::ServerPanel />
            <asks::AskPanel />
            <div class="mc-workspace">
                <div class="mc-catalog">
                    <tool_list::ToolList />
                    <catalog::ResourceList />
                    <catalog::PromptList />
                </div>
                <calls::CallPanel />
            </div>
            <log_panel::LogPanel />
            <asks::RootsEditor />
        </main>
    }
}
