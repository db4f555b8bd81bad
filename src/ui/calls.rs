//! Calling a tool: the chosen tool's arguments editor and Call button, and every call made with
//! its progress bar, Cancel button and result.

use crate::core::console::{Call, CallKind, CallState, OutputCheck, parse_arguments};
use crate::core::json::number_text;
use crate::core::launch::Opened;
use crate::core::protocol::Tool;
use crate::core::schema_form::{self, FieldError, FieldKind, Form, FormValues};
use crate::ui::Console;
use crate::ui::content::{PromptResult, ResourceResult, ToolResult};
use crate::ui::form::FormFields;
use leptos::prelude::*;
use serde_json::{Map, Value};

/// True when the form is just one raw-JSON box: the JSON editor is then the better view.
fn is_raw(form: &Form) -> bool {
    form.fields.len() == 1
        && form.fields[0].key.is_empty()
        && form.fields[0].kind == FieldKind::Json
}

/// The tool or prompt open in the call panel.
#[derive(Clone, Copy)]
pub struct Selected(pub RwSignal<Option<Opened>>);

/// A call from the history to put into the call form: the tool and its arguments.
#[derive(Clone, Copy)]
pub struct Replay(pub RwSignal<Option<(String, Value)>>);

/// An argument skeleton for a tool: each property with its default, or an empty value of its
/// type, so a person edits instead of typing from nothing.
fn skeleton(tool: &Tool) -> String {
    let mut out = Map::new();
    if let Some(Value::Object(props)) = tool.input_schema.get("properties") {
        for (name, schema) in props {
            let value = schema.get("default").cloned().unwrap_or_else(|| {
                match schema.get("type").and_then(Value::as_str) {
                    Some("string") => Value::from(""),
                    Some("number") | Some("integer") => Value::from(0),
                    Some("boolean") => Value::from(false),
                    Some("array") => Value::Array(Vec::new()),
                    Some("object") => Value::Object(Map::new()),
                    _ => Value::Null,
                }
            });
            out.insert(name.clone(), value);
        }
    }
    serde_json::to_string_pretty(&Value::Object(out)).unwrap_or_else(|_| "{}".into())
}

