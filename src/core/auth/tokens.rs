//! Tokens in memory, and only there: one token set per MCP server origin and issuer, when each
//! access token is due for refresh, refresh that is single-flight (a rotated refresh token is
//! never used twice — strict servers revoke the whole grant when it is), and the rule that a
//! bearer token goes only to the origin it was issued for. Secrets are `oauth2` secret types,
//! whose `Debug` prints `[redacted]`. Time is passed in.

use crate::core::session::Millis;
use oauth2::{AccessToken, RefreshToken};
use std::collections::BTreeMap;
use std::fmt;
use url::Url;

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

/// Whether a request to a URL can carry a bearer token now.
#[derive(Debug)]
pub enum Bearer<'a> {
    /// Send this token.
    Ready(&'a AccessToken),
    /// A token exists but is due: refresh first (or wait for the refresh under way).
    Refresh,
    /// No token for this origin: send nothing (or sign in).
    None,
}

/// The answer to "may I refresh now?".
#[derive(Debug)]
pub enum RefreshStart {
    /// Go ahead with this refresh token; report back with the ticket.
    Start { ticket: u64, refresh_token: RefreshToken },
    /// Another refresh is under way: wait for it, do not start a second.
    InFlight,
    /// There is no refresh token: an interactive sign-in is needed.
    NoRefreshToken,
}

/// How a refresh ended, for the token store.
#[derive(Debug)]
pub enum RefreshResult {
    Granted(TokenSet),
    /// The grant is gone (`invalid_grant`, AADSTS700084…): sign in again.
    Rejected(String),
    /// The server could not be asked (network): keep the tokens, try again later.
    Unavailable(String),
}

/// What became of a refresh.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    Refreshed,
    /// One interactive sign-in is needed; the sentence says why.
    SignInNeeded(String),
    Retry(String),
    /// The ticket was not the refresh under way (a stale answer): ignored.
    Stale,
}

#[derive(Debug)]
struct Slot {
    tokens: TokenSet,
    refreshing: Option<u64>,
}

/// Every token the console holds. Dropping it forgets them; nothing is ever written anywhere.
#[derive(Debug, Default)]
pub struct TokenStore {
    /// Keyed by the MCP server's origin (scheme, host, port).
    slots: BTreeMap<String, Slot>,
    next_ticket: u64,
}

