//! How one sign-in is put together from the person's settings and what discovery found: the
//! settings in the seed's shape (Instance, TenantId, ClientId, Scopes, plus the `resource` policy,
//! the redirect URI and the mode), the client identity (pre-registered, a Client ID Metadata
//! Document, or dynamic registration per RFC 7591), the scopes and `resource` of the authorization
//! request, what to do when the server refuses a token, and the Auth view's trace with every
//! secret removed. Pure: the platform performs the requests these describe.

use crate::core::auth::challenge::BearerChallenge;
use crate::core::auth::discovery::{
    self, Discovered, DiscoverySettings, OFFLINE_ACCESS, ResourcePolicy,
};
use crate::core::auth::flow::{SignInError, SignInRequest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::ClientSecret;
use oauth2::http::{self, HeaderValue, Method, header};
use serde_json::{Value, json};
use std::fmt;
use url::Url;

/// The scopes Entra needs besides the API's: who signed in, and a refresh token.
const ENTRA_EXTRAS: [&str; 3] = ["openid", "profile", OFFLINE_ACCESS];
/// The name the console registers under.
const CLIENT_NAME: &str = "MCP Console";
const SECRET_FIELDS: [&str; 4] = ["access_token", "refresh_token", "id_token", "client_secret"];

// ---------------------------------------------------------------------------------------------
// Settings

/// Where the authorization server's answer comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignInMode {
    /// A popup inside an iframe (sign-in pages refuse frames) or with a typed client secret
    /// (which a full-page redirect would forget); the full page otherwise.
    #[default]
    Auto,
    Redirect,
    Popup,
}

impl SignInMode {
    pub fn parse(text: &str) -> Option<SignInMode> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => Some(SignInMode::Auto),
            "redirect" | "page" => Some(SignInMode::Redirect),
            "popup" => Some(SignInMode::Popup),
            _ => None,
        }
    }

    /// Whether to use a popup, for a page that is `framed` (or not) and a client that does (not)
    /// hold a secret.
    pub fn use_popup(self, framed: bool, has_secret: bool) -> bool {
        match self {
            SignInMode::Auto => framed || has_secret,
            SignInMode::Redirect => false,
            SignInMode::Popup => true,
        }
    }
}

/// The person's choice for RFC 8707 `resource`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ResourceSetting {
    /// Omitted for Entra and for servers without protected resource metadata, sent otherwise.
    #[default]
    Auto,
    Omit,
    /// The protected resource's identifier (else the server URL).
    Server,
    Explicit(String),
}

impl ResourceSetting {
    pub fn parse(text: &str) -> ResourceSetting {
        match text.trim() {
            "" | "auto" => ResourceSetting::Auto,
            "omit" | "off" | "none" | "false" => ResourceSetting::Omit,
            "server" | "on" | "true" => ResourceSetting::Server,
            other => ResourceSetting::Explicit(other.to_owned()),
        }
    }

    fn policy(&self, discovered: ResourcePolicy) -> ResourcePolicy {
        match self {
            ResourceSetting::Auto => discovered,
            ResourceSetting::Omit => ResourcePolicy::Omit,
            ResourceSetting::Server => ResourcePolicy::ServerUrl,
            ResourceSetting::Explicit(value) => ResourcePolicy::Explicit(value.clone()),
        }
    }
}

/// What the person configured for signing in; everything is optional.
#[derive(Clone, Default)]
pub struct SignInSettings {
    /// The sign-in service, e.g. `https://login.microsoftonline.com/`.
    pub instance: Option<String>,
    /// An Entra tenant (id or domain, or `common`/`organizations`).
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    /// Typed by the person for a confidential client: memory only, never in a URL or a file.
    pub client_secret: Option<ClientSecret>,
    pub scopes: Vec<String>,
    pub resource: ResourceSetting,
    /// Absolute, or relative to the console's address; `callback.html` beside it by default.
    pub redirect_uri: Option<String>,
    pub mode: SignInMode,
    /// The URL of this console's Client ID Metadata Document, if it has one.
    pub client_metadata_url: Option<String>,
    pub login_hint: Option<String>,
}

