//! The sign-in machine: everything the console does to obtain, keep and give up tokens, in the
//! shape of `core::engine` — `handle_*` for what happened (a server's 401 or 403, a fetch's
//! answer, the authorization server's answer, the person's click, a timer), `poll_output` for
//! what to do (fetch this, open or steer the sign-in window, leave for the sign-in page, give this
//! bearer to the connection of this server), `poll_timeout` for when to be woken, and the time
//! passed in. It keeps each server's sign-in settings with where they came from (`trust`), runs
//! discovery, holds for the person's confirmation of settings a link proposed or someone typed,
//! registers, builds the authorization request, checks the answer, redeems the code, keeps the
//! tokens per server and issuer, refreshes single-flight before expiry (only for the server the
//! page is connected to), revokes at sign-out, and keeps the Auth view: who is signed in, what is
//! asked of the person, and a trace of the last sign-in. `platform::auth` performs its actions.

use crate::core::address::{ServerUrl, origin_of};
use crate::core::auth::challenge::{self, BearerChallenge};
use crate::core::auth::discovery::{BearerInfo, Discovered, Discovery, DiscoverySettings};
use crate::core::auth::flow::{
    self, Claims, ClientAuth, PendingSignIn, SignInError, SignInRequest, TokenContext,
};
use crate::core::auth::metadata::{MetadataError, TENANT_PLACEHOLDER};
use crate::core::auth::registration::{
    ClientChoice, RegistrationError, choose_client, read_registration_response,
    registration_request,
};
use crate::core::auth::scopes::{self, ENTRA_EXTRAS, OFFLINE_ACCESS, ScopeError};
use crate::core::auth::settings::{SignInMode, SignInSettings, resource_value};
use crate::core::auth::tokens::{
    Bearer, Grant, RefreshOutcome, RefreshResult, RefreshStart, TokenStore,
};
use crate::core::auth::trace::{TraceLine, shown_answer, shown_authorization_url};
use crate::core::auth::trust::{Deployment, Source, TrustError};
use crate::core::engine::AuthRequired;
use crate::core::http::{ACCEPT_HEADER, HttpRequest};
use crate::core::launch::Opened;
use crate::core::session::Millis;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::{AccessToken, ClientSecret};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use thiserror::Error;
use url::Url;

/// After a refresh that could not reach the token endpoint, wait this long before the next try.
const REFRESH_RETRY: Millis = 30_000;
/// Answers the console reads (metadata, tokens) are small; anything bigger is not one.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// A fetch the machine asked for; its answer comes back under the same id.
pub type FetchId = u64;

/// What a full-page sign-in keeps across the page load: the pending sign-in and its trace.
pub type Kept = (PendingSignIn, Vec<TraceLine>);

/// Fresh octets from the browser's CSPRNG for one authorization request: 32 each for the PKCE
/// verifier, `state` and `nonce`.
#[derive(Clone)]
pub struct Random(pub [u8; 96]);

impl fmt::Debug for Random {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Random([redacted])")
    }
}

/// The person's click on Sign in (or on the confirmation): what a sign-in starts with.
#[derive(Debug, Clone)]
pub struct Press {
    /// The console runs inside a frame (sign-in pages refuse to render there).
    pub framed: bool,
    pub random: Random,
    /// The tool or prompt open in the call panel, to come back to after a full-page sign-in.
    pub open: Option<Opened>,
}

/// Something the browser could not do for a sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserProblem {
    NoRandomness,
    NoSessionStorage,
    NavigationRefused,
    PopupUnreachable,
}

/// Why a sign-in stopped, as one sentence saying what happened and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Registration(#[from] RegistrationError),
    #[error(transparent)]
    Flow(#[from] SignInError),
    #[error(
        "The browser blocked the sign-in window; allow pop-ups for this page, or choose full-page sign-in in the sign-in settings."
    )]
    PopupBlocked,
    #[error("The sign-in was not finished in time; press Sign in to start again.")]
    NotFinished,
    #[error(
        "The authorization server registered the console as a confidential client (with a secret), which a full-page sign-in cannot carry across the page load; choose \"A popup\" under Sign in with, in the sign-in settings, and sign in again."
    )]
    SecretNeedsPopup,
    #[error(
        "The client secret you typed was confirmed for {bound}, not for {issuer}, where this sign-in goes, so the console did not send it; type it again and confirm it for {issuer}."
    )]
    SecretForAnotherIssuer { bound: String, issuer: String },
    #[error("{}", pasted_refused(*.status, .error.as_deref(), .kind.as_deref()))]
    PastedTokenRefused { status: u16, error: Option<String>, kind: Option<String> },
    #[error("{}", browser_sentence(*.0))]
    Browser(BrowserProblem),
}

fn pasted_refused(status: u16, error: Option<&str>, kind: Option<&str>) -> String {
    let what = if status == 403 { "refused" } else { "did not accept" };
    format!(
        "The server {what} the access token typed into the console (HTTP {status}{}).{} Paste a delegated user token for this server, or clear the field and sign in.",
        error.map(|e| format!(", {e}")).unwrap_or_default(),
        kind.map(|k| format!(" It is {k}.")).unwrap_or_default(),
    )
}

fn browser_sentence(problem: BrowserProblem) -> &'static str {
    match problem {
        BrowserProblem::NoRandomness => {
            "The browser gave the console no secure random numbers, so it cannot sign in safely; use a current browser."
        }
        BrowserProblem::NoSessionStorage => {
            "The browser's session storage is not available (private mode or a policy blocks it), so a full-page sign-in cannot come back; choose the popup sign-in in the sign-in settings."
        }
        BrowserProblem::NavigationRefused => "The browser refused to open the sign-in page.",
        BrowserProblem::PopupUnreachable => {
            "The console could not send the sign-in window to the sign-in page; close it and press Sign in again."
        }
    }
}

/// Why the person is asked to sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    First,
    StepUp,
    Claims,
    Expired,
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Need::First => "This server requires a sign-in; press Sign in.",
            Need::StepUp => {
                "The server needs more permissions than this sign-in has; sign in again to grant them."
            }
            Need::Claims => {
                "The server needs a fresh sign-in for its access policy (a claims challenge); sign in again."
            }
            Need::Expired => "The sign-in has expired or was revoked; sign in again to go on.",
        })
    }
}

/// What a sign-in under way is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    LookingUp,
    Registering,
    OpeningPage,
    InPopup,
    PopupClosed,
    Redeeming,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::LookingUp => "Looking up the authorization server…",
            Step::Registering => "Registering the console…",
            Step::OpeningPage => "Opening the sign-in page…",
            Step::InPopup => "Finish signing in in the sign-in window…",
            Step::PopupClosed => {
                "The sign-in window was closed, or the sign-in page cut the console off from it; finish there if it is still open, or press Sign in to start again."
            }
            Step::Redeeming => "Redeeming the sign-in…",
        })
    }
}

/// Settings waiting for the person's word, with everything they would decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// The server's origin: where the token would go.
    pub server: String,
    /// Where the person would sign in.
    pub issuer: String,
    /// Who the console would be there.
    pub client: String,
    pub scopes: Vec<String>,
    pub source: Source,
    /// A client secret typed into the page would go to this issuer's token endpoint.
    pub secret: bool,
}

/// Where signing in to the shown server stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Phase {
    #[default]
    SignedOut,
    Needed(Need),
    Confirm(Proposal),
    Working(Step),
    SignedIn,
    Failed(AuthError),
}

/// What the Auth view shows, for the server the page is connected to (or about to be). Holds no
/// secret.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuthView {
    pub server: Option<String>,
    pub phase: Phase,
    pub claims: Option<Claims>,
    pub scopes: Vec<String>,
    pub expires_at: Option<Millis>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub trace: Vec<TraceLine>,
    /// The settings the form shows, where they came from, and whether they may be edited.
    pub settings: SignInSettings,
    pub source: Source,
    pub locked: bool,
    pub secret_typed: bool,
    pub token_pasted: bool,
    pub mode: SignInMode,
    /// This console's redirect URI, to register at the authorization server.
    pub redirect_uri: String,
}

/// What the platform must do.
pub enum Action {
    /// Perform this request (a GET of a metadata document, a POST to a registration, token or
    /// revocation endpoint) and report with [`SignIn::handle_response`] or
    /// [`SignIn::handle_failure`]. Answers beyond [`MAX_ANSWER_BYTES`] are cut.
    Fetch {
        id: FetchId,
        request: HttpRequest,
    },
    /// Open the sign-in window now, inside the click, blank and with no way back to the console
    /// (`opener` cut); report a block with [`SignIn::handle_popup_blocked`].
    OpenPopup,
    /// Send the sign-in window to the authorization request.
    NavigatePopup(Url),
    ClosePopup,
    /// Wait for the callback page's answer for this `state` (its channel), and hand it to
    /// [`SignIn::handle_answer`].
    Listen {
        state: String,
    },
    StopListening,
    /// Keep `pending` (and the trace) for the page's return, then leave for `url`.
    Leave {
        url: Url,
        pending: Box<PendingSignIn>,
        trace: Vec<TraceLine>,
    },
    /// Give this token to the connection of its server (it holds requests until then).
    Bearer(Bearer),
    /// No token can be had for the connection of this server: its waiting requests fail.
    GiveUp {
        server: ServerUrl,
        error: AuthError,
    },
    /// Sign-out: end this server's connection and MCP session.
    EndSession(ServerUrl),
}

impl fmt::Debug for Action {
    // A request's headers and body hold codes, verifiers, refresh tokens and secrets: only its
    // method and URL are ever printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Fetch { id, request } => {
                write!(f, "Fetch({id}, {} {})", request.method, request.url)
            }
            Action::OpenPopup => f.write_str("OpenPopup"),
            Action::NavigatePopup(url) => {
                write!(f, "NavigatePopup({})", origin_of(url))
            }
            Action::ClosePopup => f.write_str("ClosePopup"),
            Action::Listen { .. } => f.write_str("Listen([redacted])"),
            Action::StopListening => f.write_str("StopListening"),
            Action::Leave { url, .. } => write!(f, "Leave({})", origin_of(url)),
            Action::Bearer(bearer) => write!(f, "{bearer:?}"),
            Action::GiveUp { server, error } => write!(f, "GiveUp({server}, {error})"),
            Action::EndSession(server) => write!(f, "EndSession({server})"),
        }
    }
}

/// A client secret typed into the page, and the issuer the person confirmed it for.
struct TypedSecret {
    secret: ClientSecret,
    issuer: Option<String>,
}

/// What the last refusal asked for.
#[derive(Debug, Clone, Default)]
struct Asked {
    challenge: Option<BearerChallenge>,
    step_up: bool,
}

/// Everything about signing in to one server.
#[derive(Default)]
struct Record {
    settings: SignInSettings,
    source: Source,
    confirmed: bool,
    secret: Option<TypedSecret>,
    pasted: Option<AccessToken>,
    discovered: Option<Discovered>,
    asked: Asked,
    phase: Phase,
    trace: Vec<TraceLine>,
    claims: Option<Claims>,
    issuer: Option<String>,
    client_id: Option<String>,
    /// A refresh that could not reach the server is not tried again before this.
    refresh_not_before: Millis,
    /// The last refresh failed (its sentence is in view until one succeeds).
    refresh_failed: bool,
}

impl Record {
    /// Whether the person must confirm before anything is asked of an authorization server:
    /// settings from a link, typed, or from a configuration that does not name this server, and
    /// a typed secret not yet confirmed for an issuer.
    fn needs_confirmation(&self) -> bool {
        (self.source.needs_confirmation() && !self.confirmed)
            || self.secret.as_ref().is_some_and(|s| s.issuer.is_none())
    }

