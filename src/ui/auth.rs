//! Signing in, as the page shows and drives it: the sign-in settings, the Sign in / Sign out
//! buttons, who is signed in, and the trace of the last flow. It answers the engine's
//! `AuthRequired` (refresh, interactive sign-in, step-up, or a sentence), keeps tokens in a
//! `core::auth::tokens::TokenStore` in memory, refreshes them shortly before they expire, and
//! completes a full-page sign-in when the page comes back with the answer. Decisions come from
//! `core::auth`; browser work from `platform::signin`.

use crate::core::auth::challenge::{self, BearerChallenge};
use crate::core::auth::discovery::{BearerInfo, Discovered};
use crate::core::auth::flow::{
    self, Claims, ClientAuth, PendingSignIn, SignInError, TokenContext, callback_params_present,
};
use crate::core::auth::signin::{
    self, Answer, Asked, ClientChoice, Plan, ResourceSetting, SignInMode, SignInSettings, TraceLine,
};
use crate::core::auth::tokens::{RefreshOutcome, RefreshResult, RefreshStart, TokenStore};
use crate::core::engine::AuthRequired;
use crate::core::launch::Launch;
use crate::core::session::Millis;
use crate::platform::{clock, signin as web};
use crate::ui::Console;
use crate::ui::calls::{Pick, Selected};
use leptos::prelude::*;
use leptos::task::spawn_local;
use oauth2::{AccessToken, ClientSecret};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use url::Url;

/// Where signing in stands, for the Auth view.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Phase {
    #[default]
    SignedOut,
    /// The server asked for a sign-in; the sentence says why.
    Needed(String),
    /// Under way; the sentence says what is happening.
    Working(String),
    SignedIn,
    Failed(String),
}

/// What the Auth view shows. Holds no secret.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthView {
    pub phase: Phase,
    pub claims: Option<Claims>,
    pub scopes: Vec<String>,
    pub expires_at: Option<Millis>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub trace: Vec<TraceLine>,
}

/// What a refresh needs, kept beside the tokens (in memory) for each server origin.
#[derive(Debug, Clone)]
struct Grant {
    token_endpoint: String,
    client_id: String,
    auth: ClientAuth,
    resource: Option<String>,
    issuer: String,
    redirect_uri: String,
}

/// The sign-in the server asked for, remembered until the person presses Sign in.
#[derive(Debug, Clone, Default)]
struct Request {
    challenge: Option<BearerChallenge>,
    step_up: bool,
}

/// Everything about signing in, shared by the components.
#[derive(Clone, Copy)]
pub struct Auth {
    pub view: RwSignal<AuthView>,
    pub settings: RwSignal<SignInSettings>,
    /// An access token pasted by the person; used instead of signing in when set.
    pub typed_token: RwSignal<String>,
    /// The typed client secret (memory only); kept apart so the settings can be shown freely.
    pub typed_secret: RwSignal<String>,
    store: StoredValue<TokenStore, LocalStorage>,
    grants: StoredValue<BTreeMap<String, Grant>, LocalStorage>,
    discovered: StoredValue<Option<(String, Discovered)>, LocalStorage>,
    request: StoredValue<Request, LocalStorage>,
    /// Set to stop the popup wait of an older sign-in.
    cancel: StoredValue<Rc<Cell<bool>>, LocalStorage>,
    /// Bumped by every new token set: an older refresh timer then stands down.
    generation: StoredValue<u64>,
    /// The call panel's choice, to come back to after a full-page sign-in.
    selected: Selected,
}

fn origin_key(url: &str) -> String {
    crate::core::auth::tokens::origin_of(url).unwrap_or_default()
}

