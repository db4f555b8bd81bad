//! The console driven by the portal that frames it (`core::embed`, docs/embedding.md): the
//! host's commands act on the tab in front as the person's clicks would, within the trust rules
//! (`Deployment::host`), and the host hears how that tab's connection, sign-in and its calls
//! went. What was ignored is counted in the page.

use crate::core::auth::trust::Deployment;
use crate::core::embed::{
    Command, Embedding, Event, HostId, Post, Received, Refusal, host_may_call,
};
use crate::platform::embed::{self as web_embed, Incoming};
use crate::ui::{Workspace, connect};
use leptos::prelude::*;

/// The embedding's state and what the page shows of it.
#[derive(Clone, Copy)]
pub struct Embed {
    embedding: StoredValue<Embedding, LocalStorage>,
    deployment: StoredValue<Deployment, LocalStorage>,
    /// The messages ignored, by reason, for the page to say.
    pub refused: RwSignal<Vec<(Refusal, u32)>>,
    /// Moved after each command, so the host hears at once where its tab stands.
    performed: RwSignal<u32>,
}

/// Listens to the host page, when the console is framed and `config.json` lists who may drive
/// it (`origins`); says `ready`; follows the tab in front for the host from then on.
pub fn start(workspace: Workspace, deployment: Deployment, origins: Vec<String>) -> Option<Embed> {
    if origins.is_empty() || !web_embed::framed() {
        return None;
    }
    let embed = Embed {
        embedding: StoredValue::new_local(Embedding::new(origins)),
        deployment: StoredValue::new_local(deployment),
        refused: RwSignal::new(Vec::new()),
        performed: RwSignal::new(0),
    };
    let listening = web_embed::listen(move |incoming| embed.receive(workspace, &incoming));
    // Listened to as long as the page lives.
    std::mem::forget(listening);
    let parent = web_embed::parent_origin();
    for post in embed.embedding.with_value(|e| e.ready(parent.as_deref())) {
        web_embed::post(&post.target, &post.text);
    }
    // The host hears of every change of its tab, and of the sign-in for that tab's server.
    Effect::new(move |_| {
        embed.performed.track();
        let Some(tab) = embed.embedding.with_value(Embedding::bound_tab) else { return };
        let Some(state) = workspace.tab(tab).map(|t| t.console.state) else { return };
        let server = workspace.tabs.with(|t| t.get(tab).and_then(|t| t.server.clone()));
        let server = server.map(|s| s.to_string());
        let mut events = state
            .with(|s| embed.embedding.try_update_value(|e| e.follow(tab, server.as_deref(), s)))
            .unwrap_or_default();
        let view = workspace.auth.view;
        let sign_in = view.with(|v| {
            // The Auth view is the front tab's: said only while that is the host's server.
            let ours = server.is_some() && v.server == server;
            ours.then(|| {
                embed
                    .embedding
                    .try_update_value(|e| e.follow_sign_in(v.server.as_deref(), &v.status))
            })
        });
        events.extend(sign_in.flatten().flatten());
        for event in events {
            embed.tell(workspace, event);
        }
    });
    Some(embed)
}

impl Embed {
    fn receive(self, workspace: Workspace, incoming: &Incoming) {
        // Sandboxed frames (an MCP App's among them) speak from the opaque origin: never the
        // host, and not a page to count either.
        if incoming.origin == "null" {
            return;
        }
        let received = self.embedding.try_update_value(|e| {
            e.receive(&incoming.origin, incoming.from_parent, || incoming.text())
        });
        match received {
            Some(Ok(received)) => {
                self.perform(workspace, received);
                self.performed.update(|n| *n = n.wrapping_add(1));
            }
            Some(Err(_)) => {
                let counts = self.embedding.with_value(Embedding::refusals);
                self.refused.set(counts);
            }
            None => {}
        }
    }

