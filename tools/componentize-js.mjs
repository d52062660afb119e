// Builds a JavaScript app into a component with componentize-js (StarlingMonkey).
// Usage: node componentize-js.mjs APP.js OUT.wasm
// The world exports wasi:http/incoming-handler at the WASI version this
// componentize-js expects; jco's WASI packages are relabelled to it.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { componentize } from '@bytecodealliance/componentize-js';
import { wasiPackages } from './componentize.mjs';

const version = '0.2.10';
const [src, out] = process.argv.slice(2);
if (!src || !out) { console.error('usage: componentize-js.mjs APP.js OUT.wasm'); process.exit(2); }
const dir = mkdtempSync(join(tmpdir(), 'eos-wit-'));
try {
  const world = `package local:app;\nworld app { export wasi:http/incoming-handler@${version}; }\n` +
    wasiPackages(version);
  writeFileSync(join(dir, 'world.wit'), world);
  const { component } = await componentize(readFileSync(src, 'utf8'),
                                           { witPath: dir, worldName: 'app' });
  writeFileSync(out, component);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
