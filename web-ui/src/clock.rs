//! Shows server times (milliseconds since the Unix epoch) as the reader's local clock time.

/// `HH:MM:SS.mmm` in the browser's time zone.
pub fn local_time(epoch_ms: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(epoch_ms as f64));
    hms(
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds(),
        date.get_milliseconds(),
    )
}

fn hms(hours: u32, minutes: u32, seconds: u32, millis: u32) -> String {
    format!("{hours:02}:{minutes:02}:{seconds:02}.{millis:03}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn pads_every_field() {
        assert_eq!(super::hms(7, 5, 9, 42), "07:05:09.042");
        assert_eq!(super::hms(23, 59, 59, 999), "23:59:59.999");
    }
}
