//! Discovery for MCP authorization: from an MCP server URL (and its 401 challenge, if any) to the
//! authorization server the browser signs in with. It builds the well-known URLs of RFC 9728
//! (protected resource metadata) and of RFC 8414 / OpenID Connect Discovery in the order the MCP
//! specification sets, checks what comes back (the resource names this server, the issuer is the
//! one asked for, PKCE S256, endpoints over https), chooses the scopes and the RFC 8707 `resource`
//! policy, and falls back to the 2025-03-26 rules (metadata or default endpoints at the server's
//! origin) when a server has no protected resource metadata. [`Discovery`] ties these together as
//! a sans-IO machine: it names each GET to perform, is told each answer, and keeps a trace of every
//! URL tried for the Auth view.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;
use url::{Host, Url};

const PRM_WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
const OAUTH_WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";
const OIDC_WELL_KNOWN: &str = "/.well-known/openid-configuration";
/// The hosts of Microsoft Entra's sign-in service in the public and national clouds.
const ENTRA_HOSTS: [&str; 4] = [
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn",
];
/// Entra's multi-tenant path segments, whose metadata names the issuer `{tenantid}` literally.
const MULTI_TENANT: [&str; 3] = ["common", "organizations", "consumers"];
const TENANT_PLACEHOLDER: &str = "{tenantid}";
const LEGACY_NOTE: &str =
    "no protected resource metadata: the server's origin is its authorization server (2025-03-26)";
const DEFAULT_ENDPOINTS_NOTE: &str =
    "no metadata either, so the default endpoints /authorize, /token and /register (2025-03-26)";
const PRM_KIND: &str = "protected resource metadata";
const AS_KIND: &str = "authorization server metadata";
/// The scope that asks an OpenID provider for a refresh token.
pub const OFFLINE_ACCESS: &str = "offline_access";

// ---------------------------------------------------------------------------------------------
// Where metadata lives

/// `base` with its path replaced and its query, fragment and credentials dropped: metadata lives on
/// the same origin and carries nothing of the resource's query.
fn at_path(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    url.set_path(path);
    url.set_query(None);
    fetchable(url)
}

/// `url` without fragment and credentials: fetch refuses URLs with credentials, and metadata never
/// needs them. (Clearing them fails only for URLs without a host, which never get here.)
fn fetchable(mut url: Url) -> Url {
    url.set_fragment(None);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url
}

/// The path without its trailing slashes: "" for a URL at the root.
fn trimmed_path(url: &Url) -> &str {
    url.path().trim_end_matches('/')
}

fn is_http(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https") && url.host().is_some()
}

/// Whether `url` points at this machine: `localhost`, 127.0.0.0/8 or `::1`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The `resource_metadata` URL of a challenge, when it is an absolute http(s) URL.
fn challenged_metadata_url(value: &str) -> Option<Url> {
    Url::parse(value.trim()).ok().filter(is_http).map(fetchable)
}

/// Where to look for the protected resource metadata of `server_url`, in order: the challenge's
/// `resource_metadata` alone when it is an http(s) URL, else the path-aware well-known URL of
/// RFC 9728 §3.1 (query dropped) and then the one at the root.
pub fn protected_resource_metadata_urls(server_url: &Url, challenged: Option<&str>) -> Vec<Url> {
    if let Some(url) = challenged.and_then(challenged_metadata_url) {
        return vec![url];
    }
    let path = trimmed_path(server_url);
    let mut urls = Vec::with_capacity(2);
    if !path.is_empty() {
        urls.push(at_path(server_url, &format!("{PRM_WELL_KNOWN}{path}")));
    }
    urls.push(at_path(server_url, PRM_WELL_KNOWN));
    urls
}

/// Where to look for an authorization server's metadata, in the MCP specification's order: RFC 8414
/// path insertion, OpenID Connect path insertion, OpenID Connect path appending — or, for an
/// issuer without a path, the two documents at the root. An issuer with a path is never looked up
/// at the root: that document belongs to another issuer on the same host.
pub fn authorization_server_metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = trimmed_path(issuer);
    if path.is_empty() {
        return vec![at_path(issuer, OAUTH_WELL_KNOWN), at_path(issuer, OIDC_WELL_KNOWN)];
    }
    vec![
        at_path(issuer, &format!("{OAUTH_WELL_KNOWN}{path}")),
        at_path(issuer, &format!("{OIDC_WELL_KNOWN}{path}")),
        at_path(issuer, &format!("{path}{OIDC_WELL_KNOWN}")),
    ]
}

// ---------------------------------------------------------------------------------------------
// The documents

/// RFC 9728 protected resource metadata, as the MCP server serves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProtectedResourceMetadata {
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_servers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_methods_supported: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Every member this type does not name, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// RFC 8414 authorization server metadata, or an OpenID Connect Discovery document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_types_supported: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id_metadata_document_supported: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Every member this type does not name, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AuthorizationServerMetadata {
    /// Every endpoint the document names, with the member that names it.
    pub fn endpoints(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("authorization_endpoint", Some(self.authorization_endpoint.as_str())),
            ("token_endpoint", Some(self.token_endpoint.as_str())),
            ("registration_endpoint", self.registration_endpoint.as_deref()),
            ("revocation_endpoint", self.revocation_endpoint.as_deref()),
            ("end_session_endpoint", self.end_session_endpoint.as_deref()),
            ("jwks_uri", self.jwks_uri.as_deref()),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name, value)))
    }

    /// The 2025-03-26 defaults for a server without metadata: `/authorize`, `/token` and
    /// `/register` at its origin, with the PKCE S256 that revision requires of every server.
    pub fn default_endpoints(origin: &Url) -> Self {
        let base = origin.as_str().trim_end_matches('/');
        AuthorizationServerMetadata {
            issuer: base.to_owned(),
            authorization_endpoint: format!("{base}/authorize"),
            token_endpoint: format!("{base}/token"),
            registration_endpoint: Some(format!("{base}/register")),
            scopes_supported: None,
            response_types_supported: Some(vec!["code".to_owned()]),
            grant_types_supported: None,
            code_challenge_methods_supported: Some(vec!["S256".to_owned()]),
            token_endpoint_auth_methods_supported: None,
            client_id_metadata_document_supported: None,
            authorization_response_iss_parameter_supported: None,
            revocation_endpoint: None,
            end_session_endpoint: None,
            jwks_uri: None,
            extra: Map::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What can go wrong

/// Why discovery stopped, phrased for the person at the console.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DiscoveryError {
    #[error("{0:?} is not a usable MCP server URL: enter an absolute http:// or https:// URL.")]
    InvalidServerUrl(String),
    #[error(
        "The protected resource metadata at {url} is for {resource}, not for this server ({server}), so the console will not sign in with it — check the server URL or ask its operator to fix the metadata."
    )]
    ResourceMismatch { url: String, resource: String, server: String },
    #[error(
        "The protected resource metadata at {url} names no authorization server; ask the server's operator to add one, or set the issuer in the connection settings."
    )]
    NoAuthorizationServer { url: String },
    #[error(
        "The authorization server {issuer:?} is not an https:// URL (plain http:// is allowed only on this machine); ask the server's operator to fix it, or set the issuer in the connection settings."
    )]
    InsecureIssuer { issuer: String },
    #[error(
        "The console could not read {url} ({reason}); check that the server is up and lets this page's origin read it (CORS), then try again."
    )]
    Unavailable { url: String, reason: String },
    #[error(
        "The document at {url} is not valid {kind} ({reason}); check that this URL serves the metadata as JSON."
    )]
    Malformed { url: String, kind: &'static str, reason: String },
    #[error(
        "The authorization server metadata at {url} names the issuer {found}, not {expected}, so the console refuses it (RFC 8414 §3.3) — check which authorization server this MCP server uses."
    )]
    IssuerMismatch { url: String, expected: String, found: String },
    #[error(
        "The authorization server {issuer} does not support PKCE with S256, which the console requires, so it cannot sign in there."
    )]
    PkceUnsupported { issuer: String },
    #[error(
        "The authorization server {issuer} does not advertise PKCE with S256 (its metadata has no code_challenge_methods_supported); turn off strict PKCE in the settings to try anyway."
    )]
    PkceNotAdvertised { issuer: String },
    #[error(
        "The authorization server's {name} {url} does not use https:// (plain http:// is allowed only on this machine), so the console will not send sign-in data there — ask its operator to serve it over https."
    )]
    InsecureEndpoint { name: &'static str, url: String },
    #[error(
        "The authorization server's {name} {value:?} is not an http(s) URL; its metadata is broken — ask its operator to fix it."
    )]
    InvalidEndpoint { name: &'static str, value: String },
    #[error(
        "The server's authorization metadata puts its {name} at {url}, on another origin and without https://, so the console refuses it — ask the operator to serve it over https."
    )]
    ForeignEndpoint { name: &'static str, url: String },
    #[error(
        "No authorization server metadata was found for {issuer} (neither OAuth nor OpenID Connect discovery answered); check the issuer, and see the Auth view for each URL tried."
    )]
    MetadataNotFound { issuer: String },
}

