//! The sign-in machine: everything the console does to obtain, keep and give up tokens, in the
//! shape of `core::engine` — `handle_*` for what happened (a server's 401 or 403, a fetch's
//! answer, the authorization server's answer, the person's click, a timer), `poll_output` for
//! what to do (fetch this, open or steer the sign-in window, leave for the sign-in page, give this
//! bearer to the connection of this server), `poll_timeout` for when to be woken, and the time
//! passed in. It keeps each server's sign-in settings with where they came from (`trust`), runs
//! discovery, holds for the person's confirmation of settings a link proposed or someone typed
//! (bound to the issuer and scopes it named), registers, builds the authorization request, checks
//! the answer, redeems the code, keeps the tokens per server and issuer, refreshes single-flight
//! before expiry (only for the servers the page is connected to, each in its own tab), revokes at
//! sign-out and when a tab closes, and keeps the Auth view of the tab in front: who is signed in,
//! what is asked of the person, and a trace of the last sign-in.
//! `platform::auth` performs its actions.

use crate::core::address::{ServerUrl, origin_of, same_origin_text};
use crate::core::auth::challenge::{self, BearerChallenge};
use crate::core::auth::discovery::{BearerInfo, Discovered, Discovery, DiscoverySettings};
use crate::core::auth::flow::{self, Confirmation, PendingSignIn, SignInError, SignInRequest};
use crate::core::auth::metadata::{MetadataError, TENANT_PLACEHOLDER};
use crate::core::auth::registration::{
    ClientChoice, Registered, RegistrationError, choose_client, read_registration_response,
    registered_redirect, registration_request,
};
use crate::core::auth::scopes::{self, Choice, Fixed, ScopeError};
use crate::core::auth::settings::{SignInMode, SignInSettings};
use crate::core::auth::token::{self, Claims, ClientAuth, TokenContext};
use crate::core::auth::tokens::{
    Bearer, Grant, RefreshOutcome, RefreshResult, RefreshStart, TokenStore,
};
use crate::core::auth::trace::{TraceLine, shown_authorization_url, shown_challenge, shown_reply};
use crate::core::auth::trust::{Deployment, Source, TrustError};
use crate::core::engine::AuthRequired;
use crate::core::http::{ACCEPT_HEADER, HttpRequest};
use crate::core::launch::Opened;
use crate::core::map::SortedMap;
use crate::core::session::Millis;
use oauth2::{AccessToken, ClientSecret, RefreshToken};
use std::collections::VecDeque;
use std::fmt;
use thiserror::Error;
use url::Url;

/// After a refresh that could not reach the token endpoint, wait this long before the next try.
const REFRESH_RETRY: Millis = 30_000;
/// A fetch without an answer by then is taken as none: the machine never waits without end.
const FETCH_DEADLINE: Millis = 30_000;
/// Answers the console reads (metadata, tokens) are small; anything bigger is not one.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// Why a fetch had no answer: a page cannot tell a server that is down from one that refuses its
/// origin.
const NO_ANSWER: &str = "the server is down, or it does not allow this page's origin (CORS)";
const TOO_LATE: &str = "no answer within 30 s";

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
    #[error(
        "The sign-in window was closed before the sign-in page opened in it; press Sign in to start again."
    )]
    PopupClosedEarly,
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
    #[error(
        "The server now sends you to sign in at {found}, not at {confirmed} as you confirmed, so the console stopped; press Sign in to see the settings and confirm them again."
    )]
    ConfirmedElsewhere { confirmed: String, found: String },
    #[error("{}", pasted_refused(*.status, .error.as_deref(), .kind.as_deref()))]
    PastedTokenRefused { status: u16, error: Option<String>, kind: Option<String> },
    #[error("{}", browser_sentence(*.0))]
    Browser(BrowserProblem),
}

fn pasted_refused(status: u16, error: Option<&str>, kind: Option<&str>) -> String {
    let what = if status == 403 { "refused" } else { "did not accept" };
    format!(
        "The server {what} the access token typed into the console (HTTP {status}{}){}; paste a delegated user token for this server, or clear the field and sign in.",
        error.map(|e| format!(", {e}")).unwrap_or_default(),
        kind.map(|k| format!(", which is {k}")).unwrap_or_default(),
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
        BrowserProblem::NavigationRefused => {
            "The browser refused to open the sign-in page; press Sign in to try again."
        }
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
    /// The server's origin, where the token would go, and its whole address.
    pub server: String,
    pub server_url: String,
    /// Where the person would sign in.
    pub issuer: String,
    /// Who the console would be there.
    pub client: String,
    pub scopes: Vec<String>,
    /// RFC 8707 `resource` the token would be for, if one is sent.
    pub resource: Option<String>,
    pub source: Source,
    /// A client secret typed into the page would go to this issuer's token endpoint.
    pub secret: bool,
}

/// Where signing in to the shown server stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SignInStatus {
    #[default]
    SignedOut,
    Needed(Need),
    Confirm(Proposal),
    Working(Step),
    SignedIn,
    Failed(AuthError),
}

/// What the Auth view shows, for the server the page is connected to (or the one in its address
/// field). Holds no secret.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuthView {
    /// The server shown, and whether the page is connected to it.
    pub server: Option<String>,
    pub connected: bool,
    pub status: SignInStatus,
    pub claims: Option<Claims>,
    pub scopes: Vec<String>,
    pub expires_at: Option<Millis>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub trace: Vec<TraceLine>,
    /// The settings the form shows, and where they came from (`Config`: read-only).
    pub settings: SignInSettings,
    pub source: Source,
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
    /// Open the sign-in window now, inside the click, blank, new, and with no way back to the
    /// console (`opener` cut); report a block with [`SignIn::handle_popup_blocked`].
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
    // URLs of the sign-in carry `state` and the PKCE challenge, and a pending sign-in its
    // verifier: only their origins are printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Fetch { id, request } => write!(f, "Fetch({id}, {request:?})"),
            Action::OpenPopup => f.write_str("OpenPopup"),
            Action::NavigatePopup(url) => write!(f, "NavigatePopup({})", origin_of(url)),
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

/// The refusal that waits for an interactive sign-in.
#[derive(Debug, Clone)]
struct Asked {
    challenge: Option<BearerChallenge>,
    need: Need,
}

/// Everything about signing in to one server.
#[derive(Default)]
struct Record {
    settings: SignInSettings,
    source: Source,
    /// What the person confirmed the settings for, when they needed confirming.
    confirmed: Option<Confirmation>,
    secret: Option<TypedSecret>,
    pasted: Option<AccessToken>,
    asked: Option<Asked>,
    /// Where signing in stands when no sign-in runs (one that runs says so itself).
    status: SignInStatus,
    trace: Vec<TraceLine>,
    /// Who signed in, where and as which client: of the tokens held.
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
        (self.source.needs_confirmation() && self.confirmed.is_none())
            || self.secret.as_ref().is_some_and(|s| s.issuer.is_none())
    }

    /// The scopes the settings hold the server to: the deployer's, or what was confirmed.
    fn fixed(&self) -> Option<Fixed<'_>> {
        match (&self.confirmed, self.source) {
            (Some(confirmed), _) => Some(Fixed::Confirmed(&confirmed.scopes)),
            (None, Source::Config) if !self.settings.scopes.is_empty() => {
                Some(Fixed::Configured(&self.settings.scopes))
            }
            _ => None,
        }
    }

    fn need(&self) -> Need {
        self.asked.as_ref().map_or(Need::First, |a| a.need)
    }
}

/// One interactive sign-in: for which server, with which click, in which window.
struct Attempt {
    server: ServerUrl,
    /// The sign-in runs in a popup (opened inside the click), which was since seen closed.
    popup: bool,
    closed: bool,
    /// `None` while it holds for a confirmation (the confirmation's click starts the rest).
    press: Option<Press>,
}

/// Where the one interactive sign-in stands.
enum FlowState {
    Discovering {
        discovery: Discovery,
        fetch: Option<(FetchId, Url)>,
        traced: usize,
    },
    Confirming {
        discovery: Discovery,
        traced: usize,
        proposal: Proposal,
    },
    Registering {
        fetch: FetchId,
        endpoint: String,
        discovered: Discovered,
        redirect: String,
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
    Leaving,
}

impl FlowState {
    fn status(&self, attempt: &Attempt) -> SignInStatus {
        SignInStatus::Working(match self {
            FlowState::Discovering { .. } => Step::LookingUp,
            FlowState::Confirming { proposal, .. } => {
                return SignInStatus::Confirm(proposal.clone());
            }
            FlowState::Registering { .. } => Step::Registering,
            FlowState::Authorizing { .. } if attempt.popup && attempt.closed => Step::PopupClosed,
            FlowState::Authorizing { .. } if attempt.popup => Step::InPopup,
            FlowState::Authorizing { .. } | FlowState::Leaving => Step::OpeningPage,
            FlowState::Redeeming { .. } => Step::Redeeming,
        })
    }
}

/// A refresh under way, with what its answer needs.
struct Refreshing {
    server: ServerUrl,
    issuer: String,
    ticket: u64,
    grant: Grant,
    scopes: Vec<String>,
    /// Its server was signed out since: a rotated refresh token that comes back is revoked.
    signed_out: bool,
}

/// What a fetch under way is for.
enum Purpose {
    /// The interactive sign-in's (matched by id against its state).
    Flow,
    Refresh(Box<Refreshing>),
    Revocation(ServerUrl),
}

/// The sign-in machine. See the module documentation.
pub struct SignIn {
    deployment: Deployment,
    mode: SignInMode,
    records: SortedMap<ServerUrl, Record>,
    /// Settings proposed by a link or the host page, the server they are for, and whose they are.
    proposal: Option<(ServerUrl, SignInSettings, Source)>,
    tokens: TokenStore,
    /// Clients the console registered, by issuer (credentials are the issuer's).
    registered: SortedMap<String, Registered>,
    /// The servers the page is connected to (one per tab): the only ones whose tokens are
    /// refreshed and handed out.
    connected: SortedMap<ServerUrl, ()>,
    /// The server the view is about: the tab in front's (connected, or in its address field).
    shown: Option<ServerUrl>,
    /// Connections holding requests until a token comes.
    waiting: SortedMap<ServerUrl, ()>,
    flow: Option<(Attempt, FlowState)>,
    fetches: SortedMap<FetchId, (Purpose, Millis)>,
    next_fetch: FetchId,
    /// A failure that belongs to no server (an answer the page came back with, unasked for).
    notice: Option<AuthError>,
    outputs: VecDeque<Action>,
    view: AuthView,
}

/// A GET for a metadata document: no custom header, so no CORS preflight.
fn document_request(url: &Url) -> HttpRequest {
    HttpRequest {
        method: "GET",
        url: url.to_string(),
        headers: vec![(ACCEPT_HEADER.into(), "application/json".to_owned())],
        body: None,
    }
}

impl SignIn {
    pub fn new(deployment: Deployment) -> SignIn {
        let mut machine = SignIn {
            mode: deployment.mode,
            deployment,
            records: SortedMap::new(),
            proposal: None,
            tokens: TokenStore::default(),
            registered: SortedMap::new(),
            connected: SortedMap::new(),
            shown: None,
            waiting: SortedMap::new(),
            flow: None,
            fetches: SortedMap::new(),
            next_fetch: 0,
            notice: None,
            outputs: VecDeque::new(),
            view: AuthView::default(),
        };
        machine.update_view();
        machine
    }

    /// The deployer's configuration has been read: it replaces the one the page started with,
    /// before anything was connected (the page does not connect before).
    pub fn configure(&mut self, deployment: Deployment) {
        self.mode = deployment.mode;
        self.deployment = deployment;
        self.records.clear();
        self.proposal = None;
        self.update_view();
    }

    /// The link's settings for `server`: a proposal, to be confirmed before use.
    pub fn propose(&mut self, server: ServerUrl, settings: SignInSettings) {
        self.offer(server, settings, Source::Link);
    }

    /// The settings the page this console is embedded in gives `server` (after
    /// `Deployment::host`): a proposal, to be confirmed before use, as a link's is.
    pub fn propose_from_host(&mut self, server: ServerUrl, settings: SignInSettings) {
        self.offer(server, settings, Source::Host);
    }

    fn offer(&mut self, server: ServerUrl, settings: SignInSettings, source: Source) {
        if self.records.get(&server).is_some_and(|record| record.source != Source::Config) {
            // A confirmation on screen is for the settings it shows: new ones start afresh.
            self.cancel_flow_of(&server);
        }
        if let Some(record) = self.records.get_mut(&server)
            && record.source != Source::Config
        {
            record.settings = settings.clone();
            record.source = source;
            record.confirmed = None;
        }
        self.proposal = Some((server, settings, source));
        self.update_view();
    }

    /// How the page signs in: a popup or the full page.
    pub fn set_mode(&mut self, mode: SignInMode) {
        self.mode = mode;
        self.update_view();
    }

    /// The tab in front is about `server` (its connection, or what its address field names, if
    /// anything usable): the view, and what is typed into the settings, are about it.
    pub fn show(&mut self, server: Option<ServerUrl>) {
        if let Some(server) = &server {
            self.record(server);
        }
        self.shown = server;
        self.update_view();
    }

