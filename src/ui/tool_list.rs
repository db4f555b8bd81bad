//! The list of a server's tools: name, title and description, rendered as text (never HTML —
//! the text comes from the server). Choosing a tool opens it in the call panel.

use crate::core::launch::Opened;
use crate::ui::Console;
use crate::ui::calls::Selected;
use leptos::prelude::*;

/// Every tool the server listed.
#[component]
pub fn ToolList() -> impl IntoView {
    let console = expect_context::<Console>();
    let selected = expect_context::<Selected>();
    move || {
        console.state.with(|s| {
            s.tools.as_ref().map(|tools| {
                let heading = format!("Tools ({})", tools.len());
                let items = tools
                    .iter()
                    .map(|tool| {
                        let name = tool.name.clone();
                        let title = tool.title.clone().filter(|t| t != &name);
                        let description = tool.description.clone().unwrap_or_default();
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
                                <p class="mc-tool__description">{description}</p>
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <section class="mc-tools" aria-labelledby="tools-heading">
                        <h2 id="tools-heading">{heading}</h2>
                        {tools.is_empty().then(|| view! { <p>"This server offers no tools."</p> })}
                        <ul class="mc-tool-list" data-testid="tools">
                            {items}
                        </ul>
                    </section>
                }
            })
        })
    }
}
