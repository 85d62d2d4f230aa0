//! The live-network soak: many seeds of the deterministic simulation (`tests/sim`), each a
//! span of the real testnet captures lived through with the standard faults, every invariant
//! checked after every step. Prints simulated days per wall-clock second, seeds, steps, every
//! violation with the seed and step that reproduce it, and the peak of each bounded quantity.
//!
//! ```sh
//! cargo run --release --example soak -- --seeds 1000 [--first-seed 1] [--days 85] [--hostile]
//! ```
//! With `--hostile`, one or two hostile peers join each seed's honest ones (`Scenario::hostile`,
//! attacks in `tests/sim/hostile.rs`). Each seed gives the client none, two or three checking
//! workers (`Scenario::soak`). Exits non-zero if any invariant broke.

#[path = "../tests/sim/mod.rs"]
mod sim;

use sim::{Peaks, Scenario, Sim, WorkerFigures};
use std::time::Instant;

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} takes a number"))
        })
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seeds = arg(&args, "--seeds", 20);
    let first = arg(&args, "--first-seed", 1);
    let days = arg(&args, "--days", 85);
    let hostile = args.iter().any(|a| a == "--hostile");
    let started = Instant::now();
    let (mut steps, mut simulated, mut violations) = (0u64, 0u64, Vec::new());
    let (mut blocks, mut faults, mut reloads, mut chainlocks) = (0u64, 0u64, 0u64, 0u64);
    let mut hostile_punished = 0u64;
    let mut peaks = Peaks::default();
    let mut workers = WorkerFigures::default();
    for seed in first..first + seeds {
        let scenario = if hostile {
            Scenario::hostile(seed, days)
        } else {
            Scenario::soak(seed, days)
        };
        let report = Sim::new(scenario).run();
        steps += report.steps;
        simulated += report.simulated_secs;
        blocks += u64::from(report.blocks);
        faults += u64::from(report.faults);
        reloads += u64::from(report.reloads);
        chainlocks += u64::from(report.chainlocks_verified);
        hostile_punished += u64::from(report.hostile_punished);
        peaks.chain_index_bytes = peaks.chain_index_bytes.max(report.peaks.chain_index_bytes);
        peaks.side_branches = peaks.side_branches.max(report.peaks.side_branches);
        peaks.lists = peaks.lists.max(report.peaks.lists);
        peaks.sockets = peaks.sockets.max(report.peaks.sockets);
        peaks.in_flight = peaks.in_flight.max(report.peaks.in_flight);
        peaks.stored_bytes = peaks.stored_bytes.max(report.peaks.stored_bytes);
        workers.check_batches += report.workers.check_batches;
        workers.split_batches += report.workers.split_batches;
        workers.hash_batches += report.workers.hash_batches;
        workers.lost += report.workers.lost;
        workers.garbage += report.workers.garbage;
        workers.dropped += report.workers.dropped;
        for violation in &report.violations {
            println!(
                "VIOLATION seed {} step {} at {} s (start {}, end {}, {} peers, {} hostile, {} workers): {}",
                violation.seed,
                violation.step,
                violation.at_secs,
                scenario.start_tip,
                scenario.end_height,
                scenario.peers,
                scenario.hostile_peers,
                scenario.workers,
                violation.what
            );
        }
        violations.extend(report.violations);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let days_simulated = simulated as f64 / 86_400.0;
    println!(
        "seeds: {seeds} (from {first}), up to {days} days each{}",
        if hostile {
            ", hostile peers beside the honest ones"
        } else {
            ""
        }
    );
    println!(
        "simulated: {days_simulated:.1} days in {elapsed:.1} s = {:.1} simulated days per second",
        days_simulated / elapsed
    );
    println!("steps: {steps}; blocks mined: {blocks}; faults: {faults}; reloads: {reloads}; ChainLocks verified: {chainlocks}; hostile peers punished: {hostile_punished}");
    println!(
        "checking workers: {} quorum batches ({} split), {} header batches; {} never answered, {} garbage, {} answered after a reload",
        workers.check_batches,
        workers.split_batches,
        workers.hash_batches,
        workers.lost,
        workers.garbage,
        workers.dropped
    );
    println!("violations: {}", violations.len());
    println!(
        "peaks: chain index {} bytes, {} side branches, {} masternode lists, {} sockets, {} messages in flight, {} bytes stored",
        peaks.chain_index_bytes,
        peaks.side_branches,
        peaks.lists,
        peaks.sockets,
        peaks.in_flight,
        peaks.stored_bytes
    );
    if !violations.is_empty() {
        std::process::exit(1);
    }
}