    /// What a sign-in or a change did, one at a time.
    pub fn poll_output(&mut self) -> Option<Action> {
        self.outputs.pop_front()
    }

    /// When to call [`SignIn::handle_timeout`]: a connected server's refresh, the end of a
    /// sign-in waiting for its answer, or a fetch's deadline.
    pub fn poll_timeout(&self) -> Option<Millis> {
        let refresh = self.connected.keys().filter_map(|server| self.refresh_due(server)).min();
        let expiry = match &self.flow {
            Some((_, FlowState::Authorizing { pending, .. })) => {
                Some(pending.expires_after().saturating_add(1))
            }
            _ => None,
        };
        let deadline = self.fetches.values().map(|(_, at)| *at).min();
        [refresh, expiry, deadline].into_iter().flatten().min()
    }

    /// Whether `text` holds a token or a typed secret the page keeps, which must not leave it
    /// (an event for the page the console is embedded in, say).
    pub fn reveals_secret(&self, text: &str) -> bool {
        let held = |secret: &str| !secret.is_empty() && text.contains(secret);
        self.tokens.appear_in(text)
            || self.records.values().any(|record| {
                record.pasted.as_ref().is_some_and(|token| held(token.secret()))
                    || record.secret.as_ref().is_some_and(|typed| held(typed.secret.secret()))
            })
    }

    /// The Auth view, as of the last input.
    pub fn view(&self) -> &AuthView {
        &self.view
    }

    // The connection.

    /// A tab connects to `server` (in front or behind: the view stays with [`SignIn::show`]): its
    /// tokens are now refreshed and handed out, and it gets its bearer to start with, if one is
    /// at hand. Refused when the deployer allows only other servers.
    pub fn connect(
        &mut self,
        server: &ServerUrl,
        now: Millis,
    ) -> Result<Option<Bearer>, AuthError> {
        self.deployment.check_server(server)?;
        self.waiting.remove(server);
        self.connected.insert(server.clone(), ());
        let notice = self.notice.take();
        let record = self.record(server);
        // An answer the page came back with, unasked for, is said on the server it opens.
        if let Some(notice) = notice
            && record.status == SignInStatus::SignedOut
        {
            record.status = SignInStatus::Failed(notice);
        }
        let bearer = self.bearer_for(server, now);
        self.update_view();
        Ok(bearer)
    }

    /// The tab of `server` disconnected: nothing of it is refreshed or handed out until it
    /// connects again, and its sign-in, if under way, stops.
    pub fn disconnect(&mut self, server: &ServerUrl) {
        if self.connected.remove(server).is_some() {
            self.waiting.remove(server);
            self.cancel_flow_of(server);
        }
        self.update_view();
    }

    /// The tab of `server` closed: it is disconnected, its refresh tokens are revoked where the
    /// authorization server offers it, and everything the console held for it is forgotten.
    pub fn close(&mut self, server: &ServerUrl, now: Millis) {
        self.disconnect(server);
        self.forget(server, now);
        self.records.remove(server);
        if self.shown.as_ref() == Some(server) {
            self.shown = None;
        }
        self.update_view();
    }

    fn bearer_for(&self, server: &ServerUrl, now: Millis) -> Option<Bearer> {
        let record = self.records.get(server)?;
        match &record.pasted {
            Some(token) => {
                server.is_secure().then(|| Bearer { server: server.clone(), token: token.clone() })
            }
            None => self.tokens.bearer(server, now),
        }
    }

    /// The connection of `server` was refused for want of a (better) token: refresh, ask the
    /// person to sign in (or to confirm proposed settings first), step up, or give up with a
    /// sentence. Its requests wait meanwhile.
    pub fn handle_refusal(&mut self, server: &ServerUrl, refusal: &AuthRequired, now: Millis) {
        if !self.connected.contains_key(server) {
            return;
        }
        self.waiting.insert(server.clone(), ());
        let challenge = refusal.www_authenticate.as_deref().and_then(challenge::bearer);
        let running = self.flow.as_ref().is_some_and(|(a, _)| &a.server == server);
        let held = self.tokens.tokens(server).map(|t| t.refresh.is_some());
        let refreshing = self.tokens.refreshing(server);
        let line = TraceLine::new(
            format!("HTTP {} from the MCP server", refusal.status),
            shown_challenge(refusal.www_authenticate.as_deref()),
        );
        let record = self.record(server);
        if let Some(token) = record.pasted.clone() {
            return self.pasted_refused(server, token, refusal, challenge, line);
        }
        if running || refreshing {
            // A sign-in or a refresh for this server is under way: its token will serve.
            return self.update_view();
        }
        if !refusal.had_token
            && refusal.status == 401
            && let Some(bearer) = self.tokens.bearer(server, now)
        {
            // The request left before the token came (a page back from a full-page sign-in
            // connects while it redeems the code): the token in hand serves, and the trace
            // keeps the sign-in it came from.
            self.waiting.remove(server);
            self.outputs.push_back(Action::Bearer(bearer));
            return self.update_view();
        }
        let record = self.record(server);
        record.trace = vec![line];
        let error = challenge.as_ref().and_then(|c| c.error.as_deref());
        let need = match (refusal.status, error, held) {
            (403, _, _) => Need::StepUp,
            (_, Some("insufficient_claims"), _) => Need::Claims,
            (_, _, Some(true)) => {
                self.start_refresh(server, now);
                return self.update_view();
            }
            (_, _, Some(false)) => Need::Expired,
            _ if record.claims.is_some() => Need::Expired,
            _ => Need::First,
        };
        record.asked = Some(Asked { challenge, need });
        // Another tab's sign-in under way is not cut short: this one asks for a press instead.
        let other_flow = self.flow.as_ref().is_some_and(|(a, _)| &a.server != server);
        let record = self.record(server);
        if record.needs_confirmation() && !other_flow {
            self.start(server, None, now);
        } else if !matches!(record.status, SignInStatus::Failed(_)) {
            // A sign-in that just failed keeps its sentence in view: it says what to fix before
            // pressing Sign in again.
            record.status = SignInStatus::Needed(need);
        }
        self.update_view();
    }

    /// A refusal while a pasted token is in use: one the token went with is the token's; one from
    /// before it was pasted is answered with it.
    fn pasted_refused(
        &mut self,
        server: &ServerUrl,
        token: AccessToken,
        refusal: &AuthRequired,
        challenge: Option<BearerChallenge>,
        line: TraceLine,
    ) {
        let error = if !server.is_secure() {
            AuthError::Metadata(MetadataError::InsecureServer { server: server.to_string() })
        } else if refusal.had_token {
            AuthError::PastedTokenRefused {
                status: refusal.status,
                error: challenge.and_then(|c| c.error),
                kind: token::describe_token(token.secret()),
            }
        } else {
            self.waiting.remove(server);
            self.outputs.push_back(Action::Bearer(Bearer { server: server.clone(), token }));
            return self.update_view();
        };
        let record = self.record(server);
        record.trace = vec![line];
        record.status = SignInStatus::Failed(error.clone());
        self.waiting.remove(server);
        self.outputs.push_back(Action::GiveUp { server: server.clone(), error });
        self.update_view();
    }

    // The person.

    /// The connected tab in front, if the one in front is connected.
    fn front(&self) -> Option<ServerUrl> {
        self.shown.clone().filter(|s| self.connected.contains_key(s))
    }

    /// The person pressed Sign in (in the tab in front).
    pub fn sign_in(&mut self, press: Press, now: Millis) {
        let Some(server) = self.front() else { return };
        self.cancel_flow();
        self.notice = None;
        self.record(&server).pasted = None;
        self.start(&server, Some(press), now);
        self.update_view();
    }

    /// The person accepted the proposal in view: the settings become this server's, bound to the
    /// issuer and scopes it named (a typed secret to that issuer), and the sign-in goes on.
    pub fn confirm(&mut self, press: Press, now: Millis) {
        let Some((mut attempt, FlowState::Confirming { mut discovery, traced, proposal })) =
            self.flow.take().filter(|(_, state)| matches!(state, FlowState::Confirming { .. }))
        else {
            return;
        };
        let mode = self.mode;
        let record = self.record(&attempt.server);
        record.confirmed =
            Some(Confirmation { issuer: proposal.issuer.clone(), scopes: proposal.scopes.clone() });
        if let Some(secret) = &mut record.secret {
            secret.issuer = Some(proposal.issuer.clone());
        }
        attempt.popup = mode.use_popup(press.framed, record.secret.is_some());
        if attempt.popup {
            self.outputs.push_back(Action::OpenPopup);
        }
        attempt.press = Some(press);
        discovery.release();
        self.discover(attempt, discovery, traced, now);
        self.update_view();
    }

    /// The person declined the proposal: the proposed settings are dropped — for a server the
    /// deployer configured, only the typed secret, whose confirmation it was — and the person
    /// may sign in with what is left.
    pub fn reject(&mut self) {
        let Some((attempt, _)) =
            self.flow.take().filter(|(_, state)| matches!(state, FlowState::Confirming { .. }))
        else {
            return;
        };
        let record = self.record(&attempt.server);
        if record.source != Source::Config {
            record.settings = SignInSettings::default();
            record.source = Source::Discovery;
            record.confirmed = None;
        }
        record.secret = None;
        record.status = SignInStatus::Needed(record.need());
        self.update_view();
    }

    /// The person typed sign-in settings for the server shown. The deployer's settings cannot be
    /// changed (the form shows them read-only); anything else must be confirmed again.
    pub fn edit(&mut self, settings: SignInSettings) {
        let Some(server) = self.shown.clone() else { return };
        let record = self.record(&server);
        if record.source == Source::Config || record.settings == settings {
            return;
        }
        record.source = if settings.is_empty() { Source::Discovery } else { Source::Typed };
        record.settings = settings;
        record.confirmed = None;
        self.cancel_flow_of(&server);
        self.update_view();
    }

    /// The person typed a client secret (or cleared it) for the server shown: it goes to no
    /// token endpoint until it is confirmed for an issuer.
    pub fn type_secret(&mut self, secret: Option<ClientSecret>) {
        let Some(server) = self.shown.clone() else { return };
        self.record(&server).secret = secret.map(|secret| TypedSecret { secret, issuer: None });
        self.cancel_flow_of(&server);
        self.update_view();
    }

    /// The person pasted an access token (or cleared it) for the server shown: it is used for
    /// that server only — at once, if its connection waits for a token.
    pub fn paste_token(&mut self, token: Option<AccessToken>) {
        let Some(server) = self.shown.clone() else { return };
        self.record(&server).pasted = token;
        if self.waiting.contains_key(&server)
            && let Some(bearer) = self.bearer_for(&server, 0)
        {
            self.waiting.remove(&server);
            self.outputs.push_back(Action::Bearer(bearer));
        }
        self.update_view();
    }

    /// Sign-out from the connected tab in front: its tokens are forgotten and revoked, and its
    /// session ends.
    pub fn sign_out(&mut self, now: Millis) {
        let Some(server) = self.front() else { return };
        self.forget(&server, now);
        self.outputs.push_back(Action::EndSession(server));
        self.update_view();
    }

    /// Every token of `server` is forgotten, its refresh tokens are revoked where the server
    /// offers revocation (a refresh still under way is revoked when it comes back), and its
    /// sign-in, if under way, stops.
    fn forget(&mut self, server: &ServerUrl, now: Millis) {
        let server = server.clone();
        self.cancel_flow_of(&server);
        self.waiting.remove(&server);
        for (purpose, _) in self.fetches.values_mut() {
            if let Purpose::Refresh(refreshing) = purpose
                && refreshing.server == server
            {
                refreshing.signed_out = true;
            }
        }
        let mut lines = Vec::new();
        for (grant, refresh_token) in self.tokens.forget(&server) {
            lines.extend(self.revoke(&server, &grant, &refresh_token, now));
        }
        let record = self.record(&server);
        record.pasted = None;
        record.secret = None;
        record.claims = None;
        record.issuer = None;
        record.client_id = None;
        record.asked = None;
        record.status = SignInStatus::SignedOut;
        record.trace = lines;
    }

    // The browser.

    /// The answer to fetch `id` (status and body, cut at [`MAX_ANSWER_BYTES`]).
    pub fn handle_response(&mut self, id: FetchId, status: u16, body: &[u8], now: Millis) {
        self.answered(id, Ok((status, body)), now);
        self.update_view();
    }

    /// Fetch `id` got no answer: the network, or the browser's CORS refusal (a page cannot
    /// tell which).
    pub fn handle_failure(&mut self, id: FetchId, now: Millis) {
        self.answered(id, Err(NO_ANSWER), now);
        self.update_view();
    }

    pub fn handle_popup_blocked(&mut self) {
        self.handle_browser_failure(AuthError::PopupBlocked);
    }

    /// The sign-in window looks closed: the person closed it, or a sign-in page with
    /// Cross-Origin-Opener-Policy cut it off (its answer still comes, so the wait goes on).
    pub fn handle_popup_closed(&mut self) {
        if let Some((attempt, _)) = &mut self.flow
            && attempt.popup
        {
            attempt.closed = true;
        }
        self.update_view();
    }

