//! Tokens in memory, and only there, keyed by the MCP server they were obtained for and the
//! issuer that issued them (the 2026-07-28 revision keys stored credentials by issuer): each set
//! with the grant it came from (where to refresh and revoke it, as which client), when each
//! access token is due for refresh, and refresh that is single-flight (a rotated refresh token is
//! never used twice — strict servers revoke the whole grant when it is). A token leaves the store
//! only as a [`Bearer`], which names its server: the engine drops one that is not for its own.
//! Secrets are `oauth2` secret types, whose `Debug` prints `[redacted]`. Time is passed in.

use crate::core::address::ServerUrl;
use crate::core::auth::token::ClientAuth;
use crate::core::map::SortedMap;
use crate::core::session::Millis;
use oauth2::{AccessToken, RefreshToken};
use std::fmt;

/// Refresh at most this long before expiry (shorter for short-lived tokens).
const MAX_SKEW: Millis = 60_000;

/// What a token endpoint granted.
#[derive(Clone)]
pub struct TokenSet {
    pub access: AccessToken,
    pub refresh: Option<RefreshToken>,
    pub issued_at: Millis,
    /// `None` when the server gave no `expires_in`.
    pub expires_at: Option<Millis>,
    pub scopes: Vec<String>,
    pub issuer: String,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access", &"[redacted]")
            .field("refresh", &self.refresh.as_ref().map(|_| "[redacted]"))
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl TokenSet {
    /// When this set should be refreshed: shortly before expiry — a fifth of its lifetime, at
    /// most a minute, early.
    pub fn refresh_at(&self) -> Option<Millis> {
        let expires = self.expires_at?;
        let lifetime = expires.saturating_sub(self.issued_at);
        Some(expires.saturating_sub((lifetime / 5).min(MAX_SKEW)))
    }

    pub fn is_expired(&self, now: Millis) -> bool {
        self.expires_at.is_some_and(|e| now >= e)
    }
}

/// Where a token set came from: what a refresh or a revocation needs, kept beside it in memory.
#[derive(Debug, Clone)]
pub struct Grant {
    pub token_endpoint: String,
    pub revocation_endpoint: Option<String>,
    pub client_id: String,
    pub auth: ClientAuth,
    pub resource: Option<String>,
    pub redirect_uri: String,
}

/// An access token and the server it belongs to: the only form in which a token reaches a
/// connection.
#[derive(Clone)]
pub struct Bearer {
    pub server: ServerUrl,
    pub token: AccessToken,
}

impl PartialEq for Bearer {
    fn eq(&self, other: &Self) -> bool {
        self.server == other.server && self.token.secret() == other.token.secret()
    }
}

impl fmt::Debug for Bearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bearer({}, [redacted])", self.server)
    }
}

/// The answer to "may I refresh now?".
#[derive(Debug)]
pub enum RefreshStart {
    /// Go ahead with this refresh token at this grant; report back with the ticket.
    Start {
        ticket: u64,
        issuer: String,
        refresh_token: RefreshToken,
        grant: Box<Grant>,
        scopes: Vec<String>,
    },
    /// Another refresh is under way: wait for it, do not start a second.
    InFlight,
    /// There is no refresh token: an interactive sign-in is needed.
    NoRefreshToken,
}

/// How a refresh ended, for the token store.
#[derive(Debug)]
pub enum RefreshResult {
    Granted(TokenSet),
    /// The authorization server refused (`invalid_grant`, AADSTS700084, consent…): sign in again.
    Rejected,
    /// No usable answer (the network, a failing server): keep the tokens, try again later.
    Unavailable,
}

/// What became of a refresh.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    Refreshed,
    /// The grant is forgotten: one interactive sign-in is needed.
    SignInNeeded,
    Retry,
    /// The ticket was not the refresh under way (a stale answer, or signed out since): ignored.
    Stale,
}

#[derive(Debug)]
struct Slot {
    tokens: TokenSet,
    grant: Grant,
    refreshing: Option<u64>,
}

type Key = (ServerUrl, String);

/// Every token the console holds. Dropping it forgets them; nothing is ever written anywhere.
#[derive(Debug, Default)]
pub struct TokenStore {
    slots: SortedMap<Key, Slot>,
    /// The issuer of each server's latest sign-in: the tokens its connection uses.
    current: SortedMap<ServerUrl, String>,
    next_ticket: u64,
}

