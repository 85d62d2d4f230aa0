//! What the masternode and ChainLock managers need from the masternode list engine.
//!
//! The engine owns masternode lists, quorums and all cryptography; the managers only decide
//! what to request and when. The message types are associated types so the managers are
//! generic over them and unit tests can use a pure in-memory engine.

use super::chain_view::ChainView;
use crate::hash::BlockHash;
use core::fmt;

/// Identifies an LLMQ quorum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QuorumId {
    /// The LLMQ type number (e.g. 1 for LLMQ_50_60).
    pub llmq_type: u8,
    /// Hash of the block the quorum was formed at.
    pub quorum_hash: BlockHash,
}

/// A quorum the engine cannot verify until it has the masternode list at `list_height`
/// (for a non-rotating quorum: its quorum height − 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QuorumNeed {
    /// The quorum waiting to be verified.
    pub quorum: QuorumId,
    /// The height of the masternode list it needs.
    pub list_height: u32,
}

/// Where the quorums of the stored lists stand.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuorumCheck {
    /// Quorums verified.
    pub verified: u32,
    /// Quorums of the newest list that were tried and could not be verified because a list
    /// they need is missing.
    pub unverifiable: Vec<QuorumNeed>,
}

/// The two blocks an MnListDiff spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DiffBlocks {
    /// The block of the list the diff applies to (all zero: the empty list).
    pub base: BlockHash,
    /// The block of the list the diff produces.
    pub block: BlockHash,
}

/// The block a ChainLock locks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChainLockTarget {
    /// Height of the locked block.
    pub height: u32,
    /// Hash of the locked block.
    pub hash: BlockHash,
}

/// The quorum that signed a verified ChainLock, as the engine found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChainLockSigner {
    /// The signing quorum.
    pub quorum: QuorumId,
    /// Whether that quorum's own commitment is verified too (not only found in a list the
    /// chain committed to).
    pub quorum_verified: bool,
}

/// How the managers should react to an engine error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineVerdict {
    /// The data is wrong (bad signature, bad merkle root, a diff that does not fit its
    /// base): the peer that sent it misbehaved. Ask again with a fresh request, the runtime
    /// picks another peer.
    Invalid,
    /// The data cannot be checked yet (e.g. "required rotated ChainLock signature not
    /// present", or a ChainLock whose quorum list is not synced): ask again later.
    NotYetAvailable,
    /// The check was inconclusive for a reason on our side: the data names a block our
    /// header chain does not hold (it may have reorganised since the request, or hold that
    /// block only by hash or not at all), or it verified only against a quorum our lists
    /// cannot vouch for. Ask again with a fresh request; unlike [`EngineVerdict::Invalid`],
    /// this does not show that the peer misbehaved.
    Inconclusive,
}

/// An engine error the managers can classify.
pub trait ClassifiedError: fmt::Display + fmt::Debug {
    /// How to react to this error.
    fn verdict(&self) -> EngineVerdict;
}

/// The masternode list engine, as the sync managers use it.
pub trait SyncEngine {
    /// A decoded `qrinfo` message.
    type QrInfo;
    /// A decoded `mnlistdiff` message.
    type MnListDiff;
    /// A decoded `clsig` message.
    type ChainLock;
    /// Why the engine rejected a message.
    type Error: ClassifiedError;

    /// The block hash of the QRInfo's tip diff (the `blockRequestHash` it answers).
    fn qrinfo_tip(&self, qrinfo: &Self::QrInfo) -> BlockHash;

    /// Verifies and stores the lists of a QRInfo, verifying the quorums that sign ChainLocks
    /// in its newest list (the others wait for [`SyncEngine::verify_quorum_set`]); returns
    /// the height of the list at its tip. `chain` resolves the heights and hashes of the
    /// blocks it names (including work blocks at quorum height − 8).
    fn apply_qrinfo(
        &mut self,
        qrinfo: Self::QrInfo,
        chain: &dyn ChainView,
    ) -> Result<u32, Self::Error>;

    /// The blocks an MnListDiff spans.
    fn mnlistdiff_blocks(&self, diff: &Self::MnListDiff) -> DiffBlocks;

    /// Verifies and applies an MnListDiff, verifying the quorums that sign ChainLocks in the
    /// newest list like [`SyncEngine::apply_qrinfo`]; returns the height of the list it
    /// produced.
    fn apply_mnlistdiff(
        &mut self,
        diff: Self::MnListDiff,
        chain: &dyn ChainView,
    ) -> Result<u32, Self::Error>;

