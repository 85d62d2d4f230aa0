// The dev page: drives a DashlightClient and shows everything it reports.
import { DashlightClient } from '/js/index.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const defaultBridge = params.get('bridge') ?? `ws://${location.hostname}:${params.get('bridgePort') ?? '8546'}/`;
$('bridges').value = params.get('bridges') ?? defaultBridge;
if (params.get('network')) $('network').value = params.get('network');

let client = null;
const started = performance.now();
const timeline = [];

function log(level, message) {
  const line = `${new Date().toISOString().slice(11, 23)} ${level.padEnd(5)} ${message}\n`;
  const el = $('log');
  el.textContent = (el.textContent + line).split('\n').slice(-400).join('\n');
  el.scrollTop = el.scrollHeight;
}

function setState(id, state) {
  const el = $(id);
  el.textContent = state;
  el.dataset.state = state;
}

function showStatus(status) {
  window.dashlightStatus = status;
  setState('aggregate', status.state);
  for (const [key, prefix] of [['headers', 'headers'], ['masternodes', 'mn'], ['chainlocks', 'cl']]) {
    setState(`${prefix}-state`, status[key].state);
  }
  $('headers-bar').value = status.headers.percent;
  $('headers-height').textContent = status.headers.currentHeight;
  $('headers-target').textContent = status.headers.targetHeight || '?';
  $('headers-percent').textContent = status.headers.percent.toFixed(1);
  const mn = status.masternodes;
  $('mn-bar').value = mn.percent;
  $('mn-height').textContent = mn.currentHeight || '–';
  $('mn-diffs').textContent = mn.diffsProcessed;
  $('mn-qrinfos').textContent = mn.qrinfosRequested;
  $('mn-verified').textContent = mn.quorumsVerified;
  $('mn-unverified').textContent = mn.quorumsUnverified;
  $('mn-pending').textContent = mn.quorumsPending;
  $('peer-count').textContent = status.peers;
  const cl = status.chainlocks.lastVerified;
  if (cl) $('chainlock').textContent = `block ${cl.height} ${cl.blockHash.slice(0, 16)}… signed by LLMQ type ${cl.llmqType} quorum ${cl.quorumHash.slice(0, 16)}…`;
  if (status.lastError) showError(`${status.lastError.code}: ${status.lastError.message}`);
}

function showError(message) {
  $('error').hidden = !message;
  $('error').textContent = message ?? '';
}

function showInstantLock(lock) {
  const li = document.createElement('li');
  li.dataset.txid = lock.txid;
  li.dataset.verified = String(lock.verified);
  const verdict = lock.verified
    ? `verified by quorum ${lock.quorumHash.slice(0, 16)}… (cycle ${lock.cycleHeight})`
    : `${lock.invalid ? 'invalid' : 'not verifiable'}: ${lock.reason}`;
  li.textContent = `${lock.txid.slice(0, 16)}… ${lock.outpoints.length} input(s) — ${verdict}`;
  const old = [...$('instantlocks').children].find((e) => e.dataset.txid === lock.txid);
  if (old) old.replaceWith(li); else $('instantlocks').append(li);
  $('islock-count').textContent = $('instantlocks').children.length;
  log(lock.verified ? 'info' : 'warn', `InstantSend lock ${lock.txid}: ${verdict}`);
}

async function refreshPlatform() {
  const platform = await client.platformQuorums();
  if (!platform) return;
  const rows = [
    ...platform.current.data.map((q) => ['current', q]),
    ...platform.previous.data.quorums.map((q) => ['previous', q]),
  ];
  $('platform-count').textContent = platform.current.data.length;
  $('platform-note').textContent = `LLMQ type ${platform.llmq_type}, list at ${platform.height}: verified quorums only, as the Platform SDK's quorum endpoint lists them`;
  $('platform-quorums').querySelector('tbody').innerHTML = rows.map(([set, q]) => `<tr><td>${set}</td><td title="${q.key}">${q.quorum_hash.slice(0, 16)}…</td><td>${q.height}</td><td>${q.valid_members_count}</td></tr>`).join('');
}

async function refreshLists() {
  if (!client) return;
  refreshPlatform().catch(() => {});
  const [list, quorums] = await Promise.all([client.masternodeList(), client.quorums()]);
  $('mn-count').textContent = list.length;
  const byType = {};
  for (const mn of list) byType[mn.type] = (byType[mn.type] ?? 0) + 1;
  $('mn-types').innerHTML = Object.entries(byType).map(([t, n]) => `<li>${t}: ${n} (${list.filter((m) => m.type === t && m.valid).length} valid)</li>`).join('');
  $('quorum-count').textContent = quorums.length;
  const qt = {};
  for (const q of quorums) {
    qt[q.llmqName] ??= { active: 0, verified: 0 };
    qt[q.llmqName].active += 1;
    if (q.verified) qt[q.llmqName].verified += 1;
  }
  $('quorum-types').querySelector('tbody').innerHTML = Object.entries(qt).sort().map(([name, c]) => `<tr><td>${name}</td><td>${c.active}</td><td>${c.verified}</td></tr>`).join('');
}

