//! The sign-in settings of one server, in the seed's shape: `Instance` and `TenantId` (Entra's
//! authority `{Instance}{TenantId}/v2.0`), `ClientId`, `Scopes`, the RFC 8707 `resource` policy,
//! a Client ID Metadata Document URL and an account hint — and how the page signs in (popup or
//! full page). They hold no secret: a client secret is typed into the page and kept apart. Who
//! may set them for which server is `trust`'s business.

use crate::core::address::is_secure;
use crate::core::auth::metadata::{ENTRA_HOSTS, MetadataError, on_entra};

use url::Url;

/// Entra's public cloud, the instance when none is set.
pub const DEFAULT_INSTANCE: &str = "https://login.microsoftonline.com/";

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

/// The settings' choice for RFC 8707 `resource`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ResourceSetting {
    /// Omitted for Entra (by its hosts or by settings that name a tenant) and for servers without
    /// protected resource metadata, sent otherwise.
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

    /// As the settings form shows it.
    pub fn text(&self) -> String {
        match self {
            ResourceSetting::Auto => String::new(),
            ResourceSetting::Omit => "omit".into(),
            ResourceSetting::Server => "server".into(),
            ResourceSetting::Explicit(v) => v.clone(),
        }
    }
}

/// What the settings say about signing in to one server; everything is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignInSettings {
    /// The sign-in service, e.g. `https://login.microsoftonline.com/`.
    pub instance: Option<String>,
    /// An Entra tenant (id or domain, or `common`/`organizations`).
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
    pub resource: ResourceSetting,
    /// The URL of this console's Client ID Metadata Document, if it has one.
    pub client_metadata_url: Option<String>,
    pub login_hint: Option<String>,
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
    /// Whether nothing is set: sign-in then goes by discovery alone.
    pub fn is_empty(&self) -> bool {
        *self == SignInSettings::default()
    }

    /// Whether these are explicit Entra settings (a tenant): the issuer is known without
    /// discovery, `resource` is left out, and `openid profile offline_access` are asked for.
    pub fn names_a_tenant(&self) -> bool {
        filled(&self.tenant_id).is_some()
    }

    pub fn client_id(&self) -> Option<&str> {
        filled(&self.client_id)
    }

    pub fn client_metadata_url(&self) -> Option<&str> {
        filled(&self.client_metadata_url)
    }

    pub fn login_hint(&self) -> Option<&str> {
        filled(&self.login_hint)
    }

    /// The sign-in service these settings use: the instance, Entra's public cloud by default.
    pub fn instance(&self) -> &str {
        filled(&self.instance).unwrap_or(DEFAULT_INSTANCE)
    }

    /// The issuer the settings name: `{Instance}{TenantId}/v2.0`, Entra's v2 authority, exactly
    /// as it is then compared with what the server and the metadata say.
    pub fn fixed_issuer(&self) -> Result<Option<String>, MetadataError> {
        let Some(tenant) = filled(&self.tenant_id) else { return Ok(None) };
        let instance = self.instance();
        let text = format!("{}/{}/v2.0", instance.trim_end_matches('/'), tenant.trim_matches('/'));
        match Url::parse(&text) {
            Ok(url) if is_secure(&url) && !tenant.contains(['?', '#']) => Ok(Some(text)),
            _ => Err(MetadataError::InsecureIssuer { issuer: text }),
        }
    }

    /// The RFC 8707 `resource` to send to `issuer` for `server_url` (whose protected resource
    /// metadata names `prm_resource`, if it has some): the setting's; by default none for Entra
    /// (its hosts, or settings naming a tenant) and for servers without protected resource
    /// metadata, and the server otherwise (the MCP specification requires it in both requests):
    /// its metadata's `resource`, else its URL without the trailing slash of a bare origin.
    /// Never with a fragment (RFC 8707 §2).
    pub fn resource_value(
        &self,
        issuer: &str,
        server_url: &Url,
        prm_resource: Option<&str>,
    ) -> Option<String> {
        let server = || match prm_resource {
            Some(resource) => resource.to_owned(),
            None => {
                let mut url = server_url.clone();
                url.set_fragment(None);
                let bare_origin = url.path() == "/" && url.query().is_none();
                let text = url.as_str();
                if bare_origin { text.trim_end_matches('/') } else { text }.to_owned()
            }
        };
        let value = match &self.resource {
            ResourceSetting::Omit => return None,
            ResourceSetting::Server => server(),
            ResourceSetting::Explicit(value) => value.clone(),
            ResourceSetting::Auto
                if prm_resource.is_none() || on_entra(issuer) || self.names_a_tenant() =>
            {
                return None;
            }
            ResourceSetting::Auto => server(),
        };
        Some(value.split('#').next().unwrap_or_default().to_owned()).filter(|v| !v.is_empty())
    }
}

