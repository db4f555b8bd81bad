//! OAuth 2.0 for a public browser client, as pure logic: reading a server's `WWW-Authenticate`
//! challenge (`challenge`), finding and checking its authorization server (`discovery`), and
//! tokens held in memory with single-flight refresh and origin-bound bearers (`tokens`). The
//! authorization flow itself arrives with the sign-in issue. No storage, no clock, no
//! randomness here.

pub mod challenge;
pub mod discovery;
pub mod tokens;

impl From<&challenge::BearerChallenge> for discovery::BearerInfo {
    fn from(c: &challenge::BearerChallenge) -> Self {
        discovery::BearerInfo {
            scope: c.scope.clone(),
            resource_metadata: c.resource_metadata.clone(),
        }
    }
}
