//! Who may set what. The deployer's `config.json` is trusted: its sign-in settings are fixed for
//! the servers it names (its `ServerUrl`, and those under `AllowedServers`), it may give an
//! authorization server's metadata, allow more sign-in services than Entra's and forbid every
//! server and authority it does not list. A link, the page the console is embedded in, a server
//! and anything typed are not: a link or a host page can never change the settings of a server
//! `config.json` names nor move the redirect URI (which is always this console's own page), and
//! settings from a link, a host page or typed for a server are only proposals — they apply to
//! that one server, and only once the person has confirmed them, with the server's origin, the
//! issuer, the client and the scopes in view. Pure: texts in, verdicts out.

use crate::core::address::{ServerUrl, is_secure, lies_under, origin_of, same_origin};
use crate::core::auth::metadata::{AuthorizationServerMetadata, on_entra};
use crate::core::auth::scopes::others_apis;
use crate::core::auth::settings::{ResourceSetting, SignInMode, SignInSettings, entra_hosts};
use crate::core::launch::{Config, ConfigError, Link, Opened};
use thiserror::Error;
use url::Url;

/// A refusal of the trust rules, each one sentence saying what happened and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TrustError {
    #[error(
        "This console's configuration allows only {allowed}, so it will not connect to {server}; ask whoever runs this console to add it."
    )]
    ServerNotAllowed { server: String, allowed: String },
    #[error(
        "This console's configuration allows signing in only at {allowed}, and {issuer} is not one of them, so the console will not sign in there; ask whoever runs this console."
    )]
    AuthorityNotAllowed { issuer: String, allowed: String },
    #[error(
        "The sign-in settings send you to {instance}, which is not Microsoft Entra's sign-in service ({hosts}) nor one this console's configuration allows, so the console will not use it; fix the Instance, or ask whoever runs this console to allow it."
    )]
    InstanceNotAllowed { instance: String, hosts: String },
    #[error(
        "The link you opened asks to send sign-in answers to {redirect}, which is not this console's own page ({callback}), so the console ignored the link's sign-in settings and did not connect; open the console without them."
    )]
    LinkRedirectElsewhere { redirect: String, callback: String },
    #[error(
        "config.json sets the redirect URI {redirect}, which is not on this console's origin, so the console uses its own page {callback} instead; fix RedirectUri in config.json."
    )]
    ConfigRedirectElsewhere { redirect: String, callback: String },
    #[error(
        "The link you opened tries to change how you sign in to {server}, which this console's configuration sets, so the console ignored that part of the link."
    )]
    LinkCannotChange { server: String },
    #[error(
        "The link you opened carries sign-in settings but names no server, so the console ignored them."
    )]
    LinkSettingsWithoutServer,
    #[error(
        "The page this console is embedded in asks to send sign-in answers to {redirect}, which is not this console's own page ({callback}), so the console ignored its server and sign-in settings."
    )]
    HostRedirectElsewhere { redirect: String, callback: String },
    #[error(
        "The page this console is embedded in tries to change how you sign in to {server}, which this console's configuration sets, so the console ignored those settings."
    )]
    HostCannotChange { server: String },
    #[error(
        "The page this console is embedded in names the server {entry:?}, which is not an absolute http(s):// URL, so the console did not open it."
    )]
    HostBadServer { entry: String },
    #[error(
        "config.json lists {entry:?} in {list}, which is not an absolute https:// URL (http:// only on this machine); fix config.json."
    )]
    BadAllowList { list: &'static str, entry: String },
    #[error(
        "config.json names the server {entry:?}, which is not an absolute http(s):// URL, so the console opens no tab for it; fix config.json."
    )]
    BadServer { entry: String },
    #[error(
        "This console's config.json could not be used ({reason}), so it connects to no server; ask whoever runs this console to fix it."
    )]
    ConfigUnusable { reason: String },
    #[error(
        "The sign-in settings ask for a token for {resource}, which is not this server ({server}), so the console will not ask for it: such a token would be handed to this server; fix the resource setting."
    )]
    ResourceElsewhere { resource: String, server: String },
}

/// Where a server's sign-in settings came from, which decides what they may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// Nothing set: discovery alone decides, and nothing needs confirming.
    #[default]
    Discovery,
    /// The deployer's `config.json` names this server: fixed, locked, no confirmation.
    Config,
    /// `config.json` gives settings without naming this server: offered, to be confirmed.
    ConfigElsewhere,
    /// The link the page was opened with: to be confirmed.
    Link,
    /// The page this console is embedded in (a message from an `EmbedOrigins` page): to be
    /// confirmed, as a link's are.
    Host,
    /// Typed into the page for this server: to be confirmed.
    Typed,
}

