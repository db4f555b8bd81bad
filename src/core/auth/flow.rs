//! The OAuth 2.0 authorization code flow with PKCE (S256) for a public browser client, as pure
//! logic: [`begin`] turns discovered metadata and caller-supplied random octets into the
//! authorization URL and a [`PendingSignIn`] (the one record the platform keeps in sessionStorage
//! across the redirect, holding the verifier and `state` but never a token); [`read_callback`]
//! checks the answer (`state` one-time and equal, RFC 9207 `iss`, expiry, the server's `error`)
//! before any code is redeemed; [`token_request`] and [`refresh_request`] build the token
//! endpoint's form POSTs without a client secret; [`read_token_response`] parses what comes back
//! into a [`TokenSet`], checking the ID token's `nonce` and reading display [`Claims`]. Entra's
//! `AADSTS` codes become sentences saying what to do. No clock, no randomness, no I/O here.

use crate::core::auth::metadata::{AuthorizationServerMetadata, TENANT_PLACEHOLDER, is_entra};
use crate::core::auth::settings::SignInSettings;
use crate::core::auth::tokens::TokenSet;
use crate::core::http::{ACCEPT_HEADER, AUTHORIZATION_HEADER, CONTENT_TYPE_HEADER, HttpRequest};
use crate::core::pkce;
use crate::core::session::Millis;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::basic::{BasicClient, BasicTokenType};
use oauth2::{
    AccessToken, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, ExtraTokenFields,
    PkceCodeVerifier, RedirectUrl, RefreshToken, Scope, StandardTokenResponse, TokenResponse,
    TokenUrl,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use thiserror::Error;
use url::{Url, form_urlencoded};

/// How long a started sign-in may wait for its callback.
pub const PENDING_LIFETIME: Millis = 10 * 60 * 1000;
/// Server text quoted in an error sentence is cut to this many characters.
const MAX_DETAIL: usize = 200;
const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

// ---------------------------------------------------------------------------------------------
// Starting a sign-in

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
    pub confirmed: Option<SignInSettings>,
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

/// An OpenID Connect `nonce`: sent in the authorization request, expected back in the ID token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
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
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingSignIn {
    pub state: CsrfToken,
    pub verifier: PkceCodeVerifier,
    pub nonce: Option<Nonce>,
    /// The MCP server the tokens are for.
    pub server: String,
    pub redirect_uri: String,
    pub token_endpoint: String,
    #[serde(default)]
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
    #[serde(default)]
    pub popup: bool,
    /// The settings the person confirmed for the server (none from a secret: a full-page sign-in
    /// never carries one).
    #[serde(default)]
    pub confirmed: Option<SignInSettings>,
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

// ---------------------------------------------------------------------------------------------
// The callback

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
    let entra = Url::parse(expected).is_ok_and(|u| is_entra(&u) && u.scheme() == "https");
    if !entra || !expected.contains(TENANT_PLACEHOLDER) {
        return false;
    }
    let (e, f): (Vec<&str>, Vec<&str>) =
        (expected.split('/').collect(), found.split('/').collect());
    e.len() == f.len()
        && e.iter().zip(&f).all(|(e, f)| {
            e == f || (*e == TENANT_PLACEHOLDER && !f.is_empty() && !f.contains(['?', '#']))
        })
}

/// Checks the authorization response in `callback_url` against the sign-in the console started,
/// and returns the code to redeem. Checked in order, so that nothing is redeemed unless all pass:
/// a pending sign-in exists (else the callback is a replay), `state` equals it, `iss` names its
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

// ---------------------------------------------------------------------------------------------
// Token requests

/// How the console authenticates to the token endpoint. A page cannot keep a secret, so `None`
/// is the rule; a secret typed by the person (a confidential client, for testing) lives in memory
/// only and goes by HTTP Basic (RFC 6749 §2.3.1) or in the form, as the client is registered.
#[derive(Debug, Clone, Default)]
pub enum ClientAuth {
    #[default]
    None,
    Basic(ClientSecret),
    Post(ClientSecret),
}

impl ClientAuth {
    /// The method for a client registered with `token_endpoint_auth_method` (RFC 7591), holding
    /// `secret`: `client_secret_post` puts it in the form, anything else uses Basic.
    pub fn for_method(method: Option<&str>, secret: Option<ClientSecret>) -> ClientAuth {
        match (method, secret) {
            (_, None) | (Some("none"), _) => ClientAuth::None,
            (Some("client_secret_post"), Some(secret)) => ClientAuth::Post(secret),
            (_, Some(secret)) => ClientAuth::Basic(secret),
        }
    }
}

/// A form POST to the token endpoint. The browser adds `Origin` itself (Entra requires it).
fn form_post(
    endpoint: &str,
    params: &[(&str, &str)],
    client_id: &str,
    auth: &ClientAuth,
) -> Result<HttpRequest, SignInError> {
    let mut params = params.to_vec();
    match auth {
        ClientAuth::None => {}
        ClientAuth::Post(secret) => params.push(("client_secret", secret.secret())),
        // RFC 6749 §2.3.1: the id goes in the Basic credentials, not (also) in the form.
        ClientAuth::Basic(_) => params.retain(|(name, _)| *name != "client_id"),
    }
    let url = Url::parse(endpoint).ok().filter(crate::core::address::is_http).ok_or_else(|| {
        SignInError::InvalidUrl { what: "token endpoint", value: endpoint.to_owned() }
    })?;
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
    let mut headers =
        vec![(CONTENT_TYPE_HEADER, FORM.to_owned()), (ACCEPT_HEADER, JSON.to_owned())];
    if let ClientAuth::Basic(secret) = auth {
        let encode = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        let pair = format!("{}:{}", encode(client_id), encode(secret.secret()));
        let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair));
        headers.push((AUTHORIZATION_HEADER, value));
    }
    Ok(HttpRequest { method: "POST", url: url.to_string(), headers, body: Some(body) })
}

