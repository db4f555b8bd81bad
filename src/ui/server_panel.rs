//! The server card: name, version, protocol revision, declared capabilities and instructions.

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
                    </section>
                }
            })
        })
    }
}
