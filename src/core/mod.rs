//! The pure heart of the console: every protocol decision, with no browser, clock, randomness or
//! I/O. Time comes in as arguments, bytes come in through `handle_*`/`feed` and go out through
//! `poll_*`, so every rule here is tested natively and deterministically.

pub mod address;
pub mod apps;
pub mod asks;
pub mod auth;
pub mod console;
pub mod embed;
pub mod engine;
pub mod history;
pub mod http;
pub mod json;
pub mod json_schema;
pub mod jsonrpc;
pub mod launch;
pub mod map;
pub mod mcp_headers;
pub mod negotiation;
pub mod pkce;
pub mod protocol;
pub mod reconnect;
pub mod schema_form;
pub mod session;
pub mod sse;
pub mod streamable;
pub mod tabs;
pub mod tasks;
#[cfg(test)]
mod testing;
pub mod uri_template;