// ---------------------------------------------------------------------------------------------
// Checks

/// Whether a protected resource metadata `resource` identifies the server at `server_url`
/// (RFC 9728 §3.3): the same origin, and its path equal to the server's or a whole-segment prefix
/// of it, as the MCP SDKs accept. A query in `resource` must equal the server's.
pub fn resource_identifies_server(resource: &str, server_url: &Url) -> bool {
    let Ok(resource) = Url::parse(resource) else { return false };
    if !is_http(&resource) || resource.origin() != server_url.origin() {
        return false;
    }
    if resource.query().is_some() && resource.query() != server_url.query() {
        return false;
    }
    // Compare with a slash after each path so that `/api` is a prefix of `/api/mcp`, not `/apix`.
    let server_path = format!("{}/", trimmed_path(server_url));
    let resource_path = format!("{}/", trimmed_path(&resource));
    server_path.starts_with(&resource_path)
}

/// An issuer the console may fetch metadata from: http(s), and https unless it is on loopback.
pub fn check_issuer(value: &str) -> Result<Url, DiscoveryError> {
    Url::parse(value.trim())
        .ok()
        .filter(|url| is_http(url) && (url.scheme() == "https" || is_loopback(url)))
        .ok_or_else(|| DiscoveryError::InsecureIssuer { issuer: value.to_owned() })
}

/// An endpoint the console may send sign-in data to: http(s), and https unless it is on loopback.
pub fn check_endpoint(name: &'static str, value: &str) -> Result<Url, DiscoveryError> {
    let url = Url::parse(value)
        .ok()
        .filter(is_http)
        .ok_or_else(|| DiscoveryError::InvalidEndpoint { name, value: value.to_owned() })?;
    if url.scheme() == "https" || is_loopback(&url) {
        Ok(url)
    } else {
        Err(DiscoveryError::InsecureEndpoint { name, url: value.to_owned() })
    }
}

/// S256 must be listed. An absent list passes unless `strict`: Entra's metadata omits it while
/// requiring PKCE, so refusing absence would lock Entra out.
pub fn check_pkce(
    metadata: &AuthorizationServerMetadata,
    strict: bool,
) -> Result<(), DiscoveryError> {
    let issuer = || metadata.issuer.clone();
    match &metadata.code_challenge_methods_supported {
        Some(methods) if methods.iter().any(|m| m == "S256") => Ok(()),
        Some(_) => Err(DiscoveryError::PkceUnsupported { issuer: issuer() }),
        None if strict => Err(DiscoveryError::PkceNotAdvertised { issuer: issuer() }),
        None => Ok(()),
    }
}

/// Whether the `issuer` a metadata document states matches the issuer the console asked for:
/// equal after dropping a trailing slash. Entra's multi-tenant documents state
/// `https://login.microsoftonline.com/{tenantid}/v2.0` literally: with `tenant_id` (a token's
/// `tid`) the placeholder is filled in first, and the placeholder form is accepted as it stands
/// when the expected issuer is the `common`, `organizations` or `consumers` URL.
pub fn issuer_matches(expected: &str, metadata_issuer: &str, tenant_id: Option<&str>) -> bool {
    let expected = expected.strip_suffix('/').unwrap_or(expected);
    let found = metadata_issuer.strip_suffix('/').unwrap_or(metadata_issuer);
    if expected == found {
        return true;
    }
    if entra_tenant_by_id(expected, found) {
        return true;
    }
    if !found.contains(TENANT_PLACEHOLDER) {
        return false;
    }
    if tenant_id.is_some_and(|tid| found.replace(TENANT_PLACEHOLDER, tid) == expected) {
        return true;
    }
    // The placeholder must stand exactly where the expected issuer's path has its multi-tenant
    // segment (after "https:", "" and the host).
    let segments: Vec<&str> = expected.split('/').collect();
    segments.iter().enumerate().skip(3).any(|(i, segment)| {
        MULTI_TENANT.iter().any(|m| segment.eq_ignore_ascii_case(m)) && {
            let mut placeholder = segments.clone();
            if let Some(slot) = placeholder.get_mut(i) {
                *slot = TENANT_PLACEHOLDER;
            }
            placeholder.join("/") == found
        }
    })
}

/// Entra names a tenant by its domain in an authority (`…/contoso.onmicrosoft.com/v2.0`) but by
/// its id in the issuer its metadata states (`…/<tenant id>/v2.0`): on Entra's hosts, an issuer
/// that differs from the expected one only in that segment, and holds a tenant id (a GUID) there,
/// is the same issuer.
fn entra_tenant_by_id(expected: &str, found: &str) -> bool {
    let (Ok(e), Ok(f)) = (Url::parse(expected), Url::parse(found)) else { return false };
    if !is_entra(&e) || e.origin() != f.origin() {
        return false;
    }
    let segments = |u: &Url| u.path().trim_matches('/').split('/').map(str::to_owned).collect();
    let (es, fs): (Vec<String>, Vec<String>) = (segments(&e), segments(&f));
    let is_guid = |s: &str| {
        s.len() == 36
            && s.char_indices().all(|(i, c)| {
                if matches!(i, 8 | 13 | 18 | 23) { c == '-' } else { c.is_ascii_hexdigit() }
            })
    };
    es.len() == fs.len()
        && es.len() >= 2
        && es.get(1..) == fs.get(1..)
        && fs.first().is_some_and(|t| is_guid(t))
}

/// Checks protected resource metadata fetched from `url` for the server at `server_url`, and
/// returns the issuer of its first authorization server (RFC 9728 §7.6 leaves the choice to us).
pub fn validate_resource_metadata(
    prm: &ProtectedResourceMetadata,
    server_url: &Url,
    url: &Url,
) -> Result<Url, DiscoveryError> {
    if !resource_identifies_server(&prm.resource, server_url) {
        return Err(DiscoveryError::ResourceMismatch {
            url: url.to_string(),
            resource: prm.resource.clone(),
            server: server_url.to_string(),
        });
    }
    let first = prm.authorization_servers.as_deref().and_then(<[String]>::first);
    let Some(issuer) = first else {
        return Err(DiscoveryError::NoAuthorizationServer { url: url.to_string() });
    };
    check_issuer(issuer)
}

/// Checks authorization server metadata fetched from `url` for `expected_issuer`: the issuer
/// (RFC 8414 §3.3, with Entra's placeholder), PKCE, and every endpoint.
pub fn validate_server_metadata(
    metadata: &AuthorizationServerMetadata,
    expected_issuer: &Url,
    url: &Url,
    strict_pkce: bool,
) -> Result<(), DiscoveryError> {
    // `expected_issuer` went through URL parsing (lower-case host, default port dropped), so a
    // document that repeats the PRM's unnormalised spelling is compared as a URL too.
    let same_url = Url::parse(&metadata.issuer).is_ok_and(|found| found == *expected_issuer);
    if !same_url && !issuer_matches(expected_issuer.as_str(), &metadata.issuer, None) {
        return Err(DiscoveryError::IssuerMismatch {
            url: url.to_string(),
            expected: expected_issuer.as_str().trim_end_matches('/').to_owned(),
            found: metadata.issuer.clone(),
        });
    }
    check_pkce(metadata, strict_pkce)?;
    for (name, value) in metadata.endpoints() {
        check_endpoint(name, value)?;
    }
    Ok(())
}

