// Scenario 5: the replay peer process is killed and a new one started on the
// same ports → the client reconnects by itself, stays Synced and follows the
// new peer's tip.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FINAL_TIP, MANUAL_TIP, driveToChainLock, sleep, withStack } from './harness.mjs';

test('peer killed and restarted → reconnect, Synced', { timeout: 180_000 }, () => withStack('peer-restart', async (s) => {
  const peer = await s.replayPeer(MANUAL_TIP);
  const bridge = await s.bridge([peer.p2p]);
  const server = await s.page();
  const browser = await s.browser();
  const dev = await s.devPage(browser, server.url, { bridges: bridge.url(), storage: `e2e-restart-${Date.now()}`, timeoutScale: 0.02, autostart: 1 });
  await driveToChainLock(dev, peer, 150_000);

  peer.child.kill('SIGKILL');
  await peer.stop();
  const gone = await dev.waitForStatus((st) => st.peers === 0, 'peers 0 after the peer was killed', 30_000);
  console.log(`peer killed: state ${gone.state}, headers ${gone.headers.state}, masternodes ${gone.masternodes.state}`);
  await sleep(1_000);

  // The new process serves the chain the client already has, then grows it.
  const killedAt = Date.now();
  const again = await s.replayPeer(['--tip-height', String(FINAL_TIP), '--tip-steps', 'none'], { p2p: peer.p2p, control: peer.control });
  await dev.waitForStatus((st) => st.peers >= 1, 'reconnected to the restarted peer', 90_000);
  console.log(`reconnected ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the restart`);
  await dev.waitForSyncedWithChainLock(60_000);

  const newTip = FINAL_TIP + 5;
  await again.setTip(newTip);
  const followed = await dev.waitForStatus((st) => st.headers.currentHeight === newTip && st.state === 'Synced', `headers follow the restarted peer to ${newTip}`, 60_000);
  assert.equal(followed.headers.currentHeight, newTip);
  const counters = await again.counters();
  assert.ok(counters.handshakes >= 1);
  assert.equal(counters.headers_sent_more_than_once, 0);
}));
