//! The OAuth 2.0 authorization code flow with PKCE (S256) for a browser client, as pure logic:
//! [`begin`] turns discovered metadata and caller-supplied random octets into the authorization
//! URL and a [`PendingSignIn`] (the one record the platform keeps in sessionStorage across the
//! redirect, holding the verifier and `state` but never a token); [`read_callback`] checks the
//! answer (it came back to this sign-in's own redirect URI, `state` one-time and equal, RFC 9207
//! `iss` byte for byte, expiry, the server's `error`) before any code is redeemed; and why a
//! sign-in failed, Entra's `AADSTS` codes as sentences saying what to do ([`SignInError`]). The
//! token endpoint is `token`'s. No clock, no randomness, no I/O here.

use crate::core::auth::metadata::{AuthorizationServerMetadata, TENANT_PLACEHOLDER, on_entra};
use crate::core::auth::settings::{ResourceSetting, SignInSettings};
use crate::core::auth::token::TokenContext;
use crate::core::auth::trace::TraceLine;
use crate::core::json::Fields;
use crate::core::pkce;
use crate::core::session::Millis;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, PkceCodeVerifier, RedirectUrl, Scope, TokenUrl,
};
use serde_json::{Value, json};
use std::fmt;
use thiserror::Error;
use url::{Url, form_urlencoded};

/// How long a started sign-in may wait for its callback.
pub const PENDING_LIFETIME: Millis = 10 * 60 * 1000;
/// Server text quoted in an error sentence is cut to this many characters.
const MAX_DETAIL: usize = 200;

/// Everything an authorization request needs, checked: build it with [`SignInRequest::new`] and
/// set the optional members.
#[derive(Debug, Clone)]
pub struct SignInRequest {
    pub authorization_endpoint: AuthUrl,
    pub token_endpoint: TokenUrl,
    /// Where sign-out revokes the refresh token (RFC 7009), when the server has one.
    pub revocation_endpoint: Option<String>,
    pub issuer: String,
    /// The metadata's `authorization_response_iss_parameter_supported`: the callback must then
    /// carry `iss`.
    pub iss_parameter_supported: bool,
    pub client_id: ClientId,
    /// Sent exactly as registered (oauth2 keeps the original spelling).
    pub redirect_uri: RedirectUrl,
    /// A nonce is sent when these include `openid`.
    pub scopes: Vec<String>,
    /// RFC 8707 `resource`, when the server's setting asks for it (Entra refuses it).
    pub resource: Option<String>,
    pub login_hint: Option<String>,
    /// The JSON text of a claims challenge (Conditional Access step-up).
    pub claims: Option<String>,
    /// `prompt`; `consent` is always dropped (it breaks admin-consent tenants, AADSTS90094).
    pub prompt: Option<String>,
    /// Where the person was, handed back untouched after the callback.
    pub return_to: String,
    /// The MCP server the tokens will be for.
    pub server: String,
    /// The settings the person confirmed for that server, restored after a full-page sign-in.
    pub confirmed: Option<(SignInSettings, Confirmation)>,
    /// The answer comes back in a popup: `state` then starts with [`POPUP_STATE_PREFIX`], which
    /// tells the callback page to hand it over instead of returning to the console.
    pub popup: bool,
}

/// How `state` starts for a popup sign-in (a full-page one starts with `r.`). `.` is not in the
/// base64url alphabet, so the prefix cannot be confused with the random part.
pub const POPUP_STATE_PREFIX: &str = "p.";
const REDIRECT_STATE_PREFIX: &str = "r.";

impl SignInRequest {
    /// A request for `client_id` at the server `metadata` describes, with no scopes or options.
    pub fn new(
        metadata: &AuthorizationServerMetadata,
        client_id: &str,
        redirect_uri: &str,
    ) -> Result<Self, SignInError> {
        let invalid = |what: &'static str, value: &str| SignInError::InvalidUrl {
            what,
            value: value.to_owned(),
        };
        let authorization_endpoint = AuthUrl::new(metadata.authorization_endpoint.clone())
            .map_err(|_| invalid("authorization endpoint", &metadata.authorization_endpoint))?;
        let token_endpoint = TokenUrl::new(metadata.token_endpoint.clone())
            .map_err(|_| invalid("token endpoint", &metadata.token_endpoint))?;
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|_| invalid("redirect URI", redirect_uri))?;
        Ok(SignInRequest {
            authorization_endpoint,
            token_endpoint,
            revocation_endpoint: metadata.revocation_endpoint.clone(),
            issuer: metadata.issuer.clone(),
            iss_parameter_supported: metadata
                .authorization_response_iss_parameter_supported
                .unwrap_or(false),
            client_id: ClientId::new(client_id.to_owned()),
            redirect_uri: redirect,
            scopes: Vec::new(),
            resource: None,
            login_hint: None,
            claims: None,
            prompt: None,
            return_to: String::new(),
            server: String::new(),
            confirmed: None,
            popup: false,
        })
    }

    fn wants_openid(&self) -> bool {
        self.scopes.iter().any(|s| s == "openid")
    }
}

/// What the person confirmed proposed settings for: the issuer and the scopes the confirmation
/// named. A sign-in elsewhere, or for other scopes, asks again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub issuer: String,
    pub scopes: Vec<String>,
}

/// An OpenID Connect `nonce`: sent in the authorization request, expected back in the ID token.
#[derive(Clone, PartialEq, Eq)]
pub struct Nonce(String);

