// Two tabs, one storage: the Web Lock makes one tab the only writer. While
// tab A syncs, tab B's clearStorage is refused (`storage_locked`) and deletes
// nothing; B's start is refused too, and B waits for the lock: when A closes,
// B takes over from what A stored (the replay peer serves B no header).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE_HEIGHT, MANUAL_TIP, eventually, withStack } from './harness.mjs';

/** The dev page's error banner, or null while it is hidden. */
function shownError(dev) {
  return dev.page.evaluate(() => {
    const el = document.getElementById('error');
    return el.hidden ? null : el.textContent;
  });
}

/**
 * Tab A synced to the replay peer's first tip with its headers stored, and
 * tab B open on the same storage in the same browser context (same origin
 * storage and Web Locks), not started.
 */
async function twoTabs(s, name) {
  const peer = await s.replayPeer(MANUAL_TIP);
  const bridge = await s.bridge([peer.p2p]);
  const server = await s.page();
  const browser = await s.browser();
  const params = { bridges: bridge.url(), storage: `e2e-${name}-${Date.now()}`, timeoutScale: 0.02 };
  const a = await s.devPage(browser, server.url, { ...params, autostart: 1 });
  const synced = await a.waitForStatus((st) => st.headers.state === 'Synced' && st.headers.currentHeight > BASE_HEIGHT, 'tab A: headers Synced', 120_000);
  const tip = synced.headers.currentHeight;
  await a.waitForStatus((st) => st.storage?.state === 'ok' && st.storage.storedHeight === tip, `tab A: headers stored up to ${tip}`, 30_000);
  const b = await s.secondTab(a, params);
  return { peer, a, b, tip };
}

test('clearStorage in a second tab is refused while the first syncs, and deletes nothing', { timeout: 180_000 }, () => withStack('two-tabs-clear', async (s) => {
  const { a, b, tip } = await twoTabs(s, 'two-tabs-clear');
  await b.page.click('#clear');
  const clearError = await eventually(() => shownError(b), { timeoutMs: 30_000, describe: async () => `tab B's clearStorage was not refused; log:\n${await b.log()}` });
  assert.match(clearError, /^storage_locked: /);
  assert.doesNotMatch(await b.log(), /storage cleared/);

  // A reload of tab A restores the whole chain at start.
  await a.page.goto(a.url({ autostart: undefined }));
  await a.page.waitForFunction(() => window.dashlightReady === true);
  await a.page.click('#start');
  await a.page.waitForFunction(() => window.dashlight !== undefined && document.getElementById('stop').disabled === false, null, { timeout: 30_000 });
  const atStart = await a.liveStatus();
  assert.equal(atStart.headers.currentHeight, tip, 'the stored headers are gone');
}));

test('a second tab refused the lock takes over when the first closes', { timeout: 180_000 }, () => withStack('two-tabs-takeover', async (s) => {
  const { peer, a, b, tip } = await twoTabs(s, 'two-tabs-takeover');
  // B's start is refused while A holds the lock; B waits for it.
  await b.page.click('#start');
  await eventually(async () => /another tab syncs .*: this one takes over when it closes/.test(await b.log()), { timeoutMs: 30_000, describe: async () => `tab B does not wait for the lock; log:\n${await b.log()}` });
  assert.match(await shownError(b), /^storage_locked: .*takes over once that one closes/);
  assert.equal(await b.status(), null, 'tab B reported progress while tab A holds the lock');
  const before = await peer.counters();

  // A closes (its worker ends, the browser releases its lock): B takes over
  // from the stored chain and syncs on.
  await a.page.close();
  await eventually(async () => /took over syncing/.test(await b.log()), { timeoutMs: 30_000, describe: async () => `tab B never took over; log:\n${await b.log()}` });
  const resumed = await b.waitForStatus((st) => st.peers >= 1 && st.headers.state === 'Synced' && st.headers.currentHeight === tip, `tab B: headers Synced at ${tip}`, 60_000);
  assert.equal(resumed.storage?.state, 'ok');
  await eventually(async () => (await peer.counters()).getheaders > before.getheaders, { timeoutMs: 30_000, describe: () => 'tab B sent no getheaders' });
  const after = await peer.counters();
  console.log(`tip ${tip}; tab B after taking over: headers ${resumed.headers.state} at ${resumed.headers.currentHeight}; headers served ${before.headers_served} → ${after.headers_served}`);
  assert.ok(after.connections_total > before.connections_total, 'tab B never connected');
  assert.equal(after.headers_served, before.headers_served, 'tab B fetched headers again: the storage was not kept');
}));
