// The client's header pipeline in a worker, as the client runs: validation
// into the header chain and a save to IndexedDB after each batch. Messages
// are handled one at a time, in the order they arrive.
import init, { acceptHeaders, openPipeline, pipelineTimes, pipelineTip, storedTip } from './pkg/dashlight_browser_bench.js';

const operations = {
  open: ({ name }) => openPipeline(name),
  accept: ({ headers, hashes, now }) =>
    acceptHeaders(new Uint8Array(headers), hashes ? new Uint8Array(hashes) : undefined, now),
  tip: async () => {
    const [validatingMs, savingMs] = pipelineTimes();
    return { chain: pipelineTip(), stored: await storedTip(), validatingMs, savingMs };
  },
};

let queue = init();

self.onmessage = ({ data }) => {
  queue = queue
    .then(() => operations[data.op](data))
    .then(
      (result) => self.postMessage({ id: data.id, result }),
      (error) => self.postMessage({ id: data.id, error: String(error?.message ?? error) }),
    );
};
