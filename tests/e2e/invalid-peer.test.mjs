// Scenario: a peer serves a well-framed but provably invalid message → the
// client's verification rejects it, drops and bans that peer ("invalid
// qrinfo: …" / "invalid clsig: …" in the log panel, "banned" in the peer
// list), and the sync completes through a second, healthy peer. The forged
// messages frame and decode, so even the Dash-aware bridge passes them: only
// the client's own checks can catch them.
//   1. `--invalid-qrinfo`: one bit of the tip diff's coinbase merkle proof flipped.
//   2. `--invalid-clsig`: one bit of the ChainLock's BLS signature flipped.
// Each scenario makes sure the forgery reaches the client first (see below).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHAINLOCK_HEIGHT, FINAL_TIP, MANUAL_TIP, driveToChainLock, eventually, freePort, withStack } from './harness.mjs';

/** Waits for the log line of the ban for an invalid `kind` message and the bridge `url` shown banned in the peer list. */
async function waitForBan(dev, kind, url, timeoutMs = 90_000) {
  const line = await eventually(async () => (await dev.log()).split('\n').find((l) => new RegExp(`invalid ${kind}: .*\\(banned for`).test(l)), {
    timeoutMs,
    describe: async () => `no ban for an invalid ${kind} in the log:\n${(await dev.log()).split('\n').slice(-30).join('\n')}`,
  });
  console.log(`log: ${line.trim()}`);
  const entry = await eventually(async () => (await dev.peerList()).find((p) => p.startsWith(url) && /banned/.test(p)), {
    timeoutMs: 10_000,
    describe: async () => `peer list: ${JSON.stringify(await dev.peerList())}`,
  });
  console.log(`peers: ${entry}`);
}

// The invalid peer is alone at first (the healthy peer's address is known to
// the bridge but nothing listens there yet), so the client's `getqrinfo` goes
// to it; the healthy peer starts once the ban is seen.
test('invalid QRInfo → peer banned, sync completes via a second peer', { timeout: 180_000 }, () => withStack('invalid-peer', async (s) => {
  const bad = await s.replayPeer([...MANUAL_TIP, '--invalid-qrinfo']);
  const goodPorts = { p2p: await freePort(), control: await freePort() };
  const bridge = await s.bridge([bad.p2p, goodPorts.p2p]);
  const server = await s.page();
  const browser = await s.browser();
  const badUrl = bridge.url('peer0');
  const dev = await s.devPage(browser, server.url, {
    bridges: `${badUrl},${bridge.url('peer1')}`,
    storage: `e2e-invalid-${Date.now()}`,
    timeoutScale: 0.02,
    autostart: 1,
  });

  // The ban shows in the log panel (the `log` event) and in the peer list (the `peers` event).
  await waitForBan(dev, 'qrinfo', badUrl);
  const badCounters = await bad.counters();
  assert.ok(badCounters.faults.invalid_qrinfo >= 1, 'the invalid peer served no forged QRInfo');
  assert.equal(badCounters.faults.corrupted, 0, 'a framing fault fired: the ban must come from verification');

  const good = await s.replayPeer(MANUAL_TIP, goodPorts);
  const status = await driveToChainLock(dev, good, 150_000);
  const goodCounters = await good.counters();
  console.log(`invalid peer: ${badCounters.faults.invalid_qrinfo} forged qrinfo served; healthy peer: ${goodCounters.qrinfo.answered} qrinfo answered, ChainLock at ${status.chainlocks.lastVerified.height} verified`);
  assert.ok(goodCounters.qrinfo.answered >= 1, 'the healthy peer answered no QRInfo');
  assert.equal(goodCounters.faults.invalid_qrinfo, 0);
  assert.equal(status.state, 'Synced');
}));

test('invalid ChainLock signature → peer banned, ChainLock verified via a second peer', { timeout: 180_000 }, () => withStack('invalid-clsig-peer', async (s) => {
  // Both peers serve real headers, QRInfos and diffs; only the invalid one's
  // tip reaches the ChainLock first. (Were it alone, the client would lose
  // every peer at the ban and start its masternode sync over at 905800, for
  // which no QRInfo was captured.)
  const bad = await s.replayPeer([...MANUAL_TIP, '--invalid-clsig']);
  const good = await s.replayPeer(MANUAL_TIP);
  const bridge = await s.bridge([bad.p2p, good.p2p]);
  const server = await s.page();
  const browser = await s.browser();
  const badUrl = bridge.url('peer0');
  const dev = await s.devPage(browser, server.url, {
    bridges: `${badUrl},${bridge.url('peer1')}`,
    storage: `e2e-invalid-clsig-${Date.now()}`,
    timeoutScale: 0.02,
    autostart: 1,
  });

  await dev.waitForStatus((st) => st.masternodes.state === 'Synced' && st.headers.state === 'Synced', 'masternodes Synced at the first tip', 90_000);
  await Promise.all([bad.setTip(905770), good.setTip(905770)]);
  await dev.waitForStatus((st) => st.masternodes.state === 'Synced' && st.masternodes.currentHeight >= 905762, 'masternode list at 905762', 60_000);
  // Only the invalid peer has the locked block: its forged ChainLock is the one the client gets.
  await bad.setTip(FINAL_TIP);
  await waitForBan(dev, 'clsig', badUrl, 60_000);
  const badCounters = await bad.counters();
  assert.ok(badCounters.faults.invalid_clsig >= 1, 'the invalid peer served no forged ChainLock');
  assert.equal(badCounters.faults.corrupted, 0, 'a framing fault fired: the ban must come from verification');
  assert.equal((await dev.status()).chainlocks.lastVerified ?? null, null, 'a ChainLock verified from the invalid peer');
  assert.equal((await good.counters()).clsig_sent, 0);

  await good.setTip(FINAL_TIP);
  const status = await dev.waitForSyncedWithChainLock(90_000);
  const goodCounters = await good.counters();
  console.log(`invalid peer: ${badCounters.faults.invalid_clsig} forged clsig served; healthy peer: ${goodCounters.clsig_sent} clsig sent, ChainLock at ${status.chainlocks.lastVerified.height} verified`);
  assert.ok(goodCounters.clsig_sent >= 1, 'the healthy peer sent no ChainLock');
  assert.equal(goodCounters.faults.invalid_clsig, 0);
  assert.equal(status.chainlocks.lastVerified.height, CHAINLOCK_HEIGHT);
}));
