//! Helpers shared by Howl's fuzz targets (in `fuzz_targets/`, run with `scripts/fuzz`).
//!
//! Targets that take a sequence of frames read their input as newline-separated text, so the
//! seed corpus in `corpus/<target>/` stays readable: one JSON frame per line, exactly as the
//! tests send them.

use std::borrow::Cow;

/// The byte that separates frames in a multi-frame input.
pub const SEPARATOR: u8 = b'\n';

/// The connection id the seeds use: the one in `protocol/tests/golden.rs`. Targets that need
/// an id give the session this one, so seeded frames pass the id check.
pub const ID: &str = "7f1d6c1e-3b9a-4c4e-9a55-2f0e8d1c9b11";

/// Splits `data` into frames at [`SEPARATOR`]. A WebSocket text frame is always UTF-8, so
/// invalid bytes become U+FFFD rather than ending the input: the fuzzer keeps exploring what
/// follows them.
pub fn frames(data: &[u8]) -> impl Iterator<Item = Cow<'_, str>> {
    data.split(|&b| b == SEPARATOR).map(String::from_utf8_lossy)
}
