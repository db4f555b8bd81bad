//! The server card: name, version, protocol revision, declared capabilities, instructions, and
//! the steps by which the console chose the revision and transport.

use crate::ui::Console;
use leptos::prelude::*;

/// Shows who answered once a session is ready.
#[component]
pub fn ServerPanel() -> impl IntoView {
    let console = expect_context::<Console>();
    move || {
        console.state.with(|s| {
            s.server.as_ref().map(|server| {
                let capabilities =
                    server.capabilities.keys().cloned().collect::<Vec<_>>().join(", ");
                let instructions = server.instructions.clone();
                let steps = s.steps.clone();
                view! {
                    <section class="mc-server" aria-label="Server" data-testid="server">
                        <dl>
                            <dt>"Server"</dt>
                            <dd data-testid="server-name">{server.server_info.name.clone()}</dd>
                            <dt>"Version"</dt>
                            <dd>{server.server_info.version.clone()}</dd>
                            <dt>"Protocol"</dt>
                            <dd data-testid="protocol">{server.protocol_version.clone()}</dd>
                            <dt>"Capabilities"</dt>
                            <dd>
                                {if capabilities.is_empty() { "none".to_owned() } else { capabilities }}
                            </dd>
                        </dl>
                        {instructions
                            .map(|text| {
                                view! {
                                    <details class="mc-instructions">
                                        <summary>"Instructions from the server"</summary>
                                        <p>{text}</p>
                                    </details>
                                }
                            })}
                        <details class="mc-steps" data-testid="connection-steps">
                            <summary>"How the console connected"</summary>
                            <ol>{steps.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}</ol>
                        </details>
                    </section>
                }
            })
        })
    }
}
