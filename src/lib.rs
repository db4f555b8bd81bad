//! mcp-console: a zero-install console for OAuth-protected MCP servers, compiled to WebAssembly.
//!
//! Three rooms with one-way doors: [`core`] decides everything and is pure Rust, [`platform`] is
//! the only place browser APIs appear, and [`ui`] renders state with Leptos. See ARCHITECTURE.md.

pub mod core;
pub mod platform;
pub mod ui;
