// Two tabs, one storage: the Web Lock makes one tab the only writer. While
// tab A syncs, tab B's clearStorage is refused (`storage_locked`) and deletes
// nothing; B's start is refused too, and B waits for the lock: when A closes,
// B takes over from what A stored (the replay peer serves B no header). And in
// one tab: clearStorage called while that tab's own start is under way waits
// for the start, then stops the client and clears (it used to be refused as
// if another tab held the lock); `stop` likewise stops what that start
// started (it used to be ignored).
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

/** Tab A synced to the replay peer's first tip with its headers stored. */
async function syncedTab(s, name) {
  const peer = await s.replayPeer(MANUAL_TIP);
  const bridge = await s.bridge([peer.p2p]);
  const server = await s.page();
  const browser = await s.browser();
  const params = { bridges: bridge.url(), storage: `e2e-${name}-${Date.now()}`, timeoutScale: 0.02 };
  const a = await s.devPage(browser, server.url, { ...params, autostart: 1 });
  const synced = await a.waitForStatus((st) => st.headers.state === 'Synced' && st.headers.currentHeight > BASE_HEIGHT, 'tab A: headers Synced', 120_000);
  const tip = synced.headers.currentHeight;
  await a.waitForStatus((st) => st.storage?.state === 'ok' && st.storage.storedHeight === tip, `tab A: headers stored up to ${tip}`, 30_000);
  return { peer, a, tip, params };
}

/**
 * Tab A as `syncedTab`, and tab B open on the same storage in the same
 * browser context (same origin storage and Web Locks), not started.
 */
async function twoTabs(s, name) {
  const { peer, a, tip, params } = await syncedTab(s, name);
  const b = await s.secondTab(a, params);
  return { peer, a, b, tip };
}

/** Reloads `dev` without autostart and starts it; its status right after `start`. */
async function restart(dev, overrides = {}) {
  await dev.page.goto(dev.url({ autostart: undefined, ...overrides }));
  await dev.page.waitForFunction(() => window.dashlightReady === true);
  await dev.page.click('#start');
  await dev.page.waitForFunction(() => window.dashlight !== undefined && document.getElementById('stop').disabled === false, null, { timeout: 30_000 });
  return dev.liveStatus();
}

test('clearStorage in a second tab is refused while the first syncs, and deletes nothing', { timeout: 180_000 }, () => withStack('two-tabs-clear', async (s) => {
  const { a, b, tip } = await twoTabs(s, 'two-tabs-clear');
  await b.page.click('#clear');
  const clearError = await eventually(() => shownError(b), { timeoutMs: 30_000, describe: async () => `tab B's clearStorage was not refused; log:\n${await b.log()}` });
  assert.match(clearError, /^storage_locked: /);
  assert.doesNotMatch(await b.log(), /storage cleared/);

  // A reload of tab A restores the whole chain at start.
  const atStart = await restart(a);
  assert.equal(atStart.headers.currentHeight, tip, 'the stored headers are gone');
}));

test('clearStorage while this tab is starting waits for the start, then stops the client and clears', { timeout: 180_000 }, () => withStack('clear-while-starting', async (s) => {
  const { a, tip } = await syncedTab(s, 'clear-while-starting');
  await a.page.goto(a.url({ autostart: undefined }));
  await a.page.waitForFunction(() => window.dashlightReady === true);
  // The start button creates the client and calls `start`; `clearStorage` follows in the next
  // task, while that start is still taking the lock and restoring the stored chain.
  const outcome = await a.page.evaluate(async () => {
    document.getElementById('start').click();
    while (!window.dashlight) await new Promise((resolve) => setTimeout(resolve, 0));
    return window.dashlight.clearStorage().then(() => 'cleared', (error) => `${error.code}: ${error.message}`);
  });
  assert.equal(outcome, 'cleared');
  await eventually(async () => /\binfo\s+started\b/.test(await a.log()), { timeoutMs: 30_000, describe: async () => `the start did not finish; log:\n${await a.log()}` });
  assert.equal(await a.page.evaluate(() => window.dashlight.status().then(() => 'running', () => 'stopped')), 'stopped', 'the client still runs after clearStorage');
  // Nothing is restored at the next start (no bridge to sync from meanwhile).
  const atStart = await restart(a, { bridges: 'ws://127.0.0.1:9' });
  assert.equal(atStart.headers.currentHeight, BASE_HEIGHT, `the headers to ${tip} are still stored`);
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

test('stop while this tab is starting stops what the start started', { timeout: 180_000 }, () => withStack('stop-while-starting', async (s) => {
  const { a } = await syncedTab(s, 'stop-while-starting');
  await a.page.goto(a.url({ autostart: undefined }));
  await a.page.waitForFunction(() => window.dashlightReady === true);
  await a.page.evaluate(async () => {
    document.getElementById('start').click();
    while (!window.dashlight) await new Promise((resolve) => setTimeout(resolve, 0));
    await window.dashlight.stop();
  });
  await eventually(async () => /\binfo\s+started\b/.test(await a.log()), { timeoutMs: 30_000, describe: async () => `the start did not finish; log:\n${await a.log()}` });
  // Long enough for a running client to have connected to the bridge.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const status = await a.liveStatus();
  assert.equal(status.peers, 0, `the client syncs after stop: ${JSON.stringify(status.peers)} peers`);
}));
