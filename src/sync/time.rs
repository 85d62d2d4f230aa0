//! Time as plain numbers passed in by the caller: nothing in `sync` reads a clock.
//!
//! Two clocks, for two jobs. Timers (timeouts, retries, pings) run on a monotonic
//! [`Timestamp`]: the runtime passes `performance.now()` in the browser or the elapsed time of
//! a native `Instant`, and only differences matter, so any epoch works. Header times are judged
//! against the wall clock (Unix seconds), which may be corrected, jump or run backwards; it is
//! read afresh with every input ([`Now`]) and never stored as a "launch time".

use core::fmt;
use core::ops::{Add, Sub};

/// A span of time in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub u64);

impl Millis {
    /// A span of `secs` seconds (saturating).
    pub const fn from_secs(secs: u64) -> Self {
        Millis(secs.saturating_mul(1000))
    }

    /// The span in milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The span multiplied by `factor` (at least 1 ms): for tests that
    /// compress every timeout.
    pub fn scaled(self, factor: f64) -> Millis {
        Millis(((self.0 as f64) * factor).max(1.0) as u64)
    }

    /// Doubles the span `times` times, capped at `cap`.
    pub fn doubled(self, times: u32, cap: Millis) -> Millis {
        let factor = 1u64.checked_shl(times.min(63)).unwrap_or(u64::MAX);
        Millis(self.0.saturating_mul(factor)).min(cap)
    }
}

impl Sub for Millis {
    type Output = Millis;

    /// Saturating at zero.
    fn sub(self, other: Millis) -> Millis {
        Millis(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", self.0)
    }
}

/// A point in time: milliseconds since an epoch chosen by the caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The timestamp `millis` milliseconds after the caller's epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Timestamp(millis)
    }

    /// Milliseconds since the caller's epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Time elapsed from `earlier` to `self`; zero if `earlier` is later.
    pub const fn since(self, earlier: Timestamp) -> Millis {
        Millis(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Millis> for Timestamp {
    type Output = Timestamp;

    /// Saturating: a deadline past the end of time stays at the end of time.
    fn add(self, span: Millis) -> Timestamp {
        Timestamp(self.0.saturating_add(span.0))
    }
}

impl Sub<Millis> for Timestamp {
    type Output = Timestamp;

    /// Saturating: nothing is earlier than the epoch.
    fn sub(self, span: Millis) -> Timestamp {
        Timestamp(self.0.saturating_sub(span.0))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={} ms", self.0)
    }
}

/// The two clocks every input to the client core carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Now {
    /// The monotonic clock: timers run on it.
    pub monotonic: Timestamp,
    /// The wall clock, in seconds since the Unix epoch: header times are judged against it.
    pub unix_secs: u64,
}

impl Now {
    /// A reading of both clocks.
    pub const fn new(monotonic: Timestamp, unix_secs: u64) -> Now {
        Now {
            monotonic,
            unix_secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_saturates() {
        assert_eq!(Timestamp(u64::MAX) + Millis(5), Timestamp(u64::MAX));
        assert_eq!(Timestamp(10) + Millis::from_secs(2), Timestamp(2010));
    }

    #[test]
    fn since_never_underflows() {
        assert_eq!(Timestamp(5).since(Timestamp(10)), Millis(0));
        assert_eq!(Timestamp(15).since(Timestamp(10)), Millis(5));
    }

    #[test]
    fn doubling_is_capped() {
        let cap = Millis::from_secs(60);
        assert_eq!(Millis::from_secs(5).doubled(0, cap), Millis::from_secs(5));
        assert_eq!(Millis::from_secs(5).doubled(2, cap), Millis::from_secs(20));
        assert_eq!(Millis::from_secs(5).doubled(10, cap), cap);
        assert_eq!(Millis::from_secs(5).doubled(u32::MAX, cap), cap);
    }
}