impl Nonce {
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Nonce([redacted])")
    }
}

/// A sign-in waiting for its callback. The platform keeps it in sessionStorage across the
/// full-page redirect and deletes it when the callback is read. It holds the PKCE verifier and
/// `state` (secret until then, and printed as `[redacted]`) and never a token.
#[derive(Debug)]
pub struct PendingSignIn {
    pub state: CsrfToken,
    pub verifier: PkceCodeVerifier,
    pub nonce: Option<Nonce>,
    /// The MCP server the tokens are for.
    pub server: String,
    pub redirect_uri: String,
    pub token_endpoint: String,
    pub revocation_endpoint: Option<String>,
    pub client_id: String,
    pub issuer: String,
    /// The server advertised RFC 9207 `iss` in authorization responses.
    pub iss_required: bool,
    pub resource: Option<String>,
    pub scopes: Vec<String>,
    pub created_at: Millis,
    /// Opaque to the flow: where the person was when the sign-in began.
    pub return_to: String,
    pub popup: bool,
    /// The settings the person confirmed for the server, and for what (a full-page sign-in never
    /// carries a secret).
    pub confirmed: Option<(SignInSettings, Confirmation)>,
}

/// What survives a full-page redirect, as the text kept in sessionStorage: the pending sign-in
/// and the trace so far (allow-listed, never a token or a code).
pub fn keep(pending: &PendingSignIn, trace: &[TraceLine]) -> String {
    let p = pending;
    let confirmed = p.confirmed.as_ref().map(|(s, c)| {
        json!({
            "instance": s.instance, "tenant_id": s.tenant_id, "client_id": s.client_id,
            "scopes": s.scopes, "resource": s.resource.text(),
            "client_metadata_url": s.client_metadata_url, "login_hint": s.login_hint,
            "confirmed_issuer": c.issuer, "confirmed_scopes": c.scopes,
        })
    });
    let trace: Vec<Value> =
        trace.iter().map(|t| json!({"step": t.step, "detail": t.detail})).collect();
    json!({
        "pending": {
            "state": p.state.secret(), "verifier": p.verifier.secret(),
            "nonce": p.nonce.as_ref().map(Nonce::secret), "server": p.server,
            "redirect_uri": p.redirect_uri, "token_endpoint": p.token_endpoint,
            "revocation_endpoint": p.revocation_endpoint, "client_id": p.client_id,
            "issuer": p.issuer, "iss_required": p.iss_required, "resource": p.resource,
            "scopes": p.scopes, "created_at": p.created_at, "return_to": p.return_to,
            "popup": p.popup, "confirmed": confirmed,
        },
        "trace": trace,
    })
    .to_string()
}

/// Reads what [`keep`] wrote; anything else (an older console's, or tampered) is nothing.
pub fn kept(text: &str) -> Option<(PendingSignIn, Vec<TraceLine>)> {
    let mut stored = Fields::of(serde_json::from_str(text).ok()?, "stored").ok()?;
    let mut f = Fields::of(stored.take("pending")?, "pending").ok()?;
    let strings = |f: &mut Fields, key| f.optional_strings(key).map(Option::unwrap_or_default);
    let confirmed = match f.optional("confirmed") {
        None => None,
        Some(c) => {
            let mut c = Fields::of(c, "confirmed").ok()?;
            let settings = SignInSettings {
                instance: c.optional_string("instance").ok()?,
                tenant_id: c.optional_string("tenant_id").ok()?,
                client_id: c.optional_string("client_id").ok()?,
                scopes: strings(&mut c, "scopes").ok()?,
                resource: ResourceSetting::parse(&c.string_or_empty("resource").ok()?),
                client_metadata_url: c.optional_string("client_metadata_url").ok()?,
                login_hint: c.optional_string("login_hint").ok()?,
            };
            let confirmation = Confirmation {
                issuer: c.string("confirmed_issuer").ok()?,
                scopes: strings(&mut c, "confirmed_scopes").ok()?,
            };
            Some((settings, confirmation))
        }
    };
    let pending = PendingSignIn {
        state: CsrfToken::new(f.string("state").ok()?),
        verifier: PkceCodeVerifier::new(f.string("verifier").ok()?),
        nonce: f.optional_string("nonce").ok()?.map(Nonce),
        server: f.string("server").ok()?,
        redirect_uri: f.string("redirect_uri").ok()?,
        token_endpoint: f.string("token_endpoint").ok()?,
        revocation_endpoint: f.optional_string("revocation_endpoint").ok()?,
        client_id: f.string("client_id").ok()?,
        issuer: f.string("issuer").ok()?,
        iss_required: f.optional_bool("iss_required").ok()??,
        resource: f.optional_string("resource").ok()?,
        scopes: strings(&mut f, "scopes").ok()?,
        created_at: f.take("created_at")?.as_u64()?,
        return_to: f.string_or_empty("return_to").ok()?,
        popup: f.optional_bool("popup").ok()?.unwrap_or(false),
        confirmed,
    };
    let trace = Fields::of(json!({"trace": stored.take("trace")?}), "trace")
        .and_then(|mut t| {
            t.list("trace", |line| {
                let mut l = Fields::of(line, "trace")?;
                Ok(TraceLine { step: l.string("step")?, detail: l.string("detail")? })
            })
        })
        .ok()?;
    Some((pending, trace))
}

