//! End-to-end: the release build of the console in headless Chromium against real MCP servers from
//! the package registries, all on 127.0.0.1. Run by `scripts/test.sh` after `trunk build`.
#![cfg(not(target_arch = "wasm32"))]
// These tests run natively, where the clock is fine; the ban is for code that runs in wasm.
#![allow(clippy::disallowed_methods)]

mod apps;
mod catalog;
mod deploy;
mod embed;
mod history;
mod hostile;
mod layout;
mod signin;
mod support;
mod tabs;
mod tools;
mod trust;

use serde_json::{Value, json};
use std::process::Command;
use support::{Browser, console, everything, free_port, protected_without_auth};

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
    browser.show("pane-Server").await;
    let protocol = browser.wait_for_text("[data-testid=protocol]", |t| !t.is_empty()).await;
    assert_eq!(protocol, "2025-11-25", "the newest revision is negotiated with a current server");

    // The filter keeps the tools with every word typed in their name, title or description, and
    // gives them all back when cleared. Filtered-out rows stay in the page, hidden.
    let visible = "[data-testid=tool]:not([hidden]) [data-testid=tool-name]";
    let total = shown.len();
    browser.type_into("[data-testid=tool-filter]", "ECHO").await;
    let heading = format!("Tools (1 of {total})");
    browser.wait_for_text("[data-testid=tools-heading]", |t| t == heading).await;
    assert_eq!(browser.texts(visible).await, ["echo"]);
    browser.set_value("[data-testid=tool-filter]", "no such tool").await;
    browser.wait_for("[data-testid=tool-none]").await;
    assert!(browser.texts(visible).await.is_empty());
    browser.set_value("[data-testid=tool-filter]", "").await;
    let heading = format!("Tools ({total})");
    browser.wait_for_text("[data-testid=tools-heading]", |t| t == heading).await;
    assert_eq!(browser.texts(visible).await.len(), total);

    let shot = browser.screenshot("console-tools").await;
    assert!(
        std::fs::metadata(&shot).map(|m| m.len() > 10_000).unwrap_or(false),
        "screenshot is empty"
    );
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_is_called_and_its_text_shown() {
    let server = everything("streamableHttp");
    let page = console(None);
    let browser = Browser::start().await;
    browser.connect(&page.url, &server.url, "auto").await;
    browser.call_tool("echo", r#"{"message": "<b>hi</b> from the console"}"#).await;
    let text = browser.wait_for_text("[data-testid=call-result]", |t| !t.is_empty()).await;
    assert_eq!(text, "Echo: <b>hi</b> from the console", "server text is shown as text, not HTML");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_call_shows_progress_and_can_be_cancelled_and_the_server_sees_it() {
    let server = protected_without_auth(&[]);
    let page = console(None);
    let browser = Browser::start().await;
    browser.connect(&page.url, &server.url, "streamable").await;
    browser.call_tool("slow", r#"{"steps": 50, "delay_ms": 200}"#).await;
    let label = browser
        .wait_for_text("[data-testid=call-progress-label]", |t| {
            t.contains(" of ") || t.contains("step")
        })
        .await;
    assert!(!label.is_empty());
    let value = browser
        .client
        .execute("return document.querySelector('[data-testid=call-progress]').value", vec![])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(value.as_f64().is_some_and(|v| v >= 1.0), "the bar moved: {value}");
    browser.click("[data-testid=call-cancel]").await;
    let sentence = browser.wait_for_text("[data-testid=call-failed]", |t| !t.is_empty()).await;
    assert!(sentence.starts_with("You cancelled tools/call"), "{sentence}");
    let stats_url = server.url.replace("/mcp", "/_test/stats");
    let started = std::time::Instant::now();
    loop {
        let stats: Value =
            serde_json::from_str(&support::http_get(&stats_url)).unwrap_or(Value::Null);
        if stats["cancellations"].as_u64().unwrap_or(0) >= 1 {
            break;
        }
        assert!(
            started.elapsed() < support::UI_DEADLINE,
            "the server never saw the cancellation: {stats}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_messages_arrive_after_choosing_a_level() {
    let server = everything("streamableHttp");
    let page = console(None);
    let browser = Browser::start().await;
    browser.connect(&page.url, &server.url, "auto").await;
    browser.show("pane-Log").await;
    browser
        .client
        .execute(
            "const s = document.querySelector('[data-testid=log-level]');
             s.value = 'debug'; s.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    browser.call_tool("toggle-simulated-logging", "{}").await;
    browser.wait_for("[data-testid=log-line]").await;
    let lines = browser.texts("[data-testid=log-line]").await;
    assert!(!lines.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_sse_is_reached_both_forced_and_by_auto_fallback() {
    let server = everything("sse");
    let page = console(None);
    for transport in ["sse", "auto"] {
        let browser = Browser::start().await;
        browser.connect(&page.url, &server.url, transport).await;
        let status =
            browser.wait_for_text("[data-testid=status]", |t| t.contains("legacy HTTP+SSE")).await;
        assert!(status.starts_with("Connected to"), "{transport}: {status}");
        browser.show("pane-Server").await;
        let protocol = browser.wait_for_text("[data-testid=protocol]", |t| !t.is_empty()).await;
        assert_eq!(protocol, "2025-11-25", "{transport}");
        if transport == "auto" {
            // Each way down is in the connection steps: discover, initialize, then the SSE GET.
            let steps = connection_steps(&browser).await;
            assert!(steps.iter().any(|s| s.contains("server/discover was refused")), "{steps:?}");
            assert!(steps.iter().any(|s| s.contains("trying legacy HTTP+SSE")), "{steps:?}");
        }
        browser.call_tool("echo", r#"{"message": "over sse"}"#).await;
        let text = browser.wait_for_text("[data-testid=call-result]", |t| !t.is_empty()).await;
        assert_eq!(text, "Echo: over sse", "{transport}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_call_is_reported_and_reconnected_when_it_returns() {
    let port = free_port();
    let server = support::everything_on("streamableHttp", port);
    let page = console(None);
    let browser = Browser::start().await;
    browser.connect(&page.url, &server.url, "auto").await;
    browser.call_tool("trigger-long-running-operation", r#"{"duration": 30, "steps": 30}"#).await;
    browser.wait_for("[data-testid=call-progress]").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    drop(server);

    let status =
        browser.wait_for_text("[data-testid=status]", |t| t.contains("Reconnecting in")).await;
    assert!(status.contains("attempt"), "{status}");
    let _restarted = support::everything_on("streamableHttp", port);
    // The new server has none of the old sessions: the console starts a new one by itself.
    let status =
        browser.wait_for_text("[data-testid=status]", |t| t.starts_with("Connected to")).await;
    assert!(status.contains("Streamable HTTP"), "{status}");
    let sentence = browser.wait_for_text("[data-testid=call-failed]", |t| !t.is_empty()).await;
    assert!(sentence.contains("may or may not have finished"), "{sentence}");
    // And it works: a new call succeeds.
    browser.call_tool("echo", r#"{"message": "back"}"#).await;
    browser.wait_for_text("[data-testid=call-result]", |t| t == "Echo: back").await;
    browser.screenshot("console-reconnected").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_server_is_listed_and_called() {
    let page = console(None);
    let origin = page.url.trim_end_matches('/').to_owned();
    let server = support::python_peer(&origin);
    let browser = Browser::start().await;
    browser.connect(&page.url, &server.url, "auto").await;
    let names = browser.texts("[data-testid=tool-name]").await;
    for must in ["echo", "add", "countdown"] {
        assert!(names.iter().any(|n| n == must), "{must} missing from {names:?}");
    }
    browser.call_tool("add", r#"{"a": 2, "b": 3.5}"#).await;
    let structured =
        browser.wait_for_text("[data-testid=call-structured]", |t| !t.is_empty()).await;
    assert!(structured.contains("5.5"), "{structured}");
}

/// The lines of the server card's "How the console connected".
async fn connection_steps(browser: &Browser) -> Vec<String> {
    browser.show("pane-Server").await;
    browser
        .client
        .execute("document.querySelector('[data-testid=connection-steps]').open = true", vec![])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    browser.texts("[data-testid=connection-steps] li").await
}

/// The Python SDK's server speaks 2026-07-28 only; whether a browser can speak it too is up to the
/// server's CORS policy. Allowed the revision's headers, Auto settles on 2026-07-28 and calls work
/// without a session; refused them, the preflight fails, the console falls back to initialize
/// (2025-11-25) and its connection steps say why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_speaks_2026_07_28_where_cors_allows_it_and_falls_back_where_not() {
    let page = console(None);
    let origin = page.url.trim_end_matches('/').to_owned();
    let modern = support::python_peer_with(&origin, &["--cors-2026"]);
    let browser = Browser::start().await;
    browser.connect(&page.url, &modern.url, "auto").await;
    browser.show("pane-Server").await;
    let protocol = browser.wait_for_text("[data-testid=protocol]", |t| !t.is_empty()).await;
    assert_eq!(protocol, "2026-07-28");
    let steps = connection_steps(&browser).await;
    assert!(steps.iter().any(|s| s.contains("server/discover")), "{steps:?}");
    browser.call_tool("add", r#"{"a": 2, "b": 3.5}"#).await;
    let structured =
        browser.wait_for_text("[data-testid=call-structured]", |t| !t.is_empty()).await;
    assert!(structured.contains("5.5"), "{structured}");
    // A server-to-client request is not in this revision: the SDK refuses the tool, in a sentence.
    browser.call_tool("ask_name", "{}").await;
    let failed = browser.wait_for_text("[data-testid=call-failed]", |t| !t.is_empty()).await;
    assert!(failed.contains("back-channel"), "{failed}");

    let older = support::python_peer(&origin);
    let browser = Browser::start().await;
    browser.connect(&page.url, &older.url, "auto").await;
    browser.show("pane-Server").await;
    let protocol = browser.wait_for_text("[data-testid=protocol]", |t| !t.is_empty()).await;
    assert_eq!(protocol, "2025-11-25");
    let steps = connection_steps(&browser).await;
    assert!(
        steps.iter().any(|s| s.contains("no readable reply") && s.contains("Mcp-Method")),
        "{steps:?}"
    );
    browser.call_tool("echo", r#"{"message": "still here"}"#).await;
    browser.wait_for_text("[data-testid=call-result]", |t| t.contains("still here")).await;
}

/// A server that needs input to finish a call answers `input_required` (2026-07-28); the person
/// answers in the page — a form, a page to open, a model reply — and the call goes again with the
/// answers, its rounds shown in the history. A tool's `x-mcp-header` argument travels in its header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_round_trip_calls_are_answered_through_forms_urls_and_sampling() {
    let page = console(None);
    let origin = page.url.trim_end_matches('/').to_owned();
    let server = support::modern_peer(&origin, &[]);
    let browser = Browser::start().await;
    browser.connect(&page.url, &server.url, "auto").await;
    browser.show("pane-Server").await;
    let protocol = browser.wait_for_text("[data-testid=protocol]", |t| !t.is_empty()).await;
    assert_eq!(protocol, "2026-07-28");

    browser.call_tool("confirm_delete", r#"{"path": "/tmp/report.txt"}"#).await;
    browser.wait_for("[data-testid=elicitation]").await;
    let round = browser.wait_for_text("[data-testid=call-entry]", |t| t.contains("Round 1")).await;
    assert!(round.contains("answer from you"), "{round}");
    browser.click("[data-testid=elicitation] [data-field-name=confirm]").await;
    browser.type_into("[data-testid=elicitation] [data-field-name=retries]", "2").await;
    browser.click("[data-testid=elicitation-accept]").await;
    browser
        .wait_for_text("[data-testid=call-result]", |t| {
            t == "Deleted /tmp/report.txt (pretend): confirm=true, retries=2."
        })
        .await;
    let rounds = browser.texts("[data-testid=call-rounds] li").await;
    assert_eq!(
        rounds,
        vec!["Round 1: the server asked for confirm (elicitation/create).", "confirm: accepted."],
        "the history keeps the round"
    );

    browser.call_tool("open_login", "{}").await;
    let url = browser.wait_for_text("[data-testid=elicitation-url]", |t| !t.is_empty()).await;
    assert!(url.ends_with("/login-page"), "{url}");
    browser.click("[data-testid=elicitation-open]").await;
    browser.wait_for_text("[data-testid=call-result]", |t| t.starts_with("Signed in")).await;

    browser.call_tool("ask_model", r#"{"question": "What is two and two?"}"#).await;
    let asked = browser.wait_for_text("[data-testid=sampling-message]", |t| !t.is_empty()).await;
    assert!(asked.contains("What is two and two?"), "{asked}");
    browser.type_into("[data-testid=sampling-reply]", "Four.").await;
    browser.click("[data-testid=sampling-send]").await;
    browser
        .wait_for_text("[data-testid=call-result]", |t| t.contains(r#"answered: "Four.""#))
        .await;

    browser.call_tool("regional_lookup", r#"{"region": "eu west ", "id": 7}"#).await;
    let found =
        browser.wait_for_text("[data-testid=call-result]", |t| t.starts_with("Record 7")).await;
    assert!(found.contains("in eu west "), "{found}");
    assert!(found.contains("=?base64?"), "a trailing space is sent encoded: {found}");
    browser.screenshot("console-multi-round-trip").await;

    // A server that never stops asking is stopped after the bound, with a sentence.
    browser.call_tool("endless", "{}").await;
    for _ in 0..10 {
        browser.click("[data-testid=elicitation-accept]").await;
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
    let stopped = browser.wait_for_text("[data-testid=call-failed]", |t| !t.is_empty()).await;
    assert!(stopped.contains("after 10 rounds"), "{stopped}");
}

/// Over 2026-07-28 updates come by `subscriptions/listen`: a resource the person read is read
/// again when the server says it changed, and a changed tool list is fetched again — no reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_resource_and_tool_list_appear_without_a_reload() {
    let page = console(None);
    let origin = page.url.trim_end_matches('/').to_owned();
    let server = support::modern_peer(&origin, &[]);
    let browser = Browser::start().await;
    browser.connect(&page.url, &server.url, "auto").await;
    browser.show("catalog-resources").await;
    browser.wait_for("[data-testid=resource-name]").await;
    assert!(browser.click_named("[data-testid=resource-read]", "counter").await);
    browser.wait_for_text("[data-testid=call-result]", |t| t == "The counter is 0.").await;
    browser.call_tool("bump", "{}").await;
    browser.wait_for_text("[data-testid=call-result]", |t| t == "The counter is 1.").await;

    browser.show("catalog-tools").await;
    let before = browser.texts("[data-testid=tool-name]").await;
    assert!(!before.iter().any(|n| n == "extra_tool"), "{before:?}");
    browser.call_tool("toggle_extra_tool", "{}").await;
    let mut names = Vec::new();
    for _ in 0..100 {
        names = browser.texts("[data-testid=tool-name]").await;
        if names.iter().any(|n| n == "extra_tool") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("extra_tool never appeared in the tool list: {names:?}");
}

/// A call the server turns into a task (Tasks extension) shows the task's status while the console
/// polls it, and its result at the end; another is cancelled; a third outlives the server
/// restarting (its tasks kept in a file), with other calls made meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_run_to_their_results_are_cancelled_and_outlive_a_server_restart() {
    let page = console(None);
    let origin = page.url.trim_end_matches('/').to_owned();
    let port = free_port();
    let state = support::artifacts().join(format!("tasks-{port}.json"));
    let state = state.to_string_lossy().into_owned();
    let server = support::modern_peer_on(&origin, port, &["--state-file", &state]);
    let browser = Browser::start().await;
    browser.connect(&page.url, &server.url, "auto").await;

    browser.call_tool("slow_task", r#"{"seconds": 2}"#).await;
    let running =
        browser.wait_for_text("[data-testid=call-entry]", |t| t.contains("Task working")).await;
    assert!(running.contains('%'), "the task's progress message: {running}");
    // Not blocked while it polls: another call goes and comes back.
    browser.call_tool("echo", r#"{"text": "meanwhile"}"#).await;
    browser.wait_for_text("[data-testid=call-result]", |t| t == "meanwhile").await;
    let done = "[data-testid=call-entry]:nth-child(2) [data-testid=call-result]";
    browser.wait_for_text(done, |t| t == "Worked for 2 s.").await;

    browser.call_tool("slow_task", r#"{"seconds": 30}"#).await;
    browser.wait_for_text("[data-testid=call-entry]", |t| t.contains("Task working")).await;
    browser.click("[data-testid=call-entry] [data-testid=call-cancel]").await;
    let cancelled = browser.wait_for_text("[data-testid=call-failed]", |t| !t.is_empty()).await;
    assert!(cancelled.contains("cancelled"), "{cancelled}");

    browser.call_tool("slow_task", r#"{"seconds": 4}"#).await;
    browser.wait_for_text("[data-testid=call-entry]", |t| t.contains("Task working")).await;
    drop(server);
    browser.wait_for_text("[data-testid=status]", |t| t.contains("Reconnecting in")).await;
    let _restarted = support::modern_peer_on(&origin, port, &["--state-file", &state]);
    browser.wait_for_text("[data-testid=status]", |t| t.starts_with("Connected to")).await;
    browser.wait_for_text("[data-testid=call-result]", |t| t == "Worked for 4 s.").await;
}

/// server-everything's research tool runs only as a 2025-11-25 experimental task: the console
/// asks for one, polls `tasks/get`, and when the task asks for a clarification fetches
/// `tasks/result`, on whose stream the question comes; answered in the page, the report follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2025_task_of_server_everything_asks_through_tasks_result_and_reports() {
    let server = everything("streamableHttp");
    let page = console(None);
    let browser = Browser::start().await;
    browser.connect(&page.url, &server.url, "auto").await;
    // server-everything may add its task tools after the first listing (and say the list
    // changed); the filter keeps the row in sight.
    browser.type_into("[data-testid=tool-filter]", "simulate-research").await;
    let mut names = Vec::new();
    for _ in 0..100 {
        names = browser.texts("[data-testid=tool-name]").await;
        if names.iter().any(|n| n == "simulate-research-query") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(names.iter().any(|n| n == "simulate-research-query"), "{names:?}");
    browser.call_tool("simulate-research-query", r#"{"topic": "python", "ambiguous": true}"#).await;
    let status =
        browser.wait_for_text("[data-testid=call-entry]", |t| t.contains("Task working")).await;
    assert!(status.contains("Gathering sources") || status.contains("Analyzing"), "{status}");
    browser.wait_for("[data-testid=elicitation] [data-field-name=interpretation]").await;
    browser
        .client
        .execute(
            "const f = document.querySelector('[data-testid=elicitation] [data-field-name=interpretation]');
             f.selectedIndex = [...f.options].findIndex((o) => o.textContent.includes('snake'));
             f.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    browser.click("[data-testid=elicitation-accept]").await;
    let report =
        browser.wait_for_text("[data-testid=call-result]", |t| t.contains("Research Report")).await;
    assert!(
        report.contains("snake"),
        "the clarification reached the task: {}",
        &report[..120.min(report.len())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elicitation_sampling_and_roots_are_answered_in_the_page() {
    let page = console(None);
    let origin = page.url.trim_end_matches('/').to_owned();
    let server = support::python_peer(&origin);
    let browser = Browser::start().await;
    browser.connect(&page.url, &server.url, "auto").await;

    // Elicitation: a form built from the server's schema.
    browser.call_tool("ask_name", "{}").await;
    browser.wait_for("[data-testid=elicitation]").await;
    let message =
        browser.wait_for_text("[data-testid=elicitation-message]", |t| !t.is_empty()).await;
    assert_eq!(message, "What is your name?");
    browser.type_into("[data-testid=elicitation] [data-field-name=name]", "Ada <script>").await;
    // The form keeps what was typed while the rest of the console changes: another call made
    // and answered meanwhile.
    browser.call_tool("echo", r#"{"message": "meanwhile"}"#).await;
    browser.wait_for_text("[data-testid=call-result]", |t| t.contains("meanwhile")).await;
    let typed = browser
        .client
        .execute(
            "return document.querySelector('[data-testid=elicitation] [data-field-name=name]').value",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(typed, json!("Ada <script>"));
    browser.click("[data-testid=elicitation-accept]").await;
    // ask_name's entry is the second: the echo made meanwhile is newer.
    let asked = "[data-testid=call-entry]:nth-child(2) [data-testid=call-result]";
    browser.wait_for_text(asked, |t| t == "accept: Ada <script>").await;

    // Sampling: the person writes the model's reply.
    browser.call_tool("summarize", r#"{"text": "A long story about MCP."}"#).await;
    let asked = browser.wait_for_text("[data-testid=sampling-message]", |t| !t.is_empty()).await;
    assert!(asked.contains("A long story about MCP."), "{asked}");
    browser.type_into("[data-testid=sampling-reply]", "It is about MCP.").await;
    browser.click("[data-testid=sampling-send]").await;
    browser.wait_for_text("[data-testid=call-result]", |t| t == "It is about MCP.").await;

    // Roots: set in the page, returned when the server asks.
    browser.show("pane-Server").await;
    browser
        .client
        .execute("document.querySelector('details.mc-roots').open = true", vec![])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    browser.type_into("[data-testid=roots]", "file:///home/ada/project").await;
    browser.click("[data-testid=roots-save]").await;
    browser.call_tool("list_roots", "{}").await;
    let entry = browser
        .wait_for_text("[data-testid=call-entry]", |t| t.contains("file:///home/ada/project"))
        .await;
    assert!(entry.contains("project"), "{entry}");
    browser.screenshot("console-asks").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_with_a_schema_is_called_through_its_form() {
    let server = everything("streamableHttp");
    let page = console(None);
    let browser = Browser::start().await;
    browser.connect(&page.url, &server.url, "auto").await;
    browser
        .client
        .execute(
            "Array.from(document.querySelectorAll('[data-testid=tool-pick]'))
               .find(b => b.querySelector('[data-testid=tool-name]').textContent === 'get-sum').click()",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // A wrong value is refused in the page, with a sentence beside the field.
    let a = browser.wait_for("[data-testid=call-fields] [data-field-name=a]").await;
    a.send_keys("two").await.unwrap_or_else(|e| panic!("{e}"));
    browser.click("[data-testid=call]").await;
    browser.wait_for_text("[data-testid=call-problem]", |t| t.contains("need fixing")).await;
    a.clear().await.unwrap_or_else(|e| panic!("{e}"));
    a.send_keys("2").await.unwrap_or_else(|e| panic!("{e}"));
    let b = browser.wait_for("[data-testid=call-fields] [data-field-name=b]").await;
    b.send_keys("3.5").await.unwrap_or_else(|e| panic!("{e}"));
    browser.click("[data-testid=call]").await;
    let text = browser.wait_for_text("[data-testid=call-result]", |t| !t.is_empty()).await;
    assert!(text.contains("5.5"), "{text}");
    let args = browser.wait_for_text(".mc-call__args", |t| !t.is_empty()).await;
    assert_eq!(args, r#"{"a":2,"b":3.5}"#, "numbers are sent as numbers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_are_listed_across_every_page() {
    let server = protected_without_auth(&["--page-size", "2"]);
    let page = console(None);
    let browser = Browser::start().await;
    browser.connect(&page.url, &server.url, "auto").await;
    let heading =
        browser.wait_for_text("[data-testid=tools-heading]", |t| t.starts_with("Tools (")).await;
    // Before the reference client asks too: how many pages did the console request?
    let stats: Value =
        serde_json::from_str(&support::http_get(&server.url.replace("/mcp", "/_test/stats")))
            .unwrap_or(Value::Null);
    let pages = stats["byMethod"]["tools/list"].as_u64().unwrap_or(0);
    let mut shown = browser.texts("[data-testid=tool-name]").await;
    let mut expected = reference_tool_names(&server.url);
    assert!(expected.len() >= 5, "the peer has at least five tools, so three pages: {expected:?}");
    assert_eq!(
        pages as usize,
        expected.len().div_ceil(2),
        "one tools/list per page of two: {stats}"
    );
    assert_eq!(heading, format!("Tools ({})", expected.len()));
    shown.sort();
    expected.sort();
    assert_eq!(shown, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_and_embedded_resources_are_shown() {
    let server = everything("streamableHttp");
    let page = console(None);
    let browser = Browser::start().await;
    browser.connect(&page.url, &server.url, "auto").await;
    browser.call_tool("get-tiny-image", "{}").await;
    let img = browser.wait_for("[data-testid=call-image]").await;
    let src = img.attr("src").await.ok().flatten().unwrap_or_default();
    assert!(src.starts_with("data:image/png;base64,iVBOR"), "{}", &src[..src.len().min(40)]);
    let loaded = browser
        .client
        .execute("return document.querySelector('[data-testid=call-image]').naturalWidth", vec![])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.as_u64().is_some_and(|w| w > 0), "the image decoded under the CSP: {loaded}");
    browser
        .call_tool("get-resource-reference", r#"{"resourceType": "Text", "resourceId": 1}"#)
        .await;
    browser
        .wait_for_text("[data-testid=call-entry]", |t| t.contains("demo://resource/dynamic/text/1"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_are_read_and_prompts_fetched_with_their_arguments() {
    let server = everything("streamableHttp");
    let page = console(None);
    let browser = Browser::start().await;
    browser.connect(&page.url, &server.url, "auto").await;
    browser.show("catalog-resources").await;
    browser.wait_for("[data-testid=resource-name]").await;
    let resources = browser.texts("[data-testid=resource-name]").await;
    assert!(resources.iter().any(|r| r == "architecture.md"), "{resources:?}");
    assert!(browser.click_named("[data-testid=resource-read]", "architecture.md").await);
    let text = browser.wait_for_text("[data-testid=call-result]", |t| t.len() > 100).await;
    assert!(text.contains('#'), "the markdown document is shown as text: {}", &text[..80]);

    browser.show("catalog-prompts").await;
    assert!(browser.click_named("[data-testid=prompt-pick]", "args-prompt").await);
    let city = browser.wait_for("[data-testid=prompt-form] [data-field-name=city]").await;
    city.send_keys("Lisbon").await.unwrap_or_else(|e| panic!("{e}"));
    browser.click("[data-testid=prompt-get]").await;
    let entry = browser
        .wait_for_text("[data-testid=call-entry]", |t| {
            t.contains("Lisbon") && t.to_lowercase().contains("user")
        })
        .await;
    assert!(entry.contains("args-prompt"), "{entry}");
}
