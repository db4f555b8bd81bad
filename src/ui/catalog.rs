//! The server's resources and prompts beside its tools: reading a resource is one click; a
//! prompt opens with a form for its arguments. Results go to the same history as tool calls.

use crate::core::console::{CallKind, CompletionRef, completion_params};
use crate::core::launch::Opened;
use crate::core::schema_form::{self, FieldError, FieldValue, FormValues};
use crate::core::session::RequestOptions;
use crate::core::uri_template::UriTemplate;
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

/// Asks the server for suggestions for `name` (being `value`) after the person stops typing for a
/// moment; a newer keystroke makes an older ask stale, and one still waiting is cancelled.
fn suggest(
    console: Console,
    of: CompletionRef<'_>,
    field: String,
    name: String,
    value: String,
    typed: Map<String, Value>,
) {
    let offers = console
        .state
        .with_untracked(|s| s.server.as_ref().is_some_and(|v| v.has_capability("completions")));
    if !offers {
        return;
    }
    let params = completion_params(of, &name, &value, &typed);
    let sent = console.with_connection(|c| {
        c.with_session(|s, now| {
            s.request("completion/complete", Some(params), RequestOptions::default(), now)
        })
    });
    if let Some(Ok(id)) = sent {
        let stale = console.state.try_update(|s| s.completion_started(&field, id)).flatten();
        if let Some(stale) = stale {
            console.with_connection(|c| {
                c.with_session(|s, now| s.cancel(&stale, "a newer keystroke", now))
            });
        }
    }
}

/// How long typing must pause before suggestions are asked for.
const SUGGEST_AFTER: std::time::Duration = std::time::Duration::from_millis(300);

/// The resource templates the server lists: each opens a form for its variables (with the
/// server's suggestions while typing) and reads the resource the filled-in template names.
#[component]
pub fn TemplateList() -> impl IntoView {
    let console = expect_context::<Console>();
    let templates = Memo::new(move |_| console.state.with(|s| s.templates.clone()));
    let open = RwSignal::new(None::<String>);
    move || {
        templates.with(|templates| {
            let templates = templates.as_ref().filter(|t| !t.is_empty())?;
            let heading = format!("Resource templates ({})", templates.len());
            let items = templates
                .iter()
                .map(|t| {
                    let uri_template = t.uri_template.clone();
                    let name = if t.name.is_empty() { t.uri_template.clone() } else { t.name.clone() };
                    let description = t.description.clone().unwrap_or_default();
                    let key = uri_template.clone();
                    let is_open = Signal::derive(move || open.with(|o| o.as_deref() == Some(key.as_str())));
                    let toggle = uri_template.clone();
                    view! {
                        <li class="mc-tool" data-testid="template">
                            <button type="button" class="mc-tool__pick" data-testid="template-open"
                                aria-expanded=move || is_open.get().to_string()
                                on:click=move |_| open.update(|o| {
                                    *o = if o.as_deref() == Some(toggle.as_str()) { None } else { Some(toggle.clone()) }
                                })>
                                <span class="mc-tool__name" data-testid="template-name">{name}</span>
                            </button>
                            <p class="mc-tool__description"><code>{uri_template.clone()}</code> " " {description}</p>
                            {move || is_open.get().then(|| view! { <TemplateForm uri_template=uri_template.clone() /> })}
                        </li>
                    }
                })
                .collect_view();
            Some(view! {
                <section class="mc-tools" aria-labelledby=format!("templates-{}", console.tab)>
                    <h2 id=format!("templates-{}", console.tab)>{heading}</h2>
                    <ul class="mc-tool-list" data-testid="templates">{items}</ul>
                </section>
            })
        })
    }
}

