//! Fuzzing of what the console reads from authorization servers and protected resources: the
//! protected-resource metadata (RFC 9728), the authorization server's metadata (RFC 8414) and
//! its checks, and the token endpoint's answer. On any bytes each must return (never panic), and
//! every refusal must be a sentence.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_console::core::auth::metadata::{
    AuthorizationServerMetadata, ProtectedResourceMetadata, validate_resource_metadata,
    validate_server_metadata,
};
use mcp_console::core::auth::token::{TokenContext, read_token_response};
use mcp_console::core::json::FromJson;
use serde_json::Value;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let (Ok(server), Ok(at)) = (
        Url::parse("https://mcp.example.com/mcp"),
        Url::parse("https://mcp.example.com/.well-known/oauth-protected-resource/mcp"),
    ) else {
        return;
    };
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        if let Ok(prm) = ProtectedResourceMetadata::from_json(value.clone()) {
            if let Err(e) = validate_resource_metadata(&prm, &server, &at, None) {
                assert!(!e.to_string().is_empty(), "a refusal without a sentence");
            }
        }
        if let Ok(metadata) = AuthorizationServerMetadata::from_json(value) {
            let issuer = "https://login.example.com/tenant/v2.0";
            if let Err(e) = validate_server_metadata(&metadata, issuer, &at) {
                assert!(!e.to_string().is_empty(), "a refusal without a sentence");
            }
        }
    }
    let scopes = ["api://x/mcp:tools".to_owned()];
    let ctx = TokenContext {
        issuer: "https://login.example.com/tenant/v2.0",
        nonce: Some("n-0"),
        scopes: &scopes,
        redirect_uri: Some("https://console.example.com/callback.html"),
    };
    // The status, too, comes from the server: every class of it, with the same body.
    for status in [200, 400, 401, 500] {
        if let Err(e) = read_token_response(status, data, 0, &ctx) {
            assert!(!e.to_string().is_empty(), "a refusal without a sentence");
        }
    }
});
