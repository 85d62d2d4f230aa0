//! Hostile peers beside the honest ones. A hostile peer follows the real chain like an honest
//! one (so it stays connected and looks useful) and, from its seed, attacks:
//!
//! - answers requests the client sent to *other* peers, at once: an empty `headers` (which, if
//!   taken, would end a header sync another peer serves), another block's `qrinfo`, a
//!   `mnlistdiff` nobody asked it for;
//! - relays ChainLocks that cannot be true: one at height 2,147,483,647, and forged ones just
//!   above the tip;
//! - floods the inventory with announcements of blocks and ChainLocks that do not exist;
//! - answers its own requests just under the client's first timeout;
//! - answers `getheaders` with real headers that skip a block, so they do not connect;
//! - answers `getqrinfo` with a well-framed QRInfo one bit away from the real one;
//! - claims in its `version` a height far above the real tip;
//! - never answers a request.
//!
//! It may be banned for what it provably did wrong; the invariants are that no honest peer
//! is ever punished and that the client stays synced through the honest ones.

use super::*;

/// How much earlier than the client's first request timeout (10 s) a dripping peer's answer
/// leaves it (room for the request's and the answer's latency).
const DRIP_MARGIN_MS: u64 = 1_000;
/// The client's first request timeout.
const FIRST_TIMEOUT_MS: u64 = 10_000;

/// What a hostile peer does besides serving the real chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attacks {
    /// Answers requests sent to other peers (empty `headers`, other `qrinfo`/`mnlistdiff`).
    pub unsolicited_answers: bool,
    /// Relays ChainLocks at impossible heights with forged signatures.
    pub far_future_chainlocks: bool,
    /// Announces blocks and ChainLocks that do not exist, a thousand at a time.
    pub inventory_floods: bool,
    /// Answers just under the client's first request timeout.
    pub drips: bool,
    /// Answers `getqrinfo` with a QRInfo one bit away from the real one.
    pub forged_qrinfos: bool,
    /// Claims a height far above the real tip.
    pub lies_about_height: bool,
    /// Never answers `getheaders`, `getqrinfo`, `getmnlistd` or `getdata`.
    pub ignores_requests: bool,
    /// Answers `getheaders` with real headers that skip the first block asked for.
    pub skips_headers: bool,
}

impl Attacks {
    /// Every attack at once.
    pub const ALL: Attacks = Attacks {
        unsolicited_answers: true,
        far_future_chainlocks: true,
        inventory_floods: true,
        drips: true,
        forged_qrinfos: true,
        lies_about_height: true,
        ignores_requests: false,
        skips_headers: true,
    };

    /// A mix drawn from `rng`: each attack with even odds (answering late and never answering
    /// exclude each other), at least one.
    pub fn from_rng(rng: &mut Rng) -> Attacks {
        let mut attacks = Attacks {
            unsolicited_answers: rng.chance(0.5),
            far_future_chainlocks: rng.chance(0.5),
            inventory_floods: rng.chance(0.5),
            drips: rng.chance(0.5),
            forged_qrinfos: rng.chance(0.5),
            lies_about_height: rng.chance(0.5),
            ignores_requests: false,
            skips_headers: false,
        };
        if !attacks.drips {
            attacks.ignores_requests = rng.chance(0.3);
        }
        attacks.skips_headers = rng.chance(0.3);
        if attacks == Attacks::default() {
            attacks.unsolicited_answers = true;
        }
        attacks
    }
}

impl Sim {
    /// The attacks of peer `index`, if it is hostile.
    pub(super) fn attacks(&self, index: usize) -> Option<Attacks> {
        self.peers[index].hostile
    }

    /// Schedules hostile peer `index`'s next periodic attack.
    pub(super) fn schedule_attack(&mut self, index: usize) {
        let at = self.t + self.rng.range(60_000, 20 * 60_000);
        self.push(at, Event::Attack { peer: index });
    }

    /// Hostile peer `index` strikes (if connected) and schedules its next attack.
    pub(super) fn attack(&mut self, index: usize) {
        self.schedule_attack(index);
        let Some(attacks) = self.attacks(index) else {
            return;
        };
        if !self.peers[index]
            .connection
            .as_ref()
            .is_some_and(|c| c.ready)
        {
            return;
        }
        if attacks.far_future_chainlocks {
            let heights = [
                i32::MAX,
                (self.network_tip + 1) as i32,
                (self.network_tip + 3) as i32,
            ];
            for height in heights {
                let mut signature = [0u8; 96];
                for chunk in signature.chunks_mut(8) {
                    chunk.copy_from_slice(&self.rng.next_u64().to_le_bytes());
                }
                let clsig = ClSig {
                    height,
                    block_hash: BlockHash(self.random_hash()),
                    signature,
                };
                self.send_to_client(index, wire(&NetworkMessage::ClSig(clsig)));
            }
        }
        if attacks.inventory_floods {
            let items = (0..1_000)
                .map(|i| Inventory {
                    inv_type: if i % 2 == 0 {
                        InvType::Block
                    } else {
                        InvType::ClSig
                    },
                    hash: Sha256dHash(self.random_hash()),
                })
                .collect();
            self.send_to_client(index, wire(&NetworkMessage::Inv(items)));
        }
        if attacks.unsolicited_answers {
            self.send_to_client(index, wire(&NetworkMessage::Headers(Vec::new())));
        }
    }

