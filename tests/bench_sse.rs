//! The SSE decoder's throughput in the browser: `core::sse::SseDecoder` compiled to wasm and run
//! in headless Chromium on a recorded stream (server-everything's answers to a session's POSTs,
//! `tests/fixtures/everything-2026.8.31.sse`, recorded by `bench/record-sse.mjs`), repeated to
//! 16 MiB and fed in 16 KiB chunks, as fetch hands a body over. Not a test of behaviour: run by
//! `scripts/bench.sh` with `--release`, it prints one line that the benchmark's table reads.
#![cfg(target_arch = "wasm32")]

use mcp_console::core::sse::{SseDecoder, SseEvent};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const RECORDED: &[u8] = include_bytes!("fixtures/everything-2026.8.31.sse");
const STREAM_BYTES: usize = 16 * 1024 * 1024;
const CHUNK_BYTES: usize = 16 * 1024;
const RUNS: usize = 7;

/// `performance.now()`: `Date.now()` counts whole milliseconds, too coarse for runs of tens of
/// milliseconds. The crate's web-sys features leave `Performance` out, so it is reached by name.
fn now_ms() -> f64 {
    let global = js_sys::global();
    let performance = js_sys::Reflect::get(&global, &JsValue::from_str("performance"))
        .unwrap_or_else(|e| panic!("no performance object: {e:?}"));
    let now = js_sys::Reflect::get(&performance, &JsValue::from_str("now"))
        .unwrap_or_else(|e| panic!("no performance.now: {e:?}"))
        .dyn_into::<js_sys::Function>()
        .unwrap_or_else(|e| panic!("performance.now is not a function: {e:?}"));
    now.call0(&performance)
        .unwrap_or_else(|e| panic!("performance.now failed: {e:?}"))
        .as_f64()
        .unwrap_or_else(|| panic!("performance.now returned no number"))
}

/// Decodes `stream` in `CHUNK_BYTES` chunks with a fresh decoder; returns the events dispatched.
fn decode(stream: &[u8]) -> usize {
    let mut decoder = SseDecoder::new();
    let mut events: Vec<SseEvent> = Vec::new();
    let mut count = 0;
    for chunk in stream.chunks(CHUNK_BYTES) {
        decoder
            .feed_into(chunk, &mut events)
            .unwrap_or_else(|e| panic!("the recorded stream failed to decode: {e}"));
        // The transport hands each event on and keeps none.
        count += events.len();
        events.clear();
    }
    count
}

fn median(sorted: &[f64]) -> f64 {
    sorted[sorted.len() / 2]
}

#[wasm_bindgen_test]
fn sse_decoder_throughput_on_a_recorded_stream() {
    let per_copy = decode(RECORDED);
    assert!(per_copy > 10, "the recording holds {per_copy} events");
    let copies = STREAM_BYTES.div_ceil(RECORDED.len());
    let stream = RECORDED.repeat(copies);

    // One untimed pass, so that no run pays for the first allocations of the decoder's buffers.
    assert_eq!(decode(&stream), per_copy * copies, "every copy decodes to the same events");
    let mut rates: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = now_ms();
            let events = decode(&stream);
            let elapsed = (now_ms() - start).max(0.001);
            assert_eq!(events, per_copy * copies);
            stream.len() as f64 / 1e6 / (elapsed / 1e3)
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    console_log!(
        "bench_sse: median={:.1} min={:.1} max={:.1} MB/s runs={RUNS} bytes={} events={} chunk={CHUNK_BYTES}",
        median(&rates),
        rates[0],
        rates[RUNS - 1],
        stream.len(),
        per_copy * copies,
    );
}
