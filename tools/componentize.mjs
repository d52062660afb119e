// Turns a core wasm module plus a WIT world into a component through jco's
// JavaScript API (its command line cannot read WIT directories here).
// Usage: node componentize.mjs CORE.wasm WORLD.wit WORLD_NAME OUT.wasm [--wasi 0.2.x]
//        [--encoding utf8|utf16|compact-utf16] [--adapter reactor|command|PATH]
// --wasi appends jco's bundled WASI packages, relabelled to that version, as
// nested package blocks so the world can import or export them.
import { readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { componentEmbed, componentNew } from '@bytecodealliance/jco';

const here = dirname(fileURLToPath(import.meta.url));

// "reactor" or "command" names jco's bundled WASI preview1 adapter; anything
// else is a path to an adapter module.
function adapterPath(which) {
  if (which === 'reactor' || which === 'command')
    return join(here, `node_modules/@bytecodealliance/jco/lib/wasi_snapshot_preview1.${which}.wasm`);
  return which;
}

export function wasiPackages(version) {
  const base = join(here, 'node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12');
  let out = '';
  for (const dir of readdirSync(base).sort()) {
    const file = join(base, dir, 'package.wit');
    if (!existsSync(file)) continue;
    let text = readFileSync(file, 'utf8').replaceAll('@0.2.12', '@' + version);
    const first = text.indexOf(';');
    out += '\n' + text.slice(0, first) + ' {' + text.slice(first + 1) + '\n}\n';
  }
  return out;
}

async function main(argv) {
  if (argv.length < 4) {
    console.error('usage: componentize.mjs CORE.wasm WORLD.wit WORLD_NAME OUT.wasm [--wasi VERSION]');
    process.exit(2);
  }
  const [core, witFile, world, out] = argv;
  let wit = readFileSync(witFile, 'utf8');
  const w = argv.indexOf('--wasi');
  if (w >= 0) wit += wasiPackages(argv[w + 1]);
  const opts = { binary: readFileSync(core), witSource: wit, world };
  const e = argv.indexOf('--encoding');
  if (e >= 0) opts.stringEncoding = argv[e + 1];
  const embedded = await componentEmbed(opts);
  const a = argv.indexOf('--adapter');
  const adapters = a >= 0 ? [['wasi_snapshot_preview1', readFileSync(adapterPath(argv[a + 1]))]] : [];
  const component = await componentNew(embedded, adapters);
  writeFileSync(out, component);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
}
