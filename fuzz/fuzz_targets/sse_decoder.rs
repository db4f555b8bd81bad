//! Differential fuzzing of `core::sse::SseDecoder`: however a stream is cut into chunks, the
//! decoder must observe exactly what it observes when the whole stream arrives at once (the same
//! events, the same error, the same last event ID and retry), and it must never panic.
//!
//! Input layout: byte 0 is a control byte, the rest is the event stream.
//! - bits 0..=2 pick the largest chunk size (chunks of 0 bytes are fed too);
//! - bits 3..=7 pick the small line cap (0..=31 bytes) of the second round.
//!
//! The cut positions come from a PRNG seeded with the control byte and a hash of the stream, so
//! every input has one fixed split (a crash reproduces) while each mutation gets a fresh one.
//!
//! Each round also feeds the stream a second time after `finish()`, as a reconnection does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_console::core::sse::{DEFAULT_MAX_LINE, SseDecoder, SseError, SseEvent};

/// Largest chunk size for each value of the control byte's low three bits.
const MAX_CHUNK: [usize; 8] = [1, 2, 3, 4, 7, 16, 61, 509];

/// What a caller can observe of one stream: events (in order, up to the error), the error that
/// ended it if any, then the last event ID and retry after `finish()`.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    events: Vec<SseEvent>,
    error: Option<SseError>,
    last_event_id: String,
    retry: Option<u32>,
}

/// xorshift64*: small, deterministic, good enough to pick cut positions.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 32) as usize % n
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Cuts `stream` into chunks of 0..=`max_chunk` bytes.
fn chunks<'a>(stream: &'a [u8], max_chunk: usize, rng: &mut Rng) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(rng.below(max_chunk + 1).min(rest.len()));
        out.push(chunk);
        rest = tail;
    }
    out
}

/// Feeds `chunks` with `feed_into` (which keeps events completed before an error), then
/// finishes the stream.
fn run_into(dec: &mut SseDecoder, chunks: &[&[u8]]) -> Outcome {
    let mut events = Vec::new();
    let error = chunks.iter().find_map(|chunk| dec.feed_into(chunk, &mut events).err());
    if error.is_some() {
        // A failed decoder refuses everything until `finish()`, with the same error.
        assert_eq!(dec.feed(b"data: x\n\n").err(), error, "a failed decoder accepted input");
    }
    assert!(dec.finish().is_empty(), "finish() yielded an event");
    Outcome { events, error, last_event_id: dec.last_event_id().to_owned(), retry: dec.retry() }
}

/// Feeds `chunks` with `feed`, which drops the events of the chunk that failed: the events
/// seen must be a prefix of `reference`'s, and the error the same.
fn check_feed(max_line: usize, chunks: &[&[u8]], reference: &Outcome) {
    let mut dec = SseDecoder::with_max_line(max_line);
    let mut events = Vec::new();
    let mut error = None;
    for chunk in chunks {
        match dec.feed(chunk) {
            Ok(batch) => events.extend(batch),
            Err(err) => {
                error = Some(err);
                break;
            }
        }
    }
    assert_eq!(error, reference.error, "feed() and feed_into() disagree on the error");
    if error.is_none() {
        assert_eq!(events, reference.events, "feed() and feed_into() disagree on the events");
    } else {
        assert!(reference.events.starts_with(&events), "feed() saw events feed_into() did not");
    }
}

/// Decodes `stream` twice on one decoder (a stream, `finish()`, the same stream again), whole
/// and cut, and checks the cut run against the whole one.
fn round(stream: &[u8], max_line: usize, max_chunk: usize, rng: &mut Rng) -> Outcome {
    let mut whole = SseDecoder::with_max_line(max_line);
    let first = run_into(&mut whole, &[stream]);
    let second = run_into(&mut whole, &[stream]);

    let cut = chunks(stream, max_chunk, rng);
    let mut split = SseDecoder::with_max_line(max_line);
    assert_eq!(run_into(&mut split, &cut), first, "split changed the outcome; chunks: {cut:?}");
    let cut_again = chunks(stream, max_chunk, rng);
    assert_eq!(
        run_into(&mut split, &cut_again),
        second,
        "split changed the outcome after finish(); chunks: {cut_again:?}"
    );
    check_feed(max_line, &cut, &first);
    first
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, stream)) = data.split_first() else { return };
    let max_chunk = MAX_CHUNK[usize::from(control & 7)];
    let small_max = usize::from(control >> 3);
    let mut rng = Rng::new(fnv1a(data));

    let big = round(stream, DEFAULT_MAX_LINE, max_chunk, &mut rng);
    let small = round(stream, small_max, max_chunk, &mut rng);

    // A cap changes nothing until it is hit, and then only cuts the stream short.
    if small.error.is_none() {
        assert_eq!(small, big, "a cap that was never hit changed the outcome");
    } else {
        assert!(
            big.events.starts_with(&small.events),
            "a cap changed the events before it was hit"
        );
    }
});