impl Source {
    /// Why the confirmation is asked, as the page says it.
    pub fn reason(self) -> &'static str {
        match self {
            Source::Link => "from the link you opened",
            Source::Host => "from the page this console is embedded in",
            Source::Typed => "typed into the sign-in settings",
            Source::ConfigElsewhere => {
                "from this console's configuration, which does not name this server"
            }
            Source::Config | Source::Discovery => "from this console's configuration",
        }
    }

    /// Settings from here apply only once the person has confirmed them.
    pub fn needs_confirmation(self) -> bool {
        matches!(self, Source::Link | Source::Host | Source::Typed | Source::ConfigElsewhere)
    }
}

/// What the page was opened with, after the trust rules: the server to show and whether to
/// connect, and the sign-in settings the link proposes for that server.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Opening {
    /// The tab in front: the link's server, else the first `config.json` names.
    pub server: Option<String>,
    pub connect: bool,
    /// The link's further servers, then the other servers `config.json` names, each opened in a
    /// tab behind (connected as the front one is).
    pub behind: Vec<ServerUrl>,
    pub open: Option<Opened>,
    pub mode: Option<SignInMode>,
    pub proposal: Option<(ServerUrl, SignInSettings)>,
    /// What was refused, one sentence each, for the page to show.
    pub refusals: Vec<TrustError>,
}

/// What the page this console is embedded in may set, after the trust rules: a server to show,
/// and the sign-in settings it proposes for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hosted {
    pub server: ServerUrl,
    /// To be confirmed by the person before use (`Source::Host`).
    pub proposal: Option<SignInSettings>,
    /// Settings the host gave for a server `config.json` sets, ignored: said once.
    pub ignored: Option<TrustError>,
}

/// What settings from someone other than the deployer become for one server.
enum Proposed {
    /// None given, or the deployer's own.
    Nothing,
    Proposal(SignInSettings),
    /// `config.json` sets this server's: ignored.
    Refused,
}

/// The deployer's trusted choices, read once from `config.json`, and this console's own address.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// This console's redirect URI: its callback page, on its own origin.
    pub callback: Url,
    /// Where the console itself is (a full-page sign-in comes back here).
    pub console: Url,
    /// The servers `config.json` names (`ServerUrl`, then `Servers`), each with its settings:
    /// opened in tabs, in this order.
    pub servers: Vec<(ServerUrl, SignInSettings)>,
    pub auto_connect: bool,
    /// `config.json`'s sign-in settings (also for the servers under `AllowedServers`).
    pub settings: SignInSettings,
    pub mode: SignInMode,
    /// An authorization server's metadata from `config.json`, used instead of discovery for the
    /// servers it names.
    pub metadata: Option<AuthorizationServerMetadata>,
    allowed_servers: Option<Vec<Url>>,
    allowed_authorities: Option<Vec<Url>>,
    /// Why `config.json` could not be used, if it could not: then nothing is allowed.
    unusable: Option<String>,
}

fn allow_list(
    list: &Option<Vec<String>>,
    name: &'static str,
) -> Result<Option<Vec<Url>>, TrustError> {
    let Some(list) = list else { return Ok(None) };
    let parse = |entry: &String| {
        Url::parse(entry.trim())
            .ok()
            .filter(is_secure)
            .ok_or_else(|| TrustError::BadAllowList { list: name, entry: entry.clone() })
    };
    list.iter().map(parse).collect::<Result<Vec<_>, _>>().map(Some)
}

fn shown(list: &[Url]) -> String {
    list.iter().map(Url::as_str).collect::<Vec<_>>().join(", ")
}

impl Deployment {
    /// The deployment at `console` (the page's address) under `config`. A broken allow-list is
    /// an error: the console then refuses every server rather than guess what the deployer meant.
    /// An off-origin redirect URI is replaced by the console's own page, with the sentence.
    pub fn new(console: &Url, config: Config) -> (Deployment, Vec<TrustError>) {
        let mut refusals = Vec::new();
        let mut console = console.clone();
        console.set_query(None);
        console.set_fragment(None);
        let own = console.join("callback.html").unwrap_or_else(|_| console.clone());
        let callback = match config.redirect_uri.as_deref().map(|r| console.join(r)) {
            None => own,
            Some(Ok(mut wanted)) if same_origin(&wanted, &console) => {
                wanted.set_fragment(None);
                wanted
            }
            Some(other) => {
                let redirect = match other {
                    Ok(url) => url.to_string(),
                    Err(_) => config.redirect_uri.clone().unwrap_or_default(),
                };
                refusals.push(TrustError::ConfigRedirectElsewhere {
                    redirect,
                    callback: own.to_string(),
                });
                own
            }
        };
        let lists = || -> Result<_, TrustError> {
            Ok((
                allow_list(&config.allowed_servers, "AllowedServers")?,
                allow_list(&config.allowed_authorities, "AllowedAuthorities")?,
            ))
        };
        let (allowed_servers, allowed_authorities) = match lists() {
            Ok(lists) => lists,
            Err(error) => {
                refusals.push(error);
                // Nothing is allowed: an empty list refuses every server.
                (Some(Vec::new()), Some(Vec::new()))
            }
        };
        let own = |scopes: Option<Vec<String>>, resource: Option<ResourceSetting>| SignInSettings {
            scopes: scopes.unwrap_or_else(|| config.sign_in.scopes.clone()),
            resource: resource.unwrap_or_else(|| config.sign_in.resource.clone()),
            ..config.sign_in.clone()
        };
        let mut servers: Vec<(ServerUrl, SignInSettings)> = Vec::new();
        let listed = config.server_url.iter().map(|url| (url.clone(), None, None));
        let entries = config.servers.into_iter().map(|e| (e.server_url, e.scopes, e.resource));
        for (url, scopes, resource) in listed.chain(entries) {
            match ServerUrl::parse(&url) {
                Ok(server) if !servers.iter().any(|(s, _)| *s == server) => {
                    servers.push((server, own(scopes, resource)));
                }
                Ok(_) => {}
                Err(_) => refusals.push(TrustError::BadServer { entry: url }),
            }
        }
        let deployment = Deployment {
            callback,
            console,
            servers,
            auto_connect: config.auto_connect,
            settings: config.sign_in,
            mode: config.mode,
            metadata: config.metadata,
            allowed_servers,
            allowed_authorities,
            unusable: None,
        };
        (deployment, refusals)
    }

