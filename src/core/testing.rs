//! Small helpers the native tests of `core` share.

use url::Url;

/// A URL a test writes out; a typo in one is the test's own bug, so it panics with the text.
pub fn url(s: &str) -> Url {
    Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

pub fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}
