//! HTTP through the browser's `fetch`, with the response body read as a stream of byte chunks so
//! that SSE replies are handled as they arrive (EventSource cannot send `Authorization`, so every
//! stream goes through here). Request shapes come from `core`; this module only performs them.

use crate::core::http::HttpRequest;
use crate::core::streamable::TransportError;
use gloo_net::http::{Method, RequestBuilder, Response};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ReadableStreamDefaultReader};

/// Upper bound on a body read whole (JSON replies, error bodies): a hostile server cannot make the
/// console buffer without end.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// A response whose headers have arrived; the body is still to be read.
pub struct FetchResponse {
    inner: Response,
}

/// Why a fetch produced no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchFailure {
    /// The request was aborted on purpose.
    Aborted,
    /// No response: the server is down, the address wrong, or CORS withheld the answer.
    Network,
    /// The request could not even be built (a header the browser refuses, say).
    Invalid(String),
}

/// Performs `request`.
pub async fn send(
    request: &HttpRequest,
    signal: Option<&AbortSignal>,
) -> Result<FetchResponse, FetchFailure> {
    let method = match request.method {
        "GET" => Method::GET,
        "DELETE" => Method::DELETE,
        _ => Method::POST,
    };
    let mut builder = RequestBuilder::new(&request.url).method(method).abort_signal(signal);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let built = match &request.body {
        Some(body) => builder.body(body.as_str()),
        None => builder.build(),
    }
    .map_err(|e| FetchFailure::Invalid(e.to_string()))?;
    match built.send().await {
        Ok(inner) => Ok(FetchResponse { inner }),
        Err(_) if signal.is_some_and(AbortSignal::aborted) => Err(FetchFailure::Aborted),
        Err(_) => Err(FetchFailure::Network),
    }
}

impl FetchResponse {
    pub fn status(&self) -> u16 {
        self.inner.status()
    }

    /// A response header; only CORS-exposed headers are visible for cross-origin replies.
    pub fn header(&self, name: &str) -> Option<String> {
        self.inner.headers().get(name)
    }

    /// The body as a chunk reader, or `None` when there is no body.
    pub fn body(&self) -> Option<BodyReader> {
        let stream = self.inner.body()?;
        let reader = stream.get_reader().dyn_into::<ReadableStreamDefaultReader>().ok()?;
        Some(BodyReader { reader })
    }

    /// The whole body as text, cut off at `limit` bytes (invalid UTF-8 is replaced).
    pub async fn text_up_to(&self, limit: usize) -> Result<String, TransportError> {
        let Some(mut body) = self.body() else { return Ok(String::new()) };
        let mut bytes = Vec::new();
        while let Some(chunk) = body.next_chunk().await? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() >= limit {
                bytes.truncate(limit);
                body.cancel();
                break;
            }
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// Reads a response body chunk by chunk.
pub struct BodyReader {
    reader: ReadableStreamDefaultReader,
}

impl BodyReader {
    /// The next chunk, or `None` at the end of the body.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, TransportError> {
        let result = JsFuture::from(self.reader.read())
            .await
            .map_err(|e| TransportError::Interrupted(describe(&e)))?;
        let done = js_sys::Reflect::get(&result, &"done".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        if done {
            return Ok(None);
        }
        let value = js_sys::Reflect::get(&result, &"value".into())
            .map_err(|e| TransportError::Interrupted(describe(&e)))?;
        match value.dyn_into::<js_sys::Uint8Array>() {
            Ok(array) => Ok(Some(array.to_vec())),
            Err(_) => {
                Err(TransportError::Malformed("the body stream yielded a non-byte chunk".into()))
            }
        }
    }

    /// Stops reading; the browser closes the connection. The cancellation's promise rejects when
    /// the fetch was aborted; it is awaited so that the rejection is handled, not reported to the
    /// browser console as uncaught.
    pub fn cancel(&mut self) {
        let cancelled = JsFuture::from(self.reader.cancel());
        wasm_bindgen_futures::spawn_local(async move {
            let _ = cancelled.await;
        });
    }
}

fn describe(error: &wasm_bindgen::JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".into())
}
