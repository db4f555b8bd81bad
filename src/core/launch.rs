//! What the console is opened with, read but not yet judged: the deployer's `config.json` beside
//! the app, in the seed's shape (`Instance`, `TenantId`, `ClientId`, `Scopes`, `ServerUrl`;
//! camelCase works too) plus the allow-lists and an authorization server's metadata, and the
//! page's own link (`?server=…&connect=1&tenant=…`). Neither ever holds a secret: a client secret
//! can only be typed into the page. What each may do is `core::auth::trust`'s business.

use crate::core::auth::metadata::AuthorizationServerMetadata;
use crate::core::auth::settings::{
    ResourceSetting, SignInMode, SignInSettings, non_blank, split_scopes,
};
use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

/// Why `config.json` was not used; each says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("config.json beside the console could not be read ({0}); fix or remove it.")]
    Unreadable(String),
    #[error(
        "config.json beside the console holds a client secret, which anyone who can open the console can read; remove it (a secret, if one is needed for testing, can be typed into the sign-in settings)."
    )]
    HoldsSecret,
    #[error("config.json sets the sign-in mode to {0:?}; use auto, redirect or popup.")]
    BadMode(String),
}

/// The tool or prompt to open in the call panel: where the person was before a full-page
/// sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    Tool(String),
    Prompt(String),
}

/// The deployer's `config.json`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub server_url: Option<String>,
    pub auto_connect: bool,
    pub sign_in: SignInSettings,
    pub mode: SignInMode,
    pub redirect_uri: Option<String>,
    /// Only servers under these URLs may be opened.
    pub allowed_servers: Option<Vec<String>>,
    /// Only issuers under these URLs may be signed in at; they may also serve as `Instance`.
    pub allowed_authorities: Option<Vec<String>>,
    /// An authorization server's metadata, used instead of discovery for the servers the file
    /// names.
    pub metadata: Option<AuthorizationServerMetadata>,
}

/// The page's own address: what a link asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Link {
    pub server_url: Option<String>,
    pub auto_connect: bool,
    pub open: Option<Opened>,
    pub mode: Option<SignInMode>,
    pub sign_in: SignInSettings,
    pub redirect_uri: Option<String>,
}

/// A list setting (scopes, allow-lists): one string, space or comma separated, or a list.
#[derive(Deserialize)]
#[serde(untagged)]
enum List {
    One(String),
    Many(Vec<String>),
}

impl List {
    fn into_vec(self) -> Vec<String> {
        match self {
            List::One(text) => split_scopes(&text),
            List::Many(list) => list.iter().flat_map(|s| split_scopes(s)).collect(),
        }
    }
}

/// `config.json` as written: the seed's PascalCase names or camelCase ones.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ConfigFile {
    #[serde(alias = "ServerUrl", alias = "HttpMcpServerUrl", alias = "serverUrl")]
    server_url: Option<String>,
    #[serde(alias = "AutoConnect", alias = "autoConnect")]
    auto_connect: bool,
    #[serde(alias = "Instance", alias = "instance")]
    instance: Option<String>,
    #[serde(alias = "TenantId", alias = "tenantId")]
    tenant_id: Option<String>,
    #[serde(alias = "ClientId", alias = "clientId")]
    client_id: Option<String>,
    #[serde(alias = "Scopes", alias = "scopes", alias = "Scope", alias = "scope")]
    scopes: Option<List>,
    #[serde(alias = "Resource", alias = "resource")]
    resource: Option<String>,
    #[serde(alias = "RedirectUri", alias = "redirectUri")]
    redirect_uri: Option<String>,
    #[serde(alias = "SignIn", alias = "signIn", alias = "SignInMode", alias = "signInMode")]
    sign_in: Option<String>,
    #[serde(alias = "ClientMetadataUrl", alias = "clientMetadataUrl")]
    client_metadata_url: Option<String>,
    #[serde(alias = "LoginHint", alias = "loginHint")]
    login_hint: Option<String>,
    #[serde(alias = "AllowedServers", alias = "allowedServers")]
    allowed_servers: Option<List>,
    #[serde(alias = "AllowedAuthorities", alias = "allowedAuthorities")]
    allowed_authorities: Option<List>,
    #[serde(alias = "AuthorizationServerMetadata", alias = "authorizationServerMetadata")]
    authorization_server_metadata: Option<AuthorizationServerMetadata>,
    #[serde(alias = "ClientSecret", alias = "clientSecret")]
    client_secret: Option<Value>,
}

