//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1) read from untrusted header text: the list of
//! challenges a server offers, each a scheme with a token68 or named parameters, and the `Bearer`
//! one (RFC 6750, RFC 9728 `resource_metadata`, Entra's base64 `claims`) as the fields the sign-in
//! flow acts on. Parsing is lenient and never panics: a malformed element is skipped and the good
//! ones are kept. Values joined by fetch (`", "`) parse like one, and line folds count as spaces.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Header values longer than this are ignored whole: no honest challenge comes near it, and the
/// cap bounds the work an unfriendly server can cause.
pub const MAX_HEADER_LEN: usize = 16 * 1024;

/// One challenge: `scheme [token68 | name=value, …]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Challenge {
    /// The auth-scheme as sent; compare it with [`Challenge::is`].
    pub scheme: String,
    /// The opaque credential of `Negotiate abc==`-style challenges; `params` is then empty.
    pub token68: Option<String>,
    /// Names lower-cased, values unquoted and unescaped; the first of duplicate names wins.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// Whether this challenge uses `scheme` (schemes are case-insensitive).
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// The value of parameter `name`, matched case-insensitively.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The parameters of a `Bearer` challenge that the sign-in flow acts on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// The scopes the server asks for; `None` when `scope` is absent or empty, so the caller falls
    /// back to the metadata's `scopes_supported`.
    pub scope: Option<Vec<String>>,
    pub resource_metadata: Option<String>,
    pub realm: Option<String>,
    /// The JSON text of a Conditional Access claims challenge, decoded from base64 (standard or
    /// URL-safe, padded or not); the raw value when it does not decode to JSON.
    pub claims: Option<String>,
}

/// All challenges in a `WWW-Authenticate` value (or several values joined with `", "`).
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut parser = Parser { rest: header, out: Vec::new(), open: false };
    if header.len() <= MAX_HEADER_LEN {
        parser.run();
    }
    parser.out
}

/// The first `Bearer` challenge in `header`, if any.
pub fn bearer(header: &str) -> Option<BearerChallenge> {
    let challenge = parse(header).into_iter().find(|c| c.is("Bearer"))?;
    let text = |name| challenge.param(name).map(str::to_owned);
    let scope = challenge
        .param("scope")
        .map(|s| s.split_ascii_whitespace().map(str::to_owned).collect::<Vec<_>>());
    Some(BearerChallenge {
        error: text("error"),
        error_description: text("error_description"),
        scope: scope.filter(|s| !s.is_empty()),
        resource_metadata: text("resource_metadata"),
        realm: text("realm"),
        claims: challenge.param("claims").map(decode_claims),
    })
}

/// Entra sends claims as padded standard base64; other servers may use the URL-safe alphabet or
/// drop the padding, so both alphabets and either padding are accepted.
fn decode_claims(raw: &str) -> String {
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let standard = raw.trim().replace('-', "+").replace('_', "/");
    ENGINE
        .decode(standard)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|text| serde_json::from_str::<serde_json::Value>(text).is_ok())
        .unwrap_or_else(|| raw.to_owned())
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn is_token68_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~+/".contains(c)
}

/// OWS, plus CR and LF so that folded lines (as printed in the RFCs) read as spaces.
fn is_ows(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Unquoted values should be tokens; anything up to the next comma or space is accepted so that
/// an unquoted URL survives. No well-formed header reads differently because of it.
fn is_loose_value_char(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && c != ',' && c != '"'
}

/// A cursor over the header and the challenges read so far. The header is a comma-separated list
/// whose elements are either `name = value` (a parameter of the challenge before it) or a scheme,
/// optionally followed by a token68 or the challenge's first parameter. A comma therefore starts
/// a new challenge exactly when the element after it is not `token BWS "="`.
struct Parser<'a> {
    rest: &'a str,
    out: Vec<Challenge>,
    /// Whether a following `name=value` element belongs to the last challenge in `out`.
    open: bool,
}

impl<'a> Parser<'a> {
    fn run(&mut self) {
        loop {
            self.take(|c| is_ows(c) || c == ',');
            if self.rest.is_empty() {
                return;
            }
            let start = self.rest;
            if self.element().is_none() {
                self.rest = start;
                self.skip_element();
            }
        }
    }

