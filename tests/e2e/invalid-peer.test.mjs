// Scenario: a peer serves a well-framed but provably invalid QRInfo (one bit
// of its tip diff's coinbase merkle proof flipped, `--invalid-qrinfo`) → the
// client's verification rejects it, drops and bans that peer ("invalid
// qrinfo: …" in the log panel, "banned" in the peer list), and the sync
// completes through a second, healthy peer. The forged message frames and
// decodes, so even the Dash-aware bridge passes it: only the client's own
// checks can catch it.
//
// The invalid peer is alone at first (the healthy peer's address is known to
// the bridge but nothing listens there yet), so the client's only `getqrinfo`
// goes to it; the healthy peer starts once the ban is seen.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MANUAL_TIP, driveToChainLock, eventually, freePort, withStack } from './harness.mjs';

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
  const banLine = await eventually(async () => (await dev.log()).split('\n').find((l) => /invalid qrinfo: .*\(banned\)/.test(l)), {
    timeoutMs: 90_000,
    describe: async () => `no ban for an invalid qrinfo in the log:\n${(await dev.log()).split('\n').slice(-30).join('\n')}`,
  });
  console.log(`log: ${banLine.trim()}`);
  const bannedEntry = await eventually(async () => (await dev.peerList()).find((p) => p.startsWith(badUrl) && /banned/.test(p)), {
    timeoutMs: 10_000,
    describe: async () => `peer list: ${JSON.stringify(await dev.peerList())}`,
  });
  console.log(`peers: ${bannedEntry}`);
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
