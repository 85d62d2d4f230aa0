// End-to-end harness: the replay peer (real captured data), the bridge, the
// dev page server and Debian's Chromium driven by playwright-core. Every
// process listens on 127.0.0.1 only; a `Stack` stops everything it started.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const fixtures = `${root}../shared/fixtures`;
export const resultsDir = `${root}test-results/`;

/**
 * Folder of the native binaries: `DASHLIGHT_BIN_DIR`, else target/release
 * (built by scripts/test.sh), else target/debug.
 */
export const binDir = process.env.DASHLIGHT_BIN_DIR
  ?? (existsSync(`${root}target/release/dashlight-replay-peer`) && existsSync(`${root}target/release/dashlight-bridge`)
    ? `${root}target/release/`
    : `${root}target/debug/`);

/** The testnet sync base checkpoint the replay peer's header file starts at. */
export const BASE_HEIGHT = 898560;
/** The ChainLock the default replay peer scenario announces. */
export const CHAINLOCK_HEIGHT = 905775;
/** The tip the default replay peer scenario ends at. */
export const FINAL_TIP = 905800;

/** Chromium flags for this machine's closed network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
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
export async function waitForPort(port, timeoutMs = 30_000, child = null) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before listening on ${port}`);
    const open = await new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts a long-running program, collecting its output for failure reports. */
function run(name, program, args) {
  if (!existsSync(program)) throw new Error(`${program} is missing: run cargo build --release -p dashlight-replay-peer -p dashlight-bridge`);
  const child = spawn(program, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const output = [];
  const keep = (chunk) => { output.push(chunk.toString()); if (output.length > 4000) output.shift(); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return {
    name,
    child,
    output: () => output.join(''),
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    }),
  };
}

/**
 * Starts the replay peer with extra flags; returns its P2P and control ports,
 * its control API and its process handle. Pass `ports` to restart a peer on
 * the ports of a stopped one.
 */
export async function startReplayPeer(flags = [], ports = {}) {
  const p2p = ports.p2p ?? await freePort();
  const control = ports.control ?? await freePort();
  const proc = run('replay-peer', `${binDir}dashlight-replay-peer`, [
    '--listen', `127.0.0.1:${p2p}`, '--control', `127.0.0.1:${control}`,
    '--fixtures', fixtures, ...flags,
  ]);
  try {
    await waitForPort(p2p, 30_000, proc.child);
    await waitForPort(control, 30_000, proc.child);
  } catch (error) {
    await proc.stop();
    throw new Error(`${error.message}\n${proc.output()}`);
  }
  const api = async (method, path) => {
    const response = await fetch(`http://127.0.0.1:${control}${path}`, { method });
    return response.headers.get('content-type')?.includes('json') ? response.json() : response.text();
  };
  return {
    ...proc,
    p2p,
    control,
    counters: () => api('GET', '/counters'),
    reset: () => api('POST', '/reset'),
    killConnections: () => api('POST', '/kill-connections'),
    setTip: (height) => api('POST', `/tip?height=${height}`),
  };
}

/**
 * Starts a bridge whose targets are `peer0`, `peer1`… = the given replay peer
 * P2P ports (the first is the default). `flags` are extra bridge flags (e.g. `--raw`).
 */
export async function startBridge(targetPorts, flags = []) {
  const port = await freePort();
  const targets = targetPorts.flatMap((p, i) => ['--target', `peer${i}=127.0.0.1:${p}`]);
  const proc = run('bridge', `${binDir}dashlight-bridge`, [
    '--listen', `127.0.0.1:${port}`, '--network', 'testnet', '--allow-private', '--rate-limit', '0',
    ...targets, ...flags,
  ]);
  try {
    await waitForPort(port, 30_000, proc.child);
  } catch (error) {
    await proc.stop();
    throw new Error(`${error.message}\n${proc.output()}`);
  }
  return { ...proc, port, url: (target = 'peer0') => `ws://127.0.0.1:${port}/${target}` };
}

/**
 * Starts the dev page server (www/, /js/, /pkg/); `mounts` maps more URL prefixes to folders
 * or, for a prefix that is a whole path, to a file served in its place.
 */
export function startPage(mounts = {}) {
  return startServer(0, mounts);
}