    /// One list element, consumed up to (not including) its comma; `None` if malformed.
    fn element(&mut self) -> Option<()> {
        let start = self.rest;
        let named = !self.take(is_tchar).is_empty();
        self.take(is_ows);
        let is_param = named && self.rest.starts_with('=');
        self.rest = start;
        if is_param {
            let (name, value) = self.param()?;
            self.add(name, value);
            return Some(());
        }
        // Whatever this is, parameters after it must not attach to the challenge before it.
        self.open = false;
        let mut challenge = Challenge { scheme: self.token()?.to_owned(), ..Challenge::default() };
        let spaced = !self.take(is_ows).is_empty();
        if self.at_end() {
            self.push(challenge, true);
            return Some(());
        }
        if !spaced {
            return None;
        }
        let before = self.rest;
        let token68 = self.take(is_token68_char);
        let padding = self.take(|c| c == '=');
        if !token68.is_empty() && self.at_end() {
            challenge.token68 = Some(format!("{token68}{padding}"));
            self.push(challenge, false);
            return Some(());
        }
        self.rest = before;
        // The scheme stands even if its first parameter turns out malformed.
        self.push(challenge, true);
        let (name, value) = self.param()?;
        self.add(name, value);
        Some(())
    }

    /// `token BWS "=" BWS ( token / quoted-string )`, ending the element.
    fn param(&mut self) -> Option<(&'a str, String)> {
        let name = self.token()?;
        self.take(is_ows);
        self.rest = self.rest.strip_prefix('=')?;
        self.take(is_ows);
        let value = match self.rest.strip_prefix('"') {
            Some(quoted) => {
                self.rest = quoted;
                self.quoted()?
            }
            None => Some(self.take(is_loose_value_char)).filter(|v| !v.is_empty())?.to_owned(),
        };
        self.at_end().then_some((name, value))
    }

    /// The rest of a quoted-string after its opening quote, with `\x` read as `x`.
    fn quoted(&mut self) -> Option<String> {
        let mut value = String::new();
        let mut chars = self.rest.chars();
        loop {
            match chars.next()? {
                '"' => break,
                '\\' => value.push(chars.next()?),
                c => value.push(c),
            }
        }
        self.rest = chars.as_str();
        Some(value)
    }