/// Checks 2025-03-26 metadata found at the MCP server's origin. Its issuer is not compared (servers
/// of that revision state e.g. `{origin}/oauth`), but each endpoint must be on the server's own
/// origin or pass [`check_endpoint`].
pub fn validate_legacy_metadata(
    metadata: &AuthorizationServerMetadata,
    server_url: &Url,
    strict_pkce: bool,
) -> Result<(), DiscoveryError> {
    check_pkce(metadata, strict_pkce)?;
    for (name, value) in metadata.endpoints() {
        match check_endpoint(name, value) {
            Ok(_) => {}
            Err(DiscoveryError::InsecureEndpoint { name, url }) => {
                let same_origin = Url::parse(&url).is_ok_and(|u| u.origin() == server_url.origin());
                if !same_origin {
                    return Err(DiscoveryError::ForeignEndpoint { name, url });
                }
            }
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Scopes and the resource parameter

/// Each scope once, in first-seen order; space-separated strings are split.
fn scope_union<'a>(lists: impl IntoIterator<Item = &'a [String]>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for scope in lists.into_iter().flatten().flat_map(|s| s.split_whitespace()) {
        if !out.iter().any(|seen| seen == scope) {
            out.push(scope.to_owned());
        }
    }
    out
}

/// The scopes to request: the challenge's (authoritative), else the protected resource's
/// `scopes_supported`, else the configured ones, else none — an empty list counts as absent. When
/// something was chosen, `offline_access` is added if the authorization server lists it. Nothing is
/// ever added to an empty choice: the request must then omit `scope` altogether.
pub fn choose_scopes(
    challenge_scope: Option<&[String]>,
    prm_scopes: Option<&[String]>,
    configured: &[String],
    as_scopes: Option<&[String]>,
) -> Vec<String> {
    let mut scopes = [challenge_scope, prm_scopes, Some(configured)]
        .into_iter()
        .flatten()
        .map(|list| scope_union([list]))
        .find(|list| !list.is_empty())
        .unwrap_or_default();
    let offered = as_scopes.is_some_and(|list| list.iter().any(|s| s == OFFLINE_ACCESS));
    if !scopes.is_empty() && offered && !scopes.iter().any(|s| s == OFFLINE_ACCESS) {
        scopes.push(OFFLINE_ACCESS.to_owned());
    }
    scopes
}

/// The scopes for re-authorizing after `insufficient_scope`: the current ones, then the challenged
/// ones, each once.
pub fn step_up(current: &[String], challenged: &[String]) -> Vec<String> {
    scope_union([current, challenged])
}

/// Whether and how the RFC 8707 `resource` parameter goes into authorization and token requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourcePolicy {
    /// Send none (Entra v2 rejects it; 2025-03-26 servers predate it).
    Omit,
    /// The protected resource's `resource`, else the server URL.
    ServerUrl,
    /// A value the user set, e.g. an App ID URI.
    Explicit(String),
}

/// Whether `issuer` is Microsoft Entra's sign-in service, in any cloud.
pub fn is_entra(issuer: &Url) -> bool {
    issuer.host_str().is_some_and(|host| ENTRA_HOSTS.iter().any(|h| host.eq_ignore_ascii_case(h)))
}

/// `Omit` for Entra issuers and for servers without protected resource metadata; `ServerUrl`
/// otherwise, which the MCP specification requires in both requests.
pub fn default_policy(issuer: &Url, has_prm: bool) -> ResourcePolicy {
    if !has_prm || is_entra(issuer) { ResourcePolicy::Omit } else { ResourcePolicy::ServerUrl }
}

fn without_fragment(value: &str) -> &str {
    value.split('#').next().unwrap_or(value)
}

/// The `resource` value to send under `policy`, without fragment (RFC 8707 §2). `ServerUrl` prefers
/// the protected resource's own `resource` (already checked to identify the server); the server
/// URL itself is written without the trailing slash of a bare origin, the MCP canonical form.
pub fn resource_value(
    policy: &ResourcePolicy,
    server_url: &Url,
    prm_resource: Option<&str>,
) -> Option<String> {
    let value = match policy {
        ResourcePolicy::Omit => return None,
        ResourcePolicy::Explicit(value) => without_fragment(value).to_owned(),
        ResourcePolicy::ServerUrl => match prm_resource {
            Some(resource) => without_fragment(resource).to_owned(),
            None => {
                let mut url = server_url.clone();
                url.set_fragment(None);
                let bare_origin = url.path() == "/" && url.query().is_none();
                let text = url.as_str();
                if bare_origin { text.trim_end_matches('/') } else { text }.to_owned()
            }
        },
    };
    Some(value).filter(|v| !v.is_empty())
}

// ---------------------------------------------------------------------------------------------
// The machine

/// What a `WWW-Authenticate: Bearer` challenge told the console.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerInfo {
    pub scope: Option<Vec<String>>,
    pub resource_metadata: Option<String>,
}

/// The person's settings for this server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscoverySettings {
    /// Refuse authorization servers that do not list `code_challenge_methods_supported`.
    pub strict_pkce: bool,
    pub configured_scopes: Vec<String>,
    /// An issuer set explicitly (e.g. an Entra tenant): protected resource metadata is skipped.
    pub fixed_issuer: Option<Url>,
}

/// Everything discovery found, ready for the authorization request.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovered {
    pub prm: Option<ProtectedResourceMetadata>,
    /// The issuer the console asked about (the server's origin under the 2025-03-26 rules).
    pub issuer: Url,
    /// As found, or synthesised from the 2025-03-26 default endpoints.
    pub metadata: AuthorizationServerMetadata,
    /// Where `metadata` came from; `None` when synthesised.
    pub metadata_url: Option<Url>,
    pub scopes: Vec<String>,
    pub resource_policy: ResourcePolicy,
}

/// One URL tried, for the Auth view: its HTTP status (`None` when no response came) and what the
/// console made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceStep {
    pub url: Url,
    pub status: Option<u16>,
    pub note: String,
}

#[derive(Debug, Clone)]
enum Stage {
    /// Protected resource metadata; `from_challenge` when the 401 named its one URL.
    ResourceMetadata {
        from_challenge: bool,
    },
    /// The metadata of `issuer`, named by `prm` or by the settings.
    ServerMetadata {
        issuer: Url,
        prm: Option<ProtectedResourceMetadata>,
    },
    /// 2025-03-26: no protected resource metadata, so the server's origin is the authorization
    /// server.
    Legacy {
        origin: Url,
    },
    Finished,
}

/// Why one candidate URL gave nothing usable.
enum Miss {
    /// A 4xx answer: nothing there.
    Absent(String),
    /// No response at all (network, CORS).
    Unreachable(String),
    /// Something answered, but not with a usable document (5xx, not JSON).
    Broken(DiscoveryError),
    /// A well-formed document that fails a check.
    Refused(DiscoveryError),
}

/// A usable document: protected resource metadata with its issuer, or authorization server
/// metadata with a remark for the trace.
enum Found {
    Resource(ProtectedResourceMetadata, Url),
    Server(AuthorizationServerMetadata, &'static str),
}

impl Miss {
    fn note(&self) -> String {
        match self {
            Miss::Absent(reason) => reason.clone(),
            Miss::Unreachable(reason) => format!("no response: {reason}"),
            Miss::Broken(error) | Miss::Refused(error) => error.to_string(),
        }
    }
}

/// The sans-IO discovery machine. The caller loops: GET each URL from [`Discovery::next_request`]
/// (with `Accept: application/json` and no `MCP-Protocol-Version`: these are plain OAuth documents,
/// and a custom header would make every cross-origin GET need a preflight), report the answer with
/// [`Discovery::handle_response`] or [`Discovery::handle_failure`], until [`Discovery::outcome`] is
/// `Some`. One request is in flight at a time, because each answer decides what to ask next.
#[derive(Debug, Clone)]
pub struct Discovery {
    server_url: Url,
    challenge: BearerInfo,
    settings: DiscoverySettings,
    stage: Stage,
    candidates: Vec<Url>,
    next: usize,
    in_flight: Option<Url>,
    /// The most telling failure of this stage: a refused document outranks a broken one.
    problem: Option<(bool, DiscoveryError)>,
    /// Whether anything answered in this stage (else the server is down or refuses the origin).
    answered: bool,
    trace: Vec<TraceStep>,
    outcome: Option<Result<Discovered, DiscoveryError>>,
}

impl Discovery {
    pub fn new(
        server_url: Url,
        challenge: Option<BearerInfo>,
        settings: DiscoverySettings,
    ) -> Self {
        let mut discovery = Discovery {
            server_url,
            challenge: challenge.unwrap_or_default(),
            settings,
            stage: Stage::Finished,
            candidates: Vec::new(),
            next: 0,
            in_flight: None,
            problem: None,
            answered: false,
            trace: Vec::new(),
            outcome: None,
        };
        if !is_http(&discovery.server_url) {
            let shown = discovery.server_url.to_string();
            discovery.finish(Err(DiscoveryError::InvalidServerUrl(shown)));
        } else if let Some(issuer) = discovery.settings.fixed_issuer.clone() {
            match check_issuer(issuer.as_str()) {
                Ok(issuer) => {
                    // An issuer from explicit (Entra) settings: Entra publishes only the OpenID
                    // form at `{issuer}/.well-known/openid-configuration`, so it is asked first;
                    // the RFC 8414 forms follow for servers that have only those.
                    let mut urls = authorization_server_metadata_urls(&issuer);
                    urls.rotate_right(1);
                    discovery.begin(Stage::ServerMetadata { issuer, prm: None }, urls);
                }
                Err(error) => discovery.finish(Err(error)),
            }
        } else {
            let challenged = discovery.challenge.resource_metadata.as_deref();
            let from_challenge = challenged.and_then(challenged_metadata_url).is_some();
            let urls = protected_resource_metadata_urls(&discovery.server_url, challenged);
            discovery.begin(Stage::ResourceMetadata { from_challenge }, urls);
        }
        discovery
    }

