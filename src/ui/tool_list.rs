//! The list of a server's tools: name, title and description, rendered as text (never HTML —
//! the text comes from the server).

use crate::core::console::ConsoleState;
use leptos::prelude::*;

/// Every tool the server listed.
#[component]
pub fn ToolList(
    /// The console's state; the list renders once `tools/list` has completed.
    state: RwSignal<ConsoleState>,
) -> impl IntoView {
    move || {
        state.with(|s| {
            s.tools.as_ref().map(|tools| {
                let heading = format!("Tools ({})", tools.len());
                let items = tools
                    .iter()
                    .map(|tool| {
                        let name = tool.name.clone();
                        let title = tool.title.clone().filter(|t| t != &name);
                        let description = tool.description.clone().unwrap_or_default();
                        view! {
                            <li class="mc-tool" data-testid="tool">
                                <span class="mc-tool__name" data-testid="tool-name">{name}</span>
                                {title.map(|t| view! { <span class="mc-tool__title">{t}</span> })}
                                <p class="mc-tool__description">{description}</p>
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <section class="mc-tools" aria-labelledby="tools-heading">
                        <h2 id="tools-heading">{heading}</h2>
                        {if tools.is_empty() {
                            Some(view! { <p>"This server offers no tools."</p> })
                        } else {
                            None
                        }}
                        <ul class="mc-tool-list" data-testid="tools">{items}</ul>
                    </section>
                }
            })
        })
    }
}
