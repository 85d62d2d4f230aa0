// End-to-end harness: the replay peer (real captured data), the bridge, the
// dev page server and Debian's Chromium driven by playwright-core. Every
// process listens on 127.0.0.1 only and is stopped by `stop()`.
import { spawn } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

export const root = fileURLToPath(new URL('../../', import.meta.url));
const release = `${root}target/release/`;

/** Chromium flags for this machine's closed network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on `port`. */
export async function waitForPort(port, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
}

/** Starts a long-running program, collecting its output for failure reports. */
function run(name, program, args) {
  const child = spawn(program, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  const keep = (chunk) => { output.push(chunk.toString()); if (output.length > 400) output.shift(); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return {
    name,
    child,
    output: () => output.join(''),
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) { resolve(); return; }
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    }),
  };
}

/** Starts the replay peer with extra flags; returns its P2P and control ports and handle. */
export async function startReplayPeer(flags = [], ports = {}) {
  const p2p = ports.p2p ?? await freePort();
  const control = ports.control ?? await freePort();
  const proc = run('replay-peer', `${release}dashlight-replay-peer`, [
    '--listen', `127.0.0.1:${p2p}`, '--control', `127.0.0.1:${control}`,
    '--fixtures', `${root}../shared/fixtures`, ...flags,
  ]);
  await waitForPort(p2p);
  await waitForPort(control);
  const api = async (method, path) => {
    const response = await fetch(`http://127.0.0.1:${control}${path}`, { method });
    return response.headers.get('content-type')?.includes('json') ? response.json() : response.text();
  };
  return { ...proc, p2p, control, counters: () => api('GET', '/counters'), killConnections: () => api('POST', '/kill-connections') };
}

/** Starts a bridge to the given replay peer ports (first is the default target). */
export async function startBridge(targetPorts, flags = []) {
  const port = await freePort();
  const targets = targetPorts.flatMap((p, i) => ['--target', `peer${i}=127.0.0.1:${p}`]);
  const proc = run('bridge', `${release}dashlight-bridge`, [
    '--listen', `127.0.0.1:${port}`, '--network', 'testnet', '--allow-private', ...targets, ...flags,
  ]);
  await waitForPort(port);
  return { ...proc, port, url: (target = 'peer0') => `ws://127.0.0.1:${port}/${target}` };
}

/** Starts the dev page server. */
export function startPage() {
  return startServer(0);
}

/** Launches Debian's Chromium. */
export function launchBrowser() {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Polls `probe` until it returns a truthy value, or throws with `describe()`. */
export async function eventually(probe, { timeoutMs = 60_000, everyMs = 200, describe = () => '' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${await describe(last)}`);
}
