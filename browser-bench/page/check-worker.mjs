// A checking worker of the masternode benchmark: the outcomes of each share
// of quorum check jobs it is sent (see `mnlistCheckJobs`), or the sum of a part
// of a split aggregation (`mnlistSumPart`), timed here so that the figure
// excludes messaging.
import init, { mnlistCheckJobs, mnlistSumPart } from './pkg/dashlight_browser_bench.js';

const ready = init();

self.onmessage = async ({ data: { id, jobs, part, fresh } }) => {
  try {
    await ready;
    const started = performance.now();
    const outcomes = part ? mnlistSumPart(new Uint8Array(part), fresh) : mnlistCheckJobs(new Uint8Array(jobs), fresh);
    const ms = performance.now() - started;
    self.postMessage({ id, result: { outcomes: outcomes.buffer, ms } }, [outcomes.buffer]);
  } catch (error) {
    self.postMessage({ id, error: String(error?.message ?? error) });
  }
};