impl PendingSignIn {
    /// When this sign-in stops being accepted.
    pub fn expires_after(&self) -> Millis {
        self.created_at.saturating_add(PENDING_LIFETIME)
    }

    pub fn is_expired(&self, now: Millis) -> bool {
        now > self.expires_after()
    }

    /// What [`read_token_response`] checks the answer to this sign-in's token request against.
    pub fn token_context(&self) -> TokenContext<'_> {
        TokenContext {
            issuer: &self.issuer,
            nonce: self.nonce.as_ref().map(Nonce::secret),
            scopes: &self.scopes,
            redirect_uri: Some(&self.redirect_uri),
        }
    }
}

/// 32 octets of `random`, starting at chunk `n` (`random` holds three).
fn octets(random: &[u8; 96], n: usize) -> [u8; 32] {
    std::array::from_fn(|i| random.get(n * 32 + i).copied().unwrap_or_default())
}

/// The authorization URL to send the browser to, and the sign-in to keep until the callback.
/// `random` must be fresh from a CSPRNG: 32 octets each for the PKCE verifier, `state` and
/// `nonce`.
pub fn begin(req: SignInRequest, random: &[u8; 96], now: Millis) -> (Url, PendingSignIn) {
    let pkce = pkce::from_random_octets(&octets(random, 0));
    let prefix = if req.popup { POPUP_STATE_PREFIX } else { REDIRECT_STATE_PREFIX };
    let state = CsrfToken::new(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(octets(random, 1))));
    let nonce = req.wants_openid().then(|| Nonce(URL_SAFE_NO_PAD.encode(octets(random, 2))));
    let prompt = req.prompt.as_deref().map(|p| {
        p.split_ascii_whitespace().filter(|v| *v != "consent").collect::<Vec<_>>().join(" ")
    });
    let extras = [
        ("resource", req.resource.clone()),
        ("nonce", nonce.as_ref().map(|n| n.0.clone())),
        ("login_hint", req.login_hint.clone()),
        ("claims", req.claims.clone()),
        ("prompt", prompt),
    ];

    let client = BasicClient::new(req.client_id.clone())
        .set_auth_uri(req.authorization_endpoint.clone())
        .set_redirect_uri(req.redirect_uri.clone());
    let mut authorize = client
        .authorize_url(|| state.clone())
        .set_pkce_challenge(pkce.challenge)
        .add_scopes(req.scopes.iter().map(|s| Scope::new(s.clone())));
    for (name, value) in extras {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            authorize = authorize.add_extra_param(name, value);
        }
    }
    let (url, state) = authorize.url();

    let pending = PendingSignIn {
        state,
        verifier: pkce.verifier,
        nonce,
        server: req.server,
        redirect_uri: req.redirect_uri.as_str().to_owned(),
        token_endpoint: req.token_endpoint.as_str().to_owned(),
        revocation_endpoint: req.revocation_endpoint,
        client_id: req.client_id.as_str().to_owned(),
        issuer: req.issuer,
        iss_required: req.iss_parameter_supported,
        resource: req.resource,
        scopes: req.scopes,
        created_at: now,
        return_to: req.return_to,
        popup: req.popup,
        confirmed: req.confirmed,
    };
    (url, pending)
}

/// A checked authorization response: the code to redeem with [`token_request`].
#[derive(Debug)]
pub struct CallbackCode {
    pub code: AuthorizationCode,
    /// The `iss` the server sent, if any (already checked).
    pub iss: Option<String>,
}

/// The parameters of a callback URL: the query, or the fragment when the query has none of ours.
fn callback_params(url: &Url) -> Vec<(String, String)> {
    let ours = |pairs: &[(String, String)]| {
        pairs.iter().any(|(k, _)| matches!(k.as_str(), "code" | "error" | "state"))
    };
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    if ours(&query) {
        return query;
    }
    let fragment = url.fragment().unwrap_or_default();
    let fragment: Vec<(String, String)> =
        form_urlencoded::parse(fragment.as_bytes()).into_owned().collect();
    if ours(&fragment) { fragment } else { query }
}

/// The one value of `name`; `Err` when it appears more than once (RFC 6749 §3.1 forbids it, and
/// a duplicated `state` or `iss` is how a response gets smuggled past a check).
fn single<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, SignInError> {
    let mut values = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let first = values.next();
    match values.next() {
        Some(_) => Err(SignInError::MalformedCallback),
        None => Ok(first),
    }
}

/// Whether a page load is an authorization response (a `code` or `error`, and a `state`), so the
/// platform reads it and then removes it from the address bar.
pub fn callback_params_present(url: &str) -> bool {
    let Ok(url) = Url::parse(url) else { return false };
    let params = callback_params(&url);
    let has = |name: &str| params.iter().any(|(k, _)| k == name);
    (has("code") || has("error")) && has("state")
}

/// Whether the `iss` of a response names `expected`: byte for byte, without any URL
/// normalization (RFC 9207, the 2026-07-28 revision). On Entra's hosts only, a multi-tenant
/// issuer holds `{tenantid}`, which stands for the one path segment of the tenant signed in to.
fn same_issuer(expected: &str, found: &str) -> bool {
    if expected == found {
        return true;
    }
    if !on_entra(expected) || !expected.contains(TENANT_PLACEHOLDER) {
        return false;
    }
    let (e, f): (Vec<&str>, Vec<&str>) =
        (expected.split('/').collect(), found.split('/').collect());
    e.len() == f.len()
        && e.iter().zip(&f).all(|(e, f)| {
            e == f || (*e == TENANT_PLACEHOLDER && !f.is_empty() && !f.contains(['?', '#']))
        })
}

