//! A connection's bounded queue of outgoing frames, and the write side of its socket.
//!
//! The fan-out hands shared, fully framed frames ([`Frame`]) to [`Outbox::push`] without
//! waiting. When nothing is queued for the connection, the frame is written to the socket on
//! the spot with one non-blocking write; only what the socket does not take at once is
//! queued, and the connection's writer task then takes over ([`Outbox::write`]: one
//! `writev` per wake-up, at most one [`Batch`]). Every write happens under the queue's lock,
//! so frames go out in the order they were pushed whoever writes them. A queue that fills up
//! marks its connection as a slow consumer instead of slowing the publisher down.

use parking_lot::Mutex;
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;

pub use crate::transport::Frame;

/// Why the hub wants a connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// The outgoing queue was full: the client reads slower than messages arrive.
    SlowConsumer(Limit),
}

/// Which of the queue's limits was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `--outbox-capacity` frames.
    Frames,
    /// `--outbox-max-bytes` bytes.
    Bytes,
}

/// What happened to a pushed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// The frame is written or queued.
    Queued,
    /// The queue was full: it is discarded with this many frames (the pushed one included)
    /// and the connection is now closing.
    Overflow(usize),
    /// The connection is already closing; the frame is dropped.
    Closed,
}

/// Why [`Outbox::write`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The queue overflowed: close the connection as a slow consumer.
    #[error("outgoing queue overflowed ({0:?})")]
    SlowConsumer(Limit),
    /// The socket took nothing for the write timeout.
    #[error("write blocked past the write timeout")]
    Stalled,
    /// The socket failed.
    #[error("write failed: {0}")]
    Io(#[from] io::Error),
}

/// How far one write got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    /// Nothing is queued any more.
    Done,
    /// A whole batch went out; more is queued.
    More,
    /// The socket took less than offered.
    Blocked,
}

#[derive(Default)]
struct State {
    frames: VecDeque<Frame>,
    /// Bytes of the front frame already written (a frame is never interleaved with another).
    written: usize,
    /// Payload bytes queued, for `--outbox-max-bytes`.
    bytes: usize,
    close: Option<Closing>,
    /// The connection is ending: nothing more is accepted.
    sealed: bool,
    /// A fan-out queued frames here and will write them once it has gone through every
    /// subscriber ([`Outbox::push_corked`], [`Outbox::flush_corked`]).
    corked: bool,
}

impl State {
    /// Drops every queued frame but a partly written one; returns how many were dropped.
    fn discard(&mut self) -> usize {
        let front = (self.written > 0)
            .then(|| self.frames.pop_front())
            .flatten();
        let dropped = self.frames.len();
        self.frames.clear();
        self.bytes = 0;
        if let Some(front) = front {
            self.bytes = front.len();
            self.frames.push_back(front);
        }
        dropped
    }
}

/// What one write takes at most while making room for a pushed frame.
const ROOM: Batch = Batch {
    frames: 1024,
    bytes: 1 << 20,
};

/// The outgoing queue of one connection.
pub struct Outbox {
    state: Mutex<State>,
    ready: Notify,
    capacity: usize,
    max_bytes: usize,
    /// Where frames go; without one (tests of the hub) frames only queue.
    socket: Option<Arc<TcpStream>>,
}

/// What one write may take from the queue at most, so a connection whose queue never
/// drains still gets back to reading its client between writes.
#[derive(Debug, Clone, Copy)]
pub struct Batch {
    /// Frames per write.
    pub frames: usize,
    /// Bytes per write (a batch holds at least one frame, whatever its size).
    pub bytes: usize,
}