    /// `event` to the host, unless it would carry a token or secret the page keeps.
    fn tell(self, workspace: Workspace, event: Event) {
        let reveals = |text: &str| workspace.auth.with(|m, _| m.reveals_secret(text));
        let post: Option<Post> = self.embedding.with_value(|e| e.post(event, reveals));
        if let Some(post) = post {
            web_embed::post(&post.target, &post.text);
        }
    }

    fn refuse(self, workspace: Workspace, id: Option<HostId>, message: String) {
        self.tell(workspace, Event::Error { id, message });
    }

    /// Does what the host asked, on the tab in front, as the person's clicks would.
    fn perform(self, workspace: Workspace, Received { id, command }: Received) {
        let Some(front) = workspace.tabs.with_untracked(|t| t.front_id()) else { return };
        let open = |tab| workspace.tab(tab).is_some();
        let bound = self.embedding.try_update_value(|e| e.tab(front, open));
        let Some(tab) = bound.and_then(|tab| workspace.tab(tab)) else { return };
        match command {
            Command::Hello => {
                let posts = self.embedding.with_value(|e| e.ready(None));
                for post in posts {
                    web_embed::post(&post.target, &post.text);
                }
            }
            Command::SetServer { server, sign_in, redirect_uri } => {
                let hosted = self
                    .deployment
                    .with_value(|d| d.host(&server, sign_in, redirect_uri.as_deref()));
                let hosted = match hosted {
                    Ok(hosted) => hosted,
                    Err(e) => return self.refuse(workspace, id, e.to_string()),
                };
                if let Some(ignored) = hosted.ignored {
                    let sentence = ignored.to_string();
                    tab.console.state.update(|s| s.notice = Some(sentence.clone()));
                    self.refuse(workspace, id, sentence);
                }
                if let Some(settings) = hosted.proposal {
                    let server = hosted.server.clone();
                    workspace.auth.with(|m, _| m.propose_from_host(server, settings));
                }
                tab.url.set(hosted.server.to_string());
                workspace.show_front();
            }
            Command::Connect => connect(workspace, tab.console.tab),
            Command::Disconnect => tab.console.disconnect(),
            Command::CallTool { name, arguments } => {
                let Some(id) = id else { return };
                let allowed = tab.console.state.with_untracked(|s| {
                    let tools = s.tools.as_deref().unwrap_or_default();
                    host_may_call(tools, &name, workspace.ask_first.get_untracked())
                });
                if let Err(message) = allowed {
                    return self.tell(workspace, Event::CallError { id, message });
                }
                let console = tab.console;
                let sent = console.with_connection(|c| {
                    c.with_session(|session, now| session.call_tool(&name, arguments.clone(), now))
                });
                match sent {
                    Some(Ok(request)) => {
                        console.state.update(|s| s.call_started(request.clone(), &name, arguments));
                        let generation = console.state.with_untracked(|s| s.generation);
                        let started = self
                            .embedding
                            .try_update_value(|e| e.call_started(id, generation, request, &name));
                        if let Some(started) = started {
                            self.tell(workspace, started);
                        }
                    }
                    Some(Err(e)) => {
                        self.tell(workspace, Event::CallError { id, message: e.to_string() })
                    }
                    None => self.tell(
                        workspace,
                        Event::CallError {
                            id,
                            message: "Not connected: connect to a server first.".into(),
                        },
                    ),
                }
            }
        }
    }
}

/// What the page says of the messages it ignored.
#[component]
pub fn Refusals(embed: Embed) -> impl IntoView {
    let said = move || {
        embed.refused.with(|counts| {
            let total: u32 = counts.iter().map(|(_, n)| n).sum();
            let parts: Vec<String> =
                counts.iter().map(|(why, n)| format!("{n} {}", why.reason())).collect();
            (total > 0).then(|| format!("Ignored {total} message(s): {}.", parts.join("; ")))
        })
    };
    view! {
        <Show when=move || said().is_some()>
            <p class="mc-muted mc-refused" role="status" data-testid="embed-refused">
                {said}
            </p>
        </Show>
    }
}
