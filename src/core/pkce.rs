//! PKCE (RFC 7636) with S256 only, built on the `oauth2` crate's secret types so the verifier
//! prints as `[redacted]`. Randomness is not taken here: the caller (platform) supplies the
//! 32 random octets, which keeps this module pure and its test vector exact.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::{PkceCodeChallenge, PkceCodeVerifier};

/// A verifier and its S256 challenge.
pub struct Pkce {
    pub challenge: PkceCodeChallenge,
    pub verifier: PkceCodeVerifier,
}

/// Derives the pair from 32 random octets (RFC 7636 §4.1: 256 bits of entropy, base64url).
pub fn from_random_octets(octets: &[u8; 32]) -> Pkce {
    let verifier = PkceCodeVerifier::new(URL_SAFE_NO_PAD.encode(octets));
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    Pkce { challenge, verifier }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B, verbatim.
    #[test]
    fn rfc7636_appendix_b_vector() {
        let octets: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let pkce = from_random_octets(&octets);
        assert_eq!(pkce.verifier.secret(), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(pkce.challenge.as_str(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert_eq!(pkce.challenge.method().as_str(), "S256");
    }

    #[test]
    fn the_verifier_never_prints() {
        let pkce = from_random_octets(&[7; 32]);
        let shown = format!("{:?}", pkce.verifier);
        assert!(!shown.contains(pkce.verifier.secret()), "{shown}");
    }
}
