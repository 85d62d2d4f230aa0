// A quota outage longer than the headers the client holds in full: every
// header write fails (as Chromium reports a full origin) while all 6,734
// headers to the replay peer's first tip arrive; the page sees saving fail
// (`error` and `storage` events, `status.storage`), sync goes on, and once
// writes succeed again the next save stores everything: a reload restores
// the whole chain.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE_HEIGHT, MANUAL_TIP, eventually, withStack } from './harness.mjs';

/**
 * Run in the client's worker: every readwrite transaction that puts a header
 * chunk other than the sync base's (chunk 449 holds 898,560..899,999) aborts
 * with a QuotaExceededError, as Chromium reports a full origin.
 */
function failHeaderWrites() {
  const original = IDBObjectStore.prototype.put;
  self.restoreHeaderWrites = () => { IDBObjectStore.prototype.put = original; };
  IDBObjectStore.prototype.put = function (value, key) {
    const request = original.call(this, value, key);
    if (this.name === 'chunks' && key !== 449) {
      const quota = new DOMException('simulated: the origin is out of quota', 'QuotaExceededError');
      Object.defineProperty(this.transaction, 'error', { value: quota });
      this.transaction.abort();
    }
    return request;
  };
}

test('a quota outage over 6,000 headers is caught up once writes succeed, and the page sees it', { timeout: 180_000 }, () => withStack('quota-outage', async (s) => {
  const peer = await s.replayPeer(MANUAL_TIP);
  const bridge = await s.bridge([peer.p2p]);
  const server = await s.page();
  const browser = await s.browser();
  const dev = await s.devPage(browser, server.url, { bridges: bridge.url(), storage: `e2e-quota-${Date.now()}`, timeoutScale: 0.02 });
  const patched = new Promise((resolve, reject) => {
    dev.page.once('worker', (worker) => worker.evaluate(failHeaderWrites).then(() => resolve(worker), reject));
  });
  await dev.page.click('#start');
  const worker = await patched;

  // Sync goes on without storage; the page is told saving fails.
  const failing = await dev.waitForStatus((st) => st.headers.state === 'Synced' && st.headers.currentHeight > BASE_HEIGHT && st.storage?.state === 'failing' && st.storage.unsavedHeaders === st.headers.currentHeight - BASE_HEIGHT, 'headers Synced with every header unsaved', 120_000);
  const firstTip = failing.headers.currentHeight;
  console.log(`outage: headers at ${firstTip}, storage ${JSON.stringify(failing.storage)}`);
  assert.equal(failing.storage.storedHeight, BASE_HEIGHT);
  assert.ok(firstTip - BASE_HEIGHT > 6_000, `only ${firstTip - BASE_HEIGHT} headers arrived during the outage`);
  assert.match(failing.storage.error, /quota/);
  assert.match(await dev.log(), /error storage_failed: storage quota exceeded/);

  // Writes succeed again; the next change (new headers) is saved with everything missed.
  await worker.evaluate(() => self.restoreHeaderWrites());
  await peer.setTip(905770);
  const recovered = await dev.waitForStatus((st) => st.headers.currentHeight === 905770 && st.storage?.state === 'ok' && st.storage.storedHeight === 905770, 'saving recovered at 905770', 60_000);
  console.log(`recovered: storage ${JSON.stringify(recovered.storage)}`);
  await eventually(async () => /saving works again: stored up to height 905770/.test(await dev.log()), { timeoutMs: 10_000, describe: async () => `no recovery log line; log:\n${await dev.log()}` });

  // A reload restores the whole chain from IndexedDB at start.
  await dev.page.goto(dev.url());
  await dev.page.waitForFunction(() => window.dashlightReady === true);
  await dev.page.click('#start');
  await dev.page.waitForFunction(() => window.dashlight !== undefined && document.getElementById('stop').disabled === false, null, { timeout: 30_000 });
  const atStart = await dev.liveStatus();
  assert.equal(atStart.headers.currentHeight, 905770, 'the reloaded page did not restore the whole chain');
}));