impl PartialEq for SignInSettings {
    fn eq(&self, other: &Self) -> bool {
        let secret = |s: &SignInSettings| s.client_secret.as_ref().map(|c| c.secret().clone());
        self.instance == other.instance
            && self.tenant_id == other.tenant_id
            && self.client_id == other.client_id
            && secret(self) == secret(other)
            && self.scopes == other.scopes
            && self.resource == other.resource
            && self.redirect_uri == other.redirect_uri
            && self.mode == other.mode
            && self.client_metadata_url == other.client_metadata_url
            && self.login_hint == other.login_hint
    }
}

impl fmt::Debug for SignInSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignInSettings")
            .field("instance", &self.instance)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[redacted]"))
            .field("scopes", &self.scopes)
            .field("resource", &self.resource)
            .field("redirect_uri", &self.redirect_uri)
            .field("mode", &self.mode)
            .field("client_metadata_url", &self.client_metadata_url)
            .field("login_hint", &self.login_hint)
            .finish()
    }
}

/// Splits a scope setting written with spaces and/or commas.
pub fn split_scopes(text: &str) -> Vec<String> {
    text.split([' ', ',', '\n', '\t']).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// `text` trimmed, or `None` when nothing is left: how every setting is read.
pub fn non_blank(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn filled(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl SignInSettings {
    /// `self` with every field that `over` sets replaced by it.
    pub fn overridden_by(self, over: SignInSettings) -> SignInSettings {
        let pick = |mine: Option<String>, theirs: Option<String>| {
            if filled(&theirs).is_some() { theirs } else { mine }
        };
        SignInSettings {
            instance: pick(self.instance, over.instance),
            tenant_id: pick(self.tenant_id, over.tenant_id),
            client_id: pick(self.client_id, over.client_id),
            client_secret: over.client_secret.or(self.client_secret),
            scopes: if over.scopes.is_empty() { self.scopes } else { over.scopes },
            resource: if over.resource == ResourceSetting::Auto {
                self.resource
            } else {
                over.resource
            },
            redirect_uri: pick(self.redirect_uri, over.redirect_uri),
            mode: if over.mode == SignInMode::Auto { self.mode } else { over.mode },
            client_metadata_url: pick(self.client_metadata_url, over.client_metadata_url),
            login_hint: pick(self.login_hint, over.login_hint),
        }
    }

    /// Whether these are explicit Entra settings (a tenant): the issuer is known without
    /// discovery, `resource` is left out, and `openid profile offline_access` are asked for.
    pub fn names_a_tenant(&self) -> bool {
        filled(&self.tenant_id).is_some()
    }

    /// The issuer the settings name: `{Instance}{TenantId}/v2.0`, Entra's v2 authority (the
    /// instance defaults to Entra's public cloud).
    pub fn fixed_issuer(&self) -> Result<Option<Url>, String> {
        let Some(tenant) = filled(&self.tenant_id) else { return Ok(None) };
        let instance = filled(&self.instance).unwrap_or("https://login.microsoftonline.com/");
        let text = format!("{}/{}/v2.0", instance.trim_end_matches('/'), tenant.trim_matches('/'));
        match Url::parse(&text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(Some(url)),
            _ => Err(format!(
                "The sign-in settings give Instance {instance:?} and TenantId {tenant:?}, which do not make an https:// authority; fix them (Instance is like https://login.microsoftonline.com/)."
            )),
        }
    }

    /// What discovery needs from these settings.
    pub fn discovery_settings(&self) -> Result<DiscoverySettings, String> {
        Ok(DiscoverySettings {
            strict_pkce: false,
            configured_scopes: self.scopes.clone(),
            fixed_issuer: self.fixed_issuer()?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Client identity

/// How the console identifies itself to the authorization server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientChoice {
    /// A client id from the settings (how Entra works).
    Configured(String),
    /// The URL of a Client ID Metadata Document is the client id.
    MetadataDocument(String),
    /// Register first at this endpoint (RFC 7591).
    Register(String),
}

/// The client identity to use, in the MCP specification's order: pre-registered, then a Client
/// ID Metadata Document when the server supports them and the console has one, then dynamic
/// registration when the server offers it.
pub fn choose_client(
    settings: &SignInSettings,
    discovered: &Discovered,
) -> Result<ClientChoice, String> {
    if let Some(id) = filled(&settings.client_id) {
        return Ok(ClientChoice::Configured(id.to_owned()));
    }
    let metadata = &discovered.metadata;
    if metadata.client_id_metadata_document_supported == Some(true)
        && let Some(url) = filled(&settings.client_metadata_url)
    {
        return Ok(ClientChoice::MetadataDocument(url.to_owned()));
    }
    if let Some(endpoint) = metadata.registration_endpoint.as_deref() {
        return Ok(ClientChoice::Register(endpoint.to_owned()));
    }
    Err(format!(
        "The authorization server {} offers no dynamic registration and the console has no client id for it; register the console there (as a single-page app with the redirect URI shown in the sign-in settings) and enter its client id.",
        metadata.issuer
    ))
}

/// A client the server registered for the console.
#[derive(Clone)]
pub struct Registered {
    pub client_id: String,
    pub client_secret: Option<ClientSecret>,
    pub token_endpoint_auth_method: Option<String>,
}

impl fmt::Debug for Registered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registered")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[redacted]"))
            .field("token_endpoint_auth_method", &self.token_endpoint_auth_method)
            .finish()
    }
}

/// The RFC 7591 registration of a public browser client with `redirect_uri`.
pub fn registration_request(
    endpoint: &str,
    redirect_uri: &str,
    scopes: &[String],
) -> Result<http::Request<Vec<u8>>, SignInError> {
    let uri = http::Uri::try_from(endpoint).map_err(|_| SignInError::InvalidUrl {
        what: "registration endpoint",
        value: endpoint.to_owned(),
    })?;
    let mut body = json!({
        "client_name": CLIENT_NAME,
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    });
    if !scopes.is_empty()
        && let Some(map) = body.as_object_mut()
    {
        map.insert("scope".to_owned(), Value::from(scopes.join(" ")));
    }
    let mut request = http::Request::new(body.to_string().into_bytes());
    *request.method_mut() = Method::POST;
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    Ok(request)
}

/// Reads the answer to [`registration_request`].
pub fn read_registration_response(status: u16, body: &[u8]) -> Result<Registered, String> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let text = |v: &Value, name: &str| v.get(name).and_then(Value::as_str).map(str::to_owned);
    match parsed {
        Some(v) if (200..300).contains(&status) => match text(&v, "client_id") {
            Some(client_id) if !client_id.is_empty() => Ok(Registered {
                client_id,
                client_secret: text(&v, "client_secret").map(ClientSecret::new),
                token_endpoint_auth_method: text(&v, "token_endpoint_auth_method"),
            }),
            _ => Err(format!(
                "The authorization server's registration answer (HTTP {status}) names no client_id; enter a client id registered for the console in the sign-in settings."
            )),
        },
        Some(v) if text(&v, "error").is_some() => {
            let error = text(&v, "error").unwrap_or_default();
            let description = text(&v, "error_description").unwrap_or_default();
            Err(format!(
                "The authorization server refused to register the console (HTTP {status}, {error}{}{}); register it by hand and enter its client id in the sign-in settings.",
                if description.is_empty() { "" } else { ": " },
                clip(&description)
            ))
        }
        _ => Err(format!(
            "The authorization server's registration endpoint answered HTTP {status} without a registration; register the console by hand and enter its client id in the sign-in settings."
        )),
    }
}

fn clip(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    clean.trim().to_owned()
}

// ---------------------------------------------------------------------------------------------
// The authorization request

/// What the refusal that started this sign-in asked for.
#[derive(Debug, Clone, Default)]
pub struct Asked<'a> {
    pub challenge: Option<&'a BearerChallenge>,
    /// Scopes granted so far: a step-up asks for them and the challenged ones.
    pub step_up_from: Option<&'a [String]>,
}

