//! Resource templates and prompts end to end against server-everything: the template's form, the
//! server's suggestions while typing a variable or a prompt's argument (the second narrowed by the
//! first), the expanded URI read, and a binary resource offered for download.

use crate::support::{Browser, console, everything};

/// The values the datalist of the template's fields offers now.
async fn suggested(b: &Browser) -> Vec<String> {
    let values = b
        .client
        .execute(
            "return Array.from(document.querySelectorAll('[data-testid=template-suggestions] option')).map(o => o.value)",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("read the suggestions: {e}"));
    values.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect()
}

async fn open_template(b: &Browser, name: &str) {
    assert!(b.click_named("[data-testid=template-open]", name).await, "no template {name}");
    b.wait_for("[data-testid=template-form] [data-var=resourceId]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_template_is_filled_in_with_suggestions_and_read() {
    let server = everything("streamableHttp");
    let page = console(None);
    let b = Browser::start().await;
    b.connect(&page.url, &server.url, "auto").await;
    b.show("catalog-resources").await;
    b.wait_for_text("[data-testid=template-name]", |t| !t.is_empty()).await;
    open_template(&b, "Dynamic Text Resource").await;
    b.type_into("[data-testid=template-form] [data-var=resourceId]", "42").await;
    let started = std::time::Instant::now();
    while suggested(&b).await != vec!["42".to_owned()] {
        assert!(started.elapsed().as_secs() < 10, "no suggestion came: {:?}", suggested(&b).await);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    b.click("[data-testid=template-read]").await;
    let text = b.wait_for_text("[data-testid=call-result]", |t| !t.is_empty()).await;
    assert!(text.contains("42"), "{text}");
    let uri = b.wait_for_text(".mc-result__resource code", |t| !t.is_empty()).await;
    assert_eq!(uri, "demo://resource/dynamic/text/42");
    // A binary one is offered as a download, never rendered.
    open_template(&b, "Dynamic Blob Resource").await;
    b.type_into("[data-testid=template-form] [data-var=resourceId]", "7").await;
    b.click("[data-testid=template-read]").await;
    let link = b.wait_for("[data-testid=resource-download]").await;
    let href = link.attr("href").await.ok().flatten().unwrap_or_default();
    assert!(href.starts_with("data:application/octet-stream;base64,"), "{href}");
    // A prompt's arguments get suggestions too, the second narrowed by the first.
    b.show("catalog-prompts").await;
    assert!(b.click_named("[data-testid=prompt-pick]", "completable-prompt").await);
    b.type_into("[data-testid=prompt-form] [data-field-name=department]", "Eng").await;
    pick_suggestion(&b, "Engineering").await;
    b.type_into("[data-testid=prompt-form] [data-field-name=name]", "A").await;
    pick_suggestion(&b, "Alice").await;
    b.click("[data-testid=prompt-get]").await;
    b.wait_for_text("[data-testid=call-result]", |t| {
        t.contains("Please promote Alice to the head of the Engineering team.")
    })
    .await;
    let log = b.console_log().await;
    assert!(!log.contains("panicked"), "{log}");
}

/// Waits for the prompt's suggestion `value` and picks it.
async fn pick_suggestion(b: &Browser, value: &str) {
    let started = std::time::Instant::now();
    while !b.click_named("[data-testid=prompt-suggestion]", value).await {
        assert!(started.elapsed().as_secs() < 10, "no suggestion {value}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
