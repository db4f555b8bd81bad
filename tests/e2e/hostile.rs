//! Hostile strings, end to end: a server whose every string is script tags, event handlers, SVG
//! with script, `javascript:` and `data:text/html` links, right-to-left overrides, a lone
//! surrogate or a 1 MB name (`tests/peers/hostile-strings.mjs`). Its tools, descriptions, results,
//! errors, resources, prompts, instructions and history are all shown; none of it runs (it would
//! set `window.__xss`), no element it names appears, and the layout holds.

use crate::support::{Browser, console, hostile_strings_peer};
use serde_json::{Value, json};

/// Clicks every element `css` matches in the tab in front, in turn.
async fn click_all(b: &Browser, css: &str) -> usize {
    let n = b
        .client
        .execute(
            "const all = document.querySelectorAll('[data-testid=tab-panel]:not([hidden]) ' + arguments[0]);
             all.forEach((e) => e.click()); return all.length;",
            vec![json!(css)],
        )
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
    n.as_u64().unwrap_or(0) as usize
}

/// What would show that some of it was taken as markup or code, as JSON.
async fn traces_of_markup(b: &Browser) -> Value {
    b.client
        .execute(
            "return {
               xss: window.__xss ?? null,
               scripts: document.scripts.length,
               frames: Array.from(document.querySelectorAll('iframe')).map((f) => f.outerHTML.slice(0, 80)),
               handlers: document.querySelectorAll('[onerror], [onload], svg').length,
               links: Array.from(document.querySelectorAll('a[href]'))
                 .map((a) => a.getAttribute('href'))
                 .filter((h) => /^(javascript|data:text)/i.test(h)),
               overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
               // The work pane's parts: nothing wider than they are.
               wide: Array.from(document.querySelectorAll(
                   '[data-testid=tab-panel]:not([hidden]) :is(.mc-call-list, .mc-call-form, .mc-catalog__view, .mc-pane)'))
                 .filter((e) => e.getClientRects().length && e.scrollWidth > e.clientWidth + 1)
                 .map((e) => e.className),
             }",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_strings_everywhere_are_shown_as_inert_text() {
    let page = console(None);
    let origin = page.url.trim_end_matches('/').to_owned();
    let server = hostile_strings_peer(&origin);
    let b = Browser::start().await;
    b.connect(&page.url, &server.url, "auto").await;
    b.wait_for_text("[data-testid=tools-heading]", |t| t == "Tools (11)").await;
    let scripts_before = traces_of_markup(&b).await["scripts"].clone();

    // Every tool called, its result (text and a link named by the corpus) shown.
    let names = b
        .client
        .execute(
            "return Array.from(document.querySelectorAll('[data-testid=tool-name]')).map((n) => n.textContent)",
            vec![],
        )
        .await
        .unwrap_or(Value::Null);
    let names: Vec<String> = serde_json::from_value(names).unwrap_or_default();
    assert!(names.iter().any(|n| n.contains("<script>")), "shown as written: {:?}", names.first());
    for name in
        ["tool_0<script>window.__xss = \"script tag\"</script>", "tool_fails", "tool_throws"]
    {
        b.call_tool(name, "{}").await;
    }
    let started = std::time::Instant::now();
    while b.texts("[data-testid=call-entry]").await.len() < 3 {
        assert!(started.elapsed().as_secs() < 20, "the calls never ended");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let shown = b.texts("[data-testid=call-entry]").await.join("\n");
    assert!(shown.contains("<script>window.__xss = \"script tag\"</script>"), "{shown}");
    assert!(shown.contains("javascript:window.__xss"), "the error's text is shown: {shown}");
    // The one with a 1 MB name, called too; its row stays one line.
    let huge = names.iter().find(|n| n.len() > 1 << 20).cloned().unwrap_or_default();
    b.call_tool(&huge, "{}").await;
    b.wait_for_text("[data-testid=call-result]", |t| t.len() > 1 << 20).await;

    // Every resource read and every prompt fetched.
    b.show("catalog-resources").await;
    assert_eq!(click_all(&b, "[data-testid=resource-read]").await, 8);
    b.show("catalog-prompts").await;
    for i in 0..8 {
        b.client
            .execute(
                "document.querySelectorAll('[data-testid=prompt-pick]')[arguments[0]].click()",
                vec![json!(i)],
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        b.click("[data-testid=prompt-get]").await;
    }
    // The history, every entry opened; the server's card with its instructions.
    b.show("pane-History").await;
    click_all(&b, "[data-testid=history-open]").await;
    b.show("pane-Server").await;
    b.click("[data-testid=tab-panel]:not([hidden]) .mc-instructions summary").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    b.screenshot("hostile-strings").await;

    let traces = traces_of_markup(&b).await;
    assert_eq!(traces["xss"], json!(null), "some of it ran: {traces}");
    assert_eq!(traces["scripts"], scripts_before, "a script element appeared: {traces}");
    assert_eq!(traces["frames"], json!([]), "a frame appeared: {traces}");
    assert_eq!(traces["handlers"], json!(0), "an element with a handler appeared: {traces}");
    assert_eq!(traces["links"], json!([]), "a link to script appeared: {traces}");
    assert_eq!(traces["overflow"], json!(0), "the page runs off the side: {traces}");
    assert_eq!(traces["wide"], json!([]), "a pane runs off its side: {traces}");
    // The list's rows keep their height, the 1 MB name among them.
    b.show("catalog-tools").await;
    let heights = b
        .client
        .execute(
            "return Array.from(document.querySelectorAll('[data-testid=tool]')).map((r) => r.offsetHeight)",
            vec![],
        )
        .await
        .unwrap_or(Value::Null);
    let heights: Vec<u64> = serde_json::from_value(heights).unwrap_or_default();
    assert!(!heights.is_empty() && heights.iter().all(|h| *h == heights[0]), "{heights:?}");
    let log = b.console_log().await;
    assert!(!log.contains("panicked"), "{log}");
}
