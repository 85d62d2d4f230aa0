// Included (`include!`) by `mod.rs` and by the browser benchmark in
// `browser-bench/`; the includer brings `HeaderLookup` and `HeaderMap` into scope.

/// Block heights for the mainnet captures, which come without headers: the
/// fixtures hold no mainnet header run, so heights are read from the data.
///
/// - every diff's block: the height in its coinbase;
/// - every LLMQ_60_75 (rotated) quorum that first appears in a list whose
///   predecessor among the genesis-based lists lacks it, or that only a
///   QRInfo's tip diff or `lastCommitmentPerIndex` holds: cycle + `quorumIndex`, the
///   cycle being the newest one whose mining window had opened by that list
///   (or by the QRInfo's tip); the quorum of index 0 also gives the cycle
///   block's hash, which non-rotated quorums of that height share;
/// - the tip diff's base block, whose list and height are not in the
///   fixtures: one block below the tip, so that the engine skips that diff
///   for its missing base list (as a client without that list would).
///
/// There are no headers (`header_at` is `None`): an engine needs
/// `set_require_block_proofs(false)`.
///
/// Heights for `qrinfo` and the genesis-based `diffs` sent with it.
pub fn mainnet_heights(
    qrinfo: &dashlight::protocol::qrinfo::QrInfo,
    diffs: &[&dashlight::protocol::mnlistdiff::MnListDiff],
) -> HeaderMap {
    use dashlight::llmq::LlmqType;
    let params = LlmqType::LLMQ_60_75.params().unwrap();
    let cycle_by = |height: u32| {
        let opened = height - params.dkg_mining_window_start;
        opened - opened % params.dkg_interval
    };
    let mut chain = HeaderMap::default();
    let mut full_lists = Vec::new();
    for diff in qrinfo
        .named_diffs()
        .into_iter()
        .map(|(_, d)| d)
        .chain(diffs.iter().copied())
    {
        chain.add_hash(diff.coinbase_height(), diff.block_hash);
        if diff.base_block_hash == dashlight::network::Network::Mainnet.genesis_hash() {
            full_lists.push(diff);
        }
    }
    full_lists.sort_by_key(|d| d.coinbase_height());
    let rotated = |d: &dashlight::protocol::mnlistdiff::MnListDiff| {
        d.new_quorums
            .iter()
            .filter(|c| c.llmq_type == params.llmq_type.0)
            .map(|c| (c.quorum_hash, c.quorum_index))
            .collect::<Vec<_>>()
    };
    for pair in full_lists.windows(2) {
        let before = rotated(pair[0]);
        let cycle = cycle_by(pair[1].coinbase_height());
        for (hash, index) in rotated(pair[1]) {
            if !before.iter().any(|(h, _)| *h == hash) {
                chain.add_hash(cycle + index as u32, hash);
            }
        }
    }
    let tip = qrinfo.diff_tip.coinbase_height();
    for c in qrinfo
        .diff_tip
        .new_quorums
        .iter()
        .chain(&qrinfo.last_commitment_per_index)
    {
        if c.llmq_type == params.llmq_type.0 && chain.height_of(&c.quorum_hash).is_none() {
            chain.add_hash(cycle_by(tip) + c.quorum_index as u32, c.quorum_hash);
        }
    }
    if chain.height_of(&qrinfo.diff_tip.base_block_hash).is_none() {
        chain.add_hash(tip - 1, qrinfo.diff_tip.base_block_hash);
    }
    chain
}
