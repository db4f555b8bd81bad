//! The Auth view and the sign-in settings: who is signed in, the Sign in / Sign out buttons, the
//! confirmation of settings a link proposed or someone typed (naming the server, the issuer, the
//! client and the scopes), the trace of the last sign-in, and the settings form. Every decision
//! is `core::auth::machine`'s; clicks go to it through `platform::auth::AuthDriver`.

use crate::core::auth::machine::{AuthView, Proposal, SignInStatus};
use crate::core::auth::settings::{
    ResourceSetting, SignInMode, SignInSettings, non_blank, split_scopes,
};
use crate::core::auth::trace::trace_text;
use crate::core::auth::trust::Source;
use crate::core::session::Millis;
use crate::platform::auth::AuthDriver;
use crate::ui::Console;
use crate::ui::calls::Selected;
use leptos::prelude::*;
use oauth2::{AccessToken, ClientSecret};

/// The sign-in, shared by the components: its view and the driver that runs it.
#[derive(Clone, Copy)]
pub struct Auth {
    pub view: RwSignal<AuthView>,
    pub driver: StoredValue<AuthDriver, LocalStorage>,
}

impl Auth {
    /// Runs `f` on the sign-in machine (see [`AuthDriver::with`]).
    pub fn with<R>(
        &self,
        f: impl FnOnce(&mut crate::core::auth::machine::SignIn, Millis) -> R,
    ) -> R {
        self.driver.with_value(|d| d.with(f))
    }

    /// A click on Sign in (or on the confirmation), with the tool or prompt that is open.
    fn press(&self, selected: Selected) -> Option<crate::core::auth::machine::Press> {
        self.driver.with_value(|d| d.press(selected.0.get_untracked()))
    }
}

/// One text field of the sign-in settings: shown with `get`, written back through the machine
/// with `set` on change; read-only when the settings are the deployer's.
fn setting(
    auth: Auth,
    label: &'static str,
    testid: &'static str,
    placeholder: &'static str,
    get: fn(&SignInSettings) -> String,
    set: fn(&mut SignInSettings, String),
) -> impl IntoView {
    let view_ = auth.view;
    view! {
        <label>
            {label}
            <input
                data-testid=testid
                placeholder=placeholder
                spellcheck="false"
                prop:value=move || view_.with(|v| get(&v.settings))
                prop:readOnly=move || view_.with(|v| v.server.is_none() || v.source == Source::Config)
                on:change=move |ev| {
                    let mut settings = view_.with_untracked(|v| v.settings.clone());
                    set(&mut settings, event_target_value(&ev));
                    auth.with(|m, _| m.edit(settings));
                }
            />
        </label>
    }
}

/// A secret typed into the page (kept in memory only, shown as dots, never read back); `held`
/// says whether the server in view has one.
fn secret(
    label: &'static str,
    testid: &'static str,
    held: impl Fn() -> bool + Send + Sync + 'static,
    take: impl Fn(Option<String>) + 'static,
) -> impl IntoView {
    view! {
        <label>
            {label}
            {move || held().then_some(" (one is set for this server)")}
            <input
                data-testid=testid
                type="password"
                autocomplete="off"
                on:change=move |ev| take(non_blank(&event_target_value(&ev)))
            />
        </label>
    }
}

fn short_time(ms: Millis) -> String {
    let s = ms / 1000;
    if s >= 120 { format!("{} min", s / 60) } else { format!("{s} s") }
}

/// What the person is asked to confirm, naming everything that decides where a token goes.
#[component]
fn Confirmation(proposal: Proposal) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let selected = expect_context::<Selected>();
    let accept = move |_| {
        if let Some(press) = auth.press(selected) {
            auth.with(|m, now| m.confirm(press, now));
        }
    };
    view! {
        <div class="mc-confirm" role="alertdialog" aria-label="Confirm the sign-in" data-testid="signin-confirm"
            on:keydown=move |ev| if ev.key() == "Escape" { auth.with(|m, _| m.reject()) }>
            <p>
                "Sign in for " <strong data-testid="confirm-server">{proposal.server.clone()}</strong>
                " with these settings, " {proposal.source.reason()} "?"
            </p>
            <dl class="mc-auth-who">
                <dt>"Server"</dt>
                <dd data-testid="confirm-server-url">{proposal.server_url.clone()}</dd>
                <dt>"Sign-in service"</dt>
                <dd data-testid="confirm-issuer">{proposal.issuer.clone()}</dd>
                <dt>"Client"</dt>
                <dd data-testid="confirm-client">{proposal.client.clone()}</dd>
                <dt>"Scopes"</dt>
                <dd data-testid="confirm-scopes">{proposal.scopes.join(" ")}</dd>
                {proposal.resource.clone().map(|resource| view! {
                    <dt>"Token for"</dt>
                    <dd data-testid="confirm-resource">{resource}</dd>
                })}
            </dl>
            <p class="mc-muted">
                "The token you get will be sent to " {proposal.server.clone()}
                ". Go on only if you trust that server with access to these scopes."
                {proposal.secret.then_some(" The client secret you typed will be sent to this sign-in service.")}
            </p>
            <div class="mc-auth-head">
                <button type="button" data-testid="signin-confirm-accept" on:click=accept>
                    "Sign in with these settings"
                </button>
                <button
                    type="button"
                    class="mc-secondary"
                    data-testid="signin-confirm-reject"
                    on:click=move |_| auth.with(|m, _| m.reject())
                >
                    "Don't use them"
                </button>
            </div>
        </div>
    }
}

