// A checking worker of the dashlight worker: it loads the client's own wasm
// module and answers each share it is sent: encoded quorum checks with their
// outcomes, or a part of one quorum's key aggregation with its sum (`checkJobs`,
// with this worker's bounded key cache), or 80-byte headers with their X11
// hashes (`hashHeaders`).
import init, { checkJobs, hashHeaders } from '../pkg/dashlight.js';

const ready = init();
const TASKS = { check: checkJobs, hash: hashHeaders };

self.addEventListener('message', async ({ data: { id, task, share } }) => {
  try {
    await ready;
    const run = TASKS[task];
    if (!run) throw new Error(`unknown task ${task}`);
    const answer = run(new Uint8Array(share));
    self.postMessage({ id, answer: answer.buffer }, [answer.buffer]);
  } catch (error) {
    self.postMessage({ id, error: String(error?.message ?? error) });
  }
});