    /// The deployment when `config.json` is there but cannot be used: it allows nothing, for the
    /// deployer's limits cannot be known.
    pub fn unusable(console: &Url, error: &ConfigError) -> Deployment {
        let (mut deployment, _) = Deployment::new(console, Config::default());
        deployment.unusable = Some(error.to_string());
        deployment
    }

    /// The settings `config.json` gives `server` by name.
    fn listed(&self, server: &ServerUrl) -> Option<&SignInSettings> {
        self.servers.iter().find(|(s, _)| s == server).map(|(_, settings)| settings)
    }

    /// Whether `config.json` names `server`, so that its settings are fixed for it.
    pub fn names(&self, server: &ServerUrl) -> bool {
        self.listed(server).is_some()
            || self
                .allowed_servers
                .as_ref()
                .is_some_and(|list| list.iter().any(|base| lies_under(server.url(), base)))
    }

    /// The settings a server starts with, and where they come from. A server `config.json`
    /// does not name is offered only who the console is and where it signs in (instance, tenant,
    /// client, metadata document) — never the configured scopes or `resource`, which are for the
    /// configured servers' APIs.
    pub fn settings_for(&self, server: &ServerUrl) -> (SignInSettings, Source) {
        if let Some(settings) = self.listed(server) {
            return (settings.clone(), Source::Config);
        }
        if self.names(server) {
            return (self.settings.clone(), Source::Config);
        }
        let identity = SignInSettings {
            instance: self.settings.instance.clone(),
            tenant_id: self.settings.tenant_id.clone(),
            client_id: self.settings.client_id.clone(),
            client_metadata_url: self.settings.client_metadata_url.clone(),
            ..SignInSettings::default()
        };
        if identity.is_empty() {
            (identity, Source::Discovery)
        } else {
            (identity, Source::ConfigElsewhere)
        }
    }

    /// The scopes whose APIs are kept for the servers `config.json` names: for any server, those
    /// of the configured APIs that are not its own.
    pub fn reserved_scopes(&self, server: &ServerUrl) -> Vec<String> {
        let own = if self.names(server) { self.settings_for(server).0.scopes } else { Vec::new() };
        let configured = self.servers.iter().flat_map(|(_, settings)| &settings.scopes);
        others_apis(&own, self.settings.scopes.iter().chain(configured))
    }

    /// Whether the console may connect to `server` at all.
    pub fn check_server(&self, server: &ServerUrl) -> Result<(), TrustError> {
        if let Some(reason) = &self.unusable {
            return Err(TrustError::ConfigUnusable { reason: reason.clone() });
        }
        match &self.allowed_servers {
            Some(list) if !list.iter().any(|base| lies_under(server.url(), base)) => {
                Err(TrustError::ServerNotAllowed {
                    server: server.to_string(),
                    allowed: shown(list),
                })
            }
            _ => Ok(()),
        }
    }

    /// Whether the console may sign in at `issuer` at all.
    pub fn check_authority(&self, issuer: &str) -> Result<(), TrustError> {
        let Some(list) = &self.allowed_authorities else { return Ok(()) };
        let allowed =
            Url::parse(issuer).is_ok_and(|url| list.iter().any(|base| lies_under(&url, base)));
        if allowed {
            Ok(())
        } else {
            Err(TrustError::AuthorityNotAllowed { issuer: issuer.to_owned(), allowed: shown(list) })
        }
    }

