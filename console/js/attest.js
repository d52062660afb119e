// The attestation view: fetches the manifest, apps, certificate and the
// console's own asset list, runs verify.js's checks and shows the result.
import { get, el } from './api.js';
import { verifyAll, hex } from './verify.js';

let loaded = false;

// The per-app leaves after code hash, route and hostname (SPEC 5.2): the
// browser shows their hashes, commitments to values it does not see.
const COMMITMENTS = {
  env: 'Environment (hash)',
  config: 'Config (hash)',
  outbound: 'Allow-list (hash)',
  auth: 'Caller policy (hash)',
  secrets: 'Secrets (hash)',
  limits: 'Limits (hash)',
};

const $ = (id) => document.getElementById(id);

// A hash shown in full, breakable, with its full value as title for copying.
function hashCode(h) {
  return el('code', { class: 'hash', title: h, text: h });
}

async function fetchConsole() {
  const listing = await (await get('console/assets.sha256')).text();
  const files = [];
  for (const line of listing.split('\n')) {
    const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (!m) continue;
    const bytes = new Uint8Array(await (await get('console/' + m[2])).arrayBuffer());
    files.push({ sha256: m[1], path: m[2], bytes });
  }
  return { listing, files };
}

export async function loadAttestation() {
  const [manifest, manifestJson, chainPem, apps, consoleFiles] = await Promise.all([
    get('manifest?format=binary').then((r) => r.arrayBuffer()).then((b) => new Uint8Array(b)),
    get('manifest').then((r) => r.json()),
    get('certificate').then((r) => r.text()),
    get('apps').then((r) => r.json()),
    fetchConsole().catch(() => null),
  ]);
  return verifyAll({ manifest, manifestJson, chainPem, apps: apps.apps || [], console: consoleFiles });
}

function renderChecks(res) {
  const ul = $('checks');
  ul.replaceChildren();
  for (const c of res.checks) {
    ul.append(el('li', { class: c.ok ? 'ok' : 'fail', 'data-check': c.id },
      el('span', { class: 'mark', 'aria-hidden': 'true', text: c.ok ? '✓' : '✗' }),
      el('span', { class: 'sr-only', text: c.ok ? 'Passed: ' : 'Failed: ' }),
      el('span', { class: 'label', text: c.label }),
      el('span', { class: 'detail', text: c.detail || '' })));
  }
}

// The provenance a developer uploaded with the app: what it claims, and
// whether its output hash is the code hash the server attests. The claim
// itself is not attested: rebuild the source to check it.
function provenanceFacts(fact, a) {
  let p;
  try {
    p = JSON.parse(a.provenance);
  } catch (e) {
    fact('Provenance', el('span', { class: 'muted', text: 'unreadable' }));
    return;
  }
  const out = (p.output && p.output.sha256) || '';
  const same = out === a.code_hash;
  const tools = Object.entries(p.toolchain || {}).filter(([k]) => k !== 'builder' && !k.endsWith('sha256'))
    .map(([k, v]) => `${k} ${v}`).join(', ');
  fact('Built from', hashCode((p.source && p.source.tree_sha256) || '?'));
  fact('Toolchain', el('span', { text: tools || '?' }));
  fact('Provenance', el('span', { class: same ? 'good-text' : 'bad-text',
    text: same ? '✓ output hash = code hash (uploaded, not attested)' : '✗ its output hash is not this code hash' }));
}

