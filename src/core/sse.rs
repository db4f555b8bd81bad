//! Incremental decoder for `text/event-stream` bodies (Server-Sent Events). It owns the byte-level
//! parsing of a response body into dispatched events, following the WHATWG HTML "Parsing an event
//! stream" / "Interpreting an event stream" rules exactly, and the state the spec keeps beside the
//! parser: the last event ID (what a reconnection sends as `Last-Event-ID`, and what MCP priming
//! events set) and the reconnection time from `retry:`. It does no I/O and never panics: the
//! transport feeds it chunks as they arrive, split at any byte, and an oversized line or event
//! is reported as an [`SseError`] instead of growing memory without bound.
//!
//! Per spec a block with no `data:` line dispatches nothing, but one with an empty `data:` line
//! dispatches an event whose data is `""`; callers that expect JSON skip such events.

use std::mem;

use thiserror::Error;

/// Default cap on one line, and on the data of one event: far above any sane JSON-RPC message,
/// yet low enough that a misbehaving server cannot make the page allocate without bound.
pub const DEFAULT_MAX_LINE: usize = 16 * 1024 * 1024;

/// UTF-8 encoding of U+FEFF, dropped once if it opens the stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The event type: the last `event:` value of the block, or `"message"` when it set none.
    pub event: String,
    /// The block's `data:` values joined with `"\n"`.
    pub data: String,
    /// The last event ID string at dispatch; it persists across events until an `id:` changes it.
    pub id: String,
}

/// Why a stream was abandoned. After an error the decoder refuses further input until
/// [`SseDecoder::finish`]: the caller should drop the connection and reconnect with
/// [`SseDecoder::last_event_id`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SseError {
    #[error("event-stream line longer than {max} bytes")]
    LineTooLong { max: usize },
    #[error("event-stream event data longer than {max} bytes")]
    EventTooLarge { max: usize },
}

/// Push decoder for one event stream; see the module docs.
#[derive(Debug, Clone)]
pub struct SseDecoder {
    max_line: usize,
    /// Start of a line whose end has not arrived yet. Lines wholly inside one chunk are parsed
    /// in place, so only a line split across chunks is copied here, and each byte only once.
    line: Vec<u8>,
    /// The previous chunk ended with CR: an LF opening this chunk is the rest of that CRLF.
    after_cr: bool,
    /// No line has ended yet, so the first one may still begin with the BOM. Stripping it from
    /// the completed first line (not from the first chunk) handles a BOM split across chunks.
    at_start: bool,
    data: String,
    event_type: String,
    /// The spec's "last event ID buffer": set by `id:` at once, even in a block never dispatched.
    id_buffer: String,
    /// The spec's "last event ID string": the buffer as of the latest dispatch (including an
    /// empty-data one). An `id:` in an event cut off by the end of the stream never reaches it.
    last_event_id: String,
    retry: Option<u32>,
    /// The stream is abandoned: every byte after an error would be parsed out of context.
    failed: Option<SseError>,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SseDecoder {
    /// A decoder with the [`DEFAULT_MAX_LINE`] cap.
    #[must_use]
    pub fn new() -> Self {
        Self::with_max_line(DEFAULT_MAX_LINE)
    }

    /// A decoder that rejects a line (counted in bytes, without its line end) or one event's
    /// data longer than `max_line` bytes.
    #[must_use]
    pub fn with_max_line(max_line: usize) -> Self {
        Self {
            max_line,
            line: Vec::new(),
            after_cr: false,
            at_start: true,
            data: String::new(),
            event_type: String::new(),
            id_buffer: String::new(),
            last_event_id: String::new(),
            retry: None,
            failed: None,
        }
    }

    /// Decodes the next chunk and returns the events it completed.
    ///
    /// # Errors
    /// [`SseError`] when a line or an event exceeds the cap. Events the same chunk completed
    /// before the error are lost; use [`SseDecoder::feed_into`] to keep them.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut out = Vec::new();
        self.feed_into(chunk, &mut out)?;
        Ok(out)
    }

