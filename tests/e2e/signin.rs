//! Signing in inside the page, end to end: headless Chromium, the Entra-shaped oidc-provider in
//! strict mode (`resource` refused with AADSTS901002, `Origin` required) and the protected
//! TypeScript SDK server, all on 127.0.0.1.

use crate::support::{
    Browser, Peer, authserver, console_on, entra_config, free_port, http_get, http_post, protected,
};
use serde_json::{Value, json};
use std::time::Duration;

/// The peers and the browser of one sign-in test.
pub(crate) struct Rig {
    pub(crate) auth: Peer,
    pub(crate) info: Value,
    pub(crate) server: Peer,
    pub(crate) page: Peer,
    pub(crate) browser: Browser,
}

/// Starts the authorization server (strict, with `auth_flags`), the protected server and the
/// console configured for them (`settings` added to the seed-shaped config), and a browser.
pub(crate) async fn rig(auth_flags: &[&str], settings: Value) -> Rig {
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let mut flags = vec!["--entra-strict"];
    flags.extend_from_slice(auth_flags);
    let (auth, info) = authserver(&origin, &flags);
    let server = protected(&info, &origin);
    let mut config = entra_config(&info, &server.url);
    if let (Some(c), Some(extra)) = (config.as_object_mut(), settings.as_object()) {
        c.extend(extra.clone());
    }
    let page = console_on(port, Some(config));
    let browser = Browser::start().await;
    Rig { auth, info, server, page, browser }
}

impl Rig {
    pub(crate) fn auth_stats(&self) -> Value {
        serde_json::from_str(&http_get(&format!("{}/_test/stats", self.auth.url)))
            .unwrap_or_else(|e| panic!("authserver stats: {e}"))
    }

    pub(crate) fn server_stats(&self) -> Value {
        let base = self.server.url.trim_end_matches("/mcp");
        serde_json::from_str(&http_get(&format!("{base}/_test/stats")))
            .unwrap_or_else(|e| panic!("server stats: {e}"))
    }

    /// Opens the console, waits for it to ask for a sign-in, signs in, and waits for the tools.
    pub(crate) async fn open_and_sign_in(&self) {
        let b = &self.browser;
        b.client.goto(&self.page.url).await.unwrap_or_else(|e| panic!("goto: {e}"));
        b.wait_for_text("[data-testid=auth-status]", |t| t.contains("requires a sign-in")).await;
        b.click("[data-testid=sign-in]").await;
        b.wait_for_text("[data-testid=status]", |t| t.starts_with("Connected to")).await;
        b.wait_for("[data-testid=tool-name]").await;
        b.wait_for_text("[data-testid=auth-status]", |t| t == "Signed in.").await;
    }

