// The dashlight worker: hosts the wasm client and answers the page's calls.
import init, { WasmClient } from '../pkg/dashlight.js';

let client = null;
const ready = init();

function post(message) { self.postMessage(message); }
function emit(event, detail) { post({ event, detail }); }

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
