//! Leptos components: they render `core::console::ConsoleState` and the sign-in's `AuthView`, and
//! turn clicks into calls on a `platform::connection::Connection` and the sign-in's
//! `platform::auth::AuthDriver`, whose bearers they hand to the connection they name. No protocol
//! or auth logic lives here.

mod apps;
mod asks;
mod auth;
mod calls;
mod catalog;
mod content;
mod embed;
mod form;
mod history;
mod log_panel;
mod server_panel;
mod tool_list;

use crate::core::address::ServerUrl;
use crate::core::asks::{client_capabilities, roots_asked, roots_result};
use crate::core::auth::machine::{Action, AuthView, SignIn};
use crate::core::auth::trust::Deployment;
use crate::core::console::{CatalogView, ConsoleState, Pane, Status, Theme, follow_up, rereads};
use crate::core::engine::{EngineEvent, TransportChoice};
use crate::core::launch::{Config, ConfigError, Link};
use crate::core::session::SessionConfig;
use crate::core::tabs::{TabId, Tabs};
use crate::platform::auth::{self as web_auth, AuthDriver};
use crate::platform::connection::Connection;
use crate::platform::{clock, location, page};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// An element id no other element of the page has (forms and tabs repeat), for `<label for>`.
pub fn unique_id(prefix: &str) -> String {
    thread_local!(static NEXT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) });
    let n = NEXT.with(|next| {
        next.set(next.get() + 1);
        next.get()
    });
    format!("{prefix}-{n}")
}

/// What every component of a tab may reach: its state, the clock and its live connection.
#[derive(Clone, Copy)]
pub struct Console {
    /// The tab it belongs to, among the others.
    pub tab: TabId,
    pub workspace: Workspace,
    pub state: RwSignal<ConsoleState>,
    /// Milliseconds, ticking once a second (for countdowns); one clock for every tab.
    pub now: RwSignal<u64>,
    pub connection: StoredValue<Option<Connection>, LocalStorage>,
}

impl Console {
    /// Ends the live connection, if there is one (its server session is deleted), and says so.
    pub fn disconnect(&self) {
        let Some(old) = self.connection.get_value() else { return };
        old.disconnect();
        self.connection.set_value(None);
        self.state.update(|s| s.status = Status::Disconnected);
        if let Some(server) = self.workspace.server_of(self.tab) {
            self.workspace.auth.with(|m, _| m.disconnect(&server));
        }
    }

    /// Runs `f` on the live connection, if there is one.
    pub fn with_connection<R>(&self, f: impl FnOnce(&Connection) -> R) -> Option<R> {
        self.connection.with_value(|c| c.as_ref().map(f))
    }
}

/// One tab's state: its console and what the person typed or picked in it. Its signals belong
/// to `owner`, dropped with the tab.
#[derive(Clone)]
pub struct TabState {
    pub console: Console,
    pub url: RwSignal<String>,
    pub transport: RwSignal<TransportChoice>,
    pub selected: calls::Selected,
    pub replay: calls::Replay,
    /// The pane open below the work area, if any.
    pub pane: RwSignal<Option<Pane>>,
    /// What the list beside the work pane shows.
    pub catalog: RwSignal<CatalogView>,
    owner: Owner,
}

impl TabState {
    fn new(workspace: Workspace, tab: TabId, url: String) -> TabState {
        let owner = Owner::new();
        owner.with(|| TabState {
            console: Console {
                tab,
                workspace,
                state: RwSignal::new(ConsoleState::default()),
                now: workspace.now,
                connection: StoredValue::new_local(None),
            },
            url: RwSignal::new(url),
            transport: RwSignal::new(TransportChoice::Auto),
            selected: calls::Selected(RwSignal::new(None)),
            replay: calls::Replay(RwSignal::new(None)),
            pane: RwSignal::new(None),
            catalog: RwSignal::new(CatalogView::Tools),
            owner: owner.clone(),
        })
    }
}

/// The servers open side by side (`core::tabs`), and what they share: the clock, the sign-in and
/// the roots offered to servers. Handed to callbacks, which run outside any component.
#[derive(Clone, Copy)]
pub struct Workspace {
    pub tabs: RwSignal<Tabs<TabState>, LocalStorage>,
    pub now: RwSignal<u64>,
    /// The setting: ask before a destructive or open-world tool runs.
    pub ask_first: RwSignal<bool>,
    pub auth: auth::Auth,
    pub roots: asks::Roots,
}

impl Workspace {
    pub fn tab(&self, id: TabId) -> Option<TabState> {
        self.tabs.with_untracked(|t| t.get(id).map(|t| t.payload.clone()))
    }

