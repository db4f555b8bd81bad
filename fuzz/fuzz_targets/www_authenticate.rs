//! Fuzzing of `core::auth::challenge`: a `WWW-Authenticate` value comes from any server, so on any
//! text `parse` and `bearer` must return (never panic), every challenge has a scheme that is one
//! token, and `bearer` finds a challenge exactly when `parse` lists a Bearer one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_console::core::auth::challenge::{bearer, parse};

fuzz_target!(|data: &[u8]| {
    let header = String::from_utf8_lossy(data);
    let challenges = parse(&header);
    for c in &challenges {
        assert!(!c.scheme.is_empty(), "a challenge without a scheme in {header:?}");
        assert!(
            !c.scheme.contains([' ', '\t', ',', '=', '"']),
            "a scheme that is not one token: {:?} in {header:?}",
            c.scheme
        );
        assert!(c.token68.is_none() || c.params.is_empty(), "token68 and params in {header:?}");
    }
    let has_bearer = challenges.iter().any(|c| c.is("Bearer"));
    assert_eq!(bearer(&header).is_some(), has_bearer, "bearer() and parse() disagree on {header:?}");
});
