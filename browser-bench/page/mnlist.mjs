// The masternode benchmark: in a worker, as the client runs, a fresh engine
// applies a QRInfo and a full list and verifies every pending quorum, in
// its own thread, with the check jobs in 1 checking worker, and spread over
// `workers` (default: the cores, at most 4); testnet and mainnet, median of
// `runs` (default 5). Each figure includes applying the messages. Then a
// ChainLock's wait: the messages applied, a ChainLock checked and its signing
// quorum verified, in the engine's worker or with that quorum's aggregation
// split over the `workers` checking workers; then, in the client's order, the
// rest over the same workers.
import { Rpc } from './rpc.mjs';

const params = new URLSearchParams(location.search);
const cores = navigator.hardwareConcurrency ?? 2;
const WORKERS = Number(params.get('workers') ?? Math.min(cores, 4));
const RUNS = Number(params.get('runs') ?? 5);

function log(line) {
  console.log(line);
  document.getElementById('log').textContent += `${line}\n`;
}

async function run() {
  const engine = new Rpc('./mnlist-worker.mjs');
  const { pools, results } = await engine.call({ op: 'run', workers: WORKERS, runs: RUNS });
  engine.terminate();
  log(`${cores} cores; checking workers started: ${pools.join(', ')} (0: checked in the engine's worker)`);
  for (const r of results) {
    log(`${r.name} (median of ${r.runs} runs, ms; verified/failed/not verifiable ${r.counts}):`);
    log(`  in thread: ${r.here.toFixed(0)}`);
    for (const n of pools) {
      log(`  ${n} worker${n === 1 ? '' : 's'}: ${r[n].toFixed(0)} (apply messages + prepare ${r[`${n} prepare`].toFixed(0)}, `
        + `check ${r[`${n} check`].toFixed(0)} of which the slowest worker ${r[`${n} slowest worker`].toFixed(0)}, `
        + `apply verdicts ${r[`${n} apply`].toFixed(0)})`);
    }
    const split = Number.isFinite(r['chainlock split'])
      ? `${r['chainlock split'].toFixed(0)} (apply messages + check the ChainLock + split ${r['chainlock split prepare'].toFixed(0)}, `
        + `sums ${r['chainlock split sums'].toFixed(0)} of which the slowest worker ${r['chainlock split slowest worker'].toFixed(0)}, `
        + `add and check ${r['chainlock split finish'].toFixed(0)})`
      : 'no workers';
    log(`  received -> first ChainLock with its quorum verified: in thread ${r['chainlock here'].toFixed(0)}; `
      + `aggregation split over ${pools[pools.length - 1]} workers ${split}`);
    if (Number.isFinite(r['client order'])) {
      log(`  received -> the ChainLock and every verifiable quorum verified, in the client's order over `
        + `${pools[pools.length - 1]} workers: ${r['client order'].toFixed(0)} (the ChainLock's quorum split as above, `
        + `then the rest ${r['client order rest'].toFixed(0)})`);
    }
  }
  return { cores, workers: WORKERS, pools, results };
}

window.benchResult = run().catch((error) => {
  log(`failed: ${error.stack ?? error}`);
  throw error;
});
