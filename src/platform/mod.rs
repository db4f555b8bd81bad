//! The browser, and nothing else: fetch with streamed bodies, the clock and timers, the page's
//! address, and the async driver that pumps a `core` session over HTTP. No protocol decisions are
//! made here — every "what does this mean" question is answered by `core`.

pub mod auth;
pub mod clock;
pub mod connection;
pub mod embed;
pub mod fetch;
pub mod frames;
pub mod location;
pub mod messages;
pub mod page;