    /// Whether settings from `source` may send the sign-in to their `instance`: the deployer's
    /// always; anyone else's only to Entra's hosts, or to a sign-in service the configuration
    /// uses or allows.
    pub fn check_instance(
        &self,
        settings: &SignInSettings,
        source: Source,
    ) -> Result<(), TrustError> {
        if source == Source::Config || !settings.names_a_tenant() {
            return Ok(());
        }
        let instance = settings.instance();
        if on_entra(instance) {
            return Ok(());
        }
        let Ok(url) = Url::parse(instance) else {
            return Err(TrustError::InstanceNotAllowed {
                instance: instance.to_owned(),
                hosts: entra_hosts(),
            });
        };
        let configured = self.settings.instance.as_deref().and_then(|i| Url::parse(i).ok());
        let allowed = configured.iter().chain(self.allowed_authorities.iter().flatten());
        let mut allowed = allowed;
        if allowed.any(|base| same_origin(base, &url)) {
            Ok(())
        } else {
            Err(TrustError::InstanceNotAllowed {
                instance: instance.to_owned(),
                hosts: entra_hosts(),
            })
        }
    }

    /// Whether settings from `source` may ask for their `resource` for `server`: the deployer's
    /// always; anyone else's only a resource the server lies under (the rule for a protected
    /// resource's own metadata), so that no token for another API is minted for it.
    pub fn check_resource(
        &self,
        settings: &SignInSettings,
        source: Source,
        server: &ServerUrl,
    ) -> Result<(), TrustError> {
        let ResourceSetting::Explicit(resource) = &settings.resource else { return Ok(()) };
        let covers = Url::parse(resource).is_ok_and(|r| lies_under(server.url(), &r));
        if source == Source::Config || covers {
            Ok(())
        } else {
            Err(TrustError::ResourceElsewhere {
                resource: resource.clone(),
                server: server.to_string(),
            })
        }
    }

    /// Whether a link or a host page may propose settings for `server`: not for a server `config.json` names,
    /// nor for any other address on such a server's origin (another spelling of it, say).
    fn guards(&self, server: &ServerUrl) -> bool {
        self.names(server)
            || self.servers.iter().any(|(own, _)| same_origin(own.url(), server.url()))
    }

    /// What a link may do. It names the server to show and whether to connect, the tool or
    /// prompt to open, and the popup or full-page mode; its sign-in settings become a proposal
    /// for its server — unless `config.json` names that server (then they are ignored, said once)
    /// or it names none. A redirect URI other than this console's own page refuses the link's
    /// sign-in settings altogether, and the connection it asked for.
    pub fn open(&self, link: Link) -> Opening {
        let mut opening = Opening {
            server: link
                .server_url
                .clone()
                .or_else(|| self.servers.first().map(|(s, _)| s.to_string())),
            connect: link.auto_connect || self.auto_connect,
            open: link.open,
            mode: link.mode,
            ..Opening::default()
        };
        let front = opening.server.as_deref().and_then(|s| ServerUrl::parse(s).ok());
        let more = link.more_servers.iter().filter_map(|s| ServerUrl::parse(s).ok());
        for server in more.chain(self.servers.iter().map(|(s, _)| s.clone())) {
            if Some(&server) != front.as_ref() && !opening.behind.contains(&server) {
                opening.behind.push(server);
            }
        }
        if let Err(redirect) = self.own_redirect(link.redirect_uri.as_deref()) {
            opening.connect = false;
            opening.refusals.push(TrustError::LinkRedirectElsewhere {
                redirect,
                callback: self.callback.to_string(),
            });
            return opening;
        }
        if link.sign_in.is_empty() {
            return opening;
        }
        let server = link.server_url.as_deref().and_then(|s| ServerUrl::parse(s).ok());
        let Some(server) = server else {
            opening.refusals.push(TrustError::LinkSettingsWithoutServer);
            return opening;
        };
        match self.proposed(&server, link.sign_in) {
            Proposed::Nothing => {}
            Proposed::Proposal(settings) => opening.proposal = Some((server, settings)),
            Proposed::Refused => opening
                .refusals
                .push(TrustError::LinkCannotChange { server: origin_of(server.url()) }),
        }
        opening
    }

    /// What the page this console is embedded in may do: exactly what a link may for its one
    /// server. It names the server to show (which must be one the console may connect to), and
    /// its sign-in settings become a proposal for that server — ignored, and said so, when
    /// `config.json` names the server; a redirect URI other than this console's own page refuses
    /// the server and its settings altogether.
    pub fn host(
        &self,
        server: &str,
        settings: SignInSettings,
        redirect_uri: Option<&str>,
    ) -> Result<Hosted, TrustError> {
        self.own_redirect(redirect_uri).map_err(|redirect| TrustError::HostRedirectElsewhere {
            redirect,
            callback: self.callback.to_string(),
        })?;
        let server = ServerUrl::parse(server)
            .map_err(|_| TrustError::HostBadServer { entry: server.to_owned() })?;
        self.check_server(&server)?;
        let (proposal, ignored) = match self.proposed(&server, settings) {
            Proposed::Nothing => (None, None),
            Proposed::Proposal(settings) => (Some(settings), None),
            Proposed::Refused => {
                (None, Some(TrustError::HostCannotChange { server: origin_of(server.url()) }))
            }
        };
        Ok(Hosted { server, proposal, ignored })
    }

