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
        let limit = if state.frames.len() >= self.capacity {
            Some(Limit::Frames)
        } else if state.bytes + frame.len() > self.max_bytes {
            Some(Limit::Bytes)
        } else {
            None
        };
        if let Some(limit) = limit {
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
        if state.frames.is_empty() {
            return Ok(Progress::Done);
        }
        let mut slices = Vec::with_capacity(state.frames.len().min(batch.frames));
        let mut offered = 0;
        for (i, frame) in state.frames.iter().enumerate() {
            if i > 0 && (i == batch.frames || offered + frame.wire().len() > batch.bytes) {
                break;
            }
            let bytes = if i == 0 {
                &frame.wire()[state.written..]
            } else {
                frame.wire()
            };
            offered += bytes.len();
            slices.push(IoSlice::new(bytes));
        }
        let count = slices.len();
        let mut left = match socket.try_write_vectored(&slices) {
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                return Ok(Progress::Blocked)
            }
            Err(error) => return Err(error),
        };
        drop(slices);
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
