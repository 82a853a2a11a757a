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
    bytes: usize,
    close: Option<Closing>,
}

/// The outgoing queue of one connection.
pub struct Outbox {
    state: Mutex<State>,
    ready: Notify,
    capacity: usize,
    max_bytes: usize,
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
    /// An empty queue holding at most `capacity` frames and `max_bytes` bytes of them.
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        Self {
            state: Mutex::default(),
            ready: Notify::new(),
            capacity: capacity.max(1),
            max_bytes,
        }
    }

    /// Queues a frame without waiting.
    pub fn push(&self, frame: Frame) -> Push {
        let mut state = self.state.lock();
        if state.close.is_some() {
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
            state.bytes = 0;
            let dropped = std::mem::take(&mut state.frames).len() + 1;
            drop(state);
            self.ready.notify_one();
            return Push::Overflow(dropped);
        }
        let was_empty = state.frames.is_empty();
        state.bytes += frame.len();
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
        state.bytes = 0;
        let frames = std::mem::take(&mut state.frames);
        (frames, state.close)
    }

    /// Takes the oldest frames up to `batch`, and the close reason once nothing is left
    /// before it. When frames remain, the writer is woken again at once.
    pub fn drain_batch(&self, batch: Batch) -> (VecDeque<Frame>, Option<Closing>) {
        let mut state = self.state.lock();
        let (mut count, mut bytes) = (0, 0);
        for frame in &state.frames {
            if count > 0 && (count == batch.frames || bytes + frame.len() > batch.bytes) {
                break;
            }
            count += 1;
            bytes += frame.len();
        }
        if count == state.frames.len() {
            state.bytes = 0;
            let frames = std::mem::take(&mut state.frames);
            return (frames, state.close);
        }
        let rest = state.frames.split_off(count);
        let frames = std::mem::replace(&mut state.frames, rest);
        state.bytes -= bytes;
        drop(state);
        self.ready.notify_one();
        (frames, None)
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
        state.bytes = 0;
        let dropped = std::mem::take(&mut state.frames).len();
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

    #[tokio::test]
    async fn batches_are_capped_and_the_rest_wakes_the_writer_again() {
        let outbox = Outbox::new(100, 1024);
        for text in ["aa", "bb", "cc", "dd", "ee"] {
            outbox.push(Frame::from(text));
        }
        let texts =
            |frames: VecDeque<Frame>| frames.iter().map(|f| f.to_string()).collect::<Vec<_>>();
        let (frames, close) = outbox.drain_batch(Batch {
            frames: 2,
            bytes: 100,
        });
        assert_eq!(
            (texts(frames), close),
            (vec!["aa".to_owned(), "bb".into()], None)
        );
        let (frames, _) = outbox.drain_batch(Batch {
            frames: 10,
            bytes: 3,
        });
        assert_eq!(
            texts(frames),
            ["cc"],
            "bytes cap the batch, but one frame always goes"
        );
        tokio::time::timeout(std::time::Duration::from_secs(5), outbox.ready())
            .await
            .expect("frames remain, so the writer is woken");
        let (frames, _) = outbox.drain_batch(Batch {
            frames: 10,
            bytes: 100,
        });
        assert_eq!(texts(frames), ["dd", "ee"]);
        assert!(outbox.is_empty());
        // The byte count followed: the whole limit is free again.
        let small = Outbox::new(100, 4);
        small.push(Frame::from("abcd"));
        small.drain_batch(Batch {
            frames: 1,
            bytes: 1,
        });
        assert_eq!(small.push(Frame::from("efgh")), Push::Queued);
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