/// The console's own address with the query set to reopen `server` and the tool or prompt in the
/// call panel (keeping the other settings of the current query): where a full-page sign-in comes
/// back to.
fn return_address(server: &str, open: Option<Pick>) -> String {
    let Ok(mut url) = Url::parse(&web::href()) else { return String::new() };
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| {
            !matches!(
                k.as_ref(),
                "server" | "connect" | "code" | "state" | "iss" | "tool" | "prompt"
            )
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.set_fragment(None);
    {
        let mut query = url.query_pairs_mut();
        query.clear().extend_pairs(kept).append_pair("server", server).append_pair("connect", "1");
        match open {
            Some(Pick::Tool(name)) => query.append_pair("tool", &name),
            Some(Pick::Prompt(name)) => query.append_pair("prompt", &name),
            None => &mut query,
        };
    }
    url.to_string()
}

/// The redirect URI: the settings' (absolute, or relative to the console), else `callback.html`
/// beside the console.
fn redirect_uri(settings: &SignInSettings) -> Result<String, String> {
    let base = Url::parse(&web::href()).map_err(|e| e.to_string())?;
    let wanted = settings.redirect_uri.as_deref().unwrap_or("callback.html");
    base.join(wanted)
        .map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        })
        .map_err(|_| format!("The redirect URI {wanted:?} in the sign-in settings is not a URL."))
}

impl Auth {
    pub fn new(selected: Selected) -> Auth {
        Auth {
            view: RwSignal::new(AuthView::default()),
            settings: RwSignal::new(SignInSettings::default()),
            typed_token: RwSignal::new(String::new()),
            typed_secret: RwSignal::new(String::new()),
            store: StoredValue::new_local(TokenStore::default()),
            grants: StoredValue::new_local(BTreeMap::new()),
            discovered: StoredValue::new_local(None),
            request: StoredValue::new_local(Request::default()),
            cancel: StoredValue::new_local(Rc::new(Cell::new(false))),
            generation: StoredValue::new(0),
            selected,
        }
    }

    fn typed(&self) -> Option<String> {
        let t = self.typed_token.get_untracked();
        let t = t.trim();
        (!t.is_empty()).then(|| t.to_owned())
    }

    /// The settings with the typed secret, for building requests.
    fn effective_settings(&self) -> SignInSettings {
        let mut s = self.settings.get_untracked();
        let secret = self.typed_secret.get_untracked();
        if !secret.trim().is_empty() {
            s.client_secret = Some(ClientSecret::new(secret.trim().to_owned()));
        }
        s
    }

    /// The token a connection to `server` starts with.
    pub fn bearer_for(&self, server: &str) -> Option<AccessToken> {
        if let Some(t) = self.typed() {
            return Some(AccessToken::new(t));
        }
        self.store.with_value(|s| s.tokens(server).map(|t| t.access.clone()))
    }

    fn trace(&self, step: impl Into<String>, detail: impl Into<String>) {
        let line = TraceLine::new(step, detail);
        self.view.update(|v| v.trace.push(line));
    }

    fn set_phase(&self, phase: Phase) {
        self.view.update(|v| v.phase = phase);
    }

    /// The engine says the server refused for want of a token.
    pub fn on_required(&self, console: Console, server: String, asked: AuthRequired) {
        let challenge = asked.www_authenticate.as_deref().and_then(challenge::bearer);
        let has_refresh =
            self.store.with_value(|s| s.tokens(&server).is_some_and(|t| t.refresh.is_some()));
        let typed = self.typed();
        let answer =
            signin::answer_refusal(asked.status, challenge.as_ref(), has_refresh, typed.as_deref());
        // A refusal starts the trace of a new flow.
        let line = TraceLine::new(
            format!("HTTP {} from the MCP server", asked.status),
            asked.www_authenticate.clone().unwrap_or_else(|| "(no WWW-Authenticate)".into()),
        );
        self.view.update(|v| v.trace = vec![line]);
        match answer {
            Answer::GiveUp(sentence) => {
                self.set_phase(Phase::Failed(sentence.clone()));
                console.with_connection(|c| c.auth_failed(&sentence));
            }
            Answer::Refresh => {
                let auth = *self;
                spawn_local(async move {
                    match auth.refresh(&server).await {
                        Ok(token) => {
                            console.with_connection(|c| c.resume_with_bearer(token));
                            auth.schedule_refresh(console, server);
                        }
                        Err(None) => auth.needed(server, challenge, false),
                        Err(Some(sentence)) => {
                            auth.set_phase(Phase::Failed(sentence.clone()));
                            console.with_connection(|c| c.auth_failed(&sentence));
                        }
                    }
                });
            }
            Answer::SignIn { step_up } => self.needed(server, challenge, step_up),
        }
    }

