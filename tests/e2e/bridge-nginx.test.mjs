// Deployment: Debian's nginx terminates TLS (a certificate made here) and
// balances wss:// across two bridge processes (bridge/deploy/nginx.conf);
// the dev page in Chromium syncs through it to the replay peer, the bridge
// carrying the sync is killed mid-sync, and the client carries on through
// the other one. nginx runs on loopback ports with its own prefix in a
// temporary folder, not as the system service.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, MANUAL_TIP, driveToChainLock, eventually, freePort, root, waitForPort, withStack } from './harness.mjs';

const NGINX = process.env.NGINX ?? '/usr/sbin/nginx';

/** A self-signed certificate for 127.0.0.1 and the base64 SHA-256 of its public key. */
function makeCertificate(dir) {
  const key = `${dir}/key.pem`;
  const cert = `${dir}/cert.pem`;
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'extendedKeyUsage=serverAuth',
    '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const publicKey = execFileSync('openssl', ['x509', '-in', cert, '-pubkey', '-noout']);
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: publicKey });
  const spki = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der }).toString('base64');
  return { key, cert, spki };
}

/** Starts nginx with bridge/deploy/nginx.conf filled in; a handle with stop(). */
async function startNginx(dir, port, bridgePorts, certificate) {
  const conf = readFileSync(`${root}bridge/deploy/nginx.conf`, 'utf8')
    .replaceAll('@PREFIX@', dir)
    .replaceAll('@PORT@', String(port))
    .replaceAll('@BRIDGE1@', String(bridgePorts[0]))
    .replaceAll('@BRIDGE2@', String(bridgePorts[1]))
    .replaceAll('@CERT@', certificate.cert)
    .replaceAll('@KEY@', certificate.key);
  writeFileSync(`${dir}/nginx.conf`, conf);
  const child = spawn(NGINX, ['-p', `${dir}/`, '-c', `${dir}/nginx.conf`, '-e', 'stderr'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  child.stdout.on('data', (c) => output.push(c.toString()));
  child.stderr.on('data', (c) => output.push(c.toString()));
  const handle = {
    name: 'nginx',
    child,
    output: () => output.join(''),
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
      child.once('exit', () => resolve());
      child.kill('SIGQUIT');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    }),
  };
  try {
    await waitForPort(port, 15_000, child);
  } catch (error) {
    await handle.stop();
    throw new Error(`${error.message}\n${handle.output()}`);
  }
  return handle;
}

/** A bridge's /metrics samples, as a map of `name{labels}` → number. */
async function metrics(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const samples = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

test('wss:// through nginx to two bridges survives the loss of one', { timeout: 240_000 }, () => withStack('bridge-nginx', async (s) => {
  assert.ok(existsSync(NGINX), `${NGINX} is missing: apt-get install nginx (scripts/setup.sh)`);
  const dir = mkdtempSync(`${tmpdir()}/dashlight-nginx-`);
  s.add({ stop: () => rmSync(dir, { recursive: true, force: true }) });
  const certificate = makeCertificate(dir);

  const peer = await s.replayPeer(MANUAL_TIP);
  const healthPorts = [await freePort(), await freePort()];
  const bridges = [];
  for (const health of healthPorts) {
    bridges.push(await s.bridge([peer.p2p], ['--trust-proxy', '--health-listen', `127.0.0.1:${health}`]));
  }
  const port = await freePort();
  const nginx = s.add(await startNginx(dir, port, bridges.map((b) => b.port), certificate));

  const server = await s.page();
  // Chromium trusts exactly this certificate's key, nothing else.
  const browser = s.add(await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${certificate.spki}`],
  }));
  const url = `wss://127.0.0.1:${port}/peer0`;
  const dev = await s.devPage(browser, server.url, { bridges: url, storage: `e2e-nginx-${Date.now()}`, timeoutScale: 0.02, autostart: 1 });

  // Mid-sync: headers are moving and the chain is not synced yet.
  const mid = await eventually(async () => {
    const status = await dev.status();
    return status && status.state !== 'Synced' && status.peers >= 1 && status.headers.currentHeight > 0 ? status : null;
  }, { timeoutMs: 60_000, everyMs: 50, describe: async () => JSON.stringify(await dev.status()) });
  const carrying = await eventually(async () => {
    for (const [i, health] of healthPorts.entries()) {
      if ((await metrics(health)).get('dashlight_bridge_relays') === 1) return { i };
    }
    return null;
  }, { timeoutMs: 10_000, describe: () => 'no bridge relays the page' });
  const killed = bridges[carrying.i];
  const survivor = bridges[1 - carrying.i];
  const survivorHealth = healthPorts[1 - carrying.i];
  console.log(`killing bridge ${carrying.i + 1} at headers ${mid.headers.currentHeight}/${mid.headers.targetHeight}, state ${mid.state}`);
  killed.child.kill('SIGKILL');
  await killed.stop();

  const started = Date.now();
  await eventually(async () => (await metrics(survivorHealth)).get('dashlight_bridge_relays') === 1,
    { timeoutMs: 90_000, describe: () => 'the surviving bridge does not relay the page' });
  console.log(`reconnected through the other bridge ${((Date.now() - started) / 1000).toFixed(1)} s after the kill`);

  const status = await driveToChainLock(dev, peer, 150_000);
  assert.equal(status.state, 'Synced');
  assert.equal(status.chainlocks.state, 'Synced');
  const after = await metrics(survivorHealth);
  assert.ok(after.get('dashlight_bridge_bytes_total{direction="to_client"}') > 0);
  assert.equal(after.get('dashlight_bridge_clients'), 1, 'the client is counted under its forwarded address');
  assert.equal(survivor.child.exitCode, null, 'the surviving bridge still runs');
  assert.equal(nginx.child.exitCode, null, 'nginx still runs');
}));
