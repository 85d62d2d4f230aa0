//! Malformed input never panics and never makes a decoder allocate from an
//! untrusted length: random bytes, truncations, bit flips and huge compact
//! sizes in real payloads, and random chunkings of a real message stream.
//! Whatever decodes re-encodes to the same bytes. Native only (proptest).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{layout_version, CLSIG_905775, HEADERS_898560, MNLISTDIFFS, QRINFOS};
use dashlight::block::HEADER_SIZE;
use dashlight::encode::DecodeError;
use dashlight::network::Network;
use dashlight::protocol::bitset::BitSet;
use dashlight::protocol::framing::{Command, RawMessage, StreamDecoder};
use dashlight::protocol::qrinfo::QrInfo;
use dashlight::protocol::snapshot::{QuorumSnapshot, SkipListMode};
use dashlight::protocol::NetworkMessage;
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Records the largest single allocation, so tests can show that no length
/// field from the input was trusted, and each thread's live and peak bytes,
/// so tests can bound everything a decode holds at once.
struct PeakAllocation;

static LARGEST_ALLOCATION: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Bytes this thread has allocated and not freed (frees of memory another
    /// thread allocated can make it negative).
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// The most `LIVE` has been since [`peak_during`] last reset it.
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Adds `delta` to this thread's live bytes and raises its peak.
fn track(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().wrapping_add(delta);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for PeakAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST_ALLOCATION.fetch_max(layout.size(), Ordering::Relaxed);
        track(layout.size() as isize);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(-(layout.size() as isize));
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST_ALLOCATION.fetch_max(new_size, Ordering::Relaxed);
        track(new_size as isize - layout.size() as isize);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: PeakAllocation = PeakAllocation;

/// The most bytes this thread held at once while `f` ran (and its result
/// lived), above what it held before.
fn peak_during<R>(f: impl FnOnce() -> R) -> usize {
    let base = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(base));
    let result = f();
    let peak = PEAK.with(Cell::get);
    drop(result);
    peak.saturating_sub(base).max(0) as usize
}

/// No allocation may exceed this: a few times the largest fixture.
const ALLOCATION_BOUND: usize = 64 * 1024 * 1024;

const VERSIONS: [u32; 3] = [70227, 70228, 70230];

/// Decodes `payload` as `command`; whatever decodes must re-encode exactly.
fn check(command: &str, payload: &[u8], protocol_version: u32) {
    let command = Command::new(command);
    if let Ok(message) = NetworkMessage::decode(command, payload, protocol_version) {
        let raw = message.encode(protocol_version);
        assert_eq!(raw.command, command);
        assert_eq!(raw.payload, payload, "{command} re-encodes differently");
    }
    assert!(LARGEST_ALLOCATION.load(Ordering::Relaxed) < ALLOCATION_BOUND);
}

/// Every real payload with its command and protocol version.
fn fixture_payloads() -> Vec<(&'static str, &'static [u8], u32)> {
    let mut all: Vec<(&'static str, &'static [u8], u32)> = MNLISTDIFFS
        .iter()
        .map(|(path, bytes)| ("mnlistdiff", *bytes, layout_version(path)))
        .collect();
    all.extend(
        QRINFOS
            .iter()
            .map(|(path, bytes)| ("qrinfo", *bytes, layout_version(path))),
    );
    all.push(("clsig", CLSIG_905775, 70230));
    all
}

#[test]
fn every_truncation_of_small_fixtures_is_an_error() {
    for (command, bytes, version) in fixture_payloads() {
        if bytes.len() > 4000 {
            continue;
        }
        for len in 0..bytes.len() {
            let result = NetworkMessage::decode(Command::new(command), &bytes[..len], version);
            assert!(result.is_err(), "{command} truncated to {len} decoded");
        }
    }
}

#[test]
fn truncations_of_large_fixtures_are_errors() {
    for (command, bytes, version) in fixture_payloads() {
        let step = (bytes.len() / 300).max(1);
        for len in (0..bytes.len()).step_by(step).chain([bytes.len() - 1]) {
            let result = NetworkMessage::decode(Command::new(command), &bytes[..len], version);
            assert!(result.is_err(), "{command} truncated to {len} decoded");
        }
    }
}

#[test]
fn every_bit_flip_of_small_fixtures_is_handled() {
    for (command, bytes, version) in fixture_payloads() {
        if bytes.len() > 600 {
            continue;
        }
        let mut flipped = bytes.to_vec();
        for bit in 0..bytes.len() * 8 {
            flipped[bit / 8] ^= 1 << (bit % 8);
            check(command, &flipped, version);
            flipped[bit / 8] ^= 1 << (bit % 8);
        }
    }
}

fn any_fixture() -> impl Strategy<Value = (&'static str, &'static [u8], u32)> {
    proptest::sample::select(fixture_payloads())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..2000),
        version in proptest::sample::select(VERSIONS.to_vec()),
    ) {
        for command in NetworkMessage::KNOWN_COMMANDS {
            check(command, &bytes, version);
        }
    }

    #[test]
    fn bit_flips_of_fixtures_are_handled(
        (command, bytes, version) in any_fixture(),
        flips in proptest::collection::vec((any::<proptest::sample::Index>(), 0u8..8), 1..4),
    ) {
        let mut flipped = bytes.to_vec();
        for (at, bit) in flips {
            flipped[at.index(bytes.len())] ^= 1 << bit;
        }
        check(command, &flipped, version);
    }

    #[test]
    fn huge_compact_sizes_in_fixtures_are_rejected_without_allocating(
        (command, bytes, version) in any_fixture(),
        at in any::<proptest::sample::Index>(),
        marker in proptest::sample::select(vec![0xfeu8, 0xff]),
    ) {
        // Overwrite 9 bytes with the largest compact size of its width: any
        // count read there claims billions of items.
        let mut patched = bytes.to_vec();
        let start = at.index(bytes.len().saturating_sub(9).max(1));
        for (i, slot) in patched.iter_mut().skip(start).take(9).enumerate() {
            *slot = if i == 0 { marker } else { 0xff };
        }
        check(command, &patched, version);
    }

    #[test]
    fn random_chunkings_of_a_real_stream_yield_the_same_messages(
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..40),
    ) {
        let (messages, wire) = real_stream();
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
        cuts.push(0);
        cuts.push(wire.len());
        cuts.sort_unstable();
        let mut decoder = StreamDecoder::new(Network::Testnet);
        let mut got = Vec::new();
        for pair in cuts.windows(2) {
            decoder.feed(&wire[pair[0]..pair[1]]);
            while let Some(raw) = decoder.next_message().unwrap() {
                got.push(raw);
            }
        }
        prop_assert_eq!(decoder.buffered(), 0);
        prop_assert_eq!(&got, &messages);
    }

    #[test]
    fn garbage_spliced_into_a_real_stream_never_panics(
        at in any::<proptest::sample::Index>(),
        garbage in proptest::collection::vec(any::<u8>(), 1..64),
    ) {
        let (_, mut wire) = real_stream();
        let at = at.index(wire.len());
        wire.splice(at..at, garbage);
        let mut decoder = StreamDecoder::new(Network::Testnet);
        decoder.feed(&wire);
        while let Ok(Some(raw)) = decoder.next_message() {
            let _ = NetworkMessage::from_raw(&raw, 70230);
        }
        prop_assert!(LARGEST_ALLOCATION.load(Ordering::Relaxed) < ALLOCATION_BOUND);
    }
}

