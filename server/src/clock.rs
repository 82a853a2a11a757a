//! The wall clock, as publications and the broker read it.

/// Milliseconds since the Unix epoch (0 if the system clock is before it).
pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
