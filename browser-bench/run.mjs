// Runs a benchmark page of browser-bench/page in headless Chromium and
// prints its figures: the header-sync benchmark (index.html), or with
// --mnlist the masternode benchmark (mnlist.html). Build first (`npm run
// bench` does both):
//   bash scripts/build-web.sh browser-bench page/pkg
// Usage: node browser-bench/run.mjs [--headers N] [--workers N] [--sample N]
//        node browser-bench/run.mjs --mnlist [--workers N] [--runs N]
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { fixtures, launchBrowser, root } from '../tests/e2e/harness.mjs';
import { startServer } from '../scripts/serve.mjs';

/**
 * Runs the header-sync benchmark page with `options` (`headers`, `workers`,
 * `sample`: see page/bench.mjs) and resolves to its result; `onLine` gets
 * each line it logs.
 */
export function runHeaderBench(options = {}, onLine = () => {}) {
  return runPage('index.html', options, onLine);
}

/**
 * Runs the masternode benchmark page with `options` (`workers`, `runs`: see
 * page/mnlist.mjs) and resolves to its result; `onLine` gets each line it logs.
 */
export function runMnlistBench(options = {}, onLine = () => {}) {
  return runPage('mnlist.html', options, onLine);
}

/** Runs the benchmark page `name` with `options` as URL parameters (see `runHeaderBench`). */
async function runPage(name, options, onLine) {
  const query = new URLSearchParams(Object.entries(options).filter(([, value]) => value !== undefined));
  const server = await startServer(0, {
    '/bench/': `${root}browser-bench/page/`,
    '/fixtures/': `${fixtures}/`,
  });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    page.on('console', (message) => onLine(message.text()));
    page.on('pageerror', (error) => onLine(`page error: ${error.message}`));
    await page.goto(`${server.url}bench/${name}?${query}`);
    return { chromium: browser.version(), ...(await page.evaluate(() => window.benchResult)) };
  } finally {
    await browser.close();
    await server.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      headers: { type: 'string' },
      workers: { type: 'string' },
      sample: { type: 'string' },
      runs: { type: 'string' },
      mnlist: { type: 'boolean' },
    },
  });
  const { mnlist, ...options } = values;
  const run = mnlist ? runMnlistBench : runHeaderBench;
  const result = await run(options, (line) => console.log(line));
  console.log(JSON.stringify(result, null, 2));
}
