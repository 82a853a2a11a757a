//! Howl's WebSocket transport (RFC 6455, server side, no extensions): the HTTP upgrade
//! ([`upgrade`], on axum's routing and hyper's upgrade), frames written whole from shared,
//! fully framed buffers ([`Frame`]), and the read side ([`Reader`]).
//!
//! Why not a WebSocket crate's stream for all of it: every one (tungstenite, fastwebsockets,
//! …) owns the socket behind `&mut self` and copies each outgoing message into a per-connection
//! write buffer, so a fan-out to N subscribers costs N frame encodings and N buffer copies, and
//! only the connection's own task can write. Server → client frames are unmasked, so a frame's
//! bytes (header + payload) are the same for every subscriber: Howl frames each publication
//! once and the fan-out writes that buffer straight to the socket when the connection has
//! nothing queued (see [`crate::outbox`]). What is written here is only that: the framing of
//! outgoing buffers and the message assembly rules of the read side. Parsing frame headers,
//! opcodes and close codes comes from `tungstenite`'s frame module.
//!
//! The read side keeps no buffer while a connection is idle: one is allocated when bytes
//! arrive and freed as soon as every complete frame in it has been taken.

pub mod upgrade;

use bytes::{Buf, Bytes, BytesMut};
use std::io::{self, Cursor};
use tokio::net::TcpStream;
use tungstenite::protocol::frame::coding::{CloseCode, Control, Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;

/// The largest control frame payload (RFC 6455 §5.5).
const MAX_CONTROL_PAYLOAD: usize = 125;

/// One fully framed server → client WebSocket frame (header and payload), shared by every
/// connection it goes to. Cloning shares the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    wire: Bytes,
    header: u8,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the payload: frames carry users' messages.
        f.debug_struct("Frame")
            .field("opcode", &(self.wire[0] & 0x0F))
            .field("len", &self.len())
            .finish()
    }
}

impl Frame {
    /// Frames `payload` as one final frame with `opcode` (header bytes written in front of it).
    fn framed(opcode: OpCode, payload: &[u8]) -> Self {
        let header = FrameHeader {
            opcode,
            ..FrameHeader::default()
        };
        let header_len = header.len(payload.len() as u64);
        let mut wire = Vec::with_capacity(header_len + payload.len());
        header
            .format(payload.len() as u64, &mut wire)
            .expect("writing to a Vec cannot fail");
        wire.extend_from_slice(payload);
        Self {
            wire: Bytes::from(wire),
            header: header_len as u8,
        }
    }

    /// A text frame.
    pub fn text(text: &str) -> Self {
        Self::framed(OpCode::Data(Data::Text), text.as_bytes())
    }

    /// A binary frame.
    pub fn binary(data: &[u8]) -> Self {
        Self::framed(OpCode::Data(Data::Binary), data)
    }

    /// A Ping with an empty payload.
    pub fn ping() -> Self {
        Self::framed(OpCode::Control(Control::Ping), &[])
    }

    /// The Pong answering a Ping with `payload` (at most 125 bytes, as the reader enforces).
    pub fn pong(payload: &[u8]) -> Self {
        Self::framed(OpCode::Control(Control::Pong), payload)
    }

    /// A Close frame: with `code` and `reason` (cut to fit a control frame at a character
    /// boundary), or empty.
    pub fn close(close: Option<(u16, &str)>) -> Self {
        let mut payload = Vec::new();
        if let Some((code, reason)) = close {
            payload.extend_from_slice(&code.to_be_bytes());
            let mut end = reason.len().min(MAX_CONTROL_PAYLOAD - 2);
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            payload.extend_from_slice(&reason.as_bytes()[..end]);
        }
        Self::framed(OpCode::Control(Control::Close), &payload)
    }

    /// The payload's length in bytes (what the outbox's byte limit counts).
    pub fn len(&self) -> usize {
        self.wire.len() - usize::from(self.header)
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes that go on the wire: header and payload.
    pub fn wire(&self) -> &[u8] {
        &self.wire
    }

    /// The payload.
    pub fn payload(&self) -> &[u8] {
        &self.wire[usize::from(self.header)..]
    }

    /// A text frame's payload as text ("" for a payload that is not UTF-8, which only a
    /// binary frame can have).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.payload()).unwrap_or_default()
    }
}

