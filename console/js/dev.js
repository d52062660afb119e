// The developer view: management through the server's HTTP endpoints with
// the bearer token (kept in this tab's sessionStorage only) or the browser's
// client certificate. Upload (PUT apps/NAME), replace and unload (DELETE),
// per-app metrics and the live log (server-sent events).
import { WK, get, el, errorFrom } from './api.js';
import { lineChart } from './chart.js';
import { sha256, hex } from './verify.js';

const $ = (id) => document.getElementById(id);
const KEY = 'enclave-os.token';
const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

let wired = false;
let unlocked = false;
let file = null;
let provenance = null;
let timers = [];
let logAbort = null;
let logPaused = false;
let logLastId = '';

function token() {
  return sessionStorage.getItem(KEY) || '';
}
function authHeaders() {
  const t = token();
  return t ? { authorization: 'Bearer ' + t } : {};
}

function setStatus(node, kind, text) {
  node.className = 'status ' + kind;
  node.textContent = text;
}

// Probes management access with the log endpoint, which is management only.
async function probe() {
  const r = await fetch(WK + 'logs?probe=1', { headers: authHeaders(), cache: 'no-store' });
  if (r.ok) return;
  throw errorFrom(r.status, await r.text(), 'logs');
}

async function unlock(viaCert) {
  const st = $('auth-status');
  if (!viaCert && !token()) {
    lock();
    setStatus(st, 'error', 'Refused: management needs the server\'s token (or a trusted client certificate). Enter the token to continue.');
    return;
  }
  setStatus(st, 'pending', 'Checking access…');
  try {
    await probe();
  } catch (e) {
    lock();
    setStatus(st, 'error', e.status === 401 || e.status === 403
      ? `Refused by the server: ${e.message}`
      : `The server could not be reached: ${e.message}`);
    return;
  }
  unlocked = true;
  setStatus(st, 'ok', viaCert && !token() ? 'Authorised by your client certificate.' : 'Authorised with the token for this tab.');
  $('auth-forget').hidden = !token();
  $('dev-body').hidden = false;
  startLive();
}

function lock() {
  unlocked = false;
  $('dev-body').hidden = true;
  stopLive();
}

function parseEnv(text) {
  const env = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`environment line ${i + 1} is not KEY=value`);
    env[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return env;
}

