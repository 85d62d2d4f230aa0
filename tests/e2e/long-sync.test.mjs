// A long header sync from genesis (issue 14, item 5): the replay peer serves
// the first 100,000 testnet headers of the full chain; the client, started at
// the genesis checkpoint, syncs them once with 2 checking workers hashing the
// full batches and once with none. Both end at block 100,000 with its real
// hash; with workers nearly every header's X11 came from them
// (`headers.hashedInWorkers`), without them none did. Prints both rates
// (a figure, not an assertion: this machine's cores are shared). A third run
// has checking workers that never answer (their script replaced by one that
// ignores every message): the pool gives them up once and the sync goes on in
// the client's worker, instead of waiting out the client's deadline for every
// batch.
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { fixtures, resultPath, withStack } from './harness.mjs';

const FULL_CHAIN = 'testnet/full_chain/testnet_headers_0_1100000.bin';
const TIP = 100_000;
/** Headers per full `headers` message: the last of each is hashed in the client's worker. */
const BATCH = 2_000;

/** Display-order hash of block `height` of the full chain (the next header's prev hash). */
function hashAt(height) {
  const fd = openSync(`${fixtures}/${FULL_CHAIN}`, 'r');
  try {
    const prev = Buffer.alloc(32);
    readSync(fd, prev, 0, 32, (height + 1) * 80 + 4);
    return prev.reverse().toString('hex');
  } finally {
    closeSync(fd);
  }
}

/** Syncs from genesis to `TIP` with `checkWorkers`; `mounts` for the page server. */
async function syncFromGenesis(s, checkWorkers, mounts = {}) {
  const peer = await s.replayPeer(['--headers', FULL_CHAIN, '--tip-height', String(TIP), '--tip-steps', 'none']);
  const bridge = await s.bridge([peer.p2p]);
  const server = await s.page(mounts);
  const browser = await s.browser();
  const dev = await s.devPage(browser, server.url, {
    bridges: bridge.url('peer0'), storage: `e2e-long-sync-${checkWorkers}-${Date.now()}`,
    base: 0, minimumChainWork: '0', checkWorkers, timeoutScale: 0.05, autostart: 1,
  });
  const started = await dev.waitForStatus((st) => st.headers.currentHeight > 0, 'the first headers', 60_000);
  const t0 = Date.now();
  const from = started.headers.currentHeight;
  const status = await dev.waitForStatus((st) => st.headers.currentHeight === TIP, `headers at ${TIP}`, 150_000);
  const seconds = (Date.now() - t0) / 1000;
  const header = await dev.page.evaluate((height) => window.dashlight.header(height), TIP);
  assert.equal(header.hash, hashAt(TIP), 'the tip is not the real block 100,000');
  console.log(`from genesis, ${checkWorkers} checking workers: ${TIP} headers, ` +
    `${Math.round((TIP - from) / seconds).toLocaleString('en-US')} headers/s after the first batch ` +
    `(${seconds.toFixed(1)} s); ${status.headers.hashedInWorkers} hashed in workers`);
  return status;
}

test('a sync from genesis hashes its full batches in the checking workers', { timeout: 180_000 }, () => withStack('long-sync-workers', async (s) => {
  const status = await syncFromGenesis(s, 2);
  const fullBatches = Math.floor(TIP / BATCH);
  assert.equal(status.headers.hashedInWorkers, TIP - fullBatches,
    'every header of a full batch but its last is hashed in a worker');
}));

test('without checking workers the same sync hashes every header in the client worker', { timeout: 180_000 }, () => withStack('long-sync-no-workers', async (s) => {
  const status = await syncFromGenesis(s, 0);
  assert.equal(status.headers.hashedInWorkers, 0);
}));

test('checking workers that hang are given up once and the sync goes on without them', { timeout: 180_000 }, () => withStack('long-sync-hung-workers', async (s) => {
  const silent = resultPath('silent-check-worker.js');
  writeFileSync(silent, 'self.onmessage = () => {};\n');
  // Waiting out the client's 10 s deadline for each of the 50 batches would take minutes.
  const t0 = Date.now();
  const status = await syncFromGenesis(s, 2, { '/js/check-worker.js': silent });
  assert.equal(status.headers.hashedInWorkers, 0);
  console.log(`with hung checking workers: block ${TIP} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}));