    pub(crate) async fn echo(&self, message: &str) {
        let b = &self.browser;
        let before = b.texts("[data-testid=call-done]").await.len();
        b.call_tool("echo", &json!({ "message": message }).to_string()).await;
        let started = std::time::Instant::now();
        loop {
            let done = b.texts("[data-testid=call-done]").await;
            if done.len() > before && done.iter().any(|t| t.contains(message)) {
                return;
            }
            let failed = b.texts("[data-testid=call-failed]").await;
            assert!(failed.is_empty(), "a call failed: {failed:?}");
            assert!(started.elapsed() < Duration::from_secs(20), "echo {message} never finished");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Everything the page could have left behind: both storages, cookies, IndexedDB, the
    /// address and the history length, as one JSON object.
    pub(crate) async fn leftovers(&self) -> Value {
        self.browser
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 const dump = (s) => { const o = {}; for (let i = 0; i < s.length; i++) { const k = s.key(i); o[k] = s.getItem(k); } return o; };
                 const dbs = indexedDB.databases ? indexedDB.databases() : Promise.resolve([]);
                 dbs.then((list) => done({
                   local: dump(localStorage), session: dump(sessionStorage), cookies: document.cookie,
                   indexedDB: list.map((d) => d.name), url: document.URL, history: history.length,
                   state: history.state,
                 }));",
                vec![],
            )
            .await
            .unwrap_or_else(|e| panic!("read storage: {e}"))
    }
}

/// Signing in to a server that speaks only 2026-07-28: its first request, `server/discover`,
/// is refused for want of a token; the sign-in runs, and the same request goes again with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2026_07_28_server_behind_entra_is_signed_in_to_and_called() {
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let (_auth, info) = authserver(&origin, &["--entra-strict", "--auto-approve"]);
    let issuer = info["issuer"].as_str().unwrap_or_default();
    let audience = info["audience"].as_str().unwrap_or_default();
    let server = crate::support::modern_peer(&origin, &["--auth", issuer, "--audience", audience]);
    let page = console_on(port, Some(entra_config(&info, &server.url)));
    let b = Browser::start().await;
    b.client.goto(&page.url).await.unwrap_or_else(|e| panic!("goto: {e}"));
    b.wait_for_text("[data-testid=auth-status]", |t| t.contains("requires a sign-in")).await;
    b.click("[data-testid=sign-in]").await;
    b.wait_for_text("[data-testid=status]", |t| t.starts_with("Connected to")).await;
    b.show("pane-Server").await;
    let protocol = b.wait_for_text("[data-testid=protocol]", |t| !t.is_empty()).await;
    assert_eq!(protocol, "2026-07-28");
    b.wait_for("[data-testid=tool-name]").await;
    b.call_tool("echo", r#"{"text": "signed in, stateless"}"#).await;
    b.wait_for_text("[data-testid=call-result]", |t| t == "signed in, stateless").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_page_sign_in_calls_tools_and_leaves_nothing_behind() {
    let rig = rig(&["--auto-approve"], json!({ "SignIn": "redirect" })).await;
    rig.open_and_sign_in().await;
    let b = &rig.browser;
    b.show("pane-Sign-in").await;
    assert_eq!(
        b.wait_for_text("[data-testid=auth-user]", |t| !t.is_empty()).await,
        "alice@contoso.example"
    );
    let scopes = b.wait_for_text("[data-testid=auth-scopes]", |t| !t.is_empty()).await;
    assert!(scopes.contains("mcp:tools"), "{scopes}");
    let expiry = b.texts("[data-testid=auth-expiry]").await.concat();
    assert!(expiry.starts_with("expires in"), "{expiry:?}");
    // The trace shows discovery skipped (explicit tenant), the authorization URL and the token
    // answer, with the secrets removed. (Read before the calls: a refresh during them, which a
    // server's passing refusal can cause, rightly replaces it.)
    let trace = b
        .client
        .execute("return document.querySelector('[data-testid=auth-trace]').textContent", vec![])
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    assert!(trace.contains("openid-configuration"), "{trace}");
    assert!(trace.contains("state=[redacted]"), "{trace}");
    assert!(trace.contains("\"access_token\":\"[redacted]\""), "{trace}");
    assert!(!trace.contains("resource="), "Entra settings leave resource out: {trace}");

    for n in 0..3 {
        rig.echo(&format!("signed-in call {n}")).await;
    }

    let left = rig.leftovers().await;
    assert_eq!(left["local"], json!({}), "{left}");
    assert_eq!(left["session"], json!({}), "{left}");
    assert_eq!(left["cookies"], json!(""), "{left}");
    assert_eq!(left["indexedDB"], json!([]), "{left}");
    assert_eq!(left["state"], json!(null), "the history entry's state was cleared: {left}");
    let url = left["url"].as_str().unwrap_or_default();
    for secret in ["code=", "state=", "access_token", "session_state"] {
        assert!(!url.contains(secret), "the address still holds {secret}: {url}");
    }
    // Every history entry: the browser's blank start page, the console before the sign-in and
    // the console after it (the callback's own entry was replaced). None holds the answer.
    let entries = left["history"].as_u64().unwrap_or(0);
    assert_eq!(entries, 3, "{left}");
    for _ in 1..entries {
        b.client.back().await.unwrap_or_else(|e| panic!("back: {e}"));
        let previous = b.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        assert!(!previous.contains("code=") && !previous.contains("state="), "{previous}");
    }
    assert_eq!(rig.server_stats()["rejected403"], json!(0), "{}", rig.server_stats());
    // Nor did anything reach the browser console (tokens, codes, verifiers are JWTs or long
    // base64url strings; the console logs none of them, nor any sign-in parameter).
    let log = b.console_log().await;
    assert!(log.contains("\"value\""), "chromedriver gave no browser log: {log}");
    for secret in ["eyJ", "code=", "code_verifier", "refresh_token", "access_token", "Bearer "] {
        assert!(!log.contains(secret), "the browser console shows {secret}: {log}");
    }
    assert!(!log.contains("Uncaught"), "an uncaught exception: {log}");

    // Signed out with echo open, then signed in again by the full page: the console comes back to
    // the same server with echo still open in the call panel.
    b.client.goto(&rig.page.url).await.unwrap_or_else(|e| panic!("goto: {e}"));
    b.click("[data-testid=sign-in]").await;
    b.wait_for("[data-testid=tool-name]").await;
    rig.echo("before signing out").await;
    b.click("[data-testid=sign-out]").await;
    b.wait_for_text("[data-testid=status]", |t| t == "Not connected.").await;
    b.click("[data-testid=connect]").await;
    b.click("[data-testid=sign-in]").await;
    b.wait_for_text("[data-testid=status]", |t| t.starts_with("Connected to")).await;
    let panel = b.wait_for_text("[data-testid=call-form] h2", |t| !t.is_empty()).await;
    assert_eq!(panel, "Echo", "echo's title");
    let address = b.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
    assert!(address.contains("tool=echo") && !address.contains("code="), "{address}");

    // A reload forgets the tokens: the console asks again.
    b.client.goto(&rig.page.url).await.unwrap_or_else(|e| panic!("goto: {e}"));
    b.wait_for_text("[data-testid=auth-status]", |t| t.contains("requires a sign-in")).await;
    b.screenshot("signin-redirect").await;
    let _ = (&rig.auth, &rig.info);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_popup_sign_in_works_from_an_iframe_on_another_port() {
    let rig = rig(&["--auto-approve", "--coop"], json!({})).await;
    // A portal on another port frames the console; Auto picks the popup there.
    let portal_port = free_port();
    let portal_dir = crate::support::artifacts().join(format!("portal-{portal_port}"));
    let _ = std::fs::create_dir_all(&portal_dir);
    let frame = format!(
        "<!doctype html><title>Portal</title><iframe id=c src=\"{}\" style=\"width:1200px;height:850px\"></iframe>",
        rig.page.url
    );
    std::fs::write(portal_dir.join("index.html"), frame).unwrap_or_else(|e| panic!("{e}"));
    let portal = crate::support::static_dir(&portal_dir, portal_port);
    let b = &rig.browser;
    b.client.goto(&portal.url).await.unwrap_or_else(|e| panic!("goto portal: {e}"));
    let iframe = b.wait_for("#c").await;
    iframe.enter_frame().await.unwrap_or_else(|e| panic!("enter frame: {e}"));
    b.wait_for_text("[data-testid=auth-status]", |t| t.contains("requires a sign-in")).await;
    b.click("[data-testid=sign-in]").await;
    b.wait_for_text("[data-testid=status]", |t| t.starts_with("Connected to")).await;
    b.wait_for_text("[data-testid=auth-status]", |t| t == "Signed in.").await;
    b.wait_for("[data-testid=tool-name]").await;
    rig.echo("from the frame").await;
    let windows = b.client.windows().await.unwrap_or_default();
    assert_eq!(windows.len(), 1, "the sign-in window closed itself");
    b.screenshot("signin-popup-iframe").await;
    // Sign out: the tokens are forgotten and the MCP session ends (the server sees the DELETE).
    let sessions_before = rig.server_stats()["sessionsDeleted"].as_u64().unwrap_or(0);
    b.click("[data-testid=sign-out]").await;
    b.wait_for_text("[data-testid=status]", |t| t == "Not connected.").await;
    b.wait_for_text("[data-testid=auth-status]", |t| t == "Not signed in.").await;
    let started = std::time::Instant::now();
    while rig.server_stats()["sessionsDeleted"].as_u64().unwrap_or(0) == sessions_before {
        assert!(started.elapsed() < Duration::from_secs(10), "the session was not ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And the refresh token is revoked at the authorization server (RFC 7009).
    while rig.auth_stats()["revocation"]["succeeded"].as_u64().unwrap_or(0) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nothing revoked: {}",
            rig.auth_stats()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Connecting again needs a new sign-in: no token was kept.
    b.click("[data-testid=connect]").await;
    b.wait_for_text("[data-testid=auth-status]", |t| t.contains("requires a sign-in")).await;
    let left = rig.leftovers().await;
    assert_eq!((&left["local"], &left["session"]), (&json!({}), &json!({})), "{left}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_lived_tokens_are_refreshed_once_per_expiry_and_a_revoked_grant_signs_in_again() {
    let rig =
        rig(&["--auto-approve", "--access-token-ttl", "10"], json!({ "SignIn": "popup" })).await;
    rig.open_and_sign_in().await;
    let signed_in = std::time::Instant::now();
    http_post(&format!("{}/_test/reset", rig.auth.url));
    let rejected_before = rig.server_stats()["rejected401"].as_u64().unwrap_or(0);
    // Calls for 25 s (the last round ends by about 29 s), several in flight at once. A token
    // lives 10 s and is refreshed 2 s before it expires, at about 8, 16 and 24 s: three expiries,
    // three refreshes (the fourth is due at 32 s, after the end).
    let mut n = 0;
    while signed_in.elapsed() < Duration::from_secs(25) {
        for _ in 0..3 {
            rig.browser.call_tool("slow", r#"{"steps": 2, "delay_ms": 300}"#).await;
        }
        rig.echo(&format!("round {n}")).await;
        n += 1;
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    let failed = rig.browser.texts("[data-testid=call-failed]").await;
    assert!(failed.is_empty(), "{failed:?}");
    let stats = rig.auth_stats();
    let ended = signed_in.elapsed();
    assert!(ended < Duration::from_secs(31), "the calls ran until {ended:?}");
    assert_eq!(stats["refresh"]["requests"], json!(3), "after {ended:?}: {stats}");
    assert_eq!(stats["refresh"]["reuseDetected"], json!(0), "{stats}");
    assert_eq!(stats["authorizeRequests"], json!(0), "no interactive sign-in: {stats}");
    // Every refresh came before its token expired: the server never saw an expired token.
    let rejected = rig.server_stats()["rejected401"].as_u64().unwrap_or(0);
    assert_eq!(rejected, rejected_before, "{}", rig.server_stats());
    assert!(n >= 5, "only {n} rounds of calls");

    // Revoke the grant: the next refresh fails, the console asks for one interactive sign-in,
    // and work resumes after it.
    http_post(&format!("{}/_test/revoke?sub=alice", rig.auth.url));
    let b = &rig.browser;
    b.wait_for_text("[data-testid=auth-status]", |t| t.contains("sign in again")).await;
    b.click("[data-testid=sign-in]").await;
    b.wait_for_text("[data-testid=auth-status]", |t| t == "Signed in.").await;
    rig.echo("after the revocation").await;
    let stats = rig.auth_stats();
    assert_eq!(stats["authorizeRequests"], json!(1), "one interactive sign-in: {stats}");
    assert_eq!(stats["refresh"]["reuseDetected"], json!(0), "{stats}");
    let _ = &rig.info;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bob_without_the_scope_goes_through_step_up_and_is_refused_clearly() {
    let rig = rig(&["--auto-approve"], json!({ "SignIn": "popup", "LoginHint": "bob" })).await;
    let b = &rig.browser;
    b.client.goto(&rig.page.url).await.unwrap_or_else(|e| panic!("goto: {e}"));
    b.click("[data-testid=sign-in]").await;
    // Bob's token lacks mcp:tools: 403 insufficient_scope, a step-up sign-in, then a clear end.
    b.wait_for_text("[data-testid=auth-status]", |t| t.contains("more permissions")).await;
    b.click("[data-testid=sign-in]").await;
    let status = b
        .wait_for_text("[data-testid=status]", |t| t.starts_with("The server still refuses"))
        .await;
    assert!(status.contains("insufficient_scope"), "{status}");
    let stats = rig.server_stats();
    assert!(stats["byMethod"]["tools/call"].is_null(), "{stats}");
    let _ = &rig.info;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_only_token_is_shown_as_refused_by_the_server() {
    let rig = rig(&[], json!({})).await;
    // The daemon client's client-credentials token: roles, no scp.
    let token_endpoint = rig.info["tokenEndpoint"].as_str().unwrap_or_default();
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope=api%3A%2F%2F{}%2F.default",
        rig.info["daemonClientId"].as_str().unwrap_or_default(),
        rig.info["daemonClientSecret"].as_str().unwrap_or_default(),
        rig.info["apiAppId"].as_str().unwrap_or_default(),
    );
    let answer: Value =
        serde_json::from_str(&crate::support::http_form(token_endpoint, &form)).unwrap_or_default();
    let token = answer["access_token"].as_str().unwrap_or_else(|| panic!("no token: {answer}"));
    let b = &rig.browser;
    b.client.goto(&rig.page.url).await.unwrap_or_else(|e| panic!("goto: {e}"));
    b.show("pane-Sign-in").await;
    b.click("[data-testid=signin-settings] summary").await;
    b.type_into("[data-testid=set-access-token]", token).await;
    b.click("[data-testid=connect]").await;
    let status =
        b.wait_for_text("[data-testid=status]", |t| t.contains("typed into the console")).await;
    assert!(status.contains("app-only token (roles mcp.app, no scp)"), "{status}");
    assert!(!status.contains(token));
}

impl Rig {
    /// Clicks Sign in and waits until the browser is at the authorization server's form.
    async fn to_the_sign_in_form(&self) {
        let b = &self.browser;
        b.client.goto(&self.page.url).await.unwrap_or_else(|e| panic!("goto: {e}"));
        b.click("[data-testid=sign-in]").await;
        b.wait_for("#signin").await;
    }

    /// The `state` of the sign-in waiting in this tab's sessionStorage, read by going back to
    /// the console (which leaves a pending sign-in alone when the address holds no answer).
    async fn pending_state(&self) -> String {
        let b = &self.browser;
        b.client.back().await.unwrap_or_else(|e| panic!("back: {e}"));
        b.wait_for("[data-testid=auth]").await;
        let kept = b
            .client
            .execute("return sessionStorage.getItem('mcp-console.pending-sign-in')", vec![])
            .await
            .unwrap_or_default();
        let kept: Value = serde_json::from_str(kept.as_str().unwrap_or("null")).unwrap_or_default();
        kept["pending"]["state"].as_str().unwrap_or_else(|| panic!("no pending sign-in")).to_owned()
    }

    /// Opens the console with `query` as a sign-in answer and returns the Auth view's sentence.
    async fn answer(&self, query: &str, expect: &str) -> String {
        let b = &self.browser;
        let url = format!("{}callback.html?{query}", self.page.url);
        b.client.goto(&url).await.unwrap_or_else(|e| panic!("goto: {e}"));
        let said = b.wait_for_text("[data-testid=auth-status]", |t| t.contains(expect)).await;
        let left = self.leftovers().await;
        assert_eq!(left["session"], json!({}), "the pending sign-in is gone: {left}");
        let address = left["url"].as_str().unwrap_or_default().to_owned();
        assert!(!address.contains("code=") && !address.contains("state="), "{address}");
        said
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_answers_are_refused_each_with_its_own_sentence_and_nothing_is_kept() {
    let rig = rig(&[], json!({ "SignIn": "redirect" })).await;
    let issuer = rig.info["issuer"].as_str().unwrap_or_default().to_owned();

    // A tampered state.
    rig.to_the_sign_in_form().await;
    let _ = rig.pending_state().await;
    rig.answer("code=stolen&state=r.tampered", "its state differs").await;

    // A wrong `iss` (RFC 9207), with the right state.
    rig.to_the_sign_in_form().await;
    let state = rig.pending_state().await;
    let query = format!("code=stolen&state={state}&iss=http%3A%2F%2F127.0.0.1%3A9%2Fevil");
    let said = rig.answer(&query, "names the issuer").await;
    assert!(said.contains("http://127.0.0.1:9/evil") && said.contains(&issuer), "{said}");

    // The same answer again: replayed.
    rig.answer(&query, "already used or was not started in this tab").await;

    // The person cancels at the authorization server: access_denied.
    rig.to_the_sign_in_form().await;
    rig.browser.click("#cancel").await;
    let said =
        rig.browser.wait_for_text("[data-testid=auth-status]", |t| t.contains("declined")).await;
    assert!(said.contains("access_denied"), "{said}");

    // Nothing reached the token endpoint, and no token the MCP server.
    let stats = rig.auth_stats();
    assert_eq!(stats["tokenRequests"]["total"], json!(0), "{stats}");
    assert_eq!(rig.server_stats()["tokensSeen"], json!(0), "{}", rig.server_stats());
    let _ = &rig.auth;

    // The authorization server is down.
    let Rig { auth, browser, page, .. } = rig;
    drop(auth);
    browser.client.goto(&page.url).await.unwrap_or_else(|e| panic!("goto: {e}"));
    browser.click("[data-testid=sign-in]").await;
    let said =
        browser.wait_for_text("[data-testid=auth-status]", |t| t.contains("could not read")).await;
    assert!(said.contains("none of its metadata URLs answered"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_that_refuses_the_origin_is_explained() {
    // The authorization server lets another origin call its token endpoint, not this console's.
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let elsewhere = format!("http://127.0.0.1:{}", free_port());
    let (auth, info) = authserver(&origin, &["--auto-approve", "--cors-origin", &elsewhere]);
    let server = protected(&info, &origin);
    let mut config = entra_config(&info, &server.url);
    config["SignIn"] = json!("popup");
    let page = console_on(port, Some(config));
    let b = Browser::start().await;
    b.client.goto(&page.url).await.unwrap_or_else(|e| panic!("goto: {e}"));
    b.click("[data-testid=sign-in]").await;
    let said = b
        .wait_for_text("[data-testid=auth-status]", |t| {
            t.contains("could not reach the token endpoint")
        })
        .await;
    assert!(said.contains("CORS"), "{said}");
    let base = server.url.trim_end_matches("/mcp");
    let stats: Value =
        serde_json::from_str(&http_get(&format!("{base}/_test/stats"))).unwrap_or_default();
    assert_eq!(stats["tokensSeen"], json!(0), "{stats}");
    let _ = auth;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_users_sign_in_with_the_form_and_blocked_or_closed_windows_are_reported_at_once() {
    // No auto-approve: the authorization server shows its sign-in form, as in the demo.
    let rig = rig(&[], json!({ "SignIn": "popup" })).await;
    let b = &rig.browser;
    b.client.goto(&rig.page.url).await.unwrap_or_else(|e| panic!("goto: {e}"));

    // A browser that blocks the window (window.open gives null): said at once.
    b.client.execute("window.open = () => null;", vec![]).await.unwrap_or_else(|e| panic!("{e}"));
    b.click("[data-testid=sign-in]").await;
    let said = b
        .wait_for_text("[data-testid=auth-status]", |t| t.contains("blocked the sign-in window"))
        .await;
    assert!(said.contains("allow pop-ups"), "{said}");
    b.client.goto(&rig.page.url).await.unwrap_or_else(|e| panic!("goto: {e}"));
    let console = b.client.window().await.unwrap_or_else(|e| panic!("window: {e}"));

    // The person closes the sign-in window: the console says so at once.
    b.click("[data-testid=sign-in]").await;
    let popup = wait_for_second_window(b).await;
    b.client.switch_to_window(popup).await.unwrap_or_else(|e| panic!("switch: {e}"));
    b.wait_for("#signin").await;
    b.client.close_window().await.unwrap_or_else(|e| panic!("close: {e}"));
    b.client.switch_to_window(console.clone()).await.unwrap_or_else(|e| panic!("switch: {e}"));
    let closed_at = std::time::Instant::now();
    b.wait_for_text("[data-testid=auth-status]", |t| t.contains("sign-in window was closed")).await;
    assert!(
        closed_at.elapsed() < Duration::from_secs(3),
        "reported after {:?}",
        closed_at.elapsed()
    );

    // Signing in again with the form, as alice. The sign-in page cannot reach back into the
    // console: the window was opened with its opener cut.
    b.click("[data-testid=sign-in]").await;
    let popup = wait_for_second_window(b).await;
    b.client.switch_to_window(popup).await.unwrap_or_else(|e| panic!("switch: {e}"));
    b.wait_for("#signin").await;
    let opener =
        b.client.execute("return window.opener === null", vec![]).await.unwrap_or_default();
    assert_eq!(opener, json!(true), "the sign-in page sees no window.opener");
    b.click("#signin").await;
    b.client.switch_to_window(console).await.unwrap_or_else(|e| panic!("switch: {e}"));
    b.wait_for_text("[data-testid=auth-status]", |t| t == "Signed in.").await;
    b.show("pane-Sign-in").await;
    assert_eq!(
        b.wait_for_text("[data-testid=auth-user]", |t| !t.is_empty()).await,
        "alice@contoso.example"
    );
    // The tokens come before the tool list: wait for it before calling.
    b.wait_for("[data-testid=tool-name]").await;
    rig.echo("signed in with the form").await;
    b.screenshot("signin-form").await;
    let _ = (&rig.auth, &rig.info);
}

/// The sign-in popup's window handle, once it is open.
async fn wait_for_second_window(b: &Browser) -> fantoccini::wd::WindowHandle {
    let first = b.client.window().await.unwrap_or_else(|e| panic!("window: {e}"));
    let started = std::time::Instant::now();
    loop {
        let all = b.client.windows().await.unwrap_or_default();
        if let Some(other) = all.into_iter().find(|w| *w != first) {
            return other;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "no sign-in window opened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_the_server_stops_accepting_is_refreshed_once_and_the_call_goes_through() {
    let rig = rig(&["--auto-approve"], json!({ "SignIn": "popup" })).await;
    rig.open_and_sign_in().await;
    rig.echo("with the first token").await;
    http_post(&format!("{}/_test/reset", rig.auth.url));
    // The server now refuses every token it has seen (revoked at the resource).
    let base = rig.server.url.trim_end_matches("/mcp");
    http_post(&format!("{base}/_test/distrust"));
    let refused_before = rig.server_stats()["rejected401"].as_u64().unwrap_or(0);
    // The call is refused with 401, held, the refresh token buys a new access token (no
    // interactive sign-in), and the same call goes out again and succeeds.
    rig.echo("after the 401").await;
    let stats = rig.auth_stats();
    assert_eq!(stats["refresh"]["requests"], json!(1), "{stats}");
    assert_eq!(stats["authorizeRequests"], json!(0), "{stats}");
    let refused = rig.server_stats()["rejected401"].as_u64().unwrap_or(0) - refused_before;
    assert!(refused >= 1, "the server refused the old token");
    let calls = rig.server_stats()["byMethod"]["tools/call"].as_u64().unwrap_or(0);
    assert_eq!(calls, 2, "each echo ran once: {}", rig.server_stats());
    let status = rig.browser.texts("[data-testid=auth-status]").await.concat();
    assert_eq!(status, "Signed in.");
}
