//! Fault injection: what to break, and how far each fault has fired.
//!
//! `--drop-qrinfo` and `--disconnect-on-qrinfo` count over the whole run
//! (all connections) until the counters are reset; `--disconnect-after` and
//! `--corrupt-after` count the messages sent on each connection.
//!
//! `--invalid-qrinfo`, `--invalid-mnlistdiff` and `--invalid-clsig` serve
//! well-framed messages that decode but fail verification: one bit is
//! flipped at a spot the client's checks cover (see [`forge_diff`] and
//! [`forge_clsig`]), so a client must find them invalid, not undecodable.

use dashlight::protocol::chainlock::ClSig;
use dashlight::protocol::mnlistdiff::MnListDiff;
use dashlight::protocol::qrinfo::QrInfo;
use std::time::Duration;

/// The byte of a ChainLock's 96-byte BLS signature whose lowest bit
/// `--invalid-clsig` flips.
pub const CLSIG_SIGNATURE_BYTE: usize = 40;

/// Which answers are served provably invalid (`--invalid-*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InvalidPayloads {
    /// Every `qrinfo`: its tip diff's coinbase proof is broken.
    pub qrinfo: bool,
    /// Every `mnlistdiff`: its coinbase proof is broken.
    pub mnlistdiff: bool,
    /// Every ChainLock: its signature is broken.
    pub clsig: bool,
}

/// The faults to inject, as configured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// Ignore the first N `getqrinfo` requests of the run.
    pub drop_qrinfo: u32,
    /// Wait this long before sending each message.
    pub delay: Duration,
    /// Close each connection after sending it N messages.
    pub disconnect_after: Option<u64>,
    /// Close the connection on which the run's first `getqrinfo` arrives.
    pub disconnect_on_qrinfo: bool,
    /// On each connection, send the message after the first N with a bad checksum.
    pub corrupt_after: Option<u64>,
    /// Answers served well framed but provably invalid.
    pub invalid: InvalidPayloads,
}

/// `diff` with the lowest bit of its coinbase merkle proof's last hash
/// flipped: the proof no longer hashes to the block's merkle root, so the
/// coinbase (and the list roots it commits to) is not proven. Everything else,
/// the encoded size included, is unchanged.
pub fn forge_diff(diff: &MnListDiff) -> MnListDiff {
    let mut forged = diff.clone();
    if let Some(hash) = forged.coinbase_merkle_tree.hashes.last_mut() {
        hash.0[0] ^= 1;
    }
    forged
}

/// `qrinfo` with its tip diff forged as [`forge_diff`] does.
pub fn forge_qrinfo(qrinfo: &QrInfo) -> QrInfo {
    let mut forged = qrinfo.clone();
    forged.diff_tip = forge_diff(&qrinfo.diff_tip);
    forged
}

/// `clsig` with the lowest bit of its signature's byte
/// [`CLSIG_SIGNATURE_BYTE`] flipped: same height and block, a signature
/// that does not verify.
pub fn forge_clsig(clsig: &ClSig) -> ClSig {
    let mut forged = *clsig;
    if let Some(byte) = forged.signature.get_mut(CLSIG_SIGNATURE_BYTE) {
        *byte ^= 1;
    }
    forged
}

/// How far the run-wide faults have fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultProgress {
    qrinfo_drops_left: u32,
    disconnect_on_qrinfo_armed: bool,
}

impl FaultProgress {
    /// Nothing fired yet.
    pub fn new(plan: &FaultPlan) -> FaultProgress {
        FaultProgress {
            qrinfo_drops_left: plan.drop_qrinfo,
            disconnect_on_qrinfo_armed: plan.disconnect_on_qrinfo,
        }
    }

    /// Whether this `getqrinfo` is to be ignored (consumes one drop).
    pub fn take_qrinfo_drop(&mut self) -> bool {
        match self.qrinfo_drops_left.checked_sub(1) {
            Some(left) => {
                self.qrinfo_drops_left = left;
                true
            }
            None => false,
        }
    }

    /// Whether this `getqrinfo` closes the connection (only the first does).
    pub fn take_disconnect_on_qrinfo(&mut self) -> bool {
        core::mem::replace(&mut self.disconnect_on_qrinfo_armed, false)
    }
}

/// What happens to the next message sent on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFault {
    /// Sent as it is.
    None,
    /// Sent with a payload that does not match its checksum.
    Corrupt,
}

/// Counts a connection's sent messages against the per-connection faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionFaults {
    sent: u64,
    corrupt_after: Option<u64>,
    disconnect_after: Option<u64>,
}

impl ConnectionFaults {
    /// A fresh connection under `plan`.
    pub fn new(plan: &FaultPlan) -> ConnectionFaults {
        ConnectionFaults {
            sent: 0,
            corrupt_after: plan.corrupt_after,
            disconnect_after: plan.disconnect_after,
        }
    }

    /// Whether the connection has sent all it may send before it is closed.
    pub fn exhausted(&self) -> bool {
        self.disconnect_after.is_some_and(|n| self.sent >= n)
    }

    /// Counts one more message and tells what to do with it.
    pub fn next_send(&mut self) -> SendFault {
        let before = self.sent;
        self.sent = self.sent.saturating_add(1);
        if self.corrupt_after == Some(before) {
            SendFault::Corrupt
        } else {
            SendFault::None
        }
    }