    /// The quorums not verified (nor failed) yet, most urgent first: those of the newest
    /// list that sign ChainLocks, then InstantSend locks, then Platform's, then the rest.
    fn pending_quorums(&self) -> Vec<QuorumId>;

    /// Tries to verify `quorums` with the lists stored now; quorums verified or failed
    /// already, and unknown ones, are left as they are. The outcome does not depend on how
    /// the pending quorums are split into sets or in which order the sets come.
    fn verify_quorum_set(
        &mut self,
        quorums: &[QuorumId],
        chain: &dyn ChainView,
    ) -> Result<(), Self::Error>;

    /// Prepares the signature checks of `quorums` (like [`SyncEngine::verify_quorum_set`]
    /// without checking) for workers elsewhere: at most `parts` non-empty shares of encoded
    /// checks, the same shares for the same quorums and lists. A quorum whose status is known
    /// without a signature check gets it now; no share means nothing is left to check.
    fn prepare_quorum_checks(
        &mut self,
        quorums: &[QuorumId],
        parts: usize,
        chain: &dyn ChainView,
    ) -> Result<Vec<Vec<u8>>, Self::Error>;

    /// Applies the workers' `answers` to the `shares` [`SyncEngine::prepare_quorum_checks`]
    /// made (`answers[i]` for `shares[i]`); a share whose answer is missing or does not fit
    /// its checks is checked here instead, so the statuses are those of
    /// [`SyncEngine::verify_quorum_set`] whatever the answers. Returns how many quorums took
    /// their outcome from an answer.
    fn apply_quorum_checks(
        &mut self,
        shares: &[Vec<u8>],
        answers: &[Vec<u8>],
        chain: &dyn ChainView,
    ) -> Result<u32, Self::Error>;

    /// Prepares the signature check of one quorum with its key aggregation split in at most
    /// `parts` encoded parts, for as many workers; `None` if the quorum needs no check or
    /// its check cannot be split (check it with [`SyncEngine::verify_quorum_set`]).
    fn prepare_split_check(
        &mut self,
        quorum: &QuorumId,
        parts: usize,
        chain: &dyn ChainView,
    ) -> Result<Option<Vec<Vec<u8>>>, Self::Error>;

    /// Applies the workers' `answers` to the parts [`SyncEngine::prepare_split_check`] made
    /// of `quorum` (`answers[i]` for part `i`); if they do not verify it, it is checked
    /// here, so its status is that of [`SyncEngine::verify_quorum_set`] whatever the
    /// answers. Returns whether the answers verified it.
    fn apply_split_check(
        &mut self,
        quorum: &QuorumId,
        answers: &[Vec<u8>],
        chain: &dyn ChainView,
    ) -> Result<bool, Self::Error>;

    /// How many quorums are verified, and which quorums of the newest list were tried and
    /// still wait for a list.
    fn quorum_check(&self) -> QuorumCheck;

    /// The block a ChainLock locks.
    fn chainlock_target(&self, chainlock: &Self::ChainLock) -> ChainLockTarget;

    /// Verifies a ChainLock's signature against the quorum that must have signed it and
    /// names that quorum. If the signature holds and the signing quorum's commitment is still
    /// pending, it is verified then: a ChainLock waits for its own quorum only, not for the
    /// others.
    fn verify_chainlock(
        &mut self,
        chainlock: &Self::ChainLock,
        chain: &dyn ChainView,
    ) -> Result<ChainLockSigner, Self::Error>;

    /// The quorum that must have signed `chainlock`, if the signature verifies against its
    /// public key and its commitment is neither verified nor failed yet: the ChainLock may
    /// wait for that quorum's check ([`SyncEvent::QuorumWanted`](super::events::SyncEvent)),
    /// and [`SyncEngine::verify_chainlock`] does not check the signature again then. `None`
    /// otherwise (also when the signer is not known without trying two quorums): verify
    /// the ChainLock at once.
    fn pending_signer(
        &mut self,
        chainlock: &Self::ChainLock,
        chain: &dyn ChainView,
    ) -> Option<QuorumId>;

    /// The height of the highest stored masternode list at or below `height`.
    fn list_height_at_or_below(&self, height: u32) -> Option<u32>;

    /// The tip height of the last QRInfo applied (also when the lists were
    /// restored from storage), if any.
    fn last_qrinfo_height(&self) -> Option<u32>;
}
