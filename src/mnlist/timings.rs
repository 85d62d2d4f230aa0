//! Time spent per phase of the engine's work, measured with a clock the
//! caller supplies (the engine reads no clock of its own).

/// A monotonic clock in seconds, supplied by the caller.
pub type Clock = Box<dyn Fn() -> f64 + Send + Sync>;

/// A phase of the engine's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Checking diffs and building lists (merkle roots included).
    ListBuilding,
    /// Selecting quorum members (scores, rotation quarters).
    MemberSelection,
    /// Decompressing and checking operator keys.
    KeyDecompression,
    /// Aggregating the signers' keys (multi-scalar multiplication).
    Aggregation,
    /// Hashing to the curve and pairings.
    Pairings,
}

/// Seconds spent per phase, and quorums whose signatures were checked.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// See [`Phase::ListBuilding`].
    pub list_building: f64,
    /// See [`Phase::MemberSelection`].
    pub member_selection: f64,
    /// See [`Phase::KeyDecompression`].
    pub key_decompression: f64,
    /// See [`Phase::Aggregation`].
    pub aggregation: f64,
    /// See [`Phase::Pairings`].
    pub pairings: f64,
    /// Quorums whose signatures were checked.
    pub quorums_checked: usize,
}

impl Timings {
    /// Adds `seconds` to `phase`.
    pub fn add(&mut self, phase: Phase, seconds: f64) {
        let slot = match phase {
            Phase::ListBuilding => &mut self.list_building,
            Phase::MemberSelection => &mut self.member_selection,
            Phase::KeyDecompression => &mut self.key_decompression,
            Phase::Aggregation => &mut self.aggregation,
            Phase::Pairings => &mut self.pairings,
        };
        *slot += seconds;
    }

    /// Adds every figure of `other` (the time of checks run elsewhere).
    pub fn absorb(&mut self, other: &Timings) {
        self.list_building += other.list_building;
        self.member_selection += other.member_selection;
        self.key_decompression += other.key_decompression;
        self.aggregation += other.aggregation;
        self.pairings += other.pairings;
        self.quorums_checked += other.quorums_checked;
    }
}
