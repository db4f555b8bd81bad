//! End-to-end: the release build of the console in headless Chromium against real MCP servers from
//! the package registries, all on 127.0.0.1. Run by `scripts/test.sh` after `trunk build`.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use serde_json::{Value, json};
use std::process::Command;
use support::{Browser, console, everything, free_port};

/// The tool names an independent client (the official TypeScript SDK) sees at `url`.
fn reference_tool_names(url: &str) -> Vec<String> {
    let out = Command::new("node")
        .current_dir(support::root().join("tests/peers"))
        .args(["list-tools.mjs", url])
        .output()
        .unwrap_or_else(|e| panic!("could not run the reference client: {e}"));
    assert!(
        out.status.success(),
        "reference client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("reference output: {e}"));
    names
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_lists_the_real_tools_of_server_everything() {
    let server = everything("streamableHttp");
    let page = console(None);
    let browser = Browser::start().await;
    browser.client.goto(&page.url).await.unwrap_or_else(|e| panic!("goto: {e}"));

    let field = browser.wait_for("[data-testid=server-url]").await;
    field.send_keys(&server.url).await.unwrap_or_else(|e| panic!("type URL: {e}"));
    browser
        .wait_for("[data-testid=connect]")
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click: {e}"));

    let status =
        browser.wait_for_text("[data-testid=status]", |t| t.starts_with("Connected to")).await;
    assert!(status.contains("mcp-servers/everything") || status.contains("everything"), "{status}");
    browser.wait_for("[data-testid=tool-name]").await;

    let mut shown = browser.texts("[data-testid=tool-name]").await;
    let mut expected = reference_tool_names(&server.url);
    assert!(expected.len() >= 10, "server-everything lists at least ten tools: {expected:?}");
    shown.sort();
    expected.sort();
    assert_eq!(shown, expected, "the console shows exactly the tools the server lists");
    for must in ["echo", "get-sum", "trigger-long-running-operation"] {
        assert!(shown.iter().any(|n| n == must), "{must} missing from {shown:?}");
    }
    let protocol = browser.wait_for_text("[data-testid=protocol]", |t| !t.is_empty()).await;
    assert_eq!(protocol, "2025-11-25", "the newest revision is negotiated with a current server");

    let shot = browser.screenshot("console-tools").await;
    assert!(
        std::fs::metadata(&shot).map(|m| m.len() > 10_000).unwrap_or(false),
        "screenshot is empty"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_json_beside_the_app_opens_the_demo_server_by_itself() {
    let server = everything("streamableHttp");
    let page = console(Some(json!({ "serverUrl": server.url, "autoConnect": true })));
    let browser = Browser::start().await;
    browser.client.goto(&page.url).await.unwrap_or_else(|e| panic!("goto: {e}"));

    browser.wait_for_text("[data-testid=status]", |t| t.starts_with("Connected to")).await;
    browser.wait_for("[data-testid=tool-name]").await;
    let field = browser.wait_for("[data-testid=server-url]").await;
    let value = field.prop("value").await.ok().flatten().unwrap_or_default();
    assert_eq!(value, server.url, "the URL field shows the configured server");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_not_there_gets_one_clear_sentence() {
    let closed = free_port();
    let page = console(None);
    let browser = Browser::start().await;
    let url = format!("{}?server=http://127.0.0.1:{closed}/mcp&connect=1", page.url);
    browser.client.goto(&url).await.unwrap_or_else(|e| panic!("goto: {e}"));

    let status = browser
        .wait_for_text("[data-testid=status]", |t| t.starts_with("The browser could not reach"))
        .await;
    assert!(status.contains(&format!("http://127.0.0.1:{closed}")), "{status}");
    assert!(status.contains("CORS"), "the sentence names the CORS possibility: {status}");
    // The console is still alive: the form works and can be used again.
    let button = browser.wait_for("[data-testid=connect]").await;
    assert_eq!(button.text().await.unwrap_or_default(), "Connect");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_url_is_refused_before_any_request() {
    let page = console(None);
    let browser = Browser::start().await;
    let url = format!("{}?server=ftp://127.0.0.1/mcp&connect=1", page.url);
    browser.client.goto(&url).await.unwrap_or_else(|e| panic!("goto: {e}"));
    let status = browser
        .wait_for_text("[data-testid=status]", |t| t.contains("not a usable server URL"))
        .await;
    assert!(status.contains("http://"), "{status}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_runs_under_a_csp_that_blocks_injected_inline_script() {
    let page = console(None);
    let browser = Browser::start().await;
    browser.client.goto(&page.url).await.unwrap_or_else(|e| panic!("goto: {e}"));
    // The console rendered, so its own hashed loader and the wasm were allowed.
    browser.wait_for("[data-testid=server-url]").await;

    let csp = browser
        .client
        .execute(
            "return document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("read CSP: {e}"));
    let csp = csp.as_str().unwrap_or_default().to_owned();
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"), "{csp}");

    // An inline script slipped into the page (what an XSS would do) must not run.
    let ran = browser
        .client
        .execute(
            "const s = document.createElement('script');
             s.textContent = 'window.__injected = true';
             document.body.appendChild(s);
             return window.__injected === true;",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("inject: {e}"));
    assert_eq!(ran, Value::Bool(false), "the CSP let an injected inline script run");
    browser.close().await;
}
