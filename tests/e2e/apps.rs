//! MCP Apps end to end: the `ext-apps` project's example server shows its app in the console's
//! sandbox, the app calls a tool through the bridge (the call shows in the list), sends a message,
//! asks to open a link (declined) and sizes its frame; a hostile app on the 2026-07-28 peer cannot
//! read the console's document, memory, cookies or storage, and its forged call runs nothing.

use crate::support::{Browser, app_peer, console, modern_peer};
use fantoccini::Locator;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Enters the app inside the console's frame for it (sandbox.html, then the app's own frame).
async fn enter_app(b: &Browser) {
    let outer = b.wait_for("[data-testid=app-frame]").await;
    outer.enter_frame().await.unwrap_or_else(|e| panic!("enter sandbox.html: {e}"));
    let inner = b.wait_for("iframe").await;
    inner.enter_frame().await.unwrap_or_else(|e| panic!("enter the app: {e}"));
}

async fn leave_app(b: &Browser) {
    for _ in 0..2 {
        b.client.enter_parent_frame().await.unwrap_or_else(|e| panic!("back to the console: {e}"));
    }
}

/// The text of `css` in the current frame (hidden or not).
async fn text_in_frame(b: &Browser, css: &str) -> String {
    match b.client.find(Locator::Css(css)).await {
        Ok(el) => el.prop("textContent").await.ok().flatten().unwrap_or_default(),
        Err(_) => String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_is_shown_in_its_sandbox_and_calls_a_tool_through_the_bridge() {
    let server = app_peer();
    let page = console(None);
    let b = Browser::start().await;
    b.connect(&page.url, &server.url, "auto").await;
    b.call_tool("get-time", "{}").await;
    let frame = b.wait_for("[data-testid=app-frame]").await;
    // The frame is sandboxed without same-origin: the app's origin is opaque.
    assert_eq!(frame.attr("sandbox").await.ok().flatten().as_deref(), Some("allow-scripts"));

    // The app got the call's result through the bridge.
    enter_app(&b).await;
    let started = Instant::now();
    let mut shown = String::new();
    while started.elapsed() < Duration::from_secs(15) {
        shown = text_in_frame(&b, "#server-time").await;
        if shown.starts_with("20") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(shown.starts_with("20"), "the app never showed the tool's time: {shown:?}");
    // A tool call from the app: it goes to the server and shows in the console's list.
    b.click("#get-time-btn").await;
    leave_app(&b).await;
    b.wait_for_text("[data-testid=call-by-app]", |t| t.contains("ui://get-time/mcp-app.html"))
        .await;
    // A message from the app is shown to the person.
    enter_app(&b).await;
    b.set_value("#message-text", "hello from the app").await;
    b.click("#send-message-btn").await;
    // A link is opened only if the person says so.
    b.click("#open-link-btn").await;
    leave_app(&b).await;
    let said = b.wait_for_text("[data-testid=app-messages]", |t| !t.is_empty()).await;
    assert!(said.contains("The app says: hello from the app"), "{said}");
    let url = b.wait_for_text("[data-testid=app-link-url]", |t| !t.is_empty()).await;
    assert!(url.starts_with("https://"), "{url}");
    b.click("[data-testid=app-link-decline]").await;
    assert!(b.texts("[data-testid=app-link]").await.is_empty());
    // The app sized its frame.
    let height = b.wait_for("[data-testid=app-frame]").await.css_value("height").await;
    assert_ne!(height.unwrap_or_default(), "160px", "the app never said its size");
    b.screenshot("apps-basic").await;
    let windows = b.client.windows().await.unwrap_or_default();
    assert_eq!(windows.len(), 1, "no window was opened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_app_reads_nothing_of_the_console_and_its_forged_call_runs_nothing() {
    let page = console(None);
    let origin = page.url.trim_end_matches('/').to_owned();
    let server = modern_peer(&origin, &[]);
    let b = Browser::start().await;
    b.connect(&page.url, &server.url, "auto").await;
    // Something to steal.
    b.client
        .execute(
            "document.cookie = 'session=secret'; localStorage.setItem('kept', 'secret')",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    b.call_tool("hostile_app", "{}").await;
    let said = b.wait_for_text("[data-testid=app-messages]", |t| !t.is_empty()).await;
    for probe in [
        "parent document",
        "console document",
        "console memory",
        "console storage",
        "cookies",
        "localStorage",
        "sessionStorage",
    ] {
        assert!(said.contains(&format!("{probe}: blocked")), "{probe}: {said}");
    }
    assert!(!said.contains("READ"), "{said}");
    let pwned = b.client.execute("return window.__pwned ?? null", vec![]).await;
    assert_eq!(pwned.unwrap_or(Value::Null), json!(null), "the app wrote into the console");
    // The forged tools/call posted around the proxy ran nothing.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let called = b.texts("[data-testid=call-entry] .mc-tool__name").await;
    assert!(!called.iter().any(|name| name == "bump"), "{called:?}");
    b.screenshot("apps-hostile").await;
}
