//! Duplicate suppression: a message (channel, seq) is delivered at most once.
//!
//! Each channel keeps a window of the most recent sequence numbers it delivered, with the
//! server time each carried. Sequence numbers belong to one "epoch" of the server's counter:
//! a restarted single node starts counting again. A repeat of a recent `seq` is a duplicate
//! only when it also repeats the `time` (the hub stamps a publication once, so every copy of it
//! carries the same time); the same `seq` stamped later, or an old `seq` stamped later than
//! anything seen, means the counter was reset, and the window starts over. Anything stamped
//! earlier than what it would replace is a leftover of an older epoch and is dropped.

use crate::vecmap::VecMap;
use std::collections::VecDeque;

/// How many recently delivered sequence numbers each channel remembers.
pub const WINDOW: usize = 256;

/// Whether a message is new, and why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Never seen: deliver it.
    Fresh,
    /// Seen before: drop it.
    Duplicate,
}

#[derive(Debug, Default)]
struct Window {
    /// (seq, time) of the latest deliveries, oldest first; at most [`WINDOW`] entries.
    recent: VecDeque<(u64, u64)>,
    /// The highest seq delivered in this epoch, and its time.
    high: Option<(u64, u64)>,
}

impl Window {
    fn admit(&mut self, seq: u64, time: u64) -> Verdict {
        if let Some(&(_, seen_time)) = self.recent.iter().find(|(s, _)| *s == seq) {
            if time <= seen_time {
                // The same publication again, or one from an older epoch.
                return Verdict::Duplicate;
            }
            // The number was reused later: the server's counter was reset.
            self.reset();
        } else if let Some((high, high_time)) = self.high {
            if seq <= high {
                let oldest = self.recent.iter().map(|(s, _)| *s).min().unwrap_or(high);
                if time > high_time {
                    // An already-used number stamped later than anything seen: a new epoch.
                    self.reset();
                } else if seq < oldest {
                    // Too old to tell from a replay; a late original this far behind is
                    // implausible, a replay is not.
                    return Verdict::Duplicate;
                }
                // Otherwise: a gap inside the window filled late — new.
            }
        }
        if self.recent.len() == WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back((seq, time));
        if self.high.is_none_or(|(high, _)| seq > high) {
            self.high = Some((seq, time));
        }
        Verdict::Fresh
    }

    fn reset(&mut self) {
        self.recent.clear();
        self.high = None;
    }
}

/// Duplicate suppression for every channel.
#[derive(Debug, Default)]
pub struct Dedup {
    channels: VecMap<Window>,
}

impl Dedup {
    /// Records a message and says whether it is new. `seq` 0 means "not numbered" (a
    /// backend's raw Redis publish): such messages cannot be told apart, so all are new and
    /// none disturbs the channel's window.
    pub fn admit(&mut self, channel: &str, seq: u64, time: u64) -> Verdict {
        if seq == 0 {
            return Verdict::Fresh;
        }
        self.channels
            .entry(channel, Window::default)
            .admit(seq, time)
    }

    /// Forgets a channel (after unsubscribing from it).
    pub fn forget(&mut self, channel: &str) {
        self.channels.remove(channel);
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.channels.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::Verdict::{Duplicate, Fresh};
    use super::*;

    #[test]
    fn exact_repeats_are_dropped_per_channel() {
        let mut d = Dedup::default();
        assert_eq!(d.admit("a", 1, 100), Fresh);
        assert_eq!(d.admit("a", 2, 101), Fresh);
        assert_eq!(d.admit("a", 1, 100), Duplicate);
        assert_eq!(d.admit("a", 2, 101), Duplicate);
        assert_eq!(d.admit("b", 1, 100), Fresh, "channels are independent");
        assert_eq!(d.admit("a", 3, 102), Fresh);
    }

    #[test]
    fn gaps_and_late_arrivals_inside_the_window_are_fresh() {
        let mut d = Dedup::default();
        assert_eq!(d.admit("a", 10, 100), Fresh);
        assert_eq!(d.admit("a", 12, 102), Fresh);
        assert_eq!(d.admit("a", 11, 101), Fresh, "late but never seen");
        assert_eq!(d.admit("a", 11, 101), Duplicate);
    }

    #[test]
    fn replays_older_than_the_window_are_dropped() {
        let mut d = Dedup::default();
        for seq in 1..=(WINDOW as u64 + 10) {
            assert_eq!(d.admit("a", seq, 1000 + seq), Fresh);
        }
        assert_eq!(d.admit("a", 1, 1001), Duplicate);
        assert_eq!(d.admit("a", 5, 1005), Duplicate);
    }

    #[test]
    fn a_restarted_counter_is_a_new_epoch() {
        let mut d = Dedup::default();
        for seq in 1..=5 {
            assert_eq!(d.admit("a", seq, 1000 + seq), Fresh);
        }
        // The server restarted: seq 1 again, stamped later.
        assert_eq!(d.admit("a", 1, 5000), Fresh);
        assert_eq!(d.admit("a", 2, 5001), Fresh);
        assert_eq!(d.admit("a", 2, 5001), Duplicate);
        assert_eq!(
            d.admit("a", 3, 5002),
            Fresh,
            "old epoch's seq 3 no longer blocks"
        );
        // A replay from the old epoch, older than the new high-water mark, is dropped.
        assert_eq!(d.admit("a", 1, 1001), Duplicate);
    }

    #[test]
    fn forget_and_clear() {
        let mut d = Dedup::default();
        d.admit("a", 1, 1);
        d.admit("b", 1, 1);
        d.forget("a");
        assert_eq!(d.admit("a", 1, 1), Fresh);
        assert_eq!(d.admit("b", 1, 1), Duplicate);
        d.clear();
        assert_eq!(d.admit("b", 1, 1), Fresh);
    }

    #[test]
    fn unnumbered_messages_are_always_new_and_leave_the_window_alone() {
        let mut d = Dedup::default();
        assert_eq!(d.admit("a", 1, 1000), Fresh);
        for _ in 0..3 {
            assert_eq!(d.admit("a", 0, 1000), Fresh);
        }
        assert_eq!(d.admit("a", 1, 1000), Duplicate);
        assert_eq!(d.admit("a", 2, 1001), Fresh);
    }
}
