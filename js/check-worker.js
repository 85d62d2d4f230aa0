// A checking worker of the dashlight worker: it loads the client's own wasm
// module and answers each share of encoded quorum checks it is sent with
// their outcomes (`checkJobs`, with this worker's bounded key cache).
import init, { checkJobs } from '../pkg/dashlight.js';

const ready = init();

self.addEventListener('message', async ({ data: { id, share } }) => {
  try {
    await ready;
    const answer = checkJobs(new Uint8Array(share));
    self.postMessage({ id, answer: answer.buffer }, [answer.buffer]);
  } catch (error) {
    self.postMessage({ id, error: String(error?.message ?? error) });
  }
});