    /// Whether the settings are fixed: the deployer's, or confirmed.
    fn fixed(&self) -> bool {
        self.source == Source::Config || self.confirmed
    }
}

/// Where the one interactive sign-in stands.
enum Stage {
    Discovering {
        discovery: Discovery,
        fetch: Option<(FetchId, Url)>,
        traced: usize,
    },
    Confirming {
        discovery: Discovery,
        traced: usize,
    },
    Registering {
        fetch: FetchId,
        endpoint: String,
        discovered: Discovered,
    },
    Authorizing {
        pending: PendingSignIn,
        auth: ClientAuth,
    },
    Redeeming {
        fetch: FetchId,
        pending: PendingSignIn,
        auth: ClientAuth,
    },
    /// The page is leaving for the sign-in page.
    Left,
}

struct Flow {
    server: ServerUrl,
    popup: bool,
    press: Option<Press>,
    stage: Stage,
}

/// A refresh under way.
struct Refreshing {
    server: ServerUrl,
    issuer: String,
    ticket: u64,
    token_endpoint: String,
    redirect_uri: String,
    scopes: Vec<String>,
}

/// The sign-in machine. See the module documentation.
pub struct SignIn {
    deployment: Deployment,
    mode: SignInMode,
    records: BTreeMap<ServerUrl, Record>,
    /// What was typed before any server was chosen: it goes to the next server connected.
    draft: Record,
    /// The link's settings and the server they are for.
    proposal: Option<(ServerUrl, SignInSettings)>,
    tokens: TokenStore,
    /// The server the page is connected to: the only one whose tokens are refreshed and handed
    /// out.
    selected: Option<ServerUrl>,
    /// Connections holding requests until a token comes.
    waiting: BTreeSet<ServerUrl>,
    flow: Option<Flow>,
    refreshes: BTreeMap<FetchId, Refreshing>,
    revocations: BTreeSet<FetchId>,
    next_fetch: FetchId,
    outputs: VecDeque<Action>,
    view: AuthView,
}

/// A GET for a metadata document: no custom header, so no CORS preflight.
fn document_request(url: &Url) -> HttpRequest {
    HttpRequest {
        method: "GET",
        url: url.to_string(),
        headers: vec![(ACCEPT_HEADER, "application/json".to_owned())],
        body: None,
    }
}

/// What kind of token `token` is, when it is a readable JWT: "an app-only token …" for tokens
/// without a user (`idtyp=app`, or `roles` without `scp`), "a delegated token …" otherwise.
pub fn describe_token(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let scp = claims.get("scp").and_then(Value::as_str);
    let roles: Vec<&str> = claims
        .get("roles")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let app_only = claims.get("idtyp").and_then(Value::as_str) == Some("app")
        || (scp.is_none() && !roles.is_empty());
    Some(if app_only {
        format!(
            "an app-only token (roles {}, no scp): it speaks for an application, not a person, and this server accepts only delegated user tokens",
            if roles.is_empty() { "none".to_owned() } else { roles.join(" ") }
        )
    } else {
        format!("a delegated token with scopes {}", scp.unwrap_or("(none)"))
    })
}

impl SignIn {
    pub fn new(deployment: Deployment) -> SignIn {
        let mut machine = SignIn {
            mode: deployment.mode,
            deployment,
            records: BTreeMap::new(),
            draft: Record::default(),
            proposal: None,
            tokens: TokenStore::default(),
            selected: None,
            waiting: BTreeSet::new(),
            flow: None,
            refreshes: BTreeMap::new(),
            revocations: BTreeSet::new(),
            next_fetch: 0,
            outputs: VecDeque::new(),
            view: AuthView::default(),
        };
        machine.update_view();
        machine
    }

    /// The deployer's configuration has been read: it replaces the one the page started with.
    /// Nothing was connected or signed in before, so nothing else is kept.
    pub fn configure(&mut self, deployment: Deployment) {
        self.mode = deployment.mode;
        self.deployment = deployment;
        self.records.clear();
        self.proposal = None;
        self.update_view();
    }

    /// The link's settings for `server`: a proposal, to be confirmed before use.
    pub fn propose(&mut self, server: ServerUrl, settings: SignInSettings) {
        if let Some(record) = self.records.get_mut(&server)
            && record.source != Source::Config
        {
            record.settings = settings.clone();
            record.source = Source::Link;
            record.confirmed = false;
            record.discovered = None;
        }
        self.proposal = Some((server, settings));
        self.update_view();
    }

    /// How the page signs in: a popup or the full page.
    pub fn set_mode(&mut self, mode: SignInMode) {
        self.mode = mode;
        self.update_view();
    }

    /// What a sign-in or a change did, one at a time.
    pub fn poll_output(&mut self) -> Option<Action> {
        self.outputs.pop_front()
    }

    /// When to call [`SignIn::handle_timeout`]: the connected server's refresh, or the end of a
    /// sign-in waiting for its answer.
    pub fn poll_timeout(&self) -> Option<Millis> {
        let refresh = self.selected.as_ref().and_then(|server| self.refresh_due(server));
        let expiry = match &self.flow {
            Some(Flow { stage: Stage::Authorizing { pending, .. }, .. }) => {
                Some(pending.expires_after().saturating_add(1))
            }
            _ => None,
        };
        [refresh, expiry].into_iter().flatten().min()
    }

    /// The Auth view, as of the last input.
    pub fn view(&self) -> &AuthView {
        &self.view
    }

    // ---- the connection ----

    /// The page connects to `server`: it becomes the one whose tokens are refreshed and handed
    /// out (another server's timers and sign-in stop), and gets its bearer to start with, if
    /// one is at hand. Refused when the deployer allows only other servers.
    pub fn connect(
        &mut self,
        server: &ServerUrl,
        now: Millis,
    ) -> Result<Option<Bearer>, AuthError> {
        self.deployment.check_server(server)?;
        if self.selected.as_ref() != Some(server) {
            self.stop_others(server);
        }
        self.selected = Some(server.clone());
        self.waiting.remove(server);
        self.record(server);
        let draft = std::mem::take(&mut self.draft);
        if let Some(record) = self.records.get_mut(server) {
            if !draft.settings.is_empty() && record.source != Source::Config {
                record.settings = draft.settings;
                record.source = Source::Typed;
                record.confirmed = false;
                record.discovered = None;
            }
            if draft.secret.is_some() {
                record.secret = draft.secret;
            }
            if draft.pasted.is_some() {
                record.pasted = draft.pasted;
            }
            if matches!(draft.phase, Phase::Failed(_)) && record.phase == Phase::SignedOut {
                record.phase = draft.phase;
                record.trace = draft.trace;
            }
        }
        let bearer = self.bearer_for(server, now);
        self.update_view();
        Ok(bearer)
    }

    /// The page disconnected: nothing is refreshed or handed out until it connects again.
    pub fn disconnect(&mut self) {
        if let Some(server) = self.selected.take() {
            self.waiting.remove(&server);
            self.cancel_flow_for(&server);
        }
        self.update_view();
    }

    fn bearer_for(&mut self, server: &ServerUrl, now: Millis) -> Option<Bearer> {
        let record = self.records.get(server)?;
        if let Some(token) = &record.pasted {
            return server
                .is_secure()
                .then(|| Bearer { server: server.clone(), token: token.clone() });
        }
        self.tokens.bearer(server, now)
    }

    /// The connection of `server` was refused for want of a (better) token: refresh, ask the
    /// person to sign in (or to confirm proposed settings first), step up, or give up with a
    /// sentence. Its requests wait meanwhile.
    pub fn handle_refusal(&mut self, server: &ServerUrl, refusal: &AuthRequired, now: Millis) {
        if self.selected.as_ref() != Some(server) {
            return;
        }
        self.waiting.insert(server.clone());
        let challenge = refusal.www_authenticate.as_deref().and_then(challenge::bearer);
        let busy = self.flow.as_ref().is_some_and(|f| &f.server == server)
            || self.refreshes.values().any(|r| &r.server == server);
        let line = TraceLine::new(
            format!("HTTP {} from the MCP server", refusal.status),
            refusal.www_authenticate.clone().unwrap_or_else(|| "(no WWW-Authenticate)".into()),
        );
        let has_refresh = self.tokens.tokens(server).is_some_and(|t| t.refresh.is_some());
        let had_tokens = self.tokens.tokens(server).is_some();
        let record = self.record(server);
        if let Some(token) = &record.pasted {
            let error = AuthError::PastedTokenRefused {
                status: refusal.status,
                error: challenge.as_ref().and_then(|c| c.error.clone()),
                kind: describe_token(token.secret()),
            };
            record.trace = vec![line];
            record.phase = Phase::Failed(error.clone());
            self.waiting.remove(server);
            self.outputs.push_back(Action::GiveUp { server: server.clone(), error });
            return self.update_view();
        }
        if busy {
            // A sign-in or refresh for this server is under way: its token will serve.
            return self.update_view();
        }
        record.trace = vec![line];
        let error = challenge.as_ref().and_then(|c| c.error.as_deref());
        let need = match (refusal.status, error) {
            (403, _) => Need::StepUp,
            (_, Some("insufficient_claims")) => Need::Claims,
            _ if has_refresh => return self.start_refresh(server),
            _ if had_tokens || record.claims.is_some() => Need::Expired,
            _ => Need::First,
        };
        record.asked = Asked { challenge, step_up: need == Need::StepUp };
        if record.needs_confirmation() {
            self.start_flow(server, None, now);
        } else if !matches!(record.phase, Phase::Failed(_)) {
            // A sign-in that just failed keeps its sentence in view: it says what to fix before
            // pressing Sign in again.
            record.phase = Phase::Needed(need);
        }
        self.update_view();
    }

    // ---- the person ----

    /// The person pressed Sign in.
    pub fn sign_in(&mut self, press: Press, now: Millis) {
        let Some(server) = self.selected.clone() else { return };
        self.cancel_flow_for(&server);
        self.record(&server).pasted = None;
        self.start_flow(&server, Some(press), now);
        self.update_view();
    }

    /// The person accepted the proposal in view: the settings become this server's, a secret is
    /// bound to the issuer named, and the sign-in goes on.
    pub fn confirm(&mut self, press: Press, now: Millis) {
        let Some(mut flow) = self.flow.take() else { return };
        let Stage::Confirming { mut discovery, traced } = flow.stage else {
            self.flow = Some(flow);
            return;
        };
        let proposal = match &self.record(&flow.server).phase {
            Phase::Confirm(proposal) => proposal.clone(),
            _ => return,
        };
        let mode = self.mode;
        let record = self.record(&flow.server);
        record.confirmed = true;
        if record.settings.scopes.is_empty() {
            record.settings.scopes = proposal.scopes.clone();
        }
        if let Some(secret) = &mut record.secret {
            secret.issuer = Some(proposal.issuer.clone());
        }
        flow.popup = mode.use_popup(press.framed, record.secret.is_some());
        if flow.popup {
            self.outputs.push_back(Action::OpenPopup);
        }
        flow.press = Some(press);
        discovery.release();
        flow.stage = Stage::Discovering { discovery, fetch: None, traced };
        self.flow = Some(flow);
        self.pump_discovery(now);
        self.update_view();
    }