/// The Entra hosts, for a sentence.
pub fn entra_hosts() -> String {
    ENTRA_HOSTS.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing::{strings, url};

    #[test]
    fn settings_name_entra_authorities_exactly() {
        let entra = SignInSettings {
            tenant_id: Some("contoso.onmicrosoft.com".into()),
            ..SignInSettings::default()
        };
        assert_eq!(
            entra.fixed_issuer(),
            Ok(Some("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0".into()))
        );
        let local = SignInSettings {
            instance: Some("http://127.0.0.1:4000/".into()),
            tenant_id: Some("t1".into()),
            ..SignInSettings::default()
        };
        assert_eq!(local.fixed_issuer(), Ok(Some("http://127.0.0.1:4000/t1/v2.0".into())));
        for (instance, tenant) in
            [("ftp:x", "t"), ("http://idp.example/", "t"), (DEFAULT_INSTANCE, "t?x=1")]
        {
            let bad = SignInSettings {
                instance: Some(instance.into()),
                tenant_id: Some(tenant.into()),
                ..SignInSettings::default()
            };
            assert!(bad.fixed_issuer().is_err(), "{instance} {tenant}");
        }
        assert_eq!(SignInSettings::default().fixed_issuer(), Ok(None));
        assert!(SignInSettings::default().is_empty() && !entra.is_empty());
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
    fn resource_is_omitted_for_entra_and_servers_without_metadata() {
        let server = url("http://127.0.0.1:3000/mcp");
        let prm = Some("http://127.0.0.1:3000/mcp");
        let plain = SignInSettings::default();
        let tenant = SignInSettings { tenant_id: Some("t".into()), ..Default::default() };
        let cases = [
            (&plain, "https://login.microsoftonline.com/common/v2.0", prm, None),
            (&plain, "https://login.microsoftonline.us/t/v2.0", prm, None),
            (&plain, "https://login.chinacloudapi.cn/t/v2.0", prm, None),
            (&plain, "https://login.partner.microsoftonline.cn/t/v2.0", prm, None),
            (&plain, "http://localhost:4000", None, None),
            (&plain, "http://localhost:4000", prm, prm),
            (&tenant, "http://localhost:4000/t/v2.0", prm, None),
            (&plain, "https://login.microsoftonline.com.evil.example/t", prm, prm),
        ];
        for (settings, issuer, prm_resource, expected) in cases {
            assert_eq!(
                settings.resource_value(issuer, &server, prm_resource).as_deref(),
                expected,
                "{issuer}"
            );
        }
    }

    #[test]
    fn resource_value_prefers_the_metadata_and_never_carries_a_fragment() {
        let with = |resource: ResourceSetting| SignInSettings { resource, ..Default::default() };
        let issuer = "http://h:4000";
        let cases = [
            (ResourceSetting::Omit, "http://h:3000/mcp", Some("http://h:3000/mcp"), None),
            (ResourceSetting::Server, "http://h:3000/mcp#f", None, Some("http://h:3000/mcp")),
            (
                ResourceSetting::Server,
                "https://mcp.example.com/",
                None,
                Some("https://mcp.example.com"),
            ),
            (
                ResourceSetting::Server,
                "https://mcp.example.com/?a=1",
                None,
                Some("https://mcp.example.com/?a=1"),
            ),
            (
                ResourceSetting::Server,
                "http://h:3000/mcp",
                Some("http://h:3000#f"),
                Some("http://h:3000"),
            ),
            (
                ResourceSetting::Explicit("api://app-id#x".into()),
                "http://h:3000/mcp",
                None,
                Some("api://app-id"),
            ),
            (ResourceSetting::Explicit(String::new()), "http://h:3000/mcp", None, None),
        ];
        for (setting, server, prm, expected) in cases {
            let got = with(setting.clone()).resource_value(issuer, &url(server), prm);
            assert_eq!(got.as_deref(), expected, "{setting:?} {server}");
        }
    }
}