/// The variables of one template, and Read.
#[component]
fn TemplateForm(
    /// The RFC 6570 template, as the server sent it.
    uri_template: String,
) -> impl IntoView {
    let console = expect_context::<Console>();
    let template = match UriTemplate::parse(&uri_template) {
        Ok(t) => t,
        Err(e) => return view! { <p class="mc-notice">{e.to_string()}</p> }.into_any(),
    };
    let values = RwSignal::new(Map::<String, Value>::new());
    let typed = RwSignal::new(0u64);
    let of = StoredValue::new(uri_template.clone());
    let fields = template
        .variables()
        .into_iter()
        .map(|name| {
            let id = crate::ui::unique_id("var");
            let list = format!("{id}-suggestions");
            let field = format!("{uri_template} {name}");
            let (for_input, for_list) = (field.clone(), field);
            let key = name.clone();
            view! {
                <label for=id.clone()>{name.clone()}</label>
                <input id=id type="text" list=list.clone() data-testid="template-var" data-var=name.clone()
                    on:input=move |ev| {
                        let value = event_target_value(&ev);
                        values.update(|v| { v.insert(key.clone(), Value::String(value.clone())); });
                        let generation = typed.get_untracked() + 1;
                        typed.set(generation);
                        let (field, name) = (for_input.clone(), key.clone());
                        set_timeout(move || {
                            if typed.get_untracked() == generation {
                                of.with_value(|of| {
                                    let typed = values.get_untracked();
                                    suggest(console, CompletionRef::Template(of), field, name, value, typed);
                                });
                            }
                        }, SUGGEST_AFTER);
                    } />
                <datalist id=list data-testid="template-suggestions">
                    {move || console.state.with(|s| {
                        if s.suggestions.field == for_list { s.suggestions.values.clone() } else { Vec::new() }
                    })
                    .into_iter()
                    .map(|v| view! { <option value=v></option> })
                    .collect_view()}
                </datalist>
            }
        })
        .collect_view();
    let read = move |_| {
        let uri = template.expand(|name| {
            values.with_untracked(|v| v.get(name).and_then(Value::as_str).map(str::to_owned))
        });
        let args = values.get_untracked();
        if let Some(p) =
            send(console, CallKind::Resource, &uri, "resources/read", json!({ "uri": uri }), args)
        {
            console.state.update(|s| s.notice = Some(p));
        }
    };
    view! {
        <div class="mc-template-form" data-testid="template-form">
            {fields}
            <button type="button" data-testid="template-read" on:click=read>"Read"</button>
        </div>
    }
    .into_any()
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
    // Suggestions for the argument being typed, asked after a pause.
    let typed = RwSignal::new(0u64);
    let last = StoredValue::new(FormValues::new());
    Effect::new(move |_| {
        let now = values.get();
        let change = last.with_value(|before| schema_form::typed_in(before, &now));
        last.set_value(now.clone());
        let (Some((key, text)), Some(p)) = (change, prompt.get_untracked()) else { return };
        let Some(argument) = schema_form::argument_of(&key) else { return };
        let generation = typed.get_untracked() + 1;
        typed.set(generation);
        set_timeout(
            move || {
                if typed.get_untracked() == generation {
                    // The field's key, so a suggestion picked goes back into it.
                    let field = format!("{} {key}", p.name);
                    let of = CompletionRef::Prompt(&p.name);
                    suggest(console, of, field, argument, text, schema_form::texts(&now));
                }
            },
            SUGGEST_AFTER,
        );
    });
    let suggestions = move || {
        console.state.with(|s| {
            let (name, key) = s.suggestions.field.rsplit_once(' ')?;
            let open = prompt.with(|p| p.as_ref().is_some_and(|p| p.name == name));
            (open && !s.suggestions.values.is_empty())
                .then(|| (key.to_owned(), s.suggestions.values.clone()))
        })
    };
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
                    {move || suggestions().map(|(argument, offered)| {
                        let named = schema_form::argument_of(&argument).unwrap_or_default();
                        let label = format!("Suggestions for {named}:");
                        view! {
                            <p class="mc-suggestions" data-testid="prompt-suggestions">
                                {label}
                                {offered.into_iter().map(|value| {
                                    let (key, chosen) = (argument.clone(), value.clone());
                                    view! {
                                        " "
                                        <button type="button" class="mc-secondary" data-testid="prompt-suggestion"
                                            on:click=move |_| values.update(|v| { v.insert(key.clone(), FieldValue::Text(chosen.clone())); })>
                                            {value}
                                        </button>
                                    }
                                }).collect_view()}
                            </p>
                        }
                    })}
                    {move || problem.get().map(|t| view! { <p class="mc-notice" role="alert">{t}</p> })}
                    <button type="submit" data-testid="prompt-get">"Get prompt"</button>
                </form>
            }
        })
    }
}
