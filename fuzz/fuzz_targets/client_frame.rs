//! `decode_client` (and `decode_server`) on arbitrary text: never panics, and every frame that
//! decodes re-encodes with `to_json` to a frame that decodes to an equal message.
#![no_main]

use howl_protocol::{decode_client, decode_server};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(message) = decode_client(text) {
        let encoded = message.to_json();
        let again = decode_client(&encoded)
            .unwrap_or_else(|e| panic!("{encoded} (from {text:?}) does not decode: {e}"));
        assert_eq!(again, message, "{encoded} (from {text:?})");
        assert_eq!(again.to_json(), encoded, "encoding is not stable");
    }
    // The other direction shares the decoder's code; clients run it on every frame.
    if let Ok(message) = decode_server(text) {
        let encoded = message.to_json();
        let again = decode_server(&encoded)
            .unwrap_or_else(|e| panic!("{encoded} (from {text:?}) does not decode: {e}"));
        assert_eq!(again, message, "{encoded} (from {text:?})");
        assert_eq!(again.to_json(), encoded, "encoding is not stable");
    }
});