    /// Decodes the next chunk, appending the events it completed to `out`.
    ///
    /// # Errors
    /// [`SseError`] when a line or an event exceeds the cap, and for every call after that
    /// until [`SseDecoder::finish`]. Events completed before the error are still in `out`.
    pub fn feed_into(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let result = self.scan(chunk, out);
        if let Err(err) = &result {
            self.failed = Some(err.clone());
            // Release the oversized buffers now rather than when the decoder is dropped.
            self.line = Vec::new();
            self.data = String::new();
        }
        result
    }

    /// Ends the stream. Per spec a block not closed by an empty line, and a last line without
    /// a line end, are discarded, so this never yields an event; the returned `Vec` is always
    /// empty and exists so callers can treat it like [`SseDecoder::feed`]. The decoder is reset
    /// for a new stream but keeps [`Self::last_event_id`] and [`Self::retry`], which outlive a
    /// connection (they are what a reconnection uses).
    pub fn finish(&mut self) -> Vec<SseEvent> {
        // The next stream starts from the committed ID (as browsers seed their parser), not from
        // an `id:` of the discarded block.
        let last_event_id = mem::take(&mut self.last_event_id);
        *self = Self {
            id_buffer: last_event_id.clone(),
            last_event_id,
            retry: self.retry,
            ..Self::with_max_line(self.max_line)
        };
        Vec::new()
    }

    /// The last event ID string: empty until a dispatch (even of an empty-data "priming" block)
    /// follows an `id:` line.
    #[must_use]
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The latest reconnection time sent by `retry:`, in milliseconds (saturating at
    /// `u32::MAX`, as the spec sets no upper bound), or `None` if the server sent none.
    #[must_use]
    pub fn retry(&self) -> Option<u32> {
        self.retry
    }

    /// Splits `chunk` into lines. Each byte is examined once, so the cost of a stream is linear
    /// in its length however it is chunked.
    fn scan(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let mut rest = chunk;
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            rest = rest.strip_prefix(b"\n").unwrap_or(rest);
        }
        while let Some(pos) = rest.iter().position(|&b| b == b'\r' || b == b'\n') {
            // Both `else` arms are unreachable: `pos` indexes a CR or LF inside `rest`.
            let Some((body, tail)) = rest.split_at_checked(pos) else { break };
            let Some((&eol, mut after)) = tail.split_first() else { break };
            if eol == b'\r' {
                match after.split_first() {
                    Some((&b'\n', t)) => after = t,
                    Some(_) => {}
                    // The LF of a CRLF may open the next chunk; remember to swallow it there.
                    None => self.after_cr = true,
                }
            }
            self.end_line(body, out)?;
            rest = after;
        }
        // Checking before growing keeps memory bounded; since the cap is on the whole line, a
        // line is rejected the same way however its bytes are chunked.
        if self.line.len().saturating_add(rest.len()) > self.max_line {
            return Err(SseError::LineTooLong { max: self.max_line });
        }
        self.line.extend_from_slice(rest);
        Ok(())
    }

    /// Completes the pending line with `body`, the bytes before its line end in this chunk.
    fn end_line(&mut self, body: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if self.line.len().saturating_add(body.len()) > self.max_line {
            return Err(SseError::LineTooLong { max: self.max_line });
        }
        if self.line.is_empty() {
            return self.process_line(body, out);
        }
        // Take the buffer out so it can be read while `self` is mutated, then hand it back to
        // keep its allocation for the next split line.
        let mut line = mem::take(&mut self.line);
        line.extend_from_slice(body);
        let result = self.process_line(&line, out);
        line.clear();
        self.line = line;
        result
    }

