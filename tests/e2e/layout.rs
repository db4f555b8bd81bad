//! The console's shape, end to end: at 1280×800 the list sits beside the work pane with the
//! request and its result side by side and nothing to scroll past; at 400×700 nothing runs off the
//! side; every view in light and dark is photographed (`artifacts/screenshots/`); every control
//! has an accessible name; and the keys work: `/` finds a tool, Ctrl+Enter calls, Escape takes a
//! question back.

use crate::support::{Browser, artifacts, console, everything, modern_peer};
use serde_json::{Value, json};

/// The controls on show without an accessible name (aria-label, aria-labelledby, a label, their
/// own text or a title; a placeholder does not count), as the start of their HTML.
const UNNAMED: &str = r#"
    const named = (e) => {
      if ((e.getAttribute('aria-label') || '').trim()) return true;
      const by = (e.getAttribute('aria-labelledby') || '').split(/\s+/);
      if (by.some((id) => id && (document.getElementById(id)?.textContent || '').trim())) return true;
      if (e.labels && Array.from(e.labels).some((l) => l.textContent.trim())) return true;
      const own = e.tagName === 'BUTTON' || e.tagName === 'A' || e.getAttribute('role') === 'tab';
      if (own && e.textContent.trim()) return true;
      return !!(e.getAttribute('title') || '').trim();
    };
    return Array.from(document.querySelectorAll('button, input, select, textarea, a[href], [role=tab]'))
      .filter((e) => e.getClientRects().length > 0 && !named(e))
      .map((e) => e.outerHTML.slice(0, 160));
"#;

/// Where `css` (the first match in the tab in front) is drawn: [left, top, right, bottom].
async fn rect(b: &Browser, css: &str) -> [f64; 4] {
    let r = b
        .client
        .execute(
            "const e = document.querySelector('[data-testid=tab-panel]:not([hidden]) ' + arguments[0]);
             if (!e) return null; const r = e.getBoundingClientRect();
             return [r.left, r.top, r.right, r.bottom];",
            vec![json!(css)],
        )
        .await
        .unwrap_or(Value::Null);
    let n = |i: usize| r[i].as_f64().unwrap_or_else(|| panic!("{css} is not drawn: {r}"));
    [n(0), n(1), n(2), n(3)]
}

/// Resizes the window until the page itself is `width`×`height` pixels.
async fn viewport(b: &Browser, width: i64, height: i64) {
    let mut size = (width, height);
    for _ in 0..3 {
        b.client
            .set_window_size(size.0 as u32, size.1 as u32)
            .await
            .unwrap_or_else(|e| panic!("resize: {e}"));
        let inner = b
            .client
            .execute("return [innerWidth, innerHeight]", vec![])
            .await
            .unwrap_or(Value::Null);
        let (w, h) = (inner[0].as_i64().unwrap_or(0), inner[1].as_i64().unwrap_or(0));
        if (w, h) == (width, height) {
            return;
        }
        size = (size.0 + width - w, size.1 + height - h);
    }
    panic!("the page never became {width}×{height}");
}

/// Sets the theme by pressing the toggle until the page shows `theme`.
async fn theme(b: &Browser, theme: &str) {
    for _ in 0..3 {
        let now = b
            .client
            .execute("return document.documentElement.dataset.theme || ''", vec![])
            .await
            .unwrap_or(Value::Null);
        if now == json!(theme) {
            return;
        }
        b.click("[data-testid=theme]").await;
    }
    panic!("the toggle never reached {theme}");
}