impl Outbox {
    /// An empty queue holding at most `capacity` frames and `max_bytes` bytes of them, with
    /// no socket: frames stay queued until drained.
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        Self {
            state: Mutex::default(),
            ready: Notify::new(),
            capacity: capacity.max(1),
            max_bytes,
            socket: None,
        }
    }

    /// The queue of a connection on `socket`: pushed frames are written to it.
    pub fn for_socket(capacity: usize, max_bytes: usize, socket: Arc<TcpStream>) -> Self {
        Self {
            socket: Some(socket),
            ..Self::new(capacity, max_bytes)
        }
    }

    /// Writes a frame at once when nothing is queued and the socket takes it, else queues it
    /// for the writer; never waits.
    pub fn push(&self, frame: Frame) -> Push {
        let mut state = self.state.lock();
        if state.close.is_some() || state.sealed {
            return Push::Closed;
        }
        if let Some(limit) = self.make_room(&mut state, frame.len()) {
            state.close = Some(Closing::SlowConsumer(limit));
            // A frame partly on the wire is finished before the close frame.
            let dropped = state.discard() + 1;
            drop(state);
            self.ready.notify_one();
            return Push::Overflow(dropped);
        }
        let was_empty = state.frames.is_empty();
        if was_empty {
            if let Some(socket) = &self.socket {
                match socket.try_write(frame.wire()) {
                    Ok(n) if n == frame.wire().len() => return Push::Queued,
                    Ok(n) => state.written = n,
                    // Blocked, or failed: the writer finds out on its own write.
                    Err(_) => {}
                }
            }
        }
        state.bytes += frame.len();
        state.frames.push_back(frame);
        drop(state);
        // The writer drains the queue per wake-up, so only the first frame needs to wake it.
        if was_empty {
            self.ready.notify_one();
        }
        Push::Queued
    }

    /// Queues a frame for a fan-out without writing it (the cork): `(Push, true)` when the
    /// caller must call [`Outbox::flush_corked`] once it has queued to every subscriber,
    /// which then writes everything queued here with one `writev`. The writer is not woken
    /// for a corked frame; the flush wakes it for what the socket did not take. Never waits.
    pub fn push_corked(&self, frame: Frame) -> (Push, bool) {
        if self.socket.is_none() {
            return (self.push(frame), false);
        }
        let mut state = self.state.lock();
        if state.close.is_some() || state.sealed {
            return (Push::Closed, false);
        }
        if let Some(limit) = self.make_room(&mut state, frame.len()) {
            state.close = Some(Closing::SlowConsumer(limit));
            let dropped = state.discard() + 1;
            drop(state);
            self.ready.notify_one();
            return (Push::Overflow(dropped), false);
        }
        // Only a queue that was empty needs the flush: otherwise the writer was woken for
        // its first frame (or a flush is already due) and takes this one too.
        let flush = state.frames.is_empty() && !state.corked;
        state.corked |= flush;
        state.bytes += frame.len();
        state.frames.push_back(frame);
        (Push::Queued, flush)
    }

    /// The end of a fan-out for a queue it corked: one non-blocking `writev` of up to
    /// `batch`; what the socket did not take is left to the writer, which is woken.
    pub fn flush_corked(&self, batch: Batch) {
        self.state.lock().corked = false;
        match self.write_some(batch) {
            Ok(Progress::Done) => {}
            // More queued, blocked, or failed: the writer takes over (and finds the error).
            _ => self.ready.notify_one(),
        }
    }

    /// Waits until a frame is queued or the connection must close.
    pub async fn ready(&self) {
        self.ready.notified().await
    }

    /// One `writev` of the oldest queued frames, up to `batch`.
    fn write_some(&self, batch: Batch) -> io::Result<Progress> {
        let mut state = self.state.lock();
        let Some(socket) = &self.socket else {
            return Ok(Progress::Done);
        };
        write_locked(&mut state, socket, batch)
    }

    /// The limit a frame of `len` bytes would go past, if any, after writing what the socket
    /// takes at once: frames wait here only because their writer (or the fan-out's flush)
    /// has not had its turn yet, and a connection whose socket still takes bytes is not a
    /// slow consumer.
    fn make_room(&self, state: &mut State, len: usize) -> Option<Limit> {
        let over = |state: &State| {
            if state.frames.len() >= self.capacity {
                Some(Limit::Frames)
            } else if state.bytes + len > self.max_bytes {
                Some(Limit::Bytes)
            } else {
                None
            }
        };
        over(state)?;
        if let Some(socket) = &self.socket {
            while let Ok(Progress::More) = write_locked(state, socket, ROOM) {}
        }
        over(state)
    }

    /// The writer's turn: writes queued frames, one `writev` per wake-up and at most one
    /// batch, waiting while the socket takes nothing; fails once the queue overflowed (at
    /// once, even while blocked), or when no batch got out within `timeout`.
    pub async fn write(&self, batch: Batch, timeout: Duration) -> Result<(), WriteError> {
        let mut deadline = None;
        loop {
            match self.write_some(batch)? {
                Progress::Done => break,
                Progress::More => {
                    // More than a batch is queued: come back after reading the client.
                    self.ready.notify_one();
                    break;
                }
                Progress::Blocked => {}
            }
            let socket = self
                .socket
                .as_ref()
                .expect("write_some blocks only on a socket");
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + timeout);
            tokio::select! {
                writable = socket.writable() => writable?,
                () = tokio::time::sleep_until(deadline) => return Err(WriteError::Stalled),
                // While a write is blocked the fan-out keeps queueing: an overflow drops the
                // client at once instead of after the write timeout.
                () = self.ready() => {}
            }
            if let Some(Closing::SlowConsumer(limit)) = self.closing() {
                return Err(WriteError::SlowConsumer(limit));
            }
        }
        match self.closing() {
            Some(Closing::SlowConsumer(limit)) => Err(WriteError::SlowConsumer(limit)),
            None => Ok(()),
        }
    }

    /// Writes what is queued without waiting; `Ok(true)` once nothing is left.
    pub fn write_now(&self, batch: Batch) -> Result<bool, WriteError> {
        let progress = self.write_some(batch)?;
        if progress == Progress::More {
            self.ready.notify_one();
        }
        if let Some(Closing::SlowConsumer(limit)) = self.closing() {
            return Err(WriteError::SlowConsumer(limit));
        }
        Ok(progress == Progress::Done)
    }

    /// Ends the queue: nothing more is accepted; what is queued is dropped unless
    /// `keep_queued` (a partly written frame is always kept), and `last` (a close frame) is
    /// queued behind it. Returns how many frames were dropped.
    pub fn seal(&self, keep_queued: bool, last: Option<Frame>) -> usize {
        let mut state = self.state.lock();
        state.sealed = true;
        let dropped = if keep_queued { 0 } else { state.discard() };
        if let Some(last) = last {
            state.frames.push_back(last);
        }
        dropped
    }

    /// Writes everything queued, waiting for the socket as long as it takes (the caller
    /// bounds it).
    pub async fn flush(&self) -> Result<(), WriteError> {
        let Some(socket) = &self.socket else {
            return Ok(());
        };
        let all = Batch {
            frames: 1024,
            bytes: usize::MAX,
        };
        loop {
            match self.write_some(all)? {
                Progress::Done => return Ok(()),
                Progress::More => {}
                Progress::Blocked => socket.writable().await?,
            }
        }
    }

    /// Takes every queued frame (oldest first) and the close reason, if any.
    pub fn drain(&self) -> (VecDeque<Frame>, Option<Closing>) {
        let mut state = self.state.lock();
        state.bytes = 0;
        state.written = 0;
        let frames = std::mem::take(&mut state.frames);
        (frames, state.close)
    }

    /// Why the connection must close, once the queue overflowed.
    pub fn closing(&self) -> Option<Closing> {
        self.state.lock().close
    }

    /// Wakes the writer (see [`Outbox::ready`]) although nothing new was queued.
    pub fn wake(&self) {
        self.ready.notify_one();
    }

    /// Most frames the queue holds (`--outbox-capacity`).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Marks the connection a slow consumer, as a full queue would, dropping what is queued;
    /// returns how many frames were dropped. For frames that were held elsewhere and did
    /// not fit (see [`crate::hub::Hub::activate`]).
    pub fn overflow(&self) -> usize {
        let mut state = self.state.lock();
        if state.close.is_some() {
            return 0;
        }
        state.close = Some(Closing::SlowConsumer(Limit::Frames));
        let dropped = state.discard();
        drop(state);
        self.ready.notify_one();
        dropped
    }

    /// How many frames are waiting.
    pub fn len(&self) -> usize {
        self.state.lock().frames.len()
    }

    /// Whether no frame is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Most frames one `writev` takes.