    /// Asks the person to sign in (a popup needs their click).
    fn needed(&self, server: String, challenge: Option<BearerChallenge>, step_up: bool) {
        let why = match (&challenge, step_up) {
            (_, true) => {
                "The server needs more permissions than this sign-in has; sign in again to grant them."
            }
            (Some(c), _) if c.error.as_deref() == Some("insufficient_claims") => {
                "The server needs a fresh sign-in for its access policy (a claims challenge); sign in again."
            }
            _ if self.grants.with_value(|g| g.contains_key(&origin_key(&server))) => {
                "The sign-in has expired or was revoked; sign in again to go on."
            }
            _ => "This server requires a sign-in; press Sign in.",
        };
        self.request.set_value(Request { challenge, step_up });
        // A sign-in that just failed keeps its sentence in view: it says what to fix before
        // pressing Sign in again.
        if !self.view.with_untracked(|v| matches!(v.phase, Phase::Failed(_))) {
            self.set_phase(Phase::Needed(why.to_owned()));
        }
    }

    /// The person pressed Sign in for `server`.
    pub fn sign_in(&self, console: Console, server: String) {
        self.cancel.with_value(|c| c.set(true));
        let cancelled = Rc::new(Cell::new(false));
        self.cancel.set_value(cancelled.clone());
        let settings = self.effective_settings();
        let popup_mode =
            settings.mode.use_popup(web::is_framed(), settings.client_secret.is_some());
        let popup = if popup_mode {
            match web::open_popup() {
                Some(w) => Some(w),
                None => {
                    self.set_phase(Phase::Failed("The browser blocked the sign-in window; allow pop-ups for this page, or choose full-page sign-in in the sign-in settings.".into()));
                    return;
                }
            }
        } else {
            None
        };
        let auth = *self;
        spawn_local(async move {
            let result = auth.interactive(console, &server, settings, popup, cancelled).await;
            if let Err(sentence) = result {
                auth.set_phase(Phase::Failed(sentence));
            }
        });
    }

    async fn interactive(
        &self,
        console: Console,
        server: &str,
        settings: SignInSettings,
        popup: Option<web_sys::Window>,
        cancelled: Rc<Cell<bool>>,
    ) -> Result<(), String> {
        let close = |popup: &Option<web_sys::Window>| {
            if let Some(p) = popup {
                let _ = p.close();
            }
        };
        let prepared = self.prepare(server, &settings, popup.is_some()).await;
        let (url, pending, client_auth) = match prepared {
            Ok(p) => p,
            Err(e) => {
                close(&popup);
                return Err(e);
            }
        };
        self.trace("Authorization request", signin::shown_authorization_url(&url));
        if popup.is_none() && !matches!(client_auth, ClientAuth::None) {
            return Err("The authorization server registered the console as a confidential client (with a secret), which a full-page sign-in cannot carry across the page load; choose \"A popup\" under Sign in with, in the sign-in settings, and sign in again.".into());
        }
        let Some(window) = popup else {
            web::save_pending(pending, &self.view.with_untracked(|v| v.trace.clone()))?;
            self.set_phase(Phase::Working("Opening the sign-in page…".into()));
            return web::go_to(url.as_str());
        };
        web::navigate_popup(&window, url.as_str())?;
        self.set_phase(Phase::Working("Finish signing in in the sign-in window…".into()));
        let auth = *self;
        let state = pending.state.secret().clone();
        let answer = web::wait_for_answer(&state, Some(window), cancelled, move || {
            auth.set_phase(Phase::Working("The sign-in window was closed, or the sign-in page cut the console off from it; finish there if it is still open, or press Sign in to start again.".into()));
        })
        .await;
        let Some(answer) = answer else {
            return Err(
                "The sign-in was not finished in time; press Sign in to start again.".into()
            );
        };
        self.complete(console, server, pending, &answer, client_auth).await
    }

