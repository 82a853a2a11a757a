//! Per-connection rate limits: token buckets over the frames a client sends, with the time
//! passed in, so the session that uses them stays free of I/O and clocks.
//!
//! Written here rather than taken from `governor`: its limiters read a clock object of their
//! own, while [`crate::session::Session`] is a pure state machine that is handed the time; a
//! bucket is two numbers per connection and a few lines of arithmetic.

/// A token bucket: holds up to `burst` tokens, refilled at `rate` per second; each admitted
/// frame takes one.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    // f32: a bucket lives in every connection's task, and rates and bursts are settings, not
    // running sums (those stay f64).
    rate: f32,
    burst: f32,
    tokens: f64,
    updated_ms: u64,
}

impl TokenBucket {
    /// A full bucket refilled at `rate` tokens per second, holding at most `burst`.
    pub fn new(rate: f64, burst: u32) -> Self {
        let burst = burst.max(1) as f32;
        Self {
            rate: rate as f32,
            burst,
            tokens: f64::from(burst),
            updated_ms: 0,
        }
    }

    /// Takes one token at `now_ms` (milliseconds on any monotonic scale); `false` when the
    /// bucket is empty, which leaves it unchanged.
    pub fn take(&mut self, now_ms: u64) -> bool {
        let elapsed = now_ms.saturating_sub(self.updated_ms) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * f64::from(self.rate)).min(f64::from(self.burst));
        self.updated_ms = self.updated_ms.max(now_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// How long a client has kept exceeding its limits: an episode starts with a refused frame
/// and ends after a quiet second without one.
#[derive(Debug, Clone, Default)]
pub struct Abuse {
    episode: Option<(u64, u64)>,
}

/// A second without a refused frame ends an episode: a client that bursts, is told
/// `rate_limited` and slows down is never closed.
const QUIET_MS: u64 = 1000;

impl Abuse {
    /// Records a refused frame at `now_ms`; returns how long the current episode has lasted.
    pub fn refused(&mut self, now_ms: u64) -> u64 {
        let start = match self.episode {
            Some((start, last)) if now_ms.saturating_sub(last) < QUIET_MS => start,
            _ => now_ms,
        };
        self.episode = Some((start, now_ms));
        now_ms - start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_admits_its_burst_then_its_rate() {
        let mut bucket = TokenBucket::new(10.0, 3);
        assert!((0..3).all(|_| bucket.take(0)));
        assert!(!bucket.take(0));
        assert!(!bucket.take(99), "a tenth of a second has not passed");
        assert!(bucket.take(100));
        assert!(!bucket.take(100));
        // A long pause refills to the burst, not beyond.
        assert_eq!((0..10).filter(|_| bucket.take(60_000)).count(), 3);
    }

    #[test]
    fn time_going_backwards_grants_nothing() {
        let mut bucket = TokenBucket::new(1.0, 1);
        assert!(bucket.take(5_000));
        assert!(!bucket.take(1_000));
        assert!(!bucket.take(5_500));
        assert!(bucket.take(6_000));
    }

    #[test]
    fn an_episode_lasts_while_refusals_keep_coming() {
        let mut abuse = Abuse::default();
        assert_eq!(abuse.refused(1_000), 0);
        assert_eq!(abuse.refused(1_900), 900);
        assert_eq!(abuse.refused(2_800), 1_800);
        // A quiet second ends it; the next refusal starts a new one.
        assert_eq!(abuse.refused(3_800), 0);
    }
}
