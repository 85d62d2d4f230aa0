//! Reconnection delays: exponential backoff with jitter, so many clients that
//! lost the same bridge do not come back in lockstep.

use crate::sync::time::Millis;

/// A small deterministic random source (xorshift64*), seeded by the caller so
/// the sans-IO core stays reproducible in tests.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    /// A source seeded with `seed` (zero is replaced by a fixed odd constant).
    pub fn new(seed: u64) -> Jitter {
        Jitter(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next pseudo-random 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Exponential backoff: the n-th consecutive failure waits a random time
/// between half and all of `min(base × 2ⁿ, max)`.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Millis,
    max: Millis,
    failures: u32,
}

impl Backoff {
    /// Backoff starting at `base` and never above `max`.
    pub fn new(base: Millis, max: Millis) -> Backoff {
        Backoff {
            base,
            max,
            failures: 0,
        }
    }

    /// Records a failure and returns how long to wait before the next try.
    pub fn next_delay(&mut self, jitter: &mut Jitter) -> Millis {
        let ceiling = self.base.doubled(self.failures, self.max).0.max(1);
        self.failures = self.failures.saturating_add(1);
        let half = ceiling / 2;
        Millis(half + jitter.next_u64() % (ceiling - half + 1))
    }

    /// Forgets past failures (after a successful connection, or when the
    /// browser reports the network back and waiting longer is pointless).
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Consecutive failures recorded.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_within_jittered_bounds_and_cap() {
        let mut backoff = Backoff::new(Millis(500), Millis(30_000));
        let mut jitter = Jitter::new(7);
        let mut previous_ceiling = 0;
        for n in 0..12u32 {
            let ceiling = (500u64 << n).min(30_000);
            let delay = backoff.next_delay(&mut jitter).0;
            assert!(
                delay >= ceiling / 2 && delay <= ceiling,
                "attempt {n}: {delay} not in [{}, {ceiling}]",
                ceiling / 2
            );
            assert!(ceiling >= previous_ceiling);
            previous_ceiling = ceiling;
        }
        backoff.reset();
        assert!(backoff.next_delay(&mut jitter).0 <= 500);
    }

    #[test]
    fn jitter_spreads_clients() {
        let delays: std::collections::BTreeSet<u64> = (1..=20u64)
            .map(|seed| {
                Backoff::new(Millis(1000), Millis(60_000))
                    .next_delay(&mut Jitter::new(seed))
                    .0
            })
            .collect();
        assert!(delays.len() > 10, "{delays:?}");
    }
}
