//! A token bucket that limits the byte rate of one direction of a connection.
//! Time is passed in, so the arithmetic is tested without clocks.

use crate::config::RateLimit;
use std::time::{Duration, Instant};

/// Tokens (bytes) refill at a fixed rate up to the burst size. Taking more
/// than are available leaves a debt that the caller waits off, so a message
/// larger than the burst still passes, at the sustained rate.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket for `limit`, as of `now`.
    pub fn new(limit: RateLimit, now: Instant) -> TokenBucket {
        let rate = limit.bytes_per_sec.max(1) as f64;
        let burst = (limit.burst_bytes as f64).max(rate);
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes `bytes` tokens at `now` and returns how long to wait before the
    /// bytes may pass (zero when the bucket covered them).
    pub fn take(&mut self, bytes: usize, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now.max(self.last);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.tokens -= bytes as f64;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(-self.tokens / self.rate).unwrap_or(Duration::MAX)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(rate: u64, burst: u64, now: Instant) -> TokenBucket {
        TokenBucket::new(
            RateLimit {
                bytes_per_sec: rate,
                burst_bytes: burst,
            },
            now,
        )
    }

    #[test]
    fn burst_passes_then_rate_applies() {
        let t0 = Instant::now();
        let mut b = bucket(1000, 2000, t0);
        assert_eq!(b.take(2000, t0), Duration::ZERO);
        assert_eq!(b.take(500, t0), Duration::from_millis(500));
        // Half a second later the debt is paid; another second buys 1000 bytes.
        let t1 = t0 + Duration::from_millis(1500);
        assert_eq!(b.take(1000, t1), Duration::ZERO);
    }

    #[test]
    fn large_messages_pass_at_the_sustained_rate() {
        let t0 = Instant::now();
        let mut b = bucket(1000, 1000, t0);
        assert_eq!(b.take(5000, t0), Duration::from_secs(4));
    }

    #[test]
    fn refill_is_capped_at_the_burst() {
        let t0 = Instant::now();
        let mut b = bucket(1000, 1000, t0);
        b.take(1000, t0);
        let later = t0 + Duration::from_secs(3600);
        assert_eq!(b.take(1000, later), Duration::ZERO);
        assert_eq!(b.take(1000, later), Duration::from_secs(1));
    }

    #[test]
    fn time_going_backwards_is_harmless() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut b = bucket(1000, 1000, t0);
        assert_eq!(b.take(1000, t0 - Duration::from_secs(5)), Duration::ZERO);
    }
}
