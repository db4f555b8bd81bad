//! RFC 6570 URI Templates, as resource templates use them: the variables a template names (for
//! the form) and the expansion of string values at every level — simple `{x}`, reserved `{+x}`,
//! fragment `{#x}`, label `{.x}`, path `{/x}`, parameters `{;x}`, query `{?x}` and continuation
//! `{&x}`, several variables per expression, and the prefix modifier `{x:3}`. A value is one
//! string (the form's field), so the explode modifier `*` changes nothing; an empty field is an
//! undefined variable and is left out, as the RFC says. Hand-written: a crate for this would cost
//! the page more than these few rules.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    #[error(
        "The resource template {0:?} has an unclosed or empty expression; ask the server's author to fix it."
    )]
    Malformed(String),
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Expression { operator: Option<char>, vars: Vec<(String, Option<usize>)> },
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    parts: Vec<Part>,
}

/// Characters that never need encoding (RFC 3986 unreserved).
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 reserved characters, kept as they are by `+` and `#`.
fn reserved(b: u8) -> bool {
    matches!(
        b,
        b':' | b'/'
            | b'?'
            | b'#'
            | b'['
            | b']'
            | b'@'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
    )
}

fn encode(text: &str, allow_reserved: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // An existing percent-encoded triplet passes as it is where reserved characters do.
        let triplet = allow_reserved
            && b == b'%'
            && bytes.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
        if unreserved(b) || (allow_reserved && (reserved(b) || triplet)) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
        i += 1;
    }
    out
}

impl UriTemplate {
    pub fn parse(template: &str) -> Result<UriTemplate, TemplateError> {
        let malformed = || TemplateError::Malformed(template.to_owned());
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let close = rest[open..].find('}').ok_or_else(malformed)? + open;
            let mut inner = &rest[open + 1..close];
            let operator = inner.chars().next().filter(|c| "+#./;?&".contains(*c));
            if let Some(op) = operator {
                inner = &inner[op.len_utf8()..];
            }
            let mut vars = Vec::new();
            for spec in inner.split(',') {
                let spec = spec.trim_end_matches('*');
                let (name, prefix) = match spec.split_once(':') {
                    Some((name, n)) => (name, Some(n.parse::<usize>().map_err(|_| malformed())?)),
                    None => (spec, None),
                };
                if name.is_empty() {
                    return Err(malformed());
                }
                vars.push((name.to_owned(), prefix));
            }
            parts.push(Part::Expression { operator, vars });
            rest = &rest[close + 1..];
        }
        if rest.contains('}') {
            return Err(malformed());
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(UriTemplate { parts })
    }

    /// The variables, in order of first use, each once.
    pub fn variables(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for part in &self.parts {
            if let Part::Expression { vars, .. } = part {
                for (name, _) in vars {
                    if !out.contains(name) {
                        out.push(name.clone());
                    }
                }
            }
        }
        out
    }

    /// The URI for `value` of each variable (`None` or empty: undefined).
    pub fn expand(&self, value: impl Fn(&str) -> Option<String>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            let (operator, vars) = match part {
                Part::Literal(text) => {
                    out.push_str(&encode(text, true));
                    continue;
                }
                Part::Expression { operator, vars } => (*operator, vars),
            };
            // (first, separator, named, if empty, reserved allowed)
            let (first, sep, named, ifemp, allow) = match operator {
                None => ("", ",", false, "", false),
                Some('+') => ("", ",", false, "", true),
                Some('#') => ("#", ",", false, "", true),
                Some('.') => (".", ".", false, "", false),
                Some('/') => ("/", "/", false, "", false),
                Some(';') => (";", ";", true, "", false),
                Some('?') => ("?", "&", true, "=", false),
                _ => ("&", "&", true, "=", false),
            };
            let mut wrote = false;
            for (name, prefix) in vars {
                let Some(text) = value(name).filter(|v| !v.is_empty()) else { continue };
                let text = match prefix {
                    Some(n) => text.chars().take(*n).collect(),
                    None => text,
                };
                out.push_str(if wrote { sep } else { first });
                wrote = true;
                if named {
                    out.push_str(&encode(name, false));
                    if text.is_empty() {
                        out.push_str(ifemp);
                        continue;
                    }
                    out.push('=');
                }
                out.push_str(&encode(&text, allow));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The variables of RFC 6570's examples (section 3.2), empty and undefined left out: the
    /// console's values are strings.
    fn rfc(name: &str) -> Option<String> {
        match name {
            "var" => Some("value".into()),
            "hello" => Some("Hello World!".into()),
            "path" => Some("/foo/bar".into()),
            "x" => Some("1024".into()),
            "y" => Some("768".into()),
            "half" => Some("50%".into()),
            "base" => Some("http://example.com/home/".into()),
            _ => None,
        }
    }

    fn expand(template: &str) -> String {
        UriTemplate::parse(template).unwrap_or_else(|e| panic!("{e}")).expand(rfc)
    }

    #[test]
    fn the_rfc_examples_expand_as_written() {
        for (template, expected) in [
            ("{var}", "value"),
            ("{hello}", "Hello%20World%21"),
            ("{half}", "50%25"),
            ("O{undef}X", "OX"),
            ("{x,y}", "1024,768"),
            ("{+var}", "value"),
            ("{+hello}", "Hello%20World!"),
            ("{+path}/here", "/foo/bar/here"),
            ("here?ref={+path}", "here?ref=/foo/bar"),
            ("{base}index", "http%3A%2F%2Fexample.com%2Fhome%2Findex"),
            ("{+base}index", "http://example.com/home/index"),
            ("{#var}", "#value"),
            ("{#hello}", "#Hello%20World!"),
            ("{#path,x}/here", "#/foo/bar,1024/here"),
            ("X{.var}", "X.value"),
            ("X{.x,y}", "X.1024.768"),
            ("{/var}", "/value"),
            ("{/var,x}/here", "/value/1024/here"),
            ("{;x,y}", ";x=1024;y=768"),
            ("{;x,y,undef}", ";x=1024;y=768"),
            ("{?x,y}", "?x=1024&y=768"),
            ("{?x,y,undef}", "?x=1024&y=768"),
            ("?fixed=yes{&x}", "?fixed=yes&x=1024"),
            ("{var:3}", "val"),
            ("{var:30}", "value"),
            ("{+path:6}/here", "/foo/b/here"),
            ("{#path:6}/here", "#/foo/b/here"),
            ("{var*}", "value"),
            ("file:///{path}", "file:///%2Ffoo%2Fbar"),
        ] {
            assert_eq!(expand(template), expected, "{template}");
        }
    }

    #[test]
    fn variables_are_named_once_and_bad_templates_refused() {
        let t = UriTemplate::parse("weather://{city}/{day}{?units,city}")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.variables(), vec!["city", "day", "units"]);
        let hostile = t.expand(|n| (n == "city").then(|| "../<script>?&#".to_owned()));
        assert_eq!(
            hostile,
            "weather://..%2F%3Cscript%3E%3F%26%23/?city=..%2F%3Cscript%3E%3F%26%23"
        );
        for bad in ["{", "a}b", "{}", "{x:y}", "{,}"] {
            assert!(UriTemplate::parse(bad).is_err(), "{bad}");
        }
    }
}