impl TokenStore {
    /// Keeps `tokens` from `grant` for `server`, under their issuer, replacing what was there
    /// (including a rotated refresh token, which must never be used again).
    pub fn insert(&mut self, server: &ServerUrl, tokens: TokenSet, grant: Grant) {
        let issuer = tokens.issuer.clone();
        self.current.insert(server.clone(), issuer.clone());
        self.slots.insert((server.clone(), issuer), Slot { tokens, grant, refreshing: None });
    }

    fn slot(&self, server: &ServerUrl) -> Option<&Slot> {
        let issuer = self.current.get(server)?;
        self.slots.get(&(server.clone(), issuer.clone()))
    }

    /// Whether `text` holds any token kept here: what must not leave the page (a tool result
    /// that echoes a request's `Authorization`, say).
    pub fn appear_in(&self, text: &str) -> bool {
        self.slots.values().any(|slot| {
            let refresh = slot.tokens.refresh.as_ref().map(|r| r.secret().as_str());
            let secrets = [Some(slot.tokens.access.secret().as_str()), refresh].into_iter();
            secrets.flatten().any(|secret| !secret.is_empty() && text.contains(secret))
        })
    }

    /// The tokens `server`'s connection uses.
    pub fn tokens(&self, server: &ServerUrl) -> Option<&TokenSet> {
        self.slot(server).map(|s| &s.tokens)
    }

    /// The bearer for `server` now: its token while it has not expired.
    pub fn bearer(&self, server: &ServerUrl, now: Millis) -> Option<Bearer> {
        let slot = self.slot(server)?;
        (!slot.tokens.is_expired(now))
            .then(|| Bearer { server: server.clone(), token: slot.tokens.access.clone() })
    }

    /// Whether a refresh of `server`'s tokens is under way.
    pub fn refreshing(&self, server: &ServerUrl) -> bool {
        self.slot(server).is_some_and(|s| s.refreshing.is_some())
    }

    /// When `server`'s tokens are due for refresh, if they can be refreshed and no refresh is
    /// under way.
    pub fn refresh_due(&self, server: &ServerUrl) -> Option<Millis> {
        let slot = self.slot(server)?;
        if slot.refreshing.is_some() || slot.tokens.refresh.is_none() {
            return None;
        }
        slot.tokens.refresh_at()
    }

    /// Asks to refresh `server`'s tokens. At most one refresh runs per server and issuer:
    /// callers that find one under way wait for its outcome instead of starting another.
    pub fn begin_refresh(&mut self, server: &ServerUrl) -> RefreshStart {
        let Some(issuer) = self.current.get(server).cloned() else {
            return RefreshStart::NoRefreshToken;
        };
        let Some(slot) = self.slots.get_mut(&(server.clone(), issuer.clone())) else {
            return RefreshStart::NoRefreshToken;
        };
        if slot.refreshing.is_some() {
            return RefreshStart::InFlight;
        }
        let Some(refresh_token) = slot.tokens.refresh.clone() else {
            return RefreshStart::NoRefreshToken;
        };
        self.next_ticket += 1;
        slot.refreshing = Some(self.next_ticket);
        RefreshStart::Start {
            ticket: self.next_ticket,
            issuer,
            refresh_token,
            grant: Box::new(slot.grant.clone()),
            scopes: slot.tokens.scopes.clone(),
        }
    }

    /// Reports how refresh `ticket` of `server`'s tokens from `issuer` ended.
    pub fn finish_refresh(
        &mut self,
        server: &ServerUrl,
        issuer: &str,
        ticket: u64,
        result: RefreshResult,
    ) -> RefreshOutcome {
        let key = (server.clone(), issuer.to_owned());
        let Some(slot) = self.slots.get_mut(&key) else { return RefreshOutcome::Stale };
        if slot.refreshing != Some(ticket) {
            return RefreshOutcome::Stale;
        }
        slot.refreshing = None;
        match result {
            RefreshResult::Granted(mut tokens) => {
                // Servers that do not rotate send no new refresh token: keep the old one.
                if tokens.refresh.is_none() {
                    tokens.refresh = slot.tokens.refresh.take();
                }
                slot.tokens = tokens;
                RefreshOutcome::Refreshed
            }
            RefreshResult::Rejected => {
                // The grant is dead: forget everything it gave, so nothing stale is sent.
                self.slots.remove(&key);
                if self.current.get(server).is_some_and(|i| i == issuer) {
                    self.current.remove(server);
                }
                RefreshOutcome::SignInNeeded
            }
            RefreshResult::Unavailable => RefreshOutcome::Retry,
        }
    }