/// A real stream: headers, a diff, a ChainLock, a QRInfo, and small messages.
fn real_stream() -> (Vec<RawMessage>, Vec<u8>) {
    let mut headers = Vec::new();
    dashlight::encode::write_compact_size(&mut headers, 100);
    for header in HEADERS_898560[..100 * HEADER_SIZE].chunks(HEADER_SIZE) {
        headers.extend_from_slice(header);
        headers.push(0);
    }
    let messages = vec![
        NetworkMessage::Verack.encode(70230),
        RawMessage {
            command: Command::new("headers"),
            payload: headers,
        },
        RawMessage {
            command: Command::new("mnlistdiff"),
            payload: MNLISTDIFFS[1].1.to_vec(),
        },
        NetworkMessage::Ping(42).encode(70230),
        RawMessage {
            command: Command::new("clsig"),
            payload: CLSIG_905775.to_vec(),
        },
        RawMessage {
            command: Command::new("qrinfo"),
            payload: QRINFOS[4].1.to_vec(),
        },
    ];
    let wire = messages
        .iter()
        .flat_map(|m| m.to_wire(Network::Testnet))
        .collect();
    (messages, wire)
}

/// The one allocation not sized by the input: the decoded message's own
/// fixed-size struct, boxed (a `QrInfo` is the largest).
const FIXED_ALLOCATION: usize = std::mem::size_of::<QrInfo>();

/// Decodes `payload` as `command` and asserts that the decode never held more
/// than twice the payload's bytes at once (beside the message's own
/// fixed-size struct), whether it succeeded or not.
fn check_peak(command: Command, payload: &[u8], protocol_version: u32) {
    let peak = peak_during(|| NetworkMessage::decode(command, payload, protocol_version));
    assert!(
        peak <= 2 * payload.len() + FIXED_ALLOCATION,
        "{command}: decoding {} bytes held {peak} bytes at once",
        payload.len()
    );
}

