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

/// A server asked for more than the rules allow, each said in one sentence.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScopeError {
    #[error(
        "The server asks for {asked}, a permission of another API than {fixed}, which its sign-in settings name, so the console will not ask for it (a token for that API would be handed to this server); check that this is the server you meant, or ask its operator."
    )]
    OtherApi { asked: String, fixed: String },
    #[error(
        "The server now asks for {asked}, which you did not confirm for it, so the console stopped; press Sign in to see the settings and confirm them again."
    )]
    NotConfirmed { asked: String },
    #[error(
        "The server asks for {asked}, a permission of an API this console's configuration keeps for its own servers, so the console will not ask for it for this server; open the server the configuration names instead."
    )]
    Reserved { asked: String },
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

/// The configured scopes of other servers whose APIs `own` (a server's configured scopes) does not
/// share: the APIs that server gets no token for.
pub fn others_apis<'a>(own: &[String], others: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mine: Vec<Api<'_>> = own.iter().map(|s| api(s)).collect();
    let mut out: Vec<String> = Vec::new();
    for scope in others {
        let theirs = api(scope);
        if matches!(theirs, Api::Named(_)) && !mine.contains(&theirs) && !out.contains(scope) {
            out.push(scope.clone());
        }
    }
    out
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

/// Scopes that settings hold the server to.
#[derive(Debug, Clone, Copy)]
pub enum Fixed<'a> {
    /// The deployer's `config.json`: more of the same APIs (bare names count as one API).
    Configured(&'a [String]),
    /// What the person confirmed: more of the same named APIs, nothing else unconfirmed.
    Confirmed(&'a [String]),
}

/// Everything that decides the scopes of one authorization request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Choice<'a> {
    /// Scopes the settings hold the server to, if any.
    pub fixed: Option<Fixed<'a>>,
    /// What the server's challenge asked for.
    pub challenged: &'a [String],
    /// What was granted before, when the server asks to step up.
    pub granted: &'a [String],
    /// The protected resource's `scopes_supported`.
    pub offered_by_resource: Option<&'a [String]>,
    /// The authorization server's `scopes_supported` (unknown before it is asked).
    pub offered_by_server: Option<&'a [String]>,
    /// Settings that name an Entra tenant: `openid profile offline_access` are added.
    pub entra: bool,
    /// Scopes of the APIs the deployer keeps for the servers it names (for any other server).
    pub reserved: &'a [String],
}

/// The scopes to ask for. Without fixed settings: the challenge's, else the protected
/// resource's, else none, a step-up adding them to what was granted. With fixed settings: those,
/// and only more of the same API — configured settings refuse another API, confirmed ones ask to
/// confirm again. A scope of a reserved API is refused. Entra's extras, and `offline_access` when
/// the authorization server offers it, are added to anything chosen (never to nothing: `scope` is
/// then left out).
pub fn for_request(choice: &Choice<'_>) -> Result<Vec<String>, ScopeError> {
    let asked = step_up(choice.granted, choice.challenged);
    let reserved: Vec<Api<'_>> =
        choice.reserved.iter().map(|s| api(s)).filter(|a| matches!(a, Api::Named(_))).collect();
    let is_reserved = |scope: &String| reserved.contains(&api(scope));
    if let Some(scope) = asked.iter().find(|s| is_reserved(s)) {
        return Err(ScopeError::Reserved { asked: scope.clone() });
    }
    let mut scopes = match choice.fixed {
        Some(Fixed::Configured(fixed) | Fixed::Confirmed(fixed)) if !fixed.is_empty() => {
            within_fixed(choice.fixed, fixed, &asked)?
        }
        Some(Fixed::Confirmed(_)) => match asked.iter().find(|s| api(s) != Api::Identity) {
            Some(scope) => return Err(ScopeError::NotConfirmed { asked: scope.clone() }),
            None => asked,
        },
        _ => {
            let challenged = (!choice.challenged.is_empty()).then_some(choice.challenged);
            let chosen = choose_scopes(challenged, choice.offered_by_resource, &[], None);
            step_up(choice.granted, &chosen)
        }
    };
    if let Some(scope) = scopes.iter().find(|s| is_reserved(s)) {
        return Err(ScopeError::Reserved { asked: scope.clone() });
    }
    if scopes.is_empty() {
        return Ok(scopes);
    }
    if choice.entra {
        scopes = step_up(&scopes, &ENTRA_EXTRAS.map(str::to_owned));
    }
    let offered =
        choice.offered_by_server.is_some_and(|list| list.iter().any(|s| s == OFFLINE_ACCESS));
    if offered && !scopes.iter().any(|s| s == OFFLINE_ACCESS) {
        scopes.push(OFFLINE_ACCESS.to_owned());
    }
    Ok(scopes)
}

