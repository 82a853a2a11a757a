//! The bench payload: a JSON string `s<seq>t<send time µs>-xxx…` padded to the configured
//! size, so the hub carries it as-is and subscribers find it with one search.

/// What a subscriber searches for in a `message` frame.
pub const DATA_MARKER: &[u8] = br#""data":"s"#;

/// Writes the payload text (without quotes) for `seq` sent at `sent_us` into `out`, padded
/// with `x` to at least `size` bytes.
pub fn write(seq: u64, sent_us: u64, size: usize, out: &mut String) {
    use std::fmt::Write;
    out.clear();
    let _ = write!(out, "s{seq}t{sent_us}-");
    while out.len() < size {
        out.push('x');
    }
}

/// Reads `(seq, sent_us)` from a frame holding a bench payload.
pub fn parse(frame: &[u8], finder: &memchr::memmem::Finder<'_>) -> Option<(u64, u64)> {
    let at = finder.find(frame)? + DATA_MARKER.len();
    let (seq, rest) = number(&frame[at..])?;
    let rest = rest.strip_prefix(b"t")?;
    let (sent, _) = number(rest)?;
    Some((seq, sent))
}

fn number(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 19 {
        return None;
    }
    let value = bytes[..digits]
        .iter()
        .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
    Some((value, &bytes[digits..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_a_message_frame() {
        let mut text = String::new();
        write(42, 1_234_567, 128, &mut text);
        assert_eq!(text.len(), 128);
        assert!(text.starts_with("s42t1234567-xx"));
        let frame = format!(
            r#"{{"type":"message","payload":{{"channel":"bench","seq":43,"time":1,"data":"{text}"}}}}"#
        );
        let finder = memchr::memmem::Finder::new(DATA_MARKER);
        assert_eq!(parse(frame.as_bytes(), &finder), Some((42, 1_234_567)));
        assert_eq!(parse(br#"{"data":"sx"}"#, &finder), None);
    }
}