    /// Discovery (cached per server), the client identity (registering if need be) and the
    /// authorization URL.
    async fn prepare(
        &self,
        server: &str,
        settings: &SignInSettings,
        popup: bool,
    ) -> Result<(Url, PendingSignIn, ClientAuth), String> {
        self.view.update(|v| v.trace.retain(|l| l.step.starts_with("HTTP ")));
        let server_url = Url::parse(server).map_err(|_| format!("{server:?} is not a URL."))?;
        let request = self.request.get_value();
        let cached = self
            .discovered
            .with_value(|d| d.as_ref().filter(|(s, _)| s == server).map(|(_, d)| d.clone()));
        let discovered = match cached {
            Some(d) => d,
            None => {
                self.set_phase(Phase::Working("Looking up the authorization server…".into()));
                let mut trace = Vec::new();
                let info = request.challenge.as_ref().map(BearerInfo::from);
                let found = web::discover(
                    server_url.clone(),
                    info,
                    settings.discovery_settings()?,
                    &mut trace,
                )
                .await;
                self.view.update(|v| v.trace.extend(trace));
                let d = found?;
                self.discovered.set_value(Some((server.to_owned(), d.clone())));
                d
            }
        };
        let redirect = redirect_uri(settings)?;
        let secret = settings.client_secret.clone();
        let (client_id, client_auth) = match signin::choose_client(settings, &discovered)? {
            ClientChoice::Configured(id) => {
                let method = secret.as_ref().map(|_| "client_secret_basic");
                (id, ClientAuth::for_method(method, secret))
            }
            ClientChoice::MetadataDocument(id) => (id, ClientAuth::None),
            ClientChoice::Register(endpoint) => {
                self.set_phase(Phase::Working("Registering the console…".into()));
                let scopes = signin::scopes_for(
                    &self.plan(settings, &discovered, &server_url, "", &redirect, popup),
                    &Asked { challenge: request.challenge.as_ref(), step_up_from: None },
                );
                let req = signin::registration_request(&endpoint, &redirect, &scopes)
                    .map_err(|e| e.to_string())?;
                let (status, body) = web::exchange(req)
                    .await
                    .map_err(|e| format!("The console could not register at {endpoint} ({e})."))?;
                self.trace(
                    format!("POST {endpoint}"),
                    format!("HTTP {status}: {}", signin::redacted_json(&body)),
                );
                let registered = signin::read_registration_response(status, &body)?;
                // A full-page sign-in cannot carry a secret across the page load; a server that
                // also takes public clients is then used as one.
                let public_ok = discovered
                    .metadata
                    .token_endpoint_auth_methods_supported
                    .as_ref()
                    .is_some_and(|m| m.iter().any(|m| m == "none"));
                let secret = registered.client_secret.filter(|_| popup || !public_ok);
                let auth = ClientAuth::for_method(
                    registered.token_endpoint_auth_method.as_deref(),
                    secret,
                );
                (registered.client_id, auth)
            }
        };
        let granted = self.store.with_value(|s| s.tokens(server).map(|t| t.scopes.clone()));
        let asked = Asked {
            challenge: request.challenge.as_ref(),
            step_up_from: if request.step_up { granted.as_deref() } else { None },
        };
        let plan = self.plan(settings, &discovered, &server_url, &client_id, &redirect, popup);
        let req = signin::authorization_request(&plan, &asked).map_err(|e| e.to_string())?;
        let random = web::random96()?;
        let (url, pending) = flow::begin(req, &random, clock::now_ms());
        self.view.update(|v| {
            v.client_id = Some(client_id.clone());
            v.issuer = Some(discovered.metadata.issuer.clone());
        });
        Ok((url, pending, client_auth))
    }

