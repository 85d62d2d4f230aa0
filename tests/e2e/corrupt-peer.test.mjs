// Scenario 6: one peer sends a corrupted message (bad checksum) → the client
// drops it; the sync completes through a second, healthy peer. The bridge
// runs in raw mode so that the corrupted bytes reach the client itself (a
// Dash-aware bridge would close the connection before the client sees them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MANUAL_TIP, driveToChainLock, withStack } from './harness.mjs';

test('corrupted message → peer dropped, sync continues via a second peer', { timeout: 180_000 }, () => withStack('corrupt-peer', async (s) => {
  // Message 6 (the first after the handshake's version, sendaddrv2, verack, sendheaders, ping) is corrupted.
  const bad = await s.replayPeer([...MANUAL_TIP, '--corrupt-after', '5']);
  const good = await s.replayPeer(MANUAL_TIP);
  const bridge = await s.bridge([bad.p2p, good.p2p], ['--raw']);
  const server = await s.page();
  const browser = await s.browser();
  const dev = await s.devPage(browser, server.url, {
    bridges: `${bridge.url('peer0')},${bridge.url('peer1')}`,
    storage: `e2e-corrupt-${Date.now()}`,
    timeoutScale: 0.02,
    autostart: 1,
  });

  const status = await driveToChainLock(dev, good, 150_000);
  const badCounters = await bad.counters();
  const goodCounters = await good.counters();
  console.log(`bad peer: ${badCounters.connections_total} connections, ${badCounters.faults.corrupted} corrupted, ${badCounters.connections_open} open; good peer: ${goodCounters.headers_served} headers served`);
  assert.ok(badCounters.faults.corrupted >= 1, 'the bad peer never sent its corrupted message');
  assert.equal(badCounters.connections_open, 0, 'the client still holds the corrupting peer');
  assert.ok(goodCounters.headers_served > 0, 'the healthy peer served no headers');
  assert.ok(goodCounters.qrinfo.answered >= 1, 'the healthy peer answered no QRInfo');
  assert.equal(status.peers, 1);
  // The drop and its reason are in the page's log, whether the handshake had finished or not.
  const log = await dev.log();
  assert.match(log, /(peer gone|failed before its handshake): framing error: .*checksum.*\(banned for/i, `the page log does not say why the peer was dropped:\n${log}`);
}));