/// The panel for the selected tool and the calls made so far.
#[component]
pub fn CallPanel() -> impl IntoView {
    let console = expect_context::<Console>();
    let selected = expect_context::<Selected>();
    let replay = expect_context::<Replay>();
    let arguments = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    // The form view of the arguments, when the schema can be shown as one.
    let use_form = RwSignal::new(true);
    let values = RwSignal::new(FormValues::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    // A destructive or open-world tool waits here for the person's yes.
    let confirming = RwSignal::new(false);
    let ask_first = console.workspace.ask_first;

    // The list is compared by address: the open tool is looked up again only when the list or
    // the choice changes, not on every change of the state.
    let tools = Memo::new(move |_| console.state.with(|s| s.tools.clone()));
    let tool = Memo::new(move |_| {
        let Some(Opened::Tool(name)) = selected.0.get() else { return None };
        tools.with(|t| t.as_ref()?.iter().find(|t| t.name == name).cloned())
    });
    let form = Memo::new(move |_| tool.get().map(|t| schema_form::form_for(&t.input_schema)));
    let has_form =
        move || form.with(|f| f.as_ref().is_some_and(|f| !is_raw(f) && !f.fields.is_empty()));
    Effect::new(move |_| {
        let again = replay.0.get();
        if let Some(t) = tool.get() {
            problem.set(None);
            errors.set(Vec::new());
            match again.filter(|(name, _)| *name == t.name) {
                // A call from the history: its arguments, in both views.
                Some((_, args)) => {
                    arguments.set(serde_json::to_string_pretty(&args).unwrap_or_default());
                    values.set(form.with_untracked(|f| {
                        f.as_ref()
                            .map(|f| schema_form::arguments_to_values(f, &args))
                            .unwrap_or_default()
                    }));
                }
                None => {
                    arguments.set(skeleton(&t));
                    values.set(form.with_untracked(|f| {
                        f.as_ref().map(schema_form::defaults).unwrap_or_default()
                    }));
                }
            }
        }
    });
    // Switching views carries the arguments across.
    let show_form = move |on: bool| {
        let Some(f) = form.get_untracked() else { return };
        if on {
            if let Ok(args) = parse_arguments(&arguments.get_untracked()) {
                values.set(schema_form::arguments_to_values(&f, &Value::Object(args)));
            }
        } else if let Ok(args) = schema_form::to_arguments(&f, &values.get_untracked()) {
            arguments.set(serde_json::to_string_pretty(&Value::Object(args)).unwrap_or_default());
        }
        use_form.set(on);
    };

    let call = move |confirmed: bool| {
        let Some(t) = tool.get_untracked() else { return };
        if t.needs_confirmation() && ask_first.get_untracked() && !confirmed {
            return confirming.set(true);
        }
        confirming.set(false);
        let from_form = use_form.get_untracked() && has_form();
        let args = if from_form {
            let Some(f) = form.get_untracked() else { return };
            match schema_form::to_arguments(&f, &values.get_untracked()) {
                Ok(a) => a,
                Err(problems) => {
                    errors.set(problems);
                    return problem
                        .set(Some("Some arguments need fixing; see the fields above.".into()));
                }
            }
        } else {
            match parse_arguments(&arguments.get_untracked()) {
                Ok(a) => a,
                Err(sentence) => return problem.set(Some(sentence)),
            }
        };
        errors.set(Vec::new());
        problem.set(None);
        let sent = console.with_connection(|c| {
            c.with_session(|session, now| session.call_tool(&t.name, args.clone(), now))
        });
        match sent {
            Some(Ok(id)) => console.state.update(|s| s.call_started(id, &t.name, args)),
            Some(Err(e)) => problem.set(Some(e.to_string())),
            None => problem.set(Some("Not connected: connect to a server first.".into())),
        }
    };

    view! {
        <section class="mc-calls" aria-label="Tool calls">
            {move || {
                tool.get()
                    .map(|t| {
                        let description = t.description.clone().unwrap_or_default();
                        // As the server sent it: `$ref`s unresolved, nothing rewritten.
                        let schema = serde_json::to_string_pretty(&t.input_schema).unwrap_or_default();
                        view! {
                            <form
                                class="mc-call-form"
                                data-testid="call-form"
                                on:submit=move |ev| {
                                    ev.prevent_default();
                                    call(false);
                                }
                                // Ctrl+Enter calls from any field; Escape takes back the question.
                                on:keydown=move |ev| {
                                    if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                                        ev.prevent_default();
                                        call(false);
                                    } else if ev.key() == "Escape" {
                                        confirming.set(false);
                                    }
                                }
                            >
                                <h2>
                                    {t.icon().map(|src| view! { <img class="mc-tool__icon" src=src.to_owned() alt="" /> })}
                                    {t.display_name().to_owned()}
                                </h2>
                                <p class="mc-tool__hints" data-testid="tool-hints">{hint_badges(&t)}</p>
                                <p class="mc-tool__description">{description}</p>
                                <details class="mc-schema">
                                    <summary>"Input schema"</summary>
                                    <pre data-testid="tool-schema">{schema}</pre>
                                </details>
                                <Show when=has_form>
                                    <div class="mc-view-switch" role="group" aria-label="Arguments view">
                                        <button type="button" class="mc-secondary" data-testid="view-form"
                                            aria-pressed=move || use_form.get().to_string()
                                            on:click=move |_| show_form(true)>"Form"</button>
                                        <button type="button" class="mc-secondary" data-testid="view-json"
                                            aria-pressed=move || (!use_form.get()).to_string()
                                            on:click=move |_| show_form(false)>"JSON"</button>
                                    </div>
                                </Show>
                                {move || {
                                    if use_form.get() && has_form() {
                                        let fields = form.with(|f| f.as_ref().map(|f| f.fields.clone()).unwrap_or_default());
                                        view! {
                                            <div class="mc-call-fields" data-testid="call-fields">
                                                <FormFields fields values errors />
                                            </div>
                                        }
                                            .into_any()
                                    } else {
                                        view! {
                                            <label for=format!("arguments-{}", console.tab)>"Arguments (JSON)"</label>
                                            <textarea
                                                id=format!("arguments-{}", console.tab)
                                                data-testid="call-arguments"
                                                spellcheck="false"
                                                rows="8"
                                                prop:value=move || arguments.get()
                                                on:input=move |ev| arguments.set(event_target_value(&ev))
                                            ></textarea>
                                        }
                                            .into_any()
                                    }
                                }}
                                {move || {
                                    problem
                                        .get()
                                        .map(|p| {
                                            view! {
                                                <p class="mc-notice" role="alert" data-testid="call-problem">
                                                    {p}
                                                </p>
                                            }
                                        })
                                }}
                                <Show when=move || confirming.get()>
                                    <div
                                        class="mc-confirm"
                                        role="alertdialog"
                                        aria-label="Confirm the call"
                                        data-testid="call-confirm"
                                    >
                                        <p>{confirm_sentence(&t)}</p>
                                        <button type="button" data-testid="call-confirm-run" on:click=move |_| call(true)>
                                            "Run it"
                                        </button>
                                        <button type="button" class="mc-secondary" data-testid="call-confirm-cancel"
                                            on:click=move |_| confirming.set(false)>
                                            "Don't run"
                                        </button>
                                    </div>
                                </Show>
                                <button
                                    type="submit"
                                    data-testid="call"
                                    aria-keyshortcuts="Control+Enter"
                                    title="Call (Ctrl+Enter)"
                                    disabled=move || !console.state.with(|s| s.is_connected())
                                >
                                    "Call"
                                </button>
                                <label class="mc-setting">
                                    <input
                                        type="checkbox"
                                        data-testid="ask-first"
                                        prop:checked=move || ask_first.get()
                                        on:change=move |ev| ask_first.set(event_target_checked(&ev))
                                    />
                                    " Ask before running destructive or open-world tools"
                                </label>
                            </form>
                        }
                    })
            }}
            <Show when=move || selected.0.with(Option::is_none)>
                <p class="mc-empty" data-testid="work-empty">
                    "Pick a tool from the list (press / to search it), or a resource or a prompt."
                </p>
            </Show>
            <crate::ui::catalog::PromptPanel />
            // Keyed by call and revision: a change redraws that call alone.
            <ol class="mc-call-list" data-testid="calls">
                // Keyed by call and revision: a new call adds one entry, a change redraws that
                // call alone.
                <For each=move || console.state.with(|s| s.call_keys()) key=Clone::clone let:key>
                    {console
                        .state
                        .with_untracked(|s| s.call(&key.0).cloned())
                        .map(|call| view! { <CallView call /> })}
                </For>
            </ol>
        </section>
    }
}

