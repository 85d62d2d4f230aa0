// Scenario 8 (issue 6): the npm package as a wallet developer gets it.
// `npm pack` the repository, install the tarball into a fresh Vite project in
// a temp folder, `vite build` it, serve dist/ and sync against the replay
// peer in Chromium. Skipped only when the npm registry is unreachable.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { BASE_HEIGHT, MANUAL_TIP, eventually, root, withStack } from './harness.mjs';

const exec = promisify(execFile);
const npm = (args, cwd, timeout = 240_000) => exec('npm', args, { cwd, timeout, maxBuffer: 64 << 20, env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' } });

async function registryReachable() {
  try {
    await npm(['view', 'vite@8', 'version', '--json'], root, 30_000);
    return true;
  } catch {
    return false;
  }
}

/** Serves `dir` on 127.0.0.1 (a tiny static server, with the wasm MIME type). */
function serveStatic(dir) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json' };
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]));
    if (path.includes('..')) { res.writeHead(400).end(); return; }
    const file = join(dir, path === '/' ? 'index.html' : path);
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
  })));
}

const INDEX_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>dashlight consumer</title></head>
<body><h1>dashlight in a Vite app</h1><p id="state">starting</p><p id="headers"></p><p id="chainlock"></p><pre id="error"></pre>
<script type="module" src="/main.js"></script></body></html>
`;

// What a wallet developer writes: the README's example, with the bridge from the query string.
const MAIN_JS = `import { DashlightClient } from 'dashlight';

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
try {
  const client = await DashlightClient.create({
    network: 'testnet',
    bridges: [params.get('bridge')],
    storageName: params.get('storage') ?? 'consumer',
    ...(params.get('base') ? { baseHeight: Number(params.get('base')) } : {}),
    ...(params.get('timeoutScale') ? { timeoutScale: Number(params.get('timeoutScale')) } : {}),
    ...(params.get('minimumChainWork') ? { minimumChainWork: params.get('minimumChainWork') } : {}),
  });
  client.addEventListener('progress', (event) => {
    const status = event.detail;
    window.consumerStatus = status;
    $('state').textContent = status.state;
    $('state').dataset.state = status.state;
    $('headers').textContent = \`headers \${status.headers.currentHeight} / \${status.headers.targetHeight}\`;
    if (status.chainlocks.lastVerified) $('chainlock').textContent = \`ChainLock \${status.chainlocks.lastVerified.height}\`;
  });
  await client.start();
  window.consumerStarted = true;
} catch (error) {
  $('error').textContent = \`\${error.code ?? 'error'}: \${error.message}\`;
  window.consumerError = String(error.message);
}
`;

// The wallet API as TypeScript sees it: type-checked against js/index.d.ts with tsc --strict.
const CHECK_TS = `import { DashlightClient, DashlightError } from 'dashlight';
import type { InstantLockResult, TransactionProofResult, QuorumKeyResult, PlatformQuorums, BlockHeaderInfo, Status } from 'dashlight';

export async function wallet(client: DashlightClient, lock: Uint8Array, proof: Uint8Array, signal: AbortSignal): Promise<void> {
  const synced: Status = await client.waitSynced({ timeoutMs: 60_000, signal });
  const checked: InstantLockResult = await client.verifyInstantLock(lock);
  const code: 'quorum_unknown' | 'verification_failed' | undefined = checked.code;
  const included: TransactionProofResult = await client.verifyTransactionProof({ txid: checked.txid, blockHash: '00'.repeat(32), proof });
  const branch: TransactionProofResult = await client.verifyTransactionProof({ txid: checked.txid, blockHash: '00'.repeat(32), proof: { branch: [], position: 0 } });
  const proved: TransactionProofResult & { proof: string } = await client.proveTransaction(checked.txid, '00'.repeat(32));
  const key: QuorumKeyResult = await client.quorumPublicKey(6, '00'.repeat(32));
  const keyHex: string | null = key.key;
  const platform: PlatformQuorums | null = await client.platformQuorums();
  const first: string | undefined = platform?.current.data[0]?.quorum_hash;
  client.addEventListener('block', (event) => { const header: BlockHeaderInfo = event.detail; console.log(header.chainLocked); });
  client.addEventListener('instantlock', (event) => { const result: InstantLockResult = event.detail; console.log(result.verified); });
  const error = new DashlightError('not_synced', 'x');
  console.log(synced.state, code, proved.proof, included.chainLocked, branch.height, keyHex, first, error.code);
}
`;

const VITE_CONFIG = `export default {
  optimizeDeps: { exclude: ['dashlight'] },
  worker: { format: 'es' },
};
`;

test('consumer: npm pack → Vite project → build → syncs in Chromium', { timeout: 420_000 }, async (t) => {
  if (!existsSync(`${root}pkg/dashlight_bg.wasm`)) assert.fail('pkg/ is not built: run bash scripts/build-web.sh first');
  if (!await registryReachable()) { t.skip('the npm registry is unreachable: cannot install vite'); return; }
  const dir = await mkdtemp(join(tmpdir(), 'dashlight-consumer-'));
  try {
    const started = Date.now();
    const packed = JSON.parse((await npm(['pack', '--json', '--pack-destination', dir], root)).stdout);
    const tarball = join(dir, packed[0].filename);
    console.log(`packed ${packed[0].filename}: ${packed[0].size} bytes, ${packed[0].entryCount} files`);
    const app = join(dir, 'app');
    await exec('mkdir', ['-p', app]);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'dashlight-consumer', private: true, type: 'module' }, null, 2));
    await writeFile(join(app, 'index.html'), INDEX_HTML);
    await writeFile(join(app, 'main.js'), MAIN_JS);
    await writeFile(join(app, 'vite.config.js'), VITE_CONFIG);
    await writeFile(join(app, 'check.ts'), CHECK_TS);
    await npm(['install', '--no-save', 'vite@8', 'typescript@5', tarball], app);
    await exec(join(app, 'node_modules/.bin/tsc'), ['--noEmit', '--strict', '--skipLibCheck', 'false', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler', '--lib', 'es2022,dom', 'check.ts'], { cwd: app, timeout: 120_000, maxBuffer: 16 << 20 })
      .catch((error) => assert.fail(`tsc on the package's types: ${error.stdout}${error.stderr}`));
    const build = await exec(join(app, 'node_modules/.bin/vite'), ['build'], { cwd: app, timeout: 180_000, maxBuffer: 64 << 20 });
    console.log(build.stdout.split('\n').filter((l) => /dist\/|built in/.test(l)).join('\n'));
    console.log(`pack + install + build: ${((Date.now() - started) / 1000).toFixed(1)} s`);

    await withStack('consumer', async (s) => {
      const peer = await s.replayPeer(MANUAL_TIP);
      const bridge = await s.bridge([peer.p2p]);
      const dist = s.add(await serveStatic(join(app, 'dist')));
      const browser = await s.browser();
      const context = s.add(await browser.newContext());
      const page = await context.newPage();
      const consoleLines = [];
      page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
      await page.goto(`${dist.url}?bridge=${encodeURIComponent(bridge.url())}&storage=consumer-${Date.now()}&base=${BASE_HEIGHT}&timeoutScale=0.02&minimumChainWork=0`);
      const status = await eventually(async () => {
        const st = await page.evaluate(() => window.consumerError ?? window.consumerStatus ?? null);
        if (typeof st === 'string') throw new Error(`the consumer app failed: ${st}`);
        return st && st.state === 'Synced' && st.headers.currentHeight === 905294 ? st : null;
      }, {
        timeoutMs: 150_000,
        describe: async () => `status ${JSON.stringify(await page.evaluate(() => window.consumerStatus ?? null))}\n${consoleLines.slice(-30).join('\n')}`,
      });
      assert.ok(status.headers.currentHeight > BASE_HEIGHT);
      assert.equal(await page.getAttribute('#state', 'data-state'), 'Synced');
      console.log(`consumer app Synced at ${status.headers.currentHeight} (${status.masternodes.quorumsVerified} quorums verified, ${status.masternodes.checkedInWorkers} checked in workers), ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
      // The bundled checking workers (js/check-worker.js, nested in the client's worker) ran.
      assert.ok(status.masternodes.checkedInWorkers > 0, `no quorum check answered by a checking worker: ${JSON.stringify(status.masternodes)}`);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
