//! What the console is opened with, read but not yet judged: the deployer's `config.json` beside
//! the app, in the seed's shape (`Instance`, `TenantId`, `ClientId`, `Scopes`, `ServerUrl`;
//! camelCase works too) plus more servers to open beside it (`Servers`), the allow-lists and an
//! authorization server's metadata, the origins of the pages that may embed the console
//! (`EmbedOrigins`), and the page's own link (`?server=…&connect=1&tenant=…`, `embed=1`).
//! Neither ever holds a secret: a client secret can only be typed into the page. What each may do
//! is `core::auth::trust`'s business.

use crate::core::address::{is_secure, origin_of};
use crate::core::auth::metadata::AuthorizationServerMetadata;
use crate::core::auth::settings::{
    ResourceSetting, SignInMode, SignInSettings, non_blank, split_scopes,
};
use crate::core::json::{Fields, FromJson, Malformed};
use serde_json::Value;
use thiserror::Error;
use url::Url;

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
    #[error(
        "config.json lists {entry:?} in EmbedOrigins, which is not the origin of a page ({why}); write each as https://portal.example or https://portal.example:8443, nothing more."
    )]
    BadEmbedOrigin { entry: String, why: &'static str },
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
    /// The pages that may embed the console and drive it by postMessage, each an origin as the
    /// browser writes `MessageEvent.origin` (lower case, default port left out).
    pub embed_origins: Vec<String>,
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
    /// `embed=1`: the compact layout for a page inside a portal's frame.
    pub embed: bool,
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

    /// The sign-in settings, under config.json's names.
    fn sign_in(&mut self) -> Result<SignInSettings, Malformed> {
        Ok(SignInSettings {
            instance: self.text(["Instance", "instance", "instance"])?,
            tenant_id: self.text(["TenantId", "tenantId", "tenant_id"])?,
            client_id: self.text(["ClientId", "clientId", "client_id"])?,
            scopes: match self.list(["Scopes", "scopes", "scopes"])? {
                Some(scopes) => scopes,
                None => self.list(["Scope", "scope", "scope"])?.unwrap_or_default(),
            },
            resource: self
                .text(["Resource", "resource", "resource"])?
                .as_deref()
                .map(ResourceSetting::parse)
                .unwrap_or_default(),
            client_metadata_url: self.text([
                "ClientMetadataUrl",
                "clientMetadataUrl",
                "client_metadata_url",
            ])?,
            login_hint: self.text(["LoginHint", "loginHint", "login_hint"])?,
        })
    }
}

/// Sign-in settings someone other than the deployer gives as members of an object (a host
/// page's message, whose own members were taken already), under config.json's names, and the
/// redirect URI it asks for, which only the trust rules judge. A client secret is never read.
pub fn proposed_sign_in(members: Fields) -> Result<(SignInSettings, Option<String>), Malformed> {
    let mut f = ConfigFile(members);
    let redirect_uri = f.text(["RedirectUri", "redirectUri", "redirect_uri"])?;
    Ok((f.sign_in()?, redirect_uri))
}

