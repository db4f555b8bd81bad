//! What a tool declares of itself, end to end against the 2026-07-28 peer: a destructive tool asks
//! before it runs (declined, then run; the setting turns the question off), and a result that
//! breaks the tool's output schema lists each violation.

use crate::support::{Browser, console, modern_peer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destructive_tool_asks_first_and_an_output_schema_violation_is_listed() {
    let page = console(None);
    let origin = page.url.trim_end_matches('/').to_owned();
    let server = modern_peer(&origin, &[]);
    let b = Browser::start().await;
    b.connect(&page.url, &server.url, "auto").await;
    // Declined: nothing runs.
    b.call_tool("erase_note", r#"{"note": "groceries"}"#).await;
    let asked = b.wait_for_text("[data-testid=call-confirm]", |t| !t.is_empty()).await;
    assert!(asked.contains("may delete or change things"), "{asked}");
    let hints = b.wait_for_text("[data-testid=tool-hints]", |t| !t.is_empty()).await;
    assert_eq!(hints, "destructive · idempotent");
    b.click("[data-testid=call-confirm-cancel]").await;
    assert!(b.texts("[data-testid=call-confirm]").await.is_empty());
    assert!(b.texts("[data-testid=call-entry]").await.is_empty(), "declined: no call");
    // Confirmed: it runs.
    b.click("[data-testid=call]").await;
    b.click("[data-testid=call-confirm-run]").await;
    b.wait_for_text("[data-testid=call-result]", |t| t == "Erased groceries (pretend).").await;
    // With the question turned off, it runs at once.
    b.click("[data-testid=ask-first]").await;
    b.click("[data-testid=call]").await;
    let started = std::time::Instant::now();
    while b.texts("[data-testid=call-done]").await.len() < 2 {
        assert!(b.texts("[data-testid=call-confirm]").await.is_empty(), "asked again");
        assert!(started.elapsed().as_secs() < 20, "the second call never finished");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A result that breaks the declared output schema: each violation, where it is.
    b.call_tool("count_words", r#"{"text": "one two three"}"#).await;
    let listed = b.wait_for_text("[data-testid=output-violations]", |t| !t.is_empty()).await;
    assert!(listed.contains("/count") && listed.contains("Must be integer, is string"), "{listed}");
    assert!(listed.contains("\"words\" is required"), "{listed}");
    b.screenshot("tools-output-violations").await;
}
