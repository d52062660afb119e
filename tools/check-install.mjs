// Checks that DIR/node_modules holds every package of DIR/package-lock.json that this
// platform needs. npm skips an optional package it cannot install (a native binding
// whose engine or platform does not match) without failing, and the tools then fail
// only at their first use; scripts/install-deps.sh runs this after each npm install.
// Usage: node tools/check-install.mjs DIR     (exit 1 and a list when something is missing)
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '.';
const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
const glibc = process.report?.getReport()?.header?.glibcVersionRuntime;
const libc = glibc ? 'glibc' : 'musl';

// npm's platform fields: a string or a list, entries "!x" exclude x.
function fits(field, value) {
  if (field === undefined) return true;
  const list = Array.isArray(field) ? field : [field];
  if (list.includes(`!${value}`)) return false;
  const wanted = list.filter((v) => !v.startsWith('!'));
  return wanted.length === 0 || wanted.includes(value);
}

// Walks the dependency tree from the root as Node resolves it (nearest node_modules
// first), following only the packages that fit this platform: the dependencies of a
// binding for another platform are not needed either.
const packages = lock.packages ?? {};
function locate(from, name) {
  for (let base = from; ; ) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return null;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}
const missing = [];
const seen = new Set();
function visit(path) {
  const pkg = packages[path];
  const names = {
    ...pkg.dependencies, ...pkg.optionalDependencies,
    ...(path === '' ? pkg.devDependencies : {}),
  };
  for (const [name] of Object.entries(pkg.peerDependencies ?? {}))
    if (!pkg.peerDependenciesMeta?.[name]?.optional) names[name] = true;
  for (const name of Object.keys(names)) {
    const at = locate(path, name);
    if (at === null || seen.has(at)) continue;
    seen.add(at);
    const dep = packages[at];
    if (!fits(dep.os, process.platform) || !fits(dep.cpu, process.arch) || !fits(dep.libc, libc))
      continue;
    if (!existsSync(join(dir, at, 'package.json'))) {
      missing.push(`${name}@${dep.version}`);
      continue;
    }
    visit(at);
  }
}
visit('');
if (missing.length) {
  console.error(`missing from ${join(dir, 'node_modules')} (node ${process.version}, ` +
                `${process.platform}-${process.arch}-${libc}):\n  ${missing.join('\n  ')}`);
  process.exit(1);
}
