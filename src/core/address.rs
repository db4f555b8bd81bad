//! Addresses, and every rule about them in one place: the MCP server a connection, a token or a
//! setting belongs to ([`ServerUrl`]), what counts as the same origin, which hosts are this
//! machine, where plain `http:` is tolerated (loopback only), and when one URL lies under another
//! (whole path segments, same origin) — the test behind allow-lists and protected resources.

use std::fmt;
use thiserror::Error;
use url::{Host, Url};

/// Why a text is not a usable server address.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AddressError {
    #[error("{0:?} is not a usable server URL: it must start with http:// or https://.")]
    NotHttp(String),
}

/// The MCP server, named by its endpoint URL (fragment dropped): what tokens, settings and a
/// connection belong to. Two servers are the same only when their endpoints are equal.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerUrl(Url);

impl ServerUrl {
    pub fn parse(text: &str) -> Result<ServerUrl, AddressError> {
        let mut url = Url::parse(text.trim())
            .ok()
            .filter(is_http)
            .ok_or_else(|| AddressError::NotHttp(text.to_owned()))?;
        url.set_fragment(None);
        Ok(ServerUrl(url))
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// `scheme://host[:port]`, as a browser writes it.
    pub fn origin(&self) -> String {
        origin_of(&self.0)
    }

    /// Whether a token may travel to this server: https, or plain http on this machine.
    pub fn is_secure(&self) -> bool {
        is_secure(&self.0)
    }
}

impl fmt::Debug for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerUrl({})", self.0)
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// An absolute http(s) URL with a host.
pub fn is_http(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https") && url.host().is_some()
}

/// Whether `url` points at this machine: `localhost`, 127.0.0.0/8 or `::1`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// http(s) with a host, and https unless it is on this machine: where the console may send
/// anything of a sign-in (tests and demos run on loopback; nothing else is spared TLS).
pub fn is_secure(url: &Url) -> bool {
    is_http(url) && (url.scheme() == "https" || is_loopback(url))
}

/// `scheme://host[:port]`, or "" for a URL without a tuple origin.
pub fn origin_of(url: &Url) -> String {
    let origin = url.origin();
    if origin.is_tuple() { origin.ascii_serialization() } else { String::new() }
}

/// Whether two URLs share scheme, host and port (opaque origins never match).
pub fn same_origin(a: &Url, b: &Url) -> bool {
    let (a, b) = (a.origin(), b.origin());
    a.is_tuple() && a == b
}

/// [`same_origin`] for texts; a text that is not a URL matches nothing.
pub fn same_origin_text(a: &str, b: &str) -> bool {
    matches!((Url::parse(a), Url::parse(b)), (Ok(a), Ok(b)) if same_origin(&a, &b))
}

/// The path without its trailing slashes: "" for a URL at the root.
pub fn trimmed_path(url: &Url) -> &str {
    url.path().trim_end_matches('/')
}

/// Whether `url` lies under `base`: the same origin, and `base`'s path equal to `url`'s or a
/// prefix of it in whole segments (`/api` covers `/api/mcp`, not `/apix`). A query in `base`
/// must equal `url`'s.
pub fn lies_under(url: &Url, base: &Url) -> bool {
    if !same_origin(url, base) {
        return false;
    }
    if base.query().is_some() && base.query() != url.query() {
        return false;
    }
    let path = format!("{}/", trimmed_path(url));
    path.starts_with(&format!("{}/", trimmed_path(base)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing::url;

    #[test]
    fn a_server_is_its_endpoint_without_fragment_and_must_be_http() {
        let s = ServerUrl::parse(" http://127.0.0.1:3001/mcp#x ").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.as_str(), "http://127.0.0.1:3001/mcp");
        assert_eq!(s.origin(), "http://127.0.0.1:3001");
        assert!(s.is_secure());
        for bad in ["", "mcp", "ftp://a/b", "file:///etc/passwd", "javascript:alert(1)"] {
            assert!(ServerUrl::parse(bad).is_err(), "{bad}");
        }
        let other =
            ServerUrl::parse("http://127.0.0.1:3001/other").unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(s, other, "same origin, another server");
        assert!(!ServerUrl::parse("http://mcp.example/mcp").is_ok_and(|s| s.is_secure()));
    }

    #[test]
    fn cleartext_is_tolerated_on_this_machine_only() {
        for ok in
            ["https://a.example/x", "http://localhost:1/", "http://127.0.0.9/", "http://[::1]:8/"]
        {
            assert!(is_secure(&url(ok)), "{ok}");
        }
        for bad in [
            "http://a.example/",
            "http://10.0.0.1/",
            "http://localhost.evil.example/",
            "data:text/plain,x",
        ] {
            assert!(!is_secure(&url(bad)), "{bad}");
        }
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert!(same_origin_text(
            "http://127.0.0.1:3001/messages?x=1",
            "http://127.0.0.1:3001/mcp"
        ));
        assert!(!same_origin_text("http://127.0.0.1:3002/mcp", "http://127.0.0.1:3001/mcp"));
        assert!(!same_origin_text("https://127.0.0.1:3001/mcp", "http://127.0.0.1:3001/mcp"));
        assert!(!same_origin_text("not a url", "http://127.0.0.1:3001/mcp"));
        assert!(!same_origin(&url("data:,a"), &url("data:,a")), "opaque origins never match");
        assert_eq!(origin_of(&url("https://A.example:443/p")), "https://a.example");
    }

    #[test]
    fn lying_under_means_same_origin_and_whole_segments() {
        let base = url("https://a.example/api");
        assert!(lies_under(&url("https://a.example/api"), &base));
        assert!(lies_under(&url("https://a.example/api/mcp"), &base));
        assert!(!lies_under(&url("https://a.example/apix"), &base));
        assert!(!lies_under(&url("https://b.example/api/mcp"), &base));
        assert!(lies_under(&url("https://a.example/anything"), &url("https://a.example/")));
        assert!(!lies_under(&url("https://a.example/x?t=2"), &url("https://a.example/x?t=1")));
    }
}