    /// The person declined the proposal: this server's settings are dropped, and discovery alone
    /// will decide if the person signs in.
    pub fn reject(&mut self) {
        let Some(flow) = self.flow.take() else { return };
        let record = self.record(&flow.server);
        record.settings = SignInSettings::default();
        record.source = Source::Discovery;
        record.confirmed = false;
        record.secret = None;
        record.discovered = None;
        record.phase = Phase::Needed(Need::First);
        self.update_view();
    }

    /// The person typed sign-in settings (for the connected server, else for the next one).
    pub fn edit(&mut self, settings: SignInSettings) -> Result<(), AuthError> {
        let result = match self.selected.clone() {
            None => {
                self.draft.settings = settings;
                Ok(())
            }
            Some(server) => {
                let record = self.record(&server);
                if record.source == Source::Config {
                    Err(AuthError::Trust(TrustError::Locked { server: server.origin() }))
                } else if record.settings == settings {
                    Ok(())
                } else {
                    record.source =
                        if settings.is_empty() { Source::Discovery } else { Source::Typed };
                    record.settings = settings;
                    record.confirmed = false;
                    record.discovered = None;
                    self.cancel_flow_for(&server);
                    Ok(())
                }
            }
        };
        self.update_view();
        result
    }

    /// The person typed a client secret (or cleared it): it goes to no token endpoint until it
    /// is confirmed for an issuer.
    pub fn type_secret(&mut self, secret: Option<ClientSecret>) {
        let typed = secret.map(|secret| TypedSecret { secret, issuer: None });
        match self.selected.clone() {
            None => self.draft.secret = typed,
            Some(server) => {
                self.record(&server).secret = typed;
                self.cancel_flow_for(&server);
            }
        }
        self.update_view();
    }

    /// The person pasted an access token (or cleared it): it is used for the server connected
    /// next (or now), and for no other.
    pub fn paste_token(&mut self, token: Option<AccessToken>) {
        match self.selected.clone() {
            None => self.draft.pasted = token,
            Some(server) => self.record(&server).pasted = token,
        }
        self.update_view();
    }

    /// Sign-out from the connected server: every token of it is forgotten, its refresh tokens
    /// are revoked where the server offers revocation, and its session ends.
    pub fn sign_out(&mut self) {
        let Some(server) = self.selected.clone() else { return };
        self.cancel_flow_for(&server);
        self.waiting.remove(&server);
        let mut lines = Vec::new();
        for (grant, refresh_token) in self.tokens.forget(&server) {
            let Some(endpoint) = grant.revocation_endpoint.clone() else { continue };
            match flow::revocation_request(&endpoint, &grant.client_id, &refresh_token, &grant.auth)
            {
                Ok(request) => {
                    let id = self.fetch(request);
                    self.revocations.insert(id);
                    lines.push(TraceLine::new(
                        format!("POST {endpoint}"),
                        "revoking the refresh token",
                    ));
                }
                Err(error) => {
                    lines.push(TraceLine::new(format!("POST {endpoint}"), error.to_string()))
                }
            }
        }
        let record = self.record(&server);
        record.pasted = None;
        record.secret = None;
        record.discovered = None;
        record.claims = None;
        record.asked = Asked::default();
        record.phase = Phase::SignedOut;
        record.trace = lines;
        self.outputs.push_back(Action::EndSession(server));
        self.update_view();
    }

    // ---- the browser ----

    /// The answer to fetch `id` (status and body, cut at [`MAX_ANSWER_BYTES`]).
    pub fn handle_response(&mut self, id: FetchId, status: u16, body: &[u8], now: Millis) {
        self.answered(id, Ok((status, body)), now);
        self.update_view();
    }

    /// Fetch `id` got no answer: the network, or the browser's CORS refusal (a page cannot
    /// tell which).
    pub fn handle_failure(&mut self, id: FetchId, reason: &str, now: Millis) {
        self.answered(id, Err(reason), now);
        self.update_view();
    }

    pub fn handle_popup_blocked(&mut self) {
        self.fail(AuthError::PopupBlocked);
        self.update_view();
    }

    /// The sign-in window looks closed: the person closed it, or a sign-in page with
    /// Cross-Origin-Opener-Policy cut it off (its answer still comes, so the wait goes on).
    pub fn handle_popup_closed(&mut self) {
        if let Some(flow) = &self.flow
            && flow.popup
            && !matches!(flow.stage, Stage::Redeeming { .. })
        {
            let server = flow.server.clone();
            self.record(&server).phase = Phase::Working(Step::PopupClosed);
        }
        self.update_view();
    }

    /// Something the browser could not do for the sign-in under way.
    pub fn handle_browser_problem(&mut self, problem: BrowserProblem) {
        self.fail(AuthError::Browser(problem));
        self.update_view();
    }

    /// The callback page's answer (its whole URL) for the sign-in in the popup.
    pub fn handle_answer(&mut self, answer: &str, now: Millis) {
        let Some(mut flow) = self.flow.take() else { return };
        let Stage::Authorizing { pending, auth } = flow.stage else {
            self.flow = Some(flow);
            return;
        };
        if flow.popup {
            self.outputs.push_back(Action::StopListening);
            self.outputs.push_back(Action::ClosePopup);
        }
        let code = match flow::read_callback(Some(&pending), answer, now) {
            Ok(code) => code,
            Err(error) => {
                flow.stage = Stage::Left;
                flow.popup = false;
                self.flow = Some(flow);
                self.fail(error.into());
                return self.update_view();
            }
        };
        match flow::token_request(&pending, &code.code, &auth) {
            Ok(request) => {
                let id = self.fetch(request);
                let server = flow.server.clone();
                flow.stage = Stage::Redeeming { fetch: id, pending, auth };
                self.flow = Some(flow);
                self.record(&server).phase = Phase::Working(Step::Redeeming);
            }
            Err(error) => {
                flow.stage = Stage::Left;
                self.flow = Some(flow);
                self.fail(error.into());
            }
        }
        self.update_view();
    }

    /// The page came back from a full-page sign-in with `answer` (its whole callback URL), and
    /// what it kept across the load: the pending sign-in and its trace, read once. Without them
    /// the answer is a replay, or from another tab, and nothing is redeemed.
    pub fn resume(&mut self, kept: Option<Kept>, answer: &str, now: Millis) {
        let Some((pending, trace)) = kept else {
            let error =
                flow::read_callback(None, answer, now).err().unwrap_or(SignInError::Replayed);
            self.draft.phase = Phase::Failed(error.into());
            return self.update_view();
        };
        let Ok(server) = ServerUrl::parse(&pending.server) else {
            self.draft.phase = Phase::Failed(SignInError::Replayed.into());
            return self.update_view();
        };
        let record = self.record(&server);
        if let Some(settings) = pending.confirmed.clone()
            && record.source != Source::Config
        {
            record.settings = settings;
            record.confirmed = true;
        }
        record.trace = trace;
        self.flow = Some(Flow {
            server,
            popup: false,
            press: None,
            stage: Stage::Authorizing { pending, auth: ClientAuth::None },
        });
        self.handle_answer(answer, now);
    }

    /// The time came: refresh the connected server's tokens, or give up on an answer that
    /// never came.
    pub fn handle_timeout(&mut self, now: Millis) {
        if let Some(Flow { stage: Stage::Authorizing { pending, .. }, .. }) = &self.flow
            && pending.is_expired(now)
        {
            self.fail(AuthError::NotFinished);
        }
        if let Some(server) = self.selected.clone()
            && self.refresh_due(&server).is_some_and(|due| now >= due)
        {
            self.start_refresh(&server);
        }
        self.update_view();
    }

    /// When `server`'s tokens are refreshed ahead of expiry: not for a pasted token, not while
    /// its connection waits for an interactive sign-in (a refreshed token would not satisfy the
    /// server), and not before a failed refresh may be tried again.
    fn refresh_due(&self, server: &ServerUrl) -> Option<Millis> {
        let record = self.records.get(server)?;
        if record.pasted.is_some() || self.waiting.contains(server) {
            return None;
        }
        let due = self.tokens.refresh_due(server)?;
        Some(due.max(record.refresh_not_before))
    }

    // ---- inside ----

    /// The record of `server`, made on first use from the deployment, the link's proposal, or
    /// nothing.
    fn record(&mut self, server: &ServerUrl) -> &mut Record {
        let (deployment, proposal) = (&self.deployment, &self.proposal);
        self.records.entry(server.clone()).or_insert_with(|| {
            let (mut settings, mut source) = deployment.settings_for(server);
            if let Some((for_server, proposed)) = proposal
                && for_server == server
                && source != Source::Config
            {
                settings = proposed.clone();
                source = Source::Link;
            }
            Record { settings, source, ..Record::default() }
        })
    }

    fn fetch(&mut self, request: HttpRequest) -> FetchId {
        self.next_fetch += 1;
        let id = self.next_fetch;
        self.outputs.push_back(Action::Fetch { id, request });
        id
    }

    /// Another server is connected now: this one's sign-in window, listening and waiting stop
    /// (its timers follow the connected server by themselves). A refresh already sent is let
    /// finish into the store — its answer may rotate the refresh token — but its token goes to
    /// no connection.
    fn stop_others(&mut self, server: &ServerUrl) {
        let others: Vec<ServerUrl> =
            self.waiting.iter().filter(|s| *s != server).cloned().collect();
        for other in others {
            self.waiting.remove(&other);
        }
        if let Some(flow) = &self.flow
            && &flow.server != server
        {
            let other = flow.server.clone();
            self.cancel_flow_for(&other);
        }
    }

    fn cancel_flow_for(&mut self, server: &ServerUrl) {
        if self.flow.as_ref().is_none_or(|f| &f.server != server) {
            return;
        }
        if let Some(flow) = self.flow.take()
            && flow.popup
        {
            self.outputs.push_back(Action::StopListening);
            self.outputs.push_back(Action::ClosePopup);
        }
        let signed_in = self.tokens.tokens(server).is_some();
        let waiting = self.waiting.contains(server);
        let record = self.record(server);
        if matches!(record.phase, Phase::Working(_) | Phase::Confirm(_)) {
            record.phase = if signed_in {
                Phase::SignedIn
            } else if waiting {
                Phase::Needed(Need::First)
            } else {
                Phase::SignedOut
            };
        }
    }

    /// Ends the sign-in under way with `error`, said in the Auth view.
    fn fail(&mut self, error: AuthError) {
        let Some(flow) = self.flow.take() else { return };
        if flow.popup {
            self.outputs.push_back(Action::StopListening);
            self.outputs.push_back(Action::ClosePopup);
        }
        self.record(&flow.server).phase = Phase::Failed(error);
    }

