//! The sign-in settings of one server, in the seed's shape: `Instance` and `TenantId` (Entra's
//! authority `{Instance}{TenantId}/v2.0`), `ClientId`, `Scopes`, the RFC 8707 `resource` policy,
//! a Client ID Metadata Document URL and an account hint — and how the page signs in (popup or
//! full page). They hold no secret: a client secret is typed into the page and kept apart. Who
//! may set them for which server is `trust`'s business.

use crate::core::address::is_secure;
use crate::core::auth::metadata::{ENTRA_HOSTS, MetadataError, is_entra};
use crate::core::auth::scopes::ENTRA_EXTRAS;
use serde::{Deserialize, Serialize};
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

/// Whether and how the RFC 8707 `resource` parameter goes into authorization and token requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourcePolicy {
    /// Send none (Entra v2 rejects it; 2025-03-26 servers predate it).
    Omit,
    /// The protected resource's `resource`, else the server URL.
    ServerUrl,
    /// A value set in the settings, e.g. an App ID URI.
    Explicit(String),
}

/// The settings' choice for RFC 8707 `resource`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

    /// The scopes these settings fix, with what Entra needs besides (`openid profile
    /// offline_access`) when they name a tenant; empty when none are set.
    pub fn fixed_scopes(&self) -> Vec<String> {
        if self.scopes.is_empty() || !self.names_a_tenant() {
            return self.scopes.clone();
        }
        let extras: Vec<String> = ENTRA_EXTRAS.iter().map(|s| (*s).to_owned()).collect();
        crate::core::auth::scopes::step_up(&self.scopes, &extras)
    }

    /// The `resource` policy for an issuer: the setting's, or by default none for Entra (its
    /// hosts, or settings naming a tenant) and for servers without protected resource metadata,
    /// the server otherwise (the MCP specification requires it in both requests).
    pub fn resource_policy(&self, issuer: &str, has_prm: bool) -> ResourcePolicy {
        match &self.resource {
            ResourceSetting::Omit => ResourcePolicy::Omit,
            ResourceSetting::Server => ResourcePolicy::ServerUrl,
            ResourceSetting::Explicit(value) => ResourcePolicy::Explicit(value.clone()),
            ResourceSetting::Auto => {
                let entra = Url::parse(issuer).is_ok_and(|u| is_entra(&u));
                if !has_prm || entra || self.names_a_tenant() {
                    ResourcePolicy::Omit
                } else {
                    ResourcePolicy::ServerUrl
                }
            }
        }
    }
}

/// Whether `instance` is one of Entra's sign-in hosts (over https).
pub fn is_entra_instance(instance: &str) -> bool {
    Url::parse(instance).is_ok_and(|u| u.scheme() == "https" && is_entra(&u))
}

/// The Entra hosts, for a sentence.
pub fn entra_hosts() -> String {
    ENTRA_HOSTS.join(", ")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

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
        assert!(is_entra_instance("https://login.microsoftonline.us/"));
        assert!(!is_entra_instance("https://login.microsoftonline.com.evil.example/"));
        assert!(!is_entra_instance("http://login.microsoftonline.com/"));
        assert_eq!(
            split_scopes(" api://x/mcp:tools,openid  profile\n"),
            strings(&["api://x/mcp:tools", "openid", "profile"])
        );
    }

    #[test]
    fn entra_settings_fix_their_scopes_with_what_entra_needs() {
        let entra = SignInSettings {
            tenant_id: Some("t".into()),
            scopes: strings(&["api://x/mcp:tools"]),
            ..Default::default()
        };
        assert_eq!(
            entra.fixed_scopes(),
            strings(&["api://x/mcp:tools", "openid", "profile", "offline_access"])
        );
        let plain = SignInSettings { scopes: strings(&["mcp:tools"]), ..Default::default() };
        assert_eq!(plain.fixed_scopes(), strings(&["mcp:tools"]));
        let none = SignInSettings { tenant_id: Some("t".into()), ..Default::default() };
        assert!(none.fixed_scopes().is_empty(), "nothing is invented");
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
        let plain = SignInSettings::default();
        let tenant = SignInSettings { tenant_id: Some("t".into()), ..Default::default() };
        let cases = [
            (&plain, "https://login.microsoftonline.com/common/v2.0", true, ResourcePolicy::Omit),
            (&plain, "https://login.microsoftonline.us/t/v2.0", true, ResourcePolicy::Omit),
            (&plain, "https://login.chinacloudapi.cn/t/v2.0", true, ResourcePolicy::Omit),
            (&plain, "https://login.partner.microsoftonline.cn/t/v2.0", true, ResourcePolicy::Omit),
            (&plain, "http://localhost:4000", false, ResourcePolicy::Omit),
            (&plain, "http://localhost:4000", true, ResourcePolicy::ServerUrl),
            (&tenant, "http://localhost:4000/t/v2.0", true, ResourcePolicy::Omit),
            (
                &plain,
                "https://login.microsoftonline.com.evil.example/t",
                true,
                ResourcePolicy::ServerUrl,
            ),
        ];
        for (settings, issuer, has_prm, expected) in cases {
            assert_eq!(settings.resource_policy(issuer, has_prm), expected, "{issuer}");
        }
        let omit = SignInSettings { resource: ResourceSetting::Omit, ..Default::default() };
        assert_eq!(omit.resource_policy("http://localhost:4000", true), ResourcePolicy::Omit);
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
}
