// console/js/verify.js under node's WebCrypto: the known-answer tree of
// tests/ratls/test_merkle.c rebuilt from SPEC 5.2, its binary manifest
// parsed and checked, and tampering detected.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const v = await import(path.join(here, '../../console/js/verify.js'));
const te = new TextEncoder();

const fill = (n, b) => new Uint8Array(n).fill(b);
const cat = (...p) => {
  const out = new Uint8Array(p.reduce((a, x) => a + x.length, 0));
  let o = 0;
  for (const x of p) { out.set(x, o); o += x.length; }
  return out;
};

const leaves = [
  ['core.ca_cert', te.encode('CA-DER-BYTES')],
  ['core.tee', cat(te.encode('sim'), new Uint8Array([0]), fill(32, 1))],
  ['core.mode', te.encode('deterministic')],
  ['wasm.alpha.code_hash', fill(32, 3)],
  ['wasm.alpha.route', te.encode('/alpha')],
  ['wasm.alpha.hostname', te.encode('alpha.example')],
  ['wasm.alpha.env', te.encode('{"A":"1","B":"2"}')],
  ['wasm.zeta.code_hash', fill(32, 2)],
  ['wasm.zeta.route', te.encode('/zeta')],
  ['wasm.zeta.hostname', null],
  ['wasm.zeta.env', null],
];
const entries = [];
for (const [name, input] of leaves) entries.push({ name, hash: await v.leafHash(input) });
const root = await v.merkleRoot(entries);
assert.equal(v.hex(root), 'bbca2a46c9ca30dae4c653a49a4e5fc9915c8d490565b5d256176ece732855bf');
assert.equal(v.hex(entries[1].hash), 'd4b3a31b1c4431193c2e287ea59e98e0a9d1245c20b2cacacf4c815ad474ace2');
assert.equal(v.hex(entries[9].hash), '0'.repeat(64));

// The binary manifest as the server writes it.
const parts = [new Uint8Array([entries.length, 0, 0, 0])];
for (const e of entries) {
  const n = te.encode(e.name);
  parts.push(new Uint8Array([n.length & 255, n.length >> 8]), n, e.hash);
}
parts.push(root);
const bin = cat(...parts);
assert.equal(bin.length, 573);
assert.equal(v.hex(await v.sha256(bin)), 'c5daca4d2c7adc486cff92e3fee9fd9bafdee13c072818a6b1eed9b8793dc2d9');
const m = v.parseManifest(bin);
assert.equal(m.entries.length, 11);
assert.equal(m.entries[3].name, 'wasm.alpha.code_hash');
assert.deepEqual(m.root, root);

// verifyAll without a certificate: the manifest and app checks pass, the
// certificate check fails (there is none).
const apps = [
  { name: 'zeta', route: '/zeta', hostname: null, code_hash: '02'.repeat(32) },
  { name: 'alpha', route: '/alpha', hostname: 'alpha.example', code_hash: '03'.repeat(32) },
];
const manifestJson = { entries: m.entries.map((e) => ({ name: e.name, hash: v.hex(e.hash) })), root: v.hex(root) };
let res = await v.verifyAll({ manifest: bin, manifestJson, chainPem: '', apps });
const byId = (id) => res.checks.find((c) => c.id === id);
assert.equal(byId('manifest-root').ok, true);
assert.equal(byId('manifest-forms').ok, true);
assert.equal(byId('apps').ok, true, byId('apps').detail);
assert.equal(byId('app-set').ok, true);
assert.equal(byId('certificate').ok, false);
assert.equal(res.apps.find((r) => r.app.name === 'alpha').commitments[0].name, 'env');

// The apps hash of SPEC 5.1 (65230.2.5) for these apps.
const appsHash = await v.sha256(cat(te.encode('alpha'), fill(32, 3), te.encode('zeta'), fill(32, 2)));
assert.equal(v.hex(appsHash), '6cb60955dd0dc6cf6b4606522b6df1303ace1142c5eef85a9d894198cb473b41');

// One flipped bit in a leaf hash: the root no longer matches.
const bad = bin.slice();
bad[4 + 2 + 12 + 5] ^= 1;
res = await v.verifyAll({ manifest: bad, apps });
assert.equal(res.checks.find((c) => c.id === 'manifest-root').ok, false);
assert.equal(res.ok, false);
// A route that differs from its leaf is reported for that app.
res = await v.verifyAll({ manifest: bin, apps: [{ ...apps[0], route: '/other' }, apps[1]] });
assert.equal(res.checks.find((c) => c.id === 'apps').ok, false);
assert.match(res.checks.find((c) => c.id === 'apps').detail, /zeta: route differs/);
// Truncated manifests are refused with a reason.
assert.throws(() => v.parseManifest(bin.subarray(0, 100)), /does not fit/);
assert.throws(() => v.parseManifest(bin.subarray(0, 500)), /truncated/);
console.log('console verify.js: all checks passed');
