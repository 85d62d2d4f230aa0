//! Benchmark: a fresh engine takes `qrinfo_905294.bin` and
//! `mnlistdiff_0_905762.bin`, verifies every verifiable quorum, and checks the
//! ChainLock `clsig_905775.bin`. Prints the median of several runs, split by
//! phase. Run with `cargo run --release --example bench_mnlist [runs]`.

// Natively only: it reads the thread CPU clock through libc.
#[cfg(not(target_arch = "wasm32"))]
mod bench {
    use dashlight::block::{BlockHeader, HEADER_SIZE};
    use dashlight::encode::deserialize;
    use dashlight::hash::BlockHash;
    use dashlight::mnlist::{HeaderChain, MasternodeEngine, Timings};
    use dashlight::network::Network;
    use dashlight::protocol::chainlock::ClSig;
    use dashlight::protocol::mnlistdiff::MnListDiff;
    use dashlight::protocol::qrinfo::QrInfo;
    use std::collections::HashMap;
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

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/testnet");

    /// Headers 898560.. by height, hashes taken from the next header's prev hash.
    struct Headers {
        by_height: HashMap<u32, (BlockHeader, BlockHash)>,
        heights: HashMap<BlockHash, u32>,
    }

    impl Headers {
        fn load() -> Headers {
            let bytes = std::fs::read(format!(
                "{FIXTURES}/headers/testnet_headers_898560_947248.bin"
            ))
            .expect("headers fixture");
            let headers: Vec<BlockHeader> = bytes
                .chunks_exact(HEADER_SIZE)
                .map(|c| BlockHeader::from_bytes(c.try_into().expect("80 bytes")))
                .collect();
            let mut chain = Headers {
                by_height: HashMap::new(),
                heights: HashMap::new(),
            };
            for (i, header) in headers.iter().enumerate() {
                let hash = headers
                    .get(i + 1)
                    .map_or_else(|| header.block_hash(), |n| n.prev_blockhash);
                let height = 898_560 + i as u32;
                chain.by_height.insert(height, (*header, hash));
                chain.heights.insert(hash, height);
            }
            chain
        }
    }

    impl HeaderChain for Headers {
        fn height_of(&self, hash: &BlockHash) -> Option<u32> {
            self.heights.get(hash).copied()
        }
        fn header_at(&self, height: u32) -> Option<BlockHeader> {
            self.by_height.get(&height).map(|(h, _)| *h)
        }
        fn hash_at(&self, height: u32) -> Option<BlockHash> {
            self.by_height.get(&height).map(|(_, h)| *h)
        }
    }

    struct Run {
        wall: f64,
        parsing: f64,
        total: f64,
        chainlock: f64,
        timings: Timings,
        verified: usize,
    }

    fn run(headers: &Headers, qrinfo_bytes: &[u8], diff_bytes: &[u8], clsig_bytes: &[u8]) -> Run {
        let wall = Instant::now();
        let start = cpu_seconds();
        let qrinfo = QrInfo::from_payload(qrinfo_bytes, 70230).expect("qrinfo");
        let diff = MnListDiff::from_payload(diff_bytes, 70230).expect("diff");
        let clsig: ClSig = deserialize(clsig_bytes).expect("clsig");
        let parsing = cpu_seconds() - start;

        let mut engine = MasternodeEngine::new(Network::Testnet);
        engine.set_clock(Box::new(cpu_seconds));
        engine
            .apply_qrinfo(&qrinfo, headers)
            .expect("qrinfo applies");
        engine.apply_diff(&diff, headers).expect("diff applies");
        let cl_start = cpu_seconds();
        let check = engine.verify_chainlock(&clsig, headers);
        assert!(check.signature_valid(), "{check:?}");
        let chainlock = cpu_seconds() - cl_start;
        let total = cpu_seconds() - start;
        let wall = wall.elapsed().as_secs_f64();
        let verified = engine
            .quorum_records()
            .filter(|r| r.status.is_verified())
            .count();
        Run {
            wall,
            parsing,
            total,
            chainlock,
            timings: *engine.timings(),
            verified,
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
        let headers = Headers::load();
        let qrinfo = std::fs::read(format!("{FIXTURES}/qrinfo/qrinfo_905294.bin")).expect("qrinfo");
        let diff =
            std::fs::read(format!("{FIXTURES}/mnlistdiff/mnlistdiff_0_905762.bin")).expect("diff");
        let clsig = std::fs::read(format!("{FIXTURES}/clsig/clsig_905775.bin")).expect("clsig");
        let results: Vec<Run> = (0..runs)
            .map(|_| run(&headers, &qrinfo, &diff, &clsig))
            .collect();
        let ms = |f: &dyn Fn(&Run) -> f64| median(results.iter().map(f).collect()) * 1000.0;
        println!("qrinfo_905294 + mnlistdiff_0_905762 + clsig_905775, median of {runs} runs,");
        println!("CPU time of the thread in ms (wall time depends on the machine's load):");
        println!("  total (CPU)        {:8.2}", ms(&|r| r.total));
        println!("  total (wall)       {:8.2}", ms(&|r| r.wall));
        println!("  parsing            {:8.2}", ms(&|r| r.parsing));
        println!(
            "  list building      {:8.2}",
            ms(&|r| r.timings.list_building)
        );
        println!(
            "  member selection   {:8.2}",
            ms(&|r| r.timings.member_selection)
        );
        println!(
            "  key decompression  {:8.2}",
            ms(&|r| r.timings.key_decompression)
        );
        println!(
            "  aggregation        {:8.2}",
            ms(&|r| r.timings.aggregation)
        );
        println!("  pairings           {:8.2}", ms(&|r| r.timings.pairings));
        println!("  chainlock check    {:8.2}", ms(&|r| r.chainlock));
        println!(
            "  quorums verified   {:8}  (signature checks: {})",
            results[0].verified, results[0].timings.quorums_checked
        );
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    bench::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
