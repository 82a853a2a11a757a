use super::*;

/// A client frame: masked with a fixed key.
fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x12, 0x34, 0x56, 0x78];
    let mut out = vec![first];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n < 65536 => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

fn reader_with(bytes: &[u8], max: usize) -> Reader {
    Reader::new(Bytes::copy_from_slice(bytes), max, 512)
}

/// More bytes from the socket, behind what the reader holds.
fn feed(reader: &mut Reader, bytes: &[u8]) {
    reader.pending.as_mut().unwrap().extend_from_slice(bytes);
}

fn next(reader: &mut Reader) -> Result<Option<Incoming>, ReadError> {
    reader.next_frame()
}

#[test]
fn frames_are_framed_once_with_the_shortest_length() {
    let small = Frame::text("hi");
    assert_eq!(small.wire(), b"\x81\x02hi");
    assert_eq!((small.len(), small.as_str()), (2, "hi"));
    let medium = Frame::text(&"x".repeat(300));
    assert_eq!(&medium.wire()[..4], &[0x81, 126, 1, 44]);
    assert_eq!(medium.len(), 300);
    let large = Frame::binary(&vec![7; 70_000]);
    assert_eq!(&large.wire()[..2], &[0x82, 127]);
    assert_eq!(large.payload().len(), 70_000);
    assert_eq!(Frame::ping().wire(), b"\x89\x00");
    assert_eq!(
        Frame::close(Some((1000, "bye"))).wire(),
        b"\x88\x05\x03\xe8bye"
    );
    let long_reason = "é".repeat(100);
    assert!(Frame::close(Some((4001, &long_reason))).len() <= 125);
}

#[test]
fn whole_and_fragmented_messages_are_read_and_control_frames_pass_between() {
    let mut bytes = client_frame(0x81, b"hello");
    bytes.extend(client_frame(0x01, b"fra"));
    bytes.extend(client_frame(0x89, b"p"));
    bytes.extend(client_frame(0x80, "gmenté".as_bytes()));
    bytes.extend(client_frame(0x82, &[1, 2, 3]));
    let mut reader = reader_with(&bytes, 1024);
    assert_eq!(
        next(&mut reader).unwrap(),
        Some(Incoming::Text("hello".into()))
    );
    assert_eq!(
        next(&mut reader).unwrap(),
        Some(Incoming::Ping(Bytes::from_static(b"p")))
    );
    assert_eq!(
        next(&mut reader).unwrap(),
        Some(Incoming::Text("fragmenté".into()))
    );
    assert_eq!(
        next(&mut reader).unwrap(),
        Some(Incoming::Binary(Bytes::from_static(&[1, 2, 3])))
    );
    assert_eq!(next(&mut reader).unwrap(), None);
    assert!(
        reader.pending.is_none(),
        "no buffer is kept once all is read"
    );
}

#[test]
fn a_partial_frame_waits_for_the_rest() {
    let bytes = client_frame(0x81, b"hello");
    let mut reader = reader_with(&bytes[..4], 1024);
    assert_eq!(next(&mut reader).unwrap(), None);
    feed(&mut reader, &bytes[4..]);
    assert_eq!(
        next(&mut reader).unwrap(),
        Some(Incoming::Text("hello".into()))
    );
}

#[test]
fn invalid_text_fails_before_its_frame_is_complete() {
    // Valid, then an invalid byte, then the rest that never needs to arrive.
    let bytes = client_frame(0x81, b"caf\xc3\xa9 \xff and more");
    let mut reader = reader_with(&bytes[..6 + 4], 1024);
    assert_eq!(next(&mut reader).unwrap(), None, "valid so far");
    feed(&mut reader, &bytes[10..14]);
    assert!(matches!(next(&mut reader), Err(ReadError::InvalidUtf8)));
    // A character cut by the end of what arrived is not an error, in a continuation either.
    let first = client_frame(0x01, b"caf\xc3");
    let second = client_frame(0x80, b"\xa9!");
    let mut joined = first.clone();
    joined.extend_from_slice(&second[..7]);
    let mut reader = reader_with(&joined, 1024);
    assert_eq!(next(&mut reader).unwrap(), None);
    feed(&mut reader, &second[7..]);
    assert_eq!(
        next(&mut reader).unwrap(),
        Some(Incoming::Text("café!".into()))
    );
    // A binary frame is never checked.
    let binary = client_frame(0x82, b"\xff\xfe\xfd\xfc\xfb");
    let mut reader = reader_with(&binary[..8], 1024);
    assert_eq!(next(&mut reader).unwrap(), None);
}

