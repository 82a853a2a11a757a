//! Reconnect backoff: exponential delays between attempts, capped, with random jitter so a
//! crowd of clients dropped at once by a restarting server does not return in lockstep.

use crate::rng::Rng;

/// When and how often the session tries to get a lost connection back.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectPolicy {
    /// Whether to reconnect at all; when false a lost connection closes the session.
    pub enabled: bool,
    /// Delay before the first attempt, in milliseconds.
    pub initial_delay_ms: u64,
    /// No delay is longer than this, in milliseconds.
    pub max_delay_ms: u64,
    /// Each attempt's delay is the previous one times this factor (≥ 1).
    pub multiplier: f64,
    /// Fraction in `[0, 1]` by which a delay is randomly shortened: a delay `d` becomes a
    /// uniform value in `(d × (1 − jitter), d]`. 0 gives exact delays.
    pub jitter: f64,
    /// Consecutive failed attempts after which the session gives up and closes; `None`
    /// retries forever. A successful handshake resets the count.
    pub max_attempts: Option<u32>,
}

impl Default for ReconnectPolicy {
    /// 0.5 s, 1 s, 2 s, 4 s, 8 s, then 10 s forever, each shortened by up to half.
    fn default() -> Self {
        Self {
            enabled: true,
            initial_delay_ms: 500,
            max_delay_ms: 10_000,
            multiplier: 2.0,
            jitter: 0.5,
            max_attempts: None,
        }
    }
}

impl ReconnectPolicy {
    /// A policy that never reconnects.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Checks the numbers make sense; returns a description of the first problem.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.multiplier >= 1.0 && self.multiplier.is_finite()) {
            return Err(format!(
                "reconnect multiplier must be ≥ 1, got {}",
                self.multiplier
            ));
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(format!(
                "reconnect jitter must be within 0..=1, got {}",
                self.jitter
            ));
        }
        if self.initial_delay_ms > self.max_delay_ms {
            return Err(format!(
                "reconnect initial delay ({} ms) exceeds the max delay ({} ms)",
                self.initial_delay_ms, self.max_delay_ms
            ));
        }
        Ok(())
    }

    /// The delay before attempt `attempt` (1 for the first) without jitter:
    /// `initial × multiplier^(attempt − 1)`, capped at `max_delay_ms`.
    pub fn base_delay(&self, attempt: u32) -> u64 {
        let exponent = attempt.saturating_sub(1).min(1024) as i32;
        let delay = self.initial_delay_ms as f64 * self.multiplier.powi(exponent);
        if !delay.is_finite() || delay >= self.max_delay_ms as f64 {
            self.max_delay_ms
        } else {
            delay as u64
        }
    }

    /// The delay before attempt `attempt` (1 for the first), with jitter drawn from `rng`.
    pub fn delay(&self, attempt: u32, rng: &mut Rng) -> u64 {
        let base = self.base_delay(attempt);
        let cut = (base as f64 * self.jitter * rng.next_f64()) as u64;
        base - cut.min(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(initial: u64, max: u64) -> ReconnectPolicy {
        ReconnectPolicy {
            initial_delay_ms: initial,
            max_delay_ms: max,
            jitter: 0.0,
            ..ReconnectPolicy::default()
        }
    }

    #[test]
    fn doubles_then_caps() {
        let policy = exact(500, 10_000);
        let mut rng = Rng::new(1);
        let delays: Vec<u64> = (1..=9).map(|n| policy.delay(n, &mut rng)).collect();
        assert_eq!(
            delays,
            [500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000]
        );
    }

    #[test]
    fn other_multipliers_and_huge_attempt_numbers() {
        let policy = ReconnectPolicy {
            multiplier: 1.5,
            ..exact(100, 1000)
        };
        let delays: Vec<u64> = (1..=7).map(|n| policy.base_delay(n)).collect();
        assert_eq!(delays, [100, 150, 225, 337, 506, 759, 1000]);
        assert_eq!(policy.base_delay(u32::MAX), 1000);
        assert_eq!(
            ReconnectPolicy {
                multiplier: 1.0,
                ..exact(300, 1000)
            }
            .base_delay(50),
            300
        );
    }

    #[test]
    fn jitter_stays_within_bounds_and_varies() {
        let policy = ReconnectPolicy {
            jitter: 0.5,
            ..exact(1000, 60_000)
        };
        let mut rng = Rng::new(99);
        for attempt in 1..=8 {
            let base = policy.base_delay(attempt);
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..500 {
                let d = policy.delay(attempt, &mut rng);
                assert!(d <= base, "attempt {attempt}: {d} > {base}");
                assert!(
                    d as f64 > base as f64 * 0.5 - 1.0,
                    "attempt {attempt}: {d} too small"
                );
                seen.insert(d);
            }
            assert!(
                seen.len() > 50,
                "jitter should spread delays, got {} values",
                seen.len()
            );
        }
    }

    #[test]
    fn full_jitter_never_goes_negative() {
        let policy = ReconnectPolicy {
            jitter: 1.0,
            ..exact(10, 10)
        };
        let mut rng = Rng::new(3);
        for _ in 0..1000 {
            assert!(policy.delay(1, &mut rng) <= 10);
        }
    }

    #[test]
    fn validation() {
        assert!(ReconnectPolicy::default().validate().is_ok());
        assert!(ReconnectPolicy {
            multiplier: 0.5,
            ..Default::default()
        }
        .validate()
        .is_err());
        assert!(ReconnectPolicy {
            multiplier: f64::NAN,
            ..Default::default()
        }
        .validate()
        .is_err());
        assert!(ReconnectPolicy {
            jitter: 1.5,
            ..Default::default()
        }
        .validate()
        .is_err());
        assert!(exact(2000, 1000).validate().is_err());
    }
}
