// The masternode benchmark page (browser-bench/, `node browser-bench/run.mjs
// --mnlist`), one run: the engine's worker verifies the testnet and mainnet
// captures in its own thread and with the check jobs over 1 and 2 checking
// workers, and every way gives the same verified / failed / not verifiable
// counts (the page fails otherwise). Times are printed, not asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMnlistBench } from '../../browser-bench/run.mjs';

test('the masternode benchmark verifies alike in one thread and over workers', { timeout: 180_000 }, async () => {
  const result = await runMnlistBench({ workers: 2, runs: 1 }, (line) => console.log(`  ${line}`));
  assert.deepEqual(result.pools, [1, 2]);
  assert.deepEqual(result.results.map((r) => r.counts), ['52/0/406', '42/0/227']);
});
