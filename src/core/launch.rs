//! What the console is opened with, read but not yet judged: the deployer's `config.json` beside
//! the app, in the seed's shape (`Instance`, `TenantId`, `ClientId`, `Scopes`, `ServerUrl`;
//! camelCase works too) plus more servers to open beside it (`Servers`), the allow-lists and an
//! authorization server's metadata, and the page's own link (`?server=…&connect=1&tenant=…`). Neither ever holds a secret: a client secret
//! can only be typed into the page. What each may do is `core::auth::trust`'s business.

use crate::core::auth::metadata::AuthorizationServerMetadata;
use crate::core::auth::settings::{
    ResourceSetting, SignInMode, SignInSettings, non_blank, split_scopes,
};
use crate::core::json::{Fields, FromJson, Malformed};
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

/// A server `config.json` lists under `Servers`: opened in a tab of its own, with the file's
/// sign-in settings except the API (`Scopes`, `Resource`) the entry gives for itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerEntry {
    pub server_url: String,
    /// `None`: the file's; `Some`: this server's own (its API).
    pub scopes: Option<Vec<String>>,
    pub resource: Option<ResourceSetting>,
}

/// The deployer's `config.json`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub server_url: Option<String>,
    /// More servers, each opened in its own tab.
    pub servers: Vec<ServerEntry>,
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
    /// The first `server`: the tab in front, which the link's sign-in settings are for.
    pub server_url: Option<String>,
    /// Any further `server`s, each opened in a tab behind it.
    pub more_servers: Vec<String>,
    pub auto_connect: bool,
    pub open: Option<Opened>,
    pub mode: Option<SignInMode>,
    pub sign_in: SignInSettings,
    pub redirect_uri: Option<String>,
}

/// `config.json`'s members, each under the seed's PascalCase name, camelCase or snake_case.
struct ConfigFile(Fields);

