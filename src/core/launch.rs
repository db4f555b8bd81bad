//! How the console is told what to open and how to sign in: `?server=…&connect=1&tenant=…` in its
//! own URL for quick trials, or a `config.json` served beside the app in the seed's shape
//! (`Instance`, `TenantId`, `ClientId`, `Scopes`, `ServerUrl`; camelCase works too). Both are
//! parsed here; the page fetches and reads them in `platform`. Neither ever holds a secret: a
//! client secret can only be typed into the page.

use crate::core::auth::signin::{
    ResourceSetting, SignInMode, SignInSettings, non_blank, split_scopes,
};
use serde::Deserialize;
use serde_json::Value;

/// What to show and do when the page opens.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Launch {
    /// The MCP endpoint to put in the URL field.
    pub server_url: Option<String>,
    /// Connect right away instead of waiting for the button.
    pub auto_connect: bool,
    pub sign_in: SignInSettings,
    /// The tool (`tool=`) or prompt (`prompt=`) to open in the call panel: where the person was
    /// before a full-page sign-in.
    pub open: Option<Opened>,
}

/// What the call panel shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    Tool(String),
    Prompt(String),
}

/// A scope setting: one string (space or comma separated) or a list.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scopes {
    One(String),
    Many(Vec<String>),
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
    scopes: Option<Scopes>,
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
    #[serde(alias = "ClientSecret", alias = "clientSecret")]
    client_secret: Option<Value>,
}

fn mode(text: Option<&str>, source: &str) -> Result<SignInMode, String> {
    match text {
        None => Ok(SignInMode::Auto),
        Some(t) => SignInMode::parse(t).ok_or_else(|| {
            format!("{source} sets the sign-in mode to {t:?}; use auto, redirect or popup.")
        }),
    }
}