/// Everything the authorization request needs besides the metadata.
pub struct Plan<'a> {
    pub settings: &'a SignInSettings,
    pub discovered: &'a Discovered,
    pub server_url: &'a Url,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub return_to: String,
    pub popup: bool,
}

/// The scopes to ask for: the challenge's, else the protected resource's, else the configured
/// ones (with `offline_access` when the server lists it); a step-up adds them to those granted;
/// explicit Entra settings add `openid profile offline_access`. Nothing is added to an empty
/// choice, so `scope` is then left out altogether.
pub fn scopes_for(plan: &Plan<'_>, asked: &Asked<'_>) -> Vec<String> {
    let d = plan.discovered;
    let mut scopes = discovery::choose_scopes(
        asked.challenge.and_then(|c| c.scope.as_deref()),
        d.prm.as_ref().and_then(|p| p.scopes_supported.as_deref()),
        &plan.settings.scopes,
        d.metadata.scopes_supported.as_deref(),
    );
    if let Some(granted) = asked.step_up_from {
        let granted: Vec<String> =
            granted.iter().filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>();
        scopes = discovery::step_up(&granted, &scopes);
    }
    if plan.settings.names_a_tenant() && !scopes.is_empty() {
        let extras: Vec<String> = ENTRA_EXTRAS.iter().map(|s| (*s).to_owned()).collect();
        scopes = discovery::step_up(&scopes, &extras);
    }
    scopes
}