    fn token(&mut self) -> Option<&'a str> {
        Some(self.take(is_tchar)).filter(|t| !t.is_empty())
    }

    /// Skips trailing whitespace; true at the end of the element.
    fn at_end(&mut self) -> bool {
        self.take(is_ows);
        self.rest.is_empty() || self.rest.starts_with(',')
    }

    fn take(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let end = self.rest.find(|c| !keep(c)).unwrap_or(self.rest.len());
        let (taken, rest) = self.rest.split_at_checked(end).unwrap_or((self.rest, ""));
        self.rest = rest;
        taken
    }

    /// Skips a malformed element up to the next comma outside a quoted string. Never stops before
    /// its first character (which is not a comma), so the main loop always advances.
    fn skip_element(&mut self) {
        let mut chars = self.rest.chars();
        let mut quoted = false;
        loop {
            match chars.next() {
                None => break,
                Some(',') if !quoted => break,
                Some('"') => quoted = !quoted,
                Some('\\') if quoted => {
                    chars.next();
                }
                Some(_) => {}
            }
            self.rest = chars.as_str();
        }
    }

    fn push(&mut self, challenge: Challenge, open: bool) {
        self.out.push(challenge);
        self.open = open;
    }

    /// Adds a parameter to the open challenge; orphans and later duplicates are dropped.
    fn add(&mut self, name: &str, value: String) {
        let Some(challenge) = self.out.last_mut() else { return };
        if self.open && challenge.param(name).is_none() {
            challenge.params.push((name.to_ascii_lowercase(), value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Challenges as compact text: `Scheme`, `Scheme(token68)`, `Scheme[name=value|…]`.
    fn show(challenges: &[Challenge]) -> String {
        let one = |c: &Challenge| match (&c.token68, c.params.is_empty()) {
            (Some(t), _) => format!("{}({t})", c.scheme),
            (None, true) => c.scheme.clone(),
            (None, false) => {
                let params: Vec<_> = c.params.iter().map(|(n, v)| format!("{n}={v}")).collect();
                format!("{}[{}]", c.scheme, params.join("|"))
            }
        };
        challenges.iter().map(one).collect::<Vec<_>>().join(", ")
    }

    fn check(cases: &[(&str, &str)]) {
        for (header, want) in cases {
            assert_eq!(show(&parse(header)), *want, "parsing {header:?}");
        }
    }

    /// A `BearerChallenge` from `(field, value)` pairs, `scope` split on spaces.
    fn fields(pairs: &[(&str, &str)]) -> BearerChallenge {
        let get = |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
        BearerChallenge {
            error: get("error"),
            error_description: get("error_description"),
            scope: get("scope").map(|s| s.split(' ').map(str::to_owned).collect()),
            resource_metadata: get("resource_metadata"),
            realm: get("realm"),
            claims: get("claims"),
        }
    }

    const PRM: &str = "https://mcp.example.com/.well-known/oauth-protected-resource";
    const SDK_PRM: &str = "http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp";
    const ENTRA_CLAIMS: &str =
        r#"{"access_token":{"nbf":{"essential":true, "value":"1604106651"}}}"#;

    /// Published challenges, verbatim with their line folds: the MCP 2025-11-25 authorization
    /// spec, RFC 6750 §3, the TypeScript SDK's `requireBearerAuth`, and Entra's Conditional Access
    /// claims challenge (learn.microsoft.com, "Claims challenges").
    #[test]
    fn published_bearer_challenges_give_their_fields() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                concat!(
                    "Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-",
                    "protected-resource\",\n                         scope=\"files:read\"",
                ),
                &[("resource_metadata", PRM), ("scope", "files:read")],
            ),
            (
                concat!(
                    "Bearer error=\"insufficient_scope\",\n",
                    "                         scope=\"files:read files:write user:profile\",\n",
                    "                         resource_metadata=\"https://mcp.example.com/",
                    ".well-known/oauth-protected-resource\",\n",
                    "                         error_description=\"Additional file write ",
                    "permission required\"",
                ),
                &[
                    ("error", "insufficient_scope"),
                    ("scope", "files:read files:write user:profile"),
                    ("resource_metadata", PRM),
                    ("error_description", "Additional file write permission required"),
                ],
            ),
            ("Bearer realm=\"example\"", &[("realm", "example")]),
            (
                concat!(
                    "Bearer realm=\"example\",\n",
                    "                       error=\"invalid_token\",\n",
                    "                       error_description=\"The access token expired\"",
                ),
                &[
                    ("realm", "example"),
                    ("error", "invalid_token"),
                    ("error_description", "The access token expired"),
                ],
            ),
            (
                concat!(
                    "Bearer error=\"invalid_token\", error_description=\"Missing Authorization ",
                    "header\", resource_metadata=\"http://127.0.0.1:3000/.well-known/",
                    "oauth-protected-resource/mcp\"",
                ),
                &[
                    ("error", "invalid_token"),
                    ("error_description", "Missing Authorization header"),
                    ("resource_metadata", SDK_PRM),
                ],
            ),
            (
                concat!(
                    "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/",
                    "common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-",
                    "000000000000\", error=\"insufficient_claims\", claims=\"eyJhY2Nlc3NfdG9rZW4i",
                    "OnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0=\"",
                ),
                &[("realm", ""), ("error", "insufficient_claims"), ("claims", ENTRA_CLAIMS)],
            ),
        ];
        for (header, want) in cases {
            assert_eq!(bearer(header), Some(fields(want)), "reading {header:?}");
        }
    }

    #[test]
    fn claims_decode_from_every_base64_flavour_or_stay_raw() {
        // This JSON's base64 has `+`, `/` and padding, so the alphabets and paddings differ.
        let json = r#"{"a":"???~~~"}"#;
        let cases = [
            ("eyJhIjoiPz8/fn5+In0=", json),
            ("eyJhIjoiPz8/fn5+In0", json),
            ("eyJhIjoiPz8_fn5-In0=", json),
            ("eyJhIjoiPz8_fn5-In0", json),
            ("eyJ9", "eyJ9"),                             // decodes, but not to JSON
            (r#"{"id_token":{}}"#, r#"{"id_token":{}}"#), // raw JSON, not base64
            ("not base64!", "not base64!"),
        ];
        for (claims, want) in cases {
            let header = format!(
                "Bearer error=\"insufficient_claims\", claims=\"{}\"",
                claims.replace('"', "\\\"")
            );
            let got = bearer(&header).and_then(|b| b.claims);
            assert_eq!(got.as_deref(), Some(want), "claims {claims:?}");
        }
    }

    #[test]
    fn several_challenges_in_one_value_are_told_apart() {
        check(&[
            (
                r#"Basic realm="x", Bearer error="invalid_token", scope="a b""#,
                "Basic[realm=x], Bearer[error=invalid_token|scope=a b]",
            ),
            // RFC 9110 §11.6.1.
            (
                r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#,
                r#"Newauth[realm=apps|type=1|title=Login to "apps"], Basic[realm=simple]"#,
            ),
            (
                "Negotiate abc123==, Bearer, Basic realm=x",
                "Negotiate(abc123==), Bearer, Basic[realm=x]",
            ),
            // Repeated header lines, as fetch joins them.
            (
                &["Basic realm=\"a\"", "Bearer scope=\"s\", error=e"].join(", "),
                "Basic[realm=a], Bearer[scope=s|error=e]",
            ),
        ]);
    }

    #[test]
    fn syntax_variants_parse_as_the_grammar_says() {
        check(&[
            ("Bearer error=invalid_token", "Bearer[error=invalid_token]"),
            // RFC 6750 §3's scope examples.
            (r#"Bearer scope="openid profile email""#, "Bearer[scope=openid profile email]"),
            (
                r#"Bearer scope="urn:example:channel=HBO&urn:example:rating=G,PG-13""#,
                "Bearer[scope=urn:example:channel=HBO&urn:example:rating=G,PG-13]",
            ),
            (
                "Bearer resource_metadata=https://a.example/?y=1",
                "Bearer[resource_metadata=https://a.example/?y=1]",
            ),
            ("Negotiate abc123==", "Negotiate(abc123==)"),
            ("Negotiate a+b/c-d._~", "Negotiate(a+b/c-d._~)"),
            (r#"Basic realm="a \"b\" \\ c""#, r#"Basic[realm=a "b" \ c]"#),
            (r#"Basic realm="a, b=c, Bearer d""#, "Basic[realm=a, b=c, Bearer d]"),
            ("\t Bearer \t realm \t = \t \"x\" \t , \t error=e \t ", "Bearer[realm=x|error=e]"),
            (r#"Bearer realm="", error=e"#, "Bearer[realm=|error=e]"),
            (",, Bearer ,, realm=x ,, ,", "Bearer[realm=x]"),
            ("bEaReR ReAlM=X", "bEaReR[realm=X]"),
            (r#"Bearer scope="a", SCOPE="b""#, "Bearer[scope=a]"),
            // Malformed parts are skipped, the rest kept.
            ("Bearer error=e, realm=, scope=s", "Bearer[error=e|scope=s]"),
            // By the grammar `realm=` is a token68 here; that leaves `error=e` without a challenge.
            ("Bearer realm=, error=e", "Bearer(realm=)"),
            (r#"Bearer realm="x" junk, error=e"#, "Bearer[error=e]"),
            ("realm=x, Bearer error=e", "Bearer[error=e]"),
            ("Negotiate abc==, realm=x", "Negotiate(abc==)"),
            ("Basic realm=x, B@d realm=y, error=z", "Basic[realm=x]"),
            ("Bearer réalm=x, error=e", "Bearer[error=e]"),
        ]);
        let parsed = parse("Basic Realm=x");
        assert!(parsed.first().is_some_and(|c| c.is("BASIC") && c.param("REALM") == Some("x")));
    }

    #[test]
    fn junk_gives_nothing_or_a_bare_scheme() {
        check(&[
            ("", ""),
            (",", ""),
            (" \t, ,", ""),
            ("=", ""),
            ("\"", ""),
            ("日本語", ""),
            ("Bearer", "Bearer"),
            ("Bearer =", ""), // an orphan parameter named Bearer, by BWS
            ("Bearer a=\"unterminated", "Bearer"),
            ("Bearer a=\"ends in \\", "Bearer"),
            ("Bearer\"x\"", ""),
            ("Bearer realm=\"日本\"", "Bearer[realm=日本]"),
        ]);
        assert_eq!(bearer(""), None);
        assert_eq!(bearer("Bearer"), Some(BearerChallenge::default()));
        assert_eq!(bearer("Bearer scope=\" \"").and_then(|b| b.scope), None);
    }

    #[test]
    fn bearer_is_the_first_bearer_challenge_whatever_its_case() {
        let header = r#"Basic realm="x", bearer error="first", Bearer error="second""#;
        assert_eq!(bearer(header).and_then(|b| b.error).as_deref(), Some("first"));
        assert_eq!(bearer(r#"Basic realm="x", DPoP algs="ES256""#), None);
    }

    #[test]
    fn oversized_values_are_ignored() {
        let value = |n: usize| format!("Bearer realm=\"{}\"", "a".repeat(n));
        let fits = value(MAX_HEADER_LEN - 15);
        assert_eq!(fits.len(), MAX_HEADER_LEN);
        assert_eq!(parse(&fits).len(), 1);
        assert_eq!(parse(&value(MAX_HEADER_LEN - 14)), vec![]);
    }

    /// Property tests; proptest is a native-only dev-dependency of the main crate.
    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::*;
        use proptest::prelude::*;

        /// Renders challenges with the given whitespace; `seps` may add empty list elements.
        fn render(challenges: &[Challenge], ows: &[String], seps: &[String]) -> String {
            let mut ows = ows.iter().map(String::as_str).cycle();
            let mut seps = seps.iter().map(String::as_str).cycle();
            let mut out = String::new();
            for (i, c) in challenges.iter().enumerate() {
                if i > 0 {
                    out += seps.next().unwrap_or(",");
                }
                out += &c.scheme;
                if let Some(t) = &c.token68 {
                    out += &format!(" {}{t}", ows.next().unwrap_or(""));
                }
                for (j, (name, value)) in c.params.iter().enumerate() {
                    out += if j == 0 { " " } else { seps.next().unwrap_or(",") };
                    out += ows.next().unwrap_or("");
                    let value = if !value.is_empty() && value.chars().all(is_tchar) {
                        value.clone()
                    } else {
                        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
                    };
                    out += &format!(
                        "{name}{}={}{value}",
                        ows.next().unwrap_or(""),
                        ows.next().unwrap_or("")
                    );
                }
            }
            out
        }

        const TOKEN: &str = "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,8}";

        fn arb_challenge() -> impl Strategy<Value = Challenge> {
            let value = prop_oneof![TOKEN, any::<String>()];
            let params = prop::collection::vec((TOKEN, value), 0..4);
            let token68 = prop::option::of("[A-Za-z0-9._~+/-]{1,8}={0,2}");
            (TOKEN, token68, params).prop_map(|(scheme, token68, params)| {
                let mut c = Challenge { scheme, token68, params: vec![] };
                if c.token68.is_none() {
                    for (name, value) in params {
                        if c.param(&name).is_none() {
                            c.params.push((name.to_ascii_lowercase(), value));
                        }
                    }
                }
                c
            })
        }

        proptest! {
            #[test]
            fn arbitrary_input_never_panics(
                s in any::<String>(),
                t in r#"[aB0=",\\ \t\né日/+-]{0,40}"#,
            ) {
                for input in [&s, &t] {
                    let _ = parse(input);
                    let _ = bearer(input);
                }
            }

            #[test]
            fn rendered_challenges_parse_back(
                challenges in prop::collection::vec(arb_challenge(), 0..5),
                ows in prop::collection::vec("[ \t]{0,2}", 1..8),
                seps in prop::collection::vec("[ \t]{0,2},([ \t]{0,2},)?[ \t]{0,2}", 1..8),
            ) {
                let header = render(&challenges, &ows, &seps);
                prop_assert_eq!(parse(&header), challenges, "header {:?}", header);
            }
        }
    }
}
