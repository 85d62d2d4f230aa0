//! The node's clock. Timers run on the caller's monotonic clock less the time the machine
//! spent asleep, so a laptop that sleeps for hours, or a tab the browser froze, does not
//! wake to every timer expired at once: timers resume where they were due, and the peers
//! are checked for liveness instead. The time the caller spent carrying out an input's
//! outputs (validating a batch, verifying a QRInfo, storing) is taken out the same way: the
//! requests that input made went out only when it was done.

use crate::sync::time::{Millis, Now, Timestamp};

/// The caller's clocks, with sleep taken out of the monotonic one.
#[derive(Debug, Clone)]
pub(super) struct AwakeClock {
    /// A timer overdue by more than this, or a wall clock that moved this much further
    /// than the monotonic one, means the machine slept (or the tab was frozen).
    leap: Millis,
    /// The sleep taken out so far.
    asleep: Millis,
    /// The previous input's clocks, as the caller gave them.
    last: Option<Now>,
}

impl AwakeClock {
    /// A clock that treats gaps longer than `leap` as sleep.
    pub(super) fn new(leap: Millis) -> AwakeClock {
        AwakeClock {
            leap,
            asleep: Millis(0),
            last: None,
        }
    }

    /// Reads an input's clocks. `due` is the node's earliest timer (on the awake clock)
    /// before this input. Returns the time for the node, and whether the machine woke from
    /// a sleep since the previous input.
    pub(super) fn observe(&mut self, now: Now, due: Option<Timestamp>) -> (Now, bool) {
        let Some(last) = self.last else {
            self.last = Some(now);
            return (Now::new(now.monotonic - self.asleep, now.unix_secs), false);
        };
        let monotonic = now.monotonic.max(last.monotonic);
        let last_awake = last.monotonic - self.asleep;
        let mut awake = monotonic - self.asleep;
        let mut woke = false;
        if let Some(due) = due {
            let due = due.max(last_awake);
            let overdue = awake.since(due);
            if overdue > self.leap {
                self.asleep = Millis(self.asleep.as_millis().saturating_add(overdue.as_millis()));
                awake = due;
                woke = true;
            }
        }
        let monotonic_gap = monotonic.since(last.monotonic).as_millis();
        let wall_gap = now
            .unix_secs
            .saturating_sub(last.unix_secs)
            .saturating_mul(1000);
        if wall_gap > monotonic_gap.saturating_add(self.leap.as_millis()) {
            woke = true;
        }
        self.last = Some(Now::new(monotonic, now.unix_secs));
        (Now::new(awake, now.unix_secs), woke)
    }

    /// The caller finished carrying out the previous input at `done` (its monotonic clock):
    /// the time since that input is taken out of the timers, as sleep is.
    pub(super) fn busy_until(&mut self, done: Timestamp) {
        let Some(last) = self.last else {
            return;
        };
        let busy = done.since(last.monotonic);
        self.asleep = Millis(self.asleep.as_millis().saturating_add(busy.as_millis()));
        self.last = Some(Now::new(last.monotonic.max(done), last.unix_secs));
    }

    /// The previous input's time on the awake clock.
    pub(super) fn last_awake(&self) -> Timestamp {
        self.last
            .map_or(Timestamp(0), |last| last.monotonic - self.asleep)
    }

    /// A time on the awake clock, on the caller's monotonic clock.
    pub(super) fn to_caller(&self, at: Timestamp) -> Timestamp {
        at + self.asleep
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEAP: Millis = Millis(50_000);

    fn at(monotonic: u64, unix_secs: u64) -> Now {
        Now::new(Timestamp(monotonic), unix_secs)
    }

    #[test]
    fn time_passes_unchanged_while_timers_are_served() {
        let mut clock = AwakeClock::new(LEAP);
        assert_eq!(clock.observe(at(1_000, 100), None), (at(1_000, 100), false));
        // A timer due at 30 s, served 20 s late (a throttled background tab).
        let (now, woke) = clock.observe(at(50_000, 149), Some(Timestamp(30_000)));
        assert_eq!((now, woke), (at(50_000, 149), false));
        assert_eq!(clock.to_caller(Timestamp(80_000)), Timestamp(80_000));
    }

    #[test]
    fn a_leap_past_a_due_timer_resumes_timers_where_they_were_due() {
        let mut clock = AwakeClock::new(LEAP);
        clock.observe(at(0, 1_000), None);
        let eight_hours = 8 * 3_600_000;
        let (now, woke) =
            clock.observe(at(eight_hours, 1_000 + 8 * 3_600), Some(Timestamp(30_000)));
        assert!(woke);
        assert_eq!(
            now,
            at(30_000, 1_000 + 8 * 3_600),
            "the wall clock is not adjusted"
        );
        // Deadlines are given back on the caller's clock.
        assert_eq!(
            clock.to_caller(Timestamp(40_000)),
            Timestamp(eight_hours + 10_000)
        );
        // And time goes on from there.
        let (later, woke) = clock.observe(at(eight_hours + 5_000, 1_000 + 8 * 3_600 + 5), None);
        assert!(!woke);
        assert_eq!(later.monotonic, Timestamp(35_000));
    }

    #[test]
    fn a_wall_clock_leap_over_a_still_monotonic_clock_is_a_wake() {
        let mut clock = AwakeClock::new(LEAP);
        clock.observe(at(10_000, 1_000), None);
        // Suspended: the monotonic clock stood still while the wall clock moved 8 hours.
        let (now, woke) = clock.observe(at(10_100, 1_000 + 8 * 3_600), Some(Timestamp(30_000)));
        assert!(woke);
        assert_eq!(now.monotonic, Timestamp(10_100));
    }

    #[test]
    fn a_wall_clock_moving_back_or_a_monotonic_clock_going_back_is_not_a_wake() {
        let mut clock = AwakeClock::new(LEAP);
        clock.observe(at(10_000, 1_000_000), None);
        let (now, woke) = clock.observe(at(11_000, 990_000), Some(Timestamp(30_000)));
        assert!(!woke);
        assert_eq!(now, at(11_000, 990_000));
        let (now, woke) = clock.observe(at(5_000, 990_001), Some(Timestamp(30_000)));
        assert!(!woke);
        assert_eq!(
            now.monotonic,
            Timestamp(11_000),
            "never earlier than before"
        );
    }

    #[test]
    fn time_spent_carrying_out_an_input_does_not_count_against_its_requests() {
        let mut clock = AwakeClock::new(LEAP);
        let (at, _) = clock.observe(Now::new(Timestamp(1_000), 0), None);
        // A request made by this input times out 200 ms after it, on the awake clock.
        let deadline = at.monotonic + Millis(200);
        // Validating and storing what came with it took 300 ms.
        clock.busy_until(Timestamp(1_300));
        assert_eq!(clock.to_caller(deadline), Timestamp(1_500));
        let (later, woke) = clock.observe(Now::new(Timestamp(1_450), 0), Some(deadline));
        assert!(!woke);
        assert!(
            later.monotonic < deadline,
            "not yet due 150 ms after it went out"
        );
    }
}