    /// Messages sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Versioned, CAPTURE_PROTOCOL_VERSION};
    use crate::chain::ServedChain;
    use crate::config::DEFAULT_FIXTURES;
    use crate::fixtures::read_headers;
    use dashlight::block::BlockHeader;
    use dashlight::chain::HeaderLookup;
    use dashlight::encode::{deserialize, serialize};
    use dashlight::hash::BlockHash;
    use dashlight::mnlist::{DiffError, EngineErrorKind, MasternodeEngine};
    use dashlight::network::Network;
    use dashlight::node::engine::ClientEngineError;
    use dashlight::sync::engine::{ClassifiedError as _, EngineVerdict};
    use std::path::Path;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{DEFAULT_FIXTURES}/testnet/{name}");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The served testnet chain as the engine looks blocks up.
    struct Headers(ServedChain);

    impl Headers {
        fn testnet() -> Headers {
            let path =
                format!("{DEFAULT_FIXTURES}/testnet/headers/testnet_headers_898560_947248.bin");
            let headers = read_headers(Path::new(&path)).unwrap();
            Headers(ServedChain::new(Network::Testnet, headers, 898_560).unwrap())
        }
    }

    impl HeaderLookup for Headers {
        fn height_of(&self, hash: &BlockHash) -> Option<u32> {
            self.0.height_of(hash, self.0.last_height())
        }

        fn header_at(&self, height: u32) -> Option<BlockHeader> {
            self.0.header_at(height).copied()
        }
    }

    /// How many bits differ between two payloads of the same length.
    fn bits_flipped(a: &[u8], b: &[u8]) -> u32 {
        assert_eq!(a.len(), b.len(), "the forgery changed the length");
        a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
    }

    /// The client's verdict on an engine error: [`EngineVerdict::Invalid`] bans the peer.
    fn verdict(error: ClientEngineError) -> EngineVerdict {
        error.verdict()
    }

    #[test]
    fn forged_answers_decode_differ_by_one_bit_and_the_client_engine_finds_them_invalid() {
        let headers = Headers::testnet();
        let mut engine = MasternodeEngine::new(Network::Testnet);

        // QRInfo: the forgery still decodes; the client's engine rejects it as invalid
        // (the coinbase is not proven) and takes the real one.
        let payload = fixture("qrinfo/qrinfo_905294.bin");
        let qrinfo = QrInfo::from_payload(&payload, CAPTURE_PROTOCOL_VERSION).unwrap();
        let forged = forge_qrinfo(&qrinfo).payload_for(CAPTURE_PROTOCOL_VERSION);
        assert_eq!(bits_flipped(&payload, &forged), 1);
        let decoded = QrInfo::from_payload(&forged, CAPTURE_PROTOCOL_VERSION).unwrap();
        let error = engine.apply_qrinfo(&decoded, &headers).unwrap_err();
        assert_eq!(error.diff, "qrinfo tip");
        assert!(
            matches!(
                *error.error,
                EngineErrorKind::Diff(DiffError::BlockMerkleRoot { .. })
            ),
            "{error}"
        );
        assert_eq!(
            verdict(ClientEngineError::Engine(error)),
            EngineVerdict::Invalid
        );
        engine.apply_qrinfo(&qrinfo, &headers).unwrap();

        // MnListDiff: the same on a genesis-based diff.
        let payload = fixture("mnlistdiff/mnlistdiff_0_905762.bin");
        let diff = MnListDiff::from_payload(&payload, CAPTURE_PROTOCOL_VERSION).unwrap();
        let forged = forge_diff(&diff).payload_for(CAPTURE_PROTOCOL_VERSION);
        assert_eq!(bits_flipped(&payload, &forged), 1);
        let decoded = MnListDiff::from_payload(&forged, CAPTURE_PROTOCOL_VERSION).unwrap();
        let error = engine.apply_diff(&decoded, &headers).unwrap_err();
        assert_eq!(
            verdict(ClientEngineError::Engine(error)),
            EngineVerdict::Invalid
        );
        engine.apply_diff(&diff, &headers).unwrap();

        // ChainLock: same height and block, a signature that does not verify against the
        // quorum that signed the real one.
        let payload = fixture("clsig/clsig_905775.bin");
        let clsig: ClSig = deserialize(&payload).unwrap();
        assert_eq!(engine.verify_chainlock(&clsig, &headers).result, Ok(()));
        let forged = serialize(&forge_clsig(&clsig));
        assert_eq!(bits_flipped(&payload, &forged), 1);
        let decoded: ClSig = deserialize(&forged).unwrap();
        let check = engine.verify_chainlock(&decoded, &headers);
        assert_eq!(check.on_header_chain, Some(true));
        let failure = check.result.unwrap_err();
        let error = ClientEngineError::ChainLock {
            height: decoded.height,
            failure,
        };
        assert_eq!(verdict(error), EngineVerdict::Invalid);
    }

    #[test]
    fn run_wide_faults_fire_the_configured_number_of_times() {
        let plan = FaultPlan {
            drop_qrinfo: 2,
            disconnect_on_qrinfo: true,
            ..FaultPlan::default()
        };
        let mut progress = FaultProgress::new(&plan);
        assert!(progress.take_qrinfo_drop());
        assert!(progress.take_qrinfo_drop());
        assert!(!progress.take_qrinfo_drop());
        assert!(progress.take_disconnect_on_qrinfo());
        assert!(!progress.take_disconnect_on_qrinfo());
        assert!(!FaultProgress::new(&FaultPlan::default()).take_qrinfo_drop());
    }

    #[test]
    fn the_message_after_the_first_n_is_corrupted_once() {
        let plan = FaultPlan {
            corrupt_after: Some(2),
            disconnect_after: Some(4),
            ..FaultPlan::default()
        };
        let mut faults = ConnectionFaults::new(&plan);
        let sends: Vec<SendFault> = (0..4).map(|_| faults.next_send()).collect();
        assert_eq!(
            sends,
            [
                SendFault::None,
                SendFault::None,
                SendFault::Corrupt,
                SendFault::None
            ]
        );
        assert!(faults.exhausted());
        assert_eq!(faults.sent(), 4);
    }
}