impl Config {
    /// Reads a `config.json`; a broken file is reported, never half-applied. A client secret in
    /// it is refused: a file served beside a web page is public.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        let file: ConfigFile =
            serde_json::from_str(text).map_err(|e| ConfigError::Unreadable(e.to_string()))?;
        if file.client_secret.is_some() {
            return Err(ConfigError::HoldsSecret);
        }
        let scopes = file.scopes.map(List::into_vec).unwrap_or_default();
        let trimmed = |v: Option<String>| v.as_deref().and_then(non_blank);
        let mode = match file.sign_in.as_deref() {
            None => SignInMode::Auto,
            Some(t) => SignInMode::parse(t).ok_or_else(|| ConfigError::BadMode(t.to_owned()))?,
        };
        Ok(Config {
            server_url: trimmed(file.server_url),
            auto_connect: file.auto_connect,
            sign_in: SignInSettings {
                instance: trimmed(file.instance),
                tenant_id: trimmed(file.tenant_id),
                client_id: trimmed(file.client_id),
                scopes,
                resource: file.resource.as_deref().map(ResourceSetting::parse).unwrap_or_default(),
                client_metadata_url: trimmed(file.client_metadata_url),
                login_hint: trimmed(file.login_hint),
            },
            mode,
            redirect_uri: trimmed(file.redirect_uri),
            allowed_servers: file.allowed_servers.map(List::into_vec),
            allowed_authorities: file.allowed_authorities.map(List::into_vec),
            metadata: file.authorization_server_metadata,
        })
    }
}

impl Link {
    /// Reads the page's query string (`?server=…&connect=1`, `tool`/`prompt`, `signin`, and the
    /// sign-in settings `tenant`, `instance`, `client_id`, `scope`, `resource`, `redirect_uri`,
    /// `client_metadata_url`, `login_hint`). Unknown keys and bad values are ignored; a
    /// `client_secret` never counts.
    pub fn from_query(search: &str) -> Link {
        let mut link = Link::default();
        let query = search.strip_prefix('?').unwrap_or(search);
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let text = value.trim();
            let some = || non_blank(text);
            let s = &mut link.sign_in;
            match key.as_ref() {
                "server" => link.server_url = some(),
                "connect" => link.auto_connect = matches!(text, "1" | "true" | "yes"),
                "tool" if !text.is_empty() => link.open = Some(Opened::Tool(text.to_owned())),
                "prompt" if !text.is_empty() => link.open = Some(Opened::Prompt(text.to_owned())),
                "signin" => link.mode = SignInMode::parse(text),
                "redirect_uri" => link.redirect_uri = some(),
                "instance" => s.instance = some(),
                "tenant" | "tenant_id" => s.tenant_id = some(),
                "client_id" => s.client_id = some(),
                "scope" | "scopes" => s.scopes = split_scopes(text),
                "resource" => s.resource = ResourceSetting::parse(text),
                "client_metadata_url" => s.client_metadata_url = some(),
                "login_hint" => s.login_hint = some(),
                _ => {}
            }
        }
        link
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_sets_server_connect_and_what_to_open() {
        let l = Link::from_query("?server=http%3A%2F%2F127.0.0.1%3A3001%2Fmcp&connect=1&x=y");
        assert_eq!(l.server_url.as_deref(), Some("http://127.0.0.1:3001/mcp"));
        assert!(l.auto_connect);
        assert_eq!(Link::from_query(""), Link::default());
        assert_eq!(Link::from_query("?tool=echo").open, Some(Opened::Tool("echo".into())));
        assert_eq!(Link::from_query("?prompt=greet").open, Some(Opened::Prompt("greet".into())));
        assert_eq!(Link::from_query("?server=%20%20").server_url, None);
        assert_eq!(Link::from_query("?signin=popup").mode, Some(SignInMode::Popup));
        assert_eq!(Link::from_query("?signin=tab").mode, None);
    }

