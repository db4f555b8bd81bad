//! The documents sign-in rests on and every check made of them, before anything is sent: RFC 9728
//! protected resource metadata (it must name this server, and the issuer used for a server must
//! be one it lists), RFC 8414 / OpenID Connect authorization server metadata (the issuer stated
//! exactly as asked, byte for byte, with Entra's two documented exceptions on Entra's hosts only;
//! PKCE S256; every endpoint over https except on this machine; the endpoints that receive
//! sign-in data on the issuer's own origin unless the deployer's `config.json` gave the
//! metadata), and the 2025-03-26 fallback at the server's origin. Pure: documents in, verdicts
//! out.

use crate::core::address::{AddressError, is_http, is_secure, lies_under, same_origin};
use crate::core::json::{Fields, FromJson, Malformed};
use serde::Serialize;
use serde_json::{Map, Value};
use thiserror::Error;
use url::Url;

/// The hosts of Microsoft Entra's sign-in service in the public and national clouds.
pub const ENTRA_HOSTS: [&str; 4] = [
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn",
];
/// Entra's multi-tenant path segments, whose metadata names the issuer `{tenantid}` literally.
const MULTI_TENANT: [&str; 3] = ["common", "organizations", "consumers"];
/// Where Entra's multi-tenant metadata names the tenant.
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// RFC 9728 protected resource metadata, as the MCP server serves it.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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

impl FromJson for ProtectedResourceMetadata {
    fn from_json(value: Value) -> Result<Self, Malformed> {
        let mut f = Fields::of(value, "document")?;
        Ok(ProtectedResourceMetadata {
            resource: f.string("resource")?,
            authorization_servers: f.optional_strings("authorization_servers")?,
            scopes_supported: f.optional_strings("scopes_supported")?,
            bearer_methods_supported: f.optional_strings("bearer_methods_supported")?,
            resource_name: f.optional_string("resource_name")?,
            extra: f.rest(),
        })
    }
}

impl FromJson for AuthorizationServerMetadata {
    fn from_json(value: Value) -> Result<Self, Malformed> {
        let mut f = Fields::of(value, "document")?;
        Ok(AuthorizationServerMetadata {
            issuer: f.string("issuer")?,
            authorization_endpoint: f.string("authorization_endpoint")?,
            token_endpoint: f.string("token_endpoint")?,
            registration_endpoint: f.optional_string("registration_endpoint")?,
            scopes_supported: f.optional_strings("scopes_supported")?,
            response_types_supported: f.optional_strings("response_types_supported")?,
            grant_types_supported: f.optional_strings("grant_types_supported")?,
            code_challenge_methods_supported: f
                .optional_strings("code_challenge_methods_supported")?,
            token_endpoint_auth_methods_supported: f
                .optional_strings("token_endpoint_auth_methods_supported")?,
            client_id_metadata_document_supported: f
                .optional_bool("client_id_metadata_document_supported")?,
            authorization_response_iss_parameter_supported: f
                .optional_bool("authorization_response_iss_parameter_supported")?,
            revocation_endpoint: f.optional_string("revocation_endpoint")?,
            end_session_endpoint: f.optional_string("end_session_endpoint")?,
            jwks_uri: f.optional_string("jwks_uri")?,
            extra: f.rest(),
        })
    }
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

/// Why a document, or the place it came from, cannot be used; each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MetadataError {
    #[error(transparent)]
    InvalidServerUrl(#[from] AddressError),
    #[error(
        "The server {server} is not served over https://, so the console will not sign in to it or send it a token (plain http:// is allowed only on this machine); use its https:// address."
    )]
    InsecureServer { server: String },
    #[error(
        "The server's challenge points its protected resource metadata at {url}, which is not https:// (plain http:// is allowed only on this machine), so the console will not read it; ask the server's operator to serve it over https."
    )]
    InsecureMetadataUrl { url: String },
    #[error(
        "The protected resource metadata at {url} is for {resource}, not for this server ({server}), so the console will not sign in with it — check the server URL or ask its operator to fix the metadata."
    )]
    ResourceMismatch { url: String, resource: String, server: String },
    #[error(
        "The protected resource metadata at {url} names no authorization server; ask the server's operator to add one, or set the sign-in service in the console's configuration."
    )]
    NoAuthorizationServer { url: String },
    #[error(
        "The server names the authorization servers {listed}, and {issuer}, where the sign-in settings send you, is not one of them, so the console will not sign in there for it; check the sign-in settings (Instance and TenantId) or ask the server's operator."
    )]
    IssuerNotListed { issuer: String, listed: String },
    #[error(
        "The authorization server {issuer:?} is not an https:// URL (plain http:// is allowed only on this machine); ask the server's operator to fix it, or set the sign-in service in the console's configuration."
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
        "The authorization server's {name} {url} does not use https:// (plain http:// is allowed only on this machine), so the console will not send sign-in data there — ask its operator to serve it over https."
    )]
    InsecureEndpoint { name: &'static str, url: String },
    #[error(
        "The authorization server's {name} {value:?} is not an http(s) URL; its metadata is broken — ask its operator to fix it."
    )]
    InvalidEndpoint { name: &'static str, value: String },
    #[error(
        "The metadata of {issuer} puts its {name} at {url}, on another origin than the issuer, so the console refuses it (a sign-in code or token sent there could reach someone else); if this is right, the deployer can give this metadata in config.json."
    )]
    ForeignEndpoint { name: &'static str, url: String, issuer: String },
    #[error(
        "No authorization server metadata was found for {issuer} (neither OAuth nor OpenID Connect discovery answered); check the issuer, and see the Auth view for each URL tried."
    )]
    MetadataNotFound { issuer: String },
}