/// The Auth view and the sign-in settings.
#[component]
pub fn AuthPanel() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let selected = expect_context::<Selected>();
    let view_ = auth.view;
    let phase_text = move || {
        view_.with(|v| match &v.status {
            SignInStatus::SignedOut => "Not signed in.".to_owned(),
            SignInStatus::Needed(need) => need.to_string(),
            SignInStatus::Confirm(_) => {
                "Confirm the sign-in settings below before signing in.".to_owned()
            }
            SignInStatus::Working(step) => step.to_string(),
            SignInStatus::SignedIn => "Signed in.".to_owned(),
            SignInStatus::Failed(error) => error.to_string(),
        })
    };
    let failed = move || view_.with(|v| matches!(v.status, SignInStatus::Failed(_)));
    let can_sign_in = move || {
        view_.with(|v| {
            v.server.is_some()
                && matches!(
                    v.status,
                    SignInStatus::Needed(_) | SignInStatus::Failed(_) | SignInStatus::Working(_)
                )
        })
    };
    let signed_in = move || view_.with(|v| v.status == SignInStatus::SignedIn);
    let proposal = move || {
        view_.with(|v| match &v.status {
            SignInStatus::Confirm(p) => Some(p.clone()),
            _ => None,
        })
    };
    let sign_in = move |_| {
        if let Some(press) = auth.press(selected) {
            auth.with(|m, now| m.sign_in(press, now));
        }
    };

    view! {
        <section
            class="mc-auth"
            aria-label="Sign-in"
            data-testid="auth"
            data-phase=move || {
                view_
                    .with(|v| match v.status {
                        SignInStatus::SignedOut => "signed-out",
                        SignInStatus::Needed(_) => "needed",
                        SignInStatus::Confirm(_) => "confirm",
                        SignInStatus::Working(_) => "working",
                        SignInStatus::SignedIn => "signed-in",
                        SignInStatus::Failed(_) => "failed",
                    })
            }
        >
            <div class="mc-auth-head">
                <p
                    class=move || if failed() { "mc-auth-status mc-status--error" } else { "mc-auth-status" }
                    data-testid="auth-status"
                    role="status"
                >
                    {phase_text}
                </p>
                <Show when=can_sign_in>
                    <button type="button" data-testid="sign-in" on:click=sign_in>
                        "Sign in"
                    </button>
                </Show>
                <Show when=signed_in>
                    <button
                        type="button"
                        class="mc-secondary"
                        data-testid="sign-out"
                        on:click=move |_| auth.with(|m, now| m.sign_out(now))
                    >
                        "Sign out"
                    </button>
                </Show>
            </div>
            {move || proposal().map(|proposal| view! { <Confirmation proposal=proposal /> })}
        </section>
    }
}