/// Whether an answer at `url` came back to `redirect_uri`: the same address, and every query
/// parameter of the redirect URI with its value. A sign-in service that relays the window to
/// another one (a mix-up) can only have the other send it to the redirect URI registered there,
/// which lacks the parameters of the one this sign-in used.
fn came_back_to(url: &Url, redirect_uri: &str) -> bool {
    let Ok(expected) = Url::parse(redirect_uri) else { return false };
    let path = |u: &Url| (u.origin(), u.path().to_owned());
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    path(url) == path(&expected)
        && expected.query_pairs().into_owned().all(|pair| pairs.contains(&pair))
}

/// Checks the authorization response in `callback_url` against the sign-in the console started,
/// and returns the code to redeem. Checked in order, so that nothing is redeemed unless all pass:
/// a pending sign-in exists (else the callback is a replay), `state` equals it, it came back to
/// the sign-in's redirect URI, `iss` names its
/// issuer (RFC 9207, when sent or advertised), the server reported no error, the sign-in is not
/// older than [`PENDING_LIFETIME`], and a `code` is there.
pub fn read_callback(
    pending: Option<&PendingSignIn>,
    callback_url: &str,
    now: Millis,
) -> Result<CallbackCode, SignInError> {
    let url = Url::parse(callback_url).map_err(|_| SignInError::MalformedCallback)?;
    let params = callback_params(&url);
    let Some(pending) = pending else { return Err(SignInError::Replayed) };
    if single(&params, "state")? != Some(pending.state.secret().as_str()) {
        return Err(SignInError::StateMismatch);
    }
    if !came_back_to(&url, &pending.redirect_uri) {
        return Err(SignInError::WrongCallback { redirect_uri: pending.redirect_uri.clone() });
    }
    let iss = single(&params, "iss")?;
    match iss {
        Some(found) if !same_issuer(&pending.issuer, found) => {
            return Err(SignInError::IssuerMismatch {
                expected: pending.issuer.clone(),
                found: found.to_owned(),
            });
        }
        None if pending.iss_required => {
            return Err(SignInError::IssuerMissing { issuer: pending.issuer.clone() });
        }
        _ => {}
    }
    if let Some(error) = single(&params, "error")? {
        let description = single(&params, "error_description")?;
        return Err(refused(error, description, &[], Some(&pending.redirect_uri)));
    }
    if pending.is_expired(now) {
        return Err(SignInError::Expired);
    }
    match single(&params, "code")? {
        Some(code) if !code.is_empty() => Ok(CallbackCode {
            code: AuthorizationCode::new(code.to_owned()),
            iss: iss.map(str::to_owned),
        }),
        _ => Err(SignInError::NoCode),
    }
}

/// Why an authorization server refused, as far as the console can tell; each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Reason {
    #[error(
        "Entra answers a browser page only when its redirect URI is registered as a \"Single-page application\": in the app registration, under Authentication, add {redirect_uri} to the Single-page application platform and sign in again"
    )]
    NotSinglePageApp { redirect_uri: String },
    #[error(
        "The token request reached Entra without an Origin header, which a browser always sends, so something in between (a proxy or an extension) is stripping it; let the header through and sign in again"
    )]
    OriginMissing,
    #[error(
        "The authorization server does not accept the resource parameter the console sent; turn \"resource\" off for this server in the connection settings (ask for scopes such as api://{{app-id}}/mcp:tools instead) and sign in again"
    )]
    ResourceNotAccepted,
    #[error(
        "The app needs consent to the permissions it asks for; ask an administrator to grant consent for your organisation, or sign in again and accept the consent prompt"
    )]
    ConsentNeeded,
    #[error("The sign-in has expired or was revoked; sign in again")]
    GrantExpired,
    #[error(
        "The redirect URI the console used, {redirect_uri}, is not registered for this app; register exactly that URI (as a Single-page application for Entra) or set the console's redirect URI to a registered one"
    )]
    RedirectUriMismatch { redirect_uri: String },
    #[error(
        "The sign-in was declined, by you or by your organisation's policy; sign in again if that was a mistake, or ask an administrator for access"
    )]
    Declined,
    #[error(
        "The authorization server does not accept the scopes the console asked for; check the scopes in the connection settings (for Entra, api://{{app-id}}/{{scope}})"
    )]
    InvalidScope,
    #[error(
        "The authorization server refused the sign-in; check the connection settings and sign in again"
    )]
    Other,
}