    /// Something the browser could not do for the sign-in under way (or about to be).
    pub fn handle_browser_problem(&mut self, problem: BrowserProblem) {
        self.handle_browser_failure(AuthError::Browser(problem));
    }

    fn handle_browser_failure(&mut self, error: AuthError) {
        match self.flow.take() {
            Some((attempt, _)) => self.abort(attempt, error),
            None => match self.shown.clone() {
                Some(server) => self.record(&server).status = SignInStatus::Failed(error),
                None => self.notice = Some(error),
            },
        }
        self.update_view();
    }

    /// The callback page's answer (its whole URL) for the sign-in in the popup. Only an answer on
    /// the callback page's origin counts.
    pub fn handle_answer(&mut self, answer: &str, now: Millis) {
        if !same_origin_text(answer, self.deployment.callback.as_str()) {
            return;
        }
        let Some((attempt, FlowState::Authorizing { pending, auth })) =
            self.flow.take().filter(|(_, state)| matches!(state, FlowState::Authorizing { .. }))
        else {
            return;
        };
        self.close_window(&attempt);
        let request = flow::read_callback(Some(&pending), answer, now)
            .map_err(AuthError::from)
            .and_then(|code| Ok(token::token_request(&pending, &code.code, &auth)?));
        match request {
            Ok(request) => {
                let fetch = self.fetch(request, Purpose::Flow, now);
                self.flow = Some((attempt, FlowState::Redeeming { fetch, pending, auth }));
            }
            Err(error) => self.abort(attempt, error),
        }
        self.update_view();
    }

    /// The page came back from a full-page sign-in with `answer` (its whole callback URL), and
    /// what it kept across the load: the pending sign-in and its trace, read once. Without them
    /// the answer is a replay, or from another tab, and nothing is redeemed.
    pub fn resume(&mut self, kept: Option<Kept>, answer: &str, now: Millis) {
        let server = kept.as_ref().and_then(|(pending, _)| ServerUrl::parse(&pending.server).ok());
        let (Some((pending, trace)), Some(server)) = (kept, server) else {
            let error =
                flow::read_callback(None, answer, now).err().unwrap_or(SignInError::Replayed);
            self.notice = Some(error.into());
            return self.update_view();
        };
        let record = self.record(&server);
        if let Some((settings, confirmation)) = pending.confirmed.clone()
            && record.source != Source::Config
        {
            record.settings = settings;
            record.source = Source::Typed;
            record.confirmed = Some(confirmation);
        }
        record.trace = trace;
        let attempt = Attempt { server, popup: false, closed: false, press: None };
        self.flow = Some((attempt, FlowState::Authorizing { pending, auth: ClientAuth::None }));
        self.handle_answer(answer, now);
    }

    /// The time came: give up on fetches and answers that did not come, and refresh the
    /// connected servers' tokens when due.
    pub fn handle_timeout(&mut self, now: Millis) {
        let late: Vec<FetchId> =
            self.fetches.iter().filter(|(_, (_, at))| *at <= now).map(|(id, _)| *id).collect();
        for id in late {
            self.answered(id, Err(TOO_LATE), now);
        }
        if let Some((_, FlowState::Authorizing { pending, .. })) = &self.flow
            && pending.is_expired(now)
            && let Some((attempt, _)) = self.flow.take()
        {
            self.abort(attempt, AuthError::NotFinished);
        }
        let due: Vec<ServerUrl> = self
            .connected
            .keys()
            .filter(|server| self.refresh_due(server).is_some_and(|due| now >= due))
            .cloned()
            .collect();
        for server in due {
            self.start_refresh(&server, now);
        }
        self.update_view();
    }

    // Inside.

    /// The record of `server`, made on first use from the deployment or the proposal.
    fn record(&mut self, server: &ServerUrl) -> &mut Record {
        let (deployment, proposal) = (&self.deployment, &self.proposal);
        self.records.get_or_insert_with(server.clone(), || {
            let (mut settings, mut source) = deployment.settings_for(server);
            if let Some((for_server, proposed, from)) = proposal
                && for_server == server
                && source != Source::Config
            {
                settings = proposed.clone();
                source = *from;
            }
            Record { settings, source, ..Record::default() }
        })
    }

    fn fetch(&mut self, request: HttpRequest, purpose: Purpose, now: Millis) -> FetchId {
        self.next_fetch += 1;
        let id = self.next_fetch;
        self.fetches.insert(id, (purpose, now.saturating_add(FETCH_DEADLINE)));
        self.outputs.push_back(Action::Fetch { id, request });
        id
    }

    fn close_window(&mut self, attempt: &Attempt) {
        if attempt.popup {
            self.outputs.push_back(Action::StopListening);
            self.outputs.push_back(Action::ClosePopup);
        }
    }

    /// Ends the sign-in `attempt` with `error`, said in the Auth view.
    fn abort(&mut self, attempt: Attempt, error: AuthError) {
        self.close_window(&attempt);
        self.record(&attempt.server).status = SignInStatus::Failed(error);
    }

    /// Stops the sign-in under way, if any: its window closes, and the view says what is needed.
    fn cancel_flow(&mut self) {
        let Some((attempt, _)) = self.flow.take() else { return };
        self.close_window(&attempt);
        let server = attempt.server;
        let status = if self.waiting.contains_key(&server) {
            SignInStatus::Needed(self.record(&server).need())
        } else if self.tokens.tokens(&server).is_some() {
            SignInStatus::SignedIn
        } else {
            SignInStatus::SignedOut
        };
        self.record(&server).status = status;
    }

    fn cancel_flow_of(&mut self, server: &ServerUrl) {
        if self.flow.as_ref().is_some_and(|(a, _)| &a.server == server) {
            self.cancel_flow();
        }
    }

    /// Starts an interactive sign-in for `server`: the checks that need no request, then
    /// discovery — held before the authorization server when the person must confirm first
    /// (then no window opens yet), else with the sign-in window opened inside the click.
    fn start(&mut self, server: &ServerUrl, press: Option<Press>, now: Millis) {
        let mode = self.mode;
        let configured = self.deployment.metadata.clone();
        let record = self.record(server);
        let (settings, source) = (record.settings.clone(), record.source);
        let hold = record.needs_confirmation();
        let has_secret = record.secret.is_some();
        let challenge =
            record.asked.as_ref().and_then(|a| a.challenge.as_ref()).map(BearerInfo::from);
        // The trace starts afresh with the refusal that asked for this sign-in.
        record.trace.retain(|line| line.step.starts_with("HTTP "));
        record.trace.truncate(1);
        let checked = (|| -> Result<Option<String>, AuthError> {
            if !server.is_secure() {
                return Err(MetadataError::InsecureServer { server: server.to_string() }.into());
            }
            self.deployment.check_instance(&settings, source)?;
            self.deployment.check_resource(&settings, source, server)?;
            let fixed = settings.fixed_issuer()?;
            if let Some(issuer) = &fixed {
                self.deployment.check_authority(issuer)?;
            }
            Ok(fixed)
        })();
        let fixed_issuer = match checked {
            Ok(fixed) => fixed,
            Err(error) => {
                self.record(server).status = SignInStatus::Failed(error);
                return;
            }
        };
        let press = if hold { None } else { press };
        let popup = press.as_ref().is_some_and(|p| mode.use_popup(p.framed, has_secret));
        if popup {
            self.outputs.push_back(Action::OpenPopup);
        }
        let discovery = Discovery::new(
            server.url().clone(),
            challenge,
            DiscoverySettings {
                fixed_issuer,
                configured: configured.filter(|_| source == Source::Config),
                hold,
            },
        );
        let attempt = Attempt { server: server.clone(), popup, closed: false, press };
        self.discover(attempt, discovery, 0, now);
    }

    /// Moves discovery on: its next GET, the confirmation when it holds, or what comes after.
    fn discover(&mut self, attempt: Attempt, mut discovery: Discovery, traced: usize, now: Millis) {
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
        let traced = discovery.trace().len();
        self.record(&attempt.server).trace.extend(steps);
        if let Some(url) = discovery.next_request() {
            let fetch = self.fetch(document_request(&url), Purpose::Flow, now);
            let state = FlowState::Discovering { discovery, fetch: Some((fetch, url)), traced };
            self.flow = Some((attempt, state));
            return;
        }
        if let Some((issuer, prm)) = discovery.held() {
            let prm_scopes = prm.and_then(|p| p.scopes_supported.clone());
            let prm_resource = prm.map(|p| p.resource.clone());
            match self.propose_for(&attempt.server, &issuer, prm_scopes, prm_resource) {
                Ok(proposal) => {
                    self.flow =
                        Some((attempt, FlowState::Confirming { discovery, traced, proposal }));
                }
                Err(error) => self.abort(attempt, error),
            }
            return;
        }
        match discovery.outcome() {
            Some(Ok(discovered)) => self.after_discovery(attempt, discovered, now),
            Some(Err(error)) => self.abort(attempt, error.into()),
            None => {
                self.flow =
                    Some((attempt, FlowState::Discovering { discovery, fetch: None, traced }))
            }
        }
    }

    /// What the person is asked to confirm, before anything is asked of the authorization
    /// server: the server, the issuer, the client, the scopes and the resource.
    fn propose_for(
        &mut self,
        server: &ServerUrl,
        issuer: &str,
        prm_scopes: Option<Vec<String>>,
        prm_resource: Option<String>,
    ) -> Result<Proposal, AuthError> {
        self.deployment.check_authority(issuer)?;
        let reserved = self.deployment.reserved_scopes(server).to_vec();
        let record = self.record(server);
        let settings = &record.settings;
        let challenged =
            record.asked.as_ref().and_then(|a| a.challenge.as_ref()).and_then(|c| c.scope.clone());
        let scopes = scopes::for_request(&Choice {
            fixed: (!settings.scopes.is_empty()).then_some(Fixed::Configured(&settings.scopes)),
            challenged: challenged.as_deref().unwrap_or_default(),
            offered_by_resource: prm_scopes.as_deref(),
            entra: settings.names_a_tenant(),
            reserved: &reserved,
            ..Choice::default()
        })?;
        let client = match (settings.client_id(), settings.client_metadata_url()) {
            (Some(id), _) => id.to_owned(),
            (None, Some(document)) => document.to_owned(),
            (None, None) => "a client the console registers there".to_owned(),
        };
        Ok(Proposal {
            server: server.origin(),
            server_url: server.to_string(),
            issuer: issuer.to_owned(),
            client,
            scopes,
            resource: settings.resource_value(issuer, server.url(), prm_resource.as_deref()),
            source: record.source,
            secret: record.secret.is_some(),
        })
    }

    /// Discovery found the authorization server: check it against the deployer's list and what
    /// was confirmed, then the client identity (registering, once per issuer, if need be).
    fn after_discovery(&mut self, attempt: Attempt, discovered: Discovered, now: Millis) {
        if let Err(error) = self.deployment.check_authority(&discovered.issuer) {
            return self.abort(attempt, error.into());
        }
        let callback = self.deployment.callback.clone();
        let record = self.record(&attempt.server);
        if let Some(confirmed) = &record.confirmed
            && confirmed.issuer != discovered.issuer
        {
            let error = AuthError::ConfirmedElsewhere {
                confirmed: confirmed.issuer.clone(),
                found: discovered.issuer.clone(),
            };
            record.confirmed = None;
            return self.abort(attempt, error);
        }
        let choice = choose_client(&record.settings, &discovered.metadata);
        let auth = match &record.secret {
            None => Ok(ClientAuth::None),
            Some(TypedSecret { secret, issuer: Some(bound) }) if *bound == discovered.issuer => {
                Ok(ClientAuth::Basic(secret.clone()))
            }
            Some(TypedSecret { issuer, .. }) => Err(AuthError::SecretForAnotherIssuer {
                bound: issuer.clone().unwrap_or_default(),
                issuer: discovered.issuer.clone(),
            }),
        };
        match (choice, auth) {
            (Err(error), _) => self.abort(attempt, error.into()),
            (Ok(ClientChoice::Configured(id)), Ok(auth)) => {
                self.authorize(attempt, discovered, id, auth, callback.to_string(), now);
            }
            (Ok(ClientChoice::Configured(_)), Err(error)) => self.abort(attempt, error),
            (Ok(ClientChoice::MetadataDocument(id)), _) => {
                self.authorize(
                    attempt,
                    discovered,
                    id,
                    ClientAuth::None,
                    callback.to_string(),
                    now,
                );
            }
            (Ok(ClientChoice::Register(endpoint)), _) => {
                let redirect = registered_redirect(&callback, &discovered.issuer);
                if let Some(registered) = self.registered.get(&discovered.issuer).cloned() {
                    return self.use_registration(attempt, discovered, registered, redirect, now);
                }
                let scopes = match self.scopes_for(&attempt.server, &discovered) {
                    Ok(scopes) => scopes,
                    Err(error) => return self.abort(attempt, error),
                };
                match registration_request(&endpoint, &redirect, &scopes) {
                    Ok(request) => {
                        let fetch = self.fetch(request, Purpose::Flow, now);
                        let state =
                            FlowState::Registering { fetch, endpoint, discovered, redirect };
                        self.flow = Some((attempt, state));
                    }
                    Err(error) => self.abort(attempt, error.into()),
                }
            }
        }
    }