impl Launch {
    /// Reads the page's query string (`?server=…&connect=1`, and the sign-in settings `tenant`,
    /// `instance`, `client_id`, `scope`, `resource`, `redirect_uri`, `signin`,
    /// `client_metadata_url`, `login_hint`). Unknown keys and bad values are ignored.
    pub fn from_query(search: &str) -> Launch {
        let mut launch = Launch::default();
        let query = search.strip_prefix('?').unwrap_or(search);
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let text = value.trim();
            let some = || non_blank(text);
            let s = &mut launch.sign_in;
            match key.as_ref() {
                "server" => launch.server_url = some(),
                "connect" => launch.auto_connect = matches!(text, "1" | "true" | "yes"),
                "tool" if !text.is_empty() => launch.open = Some(Opened::Tool(text.to_owned())),
                "prompt" if !text.is_empty() => launch.open = Some(Opened::Prompt(text.to_owned())),
                "instance" => s.instance = some(),
                "tenant" | "tenant_id" => s.tenant_id = some(),
                "client_id" => s.client_id = some(),
                "scope" | "scopes" => s.scopes = split_scopes(text),
                "resource" => s.resource = ResourceSetting::parse(text),
                "redirect_uri" => s.redirect_uri = some(),
                "signin" => s.mode = SignInMode::parse(text).unwrap_or_default(),
                "client_metadata_url" => s.client_metadata_url = some(),
                "login_hint" => s.login_hint = some(),
                _ => {}
            }
        }
        launch
    }

    /// Reads a `config.json`; a broken file is reported, never half-applied. A client secret in
    /// it is refused: a file served beside a web page is public.
    pub fn from_config_json(text: &str) -> Result<Launch, String> {
        let file: ConfigFile = serde_json::from_str(text).map_err(|e| {
            format!("config.json beside the console could not be read ({e}); fix or remove it.")
        })?;
        if file.client_secret.is_some() {
            return Err("config.json beside the console holds a client secret, which anyone who can open the console can read; remove it (a secret, if one is needed for testing, can be typed into the sign-in settings).".to_owned());
        }
        let scopes = match file.scopes {
            Some(Scopes::One(text)) => split_scopes(&text),
            Some(Scopes::Many(list)) => list.iter().flat_map(|s| split_scopes(s)).collect(),
            None => Vec::new(),
        };
        let trimmed = |v: Option<String>| v.as_deref().and_then(non_blank);
        Ok(Launch {
            server_url: trimmed(file.server_url),
            auto_connect: file.auto_connect,
            open: None,
            sign_in: SignInSettings {
                instance: trimmed(file.instance),
                tenant_id: trimmed(file.tenant_id),
                client_id: trimmed(file.client_id),
                client_secret: None,
                scopes,
                resource: file.resource.as_deref().map(ResourceSetting::parse).unwrap_or_default(),
                redirect_uri: trimmed(file.redirect_uri),
                mode: mode(file.sign_in.as_deref(), "config.json")?,
                client_metadata_url: trimmed(file.client_metadata_url),
                login_hint: trimmed(file.login_hint),
            },
        })
    }

    /// The query string wins over the config file for anything it sets; a query naming another
    /// server does not inherit the file's sign-in settings, which belong to the file's server.
    pub fn overridden_by(self, query: Launch) -> Launch {
        let other_server = query.server_url.is_some() && query.server_url != self.server_url;
        let sign_in =
            if other_server { query.sign_in } else { self.sign_in.overridden_by(query.sign_in) };
        Launch {
            server_url: query.server_url.or(self.server_url),
            auto_connect: self.auto_connect || query.auto_connect,
            sign_in,
            open: query.open,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_sets_server_and_connect() {
        let l = Launch::from_query("?server=http%3A%2F%2F127.0.0.1%3A3001%2Fmcp&connect=1&x=y");
        assert_eq!(l.server_url.as_deref(), Some("http://127.0.0.1:3001/mcp"));
        assert!(l.auto_connect);
        assert_eq!(Launch::from_query(""), Launch::default());
        assert_eq!(Launch::from_query("?tool=echo").open, Some(Opened::Tool("echo".into())));
        assert_eq!(Launch::from_query("?prompt=greet").open, Some(Opened::Prompt("greet".into())));
        assert_eq!(Launch::from_query("?server=%20%20").server_url, None);
    }

    #[test]
    fn config_json_is_read_and_errors_are_sentences() {
        let l = Launch::from_config_json(
            r#"{"serverUrl":"http://a/mcp","autoConnect":true,"future":1}"#,
        );
        assert_eq!(
            l,
            Ok(Launch {
                server_url: Some("http://a/mcp".into()),
                auto_connect: true,
                ..Launch::default()
            })
        );
        let e = Launch::from_config_json("{").err().unwrap_or_default();
        assert!(e.starts_with("config.json beside the console could not be read"), "{e}");
    }

    #[test]
    fn the_seeds_settings_are_read_from_the_file_and_the_query() {
        let file = Launch::from_config_json(
            r#"{"Instance":"https://login.microsoftonline.com/","TenantId":"t1","ClientId":"c1",
                "Scopes":"api://s/mcp:tools","HttpMcpServerUrl":"https://s/mcp","SignIn":"popup"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(file.server_url.as_deref(), Some("https://s/mcp"));
        let s = &file.sign_in;
        assert_eq!((s.tenant_id.as_deref(), s.client_id.as_deref()), (Some("t1"), Some("c1")));
        assert_eq!(s.scopes, vec!["api://s/mcp:tools".to_owned()]);
        assert_eq!(s.mode, SignInMode::Popup);
        let camel =
            Launch::from_config_json(r#"{"tenantId":"t2","scopes":["a b","c"],"resource":"off"}"#)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(camel.sign_in.scopes, vec!["a".to_owned(), "b".into(), "c".into()]);
        assert_eq!(camel.sign_in.resource, ResourceSetting::Omit);
        assert!(Launch::from_config_json(r#"{"SignIn":"tab"}"#).is_err());
        let secret = Launch::from_config_json(r#"{"ClientSecret":"x"}"#).err().unwrap_or_default();
        assert!(secret.contains("holds a client secret"), "{secret}");

        let q = Launch::from_query(
            "?server=https://s/mcp&tenant=t9&scope=a%20b&signin=redirect&resource=server&client_secret=x",
        );
        assert_eq!(q.sign_in.tenant_id.as_deref(), Some("t9"));
        assert_eq!(q.sign_in.scopes, vec!["a".to_owned(), "b".into()]);
        assert_eq!(q.sign_in.resource, ResourceSetting::Server);
        assert!(q.sign_in.client_secret.is_none(), "never from a URL");
        let merged = file.clone().overridden_by(q);
        assert_eq!(merged.sign_in.tenant_id.as_deref(), Some("t9"));
        assert_eq!(
            merged.sign_in.client_id.as_deref(),
            Some("c1"),
            "same server: file's rest kept"
        );
        let elsewhere = file.overridden_by(Launch::from_query("?server=https://other/mcp"));
        assert_eq!(elsewhere.sign_in.client_id, None, "another server gets none of the file's");
    }

    #[test]
    fn the_query_string_wins_over_the_config_file() {
        let file = Launch {
            server_url: Some("http://file/mcp".into()),
            auto_connect: true,
            ..Launch::default()
        };
        let query = Launch::from_query("?server=http://query/mcp");
        assert_eq!(
            file.clone().overridden_by(query).server_url.as_deref(),
            Some("http://query/mcp")
        );
        assert_eq!(file.clone().overridden_by(Launch::default()), file);
    }
}