// JSON with every non-ASCII character escaped: header values must be Latin-1.
function asciiJson(v) {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

async function chooseFile(f) {
  file = f;
  const info = $('file-info');
  if (!f) {
    info.textContent = 'No file chosen.';
    return;
  }
  const bytes = new Uint8Array(await f.arrayBuffer());
  const magic = bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
  file.sha256 = hex(await sha256(bytes));
  info.textContent = `${f.name}: ${bytes.length.toLocaleString()} bytes, SHA-256 ${file.sha256}` +
    (magic ? (bytes[4] === 0x0d ? ' (component)' : ' (a core module: the server accepts components only)') : ' (not WebAssembly)');
  if (!$('name').value) $('name').value = f.name.replace(/\.wasm$/, '').toLowerCase().replace(/[^a-z0-9._-]/g, '-').replace(/^[^a-z0-9]+/, '');
  showProvenance();
}

async function chooseProvenance(f) {
  provenance = null;
  if (f) {
    try {
      provenance = JSON.parse(await f.text());
    } catch (e) {
      provenance = { error: `not JSON: ${e.message}` };
    }
  }
  showProvenance();
}

function showProvenance() {
  const box = $('prov-info');
  box.replaceChildren();
  box.hidden = !provenance;
  if (!provenance) return;
  if (provenance.error) {
    box.append(el('p', { class: 'status error', text: `Provenance ${provenance.error}` }));
    return;
  }
  const out = provenance.output || {};
  const matches = file && file.sha256 && out.sha256 === file.sha256;
  const dl = el('dl', { class: 'facts' });
  const fact = (k, v) => dl.append(el('dt', { text: k }), el('dd', {}, el('code', { class: 'hash', text: String(v) })));
  fact('Source tree', provenance.source && provenance.source.tree_sha256 || '?');
  fact('Output', out.sha256 || '?');
  fact('Built with', Object.entries(provenance.toolchain || {}).map(([k, v]) => `${k} ${v}`).join(', ') || '?');
  fact('SOURCE_DATE_EPOCH', provenance.source_date_epoch ?? '?');
  box.append(el('p', { class: 'status ' + (matches ? 'ok' : 'error'),
    text: !file ? 'Choose the component this provenance describes.'
      : matches ? 'The component\'s SHA-256 is the provenance\'s output hash.'
        : 'The component\'s SHA-256 differs from the provenance\'s output hash.' }), dl);
}

function upload(ev) {
  ev.preventDefault();
  const res = $('upload-result');
  const name = $('name').value.trim();
  if (!file) return setStatus(res, 'error', 'Choose a .wasm component first.');
  if (!NAME_RE.test(name)) return setStatus(res, 'error', 'The name must be 1 to 63 characters: a-z, 0-9, ".", "_" or "-", starting with a letter or digit.');
  let env;
  try {
    env = parseEnv($('env').value);
  } catch (e) {
    return setStatus(res, 'error', e.message);
  }
  for (const id of ['fuel', 'memory']) {
    if ($(id).value && !/^[0-9]+$/.test($(id).value.trim())) return setStatus(res, 'error', `${$(id).labels[0].textContent} must be a whole number.`);
  }
  const existing = [...$('dev-apps').tBodies[0].rows].some((r) => r.dataset.app === name);
  const go = () => send(name, env);
  if (existing) confirmAction(`Replace the running app "${name}" with ${file.name}? Requests in flight finish on the old code.`, false, go);
  else go();
}

function send(name, env) {
  const res = $('upload-result');
  const xhr = new XMLHttpRequest();
  xhr.open('PUT', WK + 'apps/' + encodeURIComponent(name));
  for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
  xhr.setRequestHeader('content-type', 'application/wasm');
  const route = $('route').value.trim();
  const host = $('hostname').value.trim();
  if (route) xhr.setRequestHeader('x-enclave-os-route', route);
  if (host) xhr.setRequestHeader('x-enclave-os-hostname', host);
  if (Object.keys(env).length) xhr.setRequestHeader('x-enclave-os-env', asciiJson(env));
  if ($('fuel').value.trim()) xhr.setRequestHeader('x-enclave-os-max-fuel', $('fuel').value.trim());
  if ($('memory').value.trim()) xhr.setRequestHeader('x-enclave-os-max-memory-mb', $('memory').value.trim());
  // The provenance travels with the component when it describes it; the
  // server keeps it beside the app for the attestation view.
  if (provenance && !provenance.error && provenance.output && provenance.output.sha256 === file.sha256) {
    xhr.setRequestHeader('x-enclave-os-provenance', asciiJson(provenance));
  }
  const bar = $('progress');
  bar.hidden = false;
  bar.value = 0;
  $('deploy').disabled = true;
  setStatus(res, 'pending', `Uploading ${file.name}…`);
  xhr.upload.onprogress = (e) => {
    if (!e.lengthComputable) return;
    bar.value = (100 * e.loaded) / e.total;
    $('progress-text').textContent = `${Math.round(bar.value)}%`;
  };
  xhr.upload.onload = () => {
    $('progress-text').textContent = 'Uploaded; the server is validating the component…';
  };
  xhr.onerror = () => {
    $('deploy').disabled = false;
    setStatus(res, 'error', 'The upload failed: the connection was lost before the server answered.');
  };
  xhr.onload = () => {
    $('deploy').disabled = false;
    $('progress-text').textContent = '';
    bar.hidden = true;
    if (xhr.status === 200) {
      const doc = JSON.parse(xhr.responseText);
      const a = doc.app;
      setStatus(res, 'ok', `Loaded "${a.name}" at ${a.route}${a.hostname ? ' (' + a.hostname + ')' : ''}, code hash ${a.code_hash}. New configuration root ${doc.merkle_root}.`);
      res.dataset.loaded = a.name;
      refreshApps();
    } else {
      const e = errorFrom(xhr.status, xhr.responseText, 'upload');
      setStatus(res, 'error', `The server refused the upload (${xhr.status}${e.code ? ', ' + e.code : ''}): ${e.message}`);
      if (xhr.status === 401) lock();
    }
  };
  xhr.send(file);
}

function confirmAction(text, withErase, onOk) {
  const d = $('confirm');
  $('confirm-text').textContent = text;
  $('confirm-extra').hidden = !withErase;
  $('confirm-erase').checked = false;
  d.returnValue = '';
  d.addEventListener('close', () => {
    if (d.returnValue === 'ok') onOk($('confirm-erase').checked);
  }, { once: true });
  d.showModal();
  $('confirm-cancel').focus();
}

async function unload(name, erase) {
  const res = $('upload-result');
  const headers = authHeaders();
  if (erase) headers['x-enclave-os-erase'] = 'true';
  const r = await fetch(WK + 'apps/' + encodeURIComponent(name), { method: 'DELETE', headers });
  const text = await r.text();
  if (r.ok) setStatus(res, 'ok', `Unloaded "${name}"${erase ? ' and erased its data' : ''}.`);
  else setStatus(res, 'error', `The server refused to unload "${name}" (${r.status}): ${errorFrom(r.status, text).message}`);
  refreshApps();
}

let appNames = [];
async function refreshApps() {
  let doc;
  try {
    doc = await (await get('apps')).json();
  } catch (e) {
    return;
  }
  const tb = $('dev-apps').tBodies[0];
  tb.replaceChildren();
  appNames = (doc.apps || []).map((a) => a.name);
  if (!doc.apps.length) tb.append(el('tr', {}, el('td', { colspan: '4', class: 'muted', text: 'No app is loaded yet.' })));
  for (const a of doc.apps || []) {
    tb.append(el('tr', { 'data-app': a.name },
      el('th', { scope: 'row', text: a.name }),
      el('td', {}, el('code', { text: a.route + (a.hostname ? ` · ${a.hostname}` : '') })),
      el('td', {}, el('code', { class: 'hash', title: a.code_hash, text: a.code_hash.slice(0, 16) + '…' })),
      el('td', { class: 'row-actions' },
        el('button', { type: 'button', class: 'secondary', 'aria-label': `Replace ${a.name}`, text: 'Replace',
          onclick: () => {
            $('name').value = a.name;
            $('route').value = a.route;
            $('hostname').value = a.hostname || '';
            $('file').focus();
          } }),
        el('button', { type: 'button', class: 'danger', 'aria-label': `Unload ${a.name}`, text: 'Unload',
          onclick: () => confirmAction(`Unload "${a.name}"? It stops answering at ${a.route} at once.`, true, (erase) => unload(a.name, erase)) }))));
  }
}

// Metrics: Prometheus text sampled every 2 s; rates from consecutive samples.
const HISTORY = 60;
const series = new Map();
let prev = null;

function parseProm(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const app = m[3] && /app="([^"]*)"/.exec(m[3]);
    const key = m[1] + (app ? '|' + app[1] : '') + (m[3] && !app ? '{' + m[3] + '}' : '');
    out.set(key, Number(m[4]));
  }
  return out;
}