    pub fn server_of(&self, id: TabId) -> Option<ServerUrl> {
        self.tabs.with_untracked(|t| t.get(id).and_then(|t| t.server.clone()))
    }

    /// The console of the tab connected to `server`.
    fn console_of(&self, server: &ServerUrl) -> Option<Console> {
        self.tabs
            .with_untracked(|t| t.find(server).and_then(|id| t.get(id).map(|t| t.payload.console)))
    }

    /// A new tab, in front, with `url` in its address field; a server already open brings its
    /// tab forward instead, with the sentence.
    fn open(&self, url: String) -> Result<TabId, String> {
        let server = ServerUrl::parse(&url).ok();
        let workspace = *self;
        let mut opened = Err(String::new());
        self.tabs.update(|t| {
            opened = t
                .open(server, |id| TabState::new(workspace, id, url))
                .map_err(|(_, e)| e.to_string());
        });
        self.show_front();
        opened
    }

    /// A sentence in the tab in front.
    fn say(&self, sentence: String) {
        let front = self.tabs.with_untracked(|t| t.front().map(|f| f.payload.console.state));
        if let Some(state) = front {
            state.update(|s| s.notice = Some(sentence));
        }
    }

    fn bring_to_front(&self, id: TabId) {
        self.tabs.update(|t| t.bring_to_front(id));
        self.show_front();
    }

    /// The sign-in's view follows the tab in front: its server, or what its address field names.
    fn show_front(&self) {
        let Some((server, url)) =
            self.tabs.with_untracked(|t| t.front().map(|f| (f.server.clone(), f.payload.url)))
        else {
            return;
        };
        let shown = server.or_else(|| ServerUrl::parse(&url.get_untracked()).ok());
        self.auth.with(|m, _| m.show(shown));
    }

    /// Closes tab `id`: its connection ends, its tokens are revoked and forgotten, and its
    /// signals are dropped.
    fn close(&self, id: TabId) {
        let Some(tab) = self.tab(id) else { return };
        if let Some(old) = tab.console.connection.get_value() {
            old.disconnect();
        }
        if let Some(server) = self.server_of(id) {
            self.auth.with(|m, now| m.close(&server, now));
        }
        let workspace = *self;
        let fresh = |id| TabState::new(workspace, id, String::new());
        let mut closed = None;
        self.tabs.update(|t| closed = t.close(id, fresh));
        self.show_front();
        // The views of the tab are dropped when the page next renders; its signals only after.
        if let Some(closed) = closed {
            spawn_local(async move {
                clock::sleep(0).await;
                closed.payload.owner.cleanup();
            });
        }
    }
}

