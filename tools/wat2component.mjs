// Converts component text (WAT) to a component binary with jco's parser.
// Usage: node wat2component.mjs IN.wat OUT.wasm
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from '@bytecodealliance/jco';

const [input, out] = process.argv.slice(2);
if (!input || !out) {
  console.error('usage: wat2component.mjs IN.wat OUT.wasm');
  process.exit(2);
}
try {
  writeFileSync(out, await parse(readFileSync(input, 'utf8')));
} catch (e) {
  console.error(String((e && e.stack) || e));
  process.exit(1);
}
