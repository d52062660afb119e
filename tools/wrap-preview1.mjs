// Wraps WASI preview1 command modules (a _start and wasi_snapshot_preview1
// imports) into wasi:cli/run components with jco's bundled preview1 command
// adapter, as wasmtime and jco run them.
// Usage: node wrap-preview1.mjs IN.wasm OUT.wasm [IN.wasm OUT.wasm ...]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { componentNew } from '@bytecodealliance/jco';

const here = dirname(fileURLToPath(import.meta.url));
const adapter = readFileSync(
  join(here, 'node_modules/@bytecodealliance/jco/lib/wasi_snapshot_preview1.command.wasm'));

const argv = process.argv.slice(2);
if (argv.length < 2 || argv.length % 2) {
  console.error('usage: wrap-preview1.mjs IN.wasm OUT.wasm [IN.wasm OUT.wasm ...]');
  process.exit(2);
}
let failed = 0;
for (let i = 0; i < argv.length; i += 2) {
  try {
    const component = await componentNew(readFileSync(argv[i]),
                                         [['wasi_snapshot_preview1', adapter]]);
    writeFileSync(argv[i + 1], component);
  } catch (e) {
    console.error(`${argv[i]}: ${e.message || e}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