    /// Signs in as a client the console registered. A full-page sign-in cannot carry a secret
    /// across the page load; a server that also takes public clients is then used as one.
    fn use_registration(
        &mut self,
        attempt: Attempt,
        discovered: Discovered,
        registered: Registered,
        redirect: String,
        now: Millis,
    ) {
        let public_ok = discovered
            .metadata
            .token_endpoint_auth_methods_supported
            .as_ref()
            .is_some_and(|m| m.iter().any(|m| m == "none"));
        let secret = registered.client_secret.clone().filter(|_| attempt.popup || !public_ok);
        let auth = ClientAuth::for_method(registered.token_endpoint_auth_method.as_deref(), secret);
        self.authorize(attempt, discovered, registered.client_id, auth, redirect, now);
    }

    /// The scopes to ask for (see `scopes::for_request`): what the server's challenge, its
    /// resource metadata and the authorization server offer, within what the settings fix.
    fn scopes_for(
        &mut self,
        server: &ServerUrl,
        discovered: &Discovered,
    ) -> Result<Vec<String>, AuthError> {
        let granted = self.tokens.tokens(server).map(|t| t.scopes.clone()).unwrap_or_default();
        let reserved = self.deployment.reserved_scopes(server).to_vec();
        let record = self.record(server);
        let step_up = record.need() == Need::StepUp;
        let challenged =
            record.asked.as_ref().and_then(|a| a.challenge.as_ref()).and_then(|c| c.scope.clone());
        let chosen = scopes::for_request(&Choice {
            fixed: record.fixed(),
            challenged: challenged.as_deref().unwrap_or_default(),
            granted: if step_up { &granted } else { &[] },
            offered_by_resource: discovered
                .prm
                .as_ref()
                .and_then(|p| p.scopes_supported.as_deref()),
            offered_by_server: discovered.metadata.scopes_supported.as_deref(),
            entra: record.settings.names_a_tenant(),
            reserved: &reserved,
        });
        if let Err(ScopeError::NotConfirmed { .. }) = chosen {
            // Asked again on the next Sign in, with the new scopes in view.
            record.confirmed = None;
        }
        Ok(chosen?)
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
        attempt: Attempt,
        discovered: Discovered,
        client_id: String,
        auth: ClientAuth,
        redirect: String,
        now: Millis,
    ) {
        let Some(press) = attempt.press.clone() else {
            // Only a confirmation's click lets a held sign-in reach this far.
            return self.abort(attempt, AuthError::NotFinished);
        };
        if attempt.popup && attempt.closed {
            return self.abort(attempt, AuthError::PopupClosedEarly);
        }
        if !attempt.popup && !matches!(auth, ClientAuth::None) {
            return self.abort(attempt, AuthError::SecretNeedsPopup);
        }
        let scopes = match self.scopes_for(&attempt.server, &discovered) {
            Ok(scopes) => scopes,
            Err(error) => return self.abort(attempt, error),
        };
        let return_to = self.return_address(&attempt.server, press.open.as_ref());
        let record = self.record(&attempt.server);
        let mut request = match SignInRequest::new(&discovered.metadata, &client_id, &redirect) {
            Ok(request) => request,
            Err(error) => return self.abort(attempt, error.into()),
        };
        let prm_resource = discovered.prm.as_ref().map(|p| p.resource.as_str());
        // Under Entra's multi-tenant authorities the metadata's issuer holds `{tenantid}`; the
        // callback's `iss` is compared to it with that placeholder.
        request.issuer = discovered.metadata.issuer.clone();
        request.scopes = scopes;
        request.resource =
            record.settings.resource_value(&discovered.issuer, attempt.server.url(), prm_resource);
        request.login_hint = record.settings.login_hint().map(str::to_owned);
        request.claims =
            record.asked.as_ref().and_then(|a| a.challenge.as_ref()).and_then(|c| c.claims.clone());
        request.return_to = return_to;
        request.server = attempt.server.to_string();
        request.confirmed = record.confirmed.clone().map(|c| (record.settings.clone(), c));
        request.popup = attempt.popup;
        let (url, pending) = flow::begin(request, &press.random.0, now);
        record.trace.push(TraceLine::new("Authorization request", shown_authorization_url(&url)));
        if attempt.popup {
            let state = pending.state.secret().clone();
            self.outputs.push_back(Action::NavigatePopup(url));
            self.outputs.push_back(Action::Listen { state });
            self.flow = Some((attempt, FlowState::Authorizing { pending, auth }));
        } else {
            let trace = record.trace.clone();
            self.outputs.push_back(Action::Leave { url, pending: Box::new(pending), trace });
            self.flow = Some((attempt, FlowState::Leaving));
        }
    }

    /// Routes a fetch's answer to what asked for it; answers nobody waits for are dropped.
    fn answered(&mut self, id: FetchId, reply: Result<(u16, &[u8]), &str>, now: Millis) {
        let Some((purpose, _)) = self.fetches.remove(&id) else { return };
        match purpose {
            Purpose::Revocation(server) => {
                self.record(&server).trace.push(TraceLine::new("Revocation", shown_reply(reply)));
            }
            Purpose::Refresh(refreshing) => self.refreshed(*refreshing, reply, now),
            Purpose::Flow => {
                let Some((attempt, state)) = self.flow.take() else { return };
                self.flow_answered(attempt, state, id, reply, now);
            }
        }
    }

    fn flow_answered(
        &mut self,
        attempt: Attempt,
        state: FlowState,
        id: FetchId,
        reply: Result<(u16, &[u8]), &str>,
        now: Millis,
    ) {
        match state {
            FlowState::Discovering { mut discovery, fetch: Some((fetch, url)), traced }
                if fetch == id =>
            {
                match reply {
                    Ok((status, body)) => {
                        discovery.handle_response(&url, status, &String::from_utf8_lossy(body))
                    }
                    Err(reason) => discovery.handle_failure(&url, reason),
                }
                self.discover(attempt, discovery, traced, now);
            }
            FlowState::Registering { fetch, endpoint, discovered, redirect } if fetch == id => {
                let line = TraceLine::new(format!("POST {endpoint}"), shown_reply(reply));
                self.record(&attempt.server).trace.push(line);
                let registered = match reply {
                    Ok((status, body)) => read_registration_response(status, body),
                    Err(reason) => {
                        Err(RegistrationError::Unreachable { endpoint, reason: reason.to_owned() })
                    }
                };
                match registered {
                    Ok(registered) => {
                        self.registered.insert(discovered.issuer.clone(), registered.clone());
                        self.use_registration(attempt, discovered, registered, redirect, now);
                    }
                    Err(error) => self.abort(attempt, error.into()),
                }
            }
            FlowState::Redeeming { fetch, pending, auth } if fetch == id => {
                let line =
                    TraceLine::new(format!("POST {}", pending.token_endpoint), shown_reply(reply));
                self.record(&attempt.server).trace.push(line);
                let granted = match reply {
                    Ok((status, body)) => {
                        token::read_token_response(status, body, now, &pending.token_context())
                    }
                    Err(reason) => Err(SignInError::Unreachable {
                        url: pending.token_endpoint.clone(),
                        reason: reason.to_owned(),
                    }),
                };
                match granted {
                    Ok(granted) => {
                        let grant = Grant {
                            token_endpoint: pending.token_endpoint.clone(),
                            revocation_endpoint: pending.revocation_endpoint.clone(),
                            client_id: pending.client_id.clone(),
                            auth,
                            resource: pending.resource.clone(),
                            redirect_uri: pending.redirect_uri.clone(),
                        };
                        let server = attempt.server;
                        self.tokens.insert(&server, granted.tokens, grant);
                        let record = self.record(&server);
                        if granted.claims.is_some() {
                            record.claims = granted.claims;
                        }
                        record.issuer = Some(pending.issuer.clone());
                        record.client_id = Some(pending.client_id.clone());
                        record.asked = None;
                        record.status = SignInStatus::SignedIn;
                        record.refresh_not_before = 0;
                        record.refresh_failed = false;
                        self.hand_out(&server, now);
                    }
                    Err(error) => self.abort(attempt, error.into()),
                }
            }
            state => self.flow = Some((attempt, state)),
        }
    }

    /// Gives `server`'s token to its connection, if it is connected.
    fn hand_out(&mut self, server: &ServerUrl, now: Millis) {
        if !self.connected.contains_key(server) {
            return;
        }
        if let Some(bearer) = self.tokens.bearer(server, now) {
            self.waiting.remove(server);
            self.outputs.push_back(Action::Bearer(bearer));
        }
    }

    /// When `server`'s tokens are refreshed ahead of expiry: not for a pasted token, not while
    /// its connection waits for an interactive sign-in (a refreshed token would not satisfy the
    /// server), and not before a failed refresh may be tried again.
    fn refresh_due(&self, server: &ServerUrl) -> Option<Millis> {
        let record = self.records.get(server)?;
        if record.pasted.is_some() || self.waiting.contains_key(server) {
            return None;
        }
        let due = self.tokens.refresh_due(server)?;
        Some(due.max(record.refresh_not_before))
    }

    fn start_refresh(&mut self, server: &ServerUrl, now: Millis) {
        let RefreshStart::Start { ticket, issuer, refresh_token, grant, scopes } =
            self.tokens.begin_refresh(server)
        else {
            // Another refresh is under way (its answer serves), or there is nothing to refresh
            // with (only a refusal gets here then, which asked for a sign-in).
            return;
        };
        let request = token::refresh_request(
            &grant.token_endpoint,
            &grant.client_id,
            &refresh_token,
            &scopes,
            grant.resource.as_deref(),
            &grant.auth,
        );
        match request {
            Ok(request) => {
                let refreshing = Refreshing {
                    server: server.clone(),
                    issuer,
                    ticket,
                    grant: *grant,
                    scopes,
                    signed_out: false,
                };
                self.fetch(request, Purpose::Refresh(Box::new(refreshing)), now);
            }
            Err(error) => {
                self.tokens.finish_refresh(server, &issuer, ticket, RefreshResult::Rejected);
                self.record(server).status = SignInStatus::Failed(error.into());
            }
        }
    }

    /// A refresh came back: new tokens (handed out if their server is connected), a refusal (one
    /// interactive sign-in), or no usable answer (kept for a later try; a connection waiting for
    /// it gives up with the sentence).
    fn refreshed(&mut self, r: Refreshing, reply: Result<(u16, &[u8]), &str>, now: Millis) {
        let read = match reply {
            Err(reason) => Err(SignInError::Unreachable {
                url: r.grant.token_endpoint.clone(),
                reason: reason.to_owned(),
            }),
            Ok((status, body)) => {
                let ctx = TokenContext {
                    issuer: &r.issuer,
                    nonce: None,
                    scopes: &r.scopes,
                    redirect_uri: Some(&r.grant.redirect_uri),
                };
                token::read_token_response(status, body, now, &ctx)
            }
        };
        if r.signed_out {
            // The refresh token it may have rotated is the grant's last: revoke it too.
            if let Ok(Some(rotated)) = read.as_ref().map(|g| g.tokens.refresh.clone()) {
                let lines = self.revoke(&r.server, &r.grant, &rotated, now);
                self.record(&r.server).trace.extend(lines);
            }
            return;
        }
        let step = format!("POST {} (refresh)", r.grant.token_endpoint);
        let record = self.record(&r.server);
        // Only the latest refresh is worth a line.
        record.trace.retain(|line| line.step != step);
        record.trace.push(TraceLine::new(step, shown_reply(reply)));
        let (result, error, claims) = match read {
            Ok(granted) => (RefreshResult::Granted(granted.tokens), None, granted.claims),
            Err(error) if error.needs_interactive_sign_in() => {
                (RefreshResult::Rejected, Some(error), None)
            }
            Err(error) => (RefreshResult::Unavailable, Some(error), None),
        };
        let answers_refusal =
            self.connected.contains_key(&r.server) && self.waiting.contains_key(&r.server);
        let outcome = self.tokens.finish_refresh(&r.server, &r.issuer, r.ticket, result);
        let record = self.record(&r.server);
        match (outcome, error) {
            (RefreshOutcome::Refreshed, _) => {
                if claims.is_some() {
                    record.claims = claims;
                }
                // A proactive refresh leaves a sign-in's sentence in view.
                if answers_refusal
                    || record.refresh_failed
                    || record.status == SignInStatus::SignedIn
                {
                    record.status = SignInStatus::SignedIn;
                }
                record.refresh_failed = false;
                self.hand_out(&r.server, now);
            }
            (RefreshOutcome::SignInNeeded, error) => {
                // An expired or revoked grant asks for a sign-in; any other refusal says what is
                // wrong (a registration, consent) — a sign-in is still the way on, once fixed.
                record.asked = Some(Asked { challenge: None, need: Need::Expired });
                record.status = match error {
                    Some(error @ SignInError::Refused { .. })
                        if !matches!(
                            error,
                            SignInError::Refused { reason: flow::Reason::GrantExpired, .. }
                        ) =>
                    {
                        SignInStatus::Failed(error.into())
                    }
                    _ => SignInStatus::Needed(Need::Expired),
                };
            }
            (RefreshOutcome::Retry, Some(error)) => {
                let error = AuthError::Flow(error);
                record.refresh_not_before = now.saturating_add(REFRESH_RETRY);
                record.refresh_failed = true;
                record.status = SignInStatus::Failed(error.clone());
                if answers_refusal {
                    self.waiting.remove(&r.server);
                    self.outputs.push_back(Action::GiveUp { server: r.server, error });
                }
            }
            (RefreshOutcome::Retry | RefreshOutcome::Stale, _) => {}
        }
    }

