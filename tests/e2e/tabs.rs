//! Several servers side by side, each in its own tab with its own connection, sign-in and
//! history: a protected server signed in beside server-everything (behind a recording proxy, which
//! proves no token reached it), both opened from `config.json`'s `ServerUrl` and `Servers`.

use crate::signin::rig;
use crate::support::{Browser, everything, recording_proxy, stats_of};
use serde_json::json;
use std::time::{Duration, Instant};

/// The panel of the tab in front.
const FRONT: &str = "[data-testid=tab-panel]:not([hidden])";

fn in_front(css: &str) -> String {
    format!("{FRONT} {css}")
}

/// The text of every element matching `css`, shown or not (a tab behind is hidden).
async fn contents(b: &Browser, css: &str) -> Vec<String> {
    let texts = b
        .client
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.textContent)",
            vec![json!(css)],
        )
        .await
        .unwrap_or_else(|e| panic!("read {css}: {e}"));
    texts.as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_owned)).collect()
}

/// Calls `echo` with `message` in the tab in front and waits for its result there.
async fn echo_in_front(b: &Browser, message: &str) {
    // "Connected" comes a moment before the tool list: wait for echo to be listed, as a person would.
    let started = Instant::now();
    loop {
        let picked = b
            .client
            .execute(
                "const panel = document.querySelector(arguments[0]);
                 const pick = Array.from(panel.querySelectorAll('[data-testid=tool-pick]'))
                   .find(b => b.querySelector('[data-testid=tool-name]').textContent === 'echo');
                 if (!pick) return false; pick.click(); return true;",
                vec![json!(FRONT)],
            )
            .await
            .unwrap_or_else(|e| panic!("pick echo: {e}"));
        if picked == json!(true) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "no echo tool in the tab in front");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.wait_for(&in_front("[data-testid=call-form]")).await;
    b.client
        .execute(
            "const b = document.querySelector(arguments[0]); if (b) b.click();",
            vec![json!(in_front("[data-testid=view-json]"))],
        )
        .await
        .unwrap_or_else(|e| panic!("switch to JSON: {e}"));
    b.set_value(
        &in_front("[data-testid=call-arguments]"),
        &json!({ "message": message }).to_string(),
    )
    .await;
    b.click(&in_front("[data-testid=call]")).await;
    b.wait_for_text(&in_front("[data-testid=call-done]"), |t| t.contains(message)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_side_by_side_one_signed_in_each_with_its_own_history() {
    let everything = everything("streamableHttp");
    let proxy = recording_proxy(&everything.url);
    let other = format!("{}/mcp", proxy.url);
    let rig = rig(
        &["--auto-approve"],
        json!({ "SignIn": "popup", "Servers": [other], "AutoConnect": true }),
    )
    .await;
    let b = &rig.browser;
    b.client.goto(&rig.page.url).await.unwrap_or_else(|e| panic!("goto: {e}"));
    // Two tabs from config.json; the first, in front, asks for a sign-in.
    b.wait_for_text(&in_front("[data-testid=auth-status]"), |t| t.contains("requires a sign-in"))
        .await;
    let tabs = b.texts("[data-testid=tab]").await;
    assert_eq!(tabs.len(), 2, "{tabs:?}");
    assert!(tabs[1].contains(&proxy.url.replace("http://", "")), "{tabs:?}");
    b.click(&in_front("[data-testid=sign-in]")).await;
    b.wait_for_text(&in_front("[data-testid=auth-status]"), |t| t == "Signed in.").await;
    b.wait_for_text(&in_front("[data-testid=status]"), |t| t.starts_with("Connected to")).await;
    echo_in_front(b, "to the protected server").await;
    // The second tab connected behind it, without a token.
    b.client
        .execute("document.querySelectorAll('[data-testid=tab]')[1].click()", vec![])
        .await
        .unwrap_or_else(|e| panic!("switch tabs: {e}"));
    b.wait_for_text(&in_front("[data-testid=status]"), |t| {
        t.starts_with("Connected to") && t.contains("everything")
    })
    .await;
    b.wait_for_text(&in_front("[data-testid=auth-status]"), |t| t == "Not signed in.").await;
    echo_in_front(b, "to server-everything").await;
    // Each tab keeps its own history.
    let first = contents(b, "#tab-panel-0 [data-testid=call-done]").await;
    let second = contents(b, "#tab-panel-1 [data-testid=call-done]").await;
    assert!(first.len() == 1 && first[0].contains("to the protected server"), "{first:?}");
    assert!(second.len() == 1 && second[0].contains("to server-everything"), "{second:?}");
    b.screenshot("tabs-two-servers").await;
    // Back to the first: still signed in, still connected.
    b.click("#tab-0").await;
    b.wait_for_text(&in_front("[data-testid=auth-status]"), |t| t == "Signed in.").await;
    // Closing it ends its session and revokes and forgets its tokens.
    let sessions_before = rig.server_stats()["sessionsDeleted"].as_u64().unwrap_or(0);
    b.click("[data-testid=tab-close]").await;
    let started = Instant::now();
    while rig.server_stats()["sessionsDeleted"].as_u64().unwrap_or(0) == sessions_before
        || rig.auth_stats()["revocation"]["succeeded"].as_u64().unwrap_or(0) == 0
    {
        assert!(started.elapsed() < Duration::from_secs(10), "not ended: {}", rig.auth_stats());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(b.texts("[data-testid=tab]").await.len(), 1);
    b.wait_for_text(&in_front("[data-testid=status]"), |t| t.contains("everything")).await;
    // Opened again, in a new tab, the protected server needs a new sign-in.
    b.click("[data-testid=tab-new]").await;
    b.set_value(&in_front("[data-testid=server-url]"), &rig.server.url).await;
    b.click(&in_front("[data-testid=connect]")).await;
    b.wait_for_text(&in_front("[data-testid=auth-status]"), |t| t.contains("requires a sign-in"))
        .await;
    // A server open in one tab is not opened in another: its tab comes to the front instead.
    b.click("[data-testid=tab-new]").await;
    b.set_value(&in_front("[data-testid=server-url]"), &other).await;
    b.click(&in_front("[data-testid=connect]")).await;
    let notice = b.wait_for_text(&in_front("[data-testid=notice]"), |t| !t.is_empty()).await;
    assert!(notice.contains("already open in another tab"), "{notice}");
    assert!(b.texts(&in_front("[data-testid=call-done]")).await.len() == 1, "its own tab");
    let seen = stats_of(&proxy.url);
    assert!(seen["requests"].as_u64().unwrap_or(0) >= 3, "{seen}");
    assert_eq!(seen["withAuthorization"], json!(0), "server-everything was sent a token: {seen}");
    let log = b.console_log().await;
    assert!(!log.contains("panicked"), "{log}");
}