function wire(c) {
  c.addEventListener('progress', (e) => showStatus(e.detail));
  c.addEventListener('statechange', (e) => {
    const { manager, from, to, cause, at } = e.detail;
    timeline.push({ ...e.detail, receivedAt: performance.now() });
    const li = document.createElement('li');
    li.textContent = `${(at / 1000).toFixed(2)}s ${manager}: ${from} → ${to}${cause ? ` (${cause})` : ''}`;
    $('timeline').append(li);
    $('timeline').scrollTop = $('timeline').scrollHeight;
    log('info', li.textContent);
    if (manager === 'masternodes' && to === 'Synced') refreshLists();
  });
  c.addEventListener('peers', (e) => {
    $('peer-count').textContent = e.detail.connected;
    $('peers').innerHTML = e.detail.peers.map((p) => `<li>${p.url} — ${p.state}${p.userAgent ? ` ${p.userAgent}` : ''}${p.height ? ` @${p.height}` : ''}</li>`).join('');
  });
  c.addEventListener('chainlock', (e) => log('info', `ChainLock verified at ${e.detail.height}`));
  c.addEventListener('instantlock', (e) => showInstantLock(e.detail));
  c.addEventListener('log', (e) => log(e.detail.level, e.detail.message));
  c.addEventListener('storage', (e) => {
    const s = e.detail;
    if (s.state === 'ok') log('info', `storage: saving works, stored up to ${s.storedHeight}`);
    else log('warn', `storage: saving fails (${s.failedSaves}× in a row, stored up to ${s.storedHeight}, ${s.unsavedHeaders} headers held): ${s.error}`);
  });
  c.addEventListener('storagelock', (e) => {
    if (e.detail.state === 'waiting') {
      log('warn', `another tab syncs ${e.detail.storageName}: this one takes over when it closes`);
      return;
    }
    log('info', `took over syncing ${e.detail.storageName}`);
    showError(null);
    $('start').disabled = true; $('stop').disabled = false; $('drop').disabled = false;
    $('network').disabled = true; $('bridges').disabled = true;
  });
  c.addEventListener('error', (e) => { log('error', `${e.detail.code}: ${e.detail.message}`); });
}

async function ensureClient() {
  if (client) return client;
  const bridges = $('bridges').value.split(',').map((s) => s.trim()).filter(Boolean);
  client = await DashlightClient.create({
    network: $('network').value,
    bridges,
    storageName: params.get('storage') ?? undefined,
    baseHeight: params.get('base') ? Number(params.get('base')) : undefined,
    timeoutScale: params.get('timeoutScale') ? Number(params.get('timeoutScale')) : undefined,
    checkWorkers: params.get('checkWorkers') ? Number(params.get('checkWorkers')) : undefined,
    // Against the replay peer (`npm start`, the e2e tests) the URL lowers the floor with
    // `minimumChainWork=0`: the captured testnet headers end far below Dash Core's
    // nMinimumChainWork, so under the default floor they would never be reported as synced.
    minimumChainWork: params.get('minimumChainWork') ?? undefined,
    clock: params.get('clockStart')
      ? { startUnix: Number(params.get('clockStart')), rate: Number(params.get('clockRate') ?? 1) }
      : undefined,
  });
  wire(client);
  window.dashlight = client;
  window.dashlightTimeline = timeline;
  return client;
}

$('start').addEventListener('click', async () => {
  try {
    showError(null);
    // The badge says what is happening from the first moment, not "not started".
    setState('aggregate', 'Starting');
    const c = await ensureClient();
    await c.start();
    showStatus(await c.status());
    $('start').disabled = true; $('stop').disabled = false; $('drop').disabled = false;
    $('network').disabled = true; $('bridges').disabled = true;
    log('info', 'started');
  } catch (error) {
    setState('aggregate', error.code === 'storage_locked' ? 'Waiting' : 'Error');
    showError(`${error.code ?? 'error'}: ${error.message}`);
  }
});
$('stop').addEventListener('click', async () => {
  await client?.stop();
  setState('aggregate', 'Stopped');
  $('start').disabled = false; $('stop').disabled = true; $('drop').disabled = true;
  log('info', 'stopped');
});
$('drop').addEventListener('click', async () => { await client?.dropConnections(); log('warn', 'connections dropped'); });
$('clear').addEventListener('click', async () => {
  try {
    const c = await ensureClient();
    await c.clearStorage();
    log('warn', 'storage cleared');
    $('start').disabled = false; $('stop').disabled = true;
  } catch (error) { showError(`${error.code ?? 'error'}: ${error.message}`); }
});
const showOnline = () => { $('online').textContent = navigator.onLine ? 'online' : 'offline'; $('online').classList.toggle('offline', !navigator.onLine); };
addEventListener('online', showOnline);
addEventListener('offline', showOnline);
showOnline();
let stopped = false;
$('stop').addEventListener('click', () => { stopped = true; });
$('start').addEventListener('click', () => { stopped = false; });
setInterval(async () => { if (client && !stopped) { try { showStatus(await client.status()); } catch { /* not started yet */ } } }, 1000);
if (params.get('autostart') === '1') $('start').click();
window.dashlightReady = true;
