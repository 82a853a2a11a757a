//! The embedded broker's channel streams: each channel's epoch, sequence counter and kept
//! history, with the expiry of idle streams and the node-wide byte cap.

use crate::broker::{History, HistoryQuery};
use crate::channel_options::HistoryPolicy;
use crate::publication::Publication;
use howl_protocol::StreamPosition;
use std::collections::VecDeque;
use std::sync::Arc;

/// Bytes a kept message costs besides its data and channel name (the `Arc`, the queue slot,
/// the numbers): an estimate, so that many tiny messages still count.
const MESSAGE_OVERHEAD: usize = 64;

/// A short random string naming a new stream.
pub(super) fn new_epoch() -> Arc<str> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    Arc::from(&id[..8])
}

/// One channel's stream.
pub(super) struct Stream {
    epoch: Arc<str>,
    seq: u64,
    kept: VecDeque<Arc<Publication>>,
    bytes: usize,
    policy: HistoryPolicy,
    /// When it was last published to (or started), in ms since the Unix epoch.
    pub(super) last_active_ms: u64,
}

impl Stream {
    /// A stream starting now at `seq` 0.
    pub(super) fn new(policy: HistoryPolicy, now_ms: u64) -> Self {
        Self {
            epoch: new_epoch(),
            seq: 0,
            kept: VecDeque::new(),
            bytes: 0,
            policy,
            last_active_ms: now_ms,
        }
    }

    /// Its current position.
    pub(super) fn position(&self) -> StreamPosition {
        StreamPosition {
            epoch: self.epoch.to_string(),
            seq: self.seq,
        }
    }

    /// Bytes of history it holds.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Gives the next message its number; returns it.
    pub(super) fn next_seq(&mut self, policy: HistoryPolicy, now_ms: u64) -> u64 {
        self.policy = policy;
        self.last_active_ms = now_ms;
        self.seq += 1;
        self.seq
    }

    /// Keeps a numbered publication, trimming to the policy's size; returns the change in
    /// bytes held.
    pub(super) fn keep(&mut self, publication: Arc<Publication>) -> isize {
        let before = self.bytes as isize;
        if self.policy.size > 0 {
            self.bytes += cost(&publication);
            self.kept.push_back(publication);
        }
        while self.kept.len() > self.policy.size {
            if let Some(old) = self.kept.pop_front() {
                self.bytes -= cost(&old);
            }
        }
        self.bytes as isize - before
    }

    /// Drops the history and starts a new epoch, keeping the numbering (live subscribers
    /// keep seeing increasing numbers); returns the bytes freed.
    pub(super) fn forget(&mut self) -> usize {
        self.kept.clear();
        self.epoch = new_epoch();
        std::mem::take(&mut self.bytes)
    }

    /// Whether it expired: idle for its TTL (the caller knows it has no subscribers).
    pub(super) fn expired(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.last_active_ms) >= self.policy.ttl.as_millis() as u64
    }

    /// What `query` asks of it.
    pub(super) fn read(&self, query: &HistoryQuery) -> History {
        let position = self.position();
        let limit = query.limit.unwrap_or(usize::MAX);
        let since = query
            .since
            .as_ref()
            .filter(|since| *since.epoch == *self.epoch && since.seq <= self.seq);
        let (publications, complete) = match since {
            Some(since) => {
                let first_kept = self.kept.front().map_or(self.seq + 1, |p| p.seq);
                let after = self.kept.iter().filter(|p| p.seq > since.seq);
                let publications: Vec<_> = after.take(limit).cloned().collect();
                let whole = since.seq + 1 >= first_kept
                    && publications.last().map_or(since.seq, |p| p.seq) == self.seq;
                (publications, whole)
            }
            None => {
                let skip = self.kept.len().saturating_sub(limit);
                (self.kept.iter().skip(skip).cloned().collect(), false)
            }
        };
        History {
            position,
            publications,
            complete,
        }
    }
}

fn cost(publication: &Publication) -> usize {
    publication.data.get().len() + publication.channel.len() + MESSAGE_OVERHEAD
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn policy(size: usize) -> HistoryPolicy {
        HistoryPolicy {
            size,
            ttl: Duration::from_secs(300),
        }
    }

    fn publish(stream: &mut Stream, n: usize) {
        for _ in 0..n {
            let seq = stream.next_seq(stream.policy, 0);
            stream.keep(Arc::new(Publication {
                channel: "c".into(),
                seq,
                time: 0,
                data: serde_json::value::to_raw_value(&seq).unwrap(),
                exclude: None,
            }));
        }
    }

    fn since(stream: &Stream, seq: u64) -> HistoryQuery {
        HistoryQuery {
            since: Some(StreamPosition {
                epoch: stream.epoch.to_string(),
                seq,
            }),
            limit: None,
        }
    }

    fn seqs(history: &History) -> Vec<u64> {
        history.publications.iter().map(|p| p.seq).collect()
    }

    #[test]
    fn reads_after_a_position_of_the_same_epoch() {
        let mut stream = Stream::new(policy(5), 0);
        publish(&mut stream, 7);
        let history = stream.read(&since(&stream, 4));
        assert_eq!((seqs(&history), history.complete), (vec![5, 6, 7], true));
        let history = stream.read(&since(&stream, 7));
        assert!(history.publications.is_empty() && history.complete);
        // 2 fell out of the kept five (3..=7).
        let history = stream.read(&since(&stream, 1));
        assert!(!history.complete);
        let history = stream.read(&since(&stream, 2));
        assert_eq!((seqs(&history).len(), history.complete), (5, true));
    }

    #[test]
    fn another_epoch_or_a_future_seq_cannot_be_resumed() {
        let mut stream = Stream::new(policy(5), 0);
        publish(&mut stream, 3);
        let mut query = since(&stream, 1);
        query.since.as_mut().unwrap().epoch = "other".into();
        let history = stream.read(&query);
        assert_eq!((seqs(&history), history.complete), (vec![1, 2, 3], false));
        assert!(!stream.read(&since(&stream, 9)).complete);
    }

    #[test]
    fn limits_take_the_oldest_after_since_and_the_latest_without() {
        let mut stream = Stream::new(policy(10), 0);
        publish(&mut stream, 6);
        let mut query = since(&stream, 1);
        query.limit = Some(2);
        let history = stream.read(&query);
        assert_eq!((seqs(&history), history.complete), (vec![2, 3], false));
        let latest = HistoryQuery {
            since: None,
            limit: Some(2),
        };
        assert_eq!(seqs(&stream.read(&latest)), [5, 6]);
    }

    #[test]
    fn forgetting_keeps_the_numbering_under_a_new_epoch() {
        let mut stream = Stream::new(policy(10), 0);
        publish(&mut stream, 3);
        let old = stream.position();
        assert!(stream.bytes() > 0);
        assert_eq!(stream.forget() > 0, stream.bytes() == 0);
        let new = stream.position();
        assert_ne!(old.epoch, new.epoch);
        assert_eq!(new.seq, 3);
        assert!(
            !stream
                .read(&HistoryQuery {
                    since: Some(old),
                    limit: None
                })
                .complete
        );
    }

    #[test]
    fn size_zero_keeps_nothing_but_numbers() {
        let mut stream = Stream::new(policy(0), 0);
        publish(&mut stream, 3);
        assert_eq!(stream.bytes(), 0);
        assert!(stream.read(&since(&stream, 3)).complete);
        assert!(!stream.read(&since(&stream, 2)).complete);
    }
}