    fn plan<'a>(
        &self,
        settings: &'a SignInSettings,
        discovered: &'a Discovered,
        server_url: &'a Url,
        client_id: &'a str,
        redirect: &'a str,
        popup: bool,
    ) -> Plan<'a> {
        Plan {
            settings,
            discovered,
            server_url,
            client_id,
            redirect_uri: redirect,
            return_to: return_address(server_url.as_str(), self.selected.0.get_untracked()),
            popup,
        }
    }

    /// Checks the answer, redeems the code and installs the tokens; the connection then goes on.
    async fn complete(
        &self,
        console: Console,
        server: &str,
        pending: PendingSignIn,
        answer: &str,
        client_auth: ClientAuth,
    ) -> Result<(), String> {
        let code = flow::read_callback(Some(&pending), answer, clock::now_ms())
            .map_err(|e| e.to_string())?;
        self.set_phase(Phase::Working("Redeeming the sign-in…".into()));
        let request =
            flow::token_request(&pending, &code.code, &client_auth).map_err(|e| e.to_string())?;
        let (status, body) = web::exchange(request).await.map_err(|reason| {
            SignInError::Unreachable { url: pending.token_endpoint.clone(), reason }.to_string()
        })?;
        self.trace(
            format!("POST {}", pending.token_endpoint),
            format!("HTTP {status}: {}", signin::redacted_json(&body)),
        );
        let granted =
            flow::read_token_response(status, &body, clock::now_ms(), &pending.token_context())
                .map_err(|e| e.to_string())?;
        let grant = Grant {
            token_endpoint: pending.token_endpoint.clone(),
            client_id: pending.client_id.clone(),
            auth: client_auth,
            resource: pending.resource.clone(),
            issuer: pending.issuer.clone(),
            redirect_uri: pending.redirect_uri.clone(),
        };
        self.view.update(|v| {
            v.issuer = Some(grant.issuer.clone());
            v.client_id = Some(grant.client_id.clone());
        });
        self.install(console, server, granted, grant);
        Ok(())
    }

    fn install(&self, console: Console, server: &str, granted: flow::Granted, grant: Grant) {
        let token = granted.tokens.access.clone();
        let (scopes, expires_at) = (granted.tokens.scopes.clone(), granted.tokens.expires_at);
        self.store.update_value(|s| s.insert(server, granted.tokens));
        self.grants.update_value(|g| {
            g.insert(origin_key(server), grant);
        });
        self.request.set_value(Request::default());
        self.view.update(|v| {
            v.phase = Phase::SignedIn;
            if granted.claims.is_some() {
                v.claims = granted.claims;
            }
            // Entra's multi-tenant issuer names `{tenantid}`: show the tenant signed in to.
            let tid = v.claims.as_ref().and_then(|c| c.tid.clone());
            if let (Some(issuer), Some(tid)) = (v.issuer.as_mut(), tid) {
                *issuer = issuer.replace("{tenantid}", &tid);
            }
            v.scopes = scopes;
            v.expires_at = expires_at;
        });
        console.with_connection(|c| c.resume_with_bearer(token));
        self.schedule_refresh(console, server.to_owned());
    }

    /// Refreshes the tokens of `server` shortly before they expire, again after each refresh.
    fn schedule_refresh(&self, console: Console, server: String) {
        let generation = self.generation.get_value().wrapping_add(1);
        self.generation.set_value(generation);
        // Without a refresh token there is nothing to do before expiry: the server's 401 then
        // asks for a sign-in.
        let due = self.store.with_value(|s| {
            s.tokens(&server).filter(|t| t.refresh.is_some()).and_then(|t| t.refresh_at())
        });
        let Some(at) = due else { return };
        let auth = *self;
        spawn_local(async move {
            let wait = at.saturating_sub(clock::now_ms());
            clock::sleep(u32::try_from(wait).unwrap_or(u32::MAX)).await;
            if auth.generation.get_value() != generation {
                return;
            }
            match auth.refresh(&server).await {
                Ok(token) => {
                    console.with_connection(|c| c.resume_with_bearer(token));
                    auth.schedule_refresh(console, server);
                }
                Err(None) => auth.needed(server, None, false),
                Err(Some(sentence)) => auth.set_phase(Phase::Failed(sentence)),
            }
        });
    }

    /// One refresh at a time per server: a caller that finds one under way waits for its
    /// outcome. `Err(None)` means an interactive sign-in is needed; `Err(Some(_))` a sentence.
    async fn refresh(&self, server: &str) -> Result<AccessToken, Option<String>> {
        let start = self.store.try_update_value(|s| s.begin_refresh(server));
        let (ticket, refresh_token) = match start {
            Some(RefreshStart::Start { ticket, refresh_token }) => (ticket, refresh_token),
            Some(RefreshStart::InFlight) => {
                let generation = self.generation.get_value();
                for _ in 0..300 {
                    clock::sleep(100).await;
                    if self.generation.get_value() != generation {
                        return self.bearer_for(server).ok_or(None);
                    }
                }
                return Err(None);
            }
            _ => return Err(None),
        };
        let Some(grant) = self.grants.with_value(|g| g.get(&origin_key(server)).cloned()) else {
            return Err(None);
        };
        let scopes = self.store.with_value(|s| s.tokens(server).map(|t| t.scopes.clone()));
        let scopes = scopes.unwrap_or_default();
        let request = flow::refresh_request(
            &grant.token_endpoint,
            &grant.client_id,
            &refresh_token,
            &scopes,
            grant.resource.as_deref(),
            &grant.auth,
        )
        .map_err(|e| Some(e.to_string()))?;
        let result = match web::exchange(request).await {
            Err(reason) => RefreshResult::Unavailable(
                SignInError::Unreachable { url: grant.token_endpoint.clone(), reason }.to_string(),
            ),
            Ok((status, body)) => {
                self.trace(
                    format!("POST {} (refresh)", grant.token_endpoint),
                    format!("HTTP {status}: {}", signin::redacted_json(&body)),
                );
                let ctx = TokenContext {
                    issuer: &grant.issuer,
                    nonce: None,
                    scopes: &scopes,
                    redirect_uri: Some(&grant.redirect_uri),
                };
                match flow::read_token_response(status, &body, clock::now_ms(), &ctx) {
                    Ok(granted) => {
                        if granted.claims.is_some() {
                            self.view.update(|v| v.claims = granted.claims.clone());
                        }
                        RefreshResult::Granted(granted.tokens)
                    }
                    Err(e) if e.needs_interactive_sign_in() => {
                        RefreshResult::Rejected(e.to_string())
                    }
                    Err(e) => RefreshResult::Unavailable(e.to_string()),
                }
            }
        };
        let outcome = self.store.try_update_value(|s| s.finish_refresh(server, ticket, result));
        match outcome {
            Some(RefreshOutcome::Refreshed) => {
                let tokens = self.store.with_value(|s| s.tokens(server).cloned());
                let Some(tokens) = tokens else { return Err(None) };
                self.view.update(|v| {
                    v.scopes = tokens.scopes.clone();
                    v.expires_at = tokens.expires_at;
                    v.phase = Phase::SignedIn;
                });
                Ok(tokens.access)
            }
            Some(RefreshOutcome::SignInNeeded(why)) => {
                self.trace("Refresh refused", why);
                Err(None)
            }
            Some(RefreshOutcome::Retry(why)) => Err(Some(why)),
            _ => Err(None),
        }
    }

    /// Forgets the tokens of `server` (and the typed token); the caller ends the session.
    pub fn sign_out(&self, server: &str) {
        self.store.update_value(|s| s.forget(server));
        self.grants.update_value(|g| {
            g.remove(&origin_key(server));
        });
        self.generation.set_value(self.generation.get_value().wrapping_add(1));
        self.cancel.with_value(|c| c.set(true));
        self.typed_token.set(String::new());
        self.discovered.set_value(None);
        self.view.set(AuthView::default());
    }

    /// Whether the page was loaded as the answer to a full-page sign-in (left by `callback.html`
    /// as this history entry's state, or in the address); if so the address bar is set at once to
    /// where the person was, and the answer is returned with the pending sign-in it belongs to
    /// (read from sessionStorage and deleted there). Otherwise an abandoned, expired pending
    /// sign-in is deleted.
    pub fn take_redirect_answer(&self) -> Option<(String, Option<PendingSignIn>)> {
        let here = web::href();
        let answer = match web::take_answer() {
            Some(answer) if callback_params_present(&answer) => answer,
            _ if callback_params_present(&here) => here.clone(),
            _ => {
                web::drop_expired_pending(clock::now_ms());
                return None;
            }
        };
        let pending = web::take_pending().map(|(pending, trace)| {
            self.view.update(|v| v.trace = trace);
            pending
        });
        let clean = match &pending {
            Some(p) if !p.return_to.is_empty() => p.return_to.clone(),
            _ => {
                let mut url = Url::parse(&here).ok()?;
                url.set_query(None);
                url.set_fragment(None);
                url.to_string()
            }
        };
        web::replace_url(&clean);
        Some((answer, pending))
    }

    /// Completes a full-page sign-in (before the console connects).
    pub async fn finish_redirect(
        &self,
        console: Console,
        answer: String,
        pending: Option<PendingSignIn>,
    ) {
        let Some(pending) = pending else {
            let e = flow::read_callback(None, &answer, clock::now_ms()).err();
            let sentence = e.map(|e| e.to_string()).unwrap_or_default();
            self.set_phase(Phase::Failed(sentence));
            return;
        };
        let server = Url::parse(&pending.return_to)
            .ok()
            .map(|u| Launch::from_query(u.query().unwrap_or_default()))
            .and_then(|l| l.server_url)
            .unwrap_or_default();
        if let Err(sentence) =
            self.complete(console, &server, pending, &answer, ClientAuth::None).await
        {
            self.set_phase(Phase::Failed(sentence));
        }
    }
}