/// Connects tab `id` to the server in its address field, with the transport chosen there.
fn connect(workspace: Workspace, id: TabId) {
    let Some(tab) = workspace.tab(id) else { return };
    let (console, state) = (tab.console, tab.console.state);
    console.disconnect();
    let (auth, roots) = (workspace.auth, workspace.roots);
    let server = match ServerUrl::parse(&tab.url.get_untracked()) {
        Ok(server) => server,
        Err(e) => return state.update(|s| s.restart(Status::Failed(e.to_string()))),
    };
    let mut taken = Ok(());
    workspace.tabs.update(|t| taken = t.connect(id, &server).map_err(|(_, e)| e));
    if let Err(e) = taken {
        // The tab that has the server came to the front, and says so.
        workspace.show_front();
        workspace.say(e.to_string());
        return;
    }
    workspace.show_front();
    let bearer = match auth.with(|m, now| m.connect(&server, now)) {
        Ok(bearer) => bearer,
        Err(e) => return state.update(|s| s.restart(Status::Failed(e.to_string()))),
    };
    state.update(|s| s.restart(Status::Connecting));
    let endpoint = server.to_string();
    let opened = Connection::open(
        &endpoint,
        tab.transport.get_untracked(),
        SessionConfig { capabilities: client_capabilities(), ..SessionConfig::default() },
        bearer,
        move |event| {
            if let EngineEvent::AuthRequired(asked) = &event {
                auth.with(|m, now| m.handle_refusal(&server, asked, now));
            }
            // Roots are answered at once, from the roots editor.
            for ask in roots_asked(&event) {
                let result = roots_result(&roots.0.get_untracked());
                console
                    .with_connection(|c| c.with_session(|s, now| s.respond(&ask, Ok(result), now)));
            }
            let follow = follow_up(&event);
            let rereads = rereads(&event);
            state.update(|s| s.apply(event));
            for uri in rereads {
                catalog::reread(console, &uri);
            }
            for kind in follow {
                let listed = console
                    .with_connection(|c| c.with_session(|session, now| session.list(kind, now)));
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
}

/// The whole console.
#[component]
pub fn App() -> impl IntoView {
    let ready = RwSignal::new(false);
    // `?embed=1`: a portal's frame, no top bar.
    let compact = RwSignal::new(false);
    let embedded = RwSignal::new(None::<embed::Embed>);
    let now = RwSignal::new(clock::now_ms());
    let roots = asks::Roots(RwSignal::new(Vec::new()));
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
    let workspace = Workspace {
        tabs: RwSignal::new_local(Tabs::default()),
        now,
        ask_first: RwSignal::new(true),
        auth,
        roots,
    };
    provide_context(workspace);
    let _ = workspace.open(String::new());
    driver.listen(
        move |action| match action {
            Action::Bearer(bearer) => {
                if let Some(console) = workspace.console_of(&bearer.server) {
                    console.with_connection(|c| c.resume_with_bearer(bearer));
                }
            }
            Action::GiveUp { server, error } => {
                if let Some(console) = workspace.console_of(&server) {
                    console.with_connection(|c| c.auth_failed(&server, &error.to_string()));
                }
            }
            Action::EndSession(server) => {
                if let Some(console) = workspace.console_of(&server) {
                    console.disconnect();
                }
            }
            _ => {}
        },
        move |view| auth.view.set(view),
    );

    // The countdown while reconnecting needs a clock that ticks.
    spawn_local(async move {
        loop {
            clock::sleep(1_000).await;
            now.set(clock::now_ms());
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
        let embed_origins = config.as_ref().map(|c| c.embed_origins.clone()).unwrap_or_default();
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
        let link = Link::from_query(&location::search());
        compact.set(link.embed);
        let opening = deployment.open(link);
        said.extend(opening.refusals.iter().map(ToString::to_string));
        embedded.set(embed::start(workspace, deployment.clone(), embed_origins));
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
        // The first tab is the front one; the others open behind it.
        let Some(first) = workspace.tab(0) else { return };
        if opening.open.is_some() {
            first.selected.0.set(opening.open);
        }
        if let Some(server) = opening.server {
            first.url.set(server);
        }
        let mut tabs = vec![0];
        for server in opening.behind {
            match workspace.open(server.to_string()) {
                Ok(id) => tabs.push(id),
                Err(e) => said.push(e),
            }
        }
        workspace.bring_to_front(0);
        if opening.connect {
            for id in tabs {
                connect(workspace, id);
            }
        }
        // After connecting, which starts the view afresh.
        if !said.is_empty() {
            first.console.state.update(|s| s.notice = Some(said.join(" ")));
        }
    });

    keyboard(workspace);
    view! {
        <header class="mc-header" hidden=move || compact.get()>
            <h1>"MCP Console"</h1>
            <TabStrip />
            <ThemeToggle />
        </header>
        <main class="mc-main" class:mc-main--embed=move || compact.get()>
            <For
                each=move || workspace.tabs.with(|t| t.iter().map(|t| t.id).collect::<Vec<_>>())
                key=|id| *id
                let:id
            >
                <TabPanel id ready />
            </For>
            {move || embedded.get().map(|embed| view! { <embed::Refusals embed /> })}
        </main>
    }
    .into_any()
}

/// The servers open, as tabs: each with its connection's state; one more opens an empty tab.
#[component]
fn TabStrip() -> impl IntoView {
    let workspace = expect_context::<Workspace>();
    // Drawn again only when tabs open or close, so a click keeps its button (and its focus).
    let ids =
        Memo::new(move |_| workspace.tabs.with(|t| t.iter().map(|t| t.id).collect::<Vec<_>>()));
    let open_empty = move |_| {
        if let Err(e) = workspace.open(String::new()) {
            workspace.say(e);
        }
    };
    view! {
        <nav class="mc-tabs" aria-label="Servers">
            <div role="tablist" class="mc-tablist">
                {move || ids.get().into_iter().map(move |id| {
                        let front = move || workspace.tabs.with(|t| t.front_id() == Some(id));
                        let label = move || workspace.tabs.with(|t| t.label(id));
                        let state = workspace.tab(id).map(|t| t.console.state);
                        let dot = move || {
                            state
                                .map(|s| {
                                    s.with(|s| match s.status {
                                        Status::Connected(_) => "mc-dot mc-dot--ok",
                                        Status::Failed(_) => "mc-dot mc-dot--error",
                                        Status::Reconnecting { .. } | Status::Connecting => {
                                            "mc-dot mc-dot--warn"
                                        }
                                        _ => "mc-dot",
                                    })
                                })
                                .unwrap_or("mc-dot")
                        };
                        view! {
                            <span class="mc-tab" class:mc-tab--front=front>
                                <button
                                    type="button"
                                    role="tab"
                                    id=format!("tab-{id}")
                                    aria-controls=format!("tab-panel-{id}")
                                    aria-selected=move || front().to_string()
                                    data-testid="tab"
                                    on:click=move |_| workspace.bring_to_front(id)
                                >
                                    <span class=dot aria-hidden="true"></span>
                                    {label}
                                </button>
                                <button
                                    type="button"
                                    class="mc-tab-close"
                                    data-testid="tab-close"
                                    aria-label=move || format!("Close {}", label())
                                    title="Close: ends the session and forgets its sign-in"
                                    on:click=move |_| workspace.close(id)
                                >
                                    "×"
                                </button>
                            </span>
                        }
                    .into_any()
                }).collect_view()}
            </div>
            <button
                type="button"
                class="mc-secondary mc-tab-new"
                data-testid="tab-new"
                aria-label="Open another server in a new tab"
                on:click=open_empty
            >
                "+"
            </button>
        </nav>
    }
}

/// One server's tab: its address, status, sign-in, catalog, calls and log.
#[component]
fn TabPanel(
    /// The tab shown.
    id: TabId,
    /// Whether the deployer's configuration is known (nothing connects before).
    ready: RwSignal<bool>,
) -> impl IntoView {
    let workspace = expect_context::<Workspace>();
    let Some(tab) = workspace.tab(id) else { return ().into_any() };
    let (console, url, transport) = (tab.console, tab.url, tab.transport);
    provide_context(console);
    provide_context(tab.selected);
    provide_context(tab.replay);
    let state = console.state;
    let front = move || workspace.tabs.with(|t| t.front_id() == Some(id));
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
        <section
            class="mc-tab-panel"
            role="tabpanel"
            id=format!("tab-panel-{id}")
            aria-labelledby=format!("tab-{id}")
            data-testid="tab-panel"
            hidden=move || !front()
        >
            <form
                class="mc-connect"
                on:submit=move |ev| {
                    ev.prevent_default();
                    connect(workspace, id);
                }
            >
                <label for=format!("server-url-{id}")>"Server URL"</label>
                <input
                    id=format!("server-url-{id}")
                    data-testid="server-url"
                    type="url"
                    required
                    spellcheck="false"
                    autocomplete="url"
                    placeholder="http://127.0.0.1:3001/mcp"
                    prop:value=move || url.get()
                    on:input=move |ev| {
                        let text = event_target_value(&ev);
                        url.set(text);
                        if console.connection.with_value(Option::is_none) {
                            workspace.show_front();
                        }
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
            // One line for the connection and one for the sign-in; their details are panes.
            <div class="mc-statusline">
                <p class=status_class role="status" aria-live="polite" data-testid="status">
                    {move || state.with(|s| s.status_line(console.now.get()))}
                </p>
                <Show when=front>
                    <auth::AuthPanel />
                </Show>
            </div>
            <Show when=move || state.with(|s| s.notice.is_some())>
                <p class="mc-notice" role="alert" data-testid="notice">
                    {move || state.with(|s| s.notice.clone().unwrap_or_default())}
                </p>
            </Show>
            <asks::AskPanel />
            <div class="mc-workspace">
                <CatalogPane catalog=tab.catalog />
                <calls::CallPanel />
            </div>
            <Drawer pane=tab.pane />
        </section>
    }
    .into_any()
}

/// The list beside the work pane: the server's tools, resources (and templates) or prompts,
/// one at a time.
#[component]
fn CatalogPane(catalog: RwSignal<CatalogView>) -> impl IntoView {
    let console = expect_context::<Console>();
    let counted = move |view: CatalogView| {
        console.state.with(|s| match view {
            CatalogView::Tools => s.tools.as_ref().map(|t| t.len()),
            CatalogView::Resources => s.resources.as_ref().map(|r| r.len()),
            CatalogView::Prompts => s.prompts.as_ref().map(|p| p.len()),
        })
    };
    let views = [
        (CatalogView::Tools, "Tools", "tools"),
        (CatalogView::Resources, "Resources", "resources"),
        (CatalogView::Prompts, "Prompts", "prompts"),
    ];
    let hides = move |view: CatalogView| move || catalog.get() != view;
    view! {
        <aside class="mc-catalog" aria-label="Catalog">
            <div class="mc-switch" role="tablist" aria-label="Catalog">
                {views
                    .into_iter()
                    .map(|(view, name, key)| {
                        view! {
                            <button
                                type="button"
                                role="tab"
                                data-testid=format!("catalog-{key}")
                                aria-selected=move || (catalog.get() == view).to_string()
                                on:click=move |_| catalog.set(view)
                            >
                                {name}
                                {move || counted(view).map(|n| format!(" {n}"))}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            <div class="mc-catalog__view" hidden=hides(CatalogView::Tools)>
                <tool_list::ToolList />
            </div>
            <div class="mc-catalog__view" hidden=hides(CatalogView::Resources)>
                <catalog::ResourceList />
                <catalog::TemplateList />
            </div>
            <div class="mc-catalog__view" hidden=hides(CatalogView::Prompts)>
                <catalog::PromptList />
            </div>
        </aside>
    }
}

/// The panes below the work area — history, log, sign-in, server — each behind its tab; pressing
/// the open one's tab closes it.
#[component]
fn Drawer(pane: RwSignal<Option<Pane>>) -> impl IntoView {
    let console = expect_context::<Console>();
    let workspace = expect_context::<Workspace>();
    // The sign-in's view is the front tab's: only that tab draws it.
    let front = move || workspace.tabs.with(|t| t.front_id() == Some(console.tab));
    let hidden = move |p: Pane| move || pane.get() != Some(p);
    let count = move |p: Pane| {
        console.state.with(|s| match p {
            Pane::History => Some(s.traffic.len()),
            Pane::Log => Some(s.log.len()).filter(|n| *n > 0),
            Pane::SignIn | Pane::Server => None,
        })
    };
    view! {
        <div class="mc-drawer" class:mc-drawer--open=move || pane.get().is_some()>
            <div class="mc-switch" role="tablist" aria-label="Panes">
                {Pane::ALL
                    .into_iter()
                    .map(|p| {
                        view! {
                            <button
                                type="button"
                                role="tab"
                                data-testid=format!("pane-{}", p.name())
                                aria-selected=move || (pane.get() == Some(p)).to_string()
                                on:click=move |_| pane.update(|open| *open = p.toggled(*open))
                            >
                                {p.name()}
                                {move || count(p).map(|n| format!(" {n}"))}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            <div class="mc-pane" data-pane="History" hidden=hidden(Pane::History)>
                <history::HistoryPanel />
            </div>
            <div class="mc-pane" data-pane="Log" hidden=hidden(Pane::Log)>
                <log_panel::LogPanel />
            </div>
            <div class="mc-pane" data-pane="Sign-in" hidden=hidden(Pane::SignIn)>
                <Show when=front>
                    <auth::AuthDetails />
                </Show>
            </div>
            <div class="mc-pane" data-pane="Server" hidden=hidden(Pane::Server)>
                <server_panel::ServerPanel />
                <asks::RootsEditor />
            </div>
        </div>
    }
}

/// The theme toggle: the system's colours, light or dark; the choice is kept for the next visit.
#[component]
fn ThemeToggle() -> impl IntoView {
    let theme = RwSignal::new(Theme::parse(&page::saved_theme()));
    Effect::new(move |_| page::show_theme(theme.get().name()));
    let next = move |_| {
        theme.update(|t| *t = t.next());
        let chosen = theme.get_untracked();
        page::keep_theme(chosen.name(), chosen == Theme::System);
    };
    view! {
        <button
            type="button"
            class="mc-secondary mc-theme"
            data-testid="theme"
            aria-label=move || format!("Theme: {} (press for the next)", theme.get().name())
            title="Theme: system, light or dark"
            on:click=next
        >
            {move || match theme.get() {
                Theme::System => "◐",
                Theme::Light => "☀",
                Theme::Dark => "☾",
            }}
        </button>
    }
}

/// The page's keys: `/` opens the front tab's tool filter, wherever the person is not typing.
fn keyboard(workspace: Workspace) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() != "/" || ev.ctrl_key() || ev.meta_key() || ev.alt_key() || page::typing(&ev) {
            return;
        }
        let Some(tab) = workspace.tabs.with_untracked(|t| t.front().map(|f| f.payload.clone()))
        else {
            return;
        };
        ev.prevent_default();
        tab.catalog.set(CatalogView::Tools);
        page::focus(&format!("tool-filter-{}", tab.console.tab));
    });
    // The listener lives as long as the page.
    std::mem::forget(handle);
}
