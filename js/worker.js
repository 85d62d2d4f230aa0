// The dashlight worker: hosts the wasm client and answers the page's calls.
import init, { WasmClient } from '../pkg/dashlight.js';
import { AwakeDeadline } from './watchdog.js';

let client = null;
const ready = init();

function post(message) { self.postMessage(message); }

// `block` events: each new header of the verified chain, with its ChainLock
// status. During a long catch-up only the newest MAX_BLOCK_EVENTS per step.
const MAX_BLOCK_EVENTS = 16;
let lastBlockHeight = null;
let blockQueue = Promise.resolve();
function announceBlocks(height) {
  if (lastBlockHeight === null || height <= lastBlockHeight) {
    if (lastBlockHeight === null || height < lastBlockHeight) lastBlockHeight = height;
    return;
  }
  const from = Math.max(lastBlockHeight + 1, height - MAX_BLOCK_EVENTS + 1);
  lastBlockHeight = height;
  blockQueue = blockQueue.then(async () => {
    for (let h = from; h <= height; h++) {
      const header = await client?.header(h).catch(() => null);
      if (header) post({ event: 'block', detail: header });
    }
  });
}

// Checking workers: the quorum signature checks the client hands out
// (`checkquorums` events) and the headers of long batches to hash
// (`hashheaders`), one share per worker, each worker running the client's own
// wasm module (check-worker.js). Started at the first batch; a worker that
// fails, or leaves a share unanswered for SHARE_TIMEOUT_MS of awake time (it
// hangs; a sleep or a frozen tab meanwhile counts as one check, see
// watchdog.js), breaks the pool: every worker is terminated and from then on
// the client does the work in this worker (a share without an answer is done
// here too, as is one past the client's own deadline).
const SHARE_TIMEOUT_MS = 8_000;
/** How often an unanswered share's awake time is counted. */
const SHARE_CHECK_EVERY_MS = 1_000;

class CheckPool {
  #size;
  #workers = [];
  #nextId = 1;
  #broken = false;

  constructor(size) { this.#size = size; }

  #start() {
    if (this.#workers.length > 0 || this.#broken) return;
    try {
      for (let i = 0; i < this.#size; i++) {
        const worker = new Worker(new URL('./check-worker.js', import.meta.url), { type: 'module', name: `dashlight-check-${i}` });
        const pending = new Map();
        worker.addEventListener('message', ({ data }) => {
          const done = pending.get(data.id);
          pending.delete(data.id);
          done?.(data.answer ? new Uint8Array(data.answer) : null);
        });
        worker.addEventListener('error', () => this.#breakDown());
        this.#workers.push({ worker, pending });
      }
    } catch {
      this.#breakDown();
    }
  }

  /** Terminates every worker; what they were asked is answered with null. */
  #breakDown() {
    this.#broken = true;
    for (const { worker, pending } of this.#workers) {
      worker.terminate();
      for (const done of pending.values()) done(null);
      pending.clear();
    }
  }

  /** The answers to `shares` of task `task` (`check` or `hash`), in order (null where a worker failed; none if the pool is broken). */
  run(task, shares) {
    this.#start();
    if (this.#broken || this.#workers.length === 0) return Promise.resolve([]);
    return Promise.all(shares.map((share, i) => new Promise((resolve) => {
      const { worker, pending } = this.#workers[i % this.#workers.length];
      const id = this.#nextId++;
      const deadline = new AwakeDeadline(SHARE_TIMEOUT_MS, SHARE_CHECK_EVERY_MS, performance.now());
      const timer = setInterval(() => {
        if (deadline.passed(performance.now()) && pending.has(id)) this.#breakDown();
      }, SHARE_CHECK_EVERY_MS);
      pending.set(id, (answer) => { clearInterval(timer); resolve(answer); });
      try {
        const copy = Uint8Array.from(share);
        worker.postMessage({ id, task, share: copy.buffer }, [copy.buffer]);
      } catch {
        pending.get(id)?.(null);
        pending.delete(id);
      }
    })));
  }
}

let pool = null;
let checkWorkers = 0;

// What the client's worker events ask of the pool: the task and where the answers go.
const POOL_TASKS = {
  checkquorums: { task: 'check', done: (batch, answers) => client?.quorumChecksDone(batch, answers) },
  hashheaders: { task: 'hash', done: (batch, answers) => client?.headersHashed(batch, answers) },
};

function runInPool({ task, done }, { batch, shares }) {
  pool ??= new CheckPool(checkWorkers);
  pool.run(task, shares).then(
    (answers) => done(batch, answers),
    () => done(batch, []),
  );
}

function emit(event, detail) {
  const pooled = POOL_TASKS[event];
  if (pooled) {
    runInPool(pooled, detail);
    return;
  }
  post({ event, detail });
  if (event === 'progress' && detail?.headers && client) announceBlocks(detail.headers.currentHeight);
}

function toError(error) {
  if (error && typeof error === 'object' && 'code' in error) return { code: String(error.code), message: String(error.message) };
  return { code: 'internal', message: String(error?.message ?? error) };
}

const methods = {
  async init(options) {
    await ready;
    checkWorkers = options.checkWorkers ?? 0;
    client = new WasmClient(options, emit);
  },
  start: () => client.start(),
  stop: () => client.stop(),
  status: () => client.status(),
  verifyChainLock: (bytes) => client.verifyChainLock(bytes),
  verifyInstantLock: (bytes) => client.verifyInstantLock(bytes),
  verifyTransactionProof: (request) => client.verifyTransactionProof(request),
  proveTransaction: ({ txid, blockHash }) => client.proveTransaction(txid, blockHash),
  quorumPublicKey: ({ llmqType, quorumHash }) => client.quorumPublicKey(llmqType, quorumHash),
  platformQuorums: () => client.platformQuorums(),
  header: (block) => client.header(block),
  masternodeList: () => client.masternodeList(),
  quorums: () => client.quorums(),
  dropConnections: () => client.dropConnections(),
  notifyVisible: () => client.notifyVisible(),
  setOnline: (online) => client.setOnline(online),
  clearStorage: () => client.clearStorage(),
};

self.addEventListener('message', async (event) => {
  const { id, method, arg } = event.data;
  try {
    const handler = methods[method];
    if (!handler) throw { code: 'unknown_method', message: `unknown method ${method}` };
    if (method !== 'init' && !client) throw { code: 'not_initialised', message: 'the client is not initialised' };
    post({ id, result: await handler(arg) });
  } catch (error) {
    post({ id, error: toError(error) });
  }
});
