//! OAuth 2.0 for a public browser client, as pure logic: reading a server's `WWW-Authenticate`
//! challenge (`challenge`), and tokens held in memory with single-flight refresh and
//! origin-bound bearers (`tokens`); more of the sign-in flow arrives with the sign-in issue.
//! No storage, no clock, no randomness here.

pub mod challenge;
pub mod tokens;
