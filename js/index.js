// dashlight's JavaScript API. The client itself runs in a Web Worker (the
// wasm module, its sockets and its IndexedDB live there), so verification
// never blocks the page; this class is a thin, typed proxy with events.

/** An error from dashlight, with a stable machine-readable `code`. */
export class DashlightError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'DashlightError';
    this.code = code;
  }
}

const NETWORKS = ['mainnet', 'testnet'];

/**
 * Checks options and fills defaults; throws a DashlightError (code
 * `invalid_options`) that says what is wrong.
 * @param {import('./index.js').ClientOptions} options
 */
export function validateOptions(options) {
  const fail = (message) => { throw new DashlightError('invalid_options', message); };
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  if (!NETWORKS.includes(options.network)) fail(`options.network must be one of ${NETWORKS.join(', ')}, got ${JSON.stringify(options.network)}`);
  if (!Array.isArray(options.bridges) || options.bridges.length === 0) fail('options.bridges must be a non-empty array of ws:// or wss:// URLs');
  for (const url of options.bridges) {
    let parsed;
    try { parsed = new URL(url); } catch { fail(`options.bridges: ${JSON.stringify(url)} is not a URL`); }
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') fail(`options.bridges: ${url} must use ws:// or wss://`);
  }
  const storageName = options.storageName ?? `dashlight-${options.network}`;
  if (typeof storageName !== 'string' || storageName.length === 0) fail('options.storageName must be a non-empty string');
  const maxPeers = options.maxPeers ?? Math.min(options.bridges.length, 3);
  if (!Number.isInteger(maxPeers) || maxPeers < 1 || maxPeers > 8) fail('options.maxPeers must be an integer from 1 to 8');
  const baseHeight = options.baseHeight;
  if (baseHeight !== undefined && (!Number.isInteger(baseHeight) || baseHeight < 0)) fail('options.baseHeight must be a non-negative integer');
  const timeoutScale = options.timeoutScale ?? 1;
  if (typeof timeoutScale !== 'number' || !(timeoutScale > 0 && timeoutScale <= 10)) fail('options.timeoutScale must be a number in (0, 10]');
  const minimumChainWork = options.minimumChainWork;
  if (minimumChainWork !== undefined && (typeof minimumChainWork !== 'string' || !/^(checkpoint|(0x)?[0-9a-fA-F]{1,64})$/.test(minimumChainWork))) {
    fail('options.minimumChainWork must be "checkpoint" or 1 to 64 hex digits of chain work');
  }
  const checkWorkers = options.checkWorkers ?? Math.min(globalThis.navigator?.hardwareConcurrency ?? 1, 2);
  if (!Number.isInteger(checkWorkers) || checkWorkers < 0 || checkWorkers > 8) fail('options.checkWorkers must be an integer from 0 to 8');
  const clock = options.clock;
  if (clock !== undefined) {
    if (typeof clock !== 'object' || clock === null) fail('options.clock must be an object { startUnix, rate }');
    if (typeof clock.startUnix !== 'number' || !(clock.startUnix >= 0) || !Number.isFinite(clock.startUnix)) fail('options.clock.startUnix must be a non-negative number of Unix seconds');
    if (typeof clock.rate !== 'number' || !(clock.rate > 0 && clock.rate <= 10000)) fail('options.clock.rate must be a number in (0, 10000]');
  }
  return {
    network: options.network, bridges: [...options.bridges], storageName, maxPeers, baseHeight, timeoutScale, checkWorkers,
    ...(minimumChainWork !== undefined ? { minimumChainWork } : {}),
    ...(clock ? { clock: { startUnix: clock.startUnix, rate: clock.rate } } : {}),
  };
}

/**
 * A Dash light client. Create it with `DashlightClient.create(options)`;
 * listen for `progress`, `statechange`, `chainlock`, `block`, `instantlock`,
 * `peers`, `log`, `error`, `storage` and `storagelock` events with `addEventListener`
 * (the payload is `event.detail`).
 */
export class DashlightClient extends EventTarget {
  #worker;
  #nextId = 1;
  #pending = new Map();
  #onVisibility;
  #onConnectivity;

