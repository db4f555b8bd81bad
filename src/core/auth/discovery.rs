//! Discovery, as a sans-IO machine: from an MCP server URL (and its 401 challenge, if any) to the
//! authorization server the browser signs in with. It asks for the server's RFC 9728 protected
//! resource metadata at the places RFC 9728 and the challenge name, always — for settings that
//! fix the issuer too, which must then be one the server lists — then for the issuer's RFC 8414 /
//! OpenID Connect metadata in the order the MCP specification sets, or, for a server without
//! protected resource metadata, the 2025-03-26 rules (metadata or default endpoints at the
//! server's origin). It can hold before the first request to the authorization server (while the
//! person confirms proposed settings), refuses cleartext off this machine, names each GET to
//! perform, is told each answer, and keeps a trace of every URL tried for the Auth view. The
//! documents and their checks are `metadata`'s.

use crate::core::address::{AddressError, is_http, is_secure, trimmed_path};
use crate::core::auth::metadata::{
    AuthorizationServerMetadata, MetadataError, ProtectedResourceMetadata, check_issuer,
    validate_configured_metadata, validate_legacy_metadata, validate_resource_metadata,
    validate_server_metadata,
};
use crate::core::json::FromJson;
use url::Url;

const PRM_WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
const OAUTH_WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";
const OIDC_WELL_KNOWN: &str = "/.well-known/openid-configuration";
const LEGACY_NOTE: &str =
    "no protected resource metadata: the server's origin is its authorization server (2025-03-26)";
const FIXED_NOTE: &str =
    "no protected resource metadata to check the settings' issuer against, so it is used as set";
const DEFAULT_ENDPOINTS_NOTE: &str =
    "no metadata either, so the default endpoints /authorize, /token and /register (2025-03-26)";
const PRM_KIND: &str = "protected resource metadata";
const AS_KIND: &str = "authorization server metadata";

/// `base` with its path replaced and its query, fragment and credentials dropped: metadata lives on
/// the same origin and carries nothing of the resource's query.
fn at_path(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    url.set_path(path);
    url.set_query(None);
    fetchable(url)
}

/// `url` without fragment and credentials: fetch refuses URLs with credentials, and metadata never
/// needs them. (Clearing them fails only for URLs without a host, which never get here.)
fn fetchable(mut url: Url) -> Url {
    url.set_fragment(None);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url
}

/// What a challenge's `resource_metadata` says: nothing usable (not an http(s) URL: the
/// well-known places are tried), a URL to read, or a cleartext URL off this machine (refused).
fn challenged_metadata_url(value: &str) -> Option<Result<Url, MetadataError>> {
    let url = Url::parse(value.trim()).ok().filter(is_http)?;
    Some(if is_secure(&url) {
        Ok(fetchable(url))
    } else {
        Err(MetadataError::InsecureMetadataUrl { url: value.trim().to_owned() })
    })
}

/// Where to look for the protected resource metadata of `server_url`, in order: the challenge's
/// `resource_metadata` alone when it is an http(s) URL, else the path-aware well-known URL of
/// RFC 9728 §3.1 (query dropped) and then the one at the root.
pub fn protected_resource_metadata_urls(server_url: &Url, challenged: Option<&str>) -> Vec<Url> {
    if let Some(Ok(url)) = challenged.and_then(challenged_metadata_url) {
        return vec![url];
    }
    let path = trimmed_path(server_url);
    let mut urls = Vec::with_capacity(2);
    if !path.is_empty() {
        urls.push(at_path(server_url, &format!("{PRM_WELL_KNOWN}{path}")));
    }
    urls.push(at_path(server_url, PRM_WELL_KNOWN));
    urls
}

/// Where to look for an authorization server's metadata, in the MCP specification's order: RFC 8414
/// path insertion, OpenID Connect path insertion, OpenID Connect path appending — or, for an
/// issuer without a path, the two documents at the root. An issuer with a path is never looked up
/// at the root: that document belongs to another issuer on the same host.
pub fn authorization_server_metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = trimmed_path(issuer);
    if path.is_empty() {
        return vec![at_path(issuer, OAUTH_WELL_KNOWN), at_path(issuer, OIDC_WELL_KNOWN)];
    }
    vec![
        at_path(issuer, &format!("{OAUTH_WELL_KNOWN}{path}")),
        at_path(issuer, &format!("{OIDC_WELL_KNOWN}{path}")),
        at_path(issuer, &format!("{path}{OIDC_WELL_KNOWN}")),
    ]
}

/// What a `WWW-Authenticate: Bearer` challenge told the console.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerInfo {
    pub scope: Option<Vec<String>>,
    pub resource_metadata: Option<String>,
}

/// What the settings tell discovery.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiscoverySettings {
    /// The issuer the settings name (an Entra authority): it must be one the server's protected
    /// resource metadata lists, if the server publishes any.
    pub fixed_issuer: Option<String>,
    /// Metadata from the deployer's `config.json`: used as it is, nothing fetched for it.
    pub configured: Option<AuthorizationServerMetadata>,
    /// Stop before the first request to the authorization server, until [`Discovery::release`].
    pub hold: bool,
}

/// Everything discovery found, ready for the authorization request.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovered {
    pub prm: Option<ProtectedResourceMetadata>,
    /// The issuer the console asked about, as the settings or the protected resource spell it
    /// (the server's origin under the 2025-03-26 rules).
    pub issuer: String,
    /// As found, or synthesised from the 2025-03-26 default endpoints.
    pub metadata: AuthorizationServerMetadata,
}

/// One URL tried, for the Auth view: its HTTP status (`None` when no response came) and what the
/// console made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceStep {
    pub url: Url,
    pub status: Option<u16>,
    pub note: String,
}

/// What comes after the protected resource: an authorization server, found one way or another.
#[derive(Debug, Clone)]
enum Next {
    /// The metadata of `issuer`, named by `prm` or by the settings; when the settings name an
    /// Entra tenant by its domain and `prm` lists tenants by id, the issuer the metadata states
    /// must be one of `listed`.
    Server { issuer: String, prm: Option<ProtectedResourceMetadata>, listed: Option<Vec<String>> },
    /// 2025-03-26: no protected resource metadata, so the server's origin is the authorization
    /// server.
    Legacy { origin: Url },
}

