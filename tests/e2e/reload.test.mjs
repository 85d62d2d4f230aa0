// Scenario 2: after a full sync, reloading the page resumes from IndexedDB:
// the header tip is restored at start and no header is served twice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE_HEIGHT, FINAL_TIP, MANUAL_TIP, driveToChainLock, withStack } from './harness.mjs';

test('reload resumes from IndexedDB without fetching any header twice', { timeout: 180_000 }, () => withStack('reload', async (s) => {
  const peer = await s.replayPeer(MANUAL_TIP);
  const bridge = await s.bridge([peer.p2p]);
  const server = await s.page();
  const browser = await s.browser();
  const dev = await s.devPage(browser, server.url, { bridges: bridge.url(), storage: `e2e-reload-${Date.now()}`, timeoutScale: 0.02, autostart: 1 });

  const synced = await driveToChainLock(dev, peer, 150_000);
  const storedTip = synced.headers.currentHeight;
  const before = await peer.counters();
  assert.equal(before.headers_sent_more_than_once, 0);

  // Reload without autostart, so that the status can be read right after start.
  await dev.page.goto(dev.url({ autostart: undefined }));
  await dev.page.waitForFunction(() => window.dashlightReady === true);
  await dev.page.click('#start');
  await dev.page.waitForFunction(() => window.dashlight !== undefined && document.getElementById('stop').disabled === false, null, { timeout: 30_000 });
  const atStart = await dev.liveStatus();
  const countersAtStart = await peer.counters();
  console.log(`stored tip ${storedTip}; right after start: headers ${atStart.headers.state} at ${atStart.headers.currentHeight}; headers served so far ${countersAtStart.headers_served}`);
  assert.equal(atStart.headers.currentHeight, storedTip, 'header tip not restored at start');

  const resumed = await dev.waitForSyncedWithChainLock(120_000);
  assert.equal(resumed.headers.currentHeight, storedTip);
  const after = await peer.counters();
  console.log(`after reload: ranges ${JSON.stringify(after.headers_sent_ranges)}, sent more than once ${after.headers_sent_more_than_once}, getheaders ${before.getheaders} → ${after.getheaders}`);
  assert.equal(after.headers_sent_more_than_once, 0, `headers served twice: ${JSON.stringify(after.header_batches.slice(-10))}`);
  assert.equal(after.max_sends_of_one_header, 1);
  assert.deepEqual(after.headers_sent_ranges, [[BASE_HEIGHT + 1, FINAL_TIP]]);
  assert.ok(after.connections_total > before.connections_total, 'the reloaded page never connected');
}));
