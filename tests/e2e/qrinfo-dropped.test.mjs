// Scenario 3: the peer drops every getqrinfo of the first round → timeouts →
// retries → masternodes Error → automatic retry (or a reconnect) → Synced.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MANUAL_TIP, containsInOrder, driveToChainLock, eventually, formatChange, withStack } from './harness.mjs';

/** The client's getqrinfo attempts per round (RetryLadder: 3 timeouts). */
const ATTEMPTS_PER_ROUND = 3;

test('QRInfo dropped → timeouts → retries → Error → recovery → Synced', { timeout: 180_000 }, () => withStack('qrinfo-dropped', async (s) => {
  const peer = await s.replayPeer([...MANUAL_TIP, '--drop-qrinfo', String(ATTEMPTS_PER_ROUND)]);
  const bridge = await s.bridge([peer.p2p]);
  const server = await s.page();
  const browser = await s.browser();
  // 0.05: QRInfo timeouts of 0.5 s, 1.5 s, 3 s; Error after about 5 s.
  const dev = await s.devPage(browser, server.url, { bridges: bridge.url(), storage: `e2e-qrinfo-${Date.now()}`, timeoutScale: 0.05, autostart: 1 });

  await eventually(async () => (await dev.managerStates('masternodes')).includes('Error'), {
    timeoutMs: 90_000,
    describe: async () => `no masternodes Error; states ${(await dev.managerStates('masternodes')).join(' → ')}; peer qrinfo ${JSON.stringify((await peer.counters()).qrinfo)}`,
  });
  const atError = await peer.counters();
  console.log(`masternodes Error after ${atError.qrinfo.received} getqrinfo (${atError.qrinfo.dropped} dropped)`);
  assert.equal(atError.qrinfo.dropped, ATTEMPTS_PER_ROUND);
  assert.equal(atError.qrinfo.answered, 0);

  // Recovery: the client retries from Error by itself after a backoff; if it
  // has not within 10 s, drop the connections (the reconnect fires recovery).
  let usedDrop = false;
  try {
    await dev.waitForStatus((st) => st.masternodes.state !== 'Error', 'masternodes leave Error by themselves', 10_000);
  } catch {
    usedDrop = true;
    await dev.page.click('#drop');
  }
  const status = await driveToChainLock(dev, peer, 120_000);
  const states = await dev.managerStates('masternodes');
  const timeline = await dev.timeline();
  console.log(`recovered ${usedDrop ? 'after #drop' : 'by the automatic retry'}; masternodes: ${states.join(' → ')}`);
  console.log(timeline.filter((c) => c.manager === 'masternodes').map(formatChange).join('\n'));
  assert.ok(containsInOrder(states, ['Syncing', 'Error', 'Syncing', 'Synced']), `masternode states ${states.join(' → ')}`);
  const error = timeline.find((c) => c.manager === 'masternodes' && c.to === 'Error');
  assert.match(error.cause ?? '', /qrinfo|QRInfo/i, `Error cause: ${error.cause}`);
  const counters = await peer.counters();
  assert.ok(counters.qrinfo.answered >= 1);
  assert.equal(status.state, 'Synced');
}));
