//! A connection's bounded queue of outgoing frames.
//!
//! The fan-out pushes shared, already encoded frames here without waiting; the connection's
//! writer drains everything queued at once and writes it with a single flush. A queue that
//! fills up marks its connection as a slow consumer instead of slowing the publisher down.

use axum::extract::ws::Utf8Bytes;
use parking_lot::Mutex;
use std::collections::VecDeque;
use tokio::sync::Notify;

/// An encoded JSON text frame. Cloning shares the bytes: one encoding serves every subscriber.
pub type Frame = Utf8Bytes;

/// Why the hub wants a connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// The outgoing queue was full: the client reads slower than messages arrive.
    SlowConsumer,
}

/// What happened to a pushed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// The frame is queued.
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
    close: Option<Closing>,
}

/// The outgoing queue of one connection.
pub struct Outbox {
    state: Mutex<State>,
    ready: Notify,
    capacity: usize,
}

impl Outbox {
    /// An empty queue holding at most `capacity` frames.
    pub fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::default(),
            ready: Notify::new(),
            capacity: capacity.max(1),
        }
    }

    /// Queues a frame without waiting.
    pub fn push(&self, frame: Frame) -> Push {
        let mut state = self.state.lock();
        if state.close.is_some() {
            return Push::Closed;
        }
        if state.frames.len() >= self.capacity {
            state.close = Some(Closing::SlowConsumer);
            let dropped = std::mem::take(&mut state.frames).len() + 1;
            drop(state);
            self.ready.notify_one();
            return Push::Overflow(dropped);
        }
        let was_empty = state.frames.is_empty();
        state.frames.push_back(frame);
        drop(state);
        // The writer drains the whole queue per wake-up, so only the first frame needs to wake it.
        if was_empty {
            self.ready.notify_one();
        }
        Push::Queued
    }

    /// Waits until a frame is queued or the connection must close.
    pub async fn ready(&self) {
        self.ready.notified().await
    }

    /// Takes every queued frame (oldest first) and the close reason, if any.
    pub fn drain(&self) -> (VecDeque<Frame>, Option<Closing>) {
        let mut state = self.state.lock();
        let frames = std::mem::take(&mut state.frames);
        (frames, state.close)
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
        let outbox = Outbox::new(2);
        assert_eq!(outbox.push(Frame::from("a")), Push::Queued);
        assert_eq!(outbox.push(Frame::from("b")), Push::Queued);
        assert_eq!(outbox.push(Frame::from("c")), Push::Overflow(3));
        assert_eq!(outbox.push(Frame::from("d")), Push::Closed);
        let (frames, close) = outbox.drain();
        assert!(frames.is_empty());
        assert_eq!(close, Some(Closing::SlowConsumer));
    }

    #[test]
    fn drain_keeps_order() {
        let outbox = Outbox::new(8);
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
        let outbox = std::sync::Arc::new(Outbox::new(8));
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
