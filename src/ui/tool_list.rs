//! The list of a server's tools: name, title and description, rendered as text (never HTML —
//! the text comes from the server), with a filter box. Choosing a tool opens it in the call
//! panel. Only the rows that can be in sight are drawn (`rows_in_view`, a few dozen, redrawn in
//! place as the list scrolls or the filter changes), so a thousand tools list, scroll and filter
//! like a dozen; nothing is redrawn when other parts of the console change.

use crate::core::console::{TOOL_ROW_PX, matching_tools, rows_in_view};
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
    let scroll_top = RwSignal::new(0.0);
    move || {
        let all = tools.get()?;
        let shown = {
            let all = all.clone();
            Memo::new(move |_| query.with(|q| matching_tools(&all, q)))
        };
        let in_view = Memo::new(move |_| shown.with(|s| rows_in_view(scroll_top.get(), s.len())));
        // The tools drawn, by position in the server's list.
        let drawn = move || shown.with(|s| s[in_view.get()].to_vec());
        let heading = {
            let total = all.len();
            move || match shown.with(Vec::len) {
                n if n == total => format!("Tools ({total})"),
                n => format!("Tools ({n} of {total})"),
            }
        };
        let empty = all.is_empty();
        let none_match = move || !empty && shown.with(Vec::is_empty);
        let px = |rows: usize| format!("{}px", rows * TOOL_ROW_PX);
        Some(view! {
            <section class="mc-tools mc-tools--rows" aria-labelledby=format!("tools-{}", console.tab)>
                <h2 id=format!("tools-{}", console.tab) data-testid="tools-heading">{heading}</h2>
                {empty.then(|| view! { <p>"This server offers no tools."</p> })}
                {(!empty).then(|| view! {
                    <input
                        type="search"
                        id=format!("tool-filter-{}", console.tab)
                        class="mc-tool-filter"
                        data-testid="tool-filter"
                        aria-label="Filter tools"
                        aria-keyshortcuts="/"
                        placeholder="Filter tools  ( / )"
                        spellcheck="false"
                        prop:value=move || query.get()
                        on:input=move |ev| {
                            query.set(event_target_value(&ev));
                            // A new filter shows its matches from the first: the list box is the
                            // element right after this one.
                            let list = event_target::<web_sys::Element>(&ev).next_element_sibling();
                            if let Some(list) = list {
                                list.set_scroll_top(0);
                            }
                            scroll_top.set(0.0);
                        }
                    />
                })}
                <div
                    class="mc-tool-scroll"
                    on:scroll=move |ev| {
                        scroll_top.set(f64::from(event_target::<web_sys::Element>(&ev).scroll_top()));
                    }
                >
                    // As high as every match; the rows above the first drawn are padding.
                    <ul
                        class="mc-tool-list"
                        data-testid="tools"
                        style:height=move || px(shown.with(Vec::len))
                        style:padding-top=move || px(in_view.get().start)
                    >
                        {move || drawn().into_iter().map(|i| tool_row(&all[i])).collect_view()}
                    </ul>
                </div>
                <Show when=none_match>
                    <p data-testid="tool-none">"No tool matches the filter."</p>
                </Show>
            </section>
        })
    }
}

/// One row of the list: a tool's name, title and description, and whether it is the one open.
fn tool_row(tool: &Tool) -> impl IntoView + use<> {
    let selected = expect_context::<Selected>();
    let name = tool.name.clone();
    let title = tool.title.clone().filter(|t| t != &name);
    let description = tool.description.clone().unwrap_or_default();
    let hint = description.clone();
    let pick = name.clone();
    let is_selected = {
        let name = name.clone();
        move || selected.0.with(|s| matches!(s, Some(Opened::Tool(n)) if *n == name))
    };
    view! {
        <li class="mc-tool" class:mc-tool--selected=is_selected data-testid="tool">
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
            // Cut to one line in the list; the whole of it shows when hovered and when chosen.
            <p class="mc-tool__description" title=hint>{description}</p>
        </li>
    }
}