/// The request that redeems `code`: the same `redirect_uri` as the authorization request, the PKCE
/// verifier, the client id and no client secret (a page cannot keep one).
pub fn token_request(
    pending: &PendingSignIn,
    code: &AuthorizationCode,
    auth: &ClientAuth,
) -> Result<HttpRequest, SignInError> {
    let mut params = vec![
        ("grant_type", "authorization_code"),
        ("code", code.secret().as_str()),
        ("redirect_uri", pending.redirect_uri.as_str()),
        ("client_id", pending.client_id.as_str()),
        ("code_verifier", pending.verifier.secret().as_str()),
    ];
    if let Some(resource) = &pending.resource {
        params.push(("resource", resource));
    }
    form_post(&pending.token_endpoint, &params, &pending.client_id, auth)
}

/// The request that trades `refresh_token` for new tokens (the answer may rotate it).
pub fn refresh_request(
    token_endpoint: &str,
    client_id: &str,
    refresh_token: &RefreshToken,
    scopes: &[String],
    resource: Option<&str>,
    auth: &ClientAuth,
) -> Result<HttpRequest, SignInError> {
    let scope = scopes.join(" ");
    let mut params = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.secret().as_str()),
        ("client_id", client_id),
    ];
    if !scope.is_empty() {
        params.push(("scope", &scope));
    }
    if let Some(resource) = resource {
        params.push(("resource", resource));
    }
    form_post(token_endpoint, &params, client_id, auth)
}

/// The RFC 7009 request that revokes `refresh_token` at sign-out (strict servers then revoke the
/// whole grant).
pub fn revocation_request(
    endpoint: &str,
    client_id: &str,
    refresh_token: &RefreshToken,
    auth: &ClientAuth,
) -> Result<HttpRequest, SignInError> {
    let params = [
        ("token", refresh_token.secret().as_str()),
        ("token_type_hint", "refresh_token"),
        ("client_id", client_id),
    ];
    form_post(endpoint, &params, client_id, auth)
}

// ---------------------------------------------------------------------------------------------
// Token responses

