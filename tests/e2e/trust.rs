//! The attacks of the security review, tried end to end in Chromium against the real peers: a
//! crafted link with a hostile authorization server, a second server after signing in to the
//! first, a link to an unknown server with sign-in settings, a link that moves the redirect URI,
//! and a registration access token looked for everywhere the page could leave it. (The sign-in
//! window's missing `opener` and sign-out's revocation are checked in `signin.rs`.)

use crate::signin::rig;
use crate::support::{
    Browser, authserver, console_on, everything, free_port, hostile_as, hostile_relay, http_post,
    protected, query_value, recording_proxy, stats_of,
};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::time::Duration;

/// The text of every element matching `css`, joined.
async fn text_of(b: &Browser, css: &str) -> String {
    b.texts(css).await.concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crafted_link_cannot_send_the_code_to_a_hostile_authorization_server() {
    // Strict: the real authorization server sends no `iss`, like Entra, so nothing at the
    // callback could notice a mix-up.
    let rig = rig(&["--auto-approve"], json!({ "SignIn": "popup" })).await;
    let tenant = rig.info["tenant"].as_str().unwrap_or_default();
    let real = rig.info["authorizationEndpoint"].as_str().unwrap_or_default();
    let (hostile, _) = hostile_as(tenant, real);
    let b = &rig.browser;
    let link = format!(
        "{}?server={}&connect=1&instance={}",
        rig.page.url,
        query_value(&rig.server.url),
        query_value(&format!("{}/", hostile.url))
    );
    b.client.goto(&link).await.unwrap_or_else(|e| panic!("goto: {e}"));
    let notice = b.wait_for_text("[data-testid=notice]", |t| !t.is_empty()).await;
    assert!(notice.contains("tries to change how you sign in"), "{notice}");
    b.wait_for_text("[data-testid=auth-status]", |t| t.contains("requires a sign-in")).await;
    b.click("[data-testid=sign-in]").await;
    b.wait_for_text("[data-testid=auth-status]", |t| t == "Signed in.").await;
    b.wait_for("[data-testid=tool-name]").await;
    rig.echo("signed in where the configuration says").await;
    b.show("pane-Sign-in").await;
    let issuer = text_of(b, "[data-testid=auth-issuer]").await;
    assert_eq!(issuer, rig.info["issuer"].as_str().unwrap_or_default());

    // For a server the configuration does not name, the link's hostile sign-in service is
    // refused before anything is asked of it.
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let (auth, info) = authserver(&origin, &["--entra-strict", "--auto-approve"]);
    let server = protected(&info, &origin);
    let page = console_on(port, Some(json!({})));
    let link = format!(
        "{}?server={}&connect=1&instance={}&tenant={}&client_id={}",
        page.url,
        query_value(&server.url),
        query_value(&format!("{}/", hostile.url)),
        info["tenant"].as_str().unwrap_or_default(),
        info["clientId"].as_str().unwrap_or_default(),
    );
    b.client.goto(&link).await.unwrap_or_else(|e| panic!("goto: {e}"));
    let said = b
        .wait_for_text("[data-testid=auth-status]", |t| {
            t.contains("not Microsoft Entra's sign-in service")
        })
        .await;
    assert!(said.contains(&hostile.url), "{said}");

    let seen = stats_of(&hostile.url);
    assert_eq!(seen["requests"], json!(0), "the hostile server heard nothing: {seen}");
    assert_eq!((&seen["codesReceived"], &seen["verifiersReceived"]), (&json!(0), &json!(0)));
    assert_eq!(stats_of(&auth.url)["authorizeRequests"], json!(0));
    b.screenshot("trust-hostile-link").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_service_that_relays_the_window_to_the_real_one_gets_no_code() {
    // The real (Entra-shaped, strict: no `iss`) authorization server knows the console's app and
    // its callback; the hostile one, named by the server's metadata, is consistent with itself
    // and bounces the window there as that app, with the console's own `state`.
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let (auth, info) = authserver(&origin, &["--entra-strict", "--auto-approve"]);
    let callback = format!("{origin}/callback.html");
    let (hostile, hostile_info) = hostile_relay(
        info["authorizationEndpoint"].as_str().unwrap_or_default(),
        info["clientId"].as_str().unwrap_or_default(),
        &callback,
        info["scope"].as_str().unwrap_or_default(),
    );
    let named = json!({ "issuer": hostile_info["issuer"], "audience": info["audience"] });
    let server = protected(&named, &origin);
    let page = console_on(port, Some(json!({ "SignIn": "redirect" })));
    let b = Browser::start().await;
    b.client
        .goto(&format!("{}?server={}&connect=1", page.url, query_value(&server.url)))
        .await
        .unwrap_or_else(|e| panic!("goto: {e}"));
    b.wait_for_text("[data-testid=auth-status]", |t| t.contains("requires a sign-in")).await;
    b.click("[data-testid=sign-in]").await;
    let said = b
        .wait_for_text("[data-testid=auth-status]", |t| t.contains("came back to another address"))
        .await;
    assert!(said.contains("callback.html?as="), "{said}");
    let seen = stats_of(&hostile.url);
    assert!(seen["relayed"].as_u64().unwrap_or(0) >= 1, "the window was bounced: {seen}");
    assert_eq!((&seen["tokenRequests"], &seen["codesReceived"]), (&json!(0), &json!(0)), "{seen}");
    let real = stats_of(&auth.url);
    assert!(
        real["authorizeRequests"].as_u64().unwrap_or(0) >= 1,
        "the real sign-in page answered: {real}"
    );
    assert_eq!(real["tokenRequests"]["total"], json!(0), "its code was redeemed by nobody: {real}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_opened_after_signing_in_to_another_never_sees_a_token() {
    let rig =
        rig(&["--auto-approve", "--access-token-ttl", "10"], json!({ "SignIn": "popup" })).await;
    rig.open_and_sign_in().await;
    rig.echo("with the protected server").await;
    let everything = everything("streamableHttp");
    let proxy = recording_proxy(&everything.url);
    http_post(&format!("{}/_test/reset", rig.auth.url));
    let b = &rig.browser;
    b.set_value("[data-testid=server-url]", &format!("{}/mcp", proxy.url)).await;
    b.click("[data-testid=connect]").await;
    b.wait_for_text("[data-testid=status]", |t| {
        t.starts_with("Connected to") && t.contains("everything")
    })
    .await;
    b.wait_for_text("[data-testid=auth-status]", |t| t == "Not signed in.").await;
    // Past two refreshes of the protected server's 10-second token (due at 8 and 16 s).
    tokio::time::sleep(Duration::from_secs(21)).await;
    rig.echo("with server-everything").await;
    b.click("[data-testid=disconnect]").await;
    b.wait_for_text("[data-testid=status]", |t| t == "Not connected.").await;
    let seen = stats_of(&proxy.url);
    assert!(seen["requests"].as_u64().unwrap_or(0) >= 4, "{seen}");
    assert_eq!(seen["withAuthorization"], json!(0), "server-everything was sent a token: {seen}");
    let auth = rig.auth_stats();
    assert_eq!(auth["refresh"]["requests"], json!(0), "the other server's timer stopped: {auth}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_with_sign_in_settings_for_an_unknown_server_asks_first_and_nothing_reaches_the_authorization_server_before()
 {
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let (auth, info) = authserver(&origin, &["--entra-strict", "--auto-approve"]);
    let server = protected(&info, &origin);
    // The deployer allows this sign-in service, but names no server.
    let allowed = format!("http://127.0.0.1:{}/", info["port"]);
    let page = console_on(port, Some(json!({ "AllowedAuthorities": [allowed] })));
    let b = Browser::start().await;
    let (client, scope) =
        (info["clientId"].as_str().unwrap_or_default(), info["scope"].as_str().unwrap_or_default());
    let link = format!(
        "{}?server={}&connect=1&instance={}&tenant={}&client_id={client}&scope={}&signin=popup",
        page.url,
        query_value(&server.url),
        query_value(&allowed),
        info["tenant"].as_str().unwrap_or_default(),
        query_value(scope),
    );
    b.client.goto(&link).await.unwrap_or_else(|e| panic!("goto: {e}"));
    b.wait_for("[data-testid=auth][data-phase=confirm]").await;
    let server_origin = server.url.trim_end_matches("/mcp");
    assert_eq!(text_of(&b, "[data-testid=confirm-server]").await, server_origin);
    assert_eq!(
        text_of(&b, "[data-testid=confirm-issuer]").await,
        info["issuer"].as_str().unwrap_or_default()
    );
    assert_eq!(text_of(&b, "[data-testid=confirm-client]").await, client);
    assert!(text_of(&b, "[data-testid=confirm-scopes]").await.contains(scope));
    assert!(text_of(&b, "[data-testid=signin-confirm]").await.contains("from the link you opened"));
    b.screenshot("trust-confirmation").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = stats_of(&auth.url);
    assert_eq!(before["browserRequests"], json!(0), "asked before the confirmation: {before}");
    b.click("[data-testid=signin-confirm-accept]").await;
    b.wait_for_text("[data-testid=auth-status]", |t| t == "Signed in.").await;
    b.wait_for("[data-testid=tool-name]").await;
    assert!(stats_of(&auth.url)["browserRequests"].as_u64().unwrap_or(0) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_uri_off_the_consoles_origin_in_a_link_is_refused() {
    let rig = rig(&["--auto-approve"], json!({ "SignIn": "popup" })).await;
    let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    elsewhere.set_nonblocking(true).unwrap_or_else(|e| panic!("{e}"));
    let collector =
        format!("http://{}/cb", elsewhere.local_addr().map(|a| a.to_string()).unwrap_or_default());
    let b = &rig.browser;
    let link = format!(
        "{}?server={}&connect=1&redirect_uri={}",
        rig.page.url,
        query_value(&rig.server.url),
        query_value(&collector)
    );
    b.client.goto(&link).await.unwrap_or_else(|e| panic!("goto: {e}"));
    let notice = b.wait_for_text("[data-testid=notice]", |t| !t.is_empty()).await;
    assert!(
        notice.contains("not this console's own page") && notice.contains(&collector),
        "{notice}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        text_of(b, "[data-testid=status]").await,
        "Not connected.",
        "the link's connection was refused too"
    );
    assert_eq!(rig.auth_stats()["browserRequests"], json!(0));
    // The person connects and signs in by hand: the answer comes back to the console's own page.
    b.click("[data-testid=connect]").await;
    b.click("[data-testid=sign-in]").await;
    b.wait_for_text("[data-testid=auth-status]", |t| t == "Signed in.").await;
    assert!(
        matches!(elsewhere.accept(), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "nothing ever reached {collector}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_registration_access_token_reaches_the_trace_the_clipboard_or_session_storage() {
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    // Dynamic registration, the sign-in form (no auto-approve), a full-page sign-in.
    let (auth, info) = authserver(&origin, &["--registration"]);
    let server = protected(&info, &origin);
    let config = json!({ "ServerUrl": server.url, "AutoConnect": true, "SignIn": "redirect", "Resource": "omit" });
    let page = console_on(port, Some(config));
    let b = Browser::start().await;
    b.client.goto(&page.url).await.unwrap_or_else(|e| panic!("goto: {e}"));
    b.wait_for_text("[data-testid=auth-status]", |t| t.contains("requires a sign-in")).await;
    b.click("[data-testid=sign-in]").await;
    b.wait_for("#signin").await;
    let issued: Vec<String> = stats_of(&auth.url)["registrationAccessTokens"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    assert_eq!(issued.len(), 1, "the console registered once: {}", stats_of(&auth.url));
    // Back at the console while the sign-in waits: what it keeps in sessionStorage.
    b.client.back().await.unwrap_or_else(|e| panic!("back: {e}"));
    b.wait_for("[data-testid=auth]").await;
    let kept = b
        .client
        .execute("return JSON.stringify(Object.assign({}, sessionStorage))", vec![])
        .await
        .unwrap_or_default();
    let kept = kept.as_str().unwrap_or_default().to_owned();
    assert!(kept.contains("register"), "the pending sign-in and its trace: {kept}");
    b.client.forward().await.unwrap_or_else(|e| panic!("forward: {e}"));
    b.click("#signin").await;
    b.wait_for_text("[data-testid=auth-status]", |t| t == "Signed in.").await;
    // Copy trace, with the clipboard caught on its way.
    b.client
        .execute("window.__copied = null; navigator.clipboard.writeText = (t) => { window.__copied = t; return Promise.resolve(); };", vec![])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    b.show("pane-Sign-in").await;
    b.click(".mc-auth-trace summary").await;
    b.click("[data-testid=auth-copy]").await;
    let copied = b.client.execute("return window.__copied", vec![]).await.unwrap_or(Value::Null);
    let copied = copied.as_str().unwrap_or_else(|| panic!("nothing copied")).to_owned();
    assert!(copied.contains("POST ") && copied.contains("register"), "{copied}");
    let page_text =
        b.client.execute("return document.body.innerText", vec![]).await.unwrap_or_default();
    let log = b.console_log().await;
    for token in &issued {
        for (what, text) in [
            ("sessionStorage", &kept),
            ("the copied trace", &copied),
            ("the page", &page_text.to_string()),
            ("the browser console", &log),
        ] {
            assert!(!text.contains(token.as_str()), "{what} holds the registration access token");
        }
    }
}
