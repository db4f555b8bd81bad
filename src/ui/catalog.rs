//! The server's resources and prompts beside its tools: reading a resource is one click; a
//! prompt opens with a form for its arguments. Results go to the same history as tool calls.

use crate::core::console::CallKind;
use crate::core::launch::Opened;
use crate::core::schema_form::{self, FieldError, FormValues};
use crate::core::session::RequestOptions;
use crate::ui::Console;
use crate::ui::calls::Selected;
use crate::ui::form::FormFields;
use leptos::prelude::*;
use serde_json::{Map, Value, json};

/// Reads resource `uri` again because the server said it changed; the read takes the place of
/// the earlier ones in the history.
pub fn reread(console: Console, uri: &str) {
    let params = Some(json!({ "uri": uri }));
    let sent = console.with_connection(|c| {
        c.with_session(|s, now| s.request("resources/read", params, RequestOptions::default(), now))
    });
    match sent {
        Some(Ok(id)) => console.state.update(|s| s.reread_started(id, uri)),
        Some(Err(e)) => console.state.update(|s| s.notice = Some(e.to_string())),
        None => {}
    }
}

/// Sends a request from the catalog and records it in the history, showing `args` beside it.
fn send(
    console: Console,
    kind: CallKind,
    label: &str,
    method: &str,
    params: Value,
    args: Map<String, Value>,
) -> Option<String> {
    let sent = console.with_connection(|c| {
        c.with_session(|s, now| s.request(method, Some(params), RequestOptions::default(), now))
    });
    match sent {
        Some(Ok(id)) => {
            console.state.update(|s| s.request_started(id, kind, label, args));
            None
        }
        Some(Err(e)) => Some(e.to_string()),
        None => Some("Not connected: connect to a server first.".into()),
    }
}

/// The resources the server lists; clicking one reads it.
#[component]
pub fn ResourceList() -> impl IntoView {
    let console = expect_context::<Console>();
    // Redrawn when the list changes (compared by address), not on every change of the state.
    let resources = Memo::new(move |_| console.state.with(|s| s.resources.clone()));
    move || {
        resources.with(|resources| {
            resources.as_ref().map(|resources| {
                let heading = format!("Resources ({})", resources.len());
                let items = resources
                    .iter()
                    .map(|r| {
                        let uri = r.uri.clone();
                        let name = if r.name.is_empty() { r.uri.clone() } else { r.name.clone() };
                        let description = r.description.clone().unwrap_or_default();
                        view! {
                            <li class="mc-tool" data-testid="resource">
                                <button type="button" class="mc-tool__pick" data-testid="resource-read"
                                    on:click=move |_| {
                                        let params = json!({ "uri": uri });
                                        if let Some(p) = send(console, CallKind::Resource, &uri, "resources/read", params, Map::new()) {
                                            console.state.update(|s| s.notice = Some(p));
                                        }
                                    }>
                                    <span class="mc-tool__name" data-testid="resource-name">{name}</span>
                                </button>
                                <p class="mc-tool__description">{description}</p>
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <section class="mc-tools" aria-labelledby=format!("resources-{}", console.tab)>
                        <h2 id=format!("resources-{}", console.tab)>{heading}</h2>
                        <ul class="mc-tool-list" data-testid="resources">{items}</ul>
                    </section>
                }
            })
        })
    }
}

/// The prompts the server lists; clicking one opens it in the call panel.
#[component]
pub fn PromptList() -> impl IntoView {
    let console = expect_context::<Console>();
    let selected = expect_context::<Selected>();
    // As for resources.
    let prompts = Memo::new(move |_| console.state.with(|s| s.prompts.clone()));
    move || {
        prompts.with(|prompts| {
            prompts.as_ref().map(|prompts| {
                let heading = format!("Prompts ({})", prompts.len());
                let items = prompts
                    .iter()
                    .map(|p| {
                        let name = p.name.clone();
                        let pick = p.name.clone();
                        let description = p.description.clone().unwrap_or_default();
                        view! {
                            <li class="mc-tool" data-testid="prompt">
                                <button type="button" class="mc-tool__pick" data-testid="prompt-pick"
                                    on:click=move |_| selected.0.set(Some(Opened::Prompt(pick.clone())))>
                                    <span class="mc-tool__name" data-testid="prompt-name">{name}</span>
                                </button>
                                <p class="mc-tool__description">{description}</p>
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <section class="mc-tools" aria-labelledby=format!("prompts-{}", console.tab)>
                        <h2 id=format!("prompts-{}", console.tab)>{heading}</h2>
                        <ul class="mc-tool-list" data-testid="prompts">{items}</ul>
                    </section>
                }
            })
        })
    }
}

/// The open prompt: a form for its arguments and a Get button.
#[component]
pub fn PromptPanel() -> impl IntoView {
    let console = expect_context::<Console>();
    let selected = expect_context::<Selected>();
    // As for the open tool: looked up again only when the list or the choice changes.
    let prompts = Memo::new(move |_| console.state.with(|s| s.prompts.clone()));
    let prompt = Memo::new(move |_| {
        let Some(Opened::Prompt(name)) = selected.0.get() else { return None };
        prompts.with(|p| p.as_ref()?.iter().find(|p| p.name == name).cloned())
    });
    let values = RwSignal::new(FormValues::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let problem = RwSignal::new(None::<String>);
    move || {
        prompt.get().map(|p| {
            let form = schema_form::form_for(&p.arguments_schema());
            values.set(schema_form::defaults(&form));
            let fields = form.fields.clone();
            let name = p.name.clone();
            let submit = move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                match schema_form::to_arguments(&form, &values.get_untracked()) {
                    Ok(args) => {
                        errors.set(Vec::new());
                        let params = json!({ "name": name, "arguments": args.clone() });
                        problem.set(send(console, CallKind::Prompt, &name, "prompts/get", params, args));
                    }
                    Err(e) => errors.set(e),
                }
            };
            view! {
                <form class="mc-call-form" data-testid="prompt-form" on:submit=submit>
                    <h2>{p.title.clone().unwrap_or_else(|| p.name.clone())}</h2>
                    <p class="mc-tool__description">{p.description.clone().unwrap_or_default()}</p>
                    <FormFields fields values errors />
                    {move || problem.get().map(|t| view! { <p class="mc-notice" role="alert">{t}</p> })}
                    <button type="submit" data-testid="prompt-get">"Get prompt"</button>
                </form>
            }
        })
    }
}
