//! Fuzzing of `core::jsonrpc`: `Message::decode_all` takes untrusted text from a server, so on
//! any text it must return (never panic), and every message it decodes must survive the wire:
//! `decode_all(encode(m))` is exactly `[m]`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_console::core::jsonrpc::Message;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let messages = match Message::decode_all(&text) {
        Ok(messages) => messages,
        Err(err) => {
            assert!(!err.to_string().is_empty(), "an error without a sentence");
            return;
        }
    };
    assert!(!messages.is_empty(), "decode_all returned Ok with no message");
    for message in messages {
        let wire = message.encode();
        match Message::decode_all(&wire) {
            Ok(again) => assert_eq!(
                again,
                std::slice::from_ref(&message),
                "round trip changed the message\n  input: {text:?}\n  wire:  {wire}"
            ),
            Err(err) => panic!("encode() produced text decode_all() rejects ({err}): {wire}"),
        }
    }
});
