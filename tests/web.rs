//! Browser tests: `platform` code in headless Chromium (wasm-bindgen-test), against a real
//! server-everything that `scripts/test.sh` starts on 127.0.0.1 and names at compile time in
//! `MCP_EVERYTHING_URL`.
#![cfg(target_arch = "wasm32")]

use mcp_console::core::engine::{EngineEvent, TransportChoice};
use mcp_console::core::http::HttpRequest;
use mcp_console::core::jsonrpc::{Message, RequestId};
use mcp_console::core::session::{SessionConfig, SessionEvent};
use mcp_console::core::sse::SseDecoder;
use mcp_console::core::streamable::{BodyKind, SESSION_HEADER, StreamableHttp};
use mcp_console::platform::connection::Connection;
use mcp_console::platform::fetch::FetchFailure;
use mcp_console::platform::{clock, fetch};
use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn server_url() -> &'static str {
    option_env!("MCP_EVERYTHING_URL")
        .unwrap_or_else(|| panic!("MCP_EVERYTHING_URL was not set when the browser tests were built (scripts/test.sh sets it)"))
}

/// Sends one message and returns every JSON-RPC message of the reply, with the time (ms) each
/// SSE event was decoded and the time the body ended.
async fn exchange(
    transport: &mut StreamableHttp,
    message: &Message,
) -> (Vec<(u64, Message)>, u64, usize) {
    let response = fetch::send(&transport.post(message, Vec::new()), None)
        .await
        .unwrap_or_else(|e| panic!("fetch failed: {e:?}"));
    let kind = transport
        .on_response(
            response.status(),
            response.header("content-type").as_deref(),
            response.header(SESSION_HEADER).as_deref(),
            "",
        )
        .unwrap_or_else(|e| panic!("response refused: {e}"));
    let mut out = Vec::new();
    let mut chunks = 0;
    if kind == BodyKind::EventStream {
        let mut body = response.body().unwrap_or_else(|| panic!("an SSE reply has a body"));
        let mut decoder = SseDecoder::new();
        while let Some(chunk) = body.next_chunk().await.unwrap_or_else(|e| panic!("read: {e}")) {
            chunks += 1;
            for event in decoder.feed(&chunk).unwrap_or_else(|e| panic!("sse: {e}")) {
                if event.data.is_empty() {
                    continue;
                }
                for m in Message::decode_all(&event.data).unwrap_or_else(|e| panic!("json: {e}")) {
                    out.push((clock::now_ms(), m));
                }
            }
        }
    }
    (out, clock::now_ms(), chunks)
}

async fn initialized_transport() -> StreamableHttp {
    let mut transport = StreamableHttp::new(server_url()).unwrap_or_else(|e| panic!("{e}"));
    let init = Message::request(
        RequestId::Number(1),
        "initialize",
        Some(mcp_console::core::protocol::initialize_params()),
    );
    let (replies, _, _) = exchange(&mut transport, &init).await;
    let Some((_, Message::Response { result, .. })) = replies.last() else {
        panic!("no initialize result in {replies:?}")
    };
    assert!(transport.session_id().is_some(), "the session id header is readable cross-origin");
    let version = result["protocolVersion"].as_str().unwrap_or_default().to_owned();
    transport.set_protocol_version(&version);
    let _ =
        exchange(&mut transport, &Message::notification("notifications/initialized", None)).await;
    transport
}

#[wasm_bindgen_test]
async fn fetch_reads_an_sse_reply_to_initialize() {
    let transport = initialized_transport().await;
    assert!(transport.session_id().is_some_and(|id| !id.is_empty()));
}

