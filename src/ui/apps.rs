//! MCP Apps (`core::apps`): a tool result that points at a `ui://` resource is shown in an app
//! view. The console reads the resource (a request in the list, like any other), runs its HTML in
//! `sandbox.html` inside `<iframe sandbox="allow-scripts">` — an opaque origin, under the policy
//! the resource declares — and speaks to it only through the bridge: the app's tool calls go to
//! this tab's server and show in the list, links open only when the person clicks them, its
//! messages show here, sizes move the frame.

use crate::core::apps::{AppError, AppResource, Bridge, BridgeAction, Theme, app_uri};
use crate::core::console::{CallKind, CallState};
use crate::core::jsonrpc::RequestId;
use crate::core::session::RequestOptions;
use crate::platform::frames;
use crate::platform::messages::Listening;
use crate::platform::page;
use crate::ui::Console;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Map, Value, json};

/// The app tool `name` points at, if it names one: `Ok(None)` for a tool without an app.
pub fn app_of(console: Console, name: &str) -> Result<Option<String>, AppError> {
    console.state.with_untracked(|s| {
        let tool = s.tools.as_deref().and_then(|tools| tools.iter().find(|t| t.name == name));
        match tool.map(app_uri) {
            Some(Ok(uri)) => Ok(uri.map(str::to_owned)),
            Some(Err(e)) => Err(e),
            None => Ok(None),
        }
    })
}

/// Where the app view stands.
#[derive(Clone, PartialEq)]
enum Shown {
    Loading,
    Failed(String),
    Running,
    Closed,
}

/// A request of the console's on the app's behalf, awaited in the tab's state.
enum Awaited {
    /// The read of the app's own resource.
    Resource,
    /// A tool call the app asked for, answered to the app under its id.
    Call(RequestId),
}

