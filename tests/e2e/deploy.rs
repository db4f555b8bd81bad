//! The release as a deployer serves it (issue 12): packed by `scripts/release.mjs`, served by
//! Debian's nginx through the release's `nginx.conf.template`, the strict policy as an HTTP header.
//! A whole sign-in and a tool call run with no Content-Security-Policy violation in the browser's
//! log; a portal the deployer listed may frame the console and one it did not list is refused.

use crate::support::{
    Browser, artifacts, authserver, free_port, nginx_release, protected, static_dir,
};
use serde_json::json;
use std::process::Command;
use std::time::{Duration, Instant};

/// The response headers of `url` (asked with `Accept-Encoding: accept`), lower-cased names.
fn headers_of(url: &str, accept: &str) -> String {
    let out = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-D", "-", "-H"])
        .arg(format!("Accept-Encoding: {accept}"))
        .arg(url)
        .output()
        .unwrap_or_else(|e| panic!("curl: {e}"));
    String::from_utf8_lossy(&out.stdout).to_lowercase()
}

/// A page on `port` that frames `console`.
fn portal(port: u16, console: &str) -> crate::support::Peer {
    let dir = artifacts().join(format!("deploy-portal-{port}"));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let page = format!(
        "<!doctype html><title>Portal</title><iframe id=c src=\"{console}\" width=900 height=600></iframe>"
    );
    std::fs::write(dir.join("index.html"), page).unwrap_or_else(|e| panic!("{e}"));
    static_dir(&dir, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_release_behind_nginx_signs_in_and_calls_with_no_policy_violation_and_refuses_unlisted_framing()
 {
    let (port, listed, unlisted) = (free_port(), free_port(), free_port());
    let origin = format!("http://127.0.0.1:{port}");
    let (_auth, info) = authserver(&origin, &["--auto-approve"]);
    let server = protected(&info, &origin);
    let config = json!({
        "Instance": format!("http://127.0.0.1:{}/", info["port"]),
        "TenantId": info["tenant"],
        "ClientId": info["clientId"],
        "Scopes": info["scope"],
        "ServerUrl": server.url,
        "AutoConnect": true,
        "SignIn": "popup",
    });
    let ancestors = format!("'self' http://127.0.0.1:{listed}");
    let nginx = nginx_release(port, "http://127.0.0.1:*", &ancestors, &config);

    // The headers as served: the policy with the deployer's settings, precompressed assets.
    let page = headers_of(&nginx.url, "gzip");
    assert!(page.contains("content-security-policy: default-src 'none'"), "{page}");
    assert!(page.contains(&format!("frame-ancestors 'self' http://127.0.0.1:{listed}")), "{page}");
    assert!(page.contains("cache-control: no-cache"), "{page}");
    let callback = headers_of(&format!("{}callback.html", nginx.url), "gzip");
    assert!(callback.contains("cache-control: no-store"), "{callback}");
    assert!(!callback.contains("cross-origin-opener-policy"), "{callback}");
    let gone = headers_of(&format!("{}headers.json", nginx.url), "gzip");
    assert!(gone.starts_with("http/1.1 404"), "the recipe serves nothing but the console: {gone}");

    // A whole sign-in (popup) and a call.
    let b = Browser::start().await;
    b.client.goto(&nginx.url).await.unwrap_or_else(|e| panic!("goto: {e}"));
    b.wait_for_text("[data-testid=auth-status]", |t| t.contains("requires a sign-in")).await;
    b.click("[data-testid=sign-in]").await;
    b.wait_for_text("[data-testid=auth-status]", |t| t == "Signed in.").await;
    b.wait_for("[data-testid=tool-name]").await;
    b.call_tool("echo", r#"{"message": "served by nginx"}"#).await;
    b.wait_for_text("[data-testid=call-result]", |t| t == "served by nginx").await;
    let log = b.console_log().await;
    assert!(!log.contains("Content Security Policy"), "a policy violation: {log}");
    assert!(!log.contains("panicked"), "{log}");

    // Framing: the listed portal shows the console; the unlisted one is refused by the browser.
    let (listed, unlisted) = (portal(listed, &nginx.url), portal(unlisted, &nginx.url));
    b.client.goto(&listed.url).await.unwrap_or_else(|e| panic!("goto: {e}"));
    b.wait_for("#c").await.enter_frame().await.unwrap_or_else(|e| panic!("{e}"));
    b.wait_for("[data-testid=server-url]").await;
    b.client.goto(&unlisted.url).await.unwrap_or_else(|e| panic!("goto: {e}"));
    b.wait_for("#c").await.enter_frame().await.unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        let found = b.texts("[data-testid=server-url]").await;
        assert!(found.is_empty(), "a page the deployer did not list framed the console");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    b.client.enter_parent_frame().await.unwrap_or_else(|e| panic!("{e}"));
    let log = b.console_log().await;
    assert!(log.contains("frame-ancestors"), "the browser did not say why: {log}");
}