    /// Forgets every token of `server`, whichever issuer gave it (sign-out), and returns the
    /// refresh tokens with their grants, to revoke.
    pub fn forget(&mut self, server: &ServerUrl) -> Vec<(Grant, RefreshToken)> {
        self.current.remove(server);
        let keys: Vec<Key> = self.slots.keys().filter(|(s, _)| s == server).cloned().collect();
        keys.into_iter()
            .filter_map(|key| self.slots.remove(&key))
            .filter_map(|slot| slot.tokens.refresh.map(|refresh| (slot.grant, refresh)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "http://127.0.0.1:4000/t/v2.0";

    fn server(s: &str) -> ServerUrl {
        ServerUrl::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn a() -> ServerUrl {
        server("http://127.0.0.1:3000/mcp")
    }

    fn grant(endpoint: &str) -> Grant {
        Grant {
            token_endpoint: endpoint.into(),
            revocation_endpoint: None,
            client_id: "c".into(),
            auth: ClientAuth::None,
            resource: None,
            redirect_uri: "http://127.0.0.1:8080/callback.html".into(),
        }
    }

    fn tokens(
        access: &str,
        refresh: Option<&str>,
        issued_at: Millis,
        lifetime: Option<Millis>,
    ) -> TokenSet {
        TokenSet {
            access: AccessToken::new(access.into()),
            refresh: refresh.map(|r| RefreshToken::new(r.into())),
            issued_at,
            expires_at: lifetime.map(|l| issued_at + l),
            scopes: vec!["api://x/mcp:tools".into()],
            issuer: ISSUER.into(),
        }
    }

    fn ready(store: &TokenStore, s: &ServerUrl, now: Millis) -> Option<String> {
        store.bearer(s, now).map(|b| b.token.secret().clone())
    }

    fn start(store: &mut TokenStore, s: &ServerUrl) -> (u64, String) {
        match store.begin_refresh(s) {
            RefreshStart::Start { ticket, refresh_token, .. } => {
                (ticket, refresh_token.secret().clone())
            }
            other => panic!("expected a start, got {other:?}"),
        }
    }

    #[test]
    fn a_bearer_names_its_server_and_no_other_server_gets_one() {
        let mut store = TokenStore::default();
        store.insert(&a(), tokens("at-1", None, 0, None), grant("t"));
        let bearer = store.bearer(&a(), 5).unwrap_or_else(|| panic!("a bearer"));
        assert_eq!(bearer.server, a());
        for other in [
            "http://127.0.0.1:3000/other",
            "http://127.0.0.1:3001/mcp",
            "http://localhost:3000/mcp",
        ] {
            assert_eq!(store.bearer(&server(other), 5), None, "{other}");
        }
        assert!(!format!("{bearer:?}").contains("at-1"));
    }

    #[test]
    fn tokens_are_kept_per_server_and_issuer() {
        let mut store = TokenStore::default();
        let mut other = tokens("at-b", Some("rt-b"), 0, None);
        other.issuer = "https://other.example".into();
        store.insert(&a(), tokens("at-a", Some("rt-a"), 0, None), grant("t1"));
        store.insert(&a(), other, grant("t2"));
        assert_eq!(ready(&store, &a(), 1), Some("at-b".into()), "the latest sign-in is current");
        let forgotten = store.forget(&a());
        let mut revoked: Vec<String> = forgotten.iter().map(|(_, r)| r.secret().clone()).collect();
        revoked.sort();
        assert_eq!(revoked, ["rt-a", "rt-b"], "both issuers' refresh tokens, to revoke");
        assert_eq!(store.bearer(&a(), 1), None);
    }

    #[test]
    fn refresh_is_due_shortly_before_expiry() {
        let hour = 3_600_000;
        assert_eq!(tokens("a", None, 0, Some(hour)).refresh_at(), Some(hour - 60_000));
        assert_eq!(tokens("a", None, 0, Some(10_000)).refresh_at(), Some(8_000));
        assert_eq!(tokens("a", None, 0, None).refresh_at(), None);
        let mut store = TokenStore::default();
        store.insert(&a(), tokens("at", Some("rt"), 0, Some(10_000)), grant("t"));
        assert_eq!(store.refresh_due(&a()), Some(8_000));
        store.insert(&a(), tokens("at", None, 0, Some(10_000)), grant("t"));
        assert_eq!(store.refresh_due(&a()), None, "nothing to refresh with");
        assert_eq!(ready(&store, &a(), 9_999), Some("at".into()));
        assert_eq!(store.bearer(&a(), 10_000), None, "expired");
        assert!(matches!(store.begin_refresh(&a()), RefreshStart::NoRefreshToken));
    }

    #[test]
    fn refresh_is_single_flight_and_the_rotated_token_replaces_the_old() {
        let mut store = TokenStore::default();
        store.insert(&a(), tokens("at-1", Some("rt-1"), 0, Some(10_000)), grant("t"));
        let (ticket, refresh) = start(&mut store, &a());
        assert_eq!(refresh, "rt-1");
        assert_eq!(store.refresh_due(&a()), None, "under way");
        assert!(store.refreshing(&a()));
        for _ in 0..5 {
            assert!(
                matches!(store.begin_refresh(&a()), RefreshStart::InFlight),
                "parallel 401s wait"
            );
        }
        let granted = tokens("at-2", Some("rt-2"), 9_000, Some(10_000));
        assert_eq!(
            store.finish_refresh(&a(), ISSUER, ticket, RefreshResult::Granted(granted)),
            RefreshOutcome::Refreshed
        );
        assert_eq!(ready(&store, &a(), 9_001), Some("at-2".into()));
        let (second, refresh) = start(&mut store, &a());
        assert_eq!(refresh, "rt-2", "the rotated token is never used again");
        assert_ne!(second, ticket);
        assert_eq!(
            store.finish_refresh(&a(), ISSUER, ticket, RefreshResult::Unavailable),
            RefreshOutcome::Stale,
            "a stale answer changes nothing"
        );
        assert_eq!(
            store.finish_refresh(&a(), "https://other.example", second, RefreshResult::Unavailable),
            RefreshOutcome::Stale,
            "another issuer's key is another slot"
        );
    }

    #[test]
    fn a_server_that_does_not_rotate_keeps_the_old_refresh_token() {
        let mut store = TokenStore::default();
        store.insert(&a(), tokens("at-1", Some("rt-1"), 0, Some(10_000)), grant("t"));
        let (ticket, _) = start(&mut store, &a());
        let granted = tokens("at-2", None, 9_000, Some(10_000));
        store.finish_refresh(&a(), ISSUER, ticket, RefreshResult::Granted(granted));
        assert_eq!(start(&mut store, &a()).1, "rt-1");
    }

    #[test]
    fn a_rejected_refresh_forgets_the_grant_and_asks_for_one_sign_in() {
        let mut store = TokenStore::default();
        store.insert(&a(), tokens("at-1", Some("rt-1"), 0, Some(10_000)), grant("t"));
        let (ticket, _) = start(&mut store, &a());
        let outcome = store.finish_refresh(&a(), ISSUER, ticket, RefreshResult::Rejected);
        assert_eq!(outcome, RefreshOutcome::SignInNeeded);
        assert_eq!(store.bearer(&a(), 0), None);
        assert!(matches!(store.begin_refresh(&a()), RefreshStart::NoRefreshToken));
    }

    #[test]
    fn a_network_failure_keeps_the_tokens_for_another_try() {
        let mut store = TokenStore::default();
        store.insert(&a(), tokens("at-1", Some("rt-1"), 0, Some(10_000)), grant("t"));
        let (ticket, _) = start(&mut store, &a());
        assert_eq!(
            store.finish_refresh(&a(), ISSUER, ticket, RefreshResult::Unavailable),
            RefreshOutcome::Retry
        );
        assert!(matches!(store.begin_refresh(&a()), RefreshStart::Start { .. }));
    }

    #[test]
    fn a_refresh_that_ends_after_sign_out_changes_nothing_and_secrets_never_print() {
        let mut store = TokenStore::default();
        store.insert(&a(), tokens("at-secret", Some("rt-secret"), 0, None), grant("t"));
        let shown = format!("{store:?} {:?}", store.tokens(&a()));
        assert!(!shown.contains("at-secret") && !shown.contains("rt-secret"), "{shown}");
        assert!(shown.contains("[redacted]"));
        let (ticket, _) = start(&mut store, &a());
        store.forget(&a());
        let late = tokens("at-late", Some("rt-late"), 1, None);
        assert_eq!(
            store.finish_refresh(&a(), ISSUER, ticket, RefreshResult::Granted(late)),
            RefreshOutcome::Stale
        );
        assert_eq!(store.bearer(&a(), 2), None);
    }
}