impl ConfigFile {
    /// The first of `names` present (the others are dropped).
    fn take(&mut self, names: [&'static str; 3]) -> (Option<Value>, &'static str) {
        let mut found = None;
        for name in names {
            if let Some(v) = self.0.take(name) {
                found.get_or_insert(v);
            }
        }
        (found.filter(|v| !v.is_null()), names[0])
    }

    fn text(&mut self, names: [&'static str; 3]) -> Result<Option<String>, Malformed> {
        match self.take(names) {
            (None, _) => Ok(None),
            (Some(Value::String(s)), _) => Ok(non_blank(&s)),
            (Some(_), name) => Err(Malformed(name)),
        }
    }

    /// A list setting (scopes, allow-lists): one string, space or comma separated, or a list.
    fn list(&mut self, names: [&'static str; 3]) -> Result<Option<Vec<String>>, Malformed> {
        let (value, name) = self.take(names);
        let Some(value) = value else { return Ok(None) };
        let items = match value {
            Value::String(text) => vec![Value::String(text)],
            Value::Array(items) => items,
            _ => return Err(Malformed(name)),
        };
        let mut out = Vec::new();
        for item in items {
            let Value::String(text) = item else { return Err(Malformed(name)) };
            out.extend(split_scopes(&text));
        }
        Ok(Some(out))
    }
}

impl Config {
    /// Reads a `config.json`; a broken file is reported, never half-applied. A client secret in
    /// it is refused: a file served beside a web page is public.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        let unreadable = |e: String| ConfigError::Unreadable(e);
        let value = serde_json::from_str(text).map_err(|e| unreadable(e.to_string()))?;
        let mut f =
            ConfigFile(Fields::of(value, "the file").map_err(|e| unreadable(e.to_string()))?);
        if f.take(["ClientSecret", "clientSecret", "client_secret"]).0.is_some() {
            return Err(ConfigError::HoldsSecret);
        }
        let config = Config::read(&mut f).map_err(|e| unreadable(e.to_string()))?;
        match config {
            Err(mode) => Err(ConfigError::BadMode(mode)),
            Ok(config) => Ok(config),
        }
    }

    /// Every member, typed; a sign-in mode that is not one is `Ok(Err(mode))`.
    fn read(f: &mut ConfigFile) -> Result<Result<Config, String>, Malformed> {
        let server_url = match f.text(["ServerUrl", "serverUrl", "server_url"])? {
            None => f.text(["HttpMcpServerUrl", "httpMcpServerUrl", "http_mcp_server_url"])?,
            found => found,
        };
        let auto_connect = match f.take(["AutoConnect", "autoConnect", "auto_connect"]) {
            (None, _) => false,
            (Some(Value::Bool(b)), _) => b,
            (Some(_), name) => return Err(Malformed(name)),
        };
        let sign_in = SignInSettings {
            instance: f.text(["Instance", "instance", "instance"])?,
            tenant_id: f.text(["TenantId", "tenantId", "tenant_id"])?,
            client_id: f.text(["ClientId", "clientId", "client_id"])?,
            scopes: match f.list(["Scopes", "scopes", "scopes"])? {
                Some(scopes) => scopes,
                None => f.list(["Scope", "scope", "scope"])?.unwrap_or_default(),
            },
            resource: f
                .text(["Resource", "resource", "resource"])?
                .as_deref()
                .map(ResourceSetting::parse)
                .unwrap_or_default(),
            client_metadata_url: f.text([
                "ClientMetadataUrl",
                "clientMetadataUrl",
                "client_metadata_url",
            ])?,
            login_hint: f.text(["LoginHint", "loginHint", "login_hint"])?,
        };
        let servers = match f.take(["Servers", "servers", "servers"]) {
            (None, _) => Vec::new(),
            (Some(Value::Array(items)), _) => {
                items.into_iter().map(ServerEntry::read).collect::<Result<_, _>>()?
            }
            (Some(_), name) => return Err(Malformed(name)),
        };
        let redirect_uri = f.text(["RedirectUri", "redirectUri", "redirect_uri"])?;
        let mode = match f.text(["SignIn", "signIn", "sign_in"])? {
            None => f.text(["SignInMode", "signInMode", "sign_in_mode"])?,
            found => found,
        };
        let mode = match mode {
            None => SignInMode::Auto,
            Some(t) => match SignInMode::parse(&t) {
                Some(mode) => mode,
                None => return Ok(Err(t)),
            },
        };
        let allowed_servers = f.list(["AllowedServers", "allowedServers", "allowed_servers"])?;
        let allowed_authorities =
            f.list(["AllowedAuthorities", "allowedAuthorities", "allowed_authorities"])?;
        let metadata = match f.take([
            "AuthorizationServerMetadata",
            "authorizationServerMetadata",
            "authorization_server_metadata",
        ]) {
            (None, _) => None,
            (Some(doc), _) => Some(AuthorizationServerMetadata::from_json(doc)?),
        };
        Ok(Ok(Config {
            server_url,
            servers,
            auto_connect,
            sign_in,
            mode,
            redirect_uri,
            allowed_servers,
            allowed_authorities,
            metadata,
        }))
    }
}

impl ServerEntry {
    /// One entry of `Servers`: its URL, or an object with `ServerUrl` and, if the server is
    /// another API, its own `Scopes` and `Resource`.
    fn read(entry: Value) -> Result<ServerEntry, Malformed> {
        if let Value::String(url) = entry {
            let server_url = non_blank(&url).ok_or(Malformed("Servers"))?;
            return Ok(ServerEntry { server_url, ..ServerEntry::default() });
        }
        let mut f = ConfigFile(Fields::of(entry, "Servers")?);
        let server_url = f.text(["ServerUrl", "serverUrl", "server_url"])?;
        Ok(ServerEntry {
            server_url: server_url.ok_or(Malformed("ServerUrl"))?,
            scopes: f.list(["Scopes", "scopes", "scopes"])?,
            resource: f
                .text(["Resource", "resource", "resource"])?
                .as_deref()
                .map(ResourceSetting::parse),
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
                "server" => match (&link.server_url, some()) {
                    (None, first) => link.server_url = first,
                    (Some(_), Some(more)) => link.more_servers.push(more),
                    (Some(_), None) => {}
                },
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
        let two = Link::from_query("?server=http://a/mcp&server=&server=http://b/mcp");
        assert_eq!(
            (two.server_url.as_deref(), two.more_servers),
            (Some("http://a/mcp"), vec!["http://b/mcp".to_owned()])
        );
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
        assert_eq!(Config::from_json(r#"{"client_secret":"x"}"#), Err(ConfigError::HoldsSecret));
        // A member of the wrong type is named, and nothing of the file is used.
        for (text, named) in [
            (r#"{"AutoConnect":"yes"}"#, "`AutoConnect`"),
            (r#"{"scopes":["a",1]}"#, "`Scopes`"),
            (r#"{"TenantId":7}"#, "`TenantId`"),
            (r#"{"AuthorizationServerMetadata":{"issuer":"x"}}"#, "`authorization_endpoint`"),
            ("[]", "`the file`"),
        ] {
            let e = Config::from_json(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.starts_with("config.json beside the console could not be read"), "{e}");
            assert!(e.contains(named), "{text}: {e}");
        }
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
    fn more_servers_are_listed_each_with_its_own_api_if_it_gives_one() {
        let file = Config::from_json(
            r#"{"ServerUrl":"https://a/mcp","Scopes":"api://a/mcp:tools","Servers":["https://b/mcp",
                {"serverUrl":"https://c/mcp","scopes":["api://c/mcp:tools"],"resource":"off"}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            file.servers,
            vec![
                ServerEntry { server_url: "https://b/mcp".into(), ..ServerEntry::default() },
                ServerEntry {
                    server_url: "https://c/mcp".into(),
                    scopes: Some(vec!["api://c/mcp:tools".into()]),
                    resource: Some(ResourceSetting::Omit),
                },
            ]
        );
        for (text, named) in [
            (r#"{"Servers":"https://b/mcp"}"#, "`Servers`"),
            (r#"{"Servers":[" "]}"#, "`Servers`"),
            (r#"{"Servers":[{"Scopes":"x"}]}"#, "`ServerUrl`"),
            (r#"{"Servers":[7]}"#, "`Servers`"),
        ] {
            let e = Config::from_json(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains(named), "{text}: {e}");
        }
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
