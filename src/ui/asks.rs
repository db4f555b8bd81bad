//! What the server asks of the person: elicitation forms, URL elicitations and sampling
//! requests, each answered (or declined) here. Roots are answered without asking, from the
//! roots editor below.

use crate::core::asks::{self, Ask, AskKind, Decision};
use crate::core::jsonrpc::RpcError;
use crate::core::schema_form::FieldError;
use crate::core::session::AskId;
use crate::ui::form::FormFields;
use crate::ui::{Console, Workspace};
use leptos::prelude::*;
use serde_json::Value;

/// The roots the console offers to servers (`file://` URIs).
#[derive(Clone, Copy)]
pub struct Roots(pub RwSignal<Vec<String>>);

fn answer(console: Console, id: &AskId, result: Result<Value, RpcError>) {
    let how = asks::answer_word(&result);
    console.with_connection(|c| c.with_session(|session, now| session.respond(id, result, now)));
    console.state.update(|s| s.ask_answered(id, how));
}

/// Every open ask, oldest first.
#[component]
pub fn AskPanel() -> impl IntoView {
    let console = expect_context::<Console>();
    // Redrawn only when the asks change: a form being filled in keeps what was typed while
    // progress, log lines and answers arrive.
    let asks = Memo::new(move |_| console.state.with(|s| s.asks.clone()));
    move || {
        asks.with(|asks| {
            asks.iter().map(|ask| view! { <AskView ask=ask.clone() /> }).collect_view()
        })
    }
}

#[component]
fn AskView(
    /// The request to answer.
    ask: Ask,
) -> impl IntoView {
    let console = expect_context::<Console>();
    let id = ask.id.clone();
    let dismiss = move |decision: Decision| {
        let id = id.clone();
        move |_| answer(console, &id, Ok(asks::decide(decision)))
    };
    // Escape dismisses the question as its Cancel button does ("dismissed without a choice").
    let escape = {
        let id = ask.id.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Escape" {
                answer(console, &id, Ok(asks::decide(Decision::Cancel)));
            }
        }
    };
    match ask.kind.clone() {
        AskKind::Form { message, form } => {
            let values = RwSignal::new(ask.initial_values());
            let errors = RwSignal::new(Vec::<FieldError>::new());
            let id = ask.id.clone();
            let fields = form.fields.clone();
            let submit = move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                match asks::accept_form(&form, &values.get_untracked()) {
                    Ok(result) => answer(console, &id, Ok(result)),
                    Err(problems) => errors.set(problems),
                }
            };
            view! {
                <form class="mc-ask" data-testid="elicitation" aria-label="The server asks" on:submit=submit on:keydown=escape>
                    <h2>"The server asks"</h2>
                    <p class="mc-ask__message" data-testid="elicitation-message">{message}</p>
                    <FormFields fields values errors />
                    <div class="mc-ask__actions">
                        <button type="submit" class="mc-primary" data-testid="elicitation-accept">"Send"</button>
                        <button type="button" class="mc-secondary" data-testid="elicitation-decline" on:click=dismiss(Decision::Decline)>"Decline"</button>
                        <button type="button" class="mc-secondary" data-testid="elicitation-cancel" on:click=dismiss(Decision::Cancel)>"Cancel"</button>
                    </div>
                </form>
            }
            .into_any()
        }
        AskKind::Url { message, url, .. } => {
            let id = ask.id.clone();
            let safe = url.starts_with("https://") || url.starts_with("http://");
            view! {
                <section class="mc-ask" data-testid="elicitation" aria-label="The server asks" on:keydown=escape>
                    <h2>"The server asks you to open a page"</h2>
                    <p class="mc-ask__message">{message}</p>
                    <p><code data-testid="elicitation-url">{url.clone()}</code></p>
                    <div class="mc-ask__actions">
                        {safe.then(|| view! {
                            <a class="mc-primary" data-testid="elicitation-open" href=url.clone() target="_blank" rel="noopener noreferrer"
                                on:click=move |_| answer(console, &id, Ok(asks::accept_url()))>"Open and continue"</a>
                        })}
                        <button type="button" class="mc-secondary" data-testid="elicitation-decline" on:click=dismiss(Decision::Decline)>"Decline"</button>
                        <button type="button" class="mc-secondary" data-testid="elicitation-cancel" on:click=dismiss(Decision::Cancel)>"Cancel"</button>
                    </div>
                </section>
            }
            .into_any()
        }
        AskKind::Sampling { system_prompt, messages, max_tokens } => {
            let reply = RwSignal::new(String::new());
            let id_send = ask.id.clone();
            let id_refuse = ask.id.clone();
            let id_escape = ask.id.clone();
            view! {
                <section class="mc-ask" data-testid="sampling" aria-label="The server asks for a model reply"
                    on:keydown=move |ev| if ev.key() == "Escape" { answer(console, &id_escape, Err(asks::sampling_refused())) }>
                    <h2>"The server asks for a model's reply"</h2>
                    <p class="mc-form__help">
                        "You are the model here: read the conversation and write the reply it should get."
                        {max_tokens.map(|m| format!(" (At most {m} tokens.)"))}
                    </p>
                    {system_prompt.map(|p| view! { <p class="mc-ask__system"><strong>"System: "</strong>{p}</p> })}
                    <ol class="mc-ask__messages">
                        {messages.into_iter().map(|(role, text)| view! {
                            <li><strong>{role}": "</strong><span data-testid="sampling-message">{text}</span></li>
                        }).collect_view()}
                    </ol>
                    <textarea data-testid="sampling-reply" aria-label="The model's reply" rows="4" prop:value=move || reply.get()
                        on:input=move |ev| reply.set(event_target_value(&ev))></textarea>
                    <div class="mc-ask__actions">
                        <button type="button" class="mc-primary" data-testid="sampling-send"
                            on:click=move |_| answer(console, &id_send, Ok(asks::sampling_reply(&reply.get_untracked())))>"Send reply"</button>
                        <button type="button" class="mc-secondary" data-testid="sampling-refuse"
                            on:click=move |_| answer(console, &id_refuse, Err(asks::sampling_refused()))>"Refuse"</button>
                    </div>
                </section>
            }
            .into_any()
        }
    }
}

/// The roots editor: one `file://` URI per line, offered to every server; saving tells each
/// connected one the list changed.
#[component]
pub fn RootsEditor() -> impl IntoView {
    let workspace = expect_context::<Workspace>();
    let roots = workspace.roots;
    let text = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let save = move |_| {
        let mut checked = Vec::new();
        for line in text.get_untracked().lines().filter(|l| !l.trim().is_empty()) {
            match asks::check_root(line) {
                Ok(uri) => checked.push(uri),
                Err(sentence) => return problem.set(Some(sentence)),
            }
        }
        problem.set(None);
        roots.0.set(checked);
        workspace.tabs.with_untracked(|tabs| {
            for tab in tabs.iter() {
                tab.payload.console.with_connection(|c| {
                    c.with_session(|s, _| s.notify("notifications/roots/list_changed", None))
                });
            }
        });
    };
    view! {
        <details class="mc-roots">
            <summary>"Roots offered to the servers"</summary>
            <textarea data-testid="roots" aria-label="Roots, one URI a line" rows="3" placeholder="file:///home/me/project"
                prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            {move || problem.get().map(|p| view! { <p class="mc-form__error" role="alert">{p}</p> })}
            <button type="button" class="mc-secondary" data-testid="roots-save" on:click=save>"Save roots"</button>
        </details>
    }
}