    /// Starts an interactive sign-in for `server`: the checks that need no request, then
    /// discovery — held before the authorization server when the person must confirm first
    /// (then no window opens yet), else with the sign-in window opened inside the click.
    fn start_flow(&mut self, server: &ServerUrl, press: Option<Press>, now: Millis) {
        let mode = self.mode;
        let configured = self.deployment.metadata.clone();
        let record = self.record(server);
        let (settings, source) = (record.settings.clone(), record.source);
        let confirm = record.needs_confirmation();
        let has_secret = record.secret.is_some();
        let cached = record.discovered.clone().filter(|_| !confirm);
        let challenge = record.asked.challenge.as_ref().map(BearerInfo::from);
        let checked = (|| -> Result<Option<String>, AuthError> {
            if !server.is_secure() {
                return Err(MetadataError::InsecureServer { server: server.to_string() }.into());
            }
            self.deployment.check_instance(&settings, source)?;
            let fixed = settings.fixed_issuer()?;
            if let Some(issuer) = &fixed {
                self.deployment.check_authority(issuer)?;
            }
            Ok(fixed)
        })();
        let fixed_issuer = match checked {
            Ok(fixed) => fixed,
            Err(error) => {
                self.record(server).phase = Phase::Failed(error);
                return;
            }
        };
        if !confirm && press.is_none() {
            return;
        }
        let popup =
            !confirm && press.as_ref().is_some_and(|p| mode.use_popup(p.framed, has_secret));
        if popup {
            self.outputs.push_back(Action::OpenPopup);
        }
        let discovery = Discovery::new(
            server.url().clone(),
            challenge,
            DiscoverySettings {
                strict_pkce: false,
                fixed_issuer,
                configured: configured.filter(|_| source == Source::Config),
                hold: confirm,
            },
        );
        self.flow = Some(Flow {
            server: server.clone(),
            popup,
            press,
            stage: Stage::Discovering { discovery, fetch: None, traced: 0 },
        });
        self.record(server).phase = Phase::Working(Step::LookingUp);
        match cached {
            Some(discovered) => self.after_discovery(discovered, now),
            None => self.pump_discovery(now),
        }
    }

    /// Moves discovery on: its next GET, the confirmation when it holds, or what comes after.
    fn pump_discovery(&mut self, now: Millis) {
        let Some(mut flow) = self.flow.take() else { return };
        let Stage::Discovering { mut discovery, fetch, mut traced } = flow.stage else {
            self.flow = Some(flow);
            return;
        };
        let server = flow.server.clone();
        let steps: Vec<TraceLine> = discovery.trace()[traced.min(discovery.trace().len())..]
            .iter()
            .map(|step| {
                let detail = match step.status {
                    Some(status) => format!("HTTP {status}: {}", step.note),
                    None => step.note.clone(),
                };
                TraceLine::new(format!("GET {}", step.url), detail)
            })
            .collect();
        traced = discovery.trace().len();
        self.record(&server).trace.extend(steps);
        if fetch.is_some() {
            flow.stage = Stage::Discovering { discovery, fetch, traced };
            self.flow = Some(flow);
            return;
        }
        if let Some(url) = discovery.next_request() {
            let id = self.fetch(document_request(&url));
            flow.stage = Stage::Discovering { discovery, fetch: Some((id, url)), traced };
            self.flow = Some(flow);
            return;
        }
        if let Some((issuer, prm)) = discovery.held() {
            let proposal =
                self.propose_for(&server, &issuer, prm.and_then(|p| p.scopes_supported.clone()));
            flow.stage = Stage::Confirming { discovery, traced };
            self.flow = Some(flow);
            match proposal {
                Ok(proposal) => self.record(&server).phase = Phase::Confirm(proposal),
                Err(error) => self.fail(error),
            }
            return;
        }
        let outcome = discovery.outcome();
        flow.stage = Stage::Discovering { discovery, fetch: None, traced };
        self.flow = Some(flow);
        match outcome {
            Some(Ok(discovered)) => self.after_discovery(discovered, now),
            Some(Err(error)) => self.fail(error.into()),
            None => {}
        }
    }

    /// What the person is asked to confirm, before anything is asked of the authorization
    /// server: the server's origin, the issuer, the client and the scopes.
    fn propose_for(
        &mut self,
        server: &ServerUrl,
        issuer: &str,
        prm_scopes: Option<Vec<String>>,
    ) -> Result<Proposal, AuthError> {
        self.deployment.check_authority(issuer)?;
        let record = self.record(server);
        let challenged = record.asked.challenge.as_ref().and_then(|c| c.scope.clone());
        let settings = &record.settings;
        let scopes = if settings.scopes.is_empty() {
            let mut scopes =
                scopes::choose_scopes(challenged.as_deref(), prm_scopes.as_deref(), &[], None);
            if settings.names_a_tenant() && !scopes.is_empty() {
                scopes = scopes::step_up(&scopes, &ENTRA_EXTRAS.map(str::to_owned));
            }
            scopes
        } else {
            scopes::within_fixed(
                &settings.fixed_scopes(),
                challenged.as_deref().unwrap_or_default(),
            )?
        };
        let client = match (settings.client_id(), settings.client_metadata_url()) {
            (Some(id), _) => id.to_owned(),
            (None, Some(document)) => document.to_owned(),
            (None, None) => "a client the console registers there".to_owned(),
        };
        Ok(Proposal {
            server: server.origin(),
            issuer: issuer.to_owned(),
            client,
            scopes,
            source: record.source,
            secret: record.secret.is_some(),
        })
    }

    /// Discovery found the authorization server: check it against the deployer's list, then
    /// the client identity (registering if need be).
    fn after_discovery(&mut self, discovered: Discovered, now: Millis) {
        let Some(server) = self.flow.as_ref().map(|f| f.server.clone()) else { return };
        if let Err(error) = self.deployment.check_authority(&discovered.issuer) {
            return self.fail(error.into());
        }
        let record = self.record(&server);
        record.discovered = Some(discovered.clone());
        let choice = match choose_client(&record.settings, &discovered.metadata) {
            Ok(choice) => choice,
            Err(error) => return self.fail(error.into()),
        };
        match choice {
            ClientChoice::Configured(id) => {
                let auth = match &record.secret {
                    None => Ok(ClientAuth::None),
                    Some(TypedSecret { secret, issuer: Some(bound) })
                        if *bound == discovered.issuer =>
                    {
                        Ok(ClientAuth::Basic(secret.clone()))
                    }
                    Some(TypedSecret { issuer, .. }) => Err(AuthError::SecretForAnotherIssuer {
                        bound: issuer.clone().unwrap_or_else(|| "no issuer yet".into()),
                        issuer: discovered.issuer.clone(),
                    }),
                };
                match auth {
                    Ok(auth) => self.authorize(discovered, id, auth, now),
                    Err(error) => self.fail(error),
                }
            }
            ClientChoice::MetadataDocument(id) => {
                self.authorize(discovered, id, ClientAuth::None, now)
            }
            ClientChoice::Register(endpoint) => {
                let scopes = match self.scopes_for(&server, &discovered) {
                    Ok(scopes) => scopes,
                    Err(error) => return self.fail(error),
                };
                let callback = self.deployment.callback.to_string();
                match registration_request(&endpoint, &callback, &scopes) {
                    Ok(request) => {
                        let id = self.fetch(request);
                        if let Some(flow) = &mut self.flow {
                            flow.stage = Stage::Registering { fetch: id, endpoint, discovered };
                        }
                        self.record(&server).phase = Phase::Working(Step::Registering);
                    }
                    Err(error) => self.fail(error.into()),
                }
            }
        }
    }

    /// The scopes to ask for: for fixed settings with scopes, those and only more of the same
    /// API; otherwise the challenge's, the protected resource's or the settings', a step-up
    /// adding to what was granted, and Entra's extras for settings naming a tenant.
    fn scopes_for(
        &mut self,
        server: &ServerUrl,
        discovered: &Discovered,
    ) -> Result<Vec<String>, AuthError> {
        let granted = self.tokens.tokens(server).map(|t| t.scopes.clone()).unwrap_or_default();
        let record = self.record(server);
        let challenged = record.asked.challenge.as_ref().and_then(|c| c.scope.clone());
        let granted = if record.asked.step_up { granted } else { Vec::new() };
        let offered = discovered.metadata.scopes_supported.as_deref().unwrap_or_default();
        let settings = &record.settings;
        let mut scopes = if record.fixed() && !settings.scopes.is_empty() {
            let asked = scopes::step_up(&granted, challenged.as_deref().unwrap_or_default());
            scopes::within_fixed(&settings.fixed_scopes(), &asked)?
        } else {
            let prm = discovered.prm.as_ref().and_then(|p| p.scopes_supported.as_deref());
            let mut chosen =
                scopes::choose_scopes(challenged.as_deref(), prm, &settings.scopes, Some(offered));
            if record.asked.step_up {
                chosen = scopes::step_up(&granted, &chosen);
            }
            if settings.names_a_tenant() && !chosen.is_empty() {
                chosen = scopes::step_up(&chosen, &ENTRA_EXTRAS.map(str::to_owned));
            }
            chosen
        };
        let wants_refresh = offered.iter().any(|s| s == OFFLINE_ACCESS);
        if wants_refresh && !scopes.is_empty() && !scopes.iter().any(|s| s == OFFLINE_ACCESS) {
            scopes.push(OFFLINE_ACCESS.to_owned());
        }
        Ok(scopes)
    }

    /// The address a full-page sign-in comes back to: the console, opening `server` and what
    /// was open in the call panel — no sign-in setting (those come back in the pending sign-in).
    fn return_address(&self, server: &ServerUrl, open: Option<&Opened>) -> String {
        let mut url = self.deployment.console.clone();
        {
            let mut query = url.query_pairs_mut();
            query.clear().append_pair("server", server.as_str()).append_pair("connect", "1");
            match open {
                Some(Opened::Tool(name)) => query.append_pair("tool", name),
                Some(Opened::Prompt(name)) => query.append_pair("prompt", name),
                None => &mut query,
            };
        }
        url.to_string()
    }

    /// Builds the authorization request and sends the person there: in the window, or the whole
    /// page (which cannot carry a client secret across the load).
    fn authorize(
        &mut self,
        discovered: Discovered,
        client_id: String,
        auth: ClientAuth,
        now: Millis,
    ) {
        let Some((server, popup, press)) =
            self.flow.as_ref().map(|f| (f.server.clone(), f.popup, f.press.clone()))
        else {
            return;
        };
        let Some(press) = press else { return };
        let scopes = match self.scopes_for(&server, &discovered) {
            Ok(scopes) => scopes,
            Err(error) => return self.fail(error),
        };
        if !popup && !matches!(auth, ClientAuth::None) {
            return self.fail(AuthError::SecretNeedsPopup);
        }
        let return_to = self.return_address(&server, press.open.as_ref());
        let callback = self.deployment.callback.to_string();
        let record = self.record(&server);
        let mut request = match SignInRequest::new(&discovered.metadata, &client_id, &callback) {
            Ok(request) => request,
            Err(error) => return self.fail(error.into()),
        };
        let policy = record.settings.resource_policy(&discovered.issuer, discovered.prm.is_some());
        // Under Entra's multi-tenant authorities the metadata's issuer holds `{tenantid}`; the
        // callback's `iss` is compared to it with that placeholder.
        request.issuer = discovered.metadata.issuer.clone();
        request.scopes = scopes;
        request.resource = resource_value(
            &policy,
            server.url(),
            discovered.prm.as_ref().map(|p| p.resource.as_str()),
        );
        request.login_hint = record.settings.login_hint().map(str::to_owned);
        request.claims = record.asked.challenge.as_ref().and_then(|c| c.claims.clone());
        request.return_to = return_to;
        request.server = server.to_string();
        request.confirmed = record.confirmed.then(|| record.settings.clone());
        request.popup = popup;
        let (url, pending) = flow::begin(request, &press.random.0, now);
        record.trace.push(TraceLine::new("Authorization request", shown_authorization_url(&url)));
        record.issuer = Some(discovered.metadata.issuer.clone());
        record.client_id = Some(client_id);
        if popup {
            let state = pending.state.secret().clone();
            record.phase = Phase::Working(Step::InPopup);
            self.outputs.push_back(Action::NavigatePopup(url));
            self.outputs.push_back(Action::Listen { state });
            if let Some(flow) = &mut self.flow {
                flow.stage = Stage::Authorizing { pending, auth };
            }
        } else {
            record.phase = Phase::Working(Step::OpeningPage);
            let trace = record.trace.clone();
            self.outputs.push_back(Action::Leave { url, pending: Box::new(pending), trace });
            if let Some(flow) = &mut self.flow {
                flow.stage = Stage::Left;
            }
        }
    }

