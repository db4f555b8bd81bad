//! The server's log: choose a level (`logging/setLevel`, or with each request over 2026-07-28)
//! and read `notifications/message` lines.

use crate::ui::Console;
use leptos::prelude::*;

/// Levels from RFC 5424, as MCP names them.
const LEVELS: [&str; 8] =
    ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/// The log panel; it appears once the server declares logging.
#[component]
pub fn LogPanel() -> impl IntoView {
    let console = expect_context::<Console>();
    let has_logging = move || {
        console.state.with(|s| s.server.as_ref().is_some_and(|v| v.has_capability("logging")))
    };
    let logged = Memo::new(move |_| console.state.with(|s| s.logged));
    let set_level = move |level: String| {
        console
            .with_connection(|c| c.with_session(|session, now| session.set_log_level(&level, now)));
    };
    view! {
        <Show when=has_logging>
            <section class="mc-log" aria-label="Server log">
                <h2>"Log"</h2>
                <label>
                    "Level "
                    <select
                        data-testid="log-level"
                        on:change=move |ev| set_level(event_target_value(&ev))
                    >
                        <option value="" selected>"(server default)"</option>
                        {LEVELS.iter().map(|l| view! { <option value=*l>{*l}</option> }).collect_view()}
                    </select>
                </label>
                <ol class="mc-log__lines" data-testid="log">
                    {move || {
                        // Read, not only tracked: a memo that is never read never runs, so it
                        // would never change.
                        logged.get();
                        console.state.with_untracked(|s| {
                            s.log
                                .iter()
                                .map(|line| {
                                    let class = format!("mc-log__line mc-log__line--{}", line.level);
                                    let logger = line.logger.clone().map(|l| format!("[{l}] ")).unwrap_or_default();
                                    view! {
                                        <li class=class data-testid="log-line">
                                            <span class="mc-log__level">{line.level.clone()}</span>
                                            " "
                                            {logger}
                                            {line.text.clone()}
                                        </li>
                                    }
                                })
                                .collect_view()
                        })
                    }}
                </ol>
            </section>
        </Show>
    }
}
