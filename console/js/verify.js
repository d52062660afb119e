// What a browser can check of an enclave-os server, with WebCrypto only: the
// configuration manifest against its root (SPEC 5.2, as src/ratls/merkle.c
// computes it), the root and apps hash against the certificate's RA-TLS
// extensions, the leaves the page can recompute, and the evidence's report
// data against the served certificate's key. What it cannot check is listed
// in the page: the certificate it fetched is not necessarily the one on the
// TLS connection, and the quote's signature needs `enclave-os verify`.
import { parseCertificate, pemBlocks } from './der.js';

export const OID = {
  sgx: '1.2.840.113741.1.13.1.0',
  tdx: '1.2.840.113741.1.5.5.1.6',
  snp: '1.3.6.1.4.1.65230.4.1',
  root: '1.3.6.1.4.1.65230.1.1',
  appName: '1.3.6.1.4.1.65230.2.1',
  appRoute: '1.3.6.1.4.1.65230.2.2',
  appCode: '1.3.6.1.4.1.65230.2.3',
  appsHash: '1.3.6.1.4.1.65230.2.5',
};

const te = new TextEncoder();
const td = new TextDecoder();

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}
export async function sha512(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-512', bytes));
}
export function hex(b) {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
export function fromHex(s) {
  if (typeof s !== 'string' || !/^([0-9a-f]{2})*$/i.test(s)) throw new Error('not hex: ' + s);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}
export function fingerprint(b) {
  return hex(b).toUpperCase().match(/../g).join(':');
}
function concat(parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
function equal(a, b) {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
const le16 = (b, o) => b[o] | (b[o + 1] << 8);
const le32 = (b, o) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000;

// The binary manifest: [u32 LE count] ([u16 LE name length][name][32-byte hash])* [root].
export function parseManifest(buf) {
  if (buf.length < 36) throw new Error('the manifest is shorter than its count and root');
  const count = le32(buf, 0);
  if (count > (buf.length - 36) / 34) throw new Error(`manifest count ${count} does not fit in ${buf.length} bytes`);
  const entries = [];
  let off = 4;
  for (let i = 0; i < count; i++) {
    if (buf.length - off < 2 + 32 + 32) throw new Error('the manifest is truncated inside an entry');
    const n = le16(buf, off);
    if (buf.length - off - 2 < n + 32 + 32) throw new Error('the manifest is truncated inside an entry');
    entries.push({ name: td.decode(buf.subarray(off + 2, off + 2 + n)), hash: buf.slice(off + 2 + n, off + 2 + n + 32) });
    off += 2 + n + 32;
  }
  if (buf.length - off !== 32) throw new Error(`the manifest has ${buf.length - off} bytes after its entries, expected the 32-byte root`);
  return { entries, root: buf.slice(off) };
}

// Root = SHA-256(leaf_hash_0 || leaf_hash_1 || ... || leaf_hash_n).
export async function merkleRoot(entries) {
  return sha256(concat(entries.map((e) => e.hash)));
}

// Leaf hash = SHA-256(input), or 32 zero bytes for an absent input.
export async function leafHash(input) {
  return input === null || input === undefined ? new Uint8Array(32) : sha256(input);
}

// The TEE evidence in a leaf certificate: kind, measurement, report data.
export function parseEvidence(ext) {
  const sgx = ext.get(OID.sgx);
  if (sgx) {
    const prefix = te.encode('MOCK_QUOTE:');
    if (sgx.length >= 11 && equal(sgx.subarray(0, 11), prefix)) {
      if (sgx.length !== 203) throw new Error('simulated evidence must be 203 bytes');
      const r = sgx.subarray(75);
      if (td.decode(r.subarray(0, 8)) !== 'EOSSIM01') throw new Error('simulated report has an unknown magic');
      const name = td.decode(r.subarray(16, 32)).replace(/\0+$/, '');
      return { kind: name, simulated: true, measurement: r.slice(32, 64), reportData: sgx.slice(11, 75),
        evidenceOid: OID.sgx };
    }
    if (sgx.length < 48 + 384) throw new Error('the SGX quote is truncated');
    return { kind: 'sgx', simulated: false, measurement: sgx.slice(112, 144), reportData: sgx.slice(368, 432),
      evidenceOid: OID.sgx };
  }
  const tdx = ext.get(OID.tdx);
  if (tdx) {
    const v = le16(tdx, 0);
    const body = v === 5 ? 54 : 48;
    if (tdx.length < body + 584) throw new Error('the TDX quote is truncated');
    return { kind: 'tdx', simulated: false, measurement: tdx.slice(body + 136, body + 184),
      reportData: tdx.slice(body + 520, body + 584), evidenceOid: OID.tdx };
  }
  const snp = ext.get(OID.snp);
  if (snp) {
    if (snp.length !== 1184) throw new Error('an SEV-SNP report is exactly 1184 bytes');
    return { kind: 'sev-snp', simulated: false, measurement: snp.slice(0x90, 0xc0),
      reportData: snp.slice(0x50, 0x90), evidenceOid: OID.snp };
  }
  return null;
}

// Deterministic binding: NotBefore as YYYY-MM-DDTHH:MMZ.
function bindingOf(notBefore) {
  return notBefore.slice(0, 16) + 'Z';
}

// Gathers everything and runs every check the browser can run. Inputs:
// manifest (Uint8Array, binary form), manifestJson (parsed, optional),
// chainPem (text), apps (the apps document's list), consoleFiles (optional,
// {listing: text, files: [{path, sha256: hex, bytes}]}).
export async function verifyAll(input) {
  const checks = [];
  const add = (id, label, ok, detail) => checks.push({ id, label, ok, detail });
  const out = { checks, leaves: [], apps: [], certs: [], evidence: null, root: null };

  let manifest = null;
  try {
    manifest = parseManifest(input.manifest);
    const computed = await merkleRoot(manifest.entries);
    out.root = manifest.root;
    out.computedRoot = computed;
    add('manifest-root', 'The manifest\'s leaves hash to its root', equal(computed, manifest.root),
      equal(computed, manifest.root) ? `root ${hex(computed)}`
        : `computed ${hex(computed)}, the manifest says ${hex(manifest.root)}`);
  } catch (e) {
    add('manifest-root', 'The manifest\'s leaves hash to its root', false, e.message);
  }
  if (manifest && input.manifestJson) {
    const j = input.manifestJson;
    const same = j.root === hex(manifest.root) && Array.isArray(j.entries) &&
      j.entries.length === manifest.entries.length &&
      j.entries.every((e, i) => e.name === manifest.entries[i].name && e.hash === hex(manifest.entries[i].hash));
    add('manifest-forms', 'The JSON and binary manifests agree', same,
      same ? `${manifest.entries.length} leaves` : 'the two forms of the manifest differ');
  }
  const leaf = new Map();
  if (manifest) for (const e of manifest.entries) leaf.set(e.name, e.hash);

  let leafCert = null;
  let chain = [];
  try {
    chain = pemBlocks(input.chainPem || '');
    if (!chain.length) throw new Error('no certificate in the PEM');
    for (const c of chain) {
      const info = parseCertificate(c.der);
      info.pem = c.pem;
      info.der = c.der;
      info.fingerprint = fingerprint(await sha256(c.der));
      out.certs.push(info);
    }
    leafCert = out.certs[0];
  } catch (e) {
    add('certificate', 'The certificate chain parses', false, e.message);
  }

  if (leafCert) {
    const certRoot = leafCert.extensions.get(OID.root);
    out.certRoot = certRoot || null;
    add('cert-root', 'The certificate\'s configuration root equals the manifest\'s root',
      !!(certRoot && manifest && equal(certRoot, manifest.root)),
      !certRoot ? 'the certificate has no configuration root extension (65230.1.1)'
        : `certificate ${hex(certRoot)}`);
    try {
      const ev = parseEvidence(leafCert.extensions);
      out.evidence = ev;
      if (!ev) {
        add('evidence', 'The certificate carries TEE evidence', false, 'no evidence extension found');
      } else {
        const bind = te.encode(bindingOf(leafCert.notBefore));
        const want = await sha512(concat([await sha256(leafCert.spki), bind]));
        const ok = equal(want, ev.reportData);
        add('report-data', 'The evidence\'s report data binds this certificate\'s key', ok,
          ok ? `SHA-512(SHA-256(key) ‖ "${bindingOf(leafCert.notBefore)}")`
            : 'the report data does not match this certificate\'s key and NotBefore (a challenge-mode certificate, or a forgery)');
        const teeInput = concat([te.encode(ev.kind), new Uint8Array([0]), ev.measurement]);
        const teeLeaf = leaf.get('core.tee');
        const okTee = !!teeLeaf && equal(await leafHash(teeInput), teeLeaf);
        add('core-tee', 'The manifest\'s core.tee leaf is this evidence\'s TEE and measurement', okTee,
          okTee ? `${ev.kind}, ${hex(ev.measurement)}` : 'core.tee does not match the evidence');
      }
    } catch (e) {
      add('evidence', 'The certificate carries TEE evidence', false, e.message);
    }
    const ca = out.certs[1];
    if (ca && leaf.has('core.ca_cert')) {
      const ok = equal(await leafHash(ca.der), leaf.get('core.ca_cert'));
      add('core-ca', 'The manifest\'s core.ca_cert leaf is the issuing enclave CA', ok,
        ok ? `CA ${ca.subject}` : 'core.ca_cert is not the hash of the CA certificate served');
    }
  }

  const apps = (input.apps || []).slice().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const a of apps) {
    const p = `wasm.${a.name}.`;
    const row = { app: a, ok: true, problems: [], commitments: [] };
    const expect = [
      ['code_hash', fromHex(a.code_hash)],
      ['route', te.encode(a.route)],
      ['hostname', a.hostname ? te.encode(a.hostname) : null],
    ];
    for (const [k, input_] of expect) {
      const h = leaf.get(p + k);
      if (!h || !equal(await leafHash(input_), h)) {
        row.ok = false;
        row.problems.push(h ? `${k} differs from the manifest` : `${k} is missing from the manifest`);
      }
    }
    for (const [name, h] of leaf) {
      if (name.startsWith(p) && !['code_hash', 'route', 'hostname'].includes(name.slice(p.length))) {
        row.commitments.push({ name: name.slice(p.length), hash: hex(h), absent: h.every((x) => x === 0) });
      }
    }
    out.apps.push(row);
  }
  if (apps.length) {
    const bad = out.apps.filter((r) => !r.ok);
    add('apps', 'Every app\'s code hash, route and hostname are leaves of the manifest', bad.length === 0,
      bad.length ? bad.map((r) => `${r.app.name}: ${r.problems.join(', ')}`).join('; ') : `${apps.length} apps`);
  }
  const listed = new Set(apps.map((a) => a.name));
  const inManifest = new Set([...leaf.keys()].filter((n) => n.startsWith('wasm.') && n.endsWith('.code_hash'))
    .map((n) => n.slice(5, -10)));
  const sameSet = listed.size === inManifest.size && [...listed].every((n) => inManifest.has(n));
  if (manifest) {
    add('app-set', 'The apps listed are exactly the apps in the manifest', sameSet,
      sameSet ? `${listed.size} apps` : `listed: ${[...listed].join(', ') || 'none'}; manifest: ${[...inManifest].join(', ') || 'none'}`);
  }
  if (leafCert && leafCert.extensions.has(OID.appsHash)) {
    let want = new Uint8Array(32);
    if (apps.length) want = await sha256(concat(apps.flatMap((a) => [te.encode(a.name), fromHex(a.code_hash)])));
    const ok = equal(want, leafCert.extensions.get(OID.appsHash));
    add('apps-hash', 'The certificate\'s apps hash covers the apps listed', ok,
      ok ? hex(want) : `certificate ${hex(leafCert.extensions.get(OID.appsHash))}, computed ${hex(want)}`);
  }

  if (input.console) {
    const c = input.console;
    const lines = c.files.map((f) => `${f.sha256}  ${f.path}\n`).join('');
    let ok = lines === c.listing;
    const bad = [];
    for (const f of c.files) {
      if (f.bytes && hex(await sha256(f.bytes)) !== f.sha256) {
        ok = false;
        bad.push(f.path);
      }
    }
    const combined = await sha256(te.encode(c.listing));
    out.consoleHash = hex(combined);
    add('console-files', 'The console files this page loaded match the console hash', ok,
      ok ? out.consoleHash : `differs: ${bad.join(', ') || 'the listing'}`);
    const cl = leaf.get('core.console');
    if (cl) {
      const okLeaf = equal(await leafHash(combined), cl);
      add('core-console', 'The manifest\'s core.console leaf is this console\'s hash', okLeaf,
        okLeaf ? 'the console is part of the attested configuration' : 'core.console differs from the console served');
    }
  }
  out.leaves = manifest ? manifest.entries : [];
  out.ok = checks.every((c) => c.ok);
  return out;
}
