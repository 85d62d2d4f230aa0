// The dashlight worker: hosts the wasm client and answers the page's calls.
import init, { WasmClient } from '../pkg/dashlight.js';

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

function emit(event, detail) {
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
