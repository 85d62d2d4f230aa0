// What a wallet asks, end to end in Chromium through the bridge and the replay
// peer: the badge from the first second, waitSynced (timeout, abort, resolve),
// the real mainnet isdlocks the replay peer announces (shown as not verifiable:
// their cycle is not on the testnet chain), verifyTransactionProof on a real
// coinbase proof of the captures (and a flipped bit rejected), the same proof
// fetched with proveTransaction (filterload + filtered block), and the verified
// Platform quorums with quorumPublicKey.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CHAINLOCK_HEIGHT, MANUAL_TIP, driveToChainLock, eventually, fixtures, withStack } from './harness.mjs';

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const display = (bytes) => hex(Buffer.from(bytes).reverse());

/** A captured mnlistdiff's coinbase proof: (block hash, coinbase txid, partial merkle tree bytes). */
function coinbaseProof(name) {
  const payload = readFileSync(`${fixtures}/testnet/mnlistdiff/${name}`);
  // u16 version || baseBlockHash || blockHash || partial merkle tree || …
  let at = 2 + 64 + 4;
  const varint = () => {
    const first = payload[at];
    if (first < 0xfd) { at += 1; return first; }
    const n = payload.readUInt16LE(at + 1); at += 3; return n;
  };
  const hashes = varint();
  const firstHash = payload.subarray(at, at + 32);
  at += 32 * hashes;
  const flags = varint();
  at += flags;
  return { blockHash: display(payload.subarray(34, 66)), txid: display(firstHash), proof: [...payload.subarray(66, at)] };
}