/// The endpoints that receive something of a sign-in (the person, a code, a verifier, a token, a
/// registration): they must belong to the issuer.
const DATA_ENDPOINTS: [&str; 4] =
    ["authorization_endpoint", "token_endpoint", "registration_endpoint", "revocation_endpoint"];

/// Whether a protected resource metadata `resource` identifies the server at `server_url`
/// (RFC 9728 §3.3): the server lies under it, as the MCP SDKs accept.
pub fn resource_identifies_server(resource: &str, server_url: &Url) -> bool {
    Url::parse(resource)
        .is_ok_and(|resource| is_http(&resource) && lies_under(server_url, &resource))
}

/// An issuer the console may fetch metadata from: http(s), and https unless it is on loopback.
pub fn check_issuer(value: &str) -> Result<Url, MetadataError> {
    Url::parse(value.trim())
        .ok()
        .filter(is_secure)
        .ok_or_else(|| MetadataError::InsecureIssuer { issuer: value.to_owned() })
}

/// An endpoint the console may send sign-in data to: http(s), and https unless it is on loopback.
pub fn check_endpoint(name: &'static str, value: &str) -> Result<Url, MetadataError> {
    let url = Url::parse(value)
        .ok()
        .filter(is_http)
        .ok_or_else(|| MetadataError::InvalidEndpoint { name, value: value.to_owned() })?;
    if is_secure(&url) {
        Ok(url)
    } else {
        Err(MetadataError::InsecureEndpoint { name, url: value.to_owned() })
    }
}

/// S256 must be listed, if methods are listed at all: Entra's metadata omits the list while
/// requiring PKCE, so refusing absence would lock Entra out.
pub fn check_pkce(metadata: &AuthorizationServerMetadata) -> Result<(), MetadataError> {
    match &metadata.code_challenge_methods_supported {
        Some(methods) if !methods.iter().any(|m| m == "S256") => {
            Err(MetadataError::PkceUnsupported { issuer: metadata.issuer.clone() })
        }
        _ => Ok(()),
    }
}

/// Whether `url` is Microsoft Entra's sign-in service, in any cloud.
pub fn is_entra(url: &Url) -> bool {
    url.host_str().is_some_and(|host| ENTRA_HOSTS.iter().any(|h| host.eq_ignore_ascii_case(h)))
}

/// Whether `issuer` (or an instance) is on Entra's sign-in service, over https.
pub fn on_entra(issuer: &str) -> bool {
    Url::parse(issuer).is_ok_and(|url| is_entra(&url) && url.scheme() == "https")
}