/// Why a sign-in or a token request failed, phrased for the person at the console.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignInError {
    #[error("{reason} ({detail}).")]
    Refused {
        reason: Reason,
        /// The `AADSTS` code or OAuth `error`, then the first line of its description.
        detail: String,
        error: String,
        description: Option<String>,
    },
    #[error(
        "The sign-in answer does not match the sign-in this console started (its state differs), so nothing was redeemed; start the sign-in again."
    )]
    StateMismatch,
    #[error(
        "This sign-in answer was already used or was not started in this tab, so nothing was redeemed; start a new sign-in from the console."
    )]
    Replayed,
    #[error(
        "The sign-in answer names the issuer {found}, not {expected} where the console signed in, so its code was not redeemed (RFC 9207); start the sign-in again and report this if it repeats."
    )]
    IssuerMismatch { expected: String, found: String },
    #[error(
        "The sign-in answer carries no iss although {issuer} promises one (RFC 9207), so its code was not redeemed; start the sign-in again and report this if it repeats."
    )]
    IssuerMissing { issuer: String },
    #[error(
        "The sign-in answer came back to another address than this sign-in's ({redirect_uri}), as when the sign-in page handed the window on to another sign-in service, so nothing was redeemed; start the sign-in again and report this if it repeats."
    )]
    WrongCallback { redirect_uri: String },
    #[error(
        "This sign-in was started more than 10 minutes ago and has expired, so nothing was redeemed; sign in again."
    )]
    Expired,
    #[error("The sign-in answer carries no authorization code; sign in again.")]
    NoCode,
    #[error(
        "The address does not hold a well-formed sign-in answer (it does not parse, or a parameter appears twice), so nothing was redeemed; start the sign-in again."
    )]
    MalformedCallback,
    #[error(
        "The {what} {value:?} is not a usable URL; check the connection settings or the server's metadata."
    )]
    InvalidUrl { what: &'static str, value: String },
    #[error(
        "The console could not reach the token endpoint {url} ({reason}); check the network and that the server lets this page's origin call it (CORS), then sign in again."
    )]
    Unreachable { url: String, reason: String },
    #[error("The token endpoint failed (HTTP {status}); wait a moment and sign in again.")]
    ServerFailed { status: u16 },
    #[error(
        "The token endpoint's answer (HTTP {status}) is not a usable token response ({reason}); check that the token endpoint in the metadata is right."
    )]
    MalformedTokenResponse { status: u16, reason: String },
    #[error(
        "The token endpoint issued a {token_type:?} token, but the console can only send Bearer tokens; ask the server's operator to issue Bearer tokens."
    )]
    UnsupportedTokenType { token_type: String },
    #[error(
        "The ID token does not carry the nonce this sign-in sent, so its tokens were discarded; sign in again."
    )]
    NonceMismatch,
}

impl SignInError {
    /// Whether the authorization server refused (the grant is gone, consent or the client is
    /// wrong…): one interactive sign-in is the way on, and a refresh that ends here is not
    /// retried. Anything else (no answer, a server failing or busy) may pass.
    pub fn needs_interactive_sign_in(&self) -> bool {
        match self {
            SignInError::Refused { error, .. } => {
                !matches!(error.as_str(), "server_error" | "temporarily_unavailable")
            }
            _ => false,
        }
    }
}

/// The `AADSTS` codes in an Entra error description (`AADSTS700084: The refresh token…`).
fn aadsts_codes(description: &str) -> Vec<u64> {
    description
        .match_indices("AADSTS")
        .filter_map(|(at, tag)| {
            let rest = description.get(at + tag.len()..)?;
            let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            rest.get(..end)?.parse().ok()
        })
        .collect()
}

