// A hashing worker: X11 of each batch of headers it is sent, timed here so
// that the figure excludes messaging. The headers go back with their hashes.
import init, { x11Hashes } from './pkg/dashlight_browser_bench.js';

const ready = init();

self.onmessage = async ({ data: { id, headers } }) => {
  await ready;
  const started = performance.now();
  const hashes = x11Hashes(new Uint8Array(headers));
  const ms = performance.now() - started;
  self.postMessage({ id, result: { headers, hashes: hashes.buffer, ms } }, [headers, hashes.buffer]);
};