/// A well-formed 8 MiB `qrinfo`: a real one's snapshots and diffs, then a
/// quorum snapshot list of as many empty snapshots (6 bytes each on the wire,
/// 64 in memory) as fit.
fn qrinfo_of_empty_snapshots() -> Vec<u8> {
    let (path, bytes) = QRINFOS[0];
    let version = layout_version(path);
    let mut info = QrInfo::from_payload(bytes, version).unwrap();
    info.last_commitment_per_index.clear();
    info.quorum_snapshot_list.clear();
    info.mn_list_diff_list.clear();
    let mut payload = info.to_payload(version);
    // Drop the three empty lists' counts, and write them again around the snapshots.
    payload.truncate(payload.len() - 3);
    payload.push(0);
    let count = (8 * 1024 * 1024 - payload.len() - 1 - 5) / 6;
    dashlight::encode::write_compact_size(&mut payload, count as u64);
    for _ in 0..count {
        payload.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    }
    payload.push(0);
    assert!(payload.len() <= 8 * 1024 * 1024);
    assert!(8 * 1024 * 1024 - payload.len() < 16);
    payload
}

#[test]
fn a_hostile_qrinfo_of_empty_snapshots_holds_under_twice_its_size() {
    let payload = qrinfo_of_empty_snapshots();
    let command = Command::new("qrinfo");
    let err = NetworkMessage::decode(command, &payload, 70230).unwrap_err();
    assert!(
        matches!(
            err.error,
            DecodeError::AllocationTooLarge {
                field: "quorum snapshot list",
                ..
            }
        ),
        "{err}"
    );
    check_peak(command, &payload, 70230);
}

#[test]
fn empty_snapshots_that_twice_the_payload_can_back_still_decode() {
    // A real QRInfo whose snapshot list holds some thousands of empty
    // snapshots: well-formed, within the budget, decoded, under the bound.
    let (path, bytes) = QRINFOS[0];
    let version = layout_version(path);
    let mut info = QrInfo::from_payload(bytes, version).unwrap();
    let empty = QuorumSnapshot {
        skip_list_mode: SkipListMode::NoSkipping,
        active_quorum_members: BitSet::from_bits(&[]),
        skip_list: vec![],
    };
    info.quorum_snapshot_list = vec![empty; bytes.len() / 104];
    let payload = info.to_payload(version);
    check_peak(Command::new("qrinfo"), &payload, version);
    assert_eq!(QrInfo::from_payload(&payload, version), Ok(info));
}

#[test]
fn every_fixture_and_fuzz_seed_holds_under_twice_its_size() {
    for (command, bytes, version) in fixture_payloads() {
        check_peak(Command::new(command), bytes, version);
    }
    // The largest real message, a 3 MB mainnet QRInfo (read from disk, too
    // large to embed).
    let mainnet = std::fs::read(common::fixture_path("mainnet/p70230/qrinfo_2028764.bin")).unwrap();
    check_peak(Command::new("qrinfo"), &mainnet, 70230);
    assert!(QrInfo::from_payload(&mainnet, 70230).is_ok());
    // The corpora `scripts/fuzz.sh` builds and the fuzzer grows, where present:
    // each input is its target's selector bytes followed by a payload.
    let corpus = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus"));
    let targets: [(&str, usize); 3] = [("message", 2), ("mnlistdiff", 1), ("qrinfo", 1)];
    for (target, selectors) in targets {
        let Ok(dir) = std::fs::read_dir(corpus.join(target)) else {
            continue;
        };
        for file in dir.flatten() {
            let input = std::fs::read(file.path()).unwrap();
            let Some((head, payload)) = input.split_at_checked(selectors) else {
                continue;
            };
            let version = FUZZ_VERSIONS[usize::from(head[selectors - 1]) % FUZZ_VERSIONS.len()];
            let command = match target {
                "message" => {
                    let commands = NetworkMessage::KNOWN_COMMANDS;
                    Command::new(commands[usize::from(head[0]) % commands.len()])
                }
                other => Command::new(other),
            };
            check_peak(command, payload, version);
        }
    }
}

/// The protocol versions the fuzz targets select from (`fuzz/fuzz_targets`).
const FUZZ_VERSIONS: [u32; 4] = [70227, 70228, 70229, 70230];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn random_bytes_hold_under_twice_their_size(
        bytes in proptest::collection::vec(any::<u8>(), 0..2000),
        version in proptest::sample::select(VERSIONS.to_vec()),
    ) {
        for command in NetworkMessage::KNOWN_COMMANDS {
            check_peak(Command::new(command), &bytes, version);
        }
    }

    #[test]
    fn mutated_fixtures_hold_under_twice_their_size(
        (command, bytes, version) in any_fixture(),
        at in any::<proptest::sample::Index>(),
        patch in proptest::collection::vec(any::<u8>(), 1..10),
    ) {
        // Overwrite a few bytes anywhere: counts, lengths, versions, flags.
        let mut patched = bytes.to_vec();
        let start = at.index(bytes.len());
        for (slot, byte) in patched.iter_mut().skip(start).zip(patch) {
            *slot = byte;
        }
        check_peak(Command::new(command), &patched, version);
    }
}
