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
  $('peer-count').textContent = status.peers;
  const cl = status.chainlocks.lastVerified;
  if (cl) $('chainlock').textContent = `block ${cl.height} ${cl.blockHash.slice(0, 16)}… signed by LLMQ type ${cl.llmqType} quorum ${cl.quorumHash.slice(0, 16)}…`;
  if (status.lastError) showError(`${status.lastError.code}: ${status.lastError.message}`);
}

function showError(message) {
  $('error').hidden = !message;
  $('error').textContent = message ?? '';
}

async function refreshLists() {
  if (!client) return;
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
  c.addEventListener('log', (e) => log(e.detail.level, e.detail.message));
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
    clock: params.get('clockStart') ? { startUnix: Number(params.get('clockStart')), rate: Number(params.get('clockRate') ?? 1) } : undefined,
  });
  wire(client);
  window.dashlight = client;
  window.dashlightTimeline = timeline;
  return client;
}

$('start').addEventListener('click', async () => {
  try {
    showError(null);
    const c = await ensureClient();
    await c.start();
    $('start').disabled = true; $('stop').disabled = false; $('drop').disabled = false;
    $('network').disabled = true; $('bridges').disabled = true;
    log('info', 'started');
  } catch (error) { showError(`${error.code ?? 'error'}: ${error.message}`); }
});
$('stop').addEventListener('click', async () => {
  await client?.stop();
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
setInterval(async () => { if (client) { try { showStatus(await client.status()); } catch { /* worker busy */ } } }, 1000);
if (params.get('autostart') === '1') $('start').click();
window.dashlightReady = true;