function renderApps(res) {
  const box = $('apps');
  box.replaceChildren();
  if (!res.apps.length) {
    box.append(el('p', { class: 'muted', text: 'No app is loaded.' }));
    return;
  }
  for (const row of res.apps) {
    const a = row.app;
    const dl = el('dl', { class: 'facts' });
    const fact = (k, v) => dl.append(el('dt', { text: k }), el('dd', {}, v));
    fact('Route', el('code', { text: a.route }));
    fact('Hostname', a.hostname ? el('code', { text: a.hostname }) : el('span', { class: 'muted', text: 'none' }));
    fact('Code hash', hashCode(a.code_hash));
    if (a.tier !== undefined && a.tier !== null) fact('Tier', el('span', { text: String(a.tier) }));
    if (a.size !== undefined) fact('Size', el('span', { text: `${(a.size / 1024).toFixed(1)} KiB` }));
    if (Array.isArray(a.outbound)) fact('Allow-list', el('span', { text: a.outbound.join(', ') || 'none' }));
    if (a.provenance) provenanceFacts(fact, a);
    for (const c of row.commitments) {
      const label = COMMITMENTS[c.name] || `Leaf ${c.name}`;
      fact(label, c.absent ? el('span', { class: 'muted', text: 'not set' }) : hashCode(c.hash));
    }
    box.append(el('article', { class: 'app card' + (row.ok ? '' : ' bad'), 'data-app': a.name },
      el('h3', {}, el('span', { text: a.name }),
        el('span', { class: 'badge ' + (row.ok ? 'good' : 'bad'), text: row.ok ? 'in the manifest' : 'does not match the manifest' })),
      dl,
      row.problems.length ? el('p', { class: 'status error', text: row.problems.join('; ') }) : null));
  }
}

function renderLeaves(res) {
  const tb = $('leaves').tBodies[0];
  tb.replaceChildren();
  res.leaves.forEach((e, i) => {
    tb.append(el('tr', {}, el('td', { text: String(i) }), el('td', {}, el('code', { text: e.name })),
      el('td', {}, el('code', { class: 'hash', text: hex(e.hash) }))));
  });
}

function render(res) {
  const v = $('verdict');
  const failed = res.checks.filter((c) => !c.ok);
  v.className = 'verdict ' + (failed.length ? 'bad' : res.evidence && res.evidence.simulated ? 'warn' : 'good');
  v.textContent = failed.length
    ? `${failed.length} of ${res.checks.length} checks failed: ${failed.map((c) => c.label[0].toLowerCase() + c.label.slice(1)).join('; ')}. Do not trust this server.`
    : res.evidence && res.evidence.simulated
      ? `All ${res.checks.length} checks passed, but the TEE is simulated: nothing protects this server's memory.`
      : `All ${res.checks.length} checks passed in this browser. Run enclave-os verify to check the TLS binding and the quote's signature.`;
  v.dataset.result = failed.length ? 'fail' : 'pass';
  const ev = res.evidence;
  $('tee-kind').textContent = ev ? ev.kind : 'none found';
  $('tee-sim').hidden = !(ev && ev.simulated);
  $('tee-measurement').textContent = ev ? hex(ev.measurement) : '—';
  $('config-root').textContent = res.root ? hex(res.root) : '—';
  $('leaf-count').textContent = String(res.leaves.length);
  $('console-hash').textContent = res.consoleHash || 'not served';
  const host = location.host || 'HOST:PORT';
  $('verify-cmd').textContent = `enclave-os verify ${host.includes(':') ? host : host + ':443'}` +
    (res.root ? ` --expect-root ${hex(res.root)}` : '') +
    (ev && ev.simulated ? ' --allow-simulated' : '') +
    (ev ? ` --expect-measurement ${hex(ev.measurement)}` : '');
  renderChecks(res);
  renderApps(res);
  renderLeaves(res);
  const leaf = res.certs[0];
  if (leaf) {
    $('cert-fp').textContent = leaf.fingerprint;
    $('cert-subject').textContent = `${leaf.subject} (issued by ${leaf.issuer})`;
    $('cert-validity').textContent = `${leaf.notBefore} to ${leaf.notAfter}`;
    $('cert-pem').textContent = res.certs.map((c) => c.pem).join('\n');
  }
}

export async function showAttestation() {
  if (loaded) return;
  loaded = true;
  $('copy-pem').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText($('cert-pem').textContent);
      $('copy-pem').textContent = 'Copied';
    } catch (e) {
      $('copy-pem').textContent = 'Select the text below to copy';
    }
  });
  try {
    render(await loadAttestation());
  } catch (e) {
    const v = $('verdict');
    v.className = 'verdict bad';
    v.dataset.result = 'error';
    v.textContent = `The attestation could not be loaded: ${e.message}`;
  }
}