/// What a token response is checked against.
#[derive(Debug, Clone, Copy)]
pub struct TokenContext<'a> {
    /// Recorded in the [`TokenSet`].
    pub issuer: &'a str,
    /// The nonce sent with the authorization request; `None` for a refresh.
    pub nonce: Option<&'a str>,
    /// The scopes asked for: granted when the response names none (RFC 6749 §5.1).
    pub scopes: &'a [String],
    /// Named in the advice when the server reports a redirect URI problem.
    pub redirect_uri: Option<&'a str>,
}

/// What a successful token response gave.
#[derive(Debug)]
pub struct Granted {
    pub tokens: TokenSet,
    /// For the Auth view; `None` when neither token is a readable JWT.
    pub claims: Option<Claims>,
}

/// Facts about the signed-in person and the grant, read from the ID token and the access token
/// for display. Holds no token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    pub name: Option<String>,
    pub preferred_username: Option<String>,
    /// Entra's tenant id.
    pub tid: Option<String>,
    /// Entra's object id of the user.
    pub oid: Option<String>,
    /// The delegated scopes of the access token (`scp`).
    pub scp: Vec<String>,
    /// Expiry of the access token (else the ID token), in seconds since the epoch.
    pub exp: Option<u64>,
}

/// The one member beyond RFC 6749 §5.1 that the console reads.
#[derive(Deserialize, Serialize)]
struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl fmt::Debug for IdTokenField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdTokenField([redacted])")
    }
}

impl ExtraTokenFields for IdTokenField {}

type OidcTokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

/// The payload of a JWT as a JSON object, without verifying its signature.
fn jwt_payload(token: &str) -> Option<serde_json::Map<String, Value>> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Reads display [`Claims`] from an ID token and/or an access token that is a JWT: who from the
/// ID token first, `scp` and `exp` from the access token first.
pub fn read_claims(id_token: Option<&str>, access_token: &str) -> Option<Claims> {
    let id = id_token.and_then(jwt_payload);
    let access = jwt_payload(access_token);
    if id.is_none() && access.is_none() {
        return None;
    }
    let get = |first: &Option<serde_json::Map<String, Value>>,
               second: &Option<serde_json::Map<String, Value>>,
               name: &str| {
        [first, second].into_iter().flatten().find_map(|m| m.get(name)).cloned()
    };
    let text = |name| get(&id, &access, name).and_then(|v| v.as_str().map(str::to_owned));
    let scp = get(&access, &id, "scp");
    Some(Claims {
        name: text("name"),
        preferred_username: text("preferred_username"),
        tid: text("tid"),
        oid: text("oid"),
        scp: scp
            .as_ref()
            .and_then(Value::as_str)
            .map(|s| s.split_ascii_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        exp: get(&access, &id, "exp").and_then(|v| v.as_u64()),
    })
}

/// Parses the token endpoint's answer to [`token_request`] or [`refresh_request`]. An OAuth error
/// body becomes [`SignInError::Refused`] whatever the status; a 5xx without one is
/// [`SignInError::ServerFailed`]. When `ctx.nonce` is set and an ID token came back, its `nonce`
/// must equal it.
pub fn read_token_response(
    status: u16,
    body: &[u8],
    now: Millis,
    ctx: &TokenContext<'_>,
) -> Result<Granted, SignInError> {
    let malformed =
        |reason: &str| SignInError::MalformedTokenResponse { status, reason: reason.to_owned() };
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if let Some(Value::Object(map)) = &parsed
        && let Some(error) = map.get("error").and_then(Value::as_str)
    {
        let description = map.get("error_description").and_then(Value::as_str);
        let codes: Vec<u64> = map
            .get("error_codes")
            .and_then(Value::as_array)
            .map(|codes| codes.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        return Err(refused(error, description, &codes, ctx.redirect_uri));
    }
    if status >= 500 {
        return Err(SignInError::ServerFailed { status });
    }
    if !(200..300).contains(&status) {
        return Err(malformed("an error status without an OAuth error"));
    }
    let Some(Value::Object(mut map)) = parsed else {
        return Err(malformed("not a JSON object"));
    };
    // Some servers send `expires_in` as a string of digits; RFC 6749 means a number.
    if let Some(Value::String(s)) = map.get("expires_in")
        && let Ok(seconds) = s.trim().parse::<u64>()
    {
        map.insert("expires_in".to_owned(), Value::from(seconds));
    }
    let response: OidcTokenResponse =
        serde_json::from_value(Value::Object(map)).map_err(|e| malformed(&e.to_string()))?;
    if *response.token_type() != BasicTokenType::Bearer {
        return Err(SignInError::UnsupportedTokenType {
            token_type: response.token_type().as_ref().to_owned(),
        });
    }
    let id_token = response.extra_fields().id_token.as_deref();
    if let (Some(expected), Some(id_token)) = (ctx.nonce, id_token) {
        // The signature is not verified: this ID token came straight from the token endpoint, over
        // the TLS connection this page opened to the issuer's endpoint, which OpenID Connect Core
        // §3.1.3.7 accepts in place of signature validation. The nonce binds it to this sign-in.
        let nonce = jwt_payload(id_token).and_then(|p| p.get("nonce").cloned());
        if nonce.as_ref().and_then(Value::as_str) != Some(expected) {
            return Err(SignInError::NonceMismatch);
        }
    }
    let access: &AccessToken = response.access_token();
    let claims = read_claims(id_token, access.secret());
    let scopes = match response.scopes() {
        Some(granted) => granted.iter().map(|s| s.to_string()).collect(),
        None => ctx.scopes.to_vec(),
    };
    let tokens = TokenSet {
        access: access.clone(),
        refresh: response.refresh_token().cloned(),
        issued_at: now,
        expires_at: response
            .expires_in()
            .map(|d| now.saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))),
        scopes,
        issuer: ctx.issuer.to_owned(),
    };
    Ok(Granted { tokens, claims })
}

