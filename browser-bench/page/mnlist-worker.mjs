// The engine's worker of the masternode benchmark, as the client's worker:
// per scenario, a fresh engine applies a QRInfo and a full list and verifies
// every pending quorum, in this thread or with its check jobs spread over a
// pool of checking workers (1, then `workers`); the verdicts are applied in
// share order, whichever worker answers first. Then, what a ChainLock waits
// for: a fresh engine applies the messages, checks a ChainLock and verifies its
// signing quorum, in this thread or with that quorum's aggregation split over
// the `workers` pool, and then, in the client's order, every other pending
// quorum over the same workers (their key caches kept from the split). Answers
// `{ op: 'run' }`.
import init, {
  mnlistApply, mnlistChainLockFinish, mnlistChainLockHere, mnlistChainLockSplit, mnlistCheckJobs,
  mnlistOpen, mnlistPrepare, mnlistPrepareRest, mnlistVerifyHere,
} from './pkg/dashlight_browser_bench.js';
import { Rpc } from './rpc.mjs';

const SCENARIOS = [
  {
    name: 'testnet qrinfo_905294',
    network: 'testnet',
    qrinfo: 'testnet/qrinfo/qrinfo_905294.bin',
    diff: 'testnet/mnlistdiff/mnlistdiff_0_905762.bin',
    run: 'testnet/headers/testnet_headers_898560_947248.bin',
    start: 898560,
    baseCsv: 'testnet/headers/testnet_quorum_base_headers.csv',
  },
  {
    name: 'mainnet qrinfo_2028764',
    network: 'mainnet',
    qrinfo: 'mainnet/p70230/qrinfo_2028764.bin',
    diff: 'mainnet/p70230/mnlistdiff_0_2028691.bin',
  },
];

async function fixture(path, as = 'bytes') {
  const response = await fetch(`/fixtures/${path}`);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return as === 'text' ? response.text() : new Uint8Array(await response.arrayBuffer());
}

/** `count` checking workers, or none if they cannot start (then jobs are checked here). */
async function startPool(count) {
  const workers = Array.from({ length: count }, () => new Rpc('./check-worker.mjs'));
  try {
    await Promise.all(workers.map((w) => w.call({ jobs: new Uint8Array([0]).buffer, fresh: true })));
    return workers;
  } catch {
    for (const w of workers) w.terminate();
    return [];
  }
}

/**
 * Each share checked by its worker (or here, without workers), with an empty
 * key cache if `fresh`: the outcomes in share order and the longest time a
 * worker spent checking.
 */
async function checkShares(pool, shares, fresh = true) {
  if (pool.length === 0) {
    const started = performance.now();
    const outcomes = shares.map((share) => mnlistCheckJobs(share, fresh));
    return { outcomes, slowest: performance.now() - started };
  }
  const answers = await Promise.all(shares.map((share, i) => {
    const jobs = share.slice().buffer;
    return pool[i].call({ jobs, fresh }, [jobs]);
  }));
  return {
    outcomes: answers.map(({ outcomes }) => new Uint8Array(outcomes)),
    slowest: Math.max(...answers.map(({ ms }) => ms)),
  };
}

/**
 * Each part's sum from its worker (all fresh: a first ChainLock finds empty
 * caches): the sums in part order and the longest time a worker spent summing.
 */
async function sumParts(pool, parts) {
  const answers = await Promise.all(parts.map((part, i) => {
    const bytes = part.slice().buffer;
    return pool[i].call({ part: bytes, fresh: true }, [bytes]);
  }));
  return {
    sums: answers.map(({ outcomes }) => new Uint8Array(outcomes)),
    slowest: Math.max(...answers.map(({ ms }) => ms)),
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function runScenario(scenario, pools, runs) {
  const [qrinfo, diff, run, baseCsv] = await Promise.all([
    fixture(scenario.qrinfo),
    fixture(scenario.diff),
    scenario.run ? fixture(scenario.run) : new Uint8Array(0),
    scenario.baseCsv ? fixture(scenario.baseCsv, 'text') : '',
  ]);
  mnlistOpen(scenario.network, qrinfo, diff, run, scenario.start ?? 0, baseCsv);
  const times = { here: [], 'chainlock here': [] };
  for (const phase of ['', ' prepare', ' sums', ' slowest worker', ' finish']) times[`chainlock split${phase}`] = [];
  for (const phase of ['', ' rest']) times[`client order${phase}`] = [];
  for (const pool of pools) {
    for (const phase of ['', ' prepare', ' check', ' slowest worker', ' apply']) times[`${pool.length}${phase}`] = [];
  }
  let counts;
  const check = (label, got) => {
    counts ??= got.join('/');
    if (got.join('/') !== counts) throw new Error(`${label}: ${got.join('/')} != ${counts}`);
  };
  for (let r = 0; r < runs; r++) {
    let started = performance.now();
    check('in thread', mnlistVerifyHere());
    times.here.push(performance.now() - started);
    for (const pool of pools) {
      const n = pool.length;
      started = performance.now();
      const shares = mnlistPrepare(n);
      const prepared = performance.now();
      const { outcomes, slowest } = await checkShares(pool, shares);
      const checked = performance.now();
      check(`${n} workers`, mnlistApply(outcomes));
      const applied = performance.now();
      times[n].push(applied - started);
      times[`${n} prepare`].push(prepared - started);
      times[`${n} check`].push(checked - prepared);
      times[`${n} slowest worker`].push(slowest);
      times[`${n} apply`].push(applied - checked);
    }
    started = performance.now();
    if (!mnlistChainLockHere()) throw new Error('the ChainLock quorum did not verify in thread');
    times['chainlock here'].push(performance.now() - started);
    const pool = pools[pools.length - 1];
    if (pool.length > 0) {
      started = performance.now();
      const parts = mnlistChainLockSplit(pool.length);
      const prepared = performance.now();
      const { sums, slowest } = await sumParts(pool, parts);
      const summed = performance.now();
      if (!mnlistChainLockFinish(sums)) throw new Error('the ChainLock quorum did not verify from the sums');
      const finished = performance.now();
      times['chainlock split'].push(finished - started);
      times['chainlock split prepare'].push(prepared - started);
      times['chainlock split sums'].push(summed - prepared);
      times['chainlock split slowest worker'].push(slowest);
      times['chainlock split finish'].push(finished - summed);
      const { outcomes } = await checkShares(pool, mnlistPrepareRest(pool.length), false);
      check('client order', mnlistApply(outcomes));
      const applied = performance.now();
      times['client order'].push(applied - started);
      times['client order rest'].push(applied - finished);
    }
  }
  const result = { name: scenario.name, counts, runs };
  for (const [key, values] of Object.entries(times)) result[key] = median(values);
  return result;
}

const operations = {
  run: async ({ workers, runs }) => {
    await init();
    const sizes = [...new Set([1, workers])];
    const pools = [];
    for (const size of sizes) pools.push(await startPool(size));
    const results = [];
    for (const scenario of SCENARIOS) results.push(await runScenario(scenario, pools, runs));
    for (const pool of pools) for (const w of pool) w.terminate();
    return { pools: pools.map((p) => p.length), results };
  },
};

self.onmessage = ({ data }) => {
  operations[data.op](data).then(
    (result) => self.postMessage({ id: data.id, result }),
    (error) => self.postMessage({ id: data.id, error: String(error?.stack ?? error) }),
  );
};
