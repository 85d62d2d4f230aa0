// The header-sync benchmark page (browser-bench/, `npm run bench`) on the
// first 20,000 testnet headers: both pipelines (one worker; hashing workers)
// validate them, store them in IndexedDB and end on the same chain and stored
// tip, so the benchmark keeps working. Rates are printed, not asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runHeaderBench } from '../../browser-bench/run.mjs';

/** Height, hash and chain work of testnet block 20,000 (as `dashlight headers` prints them). */
const TIP_20000 = '20000 0000000005b3f97e0af8c72f9a96eca720237e374ca860938ba0d7a68471c4d6 '
  + '0000000000000000000000000000000000000000000000000001bfa033ff936b';

test('the header benchmark validates and stores headers in both pipelines', { timeout: 180_000 }, async () => {
  const result = await runHeaderBench({ headers: 20_000, sample: 1 }, (line) => console.log(`  ${line}`));
  assert.equal(result.headers, 20_000);
  assert.equal(result.oneWorker.tip, result.hashingPool.tip);
  assert.equal(result.tip, TIP_20000);
  for (const rate of [result.x11Before, result.x11After, result.oneWorker.rate, result.hashingPool.rate]) {
    assert.ok(rate > 0);
  }
});