    /// Routes a fetch's answer to what asked for it; answers nobody waits for are dropped.
    fn answered(&mut self, id: FetchId, answer: Result<(u16, &[u8]), &str>, now: Millis) {
        if self.revocations.remove(&id) {
            let detail = match answer {
                Ok((status, body)) => format!("HTTP {status}: {}", shown_answer(body)),
                Err(reason) => format!("no response: {reason}"),
            };
            if let Some(server) = self.selected.clone() {
                self.record(&server).trace.push(TraceLine::new("Revocation", detail));
            }
            return;
        }
        if let Some(refreshing) = self.refreshes.remove(&id) {
            return self.refreshed(refreshing, answer, now);
        }
        let Some(mut flow) = self.flow.take() else { return };
        let server = flow.server.clone();
        match flow.stage {
            Stage::Discovering { mut discovery, fetch: Some((fetched, url)), traced }
                if fetched == id =>
            {
                match answer {
                    Ok((status, body)) => {
                        discovery.handle_response(&url, status, &String::from_utf8_lossy(body))
                    }
                    Err(reason) => discovery.handle_failure(&url, reason),
                }
                flow.stage = Stage::Discovering { discovery, fetch: None, traced };
                self.flow = Some(flow);
                self.pump_discovery(now);
            }
            Stage::Registering { fetch, endpoint, discovered } if fetch == id => {
                flow.stage = Stage::Left;
                let popup = flow.popup;
                self.flow = Some(flow);
                let (status, body) = match answer {
                    Ok(answer) => answer,
                    Err(reason) => {
                        let line = TraceLine::new(
                            format!("POST {endpoint}"),
                            format!("no response: {reason}"),
                        );
                        self.record(&server).trace.push(line);
                        return self.fail(
                            RegistrationError::Unreachable { endpoint, reason: reason.to_owned() }
                                .into(),
                        );
                    }
                };
                let line = TraceLine::new(
                    format!("POST {endpoint}"),
                    format!("HTTP {status}: {}", shown_answer(body)),
                );
                self.record(&server).trace.push(line);
                match read_registration_response(status, body) {
                    Ok(registered) => {
                        // A full-page sign-in cannot carry a secret across the page load; a
                        // server that also takes public clients is then used as one.
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
                        self.authorize(discovered, registered.client_id, auth, now);
                    }
                    Err(error) => self.fail(error.into()),
                }
            }
            Stage::Redeeming { fetch, pending, auth } if fetch == id => {
                flow.stage = Stage::Left;
                flow.popup = false;
                self.flow = Some(flow);
                let (status, body) = match answer {
                    Ok(answer) => answer,
                    Err(reason) => {
                        let url = pending.token_endpoint.clone();
                        return self.fail(
                            SignInError::Unreachable { url, reason: reason.to_owned() }.into(),
                        );
                    }
                };
                let line = TraceLine::new(
                    format!("POST {}", pending.token_endpoint),
                    format!("HTTP {status}: {}", shown_answer(body)),
                );
                self.record(&server).trace.push(line);
                match flow::read_token_response(status, body, now, &pending.token_context()) {
                    Ok(granted) => {
                        self.flow = None;
                        let grant = Grant {
                            token_endpoint: pending.token_endpoint.clone(),
                            revocation_endpoint: pending.revocation_endpoint.clone(),
                            client_id: pending.client_id.clone(),
                            auth,
                            resource: pending.resource.clone(),
                            redirect_uri: pending.redirect_uri.clone(),
                        };
                        self.tokens.insert(&server, granted.tokens, grant);
                        let record = self.record(&server);
                        if granted.claims.is_some() {
                            record.claims = granted.claims;
                        }
                        record.issuer = Some(pending.issuer.clone());
                        record.client_id = Some(pending.client_id.clone());
                        record.asked = Asked::default();
                        record.phase = Phase::SignedIn;
                        record.refresh_not_before = 0;
                        self.hand_out(&server, now);
                    }
                    Err(error) => self.fail(error.into()),
                }
            }
            stage => {
                flow.stage = stage;
                self.flow = Some(flow);
            }
        }
    }

    /// Gives `server`'s token to its connection, if it is the one connected.
    fn hand_out(&mut self, server: &ServerUrl, now: Millis) {
        if self.selected.as_ref() != Some(server) {
            return;
        }
        if let Some(bearer) = self.tokens.bearer(server, now) {
            self.waiting.remove(server);
            self.outputs.push_back(Action::Bearer(bearer));
        }
    }

    fn start_refresh(&mut self, server: &ServerUrl) {
        match self.tokens.begin_refresh(server) {
            RefreshStart::Start { ticket, issuer, refresh_token, grant, scopes } => {
                let request = flow::refresh_request(
                    &grant.token_endpoint,
                    &grant.client_id,
                    &refresh_token,
                    &scopes,
                    grant.resource.as_deref(),
                    &grant.auth,
                );
                match request {
                    Ok(request) => {
                        let id = self.fetch(request);
                        self.refreshes.insert(
                            id,
                            Refreshing {
                                server: server.clone(),
                                issuer,
                                ticket,
                                token_endpoint: grant.token_endpoint,
                                redirect_uri: grant.redirect_uri,
                                scopes,
                            },
                        );
                    }
                    Err(error) => {
                        let result = RefreshResult::Rejected(error.to_string());
                        self.tokens.finish_refresh(server, &issuer, ticket, result);
                        self.record(server).phase = Phase::Failed(error.into());
                    }
                }
            }
            RefreshStart::InFlight => {}
            RefreshStart::NoRefreshToken => {
                let record = self.record(server);
                if !matches!(record.phase, Phase::Failed(_)) {
                    record.phase = Phase::Needed(Need::Expired);
                }
            }
        }
    }

    /// A refresh came back: new tokens (handed out if their server is connected), a dead grant
    /// (one interactive sign-in), or no answer (kept for a later try; a connection waiting for
    /// it gives up with the sentence).
    fn refreshed(&mut self, r: Refreshing, answer: Result<(u16, &[u8]), &str>, now: Millis) {
        let read = match answer {
            Err(reason) => Err(SignInError::Unreachable {
                url: r.token_endpoint.clone(),
                reason: reason.to_owned(),
            }),
            Ok((status, body)) => {
                let line = TraceLine::new(
                    format!("POST {} (refresh)", r.token_endpoint),
                    format!("HTTP {status}: {}", shown_answer(body)),
                );
                self.record(&r.server).trace.push(line);
                let ctx = TokenContext {
                    issuer: &r.issuer,
                    nonce: None,
                    scopes: &r.scopes,
                    redirect_uri: Some(&r.redirect_uri),
                };
                flow::read_token_response(status, body, now, &ctx)
            }
        };
        let (result, error) = match read {
            Ok(granted) => {
                if granted.claims.is_some() {
                    self.record(&r.server).claims = granted.claims;
                }
                (RefreshResult::Granted(granted.tokens), None)
            }
            Err(error) if error.needs_interactive_sign_in() => {
                (RefreshResult::Rejected(error.to_string()), Some(error))
            }
            Err(error) => (RefreshResult::Unavailable(error.to_string()), Some(error)),
        };
        let connected = self.selected.as_ref() == Some(&r.server);
        let answers_refusal = connected && self.waiting.contains(&r.server);
        match self.tokens.finish_refresh(&r.server, &r.issuer, r.ticket, result) {
            RefreshOutcome::Refreshed => {
                let record = self.record(&r.server);
                // A proactive refresh leaves a sign-in's progress or sentence in view.
                if answers_refusal || record.refresh_failed || record.phase == Phase::SignedIn {
                    record.phase = Phase::SignedIn;
                }
                record.refresh_failed = false;
                self.hand_out(&r.server, now);
            }
            RefreshOutcome::SignInNeeded(why) => {
                let record = self.record(&r.server);
                record.trace.push(TraceLine::new("Refresh refused", why));
                if !matches!(record.phase, Phase::Working(_) | Phase::Confirm(_)) {
                    record.phase = Phase::Needed(Need::Expired);
                }
            }
            RefreshOutcome::Retry(_) => {
                let error =
                    AuthError::Flow(error.unwrap_or(SignInError::ServerFailed { status: 0 }));
                let record = self.record(&r.server);
                record.refresh_not_before = now.saturating_add(REFRESH_RETRY);
                record.refresh_failed = true;
                record.phase = Phase::Failed(error.clone());
                if connected && self.waiting.remove(&r.server) {
                    self.outputs.push_back(Action::GiveUp { server: r.server, error });
                }
            }
            RefreshOutcome::Stale => {}
        }
    }