/** Launches Debian's Chromium (or `CHROMIUM`). */
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
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${await describe(last)}`);
}

/** A path under test-results/ (the folder is created). */
export function resultPath(name) {
  mkdirSync(resultsDir, { recursive: true });
  return `${resultsDir}${name}`;
}

/**
 * Everything one scenario starts, stopped in reverse order by `cleanup()`;
 * on failure `report()` gathers the page log and the processes' output.
 */
export class Stack {
  #items = [];
  #pages = [];

  /** Registers something with a `stop()`/`close()` to undo at cleanup. */
  add(item) { this.#items.push(item); return item; }

  async replayPeer(flags, ports) { return this.add(await startReplayPeer(flags, ports)); }
  async bridge(targetPorts, flags) { return this.add(await startBridge(targetPorts, flags)); }
  async page(mounts) { return this.add(await startPage(mounts)); }
  async browser() { return this.add(await launchBrowser()); }

  /**
   * Opens the dev page in a fresh browser context.
   * @param {import('playwright-core').Browser} browser
   * @param {string} pageUrl the dev page server's URL
   * @param {object} params query parameters (bridges, storage, base, timeoutScale, autostart…)
   */
  async devPage(browser, pageUrl, params) {
    const context = this.add(await browser.newContext({ viewport: { width: 1280, height: 1000 } }));
    const page = await context.newPage();
    const dev = new DevPage(context, page, pageUrl, params);
    this.#pages.push(dev);
    await dev.recordLongTasks();
    await dev.open();
    return dev;
  }

  /**
   * Opens the dev page in a second tab of `dev`'s browser context (same origin storage
   * and Web Locks), with `params` as query parameters.
   * @param {DevPage} dev
   * @param {object} params
   */
  async secondTab(dev, params) {
    const page = await dev.context.newPage();
    const tab = new DevPage(dev.context, page, dev.pageUrl, params);
    this.#pages.push(tab);
    await tab.open();
    return tab;
  }

  /** Page logs and process output, for a failure message. */
  async report(name) {
    const parts = [];
    for (const [i, dev] of this.#pages.entries()) {
      try {
        await dev.page.screenshot({ path: resultPath(`${name}-failure-${i}.png`), fullPage: true });
      } catch { /* the page may be gone */ }
      parts.push(`--- page ${i} status: ${JSON.stringify(await dev.status().catch(() => null))}`);
      parts.push(`--- page ${i} timeline:\n${(await dev.timeline().catch(() => [])).map(formatChange).join('\n')}`);
      parts.push(`--- page ${i} log:\n${(await dev.log().catch(() => '')).split('\n').slice(-80).join('\n')}`);
      parts.push(`--- page ${i} console:\n${dev.console.slice(-40).join('\n')}`);
    }
    for (const [i, item] of this.#items.entries()) {
      if (typeof item.output !== 'function') continue;
      const file = resultPath(`${name}-${i}-${item.name}.log`);
      writeFileSync(file, item.output());
      parts.push(`--- ${item.name} output (whole: ${file}):\n${item.output().split('\n').filter((l) => !/getmnlistd: (answering|no capture)/.test(l)).slice(-30).join('\n')}`);
    }
    return parts.join('\n');
  }

  /** Stops everything, newest first. */
  async cleanup() {
    for (const item of this.#items.reverse()) {
      try {
        if (typeof item.stop === 'function') await item.stop();
        else if (typeof item.close === 'function') await item.close();
      } catch { /* keep cleaning */ }
    }
    this.#items = [];
  }
}

/** One line of a state-change timeline. */
export function formatChange(c) {
  return `${((c.receivedAt ?? 0) / 1000).toFixed(3)}s ${c.manager}: ${c.from} -> ${c.to}${c.cause ? ` (${c.cause})` : ''}`;
}

/** The dev page in one browser context, with accessors for its globals. */
export class DevPage {
  constructor(context, page, pageUrl, params) {
    this.context = context;
    this.page = page;
    this.pageUrl = pageUrl;
    this.params = params;
    this.console = [];
    page.on('console', (message) => this.console.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => this.console.push(`pageerror: ${error.message}`));
  }

  /** Records the main thread's long tasks (over 50 ms) from the next load on; see `longTasks`. */
  async recordLongTasks() {
    await this.page.addInitScript(() => {
      window.longTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.longTasks.push({ startMs: entry.startTime, durationMs: entry.duration });
      }).observe({ type: 'longtask', buffered: true });
    });
  }

  /** The long tasks recorded since `recordLongTasks` (start and duration, ms since navigation). */
  longTasks() { return this.page.evaluate(() => window.longTasks ?? []); }

  /**
   * The page URL with `params` (plus `overrides`) as query parameters. The minimum chain work
   * is lowered to none by default: the replay peer's captured headers predate Dash Core's
   * nMinimumChainWork (and the newest checkpoint), so under the client's default floor they
   * would never be reported as synced.
   */
  url(overrides = {}) {
    const query = new URLSearchParams();
    const defaults = { network: 'testnet', base: BASE_HEIGHT, minimumChainWork: '0' };
    for (const [key, value] of Object.entries({ ...defaults, ...this.params, ...overrides })) {
      if (value !== undefined && value !== null) query.set(key, String(value));
    }
    return `${this.pageUrl}?${query}`;
  }

  /** Loads the page and waits for `window.dashlightReady`. */
  async open(overrides = {}) {
    await this.page.goto(this.url(overrides));
    await this.page.waitForFunction(() => window.dashlightReady === true, null, { timeout: 30_000 });
  }

  /** The latest Status the page saw (or null). */
  status() { return this.page.evaluate(() => window.dashlightStatus ?? null); }
  /** The client's current status, asked of the worker. */
  liveStatus() { return this.page.evaluate(() => window.dashlight?.status() ?? null); }
  /** Every StateChange so far. */
  timeline() { return this.page.evaluate(() => window.dashlightTimeline ?? []); }
  /** The page's log panel. */
  log() { return this.page.evaluate(() => document.getElementById('log')?.textContent ?? ''); }
  /** The page's peer list (the last `peers` event), one `url — state…` line per bridge. */
  peerList() { return this.page.evaluate(() => [...document.querySelectorAll('#peers li')].map((li) => li.textContent)); }

  /** Waits until the status satisfies `predicate` (a function of the Status, run in Node). */
  async waitForStatus(predicate, what, timeoutMs = 120_000) {
    return eventually(async () => {
      const status = await this.status();
      return status && predicate(status) ? status : null;
    }, { timeoutMs, everyMs: 250, describe: async (last) => `${what}; last status ${JSON.stringify(await this.status().catch(() => last))}` });
  }

  /** Waits for the aggregate `Synced` with the default scenario's ChainLock verified. */
  waitForSyncedWithChainLock(timeoutMs = 120_000, height = CHAINLOCK_HEIGHT) {
    return this.waitForStatus(
      (s) => s.state === 'Synced' && s.chainlocks?.lastVerified?.height === height,
      `Synced with a verified ChainLock at ${height}`,
      timeoutMs,
    );
  }

  /** The masternode states in timeline order (starting with the first `from`). */
  async managerStates(manager) {
    const changes = (await this.timeline()).filter((c) => c.manager === manager);
    return changes.length ? [changes[0].from, ...changes.map((c) => c.to)] : [];
  }
}

/** Whether `sequence` occurs in `states` in order (not necessarily adjacent). */
export function containsInOrder(states, sequence) {
  let i = 0;
  for (const state of states) if (state === sequence[i]) i += 1;
  return i >= sequence.length;
}

/**
 * Runs `body(stack)` with a fresh Stack, adding the stack's report to any
 * failure and always cleaning up.
 */
export async function withStack(name, body) {
  const stack = new Stack();
  try {
    return await body(stack);
  } catch (error) {
    let report = '';
    try { report = await stack.report(name); } catch { /* best effort */ }
    error.message = `${error.message}\n${report}`;
    throw error;
  } finally {
    await stack.cleanup();
  }
}

/** Replay peer flags for a tip moved by the test (see `driveToChainLock`). */
export const MANUAL_TIP = ['--tip-steps', 'none'];

/**
 * Replay peer flags for a ChainLock right after the QRInfo, as dashd relays its
 * tip's: the derived ChainLocks are served (`--chainlock-at-tip`) and the tip
 * steps from 905294 to 905302 as soon as the QRInfo is answered, so 905302's
 * ChainLock (signing list 905294, the QRInfo's tip: the first one the QRInfo's
 * lists verify) is relayed then. Later moves are the test's (`driveToChainLock`).
 */
export const CHAINLOCK_AFTER_QRINFO = ['--chainlock-at-tip', '--tip-steps', '905302', '--tip-step-every', '0.05'];

/**
 * Walks a replay peer started with `MANUAL_TIP` (or `CHAINLOCK_AFTER_QRINFO`) through the default
 * scenario's tip steps once the client's masternode list is Synced at 905294:
 * 905770, whose signing list (tip − 8) is the captured 905762 (it carries the
 * quorum that signed the ChainLock), then 905800 (the ChainLock for 905775 is
 * announced). The replay peer's own timed steps could move the tip while the
 * client still waits for quorum lists the fixtures cannot answer, and the
 * client would then never ask for the list at 905762. Returns the Synced status.
 */
export async function driveToChainLock(dev, peer, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1_000, deadline - Date.now());
  await dev.waitForStatus((st) => st.masternodes.state === 'Synced' && st.headers.state === 'Synced', 'masternodes Synced at the first tip', left());
  const { tip_height: tip } = await peer.counters();
  if (tip < 905770) {
    await peer.setTip(905770);
    await dev.waitForStatus((st) => st.masternodes.state === 'Synced' && st.masternodes.currentHeight >= 905762, 'masternode list at 905762', left());
  }
  if (tip < FINAL_TIP) await peer.setTip(FINAL_TIP);
  return dev.waitForSyncedWithChainLock(left());
}