const SLICES: usize = 128;

/// [`Outbox::write_some`] under the queue's lock.
fn write_locked(state: &mut State, socket: &TcpStream, batch: Batch) -> io::Result<Progress> {
    if state.frames.is_empty() {
        return Ok(Progress::Done);
    }
    // On the stack: a heap vector here was one allocation per write, on the hot path.
    let mut slices = [IoSlice::new(&[]); SLICES];
    let mut count = 0;
    let mut offered = 0;
    for (i, frame) in state.frames.iter().enumerate() {
        if i > 0 && (i == batch.frames.min(SLICES) || offered + frame.wire().len() > batch.bytes) {
            break;
        }
        let bytes = if i == 0 {
            &frame.wire()[state.written..]
        } else {
            frame.wire()
        };
        offered += bytes.len();
        slices[i] = IoSlice::new(bytes);
        count += 1;
    }
    let mut left = match socket.try_write_vectored(&slices[..count]) {
        Ok(n) => n,
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(Progress::Blocked),
        Err(error) => return Err(error),
    };
    let complete = left == offered;
    while left > 0 {
        let front = state
            .frames
            .front()
            .expect("written bytes belong to queued frames");
        let rest = front.wire().len() - state.written;
        if left < rest {
            state.written += left;
            break;
        }
        left -= rest;
        state.written = 0;
        let done = state.frames.pop_front().expect("checked above");
        state.bytes -= done.len().min(state.bytes);
    }
    Ok(if state.frames.is_empty() {
        Progress::Done
    } else if complete && count > 0 {
        Progress::More
    } else {
        Progress::Blocked
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn overflow_marks_slow_consumer_and_drops_queue() {
        let outbox = Outbox::new(2, 1024);
        assert_eq!(outbox.push(Frame::from("a")), Push::Queued);
        assert_eq!(outbox.push(Frame::from("b")), Push::Queued);
        assert_eq!(outbox.push(Frame::from("c")), Push::Overflow(3));
        assert_eq!(outbox.push(Frame::from("d")), Push::Closed);
        let (frames, close) = outbox.drain();
        assert!(frames.is_empty());
        assert_eq!(close, Some(Closing::SlowConsumer(Limit::Frames)));
    }

    #[test]
    fn a_few_large_frames_overflow_the_byte_limit() {
        let outbox = Outbox::new(100, 10);
        assert_eq!(outbox.push(Frame::from("12345")), Push::Queued);
        let (frames, _) = outbox.drain();
        assert_eq!(frames.len(), 1);
        // Draining gave the bytes back.
        assert_eq!(outbox.push(Frame::from("12345")), Push::Queued);
        assert_eq!(outbox.push(Frame::from("67890")), Push::Queued);
        assert_eq!(outbox.push(Frame::from("x")), Push::Overflow(3));
        assert_eq!(outbox.drain().1, Some(Closing::SlowConsumer(Limit::Bytes)));
    }

    #[test]
    fn drain_keeps_order() {
        let outbox = Outbox::new(8, 1024);
        for text in ["1", "2", "3"] {
            outbox.push(Frame::from(text));
        }
        let (frames, close) = outbox.drain();
        let texts: Vec<&str> = frames.iter().map(|f| f.as_str()).collect();
        assert_eq!(texts, ["1", "2", "3"]);
        assert_eq!(close, None);
        assert!(outbox.is_empty());
    }

    #[tokio::test]
    async fn push_wakes_the_writer() {
        let outbox = std::sync::Arc::new(Outbox::new(8, 1024));
        let waiter = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.ready().await }
        });
        outbox.push(Frame::from("x"));
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
    }

    /// A connected loopback pair: the server's side (for the outbox) and the client's.
    async fn socket_pair() -> (Arc<TcpStream>, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        (Arc::new(accepted.unwrap().0), client.unwrap())
    }

    const WAIT: std::time::Duration = std::time::Duration::from_secs(10);
    const BATCH: Batch = Batch {
        frames: 256,
        bytes: 256 * 1024,
    };

    #[tokio::test]
    async fn an_idle_socket_is_written_by_the_pusher_and_a_blocked_one_by_the_writer_in_order() {
        use tokio::io::AsyncReadExt;
        let (server, mut client) = socket_pair().await;
        let outbox = Arc::new(Outbox::for_socket(100_000, usize::MAX, server));
        assert_eq!(outbox.push(Frame::text("first")), Push::Queued);
        assert!(outbox.is_empty(), "written on the spot");
        let mut first = [0; 7];
        tokio::time::timeout(WAIT, client.read_exact(&mut first))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&first, b"\x81\x05first");
        // Push until the socket stops taking frames: the rest queues, in order.
        let big = "x".repeat(60_000);
        let mut pushed = 0u32;
        while outbox.is_empty() {
            assert!(pushed < 10_000, "a loopback socket's buffers are bounded");
            outbox.push(Frame::text(&format!("{pushed:08}{big}")));
            pushed += 1;
        }
        for _ in 0..3 {
            outbox.push(Frame::text(&format!("{pushed:08}{big}")));
            pushed += 1;
        }
        let writer = tokio::spawn({
            let outbox = outbox.clone();
            async move {
                while !outbox.is_empty() {
                    outbox.write(BATCH, WAIT).await.unwrap();
                }
            }
        });
        let frame_len = 4 + 8 + big.len();
        let mut frame = vec![0; frame_len];
        for expected in 0..pushed {
            tokio::time::timeout(WAIT, client.read_exact(&mut frame))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(&frame[..2], &[0x81, 126]);
            assert_eq!(&frame[4..12], format!("{expected:08}").as_bytes());
        }
        tokio::time::timeout(WAIT, writer).await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_blocked_writer_fails_at_once_on_overflow_and_finishes_a_partly_written_frame() {
        use tokio::io::AsyncReadExt;
        let (server, mut client) = socket_pair().await;
        let outbox = Arc::new(Outbox::for_socket(4, usize::MAX, server));
        let big = "y".repeat(32 << 20);
        // The first frame is far larger than the socket's buffers: partly written, queued.
        outbox.push(Frame::text(&big));
        assert_eq!(outbox.len(), 1);
        let writer = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.write(BATCH, WAIT).await }
        });
        for _ in 0..4 {
            outbox.push(Frame::text("z"));
        }
        assert!(matches!(
            tokio::time::timeout(WAIT, writer).await.unwrap().unwrap(),
            Err(WriteError::SlowConsumer(Limit::Frames))
        ));
        // The partly written frame stays, then the close frame; the rest was dropped.
        assert_eq!(
            outbox.seal(false, Some(Frame::close(Some((4001, "slow"))))),
            0
        );
        assert_eq!(outbox.len(), 2);
        let reading = tokio::spawn(async move {
            let mut all = Vec::new();
            client.read_to_end(&mut all).await.map(|_| all)
        });
        tokio::time::timeout(WAIT, outbox.flush())
            .await
            .unwrap()
            .unwrap();
        drop(outbox);
        let all = tokio::time::timeout(WAIT, reading)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let close = Frame::close(Some((4001, "slow")));
        assert_eq!(
            all.len(),
            Frame::text(&big).wire().len() + close.wire().len()
        );
        assert!(all.ends_with(close.wire()));
    }

    #[tokio::test]
    async fn a_stalled_write_times_out() {
        let (server, _client) = socket_pair().await;
        let outbox = Outbox::for_socket(100_000, usize::MAX, server);
        let big = "s".repeat(32 << 20);
        outbox.push(Frame::text(&big));
        let short = std::time::Duration::from_millis(200);
        assert!(matches!(
            tokio::time::timeout(WAIT, outbox.write(BATCH, short))
                .await
                .unwrap(),
            Err(WriteError::Stalled)
        ));
    }
}
