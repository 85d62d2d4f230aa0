//! Malformed input never panics and never makes a decoder allocate from an
//! untrusted length: random bytes, truncations, bit flips and huge compact
//! sizes in real payloads, and random chunkings of a real message stream.
//! Whatever decodes re-encodes to the same bytes. Native only (proptest).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{layout_version, CLSIG_905775, HEADERS_898560, MNLISTDIFFS, QRINFOS};
use dashlight::block::HEADER_SIZE;
use dashlight::network::Network;
use dashlight::protocol::framing::{Command, RawMessage, StreamDecoder};
use dashlight::protocol::NetworkMessage;
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Records the largest single allocation, so tests can show that no length
/// field from the input was trusted.
struct PeakAllocation;

static LARGEST_ALLOCATION: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for PeakAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST_ALLOCATION.fetch_max(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST_ALLOCATION.fetch_max(new_size, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: PeakAllocation = PeakAllocation;

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