  /** Use `DashlightClient.create`. */
  constructor(worker) {
    super();
    this.#worker = worker;
    worker.addEventListener('message', (event) => this.#receive(event.data));
    worker.addEventListener('error', (event) => {
      const error = new DashlightError('worker_failed', event.message || 'the dashlight worker failed');
      for (const { reject } of this.#pending.values()) reject(error);
      this.#pending.clear();
      this.dispatchEvent(new CustomEvent('error', { detail: { code: error.code, message: error.message } }));
    });
    // The worker does not always get online/offline itself (and browsers differ):
    // forward the page's.
    this.#onConnectivity = (event) => this.#call('setOnline', event.type === 'online').catch(() => {});
    globalThis.addEventListener?.('online', this.#onConnectivity);
    globalThis.addEventListener?.('offline', this.#onConnectivity);
    // A tab made visible again, or resumed after the browser froze it (Page Lifecycle),
    // may hold dead sockets: the worker pings its peers and redials what does not answer.
    if (typeof document !== 'undefined') {
      this.#onVisibility = (event) => {
        if (event.type === 'resume' || document.visibilityState === 'visible') this.#call('notifyVisible').catch(() => {});
      };
      document.addEventListener('visibilitychange', this.#onVisibility);
      document.addEventListener('resume', this.#onVisibility);
    }
  }

  /**
   * Creates a client in a new Web Worker.
   * @param {import('./index.js').ClientOptions} options
   * @returns {Promise<DashlightClient>}
   */
  static async create(options) {
    const checked = validateOptions(options);
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'dashlight' });
    const client = new DashlightClient(worker);
    await client.#call('init', checked);
    return client;
  }

  /**
   * Connects and syncs; resolves once started (sync goes on; watch the events). Rejects with
   * `storage_locked` while another tab syncs the same storage, and takes over when it closes.
   */
  start() { return this.#call('start'); }
  /** Disconnects and stops syncing; stored data is kept. */
  stop() { return this.#call('stop'); }
  /** The current status of every manager. */
  status() { return this.#call('status'); }
  /**
   * Verifies a raw `clsig` payload against the verified quorums.
   * @param {Uint8Array} bytes
   */
  verifyChainLock(bytes) { return this.#call('verifyChainLock', bytes); }
  /**
   * The best chain's header at a height, or with a block hash (hex, display
   * order); `null` if the best chain has no such block.
   * @param {number | string} block
   */
  header(block) { return this.#call('header', block); }
  /** The current deterministic masternode list, as plain objects. */
  masternodeList() { return this.#call('masternodeList'); }
  /** The active LLMQ quorums and whether each was verified. */
  quorums() { return this.#call('quorums'); }
  /**
   * Verifies a raw `isdlock` payload: the lock's quorum is selected from the
   * rotated set of its cycle, and its key comes only from a proven commitment.
   * @param {Uint8Array} bytes
   */
  verifyInstantLock(bytes) { return this.#call('verifyInstantLock', bytes); }
  /**
   * Checks that a transaction is in a block of the verified header chain.
   * Rejects with `not_synced` if the block is not on it, `verification_failed`
   * (saying what failed) if the proof does not prove it.
   * @param {{ txid: string, blockHash: string, proof: Uint8Array | { branch: string[], position: number } }} request
   */
  verifyTransactionProof(request) { return this.#call('verifyTransactionProof', request); }
  /**
   * Asks a peer for a proof that `txid` is in `blockHash` (a bloom filter of
   * that txid, then the filtered block) and checks it as
   * `verifyTransactionProof` does; rejects with `timeout` if no peer answers.
   * @param {string} txid
   * @param {string} blockHash
   */
  proveTransaction(txid, blockHash) { return this.#call('proveTransaction', { txid, blockHash }); }
  /**
   * A quorum's public key, only if dashlight verified its commitment
   * (`key: null` with `code` and `reason` otherwise).
   * @param {number} llmqType
   * @param {string} quorumHash
   */
  quorumPublicKey(llmqType, quorumHash) { return this.#call('quorumPublicKey', { llmqType, quorumHash }); }
  /** The active Platform quorums dashlight verified, in the trusted endpoint's shape. */
  platformQuorums() { return this.#call('platformQuorums'); }

  /**
   * Resolves with the status once the client is synced; rejects with
   * `timeout` after `timeoutMs` and with `aborted` when `signal` aborts.
   * @param {{ timeoutMs?: number, signal?: AbortSignal }} [options]
   */
  waitSynced({ timeoutMs, signal } = {}) {
    return new Promise((resolve, reject) => {
      let timer;
      const cleanup = () => {
        clearTimeout(timer);
        this.removeEventListener('statechange', onChange);
        this.removeEventListener('progress', onProgress);
        signal?.removeEventListener('abort', onAbort);
      };
      const finish = (settle, value) => { cleanup(); settle(value); };
      const onProgress = (event) => { if (event.detail.state === 'Synced') finish(resolve, event.detail); };
      const onChange = (event) => {
        if (event.detail.manager === 'sync' && event.detail.to === 'Synced') {
          this.status().then((status) => finish(resolve, status), (error) => finish(reject, error));
        }
      };
      const onAbort = () => finish(reject, new DashlightError('aborted', 'waitSynced was aborted'));
      if (signal?.aborted) { onAbort(); return; }
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => finish(reject, new DashlightError('timeout', `not synced within ${timeoutMs} ms`)), timeoutMs);
      }
      this.addEventListener('statechange', onChange);
      this.addEventListener('progress', onProgress);
      this.status().then((status) => { if (status.state === 'Synced') finish(resolve, status); }, () => {});
    });
  }

  /** Closes every peer connection (sync reconnects by itself). */
  dropConnections() { return this.#call('dropConnections'); }
  /**
   * Stops and deletes everything stored for this client; rejects with
   * `storage_locked` (deleting nothing) while another tab syncs it. Called
   * while `start()` is under way, it lets that start finish first.
   */
  clearStorage() { return this.#call('clearStorage'); }

  /** Stops the client and ends its worker. */
  async close() {
    try { await this.stop(); } finally {
      if (this.#onVisibility) {
        document.removeEventListener('visibilitychange', this.#onVisibility);
        document.removeEventListener('resume', this.#onVisibility);
      }
      globalThis.removeEventListener?.('online', this.#onConnectivity);
      globalThis.removeEventListener?.('offline', this.#onConnectivity);
      this.#worker.terminate();
    }
  }

  #call(method, arg) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, method, arg });
    });
  }

  #receive(message) {
    if (message.event) {
      this.dispatchEvent(new CustomEvent(message.event, { detail: message.detail }));
      return;
    }
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    if (message.error) pending.reject(new DashlightError(message.error.code, message.error.message));
    else pending.resolve(message.result);
  }
}
