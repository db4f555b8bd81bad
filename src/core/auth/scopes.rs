//! Which scopes a sign-in asks for. For a server found by discovery alone: the challenge's scope
//! (authoritative), else the protected resource's `scopes_supported`, else none, with
//! `offline_access` when the authorization server offers it, and a step-up that adds what a 403
//! asks for. For a server whose sign-in settings are fixed (by the deployer's `config.json` or a
//! confirmation): the fixed scopes, and only more of the same API — a server that asks for a
//! permission of another API is refused, for the token would reach it (the confused deputy).

use thiserror::Error;

/// The scope that asks an OpenID provider for a refresh token.
pub const OFFLINE_ACCESS: &str = "offline_access";
/// The scopes Entra needs besides the API's: who signed in, and a refresh token.
pub const ENTRA_EXTRAS: [&str; 3] = ["openid", "profile", OFFLINE_ACCESS];
/// OpenID Connect's scopes: they name the person, not an API.
const IDENTITY_SCOPES: [&str; 6] =
    ["openid", "profile", "email", "address", "phone", OFFLINE_ACCESS];

/// A server asked for more than its fixed settings allow.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScopeError {
    #[error(
        "The server asks for {asked}, a permission of another API than {fixed}, which its sign-in settings name, so the console will not ask for it: a token for that API would be handed to this server. Check that this is the server you meant, or ask its operator."
    )]
    OtherApi { asked: String, fixed: String },
}

/// Each scope once, in first-seen order; space-separated strings are split.
fn scope_union<'a>(lists: impl IntoIterator<Item = &'a [String]>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for scope in lists.into_iter().flatten().flat_map(|s| s.split_whitespace()) {
        if !out.iter().any(|seen| seen == scope) {
            out.push(scope.to_owned());
        }
    }
    out
}

/// The scopes to request: the challenge's (authoritative), else the protected resource's
/// `scopes_supported`, else the configured ones, else none — an empty list counts as absent. When
/// something was chosen, `offline_access` is added if the authorization server lists it. Nothing is
/// ever added to an empty choice: the request must then omit `scope` altogether.
pub fn choose_scopes(
    challenge_scope: Option<&[String]>,
    prm_scopes: Option<&[String]>,
    configured: &[String],
    as_scopes: Option<&[String]>,
) -> Vec<String> {
    let mut scopes = [challenge_scope, prm_scopes, Some(configured)]
        .into_iter()
        .flatten()
        .map(|list| scope_union([list]))
        .find(|list| !list.is_empty())
        .unwrap_or_default();
    let offered = as_scopes.is_some_and(|list| list.iter().any(|s| s == OFFLINE_ACCESS));
    if !scopes.is_empty() && offered && !scopes.iter().any(|s| s == OFFLINE_ACCESS) {
        scopes.push(OFFLINE_ACCESS.to_owned());
    }
    scopes
}

/// The scopes for re-authorizing after `insufficient_scope`: the current ones, then the challenged
/// ones, each once.
pub fn step_up(current: &[String], challenged: &[String]) -> Vec<String> {
    scope_union([current, challenged])
}

/// What a scope gives access to.
#[derive(Debug, PartialEq, Eq)]
enum Api<'a> {
    /// OpenID Connect's: who the person is, and a refresh token.
    Identity,
    /// An API named in the scope: `api://{app}/x`, `https://host/x`, or Entra's `{app}/x`
    /// (`api://` dropped, so both spellings of one Entra app are one API).
    Named(&'a str),
    /// A bare name (`mcp:tools`): the API is whatever `resource` names.
    Bare,
}

fn api(scope: &str) -> Api<'_> {
    if IDENTITY_SCOPES.contains(&scope) {
        return Api::Identity;
    }
    let unprefixed = scope.strip_prefix("api://").unwrap_or(scope);
    let authority_end = unprefixed.find("://").map_or(0, |at| at + 3);
    match unprefixed.get(authority_end..).and_then(|rest| rest.rfind('/')) {
        Some(at) => Api::Named(unprefixed.get(..authority_end + at).unwrap_or(unprefixed)),
        None if authority_end > 0 || scope.starts_with("api://") => Api::Named(unprefixed),
        None => Api::Bare,
    }
}