#[wasm_bindgen_test]
async fn a_streamed_body_delivers_events_before_it_ends() {
    let mut transport = initialized_transport().await;
    let call = Message::request(
        RequestId::Number(2),
        "tools/call",
        Some(json!({
            "name": "trigger-long-running-operation",
            "arguments": {"duration": 1.5, "steps": 3},
            "_meta": {"progressToken": "p-1"}
        })),
    );
    let (replies, ended, chunks) = exchange(&mut transport, &call).await;
    let progress: Vec<u64> = replies
        .iter()
        .filter(|(_, m)| m.method() == Some("notifications/progress"))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(progress.len(), 3, "three progress notifications: {replies:?}");
    assert!(chunks >= 3, "the body came in {chunks} chunk(s), not as a stream");
    let first = progress[0];
    assert!(
        ended.saturating_sub(first) >= 500,
        "the first progress event was decoded {} ms before the body ended: the body was buffered, not streamed",
        ended.saturating_sub(first)
    );
    assert!(
        matches!(replies.last(), Some((_, Message::Response { .. }))),
        "the call's result ends the stream"
    );
}

#[wasm_bindgen_test]
async fn a_closed_port_fails_without_a_response() {
    // Port 9 (discard) is not served on 127.0.0.1 in the test environment.
    let transport = StreamableHttp::new("http://127.0.0.1:9/mcp").unwrap_or_else(|e| panic!("{e}"));
    let ping = Message::request(RequestId::Number(1), "ping", None);
    let result = fetch::send(&transport.post(&ping, Vec::new()), None).await;
    assert!(matches!(result, Err(FetchFailure::Network)), "{:?}", result.err());
}

