//! Leptos components: they render `core::console::ConsoleState` and the sign-in's `AuthView`, and
//! turn clicks into calls on a `platform::connection::Connection` and the sign-in's
//! `platform::auth::AuthDriver`, whose bearers they hand to the connection they name. No protocol
//! or auth logic lives here.

mod asks;
mod auth;
mod calls;
mod catalog;
mod content;
mod form;
mod log_panel;
mod server_panel;
mod tool_list;

use crate::core::address::ServerUrl;
use crate::core::asks::{client_capabilities, roots_asked, roots_result};
use crate::core::auth::machine::{Action, AuthView, SignIn};
use crate::core::auth::trust::Deployment;
use crate::core::console::{ConsoleState, Status, follow_up, rereads};
use crate::core::engine::{EngineEvent, TransportChoice};
use crate::core::launch::{Config, ConfigError, Link};
use crate::core::session::SessionConfig;
use crate::platform::auth::{self as web_auth, AuthDriver};
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
        if let Some(auth) = use_context::<auth::Auth>() {
            auth.with(|m, _| m.disconnect());
        }
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
    let ready = RwSignal::new(false);
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
    // A full-page sign-in coming back: the address bar is cleaned before anything else runs.
    let redirect_answer = web_auth::take_redirect_answer();
    let console_url = url::Url::parse(&location::href()).ok();
    let started = console_url.as_ref().map(|here| Deployment::new(here, Config::default()).0);
    let Some(deployment) = started else {
        return view! { <p class="mc-notice">"The console cannot read its own address."</p> }
            .into_any();
    };
    let driver = AuthDriver::new(SignIn::new(deployment));
    let auth = auth::Auth {
        view: RwSignal::new(AuthView::default()),
        driver: StoredValue::new_local(driver.clone()),
    };
    provide_context(auth);
    let state = console.state;
    driver.listen(
        move |action| match action {
            Action::Bearer(bearer) => {
                console.with_connection(|c| c.resume_with_bearer(bearer));
            }
            Action::GiveUp { server, error } => {
                console.with_connection(|c| c.auth_failed(&server, &error.to_string()));
            }
            Action::EndSession(server)
                if console.with_connection(|c| c.serves(&server)).unwrap_or(false) =>
            {
                console.disconnect();
            }
            _ => {}
        },
        move |view| auth.view.set(view),
    );

    let disconnect = move || {
        if let Some(old) = console.connection.get_value() {
            old.disconnect();
        }
        console.connection.set_value(None);
    };
    let connect = move || {
        disconnect();
        let server = match ServerUrl::parse(&url.get_untracked()) {
            Ok(server) => server,
            Err(e) => {
                return state.set(ConsoleState {
                    status: Status::Failed(e.to_string()),
                    ..ConsoleState::default()
                });
            }
        };
        let bearer = match auth.with(|m, now| m.connect(&server, now)) {
            Ok(bearer) => bearer,
            Err(e) => {
                return state.set(ConsoleState {
                    status: Status::Failed(e.to_string()),
                    ..ConsoleState::default()
                });
            }
        };
        state.set(ConsoleState::connecting());
        let endpoint = server.to_string();
        let opened = Connection::open(
            &endpoint,
            transport.get_untracked(),
            SessionConfig { capabilities: client_capabilities(), ..SessionConfig::default() },
            bearer,
            move |event| {
                if let EngineEvent::AuthRequired(asked) = &event {
                    auth.with(|m, now| m.handle_refusal(&server, asked, now));
                }
                // Roots are answered at once, from the roots editor.
                for ask in roots_asked(&event) {
                    let result = roots_result(&roots.0.get_untracked());
                    console.with_connection(|c| {
                        c.with_session(|s, now| s.respond(&ask, Ok(result), now))
                    });
                }
                let follow = follow_up(&event);
                let rereads = rereads(&event);
                state.update(|s| s.apply(event));
                for uri in rereads {
                    catalog::reread(console, &uri);
                }
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

    // What to open: the deployer's config.json (trusted), then the link (within the trust rules).
    spawn_local(async move {
        let mut said = Vec::new();
        let Some(here) = console_url else { return };
        // A config.json that is there but cannot be used allows nothing: the deployer's limits
        // cannot be known. Only its absence means "no configuration".
        let config = match location::config_json().await {
            Ok(None) => Ok(Config::default()),
            Ok(Some(text)) => Config::from_json(&text),
            Err(reason) => Err(ConfigError::Unreadable(reason)),
        };
        let deployment = match config {
            Ok(config) => {
                let (deployment, refusals) = Deployment::new(&here, config);
                said.extend(refusals.iter().map(ToString::to_string));
                deployment
            }
            Err(error) => {
                said.push(error.to_string());
                Deployment::unusable(&here, &error)
            }
        };
        let opening = deployment.open(Link::from_query(&location::search()));
        said.extend(opening.refusals.iter().map(ToString::to_string));
        auth.with(|m, now| {
            m.configure(deployment);
            if let Some(mode) = opening.mode {
                m.set_mode(mode);
            }
            if let Some((server, settings)) = opening.proposal.clone() {
                m.propose(server, settings);
            }
            if let Some((answer, kept)) = redirect_answer {
                m.resume(kept, &answer, now);
            }
        });
        ready.set(true);
        if opening.open.is_some() {
            selected.0.set(opening.open);
        }
        if let Some(server) = opening.server {
            auth.with(|m, _| m.focus(ServerUrl::parse(&server).ok()));
            url.set(server);
            if opening.connect {
                connect();
            }
        }
        // After connecting, which starts the view afresh.
        if !said.is_empty() {
            state.update(|s| s.notice = Some(said.join(" ")));
        }
    });

    // Nothing is connected before the deployer's configuration is known.
    let busy = move || !ready.get() || state.with(|s| s.status == Status::Connecting);
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
                    on:input=move |ev| {
                        let text = event_target_value(&ev);
                        auth.with(|m, _| m.focus(ServerUrl::parse(&text).ok()));
                        url.set(text);
                    }
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
            <auth::AuthPanel />
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
    .into_any()
}
