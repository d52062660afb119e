#!/usr/bin/env node
// Builds a JavaScript app into a component with componentize-js (StarlingMonkey).
// This componentize-js expects wasi:http at 0.2.10, so the WIT directory handed to it
// holds the app's world plus jco's WASI 0.2.12 packages relabelled to that version
// (the 0.2.x interfaces the engine uses are the same).
//
//   eos-componentize-js.mjs --js app.js --wit world.wit --out app.wasm [--world NAME]
//                           [--wasi-version 0.2.10] [--tools DIR] [--cache DIR|none]
//
// A build takes 15 to 30 seconds and, with this componentize-js, two builds of the same
// source differ in a few bytes; results are kept in a cache directory (default
// $XDG_CACHE_HOME/enclave-os or ~/.cache/enclave-os) under the SHA-256 of everything
// that goes into them: the source, the world, the WASI version and the tool versions.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function die(msg) {
    process.stderr.write(`eos-componentize-js: ${msg}\n`);
    process.exit(1);
}

function findModules(toolsArg) {
    const candidates = [toolsArg, process.env.EOS_TOOLS_DIR, path.resolve(here, '..', '..', 'tools')];
    for (let d = process.cwd(); ; d = path.dirname(d)) {
        candidates.push(d);
        if (path.dirname(d) === d) break;
    }
    for (const c of candidates.filter(Boolean)) {
        const nm = path.join(c, 'node_modules', '@bytecodealliance');
        if (fs.existsSync(path.join(nm, 'componentize-js', 'src', 'componentize.js')) &&
            fs.existsSync(path.join(nm, 'jco', 'lib', 'wit', 'builtin')))
            return nm;
    }
    die('cannot find @bytecodealliance/componentize-js and @bytecodealliance/jco. Install ' +
        'them with `scripts/install-deps.sh` in the enclave-os repository, or `npm install ' +
        '@bytecodealliance/jco@1.35.0 @bytecodealliance/componentize-js@0.23.0` in your project.');
}

const opts = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) die(`bad argument ${argv[i]}`);
    opts[argv[i].slice(2)] = argv[i + 1];
}
if (!opts.js || !opts.wit || !opts.out) die('usage: --js app.js --wit world.wit --out app.wasm');
const version = opts['wasi-version'] || '0.2.10';
const nm = findModules(opts.tools);
const worldText = fs.readFileSync(opts.wit, 'utf8');
const world = opts.world || (/\bworld\s+([a-z][\w-]*)/.exec(worldText.replace(/\/\/.*$/gm, '')) || [])[1];
if (!world) die(`${opts.wit} defines no world`);

function cacheDir() {
    if (opts.cache === 'none') return null;
    if (opts.cache) return opts.cache;
    const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
    return path.join(base, 'enclave-os');
}

const source = fs.readFileSync(opts.js, 'utf8');
const toolVersions = ['componentize-js', 'jco'].map((p) =>
    JSON.parse(fs.readFileSync(path.join(nm, p, 'package.json'), 'utf8')).version);
const key = crypto.createHash('sha256')
    .update(JSON.stringify([source, worldText, world, version, toolVersions]))
    .digest('hex');
const cache = cacheDir();
const cached = cache && path.join(cache, `js-${key}.wasm`);
fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
if (cached && fs.existsSync(cached)) {
    fs.copyFileSync(cached, opts.out);
    process.exit(0);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eos-js-wit-'));
try {
    fs.writeFileSync(path.join(dir, 'world.wit'), worldText);
    const builtin = path.join(nm, 'jco', 'lib', 'wit', 'builtin', '0.2.12');
    for (const pkg of fs.readdirSync(builtin)) {
        const text = fs.readFileSync(path.join(builtin, pkg, 'package.wit'), 'utf8');
        fs.mkdirSync(path.join(dir, 'deps', pkg), { recursive: true });
        fs.writeFileSync(path.join(dir, 'deps', pkg, 'package.wit'),
                         text.replaceAll('@0.2.12', `@${version}`));
    }
    const { componentize } = await import(
        pathToFileURL(path.join(nm, 'componentize-js', 'src', 'componentize.js')).href);
    let result;
    try {
        result = await componentize(source, { witPath: dir, worldName: world });
    } catch (e) {
        die(`componentize-js failed for ${opts.js}: ${e.message || e}`);
    }
    fs.writeFileSync(opts.out, result.component);
    if (cached) {
        // Written under a temporary name first so a concurrent build never reads half a file.
        try {
            fs.mkdirSync(cache, { recursive: true });
            const tmp = `${cached}.${process.pid}.tmp`;
            fs.writeFileSync(tmp, result.component);
            fs.renameSync(tmp, cached);
        } catch (e) {
            process.stderr.write(`eos-componentize-js: cannot cache in ${cache}: ${e.message}\n`);
        }
    }
} finally {
    fs.rmSync(dir, { recursive: true, force: true });
}