/// The sign-in's details, a pane of their own: who is signed in, the trace of the last sign-in,
/// and the settings.
#[component]
pub fn AuthDetails() -> impl IntoView {
    let console = expect_context::<Console>();
    let auth = expect_context::<Auth>();
    let view_ = auth.view;
    let signed_in = move || view_.with(|v| v.status == SignInStatus::SignedIn);
    let who = move || {
        view_.with(|v| {
            v.claims
                .as_ref()
                .and_then(|c| c.preferred_username.clone().or(c.name.clone()).or(c.oid.clone()))
        })
    };
    let expiry = move || {
        let now = console.now.get();
        view_.with(|v| match v.expires_at {
            Some(at) if at > now => format!("expires in {}", short_time(at - now)),
            Some(_) => "expired".to_owned(),
            None => "no expiry given".to_owned(),
        })
    };
    let trace = move || view_.with(|v| trace_text(&v.trace));
    let copy = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&trace());
        }
    };

    view! {
        <section class="mc-auth-details" aria-label="Sign-in details" data-testid="auth-details">
            <Show when=signed_in>
                <dl class="mc-auth-who">
                    <dt>"Account"</dt>
                    <dd data-testid="auth-user">{move || who().unwrap_or_else(|| "(not named by the token)".into())}</dd>
                    <dt>"Tenant"</dt>
                    <dd data-testid="auth-tenant">
                        {move || view_.with(|v| v.claims.as_ref().and_then(|c| c.tid.clone()).unwrap_or_else(|| "—".into()))}
                    </dd>
                    <dt>"Scopes"</dt>
                    <dd data-testid="auth-scopes">{move || view_.with(|v| v.scopes.join(" "))}</dd>
                    <dt>"Token"</dt>
                    <dd data-testid="auth-expiry">{expiry}</dd>
                    <dt>"Issuer"</dt>
                    <dd data-testid="auth-issuer">{move || view_.with(|v| v.issuer.clone().unwrap_or_default())}</dd>
                    <dt>"Client"</dt>
                    <dd>{move || view_.with(|v| v.client_id.clone().unwrap_or_default())}</dd>
                </dl>
            </Show>
            <Show when=move || view_.with(|v| !v.trace.is_empty())>
                <details class="mc-auth-trace">
                    <summary>"What happened (trace of the last sign-in)"</summary>
                    <ol data-testid="auth-trace">
                        {move || {
                            view_
                                .with(|v| {
                                    v.trace
                                        .iter()
                                        .map(|l| {
                                            view! {
                                                <li>
                                                    <span class="mc-trace-step">{l.step.clone()}</span>
                                                    " — "
                                                    <span>{l.detail.clone()}</span>
                                                </li>
                                            }
                                        })
                                        .collect_view()
                                })
                        }}
                    </ol>
                    <button type="button" class="mc-secondary" data-testid="auth-copy" on:click=copy>
                        "Copy trace"
                    </button>
                </details>
            </Show>
            <details class="mc-auth-settings" data-testid="signin-settings">
                <summary>"Sign-in settings"</summary>
                <p class="mc-muted" data-testid="settings-source">
                    {move || view_.with(|v| match (&v.server, v.source) {
                        (None, _) => "Enter a server's URL above: settings belong to one server.",
                        (Some(_), Source::Config) => "Set by this console's configuration for this server.",
                        (Some(_), Source::Link) => "From the link you opened: you will be asked to confirm them before they are used.",
                        (Some(_), Source::Host) => "From the page this console is embedded in: you will be asked to confirm them before they are used.",
                        (Some(_), Source::ConfigElsewhere) => "From this console's configuration, which does not name this server: you will be asked to confirm them.",
                        (Some(_), Source::Typed | Source::Discovery) => "Settings entered here apply only to this server, once you confirm them.",
                    })}
                    " Redirect URI to register: "
                    <code data-testid="redirect-uri">{move || view_.with(|v| v.redirect_uri.clone())}</code>
                </p>
                <div class="mc-auth-grid">
                    {setting(auth, "Instance", "set-instance", "https://login.microsoftonline.com/", |s| s.instance.clone().unwrap_or_default(), |s, v| s.instance = non_blank(&v))}
                    {setting(auth, "Tenant ID", "set-tenant", "contoso.onmicrosoft.com (Entra; empty: discover)", |s| s.tenant_id.clone().unwrap_or_default(), |s, v| s.tenant_id = non_blank(&v))}
                    {setting(auth, "Client ID", "set-client-id", "empty: metadata document or registration", |s| s.client_id.clone().unwrap_or_default(), |s, v| s.client_id = non_blank(&v))}
                    {setting(auth, "Scopes", "set-scopes", "api://<server-app-id>/mcp:tools", |s| s.scopes.join(" "), |s, v| s.scopes = split_scopes(&v))}
                    {setting(auth, "Resource parameter", "set-resource", "auto · omit · server · a value", |s| s.resource.text(), |s, v| s.resource = ResourceSetting::parse(&v))}
                    {setting(auth, "Account hint", "set-login-hint", "alice@contoso.com", |s| s.login_hint.clone().unwrap_or_default(), |s, v| s.login_hint = non_blank(&v))}
                    <label>
                        "Sign in with"
                        <select
                            data-testid="set-mode"
                            on:change=move |ev| {
                                let mode = SignInMode::parse(&event_target_value(&ev)).unwrap_or_default();
                                auth.with(|m, _| m.set_mode(mode));
                            }
                        >
                            <option value="auto" selected=move || view_.with(|v| v.mode == SignInMode::Auto)>"Auto (popup in a frame)"</option>
                            <option value="redirect" selected=move || view_.with(|v| v.mode == SignInMode::Redirect)>"The full page"</option>
                            <option value="popup" selected=move || view_.with(|v| v.mode == SignInMode::Popup)>"A popup"</option>
                        </select>
                    </label>
                    {secret("Client secret (confidential clients only — unsafe in a public page; kept in memory)", "set-client-secret", move || view_.with(|v| v.secret_typed), move |v| auth.with(|m, _| m.type_secret(v.map(ClientSecret::new))))}
                    {secret("Access token (paste one instead of signing in; kept in memory, for this server only)", "set-access-token", move || view_.with(|v| v.token_pasted), move |v| auth.with(|m, _| m.paste_token(v.map(AccessToken::new))))}
                </div>
            </details>
        </section>
    }
}