    #[test]
    fn config_json_is_read_and_errors_are_sentences() {
        let c = Config::from_json(r#"{"serverUrl":"http://a/mcp","autoConnect":true,"future":1}"#);
        assert_eq!(
            c,
            Ok(Config {
                server_url: Some("http://a/mcp".into()),
                auto_connect: true,
                ..Config::default()
            })
        );
        let e = Config::from_json("{").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.starts_with("config.json beside the console could not be read"), "{e}");
        assert_eq!(
            Config::from_json(r#"{"SignIn":"tab"}"#),
            Err(ConfigError::BadMode("tab".into()))
        );
        assert_eq!(Config::from_json(r#"{"ClientSecret":"x"}"#), Err(ConfigError::HoldsSecret));
    }

    #[test]
    fn the_seeds_settings_and_the_deployers_lists_are_read_from_the_file() {
        let file = Config::from_json(
            r#"{"Instance":"https://login.microsoftonline.com/","TenantId":"t1","ClientId":"c1",
                "Scopes":"api://s/mcp:tools","HttpMcpServerUrl":"https://s/mcp","SignIn":"popup",
                "AllowedServers":["https://s/"],"AllowedAuthorities":"https://login.microsoftonline.com/t1/",
                "RedirectUri":"/auth/callback.html"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(file.server_url.as_deref(), Some("https://s/mcp"));
        let s = &file.sign_in;
        assert_eq!((s.tenant_id.as_deref(), s.client_id.as_deref()), (Some("t1"), Some("c1")));
        assert_eq!(s.scopes, vec!["api://s/mcp:tools".to_owned()]);
        assert_eq!(file.mode, SignInMode::Popup);
        assert_eq!(file.allowed_servers, Some(vec!["https://s/".to_owned()]));
        assert_eq!(
            file.allowed_authorities,
            Some(vec!["https://login.microsoftonline.com/t1/".to_owned()])
        );
        assert_eq!(file.redirect_uri.as_deref(), Some("/auth/callback.html"));
        let camel = Config::from_json(r#"{"tenantId":"t2","scopes":["a b","c"],"resource":"off"}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(camel.sign_in.scopes, vec!["a".to_owned(), "b".into(), "c".into()]);
        assert_eq!(camel.sign_in.resource, ResourceSetting::Omit);
        let meta = Config::from_json(
            r#"{"AuthorizationServerMetadata":{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/a","token_endpoint":"https://tokens.example/t"}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            meta.metadata.map(|m| m.token_endpoint).as_deref(),
            Some("https://tokens.example/t")
        );
    }

    #[test]
    fn a_link_reads_its_sign_in_settings_but_never_a_secret() {
        let q = Link::from_query(
            "?server=https://s/mcp&tenant=t9&scope=a%20b&signin=redirect&resource=server&client_secret=x&redirect_uri=https://evil/cb",
        );
        assert_eq!(q.sign_in.tenant_id.as_deref(), Some("t9"));
        assert_eq!(q.sign_in.scopes, vec!["a".to_owned(), "b".into()]);
        assert_eq!(q.sign_in.resource, ResourceSetting::Server);
        assert_eq!(q.mode, Some(SignInMode::Redirect));
        assert_eq!(q.redirect_uri.as_deref(), Some("https://evil/cb"));
        assert!(!format!("{q:?}").contains("client_secret"), "never read");
    }
}