    /// The client sent `bytes` (a whole message) to `socket`: every hostile peer that answers
    /// what others were asked answers it first.
    pub(super) fn answer_for_others(&mut self, socket: PeerId, bytes: &[u8]) {
        if bytes.len() < 24 {
            return;
        }
        let command = String::from_utf8_lossy(&bytes[4..16])
            .trim_end_matches('\0')
            .to_owned();
        for index in 0..self.peers.len() {
            let Some(attacks) = self.attacks(index) else {
                continue;
            };
            let Some(connection) = &self.peers[index].connection else {
                continue;
            };
            if !attacks.unsolicited_answers || !connection.ready || connection.socket == socket {
                continue;
            }
            let answer = match command.as_str() {
                "getheaders" => Some(wire(&NetworkMessage::Headers(Vec::new()))),
                "getqrinfo" => self.any_qrinfo(),
                "getmnlistd" => self.any_diff(),
                _ => None,
            };
            if let Some(answer) = answer {
                self.send_to_client(index, answer);
            }
        }
    }

    /// How hostile peer `index` treats a request it was asked: `None` to ignore it, else the
    /// extra delay of its answer.
    pub(super) fn request_delay(&self, index: usize) -> Option<u64> {
        match self.attacks(index) {
            Some(attacks) if attacks.ignores_requests => None,
            Some(attacks) if attacks.drips => Some(FIRST_TIMEOUT_MS - DRIP_MARGIN_MS),
            _ => Some(0),
        }
    }

    /// How many of the blocks asked for hostile peer `index` leaves out at the start of its
    /// `headers` answers (one makes them not connect).
    pub(super) fn headers_skipped(&self, index: usize) -> u32 {
        u32::from(self.attacks(index).is_some_and(|a| a.skips_headers))
    }

    /// The height hostile peer `index` claims in its `version`.
    pub(super) fn claimed_height(&self, index: usize, tip: u32) -> u32 {
        match self.attacks(index) {
            Some(attacks) if attacks.lies_about_height => tip + 50_000,
            _ => tip,
        }
    }

    /// The `qrinfo` payload peer `index` serves for `payload`: the real one, or one bit away
    /// from it (a hash of the tip diff's coinbase proof, or a quorum signature of a diff).
    pub(super) fn served_qrinfo(&mut self, index: usize, payload: Vec<u8>) -> Vec<u8> {
        if !self.attacks(index).is_some_and(|a| a.forged_qrinfos) {
            return payload;
        }
        let Ok(mut qrinfo) = QrInfo::from_payload(&payload, PROTOCOL_VERSION) else {
            return payload;
        };
        let commitment = qrinfo
            .diff_h
            .new_quorums
            .first_mut()
            .map(|c| &mut c.quorum_sig[10]);
        match (self.rng.chance(0.5), commitment) {
            (true, Some(byte)) => *byte ^= 1,
            _ => {
                if let Some(hash) = qrinfo.diff_tip.coinbase_merkle_tree.hashes.last_mut() {
                    hash.0[0] ^= 1;
                }
            }
        }
        qrinfo.to_payload(PROTOCOL_VERSION)
    }

    fn random_hash(&mut self) -> [u8; 32] {
        let mut hash = [0u8; 32];
        for chunk in hash.chunks_mut(8) {
            chunk.copy_from_slice(&self.rng.next_u64().to_le_bytes());
        }
        hash
    }

    /// A captured `qrinfo`, chosen at random.
    fn any_qrinfo(&mut self) -> Option<Vec<u8>> {
        let mut keys: Vec<BlockHash> = self.data.qrinfos.keys().copied().collect();
        keys.sort();
        let chosen = self.pick(&keys)?;
        Some(raw("qrinfo", self.data.qrinfos[&chosen].clone()))
    }

    /// A captured `mnlistdiff`, chosen at random.
    fn any_diff(&mut self) -> Option<Vec<u8>> {
        let mut keys: Vec<BlockHash> = self.data.diffs.keys().copied().collect();
        keys.sort();
        let chosen = self.pick(&keys)?;
        let (_, payload) = self.data.diffs[&chosen].first()?;
        Some(raw("mnlistdiff", payload.clone()))
    }

    fn pick(&mut self, keys: &[BlockHash]) -> Option<BlockHash> {
        let last = keys.len().checked_sub(1)?;
        keys.get(self.rng.range(0, last as u64) as usize).copied()
    }
}
