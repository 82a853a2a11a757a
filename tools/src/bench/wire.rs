//! A minimal WebSocket client: the HTTP upgrade, masked text frames out, and a parser for
//! the hub's unmasked frames reading straight from a reusable buffer. Only what the bench
//! needs, so one core can drive tens of thousands of sockets.

use crate::target::WsUrl;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Frame opcodes used here.
pub mod opcode {
    /// Text frame.
    pub const TEXT: u8 = 0x1;
    /// Close frame.
    pub const CLOSE: u8 = 0x8;
    /// Ping frame.
    pub const PING: u8 = 0x9;
    /// Pong frame.
    pub const PONG: u8 = 0xA;
}

/// The largest frame accepted from the node.
const MAX_FRAME: usize = 16 << 20;
/// The mask every client frame uses (clients must mask; any key is valid).
const MASK: [u8; 4] = [0x5a, 0xc3, 0x17, 0x8e];

/// What went wrong on a connection.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// A socket operation failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The upgrade was refused.
    #[error("upgrade refused: {0}")]
    Refused(String),
    /// The peer sent something this client does not speak.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The peer closed the connection.
    #[error("closed by the server{}", .0.map(|c| format!(" with code {c}")).unwrap_or_default())]
    Closed(Option<u16>),
}

/// A buffer of bytes read from the socket, parsed into frames in place.
pub struct FrameReader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

/// One parsed frame: its opcode and where its payload lies in the reader's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The opcode ([`opcode`]).
    pub opcode: u8,
    /// Payload position in [`FrameReader::bytes`].
    pub payload: std::ops::Range<usize>,
}

impl FrameReader {
    /// An empty reader with `capacity` bytes of buffer (grown on demand for large frames).
    pub fn new(capacity: usize) -> Self {
        Self {
            buf: vec![0; capacity.max(256)],
            start: 0,
            end: 0,
        }
    }

    /// The buffer the frames' ranges refer to.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Reads once from `io` into the free space; `Ok(0)` means end of stream. Cancel-safe.
    pub async fn fill<R: AsyncRead + Unpin>(&mut self, io: &mut R) -> std::io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let len = self.buf.len() * 2;
                self.buf.resize(len, 0);
            }
        }
        let n = io.read(&mut self.buf[self.end..]).await?;
        self.end += n;
        Ok(n)
    }

    /// The next complete frame, if one is buffered.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, WireError> {
        let data = &self.buf[self.start..self.end];
        if data.len() < 2 {
            return Ok(None);
        }
        let (b0, b1) = (data[0], data[1]);
        if b0 & 0x80 == 0 {
            return Err(WireError::Protocol(
                "fragmented frames are not supported".into(),
            ));
        }
        if b1 & 0x80 != 0 {
            return Err(WireError::Protocol("the server masked a frame".into()));
        }
        let (len, header) = match b1 & 0x7f {
            126 if data.len() >= 4 => (u16::from_be_bytes([data[2], data[3]]) as usize, 4),
            127 if data.len() >= 10 => {
                let mut n = [0; 8];
                n.copy_from_slice(&data[2..10]);
                (u64::from_be_bytes(n) as usize, 10)
            }
            126 | 127 => return Ok(None),
            n => (n as usize, 2),
        };
        if len > MAX_FRAME {
            return Err(WireError::Protocol(format!("frame of {len} bytes")));
        }
        if data.len() < header + len {
            if self.start + header + len > self.buf.len() {
                // Make room for the whole frame: move it to the front, grow if needed.
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
                if header + len > self.buf.len() {
                    self.buf.resize(header + len, 0);
                }
            }
            return Ok(None);
        }
        let begin = self.start + header;
        self.start = begin + len;
        Ok(Some(Frame {
            opcode: b0 & 0x0f,
            payload: begin..begin + len,
        }))
    }

    /// Moves bytes already buffered (e.g. after the upgrade response) into the reader.
    fn push(&mut self, bytes: &[u8]) {
        if self.end + bytes.len() > self.buf.len() {
            self.buf.resize(self.end + bytes.len(), 0);
        }
        self.buf[self.end..self.end + bytes.len()].copy_from_slice(bytes);
        self.end += bytes.len();
    }
}

/// Appends a masked client frame with `opcode` and `payload` to `out`.
pub fn encode(opcode: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push(0x80 | opcode);
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= u16::MAX as usize => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i & 3]));
}

/// Performs the HTTP upgrade on `io`; bytes after the response go into `reader`.
pub async fn upgrade<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    url: &WsUrl,
    reader: &mut FrameReader,
) -> Result<(), WireError> {
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        url.path,
        url.authority()
    );
    io.write_all(request.as_bytes()).await?;
    let mut head = Vec::with_capacity(256);
    let mut chunk = [0u8; 512];
    loop {
        let n = io.read(&mut chunk).await?;
        if n == 0 {
            return Err(WireError::Closed(None));
        }
        head.extend_from_slice(&chunk[..n]);
        if let Some(end) = memchr::memmem::find(&head, b"\r\n\r\n") {
            let status = String::from_utf8_lossy(
                &head[..head.iter().position(|&b| b == b'\r').unwrap_or(0)],
            )
            .into_owned();
            if !status.starts_with("HTTP/1.1 101") {
                return Err(WireError::Refused(status));
            }
            reader.push(&head[end + 4..]);
            return Ok(());
        }
        if head.len() > 16 * 1024 {
            return Err(WireError::Protocol("upgrade response too long".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unmask(frame: &[u8]) -> Vec<u8> {
        frame
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ MASK[i & 3])
            .collect()
    }

    #[test]
    fn encodes_masked_frames_of_every_length_form() {
        let mut out = Vec::new();
        encode(opcode::TEXT, b"hi", &mut out);
        assert_eq!(&out[..2], &[0x81, 0x82]);
        assert_eq!(unmask(&out[6..]), b"hi");
        out.clear();
        encode(opcode::TEXT, &[b'a'; 300], &mut out);
        assert_eq!(&out[..4], &[0x81, 0x80 | 126, 1, 44]);
        assert_eq!(out.len(), 4 + 4 + 300);
    }

    #[test]
    fn parses_frames_split_across_reads() {
        let mut wire = vec![0x81, 3, b'a', b'b', b'c', 0x89, 0];
        wire.extend_from_slice(&[0x81, 126, 1, 0]);
        wire.extend(std::iter::repeat_n(b'z', 256));
        let mut reader = FrameReader::new(256);
        reader.push(&wire[..4]);
        assert_eq!(reader.next_frame().unwrap(), None);
        reader.push(&wire[4..]);
        let f = reader.next_frame().unwrap().unwrap();
        assert_eq!((f.opcode, &reader.bytes()[f.payload]), (1, &b"abc"[..]));
        let f = reader.next_frame().unwrap().unwrap();
        assert_eq!((f.opcode, f.payload.len()), (opcode::PING, 0));
        let f = reader.next_frame().unwrap().unwrap();
        assert_eq!(f.payload.len(), 256);
        assert_eq!(reader.next_frame().unwrap(), None);
    }

    #[test]
    fn refuses_masked_and_fragmented_frames() {
        let mut reader = FrameReader::new(64);
        reader.push(&[0x01, 0]);
        assert!(reader.next_frame().is_err());
        let mut reader = FrameReader::new(64);
        reader.push(&[0x81, 0x80]);
        assert!(reader.next_frame().is_err());
    }
}
