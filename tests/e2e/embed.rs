//! A portal drives the console it frames, end to end: the example host page of the docs
//! (`docs/embed-host.html`), on another loopback origin listed in `EmbedOrigins`, sets the server,
//! connects and calls a tool, and hears each step; a page on an origin not listed frames the
//! console too, and its messages are ignored, counted in the page and never answered.

use crate::support::{
    Browser, artifacts, authserver, console, console_on, everything, free_port, protected, root,
    static_dir, stats_of,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The events the example host page received from the console, newest first, parsed.
async fn received(b: &Browser) -> Vec<Value> {
    b.texts("#events li")
        .await
        .iter()
        .filter_map(|line| line.strip_prefix("received "))
        .filter_map(|text| serde_json::from_str(text).ok())
        .collect()
}

/// Waits until the host page received an event `ok` accepts, and returns it.
async fn event(b: &Browser, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        if let Some(found) = received(b).await.into_iter().find(&ok) {
            return found;
        }
        let seen = received(b).await;
        assert!(started.elapsed() < Duration::from_secs(20), "no {what} event; seen: {seen:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens the example host page and has it frame the console at `console`, until it says `ready`.
async fn host_loads_console(b: &Browser, portal: &crate::support::Peer, console: &str) {
    b.client
        .goto(&format!("{}embed-host.html", portal.url))
        .await
        .unwrap_or_else(|e| panic!("goto portal: {e}"));
    b.set_value("#console-url", console).await;
    b.click("#frame-form button").await;
    event(b, "ready", |e| e["type"] == "ready").await;
}

/// The docs' example host page, served as it is on `port`.
fn example_host(port: u16) -> crate::support::Peer {
    let dir = artifacts().join(format!("embed-portal-{port}"));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    for file in ["embed-host.html", "embed-host.js"] {
        std::fs::copy(root().join("docs").join(file), dir.join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    static_dir(&dir, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_host_page_drives_the_console_and_an_unlisted_one_is_ignored() {
    let server = everything("streamableHttp");
    let (portal_port, rogue_port) = (free_port(), free_port());
    let portal_origin = format!("http://127.0.0.1:{portal_port}");
    let page = console(Some(json!({ "EmbedOrigins": [portal_origin] })));

    // The listed portal serves the docs' example host page as it is.
    let portal = example_host(portal_port);
    // The unlisted one frames the console and tries the same commands, noting any answer.
    let rogue_dir = artifacts().join(format!("embed-rogue-{rogue_port}"));
    std::fs::create_dir_all(&rogue_dir).unwrap_or_else(|e| panic!("{e}"));
    let rogue = format!(
        r#"<!doctype html><title>Not listed</title>
<iframe id="c" src="{console}?embed=1" style="width:400px;height:700px"></iframe>
<script>
  window.answers = [];
  addEventListener("message", (e) => window.answers.push(e.data));
  document.getElementById("c").addEventListener("load", () => setTimeout(() => {{
    const w = document.getElementById("c").contentWindow;
    for (const m of [
      {{ mcpConsole: 1, type: "setServer", id: "r1", server: "{server}" }},
      {{ mcpConsole: 1, type: "connect", id: "r2" }},
      {{ mcpConsole: 1, type: "callTool", id: "r3", name: "echo", arguments: {{ message: "stolen" }} }},
    ]) w.postMessage(m, "*");
  }}, 1500));
</script>"#,
        console = page.url,
        server = server.url,
    );
    std::fs::write(rogue_dir.join("index.html"), rogue).unwrap_or_else(|e| panic!("{e}"));
    let rogue = static_dir(&rogue_dir, rogue_port);

    let b = Browser::start().await;
    host_loads_console(&b, &portal, &page.url).await;
    b.set_value("#server-url", &server.url).await;
    b.click("#server-form button[type=submit]").await;
    b.click("#connect").await;
    let connected =
        event(&b, "connection", |e| e["type"] == "connection" && e["state"] == "connected").await;
    assert_eq!(connected["server"], json!(server.url));
    b.click("#call-form button").await;
    let result = event(&b, "callResult", |e| e["type"] == "callResult").await;
    assert_eq!(result["result"]["content"][0]["text"], json!("Echo: hello from the portal"));
    let started = event(&b, "callStarted", |e| e["type"] == "callStarted").await;
    assert_eq!((&started["id"], &started["name"]), (&result["id"], &json!("echo")));
    // Nothing the console said holds its state beyond what the API names.
    for e in received(&b).await {
        assert_eq!(e["mcpConsole"], json!(1), "{e}");
    }
    b.screenshot("embed-host-page").await;

    // Inside the frame: the compact console shows the host's call like the person's own.
    let frame = b.wait_for("#console").await;
    frame.enter_frame().await.unwrap_or_else(|e| panic!("enter frame: {e}"));
    let bar = b.wait_for(".mc-header").await;
    assert!(!bar.is_displayed().await.unwrap_or(true), "no top bar with ?embed=1");
    b.wait_for_text("[data-testid=call-done]", |t| t.contains("hello from the portal")).await;
    b.client.enter_parent_frame().await.unwrap_or_else(|e| panic!("{e}"));

    // The unlisted page: its three messages counted, none acted on, none answered.
    b.client.goto(&rogue.url).await.unwrap_or_else(|e| panic!("goto rogue: {e}"));
    let frame = b.wait_for("#c").await;
    frame.enter_frame().await.unwrap_or_else(|e| panic!("enter frame: {e}"));
    let said = b.wait_for_text("[data-testid=embed-refused]", |t| t.contains('3')).await;
    assert_eq!(
        said,
        "Ignored 3 message(s): 3 from a page this console's configuration does not list."
    );
    // In a 400-pixel-wide frame nothing runs off the side.
    let over = b
        .client
        .execute("const d = document.documentElement; return d.scrollWidth - d.clientWidth", vec![])
        .await
        .unwrap_or(Value::Null);
    assert_eq!(over, json!(0), "the compact console does not fit 400 pixels");
    let url = b.wait_for("[data-testid=server-url]").await;
    assert_eq!(url.prop("value").await.ok().flatten().unwrap_or_default(), "");
    assert!(b.texts("[data-testid=call-done]").await.is_empty(), "nothing was called");
    b.client.enter_parent_frame().await.unwrap_or_else(|e| panic!("{e}"));
    let answers = b.client.execute("return window.answers", vec![]).await.unwrap_or(Value::Null);
    assert_eq!(answers, json!([]), "the console answered a page it does not list");
}

/// The host's sign-in settings are a proposal: the person confirms them inside the frame, where
/// the console says they came from the page it is embedded in, and the authorization server hears
/// nothing before. Confirmed, the sign-in runs in a popup, and the host's call gets its result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hosts_sign_in_settings_are_confirmed_by_the_person_inside_the_frame() {
    let (port, portal_port) = (free_port(), free_port());
    let origin = format!("http://127.0.0.1:{port}");
    let (auth, info) = authserver(&origin, &["--entra-strict", "--auto-approve"]);
    let server = protected(&info, &origin);
    let allowed = format!("http://127.0.0.1:{}/", info["port"]);
    let config = json!({
        "AllowedAuthorities": [allowed],
        "EmbedOrigins": [format!("http://127.0.0.1:{portal_port}")],
    });
    let page = console_on(port, Some(config));
    let portal = example_host(portal_port);
    let b = Browser::start().await;
    host_loads_console(&b, &portal, &page.url).await;
    b.set_value("#server-url", &server.url).await;
    b.set_value("#instance", &allowed).await;
    b.set_value("#tenant", info["tenant"].as_str().unwrap_or_default()).await;
    b.set_value("#client-id", info["clientId"].as_str().unwrap_or_default()).await;
    b.set_value("#scopes", info["scope"].as_str().unwrap_or_default()).await;
    b.click("#server-form button[type=submit]").await;
    b.click("#connect").await;
    event(&b, "signIn confirming", |e| e["type"] == "signIn" && e["state"] == "confirming").await;

    let frame = b.wait_for("#console").await;
    frame.enter_frame().await.unwrap_or_else(|e| panic!("enter frame: {e}"));
    let asked = b.wait_for_text("[data-testid=signin-confirm]", |t| !t.is_empty()).await;
    assert!(asked.contains("from the page this console is embedded in"), "{asked}");
    let before = stats_of(&auth.url);
    assert_eq!(before["browserRequests"], json!(0), "asked before the confirmation: {before}");
    b.screenshot("embed-confirmation").await;
    b.click("[data-testid=signin-confirm-accept]").await;
    b.wait_for_text("[data-testid=auth-status]", |t| t == "Signed in.").await;
    b.client.enter_parent_frame().await.unwrap_or_else(|e| panic!("{e}"));
    event(&b, "signIn signedIn", |e| e["type"] == "signIn" && e["state"] == "signedIn").await;
    event(&b, "connection", |e| e["type"] == "connection" && e["state"] == "connected").await;
    b.set_value("#arguments", r#"{"message": "signed in for the portal"}"#).await;
    b.click("#call-form button").await;
    let result = event(&b, "callResult", |e| e["type"] == "callResult").await;
    assert_eq!(result["result"]["content"][0]["text"], json!("signed in for the portal"));
    let shown = b.texts("#events li").await.join("\n");
    assert!(!shown.contains("eyJ"), "a token reached the host page: {shown}");
}