/// Whether the issuer `found` (in a metadata document, a protected resource's list or an `iss`
/// parameter) is the issuer `expected`: identical, byte for byte, with no URL normalization
/// (RFC 8414 §3.3, RFC 9207). Entra's hosts, and only they, have two documented exceptions:
/// multi-tenant documents state `https://login.microsoftonline.com/{tenantid}/v2.0` literally
/// (with `tenant_id`, a token's `tid`, the placeholder is filled in first; without, it is
/// accepted for the `common`, `organizations` or `consumers` authority), and a tenant named by
/// its domain states its issuer by the tenant's id.
pub fn issuer_matches(expected: &str, found: &str, tenant_id: Option<&str>) -> bool {
    if expected == found {
        return true;
    }
    if !on_entra(expected) || !on_entra(found) {
        return false;
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
/// its id in the issuer its metadata states (`…/<tenant id>/v2.0`): an issuer on the same Entra
/// host that differs from the expected one only in that segment, and holds a tenant id (a GUID)
/// there, is the same issuer.
fn entra_tenant_by_id(expected: &str, found: &str) -> bool {
    let (Ok(e), Ok(f)) = (Url::parse(expected), Url::parse(found)) else { return false };
    if !same_origin(&e, &f) {
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
    // Only a tenant named by its domain is stated by an id; one id never stands for another.
    es.len() == fs.len()
        && es.len() >= 2
        && es.get(1..) == fs.get(1..)
        && es.first().is_some_and(|t| !is_guid(t))
        && fs.first().is_some_and(|t| is_guid(t))
}

/// Checks protected resource metadata fetched from `url` for the server at `server_url`, and
/// returns the issuer to sign in with: `fixed` (from the settings) when the document lists it
/// exactly, else the first one it lists (RFC 9728 §7.6 leaves the choice to the client). An
/// Entra tenant named by its domain in the settings is listed by its id: then the issuers are
/// returned too, and the one Entra's own metadata states for the domain must be among them.
pub fn validate_resource_metadata(
    prm: &ProtectedResourceMetadata,
    server_url: &Url,
    url: &Url,
    fixed: Option<&str>,
) -> Result<(String, Option<Vec<String>>), MetadataError> {
    if !resource_identifies_server(&prm.resource, server_url) {
        return Err(MetadataError::ResourceMismatch {
            url: url.to_string(),
            resource: prm.resource.clone(),
            server: server_url.to_string(),
        });
    }
    let listed = prm.authorization_servers.as_deref().unwrap_or_default();
    let Some(first) = listed.first() else {
        return Err(MetadataError::NoAuthorizationServer { url: url.to_string() });
    };
    let chosen = match fixed {
        None => (first.clone(), None),
        Some(fixed) if listed.iter().any(|l| l == fixed) => (fixed.to_owned(), None),
        Some(fixed) if on_entra(fixed) && listed.iter().any(|l| entra_tenant_by_id(fixed, l)) => {
            (fixed.to_owned(), Some(listed.to_vec()))
        }
        Some(fixed) => {
            return Err(MetadataError::IssuerNotListed {
                issuer: fixed.to_owned(),
                listed: listed.join(", "),
            });
        }
    };
    check_issuer(&chosen.0)?;
    Ok(chosen)
}

/// Every endpoint over https (except on this machine), and the ones that receive sign-in data on
/// `home`'s origin when a home is given.
fn check_endpoints(
    metadata: &AuthorizationServerMetadata,
    home: Option<&Url>,
) -> Result<(), MetadataError> {
    for (name, value) in metadata.endpoints() {
        let url = check_endpoint(name, value)?;
        if let Some(home) = home
            && DATA_ENDPOINTS.contains(&name)
            && !same_origin(&url, home)
        {
            return Err(MetadataError::ForeignEndpoint {
                name,
                url: value.to_owned(),
                issuer: metadata.issuer.clone(),
            });
        }
    }
    Ok(())
}

/// Checks authorization server metadata fetched from `url` for `expected_issuer` (as the
/// protected resource or the settings spell it): the issuer ([`issuer_matches`]), PKCE, and every
/// endpoint, those receiving sign-in data on the issuer's origin (RFC 9207's mix-up attack needs
/// a token endpoint elsewhere; Entra sends no `iss`, so this is where it is stopped).
pub fn validate_server_metadata(
    metadata: &AuthorizationServerMetadata,
    expected_issuer: &str,
    url: &Url,
) -> Result<(), MetadataError> {
    if !issuer_matches(expected_issuer, &metadata.issuer, None) {
        return Err(MetadataError::IssuerMismatch {
            url: url.to_string(),
            expected: expected_issuer.to_owned(),
            found: metadata.issuer.clone(),
        });
    }
    check_pkce(metadata)?;
    let home = check_issuer(expected_issuer)?;
    check_endpoints(metadata, Some(&home))
}

/// Checks metadata the deployer wrote into `config.json`: it is trusted to put endpoints on other
/// origins (some providers do), but nothing is sent in cleartext.
pub fn validate_configured_metadata(
    metadata: &AuthorizationServerMetadata,
) -> Result<(), MetadataError> {
    check_issuer(&metadata.issuer)?;
    check_pkce(metadata)?;
    check_endpoints(metadata, None)
}

/// Checks 2025-03-26 metadata found at the MCP server's origin, which is then the authorization
/// server. Its issuer is not compared (servers of that revision state e.g. `{origin}/oauth`), but
/// its endpoints must be on the server's origin, over https unless on this machine.
pub fn validate_legacy_metadata(
    metadata: &AuthorizationServerMetadata,
    server_url: &Url,
) -> Result<(), MetadataError> {
    check_pkce(metadata)?;
    check_endpoints(metadata, Some(server_url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing::{strings, url};
    use serde_json::json;

    fn doc(issuer: &str, authorize: &str, token: &str) -> AuthorizationServerMetadata {
        let value = json!({
            "issuer": issuer,
            "authorization_endpoint": authorize,
            "token_endpoint": token,
            "code_challenge_methods_supported": ["S256"],
        });
        AuthorizationServerMetadata::from_json(value).unwrap_or_else(|e| panic!("{e}"))
    }

    fn prm(resource: &str, issuers: &[&str]) -> ProtectedResourceMetadata {
        let value = json!({ "resource": resource, "authorization_servers": issuers });
        ProtectedResourceMetadata::from_json(value).unwrap_or_else(|e| panic!("{e}"))
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
    fn issuers_are_compared_byte_for_byte_with_entras_two_exceptions_on_its_hosts_only() {
        let ms = "https://login.microsoftonline.com";
        let tid = "9188040d-6c67-4c5b-b112-36a304b66dad";
        let cases = [
            ("https://as.example", "https://as.example", None, true),
            // No normalization at all (RFC 8414 §3.3, the 2026-07-28 revision on `iss`).
            ("https://as.example/", "https://as.example", None, false),
            ("https://as.example/tenant1", "https://as.example/tenant1/", None, false),
            ("https://as.example", "https://AS.example", None, false),
            ("https://as.example", "https://as.example:443", None, false),
            ("https://as.example/a%2Fb", "https://as.example/a/b", None, false),
            ("https://as.example/tenant1", "https://as.example/tenant2", None, false),
            (&format!("{ms}/common/v2.0"), &format!("{ms}/{{tenantid}}/v2.0"), None, true),
            (&format!("{ms}/organizations/v2.0"), &format!("{ms}/{{tenantid}}/v2.0"), None, true),
            (&format!("{ms}/{tid}/v2.0"), &format!("{ms}/{{tenantid}}/v2.0"), Some(tid), true),
            (&format!("{ms}/{tid}/v2.0"), &format!("{ms}/{{tenantid}}/v2.0"), Some("other"), false),
            (&format!("{ms}/{tid}/v2.0"), &format!("{ms}/{{tenantid}}/v2.0"), None, false),
            (&format!("{ms}/common/v2.0"), "https://evil.example/{tenantid}/v2.0", None, false),
            (&format!("{ms}/common/v2.0"), &format!("{ms}/{{tenantid}}/v1.0"), None, false),
            // The placeholder means nothing off Entra's hosts.
            ("https://idp.example/common/v2.0", "https://idp.example/{tenantid}/v2.0", None, false),
            (
                "http://127.0.0.1:4000/common/v2.0",
                "http://127.0.0.1:4000/{tenantid}/v2.0",
                None,
                false,
            ),
        ];
        for (expected, found, tenant, result) in cases {
            assert_eq!(issuer_matches(expected, found, tenant), result, "{expected} vs {found}");
        }
    }

    #[test]
    fn entra_states_a_domain_tenant_by_its_id_on_its_own_hosts_only() {
        let guid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        let by_domain = "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0";
        let by_id = format!("https://login.microsoftonline.com/{guid}/v2.0");
        assert!(issuer_matches(by_domain, &by_id, None));
        let not_guid = "https://login.microsoftonline.com/not-a-guid/v2.0";
        assert!(!issuer_matches(by_domain, not_guid, None));
        let v1 = format!("https://login.microsoftonline.com/{guid}/v1.0");
        assert!(!issuer_matches(by_domain, &v1, None));
        assert!(!issuer_matches(by_domain, &format!("https://evil.example/{guid}/v2.0"), None));
        let elsewhere = "https://idp.example/contoso/v2.0";
        assert!(!issuer_matches(elsewhere, &format!("https://idp.example/{guid}/v2.0"), None));
        let other_id =
            "https://login.microsoftonline.com/5f2c9a31-8d4e-4b6a-9f1c-2e7d3a8b4c6d/v2.0";
        assert!(!issuer_matches(other_id, &by_id, None), "one tenant id never stands for another");
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
                MetadataError::InsecureEndpoint { .. } => "insecure",
                _ => "invalid",
            });
            assert_eq!(got, expected, "{value}");
        }
    }

    #[test]
    fn pkce_needs_s256_and_absence_passes_for_entras_sake() {
        let mut meta = doc("https://as.example", "https://as.example/a", "https://as.example/t");
        let cases: [(Option<&[&str]>, bool); 4] = [
            (Some(&["S256"]), true),
            (Some(&["plain", "S256"]), true),
            (Some(&["plain"]), false),
            (None, true),
        ];
        for (methods, ok) in cases {
            meta.code_challenge_methods_supported = methods.map(strings);
            assert_eq!(check_pkce(&meta).is_ok(), ok, "{methods:?}");
        }
    }

    /// Attack 1 of the security review: metadata whose issuer matches and whose authorization
    /// endpoint is the real sign-in page, with the token endpoint (where the code and the PKCE
    /// verifier go) on the attacker's host. Entra sends no `iss` to notice it afterwards.
    #[test]
    fn a_mix_up_document_with_the_token_endpoint_elsewhere_is_refused() {
        let evil = "https://evil.example/t/v2.0";
        let at = url("https://evil.example/t/v2.0/.well-known/openid-configuration");
        let split = doc(
            evil,
            "https://login.microsoftonline.com/t/oauth2/v2.0/authorize",
            "https://evil.example/t/oauth2/v2.0/token",
        );
        let refused = validate_server_metadata(&split, evil, &at);
        assert!(
            matches!(
                &refused,
                Err(MetadataError::ForeignEndpoint { name: "authorization_endpoint", .. })
            ),
            "{refused:?}"
        );
        let mut other = doc(evil, "https://evil.example/a", "https://login.microsoftonline.com/t");
        assert!(matches!(
            validate_server_metadata(&other, evil, &at),
            Err(MetadataError::ForeignEndpoint { name: "token_endpoint", .. })
        ));
        other.token_endpoint = "https://evil.example/token".into();
        other.revocation_endpoint = Some("https://collector.example/revoke".into());
        assert!(matches!(
            validate_server_metadata(&other, evil, &at),
            Err(MetadataError::ForeignEndpoint { name: "revocation_endpoint", .. })
        ));
        // Where the data does not go, another origin is fine (Entra's keys, say).
        other.revocation_endpoint = None;
        other.jwks_uri = Some("https://keys.example/jwks".into());
        assert_eq!(validate_server_metadata(&other, evil, &at), Ok(()));
        // The deployer may write such a document into config.json; cleartext stays refused.
        assert_eq!(validate_configured_metadata(&split), Ok(()));
        let cleartext = doc("https://idp.example", "http://idp.example/a", "https://idp.example/t");
        assert!(validate_configured_metadata(&cleartext).is_err());
    }

    #[test]
    fn the_issuer_used_for_a_server_must_be_one_it_lists() {
        let server = url("https://mcp.example/mcp");
        let at = url("https://mcp.example/.well-known/oauth-protected-resource/mcp");
        let real = "https://login.microsoftonline.com/5f2c9a31-8d4e-4b6a-9f1c-2e7d3a8b4c6d/v2.0";
        let doc = prm("https://mcp.example/mcp", &["https://idp.example", real]);
        assert_eq!(
            validate_resource_metadata(&doc, &server, &at, None),
            Ok(("https://idp.example".to_owned(), None))
        );
        assert_eq!(
            validate_resource_metadata(&doc, &server, &at, Some(real)),
            Ok((real.to_owned(), None))
        );
        let evil = "https://evil.example/5f2c9a31-8d4e-4b6a-9f1c-2e7d3a8b4c6d/v2.0";
        let refused = validate_resource_metadata(&doc, &server, &at, Some(evil));
        assert!(matches!(&refused, Err(MetadataError::IssuerNotListed { .. })), "{refused:?}");
        let text = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains(evil) && text.contains(real), "{text}");
        // A domain-named Entra tenant is the tenant the server lists by id.
        let by_domain = "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0";
        let by_id = prm(
            "https://mcp.example/mcp",
            &["https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"],
        );
        // A domain-named Entra tenant is listed by id: which id Entra states for the domain is
        // checked against the list once Entra's metadata is read (see `discovery`).
        let (issuer, must_state) =
            validate_resource_metadata(&by_id, &server, &at, Some(by_domain))
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(issuer, by_domain);
        assert_eq!(must_state, by_id.authorization_servers.clone());
        let insecure = prm("https://mcp.example/mcp", &["http://idp.example"]);
        assert!(matches!(
            validate_resource_metadata(&insecure, &server, &at, None),
            Err(MetadataError::InsecureIssuer { .. })
        ));
    }

    #[test]
    fn legacy_metadata_stays_on_the_servers_origin_and_off_cleartext() {
        let meta = |base: &str| {
            doc(&format!("{base}/oauth"), &format!("{base}/authorize"), &format!("{base}/token"))
        };
        let cases = [
            ("http://localhost:3000", "http://localhost:3000/mcp", true),
            ("https://mcp.example", "https://mcp.example/mcp", true),
            ("https://as.example", "https://mcp.example/mcp", false),
            ("http://mcp.internal:8080", "http://mcp.internal:8080/mcp", false),
        ];
        for (base, server, ok) in cases {
            let got = validate_legacy_metadata(&meta(base), &url(server));
            assert_eq!(got.is_ok(), ok, "{base}: {got:?}");
        }
    }

    #[test]
    fn metadata_keeps_members_it_does_not_name() {
        let prm = ProtectedResourceMetadata::from_json(json!({
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
        let meta = serde_json::from_str(entra)
            .map_err(|e| e.to_string())
            .and_then(|v| AuthorizationServerMetadata::from_json(v).map_err(|e| e.to_string()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(meta.code_challenge_methods_supported, None);
        assert_eq!(meta.extra.get("tenant_region_scope"), Some(&Value::Null));
        assert_eq!(meta.endpoints().count(), 4);
        let common = "https://login.microsoftonline.com/common/v2.0";
        let at = url(&format!("{common}/.well-known/openid-configuration"));
        assert_eq!(validate_server_metadata(&meta, common, &at), Ok(()));

        let missing = AuthorizationServerMetadata::from_json(json!({"issuer": "x"}));
        assert_eq!(missing, Err(Malformed("authorization_endpoint")));
    }
}
