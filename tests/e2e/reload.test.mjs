// Scenario 2: after a full sync, reloading the page resumes from IndexedDB:
// the header tip and the masternode lists (with their verified quorums) are
// restored at start, no header is served twice and no QRInfo is asked from
// genesis again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE_HEIGHT, FINAL_TIP, MANUAL_TIP, driveToChainLock, eventually, withStack } from './harness.mjs';

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
  assert.ok(before.qrinfo.from_genesis >= 1, 'the first sync asked no QRInfo from genesis');
  const verifiedBefore = synced.masternodes.quorumsVerified;
  assert.ok(verifiedBefore > 0, 'no quorum verified before the reload');

  // Reload without autostart, so that the status can be read right after start.
  await dev.page.goto(dev.url({ autostart: undefined }));
  await dev.page.waitForFunction(() => window.dashlightReady === true);
  await dev.page.click('#start');
  await dev.page.waitForFunction(() => window.dashlight !== undefined && document.getElementById('stop').disabled === false, null, { timeout: 30_000 });
  const atStart = await dev.liveStatus();
  const countersAtStart = await peer.counters();
  console.log(`stored tip ${storedTip}; right after start: headers ${atStart.headers.state} at ${atStart.headers.currentHeight}; headers served so far ${countersAtStart.headers_served}; masternodes ${atStart.masternodes.state} at ${atStart.masternodes.currentHeight}, ${atStart.masternodes.quorumsVerified} quorums verified`);
  assert.equal(atStart.headers.currentHeight, storedTip, 'header tip not restored at start');
  assert.equal(atStart.masternodes.quorumsVerified, verifiedBefore, 'verified quorums not restored at start');
  assert.equal(atStart.masternodes.currentHeight, synced.masternodes.currentHeight, 'masternode lists not restored at start');

  // Headers resume at once; the masternode manager goes on from the restored
  // lists (Synced, then a getmnlistd from its newest list) instead of asking
  // a QRInfo from genesis.
  const resumed = await dev.waitForStatus((st) => st.peers >= 1 && st.headers.state === 'Synced' && st.masternodes.state === 'Synced', 'headers and masternodes Synced after the reload', 60_000);
  assert.equal(resumed.headers.currentHeight, storedTip);
  assert.ok(resumed.masternodes.quorumsVerified >= verifiedBefore);
  await eventually(async () => (await peer.counters()).getheaders > before.getheaders, { timeoutMs: 30_000, describe: () => 'no getheaders after the reload' });
  await new Promise((r) => setTimeout(r, 2_000));
  console.log(`after reload: masternodes ${(await dev.status()).masternodes.state}`);
  const after = await peer.counters();
  console.log(`after reload: ranges ${JSON.stringify(after.headers_sent_ranges)}, sent more than once ${after.headers_sent_more_than_once}, getheaders ${before.getheaders} → ${after.getheaders}`);
  assert.equal(after.headers_sent_more_than_once, 0, `headers served twice: ${JSON.stringify(after.header_batches.slice(-10))}`);
  assert.equal(after.max_sends_of_one_header, 1);
  assert.deepEqual(after.headers_sent_ranges, [[BASE_HEIGHT + 1, FINAL_TIP]]);
  assert.ok(after.connections_total > before.connections_total, 'the reloaded page never connected');
  console.log(`after reload: getqrinfo ${before.qrinfo.received} → ${after.qrinfo.received} (from genesis ${before.qrinfo.from_genesis} → ${after.qrinfo.from_genesis}), getmnlistd ${before.mnlistdiff.received} → ${after.mnlistdiff.received}`);
  assert.equal(after.qrinfo.from_genesis, before.qrinfo.from_genesis, 'a QRInfo was asked from genesis again after the reload');
}));
