//! The list of a server's tools: name, title and description, rendered as text (never HTML —
//! the text comes from the server), with a filter box. Choosing a tool opens it in the call
//! panel. Rows are drawn once per listing and hidden when the filter leaves them out; nothing is
//! redrawn when other parts of the console change.

use crate::core::console::matching_tools;
use crate::core::launch::Opened;
use crate::core::protocol::Tool;
use crate::ui::Console;
use crate::ui::calls::Selected;
use leptos::prelude::*;

/// Every tool the server listed.
#[component]
pub fn ToolList() -> impl IntoView {
    let console = expect_context::<Console>();
    // Re-runs on every change of the state, but tells the list only when the tools changed (the
    // shared list is compared by address, `Tool` being `Eq`).
    let tools = Memo::new(move |_| console.state.with(|s| s.tools.clone()));
    let query = RwSignal::new(String::new());
    move || {
        let all = tools.get()?;
        let shown = {
            let all = all.clone();
            Memo::new(move |_| query.with(|q| matching_tools(&all, q)))
        };
        // Which rows the filter keeps, by position: each row looks itself up.
        let visible = Memo::new(move |_| {
            shown.with(|s| {
                let mut v = vec![false; s.last().map_or(0, |l| l + 1)];
                s.iter().for_each(|&i| v[i] = true);
                v
            })
        });
        let heading = {
            let total = all.len();
            move || match shown.with(Vec::len) {
                n if n == total => format!("Tools ({total})"),
                n => format!("Tools ({n} of {total})"),
            }
        };
        let empty = all.is_empty();
        let none_match = move || !empty && shown.with(Vec::is_empty);
        Some(view! {
            <section class="mc-tools" aria-labelledby="tools-heading">
                <h2 id="tools-heading">{heading}</h2>
                {empty.then(|| view! { <p>"This server offers no tools."</p> })}
                {(!empty).then(|| view! {
                    <input
                        type="search"
                        class="mc-tool-filter"
                        data-testid="tool-filter"
                        aria-label="Filter tools"
                        placeholder="Filter tools"
                        spellcheck="false"
                        prop:value=move || query.get()
                        on:input=move |ev| query.set(event_target_value(&ev))
                    />
                })}
                <Show when=none_match>
                    <p data-testid="tool-none">"No tool matches the filter."</p>
                </Show>
                <ul class="mc-tool-list" data-testid="tools">
                    {all
                        .iter()
                        .enumerate()
                        .map(|(i, tool)| tool_row(tool, move || !visible.with(|v| v.get(i) == Some(&true))))
                        .collect_view()}
                </ul>
            </section>
        })
    }
}

/// One tool; only its selected mark changes once drawn.
fn tool_row<H>(tool: &Tool, hidden: H) -> impl IntoView + use<H>
where
    H: Fn() -> bool + Send + Sync + 'static,
{
    let selected = expect_context::<Selected>();
    let name = tool.name.clone();
    let title = tool.title.clone().filter(|t| t != &name);
    let description = tool.description.clone().unwrap_or_default();
    let pick = name.clone();
    let is_selected = {
        let name = name.clone();
        move || selected.0.with(|s| matches!(s, Some(Opened::Tool(n)) if *n == name))
    };
    view! {
        <li class="mc-tool" class:mc-tool--selected=is_selected hidden=hidden data-testid="tool">
            <button
                type="button"
                class="mc-tool__pick"
                data-testid="tool-pick"
                on:click=move |_| selected.0.set(Some(Opened::Tool(pick.clone())))
            >
                <span class="mc-tool__name" data-testid="tool-name">
                    {name}
                </span>
                {title.map(|t| view! { <span class="mc-tool__title">{t}</span> })}
            </button>
            <p class="mc-tool__description">{description}</p>
        </li>
    }
}