// ---------------------------------------------------------------------------------------------
// Errors

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
    /// Whether the grant is gone and one interactive sign-in is the way on (a refresh that ends
    /// here must not be retried).
    pub fn needs_interactive_sign_in(&self) -> bool {
        matches!(self, SignInError::Refused { reason: Reason::GrantExpired, .. })
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
fn refused(
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
mod tests {
    use super::*;
    use serde_json::json;

    const AUTHORIZE: &str = "https://login.microsoftonline.com/t1/oauth2/v2.0/authorize";
    const TOKEN: &str = "https://login.microsoftonline.com/t1/oauth2/v2.0/token";
    const ISSUER: &str = "https://login.microsoftonline.com/t1/v2.0";
    const REDIRECT: &str = "http://localhost:8080/callback";
    const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
    const NOW: Millis = 1_700_000_000_000;

    fn metadata(iss_supported: Option<bool>) -> AuthorizationServerMetadata {
        let doc = json!({
            "issuer": ISSUER,
            "authorization_endpoint": AUTHORIZE,
            "token_endpoint": TOKEN,
            "authorization_response_iss_parameter_supported": iss_supported,
        });
        serde_json::from_value(doc).unwrap_or_else(|e| panic!("{e}"))
    }

    fn request(scopes: &[&str]) -> SignInRequest {
        let mut req =
            SignInRequest::new(&metadata(None), CLIENT, REDIRECT).unwrap_or_else(|e| panic!("{e}"));
        req.scopes = scopes.iter().map(|s| s.to_string()).collect();
        req.return_to = "/?server=x".into();
        req
    }

    fn random() -> [u8; 96] {
        std::array::from_fn(|i| (i / 32 + 1) as u8)
    }

    fn start(req: SignInRequest) -> (Vec<(String, String)>, PendingSignIn) {
        let (url, pending) = begin(req, &random(), NOW);
        assert!(url.as_str().starts_with(AUTHORIZE), "{url}");
        (url.query_pairs().into_owned().collect(), pending)
    }

    fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
        params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn pending(iss_required: bool) -> PendingSignIn {
        let mut req = request(&["openid", "api://x/mcp:tools"]);
        req.iss_parameter_supported = iss_required;
        begin(req, &random(), NOW).1
    }

    fn callback(pending: &PendingSignIn, extra: &str) -> String {
        format!("{REDIRECT}?code=the-code&state={}{extra}", pending.state.secret())
    }

    fn check(pending: &PendingSignIn, url: &str) -> Result<CallbackCode, SignInError> {
        read_callback(Some(pending), url, NOW)
    }

    fn refused_reason(result: Result<CallbackCode, SignInError>) -> (Reason, String) {
        match result {
            Err(SignInError::Refused { reason, detail, .. }) => (reason, detail),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn b64(bytes: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn jwt(payload: Value) -> String {
        format!("{}.{}.c2ln", b64(r#"{"alg":"RS256","typ":"JWT"}"#), b64(payload.to_string()))
    }

    fn ctx(nonce: Option<&str>) -> TokenContext<'_> {
        TokenContext { issuer: ISSUER, nonce, scopes: &[], redirect_uri: Some(REDIRECT) }
    }

    fn read(status: u16, body: Value, nonce: Option<&str>) -> Result<Granted, SignInError> {
        read_token_response(status, body.to_string().as_bytes(), NOW, &ctx(nonce))
    }

    fn form(request: &HttpRequest) -> Vec<(String, String)> {
        form_urlencoded::parse(request.body.as_deref().unwrap_or_default().as_bytes())
            .into_owned()
            .collect()
    }

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
    fn the_pending_sign_in_round_trips_through_serde_and_never_prints_a_secret() {
        let pending = pending(true);
        let stored = serde_json::to_string(&pending).unwrap_or_else(|e| panic!("{e}"));
        let back: PendingSignIn = serde_json::from_str(&stored).unwrap_or_else(|e| panic!("{e}"));
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
    fn a_typed_client_secret_goes_by_basic_or_in_the_form_as_registered() {
        let pending = pending(false);
        let code = AuthorizationCode::new("c".into());
        let secret = || Some(ClientSecret::new("s3cr:t&".into()));
        let basic = ClientAuth::for_method(Some("client_secret_basic"), secret());
        let req = token_request(&pending, &code, &basic).unwrap_or_else(|e| panic!("{e}"));
        let auth = req.header(AUTHORIZATION_HEADER);
        let expected = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:s3cr%3At%26", pending.client_id));
        assert_eq!(auth, Some(format!("Basic {expected}").as_str()));
        let body = req.body.clone().unwrap_or_default();
        assert!(!body.contains("client_id=") && !body.contains("client_secret"), "{body}");

        let post = ClientAuth::for_method(Some("client_secret_post"), secret());
        let req = token_request(&pending, &code, &post).unwrap_or_else(|e| panic!("{e}"));
        assert!(req.header(AUTHORIZATION_HEADER).is_none());
        let body = req.body.clone().unwrap_or_default();
        assert!(body.contains("client_secret=s3cr%3At%26") && body.contains("client_id="));

        for none in [
            ClientAuth::for_method(Some("none"), secret()),
            ClientAuth::for_method(Some("client_secret_basic"), None),
        ] {
            assert!(matches!(none, ClientAuth::None));
        }
        assert!(!format!("{basic:?}").contains("s3cr"), "Debug redacts the secret");
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

    #[test]
    fn the_token_request_redeems_the_code_with_the_verifier_and_no_secret() {
        let mut req = request(&["openid"]);
        req.resource = Some("https://mcp.example/mcp".into());
        let (_, pending) = start(req);
        let request =
            token_request(&pending, &AuthorizationCode::new("the-code".into()), &ClientAuth::None)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(request.method, "POST");
        assert_eq!(request.url, TOKEN);
        assert_eq!(request.header(CONTENT_TYPE_HEADER), Some(FORM));
        assert_eq!(request.header(ACCEPT_HEADER), Some(JSON));
        assert!(request.header(AUTHORIZATION_HEADER).is_none());
        let expected: Vec<(String, String)> = [
            ("grant_type", "authorization_code"),
            ("code", "the-code"),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT),
            ("code_verifier", pending.verifier.secret().as_str()),
            ("resource", "https://mcp.example/mcp"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(form(&request), expected);
        assert!(!request.body.clone().unwrap_or_default().contains("secret"));
    }

    #[test]
    fn the_refresh_request_sends_the_refresh_token_and_scopes() {
        let scopes = vec!["api://x/mcp:tools".to_string(), "offline_access".to_string()];
        let rt = RefreshToken::new("rt-1".into());
        let request = refresh_request(TOKEN, CLIENT, &rt, &scopes, None, &ClientAuth::None)
            .unwrap_or_else(|e| panic!("{e}"));
        let body = form(&request);
        assert_eq!(get(&body, "grant_type"), Some("refresh_token"));
        assert_eq!(get(&body, "refresh_token"), Some("rt-1"));
        assert_eq!(get(&body, "client_id"), Some(CLIENT));
        assert_eq!(get(&body, "scope"), Some("api://x/mcp:tools offline_access"));
        assert_eq!((get(&body, "resource"), get(&body, "client_secret")), (None, None));
        assert!(refresh_request("not a url", CLIENT, &rt, &[], None, &ClientAuth::None).is_err());
    }

    #[test]
    fn an_entra_token_response_becomes_a_token_set() {
        let granted = read(
            200,
            json!({
                "token_type": "Bearer", "scope": "api://x/mcp:tools openid profile",
                "expires_in": 4213, "ext_expires_in": 4213, "access_token": "at-1",
                "refresh_token": "rt-1", "refresh_token_expires_in": 86399,
            }),
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let tokens = granted.tokens;
        assert_eq!(tokens.access.secret(), "at-1");
        assert_eq!(tokens.refresh.as_ref().map(|r| r.secret().as_str()), Some("rt-1"));
        assert_eq!((tokens.issued_at, tokens.expires_at), (NOW, Some(NOW + 4_213_000)));
        assert_eq!(tokens.scopes, ["api://x/mcp:tools", "openid", "profile"]);
        assert_eq!(tokens.issuer, ISSUER);
        assert!(granted.claims.is_none(), "an opaque access token has no claims");
    }

    #[test]
    fn a_response_without_expires_in_or_scope_keeps_what_was_asked() {
        let scopes = vec!["api://x/mcp:tools".to_string()];
        let context = TokenContext { scopes: &scopes, ..ctx(None) };
        let body = json!({"token_type": "bearer", "access_token": "at"}).to_string();
        let granted = read_token_response(200, body.as_bytes(), NOW, &context)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(granted.tokens.expires_at, None);
        assert_eq!(granted.tokens.refresh.map(|r| r.into_secret()), None);
        assert_eq!(granted.tokens.scopes, scopes);
        let stringly = json!({"token_type": "Bearer", "access_token": "at", "expires_in": "60"});
        let granted = read(200, stringly, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(granted.tokens.expires_at, Some(NOW + 60_000));
    }

    #[test]
    fn oauth_error_bodies_are_explained_by_their_entra_codes() {
        let entra = |error: &str, description: &str, code: u64| {
            let mut body = json!({"error": error, "error_description": description});
            body["error_codes"] = json!([code]);
            body
        };
        for (body, expected, interactive) in [
            (
                entra(
                    "invalid_request",
                    "AADSTS9002326: Cross-origin redemption…\r\nTrace ID: t",
                    9002326,
                ),
                Reason::NotSinglePageApp { redirect_uri: REDIRECT.into() },
                false,
            ),
            (
                entra("invalid_request", "Tokens for SPA need an Origin.", 9002327),
                Reason::OriginMissing,
                false,
            ),
            (
                entra("invalid_grant", "AADSTS700084: The refresh token expired.", 700084),
                Reason::GrantExpired,
                true,
            ),
            (
                json!({"error": "invalid_grant", "error_description": "AADSTS50173: Expired."}),
                Reason::GrantExpired,
                true,
            ),
            (json!({"error": "invalid_grant"}), Reason::GrantExpired, true),
            (json!({"error": "invalid_scope"}), Reason::InvalidScope, false),
            (json!({"error": "server_error", "error_description": "boom"}), Reason::Other, false),
        ] {
            let err = read(400, body.clone(), None).err();
            let Some(SignInError::Refused { reason, .. }) = &err else { panic!("{body}: {err:?}") };
            assert_eq!(reason, &expected, "{body}");
            assert_eq!(
                err.as_ref().is_some_and(SignInError::needs_interactive_sign_in),
                interactive
            );
            let sentence = err.map(|e| e.to_string()).unwrap_or_default();
            assert!(!sentence.contains("Trace ID") && sentence.ends_with('.'), "{sentence}");
        }
    }

    #[test]
    fn bodies_that_are_no_token_response_are_refused() {
        let html = b"<html>Bad gateway</html>";
        assert_eq!(
            read_token_response(502, html, NOW, &ctx(None)).err(),
            Some(SignInError::ServerFailed { status: 502 })
        );
        for (status, body) in [(200, &html[..]), (200, b"{}"), (404, b"not found"), (200, b"[1]")] {
            assert!(
                matches!(
                    read_token_response(status, body, NOW, &ctx(None)),
                    Err(SignInError::MalformedTokenResponse { .. })
                ),
                "{status}"
            );
        }
        assert_eq!(
            read(200, json!({"token_type": "mac", "access_token": "a"}), None).err(),
            Some(SignInError::UnsupportedTokenType { token_type: "mac".into() })
        );
    }

    #[test]
    fn the_id_token_must_carry_the_nonce_that_was_sent() {
        let body = |nonce: Value| {
            json!({"token_type": "Bearer", "access_token": "at",
                   "id_token": jwt(json!({"nonce": nonce, "name": "Ada"}))})
        };
        assert!(read(200, body(json!("n-1")), Some("n-1")).is_ok());
        assert_eq!(
            read(200, body(json!("n-2")), Some("n-1")).err(),
            Some(SignInError::NonceMismatch)
        );
        assert_eq!(
            read(200, body(Value::Null), Some("n-1")).err(),
            Some(SignInError::NonceMismatch)
        );
        let garbage = json!({"token_type": "Bearer", "access_token": "at", "id_token": "x.y.z"});
        assert_eq!(read(200, garbage, Some("n-1")).err(), Some(SignInError::NonceMismatch));
        assert!(read(200, body(json!("other")), None).is_ok(), "a refresh sent no nonce");
    }

    #[test]
    fn claims_are_read_from_the_id_token_and_a_jwt_access_token() {
        let id = jwt(json!({"name": "Ada Lovelace", "preferred_username": "ada@contoso.example",
                            "tid": "t1", "oid": "o1", "exp": 100, "nonce": "n"}));
        let access = jwt(json!({"scp": "mcp:tools mcp:read", "exp": 200, "oid": "o1",
                                "aud": "api://x"}));
        let body = json!({"token_type": "Bearer", "access_token": access, "id_token": id});
        let granted = read(200, body, Some("n")).unwrap_or_else(|e| panic!("{e}"));
        let expected = Claims {
            name: Some("Ada Lovelace".into()),
            preferred_username: Some("ada@contoso.example".into()),
            tid: Some("t1".into()),
            oid: Some("o1".into()),
            scp: vec!["mcp:tools".into(), "mcp:read".into()],
            exp: Some(200),
        };
        assert_eq!(granted.claims, Some(expected));
        let only_access = read_claims(None, &access).unwrap_or_default();
        assert_eq!((only_access.name, only_access.exp), (None, Some(200)));
        assert_eq!(read_claims(Some("opaque"), "opaque"), None);
        assert!(!format!("{granted:?}").contains(&access));
    }
}