/// The hints a tool declares, as words.
fn hint_badges(tool: &Tool) -> String {
    let h = tool.hints();
    let named = [
        (h.read_only, "read-only"),
        (h.destructive, "destructive"),
        (h.idempotent, "idempotent"),
        (h.open_world, "open-world"),
    ];
    named.iter().filter(|(on, _)| *on).map(|(_, name)| *name).collect::<Vec<_>>().join(" · ")
}

/// What the confirmation says of `tool`.
fn confirm_sentence(tool: &Tool) -> String {
    let h = tool.hints();
    let what = match (h.destructive, h.open_world) {
        (true, true) => "may delete or change things, and reach outside the server",
        (true, false) => "may delete or change things",
        _ => "may reach outside the server (the open world)",
    };
    format!("{} says it {what}. Run it?", tool.display_name())
}

/// How a result met its tool's output schema.
fn output_view(check: OutputCheck) -> impl IntoView {
    let unchecked = (!check.unchecked.is_empty())
        .then(|| format!(" (not checked: {})", check.unchecked.join(", ")));
    if check.violations.is_empty() {
        return view! {
            <p class="mc-output mc-output--ok" data-testid="output-ok">
                "Matches the tool's output schema." {unchecked}
            </p>
        }
        .into_any();
    }
    let count = check.violations.len();
    view! {
        <div class="mc-output" role="alert" data-testid="output-violations">
            <p>{format!("The structured result breaks the tool's output schema in {count} places:")} {unchecked}</p>
            <ul>
                {check
                    .violations
                    .into_iter()
                    .map(|v| {
                        let at = if v.at.is_empty() { "(the whole)".to_owned() } else { v.at };
                        view! { <li><code>{at}</code> " " {v.sentence}</li> }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
    .into_any()
}

/// One call: its tool, where it stands, and its result.
#[component]
fn CallView(
    /// The call to show.
    call: Call,
) -> impl IntoView {
    let console = expect_context::<Console>();
    let id = call.id.clone();
    let cancel = move |_| {
        let id = id.clone();
        console.with_connection(|c| {
            c.with_session(|session, now| session.cancel(&id, "cancelled by the user", now))
        });
    };
    let tool_error = call.is_tool_error();
    let body = match call.state {
        CallState::Running { .. } => {
            // Read as it moves: progress does not redraw the call.
            let id = call.id.clone();
            let progress = Memo::new(move |_| {
                console.state.with(|s| match s.call(&id).map(|c| &c.state) {
                    Some(CallState::Running { progress, message }) => (*progress, message.clone()),
                    _ => (None, None),
                })
            });
            let bar = move || {
                progress.with(|(p, _)| match p {
                    Some((p, Some(t))) if *t > 0.0 => {
                        (Some(number_text(*p)), Some(number_text(*t)))
                    }
                    _ => (None, None),
                })
            };
            let label = move || {
                progress.with(|(p, m)| match (p, m) {
                    (_, Some(m)) => m.clone(),
                    (Some((p, Some(t))), None) => {
                        format!("{} of {}", number_text(*p), number_text(*t))
                    }
                    (Some((p, None)), None) => format!("{} so far", number_text(*p)),
                    (None, None) => "Running…".to_owned(),
                })
            };
            view! {
                <div class="mc-call__running">
                    <progress
                        data-testid="call-progress"
                        value=move || bar().0
                        max=move || bar().1
                    ></progress>
                    <span data-testid="call-progress-label">{label}</span>
                    <button type="button" class="mc-secondary" data-testid="call-cancel" on:click=cancel>
                        "Cancel"
                    </button>
                </div>
            }
                .into_any()
        }
        CallState::Done(result) => match call.kind {
            // A tool result that points at an MCP App shows it too (not for an app's own calls).
            CallKind::Tool => {
                let app = match &call.by_app {
                    None => crate::ui::apps::app_of(console, &call.tool),
                    Some(_) => Ok(None),
                };
                let app = match app {
                    Ok(Some(uri)) => {
                        let (arguments, result) = (call.arguments.clone(), result.clone());
                        Some(view! { <crate::ui::apps::AppView uri arguments result /> }.into_any())
                    }
                    Ok(None) => None,
                    Err(e) => Some(
                        view! { <p class="mc-call__failed" role="alert">{e.to_string()}</p> }
                            .into_any(),
                    ),
                };
                view! { <ToolResult result=result /> {app} }.into_any()
            }
            CallKind::Resource => view! { <ResourceResult result=result /> }.into_any(),
            CallKind::Prompt => view! { <PromptResult result=result /> }.into_any(),
        },
        CallState::Failed(sentence) => view! {
            <p class="mc-call__failed" role="alert" data-testid="call-failed">
                {sentence}
            </p>
        }
        .into_any(),
    };
    view! {
        <li class="mc-call" class:mc-call--error=tool_error data-testid="call-entry">
            <header>
                <span class="mc-tool__name">{call.tool}</span>
                <code class="mc-call__args">{Value::Object(call.arguments).to_string()}</code>
                {call.by_app.map(|app| view! { <span class="mc-call__by" data-testid="call-by-app">"from the app " {app}</span> })}
            </header>
            {(!call.rounds.is_empty()).then(|| view! {
                <ol class="mc-call__rounds" data-testid="call-rounds">
                    {call.rounds.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
                </ol>
            })}
            {body}
            {call.output.map(output_view)}
        </li>
    }
}