/// Collects a connection's session events until `done` holds or 10 s pass.
async fn collect_until(
    url: &str,
    choice: TransportChoice,
    done: impl Fn(&[SessionEvent]) -> bool,
    then: impl Fn(&Connection),
) -> (Connection, Vec<SessionEvent>) {
    let events: Rc<RefCell<Vec<SessionEvent>>> = Rc::default();
    let sink = events.clone();
    let connection = Connection::open(url, choice, SessionConfig::default(), None, move |e| {
        if let EngineEvent::Session(e) = e {
            sink.borrow_mut().push(*e);
        }
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let mut acted = false;
    for _ in 0..200 {
        if !acted && events.borrow().iter().any(|e| matches!(e, SessionEvent::Ready(_))) {
            acted = true;
            then(&connection);
        }
        if done(&events.borrow()) {
            break;
        }
        clock::sleep(50).await;
    }
    let collected = events.borrow().clone();
    (connection, collected)
}

fn list_tools(c: &Connection) {
    let _ = c.with_session(|s, now| s.list_tools(now));
}

fn tools_listed(events: &[SessionEvent]) -> Option<usize> {
    events.iter().find_map(|e| match e {
        SessionEvent::ToolsListed(t) => Some(t.len()),
        _ => None,
    })
}

#[wasm_bindgen_test]
async fn the_engine_driver_connects_and_lists_tools_over_streamable_http() {
    let (connection, events) = collect_until(
        server_url(),
        TransportChoice::Auto,
        |e| tools_listed(e).is_some(),
        list_tools,
    )
    .await;
    connection.disconnect();
    assert!(matches!(events.first(), Some(SessionEvent::Ready(_))), "{events:?}");
    assert!(tools_listed(&events).is_some_and(|n| n >= 10), "{events:?}");
}

#[wasm_bindgen_test]
async fn the_engine_driver_speaks_legacy_sse_too() {
    let url = option_env!("MCP_EVERYTHING_SSE_URL")
        .unwrap_or_else(|| panic!("MCP_EVERYTHING_SSE_URL unset"));
    for choice in [TransportChoice::LegacySse, TransportChoice::Auto] {
        let (connection, events) =
            collect_until(url, choice, |e| tools_listed(e).is_some(), list_tools).await;
        connection.disconnect();
        assert!(tools_listed(&events).is_some_and(|n| n >= 10), "{choice:?}: {events:?}");
    }
}

#[wasm_bindgen_test]
async fn a_legacy_sse_stream_is_read_with_fetch_and_announces_its_endpoint() {
    // EventSource cannot send Authorization, so even the legacy transport's GET goes through fetch.
    let url = option_env!("MCP_EVERYTHING_SSE_URL").unwrap_or_else(|| {
        panic!("MCP_EVERYTHING_SSE_URL was not set when the browser tests were built")
    });
    let request = HttpRequest {
        method: "GET",
        url: url.to_owned(),
        headers: vec![("accept".into(), "text/event-stream".to_owned())],
        body: None,
    };
    let response = fetch::send(&request, None).await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(response.status(), 200);
    let mut body = response.body().unwrap_or_else(|| panic!("no body"));
    let mut decoder = SseDecoder::new();
    let mut endpoint = None;
    while endpoint.is_none() {
        let Some(chunk) = body.next_chunk().await.unwrap_or_else(|e| panic!("{e}")) else { break };
        for event in decoder.feed(&chunk).unwrap_or_else(|e| panic!("{e}")) {
            if event.event == "endpoint" {
                endpoint = Some(event.data);
            }
        }
    }
    // The stream stays open; reading stops here without waiting for its end.
    body.cancel();
    let endpoint = endpoint.unwrap_or_else(|| panic!("the stream ended without an endpoint event"));
    assert!(endpoint.starts_with("/message?sessionId="), "{endpoint}");
}

/// The one record a full-page sign-in keeps (in sessionStorage) comes back whole, once, and leaves
/// nothing behind; the randomness comes from the browser.
#[wasm_bindgen_test]
fn a_pending_sign_in_survives_in_session_storage_once_and_random_octets_differ() {
    use mcp_console::core::auth::flow::{SignInRequest, begin};
    use mcp_console::core::auth::metadata::AuthorizationServerMetadata;
    use mcp_console::core::auth::trace::TraceLine;
    use mcp_console::platform::auth as signin;

    let a = signin::random96().unwrap_or_else(|e| panic!("{e:?}"));
    let b = signin::random96().unwrap_or_else(|e| panic!("{e:?}"));
    assert_ne!(a, b, "two draws from the CSPRNG");
    assert!(a.iter().any(|&x| x != 0));

    let origin = url::Url::parse("https://login.example/t/v2.0").unwrap_or_else(|e| panic!("{e}"));
    let metadata = AuthorizationServerMetadata::default_endpoints(&origin);
    let req = SignInRequest::new(&metadata, "client", "https://console.example/callback.html")
        .unwrap_or_else(|e| panic!("{e}"));
    let (_, pending) = begin(req, &a, clock::now_ms());
    let state = pending.state.secret().clone();
    let trace = [TraceLine::new("GET x", "HTTP 200")];
    signin::save_pending(&pending, &trace).unwrap_or_else(|e| panic!("{e:?}"));
    let (back, kept) = signin::take_pending().unwrap_or_else(|| panic!("nothing kept"));
    assert_eq!(back.state.secret(), &state);
    assert_eq!(kept, trace.to_vec());
    assert!(signin::take_pending().is_none(), "taken once, then gone");
    let storage = web_sys::window()
        .and_then(|w| w.session_storage().ok().flatten())
        .unwrap_or_else(|| panic!("no sessionStorage"));
    assert_eq!(storage.length().unwrap_or(99), 0, "nothing left in sessionStorage");
    assert!(signin::take_answer().is_none());

    // An abandoned sign-in is deleted once expired, and only then.
    let req = SignInRequest::new(&metadata, "client", "https://console.example/callback.html")
        .unwrap_or_else(|e| panic!("{e}"));
    let (_, pending) = begin(req, &b, 1_000);
    let expires = pending.expires_after();
    signin::save_pending(&pending, &[]).unwrap_or_else(|e| panic!("{e:?}"));
    signin::drop_expired_pending(expires);
    assert_eq!(storage.length().unwrap_or(99), 1, "still in time: kept");
    signin::drop_expired_pending(expires + 1);
    assert_eq!(storage.length().unwrap_or(99), 0, "expired: deleted");
}
