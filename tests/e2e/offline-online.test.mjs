// Scenario 4: the browser goes offline during the QRInfo wait → every peer
// closed, masternodes WaitingForConnections; online → reconnect, the QRInfo is
// asked again at once → Syncing → Synced, with no page reload.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MANUAL_TIP, containsInOrder, driveToChainLock, eventually, formatChange, sleep, withStack } from './harness.mjs';

/** Dispatches `type` on every worker's global scope of `page`. */
async function dispatchInWorkers(page, type) {
  const workers = page.workers();
  assert.ok(workers.length > 0, 'the page has no worker');
  for (const worker of workers) await worker.evaluate((t) => self.dispatchEvent(new Event(t)), type);
}

test('offline/online during the QRInfo wait recovers without reload', {
  timeout: 180_000,
}, () => withStack('offline-online', async (s) => {
  const peer = await s.replayPeer([...MANUAL_TIP, '--drop-qrinfo', '1']);
  const bridge = await s.bridge([peer.p2p]);
  const server = await s.page();
  const browser = await s.browser();
  // timeoutScale 0.1: the dropped QRInfo's first attempt waits 1 s, long enough to go offline in.
  const dev = await s.devPage(browser, server.url, { bridges: bridge.url(), storage: `e2e-offline-${Date.now()}`, timeoutScale: 0.1, autostart: 1 });
  await dev.page.evaluate(() => {
    window.e2eConnectivity = [];
    addEventListener('online', () => window.e2eConnectivity.push({ type: 'online', at: performance.now() }));
    addEventListener('offline', () => window.e2eConnectivity.push({ type: 'offline', at: performance.now() }));
  });

  // Wait until the first (dropped) getqrinfo is outstanding.
  await eventually(async () => (await peer.counters()).qrinfo.dropped >= 1, { timeoutMs: 90_000, everyMs: 20, describe: async () => JSON.stringify((await peer.counters()).qrinfo) });
  assert.equal((await dev.liveStatus()).masternodes.state, 'Syncing');

  // Playwright's offline emulation fires `offline`/`online` on the window but
  // not on a dedicated worker's global scope (checked with Chromium 156): if
  // the worker still reports navigator.onLine, the event is
  // dispatched in the worker too, and the test says so.
  await dev.context.setOffline(true);
  const reached = (await Promise.all(dev.page.workers().map((w) => w.evaluate(() => navigator.onLine)))).every((online) => !online);
  if (!reached) {
    console.log('offline emulation does not reach the client\'s worker (navigator.onLine still true there); dispatching `offline` in it');
    await dispatchInWorkers(dev.page, 'offline');
  }
  const waiting = await dev.waitForStatus((st) => st.masternodes.state === 'WaitingForConnections' && st.peers === 0,
    'masternodes WaitingForConnections with 0 peers after offline', 8_000);
  assert.equal(waiting.peers, 0);
  const offlineCounters = await peer.counters();
  assert.equal(offlineCounters.qrinfo.received, 1, 'no getqrinfo may be re-sent while offline');
  await sleep(500);

  const before = (await dev.timeline()).length;
  await dev.context.setOffline(false);
  const onlineCalledAt = await dev.page.evaluate(() => performance.now());
  let dispatchedAt = null;
  if (!reached) {
    dispatchedAt = await dev.page.evaluate(() => performance.now());
    await dispatchInWorkers(dev.page, 'online');
  }
  const resent = await eventually(async () => (await peer.counters()).qrinfo.received >= 2, { timeoutMs: 30_000, everyMs: 20, describe: async () => JSON.stringify((await peer.counters()).qrinfo) });
  assert.ok(resent);
  const status = await driveToChainLock(dev, peer, 150_000);

  const timeline = await dev.timeline();
  const connectivity = await dev.page.evaluate(() => window.e2eConnectivity);
  const onlineAt = dispatchedAt ?? connectivity.find((e) => e.type === 'online')?.at ?? onlineCalledAt;
  const resumed = timeline.slice(before).find((c) => c.manager === 'masternodes' && c.to === 'Syncing');
  const states = await dev.managerStates('masternodes');
  console.log(timeline.filter((c) => c.manager === 'masternodes').map(formatChange).join('\n'));
  console.log(`connectivity events in the page: ${JSON.stringify(connectivity)}`);
  assert.ok(resumed, 'no masternodes Syncing after online');
  console.log(`online → getqrinfo re-sent (masternodes Syncing): ${(resumed.receivedAt - onlineAt).toFixed(1)} ms (reconnect and handshake included)`);
  assert.ok(containsInOrder(states, ['Syncing', 'WaitingForConnections', 'Syncing', 'Synced']), `masternode states ${states.join(' → ')}`);
  assert.equal(status.state, 'Synced');
  const counters = await peer.counters();
  assert.ok(counters.qrinfo.answered >= 1);
}));