/// The app `uri` for a tool call that took `arguments` and returned `result`.
#[component]
pub fn AppView(uri: String, arguments: Map<String, Value>, result: Value) -> impl IntoView {
    let console = expect_context::<Console>();
    let shown = RwSignal::new(Shown::Loading);
    let bridge = StoredValue::new_local(None::<Bridge>);
    let awaited = StoredValue::new_local(Vec::<(RequestId, Awaited)>::new());
    let listening = StoredValue::new_local(None::<Listening>);
    let frame = NodeRef::<leptos::html::Iframe>::new();
    let height = RwSignal::new(160u32);
    let link = RwSignal::new(None::<(RequestId, String)>);
    let said = RwSignal::new(Vec::<String>::new());
    let label = uri.clone();

    // What the bridge has for the frame goes there.
    let flush = move || {
        let Some(element) = frame.get_untracked() else { return };
        while let Some(text) = bridge.try_update_value(|b| b.as_mut()?.poll_message()).flatten() {
            frames::post(&element, &text);
        }
    };
    let answer = move |id: &RequestId, outcome: Result<Value, String>| {
        bridge.update_value(|b| {
            if let Some(b) = b {
                b.answer(id, outcome);
            }
        });
        flush();
    };
    let app = StoredValue::new(uri.clone());
    let request = {
        move |kind: CallKind, label: &str, method: &str, params: Value, awaits: Awaited| {
            let arguments = params.as_object().cloned().unwrap_or_default();
            let sent = console.with_connection(|c| {
                c.with_session(|s, now| match kind {
                    CallKind::Tool => {
                        let name = params["name"].as_str().unwrap_or_default();
                        let args = params["arguments"].as_object().cloned().unwrap_or_default();
                        s.call_tool(name, args, now)
                    }
                    _ => s.request(method, Some(params.clone()), RequestOptions::default(), now),
                })
            });
            match sent {
                Some(Ok(id)) => {
                    app.with_value(|uri| {
                        console.state.update(|s| {
                            s.app_request_started(id.clone(), kind, label, arguments, uri)
                        })
                    });
                    awaited.update_value(|a| a.push((id, awaits)));
                    Ok(())
                }
                Some(Err(e)) => Err(e.to_string()),
                None => Err("Not connected: connect to the server again to use the app.".into()),
            }
        }
    };

    // The app's HTML, read once the list has drawn (not while it draws).
    {
        let uri = uri.clone();
        spawn_local(async move {
            let read = request(
                CallKind::Resource,
                &uri,
                "resources/read",
                json!({ "uri": uri }),
                Awaited::Resource,
            );
            if let Err(sentence) = read {
                shown.set(Shown::Failed(sentence));
            }
        });
    }

    // Answers to what the app waits on, as they come into the tab's state.
    Effect::new(move |_| {
        let ended = console.state.with(|s| {
            awaited.try_update_value(|a| {
                let mut ended = Vec::new();
                let mut i = 0;
                while i < a.len() {
                    let outcome = match s.call(&a[i].0).map(|c| &c.state) {
                        Some(CallState::Running { .. }) => {
                            i += 1;
                            continue;
                        }
                        Some(CallState::Done(result)) => Ok(result.clone()),
                        Some(CallState::Failed(sentence)) => Err(sentence.clone()),
                        None => Err("The console no longer has this request.".to_owned()),
                    };
                    ended.push((a.remove(i).1, outcome));
                }
                ended
            })
        });
        for (what, outcome) in ended.unwrap_or_default() {
            match what {
                Awaited::Resource => {
                    let read = outcome
                        .and_then(|r| AppResource::read(&label, r).map_err(|e| e.to_string()));
                    match read {
                        Ok(resource) => {
                            let theme = if page::dark() { Theme::Dark } else { Theme::Light };
                            let mut b = Bridge::new(&resource, theme);
                            b.tool_input(arguments.clone());
                            b.tool_result(result.clone());
                            bridge.set_value(Some(b));
                            shown.set(Shown::Running);
                        }
                        Err(sentence) => shown.set(Shown::Failed(sentence)),
                    }
                }
                Awaited::Call(app_id) => answer(&app_id, outcome),
            }
        }
    });

    // What the app asks for.
    let act = move |action: BridgeAction| match action {
        BridgeAction::CallTool { id, name, arguments } => {
            let ask_first = console.workspace.ask_first.get_untracked();
            let asks = console.state.with_untracked(|s| {
                let tools = s.tools.as_deref().unwrap_or_default();
                tools.iter().any(|t| t.name == name && t.needs_confirmation())
            });
            if ask_first && asks {
                let sentence = format!(
                    "{name} may delete or change things or reach outside the server, so it runs only from the console, once the person confirms it."
                );
                return answer(&id, Err(sentence));
            }
            let params = json!({ "name": name, "arguments": arguments });
            if let Err(sentence) =
                request(CallKind::Tool, &name, "tools/call", params, Awaited::Call(id.clone()))
            {
                answer(&id, Err(sentence));
            }
        }
        BridgeAction::OpenLink { id, url } => link.set(Some((id, url))),
        BridgeAction::Message { id, text } => {
            said.update(|s| s.push(text));
            answer(&id, Ok(json!({})));
        }
        BridgeAction::Resize { height: Some(h), .. } => height.set(h),
        BridgeAction::Resize { .. } => {}
        BridgeAction::Log(line) => console.state.update(|s| s.log_line(line)),
        BridgeAction::CloseRequested => {
            let waits = bridge
                .try_update_value(|b| b.as_mut().map(|b| b.teardown("the app asked to close")));
            flush();
            if waits.flatten() != Some(true) {
                shown.set(Shown::Closed);
            }
        }
        BridgeAction::Closed => shown.set(Shown::Closed),
    };

    // The frame's messages, from the moment it exists.
    Effect::new(move |_| {
        let Some(element) = frame.get() else { return };
        if listening.with_value(Option::is_some) {
            return;
        }
        let on_text = move |text: String| {
            let tools = console.state.with_untracked(|s| s.tools.clone()).unwrap_or_default();
            let action = bridge.try_update_value(|b| b.as_mut()?.receive(&text, &tools)).flatten();
            if let Some(action) = action {
                act(action);
            }
            flush();
        };
        listening.set_value(frames::listen(element, on_text));
    });

    let open_link = move || {
        if let Some((id, _)) = link.get_untracked() {
            link.set(None);
            answer(&id, Ok(json!({})));
        }
    };
    let decline_link = move || {
        if let Some((id, _)) = link.get_untracked() {
            link.set(None);
            answer(&id, Err("The person chose not to open the link.".to_owned()));
        }
    };
    let close = move |_| {
        let waits = bridge
            .try_update_value(|b| b.as_mut().map(|b| b.teardown("the person closed the app")));
        flush();
        if waits.flatten() != Some(true) {
            shown.set(Shown::Closed);
        }
    };
    let title = format!("App {uri}");
    let frame_title = title.clone();
    view! {
        <section class="mc-app" aria-label=title data-testid="app">
            <p class="mc-app__head">
                "App " <code>{uri.clone()}</code>
                <Show when=move || shown.get() == Shown::Running>
                    <button type="button" class="mc-secondary" data-testid="app-close" on:click=close>
                        "Close the app"
                    </button>
                </Show>
            </p>
            {move || match shown.get() {
                Shown::Loading => Some(view! { <p class="mc-muted">"Loading the app…"</p> }.into_any()),
                Shown::Failed(sentence) => Some(view! {
                    <p class="mc-call__failed" role="alert" data-testid="app-failed">{sentence}</p>
                }.into_any()),
                Shown::Closed => Some(view! { <p class="mc-muted" data-testid="app-closed">"The app is closed."</p> }.into_any()),
                Shown::Running => None,
            }}
            <Show when=move || shown.get() == Shown::Running>
                <iframe
                    node_ref=frame
                    class="mc-app__frame"
                    data-testid="app-frame"
                    src="sandbox.html"
                    sandbox="allow-scripts"
                    title=frame_title.clone()
                    style:height=move || format!("{}px", height.get())
                ></iframe>
            </Show>
            {move || link.get().map(|(_, url)| view! {
                <div class="mc-confirm" role="alertdialog" aria-label="The app asks to open a link" data-testid="app-link"
                    on:keydown=move |ev| if ev.key() == "Escape" { decline_link() }>
                    <p>"The app asks to open " <code data-testid="app-link-url">{url.clone()}</code> ". Open it?"</p>
                    <a class="mc-primary" href=url target="_blank" rel="noopener noreferrer"
                        data-testid="app-link-open" on:click=move |_| open_link()>"Open the link"</a>
                    <button type="button" class="mc-secondary" data-testid="app-link-decline"
                        on:click=move |_| decline_link()>"Don't open it"</button>
                </div>
            })}
            <ul class="mc-app__said" data-testid="app-messages">
                {move || said.get().into_iter().map(|text| view! { <li>"The app says: " {text}</li> }).collect_view()}
            </ul>
        </section>
    }
}