/// One entry of `EmbedOrigins` as the browser writes an origin, or why it is not one.
fn embed_origin(entry: &str) -> Result<String, &'static str> {
    if entry.contains('*') {
        return Err("a wildcard matches pages nobody listed; list each portal's origin");
    }
    if entry.eq_ignore_ascii_case("null") {
        return Err("`null` is the origin of sandboxed frames and files, which anyone can make");
    }
    let url = Url::parse(entry).map_err(|_| "it is not an absolute URL")?;
    if !is_secure(&url) {
        return Err("only https:// pages (http:// on this machine) may embed the console");
    }
    let bare = url.username().is_empty() && url.password().is_none();
    // A trailing `/` alone is how URLs are often written; any other path would suggest that
    // only part of the origin is trusted, which postMessage cannot tell apart.
    if !bare || url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err("an origin has no path, query, fragment or user name");
    }
    Ok(origin_of(&url))
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
        Config::read(&mut f).map_err(|e| unreadable(e.to_string()))?
    }

    /// Every member, typed; a sign-in mode or an embedding origin that is not one is
    /// `Ok(Err(…))`.
    fn read(f: &mut ConfigFile) -> Result<Result<Config, ConfigError>, Malformed> {
        let server_url = match f.text(["ServerUrl", "serverUrl", "server_url"])? {
            None => f.text(["HttpMcpServerUrl", "httpMcpServerUrl", "http_mcp_server_url"])?,
            found => found,
        };
        let auto_connect = match f.take(["AutoConnect", "autoConnect", "auto_connect"]) {
            (None, _) => false,
            (Some(Value::Bool(b)), _) => b,
            (Some(_), name) => return Err(Malformed(name)),
        };
        let sign_in = f.sign_in()?;
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
                None => return Ok(Err(ConfigError::BadMode(t))),
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
        let origins = f.list(["EmbedOrigins", "embedOrigins", "embed_origins"])?;
        let mut embed_origins = Vec::new();
        for entry in origins.unwrap_or_default() {
            match embed_origin(&entry) {
                Ok(origin) if !embed_origins.contains(&origin) => embed_origins.push(origin),
                Ok(_) => {}
                Err(why) => return Ok(Err(ConfigError::BadEmbedOrigin { entry, why })),
            }
        }
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
            embed_origins,
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
    /// Reads the page's query string (`?server=…&connect=1`, `tool`/`prompt`, `signin`, `embed`,
    /// and the sign-in settings `tenant`, `instance`, `client_id`, `scope`, `resource`,
    /// `redirect_uri`, `client_metadata_url`, `login_hint`). Unknown keys and bad values are
    /// ignored; a `client_secret` never counts.
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
                "embed" => link.embed = matches!(text, "1" | "true" | "yes"),
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

    #[test]
    fn embed_origins_are_read_as_the_browser_writes_an_origin() {
        let file = Config::from_json(
            r#"{"EmbedOrigins":["https://Portal.Contoso.example/","https://intranet.contoso.example:8443",
                "https://portal.contoso.example:443","http://127.0.0.1:8080"]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            file.embed_origins,
            [
                "https://portal.contoso.example",
                "https://intranet.contoso.example:8443",
                "http://127.0.0.1:8080"
            ]
        );
        for text in [
            r#"{"embedOrigins":"https://a.example https://b.example"}"#,
            r#"{"embed_origins":["https://a.example","https://b.example"]}"#,
        ] {
            let c = Config::from_json(text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(c.embed_origins, ["https://a.example", "https://b.example"], "{text}");
        }
        assert!(Config::default().embed_origins.is_empty(), "no portal unless listed");
    }

    #[test]
    fn an_embed_origin_with_a_path_a_wildcard_null_or_another_scheme_is_refused() {
        for (entry, why) in [
            ("https://portal.example/app", "no path"),
            ("https://portal.example/?x=1", "no path"),
            ("https://user@portal.example", "no path"),
            ("https://*.contoso.example", "wildcard"),
            ("*", "wildcard"),
            ("null", "sandboxed"),
            ("NULL", "sandboxed"),
            ("file:///C:/portal.html", "only https://"),
            ("chrome-extension://abcdef", "only https://"),
            ("http://portal.example", "only https://"),
            ("portal.example", "absolute URL"),
        ] {
            let text = format!(r#"{{"EmbedOrigins":["https://ok.example",{entry:?}]}}"#);
            let error = Config::from_json(&text);
            assert!(
                matches!(&error, Err(ConfigError::BadEmbedOrigin { entry: e, .. }) if e == entry),
                "{entry}: {error:?}"
            );
            let said = error.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(said.contains("EmbedOrigins") && said.contains(why), "{entry}: {said}");
        }
        let e = Config::from_json(r#"{"EmbedOrigins":7}"#).err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("`EmbedOrigins`")));
    }

    #[test]
    fn a_link_asks_for_the_compact_layout_with_embed() {
        assert!(Link::from_query("?embed=1&server=https://s/mcp").embed);
        assert!(Link::from_query("?embed=true").embed);
        assert!(!Link::from_query("?embed=0").embed && !Link::from_query("").embed);
    }

    #[test]
    fn proposed_sign_in_settings_are_read_under_the_configs_names_but_never_a_secret() {
        let message = serde_json::json!({
            "tenantId": "t9", "ClientId": "c9", "scopes": ["api://s/mcp:tools"],
            "resource": "server", "redirectUri": "https://evil.example/cb", "clientSecret": "x"
        });
        let members = Fields::of(message, "message").unwrap_or_else(|e| panic!("{e}"));
        let (settings, redirect) = proposed_sign_in(members).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(settings.tenant_id.as_deref(), Some("t9"));
        assert_eq!(settings.client_id.as_deref(), Some("c9"));
        assert_eq!(settings.scopes, ["api://s/mcp:tools"]);
        assert_eq!(settings.resource, ResourceSetting::Server);
        assert_eq!(redirect.as_deref(), Some("https://evil.example/cb"));
        let bad =
            Fields::of(serde_json::json!({"tenantId": 7}), "m").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(proposed_sign_in(bad).err(), Some(Malformed("TenantId")));
    }
}
