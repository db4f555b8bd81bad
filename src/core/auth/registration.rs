//! Who the console is to an authorization server, in the MCP specification's order: a client id
//! from the settings (the only way with Entra), else this console's Client ID Metadata Document
//! when the server takes them, else RFC 7591 dynamic registration as a public browser client.
//! A registration answer is read for the client id, a secret (for a confidential registration)
//! and the authentication method — and nothing else: its registration access token is never
//! kept.

use crate::core::auth::metadata::AuthorizationServerMetadata;
use crate::core::auth::settings::SignInSettings;
use crate::core::http::{ACCEPT_HEADER, CONTENT_TYPE_HEADER, HttpRequest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::ClientSecret;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::fmt;
use thiserror::Error;
use url::Url;

/// The name the console registers under.
const CLIENT_NAME: &str = "MCP Console";

/// Why the console has no client identity at a server; each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RegistrationError {
    #[error(
        "The authorization server {issuer} offers no dynamic registration and the console has no client id for it; register the console there (as a single-page app with the redirect URI shown in the sign-in settings) and enter its client id."
    )]
    NoWay { issuer: String },
    #[error(
        "The registration endpoint {0:?} is not a usable URL; its metadata is broken — ask its operator to fix it."
    )]
    BadEndpoint(String),
    #[error(
        "The console could not reach the registration endpoint {endpoint} ({reason}); check that the server is up and lets this page's origin call it (CORS), or enter a client id in the sign-in settings."
    )]
    Unreachable { endpoint: String, reason: String },
    #[error(
        "The authorization server's registration answer (HTTP {status}) names no client_id; enter a client id registered for the console in the sign-in settings."
    )]
    NoClientId { status: u16 },
    #[error(
        "The authorization server refused to register the console (HTTP {status}, {detail}); register it by hand and enter its client id in the sign-in settings."
    )]
    Refused { status: u16, detail: String },
    #[error(
        "The authorization server's registration endpoint answered HTTP {status} without a registration; register the console by hand and enter its client id in the sign-in settings."
    )]
    NoRegistration { status: u16 },
}

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

/// The client identity to use at the server `metadata` describes.
pub fn choose_client(
    settings: &SignInSettings,
    metadata: &AuthorizationServerMetadata,
) -> Result<ClientChoice, RegistrationError> {
    if let Some(id) = settings.client_id() {
        return Ok(ClientChoice::Configured(id.to_owned()));
    }
    if metadata.client_id_metadata_document_supported == Some(true)
        && let Some(url) = settings.client_metadata_url()
    {
        return Ok(ClientChoice::MetadataDocument(url.to_owned()));
    }
    match metadata.registration_endpoint.as_deref() {
        Some(endpoint) => Ok(ClientChoice::Register(endpoint.to_owned())),
        None => Err(RegistrationError::NoWay { issuer: metadata.issuer.clone() }),
    }
}