    /// The next GET to perform, or `None` while one is in flight or when discovery has ended.
    pub fn next_request(&mut self) -> Option<Url> {
        if self.outcome.is_some() || self.in_flight.is_some() {
            return None;
        }
        let url = self.candidates.get(self.next)?.clone();
        self.next += 1;
        self.in_flight = Some(url.clone());
        Some(url)
    }

    /// The answer to the GET of `url`. Answers to anything but the request in flight are ignored.
    pub fn handle_response(&mut self, url: &Url, status: u16, body: &str) {
        if !self.take_in_flight(url) {
            return;
        }
        let miss = match status {
            200..=299 => return self.handle_document(url, status, body),
            404 | 410 => Miss::Absent(format!("not found (HTTP {status})")),
            400..=499 => Miss::Absent(format!("refused (HTTP {status})")),
            _ => Miss::Broken(DiscoveryError::Unavailable {
                url: url.to_string(),
                reason: format!("HTTP {status}"),
            }),
        };
        self.missed(url, Some(status), miss);
    }

    /// The GET of `url` got no response: a network failure, or the browser's CORS refusal.
    pub fn handle_failure(&mut self, url: &Url, reason: &str) {
        if self.take_in_flight(url) {
            self.missed(url, None, Miss::Unreachable(reason.to_owned()));
        }
    }

    /// `Some` once discovery has ended, either way.
    pub fn outcome(&self) -> Option<Result<Discovered, DiscoveryError>> {
        self.outcome.clone()
    }

    pub fn is_finished(&self) -> bool {
        self.outcome.is_some()
    }

    /// Every URL tried so far, in order, with what came of it.
    pub fn trace(&self) -> &[TraceStep] {
        &self.trace
    }

    fn take_in_flight(&mut self, url: &Url) -> bool {
        if self.outcome.is_some() || self.in_flight.as_ref() != Some(url) {
            return false;
        }
        self.in_flight = None;
        true
    }

    fn begin(&mut self, stage: Stage, candidates: Vec<Url>) {
        self.stage = stage;
        self.candidates = candidates;
        self.next = 0;
        self.problem = None;
        self.answered = false;
    }

    fn begin_server_metadata(&mut self, issuer: Url, prm: Option<ProtectedResourceMetadata>) {
        let urls = authorization_server_metadata_urls(&issuer);
        self.begin(Stage::ServerMetadata { issuer, prm }, urls);
    }

    fn finish(&mut self, outcome: Result<Discovered, DiscoveryError>) {
        self.stage = Stage::Finished;
        self.outcome = Some(outcome);
    }

    fn record(&mut self, url: &Url, status: Option<u16>, note: String) {
        self.trace.push(TraceStep { url: url.clone(), status, note });
    }

    /// Adds what happens next to the last step's note.
    fn annotate(&mut self, text: &str) {
        if let Some(step) = self.trace.last_mut() {
            step.note.push_str("; ");
            step.note.push_str(text);
        }
    }

    fn succeed(
        &mut self,
        issuer: Url,
        prm: Option<ProtectedResourceMetadata>,
        metadata: AuthorizationServerMetadata,
        metadata_url: Option<Url>,
    ) {
        let scopes = choose_scopes(
            self.challenge.scope.as_deref(),
            prm.as_ref().and_then(|p| p.scopes_supported.as_deref()),
            &self.settings.configured_scopes,
            metadata.scopes_supported.as_deref(),
        );
        let resource_policy = default_policy(&issuer, prm.is_some());
        self.finish(Ok(Discovered {
            prm,
            issuer,
            metadata,
            metadata_url,
            scopes,
            resource_policy,
        }));
    }

    /// A 2xx answer: parse and check the document the current stage looks for.
    fn handle_document(&mut self, url: &Url, status: u16, body: &str) {
        let strict = self.settings.strict_pkce;
        let found = match &self.stage {
            Stage::ResourceMetadata { .. } => parse(url, body, PRM_KIND).and_then(|prm| {
                let issuer = validate_resource_metadata(&prm, &self.server_url, url);
                issuer.map(|issuer| Found::Resource(prm, issuer)).map_err(Miss::Refused)
            }),
            Stage::ServerMetadata { issuer, .. } => {
                parse(url, body, AS_KIND).and_then(|metadata| {
                    let checked = validate_server_metadata(&metadata, issuer, url, strict);
                    checked.map(|()| Found::Server(metadata, "")).map_err(Miss::Refused)
                })
            }
            Stage::Legacy { .. } => parse(url, body, AS_KIND).and_then(|metadata| {
                let checked = validate_legacy_metadata(&metadata, &self.server_url, strict);
                let note = " (2025-03-26 rules: its issuer is not compared)";
                checked.map(|()| Found::Server(metadata, note)).map_err(Miss::Refused)
            }),
            Stage::Finished => return,
        };
        match found {
            Err(miss) => self.missed(url, Some(status), miss),
            Ok(Found::Resource(prm, issuer)) => {
                let note = format!(
                    "protected resource metadata for {}; authorization server {issuer}",
                    prm.resource
                );
                self.record(url, Some(status), note);
                self.begin_server_metadata(issuer, Some(prm));
            }
            Ok(Found::Server(metadata, remark)) => {
                let note = format!("authorization server metadata of {}{remark}", metadata.issuer);
                self.record(url, Some(status), note);
                let (issuer, prm) = match std::mem::replace(&mut self.stage, Stage::Finished) {
                    Stage::ServerMetadata { issuer, prm } => (issuer, prm),
                    Stage::Legacy { origin } => (origin, None),
                    Stage::ResourceMetadata { .. } | Stage::Finished => return,
                };
                self.succeed(issuer, prm, metadata, Some(url.clone()));
            }
        }
    }

    /// `url` gave nothing usable: record it, then try the next candidate or end the stage.
    fn missed(&mut self, url: &Url, status: Option<u16>, miss: Miss) {
        self.record(url, status, miss.note());
        self.answered |= status.is_some();
        let more = self.next < self.candidates.len();
        match &self.stage {
            // The challenge named the one place to look: no guessing beyond it.
            Stage::ResourceMetadata { from_challenge: true } => {
                let error = match miss {
                    Miss::Absent(reason) | Miss::Unreachable(reason) => {
                        DiscoveryError::Unavailable { url: url.to_string(), reason }
                    }
                    Miss::Broken(error) | Miss::Refused(error) => error,
                };
                self.finish(Err(error));
            }
            Stage::ResourceMetadata { from_challenge: false } => {
                self.remember(miss);
                if more {
                    return;
                }
                if let Some((_, error)) = self.problem.take() {
                    return self.finish(Err(error));
                }
                // Nothing at either well-known URL: a 2025-03-26 server.
                self.annotate(LEGACY_NOTE);
                let origin = at_path(&self.server_url, "/");
                let url = at_path(&origin, OAUTH_WELL_KNOWN);
                self.begin(Stage::Legacy { origin }, vec![url]);
            }
            Stage::ServerMetadata { issuer, .. } => {
                let issuer = issuer.as_str().trim_end_matches('/').to_owned();
                self.remember(miss);
                if !more {
                    let error = self.problem.take().map(|(_, error)| error);
                    let fallback = if self.answered {
                        DiscoveryError::MetadataNotFound { issuer }
                    } else {
                        DiscoveryError::Unavailable {
                            url: issuer,
                            reason: "none of its metadata URLs answered".to_owned(),
                        }
                    };
                    self.finish(Err(error.unwrap_or(fallback)));
                }
            }
            Stage::Legacy { origin } => match miss {
                Miss::Absent(_) => {
                    let origin = origin.clone();
                    self.annotate(DEFAULT_ENDPOINTS_NOTE);
                    let metadata = AuthorizationServerMetadata::default_endpoints(&origin);
                    self.succeed(origin, None, metadata, None);
                }
                Miss::Unreachable(reason) => {
                    self.finish(Err(DiscoveryError::Unavailable { url: url.to_string(), reason }));
                }
                Miss::Broken(error) | Miss::Refused(error) => self.finish(Err(error)),
            },
            Stage::Finished => {}
        }
    }

