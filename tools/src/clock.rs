//! Wall-clock time, comparable with the `time` the hub stamps on each message.

/// Milliseconds since the Unix epoch, by the system clock.
pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