async function sampleMetrics() {
  let cur;
  try {
    cur = { t: performance.now(), m: parseProm(await (await get('metrics')).text()) };
  } catch (e) {
    return;
  }
  if (prev) {
    const dt = (cur.t - prev.t) / 1000;
    const rate = (k) => Math.max(0, ((cur.m.get(k) ?? 0) - (prev.m.get(k) ?? 0)) / dt);
    const globalLat = () => {
      const n = (cur.m.get('enclave_os_request_duration_seconds_count') ?? 0) - (prev.m.get('enclave_os_request_duration_seconds_count') ?? 0);
      const s = (cur.m.get('enclave_os_request_duration_seconds_sum') ?? 0) - (prev.m.get('enclave_os_request_duration_seconds_sum') ?? 0);
      return n > 0 ? (1000 * s) / n : 0;
    };
    for (const name of appNames) {
      let s = series.get(name);
      if (!s) series.set(name, (s = { rps: [], lat: [], err: [], fuel: [], perApp: false }));
      const n = rate('enclave_os_app_requests_total|' + name);
      const sumKey = 'enclave_os_app_time_seconds_total|' + name;
      s.perApp = cur.m.has(sumKey);
      const lat = s.perApp ? (n > 0 ? (1000 * rate(sumKey)) / n : 0) : globalLat();
      push(s.rps, n);
      push(s.lat, lat);
      push(s.err, rate('enclave_os_app_errors_total|' + name));
      push(s.fuel, rate('enclave_os_app_fuel_total|' + name));
    }
    renderMetrics();
  }
  prev = cur;
}

function push(arr, v) {
  arr.push(v);
  if (arr.length > HISTORY) arr.shift();
}