    /// Whether a redirect URI someone other than the deployer asks for (resolved against the
    /// console's address) is this console's own page; `Err` names the one asked for.
    fn own_redirect(&self, redirect: Option<&str>) -> Result<(), String> {
        let Some(redirect) = redirect else { return Ok(()) };
        match self.console.join(redirect) {
            Ok(wanted) if wanted == self.callback => Ok(()),
            Ok(wanted) => Err(wanted.into()),
            Err(_) => Err(redirect.to_owned()),
        }
    }

    /// What sign-in settings from a link or a host page become for `server`: a proposal, unless
    /// `config.json` guards the server (then refused, or nothing when they agree with it).
    fn proposed(&self, server: &ServerUrl, settings: SignInSettings) -> Proposed {
        if settings.is_empty() {
            Proposed::Nothing
        } else if !self.guards(server) {
            Proposed::Proposal(settings)
        } else if link_agrees(&self.settings_for(server).0, &settings) {
            Proposed::Nothing
        } else {
            Proposed::Refused
        }
    }
}

/// Whether every setting a link or host page gives equals the deployer's (then there is nothing
/// to refuse).
fn link_agrees(mine: &SignInSettings, link: &SignInSettings) -> bool {
    let same = |theirs: &Option<String>, ours: &Option<String>| theirs.is_none() || theirs == ours;
    same(&link.instance, &mine.instance)
        && same(&link.tenant_id, &mine.tenant_id)
        && same(&link.client_id, &mine.client_id)
        && same(&link.client_metadata_url, &mine.client_metadata_url)
        && same(&link.login_hint, &mine.login_hint)
        && (link.scopes.is_empty() || link.scopes == mine.scopes)
        && (link.resource == Default::default() || link.resource == mine.resource)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::launch::ServerEntry;
    use crate::core::testing::url;

    const CONSOLE: &str = "https://console.contoso.example/mcp/?server=x";
    const CORP: &str = "https://mcp.contoso.example/mcp";

    fn server(s: &str) -> ServerUrl {
        ServerUrl::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn corp_config() -> Config {
        Config {
            server_url: Some(CORP.into()),
            sign_in: SignInSettings {
                tenant_id: Some("contoso.onmicrosoft.com".into()),
                client_id: Some("console-app".into()),
                scopes: vec!["api://corp-mcp/mcp:tools".into()],
                ..Default::default()
            },
            ..Config::default()
        }
    }

    fn deployment(config: Config) -> Deployment {
        let (d, refusals) = Deployment::new(&url(CONSOLE), config);
        assert!(refusals.is_empty(), "{refusals:?}");
        d
    }

    fn link(query: &str) -> Link {
        Link::from_query(query)
    }

    #[test]
    fn the_redirect_uri_is_the_consoles_own_page() {
        let d = deployment(Config::default());
        assert_eq!(d.callback.as_str(), "https://console.contoso.example/mcp/callback.html");
        assert_eq!(d.console.as_str(), "https://console.contoso.example/mcp/");
        let moved = Config { redirect_uri: Some("/auth/done.html".into()), ..Config::default() };
        assert_eq!(
            deployment(moved).callback.as_str(),
            "https://console.contoso.example/auth/done.html"
        );
        let off =
            Config { redirect_uri: Some("https://evil.example/cb".into()), ..Config::default() };
        let (d, refusals) = Deployment::new(&url(CONSOLE), off);
        assert_eq!(d.callback.as_str(), "https://console.contoso.example/mcp/callback.html");
        assert!(matches!(refusals.as_slice(), [TrustError::ConfigRedirectElsewhere { .. }]));
    }

    /// Attack 4: a link moves the redirect URI (through dynamic registration the code would go
    /// to the attacker). Every such link is refused, same-origin paths too.
    #[test]
    fn a_link_cannot_move_the_redirect_uri() {
        let d = deployment(Config::default());
        for redirect in
            ["https://evil.example/cb", "//evil.example/cb", "/other/page", "callback.html?x=1"]
        {
            let q = format!(
                "?server=https://mcp.example/mcp&connect=1&client_id=c&redirect_uri={}",
                urlencode(redirect)
            );
            let opening = d.open(link(&q));
            assert!(!opening.connect, "{redirect}: no connection either");
            assert_eq!(opening.proposal, None, "{redirect}");
            let text = opening.refusals.first().map(ToString::to_string).unwrap_or_default();
            assert!(text.contains("not this console's own page"), "{redirect}: {text}");
        }
        let same =
            d.open(link("?server=https://mcp.example/mcp&redirect_uri=callback.html&client_id=c"));
        assert!(same.refusals.is_empty() && same.proposal.is_some(), "{same:?}");
    }

    fn urlencode(s: &str) -> String {
        url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
    }

    /// Attack 1: `?server=<the config's server>&instance=https://evil.example/` kept the tenant,
    /// client and scopes of `config.json` and took the sign-in service from the link.
    #[test]
    fn a_link_cannot_change_the_settings_of_a_server_the_config_names() {
        let d = deployment(corp_config());
        for extra in [
            "instance=https://evil.example/",
            "tenant=evil",
            "client_id=other",
            "client_metadata_url=https://evil.example/c.json",
            "scope=api://payroll/read",
        ] {
            let opening = d.open(link(&format!("?server={CORP}&connect=1&{extra}")));
            assert_eq!(opening.proposal, None, "{extra}");
            assert!(
                matches!(opening.refusals.as_slice(), [TrustError::LinkCannotChange { .. }]),
                "{extra}"
            );
            assert!(opening.connect, "the server itself may still be opened");
            assert_eq!(d.settings_for(&server(CORP)), (corp_config().sign_in, Source::Config));
        }
        let agreeing = d.open(link(&format!("?server={CORP}&tenant=contoso.onmicrosoft.com")));
        assert!(agreeing.refusals.is_empty(), "nothing changed, nothing to say");
    }

    /// Attack 2: the config's tenant and client would sign in for any server typed or linked.
    #[test]
    fn config_settings_belong_to_the_servers_it_names_and_link_settings_are_proposals() {
        let d = deployment(corp_config());
        let evil = server("https://evil.example/mcp");
        let (settings, source) = d.settings_for(&evil);
        assert_eq!(source, Source::ConfigElsewhere);
        assert!(source.needs_confirmation() && !settings.is_empty());
        let opening = d.open(link("?server=https://evil.example/mcp&connect=1&tenant=contoso.onmicrosoft.com&client_id=console-app"));
        let (for_server, proposed) = opening.proposal.unwrap_or_else(|| panic!("a proposal"));
        assert_eq!(for_server, evil);
        assert_eq!(proposed.client_id.as_deref(), Some("console-app"));
        assert!(Source::Link.needs_confirmation() && Source::Typed.needs_confirmation());
        assert!(!Source::Config.needs_confirmation() && !Source::Discovery.needs_confirmation());
        let nothing = deployment(Config::default());
        assert_eq!(nothing.settings_for(&evil), (SignInSettings::default(), Source::Discovery));
        let lost = nothing.open(link("?tenant=t&client_id=c"));
        assert_eq!(lost.refusals, vec![TrustError::LinkSettingsWithoutServer]);
    }

    #[test]
    fn allow_lists_forbid_everything_else() {
        let config = Config {
            allowed_servers: Some(vec!["https://mcp.contoso.example/".into()]),
            allowed_authorities: Some(vec![
                "https://login.microsoftonline.com/contoso.onmicrosoft.com/".into(),
            ]),
            ..corp_config()
        };
        let d = deployment(config);
        assert!(d.check_server(&server(CORP)).is_ok());
        assert!(d.check_server(&server("https://mcp.contoso.example/other")).is_ok());
        let refused = d.check_server(&server("https://mcp.contoso.example.evil.example/mcp"));
        assert!(
            refused
                .is_err_and(|e| e.to_string().contains("allows only https://mcp.contoso.example/"))
        );
        assert!(
            d.names(&server("https://mcp.contoso.example/other")),
            "the allowed servers are the deployer's"
        );
        assert!(
            d.check_authority("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0")
                .is_ok()
        );
        assert!(d.check_authority("https://login.microsoftonline.com/evil/v2.0").is_err());
        let open = deployment(Config::default());
        assert!(open.check_server(&server("https://anything.example/mcp")).is_ok());
        assert!(open.check_authority("https://anything.example").is_ok());
        let broken = Config {
            allowed_servers: Some(vec!["http://plain.example/".into()]),
            ..Config::default()
        };
        let (d, refusals) = Deployment::new(&url(CONSOLE), broken);
        assert!(matches!(refusals.as_slice(), [TrustError::BadAllowList { .. }]));
        assert!(d.check_server(&server(CORP)).is_err(), "a broken list allows nothing");
    }

    #[test]
    fn an_instance_from_anyone_but_the_deployer_must_be_entras() {
        let d = deployment(Config {
            allowed_authorities: Some(vec!["https://idp.contoso.example/".into()]),
            ..Config::default()
        });
        let with = |instance: &str| SignInSettings {
            instance: Some(instance.into()),
            tenant_id: Some("t".into()),
            ..Default::default()
        };
        assert!(
            d.check_instance(&with("https://login.microsoftonline.com/"), Source::Link).is_ok()
        );
        assert!(
            d.check_instance(&with("https://login.microsoftonline.us/"), Source::Typed).is_ok()
        );
        assert!(d.check_instance(&with("https://idp.contoso.example/"), Source::Link).is_ok());
        let evil = d.check_instance(&with("https://evil.example/"), Source::Link);
        assert!(evil.is_err_and(|e| e.to_string().contains("login.microsoftonline.com")));
        assert!(d.check_instance(&with("https://evil.example/"), Source::Config).is_ok());
        let no_tenant =
            SignInSettings { instance: Some("https://evil.example/".into()), ..Default::default() };
        assert!(
            d.check_instance(&no_tenant, Source::Link).is_ok(),
            "an instance alone names no issuer"
        );
    }

    /// `Servers` opens more tabs: each listed server has the file's settings with its own API,
    /// gets no token for another configured server's API, and a link cannot change any of them.
    #[test]
    fn listed_servers_have_their_own_api_and_no_other() {
        let config = Config {
            servers: vec![
                ServerEntry {
                    server_url: "https://tickets.contoso.example/mcp".into(),
                    scopes: Some(vec!["api://tickets/mcp:tools".into()]),
                    resource: None,
                },
                ServerEntry { server_url: "not a url".into(), ..ServerEntry::default() },
                ServerEntry { server_url: CORP.into(), ..ServerEntry::default() },
            ],
            auto_connect: true,
            ..corp_config()
        };
        let (d, refusals) = Deployment::new(&url(CONSOLE), config);
        assert!(matches!(refusals.as_slice(), [TrustError::BadServer { .. }]), "{refusals:?}");
        let tickets = server("https://tickets.contoso.example/mcp");
        assert_eq!(d.servers.len(), 2, "the file's server once, then the listed one");
        let (settings, source) = d.settings_for(&tickets);
        assert_eq!(source, Source::Config);
        assert_eq!(settings.scopes, vec!["api://tickets/mcp:tools".to_owned()]);
        assert_eq!(settings.client_id.as_deref(), Some("console-app"), "the file's identity");
        assert_eq!(d.reserved_scopes(&tickets), vec!["api://corp-mcp/mcp:tools".to_owned()]);
        assert_eq!(d.reserved_scopes(&server(CORP)), vec!["api://tickets/mcp:tools".to_owned()]);
        let elsewhere = d.reserved_scopes(&server("https://other.example/mcp"));
        assert_eq!(elsewhere.len(), 2, "{elsewhere:?}");
        let opening = d.open(Link::default());
        assert_eq!((opening.server.as_deref(), opening.connect), (Some(CORP), true));
        assert_eq!(opening.behind, vec![tickets.clone()]);
        let link = Link::from_query(
            "?server=https://tickets.contoso.example/mcp&scope=api://corp-mcp/mcp:tools",
        );
        let opening = d.open(link);
        assert_eq!(opening.behind, vec![server(CORP)], "the link's server is in front");
        assert!(opening.proposal.is_none(), "{:?}", opening.refusals);
    }

    /// Review findings: another spelling of the configured server's URL is still the deployer's
    /// to set; config's scopes and resource are never offered to another server, whose tokens
    /// for the configured APIs are refused; a link's resource must cover its server; a broken
    /// config.json allows nothing.
    #[test]
    fn the_config_servers_origin_is_guarded_and_its_apis_are_reserved() {
        let d = deployment(Config {
            sign_in: SignInSettings {
                resource: ResourceSetting::Explicit("api://corp-mcp".into()),
                ..corp_config().sign_in
            },
            ..corp_config()
        });
        for spelling in [
            "https://mcp.contoso.example/mcp?",
            "https://mcp.contoso.example/mcp/",
            "https://mcp.contoso.example/%6Dcp",
            "https://mcp.contoso.example/other",
        ] {
            let opening = d.open(link(&format!("?server={}&client_id=evil", urlencode(spelling))));
            assert_eq!(opening.proposal, None, "{spelling}");
            assert!(
                matches!(opening.refusals.as_slice(), [TrustError::LinkCannotChange { .. }]),
                "{spelling}"
            );
        }
        let evil = server(EVIL_MCP);
        let (offered, source) = d.settings_for(&evil);
        assert_eq!(source, Source::ConfigElsewhere);
        assert!(
            offered.scopes.is_empty() && offered.resource == ResourceSetting::Auto,
            "{offered:?}"
        );
        assert_eq!(offered.client_id.as_deref(), Some("console-app"));
        assert_eq!(d.reserved_scopes(&evil), ["api://corp-mcp/mcp:tools".to_owned()]);
        assert!(d.reserved_scopes(&server(CORP)).is_empty());

        let with_resource =
            |r: &str| SignInSettings { resource: ResourceSetting::parse(r), ..Default::default() };
        assert!(
            d.check_resource(
                &with_resource("https://mcp.contoso.example/mcp"),
                Source::Link,
                &evil
            )
            .is_err()
        );
        assert!(d.check_resource(&with_resource("api://corp-mcp"), Source::Typed, &evil).is_err());
        assert!(
            d.check_resource(&with_resource("https://evil.example/"), Source::Link, &evil).is_ok()
        );
        assert!(d.check_resource(&with_resource("server"), Source::Link, &evil).is_ok());
        assert!(
            d.check_resource(&with_resource("api://corp-mcp"), Source::Config, &server(CORP))
                .is_ok()
        );

        let broken = Deployment::unusable(&url(CONSOLE), &ConfigError::HoldsSecret);
        let refused =
            broken.check_server(&server(CORP)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            refused.contains("could not be used") && refused.contains("client secret"),
            "{refused}"
        );
    }

    /// An attacker who controls a listed host page is as strong as one who controls a link, and
    /// no stronger: for the same server, settings and redirect URI the host gets the same
    /// proposal, the same refusal of a configured server's settings, loses the server where the
    /// link loses its connection, and its settings meet the same checks when used.
    #[test]
    fn a_host_page_can_do_nothing_a_link_cannot() {
        let d = deployment(Config {
            sign_in: SignInSettings {
                resource: ResourceSetting::Explicit("api://corp-mcp".into()),
                ..corp_config().sign_in
            },
            ..corp_config()
        });
        for (server, query) in [
            (EVIL_MCP, "tenant=contoso.onmicrosoft.com&client_id=console-app"),
            (EVIL_MCP, ""),
            (EVIL_MCP, "instance=https://evil.example/&tenant=t"),
            (EVIL_MCP, "resource=https://mcp.contoso.example/mcp"),
            (EVIL_MCP, "resource=api://corp-mcp&scope=api://corp-mcp/mcp:tools"),
            (CORP, "client_id=other"),
            (CORP, "scope=api://payroll/read"),
            (CORP, "tenant=contoso.onmicrosoft.com"),
            ("https://mcp.contoso.example/other", "client_id=evil"),
            ("https://mcp.contoso.example/mcp/", "instance=https://evil.example/&tenant=t"),
            (EVIL_MCP, "client_id=c&redirect_uri=https://evil.example/cb"),
            (EVIL_MCP, "client_id=c&redirect_uri=/other/page"),
            (CORP, "redirect_uri=//evil.example/cb"),
            (EVIL_MCP, "client_id=c&redirect_uri=callback.html"),
        ] {
            let link = link(&format!("?server={}&connect=1&{query}", urlencode(server)));
            let (settings, redirect) = (link.sign_in.clone(), link.redirect_uri.clone());
            let opening = d.open(link);
            let case = format!("{server} {query}");
            match d.host(server, settings.clone(), redirect.as_deref()) {
                Err(error) => {
                    assert!(matches!(error, TrustError::HostRedirectElsewhere { .. }), "{case}");
                    assert!(!opening.connect && opening.proposal.is_none(), "{case}");
                }
                Ok(hosted) => {
                    assert!(opening.connect, "{case}");
                    let proposal = hosted.proposal.map(|p| (hosted.server.clone(), p));
                    assert_eq!(proposal, opening.proposal, "{case}");
                    assert_eq!(hosted.ignored.is_some(), !opening.refusals.is_empty(), "{case}");
                }
            }
            let target = server_or_corp(server);
            assert_eq!(
                d.check_instance(&settings, Source::Host),
                d.check_instance(&settings, Source::Link),
                "{case}"
            );
            assert_eq!(
                d.check_resource(&settings, Source::Host, &target),
                d.check_resource(&settings, Source::Link, &target),
                "{case}"
            );
        }
        assert!(Source::Host.needs_confirmation());
        assert_eq!(Source::Host.reason(), "from the page this console is embedded in");
    }

    fn server_or_corp(s: &str) -> ServerUrl {
        ServerUrl::parse(s).unwrap_or_else(|_| server(CORP))
    }

    /// A host page opens only a server the console may connect to, and what it is refused is
    /// said in a sentence that names the embedding page.
    #[test]
    fn a_host_page_names_only_servers_the_console_may_open() {
        let d = deployment(Config {
            allowed_servers: Some(vec!["https://mcp.contoso.example/".into()]),
            ..corp_config()
        });
        let host = |server: &str, settings: SignInSettings| d.host(server, settings, None);
        let refused = host(EVIL_MCP, SignInSettings::default());
        assert!(matches!(refused, Err(TrustError::ServerNotAllowed { .. })), "{refused:?}");
        let refused = host("not a url", SignInSettings::default());
        assert!(matches!(refused, Err(TrustError::HostBadServer { .. })), "{refused:?}");
        let plain = host(CORP, SignInSettings::default());
        assert_eq!(plain, Ok(Hosted { server: server(CORP), proposal: None, ignored: None }));
        let other = SignInSettings { client_id: Some("other".into()), ..Default::default() };
        let ignored = host(CORP, other).map(|h| h.ignored.map(|e| e.to_string()));
        let said = ignored.ok().flatten().unwrap_or_default();
        assert!(said.starts_with("The page this console is embedded in tries"), "{said}");
        let broken = Deployment::unusable(&url(CONSOLE), &ConfigError::HoldsSecret);
        let refused = broken.host(CORP, SignInSettings::default(), None);
        assert!(matches!(refused, Err(TrustError::ConfigUnusable { .. })), "{refused:?}");
    }

    const EVIL_MCP: &str = "https://evil.example/mcp";
}
