//! Benchmark: a fresh engine takes a QRInfo and a full-list diff, verifies
//! every verifiable quorum, and checks a ChainLock. Two scenarios, printed
//! side by side: testnet (`qrinfo_905294.bin`, `mnlistdiff_0_905762.bin`,
//! `clsig_905775.bin`) and mainnet (`qrinfo_2028764.bin`,
//! `mnlistdiff_0_2028691.bin`).
//!
//! "received -> first ChainLock" runs from the bytes in hand to a ChainLock
//! verified whose signing quorum is verified too: on testnet the coinbase
//! ChainLock of block 905768 (`clsigs_derived_from_cbtx.csv`; the quorum that
//! signs `clsig_905775` needs the list at 905248, which is not sent here). No
//! mainnet ChainLock whose block hash is known is in the fixtures: there a
//! stand-in at the newest list's height is checked and its selected signing
//! quorum verified (`support::first_chainlock`). Each scenario runs twice:
//! verifying every quorum while the messages are applied
//! (`VerifyOnApply::All`, as before issue 14), and as the client does:
//! verifying none then (`VerifyOnApply::None`), the ChainLock with its own
//! signing quorum first, then the rest (`pending_quorums`, most urgent
//! first). Prints the median of several runs, split by phase. Run with
//! `cargo run --release --example bench_mnlist [runs]`; the browser version
//! is `tests/bench_browser.rs`.

// Natively only: it reads the thread CPU clock through libc.
#[cfg(not(target_arch = "wasm32"))]
#[path = "../tests/support/mod.rs"]
mod support;

#[cfg(not(target_arch = "wasm32"))]
mod bench {
    use super::support::{first_chainlock, mainnet_heights, testnet_cbtx_clsig, testnet_headers};
    use dashlight::chain::HeaderMap;
    use dashlight::encode::deserialize;
    use dashlight::mnlist::{MasternodeEngine, Timings, VerifyOnApply};
    use dashlight::network::Network;
    use dashlight::protocol::chainlock::ClSig;
    use dashlight::protocol::mnlistdiff::MnListDiff;
    use dashlight::protocol::qrinfo::QrInfo;
    use std::time::Instant;

