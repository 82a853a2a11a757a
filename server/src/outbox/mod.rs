//! A connection's bounded queue of outgoing frames, and the write side of its socket.
//!
//! The fan-out hands shared, fully framed frames ([`Frame`]) to the queue without waiting.
//! A fan-out corks ([`Outbox::push_corked`]): it queues the frame, and once it has gone
//! through every subscriber it writes each connection it touched with one `send` of all its
//! queued frames ([`Outbox::flush_corked`]), so publications that follow each other share a
//! write. A frame pushed on its own ([`Outbox::push`], e.g. a reply) is written on the spot
//! when nothing is queued. What a socket does not take at once stays queued, and the
//! connection's writer task takes over ([`Outbox::write`]: one write per wake-up, at most one
//! [`Batch`]). Every write happens under the queue's lock, so frames go out in the order
//! they were pushed whoever writes them. A queue that fills up (after the socket took what
//! it would) marks its connection as a slow consumer instead of slowing the publisher down.
//!
//! - `write`: the writes themselves.

mod write;

use futures_util::task::AtomicWaker;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use tokio::net::TcpStream;

pub use crate::transport::Frame;
pub use write::WriteError;
use write::{write_locked, Progress};

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

/// Wakes the one task that writes a queue: a flag and a waker. Lighter than a
/// `tokio::sync::Notify`, and waited on by polling ([`Outbox::poll_ready`]), so an idle
/// connection keeps no waiting future in its task.
#[derive(Default)]
struct Signal {
    set: AtomicBool,
    waker: AtomicWaker,
}

impl Signal {
    /// Sets the flag and wakes the waiting task; a set flag stays until it is taken, like
    /// `Notify::notify_one`'s permit.
    fn notify_one(&self) {
        self.set.store(true, Ordering::Release);
        self.waker.wake();
    }

    fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.set.swap(false, Ordering::AcqRel) {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        // Set between the first check and the registration: that wake-up went to the old
        // waker, so take it here.
        if self.set.swap(false, Ordering::AcqRel) {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// The outgoing queue of one connection.
pub struct Outbox {
    state: Mutex<State>,
    ready: Signal,
    capacity: usize,
    max_bytes: usize,
    /// Most bytes one write takes (`--write-buffer-size`; u32 fits beside the flags).
    write_bytes: u32,
    /// Where frames go; without one (tests of the hub) frames only queue.
    socket: Option<TcpStream>,
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
            ready: Signal::default(),
            capacity: capacity.max(1),
            max_bytes,
            write_bytes: u32::MAX,
            socket: None,
        }
    }

    /// The queue of a connection on `socket`: pushed frames are written to it, at most
    /// `write_bytes` per write (but always at least one frame).
    pub fn for_socket(
        capacity: usize,
        max_bytes: usize,
        write_bytes: usize,
        socket: TcpStream,
    ) -> Self {
        Self {
            socket: Some(socket),
            write_bytes: u32::try_from(write_bytes).unwrap_or(u32::MAX),
            ..Self::new(capacity, max_bytes)
        }
    }

    /// What one write takes at most: 256 frames, `--write-buffer-size` bytes (and at least
    /// one frame), so a connection whose queue never drains still gets back to reading its
    /// client between writes.
    pub fn batch(&self) -> Batch {
        Batch {
            frames: 256,
            bytes: self.write_bytes as usize,
        }
    }

    /// Writes a frame at once when nothing is queued and the socket takes it, else queues it
    /// for the writer; never waits.
    pub fn push(&self, frame: Frame) -> Push {
        let mut state = self.state.lock();
        if let Some(refused) = self.refuse(&mut state, frame.len()) {
            return refused;
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
    /// which then writes everything queued here with one `sendmsg`. The writer is not woken
    /// for a corked frame; the flush wakes it for what the socket did not take. Never waits.
    pub fn push_corked(&self, frame: Frame) -> (Push, bool) {
        if self.socket.is_none() {
            return (self.push(frame), false);
        }
        let mut state = self.state.lock();
        if let Some(refused) = self.refuse(&mut state, frame.len()) {
            return (refused, false);
        }
        // Only a queue that was empty needs the flush: otherwise the writer was woken for
        // its first frame (or a flush is already due) and takes this one too.
        let flush = state.frames.is_empty() && !state.corked;
        state.corked |= flush;
        state.bytes += frame.len();
        state.frames.push_back(frame);
        (Push::Queued, flush)
    }

    /// The socket frames are written to (the connection reads from it too): held here, not
    /// in an `Arc` of its own, which saves an allocation per connection.
    pub fn socket(&self) -> Option<&TcpStream> {
        self.socket.as_ref()
    }

    /// Waits until a frame is queued or the connection must close.
    pub async fn ready(&self) {
        std::future::poll_fn(|cx| self.poll_ready(cx)).await
    }

    /// [`Outbox::ready`] as a poll, for a task that waits on several things at once (one
    /// task only: a second would take the first one's waker).
    pub fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.ready.poll(cx)
    }

    /// Why a frame of `len` bytes is not taken, if it is not: the connection is closing, or
    /// the frame does not fit even after the socket took what it would (then the connection
    /// becomes a slow consumer, and what is queued is dropped).
    fn refuse(&self, state: &mut State, len: usize) -> Option<Push> {
        if state.close.is_some() || state.sealed {
            return Some(Push::Closed);
        }
        let limit = self.make_room(state, len)?;
        Some(Push::Overflow(self.close_slow(state, limit) + 1))
    }

    /// Marks the connection a slow consumer and wakes its writer to close it; returns how
    /// many queued frames were dropped (a frame partly on the wire is finished before the
    /// close frame).
    fn close_slow(&self, state: &mut State, limit: Limit) -> usize {
        state.close = Some(Closing::SlowConsumer(limit));
        let dropped = state.discard();
        self.ready.notify_one();
        dropped
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
        self.close_slow(&mut state, Limit::Frames)
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
mod tests;