    /// The view of the connected server (or of what is typed for the next one).
    fn update_view(&mut self) {
        let callback = self.deployment.callback.to_string();
        let mode = self.mode;
        let (server, record, tokens) = match &self.selected {
            Some(server) => {
                (Some(server.clone()), self.records.get(server), self.tokens.tokens(server))
            }
            None => (None, Some(&self.draft), None),
        };
        let empty = Record::default();
        let record = record.unwrap_or(&empty);
        // Entra's multi-tenant issuer names `{tenantid}`: shown with the tenant signed in to.
        let tid = record.claims.as_ref().and_then(|c| c.tid.clone());
        let issuer = record.issuer.clone().map(|i| match &tid {
            Some(tid) => i.replace(TENANT_PLACEHOLDER, tid),
            None => i,
        });
        self.view = AuthView {
            server: server.map(|s| s.to_string()),
            phase: record.phase.clone(),
            claims: record.claims.clone(),
            scopes: tokens.map(|t| t.scopes.clone()).unwrap_or_default(),
            expires_at: tokens.and_then(|t| t.expires_at),
            issuer,
            client_id: record.client_id.clone(),
            trace: record.trace.clone(),
            settings: record.settings.clone(),
            source: record.source,
            locked: record.source == Source::Config,
            secret_typed: record.secret.is_some(),
            token_pasted: record.pasted.is_some(),
            mode,
            redirect_uri: callback,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::launch::{Config, Link};
    use serde_json::json;

    const CONSOLE: &str = "https://console.contoso.example/";
    const TENANT: &str = "5f2c9a31-8d4e-4b6a-9f1c-2e7d3a8b4c6d";
    const ENTRA: &str = "https://login.microsoftonline.com/";
    const CORP: &str = "https://mcp.contoso.example/mcp";
    const CORP_API: &str = "api://corp-mcp/mcp:tools";
    const EVIL: &str = "https://evil.example/mcp";
    const IDP: &str = "https://idp.example";

    fn entra_issuer() -> String {
        format!("{ENTRA}{TENANT}/v2.0")
    }

    fn server(s: &str) -> ServerUrl {
        ServerUrl::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn prm_url(s: &str) -> String {
        let u = url(s);
        format!(
            "{}/.well-known/oauth-protected-resource{}",
            u.origin().ascii_serialization(),
            u.path()
        )
    }

    /// One HTTP exchange the machine asked for, as the scripted peers saw it.
    #[derive(Debug, Clone)]
    struct Seen {
        method: String,
        url: String,
        body: String,
        authorization: Option<String>,
    }

    /// The console's sign-in machine against scripted peers on a fake clock: GETs answered from
    /// `documents` (404 otherwise), POSTs to a `/token` endpoint with fresh tokens (`ttl` seconds),
    /// to `/register` with a registration, to `/revoke` with 200.
    struct World {
        m: SignIn,
        now: Millis,
        documents: BTreeMap<String, String>,
        down: BTreeSet<String>,
        seen: Vec<Seen>,
        actions: Vec<Action>,
        issued: u32,
        ttl: u64,
        token_error: Option<(u16, String)>,
    }

    impl World {
        fn new(config: Config, link: &str) -> World {
            let (deployment, refusals) = Deployment::new(&url(CONSOLE), config);
            assert!(refusals.is_empty(), "{refusals:?}");
            let opening = deployment.open(Link::from_query(link));
            let mut m = SignIn::new(deployment);
            if let Some((s, settings)) = opening.proposal {
                m.propose(s, settings);
            }
            World {
                m,
                now: 1_000_000,
                documents: BTreeMap::new(),
                down: BTreeSet::new(),
                seen: Vec::new(),
                actions: Vec::new(),
                issued: 0,
                ttl: 10,
                token_error: None,
            }
        }

        fn document(&mut self, at: &str, doc: serde_json::Value) {
            self.documents.insert(at.to_owned(), doc.to_string());
        }

        /// Entra as a scripted peer: its OpenID configuration, nothing else.
        fn entra(&mut self) {
            let issuer = entra_issuer();
            let base = format!("{ENTRA}{TENANT}/oauth2/v2.0");
            self.document(
                &format!("{issuer}/.well-known/openid-configuration"),
                json!({"issuer": issuer, "authorization_endpoint": format!("{base}/authorize"), "token_endpoint": format!("{base}/token")}),
            );
        }

        /// A standards-based authorization server at `IDP`, with registration and revocation.
        fn idp(&mut self) {
            self.document(
                &format!("{IDP}/.well-known/oauth-authorization-server"),
                json!({
                    "issuer": IDP,
                    "authorization_endpoint": format!("{IDP}/authorize"),
                    "token_endpoint": format!("{IDP}/token"),
                    "registration_endpoint": format!("{IDP}/register"),
                    "revocation_endpoint": format!("{IDP}/revoke"),
                    "code_challenge_methods_supported": ["S256"],
                    "token_endpoint_auth_methods_supported": ["none"],
                    "scopes_supported": ["mcp:tools", "offline_access"],
                }),
            );
        }

        fn prm(&mut self, s: &str, issuer: &str) {
            self.document(&prm_url(s), json!({"resource": s, "authorization_servers": [issuer]}));
        }

        fn answer(&mut self, request: &HttpRequest) -> Option<(u16, String)> {
            let url = request.url.clone();
            if self.down.iter().any(|d| url.starts_with(d.as_str())) {
                return None;
            }
            if request.method == "GET" {
                return Some(match self.documents.get(&url) {
                    Some(doc) => (200, doc.clone()),
                    None => (404, "{}".into()),
                });
            }
            Some(if url.ends_with("/token") {
                if let Some(error) = self.token_error.clone() {
                    return Some(error);
                }
                self.issued += 1;
                let n = self.issued;
                (200, json!({"access_token": format!("at-{n}"), "refresh_token": format!("rt-{n}"), "token_type": "Bearer", "expires_in": self.ttl}).to_string())
            } else if url.ends_with("/register") {
                (201, json!({"client_id": "dcr-client", "registration_access_token": "RAT-do-not-show", "registration_client_uri": format!("{IDP}/register/dcr-client")}).to_string())
            } else {
                (200, String::new())
            })
        }

        /// Performs every fetch the machine asks for and keeps the other actions.
        fn run(&mut self) {
            while let Some(action) = self.m.poll_output() {
                match action {
                    Action::Fetch { id, request } => {
                        let seen = Seen {
                            method: request.method.to_owned(),
                            url: request.url.clone(),
                            body: request.body.clone().unwrap_or_default(),
                            authorization: request
                                .header(crate::core::http::AUTHORIZATION_HEADER)
                                .map(str::to_owned),
                        };
                        self.seen.push(seen);
                        match self.answer(&request) {
                            Some((status, body)) => {
                                self.m.handle_response(id, status, body.as_bytes(), self.now)
                            }
                            None => self.m.handle_failure(id, "Failed to fetch", self.now),
                        }
                    }
                    other => self.actions.push(other),
                }
            }
        }

        fn press(&self) -> Press {
            Press { framed: false, random: Random(std::array::from_fn(|i| i as u8)), open: None }
        }

        fn connect(&mut self, s: &str) -> Option<Bearer> {
            let bearer = self.m.connect(&server(s), self.now).unwrap_or_else(|e| panic!("{e}"));
            self.run();
            bearer
        }

        fn refused(&mut self, s: &str, status: u16, challenge: &str) {
            let refusal = AuthRequired {
                status,
                www_authenticate: Some(challenge.to_owned()),
                had_token: false,
            };
            self.m.handle_refusal(&server(s), &refusal, self.now);
            self.run();
        }

        fn sign_in(&mut self) {
            let press = self.press();
            self.m.sign_in(press, self.now);
            self.run();
        }

        fn confirm(&mut self) {
            let press = self.press();
            self.m.confirm(press, self.now);
            self.run();
        }

        /// The authorization server approves the request the window (or page) was sent to.
        fn approve(&mut self) {
            let state = self.authorization_url().and_then(|u| {
                u.query_pairs().find(|(k, _)| k == "state").map(|(_, v)| v.into_owned())
            });
            let state =
                state.unwrap_or_else(|| panic!("no authorization request: {:?}", self.actions));
            let answer = format!("{CONSOLE}callback.html?code=the-code&state={state}");
            self.m.handle_answer(&answer, self.now);
            self.run();
        }

        fn authorization_url(&self) -> Option<Url> {
            self.actions.iter().rev().find_map(|a| match a {
                Action::NavigatePopup(url) => Some(url.clone()),
                Action::Leave { url, .. } => Some(url.clone()),
                _ => None,
            })
        }

        fn advance(&mut self, ms: Millis) {
            self.now += ms;
            self.m.handle_timeout(self.now);
            self.run();
        }

        fn phase(&self) -> Phase {
            self.m.view().phase.clone()
        }

        fn bearers(&self) -> Vec<Bearer> {
            self.actions
                .iter()
                .filter_map(|a| match a {
                    Action::Bearer(b) => Some(b.clone()),
                    _ => None,
                })
                .collect()
        }

        fn requests_to(&self, prefix: &str) -> Vec<&Seen> {
            self.seen.iter().filter(|s| s.url.starts_with(prefix)).collect()
        }
    }

    fn corp_config() -> Config {
        Config {
            server_url: Some(CORP.into()),
            sign_in: SignInSettings {
                tenant_id: Some(TENANT.into()),
                client_id: Some("console-app".into()),
                scopes: vec![CORP_API.into()],
                ..Default::default()
            },
            mode: SignInMode::Popup,
            ..Config::default()
        }
    }

    /// Signs in to the config's server at (scripted) Entra, through the popup.
    fn signed_in_to_corp(w: &mut World) {
        w.entra();
        w.prm(CORP, &entra_issuer());
        assert_eq!(w.connect(CORP), None);
        w.refused(CORP, 401, &format!(r#"Bearer scope="{CORP_API}""#));
        assert_eq!(w.phase(), Phase::Needed(Need::First));
        w.sign_in();
        assert!(matches!(w.actions.first(), Some(Action::OpenPopup)), "{:?}", w.actions);
        w.approve();
        assert_eq!(w.phase(), Phase::SignedIn, "{:?}", w.m.view().trace);
    }

    #[test]
    fn a_configured_entra_sign_in_runs_in_the_popup_and_hands_the_token_to_its_server() {
        let mut w = World::new(corp_config(), "");
        signed_in_to_corp(&mut w);
        let auth = w.authorization_url().unwrap_or_else(|| panic!("no authorization URL"));
        let get = |k: &str| auth.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned());
        assert_eq!(
            get("redirect_uri").as_deref(),
            Some("https://console.contoso.example/callback.html")
        );
        assert_eq!(get("client_id").as_deref(), Some("console-app"));
        assert_eq!(
            get("scope").as_deref(),
            Some("api://corp-mcp/mcp:tools openid profile offline_access")
        );
        assert_eq!(get("resource"), None, "Entra settings leave resource out");
        assert_eq!(
            w.bearers(),
            vec![Bearer { server: server(CORP), token: AccessToken::new("at-1".into()) }]
        );
        let token_post = w.requests_to(&format!("{ENTRA}{TENANT}/oauth2/v2.0/token"));
        assert_eq!(token_post.len(), 1);
        assert!(
            token_post[0].body.contains("code_verifier=")
                && token_post[0].body.contains("code=the-code")
        );
        let view = w.m.view();
        assert_eq!(view.issuer.as_deref(), Some(entra_issuer().as_str()));
        assert!(view.locked && view.source == Source::Config);
        // Every request the sign-in made went to the server's metadata or to Entra.
        assert!(
            w.seen
                .iter()
                .all(|s| s.url.starts_with("https://mcp.contoso.example/")
                    || s.url.starts_with(ENTRA)),
            "{:?}",
            w.seen
        );
    }

    /// Attack 1: `?server=<the config's server>&instance=https://evil.example/` kept the config's
    /// tenant, client and scopes and took the sign-in service from the link; evil's metadata put
    /// the authorization endpoint on Entra and the token endpoint (code and verifier) at evil.
    #[test]
    fn attack_1_a_link_cannot_send_the_config_servers_code_to_another_token_endpoint() {
        let mut w = World::new(
            corp_config(),
            &format!("?server={CORP}&connect=1&instance=https://evil.example/"),
        );
        w.document(
            &format!("https://evil.example/{TENANT}/v2.0/.well-known/openid-configuration"),
            json!({"issuer": format!("https://evil.example/{TENANT}/v2.0"), "authorization_endpoint": format!("{ENTRA}{TENANT}/oauth2/v2.0/authorize"), "token_endpoint": "https://evil.example/token"}),
        );
        signed_in_to_corp(&mut w);
        assert!(w.requests_to("https://evil.example").is_empty(), "{:?}", w.seen);
    }

    /// Attack 1, second form: a server's protected resource metadata names evil's issuer while a
    /// client id is configured; evil's metadata splits the endpoints as above.
    #[test]
    fn attack_1_metadata_that_splits_the_endpoints_is_refused_before_the_sign_in_page() {
        let config = Config {
            server_url: Some(CORP.into()),
            sign_in: SignInSettings { client_id: Some("console-app".into()), ..Default::default() },
            mode: SignInMode::Popup,
            ..Config::default()
        };
        let mut w = World::new(config, "");
        w.prm(CORP, "https://evil.example");
        w.document(
            "https://evil.example/.well-known/oauth-authorization-server",
            json!({"issuer": "https://evil.example", "authorization_endpoint": format!("{ENTRA}{TENANT}/oauth2/v2.0/authorize"), "token_endpoint": "https://evil.example/token"}),
        );
        w.connect(CORP);
        w.refused(CORP, 401, "Bearer");
        w.sign_in();
        let Phase::Failed(error) = w.phase() else { panic!("{:?}", w.phase()) };
        assert!(
            matches!(error, AuthError::Metadata(MetadataError::ForeignEndpoint { .. })),
            "{error}"
        );
        assert_eq!(w.authorization_url(), None, "no sign-in page");
        assert!(w.seen.iter().all(|s| s.method == "GET"), "nothing posted: {:?}", w.seen);
        assert!(w.actions.iter().any(|a| matches!(a, Action::ClosePopup)), "the window closes");
    }

    /// Attack 2: `?server=https://evil.example/mcp&connect=1&tenant=<corp>&client_id=<console>`;
    /// evil asks for the corporate API, and one click with single sign-on would give it a token.
    #[test]
    fn attack_2_a_links_settings_for_another_server_wait_for_a_confirmation_that_names_everything()
    {
        let mut w = World::new(
            Config::default(),
            &format!("?server={EVIL}&connect=1&tenant={TENANT}&client_id=console-app"),
        );
        w.entra();
        assert_eq!(w.connect(EVIL), None);
        w.refused(EVIL, 401, &format!(r#"Bearer scope="{CORP_API}""#));
        let Phase::Confirm(proposal) = w.phase() else { panic!("{:?}", w.phase()) };
        assert_eq!(proposal.server, "https://evil.example");
        assert_eq!(proposal.issuer, entra_issuer());
        assert_eq!(proposal.client, "console-app");
        assert!(proposal.scopes.contains(&CORP_API.to_owned()), "{:?}", proposal.scopes);
        assert_eq!(proposal.source.reason(), "from the link you opened");
        assert!(
            w.requests_to(ENTRA).is_empty(),
            "nothing asked of the authorization server: {:?}",
            w.seen
        );
        assert!(w.actions.is_empty(), "no window, no page: {:?}", w.actions);
        // Declined: the link's settings are gone; nothing was sent anywhere.
        w.m.reject();
        assert_eq!(w.phase(), Phase::Needed(Need::First));
        assert!(w.m.view().settings.is_empty());
        assert!(w.requests_to(ENTRA).is_empty());
    }

    /// Attack 2, without a link: the config's tenant and client id, and the person types evil's
    /// URL.
    #[test]
    fn attack_2_the_configs_settings_are_only_offered_for_a_server_it_does_not_name() {
        let mut w = World::new(corp_config(), "");
        w.entra();
        w.connect(EVIL);
        w.refused(EVIL, 401, &format!(r#"Bearer scope="{CORP_API}""#));
        let Phase::Confirm(proposal) = w.phase() else { panic!("{:?}", w.phase()) };
        assert_eq!(proposal.source, Source::ConfigElsewhere);
        assert!(w.requests_to(ENTRA).is_empty());
        // Accepted by the person, evil can still not turn the sign-in to another API.
        w.confirm();
        w.approve();
        assert_eq!(w.phase(), Phase::SignedIn);
        w.refused(EVIL, 403, r#"Bearer error="insufficient_scope", scope="api://payroll/read""#);
        w.sign_in();
        let Phase::Failed(AuthError::Scope(ScopeError::OtherApi { asked, fixed })) = w.phase()
        else {
            panic!("{:?}", w.phase())
        };
        assert_eq!((asked.as_str(), fixed.as_str()), ("api://payroll/read", CORP_API));
    }

    #[test]
    fn a_confirmed_proposal_signs_in_and_a_step_up_of_the_same_api_needs_no_new_confirmation() {
        let link = format!("?server={IDP}/mcp&connect=1&client_id=c1&scope=mcp:tools&signin=popup");
        let mut w = World::new(Config::default(), &link);
        w.idp();
        let mcp = format!("{IDP}/mcp");
        w.prm(&mcp, IDP);
        w.m.set_mode(SignInMode::Popup);
        w.connect(&mcp);
        w.refused(&mcp, 401, "Bearer");
        assert!(matches!(w.phase(), Phase::Confirm(_)), "{:?}", w.phase());
        assert!(w.requests_to(&format!("{IDP}/.well-known/oauth-authorization-server")).is_empty());
        w.confirm();
        w.approve();
        assert_eq!(w.phase(), Phase::SignedIn);
        let auth = w.authorization_url().unwrap_or_else(|| panic!("no request"));
        assert!(auth.as_str().contains("scope=mcp%3Atools+offline_access"), "{auth}");
        assert!(
            auth.as_str().contains(&format!(
                "resource={}",
                url::form_urlencoded::byte_serialize(mcp.as_bytes()).collect::<String>()
            )),
            "{auth}"
        );
        w.refused(&mcp, 403, r#"Bearer error="insufficient_scope", scope="mcp:admin""#);
        assert_eq!(w.phase(), Phase::Needed(Need::StepUp));
        w.sign_in();
        w.approve();
        let auth = w.authorization_url().unwrap_or_else(|| panic!("no request"));
        let scope = auth
            .query_pairs()
            .find(|(k, _)| k == "scope")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        assert!(scope.contains("mcp:tools") && scope.contains("mcp:admin"), "{auth}");
    }

    /// Attack 3: after signing in to A and connecting to B, A's proactive refresh installed A's
    /// token on B's connection; a token pasted for one server went to every server.
    #[test]
    fn attack_3_a_token_for_one_server_never_reaches_another() {
        let mut w = World::new(corp_config(), "");
        signed_in_to_corp(&mut w);
        w.actions.clear();
        let everything = "https://everything.example/mcp";
        assert_eq!(w.connect(everything), None, "B gets no token of A's");
        assert_eq!(w.m.poll_timeout(), None, "A's refresh timer stopped");
        w.advance(60_000);
        assert!(
            w.requests_to(&format!("{ENTRA}{TENANT}/oauth2/v2.0/token")).len() == 1,
            "no refresh of A while B is open"
        );
        assert!(w.bearers().is_empty(), "{:?}", w.actions);
        // A refresh of A that was already under way finishes into the store, not into B.
        let mut w = World::new(corp_config(), "");
        signed_in_to_corp(&mut w);
        w.actions.clear();
        w.m.handle_timeout(w.now + 8_000);
        let Some(Action::Fetch { id, .. }) = w.m.poll_output() else { panic!("a refresh") };
        w.m.connect(&server(everything), w.now).unwrap_or_else(|e| panic!("{e}"));
        let body = json!({"access_token": "at-late", "refresh_token": "rt-late", "token_type": "Bearer", "expires_in": 10}).to_string();
        w.m.handle_response(id, 200, body.as_bytes(), w.now + 8_000);
        w.run();
        assert!(w.bearers().is_empty(), "{:?}", w.actions);
        assert_eq!(
            w.m.connect(&server(CORP), w.now + 8_001)
                .ok()
                .flatten()
                .map(|b| b.token.secret().clone())
                .as_deref(),
            Some("at-late"),
            "kept for A"
        );
        // A pasted token belongs to the server it was pasted for.
        let mut w = World::new(Config::default(), "");
        w.connect(CORP);
        w.m.paste_token(Some(AccessToken::new("pasted".into())));
        assert_eq!(w.connect(everything), None);
        assert_eq!(w.connect(CORP).map(|b| b.token.secret().clone()).as_deref(), Some("pasted"));
        // Pasted before connecting: bound to the first server connected.
        let mut w = World::new(Config::default(), "");
        w.m.paste_token(Some(AccessToken::new("early".into())));
        assert!(w.connect(everything).is_some());
        assert_eq!(w.connect(CORP), None);
    }

    #[test]
    fn refresh_is_single_flight_before_expiry_and_only_for_the_connected_server() {
        let mut w = World::new(corp_config(), "");
        signed_in_to_corp(&mut w);
        assert_eq!(w.m.poll_timeout(), Some(w.now + 8_000), "a fifth of 10 s early");
        w.actions.clear();
        // Several refused requests and the timer at once: one refresh.
        w.m.handle_timeout(w.now + 8_000);
        for _ in 0..3 {
            let refusal = AuthRequired {
                status: 401,
                www_authenticate: Some(r#"Bearer error="invalid_token""#.into()),
                had_token: true,
            };
            w.m.handle_refusal(&server(CORP), &refusal, w.now);
        }
        w.run();
        let refreshes: Vec<&Seen> =
            w.seen.iter().filter(|s| s.body.contains("grant_type=refresh_token")).collect();
        assert_eq!(refreshes.len(), 1, "{refreshes:?}");
        assert!(refreshes[0].body.contains("refresh_token=rt-1"));
        assert_eq!(w.bearers().last().map(|b| b.token.secret().clone()).as_deref(), Some("at-2"));
        // A dead grant asks for one interactive sign-in.
        w.token_error = Some((
            400,
            json!({"error": "invalid_grant", "error_description": "AADSTS700084: expired"})
                .to_string(),
        ));
        w.advance(8_000);
        assert_eq!(w.phase(), Phase::Needed(Need::Expired));
        assert!(w.m.view().trace.iter().any(|l| l.step == "Refresh refused"));
    }

    #[test]
    fn an_unreachable_token_endpoint_fails_the_waiting_connection_and_is_tried_later() {
        let mut w = World::new(corp_config(), "");
        signed_in_to_corp(&mut w);
        w.actions.clear();
        w.down.insert(format!("{ENTRA}{TENANT}/oauth2/v2.0/token"));
        w.refused(CORP, 401, r#"Bearer error="invalid_token""#);
        let gave_up = w.actions.iter().any(|a| matches!(a, Action::GiveUp { server: s, error: AuthError::Flow(SignInError::Unreachable { .. }) } if *s == server(CORP)));
        assert!(gave_up, "{:?}", w.actions);
        assert!(w.m.poll_timeout().is_some_and(|t| t >= w.now + REFRESH_RETRY), "no busy loop");
    }

    /// Attack 4: a link set the client metadata URL, scopes, resource and account hint and
    /// connected without asking.
    #[test]
    fn attack_4_every_sign_in_setting_from_a_link_waits_for_the_confirmation() {
        for extra in [
            "login_hint=victim@contoso.example",
            "client_metadata_url=https://evil.example/c.json",
            "scope=api://corp-mcp/mcp:tools",
            "resource=api://corp-mcp",
        ] {
            let mut w =
                World::new(Config::default(), &format!("?server={IDP}/mcp&connect=1&{extra}"));
            w.idp();
            w.prm(&format!("{IDP}/mcp"), IDP);
            w.connect(&format!("{IDP}/mcp"));
            w.refused(&format!("{IDP}/mcp"), 401, "Bearer");
            assert!(matches!(w.phase(), Phase::Confirm(_)), "{extra}: {:?}", w.phase());
            assert!(
                w.requests_to(&format!("{IDP}/.well-known/oauth-authorization-server")).is_empty(),
                "{extra}"
            );
        }
    }

    /// Attack 5: a registration access token in the trace (Auth view, Copy trace, the pending
    /// sign-in in sessionStorage).
    #[test]
    fn attack_5_no_registration_access_token_is_kept_anywhere() {
        let mut w = World::new(Config { mode: SignInMode::Redirect, ..Config::default() }, "");
        w.idp();
        let mcp = format!("{IDP}/mcp");
        w.prm(&mcp, IDP);
        w.connect(&mcp);
        w.refused(&mcp, 401, "Bearer");
        w.sign_in();
        let Some(Action::Leave { pending, trace, .. }) =
            w.actions.iter().find(|a| matches!(a, Action::Leave { .. }))
        else {
            panic!("{:?}", w.actions)
        };
        let kept = serde_json::to_string(pending.as_ref()).unwrap_or_default();
        let shown = crate::core::auth::trace::trace_text(trace);
        for text in [
            kept.as_str(),
            shown.as_str(),
            &crate::core::auth::trace::trace_text(&w.m.view().trace),
        ] {
            assert!(!text.contains("RAT-do-not-show"), "{text}");
        }
        assert!(shown.contains("\"client_id\":\"dcr-client\""), "{shown}");
        assert_eq!(pending.client_id, "dcr-client");
    }

    /// Attack 5: sign-out revoked nothing.
    #[test]
    fn attack_5_sign_out_revokes_forgets_and_ends_the_session() {
        let mut w = World::new(Config { mode: SignInMode::Popup, ..Config::default() }, "");
        w.idp();
        let mcp = format!("{IDP}/mcp");
        w.prm(&mcp, IDP);
        w.connect(&mcp);
        w.refused(&mcp, 401, "Bearer");
        w.sign_in();
        w.approve();
        assert_eq!(w.phase(), Phase::SignedIn);
        w.m.sign_out();
        w.run();
        let revoked = w.requests_to(&format!("{IDP}/revoke"));
        assert_eq!(revoked.len(), 1);
        assert!(
            revoked[0].body.contains("token=rt-1")
                && revoked[0].body.contains("token_type_hint=refresh_token")
        );
        assert!(w.actions.iter().any(|a| matches!(a, Action::EndSession(s) if *s == server(&mcp))));
        assert_eq!(w.phase(), Phase::SignedOut);
        assert_eq!(w.connect(&mcp), None, "every token forgotten");
    }

    #[test]
    fn cleartext_and_unlisted_sign_in_services_are_refused_before_anything_is_sent() {
        // A plain-http server off this machine.
        let mut w = World::new(Config::default(), "");
        w.connect("http://mcp.example/mcp");
        w.refused("http://mcp.example/mcp", 401, "Bearer");
        w.sign_in();
        assert!(
            matches!(
                w.phase(),
                Phase::Failed(AuthError::Metadata(MetadataError::InsecureServer { .. }))
            ),
            "{:?}",
            w.phase()
        );
        assert!(w.seen.is_empty() && w.actions.is_empty(), "{:?} {:?}", w.seen, w.actions);
        // An instance from a link that is not Entra's.
        let mut w = World::new(
            Config::default(),
            &format!("?server={CORP}&instance=https://evil.example/&tenant=t&client_id=c"),
        );
        w.connect(CORP);
        w.refused(CORP, 401, "Bearer");
        assert!(
            matches!(
                w.phase(),
                Phase::Failed(AuthError::Trust(TrustError::InstanceNotAllowed { .. }))
            ),
            "{:?}",
            w.phase()
        );
        assert!(w.seen.is_empty());
        // An issuer the deployer does not allow, named by the server.
        let config = Config { allowed_authorities: Some(vec![ENTRA.into()]), ..Config::default() };
        let mut w = World::new(config, "");
        w.idp();
        w.prm(CORP, IDP);
        w.connect(CORP);
        w.refused(CORP, 401, "Bearer");
        w.sign_in();
        assert!(
            matches!(
                w.phase(),
                Phase::Failed(AuthError::Trust(TrustError::AuthorityNotAllowed { .. }))
            ),
            "{:?}",
            w.phase()
        );
        assert!(
            w.requests_to(IDP)
                .iter()
                .all(|s| s.url.contains("/.well-known/oauth-protected-resource")
                    || s.url.contains("/.well-known/oauth-authorization-server"))
        );
        // A server the deployer does not allow.
        let config = Config {
            allowed_servers: Some(vec!["https://mcp.contoso.example/".into()]),
            ..Config::default()
        };
        let mut w = World::new(config, "");
        assert!(matches!(
            w.m.connect(&server(EVIL), 0),
            Err(AuthError::Trust(TrustError::ServerNotAllowed { .. }))
        ));
    }

    /// A client secret typed into the page goes to the token endpoint of the issuer it was
    /// confirmed for, and nowhere else.
    #[test]
    fn a_typed_secret_goes_only_to_the_issuer_it_was_confirmed_for() {
        let link = format!("?server={IDP}/mcp&connect=1&client_id=c1");
        let mut w = World::new(Config::default(), &link);
        w.idp();
        let mcp = format!("{IDP}/mcp");
        w.prm(&mcp, IDP);
        w.connect(&mcp);
        w.m.type_secret(Some(ClientSecret::new("s3cret".into())));
        w.refused(&mcp, 401, "Bearer");
        let Phase::Confirm(proposal) = w.phase() else { panic!("{:?}", w.phase()) };
        assert!(proposal.secret && proposal.issuer == IDP);
        w.confirm();
        assert!(matches!(w.actions.first(), Some(Action::OpenPopup)), "a secret needs the popup");
        w.approve();
        let with_secret: Vec<&Seen> = w
            .seen
            .iter()
            .filter(|s| s.authorization.as_deref().is_some_and(|a| a.starts_with("Basic ")))
            .collect();
        assert_eq!(with_secret.len(), 1, "{:?}", w.seen);
        assert_eq!(with_secret[0].url, format!("{IDP}/token"));
        // The server now names another issuer: the secret is not sent there.
        let record = w.m.records.get_mut(&server(&mcp)).unwrap_or_else(|| panic!("a record"));
        record.discovered = None;
        w.prm(&mcp, "https://other.example");
        w.document("https://other.example/.well-known/oauth-authorization-server", json!({"issuer": "https://other.example", "authorization_endpoint": "https://other.example/authorize", "token_endpoint": "https://other.example/token"}));
        w.refused(&mcp, 401, r#"Bearer error="insufficient_claims", claims="e30""#);
        w.sign_in();
        assert!(
            matches!(w.phase(), Phase::Failed(AuthError::SecretForAnotherIssuer { .. })),
            "{:?}",
            w.phase()
        );
        assert!(w.requests_to("https://other.example/token").is_empty());
    }

    #[test]
    fn a_full_page_sign_in_comes_back_to_its_server_with_its_confirmed_settings() {
        let link = format!("?server={IDP}/mcp&connect=1&client_id=c1&tool=echo");
        let mut w = World::new(Config::default(), &link);
        w.idp();
        let mcp = format!("{IDP}/mcp");
        w.prm(&mcp, IDP);
        w.connect(&mcp);
        w.refused(&mcp, 401, "Bearer");
        let press = Press { open: Some(Opened::Tool("echo".into())), ..w.press() };
        w.m.confirm(press, w.now);
        w.run();
        let Some(Action::Leave { pending, trace, .. }) = w.actions.pop() else {
            panic!("{:?}", w.actions)
        };
        assert_eq!(
            pending.return_to,
            format!(
                "{CONSOLE}?server={}&connect=1&tool=echo",
                url::form_urlencoded::byte_serialize(mcp.as_bytes()).collect::<String>()
            )
        );
        assert!(
            !pending.return_to.contains("client_id"),
            "settings travel in the pending sign-in, not the address"
        );
        let state = pending.state.secret().clone();
        // The page loads again: a new machine, no link settings.
        let (deployment, _) = Deployment::new(&url(CONSOLE), Config::default());
        w.m = SignIn::new(deployment);
        w.m.resume(
            Some((*pending, trace)),
            &format!("{CONSOLE}callback.html?code=c&state={state}"),
            w.now,
        );
        w.run();
        assert_eq!(
            w.m.connect(&server(&mcp), w.now)
                .ok()
                .flatten()
                .map(|b| b.token.secret().clone())
                .as_deref(),
            Some("at-1")
        );
        assert_eq!(w.m.view().settings.client_id.as_deref(), Some("c1"));
        assert!(w.m.records.get(&server(&mcp)).is_some_and(|r| r.confirmed));
        // A replayed answer redeems nothing.
        let mut again = SignIn::new(Deployment::new(&url(CONSOLE), Config::default()).0);
        again.resume(None, &format!("{CONSOLE}callback.html?code=c&state={state}"), w.now);
        assert!(matches!(
            again.view().phase,
            Phase::Failed(AuthError::Flow(SignInError::Replayed))
        ));
        assert!(again.poll_output().is_none());
    }

    #[test]
    fn a_pasted_token_that_is_refused_is_explained_and_the_connection_gives_up() {
        let mut w = World::new(Config::default(), "");
        let app = format!(
            "e30.{}.sig",
            URL_SAFE_NO_PAD.encode(json!({"idtyp": "app", "roles": ["mcp.app"]}).to_string())
        );
        w.m.paste_token(Some(AccessToken::new(app.clone())));
        assert!(w.connect(CORP).is_some());
        w.refused(CORP, 403, r#"Bearer error="insufficient_scope""#);
        let Some(Action::GiveUp { error, .. }) = w.actions.last() else {
            panic!("{:?}", w.actions)
        };
        let text = error.to_string();
        assert!(
            text.contains("typed into the console")
                && text.contains("app-only token (roles mcp.app, no scp)"),
            "{text}"
        );
        assert!(!text.contains(&app));
        assert_eq!(
            describe_token(&format!("e30.{}.s", URL_SAFE_NO_PAD.encode(r#"{"scp":"mcp:read"}"#)))
                .as_deref(),
            Some("a delegated token with scopes mcp:read")
        );
    }

    #[test]
    fn a_blocked_or_closed_window_and_a_late_answer_are_each_said() {
        let mut w = World::new(corp_config(), "");
        w.entra();
        w.prm(CORP, &entra_issuer());
        w.connect(CORP);
        w.refused(CORP, 401, "Bearer");
        w.sign_in();
        w.m.handle_popup_blocked();
        assert_eq!(w.phase(), Phase::Failed(AuthError::PopupBlocked));
        w.sign_in();
        w.m.handle_popup_closed();
        assert_eq!(w.phase(), Phase::Working(Step::PopupClosed));
        w.approve();
        assert_eq!(w.phase(), Phase::SignedIn, "a cut-off window's answer still counts");
        w.refused(CORP, 401, r#"Bearer error="insufficient_claims", claims="e30""#);
        w.sign_in();
        w.advance(flow::PENDING_LIFETIME + 1);
        assert_eq!(w.phase(), Phase::Failed(AuthError::NotFinished));
        assert!(w.actions.iter().rev().take(2).any(|a| matches!(a, Action::ClosePopup)));
    }

    #[test]
    fn settings_of_a_configured_server_are_locked_and_typed_ones_need_confirming() {
        let mut w = World::new(corp_config(), "");
        w.connect(CORP);
        let changed =
            SignInSettings { client_id: Some("other".into()), ..w.m.view().settings.clone() };
        assert!(matches!(w.m.edit(changed), Err(AuthError::Trust(TrustError::Locked { .. }))));
        w.connect(EVIL);
        let typed = SignInSettings { client_id: Some("typed".into()), ..Default::default() };
        assert_eq!(w.m.edit(typed.clone()), Ok(()));
        assert_eq!((w.m.view().source, w.m.view().settings.clone()), (Source::Typed, typed));
        // Typed before connecting: they go to the server connected next, and only to it.
        let mut w = World::new(Config::default(), "");
        let draft = SignInSettings { tenant_id: Some(TENANT.into()), ..Default::default() };
        assert_eq!(w.m.edit(draft.clone()), Ok(()));
        w.connect(EVIL);
        assert_eq!((w.m.view().source, w.m.view().settings.clone()), (Source::Typed, draft));
        w.connect(CORP);
        assert!(w.m.view().settings.is_empty());
    }

    #[test]
    fn secrets_never_print() {
        let mut w = World::new(corp_config(), "");
        signed_in_to_corp(&mut w);
        w.advance(8_000);
        let printed = format!("{:?} {:?}", w.actions, w.m.view());
        for secret in ["at-1", "at-2", "rt-1", "the-code", "code_verifier"] {
            assert!(!printed.contains(secret), "{secret}: {printed}");
        }
        assert!(format!("{:?}", w.press()).contains("[redacted]"));
    }
}
