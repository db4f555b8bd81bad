//! A long session's memory, natively, with the bytes the allocator holds counted: the engine and
//! the console's view model through 10,000 tool calls against a scripted server, and the reactive
//! owners a history list makes and drops for its entries. After a warm-up what is held must stay
//! where it was; anything that keeps a little of every call (a table never pruned, a list never
//! capped, a dead row remembered) shows up here as growth.
#![cfg(not(target_arch = "wasm32"))]

use leptos::prelude::Owner;
use mcp_console::core::console::{CALL_LIMIT, ConsoleState, Status};
use mcp_console::core::engine::{Engine, Output, ResponseHead, StreamId, TransportChoice};
use mcp_console::core::session::SessionConfig;
use serde_json::{Map, Value, json};
use std::sync::{Mutex, PoisonError};

// dhat's allocator counts the bytes held (the crate forbids `unsafe`, so no allocator of our own).
#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

const URL: &str = "http://127.0.0.1:3001/mcp";

struct Rig {
    engine: Engine,
    console: ConsoleState,
    now: u64,
}

impl Rig {
    /// Folds what the engine has to say into the view, as the page does.
    fn fold(&mut self) {
        while let Some(event) = self.engine.poll_event() {
            self.console.apply(event);
        }
    }

    fn head(&mut self, stream: StreamId, status: u16, content_type: Option<&str>) {
        let head = ResponseHead {
            status,
            content_type: content_type.map(str::to_owned),
            session_id: Some("s1".to_owned()),
            www_authenticate: None,
            content_length: None,
        };
        self.engine.handle_head(stream, head, self.now);
    }

    /// Answers each request with `result(method)` as one SSE event, each notification with 202.
    fn serve(&mut self, result: impl Fn(&str) -> Value) {
        let outputs: Vec<Output> = std::iter::from_fn(|| self.engine.poll_output()).collect();
        for output in outputs {
            let Output::Start { stream, request } = output else { continue };
            if request.method == "GET" {
                self.head(stream, 405, None);
                self.engine.handle_end(stream, self.now);
                continue;
            }
            let body = request.body.as_deref().unwrap_or_default();
            let message: Value =
                serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
            match (message.get("id"), message.get("method").and_then(Value::as_str)) {
                (Some(id), Some(method)) => {
                    self.head(stream, 200, Some("text/event-stream"));
                    let answer = json!({"jsonrpc": "2.0", "id": id, "result": result(method)});
                    let event = format!("event: message\ndata: {answer}\n\n");
                    self.engine.handle_chunk(stream, event.as_bytes(), self.now);
                }
                _ => self.head(stream, 202, None),
            }
            self.engine.handle_end(stream, self.now);
        }
        self.fold();
    }

    fn call(&mut self, n: usize) {
        let mut arguments = Map::new();
        arguments.insert("message".to_owned(), json!(format!("call {n}")));
        let id = self
            .engine
            .session_mut()
            .call_tool("echo", arguments.clone(), self.now)
            .unwrap_or_else(|e| panic!("{e}"));
        self.console.call_started(id, "echo", arguments);
        self.engine.flush(self.now);
        self.serve(|_| json!({"content": [{"type": "text", "text": format!("Echo: call {n}")}]}));
        self.now += 7;
        self.engine.handle_timeout(self.now);
    }
}

fn held() -> usize {
    dhat::HeapStats::get().curr_bytes
}

/// One profiler at a time: the tests of this file take turns.
static PROFILER: Mutex<()> = Mutex::new(());

fn profiled(test: impl FnOnce()) {
    let _turn = PROFILER.lock().unwrap_or_else(PoisonError::into_inner);
    let _profiler = dhat::Profiler::builder().testing().build();
    test();
}

#[test]
fn ten_thousand_calls_hold_no_more_than_the_warm_up() {
    profiled(ten_thousand_calls);
}

fn ten_thousand_calls() {
    let engine = Engine::new(URL, TransportChoice::StreamableHttp, SessionConfig::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut rig = Rig {
        engine,
        console: ConsoleState { status: Status::Connecting, ..ConsoleState::default() },
        now: 1_000,
    };
    rig.engine.connect(rig.now);
    // server/discover answered with no discovery result: a 2025-11-25 session, as before.
    rig.serve(|_| json!({}));
    rig.serve(|method| match method {
        "initialize" => json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "scripted", "version": "1"}
        }),
        _ => json!({"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}),
    });
    rig.serve(|_| json!({"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}));
    assert!(rig.console.server.is_some(), "{:?}", rig.console.status);

    let warm_up = 2 * CALL_LIMIT;
    for n in 0..warm_up {
        rig.call(n);
    }
    let after_warm_up = held();
    let total = 10_000;
    for n in warm_up..total {
        rig.call(n);
    }
    let growth = held().saturating_sub(after_warm_up);
    let calls = total - warm_up;
    println!(
        "held after {warm_up} calls: {after_warm_up} B; after {total}: {} B ({} B a call)",
        held(),
        growth / calls
    );
    assert_eq!(rig.console.calls.len(), CALL_LIMIT);
    assert!(
        rig.console
            .calls
            .iter()
            .all(|c| matches!(c.state, mcp_console::core::console::CallState::Done(_))),
        "every call answered"
    );
    // Calls differ in length by a digit or two; a few hundred bytes of slack, not one per call.
    assert!(growth < 4096, "{growth} B more held after {} more calls", total - warm_up);
}

/// A keyed list (Leptos' `For`) gives each entry an owner of its own, a child of the list's, and
/// drops it with the entry. reactive_graph 0.2.16 kept a `Weak` to every child it was ever given,
/// and with it each dead child's block, until the list itself went: about 190 bytes a call in the
/// history. The copy in `vendor/reactive_graph` prunes them as 0.3 does.
#[test]
fn a_list_forgets_the_owners_of_the_entries_it_dropped() {
    profiled(|| {
        let list = Owner::new();
        let entries = |n: usize| {
            for _ in 0..n {
                drop(list.with(Owner::new));
            }
        };
        entries(1_000);
        let after_warm_up = held();
        entries(100_000);
        let growth = held().saturating_sub(after_warm_up);
        println!("held after 1,000 entries: {after_warm_up} B; 100,000 more: +{growth} B");
        assert!(growth < 4096, "{growth} B more held after 100,000 more entries");
    });
}