fn error_of(bytes: &[u8], max: usize) -> ReadError {
    let mut reader = reader_with(bytes, max);
    loop {
        match next(&mut reader) {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("no error"),
            Err(error) => return error,
        }
    }
}

#[test]
fn protocol_errors_get_their_close_codes() {
    let code = |bytes: &[u8]| error_of(bytes, 1024).close_code();
    // Reserved bits, reserved opcodes, unmasked frames.
    assert_eq!(code(&client_frame(0xC1, b"x")), Some(1002));
    assert_eq!(code(&client_frame(0x83, b"x")), Some(1002));
    assert_eq!(code(&client_frame(0x8B, b"x")), Some(1002));
    assert_eq!(code(b"\x81\x01x"), Some(1002));
    // Control frames: fragmented, too long; close with 1 byte or a bad code.
    assert_eq!(code(&client_frame(0x09, b"")), Some(1002));
    assert_eq!(code(&client_frame(0x89, &[0; 126])), Some(1002));
    assert_eq!(code(&client_frame(0x88, &[3])), Some(1002));
    assert_eq!(
        code(&client_frame(0x88, &1005u16.to_be_bytes())),
        Some(1002)
    );
    assert_eq!(code(&client_frame(0x88, &999u16.to_be_bytes())), Some(1002));
    // Continuations out of place.
    assert_eq!(code(&client_frame(0x80, b"x")), Some(1002));
    let mut bytes = client_frame(0x01, b"a");
    bytes.extend(client_frame(0x81, b"b"));
    assert_eq!(code(&bytes), Some(1002));
    // Invalid UTF-8: whole, in a close reason, and early in a fragmented message.
    assert_eq!(code(&client_frame(0x81, &[0xff])), Some(1007));
    assert_eq!(code(&client_frame(0x88, &[3, 232, 0xff])), Some(1007));
    assert_eq!(code(&client_frame(0x01, &[b'a', 0xc0, 0x80])), Some(1007));
}

#[test]
fn messages_over_the_limit_are_refused_whole_or_fragmented() {
    let error = error_of(&client_frame(0x81, &[b'a'; 11]), 10);
    assert_eq!(error.close_code(), Some(1009));
    let mut bytes = client_frame(0x01, &[b'a'; 6]);
    bytes.extend(client_frame(0x80, &[b'a'; 6]));
    assert_eq!(error_of(&bytes, 10).close_code(), Some(1009));
    // The header alone decides: no room is reserved for a frame over the limit.
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&(1u64 << 40).to_be_bytes());
    header.extend_from_slice(&[0; 4]);
    assert_eq!(error_of(&header, 10).close_code(), Some(1009));
}

#[test]
fn close_frames_carry_code_and_reason() {
    let mut payload = 4000u16.to_be_bytes().to_vec();
    payload.extend_from_slice(b"done");
    let mut reader = reader_with(&client_frame(0x88, &payload), 1024);
    assert_eq!(
        next(&mut reader).unwrap(),
        Some(Incoming::Close(Some((4000, "done".into()))))
    );
    let mut reader = reader_with(&client_frame(0x88, b""), 1024);
    assert_eq!(next(&mut reader).unwrap(), Some(Incoming::Close(None)));
}

#[test]
fn unmasking_matches_the_byte_by_byte_rule() {
    let mask = [1, 2, 3, 4];
    for len in 0..40 {
        let original: Vec<u8> = (0..len as u8).collect();
        let mut data = original.clone();
        unmask(&mut data, mask);
        let expected: Vec<u8> = original
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4])
            .collect();
        assert_eq!(data, expected);
    }
}