impl From<String> for Frame {
    fn from(text: String) -> Self {
        Self::text(&text)
    }
}

impl From<&str> for Frame {
    fn from(text: &str) -> Self {
        Self::text(text)
    }
}

/// A message or control frame read from a client.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A whole text message (fragments reassembled), valid UTF-8.
    Text(String),
    /// A whole binary message.
    Binary(Bytes),
    /// A Ping; the reader's owner answers it with [`Frame::pong`].
    Ping(Bytes),
    /// A Pong.
    Pong,
    /// A Close, with its code and reason when it carried them.
    Close(Option<(u16, String)>),
}

/// Why reading from a client stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The socket failed.
    #[error("read failed: {0}")]
    Io(#[from] io::Error),
    /// The client closed the TCP connection without a Close frame.
    #[error("closed without a close frame")]
    Eof,
    /// A message or frame was over `--max-message-size` (close 1009).
    #[error("message over {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// A text message (or a close reason) was not UTF-8 (close 1007).
    #[error("invalid UTF-8 in a text message or close reason")]
    InvalidUtf8,
    /// The client broke the framing rules (close 1002).
    #[error("protocol error: {0}")]
    Protocol(&'static str),
}

impl ReadError {
    /// The close code this error is answered with, if any (none for a lost connection).
    pub fn close_code(&self) -> Option<u16> {
        match self {
            ReadError::Io(_) | ReadError::Eof => None,
            ReadError::TooLarge { .. } => Some(1009),
            ReadError::InvalidUtf8 => Some(1007),
            ReadError::Protocol(_) => Some(1002),
        }
    }
}

/// A message being reassembled from fragments.
struct Fragments {
    binary: bool,
    data: BytesMut,
    /// How much of `data` is known to be valid UTF-8 (text messages are checked as their
    /// fragments arrive, so an invalid one fails early).
    checked: usize,
}

/// The read side of one connection: frames in, whole messages and control frames out.
pub struct Reader {
    /// Bytes read but not yet a whole frame; `None` whenever nothing is pending.
    pending: Option<BytesMut>,
    fragments: Option<Box<Fragments>>,
    // u32 (settings are at most 64 MiB): the reader lives in every connection's task.
    max_message_size: u32,
    /// Bytes asked of the socket per read.
    read_size: u32,
}

impl Reader {
    /// A reader for messages of at most `max_message_size` bytes that reads `read_size` bytes
    /// at a time, starting with `read` (bytes already read past the HTTP upgrade).
    pub fn new(read: Bytes, max_message_size: usize, read_size: usize) -> Self {
        Self {
            pending: (!read.is_empty()).then(|| BytesMut::from(&read[..])),
            fragments: None,
            max_message_size: u32::try_from(max_message_size).unwrap_or(u32::MAX),
            read_size: u32::try_from(read_size.max(64)).unwrap_or(u32::MAX),
        }
    }

    /// Waits for the next message or control frame. Cancel safe: what was read stays in
    /// the reader.
    pub async fn recv(&mut self, stream: &TcpStream) -> Result<Incoming, ReadError> {
        loop {
            if let Some(incoming) = self.try_recv(stream)? {
                return Ok(incoming);
            }
            stream.readable().await?;
        }
    }

    /// The next message or control frame if one can be had without waiting: from the bytes
    /// already read, else from one non-blocking read. `None` once the socket has nothing
    /// more for now; then its read readiness is cleared, so `TcpStream::poll_read_ready`
    /// says when to come back. While it returns something, call it again before waiting:
    /// more frames may be pending here.
    pub fn try_recv(&mut self, stream: &TcpStream) -> Result<Option<Incoming>, ReadError> {
        loop {
            if let Some(incoming) = self.next_frame()? {
                return Ok(Some(incoming));
            }
            if !self.fill(stream)? {
                return Ok(None);
            }
        }
    }

    /// One non-blocking read into the pending buffer (allocated only now); `false` when
    /// the socket had nothing.
    fn fill(&mut self, stream: &TcpStream) -> Result<bool, ReadError> {
        let buffer = self
            .pending
            .get_or_insert_with(|| BytesMut::with_capacity(self.read_size as usize));
        buffer.reserve(self.read_size as usize);
        match stream.try_read_buf(buffer) {
            Ok(0) => Err(ReadError::Eof),
            Ok(_) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                if buffer.is_empty() {
                    self.pending = None;
                }
                Ok(false)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Takes frames from the pending bytes until one yields something for the caller.
    fn next_frame(&mut self) -> Result<Option<Incoming>, ReadError> {
        loop {
            let Some(buffer) = self.pending.as_mut() else {
                return Ok(None);
            };
            let mut cursor = Cursor::new(&buffer[..]);
            let parsed = FrameHeader::parse(&mut cursor).map_err(|error| match error {
                tungstenite::Error::Protocol(_) => ReadError::Protocol("reserved opcode"),
                _ => ReadError::Protocol("malformed frame header"),
            })?;
            let Some((header, length)) = parsed else {
                return Ok(None);
            };
            let header_len = cursor.position() as usize;
            if length > u64::from(self.max_message_size) {
                return Err(ReadError::TooLarge {
                    limit: self.max_message_size as usize,
                });
            }
            let total = header_len + length as usize;
            if buffer.len() < total {
                check_partial_text(&header, &buffer[header_len..], self.fragments.as_deref())?;
                buffer.reserve(total - buffer.len());
                return Ok(None);
            }
            let mut payload = buffer.split_to(total);
            if buffer.is_empty() {
                self.pending = None;
            }
            payload.advance(header_len);
            if let Some(incoming) = self.on_frame(header, payload)? {
                return Ok(Some(incoming));
            }
        }
    }

    /// Applies the framing rules to one whole frame.
    fn on_frame(
        &mut self,
        header: FrameHeader,
        mut payload: BytesMut,
    ) -> Result<Option<Incoming>, ReadError> {
        if header.rsv1 || header.rsv2 || header.rsv3 {
            // No extension was negotiated.
            return Err(ReadError::Protocol("reserved bits set"));
        }
        let Some(mask) = header.mask else {
            return Err(ReadError::Protocol("unmasked client frame"));
        };
        unmask(&mut payload, mask);
        match header.opcode {
            OpCode::Control(control) => {
                if !header.is_final {
                    return Err(ReadError::Protocol("fragmented control frame"));
                }
                if payload.len() > MAX_CONTROL_PAYLOAD {
                    return Err(ReadError::Protocol("control frame over 125 bytes"));
                }
                match control {
                    Control::Ping => Ok(Some(Incoming::Ping(payload.freeze()))),
                    Control::Pong => Ok(Some(Incoming::Pong)),
                    Control::Close => close_payload(&payload).map(|c| Some(Incoming::Close(c))),
                    Control::Reserved(_) => Err(ReadError::Protocol("reserved opcode")),
                }
            }
            OpCode::Data(Data::Continue) => {
                let Some(fragments) = self.fragments.as_mut() else {
                    return Err(ReadError::Protocol("continuation without a message"));
                };
                if fragments.data.len() + payload.len() > self.max_message_size as usize {
                    return Err(ReadError::TooLarge {
                        limit: self.max_message_size as usize,
                    });
                }
                fragments.data.extend_from_slice(&payload);
                if !fragments.binary {
                    check_utf8(fragments, header.is_final)?;
                }
                if !header.is_final {
                    return Ok(None);
                }
                let fragments = self.fragments.take().expect("checked above");
                Ok(Some(message(fragments.binary, fragments.data)?))
            }
            OpCode::Data(kind @ (Data::Text | Data::Binary)) => {
                if self.fragments.is_some() {
                    return Err(ReadError::Protocol("new message inside a fragmented one"));
                }
                let binary = kind == Data::Binary;
                if header.is_final {
                    return Ok(Some(message(binary, payload)?));
                }
                let mut fragments = Box::new(Fragments {
                    binary,
                    data: payload,
                    checked: 0,
                });
                if !binary {
                    check_utf8(&mut fragments, false)?;
                }
                self.fragments = Some(fragments);
                Ok(None)
            }
            OpCode::Data(Data::Reserved(_)) => Err(ReadError::Protocol("reserved opcode")),
        }
    }
}

/// XORs the client's masking key into the payload (RFC 6455 §5.3). tungstenite keeps its
/// own version private.
fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    let key = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = payload.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let word = u64::from_ne_bytes(chunk.try_into().expect("8 bytes")) ^ key;
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= mask[i & 3];
    }
}

/// How long a partial text frame may be and still be checked before it is complete.
const EARLY_CHECK: usize = 4096;

/// Fails a text frame whose bytes so far cannot be UTF-8 before the rest arrives (RFC 6455
/// §8.1: fail as soon as invalid text is seen; Autobahn cases 6.4.3 and 6.4.4). Only for the
/// first [`EARLY_CHECK`] bytes of a frame: the check re-reads the partial frame on each read,
/// and no state for it is kept (the reader lives in every idle connection's task). A frame
/// that breaks another rule is left for [`Reader::on_frame`] to refuse with its own code.
fn check_partial_text(
    header: &FrameHeader,
    available: &[u8],
    fragments: Option<&Fragments>,
) -> Result<(), ReadError> {
    let Some(mask) = header.mask else {
        return Ok(());
    };
    if header.rsv1 || header.rsv2 || header.rsv3 || available.len() > EARLY_CHECK {
        return Ok(());
    }
    // What an incomplete character at the end of the earlier fragments left unchecked.
    let carried = match (header.opcode, fragments) {
        (OpCode::Data(Data::Text), None) => &[][..],
        (OpCode::Data(Data::Continue), Some(f)) if !f.binary => &f.data[f.checked..],
        _ => return Ok(()),
    };
    let mut text = Vec::with_capacity(carried.len() + available.len());
    text.extend_from_slice(carried);
    text.extend_from_slice(available);
    unmask(&mut text[carried.len()..], mask);
    match std::str::from_utf8(&text) {
        Err(error) if error.error_len().is_some() => Err(ReadError::InvalidUtf8),
        // Valid so far, or a character cut off by the end of what has arrived.
        _ => Ok(()),
    }
}

/// Checks the text received so far; an incomplete character at the end is fine until the
/// last fragment.
fn check_utf8(fragments: &mut Fragments, last: bool) -> Result<(), ReadError> {
    match std::str::from_utf8(&fragments.data[fragments.checked..]) {
        Ok(_) => {
            fragments.checked = fragments.data.len();
            Ok(())
        }
        Err(error) if error.error_len().is_none() && !last => {
            fragments.checked += error.valid_up_to();
            Ok(())
        }
        Err(_) => Err(ReadError::InvalidUtf8),
    }
}

fn message(binary: bool, data: BytesMut) -> Result<Incoming, ReadError> {
    if binary {
        return Ok(Incoming::Binary(data.freeze()));
    }
    String::from_utf8(data.into())
        .map(Incoming::Text)
        .map_err(|_| ReadError::InvalidUtf8)
}

/// A Close frame's code and reason (RFC 6455 §5.5.1, §7.4).
fn close_payload(payload: &[u8]) -> Result<Option<(u16, String)>, ReadError> {
    match payload {
        [] => Ok(None),
        [_] => Err(ReadError::Protocol("close frame with a 1-byte payload")),
        [high, low, reason @ ..] => {
            let code = u16::from_be_bytes([*high, *low]);
            if !CloseCode::from(code).is_allowed() || !(1000..5000).contains(&code) {
                return Err(ReadError::Protocol("invalid close code"));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| ReadError::InvalidUtf8)?;
            Ok(Some((code, reason.to_owned())))
        }
    }
}

#[cfg(test)]
mod tests;
