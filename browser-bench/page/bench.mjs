// The header-sync benchmark: in this browser, the client's header pipeline
// (validation into the header chain, each batch saved to IndexedDB) over the
// testnet chain from genesis, once in one worker that also hashes, once with
// X11 hashed by a pool of workers; and, in the same run, the raw X11 rate of
// one core before and after, the reference. URL parameters: `headers` (how
// many, default all), `workers` (hashing workers, default one per core),
// `sample` (every how many batches the X11 reference hashes, default 4).
import { Rpc } from './rpc.mjs';

const params = new URLSearchParams(location.search);
const FIXTURE = '/fixtures/testnet/full_chain/testnet_headers_0_1100000.bin';
const HEADER_SIZE = 80;
/** Headers per batch, as in a P2P `headers` message. */
const BATCH = 2000;
const LIMIT = Number(params.get('headers') ?? Infinity);
const HASHERS = Number(params.get('workers') ?? navigator.hardwareConcurrency ?? 2);
const SAMPLE_EVERY = Number(params.get('sample') ?? 4);
/** Batches under way at once in the worker-pool pipeline. */
const WINDOW = 3 * HASHERS;
const NOW = Math.floor(Date.now() / 1000);

function log(line) {
  console.log(line);
  document.getElementById('log').textContent += `${line}\n`;
}

/** A copy of `batch` in its own buffer, to transfer. */
function own(batch) {
  return batch.slice().buffer;
}

function rate(headers, ms) {
  return headers / (ms / 1000);
}

function format(value) {
  return Math.round(value).toLocaleString('en-US');
}

/** X11 on one core over every `SAMPLE_EVERY`th batch: headers/s, timed in the worker. */
async function rawX11(batches) {
  const hasher = new Rpc('./hash-worker.mjs');
  await hasher.call({ headers: new ArrayBuffer(0) });
  let ms = 0;
  let headers = 0;
  for (let i = 0; i < batches.length; i += SAMPLE_EVERY) {
    const result = await hasher.call({ headers: own(batches[i]) });
    ms += result.ms;
    headers += batches[i].length / HEADER_SIZE;
  }
  hasher.terminate();
  return rate(headers, ms);
}

/** Opens a pipeline worker on a fresh database `name`. */
async function openPipeline(name) {
  const pipeline = new Rpc('./pipeline-worker.mjs');
  await pipeline.call({ op: 'open', name });
  return pipeline;
}

/**
 * The figures of a pipeline run that took `ms`: headers/s, seconds, the
 * pipeline worker's time validating and saving, and the tip, which must be
 * the last header both in the chain and in the database.
 */
async function finish(pipeline, count, ms) {
  const { chain, stored, validatingMs, savingMs } = await pipeline.call({ op: 'tip' });
  pipeline.terminate();
  if (chain !== stored || !chain.startsWith(`${count} `)) {
    throw new Error(`chain tip ${chain}, stored tip ${stored}, expected height ${count}`);
  }
  return {
    rate: rate(count, ms),
    seconds: ms / 1000,
    validatingSeconds: validatingMs / 1000,
    savingSeconds: savingMs / 1000,
    tip: chain,
  };
}

function describe(run) {
  return `${format(run.rate)} headers/s (${run.seconds.toFixed(1)} s; in the pipeline worker `
    + `${run.validatingSeconds.toFixed(1)} s validating, ${run.savingSeconds.toFixed(1)} s saving)`;
}

/** One worker parses, hashes, validates and stores, as the client does. */
async function oneWorker(batches, count) {
  const pipeline = await openPipeline('dashlight-bench-one-worker');
  const started = performance.now();
  const inFlight = [];
  for (const batch of batches) {
    const headers = own(batch);
    inFlight.push(pipeline.call({ op: 'accept', headers, now: NOW }, [headers]));
    if (inFlight.length >= 2) await inFlight.shift();
  }
  await Promise.all(inFlight);
  return finish(pipeline, count, performance.now() - started);
}

/** `HASHERS` workers hash, one validates and stores the batches in order. */
async function hashingPool(batches, count) {
  const hashers = Array.from({ length: HASHERS }, () => new Rpc('./hash-worker.mjs'));
  await Promise.all(hashers.map((hasher) => hasher.call({ headers: new ArrayBuffer(0) })));
  const pipeline = await openPipeline('dashlight-bench-hashing-pool');
  const started = performance.now();
  let posted = Promise.resolve();
  const inFlight = [];
  for (let i = 0; i < batches.length; i++) {
    const hashed = hashers[i % HASHERS].call({ headers: own(batches[i]) });
    // Posted to the pipeline in chain order, whichever hasher finishes first.
    posted = posted.then(() => hashed).then(({ headers, hashes }) => ({
      accepted: pipeline.call({ op: 'accept', headers, hashes, now: NOW }, [headers, hashes]),
    }));
    inFlight.push(posted.then(({ accepted }) => accepted));
    if (inFlight.length >= WINDOW) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const ms = performance.now() - started;
  for (const hasher of hashers) hasher.terminate();
  return finish(pipeline, count, ms);
}

async function run() {
  const response = await fetch(FIXTURE);
  if (!response.ok) throw new Error(`${FIXTURE}: HTTP ${response.status}`);
  const file = new Uint8Array(await response.arrayBuffer());
  const count = Math.min(LIMIT, file.length / HEADER_SIZE - 1);
  const headers = file.subarray(HEADER_SIZE, (count + 1) * HEADER_SIZE);
  const batches = [];
  for (let at = 0; at < headers.length; at += BATCH * HEADER_SIZE) {
    batches.push(headers.subarray(at, at + BATCH * HEADER_SIZE));
  }
  const cores = navigator.hardwareConcurrency;
  log(`${format(count)} testnet headers from genesis in ${batches.length} batches; ${cores} cores, ${HASHERS} hashing workers`);

  const x11Before = await rawX11(batches);
  log(`raw X11, one core (before):       ${format(x11Before)} headers/s`);
  const single = await oneWorker(batches, count);
  log(`pipeline, one worker:             ${describe(single)}`);
  const pool = await hashingPool(batches, count);
  log(`pipeline, ${HASHERS} hashing workers:      ${describe(pool)}`);
  const x11After = await rawX11(batches);
  log(`raw X11, one core (after):        ${format(x11After)} headers/s`);

  const x11 = (x11Before + x11After) / 2;
  const result = {
    headers: count,
    cores,
    hashers: HASHERS,
    x11Before,
    x11After,
    oneWorker: single,
    hashingPool: pool,
    oneWorkerVsOneCore: single.rate / x11,
    hashingPoolVsCoresUsed: pool.rate / (x11 * Math.min(HASHERS, cores)),
    tip: single.tip,
  };
  if (single.tip !== pool.tip) throw new Error(`the two runs end at ${single.tip} and ${pool.tip}`);
  log(`one worker / raw X11 of 1 core:   ${(100 * result.oneWorkerVsOneCore).toFixed(1)} %`);
  log(`${HASHERS} workers / raw X11 of ${Math.min(HASHERS, cores)} cores:  ${(100 * result.hashingPoolVsCoresUsed).toFixed(1)} %`);
  log(`tip: ${result.tip}`);
  return result;
}

window.benchResult = run().catch((error) => {
  log(`failed: ${error.stack ?? error}`);
  throw error;
});