/// `fixed` and what `asked` adds of the same APIs; anything else is refused (configured) or
/// needs a new confirmation (confirmed).
fn within_fixed(
    kind: Option<Fixed<'_>>,
    fixed: &[String],
    asked: &[String],
) -> Result<Vec<String>, ScopeError> {
    let configured = matches!(kind, Some(Fixed::Configured(_)));
    let fixed_apis: Vec<Api<'_>> =
        fixed.iter().map(|s| api(s)).filter(|a| *a != Api::Identity).collect();
    for scope in asked.iter().flat_map(|s| s.split_whitespace()) {
        let wanted = api(scope);
        let same_api = match wanted {
            Api::Identity => true,
            Api::Named(_) => fixed_apis.contains(&wanted),
            Api::Bare => configured && fixed_apis.contains(&Api::Bare),
        };
        if same_api || fixed.iter().any(|f| f == scope) {
            continue;
        }
        if !configured {
            return Err(ScopeError::NotConfirmed { asked: scope.to_owned() });
        }
        let shown: Vec<&str> =
            fixed.iter().filter(|s| api(s) != Api::Identity).map(String::as_str).collect();
        return Err(ScopeError::OtherApi { asked: scope.to_owned(), fixed: shown.join(" ") });
    }
    Ok(step_up(fixed, asked))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing::strings;

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

    fn configured<'a>(fixed: &'a [String], asked: &'a [String]) -> Choice<'a> {
        Choice { fixed: Some(Fixed::Configured(fixed)), challenged: asked, ..Choice::default() }
    }

    /// Attack 2 of the security review, at its root: a server whose sign-in settings name one API
    /// asks for a permission of another, whose token the console would then hand to it.
    #[test]
    fn fixed_scopes_admit_more_of_the_same_api_and_refuse_any_other() {
        let fixed = strings(&["api://corp-mcp/mcp:tools"]);
        let asked = strings(&["api://corp-mcp/mcp:admin openid"]);
        assert_eq!(
            for_request(&configured(&fixed, &asked)),
            Ok(strings(&["api://corp-mcp/mcp:tools", "api://corp-mcp/mcp:admin", "openid"]))
        );
        assert_eq!(for_request(&configured(&fixed, &[])), Ok(fixed.clone()));
        for other in ["api://payroll/read", "https://graph.microsoft.com/Mail.Read", "mcp:tools"] {
            let refused = for_request(&configured(&fixed, &strings(&[other])));
            let text = refused.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(text.contains(other) && text.contains("api://corp-mcp/mcp:tools"), "{text}");
        }
        let bare = strings(&["mcp:tools"]);
        assert!(for_request(&configured(&bare, &strings(&["mcp:admin"]))).is_ok());
        assert!(for_request(&configured(&bare, &strings(&["api://payroll/read"]))).is_err());
    }

    /// What the person confirmed binds too: a scope outside it needs a new confirmation, also when
    /// the confirmation named none at all.
    #[test]
    fn confirmed_scopes_bind_and_anything_new_asks_again() {
        let confirmed = strings(&["mcp:tools"]);
        let choice = |fixed: &'static [&'static str], asked: &[&str]| {
            let fixed = strings(fixed);
            let asked = strings(asked);
            for_request(&Choice {
                fixed: Some(Fixed::Confirmed(&fixed)),
                challenged: &asked,
                ..Choice::default()
            })
        };
        assert_eq!(choice(&["mcp:tools"], &["mcp:tools"]), Ok(confirmed.clone()));
        assert!(matches!(
            choice(&["mcp:tools"], &["mcp:admin"]),
            Err(ScopeError::NotConfirmed { .. })
        ));
        assert!(matches!(choice(&[], &["api://corp/x"]), Err(ScopeError::NotConfirmed { .. })));
        assert_eq!(choice(&[], &["openid"]), Ok(strings(&["openid"])));
        assert!(choice(&["api://corp/a"], &["api://corp/b"]).is_ok(), "the same named API");
    }

    #[test]
    fn a_reserved_api_is_refused_and_extras_go_only_onto_a_choice() {
        let reserved = strings(&["api://corp-mcp/mcp:tools"]);
        let asked = strings(&["api://corp-mcp/mcp:admin"]);
        let choice = Choice { challenged: &asked, reserved: &reserved, ..Choice::default() };
        assert!(matches!(for_request(&choice), Err(ScopeError::Reserved { .. })));
        let offered = strings(&["offline_access"]);
        let other = strings(&["api://mine/x"]);
        let choice = Choice {
            challenged: &other,
            reserved: &reserved,
            entra: true,
            offered_by_server: Some(&offered),
            ..Choice::default()
        };
        assert_eq!(
            for_request(&choice),
            Ok(strings(&["api://mine/x", "openid", "profile", "offline_access"]))
        );
        let nothing =
            Choice { entra: true, offered_by_server: Some(&offered), ..Choice::default() };
        assert_eq!(for_request(&nothing), Ok(Vec::new()), "nothing is added to nothing");
        let granted = strings(&["a"]);
        let more = strings(&["b"]);
        let step = Choice { granted: &granted, challenged: &more, ..Choice::default() };
        assert_eq!(for_request(&step), Ok(strings(&["a", "b"])));
    }
}