/// One text field of the sign-in settings: shown with `get`, written back with `set` on change.
fn setting(
    settings: RwSignal<SignInSettings>,
    label: &'static str,
    testid: &'static str,
    placeholder: &'static str,
    get: fn(&SignInSettings) -> String,
    set: fn(&mut SignInSettings, String),
) -> impl IntoView {
    view! {
        <label>
            {label}
            <input
                data-testid=testid
                placeholder=placeholder
                spellcheck="false"
                prop:value=move || settings.with(get)
                on:change=move |ev| settings.update(|s| set(s, event_target_value(&ev)))
            />
        </label>
    }
}

/// A secret typed into the page (kept in memory only, shown as dots).
fn secret(value: RwSignal<String>, label: &'static str, testid: &'static str) -> impl IntoView {
    view! {
        <label>
            {label}
            <input
                data-testid=testid
                type="password"
                autocomplete="off"
                prop:value=move || value.get()
                on:change=move |ev| value.set(event_target_value(&ev))
            />
        </label>
    }
}

fn short_time(ms: Millis) -> String {
    let s = ms / 1000;
    if s >= 120 { format!("{} min", s / 60) } else { format!("{s} s") }
}

/// The Auth view and the sign-in settings.
#[component]
pub fn AuthPanel(server: RwSignal<String>) -> impl IntoView {
    let console = expect_context::<Console>();
    let auth = expect_context::<Auth>();
    let view_ = auth.view;
    let phase_text = move || {
        view_.with(|v| match &v.phase {
            Phase::SignedOut => "Not signed in.".to_owned(),
            Phase::Needed(s) | Phase::Working(s) | Phase::Failed(s) => s.clone(),
            Phase::SignedIn => "Signed in.".to_owned(),
        })
    };
    let failed = move || view_.with(|v| matches!(v.phase, Phase::Failed(_)));
    let can_sign_in = move || {
        view_.with(|v| matches!(v.phase, Phase::Needed(_) | Phase::Failed(_) | Phase::Working(_)))
    };
    let signed_in = move || view_.with(|v| v.phase == Phase::SignedIn);
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
    let trace_text = move || view_.with(|v| signin::trace_text(&v.trace));
    let copy = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&trace_text());
        }
    };
    let settings = auth.settings;

    view! {
        <section
            class="mc-auth"
            aria-label="Sign-in"
            data-testid="auth"
            data-phase=move || {
                view_
                    .with(|v| match v.phase {
                        Phase::SignedOut => "signed-out",
                        Phase::Needed(_) => "needed",
                        Phase::Working(_) => "working",
                        Phase::SignedIn => "signed-in",
                        Phase::Failed(_) => "failed",
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
                    <button
                        type="button"
                        data-testid="sign-in"
                        on:click=move |_| auth.sign_in(console, server.get_untracked())
                    >
                        "Sign in"
                    </button>
                </Show>
                <Show when=signed_in>
                    <button
                        type="button"
                        class="mc-secondary"
                        data-testid="sign-out"
                        on:click=move |_| {
                            auth.sign_out(&server.get_untracked());
                            console.disconnect();
                        }
                    >
                        "Sign out"
                    </button>
                </Show>
            </div>
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
                    <dd>{move || view_.with(|v| v.issuer.clone().unwrap_or_default())}</dd>
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
                <div class="mc-auth-grid">
                    {setting(settings, "Instance", "set-instance", "https://login.microsoftonline.com/", |s| s.instance.clone().unwrap_or_default(), |s, v| s.instance = signin::non_blank(&v))}
                    {setting(settings, "Tenant ID", "set-tenant", "contoso.onmicrosoft.com (Entra; empty: discover)", |s| s.tenant_id.clone().unwrap_or_default(), |s, v| s.tenant_id = signin::non_blank(&v))}
                    {setting(settings, "Client ID", "set-client-id", "empty: metadata document or registration", |s| s.client_id.clone().unwrap_or_default(), |s, v| s.client_id = signin::non_blank(&v))}
                    {setting(settings, "Scopes", "set-scopes", "api://<server-app-id>/mcp:tools", |s| s.scopes.join(" "), |s, v| s.scopes = signin::split_scopes(&v))}
                    {setting(settings, "Resource parameter", "set-resource", "auto · omit · server · a value", |s| match &s.resource {
                        ResourceSetting::Auto => String::new(),
                        ResourceSetting::Omit => "omit".into(),
                        ResourceSetting::Server => "server".into(),
                        ResourceSetting::Explicit(v) => v.clone(),
                    }, |s, v| s.resource = ResourceSetting::parse(&v))}
                    <label>
                        "Sign in with"
                        <select
                            data-testid="set-mode"
                            on:change=move |ev| settings.update(|s| s.mode = SignInMode::parse(&event_target_value(&ev)).unwrap_or_default())
                        >
                            <option value="auto" selected=move || settings.with(|s| s.mode == SignInMode::Auto)>"Auto (popup in a frame)"</option>
                            <option value="redirect" selected=move || settings.with(|s| s.mode == SignInMode::Redirect)>"The full page"</option>
                            <option value="popup" selected=move || settings.with(|s| s.mode == SignInMode::Popup)>"A popup"</option>
                        </select>
                    </label>
                    {setting(settings, "Redirect URI", "set-redirect", "callback.html (beside the console)", |s| s.redirect_uri.clone().unwrap_or_default(), |s, v| s.redirect_uri = signin::non_blank(&v))}
                    {setting(settings, "Account hint", "set-login-hint", "alice@contoso.com", |s| s.login_hint.clone().unwrap_or_default(), |s, v| s.login_hint = signin::non_blank(&v))}
                    {secret(auth.typed_secret, "Client secret (confidential clients only — unsafe in a public page; kept in memory)", "set-client-secret")}
                    {secret(auth.typed_token, "Access token (paste one instead of signing in; kept in memory)", "set-access-token")}
                </div>
            </details>
        </section>
    }
}