    /// CPU time of this thread in seconds, so that other processes on the
    /// machine do not inflate the figures.
    fn cpu_seconds() -> f64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        if rc != 0 {
            return 0.0;
        }
        ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
    }

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures");

    /// The files of one scenario and its header chain.
    struct Scenario {
        name: &'static str,
        network: Network,
        chain: HeaderMap,
        qrinfo: Vec<u8>,
        diff: Vec<u8>,
        clsig: Option<Vec<u8>>,
        /// A ChainLock whose signing quorum these files let verify.
        verified_clsig: Option<ClSig>,
    }

    impl Scenario {
        fn testnet() -> Scenario {
            let read = |p: &str| std::fs::read(format!("{FIXTURES}/testnet/{p}")).expect(p);
            Scenario {
                name: "testnet qrinfo_905294 + mnlistdiff_0_905762 + clsig_905775",
                network: Network::Testnet,
                chain: testnet_headers(),
                qrinfo: read("qrinfo/qrinfo_905294.bin"),
                diff: read("mnlistdiff/mnlistdiff_0_905762.bin"),
                clsig: Some(read("clsig/clsig_905775.bin")),
                verified_clsig: testnet_cbtx_clsig(905_768),
            }
        }

        fn mainnet() -> Scenario {
            let read = |p: &str| std::fs::read(format!("{FIXTURES}/mainnet/p70230/{p}")).expect(p);
            let qrinfo = read("qrinfo_2028764.bin");
            let diff = read("mnlistdiff_0_2028691.bin");
            let heights = mainnet_heights(
                &QrInfo::from_payload(&qrinfo, 70230).expect("qrinfo"),
                &[&MnListDiff::from_payload(&diff, 70230).expect("diff")],
            );
            Scenario {
                name: "mainnet qrinfo_2028764 + mnlistdiff_0_2028691",
                network: Network::Mainnet,
                chain: heights,
                qrinfo,
                diff,
                clsig: None,
                verified_clsig: None,
            }
        }
    }

    struct Run {
        wall: f64,
        parsing: f64,
        total: f64,
        first_chainlock: f64,
        chainlock: f64,
        timings: Timings,
        at_first_chainlock: Timings,
        verified: usize,
        failed: usize,
    }

    fn run(s: &Scenario, verify: VerifyOnApply) -> Run {
        let wall = Instant::now();
        let start = cpu_seconds();
        let qrinfo = QrInfo::from_payload(&s.qrinfo, 70230).expect("qrinfo");
        let diff = MnListDiff::from_payload(&s.diff, 70230).expect("diff");
        let clsig: Option<ClSig> = s.clsig.as_ref().map(|b| deserialize(b).expect("clsig"));
        let parsing = cpu_seconds() - start;

        let mut engine = MasternodeEngine::new(s.network);
        engine.set_clock(Box::new(cpu_seconds));
        engine.set_require_block_proofs(!s.chain.is_empty());
        engine.set_verify_on_apply(verify);
        engine
            .apply_qrinfo(&qrinfo, &s.chain)
            .expect("qrinfo applies");
        engine.apply_diff(&diff, &s.chain).expect("diff applies");
        assert!(first_chainlock(
            &mut engine,
            s.verified_clsig.as_ref(),
            &s.chain
        ));
        let first_chainlock = cpu_seconds() - start;
        let at_first_chainlock = *engine.timings();
        let rest: Vec<_> = engine
            .pending_quorums()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        engine.verify_quorum_set(&rest, &s.chain);
        let cl_start = cpu_seconds();
        if let Some(clsig) = &clsig {
            let check = engine.verify_chainlock(clsig, &s.chain);
            assert!(check.signature_valid(), "{check:?}");
        }
        let chainlock = cpu_seconds() - cl_start;
        let total = cpu_seconds() - start;
        let wall = wall.elapsed().as_secs_f64();
        let count = |f: &dyn Fn(&dashlight::mnlist::QuorumStatus) -> bool| {
            engine.quorum_records().filter(|r| f(&r.status)).count()
        };
        Run {
            wall,
            parsing,
            total,
            first_chainlock,
            chainlock,
            timings: *engine.timings(),
            at_first_chainlock,
            verified: count(&|s| s.is_verified()),
            failed: count(&|s| s.is_final() && !s.is_verified()),
        }
    }

    fn median(mut values: Vec<f64>) -> f64 {
        values.sort_by(|a, b| a.total_cmp(b));
        values[values.len() / 2]
    }

    pub fn main() {
        let runs: usize = std::env::args()
            .nth(1)
            .and_then(|a| a.parse().ok())
            .unwrap_or(7);
        let scenarios = [Scenario::testnet(), Scenario::mainnet()];
        let modes = [VerifyOnApply::All, VerifyOnApply::None];
        let results: Vec<Vec<Run>> = scenarios
            .iter()
            .flat_map(|s| modes.map(|m| (s, m)))
            .map(|(s, m)| (0..runs).map(|_| run(s, m)).collect())
            .collect();
        println!(
            "Median of {runs} runs, CPU time of the thread in ms (wall time depends on the load)."
        );
        for (i, s) in scenarios.iter().enumerate() {
            println!(
                "  [{}] {}: all quorums on apply, [{}] the ChainLock's quorum first",
                2 * i + 1,
                s.name,
                2 * i + 2
            );
        }
        let row = |label: &str, f: &dyn Fn(&Run) -> f64| {
            let cells: Vec<String> = results
                .iter()
                .map(|r| format!("{:10.2}", median(r.iter().map(f).collect()) * 1000.0))
                .collect();
            println!("  {label:<34}{}", cells.join(""));
        };
        println!(
            "  {:<34}{:>10}{:>10}{:>10}{:>10}",
            "", "[1]", "[2]", "[3]", "[4]"
        );
        row("total (CPU)", &|r| r.total);
        row("total (wall)", &|r| r.wall);
        row("parsing", &|r| r.parsing);
        row("list building", &|r| r.timings.list_building);
        row("member selection", &|r| r.timings.member_selection);
        row("key decompression", &|r| r.timings.key_decompression);
        row("aggregation", &|r| r.timings.aggregation);
        row("pairings", &|r| r.timings.pairings);
        row("chainlock check", &|r| r.chainlock);
        row("received -> first ChainLock", &|r| r.first_chainlock);
        row("  of which list building", &|r| {
            r.at_first_chainlock.list_building
        });
        row("  of which member selection", &|r| {
            r.at_first_chainlock.member_selection
        });
        row("  of which key decompression", &|r| {
            r.at_first_chainlock.key_decompression
        });
        row("  of which aggregation", &|r| {
            r.at_first_chainlock.aggregation
        });
        row("  of which pairings", &|r| r.at_first_chainlock.pairings);
        let counts: Vec<String> = results
            .iter()
            .map(|r| {
                format!(
                    "{:>10}",
                    format!(
                        "{}/{}/{}",
                        r[0].verified, r[0].failed, r[0].timings.quorums_checked
                    )
                )
            })
            .collect();
        println!("  {:<34}{}", "verified/failed/checks", counts.join(""));
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    bench::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
