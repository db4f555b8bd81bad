//! The token endpoint, as pure logic: the form POSTs that redeem a code, refresh and revoke
//! (RFC 7009), with the client authenticating by nothing (a public client, the rule), or by a
//! secret typed into the page (HTTP Basic or in the form, as registered); and the answers read
//! into a [`TokenSet`], the ID token's `nonce` checked, display [`Claims`] read, and what kind of
//! token a pasted one is. Errors are the flow's ([`SignInError`]).

use crate::core::auth::flow::{PendingSignIn, SignInError, refused};
use crate::core::auth::tokens::TokenSet;
use crate::core::http::{ACCEPT_HEADER, AUTHORIZATION_HEADER, CONTENT_TYPE_HEADER, HttpRequest};
use crate::core::json::{Fields, Malformed};
use crate::core::session::Millis;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::{AccessToken, AuthorizationCode, ClientSecret, RefreshToken};
use serde_json::Value;
use url::{Url, form_urlencoded};

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

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

/// A form POST to the token or revocation endpoint (`what`). The browser adds `Origin` itself
/// (Entra requires it).
fn form_post(
    what: &'static str,
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
    let url = Url::parse(endpoint)
        .ok()
        .filter(crate::core::address::is_http)
        .ok_or_else(|| SignInError::InvalidUrl { what, value: endpoint.to_owned() })?;
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
    let mut headers = vec![
        (CONTENT_TYPE_HEADER.into(), FORM.to_owned()),
        (ACCEPT_HEADER.into(), JSON.to_owned()),
    ];
    if let ClientAuth::Basic(secret) = auth {
        let encode = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        let pair = format!("{}:{}", encode(client_id), encode(secret.secret()));
        let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair));
        headers.push((AUTHORIZATION_HEADER.into(), value));
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
    form_post("token endpoint", &pending.token_endpoint, &params, &pending.client_id, auth)
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
    form_post("token endpoint", token_endpoint, &params, client_id, auth)
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
    form_post("revocation endpoint", endpoint, &params, client_id, auth)
}

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

/// What kind of token `token` is, when it is a readable JWT: "an app-only token …" for tokens
/// without a user (`idtyp=app`, or `roles` without `scp`), "a delegated token …" otherwise.
pub fn describe_token(token: &str) -> Option<String> {
    let claims = jwt_payload(token)?;
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
    // RFC 6749 §5.1, plus OpenID Connect's `id_token`. The token type is case-insensitive.
    let read = |f: &mut Fields| -> Result<_, Malformed> {
        let access = f.string("access_token")?;
        let token_type = f.string("token_type")?;
        let expires_in = match f.optional("expires_in") {
            Some(v) => Some(v.as_u64().ok_or(Malformed("expires_in"))?),
            None => None,
        };
        let refresh = f.optional_string("refresh_token")?;
        let scope = f.optional_string("scope")?;
        let id_token = f.optional_string("id_token")?;
        Ok((access, token_type, expires_in, refresh, scope, id_token))
    };
    let mut fields =
        Fields::of(Value::Object(map), "token response").map_err(|e| malformed(&e.to_string()))?;
    let (access, token_type, expires_in, refresh, scope, id_token) =
        read(&mut fields).map_err(|e| malformed(&e.to_string()))?;
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(SignInError::UnsupportedTokenType { token_type });
    }
    if let (Some(expected), Some(id_token)) = (ctx.nonce, id_token.as_deref()) {
        // The signature is not verified: this ID token came straight from the token endpoint, over
        // the TLS connection this page opened to the issuer's endpoint, which OpenID Connect Core
        // §3.1.3.7 accepts in place of signature validation. The nonce binds it to this sign-in.
        let nonce = jwt_payload(id_token).and_then(|p| p.get("nonce").cloned());
        if nonce.as_ref().and_then(Value::as_str) != Some(expected) {
            return Err(SignInError::NonceMismatch);
        }
    }
    let claims = read_claims(id_token.as_deref(), &access);
    let scopes = match scope {
        Some(granted) => granted.split_ascii_whitespace().map(str::to_owned).collect(),
        None => ctx.scopes.to_vec(),
    };
    let tokens = TokenSet {
        access: AccessToken::new(access),
        refresh: refresh.map(RefreshToken::new),
        issued_at: now,
        expires_at: expires_in.map(|seconds| now.saturating_add(seconds.saturating_mul(1000))),
        scopes,
        issuer: ctx.issuer.to_owned(),
    };
    Ok(Granted { tokens, claims })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::auth::flow::Reason;
    use crate::core::auth::flow::fixtures::*;
    use serde_json::json;

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
                true,
            ),
            (
                entra("invalid_request", "Tokens for SPA need an Origin.", 9002327),
                Reason::OriginMissing,
                true,
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
            (json!({"error": "invalid_scope"}), Reason::InvalidScope, true),
            (json!({"error": "invalid_client"}), Reason::Other, true),
            (json!({"error": "server_error", "error_description": "boom"}), Reason::Other, false),
            (json!({"error": "temporarily_unavailable"}), Reason::Other, false),
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
