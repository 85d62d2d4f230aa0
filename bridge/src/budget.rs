//! Command budgets: token buckets, per client, for the commands that cost
//! the node far more than their bytes (`getqrinfo`, `getmnlistd`, …).
//!
//! Each budgeted command has a burst (messages allowed at once) and a
//! sustained rate (messages per second). A client (one [`ClientKey`] of
//! [`crate::limits`], shared by all its connections) that sends one more
//! than its bucket holds is closed with 1008: the bridge never queues or
//! delays such requests, so that dashd never sees a flood from the bridge's
//! address on behalf of one client.
//!
//! [`ClientKey`]: crate::limits::ClientKey

use dashlight::protocol::framing::Command;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The budget of one command.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Messages allowed at once after a quiet period (at least 1).
    pub burst: u32,
    /// Messages per second refilled.
    pub per_second: f64,
}

/// The default budgets: generous for a light client syncing (headers in
/// batches of 2,000, masternode-list diffs a few at a time, one QRInfo per
/// DKG cycle), tight for floods.
pub const DEFAULT_BUDGETS: &[(&str, Budget)] = &[
    ("getheaders", budget(2000, 100.0)),
    ("getheaders2", budget(2000, 100.0)),
    ("getblocks", budget(50, 5.0)),
    ("getqrinfo", budget(16, 0.2)),
    ("getmnlistd", budget(200, 10.0)),
    ("getdata", budget(500, 50.0)),
    ("mempool", budget(4, 1.0 / 60.0)),
    ("filterload", budget(10, 0.2)),
    ("filteradd", budget(200, 10.0)),
    ("getcfilters", budget(100, 10.0)),
    ("getcfheaders", budget(100, 10.0)),
    ("getcfcheckpt", budget(10, 1.0)),
];

const fn budget(burst: u32, per_second: f64) -> Budget {
    Budget { burst, per_second }
}

/// The budgets of every budgeted command; commands not in it are free.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetTable(HashMap<Command, Budget>);

impl BudgetTable {
    /// [`DEFAULT_BUDGETS`].
    pub fn defaults() -> BudgetTable {
        BudgetTable(
            DEFAULT_BUDGETS
                .iter()
                .map(|(name, budget)| (Command::new(name), *budget))
                .collect(),
        )
    }

    /// No budgets at all.
    pub fn none() -> BudgetTable {
        BudgetTable(HashMap::new())
    }

    /// Sets (or replaces) the budget of `command`.
    pub fn set(&mut self, command: Command, budget: Budget) {
        self.0.insert(command, budget);
    }

    /// The budget of `command`, if it has one.
    pub fn get(&self, command: &Command) -> Option<Budget> {
        self.0.get(command).copied()
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// One client's buckets, filled on first use.
#[derive(Debug)]
pub struct ClientBudget {
    table: Arc<BudgetTable>,
    buckets: HashMap<Command, Bucket>,
}

/// A client's buckets, shared by its connections.
pub type SharedBudget = Arc<Mutex<ClientBudget>>;

impl ClientBudget {
    /// Full buckets for `table`'s commands.
    pub fn new(table: Arc<BudgetTable>) -> ClientBudget {
        ClientBudget {
            table,
            buckets: HashMap::new(),
        }
    }

    /// A new shared budget.
    pub fn shared(table: Arc<BudgetTable>) -> SharedBudget {
        Arc::new(Mutex::new(Self::new(table)))
    }

    /// Spends one `command` at `now`; fails when its bucket is empty (and
    /// then takes nothing).
    pub fn spend(&mut self, command: &Command, now: Instant) -> Result<(), OverBudget> {
        let Some(budget) = self.table.get(command) else {
            return Ok(());
        };
        let burst = f64::from(budget.burst.max(1));
        let bucket = self.buckets.entry(*command).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.last = now.max(bucket.last);
        bucket.tokens = (bucket.tokens + elapsed * budget.per_second.max(0.0)).min(burst);
        if bucket.tokens < 1.0 {
            return Err(OverBudget {
                command: *command,
                budget,
            });
        }
        bucket.tokens -= 1.0;
        Ok(())
    }
}

/// A client sent a budgeted command more often than its budget allows.
#[derive(Debug, Clone, PartialEq)]
pub struct OverBudget {
    /// The command.
    pub command: Command,
    /// Its budget.
    pub budget: Budget,
}

impl fmt::Display for OverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "command {} over its budget ({} at once, {} per second)",
            self.command.name(),
            self.budget.burst,
            self.budget.per_second
        )
    }
}

impl std::error::Error for OverBudget {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn table(burst: u32, per_second: f64) -> Arc<BudgetTable> {
        let mut table = BudgetTable::none();
        table.set(Command::new("getqrinfo"), budget(burst, per_second));
        Arc::new(table)
    }

    #[test]
    fn burst_then_rate() {
        let t0 = Instant::now();
        let q = Command::new("getqrinfo");
        let mut client = ClientBudget::new(table(3, 0.5));
        for _ in 0..3 {
            assert!(client.spend(&q, t0).is_ok());
        }
        let err = client.spend(&q, t0).unwrap_err();
        assert_eq!(err.command, q);
        assert!(err.to_string().contains("getqrinfo"), "{err}");
        assert!(client.spend(&q, t0 + Duration::from_secs(1)).is_err());
        assert!(client.spend(&q, t0 + Duration::from_secs(2)).is_ok());
        // Refill is capped at the burst.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert!(client.spend(&q, later).is_ok());
        }
        assert!(client.spend(&q, later).is_err());
    }

    #[test]
    fn unbudgeted_commands_are_free() {
        let mut client = ClientBudget::new(table(1, 0.0));
        let now = Instant::now();
        for _ in 0..1000 {
            assert!(client.spend(&Command::new("ping"), now).is_ok());
        }
    }

    #[test]
    fn defaults_cover_the_expensive_commands() {
        let table = BudgetTable::defaults();
        for name in [
            "getqrinfo",
            "getmnlistd",
            "getheaders",
            "getdata",
            "mempool",
            "filterload",
            "filteradd",
            "getcfilters",
            "getcfheaders",
        ] {
            assert!(table.get(&Command::new(name)).is_some(), "{name}");
        }
        assert!(table.get(&Command::new("ping")).is_none());
    }
}