test('wallet: badge, waitSynced, instant locks, transaction proofs, Platform quorums', { timeout: 240_000 }, () => withStack('wallet', async (s) => {
  const peer = await s.replayPeer([...MANUAL_TIP, '--isdlocks']);
  const bridge = await s.bridge([peer.p2p]);
  const server = await s.page();
  const browser = await s.browser();
  const dev = await s.devPage(browser, server.url, { bridges: bridge.url(), storage: `e2e-wallet-${Date.now()}`, timeoutScale: 0.02, autostart: 1 });

  // The badge never says "not started" once the page started the client.
  const badge = await dev.page.getAttribute('#aggregate', 'data-state');
  assert.notEqual(badge, 'NotStarted', 'the badge says not started while the client starts');

  await dev.page.waitForFunction(() => window.dashlight !== undefined, null, { timeout: 30_000 });
  await dev.page.evaluate(() => {
    window.blockEvents = [];
    window.dashlight.addEventListener('block', (e) => window.blockEvents.push(e.detail));
  });
  const early = await dev.page.evaluate(async () => {
    const client = window.dashlight;
    const code = (promise) => promise.then(() => 'resolved', (e) => e.code);
    const aborted = new AbortController();
    aborted.abort();
    const later = new AbortController();
    const pending = code(client.waitSynced({ signal: later.signal }));
    later.abort();
    return {
      timeout: await code(client.waitSynced({ timeoutMs: 1 })),
      preAborted: await code(client.waitSynced({ signal: aborted.signal })),
      aborted: await pending,
    };
  });
  assert.deepEqual(early, { timeout: 'timeout', preAborted: 'aborted', aborted: 'aborted' });

  const waiting = dev.page.evaluate(() => window.dashlight.waitSynced({ timeoutMs: 200_000 }).then((s) => s.state));
  const status = await driveToChainLock(dev, peer, 180_000);
  assert.equal(status.chainlocks.lastVerified.height, CHAINLOCK_HEIGHT);
  assert.equal(await waiting, 'Synced');
  // A block event for each new header the tip steps brought (at most 16 per step), with its ChainLock status.
  const blocks = await eventually(async () => {
    const events = await dev.page.evaluate(() => window.blockEvents);
    return events.some((b) => b.height === 905_800) ? events : null;
  }, { timeoutMs: 30_000, describe: () => 'a block event at 905800' });
  const heights = blocks.map((b) => b.height);
  assert.deepEqual(heights, [...heights].sort((a, b) => a - b), 'block events out of order');
  assert.equal(new Set(heights).size, heights.length, 'a block announced twice');
  for (const b of blocks) {
    assert.equal(b.hash.length, 64);
    assert.equal(typeof b.chainLocked, 'boolean');
  }
  assert.equal(blocks.at(-1).chainLocked, false, '905800 is above the ChainLock');

  // The two real locks the replay peer announced: shown, each not verifiable with the reason.
  const locks = await eventually(async () => {
    const items = await dev.page.evaluate(() => [...document.querySelectorAll('#instantlocks li')].map((li) => ({ txid: li.dataset.txid, verified: li.dataset.verified, text: li.textContent })));
    return items.length === 2 ? items : null;
  }, { timeoutMs: 30_000, describe: () => 'two instant locks on the dev page' });
  assert.deepEqual(locks.map((l) => l.txid).sort(), [
    '5b21d9f2d683d176bfe21868bf912cd4aa0d89b7ddaa70ea3759d13dc6d8f9c6',
    '7b33968effa613e8ea9c1b5734c9bbbe467ff4650f8060caf8a5c213c6059d5b',
  ]);
  for (const lock of locks) {
    assert.equal(lock.verified, 'false');
    assert.match(lock.text, /not verifiable: cycle block [0-9a-f]{64} is not on the header chain/);
  }

  // A real coinbase proof of the captures, in a block below the ChainLock.
  const { blockHash, txid, proof } = coinbaseProof('mnlistdiff_904344_904368.bin');
  const proofs = await dev.page.evaluate(async ([blockHash, txid, proof]) => {
    const client = window.dashlight;
    const code = (promise) => promise.then((r) => r, (e) => ({ code: e.code, message: e.message }));
    const flipped = Uint8Array.from(proof);
    flipped[40] ^= 1;
    return {
      ok: await code(client.verifyTransactionProof({ txid, blockHash, proof: Uint8Array.from(proof) })),
      flipped: await code(client.verifyTransactionProof({ txid, blockHash, proof: flipped })),
      unknownBlock: await code(client.verifyTransactionProof({ txid, blockHash: '11'.repeat(32), proof: Uint8Array.from(proof) })),
    };
  }, [blockHash, txid, proof]);
  assert.equal(proofs.ok.included, true, JSON.stringify(proofs.ok));
  assert.equal(proofs.ok.height, 904_368);
  assert.equal(proofs.ok.position, 0);
  assert.equal(proofs.ok.chainLocked, true);
  assert.equal(proofs.flipped.code, 'verification_failed');
  // The same proof fetched over P2P: filterload + getdata MSG_FILTERED_BLOCK → merkleblock.
  const proved = await dev.page.evaluate(async ([blockHash, txid]) => {
    const client = window.dashlight;
    const code = (promise) => promise.then((r) => r, (e) => ({ code: e.code, message: e.message }));
    return {
      coinbase: await code(client.proveTransaction(txid, blockHash)),
      other: await code(client.proveTransaction('33'.repeat(32), blockHash)),
    };
  }, [blockHash, txid]);
  assert.equal(proved.coinbase.included, true, JSON.stringify(proved.coinbase));
  assert.equal(proved.coinbase.height, 904_368);
  assert.equal(proved.coinbase.chainLocked, true);
  assert.equal(proved.coinbase.proof.slice(160), hex(proof));
  assert.equal(proved.other.code, 'verification_failed', JSON.stringify(proved.other));
  assert.equal(proofs.unknownBlock.code, 'not_synced');

  // Platform quorums: verified only, in the endpoint's shape; keys only for verified quorums.
  const platform = await dev.page.evaluate(async () => {
    const client = window.dashlight;
    const quorums = await client.quorums();
    const platform = await client.platformQuorums();
    const unverified = quorums.find((q) => q.llmqType === 6 && !q.verified);
    const first = platform.current.data[0];
    return {
      platform,
      verifiedOfType: quorums.filter((q) => q.llmqType === 6 && q.verified).map((q) => q.quorumHash),
      key: await client.quorumPublicKey(6, first.quorum_hash),
      unverifiedKey: unverified ? await client.quorumPublicKey(6, unverified.quorumHash) : null,
      unknownKey: await client.quorumPublicKey(6, '22'.repeat(32)),
    };
  });
  assert.equal(platform.platform.llmq_type, 6);
  assert.equal(platform.platform.current.success, true);
  assert.ok(platform.platform.current.data.length > 0);
  for (const q of platform.platform.current.data) {
    assert.deepEqual(Object.keys(q).sort(), ['height', 'key', 'members', 'mining_members_count', 'quorum_hash', 'threshold_signature', 'valid_members_count']);
    assert.ok(platform.verifiedOfType.includes(q.quorum_hash), `${q.quorum_hash} listed but not verified`);
  }
  assert.equal(platform.key.key, platform.platform.current.data[0].key);
  assert.equal(platform.unknownKey.key, null);
  assert.equal(platform.unknownKey.code, 'quorum_unknown');
  if (platform.unverifiedKey) {
    assert.equal(platform.unverifiedKey.key, null);
    assert.equal(platform.unverifiedKey.code, 'not_verified');
    assert.ok(platform.unverifiedKey.reason);
  }
  const rows = await dev.page.evaluate(() => document.querySelectorAll('#platform-quorums tbody tr').length);
  assert.ok(rows >= platform.platform.current.data.length, `${rows} Platform quorum rows`);
}));