/// The checked authorization request for `plan`, answering `asked`.
pub fn authorization_request(
    plan: &Plan<'_>,
    asked: &Asked<'_>,
) -> Result<SignInRequest, SignInError> {
    let d = plan.discovered;
    let mut req = SignInRequest::new(&d.metadata, plan.client_id, plan.redirect_uri)?;
    // Under Entra's multi-tenant authorities the metadata's issuer holds `{tenantid}`; the
    // callback's `iss` is compared to it with that placeholder.
    req.issuer = d.metadata.issuer.clone();
    req.scopes = scopes_for(plan, asked);
    let policy = plan.settings.resource.policy(d.resource_policy.clone());
    req.resource = discovery::resource_value(
        &policy,
        plan.server_url,
        d.prm.as_ref().map(|p| p.resource.as_str()),
    );
    req.login_hint = filled(&plan.settings.login_hint).map(str::to_owned);
    req.claims = asked.challenge.and_then(|c| c.claims.clone());
    req.return_to = plan.return_to.clone();
    req.popup = plan.popup;
    Ok(req)
}

// ---------------------------------------------------------------------------------------------
// When the server refuses a token

/// What to do about a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Try the refresh token (once); sign in if that fails.
    Refresh,
    /// Sign in interactively; `step_up` keeps the granted scopes and adds the challenged ones.
    SignIn { step_up: bool },
    /// Nothing the console can do: the sentence says why.
    GiveUp(String),
}

/// The answer to a 401 or 403 (`status`) with `challenge`, for a console that holds a refresh
/// token (or not) and whose token was typed in by hand (or obtained by signing in).
pub fn answer_refusal(
    status: u16,
    challenge: Option<&BearerChallenge>,
    has_refresh_token: bool,
    typed_token: Option<&str>,
) -> Answer {
    let error = challenge.and_then(|c| c.error.as_deref());
    if let Some(token) = typed_token {
        let kind = describe_token(token).map(|k| format!(" It is {k}.")).unwrap_or_default();
        let what = if status == 403 { "refused" } else { "did not accept" };
        return Answer::GiveUp(format!(
            "The server {what} the access token typed into the console (HTTP {status}{}).{kind} Paste a delegated user token for this server, or clear the field and sign in.",
            error.map(|e| format!(", {e}")).unwrap_or_default()
        ));
    }
    match (status, error) {
        (403, _) => Answer::SignIn { step_up: true },
        (_, Some("insufficient_claims")) => Answer::SignIn { step_up: false },
        _ if has_refresh_token => Answer::Refresh,
        _ => Answer::SignIn { step_up: false },
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

// ---------------------------------------------------------------------------------------------
// The Auth view's trace

/// One step of the last sign-in, for the Auth view; never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceLine {
    pub step: String,
    pub detail: String,
}

impl TraceLine {
    pub fn new(step: impl Into<String>, detail: impl Into<String>) -> TraceLine {
        TraceLine { step: step.into(), detail: detail.into() }
    }
}

/// The trace as text to copy.
pub fn trace_text(lines: &[TraceLine]) -> String {
    lines.iter().map(|l| format!("{}: {}\n", l.step, l.detail)).collect()
}

/// An authorization URL with `state`, `nonce` and `code_challenge` shown as `[redacted]`.
pub fn shown_authorization_url(url: &Url) -> String {
    let mut shown = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let hidden = matches!(k.as_ref(), "state" | "nonce" | "code_challenge");
            (k.into_owned(), if hidden { "[redacted]".to_owned() } else { v.into_owned() })
        })
        .collect();
    shown.query_pairs_mut().clear().extend_pairs(pairs);
    shown.to_string().replace("%5Bredacted%5D", "[redacted]")
}

