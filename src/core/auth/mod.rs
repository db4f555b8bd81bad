//! OAuth 2.0 for a public browser client, as pure logic: reading a server's `WWW-Authenticate`
//! challenge (`challenge`), finding and checking its authorization server (`discovery`), the
//! authorization code flow with PKCE — the request, the callback's checks, token requests and
//! responses, Entra's errors explained (`flow`) — and tokens held in memory with single-flight
//! refresh and origin-bound bearers (`tokens`). No storage, no clock, no randomness here: the
//! platform passes random bytes and the time.

pub mod challenge;
pub mod discovery;
pub mod flow;
pub mod signin;
pub mod tokens;

impl From<&challenge::BearerChallenge> for discovery::BearerInfo {
    fn from(c: &challenge::BearerChallenge) -> Self {
        discovery::BearerInfo {
            scope: c.scope.clone(),
            resource_metadata: c.resource_metadata.clone(),
        }
    }
}