    /// Interprets one complete line (without its line end).
    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let line = if mem::replace(&mut self.at_start, false) {
            line.strip_prefix(BOM).unwrap_or(line)
        } else {
            line
        };
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        // Work on bytes and decode only values: ':' and the field names are ASCII, and an
        // invalid sequence can never decode to them, so this equals decoding the stream first.
        // Per-line decoding also equals whole-stream decoding, as CR and LF end any sequence.
        let mut parts = line.splitn(2, |&b| b == b':');
        let name = parts.next().unwrap_or_default();
        let value = match parts.next() {
            Some(value) => value.strip_prefix(b" ").unwrap_or(value),
            None => b"", // no colon: the whole line names a field with an empty value
        };
        match name {
            b"event" => self.event_type = String::from_utf8_lossy(value).into_owned(),
            b"data" => {
                let value = String::from_utf8_lossy(value);
                if self.data.len().saturating_add(value.len()).saturating_add(1) > self.max_line {
                    return Err(SseError::EventTooLarge { max: self.max_line });
                }
                self.data.push_str(&value);
                self.data.push('\n');
            }
            b"id" if !value.contains(&0) => {
                self.id_buffer = String::from_utf8_lossy(value).into_owned();
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let ms = value.iter().fold(0u32, |acc, &digit| {
                    acc.saturating_mul(10).saturating_add(u32::from(digit.saturating_sub(b'0')))
                });
                self.retry = Some(ms);
            }
            // Comments (an empty name: the line starts with ':'), unknown fields, `id` with NUL
            // and malformed `retry` are ignored.
            _ => {}
        }
        Ok(())
    }

    /// The spec's "dispatch the event" steps, run on every empty line.
    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        // Done even when nothing is dispatched: this is how an MCP priming event (an `id:` and
        // no data) moves the resumption point without delivering a message.
        self.last_event_id.clone_from(&self.id_buffer);
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        if self.data.ends_with('\n') {
            self.data.pop();
        }
        let event = match mem::take(&mut self.event_type) {
            name if name.is_empty() => "message".to_owned(),
            name => name,
        };
        out.push(SseEvent {
            event,
            data: mem::take(&mut self.data),
            id: self.last_event_id.clone(),
        });
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn ev(event: &str, data: &str, id: &str) -> SseEvent {
        SseEvent { event: event.into(), data: data.into(), id: id.into() }
    }

    fn msg(data: &str, id: &str) -> SseEvent {
        ev("message", data, id)
    }

    /// Everything a caller can observe: events, the error that ended the stream if any, and the
    /// last event ID and retry after `finish`.
    type Outcome = (Vec<SseEvent>, Option<SseError>, String, Option<u32>);

    fn run(chunks: &[&[u8]], max_line: usize) -> Outcome {
        let mut dec = SseDecoder::with_max_line(max_line);
        let mut events = Vec::new();
        let error = chunks.iter().find_map(|chunk| dec.feed_into(chunk, &mut events).err());
        events.extend(dec.finish());
        (events, error, dec.last_event_id().into(), dec.retry())
    }

    fn whole(input: &[u8]) -> Outcome {
        run(&[input], DEFAULT_MAX_LINE)
    }

    fn events(input: &[u8]) -> Vec<SseEvent> {
        whole(input).0
    }

    /// Feeds `input` cut at `cuts` (any order; taken modulo its length + 1).
    fn run_cut(input: &[u8], cuts: &[usize], max_line: usize) -> Outcome {
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c % (input.len() + 1)).collect();
        cuts.sort_unstable();
        let starts = [0].into_iter().chain(cuts.iter().copied());
        let ends = cuts.iter().copied().chain([input.len()]);
        let pieces: Vec<&[u8]> = starts.zip(ends).map(|(s, e)| &input[s..e]).collect();
        run(&pieces, max_line)
    }

    #[test]
    fn spec_stock_ticker_example_joins_data_lines() {
        assert_eq!(events(b"data: YHOO\ndata: +2\ndata: 10\n\n"), vec![msg("YHOO\n+2\n10", "")]);
    }

    #[test]
    fn spec_comment_and_id_example_tracks_last_event_id() {
        let mut dec = SseDecoder::new();
        assert_eq!(dec.feed(b": test stream\n\n"), Ok(vec![]));
        assert_eq!(dec.feed(b"data: first event\nid: 1\n\n"), Ok(vec![msg("first event", "1")]));
        assert_eq!(dec.last_event_id(), "1");
        assert_eq!(dec.feed(b"data:second event\nid\n\n"), Ok(vec![msg("second event", "")]));
        assert_eq!(dec.last_event_id(), "");
        assert_eq!(dec.feed(b"data:  third event\n\n"), Ok(vec![msg(" third event", "")]));
    }

    #[test]
    fn spec_bare_data_fields_yield_empty_and_newline_events_and_drop_unterminated_block() {
        assert_eq!(events(b"data\n\ndata\ndata\n\ndata:"), vec![msg("", ""), msg("\n", "")]);
    }

    #[test]
    fn spec_space_after_colon_is_optional() {
        assert_eq!(events(b"data:test\n\ndata: test\n\n"), vec![msg("test", ""), msg("test", "")]);
    }

    #[test]
    fn cr_lf_and_crlf_all_end_lines() {
        for eol in ["\n", "\r", "\r\n"] {
            let input = format!("event: ping{eol}data: a{eol}data: b{eol}{eol}");
            assert_eq!(events(input.as_bytes()), vec![ev("ping", "a\nb", "")], "{eol:?}");
        }
        // Mixed in one stream; LF CR is two line ends (an empty line), not one.
        assert_eq!(events(b"data: a\r\ndata: b\rdata: c\n\r"), vec![msg("a\nb\nc", "")]);
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_end() {
        let out = run(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"], DEFAULT_MAX_LINE);
        assert_eq!(out.0, vec![msg("a\nb", "")]);
        // An empty chunk between CR and LF does not break the pair.
        assert_eq!(run(&[b"data: a\r", b"", b"\n\r\n"], DEFAULT_MAX_LINE).0, vec![msg("a", "")]);
    }

    #[test]
    fn leading_bom_is_dropped_even_when_split() {
        assert_eq!(events(b"\xEF\xBB\xBFdata: x\n\n"), vec![msg("x", "")]);
        let out = run(&[b"\xEF", b"\xBB", b"\xBFdata: x\n\n"], DEFAULT_MAX_LINE);
        assert_eq!(out.0, vec![msg("x", "")]);
        assert_eq!(events(b"\xEF\xBB\xBF\n\ndata: x\n\n"), vec![msg("x", "")]);
    }

    #[test]
    fn second_bom_is_kept_and_makes_an_unknown_field() {
        assert_eq!(events(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n"), vec![]);
        // A BOM later in the stream is ordinary text.
        let input = b"data: x\n\n\xEF\xBB\xBFdata: y\n\ndata:\xEF\xBB\xBF\n\n";
        assert_eq!(events(input), vec![msg("x", ""), msg("\u{FEFF}", "")]);
    }

    #[test]
    fn priming_event_with_empty_data_sets_id_without_dispatching() {
        let mut dec = SseDecoder::new();
        assert_eq!(dec.feed(b"id: prime-1\n\n"), Ok(vec![]));
        assert_eq!(dec.last_event_id(), "prime-1");
        assert_eq!(dec.feed(b"event: e\nid: 7\n\n"), Ok(vec![]));
        assert_eq!(dec.last_event_id(), "7");
        // The event type of the undispatched block does not leak into the next one.
        assert_eq!(dec.feed(b"data: {}\n\n"), Ok(vec![msg("{}", "7")]));
    }

    #[test]
    fn priming_event_with_an_empty_data_line_dispatches_empty_data() {
        // `data:` appends "\n", so (like `data` in the spec's third example) the block is
        // dispatched with data "": callers must skip such events rather than parse them.
        let mut dec = SseDecoder::new();
        assert_eq!(dec.feed(b"id: prime-1\ndata:\n\n"), Ok(vec![msg("", "prime-1")]));
        assert_eq!(dec.last_event_id(), "prime-1");
    }

    #[test]
    fn id_of_a_block_cut_off_by_end_of_stream_is_not_committed() {
        let mut dec = SseDecoder::new();
        assert_eq!(dec.feed(b"id: 1\n\nid: 2\ndata: lost\n"), Ok(vec![]));
        assert_eq!(dec.finish(), vec![]);
        assert_eq!(dec.last_event_id(), "1");
        // The next stream starts from the committed id.
        assert_eq!(dec.feed(b"data: next\n\n"), Ok(vec![msg("next", "1")]));
    }

    #[test]
    fn id_containing_nul_is_ignored() {
        let (events, _, last_event_id, _) = whole(b"id: good\n\nid: b\0d\ndata: x\n\n");
        assert_eq!(events, vec![msg("x", "good")]);
        assert_eq!(last_event_id, "good");
    }

    #[test]
    fn retry_accepts_only_ascii_digits() {
        assert_eq!(whole(b"retry: 1500").3, None, "an unterminated line is discarded");
        assert_eq!(whole(b"retry: 1500\n").3, Some(1500));
        assert_eq!(events(b"retry:250\n\n"), vec![], "retry alone dispatches nothing");
        for bad in ["15x", "-1", "", " 10", "1 0", "\u{0661}", "+5"] {
            let input = format!("retry: 7\nretry: {bad}\nretry\n");
            assert_eq!(whole(input.as_bytes()).3, Some(7), "{bad:?}");
        }
        // The spec sets no upper bound, so a huge value saturates rather than being dropped.
        assert_eq!(whole(b"retry: 99999999999999\n").3, Some(u32::MAX));
    }

    #[test]
    fn unknown_fields_and_comments_are_ignored() {
        let input = b":hi\nfoo: bar\nDATA: no\ndata : no\n: data: no\ndata: yes\n\n";
        assert_eq!(events(input), vec![msg("yes", "")]);
    }

    #[test]
    fn multibyte_character_split_across_chunks_decodes_whole() {
        let input = "data: h\u{e9}llo \u{1F600}\n\n".as_bytes();
        for cut in 0..=input.len() {
            let out = run_cut(input, &[cut], DEFAULT_MAX_LINE);
            assert_eq!(out.0, vec![msg("h\u{e9}llo \u{1F600}", "")], "cut at {cut}");
        }
    }

    #[test]
    fn invalid_utf8_becomes_replacement_character() {
        let input = b"data: a\xFFb\xE2\x82\nevent: \xC3\n\n";
        assert_eq!(events(input), vec![ev("\u{FFFD}", "a\u{FFFD}b\u{FFFD}", "")]);
    }

    #[test]
    fn line_too_long_is_an_error_and_keeps_earlier_events() {
        let too_long = Err(SseError::LineTooLong { max: 8 });
        let mut dec = SseDecoder::with_max_line(8);
        let mut out = Vec::new();
        assert_eq!(dec.feed_into(b"data: ok\n\ndata: 123", &mut out), too_long);
        assert_eq!(out, vec![msg("ok", "")]);
        // The stream stays failed until it is finished.
        assert_eq!(dec.feed(b"\n\n"), too_long.clone().map(|()| vec![]));
        assert_eq!(dec.finish(), vec![]);
        assert_eq!(dec.feed(b"data: 12\n\n"), Ok(vec![msg("12", "")]), "8 bytes is allowed");
        let mut dec = SseDecoder::with_max_line(8);
        assert_eq!(dec.feed(b"data: 123\n"), too_long.map(|()| vec![]));
        assert_eq!(SseDecoder::new().max_line, DEFAULT_MAX_LINE);
    }

    #[test]
    fn event_data_over_the_cap_is_an_error() {
        let mut dec = SseDecoder::with_max_line(8);
        assert_eq!(dec.feed(b"data:abc\ndata:abc\n"), Ok(vec![]));
        assert_eq!(dec.feed(b"data:abc\n"), Err(SseError::EventTooLarge { max: 8 }));
    }

    /// Property tests; proptest is a native-only dev-dependency of the main crate.
    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::*;
        use proptest::prelude::*;

        fn value() -> impl Strategy<Value = String> {
            let chars = vec!['a', 'Z', '0', '7', ' ', ':', '\0', '\u{e9}', '\u{1F600}', '\u{FEFF}'];
            prop::collection::vec(prop::sample::select(chars), 0..6).prop_map(String::from_iter)
        }

        fn line_end() -> impl Strategy<Value = &'static str> {
            prop::sample::select(vec!["\n", "\r", "\r\n"])
        }

        /// A stream of arbitrary field, comment and empty lines with arbitrary line ends.
        fn stream() -> impl Strategy<Value = Vec<u8>> {
            let name = prop::sample::select(vec!["data", "event", "id", "retry", "", "x", "data "]);
            let digits = prop::collection::vec(prop::sample::select(vec!['0', '1', '9']), 1..4);
            let line = prop_oneof![
                3 => (name.clone(), value()).prop_map(|(n, v)| format!("{n}:{v}")),
                1 => (name, value()).prop_map(|(n, v)| format!("{n}: {v}")),
                1 => digits.prop_map(|d| format!("retry:{}", String::from_iter(d))),
                1 => prop::sample::select(vec!["data", "id", "event", "retry"]).prop_map(String::from),
                2 => Just(String::new()),
            ];
            let lines = prop::collection::vec((line, line_end()), 0..24);
            (any::<bool>(), lines).prop_map(|(bom, lines)| {
                let start = if bom { "\u{FEFF}" } else { "" };
                let body = lines.into_iter().flat_map(|(line, eol)| [line, eol.to_owned()]);
                format!("{start}{}", String::from_iter(body)).into_bytes()
            })
        }

        proptest! {
            #[test]
            fn every_single_split_of_a_valid_stream_decodes_like_the_whole(input in stream()) {
                let expected = whole(&input);
                prop_assert_eq!(&expected.1, &None);
                for cut in 0..=input.len() {
                    prop_assert_eq!(&run_cut(&input, &[cut], DEFAULT_MAX_LINE), &expected);
                }
                let bytes: Vec<&[u8]> = input.chunks(1).collect();
                prop_assert_eq!(run(&bytes, DEFAULT_MAX_LINE), expected);
            }

            #[test]
            fn random_multi_splits_of_a_valid_stream_decode_like_the_whole(
                input in stream(),
                cuts in prop::collection::vec(any::<usize>(), 0..12),
            ) {
                prop_assert_eq!(run_cut(&input, &cuts, DEFAULT_MAX_LINE), whole(&input));
            }

            #[test]
            fn encoded_events_decode_to_themselves(
                bom in any::<bool>(),
                eol in line_end(),
                blocks in prop::collection::vec(
                    (value(), prop::collection::vec(value(), 1..4), prop::option::of(value())), 0..6),
            ) {
                // One line end per stream: mixing them could join a CR and the next blank LF.
                let mut text = String::from(if bom { "\u{FEFF}" } else { "" });
                let (mut expected, mut id) = (Vec::new(), String::new());
                for (event, lines, new_id) in blocks {
                    if !event.is_empty() {
                        text += &format!("event: {event}{eol}");
                    }
                    if let Some(new_id) = new_id.filter(|i| !i.contains('\0')) {
                        text += &format!("id: {new_id}{eol}");
                        id = new_id;
                    }
                    lines.iter().for_each(|line| text += &format!("data: {line}{eol}"));
                    text += eol;
                    let event = if event.is_empty() { "message" } else { &event };
                    expected.push(ev(event, &lines.join("\n"), &id));
                }
                let (events, error, last_event_id, _) = whole(text.as_bytes());
                prop_assert_eq!((events, error, last_event_id), (expected, None, id));
            }

            #[test]
            fn arbitrary_bytes_never_panic_and_decode_the_same_however_split(
                input in prop::collection::vec(prop_oneof![
                    any::<u8>(),
                    prop::sample::select(b"\r\n: \0\xEF\xBB\xBFdataidretryevent".to_vec()),
                ], 0..96),
                cuts in prop::collection::vec(any::<usize>(), 0..8),
                max_line in 1usize..48,
            ) {
                prop_assert_eq!(run_cut(&input, &cuts, max_line), run(&[&input], max_line));
            }
        }
    }
}