    /// Keeps the first refused document, else the first broken one, as the stage's explanation.
    fn remember(&mut self, miss: Miss) {
        let (refused, error) = match miss {
            Miss::Refused(error) => (true, error),
            Miss::Broken(error) => (false, error),
            Miss::Absent(_) | Miss::Unreachable(_) => return,
        };
        let better = match &self.problem {
            None => true,
            Some((had_refused, _)) => refused && !had_refused,
        };
        if better {
            self.problem = Some((refused, error));
        }
    }
}

/// Parses a metadata document (`kind` names it in errors); a body that is not one makes the
/// candidate broken.
fn parse<T: for<'de> Deserialize<'de>>(
    url: &Url,
    body: &str,
    kind: &'static str,
) -> Result<T, Miss> {
    serde_json::from_str(body).map_err(|error| {
        let reason = error.to_string();
        Miss::Broken(DiscoveryError::Malformed { url: url.to_string(), kind, reason })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn shown(urls: &[Url]) -> Vec<&str> {
        urls.iter().map(Url::as_str).collect()
    }

    const RS: &str = "http://localhost:3000";
    const AS: &str = "http://localhost:4000";

    fn prm_doc(resource: &str, issuer: &str) -> String {
        json!({ "resource": resource, "authorization_servers": [issuer] }).to_string()
    }

    /// Metadata shaped like the conformance suite's authorization server.
    fn as_doc(issuer: &str, base: &str) -> String {
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "registration_endpoint": format!("{base}/register"),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
        })
        .to_string()
    }

    /// Plays a scripted server against the machine: each GET gets the first matching
    /// `(url, status, body)` (status 0 is a network failure), anything else a 404. Returns the
    /// URLs requested, in order.
    fn drive(discovery: &mut Discovery, script: &[(&str, u16, &str)]) -> Vec<String> {
        let mut asked = Vec::new();
        while let Some(next) = discovery.next_request() {
            assert!(discovery.next_request().is_none(), "one request at a time");
            asked.push(next.to_string());
            match script.iter().find(|(u, _, _)| *u == next.as_str()) {
                Some((_, 0, reason)) => discovery.handle_failure(&next, reason),
                Some((_, status, body)) => discovery.handle_response(&next, *status, body),
                None => discovery.handle_response(&next, 404, "Not Found"),
            }
            assert!(asked.len() < 16, "discovery does not end: {asked:?}");
        }
        asked
    }

    fn start(
        server: &str,
        challenge: Option<BearerInfo>,
        settings: DiscoverySettings,
    ) -> Discovery {
        Discovery::new(url(server), challenge, settings)
    }

    fn challenge(resource_metadata: Option<&str>, scope: Option<&[&str]>) -> Option<BearerInfo> {
        Some(BearerInfo {
            scope: scope.map(strings),
            resource_metadata: resource_metadata.map(str::to_owned),
        })
    }

    fn found(discovery: &Discovery) -> Discovered {
        match discovery.outcome() {
            Some(Ok(found)) => found,
            other => panic!("expected success, got {other:?}\ntrace: {:#?}", discovery.trace()),
        }
    }

    fn failed(discovery: &Discovery) -> DiscoveryError {
        match discovery.outcome() {
            Some(Err(error)) => error,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn entra_states_a_domain_tenant_by_its_id_and_is_asked_in_the_openid_form_first() {
        let guid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        let by_domain = "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0";
        let by_id = format!("https://login.microsoftonline.com/{guid}/v2.0");
        assert!(issuer_matches(by_domain, &by_id, None));
        assert!(!issuer_matches(
            by_domain,
            "https://login.microsoftonline.com/not-a-guid/v2.0",
            None
        ));
        assert!(!issuer_matches(
            by_domain,
            &format!("https://login.microsoftonline.com/{guid}/v1.0"),
            None
        ));
        assert!(!issuer_matches(by_domain, &format!("https://evil.example/{guid}/v2.0"), None));
        let elsewhere = "https://idp.example/contoso/v2.0";
        assert!(!issuer_matches(elsewhere, &format!("https://idp.example/{guid}/v2.0"), None));

        let settings = DiscoverySettings {
            fixed_issuer: Some(url(by_domain)),
            ..DiscoverySettings::default()
        };
        let mut d = start("https://mcp.example.com/mcp", None, settings);
        let doc_url = format!("{by_domain}/.well-known/openid-configuration");
        let endpoint = format!("https://login.microsoftonline.com/{guid}/oauth2/v2.0");
        let doc = json!({
            "issuer": by_id,
            "authorization_endpoint": format!("{endpoint}/authorize"),
            "token_endpoint": format!("{endpoint}/token"),
        })
        .to_string();
        let asked = drive(&mut d, &[(&doc_url, 200, &doc)]);
        assert_eq!(asked, vec![doc_url.clone()], "one GET, in Entra's form");
        assert_eq!(found(&d).metadata.issuer, by_id);
    }

    #[test]
    fn an_issuer_that_answers_nowhere_is_reported_as_unreachable_not_missing() {
        let settings = DiscoverySettings {
            fixed_issuer: Some(url("http://127.0.0.1:4000/t/v2.0")),
            ..DiscoverySettings::default()
        };
        let mut d = start(RS, None, settings.clone());
        let script = [
            ("http://127.0.0.1:4000/.well-known/oauth-authorization-server/t/v2.0", 0, "refused"),
            ("http://127.0.0.1:4000/.well-known/openid-configuration/t/v2.0", 0, "refused"),
            ("http://127.0.0.1:4000/t/v2.0/.well-known/openid-configuration", 0, "refused"),
        ];
        assert_eq!(drive(&mut d, &script).len(), 3);
        assert!(matches!(failed(&d), DiscoveryError::Unavailable { .. }), "{:?}", failed(&d));
        let mut d = start(RS, None, settings);
        drive(&mut d, &[]);
        assert!(matches!(failed(&d), DiscoveryError::MetadataNotFound { .. }));
    }

    #[test]
    fn protected_resource_metadata_is_looked_up_where_rfc_9728_and_the_challenge_say() {
        // RFC 9728 §3.1's example, verbatim.
        let urls =
            protected_resource_metadata_urls(&url("https://resource.example.com/resource1"), None);
        assert_eq!(
            urls.first().map(Url::as_str),
            Some("https://resource.example.com/.well-known/oauth-protected-resource/resource1")
        );
        // (server, challenged, expected): a leading `~` stands for the server's origin and the
        // well-known prefix.
        let cases: &[(&str, Option<&str>, &[&str])] = &[
            ("https://resource.example.com/resource1", None, &["~/resource1", "~"]),
            ("http://127.0.0.1:3000/mcp", None, &["~/mcp", "~"]),
            ("https://mcp.example.com", None, &["~"]),
            ("https://mcp.example.com/", None, &["~"]),
            ("https://example.com:8443/public/mcp/?tenant=a#top", None, &["~/public/mcp", "~"]),
            ("https://u:p@example.com/a%20b", None, &["~/a%20b", "~"]),
            (
                "http://h:3000/mcp",
                Some("http://h:3000/custom/m.json"),
                &["http://h:3000/custom/m.json"],
            ),
            (
                "http://h:3000/mcp",
                Some(" https://u:p@m.example/p?a=1#x "),
                &["https://m.example/p?a=1"],
            ),
            // Not an absolute http(s) URL: the challenge's value is ignored.
            ("https://a.example/mcp", Some("javascript:alert(1)"), &["~/mcp", "~"]),
            ("https://a.example/", Some("/relative"), &["~"]),
        ];
        for (server, challenged, expected) in cases {
            let server = url(server);
            let prefix = format!("{}{PRM_WELL_KNOWN}", server.origin().ascii_serialization());
            let expected: Vec<String> =
                expected.iter().map(|e| e.replacen('~', &prefix, 1)).collect();
            let urls = protected_resource_metadata_urls(&server, *challenged);
            assert_eq!(shown(&urls), expected, "{server} {challenged:?}");
        }
    }

    #[test]
    fn authorization_server_metadata_is_looked_up_in_the_mcp_order() {
        // RFC 8414 §3.1's example, verbatim, comes first.
        let urls = authorization_server_metadata_urls(&url("https://example.com/issuer1"));
        assert_eq!(
            urls.first().map(Url::as_str),
            Some("https://example.com/.well-known/oauth-authorization-server/issuer1")
        );
        let (oauth, oidc) = (OAUTH_WELL_KNOWN, OIDC_WELL_KNOWN);
        let forms =
            |p: &str| vec![format!("{oauth}{p}"), format!("{oidc}{p}"), format!("{p}{oidc}")];
        let cases = [
            ("https://example.com/issuer1", forms("/issuer1")),
            ("https://example.com/issuer1/", forms("/issuer1")),
            ("https://example.com/a/b?q=1", forms("/a/b")),
            ("https://auth.example.com", vec![oauth.to_owned(), oidc.to_owned()]),
        ];
        for (issuer, expected) in cases {
            let issuer = url(issuer);
            let urls = authorization_server_metadata_urls(&issuer);
            assert!(urls.iter().all(|u| u.origin() == issuer.origin() && u.query().is_none()));
            let paths: Vec<&str> = urls.iter().map(Url::path).collect();
            assert_eq!(paths, expected, "{issuer}");
        }
        let tenant = "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0";
        let urls = authorization_server_metadata_urls(&url(tenant));
        assert_eq!(urls.last().map(Url::as_str), Some(format!("{tenant}{oidc}").as_str()));
    }

    #[test]
    fn resource_must_name_this_server_or_a_path_prefix_of_it_on_its_origin() {
        let cases = [
            ("http://localhost:3000/mcp", "http://localhost:3000/mcp", true),
            ("http://localhost:3000/mcp/", "http://localhost:3000/mcp", true),
            ("http://localhost:3000", "http://localhost:3000/mcp", true),
            ("http://LOCALHOST:3000/mcp", "http://localhost:3000/mcp", true),
            ("https://x.example:443/a", "https://x.example/a/mcp", true),
            ("https://evil.example.com/mcp", "http://localhost:3000/mcp", false),
            ("http://localhost:3001/mcp", "http://localhost:3000/mcp", false),
            ("https://localhost:3000/mcp", "http://localhost:3000/mcp", false),
            ("http://127.0.0.1:3000/mcp", "http://localhost:3000/mcp", false),
            ("http://localhost:3000/mc", "http://localhost:3000/mcp", false),
            ("http://localhost:3000/mcp/extra", "http://localhost:3000/mcp", false),
            ("http://localhost:3000/mcp?t=b", "http://localhost:3000/mcp?t=a", false),
            ("not a url", "http://localhost:3000/mcp", false),
        ];
        for (resource, server, expected) in cases {
            assert_eq!(resource_identifies_server(resource, &url(server)), expected, "{resource}");
        }
    }

    #[test]
    fn issuers_match_exactly_but_for_a_trailing_slash_and_entras_tenant_placeholder() {
        let ms = "https://login.microsoftonline.com";
        let tid = "9188040d-6c67-4c5b-b112-36a304b66dad";
        let cases = [
            ("https://as.example/", "https://as.example", None, true),
            ("https://as.example/tenant1", "https://as.example/tenant1/", None, true),
            ("https://as.example/tenant1", "https://as.example/tenant2", None, false),
            ("https://as.example/tenant1", "https://as.example", None, false),
            (&format!("{ms}/common/v2.0"), &format!("{ms}/{{tenantid}}/v2.0"), None, true),
            (&format!("{ms}/organizations/v2.0"), &format!("{ms}/{{tenantid}}/v2.0"), None, true),
            (&format!("{ms}/consumers/v2.0/"), &format!("{ms}/{{tenantid}}/v2.0"), Some(tid), true),
            (&format!("{ms}/{tid}/v2.0"), &format!("{ms}/{{tenantid}}/v2.0"), Some(tid), true),
            (&format!("{ms}/{tid}/v2.0"), &format!("{ms}/{{tenantid}}/v2.0"), Some("other"), false),
            (&format!("{ms}/{tid}/v2.0"), &format!("{ms}/{{tenantid}}/v2.0"), None, false),
            (&format!("{ms}/common/v2.0"), "https://evil.example/{tenantid}/v2.0", None, false),
            (&format!("{ms}/common/v2.0"), &format!("{ms}/{{tenantid}}/v1.0"), None, false),
        ];
        for (expected, found, tenant, result) in cases {
            assert_eq!(issuer_matches(expected, found, tenant), result, "{expected} vs {found}");
        }
    }

    #[test]
    fn endpoints_need_https_except_on_loopback() {
        let cases = [
            ("https://as.example/token", Ok(())),
            ("http://localhost:4000/token", Ok(())),
            ("http://127.0.0.2/token", Ok(())),
            ("http://[::1]:4000/token", Ok(())),
            ("http://as.example/token", Err("insecure")),
            ("http://10.0.0.1/token", Err("insecure")),
            ("ftp://as.example/token", Err("invalid")),
            ("/token", Err("invalid")),
        ];
        for (value, expected) in cases {
            let got = check_endpoint("token_endpoint", value).map(|_| ()).map_err(|e| match e {
                DiscoveryError::InsecureEndpoint { .. } => "insecure",
                _ => "invalid",
            });
            assert_eq!(got, expected, "{value}");
        }
    }

    #[test]
    fn pkce_needs_s256_and_absence_passes_unless_strict() {
        let mut meta: AuthorizationServerMetadata =
            serde_json::from_str(&as_doc(AS, AS)).unwrap_or_else(|e| panic!("{e}"));
        let cases: [(Option<&[&str]>, bool, bool); 5] = [
            (Some(&["S256"]), true, true),
            (Some(&["plain", "S256"]), false, true),
            (Some(&["plain"]), false, false),
            (None, false, true),
            (None, true, false),
        ];
        for (methods, strict, ok) in cases {
            meta.code_challenge_methods_supported = methods.map(strings);
            assert_eq!(check_pkce(&meta, strict).is_ok(), ok, "{methods:?} strict={strict}");
        }
    }

    #[test]
    fn scopes_come_from_the_challenge_then_the_resource_then_the_settings() {
        const OA: &str = OFFLINE_ACCESS;
        type List<'a> = Option<&'a [&'a str]>;
        type Case<'a> = (List<'a>, List<'a>, &'a [&'a str], List<'a>, &'a [&'a str]);
        // (challenge, PRM scopes_supported, configured, AS scopes_supported, expected)
        let cases: &[Case] = &[
            (Some(&["files:read"]), Some(&["a", "b"]), &["c"], None, &["files:read"]),
            (Some(&["files:read files:write"]), None, &[], None, &["files:read", "files:write"]),
            (None, Some(&["mcp:basic"]), &["c"], None, &["mcp:basic"]),
            (Some(&[]), Some(&[]), &["api://x/mcp:tools"], None, &["api://x/mcp:tools"]),
            (None, Some(&["mcp:basic"]), &[], Some(&["mcp:basic", OA]), &["mcp:basic", OA]),
            (None, Some(&["b", "r"]), &[], Some(&["b", "r"]), &["b", "r"]),
            (Some(&[OA, "x"]), None, &[], Some(&[OA]), &[OA, "x"]),
            // auth/scope-omitted-when-undefined: nothing defined, so nothing is added either.
            (None, None, &[], Some(&["openid", OA]), &[]),
        ];
        for (challenge, prm, configured, offered, expected) in cases {
            let got = choose_scopes(
                challenge.map(strings).as_deref(),
                prm.map(strings).as_deref(),
                &strings(configured),
                offered.map(strings).as_deref(),
            );
            assert_eq!(got, strings(expected), "{challenge:?} {prm:?} {configured:?}");
        }
    }

    #[test]
    fn step_up_keeps_current_scopes_and_adds_challenged_ones_once() {
        let cases: &[(&[&str], &[&str], &[&str])] = &[
            (&["mcp:basic"], &["mcp:basic", "mcp:write"], &["mcp:basic", "mcp:write"]),
            (&["a", "b"], &["c"], &["a", "b", "c"]),
            (&[], &["c", "c"], &["c"]),
            (&["a"], &[], &["a"]),
        ];
        for (current, challenged, expected) in cases {
            assert_eq!(step_up(&strings(current), &strings(challenged)), strings(expected));
        }
    }

    #[test]
    fn resource_is_omitted_for_entra_and_servers_without_metadata() {
        let cases = [
            ("https://login.microsoftonline.com/common/v2.0", true, ResourcePolicy::Omit),
            ("https://login.microsoftonline.us/t/v2.0", true, ResourcePolicy::Omit),
            ("https://login.chinacloudapi.cn/t/v2.0", true, ResourcePolicy::Omit),
            ("https://login.partner.microsoftonline.cn/t/v2.0", true, ResourcePolicy::Omit),
            ("http://localhost:4000", false, ResourcePolicy::Omit),
            ("http://localhost:4000", true, ResourcePolicy::ServerUrl),
            ("https://login.microsoftonline.com.evil.example/t", true, ResourcePolicy::ServerUrl),
        ];
        for (issuer, has_prm, expected) in cases {
            assert_eq!(default_policy(&url(issuer), has_prm), expected, "{issuer}");
        }
    }

    #[test]
    fn resource_value_prefers_the_metadata_and_never_carries_a_fragment() {
        use ResourcePolicy::{Explicit, Omit, ServerUrl};
        let cases = [
            (Omit, "http://h:3000/mcp", Some("http://h:3000/mcp"), None),
            (ServerUrl, "http://h:3000/mcp#f", None, Some("http://h:3000/mcp")),
            (ServerUrl, "https://mcp.example.com/", None, Some("https://mcp.example.com")),
            (ServerUrl, "https://mcp.example.com/?a=1", None, Some("https://mcp.example.com/?a=1")),
            (ServerUrl, "http://h:3000/mcp", Some("http://h:3000#f"), Some("http://h:3000")),
            (
                Explicit("api://app-id#x".to_owned()),
                "http://h:3000/mcp",
                None,
                Some("api://app-id"),
            ),
            (Explicit(String::new()), "http://h:3000/mcp", None, None),
        ];
        for (policy, server, prm, expected) in cases {
            let got = resource_value(&policy, &url(server), prm);
            assert_eq!(got.as_deref(), expected, "{policy:?} {server}");
        }
    }

    #[test]
    fn metadata_keeps_members_it_does_not_name() {
        let prm: ProtectedResourceMetadata = serde_json::from_value(json!({
            "resource": "https://mcp.example.com/mcp",
            "authorization_servers": ["https://as.example"],
            "scopes_supported": null,
            "resource_documentation": "https://mcp.example.com/docs",
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(prm.scopes_supported, None);
        assert_eq!(
            prm.extra.get("resource_documentation"),
            Some(&json!("https://mcp.example.com/docs"))
        );
        let back = serde_json::to_value(&prm).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back["resource_documentation"], "https://mcp.example.com/docs");

        // Shaped like Entra's v2 `common` OpenID configuration (abbreviated).
        let entra = r#"{
            "token_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported":
                ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": "https://login.microsoftonline.com/common/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
            "authorization_endpoint":
                "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
            "end_session_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/logout",
            "tenant_region_scope": null, "cloud_instance_name": "microsoftonline.com"
        }"#;
        let meta: AuthorizationServerMetadata =
            serde_json::from_str(entra).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(meta.code_challenge_methods_supported, None);
        assert_eq!(meta.extra.get("tenant_region_scope"), Some(&Value::Null));
        assert_eq!(meta.endpoints().count(), 4);

        let missing = serde_json::from_str::<AuthorizationServerMetadata>(r#"{"issuer":"x"}"#);
        assert!(missing.is_err());
    }

    // --- the machine, against scripted servers shaped like the conformance scenarios ---

    #[test]
    fn metadata_default_follows_the_challenge_and_never_asks_the_root() {
        let prm_url = format!("{RS}/.well-known/oauth-protected-resource/mcp");
        let as_url = format!("{AS}/.well-known/oauth-authorization-server");
        let mut d =
            start(&format!("{RS}/mcp"), challenge(Some(&prm_url), None), Default::default());
        let asked = drive(
            &mut d,
            &[(&prm_url, 200, &prm_doc(&format!("{RS}/mcp"), AS)), (&as_url, 200, &as_doc(AS, AS))],
        );
        assert_eq!(asked, [prm_url.clone(), as_url.clone()]);
        let found = found(&d);
        assert_eq!(found.issuer.as_str(), "http://localhost:4000/");
        assert_eq!(found.metadata.token_endpoint, "http://localhost:4000/token");
        assert_eq!(found.resource_policy, ResourcePolicy::ServerUrl);
        assert!(found.scopes.is_empty());
        let steps: Vec<_> = d.trace().iter().map(|s| (s.url.to_string(), s.status)).collect();
        assert_eq!(steps, [(prm_url, Some(200)), (as_url, Some(200))]);
    }

    #[test]
    fn metadata_var1_falls_through_to_openid_configuration() {
        let mut d = start(&format!("{RS}/mcp"), None, Default::default());
        let prm_url = format!("{RS}/.well-known/oauth-protected-resource/mcp");
        let oidc = format!("{AS}/.well-known/openid-configuration");
        let asked = drive(
            &mut d,
            &[(&prm_url, 200, &prm_doc(&format!("{RS}/mcp"), AS)), (&oidc, 200, &as_doc(AS, AS))],
        );
        assert_eq!(asked, [prm_url, format!("{AS}/.well-known/oauth-authorization-server"), oidc]);
        assert_eq!(d.trace()[1].status, Some(404));
        found(&d);
    }

    #[test]
    fn path_issuers_are_never_looked_up_at_the_root() {
        let issuer = format!("{AS}/tenant1");
        let root_prm = format!("{RS}/.well-known/oauth-protected-resource");
        let custom = format!("{RS}/custom/metadata/location.json");
        let var2 = format!("{AS}/.well-known/oauth-authorization-server/tenant1");
        let var3 = format!("{AS}/tenant1/.well-known/openid-configuration");
        // (challenge, where the PRM is, where the AS metadata is); the PRM at the root names
        // the bare origin as its resource, as the suite's does.
        let cases = [
            (None, root_prm.as_str(), RS, Some(var2.as_str())),
            (Some(custom.as_str()), custom.as_str(), RS, Some(var3.as_str())),
            (None, root_prm.as_str(), RS, None),
        ];
        for (challenged, prm_at, resource, as_at) in cases {
            let mut d =
                start(&format!("{RS}/mcp"), challenge(challenged, None), Default::default());
            let prm = prm_doc(resource, &issuer);
            let meta = as_doc(&issuer, &issuer);
            let mut script = vec![(prm_at, 200, prm.as_str())];
            script.extend(as_at.map(|at| (at, 200, meta.as_str())));
            let asked = drive(&mut d, &script);
            assert!(
                !asked.iter().any(|u| u.ends_with(":4000/.well-known/oauth-authorization-server")),
                "{asked:?}"
            );
            assert!(
                !asked.iter().any(|u| u.ends_with(":4000/.well-known/openid-configuration")),
                "{asked:?}"
            );
            match as_at {
                Some(_) => assert_eq!(found(&d).metadata.issuer, issuer),
                None => assert_eq!(
                    failed(&d),
                    DiscoveryError::MetadataNotFound { issuer: issuer.clone() }
                ),
            }
        }
    }

    #[test]
    fn resource_mismatch_ends_discovery_before_any_authorization_server_request() {
        let prm_url = format!("{RS}/.well-known/oauth-protected-resource/mcp");
        let evil = prm_doc("https://evil.example.com/mcp", AS);
        for challenged in [Some(prm_url.as_str()), None] {
            let mut d =
                start(&format!("{RS}/mcp"), challenge(challenged, None), Default::default());
            let asked = drive(&mut d, &[(&prm_url, 200, &evil)]);
            assert!(asked.iter().all(|u| u.starts_with(RS)), "{asked:?}");
            assert!(matches!(failed(&d), DiscoveryError::ResourceMismatch { .. }));
        }
    }

    #[test]
    fn servers_without_resource_metadata_use_the_2025_03_26_rules() {
        let server = format!("{RS}/mcp");
        let legacy = format!("{RS}/.well-known/oauth-authorization-server");
        let oauth = format!("{RS}/oauth");
        // auth/2025-03-26-oauth-metadata-backcompat: metadata at the origin, issuer {origin}/oauth.
        let mut d = start(&server, None, Default::default());
        let asked = drive(&mut d, &[(&legacy, 200, &as_doc(&oauth, &oauth))]);
        assert_eq!(asked.len(), 3);
        assert_eq!(asked.last(), Some(&legacy));
        let got = found(&d);
        assert_eq!(
            (got.issuer.as_str(), got.metadata.issuer.as_str()),
            ("http://localhost:3000/", oauth.as_str())
        );
        assert_eq!((got.prm, got.resource_policy), (None, ResourcePolicy::Omit));

        // auth/2025-03-26-oauth-endpoint-fallback: nothing at all, so the default endpoints.
        let mut d = start(&server, None, Default::default());
        drive(&mut d, &[]);
        let got = found(&d);
        assert_eq!(got.metadata_url, None);
        let endpoints: Vec<_> = got.metadata.endpoints().map(|(_, v)| v.to_owned()).collect();
        assert_eq!(
            endpoints,
            [format!("{RS}/authorize"), format!("{RS}/token"), format!("{RS}/register")]
        );
        assert!(d.trace().last().is_some_and(|s| s.note.contains("default endpoints")));

        // Endpoints must be on the server's own origin (even over http) or use https.
        let internal = "http://mcp.internal:8080";
        let meta_at = format!("{internal}{OAUTH_WELL_KNOWN}");
        for (base, ok) in
            [(internal, true), ("https://as.example", true), ("http://as.example", false)]
        {
            let mut d = start(&format!("{internal}/mcp"), None, Default::default());
            drive(&mut d, &[(&meta_at, 200, &as_doc(base, base))]);
            let refused = matches!(d.outcome(), Some(Err(DiscoveryError::ForeignEndpoint { .. })));
            assert_eq!(!refused, ok, "{base}: {:?}", d.outcome());
        }
    }

    #[test]
    fn broken_or_refused_documents_are_reported_instead_of_guessing() {
        let server = format!("{RS}/mcp");
        let path_prm = format!("{RS}/.well-known/oauth-protected-resource/mcp");
        let root_prm = format!("{RS}/.well-known/oauth-protected-resource");
        let as_url = format!("{AS}/.well-known/oauth-authorization-server");
        let prm = prm_doc(&server, AS);
        let evil = prm_doc("https://evil.example.com/mcp", AS);
        let insecure_issuer = prm_doc(&server, "http://as.example");
        let wrong_issuer = as_doc("http://localhost:4001", AS);
        let insecure_endpoints = as_doc(AS, "http://as.example");
        // (script, challenge, what the error must be)
        type Case<'a> = (Vec<(&'a str, u16, &'a str)>, Option<&'a str>, &'a str);
        let cases: Vec<Case> = vec![
            (vec![(&path_prm, 200, "<html>")], None, "Malformed"),
            (vec![(&path_prm, 500, "")], None, "Unavailable"),
            (vec![(&path_prm, 500, ""), (&root_prm, 200, &evil)], None, "ResourceMismatch"),
            (vec![], Some(&path_prm), "Unavailable"),
            (vec![(&path_prm, 0, "TypeError: Failed to fetch")], Some(&path_prm), "Unavailable"),
            (
                vec![(&path_prm, 200, r#"{"resource":"http://localhost:3000/mcp"}"#)],
                None,
                "NoAuthorizationServer",
            ),
            (vec![(&path_prm, 200, &insecure_issuer)], None, "InsecureIssuer"),
            (vec![(&path_prm, 200, &prm), (&as_url, 200, &wrong_issuer)], None, "IssuerMismatch"),
            (vec![(&path_prm, 200, &prm), (&as_url, 200, "{}")], None, "Malformed"),
            (
                vec![(&path_prm, 200, &prm), (&as_url, 200, &insecure_endpoints)],
                None,
                "InsecureEndpoint",
            ),
        ];
        for (script, challenged, expected) in cases {
            let mut d = start(&server, challenge(challenged, None), Default::default());
            let asked = drive(&mut d, &script);
            let error = failed(&d);
            assert!(
                format!("{error:?}").starts_with(expected),
                "{expected}: {error:?} after {asked:?}"
            );
            assert!(!asked.iter().any(|u| u.ends_with("/authorize")));
            let text = error.to_string();
            assert!(text.ends_with('.') && !text.contains('\n'), "one sentence: {text}");
        }
    }

    #[test]
    fn a_refused_document_is_skipped_when_a_later_candidate_is_valid() {
        let prm_url = format!("{RS}/.well-known/oauth-protected-resource/mcp");
        let issuer = "http://LOCALHOST:4000/t";
        let first = format!("{AS}/.well-known/oauth-authorization-server/t");
        let third = format!("{AS}/t/.well-known/openid-configuration");
        let mut d = start(&format!("{RS}/mcp"), None, Default::default());
        let (prm, wrong, right) =
            (prm_doc(&format!("{RS}/mcp"), issuer), as_doc(AS, AS), as_doc(issuer, AS));
        drive(&mut d, &[(&prm_url, 200, &prm), (&first, 200, &wrong), (&third, 200, &right)]);
        assert_eq!(found(&d).metadata_url.map(String::from), Some(third));
        assert!(d.trace()[1].note.contains("RFC 8414"), "{:?}", d.trace());
    }

    #[test]
    fn network_failures_are_traced_and_the_next_candidate_is_tried() {
        let path_prm = format!("{RS}/.well-known/oauth-protected-resource/mcp");
        let root_prm = format!("{RS}/.well-known/oauth-protected-resource");
        let as_url = format!("{AS}/.well-known/oauth-authorization-server");
        let mut d = start(&format!("{RS}/mcp"), None, Default::default());
        drive(
            &mut d,
            &[
                (&path_prm, 0, "TypeError: Failed to fetch"),
                (&root_prm, 200, &prm_doc(RS, AS)),
                (&as_url, 200, &as_doc(AS, AS)),
            ],
        );
        found(&d);
        assert_eq!(d.trace()[0].status, None);
        assert!(d.trace()[0].note.contains("Failed to fetch"));
    }

    #[test]
    fn answers_to_requests_not_in_flight_are_ignored() {
        let mut d = start(&format!("{RS}/mcp"), None, Default::default());
        let first = d.next_request().unwrap_or_else(|| panic!("a first request"));
        d.handle_response(&url("http://localhost:3000/elsewhere"), 200, "{}");
        assert!(d.trace().is_empty() && d.next_request().is_none());
        d.handle_response(&first, 404, "");
        d.handle_response(&first, 200, "late duplicate");
        assert_eq!(d.trace().len(), 1);
        assert!(d.next_request().is_some());
    }

    #[test]
    fn an_explicit_entra_issuer_skips_resource_metadata_and_accepts_its_placeholder() {
        let issuer = "https://login.microsoftonline.com/common/v2.0";
        let doc_url = format!("{issuer}/.well-known/openid-configuration");
        let endpoint = "https://login.microsoftonline.com/common/oauth2/v2.0";
        let doc = json!({
            "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
            "authorization_endpoint": format!("{endpoint}/authorize"),
            "token_endpoint": format!("{endpoint}/token"),
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
        })
        .to_string();
        let settings = |strict_pkce| DiscoverySettings {
            strict_pkce,
            configured_scopes: strings(&["api://app/mcp:tools", "openid"]),
            fixed_issuer: Some(url(issuer)),
        };
        let mut d = start("https://mcp.example.com/mcp", None, settings(false));
        let asked = drive(&mut d, &[(&doc_url, 200, &doc)]);
        assert!(
            asked.iter().all(|u| u.starts_with("https://login.microsoftonline.com/")),
            "{asked:?}"
        );
        let got = found(&d);
        assert_eq!(got.scopes, strings(&["api://app/mcp:tools", "openid", "offline_access"]));
        assert_eq!(got.resource_policy, ResourcePolicy::Omit);

        let mut strict = start("https://mcp.example.com/mcp", None, settings(true));
        drive(&mut strict, &[(&doc_url, 200, &doc)]);
        assert!(matches!(failed(&strict), DiscoveryError::PkceNotAdvertised { .. }));
    }

    #[test]
    fn the_challenged_scope_wins_and_unusable_server_urls_fail_at_once() {
        let prm_url = format!("{RS}/.well-known/oauth-protected-resource/mcp");
        let as_url = format!("{AS}/.well-known/oauth-authorization-server");
        let mut prm: ProtectedResourceMetadata =
            serde_json::from_str(&prm_doc(&format!("{RS}/mcp"), AS))
                .unwrap_or_else(|e| panic!("{e}"));
        prm.scopes_supported = Some(strings(&["mcp:basic", "mcp:write"]));
        let prm = serde_json::to_string(&prm).unwrap_or_else(|e| panic!("{e}"));
        let mut d =
            start(&format!("{RS}/mcp"), challenge(None, Some(&["mcp:basic"])), Default::default());
        drive(&mut d, &[(&prm_url, 200, &prm), (&as_url, 200, &as_doc(AS, AS))]);
        assert_eq!(found(&d).scopes, strings(&["mcp:basic"]));

        for bad in ["file:///etc/passwd", "mailto:a@b.example"] {
            let mut d = start(bad, None, Default::default());
            assert_eq!(d.next_request(), None);
            assert!(matches!(failed(&d), DiscoveryError::InvalidServerUrl(_)));
        }
    }
}