/// A token endpoint's JSON answer with its tokens replaced by `[redacted]`; other text is
/// described, not shown.
pub fn redacted_json(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut map)) => {
            for field in SECRET_FIELDS {
                if let Some(value) = map.get_mut(field) {
                    *value = Value::from("[redacted]");
                }
            }
            Value::Object(map).to_string()
        }
        _ => format!("({} bytes, not a JSON object)", body.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::auth::challenge;
    use crate::core::auth::discovery::{AuthorizationServerMetadata, ProtectedResourceMetadata};
    use serde_json::Map;

    const SERVER: &str = "http://127.0.0.1:3001/mcp";
    const REDIRECT: &str = "http://127.0.0.1:8080/callback.html";

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn metadata(issuer: &str) -> AuthorizationServerMetadata {
        let mut m = AuthorizationServerMetadata::default_endpoints(&url(issuer));
        m.issuer = issuer.to_owned();
        m.registration_endpoint = None;
        m
    }

    fn discovered(prm_scopes: Option<&[&str]>, as_scopes: Option<&[&str]>) -> Discovered {
        let mut m = metadata("http://127.0.0.1:4000");
        m.scopes_supported = as_scopes.map(strings);
        Discovered {
            prm: Some(ProtectedResourceMetadata {
                resource: SERVER.to_owned(),
                authorization_servers: Some(strings(&["http://127.0.0.1:4000"])),
                scopes_supported: prm_scopes.map(strings),
                bearer_methods_supported: None,
                resource_name: None,
                extra: Map::new(),
            }),
            issuer: url("http://127.0.0.1:4000"),
            metadata: m,
            metadata_url: None,
            scopes: Vec::new(),
            resource_policy: ResourcePolicy::ServerUrl,
        }
    }

    fn plan<'a>(settings: &'a SignInSettings, d: &'a Discovered, server: &'a Url) -> Plan<'a> {
        Plan {
            settings,
            discovered: d,
            server_url: server,
            client_id: "client-1",
            redirect_uri: REDIRECT,
            return_to: "/?server=x".into(),
            popup: false,
        }
    }

    #[test]
    fn settings_name_entra_authorities_and_merge_field_by_field() {
        let entra = SignInSettings {
            tenant_id: Some("contoso.onmicrosoft.com".into()),
            ..SignInSettings::default()
        };
        assert_eq!(
            entra.fixed_issuer().ok().flatten().map(|u| u.to_string()).as_deref(),
            Some("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0")
        );
        let local = SignInSettings {
            instance: Some("http://127.0.0.1:4000/".into()),
            tenant_id: Some("t1".into()),
            ..SignInSettings::default()
        };
        assert_eq!(
            local.fixed_issuer().ok().flatten().map(|u| u.to_string()).as_deref(),
            Some("http://127.0.0.1:4000/t1/v2.0")
        );
        let bad = SignInSettings {
            instance: Some("ftp:x".into()),
            tenant_id: Some("t".into()),
            ..SignInSettings::default()
        };
        assert!(bad.fixed_issuer().is_err());
        assert_eq!(SignInSettings::default().fixed_issuer(), Ok(None));

        let over = SignInSettings {
            client_id: Some("override".into()),
            scopes: strings(&["a"]),
            mode: SignInMode::Popup,
            ..SignInSettings::default()
        };
        let merged = local.clone().overridden_by(over);
        assert_eq!(merged.client_id.as_deref(), Some("override"));
        assert_eq!(merged.tenant_id.as_deref(), Some("t1"), "unset fields keep the file's");
        assert_eq!((merged.scopes, merged.mode), (strings(&["a"]), SignInMode::Popup));
        assert_eq!(
            split_scopes(" api://x/mcp:tools,openid  profile\n"),
            strings(&["api://x/mcp:tools", "openid", "profile"])
        );
    }

    #[test]
    fn modes_pick_the_popup_in_frames_and_for_secrets() {
        assert!(!SignInMode::Auto.use_popup(false, false));
        assert!(SignInMode::Auto.use_popup(true, false));
        assert!(SignInMode::Auto.use_popup(false, true));
        assert!(!SignInMode::Redirect.use_popup(true, false));
        assert!(SignInMode::Popup.use_popup(false, false));
        assert_eq!(SignInMode::parse("POPUP"), Some(SignInMode::Popup));
        assert_eq!(SignInMode::parse("window"), None);
        assert_eq!(ResourceSetting::parse("off"), ResourceSetting::Omit);
        assert_eq!(ResourceSetting::parse("api://x"), ResourceSetting::Explicit("api://x".into()));
    }

    #[test]
    fn the_client_is_configured_then_a_metadata_document_then_registered() {
        let mut d = discovered(None, None);
        let mut settings = SignInSettings::default();
        assert!(choose_client(&settings, &d).is_err_and(|e| e.contains("enter its client id")));
        d.metadata.registration_endpoint = Some("http://127.0.0.1:4000/register".into());
        assert_eq!(
            choose_client(&settings, &d),
            Ok(ClientChoice::Register("http://127.0.0.1:4000/register".into()))
        );
        settings.client_metadata_url = Some("https://console.example/client.json".into());
        assert!(
            matches!(choose_client(&settings, &d), Ok(ClientChoice::Register(_))),
            "not supported yet"
        );
        d.metadata.client_id_metadata_document_supported = Some(true);
        assert_eq!(
            choose_client(&settings, &d),
            Ok(ClientChoice::MetadataDocument("https://console.example/client.json".into()))
        );
        settings.client_id = Some("pre".into());
        assert_eq!(choose_client(&settings, &d), Ok(ClientChoice::Configured("pre".into())));
    }

    #[test]
    fn registration_is_a_public_client_and_its_answer_is_checked() {
        let req =
            registration_request("http://127.0.0.1:4000/register", REDIRECT, &strings(&["a", "b"]))
                .unwrap_or_else(|e| panic!("{e}"));
        let body: Value = serde_json::from_slice(req.body()).unwrap_or_default();
        assert_eq!(body["redirect_uris"], json!([REDIRECT]));
        assert_eq!(body["token_endpoint_auth_method"], "none");
        assert_eq!(body["scope"], "a b");
        assert_eq!(req.method(), Method::POST);

        let ok = read_registration_response(
            201,
            br#"{"client_id":"c9","client_secret":"shh","token_endpoint_auth_method":"client_secret_basic"}"#,
        );
        let registered = ok.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(registered.client_id, "c9");
        assert_eq!(registered.client_secret.as_ref().map(|s| s.secret().as_str()), Some("shh"));
        assert!(!format!("{registered:?}").contains("shh"));
        let refused = read_registration_response(
            400,
            br#"{"error":"invalid_redirect_uri","error_description":"no\u0007"}"#,
        );
        assert!(refused.is_err_and(|e| e.contains("invalid_redirect_uri: no)")));
        assert!(read_registration_response(201, b"{}").is_err());
        assert!(read_registration_response(502, b"<html>").is_err_and(|e| e.contains("HTTP 502")));
    }

    #[test]
    fn scopes_follow_the_challenge_then_the_metadata_then_the_settings() {
        let server = url(SERVER);
        let settings = SignInSettings { scopes: strings(&["configured"]), ..Default::default() };
        let d = discovered(Some(&["prm-scope"]), Some(&["prm-scope", "offline_access"]));
        let p = plan(&settings, &d, &server);
        let c = challenge::bearer(r#"Bearer scope="from-challenge""#);
        let asked = Asked { challenge: c.as_ref(), step_up_from: None };
        assert_eq!(scopes_for(&p, &asked), strings(&["from-challenge", "offline_access"]));
        assert_eq!(scopes_for(&p, &Asked::default()), strings(&["prm-scope", "offline_access"]));
        let d = discovered(None, None);
        let p = plan(&settings, &d, &server);
        assert_eq!(scopes_for(&p, &Asked::default()), strings(&["configured"]));
        let none = SignInSettings::default();
        let p = plan(&none, &d, &server);
        assert!(scopes_for(&p, &Asked::default()).is_empty(), "nothing is invented");

        // A step-up keeps what was granted and adds what the 403 asks for.
        let c = challenge::bearer(r#"Bearer error="insufficient_scope", scope="write""#);
        let granted = strings(&["read"]);
        let asked = Asked { challenge: c.as_ref(), step_up_from: Some(&granted) };
        assert_eq!(scopes_for(&p, &asked), strings(&["read", "write"]));

        // Explicit Entra settings add what Entra needs for a user and a refresh token.
        let entra = SignInSettings {
            tenant_id: Some("t".into()),
            scopes: strings(&["api://x/mcp:tools"]),
            ..Default::default()
        };
        let p = plan(&entra, &d, &server);
        assert_eq!(
            scopes_for(&p, &Asked::default()),
            strings(&["api://x/mcp:tools", "openid", "profile", "offline_access"])
        );
    }

    #[test]
    fn the_request_carries_resource_by_policy_and_claims_from_the_challenge() {
        let server = url(SERVER);
        let d = discovered(Some(&["s"]), None);
        let mut settings = SignInSettings::default();
        let p = plan(&settings, &d, &server);
        let req = authorization_request(&p, &Asked::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(req.resource.as_deref(), Some(SERVER), "sent for a server with metadata");
        settings.resource = ResourceSetting::Omit;
        settings.login_hint = Some("alice".into());
        let p = plan(&settings, &d, &server);
        let c = challenge::bearer(
            r#"Bearer error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ""#,
        );
        let asked = Asked { challenge: c.as_ref(), step_up_from: None };
        let req = authorization_request(&p, &asked).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(req.resource, None);
        assert_eq!(req.claims.as_deref(), Some(r#"{"access_token":{}}"#));
        assert_eq!(req.login_hint.as_deref(), Some("alice"));
    }

    fn jwt(payload: Value) -> String {
        format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(payload.to_string()))
    }

    #[test]
    fn refusals_lead_to_refresh_sign_in_step_up_or_a_sentence() {
        let c = |h: &str| challenge::bearer(h);
        let expired = c(r#"Bearer error="invalid_token""#);
        assert_eq!(answer_refusal(401, expired.as_ref(), true, None), Answer::Refresh);
        assert_eq!(
            answer_refusal(401, expired.as_ref(), false, None),
            Answer::SignIn { step_up: false }
        );
        let scope = c(r#"Bearer error="insufficient_scope", scope="x""#);
        assert_eq!(
            answer_refusal(403, scope.as_ref(), true, None),
            Answer::SignIn { step_up: true }
        );
        let claims = c(r#"Bearer error="insufficient_claims", claims="e30""#);
        assert_eq!(
            answer_refusal(401, claims.as_ref(), true, None),
            Answer::SignIn { step_up: false }
        );

        let app = jwt(json!({"idtyp": "app", "roles": ["mcp.app"]}));
        let Answer::GiveUp(sentence) = answer_refusal(403, scope.as_ref(), false, Some(&app))
        else {
            panic!("a typed token cannot be refreshed")
        };
        assert!(sentence.contains("app-only token (roles mcp.app, no scp)"), "{sentence}");
        assert!(!sentence.contains(&app), "the token itself is never shown");
        let user = jwt(json!({"scp": "mcp:read"}));
        assert_eq!(
            describe_token(&user).as_deref(),
            Some("a delegated token with scopes mcp:read")
        );
        assert_eq!(describe_token("opaque"), None);
    }

    #[test]
    fn the_trace_never_shows_a_secret() {
        let body = br#"{"access_token":"AT","refresh_token":"RT","id_token":"IT","expires_in":10,"scope":"a"}"#;
        let shown = redacted_json(body);
        for secret in ["\"AT\"", "\"RT\"", "\"IT\""] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("\"expires_in\":10"), "{shown}");
        assert_eq!(redacted_json(b"<html>"), "(6 bytes, not a JSON object)");
        let auth = url(
            "http://as/authorize?response_type=code&state=S3&code_challenge=CC&nonce=N1&scope=a+b",
        );
        let shown = shown_authorization_url(&auth);
        assert!(!shown.contains("S3") && !shown.contains("CC") && !shown.contains("N1"), "{shown}");
        assert!(shown.contains("state=[redacted]") && shown.contains("scope=a+b"), "{shown}");
        let lines = [TraceLine::new("GET x", "404"), TraceLine::new("token", "ok")];
        assert_eq!(trace_text(&lines), "GET x: 404\ntoken: ok\n");
    }
}