impl Next {
    fn issuer(&self) -> String {
        match self {
            Next::Server { issuer, .. } => issuer.clone(),
            Next::Legacy { origin } => origin.as_str().trim_end_matches('/').to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
enum Stage {
    /// Protected resource metadata; `from_challenge` when the 401 named its one URL.
    ResourceMetadata {
        from_challenge: bool,
    },
    /// Waiting for [`Discovery::release`] before asking the authorization server.
    Held(Next),
    Asking(Next),
    Finished,
}

/// Why one candidate URL gave nothing usable.
enum Miss {
    /// A 4xx answer: nothing there.
    Absent(String),
    /// No response at all (network, CORS).
    Unreachable(String),
    /// Something answered, but not with a usable document (5xx, not JSON).
    Broken(MetadataError),
    /// A well-formed document that fails a check.
    Refused(MetadataError),
}

/// A usable document: protected resource metadata with its issuer (and the issuers the
/// metadata must state one of), or authorization server metadata with a remark for the trace.
enum Found {
    Resource(ProtectedResourceMetadata, String, Option<Vec<String>>),
    Server(AuthorizationServerMetadata, &'static str),
}

impl Miss {
    fn note(&self) -> String {
        match self {
            Miss::Absent(reason) => reason.clone(),
            Miss::Unreachable(reason) => format!("no response: {reason}"),
            Miss::Broken(error) | Miss::Refused(error) => error.to_string(),
        }
    }
}

/// The sans-IO discovery machine. The caller loops: GET each URL from [`Discovery::next_request`]
/// (with `Accept: application/json` and no `MCP-Protocol-Version`: these are plain OAuth documents,
/// and a custom header would make every cross-origin GET need a preflight), report the answer with
/// [`Discovery::handle_response`] or [`Discovery::handle_failure`], until [`Discovery::outcome`] is
/// `Some` (or [`Discovery::held`], when asked to hold). One request is in flight at a time,
/// because each answer decides what to ask next.
#[derive(Debug, Clone)]
pub struct Discovery {
    server_url: Url,
    challenge: BearerInfo,
    settings: DiscoverySettings,
    stage: Stage,
    candidates: Vec<Url>,
    next: usize,
    in_flight: Option<Url>,
    /// The most telling failure of this stage: a refused document outranks a broken one.
    problem: Option<(bool, MetadataError)>,
    /// Whether anything answered in this stage (else the server is down or refuses the origin).
    answered: bool,
    trace: Vec<TraceStep>,
    outcome: Option<Result<Discovered, MetadataError>>,
}

impl Discovery {
    pub fn new(
        server_url: Url,
        challenge: Option<BearerInfo>,
        settings: DiscoverySettings,
    ) -> Self {
        let mut discovery = Discovery {
            server_url,
            challenge: challenge.unwrap_or_default(),
            settings,
            stage: Stage::Finished,
            candidates: Vec::new(),
            next: 0,
            in_flight: None,
            problem: None,
            answered: false,
            trace: Vec::new(),
            outcome: None,
        };
        let shown = discovery.server_url.to_string();
        let challenged = discovery.challenge.resource_metadata.clone();
        if !is_http(&discovery.server_url) {
            discovery.finish(Err(AddressError::NotHttp(shown).into()));
        } else if !is_secure(&discovery.server_url) {
            discovery.finish(Err(MetadataError::InsecureServer { server: shown }));
        } else if let Some(Err(error)) = challenged.as_deref().and_then(challenged_metadata_url) {
            discovery.finish(Err(error));
        } else {
            let from_challenge = challenged.as_deref().and_then(challenged_metadata_url).is_some();
            let urls =
                protected_resource_metadata_urls(&discovery.server_url, challenged.as_deref());
            discovery.begin(Stage::ResourceMetadata { from_challenge }, urls);
        }
        discovery
    }

    /// The next GET to perform, or `None` while one is in flight, while held, or when discovery
    /// has ended.
    pub fn next_request(&mut self) -> Option<Url> {
        if self.outcome.is_some() || self.in_flight.is_some() {
            return None;
        }
        let url = self.candidates.get(self.next)?.clone();
        self.next += 1;
        self.in_flight = Some(url.clone());
        Some(url)
    }

    /// The answer to the GET of `url`. Answers to anything but the request in flight are ignored.
    pub fn handle_response(&mut self, url: &Url, status: u16, body: &str) {
        if !self.take_in_flight(url) {
            return;
        }
        let miss = match status {
            200..=299 => return self.handle_document(url, status, body),
            404 | 410 => Miss::Absent(format!("not found (HTTP {status})")),
            400..=499 => Miss::Absent(format!("refused (HTTP {status})")),
            _ => Miss::Broken(MetadataError::Unavailable {
                url: url.to_string(),
                reason: format!("HTTP {status}"),
            }),
        };
        self.missed(url, Some(status), miss);
    }

    /// The GET of `url` got no response: a network failure, or the browser's CORS refusal.
    pub fn handle_failure(&mut self, url: &Url, reason: &str) {
        if self.take_in_flight(url) {
            self.missed(url, None, Miss::Unreachable(reason.to_owned()));
        }
    }

    /// The issuer discovery holds at, before asking it anything (the one a confirmation names),
    /// with the protected resource metadata that named it, if any.
    pub fn held(&self) -> Option<(String, Option<&ProtectedResourceMetadata>)> {
        match &self.stage {
            Stage::Held(next @ Next::Server { prm, .. }) => Some((next.issuer(), prm.as_ref())),
            Stage::Held(next) => Some((next.issuer(), None)),
            _ => None,
        }
    }

    /// Goes on past the hold, to the authorization server.
    pub fn release(&mut self) {
        if let Stage::Held(next) = std::mem::replace(&mut self.stage, Stage::Finished) {
            self.settings.hold = false;
            self.ask(next);
        }
    }

    /// `Some` once discovery has ended, either way.
    pub fn outcome(&self) -> Option<Result<Discovered, MetadataError>> {
        self.outcome.clone()
    }

    /// Every URL tried so far, in order, with what came of it.
    pub fn trace(&self) -> &[TraceStep] {
        &self.trace
    }

    fn take_in_flight(&mut self, url: &Url) -> bool {
        if self.outcome.is_some() || self.in_flight.as_ref() != Some(url) {
            return false;
        }
        self.in_flight = None;
        true
    }

    fn begin(&mut self, stage: Stage, candidates: Vec<Url>) {
        self.stage = stage;
        self.candidates = candidates;
        self.next = 0;
        self.problem = None;
        self.answered = false;
    }

    /// The protected resource is settled: on to the authorization server, or hold first.
    fn proceed(&mut self, next: Next) {
        if self.settings.hold {
            self.begin(Stage::Held(next), Vec::new());
        } else {
            self.ask(next);
        }
    }

    fn ask(&mut self, next: Next) {
        if let (Some(configured), Next::Server { prm, .. }) = (&self.settings.configured, &next) {
            let (configured, prm) = (configured.clone(), prm.clone());
            let issuer = configured.issuer.clone();
            return match validate_configured_metadata(&configured) {
                Ok(()) => self.succeed(issuer, prm, configured),
                Err(error) => self.finish(Err(error)),
            };
        }
        let urls = match &next {
            Next::Server { issuer, .. } => match check_issuer(issuer) {
                Ok(url) => {
                    let mut urls = authorization_server_metadata_urls(&url);
                    // An issuer from explicit (Entra) settings: Entra publishes only the OpenID
                    // form at `{issuer}/.well-known/openid-configuration`, so it is asked first;
                    // the RFC 8414 forms follow for servers that have only those.
                    if self.settings.fixed_issuer.is_some() {
                        urls.rotate_right(1);
                    }
                    urls
                }
                Err(error) => return self.finish(Err(error)),
            },
            Next::Legacy { origin } => vec![at_path(origin, OAUTH_WELL_KNOWN)],
        };
        self.begin(Stage::Asking(next), urls);
    }

    fn finish(&mut self, outcome: Result<Discovered, MetadataError>) {
        self.stage = Stage::Finished;
        self.outcome = Some(outcome);
    }

    fn record(&mut self, url: &Url, status: Option<u16>, note: String) {
        self.trace.push(TraceStep { url: url.clone(), status, note });
    }

    /// Adds what happens next to the last step's note.
    fn annotate(&mut self, text: &str) {
        if let Some(step) = self.trace.last_mut() {
            step.note.push_str("; ");
            step.note.push_str(text);
        }
    }

    fn succeed(
        &mut self,
        issuer: String,
        prm: Option<ProtectedResourceMetadata>,
        metadata: AuthorizationServerMetadata,
    ) {
        self.finish(Ok(Discovered { prm, issuer, metadata }));
    }

    /// A 2xx answer: parse and check the document the current stage looks for.
    fn handle_document(&mut self, url: &Url, status: u16, body: &str) {
        let fixed = self
            .settings
            .fixed_issuer
            .clone()
            .or_else(|| self.settings.configured.as_ref().map(|m| m.issuer.clone()));
        let found = match &self.stage {
            Stage::ResourceMetadata { .. } => parse(url, body, PRM_KIND).and_then(|prm| {
                let chosen =
                    validate_resource_metadata(&prm, &self.server_url, url, fixed.as_deref());
                chosen
                    .map(|(issuer, listed)| Found::Resource(prm, issuer, listed))
                    .map_err(Miss::Refused)
            }),
            Stage::Asking(Next::Server { issuer, listed, .. }) => parse(url, body, AS_KIND)
                .and_then(|metadata| {
                    let checked =
                        validate_server_metadata(&metadata, issuer, url).and_then(
                            |()| match listed {
                                Some(listed) if !listed.contains(&metadata.issuer) => {
                                    Err(MetadataError::IssuerNotListed {
                                        issuer: metadata.issuer.clone(),
                                        listed: listed.join(", "),
                                    })
                                }
                                _ => Ok(()),
                            },
                        );
                    checked.map(|()| Found::Server(metadata, "")).map_err(Miss::Refused)
                }),
            Stage::Asking(Next::Legacy { origin }) => {
                parse(url, body, AS_KIND).and_then(|mut metadata| {
                    let checked = validate_legacy_metadata(&metadata, &self.server_url);
                    // Under the 2025-03-26 rules the server's origin is the authorization
                    // server, whatever issuer its document claims: that origin is what is shown
                    // and expected.
                    metadata.issuer = origin.as_str().trim_end_matches('/').to_owned();
                    let note = " (2025-03-26 rules: the server's origin is the issuer)";
                    checked.map(|()| Found::Server(metadata, note)).map_err(Miss::Refused)
                })
            }
            Stage::Held(_) | Stage::Finished => return,
        };
        match found {
            Err(miss) => self.missed(url, Some(status), miss),
            Ok(Found::Resource(prm, issuer, listed)) => {
                let note = format!(
                    "protected resource metadata for {}; authorization server {issuer}",
                    prm.resource
                );
                self.record(url, Some(status), note);
                self.proceed(Next::Server { issuer, prm: Some(prm), listed });
            }
            Ok(Found::Server(metadata, remark)) => {
                let note = format!("authorization server metadata of {}{remark}", metadata.issuer);
                self.record(url, Some(status), note);
                let (issuer, prm) = match std::mem::replace(&mut self.stage, Stage::Finished) {
                    Stage::Asking(Next::Server { issuer, prm, .. }) => (issuer, prm),
                    Stage::Asking(next @ Next::Legacy { .. }) => (next.issuer(), None),
                    Stage::ResourceMetadata { .. } | Stage::Held(_) | Stage::Finished => return,
                };
                self.succeed(issuer, prm, metadata);
            }
        }
    }

    /// The protected resource publishes nothing usable: settings that fix the issuer go on with
    /// it (unless a document was there and failed its checks); otherwise the 2025-03-26 rules.
    fn without_resource_metadata(&mut self) {
        let refused = matches!(self.problem, Some((true, _)));
        let fixed = self
            .settings
            .fixed_issuer
            .clone()
            .or_else(|| self.settings.configured.as_ref().map(|m| m.issuer.clone()));
        if let Some(issuer) = fixed.filter(|_| !refused) {
            self.annotate(FIXED_NOTE);
            return self.proceed(Next::Server { issuer, prm: None, listed: None });
        }
        if let Some((_, error)) = self.problem.take() {
            return self.finish(Err(error));
        }
        self.annotate(LEGACY_NOTE);
        self.proceed(Next::Legacy { origin: at_path(&self.server_url, "/") });
    }

    /// `url` gave nothing usable: record it, then try the next candidate or end the stage.
    fn missed(&mut self, url: &Url, status: Option<u16>, miss: Miss) {
        self.record(url, status, miss.note());
        self.answered |= status.is_some();
        let more = self.next < self.candidates.len();
        match &self.stage {
            // The challenge named the one place to look: no guessing beyond it.
            Stage::ResourceMetadata { from_challenge: true } => {
                let fixed =
                    self.settings.fixed_issuer.is_some() || self.settings.configured.is_some();
                match miss {
                    Miss::Refused(error) => self.finish(Err(error)),
                    _ if fixed => self.without_resource_metadata(),
                    Miss::Absent(reason) | Miss::Unreachable(reason) => self
                        .finish(Err(MetadataError::Unavailable { url: url.to_string(), reason })),
                    Miss::Broken(error) => self.finish(Err(error)),
                }
            }
            Stage::ResourceMetadata { from_challenge: false } => {
                self.remember(miss);
                if !more {
                    self.without_resource_metadata();
                }
            }
            Stage::Asking(Next::Server { issuer, .. }) => {
                let issuer = issuer.clone();
                self.remember(miss);
                if !more {
                    let error = self.problem.take().map(|(_, error)| error);
                    let fallback = if self.answered {
                        MetadataError::MetadataNotFound { issuer: issuer.clone() }
                    } else {
                        MetadataError::Unavailable {
                            url: issuer,
                            reason: "none of its metadata URLs answered".to_owned(),
                        }
                    };
                    self.finish(Err(error.unwrap_or(fallback)));
                }
            }
            Stage::Asking(next @ Next::Legacy { origin }) => match miss {
                Miss::Absent(_) => {
                    let (issuer, origin) = (next.issuer(), origin.clone());
                    self.annotate(DEFAULT_ENDPOINTS_NOTE);
                    let metadata = AuthorizationServerMetadata::default_endpoints(&origin);
                    self.succeed(issuer, None, metadata);
                }
                Miss::Unreachable(reason) => {
                    self.finish(Err(MetadataError::Unavailable { url: url.to_string(), reason }));
                }
                Miss::Broken(error) | Miss::Refused(error) => self.finish(Err(error)),
            },
            Stage::Held(_) | Stage::Finished => {}
        }
    }

    /// Keeps the first refused document, else the first broken one, as the stage's explanation.
    fn remember(&mut self, miss: Miss) {
        let (refused, error) = match miss {
            Miss::Refused(error) => (true, error),
            Miss::Broken(error) => (false, error),
            Miss::Absent(_) | Miss::Unreachable(_) => return,
        };
        let better = match &self.problem {
            None => true,
            Some((had_refused, _)) => refused && !had_refused,
        };
        if better {
            self.problem = Some((refused, error));
        }
    }
}

/// Parses a metadata document (`kind` names it in errors); a body that is not one makes the
/// candidate broken.
fn parse<T: FromJson>(url: &Url, body: &str, kind: &'static str) -> Result<T, Miss> {
    let read = serde_json::from_str(body)
        .map_err(|e| e.to_string())
        .and_then(|value| T::from_json(value).map_err(|e| e.to_string()));
    read.map_err(|reason| {
        Miss::Broken(MetadataError::Malformed { url: url.to_string(), kind, reason })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing::{strings, url};
    use serde_json::json;

    fn shown(urls: &[Url]) -> Vec<&str> {
        urls.iter().map(Url::as_str).collect()
    }

    const RS: &str = "http://localhost:3000";
    const AS: &str = "http://localhost:4000";

    fn prm_doc(resource: &str, issuer: &str) -> String {
        json!({ "resource": resource, "authorization_servers": [issuer] }).to_string()
    }

    /// Metadata shaped like the conformance suite's authorization server.
    fn as_doc(issuer: &str, base: &str) -> String {
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "registration_endpoint": format!("{base}/register"),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
        })
        .to_string()
    }

    /// Plays a scripted server against the machine: each GET gets the first matching
    /// `(url, status, body)` (status 0 is a network failure), anything else a 404. Returns the
    /// URLs requested, in order.
    fn drive(discovery: &mut Discovery, script: &[(&str, u16, &str)]) -> Vec<String> {
        let mut asked = Vec::new();
        while let Some(next) = discovery.next_request() {
            assert!(discovery.next_request().is_none(), "one request at a time");
            asked.push(next.to_string());
            match script.iter().find(|(u, _, _)| *u == next.as_str()) {
                Some((_, 0, reason)) => discovery.handle_failure(&next, reason),
                Some((_, status, body)) => discovery.handle_response(&next, *status, body),
                None => discovery.handle_response(&next, 404, "Not Found"),
            }
            assert!(asked.len() < 16, "discovery does not end: {asked:?}");
        }
        asked
    }

    fn start(
        server: &str,
        challenge: Option<BearerInfo>,
        settings: DiscoverySettings,
    ) -> Discovery {
        Discovery::new(url(server), challenge, settings)
    }

    fn challenge(resource_metadata: Option<&str>, scope: Option<&[&str]>) -> Option<BearerInfo> {
        Some(BearerInfo {
            scope: scope.map(strings),
            resource_metadata: resource_metadata.map(str::to_owned),
        })
    }

    fn found(discovery: &Discovery) -> Discovered {
        match discovery.outcome() {
            Some(Ok(found)) => found,
            other => panic!("expected success, got {other:?}\ntrace: {:#?}", discovery.trace()),
        }
    }

    fn failed(discovery: &Discovery) -> MetadataError {
        match discovery.outcome() {
            Some(Err(error)) => error,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn protected_resource_metadata_is_looked_up_where_rfc_9728_and_the_challenge_say() {
        // RFC 9728 §3.1's example, verbatim.
        let urls =
            protected_resource_metadata_urls(&url("https://resource.example.com/resource1"), None);
        assert_eq!(
            urls.first().map(Url::as_str),
            Some("https://resource.example.com/.well-known/oauth-protected-resource/resource1")
        );
        // (server, challenged, expected): a leading `~` stands for the server's origin and the
        // well-known prefix.
        let cases: &[(&str, Option<&str>, &[&str])] = &[
            ("https://resource.example.com/resource1", None, &["~/resource1", "~"]),
            ("http://127.0.0.1:3000/mcp", None, &["~/mcp", "~"]),
            ("https://mcp.example.com", None, &["~"]),
            ("https://mcp.example.com/", None, &["~"]),
            ("https://example.com:8443/public/mcp/?tenant=a#top", None, &["~/public/mcp", "~"]),
            ("https://u:p@example.com/a%20b", None, &["~/a%20b", "~"]),
            (
                "https://h:3000/mcp",
                Some("https://h:3000/custom/m.json"),
                &["https://h:3000/custom/m.json"],
            ),
            (
                "https://h:3000/mcp",
                Some(" https://u:p@m.example/p?a=1#x "),
                &["https://m.example/p?a=1"],
            ),
            // Not an absolute http(s) URL: the challenge's value is ignored.
            ("https://a.example/mcp", Some("javascript:alert(1)"), &["~/mcp", "~"]),
            ("https://a.example/", Some("/relative"), &["~"]),
        ];
        for (server, challenged, expected) in cases {
            let server = url(server);
            let prefix = format!("{}{PRM_WELL_KNOWN}", server.origin().ascii_serialization());
            let expected: Vec<String> =
                expected.iter().map(|e| e.replacen('~', &prefix, 1)).collect();
            let urls = protected_resource_metadata_urls(&server, *challenged);
            assert_eq!(shown(&urls), expected, "{server} {challenged:?}");
        }
    }

    #[test]
    fn authorization_server_metadata_is_looked_up_in_the_mcp_order() {
        // RFC 8414 §3.1's example, verbatim, comes first.
        let urls = authorization_server_metadata_urls(&url("https://example.com/issuer1"));
        assert_eq!(
            urls.first().map(Url::as_str),
            Some("https://example.com/.well-known/oauth-authorization-server/issuer1")
        );
        let (oauth, oidc) = (OAUTH_WELL_KNOWN, OIDC_WELL_KNOWN);
        let forms =
            |p: &str| vec![format!("{oauth}{p}"), format!("{oidc}{p}"), format!("{p}{oidc}")];
        let cases = [
            ("https://example.com/issuer1", forms("/issuer1")),
            ("https://example.com/issuer1/", forms("/issuer1")),
            ("https://example.com/a/b?q=1", forms("/a/b")),
            ("https://auth.example.com", vec![oauth.to_owned(), oidc.to_owned()]),
        ];
        for (issuer, expected) in cases {
            let issuer = url(issuer);
            let urls = authorization_server_metadata_urls(&issuer);
            assert!(urls.iter().all(|u| u.origin() == issuer.origin() && u.query().is_none()));
            let paths: Vec<&str> = urls.iter().map(Url::path).collect();
            assert_eq!(paths, expected, "{issuer}");
        }
        let tenant = "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0";
        let urls = authorization_server_metadata_urls(&url(tenant));
        assert_eq!(urls.last().map(Url::as_str), Some(format!("{tenant}{oidc}").as_str()));
    }

    // --- the machine, against scripted servers shaped like the conformance scenarios ---

    #[test]
    fn metadata_default_follows_the_challenge_and_never_asks_the_root() {
        let prm_url = format!("{RS}/.well-known/oauth-protected-resource/mcp");
        let as_url = format!("{AS}/.well-known/oauth-authorization-server");
        let mut d =
            start(&format!("{RS}/mcp"), challenge(Some(&prm_url), None), Default::default());
        let asked = drive(
            &mut d,
            &[(&prm_url, 200, &prm_doc(&format!("{RS}/mcp"), AS)), (&as_url, 200, &as_doc(AS, AS))],
        );
        assert_eq!(asked, [prm_url.clone(), as_url.clone()]);
        let found = found(&d);
        assert_eq!(found.issuer, "http://localhost:4000");
        assert_eq!(found.metadata.token_endpoint, "http://localhost:4000/token");
        let steps: Vec<_> = d.trace().iter().map(|s| (s.url.to_string(), s.status)).collect();
        assert_eq!(steps, [(prm_url, Some(200)), (as_url, Some(200))]);
    }

    #[test]
    fn metadata_var1_falls_through_to_openid_configuration() {
        let mut d = start(&format!("{RS}/mcp"), None, Default::default());
        let prm_url = format!("{RS}/.well-known/oauth-protected-resource/mcp");
        let oidc = format!("{AS}/.well-known/openid-configuration");
        let asked = drive(
            &mut d,
            &[(&prm_url, 200, &prm_doc(&format!("{RS}/mcp"), AS)), (&oidc, 200, &as_doc(AS, AS))],
        );
        assert_eq!(asked, [prm_url, format!("{AS}/.well-known/oauth-authorization-server"), oidc]);
        assert_eq!(d.trace()[1].status, Some(404));
        found(&d);
    }

    #[test]
    fn path_issuers_are_never_looked_up_at_the_root() {
        let issuer = format!("{AS}/tenant1");
        let root_prm = format!("{RS}/.well-known/oauth-protected-resource");
        let custom = format!("{RS}/custom/metadata/location.json");
        let var2 = format!("{AS}/.well-known/oauth-authorization-server/tenant1");
        let var3 = format!("{AS}/tenant1/.well-known/openid-configuration");
        // (challenge, where the PRM is, where the AS metadata is); the PRM at the root names
        // the bare origin as its resource, as the suite's does.
        let cases = [
            (None, root_prm.as_str(), RS, Some(var2.as_str())),
            (Some(custom.as_str()), custom.as_str(), RS, Some(var3.as_str())),
            (None, root_prm.as_str(), RS, None),
        ];
        for (challenged, prm_at, resource, as_at) in cases {
            let mut d =
                start(&format!("{RS}/mcp"), challenge(challenged, None), Default::default());
            let prm = prm_doc(resource, &issuer);
            let meta = as_doc(&issuer, &issuer);
            let mut script = vec![(prm_at, 200, prm.as_str())];
            script.extend(as_at.map(|at| (at, 200, meta.as_str())));
            let asked = drive(&mut d, &script);
            assert!(
                !asked.iter().any(|u| u.ends_with(":4000/.well-known/oauth-authorization-server")),
                "{asked:?}"
            );
            assert!(
                !asked.iter().any(|u| u.ends_with(":4000/.well-known/openid-configuration")),
                "{asked:?}"
            );
            match as_at {
                Some(_) => assert_eq!(found(&d).metadata.issuer, issuer),
                None => assert_eq!(
                    failed(&d),
                    MetadataError::MetadataNotFound { issuer: issuer.clone() }
                ),
            }
        }
    }

    #[test]
    fn resource_mismatch_ends_discovery_before_any_authorization_server_request() {
        let prm_url = format!("{RS}/.well-known/oauth-protected-resource/mcp");
        let evil = prm_doc("https://evil.example.com/mcp", AS);
        for challenged in [Some(prm_url.as_str()), None] {
            let mut d =
                start(&format!("{RS}/mcp"), challenge(challenged, None), Default::default());
            let asked = drive(&mut d, &[(&prm_url, 200, &evil)]);
            assert!(asked.iter().all(|u| u.starts_with(RS)), "{asked:?}");
            assert!(matches!(failed(&d), MetadataError::ResourceMismatch { .. }));
        }
    }

    #[test]
    fn servers_without_resource_metadata_use_the_2025_03_26_rules() {
        let server = format!("{RS}/mcp");
        let legacy = format!("{RS}/.well-known/oauth-authorization-server");
        let oauth = format!("{RS}/oauth");
        // auth/2025-03-26-oauth-metadata-backcompat: metadata at the origin, issuer {origin}/oauth.
        let mut d = start(&server, None, Default::default());
        let asked = drive(&mut d, &[(&legacy, 200, &as_doc(&oauth, &oauth))]);
        assert_eq!(asked.len(), 3);
        assert_eq!(asked.last(), Some(&legacy));
        let got = found(&d);
        assert_eq!(
            (got.issuer.as_str(), got.metadata.issuer.as_str()),
            ("http://localhost:3000", "http://localhost:3000"),
            "the server's origin is the issuer, whatever the document claims ({oauth})"
        );
        assert_eq!(got.prm, None);

        // auth/2025-03-26-oauth-endpoint-fallback: nothing at all, so the default endpoints.
        let mut d = start(&server, None, Default::default());
        drive(&mut d, &[]);
        let got = found(&d);
        let endpoints: Vec<_> = got.metadata.endpoints().map(|(_, v)| v.to_owned()).collect();
        assert_eq!(
            endpoints,
            [format!("{RS}/authorize"), format!("{RS}/token"), format!("{RS}/register")]
        );
        assert!(d.trace().last().is_some_and(|s| s.note.contains("default endpoints")));

        // Endpoints must be on the server's own origin, and over https off this machine.
        let internal = "https://mcp.internal:8443";
        let meta_at = format!("{internal}{OAUTH_WELL_KNOWN}");
        for (base, ok) in
            [(internal, true), ("https://as.example", false), ("http://mcp.internal:8443", false)]
        {
            let mut d = start(&format!("{internal}/mcp"), None, Default::default());
            drive(&mut d, &[(&meta_at, 200, &as_doc(base, base))]);
            assert_eq!(d.outcome().is_some_and(|o| o.is_ok()), ok, "{base}: {:?}", d.outcome());
        }
        // The default endpoints are the server's own, so as secure as it is.
        let mut d = start(&format!("{internal}/mcp"), None, Default::default());
        drive(&mut d, &[]);
        assert_eq!(found(&d).metadata.token_endpoint, format!("{internal}/token"));
    }

    #[test]
    fn broken_or_refused_documents_are_reported_instead_of_guessing() {
        let server = format!("{RS}/mcp");
        let path_prm = format!("{RS}/.well-known/oauth-protected-resource/mcp");
        let root_prm = format!("{RS}/.well-known/oauth-protected-resource");
        let as_url = format!("{AS}/.well-known/oauth-authorization-server");
        let prm = prm_doc(&server, AS);
        let evil = prm_doc("https://evil.example.com/mcp", AS);
        let insecure_issuer = prm_doc(&server, "http://as.example");
        let wrong_issuer = as_doc("http://localhost:4001", AS);
        let insecure_endpoints = as_doc(AS, "http://as.example");
        // (script, challenge, what the error must be)
        type Case<'a> = (Vec<(&'a str, u16, &'a str)>, Option<&'a str>, &'a str);
        let cases: Vec<Case> = vec![
            (vec![(&path_prm, 200, "<html>")], None, "Malformed"),
            (vec![(&path_prm, 500, "")], None, "Unavailable"),
            (vec![(&path_prm, 500, ""), (&root_prm, 200, &evil)], None, "ResourceMismatch"),
            (vec![], Some(&path_prm), "Unavailable"),
            (vec![(&path_prm, 0, "TypeError: Failed to fetch")], Some(&path_prm), "Unavailable"),
            (
                vec![(&path_prm, 200, r#"{"resource":"http://localhost:3000/mcp"}"#)],
                None,
                "NoAuthorizationServer",
            ),
            (vec![(&path_prm, 200, &insecure_issuer)], None, "InsecureIssuer"),
            (vec![(&path_prm, 200, &prm), (&as_url, 200, &wrong_issuer)], None, "IssuerMismatch"),
            (vec![(&path_prm, 200, &prm), (&as_url, 200, "{}")], None, "Malformed"),
            (
                vec![(&path_prm, 200, &prm), (&as_url, 200, &insecure_endpoints)],
                None,
                "InsecureEndpoint",
            ),
        ];
        for (script, challenged, expected) in cases {
            let mut d = start(&server, challenge(challenged, None), Default::default());
            let asked = drive(&mut d, &script);
            let error = failed(&d);
            assert!(
                format!("{error:?}").starts_with(expected),
                "{expected}: {error:?} after {asked:?}"
            );
            assert!(!asked.iter().any(|u| u.ends_with("/authorize")));
            let text = error.to_string();
            assert!(text.ends_with('.') && !text.contains('\n'), "one sentence: {text}");
        }
    }

    #[test]
    fn a_refused_document_is_skipped_when_a_later_candidate_is_valid() {
        let prm_url = format!("{RS}/.well-known/oauth-protected-resource/mcp");
        let issuer = "http://LOCALHOST:4000/t";
        let first = format!("{AS}/.well-known/oauth-authorization-server/t");
        let third = format!("{AS}/t/.well-known/openid-configuration");
        let mut d = start(&format!("{RS}/mcp"), None, Default::default());
        let (prm, wrong, right) =
            (prm_doc(&format!("{RS}/mcp"), issuer), as_doc(AS, AS), as_doc(issuer, AS));
        drive(&mut d, &[(&prm_url, 200, &prm), (&first, 200, &wrong), (&third, 200, &right)]);
        assert_eq!(found(&d).metadata.issuer, issuer);
        assert_eq!(d.trace().last().map(|step| step.url.to_string()), Some(third));
        assert!(d.trace()[1].note.contains("RFC 8414"), "{:?}", d.trace());
    }

    #[test]
    fn network_failures_are_traced_and_the_next_candidate_is_tried() {
        let path_prm = format!("{RS}/.well-known/oauth-protected-resource/mcp");
        let root_prm = format!("{RS}/.well-known/oauth-protected-resource");
        let as_url = format!("{AS}/.well-known/oauth-authorization-server");
        let mut d = start(&format!("{RS}/mcp"), None, Default::default());
        drive(
            &mut d,
            &[
                (&path_prm, 0, "TypeError: Failed to fetch"),
                (&root_prm, 200, &prm_doc(RS, AS)),
                (&as_url, 200, &as_doc(AS, AS)),
            ],
        );
        found(&d);
        assert_eq!(d.trace()[0].status, None);
        assert!(d.trace()[0].note.contains("Failed to fetch"));
    }

    #[test]
    fn answers_to_requests_not_in_flight_are_ignored() {
        let mut d = start(&format!("{RS}/mcp"), None, Default::default());
        let first = d.next_request().unwrap_or_else(|| panic!("a first request"));
        d.handle_response(&url("http://localhost:3000/elsewhere"), 200, "{}");
        assert!(d.trace().is_empty() && d.next_request().is_none());
        d.handle_response(&first, 404, "");
        d.handle_response(&first, 200, "late duplicate");
        assert_eq!(d.trace().len(), 1);
        assert!(d.next_request().is_some());
    }

    #[test]
    fn an_explicit_entra_issuer_accepts_its_placeholder_after_the_resource_says_nothing() {
        let issuer = "https://login.microsoftonline.com/common/v2.0";
        let doc_url = format!("{issuer}/.well-known/openid-configuration");
        let endpoint = "https://login.microsoftonline.com/common/oauth2/v2.0";
        let doc = json!({
            "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
            "authorization_endpoint": format!("{endpoint}/authorize"),
            "token_endpoint": format!("{endpoint}/token"),
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
        })
        .to_string();
        let settings = DiscoverySettings {
            fixed_issuer: Some(issuer.to_owned()),
            ..DiscoverySettings::default()
        };
        let mut d = start("https://mcp.example.com/mcp", None, settings);
        let asked = drive(&mut d, &[(&doc_url, 200, &doc)]);
        assert_eq!(
            asked,
            [
                "https://mcp.example.com/.well-known/oauth-protected-resource/mcp".to_owned(),
                "https://mcp.example.com/.well-known/oauth-protected-resource".to_owned(),
                doc_url.clone(),
            ],
            "the server first, then Entra in its OpenID form"
        );
        assert_eq!(found(&d).issuer, issuer);
    }

    #[test]
    fn the_resource_metadata_is_kept_and_unusable_server_urls_fail_at_once() {
        let prm_url = format!("{RS}/.well-known/oauth-protected-resource/mcp");
        let as_url = format!("{AS}/.well-known/oauth-authorization-server");
        let doc = serde_json::from_str(&prm_doc(&format!("{RS}/mcp"), AS));
        let mut prm = ProtectedResourceMetadata::from_json(doc.unwrap_or_else(|e| panic!("{e}")))
            .unwrap_or_else(|e| panic!("{e}"));
        prm.scopes_supported = Some(strings(&["mcp:basic", "mcp:write"]));
        let prm = serde_json::to_string(&prm).unwrap_or_else(|e| panic!("{e}"));
        let mut d =
            start(&format!("{RS}/mcp"), challenge(None, Some(&["mcp:basic"])), Default::default());
        drive(&mut d, &[(&prm_url, 200, &prm), (&as_url, 200, &as_doc(AS, AS))]);
        assert_eq!(
            found(&d).prm.and_then(|p| p.scopes_supported),
            Some(strings(&["mcp:basic", "mcp:write"]))
        );

        for bad in ["file:///etc/passwd", "mailto:a@b.example"] {
            let mut d = start(bad, None, Default::default());
            assert_eq!(d.next_request(), None);
            assert!(matches!(failed(&d), MetadataError::InvalidServerUrl(_)));
        }
    }

    // --- the rules added after the security review ---

    const ENTRA_TENANT: &str =
        "https://login.microsoftonline.com/5f2c9a31-8d4e-4b6a-9f1c-2e7d3a8b4c6d/v2.0";

    fn entra_doc(issuer: &str) -> String {
        let base = issuer.trim_end_matches("/v2.0");
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
            "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        })
        .to_string()
    }

    fn fixed(issuer: &str) -> DiscoverySettings {
        DiscoverySettings { fixed_issuer: Some(issuer.to_owned()), ..DiscoverySettings::default() }
    }

    /// Attack 1, second form: a server's protected resource metadata names another issuer than
    /// the one the settings fix (with their client id); nothing is asked of either.
    #[test]
    fn a_fixed_issuer_the_server_does_not_list_is_refused_before_any_authorization_server_request()
    {
        let server = "https://mcp.example/mcp";
        let prm_url = "https://mcp.example/.well-known/oauth-protected-resource/mcp";
        let evil = prm_doc(server, "https://evil.example/t/v2.0");
        let mut d = start(server, None, fixed(ENTRA_TENANT));
        let asked = drive(&mut d, &[(prm_url, 200, &evil)]);
        assert!(asked.iter().all(|u| u.starts_with("https://mcp.example/")), "{asked:?}");
        assert!(matches!(failed(&d), MetadataError::IssuerNotListed { .. }), "{:?}", failed(&d));
        // Listed: on to Entra, in the settings' spelling.
        let listed = prm_doc(server, ENTRA_TENANT);
        let doc_url = format!("{ENTRA_TENANT}/.well-known/openid-configuration");
        let mut d = start(server, None, fixed(ENTRA_TENANT));
        let asked =
            drive(&mut d, &[(prm_url, 200, &listed), (&doc_url, 200, &entra_doc(ENTRA_TENANT))]);
        assert_eq!(asked, [prm_url.to_owned(), doc_url]);
        assert_eq!(found(&d).issuer, ENTRA_TENANT);
        // A server whose resource metadata cannot be read (CORS, down) leaves the settings as set.
        let mut d = start(server, challenge(Some(prm_url), None), fixed(ENTRA_TENANT));
        let asked = drive(
            &mut d,
            &[
                (prm_url, 0, "Failed to fetch"),
                (
                    &format!("{ENTRA_TENANT}/.well-known/openid-configuration"),
                    200,
                    &entra_doc(ENTRA_TENANT),
                ),
            ],
        );
        assert_eq!(asked.len(), 2);
        assert!(d.trace()[0].note.contains("used as set"), "{:?}", d.trace());
        found(&d);
    }

    #[test]
    fn discovery_can_hold_before_the_authorization_server_until_released() {
        let server = format!("{RS}/mcp");
        let prm_url = format!("{RS}/.well-known/oauth-protected-resource/mcp");
        let as_url = format!("{AS}/.well-known/oauth-authorization-server");
        let settings = DiscoverySettings { hold: true, ..DiscoverySettings::default() };
        let mut d = start(&server, None, settings);
        let asked = drive(&mut d, &[(&prm_url, 200, &prm_doc(&server, AS))]);
        assert_eq!(
            asked,
            std::slice::from_ref(&prm_url),
            "nothing asked of the authorization server"
        );
        assert_eq!(
            d.held().map(|(issuer, prm)| (issuer, prm.is_some())),
            Some((AS.to_owned(), true))
        );
        assert!(d.outcome().is_none() && d.next_request().is_none());
        d.release();
        assert!(d.held().is_none());
        let asked = drive(&mut d, &[(&as_url, 200, &as_doc(AS, AS))]);
        assert_eq!(asked, [as_url]);
        found(&d);
        // A 2025-03-26 server holds at its own origin.
        let mut d = start(&server, None, DiscoverySettings { hold: true, ..Default::default() });
        drive(&mut d, &[]);
        assert_eq!(d.held().map(|(issuer, _)| issuer), Some(RS.to_owned()));
    }

    /// Attack 5: cleartext off this machine, for the server, the metadata it points at, and
    /// everything after.
    #[test]
    fn cleartext_off_this_machine_is_refused_before_anything_is_asked() {
        let mut d = start("http://mcp.example/mcp", None, Default::default());
        assert_eq!(d.next_request(), None);
        assert!(matches!(failed(&d), MetadataError::InsecureServer { .. }));
        let mut d = start(
            "https://mcp.example/mcp",
            challenge(Some("http://metadata.example/prm"), None),
            Default::default(),
        );
        assert_eq!(d.next_request(), None);
        assert!(matches!(failed(&d), MetadataError::InsecureMetadataUrl { .. }));
        // A challenge naming something that is no URL at all falls back to the well-known places.
        let mut d =
            start("https://mcp.example/mcp", challenge(Some("nonsense"), None), Default::default());
        assert!(
            d.next_request()
                .is_some_and(|u| u.as_str().contains("/.well-known/oauth-protected-resource"))
        );
    }

    /// Settings name an Entra tenant by its domain, the server lists tenants by id: Entra's
    /// document states the id, which must be one the server lists — the domain could belong to
    /// any tenant.
    #[test]
    fn a_tenant_named_by_domain_must_turn_out_to_be_one_the_server_lists() {
        let server = "https://mcp.example/mcp";
        let prm_url = "https://mcp.example/.well-known/oauth-protected-resource/mcp";
        let by_domain = "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0";
        let doc_url = format!("{by_domain}/.well-known/openid-configuration");
        let listed = prm_doc(server, ENTRA_TENANT);
        let mut d = start(server, None, fixed(by_domain));
        drive(&mut d, &[(prm_url, 200, &listed), (&doc_url, 200, &entra_doc(ENTRA_TENANT))]);
        assert_eq!(found(&d).metadata.issuer, ENTRA_TENANT);
        let another = "https://login.microsoftonline.com/0b7e4c1d-2a3f-4e5d-8c9b-1a2b3c4d5e6f/v2.0";
        let mut d = start(server, None, fixed(by_domain));
        drive(&mut d, &[(prm_url, 200, &listed), (&doc_url, 200, &entra_doc(another))]);
        assert!(matches!(failed(&d), MetadataError::IssuerNotListed { .. }), "{:?}", failed(&d));
    }

    #[test]
    fn metadata_from_the_configuration_is_used_as_it_is() {
        let configured = AuthorizationServerMetadata::from_json(json!({
            "issuer": "https://idp.example",
            "authorization_endpoint": "https://idp.example/authorize",
            "token_endpoint": "https://tokens.example/token",
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let settings =
            DiscoverySettings { configured: Some(configured.clone()), ..Default::default() };
        let mut d = start("https://mcp.example/mcp", None, settings.clone());
        let asked = drive(&mut d, &[]);
        assert!(asked.iter().all(|u| u.starts_with("https://mcp.example/")), "{asked:?}");
        assert_eq!(found(&d).metadata, configured);
        let prm_url = "https://mcp.example/.well-known/oauth-protected-resource/mcp";
        let other = prm_doc("https://mcp.example/mcp", "https://other.example");
        let mut d = start("https://mcp.example/mcp", None, settings);
        drive(&mut d, &[(prm_url, 200, &other)]);
        assert!(matches!(failed(&d), MetadataError::IssuerNotListed { .. }));
    }
}