/// Explains an OAuth error response, by Entra code first (`error_codes` or the `AADSTS` codes in
/// the description), then by the standard `error`.
pub(crate) fn refused(
    error: &str,
    description: Option<&str>,
    codes: &[u64],
    redirect_uri: Option<&str>,
) -> SignInError {
    let mut all = codes.to_vec();
    all.extend(description.map(aadsts_codes).unwrap_or_default());
    let uri = redirect_uri.unwrap_or("(the redirect URI the console used)").to_owned();
    let by_code = all.iter().find_map(|code| {
        let reason = match code {
            9_002_326 => Reason::NotSinglePageApp { redirect_uri: uri.clone() },
            9_002_327 => Reason::OriginMissing,
            901_002 | 9_010_010 => Reason::ResourceNotAccepted,
            65_001 => Reason::ConsentNeeded,
            700_084 | 50_173 => Reason::GrantExpired,
            50_011 => Reason::RedirectUriMismatch { redirect_uri: uri.clone() },
            _ => return None,
        };
        Some((reason, format!("AADSTS{code}")))
    });
    let (reason, code) = by_code.unwrap_or_else(|| {
        let reason = match error {
            "invalid_grant" => Reason::GrantExpired,
            "access_denied" => Reason::Declined,
            "invalid_scope" => Reason::InvalidScope,
            "consent_required" => Reason::ConsentNeeded,
            "invalid_target" => Reason::ResourceNotAccepted,
            _ => Reason::Other,
        };
        (reason, error.to_owned())
    });
    let first_line = description.and_then(|d| d.lines().next()).map(str::trim).unwrap_or("");
    let mut detail = if first_line.is_empty() || first_line.contains(&code) {
        first_line.to_owned()
    } else {
        format!("{code}: {first_line}")
    };
    if detail.is_empty() {
        detail = code;
    }
    if let Some((cut, _)) = detail.char_indices().nth(MAX_DETAIL) {
        detail.truncate(cut);
        detail.push('…');
    }
    SignInError::Refused {
        reason,
        detail,
        error: error.to_owned(),
        description: description.map(str::to_owned),
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! What the flow's and the token endpoint's tests share: an Entra-shaped sign-in.
    use super::*;
    use crate::core::auth::token::{Granted, TokenContext, read_token_response};
    use crate::core::http::HttpRequest;
    use serde_json::{Value, json};

    pub(crate) const AUTHORIZE: &str = "https://login.microsoftonline.com/t1/oauth2/v2.0/authorize";
    pub(crate) const TOKEN: &str = "https://login.microsoftonline.com/t1/oauth2/v2.0/token";
    pub(crate) const ISSUER: &str = "https://login.microsoftonline.com/t1/v2.0";
    pub(crate) const REDIRECT: &str = "http://localhost:8080/callback";
    pub(crate) const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
    pub(crate) const NOW: Millis = 1_700_000_000_000;

    pub(crate) fn metadata(iss_supported: Option<bool>) -> AuthorizationServerMetadata {
        let doc = json!({
            "issuer": ISSUER,
            "authorization_endpoint": AUTHORIZE,
            "token_endpoint": TOKEN,
            "authorization_response_iss_parameter_supported": iss_supported,
        });
        crate::core::json::FromJson::from_json(doc).unwrap_or_else(|e| panic!("{e}"))
    }

    pub(crate) fn request(scopes: &[&str]) -> SignInRequest {
        let mut req =
            SignInRequest::new(&metadata(None), CLIENT, REDIRECT).unwrap_or_else(|e| panic!("{e}"));
        req.scopes = scopes.iter().map(|s| s.to_string()).collect();
        req.return_to = "/?server=x".into();
        req
    }

    pub(crate) fn random() -> [u8; 96] {
        std::array::from_fn(|i| (i / 32 + 1) as u8)
    }

    pub(crate) fn start(req: SignInRequest) -> (Vec<(String, String)>, PendingSignIn) {
        let (url, pending) = begin(req, &random(), NOW);
        assert!(url.as_str().starts_with(AUTHORIZE), "{url}");
        (url.query_pairs().into_owned().collect(), pending)
    }

    pub(crate) fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
        params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub(crate) fn pending(iss_required: bool) -> PendingSignIn {
        let mut req = request(&["openid", "api://x/mcp:tools"]);
        req.iss_parameter_supported = iss_required;
        begin(req, &random(), NOW).1
    }

    pub(crate) fn callback(pending: &PendingSignIn, extra: &str) -> String {
        format!("{REDIRECT}?code=the-code&state={}{extra}", pending.state.secret())
    }

    pub(crate) fn check(pending: &PendingSignIn, url: &str) -> Result<CallbackCode, SignInError> {
        read_callback(Some(pending), url, NOW)
    }

    pub(crate) fn refused_reason(result: Result<CallbackCode, SignInError>) -> (Reason, String) {
        match result {
            Err(SignInError::Refused { reason, detail, .. }) => (reason, detail),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub(crate) fn jwt(payload: Value) -> String {
        format!("{}.{}.c2ln", b64(r#"{"alg":"RS256","typ":"JWT"}"#), b64(payload.to_string()))
    }

    pub(crate) fn ctx(nonce: Option<&str>) -> TokenContext<'_> {
        TokenContext { issuer: ISSUER, nonce, scopes: &[], redirect_uri: Some(REDIRECT) }
    }

    pub(crate) fn read(
        status: u16,
        body: Value,
        nonce: Option<&str>,
    ) -> Result<Granted, SignInError> {
        read_token_response(status, body.to_string().as_bytes(), NOW, &ctx(nonce))
    }

    pub(crate) fn form(request: &HttpRequest) -> Vec<(String, String)> {
        form_urlencoded::parse(request.body.as_deref().unwrap_or_default().as_bytes())
            .into_owned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn the_authorization_url_carries_the_code_flow_with_s256() {
        let (params, pending) = start(request(&["openid", "profile", "api://x/mcp:tools"]));
        assert_eq!(get(&params, "response_type"), Some("code"));
        assert_eq!(get(&params, "client_id"), Some(CLIENT));
        assert_eq!(get(&params, "redirect_uri"), Some(REDIRECT));
        assert_eq!(get(&params, "scope"), Some("openid profile api://x/mcp:tools"));
        assert_eq!(get(&params, "state"), Some(pending.state.secret().as_str()));
        let challenge = oauth2::PkceCodeChallenge::from_code_verifier_sha256(&pending.verifier);
        assert_eq!(get(&params, "code_challenge"), Some(challenge.as_str()));
        assert_eq!(get(&params, "code_challenge_method"), Some("S256"));
        let nonce = pending.nonce.as_ref().map(Nonce::secret);
        assert!(nonce.is_some());
        assert_eq!(get(&params, "nonce"), nonce);
        for absent in ["resource", "login_hint", "claims", "prompt", "client_secret"] {
            assert_eq!(get(&params, absent), None, "{absent}");
        }
    }

    #[test]
    fn verifier_state_and_nonce_come_from_separate_random_octets() {
        let (_, pending) = start(request(&["openid"]));
        assert_eq!(pending.verifier.secret(), &b64([1u8; 32]));
        assert_eq!(pending.state.secret(), &format!("r.{}", b64([2u8; 32])));
        assert_eq!(pending.nonce.as_ref().map(Nonce::secret), Some(b64([3u8; 32]).as_str()));
        assert_eq!(pending.created_at, NOW);
        assert_eq!(pending.expires_after(), NOW + 600_000);
    }

    #[test]
    fn a_nonce_is_sent_only_with_openid() {
        let (params, pending) = start(request(&["api://x/mcp:tools", "offline_access"]));
        assert_eq!(get(&params, "nonce"), None);
        assert!(pending.nonce.is_none());
    }

    #[test]
    fn resource_login_hint_and_claims_are_sent_only_when_given() {
        let mut req = request(&["api://x/mcp:tools"]);
        req.resource = Some("https://mcp.example/mcp".into());
        req.login_hint = Some("ada@example.com".into());
        req.claims = Some(r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#.into());
        let (params, pending) = start(req);
        assert_eq!(get(&params, "resource"), Some("https://mcp.example/mcp"));
        assert_eq!(get(&params, "login_hint"), Some("ada@example.com"));
        assert_eq!(
            get(&params, "claims"),
            Some(r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#)
        );
        assert_eq!(pending.resource.as_deref(), Some("https://mcp.example/mcp"));
    }

    #[test]
    fn prompt_consent_is_never_sent() {
        for (asked, sent) in [
            ("consent", None),
            ("select_account consent", Some("select_account")),
            ("login", Some("login")),
        ] {
            let mut req = request(&["openid"]);
            req.prompt = Some(asked.into());
            let (params, _) = start(req);
            assert_eq!(get(&params, "prompt"), sent, "{asked}");
        }
    }

    #[test]
    fn bad_endpoints_are_refused_with_a_sentence() {
        let mut meta = metadata(None);
        meta.token_endpoint = "not a url".into();
        let err = SignInRequest::new(&meta, CLIENT, REDIRECT).err();
        assert!(matches!(&err, Some(SignInError::InvalidUrl { what: "token endpoint", .. })));
        assert!(SignInRequest::new(&metadata(None), CLIENT, "/relative").is_err());
    }

    #[test]
    fn the_pending_sign_in_round_trips_through_storage_and_never_prints_a_secret() {
        let mut pending = pending(true);
        let settings = SignInSettings {
            tenant_id: Some("t1".into()),
            scopes: vec!["api://s/mcp:tools".into()],
            resource: ResourceSetting::Explicit("api://s".into()),
            ..SignInSettings::default()
        };
        let confirmation = Confirmation { issuer: ISSUER.into(), scopes: vec!["a".into()] };
        pending.confirmed = Some((settings, confirmation));
        let trace = vec![TraceLine::new("discovery", "found")];
        let stored = keep(&pending, &trace);
        let (back, back_trace) = kept(&stored).unwrap_or_else(|| panic!("{stored}"));
        assert_eq!(back_trace, trace);
        assert_eq!(back.confirmed, pending.confirmed);
        assert_eq!(back.popup, pending.popup);
        assert_eq!(back.revocation_endpoint, pending.revocation_endpoint);
        assert_eq!(back.resource, pending.resource);
        assert_eq!(back.server, pending.server);
        // Anything else kept under the key is nothing, not a half-read sign-in.
        let tampered = stored.replace("\"created_at\":", "\"created_at\":\"x\",\"was\":");
        // Whether the answer must carry `iss` is never guessed.
        let unsure = stored.replace("\"iss_required\":true,", "");
        assert_ne!(unsure, stored);
        for other in ["", "{}", "[]", "{\"pending\":{}}", tampered.as_str(), unsure.as_str()] {
            assert!(kept(other).is_none(), "{other}");
        }
        assert_eq!(back.state.secret(), pending.state.secret());
        assert_eq!(back.verifier.secret(), pending.verifier.secret());
        assert_eq!(back.nonce, pending.nonce);
        assert_eq!(
            (&back.redirect_uri, &back.token_endpoint, &back.client_id, &back.issuer),
            (&pending.redirect_uri, &pending.token_endpoint, &pending.client_id, &pending.issuer)
        );
        assert_eq!((back.iss_required, back.created_at), (true, NOW));
        assert_eq!((&back.scopes, &back.return_to), (&pending.scopes, &pending.return_to));
        let shown = format!("{back:?}");
        for secret in [
            pending.state.secret().as_str(),
            pending.verifier.secret().as_str(),
            pending.nonce.as_ref().map(Nonce::secret).unwrap_or("?"),
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("[redacted]") && shown.contains(REDIRECT), "{shown}");
    }

    #[test]
    fn a_good_callback_yields_the_code() {
        let pending = pending(false);
        let got = check(&pending, &callback(&pending, "&session_state=s"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got.code.secret(), "the-code");
        assert!(got.iss.is_none());
        assert!(!format!("{got:?}").contains("the-code"));
    }

    #[test]
    fn a_callback_in_the_fragment_is_read_too() {
        let pending = pending(false);
        let url = format!("{REDIRECT}#code=c2&state={}", pending.state.secret());
        assert!(callback_params_present(&url));
        let got = check(&pending, &url).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got.code.secret(), "c2");
    }

    #[test]
    fn a_tampered_or_missing_state_is_refused() {
        let pending = pending(false);
        let tampered = format!("{REDIRECT}?code=c&state={}x", pending.state.secret());
        let missing = format!("{REDIRECT}?code=c");
        for url in [tampered, missing] {
            assert_eq!(check(&pending, &url).err(), Some(SignInError::StateMismatch));
        }
        let twice = callback(&pending, "&state=evil");
        assert_eq!(check(&pending, &twice).err(), Some(SignInError::MalformedCallback));
    }

    #[test]
    fn a_replayed_callback_without_a_pending_sign_in_is_refused() {
        let pending = pending(false);
        let err = read_callback(None, &callback(&pending, ""), NOW).err();
        assert_eq!(err, Some(SignInError::Replayed));
        assert!(err.is_some_and(|e| e.to_string().contains("already used")));
    }

    #[test]
    fn the_iss_parameter_must_name_the_issuer() {
        let pending = pending(false);
        let wrong = callback(&pending, "&iss=https%3A%2F%2Fevil.example");
        assert!(matches!(check(&pending, &wrong), Err(SignInError::IssuerMismatch { .. })));
        let right = callback(&pending, &format!("&iss={ISSUER}"));
        let got = check(&pending, &right).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got.iss.as_deref(), Some(ISSUER));
        // Compared byte for byte: no trailing slash, case or port normalization (RFC 9207).
        for near in [
            format!("{ISSUER}/"),
            ISSUER.replace("login", "LOGIN"),
            ISSUER.replace(".com/", ".com:443/"),
            ISSUER.replace("/v2.0", "/v2%2E0"),
        ] {
            let url = callback(
                &pending,
                &format!(
                    "&iss={}",
                    url::form_urlencoded::byte_serialize(near.as_bytes()).collect::<String>()
                ),
            );
            assert!(
                matches!(check(&pending, &url), Err(SignInError::IssuerMismatch { .. })),
                "{near}"
            );
        }
    }

    #[test]
    fn a_missing_iss_is_refused_only_when_advertised() {
        let advertised = pending(true);
        assert_eq!(
            check(&advertised, &callback(&advertised, "")).err(),
            Some(SignInError::IssuerMissing { issuer: ISSUER.into() })
        );
        let quiet = pending(false);
        assert!(check(&quiet, &callback(&quiet, "")).is_ok());
    }

    #[test]
    fn entras_tenant_placeholder_stands_for_the_tenant_in_iss() {
        assert!(same_issuer("https://login.microsoftonline.com/{tenantid}/v2.0", ISSUER));
        assert!(!same_issuer(
            "https://login.microsoftonline.com/{tenantid}/v2.0",
            "https://evil/t1/v2.0"
        ));
        assert!(!same_issuer(ISSUER, "https://login.microsoftonline.com/t2/v2.0"));
        assert!(
            !same_issuer("http://127.0.0.1:4000/{tenantid}/v2.0", "http://127.0.0.1:4000/t1/v2.0"),
            "the placeholder means something on Entra's hosts only"
        );
    }

    #[test]
    fn an_error_callback_is_explained() {
        let pending = pending(false);
        let state = pending.state.secret();
        let denied = format!("{REDIRECT}?error=access_denied&state={state}");
        assert!(callback_params_present(&denied));
        let (reason, detail) = refused_reason(check(&pending, &denied));
        assert_eq!((reason, detail.as_str()), (Reason::Declined, "access_denied"));

        for (description, expected) in [
            (
                "AADSTS50011: The redirect URI 'x' does not match.\r\nTrace ID: 1",
                Reason::RedirectUriMismatch { redirect_uri: REDIRECT.into() },
            ),
            ("AADSTS65001: The user or administrator has not consented.", Reason::ConsentNeeded),
            (
                "AADSTS901002: The 'resource' request parameter is not supported.",
                Reason::ResourceNotAccepted,
            ),
            ("AADSTS9010010: The resource parameter does not match.", Reason::ResourceNotAccepted),
        ] {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("error", "invalid_request")
                .append_pair("error_description", description)
                .append_pair("state", state)
                .finish();
            let url = format!("{REDIRECT}?{query}");
            let result = check(&pending, &url);
            let sentence = result.as_ref().err().map(ToString::to_string).unwrap_or_default();
            let (reason, detail) = refused_reason(result);
            assert_eq!(reason, expected, "{description}");
            assert!(!detail.contains("Trace ID"), "{detail}");
            assert!(sentence.ends_with(")."), "{sentence}");
        }
        let mismatch =
            format!("{REDIRECT}?error=invalid_request&error_description=AADSTS50011&state={state}");
        let sentence = check(&pending, &mismatch).err().map(|e| e.to_string());
        assert!(sentence.is_some_and(|s| s.contains(REDIRECT)));
    }

    #[test]
    fn a_popup_state_says_so_and_survives_the_round_trip() {
        let mut req = request(&[]);
        req.popup = true;
        let (url, pending) = start(req);
        assert!(pending.state.secret().starts_with(POPUP_STATE_PREFIX));
        assert!(pending.popup);
        let sent = url.iter().find(|(k, _)| k == "state").map(|(_, v)| v.clone());
        assert_eq!(sent.as_deref(), Some(pending.state.secret().as_str()));
        assert!(check(&pending, &callback(&pending, "")).is_ok());
    }

    #[test]
    fn an_expired_pending_sign_in_is_refused() {
        let pending = pending(false);
        let url = callback(&pending, "");
        assert!(read_callback(Some(&pending), &url, NOW + PENDING_LIFETIME).is_ok());
        let err = read_callback(Some(&pending), &url, NOW + PENDING_LIFETIME + 1).err();
        assert_eq!(err, Some(SignInError::Expired));
    }

    #[test]
    fn a_callback_without_a_code_or_state_is_not_one() {
        let pending = pending(false);
        let no_code = format!("{REDIRECT}?state={}", pending.state.secret());
        assert!(!callback_params_present(&no_code));
        assert_eq!(check(&pending, &no_code).err(), Some(SignInError::NoCode));
        for url in [REDIRECT, "http://localhost:8080/?code=c", "not a url", "/?code=c&state=s"] {
            assert!(!callback_params_present(url), "{url}");
        }
        assert!(callback_params_present("http://localhost:8080/?code=c&state=s"));
    }
}