    /// Revokes `refresh_token` where `grant`'s server offers revocation (RFC 7009), and says so
    /// in the trace lines returned.
    fn revoke(
        &mut self,
        server: &ServerUrl,
        grant: &Grant,
        refresh_token: &RefreshToken,
        now: Millis,
    ) -> Vec<TraceLine> {
        let Some(endpoint) = grant.revocation_endpoint.clone() else { return Vec::new() };
        let line = |detail: String| vec![TraceLine::new(format!("POST {endpoint}"), detail)];
        match token::revocation_request(&endpoint, &grant.client_id, refresh_token, &grant.auth) {
            Ok(request) => {
                self.fetch(request, Purpose::Revocation(server.clone()), now);
                line("revoking the refresh token".to_owned())
            }
            Err(error) => line(error.to_string()),
        }
    }

    /// The view of the shown server.
    fn update_view(&mut self) {
        let empty = Record::default();
        let record = self.shown.as_ref().and_then(|s| self.records.get(s)).unwrap_or(&empty);
        let tokens = self.shown.as_ref().and_then(|s| self.tokens.tokens(s));
        let mut status = match &self.flow {
            Some((attempt, state)) if Some(&attempt.server) == self.shown.as_ref() => {
                state.status(attempt)
            }
            _ => record.status.clone(),
        };
        if let (Some(notice), SignInStatus::SignedOut) = (&self.notice, &status) {
            status = SignInStatus::Failed(notice.clone());
        }
        // Entra's multi-tenant issuer names `{tenantid}`: shown with the tenant signed in to.
        let tid = record.claims.as_ref().and_then(|c| c.tid.clone());
        let issuer = record.issuer.clone().map(|i| match &tid {
            Some(tid) => i.replace(TENANT_PLACEHOLDER, tid),
            None => i,
        });
        self.view = AuthView {
            server: self.shown.as_ref().map(ToString::to_string),
            connected: self.shown.as_ref().is_some_and(|s| self.connected.contains_key(s)),
            status,
            claims: record.claims.clone(),
            scopes: tokens.map(|t| t.scopes.clone()).unwrap_or_default(),
            expires_at: tokens.and_then(|t| t.expires_at),
            issuer,
            client_id: record.client_id.clone(),
            trace: record.trace.clone(),
            settings: record.settings.clone(),
            source: record.source,
            secret_typed: record.secret.is_some(),
            token_pasted: record.pasted.is_some(),
            mode: self.mode,
            redirect_uri: self.deployment.callback.to_string(),
        };
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::launch::{Config, Link};
    use crate::core::testing::url;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;
    use std::collections::{BTreeMap, BTreeSet};

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
                            None => self.m.handle_failure(id, self.now),
                        }
                    }
                    other => self.actions.push(other),
                }
            }
        }

        fn press(&self) -> Press {
            Press { framed: false, random: Random(std::array::from_fn(|i| i as u8)), open: None }
        }

        /// The tab in front connects to `s`.
        fn connect(&mut self, s: &str) -> Option<Bearer> {
            self.m.show(Some(server(s)));
            let bearer = self.m.connect(&server(s), self.now).unwrap_or_else(|e| panic!("{e}"));
            self.run();
            bearer
        }

        /// The server refuses a request, as the engine reports it: the request carried a token
        /// when the machine holds one for `s`.
        fn refused(&mut self, s: &str, status: u16, challenge: &str) {
            let had_token = self.m.tokens.tokens(&server(s)).is_some();
            self.refused_with(s, status, challenge, had_token);
        }

        fn refused_with(&mut self, s: &str, status: u16, challenge: &str, had_token: bool) {
            let refusal =
                AuthRequired { status, www_authenticate: Some(challenge.to_owned()), had_token };
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
        /// The parameter `name` of the last authorization request.
        fn asked(&self, name: &str) -> String {
            let url = self.authorization_url();
            let value = url.and_then(|u| {
                u.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
            });
            value.unwrap_or_else(|| {
                panic!("no {name} in an authorization request: {:?}", self.actions)
            })
        }

        /// The authorization server approves the request the window (or page) was sent to, and
        /// sends the browser back to the redirect URI it was given.
        fn approve(&mut self) {
            let answer = format!(
                "{}&code=the-code&state={}",
                self.redirect_with_query(),
                self.asked("state")
            );
            self.m.handle_answer(&answer, self.now);
            self.run();
        }

        fn redirect_with_query(&self) -> String {
            let redirect = self.asked("redirect_uri");
            if redirect.contains('?') { redirect } else { format!("{redirect}?") }
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

        fn phase(&self) -> SignInStatus {
            self.m.view().status.clone()
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
        assert_eq!(w.phase(), SignInStatus::Needed(Need::First));
        w.sign_in();
        assert!(matches!(w.actions.first(), Some(Action::OpenPopup)), "{:?}", w.actions);
        w.approve();
        assert_eq!(w.phase(), SignInStatus::SignedIn, "{:?}", w.m.view().trace);
    }

    /// An MCP server at `IDP` whose protected resource names `IDP` as its authorization server.
    fn idp_server(w: &mut World) -> String {
        w.idp();
        let mcp = format!("{IDP}/mcp");
        w.prm(&mcp, IDP);
        mcp
    }

    /// A link proposes a client id and a scope for a server at the IdP, and the server asks for
    /// sign-in: the proposal waits for the person's confirmation.
    fn proposed_by_link() -> (World, String) {
        let mut w = World::new(
            Config::default(),
            &format!("?server={IDP}/mcp&connect=1&client_id=c1&scope=mcp:tools"),
        );
        let mcp = idp_server(&mut w);
        w.m.set_mode(SignInMode::Popup);
        w.connect(&mcp);
        w.refused(&mcp, 401, "Bearer");
        (w, mcp)
    }

    #[test]
    fn a_request_refused_for_having_no_token_gets_the_one_in_hand_without_a_refresh() {
        let mut w = World::new(corp_config(), "");
        signed_in_to_corp(&mut w);
        let trace = w.m.view().trace.clone();
        w.actions.clear();
        w.refused_with(CORP, 401, &format!(r#"Bearer scope="{CORP_API}""#), false);
        assert!(
            matches!(&w.actions[..], [Action::Bearer(b)] if b.server == server(CORP)),
            "the held token, no refresh: {:?}",
            w.actions
        );
        assert_eq!(w.m.view().trace, trace, "the trace still shows the sign-in");
        assert_eq!(w.phase(), SignInStatus::SignedIn);
    }

    /// A tool result that echoes its request's `Authorization` must not reach the page the
    /// console is embedded in: the machine says which texts hold a token it keeps.
    #[test]
    fn texts_that_hold_a_kept_token_are_recognised() {
        let mut w = World::new(corp_config(), "");
        assert!(!w.m.reveals_secret(r#"{"text":"Bearer at-1"}"#), "nothing held yet");
        signed_in_to_corp(&mut w);
        assert!(w.m.reveals_secret(r#"{"text":"Authorization: Bearer at-1"}"#));
        assert!(w.m.reveals_secret("rt-1"), "the refresh token too");
        assert!(!w.m.reveals_secret(r#"{"text":"at-2, rt-2"}"#));
    }

    #[test]
    fn a_configured_entra_sign_in_runs_in_the_popup_and_hands_the_token_to_its_server() {
        let mut w = World::new(corp_config(), "");
        signed_in_to_corp(&mut w);
        assert_eq!(w.asked("redirect_uri"), "https://console.contoso.example/callback.html");
        assert_eq!(w.asked("client_id"), "console-app");
        assert_eq!(w.asked("scope"), "api://corp-mcp/mcp:tools openid profile offline_access");
        assert!(
            w.authorization_url().is_some_and(|u| !u.query_pairs().any(|(k, _)| k == "resource")),
            "Entra settings leave resource out"
        );
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
        assert!(view.connected && view.source == Source::Config);
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
        let SignInStatus::Failed(error) = w.phase() else { panic!("{:?}", w.phase()) };
        assert!(
            matches!(error, AuthError::Metadata(MetadataError::ForeignEndpoint { .. })),
            "{error}"
        );
        assert_eq!(w.authorization_url(), None, "no sign-in page");
        assert!(w.seen.iter().all(|s| s.method == "GET"), "nothing posted: {:?}", w.seen);
        assert!(w.actions.iter().any(|a| matches!(a, Action::ClosePopup)), "the window closes");
    }

    /// Attack 1, third form (the attacker's review): a self-consistent hostile authorization
    /// server, found by discovery alone, relays the window to Entra with the deployer's (public)
    /// client id and the console's callback; Entra's code comes back without `iss`. A client the
    /// console registers returns to a callback marked with its issuer, so the relayed answer,
    /// which lacks the mark, is refused and its code goes nowhere.
    #[test]
    fn attack_1_an_answer_relayed_from_another_sign_in_service_is_not_redeemed() {
        let mut w = World::new(Config { mode: SignInMode::Popup, ..Config::default() }, "");
        let evil_mcp = "https://evil.example/mcp";
        w.prm(evil_mcp, "https://evil-as.example");
        w.document(
            "https://evil-as.example/.well-known/oauth-authorization-server",
            json!({"issuer": "https://evil-as.example", "authorization_endpoint": "https://evil-as.example/authorize", "token_endpoint": "https://evil-as.example/token", "registration_endpoint": "https://evil-as.example/register"}),
        );
        w.connect(evil_mcp);
        w.refused(evil_mcp, 401, "Bearer");
        w.sign_in();
        let redirect = w.asked("redirect_uri");
        assert!(redirect.starts_with(&format!("{CONSOLE}callback.html?as=")), "{redirect}");
        // evil-as bounces to Entra, which answers at the callback registered there.
        let relayed = format!("{CONSOLE}callback.html?code=entra-code&state={}", w.asked("state"));
        w.m.handle_answer(&relayed, w.now);
        w.run();
        let SignInStatus::Failed(error) = w.phase() else { panic!("{:?}", w.phase()) };
        assert!(matches!(error, AuthError::Flow(SignInError::WrongCallback { .. })), "{error}");
        assert!(w.requests_to("https://evil-as.example/token").is_empty(), "the code went nowhere");
        // The registered client's own answer still works.
        w.sign_in();
        w.approve();
        assert_eq!(w.requests_to("https://evil-as.example/token").len(), 1);
        assert_eq!(
            w.requests_to("https://evil-as.example/register").len(),
            1,
            "registered once per issuer"
        );
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
        let SignInStatus::Confirm(proposal) = w.phase() else { panic!("{:?}", w.phase()) };
        assert_eq!(
            (proposal.server.as_str(), proposal.server_url.as_str()),
            ("https://evil.example", EVIL)
        );
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
        assert_eq!(w.phase(), SignInStatus::Needed(Need::First));
        assert!(w.m.view().settings.is_empty());
        assert!(w.requests_to(ENTRA).is_empty());
    }

    /// Attack 2 from a host page: an `EmbedOrigins` page proposes the corporate tenant and client
    /// for evil's server. It gets what the link got: a confirmation that says where the settings
    /// came from, nothing asked of the authorization server before it, nothing left if declined.
    #[test]
    fn a_host_pages_settings_wait_for_the_same_confirmation_as_a_links() {
        let mut w = World::new(Config::default(), "");
        let (deployment, _) = Deployment::new(&url(CONSOLE), Config::default());
        let settings = SignInSettings {
            tenant_id: Some(TENANT.into()),
            client_id: Some("console-app".into()),
            ..SignInSettings::default()
        };
        let hosted = deployment.host(EVIL, settings, None).unwrap_or_else(|e| panic!("{e}"));
        let proposal = hosted.proposal.unwrap_or_else(|| panic!("a proposal"));
        w.m.propose_from_host(hosted.server, proposal);
        w.entra();
        assert_eq!(w.connect(EVIL), None);
        assert_eq!(w.m.view().source, Source::Host);
        w.refused(EVIL, 401, &format!(r#"Bearer scope="{CORP_API}""#));
        let SignInStatus::Confirm(proposal) = w.phase() else { panic!("{:?}", w.phase()) };
        assert_eq!(
            (proposal.server.as_str(), proposal.client.as_str()),
            ("https://evil.example", "console-app")
        );
        assert_eq!(proposal.source.reason(), "from the page this console is embedded in");
        assert!(w.requests_to(ENTRA).is_empty() && w.actions.is_empty(), "{:?}", w.seen);
        w.m.reject();
        assert_eq!(w.phase(), SignInStatus::Needed(Need::First));
        assert!(w.m.view().settings.is_empty());
    }

    /// Attack 2, without a link: the config's tenant and client id, and the person types evil's
    /// URL. Only who the console is is offered; the configured API stays the configured server's.
    #[test]
    fn attack_2_the_configs_api_is_kept_for_the_server_it_names() {
        let mut w = World::new(corp_config(), "");
        w.entra();
        w.connect(EVIL);
        assert!(w.m.view().settings.scopes.is_empty(), "the configured scopes are not offered");
        w.refused(EVIL, 401, &format!(r#"Bearer scope="{CORP_API}""#));
        let SignInStatus::Failed(AuthError::Scope(ScopeError::Reserved { asked })) = w.phase()
        else {
            panic!("{:?}", w.phase())
        };
        assert_eq!(asked, CORP_API);
        assert!(w.requests_to(ENTRA).is_empty());
        // Another API of evil's own may be confirmed, and signed in for.
        w.refused(EVIL, 401, r#"Bearer scope="api://evil-api/read""#);
        let SignInStatus::Confirm(proposal) = w.phase() else { panic!("{:?}", w.phase()) };
        assert_eq!(proposal.source, Source::ConfigElsewhere);
        w.confirm();
        w.approve();
        assert_eq!(w.phase(), SignInStatus::SignedIn);
        // And evil cannot step up to the configured API, nor to anything unconfirmed.
        w.refused(EVIL, 403, &format!(r#"Bearer error="insufficient_scope", scope="{CORP_API}""#));
        w.sign_in();
        assert!(
            matches!(
                w.phase(),
                SignInStatus::Failed(AuthError::Scope(ScopeError::Reserved { .. }))
            ),
            "{:?}",
            w.phase()
        );
        w.refused(
            EVIL,
            403,
            r#"Bearer error="insufficient_scope", scope="https://graph.microsoft.com/Mail.Read""#,
        );
        w.sign_in();
        assert!(
            matches!(
                w.phase(),
                SignInStatus::Failed(AuthError::Scope(ScopeError::NotConfirmed { .. }))
            ),
            "{:?}",
            w.phase()
        );
        // Asked again, the new scope is shown for confirming.
        w.sign_in();
        let SignInStatus::Confirm(again) = w.phase() else { panic!("{:?}", w.phase()) };
        assert!(
            again.scopes.contains(&"https://graph.microsoft.com/Mail.Read".to_owned()),
            "{:?}",
            again.scopes
        );
    }

    #[test]
    fn a_confirmed_proposal_signs_in_and_a_step_up_of_the_same_api_needs_no_new_confirmation() {
        let (mut w, mcp) = proposed_by_link();
        assert!(matches!(w.phase(), SignInStatus::Confirm(_)), "{:?}", w.phase());
        assert!(w.requests_to(&format!("{IDP}/.well-known/oauth-authorization-server")).is_empty());
        w.confirm();
        w.approve();
        assert_eq!(w.phase(), SignInStatus::SignedIn);
        assert_eq!(w.asked("scope"), "mcp:tools offline_access");
        assert_eq!(w.asked("resource"), mcp);
        w.refused(&mcp, 403, r#"Bearer error="insufficient_scope", scope="mcp:admin""#);
        assert_eq!(w.phase(), SignInStatus::Needed(Need::StepUp));
        w.sign_in();
        assert!(
            matches!(
                w.phase(),
                SignInStatus::Failed(AuthError::Scope(ScopeError::NotConfirmed { .. }))
            ),
            "a bare scope beyond what was confirmed: {:?}",
            w.phase()
        );
        w.sign_in();
        let SignInStatus::Confirm(proposal) = w.phase() else { panic!("{:?}", w.phase()) };
        assert!(proposal.scopes.contains(&"mcp:admin".to_owned()));
        w.confirm();
        w.approve();
        let scope = w.asked("scope");
        assert!(scope.contains("mcp:tools") && scope.contains("mcp:admin"), "{scope}");
        // A confirmation is for its issuer: the server names another one, and it is asked again.
        w.refused(&mcp, 401, r#"Bearer error="insufficient_claims", claims="e30""#);
        w.prm(&mcp, "https://other.example");
        w.document("https://other.example/.well-known/oauth-authorization-server", json!({"issuer": "https://other.example", "authorization_endpoint": "https://other.example/authorize", "token_endpoint": "https://other.example/token"}));
        w.sign_in();
        assert!(
            matches!(w.phase(), SignInStatus::Failed(AuthError::ConfirmedElsewhere { .. })),
            "{:?}",
            w.phase()
        );
        assert!(
            w.requests_to("https://other.example/token").is_empty() && w.asked("client_id") == "c1"
        );
        w.sign_in();
        assert!(
            matches!(w.phase(), SignInStatus::Confirm(ref p) if p.issuer == "https://other.example"),
            "{:?}",
            w.phase()
        );
    }

    /// Attack 3: after signing in to A and connecting to B, A's proactive refresh installed A's
    /// token on B's connection; a token pasted for one server went to every server. Now A and B
    /// are open side by side, each in its own tab.
    #[test]
    fn attack_3_a_token_for_one_server_never_reaches_another() {
        let everything = "https://everything.example/mcp";
        let token_endpoint = format!("{ENTRA}{TENANT}/oauth2/v2.0/token");
        let mut w = World::new(corp_config(), "");
        signed_in_to_corp(&mut w);
        w.actions.clear();
        assert_eq!(w.connect(everything), None, "B gets no token of A's");
        assert!(w.m.view().claims.is_none() && w.m.view().connected, "the view is B's");
        w.refused(everything, 401, "Bearer");
        assert!(matches!(w.phase(), SignInStatus::Confirm(_)), "B's own sign-in: {:?}", w.phase());
        // A, open beside B, is still refreshed; each of its tokens names A only.
        for _ in 0..3 {
            w.advance(8_000);
        }
        assert!(w.requests_to(&token_endpoint).len() > 2, "A refreshed while B is open");
        let bearers = w.bearers();
        assert!(!bearers.is_empty() && bearers.iter().all(|b| b.server == server(CORP)));
        // A's tab closes: nothing of A is refreshed any more.
        w.m.disconnect(&server(CORP));
        assert_eq!(w.m.poll_timeout(), None, "A's refresh timer stopped");
        let refreshes = w.requests_to(&token_endpoint).len();
        w.advance(60_000);
        assert_eq!(w.requests_to(&token_endpoint).len(), refreshes, "no refresh of a closed tab");
        // A refresh of A that was already under way finishes into the store, not into B.
        let mut w = World::new(corp_config(), "");
        signed_in_to_corp(&mut w);
        w.actions.clear();
        w.m.handle_timeout(w.now + 8_000);
        let Some(Action::Fetch { id, .. }) = w.m.poll_output() else { panic!("a refresh") };
        w.m.disconnect(&server(CORP));
        w.m.connect(&server(everything), w.now).unwrap_or_else(|e| panic!("{e}"));
        let body = json!({"access_token": "at-late", "refresh_token": "rt-late", "token_type": "Bearer", "expires_in": 10}).to_string();
        w.m.handle_response(id, 200, body.as_bytes(), w.now + 8_000);
        w.run();
        assert!(w.bearers().is_empty(), "{:?}", w.actions);
        let back = w.m.connect(&server(CORP), w.now + 8_001).ok().flatten();
        assert_eq!(
            back.map(|b| b.token.secret().clone()).as_deref(),
            Some("at-late"),
            "kept for A"
        );
        // A pasted token belongs to the server it was pasted for: the connected one, or the one
        // in the address field.
        let mut w = World::new(Config::default(), "");
        w.connect(CORP);
        w.m.paste_token(Some(AccessToken::new("pasted".into())));
        assert_eq!(w.connect(everything), None);
        assert_eq!(w.connect(CORP).map(|b| b.token.secret().clone()).as_deref(), Some("pasted"));
        let mut w = World::new(Config::default(), "");
        w.m.show(Some(server(everything)));
        w.m.paste_token(Some(AccessToken::new("early".into())));
        assert_eq!(w.connect(CORP), None);
        assert!(w.connect(everything).is_some());
        let mut w = World::new(Config::default(), "");
        w.m.paste_token(Some(AccessToken::new("nowhere".into())));
        assert_eq!(w.connect(CORP), None, "no server named: the token is not kept for any");
    }

    /// A connection left behind can still answer 401 after the page switched servers: that says
    /// nothing about the server now connected, and starts no refresh or sign-in for the old one.
    #[test]
    fn a_refusal_from_a_server_no_longer_connected_changes_nothing() {
        let mut w = World::new(corp_config(), "");
        signed_in_to_corp(&mut w);
        w.m.disconnect(&server(CORP));
        w.connect("https://everything.example/mcp");
        let (before, seen) = (w.phase(), w.seen.len());
        w.actions.clear();
        w.refused(CORP, 401, r#"Bearer error="invalid_token""#);
        assert!(w.actions.is_empty(), "{:?}", w.actions);
        assert_eq!(w.seen.len(), seen, "no request: {:?}", w.seen);
        assert_eq!(w.phase(), before);
    }

    #[test]
    fn refresh_is_single_flight_before_expiry() {
        let mut w = World::new(corp_config(), "");
        signed_in_to_corp(&mut w);
        assert_eq!(w.m.poll_timeout(), Some(w.now + 8_000), "a fifth of 10 s early");
        w.actions.clear();
        // The timer and several refused requests at once: one refresh.
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
        assert_eq!(w.m.view().trace.iter().filter(|l| l.step.ends_with("(refresh)")).count(), 1);
        w.advance(8_000);
        assert_eq!(
            w.m.view().trace.iter().filter(|l| l.step.ends_with("(refresh)")).count(),
            1,
            "only the latest refresh is kept in the trace"
        );
    }

    #[test]
    fn any_refusal_of_a_refresh_asks_for_one_sign_in_and_no_answer_is_tried_again_later() {
        for (error, description, expired) in [
            ("invalid_grant", "AADSTS700084: expired", true),
            ("invalid_client", "unknown client", false),
            ("consent_required", "AADSTS65001", false),
        ] {
            let mut w = World::new(corp_config(), "");
            signed_in_to_corp(&mut w);
            w.token_error =
                Some((400, json!({"error": error, "error_description": description}).to_string()));
            w.advance(8_000);
            match w.phase() {
                SignInStatus::Needed(Need::Expired) => assert!(expired, "{error}"),
                SignInStatus::Failed(AuthError::Flow(SignInError::Refused { .. })) => {
                    assert!(!expired, "{error}")
                }
                other => panic!("{error}: {other:?}"),
            }
            assert_eq!(w.m.poll_timeout(), None, "{error}: nothing more to refresh");
        }
        let mut w = World::new(corp_config(), "");
        signed_in_to_corp(&mut w);
        w.actions.clear();
        w.down.insert(format!("{ENTRA}{TENANT}/oauth2/v2.0/token"));
        w.refused(CORP, 401, r#"Bearer error="invalid_token""#);
        let gave_up = w.actions.iter().any(|a| matches!(a, Action::GiveUp { server: s, error: AuthError::Flow(SignInError::Unreachable { .. }) } if *s == server(CORP)));
        assert!(gave_up, "{:?}", w.actions);
        let next = w.m.poll_timeout().unwrap_or_default();
        assert!(next >= w.now + REFRESH_RETRY, "no busy loop: {next}");
        w.down.clear();
        w.advance(REFRESH_RETRY);
        assert_eq!(w.phase(), SignInStatus::SignedIn, "tried again later, and it worked");
    }

    /// Attack 4: a link set the client metadata URL, scopes, resource and account hint and
    /// connected without asking.
    #[test]
    fn attack_4_every_sign_in_setting_from_a_link_waits_for_the_confirmation() {
        for extra in [
            "login_hint=victim@contoso.example",
            "client_metadata_url=https://evil.example/c.json",
            "scope=api://corp-mcp/mcp:tools",
            "resource=https://idp.example/mcp",
        ] {
            let mut w =
                World::new(Config::default(), &format!("?server={IDP}/mcp&connect=1&{extra}"));
            let mcp = idp_server(&mut w);
            w.connect(&mcp);
            w.refused(&mcp, 401, "Bearer");
            assert!(matches!(w.phase(), SignInStatus::Confirm(_)), "{extra}: {:?}", w.phase());
            assert!(
                w.requests_to(&format!("{IDP}/.well-known/oauth-authorization-server")).is_empty(),
                "{extra}"
            );
        }
        // A resource that names another server is refused outright, and shown otherwise.
        let mut w =
            World::new(Config::default(), &format!("?server={IDP}/mcp&connect=1&resource={CORP}"));
        let mcp = idp_server(&mut w);
        w.connect(&mcp);
        w.refused(&mcp, 401, "Bearer");
        assert!(
            matches!(
                w.phase(),
                SignInStatus::Failed(AuthError::Trust(TrustError::ResourceElsewhere { .. }))
            ),
            "{:?}",
            w.phase()
        );
        let mut w =
            World::new(Config::default(), &format!("?server={IDP}/mcp&connect=1&resource=server"));
        let mcp = idp_server(&mut w);
        w.connect(&mcp);
        w.refused(&mcp, 401, "Bearer");
        assert!(
            matches!(w.phase(), SignInStatus::Confirm(ref p) if p.resource.as_deref() == Some(mcp.as_str())),
            "{:?}",
            w.phase()
        );
    }

    /// Attack 5: a registration access token in the trace (Auth view, Copy trace, the pending
    /// sign-in in sessionStorage).
    #[test]
    fn attack_5_no_registration_access_token_is_kept_anywhere() {
        let mut w = World::new(Config { mode: SignInMode::Redirect, ..Config::default() }, "");
        let mcp = idp_server(&mut w);
        w.connect(&mcp);
        w.refused(&mcp, 401, "Bearer");
        w.sign_in();
        let Some(Action::Leave { pending, trace, .. }) =
            w.actions.iter().find(|a| matches!(a, Action::Leave { .. }))
        else {
            panic!("{:?}", w.actions)
        };
        let kept = crate::core::auth::flow::keep(pending, trace);
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

    /// Two tabs: a refusal in the second does not cut short the sign-in under way in the first,
    /// and closing a tab revokes and forgets what the console held for it, and only that.
    #[test]
    fn tabs_side_by_side_keep_their_own_sign_in_and_a_closed_tab_is_forgotten() {
        let everything = "https://everything.example/mcp";
        let mut w = World::new(corp_config(), "");
        w.entra();
        w.prm(CORP, &entra_issuer());
        w.connect(CORP);
        w.refused(CORP, 401, &format!(r#"Bearer scope="{CORP_API}""#));
        w.sign_in();
        assert_eq!(w.phase(), SignInStatus::Working(Step::InPopup));
        // The second tab's server asks for a sign-in that starts with a confirmation: it waits
        // for a press, and the first tab's window stays open.
        let before = w.actions.len();
        w.prm(everything, &entra_issuer());
        w.connect(everything);
        w.refused(everything, 401, "Bearer");
        assert_eq!(w.phase(), SignInStatus::Needed(Need::First), "{:?}", w.phase());
        let closed = w.actions[before..].iter().any(|a| matches!(a, Action::ClosePopup));
        assert!(!closed, "{:?}", w.actions);
        w.m.show(Some(server(CORP)));
        assert_eq!(w.phase(), SignInStatus::Working(Step::InPopup), "the first tab's sign-in");
        w.approve();
        assert_eq!(w.phase(), SignInStatus::SignedIn);
        assert!(w.bearers().iter().all(|b| b.server == server(CORP)));
        // The first tab closes: its tokens are gone, nothing more of it is refreshed, and the
        // second tab is as it was.
        w.m.close(&server(CORP), w.now);
        w.run();
        assert!(w.m.tokens.tokens(&server(CORP)).is_none());
        assert_eq!(w.m.poll_timeout(), None);
        assert_eq!(w.m.view().server, None, "no tab in front until the page shows one");
        w.m.show(Some(server(everything)));
        assert!(w.m.view().connected);
        assert_eq!(w.phase(), SignInStatus::Needed(Need::First));
        w.m.show(Some(server(CORP)));
        assert_eq!((w.phase(), w.m.view().connected), (SignInStatus::SignedOut, false));
        // Its sign-in now starts with the confirmation it waited for.
        w.m.show(Some(server(everything)));
        w.sign_in();
        assert!(matches!(w.phase(), SignInStatus::Confirm(_)), "{:?}", w.phase());
    }

    /// Signed in by popup to a server whose authorization server (at `IDP`) offers revocation.
    fn signed_in_at_idp() -> (World, String) {
        let mut w = World::new(Config { mode: SignInMode::Popup, ..Config::default() }, "");
        let mcp = idp_server(&mut w);
        w.connect(&mcp);
        w.refused(&mcp, 401, "Bearer");
        w.sign_in();
        w.approve();
        assert_eq!(w.phase(), SignInStatus::SignedIn);
        (w, mcp)
    }

    /// Closing a tab revokes its refresh token, as a sign-out does.
    #[test]
    fn closing_a_tab_revokes_its_refresh_token() {
        let (mut w, mcp) = signed_in_at_idp();
        w.m.close(&server(&mcp), w.now);
        w.run();
        let revoked = w.requests_to(&format!("{IDP}/revoke"));
        assert_eq!(revoked.len(), 1, "{:?}", w.seen);
        assert!(revoked[0].body.contains("token=rt-1"));
        assert!(!w.actions.iter().any(|a| matches!(a, Action::EndSession(_))), "the tab ends it");
    }

    /// Attack 5: sign-out revoked nothing. Now it revokes, also a refresh token a refresh under
    /// way rotates after the sign-out.
    #[test]
    fn attack_5_sign_out_revokes_forgets_and_ends_the_session() {
        let (mut w, mcp) = signed_in_at_idp();
        w.m.handle_timeout(w.now + 8_000);
        let Some(Action::Fetch { id: refresh, .. }) = w.m.poll_output() else {
            panic!("a refresh")
        };
        w.m.sign_out(w.now);
        w.run();
        let revoked = w.requests_to(&format!("{IDP}/revoke"));
        assert_eq!(revoked.len(), 1);
        assert!(
            revoked[0].body.contains("token=rt-1")
                && revoked[0].body.contains("token_type_hint=refresh_token")
        );
        assert!(w.actions.iter().any(|a| matches!(a, Action::EndSession(s) if *s == server(&mcp))));
        assert_eq!(w.phase(), SignInStatus::SignedOut);
        assert!(
            w.m.view()
                .trace
                .iter()
                .any(|l| l.step == "Revocation" && l.detail.starts_with("HTTP 200")),
            "{:?}",
            w.m.view().trace
        );
        let rotated = json!({"access_token": "at-late", "refresh_token": "rt-rotated", "token_type": "Bearer", "expires_in": 10}).to_string();
        w.m.handle_response(refresh, 200, rotated.as_bytes(), w.now);
        w.run();
        assert!(
            w.requests_to(&format!("{IDP}/revoke"))
                .iter()
                .any(|s| s.body.contains("token=rt-rotated"))
        );
        assert_eq!(w.connect(&mcp), None, "every token forgotten");
        // Connected again, a refusal is answered (no stale refresh makes it wait).
        w.refused(&mcp, 401, "Bearer");
        assert_eq!(w.phase(), SignInStatus::Needed(Need::First));
    }

    #[test]
    fn cleartext_and_unlisted_sign_in_services_are_refused_before_anything_is_sent() {
        let mut w = World::new(Config::default(), "");
        w.connect("http://mcp.example/mcp");
        w.refused("http://mcp.example/mcp", 401, "Bearer");
        w.sign_in();
        assert!(
            matches!(
                w.phase(),
                SignInStatus::Failed(AuthError::Metadata(MetadataError::InsecureServer { .. }))
            ),
            "{:?}",
            w.phase()
        );
        assert!(w.seen.is_empty() && w.actions.is_empty(), "{:?} {:?}", w.seen, w.actions);
        let mut w = World::new(
            Config::default(),
            &format!("?server={CORP}&instance=https://evil.example/&tenant=t&client_id=c"),
        );
        w.connect(CORP);
        w.refused(CORP, 401, "Bearer");
        assert!(
            matches!(
                w.phase(),
                SignInStatus::Failed(AuthError::Trust(TrustError::InstanceNotAllowed { .. }))
            ),
            "{:?}",
            w.phase()
        );
        assert!(w.seen.is_empty());
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
                SignInStatus::Failed(AuthError::Trust(TrustError::AuthorityNotAllowed { .. }))
            ),
            "{:?}",
            w.phase()
        );
        assert!(w.requests_to(IDP).iter().all(|s| s.url.contains("/.well-known/")));
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
        let mut w =
            World::new(Config::default(), &format!("?server={IDP}/mcp&connect=1&client_id=c1"));
        let mcp = idp_server(&mut w);
        w.connect(&mcp);
        w.m.type_secret(Some(ClientSecret::new("s3cret".into())));
        w.refused(&mcp, 401, "Bearer");
        let SignInStatus::Confirm(proposal) = w.phase() else { panic!("{:?}", w.phase()) };
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
        // The server now names another issuer: neither the confirmation nor the secret goes there.
        w.prm(&mcp, "https://other.example");
        w.document("https://other.example/.well-known/oauth-authorization-server", json!({"issuer": "https://other.example", "authorization_endpoint": "https://other.example/authorize", "token_endpoint": "https://other.example/token"}));
        w.refused(&mcp, 401, r#"Bearer error="insufficient_claims", claims="e30""#);
        w.sign_in();
        assert!(
            matches!(w.phase(), SignInStatus::Failed(AuthError::ConfirmedElsewhere { .. })),
            "{:?}",
            w.phase()
        );
        assert!(w.seen.iter().all(|s| !s.url.starts_with("https://other.example/token")));
        // Where nothing else asks for a confirmation (the deployer's client id, the issuer left
        // to discovery), the secret's own binding refuses the next sign-in at the new issuer.
        let config = Config {
            server_url: Some(format!("{IDP}/mcp")),
            sign_in: SignInSettings { client_id: Some("c1".into()), ..Default::default() },
            mode: SignInMode::Popup,
            ..Config::default()
        };
        let mut w = World::new(config, "");
        let mcp = idp_server(&mut w);
        w.connect(&mcp);
        w.m.type_secret(Some(ClientSecret::new("s3cret".into())));
        w.refused(&mcp, 401, "Bearer");
        w.confirm();
        w.approve();
        w.prm(&mcp, "https://other.example");
        w.document("https://other.example/.well-known/oauth-authorization-server", json!({"issuer": "https://other.example", "authorization_endpoint": "https://other.example/authorize", "token_endpoint": "https://other.example/token", "registration_endpoint": "https://other.example/register"}));
        w.refused(&mcp, 401, r#"Bearer error="insufficient_claims", claims="e30""#);
        w.sign_in();
        assert!(matches!(w.phase(), SignInStatus::Failed(AuthError::ConfirmedElsewhere { .. })));
        w.sign_in();
        assert!(
            matches!(w.phase(), SignInStatus::Failed(AuthError::SecretForAnotherIssuer { .. })),
            "{:?}",
            w.phase()
        );
        assert!(
            w.seen
                .iter()
                .all(|s| !s.url.starts_with("https://other.example/") || s.method == "GET"),
            "{:?}",
            w.seen
        );
        // A configured server's secret declined at its confirmation keeps the configuration.
        let mut w = World::new(corp_config(), "");
        w.entra();
        w.prm(CORP, &entra_issuer());
        w.connect(CORP);
        w.m.type_secret(Some(ClientSecret::new("s".into())));
        w.refused(CORP, 401, "Bearer");
        assert!(matches!(w.phase(), SignInStatus::Confirm(_)), "{:?}", w.phase());
        w.m.reject();
        assert_eq!(w.m.view().source, Source::Config);
        assert_eq!(w.m.view().settings, corp_config().sign_in);
        assert!(!w.m.view().secret_typed);
    }

    #[test]
    fn a_full_page_sign_in_comes_back_to_its_server_with_its_confirmed_settings() {
        let mut w = World::new(
            Config::default(),
            &format!("?server={IDP}/mcp&connect=1&client_id=c1&tool=echo"),
        );
        let mcp = idp_server(&mut w);
        w.connect(&mcp);
        w.refused(&mcp, 401, "Bearer");
        let press = Press { open: Some(Opened::Tool("echo".into())), ..w.press() };
        w.m.confirm(press, w.now);
        w.run();
        let Some(Action::Leave { pending, trace, .. }) = w.actions.pop() else {
            panic!("{:?}", w.actions)
        };
        let encoded: String = url::form_urlencoded::byte_serialize(mcp.as_bytes()).collect();
        assert_eq!(pending.return_to, format!("{CONSOLE}?server={encoded}&connect=1&tool=echo"));
        assert!(
            !pending.return_to.contains("client_id"),
            "settings travel in the pending sign-in, not the address"
        );
        let state = pending.state.secret().clone();
        let redirect = pending.redirect_uri.clone();
        // The page loads again: a new machine, no link settings.
        let (deployment, _) = Deployment::new(&url(CONSOLE), Config::default());
        w.m = SignIn::new(deployment);
        w.m.resume(Some((*pending, trace)), &format!("{redirect}?code=c&state={state}"), w.now);
        w.run();
        let bearer = w.connect(&mcp);
        assert_eq!(bearer.map(|b| b.token.secret().clone()).as_deref(), Some("at-1"));
        assert_eq!(w.m.view().settings.client_id.as_deref(), Some("c1"));
        assert!(
            w.m.records
                .get(&server(&mcp))
                .is_some_and(|r| r.confirmed.as_ref().is_some_and(|c| c.issuer == IDP))
        );
        // A replayed answer redeems nothing, and so does one with an error.
        let mut again = SignIn::new(Deployment::new(&url(CONSOLE), Config::default()).0);
        again.resume(None, &format!("{CONSOLE}callback.html?code=c&state={state}"), w.now);
        assert!(matches!(
            again.view().status,
            SignInStatus::Failed(AuthError::Flow(SignInError::Replayed))
        ));
        assert!(again.poll_output().is_none());
        // The page then opens its server, which asks for a sign-in: the sentence stays in view.
        again.show(Some(server(&mcp)));
        assert!(again.connect(&server(&mcp), w.now).is_ok());
        let refusal = AuthRequired { status: 401, www_authenticate: None, had_token: false };
        again.handle_refusal(&server(&mcp), &refusal, w.now);
        assert!(
            matches!(
                again.view().status,
                SignInStatus::Failed(AuthError::Flow(SignInError::Replayed))
            ),
            "{:?}",
            again.view().status
        );
    }

    #[test]
    fn a_pasted_token_is_explained_when_refused_and_handed_over_when_waited_for() {
        let app = format!(
            "e30.{}.sig",
            URL_SAFE_NO_PAD.encode(json!({"idtyp": "app", "roles": ["mcp.app"]}).to_string())
        );
        let mut w = World::new(Config::default(), "");
        w.m.show(Some(server(CORP)));
        w.m.paste_token(Some(AccessToken::new(app.clone())));
        assert!(w.connect(CORP).is_some());
        let refusal = AuthRequired {
            status: 403,
            www_authenticate: Some(r#"Bearer error="insufficient_scope""#.into()),
            had_token: true,
        };
        w.m.handle_refusal(&server(CORP), &refusal, w.now);
        w.run();
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
        // Pasted while the connection waits (its refusal came without a token): handed over.
        let mut w = World::new(Config::default(), "");
        w.connect(CORP);
        w.refused(CORP, 401, "Bearer");
        w.m.paste_token(Some(AccessToken::new("now".into())));
        w.run();
        assert_eq!(w.bearers().last().map(|b| b.token.secret().clone()).as_deref(), Some("now"));
    }

    #[test]
    fn a_blocked_or_closed_window_and_an_answer_that_never_comes_are_each_said() {
        let mut w = World::new(corp_config(), "");
        w.entra();
        w.prm(CORP, &entra_issuer());
        w.connect(CORP);
        w.refused(CORP, 401, "Bearer");
        w.sign_in();
        w.m.handle_popup_blocked();
        assert_eq!(w.phase(), SignInStatus::Failed(AuthError::PopupBlocked));
        w.sign_in();
        w.m.handle_popup_closed();
        assert_eq!(w.phase(), SignInStatus::Working(Step::PopupClosed));
        w.approve();
        assert_eq!(w.phase(), SignInStatus::SignedIn, "a cut-off window's answer still counts");
        w.refused(CORP, 401, r#"Bearer error="insufficient_claims", claims="e30""#);
        w.sign_in();
        assert!(w.asked("claims").contains('{'), "the claims challenge is replayed");
        w.advance(flow::PENDING_LIFETIME + 1);
        assert_eq!(w.phase(), SignInStatus::Failed(AuthError::NotFinished));
        assert!(w.actions.iter().rev().take(2).any(|a| matches!(a, Action::ClosePopup)));
    }

    #[test]
    fn a_window_closed_before_the_sign_in_page_opened_is_said_and_nothing_is_sent_to_it() {
        let mut w = World::new(corp_config(), "");
        w.entra();
        w.prm(CORP, &entra_issuer());
        w.connect(CORP);
        w.refused(CORP, 401, "Bearer");
        let press = w.press();
        w.m.sign_in(press, w.now);
        // Closed while discovery is still asking.
        w.m.handle_popup_closed();
        w.run();
        assert_eq!(w.phase(), SignInStatus::Failed(AuthError::PopupClosedEarly));
        assert!(
            !w.actions.iter().any(|a| matches!(a, Action::NavigatePopup(_))),
            "{:?}",
            w.actions
        );
    }

    #[test]
    fn a_secret_the_server_registers_cannot_ride_a_full_page_sign_in() {
        let mut w = World::new(Config { mode: SignInMode::Redirect, ..Config::default() }, "");
        w.document(&format!("{IDP}/.well-known/oauth-authorization-server"), json!({
            "issuer": IDP, "authorization_endpoint": format!("{IDP}/authorize"), "token_endpoint": format!("{IDP}/token"),
            "registration_endpoint": format!("{IDP}/confidential/register"), "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }));
        let mcp = format!("{IDP}/mcp");
        w.prm(&mcp, IDP);
        w.connect(&mcp);
        w.refused(&mcp, 401, "Bearer");
        // The scripted registration answers with no secret; give it one.
        let press = w.press();
        w.m.sign_in(press, w.now);
        let mut registered = false;
        while let Some(action) = w.m.poll_output() {
            if let Action::Fetch { id, request } = action {
                let body = if request.url.ends_with("/register") {
                    registered = true;
                    json!({"client_id": "conf", "client_secret": "shh", "token_endpoint_auth_method": "client_secret_basic"}).to_string()
                } else {
                    w.documents.get(&request.url).cloned().unwrap_or_default()
                };
                let status = if body.is_empty() { 404 } else { 200 };
                w.m.handle_response(
                    id,
                    if registered && request.url.ends_with("/register") { 201 } else { status },
                    body.as_bytes(),
                    w.now,
                );
            }
        }
        assert!(registered);
        assert_eq!(w.phase(), SignInStatus::Failed(AuthError::SecretNeedsPopup));
    }

    #[test]
    fn settings_of_a_configured_server_are_read_only_and_typed_ones_need_confirming() {
        let mut w = World::new(corp_config(), "");
        w.connect(CORP);
        let changed =
            SignInSettings { client_id: Some("other".into()), ..w.m.view().settings.clone() };
        w.m.edit(changed);
        assert_eq!(w.m.view().settings, corp_config().sign_in, "unchanged");
        w.connect(EVIL);
        let typed = SignInSettings { client_id: Some("typed".into()), ..Default::default() };
        w.m.edit(typed.clone());
        assert_eq!((w.m.view().source, w.m.view().settings.clone()), (Source::Typed, typed));
        w.refused(EVIL, 401, "Bearer");
        assert!(
            matches!(w.phase(), SignInStatus::Confirm(ref p) if p.source == Source::Typed),
            "{:?}",
            w.phase()
        );
        // Typed before connecting, for the server in the address field, and only for it.
        let mut w = World::new(Config::default(), "");
        let draft = SignInSettings { tenant_id: Some(TENANT.into()), ..Default::default() };
        w.m.edit(draft.clone());
        assert!(w.m.view().settings.is_empty(), "no server named: nothing to type settings for");
        w.m.show(Some(server(EVIL)));
        w.m.edit(draft.clone());
        w.connect(EVIL);
        assert_eq!((w.m.view().source, w.m.view().settings.clone()), (Source::Typed, draft));
        w.connect(CORP);
        assert!(w.m.view().settings.is_empty());
    }

    #[test]
    fn editing_or_disconnecting_during_a_sign_in_closes_its_window_and_says_what_is_needed() {
        let (mut w, mcp) = proposed_by_link();
        w.confirm();
        w.approve();
        w.refused(&mcp, 403, r#"Bearer error="insufficient_scope", scope="mcp:tools""#);
        w.sign_in();
        assert_eq!(w.phase(), SignInStatus::Working(Step::InPopup));
        w.actions.clear();
        w.m.edit(SignInSettings { client_id: Some("c2".into()), ..Default::default() });
        w.run();
        let closed: Vec<&Action> = w
            .actions
            .iter()
            .filter(|a| matches!(a, Action::ClosePopup | Action::StopListening))
            .collect();
        assert_eq!(closed.len(), 2, "{:?}", w.actions);
        assert_eq!(
            w.phase(),
            SignInStatus::Needed(Need::StepUp),
            "the step-up is still what is needed"
        );
        w.sign_in();
        assert!(
            matches!(w.phase(), SignInStatus::Confirm(_)),
            "edited settings are confirmed first"
        );
        w.confirm();
        assert_eq!(w.phase(), SignInStatus::Working(Step::InPopup));
        w.actions.clear();
        w.m.disconnect(&server(&mcp));
        w.run();
        assert!(w.actions.iter().any(|a| matches!(a, Action::ClosePopup)), "{:?}", w.actions);
        assert!(!w.m.view().connected);
    }

    #[test]
    fn a_browser_problem_before_any_sign_in_is_said_and_a_fetch_without_answer_ends() {
        let mut w = World::new(corp_config(), "");
        w.connect(CORP);
        w.m.handle_browser_problem(BrowserProblem::NoRandomness);
        assert_eq!(
            w.phase(),
            SignInStatus::Failed(AuthError::Browser(BrowserProblem::NoRandomness))
        );
        // A metadata GET that never answers is given up at its deadline.
        w.refused(CORP, 401, "Bearer");
        let press = w.press();
        w.m.sign_in(press, w.now);
        let Some(Action::OpenPopup) = w.m.poll_output() else { panic!() };
        let Some(Action::Fetch { .. }) = w.m.poll_output() else { panic!("a GET") };
        assert_eq!(w.m.poll_timeout(), Some(w.now + FETCH_DEADLINE));
        w.now += FETCH_DEADLINE;
        w.m.handle_timeout(w.now);
        // Given up as unanswered, so discovery goes on to its next place.
        assert!(
            w.m.view().trace.iter().any(|l| l.detail.contains("no answer within 30 s")),
            "{:?}",
            w.m.view().trace
        );
        assert!(matches!(w.m.poll_output(), Some(Action::Fetch { .. })), "the next GET");
        assert_eq!(w.phase(), SignInStatus::Working(Step::LookingUp));
    }

    #[test]
    fn the_trace_shows_no_challenge_field_it_does_not_know() {
        let mut w = World::new(corp_config(), "");
        w.connect(CORP);
        w.refused(CORP, 401, r#"Bearer error="invalid_token", echoed="at-leaked""#);
        let trace = crate::core::auth::trace::trace_text(&w.m.view().trace);
        assert!(trace.contains("invalid_token") && !trace.contains("at-leaked"), "{trace}");
    }

    #[test]
    fn secrets_never_print() {
        let mut w = World::new(corp_config(), "");
        signed_in_to_corp(&mut w);
        w.advance(8_000);
        let verifier = w
            .seen
            .iter()
            .find_map(|s| s.body.split('&').find_map(|p| p.strip_prefix("code_verifier=")))
            .map(str::to_owned);
        let verifier = verifier.unwrap_or_else(|| panic!("a verifier was sent"));
        let printed = format!("{:?} {:?}", w.actions, w.m.view());
        for secret in ["at-1", "at-2", "rt-1", "the-code", verifier.as_str()] {
            assert!(!printed.contains(secret), "{secret}: {printed}");
        }
        assert!(format!("{:?}", w.press()).contains("[redacted]"));
    }

    /// The host page swaps its settings while the person looks at the confirmation of the first
    /// ones: the confirmation on screen is withdrawn, so the person's click can never confirm
    /// settings they were not shown (a swapped client, a resource naming another server).
    #[test]
    fn a_host_cannot_swap_the_settings_under_an_open_confirmation() {
        let mut w = World::new(Config::default(), "");
        let (deployment, _) = Deployment::new(&url(CONSOLE), Config::default());
        w.idp();
        w.prm(EVIL, IDP);
        let shown = SignInSettings {
            client_id: Some("shown-client".into()),
            resource: crate::core::auth::settings::ResourceSetting::Explicit(EVIL.into()),
            ..SignInSettings::default()
        };
        let hosted = deployment.host(EVIL, shown, None).unwrap_or_else(|e| panic!("{e}"));
        w.m.propose_from_host(hosted.server, hosted.proposal.unwrap_or_default());
        assert_eq!(w.connect(EVIL), None);
        w.refused(EVIL, 401, r#"Bearer scope="mcp:tools""#);
        let SignInStatus::Confirm(proposal) = w.phase() else { panic!("{:?}", w.phase()) };
        assert_eq!(proposal.client, "shown-client", "what the person is shown");
        // A resource of another server is refused when it is the host's first proposal ...
        let swapped = SignInSettings {
            client_id: Some("swapped-client".into()),
            resource: crate::core::auth::settings::ResourceSetting::Explicit(CORP.into()),
            login_hint: Some("victim@contoso.example".into()),
            ..SignInSettings::default()
        };
        assert!(w.m.deployment.check_resource(&swapped, Source::Host, &server(EVIL)).is_err());
        // ... but the host sends it now, while the confirmation is open.
        let hosted = deployment.host(EVIL, swapped, None).unwrap_or_else(|e| panic!("{e}"));
        w.m.propose_from_host(hosted.server, hosted.proposal.unwrap_or_default());
        w.confirm();
        let sent = w.authorization_url().map(|u| u.to_string()).unwrap_or_default();
        assert!(!sent.contains("swapped-client"), "the swapped client was used: {sent}");
        assert!(!sent.contains("mcp.contoso.example"), "the swapped resource was sent: {sent}");
    }
}