function renderMetrics() {
  const box = $('metrics');
  box.replaceChildren();
  if (!appNames.length) box.append(el('p', { class: 'muted', text: 'No app to chart.' }));
  for (const name of appNames) {
    const s = series.get(name);
    if (!s) continue;
    box.append(el('div', { class: 'metric-app', 'data-app': name },
      el('h3', { text: name }),
      el('div', { class: 'charts' },
        lineChart('Requests', 'req/s', s.rps),
        lineChart(s.perApp ? 'Latency' : 'Latency (server)', 'ms', s.lat),
        lineChart('Errors', 'err/s', s.err),
        lineChart('Fuel', 'units/s', s.fuel))));
  }
}

// The log: text/event-stream read with fetch (EventSource cannot send the
// authorization header). The server answers what it has after Last-Event-ID
// and closes; the stream is reopened after the retry delay it asks for.
async function tailLog() {
  const state = $('log-state');
  let retry = 1000;
  while (unlocked && !logPaused) {
    logAbort = new AbortController();
    try {
      const headers = authHeaders();
      if (logLastId) headers['last-event-id'] = logLastId;
      const r = await fetch(WK + 'logs' + (logLastId ? '?after=' + encodeURIComponent(logLastId) : ''),
        { headers, cache: 'no-store', signal: logAbort.signal });
      if (!r.ok) {
        const e = errorFrom(r.status, await r.text());
        state.textContent = `Log refused (${r.status}): ${e.message}`;
        if (r.status === 401) return lock();
        await sleep(5000);
        continue;
      }
      state.textContent = 'Following';
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const evText = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = { data: [] };
          for (const line of evText.split('\n')) {
            const c = line.indexOf(':');
            const f = c < 0 ? line : line.slice(0, c);
            const v = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
            if (f === 'data') ev.data.push(v);
            else if (f === 'id') ev.id = v;
            else if (f === 'retry' && /^\d+$/.test(v)) retry = Number(v);
          }
          if (ev.id !== undefined) logLastId = ev.id;
          if (ev.data.length) appendLog(ev.data.join('\n'));
        }
      }
    } catch (e) {
      if (e.name === 'AbortError') return;
      state.textContent = `Log connection lost: ${e.message}; retrying`;
    }
    await sleep(retry);
  }
}

function appendLog(line) {
  const pre = $('log');
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.append(line + '\n');
  while (pre.childNodes.length > 2000) pre.firstChild.remove();
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startLive() {
  stopLive();
  refreshApps().then(sampleMetrics);
  timers.push(setInterval(sampleMetrics, 2000), setInterval(refreshApps, 10000));
  logPaused = false;
  $('log-toggle').textContent = 'Pause';
  $('log-toggle').setAttribute('aria-pressed', 'false');
  tailLog();
}

function stopLive() {
  for (const t of timers) clearInterval(t);
  timers = [];
  if (logAbort) logAbort.abort();
}

function wire() {
  wired = true;
  $('auth-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $('token').value.trim();
    if (t) sessionStorage.setItem(KEY, t);
    $('token').value = '';
    unlock(false);
  });
  $('auth-mtls').addEventListener('click', () => unlock(true));
  $('auth-forget').addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    $('auth-forget').hidden = true;
    lock();
    setStatus($('auth-status'), 'pending', 'The token was removed from this tab.');
  });
  $('file').addEventListener('change', () => chooseFile($('file').files[0] || null));
  $('prov').addEventListener('change', () => chooseProvenance($('prov').files[0] || null));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const files = [...e.dataTransfer.files];
    const wasm = files.find((f) => !f.name.endsWith('.json'));
    const prov = files.find((f) => f.name.endsWith('.json'));
    if (prov) chooseProvenance(prov);
    if (wasm) chooseFile(wasm);
  });
  $('upload-form').addEventListener('submit', upload);
  $('log-toggle').addEventListener('click', () => {
    logPaused = !logPaused;
    $('log-toggle').textContent = logPaused ? 'Resume' : 'Pause';
    $('log-toggle').setAttribute('aria-pressed', String(logPaused));
    $('log-state').textContent = logPaused ? 'Paused' : 'Following';
    if (logPaused && logAbort) logAbort.abort();
    if (!logPaused) tailLog();
  });
  $('log-clear').addEventListener('click', () => $('log').replaceChildren());
}

export function showDeveloper() {
  if (!wired) wire();
  if (!unlocked) unlock(false);
}

export function hideDeveloper() {
  if (wired) lock();
}