/// The page's background, as the browser computed it.
async fn background(b: &Browser) -> String {
    let c = b.client.execute("return getComputedStyle(document.body).backgroundColor", vec![]);
    c.await.ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_view_fits_both_sizes_in_both_themes_and_every_control_is_named() {
    let server = everything("streamableHttp");
    let page = console(None);
    let b = Browser::start().await;
    viewport(&b, 1280, 800).await;
    b.connect(&page.url, &server.url, "auto").await;
    b.call_tool("echo", r#"{"message": "side by side"}"#).await;
    b.wait_for_text("[data-testid=call-result]", |t| t.contains("side by side")).await;

    // At 1280×800 the tools are in sight at once, beside the work pane; the request and its
    // result side by side; the page itself does not scroll (its parts do).
    let filter = rect(&b, "[data-testid=tool-filter]").await;
    assert!(filter[1] < 260.0, "the tool filter starts {}px down", filter[1]);
    let (form, calls) =
        (rect(&b, "[data-testid=call-form]").await, rect(&b, "[data-testid=calls]").await);
    assert!(filter[2] <= form[0], "the list is beside the form: {filter:?} {form:?}");
    assert!(form[2] <= calls[0], "the result is beside the request: {form:?} {calls:?}");
    let page_height =
        b.client.execute("return document.documentElement.scrollHeight", vec![]).await;
    assert!(page_height.ok().and_then(|h| h.as_i64()).unwrap_or(9_999) <= 800, "the page scrolls");

    // The theme: the toggle sets it, and the colours follow.
    theme(&b, "light").await;
    let light = background(&b).await;
    theme(&b, "dark").await;
    assert_ne!(background(&b).await, light, "dark is not light");

    let shots = artifacts().join("screenshots");
    std::fs::create_dir_all(&shots).unwrap_or_else(|e| panic!("{e}"));
    // Each main view: how to bring it forward.
    let views: [(&str, &[&str]); 7] = [
        ("tools", &["catalog-tools"]),
        ("resources", &["catalog-resources"]),
        ("prompts", &["catalog-prompts"]),
        ("history", &["catalog-tools", "pane-History"]),
        ("log", &["pane-Log"]),
        ("sign-in", &["pane-Sign-in"]),
        ("server", &["pane-Server"]),
    ];
    let mut unnamed = Vec::new();
    for (width, height) in [(1280, 800), (400, 700)] {
        viewport(&b, width, height).await;
        for colours in ["light", "dark"] {
            theme(&b, colours).await;
            for (name, presses) in views {
                for press in presses {
                    b.show(press).await;
                }
                if name == "tools" {
                    let open = "document.querySelector('[data-testid=tool-pick]').click()";
                    b.client.execute(open, vec![]).await.unwrap_or_else(|e| panic!("{e}"));
                }
                if name == "prompts" {
                    b.click_named("[data-testid=prompt-pick]", "simple-prompt").await;
                }
                if name == "history" {
                    b.client
                        .execute(
                            "document.querySelector('[data-testid=history-open]').click()",
                            vec![],
                        )
                        .await
                        .unwrap_or_else(|e| panic!("{e}"));
                }
                // In a narrow window the page scrolls: bring what was opened into sight.
                let shown =
                    if name.starts_with(['t', 'r', 'p']) { ".mc-catalog" } else { ".mc-drawer" };
                b.client
                    .execute(
                        "document.querySelector('[data-testid=tab-panel]:not([hidden]) ' + arguments[0]).scrollIntoView()",
                        vec![json!(shown)],
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                if (width, colours) == (1280, "light") {
                    let found = b.client.execute(UNNAMED, vec![]).await.unwrap_or(Value::Null);
                    for html in found.as_array().into_iter().flatten() {
                        unnamed.push(format!("{name}: {}", html.as_str().unwrap_or_default()));
                    }
                }
                let png = b.client.screenshot().await.unwrap_or_else(|e| panic!("screenshot: {e}"));
                let path = shots.join(format!("{name}-{width}x{height}-{colours}.png"));
                std::fs::write(&path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
            // Leave the panes closed for the next round.
            b.show("pane-Server").await;
            b.click("[data-testid=tab-panel]:not([hidden]) [data-testid=pane-Server]").await;
        }
        if width == 400 {
            let over = b
                .client
                .execute(
                    "const d = document.documentElement; return d.scrollWidth - d.clientWidth",
                    vec![],
                )
                .await
                .ok()
                .and_then(|w| w.as_i64());
            assert_eq!(over, Some(0), "nothing runs off the side at 400 pixels");
        }
    }
    assert!(unnamed.is_empty(), "controls without an accessible name: {unnamed:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_finds_a_tool_ctrl_enter_calls_and_escape_takes_the_question_back() {
    let page = console(None);
    let origin = page.url.trim_end_matches('/').to_owned();
    let server = modern_peer(&origin, &[]);
    let b = Browser::start().await;
    b.connect(&page.url, &server.url, "auto").await;
    b.wait_for("[data-testid=tool-name]").await;
    // `/` from anywhere but a field opens the tool filter, even with another list shown.
    b.show("catalog-prompts").await;
    b.client.execute("document.activeElement.blur()", vec![]).await.unwrap_or_default();
    use fantoccini::actions::InputSource;
    let slash = fantoccini::actions::KeyActions::new("keys".into())
        .then(fantoccini::actions::KeyAction::Down { value: '/' })
        .then(fantoccini::actions::KeyAction::Up { value: '/' });
    b.client.perform_actions(slash).await.unwrap_or_else(|e| panic!("press /: {e}"));
    // The filter is focused once the page has drawn the list again.
    let started = std::time::Instant::now();
    loop {
        let focused = b
            .client
            .execute("return document.activeElement.dataset.testid || ''", vec![])
            .await
            .unwrap_or(Value::Null);
        if focused == json!("tool-filter") {
            break;
        }
        assert!(started.elapsed().as_secs() < 5, "/ left the focus on {focused}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    b.client.active_element().await.unwrap_or_else(|e| panic!("{e}")).send_keys("erase").await.ok();
    let shown = b.texts("[data-testid=tool-name]").await;
    assert_eq!(shown, ["erase_note"], "the filter took what was typed after /");

    // Ctrl+Enter in a field calls; for a destructive tool that is the question first, and
    // Escape takes it back without running anything.
    b.click("[data-testid=tool-pick]").await;
    let field = b.wait_for("[data-testid=call-form] [data-field-name=note]").await;
    field.send_keys("groceries\u{E009}\u{E007}").await.unwrap_or_else(|e| panic!("{e}"));
    b.wait_for("[data-testid=call-confirm]").await;
    b.client
        .active_element()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .send_keys("\u{E00C}")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let started = std::time::Instant::now();
    while !b.texts("[data-testid=call-confirm]").await.is_empty() {
        assert!(started.elapsed().as_secs() < 5, "Escape left the question open");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(b.texts("[data-testid=call-entry]").await.is_empty(), "nothing ran");
    // Turned off, Ctrl+Enter runs it.
    b.click("[data-testid=ask-first]").await;
    let field = b.wait_for("[data-testid=call-form] [data-field-name=note]").await;
    field.send_keys("\u{E009}\u{E007}").await.unwrap_or_else(|e| panic!("{e}"));
    b.wait_for_text("[data-testid=call-result]", |t| t == "Erased groceries (pretend).").await;
}