/// The scopes for a server whose settings fix `fixed`: those, plus whatever `asked` (a challenge)
/// adds of the same APIs. A scope of any other API is refused with a sentence naming both.
/// Without an API among the fixed scopes there is nothing to hold the challenge to.
pub fn within_fixed(fixed: &[String], asked: &[String]) -> Result<Vec<String>, ScopeError> {
    let fixed_apis: Vec<Api<'_>> =
        fixed.iter().map(|s| api(s)).filter(|a| *a != Api::Identity).collect();
    if !fixed_apis.is_empty() {
        for scope in asked.iter().flat_map(|s| s.split_whitespace()) {
            let wanted = api(scope);
            if wanted != Api::Identity && !fixed_apis.contains(&wanted) {
                let shown: Vec<&str> =
                    fixed.iter().filter(|s| api(s) != Api::Identity).map(String::as_str).collect();
                return Err(ScopeError::OtherApi {
                    asked: scope.to_owned(),
                    fixed: shown.join(" "),
                });
            }
        }
    }
    Ok(step_up(fixed, asked))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn scopes_come_from_the_challenge_then_the_resource_then_the_settings() {
        const OA: &str = OFFLINE_ACCESS;
        type List<'a> = Option<&'a [&'a str]>;
        type Case<'a> = (List<'a>, List<'a>, &'a [&'a str], List<'a>, &'a [&'a str]);
        // (challenge, PRM scopes_supported, configured, AS scopes_supported, expected)
        let cases: &[Case] = &[
            (Some(&["files:read"]), Some(&["a", "b"]), &["c"], None, &["files:read"]),
            (Some(&["files:read files:write"]), None, &[], None, &["files:read", "files:write"]),
            (None, Some(&["mcp:basic"]), &["c"], None, &["mcp:basic"]),
            (Some(&[]), Some(&[]), &["api://x/mcp:tools"], None, &["api://x/mcp:tools"]),
            (None, Some(&["mcp:basic"]), &[], Some(&["mcp:basic", OA]), &["mcp:basic", OA]),
            (None, Some(&["b", "r"]), &[], Some(&["b", "r"]), &["b", "r"]),
            (Some(&[OA, "x"]), None, &[], Some(&[OA]), &[OA, "x"]),
            // auth/scope-omitted-when-undefined: nothing defined, so nothing is added either.
            (None, None, &[], Some(&["openid", OA]), &[]),
        ];
        for (challenge, prm, configured, offered, expected) in cases {
            let got = choose_scopes(
                challenge.map(strings).as_deref(),
                prm.map(strings).as_deref(),
                &strings(configured),
                offered.map(strings).as_deref(),
            );
            assert_eq!(got, strings(expected), "{challenge:?} {prm:?} {configured:?}");
        }
    }

    #[test]
    fn step_up_keeps_current_scopes_and_adds_challenged_ones_once() {
        let cases: &[(&[&str], &[&str], &[&str])] = &[
            (&["mcp:basic"], &["mcp:basic", "mcp:write"], &["mcp:basic", "mcp:write"]),
            (&["a", "b"], &["c"], &["a", "b", "c"]),
            (&[], &["c", "c"], &["c"]),
            (&["a"], &[], &["a"]),
        ];
        for (current, challenged, expected) in cases {
            assert_eq!(step_up(&strings(current), &strings(challenged)), strings(expected));
        }
    }

    #[test]
    fn scopes_are_grouped_by_the_api_they_name() {
        let cases = [
            ("api://corp-mcp/mcp:tools", Api::Named("corp-mcp")),
            ("corp-mcp/mcp:tools", Api::Named("corp-mcp")),
            ("api://corp-mcp/.default", Api::Named("corp-mcp")),
            ("https://graph.microsoft.com/User.Read", Api::Named("https://graph.microsoft.com")),
            ("https://api.example/v1/read", Api::Named("https://api.example/v1")),
            ("api://bare", Api::Named("bare")),
            ("mcp:tools", Api::Bare),
            ("openid", Api::Identity),
            ("offline_access", Api::Identity),
        ];
        for (scope, expected) in cases {
            assert_eq!(api(scope), expected, "{scope}");
        }
    }

    /// Attack 2 of the security review, at its root: a server whose sign-in settings name one API
    /// asks for a permission of another, whose token the console would then hand to it.
    #[test]
    fn fixed_scopes_admit_more_of_the_same_api_and_refuse_any_other() {
        let fixed = strings(&["api://corp-mcp/mcp:tools"]);
        assert_eq!(
            within_fixed(&fixed, &strings(&["api://corp-mcp/mcp:admin openid"])),
            Ok(strings(&["api://corp-mcp/mcp:tools", "api://corp-mcp/mcp:admin", "openid"]))
        );
        assert_eq!(within_fixed(&fixed, &[]), Ok(fixed.clone()));
        for other in ["api://payroll/read", "https://graph.microsoft.com/Mail.Read", "mcp:tools"] {
            let refused = within_fixed(&fixed, &strings(&[other]));
            let text = refused.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(text.contains(other) && text.contains("api://corp-mcp/mcp:tools"), "{text}");
        }
        let bare = strings(&["mcp:tools"]);
        assert!(within_fixed(&bare, &strings(&["mcp:admin"])).is_ok());
        assert!(within_fixed(&bare, &strings(&["api://payroll/read"])).is_err());
        assert_eq!(
            within_fixed(&strings(&["openid"]), &strings(&["x"])),
            Ok(strings(&["openid", "x"])),
            "no API fixed: nothing to hold the challenge to"
        );
    }
}