/// The origin of `url` (`scheme://host:port`), or `None` for a URL without one.
pub fn origin_of(url: &str) -> Option<String> {
    let url = Url::parse(url).ok()?;
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

impl TokenStore {
    /// Keeps `tokens` for the MCP server at `server_url`, replacing what was there (including a
    /// rotated refresh token, which must never be used again).
    pub fn insert(&mut self, server_url: &str, tokens: TokenSet) {
        if let Some(origin) = origin_of(server_url) {
            self.slots.insert(origin, Slot { tokens, refreshing: None });
        }
    }

    /// The token a request to `url` may carry. Only the origin a token was stored for gets it:
    /// a URL on any other origin — another server, a redirect, a legacy endpoint elsewhere —
    /// gets [`Bearer::None`].
    pub fn bearer_for(&self, url: &str, now: Millis) -> Bearer<'_> {
        let Some(slot) = origin_of(url).and_then(|o| self.slots.get(&o)) else {
            return Bearer::None;
        };
        let due = slot.tokens.refresh_at().is_some_and(|at| now >= at);
        if due && (slot.tokens.refresh.is_some() || slot.tokens.is_expired(now)) {
            Bearer::Refresh
        } else {
            Bearer::Ready(&slot.tokens.access)
        }
    }

    /// The token set for `server_url`, for the Auth view.
    pub fn tokens(&self, server_url: &str) -> Option<&TokenSet> {
        origin_of(server_url).and_then(|o| self.slots.get(&o)).map(|s| &s.tokens)
    }

    /// Asks to refresh the tokens of `server_url`. At most one refresh runs per origin: callers
    /// that find one under way wait for its outcome instead of starting another.
    pub fn begin_refresh(&mut self, server_url: &str) -> RefreshStart {
        let Some(slot) = origin_of(server_url).and_then(|o| self.slots.get_mut(&o)) else {
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
        RefreshStart::Start { ticket: self.next_ticket, refresh_token }
    }

    /// Reports how refresh `ticket` ended.
    pub fn finish_refresh(
        &mut self,
        server_url: &str,
        ticket: u64,
        result: RefreshResult,
    ) -> RefreshOutcome {
        let Some(origin) = origin_of(server_url) else { return RefreshOutcome::Stale };
        let Some(slot) = self.slots.get_mut(&origin) else { return RefreshOutcome::Stale };
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
            RefreshResult::Rejected(why) => {
                // The grant is dead: forget everything it gave, so nothing stale is sent.
                self.slots.remove(&origin);
                RefreshOutcome::SignInNeeded(why)
            }
            RefreshResult::Unavailable(why) => RefreshOutcome::Retry(why),
        }
    }

    /// Forgets the tokens of `server_url` (sign-out).
    pub fn forget(&mut self, server_url: &str) {
        if let Some(origin) = origin_of(server_url) {
            self.slots.remove(&origin);
        }
    }

    /// Forgets every token.
    pub fn forget_all(&mut self) {
        self.slots.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: &str = "http://127.0.0.1:3000/mcp";

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
            issuer: "http://127.0.0.1:4000/t/v2.0".into(),
        }
    }

    fn ready(store: &TokenStore, url: &str, now: Millis) -> Option<String> {
        match store.bearer_for(url, now) {
            Bearer::Ready(t) => Some(t.secret().clone()),
            _ => None,
        }
    }

    #[test]
    fn the_bearer_goes_only_to_the_origin_it_was_issued_for() {
        let mut store = TokenStore::default();
        store.insert(SERVER, tokens("at-1", None, 0, None));
        assert_eq!(ready(&store, "http://127.0.0.1:3000/mcp", 5), Some("at-1".into()));
        assert_eq!(
            ready(&store, "http://127.0.0.1:3000/message?sessionId=x", 5),
            Some("at-1".into())
        );
        for other in [
            "http://127.0.0.1:3001/mcp",
            "https://127.0.0.1:3000/mcp",
            "http://localhost:3000/mcp",
            "http://evil.example/mcp",
            "not a url",
            "data:text/plain,x",
        ] {
            assert!(matches!(store.bearer_for(other, 5), Bearer::None), "{other}");
        }
    }

    #[test]
    fn refresh_is_due_shortly_before_expiry() {
        let hour = 3_600_000;
        assert_eq!(tokens("a", None, 0, Some(hour)).refresh_at(), Some(hour - 60_000));
        assert_eq!(tokens("a", None, 0, Some(10_000)).refresh_at(), Some(8_000));
        assert_eq!(tokens("a", None, 0, None).refresh_at(), None);
        let mut store = TokenStore::default();
        store.insert(SERVER, tokens("at", Some("rt"), 0, Some(10_000)));
        assert_eq!(ready(&store, SERVER, 7_999), Some("at".into()));
        assert!(matches!(store.bearer_for(SERVER, 8_000), Bearer::Refresh));
    }

    #[test]
    fn without_a_refresh_token_the_token_is_used_until_it_expires() {
        let mut store = TokenStore::default();
        store.insert(SERVER, tokens("at", None, 0, Some(10_000)));
        assert_eq!(ready(&store, SERVER, 9_000), Some("at".into()));
        assert!(matches!(store.bearer_for(SERVER, 10_000), Bearer::Refresh));
        assert!(matches!(store.begin_refresh(SERVER), RefreshStart::NoRefreshToken));
    }

    #[test]
    fn refresh_is_single_flight_and_the_rotated_token_replaces_the_old() {
        let mut store = TokenStore::default();
        store.insert(SERVER, tokens("at-1", Some("rt-1"), 0, Some(10_000)));
        let RefreshStart::Start { ticket, refresh_token } = store.begin_refresh(SERVER) else {
            panic!()
        };
        assert_eq!(refresh_token.secret(), "rt-1");
        for _ in 0..5 {
            assert!(
                matches!(store.begin_refresh(SERVER), RefreshStart::InFlight),
                "parallel 401s wait"
            );
        }
        let granted = tokens("at-2", Some("rt-2"), 9_000, Some(10_000));
        assert_eq!(
            store.finish_refresh(SERVER, ticket, RefreshResult::Granted(granted)),
            RefreshOutcome::Refreshed
        );
        assert_eq!(ready(&store, SERVER, 9_001), Some("at-2".into()));
        let RefreshStart::Start { ticket: second, refresh_token } = store.begin_refresh(SERVER)
        else {
            panic!()
        };
        assert_eq!(refresh_token.secret(), "rt-2", "the rotated token is never used again");
        assert_ne!(second, ticket);
        assert_eq!(
            store.finish_refresh(SERVER, ticket, RefreshResult::Unavailable("late".into())),
            RefreshOutcome::Stale,
            "a stale answer changes nothing"
        );
    }

    #[test]
    fn a_server_that_does_not_rotate_keeps_the_old_refresh_token() {
        let mut store = TokenStore::default();
        store.insert(SERVER, tokens("at-1", Some("rt-1"), 0, Some(10_000)));
        let RefreshStart::Start { ticket, .. } = store.begin_refresh(SERVER) else { panic!() };
        store.finish_refresh(
            SERVER,
            ticket,
            RefreshResult::Granted(tokens("at-2", None, 9_000, Some(10_000))),
        );
        let RefreshStart::Start { refresh_token, .. } = store.begin_refresh(SERVER) else {
            panic!()
        };
        assert_eq!(refresh_token.secret(), "rt-1");
    }

    #[test]
    fn a_rejected_refresh_forgets_the_grant_and_asks_for_one_sign_in() {
        let mut store = TokenStore::default();
        store.insert(SERVER, tokens("at-1", Some("rt-1"), 0, Some(10_000)));
        let RefreshStart::Start { ticket, .. } = store.begin_refresh(SERVER) else { panic!() };
        let outcome =
            store.finish_refresh(SERVER, ticket, RefreshResult::Rejected("AADSTS700084".into()));
        assert_eq!(outcome, RefreshOutcome::SignInNeeded("AADSTS700084".into()));
        assert!(matches!(store.bearer_for(SERVER, 0), Bearer::None));
        assert!(matches!(store.begin_refresh(SERVER), RefreshStart::NoRefreshToken));
    }

    #[test]
    fn a_network_failure_keeps_the_tokens_for_another_try() {
        let mut store = TokenStore::default();
        store.insert(SERVER, tokens("at-1", Some("rt-1"), 0, Some(10_000)));
        let RefreshStart::Start { ticket, .. } = store.begin_refresh(SERVER) else { panic!() };
        assert_eq!(
            store.finish_refresh(SERVER, ticket, RefreshResult::Unavailable("down".into())),
            RefreshOutcome::Retry("down".into())
        );
        assert!(matches!(store.begin_refresh(SERVER), RefreshStart::Start { .. }));
    }

    #[test]
    fn sign_out_forgets_and_secrets_never_print() {
        let mut store = TokenStore::default();
        store.insert(SERVER, tokens("at-secret", Some("rt-secret"), 0, None));
        let shown = format!("{store:?} {:?}", store.tokens(SERVER));
        assert!(!shown.contains("at-secret") && !shown.contains("rt-secret"), "{shown}");
        assert!(shown.contains("[redacted]"));
        store.forget(SERVER);
        assert!(matches!(store.bearer_for(SERVER, 0), Bearer::None));
        store.insert(SERVER, tokens("a", None, 0, None));
        store.forget_all();
        assert!(store.tokens(SERVER).is_none());
    }
}
