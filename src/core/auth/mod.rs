//! OAuth 2.0 for a public browser client, as pure logic, and the one machine that signs in:
//! reading a server's `WWW-Authenticate` challenge (`challenge`), the documents and their checks
//! (`metadata`), finding the authorization server (`discovery`), who may set what (`trust`) and
//! the settings themselves (`settings`), which scopes to ask for (`scopes`), the client identity
//! (`registration`), the authorization code flow with PKCE (`flow`), the token endpoint (`token`),
//! tokens held in memory per server and issuer (`tokens`), the trace the page shows (`trace`),
//! and the sign-in machine that ties them together (`machine`). No storage, no clock, no
//! randomness here: the platform passes random bytes and the time.

pub mod challenge;
pub mod discovery;
pub mod flow;
pub mod machine;
pub mod metadata;
pub mod registration;
pub mod scopes;
pub mod settings;
pub mod token;
pub mod tokens;
pub mod trace;
pub mod trust;

impl From<&challenge::BearerChallenge> for discovery::BearerInfo {
    fn from(c: &challenge::BearerChallenge) -> Self {
        discovery::BearerInfo {
            scope: c.scope.clone(),
            resource_metadata: c.resource_metadata.clone(),
        }
    }
}
