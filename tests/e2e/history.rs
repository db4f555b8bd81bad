//! The history of a signed-in server's traffic: filtered by method, exported and parsed back, a
//! request copied as curl and run with a real token in the placeholder (the same answer comes
//! back), a call replayed through the call form, and the cap.

use crate::signin::rig;
use crate::support::http_post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_is_filtered_exported_copied_as_curl_that_runs_and_replayed() {
    let rig = rig(&["--auto-approve"], json!({ "SignIn": "popup" })).await;
    rig.open_and_sign_in().await;
    rig.echo("from the history").await;
    let b = &rig.browser;
    b.show("pane-History").await;
    // Only tools/call: the request and its answer, newest first.
    b.client
        .execute(
            "const s = document.querySelector('[data-testid=history-method]');
             s.value = 'tools/call'; s.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("choose the method: {e}"));
    let rows = b.texts("[data-testid=history-open]").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[0].starts_with("← tools/call result") && rows[0].contains(" ms"), "{rows:?}");
    assert!(rows[1].starts_with("→ tools/call request"), "{rows:?}");
    // Exported, and parsed back.
    b.click("[data-testid=history-export]").await;
    let href = b
        .client
        .execute(
            "return document.querySelector('[data-testid=history-export]').getAttribute('href')",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let encoded = href.strip_prefix("data:application/json;base64,").unwrap_or_default();
    let bytes = STANDARD.decode(encoded).unwrap_or_else(|e| panic!("{e}: {href}"));
    let doc: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(doc["server"], json!(rig.server.url));
    let entries = doc["entries"].as_array().cloned().unwrap_or_default();
    let call = entries
        .iter()
        .find(|e| e["method"] == "tools/call" && e["kind"] == "request")
        .unwrap_or_else(|| panic!("no call in {doc}"));
    assert_eq!(call["message"]["params"]["arguments"]["message"], json!("from the history"));
    assert!(entries.iter().any(|e| e["method"] == "initialize" && e["kind"] == "result"));
    assert!(!String::from_utf8_lossy(&bytes).contains("Bearer ey"), "no token in the export");
    // The request as curl: the bearer is a placeholder; with a real token it gets the same
    // answer the page showed.
    b.client
        .execute("document.querySelectorAll('[data-testid=history-open]')[1].click()", vec![])
        .await
        .unwrap_or_else(|e| panic!("open: {e}"));
    let curl = b.wait_for_text("[data-testid=history-curl]", |t| !t.is_empty()).await;
    assert!(curl.contains("Bearer $MCP_TOKEN") && !curl.contains("Bearer ey"), "{curl}");
    let token: Value =
        serde_json::from_str(&http_post(&format!("{}/_test/token?sub=alice", rig.auth.url)))
            .unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new("sh")
        .args(["-c", &curl])
        .env("MCP_TOKEN", token["access_token"].as_str().unwrap_or_default())
        .output()
        .unwrap_or_else(|e| panic!("curl: {e}"));
    let answered = String::from_utf8_lossy(&out.stdout);
    let data = answered
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .map(str::to_owned)
        .unwrap_or_else(|| answered.to_string());
    let answer: Value = serde_json::from_str(&data).unwrap_or_else(|e| panic!("{e}: {answered}"));
    assert_eq!(answer["result"]["content"][0]["text"], json!("from the history"), "{answer}");
    // Replayed into the call form, and called again.
    b.click("[data-testid=history-replay]").await;
    b.click("[data-testid=view-json]").await;
    let args = b
        .client
        .execute("return document.querySelector('[data-testid=call-arguments]').value", vec![])
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    assert!(args.contains("\"message\": \"from the history\""), "{args}");
    b.click("[data-testid=call]").await;
    let started = std::time::Instant::now();
    while b.texts("[data-testid=call-done]").await.len() < 2 {
        assert!(started.elapsed().as_secs() < 20, "the replayed call never finished");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // The cap drops the oldest and says so.
    b.set_value("[data-testid=history-cap]", "10").await;
    b.client
        .execute(
            "document.querySelector('[data-testid=history-cap]').dispatchEvent(new Event('change'))",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("cap: {e}"));
    let count = b.wait_for_text("[data-testid=history-count]", |t| t.contains("dropped")).await;
    assert!(count.starts_with("10 messages ("), "{count}");
    let log = b.console_log().await;
    assert!(!log.contains("panicked"), "{log}");
}