/// The redirect URI of a client the console registers at `issuer`: its callback page with the
/// issuer's fingerprint. A sign-in service that relays the window to another (say, to Entra with
/// a client id this console's deployer registered there) can only have the other redirect to
/// what is registered there, which lacks the fingerprint: the answer is then refused
/// (`flow::read_callback`) and its code goes nowhere.
pub fn registered_redirect(callback: &Url, issuer: &str) -> String {
    let digest = Sha256::digest(issuer.as_bytes());
    let mut url = callback.clone();
    url.query_pairs_mut().append_pair("as", &URL_SAFE_NO_PAD.encode(&digest[..9]));
    url.to_string()
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
) -> Result<HttpRequest, RegistrationError> {
    let url = url::Url::parse(endpoint)
        .ok()
        .filter(crate::core::address::is_http)
        .ok_or_else(|| RegistrationError::BadEndpoint(endpoint.to_owned()))?;
    // SEP-837 (2026-07-28): a client says what it is. A console served from this machine is a
    // "locally-hosted web application accessed via localhost", which the revision calls native;
    // one served from elsewhere is a web client.
    let application_type = match url::Url::parse(redirect_uri) {
        Ok(u) if crate::core::address::is_loopback(&u) => "native",
        _ => "web",
    };
    let mut body = json!({
        "client_name": CLIENT_NAME,
        "application_type": application_type,
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
    let json = || "application/json".to_owned();
    Ok(HttpRequest {
        method: "POST",
        url: url.to_string(),
        headers: vec![(CONTENT_TYPE_HEADER.into(), json()), (ACCEPT_HEADER.into(), json())],
        body: Some(body.to_string()),
    })
}

/// Reads the answer to [`registration_request`]: the client id, a secret and the method, nothing
/// more.
pub fn read_registration_response(
    status: u16,
    body: &[u8],
) -> Result<Registered, RegistrationError> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let text = |v: &Value, name: &str| v.get(name).and_then(Value::as_str).map(str::to_owned);
    match parsed {
        Some(v) if (200..300).contains(&status) => match text(&v, "client_id") {
            Some(client_id) if !client_id.is_empty() => Ok(Registered {
                client_id,
                client_secret: text(&v, "client_secret").map(ClientSecret::new),
                token_endpoint_auth_method: text(&v, "token_endpoint_auth_method"),
            }),
            _ => Err(RegistrationError::NoClientId { status }),
        },
        Some(v) if text(&v, "error").is_some() => {
            let error = text(&v, "error").unwrap_or_default();
            let description = clip(&text(&v, "error_description").unwrap_or_default());
            let detail =
                if description.is_empty() { error } else { format!("{error}: {description}") };
            Err(RegistrationError::Refused { status, detail })
        }
        _ => Err(RegistrationError::NoRegistration { status }),
    }
}

fn clip(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    clean.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json::FromJson;

    const REDIRECT: &str = "http://127.0.0.1:8080/callback.html";

    fn metadata() -> AuthorizationServerMetadata {
        let doc = json!({
            "issuer": "http://127.0.0.1:4000",
            "authorization_endpoint": "http://127.0.0.1:4000/authorize",
            "token_endpoint": "http://127.0.0.1:4000/token",
        });
        AuthorizationServerMetadata::from_json(doc).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_client_is_configured_then_a_metadata_document_then_registered() {
        let mut m = metadata();
        let mut settings = SignInSettings::default();
        assert!(
            choose_client(&settings, &m)
                .is_err_and(|e| e.to_string().contains("enter its client id"))
        );
        m.registration_endpoint = Some("http://127.0.0.1:4000/register".into());
        assert_eq!(
            choose_client(&settings, &m),
            Ok(ClientChoice::Register("http://127.0.0.1:4000/register".into()))
        );
        settings.client_metadata_url = Some("https://console.example/client.json".into());
        assert!(
            matches!(choose_client(&settings, &m), Ok(ClientChoice::Register(_))),
            "not supported yet"
        );
        m.client_id_metadata_document_supported = Some(true);
        assert_eq!(
            choose_client(&settings, &m),
            Ok(ClientChoice::MetadataDocument("https://console.example/client.json".into()))
        );
        settings.client_id = Some("pre".into());
        assert_eq!(choose_client(&settings, &m), Ok(ClientChoice::Configured("pre".into())));
    }

    #[test]
    fn a_registered_client_returns_to_a_callback_marked_with_its_issuer() {
        let callback = Url::parse(REDIRECT).unwrap_or_else(|e| panic!("{e}"));
        let a = registered_redirect(&callback, "https://a.example");
        assert!(a.starts_with("http://127.0.0.1:8080/callback.html?as="), "{a}");
        assert_eq!(a, registered_redirect(&callback, "https://a.example"), "stable per issuer");
        assert_ne!(a, registered_redirect(&callback, "https://b.example"));
    }

    #[test]
    fn registration_is_a_public_client_and_its_answer_is_checked() {
        let req = registration_request(
            "http://127.0.0.1:4000/register",
            REDIRECT,
            &["a".into(), "b".into()],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let body: Value =
            serde_json::from_str(req.body.as_deref().unwrap_or_default()).unwrap_or_default();
        assert_eq!(body["redirect_uris"], json!([REDIRECT]));
        assert_eq!(body["token_endpoint_auth_method"], "none");
        assert_eq!(body["scope"], "a b");
        assert_eq!(req.method, "POST");
        assert_eq!(body["application_type"], "native", "the console on loopback");
        let hosted = "https://console.example/callback.html";
        let req = registration_request("https://as.example/register", hosted, &[])
            .unwrap_or_else(|e| panic!("{e}"));
        let body: Value =
            serde_json::from_str(req.body.as_deref().unwrap_or_default()).unwrap_or_default();
        assert_eq!(body["application_type"], "web", "the console on an intranet host");

        let ok = read_registration_response(
            201,
            br#"{"client_id":"c9","client_secret":"shh","token_endpoint_auth_method":"client_secret_basic","registration_access_token":"RAT"}"#,
        );
        let registered = ok.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(registered.client_id, "c9");
        assert_eq!(registered.client_secret.as_ref().map(|s| s.secret().as_str()), Some("shh"));
        assert!(
            !format!("{registered:?}").contains("shh")
                && !format!("{registered:?}").contains("RAT")
        );
        let refused = read_registration_response(
            400,
            br#"{"error":"invalid_redirect_uri","error_description":"no\u0007"}"#,
        );
        assert!(refused.is_err_and(|e| e.to_string().contains("invalid_redirect_uri: no)")));
        assert!(read_registration_response(201, b"{}").is_err());
        assert!(
            read_registration_response(502, b"<html>")
                .is_err_and(|e| e.to_string().contains("HTTP 502"))
        );
    }
}
