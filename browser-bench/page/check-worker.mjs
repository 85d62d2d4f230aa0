// A checking worker of the masternode benchmark: the outcomes of each share
// of quorum check jobs it is sent (see `mnlistCheckJobs`), timed here so that the
// figure excludes messaging.
import init, { mnlistCheckJobs } from './pkg/dashlight_browser_bench.js';

const ready = init();

self.onmessage = async ({ data: { id, jobs, fresh } }) => {
  try {
    await ready;
    const started = performance.now();
    const outcomes = mnlistCheckJobs(new Uint8Array(jobs), fresh);
    const ms = performance.now() - started;
    self.postMessage({ id, result: { outcomes: outcomes.buffer, ms } }, [outcomes.buffer]);
  } catch (error) {
    self.postMessage({ id, error: String(error?.message ?? error) });
  }
};
