#!/usr/bin/env node
// Builds a JavaScript app into a component with componentize-js (StarlingMonkey).
// This componentize-js expects wasi:http at 0.2.10, so the WIT directory handed to it
// holds the app's world plus jco's WASI 0.2.12 packages relabelled to that version
// (the 0.2.x interfaces the engine uses are the same).
//
//   eos-componentize-js.mjs --js app.js --wit world.wit --out app.wasm [--world NAME]
//                           [--wasi-version 0.2.10] [--tools DIR] [--cache DIR|none]
//                           [--fixed-entropy yes|no]
//
// componentize-js snapshots the engine with wizer, and the engine seeds its hash tables
// and Math.random from WASI random_get and the clocks while it is snapshotted, so two
// plain builds differ in the heap image. With --fixed-entropy yes (the default) wizer runs
// with eos-fixed-entropy.c preloaded, which answers those calls from a fixed stream and
// SOURCE_DATE_EPOCH (default 0): the same inputs give the same bytes. That needs a host C
// compiler (cc) and Linux; docs/reproducible-builds.md says more.
//
// A build takes 15 to 40 seconds; results are kept in a cache directory (default
// $XDG_CACHE_HOME/enclave-os or ~/.cache/enclave-os) under the SHA-256 of everything
// that goes into them: the source, the world, the WASI version, the tool versions and
// the entropy mode.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { spawnSync } from 'node:child_process';
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

const fixedEntropy = (opts['fixed-entropy'] || 'yes') === 'yes';
if (!['yes', 'no', undefined].includes(opts['fixed-entropy'])) die('--fixed-entropy takes yes or no');
const epoch = process.env.SOURCE_DATE_EPOCH || '0';
if (!/^[0-9]{1,12}$/.test(epoch)) die(`SOURCE_DATE_EPOCH=${epoch} is not a number of seconds`);

function shimHash() {
    return crypto.createHash('sha256')
        .update(fs.readFileSync(path.join(here, 'eos-fixed-entropy.c'))).digest('hex');
}

const source = fs.readFileSync(opts.js, 'utf8');
const toolVersions = ['componentize-js', 'jco'].map((p) =>
    JSON.parse(fs.readFileSync(path.join(nm, p, 'package.json'), 'utf8')).version);
const key = crypto.createHash('sha256')
    .update(JSON.stringify([source, worldText, world, version, toolVersions,
                            fixedEntropy ? `fixed-entropy ${epoch} ${shimHash()}` : 'host-entropy']))
    .digest('hex');
const cache = cacheDir();
const cached = cache && path.join(cache, `js-${key}.wasm`);
fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
if (cached && fs.existsSync(cached)) {
    fs.copyFileSync(cached, opts.out);
    process.exit(0);
}

// Compiles the preload library into dir and writes a wizer wrapper that loads it;
// componentize-js runs the wrapper through its documented wizerBin option.
async function fixedEntropyWizer(dir) {
    const wizer = (await import(pathToFileURL(path.join(nm, 'wizer', 'index.js')).href)).default;
    const lib = path.join(dir, 'eos-fixed-entropy.so');
    const compilers = process.env.EOS_HOST_CC ? [process.env.EOS_HOST_CC] : ['cc', 'gcc', 'clang'];
    const built = compilers.some((cc) => spawnSync(cc, [
        '-std=c11', '-O2', '-shared', '-fPIC', '-o', lib, path.join(here, 'eos-fixed-entropy.c'),
        '-ldl', '-lpthread'], { stdio: ['ignore', 'ignore', 'inherit'] }).status === 0);
    if (!built)
        die(`cannot build eos-fixed-entropy.so with ${compilers.join(', ')} (install a host C ` +
            'compiler, or pass --fixed-entropy no for a build that is not reproducible)');
    const q = (s) => `'${s.replaceAll("'", "'\\''")}'`;
    const wrapper = path.join(dir, 'wizer');
    // The shell exports PWD, which the guest would see: unset it.
    const log = process.env.EOS_FIXED_ENTROPY_LOG ?
        ` EOS_FIXED_ENTROPY_LOG=${q(path.resolve(process.env.EOS_FIXED_ENTROPY_LOG))}` : '';
    fs.writeFileSync(wrapper, '#!/bin/sh\nunset PWD OLDPWD\n' +
                     `LD_PRELOAD=${q(lib)} EOS_FIXED_EPOCH=${epoch}${log} exec ${q(wizer)} "$@"\n`,
                     { mode: 0o755 });
    return wrapper;
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// componentize-js works in os.tmpdir()/<12 hex digits of Math.random()>, and that path
// reaches the snapshot (the engine keeps its start-up arguments). A fixed Math.random
// and TMPDIR=/tmp give every build the same directory; a lock file held while it is in
// use makes concurrent builds on one machine take turns.
async function withFixedWorkDir(cwd, build) {
    const lock = '/tmp/eos-componentize-js.lock';
    for (;;) {
        try {
            fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
            break;
        } catch (e) {
            if (e.code !== 'EEXIST') die(`cannot create ${lock}: ${e.message}`);
        }
        let owner = NaN;
        try { owner = parseInt(fs.readFileSync(lock, 'utf8'), 10); } catch { continue; }
        let alive = true;
        try { if (owner > 0) process.kill(owner, 0); } catch (e) { alive = e.code !== 'ESRCH'; }
        if (!alive) fs.rmSync(lock, { force: true });
        else await sleep(500);
    }
    const saved = { random: Math.random, tmpdir: process.env.TMPDIR, cwd: process.cwd() };
    try {
        Math.random = () => 0.5;
        process.env.TMPDIR = '/tmp';
        // componentize-js strips the working directory from its paths: stand in a
        // directory that is not a prefix of its own.
        process.chdir(cwd);
        const work = path.join('/tmp', crypto.createHash('sha256').update('0.5').digest('hex').slice(0, 12));
        fs.rmSync(work, { recursive: true, force: true });
        return await build();
    } finally {
        Math.random = saved.random;
        if (saved.tmpdir === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = saved.tmpdir;
        process.chdir(saved.cwd);
        fs.rmSync(lock, { force: true });
    }
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
    const options = { witPath: dir, worldName: world };
    if (fixedEntropy) options.wizerBin = await fixedEntropyWizer(dir);
    let result;
    try {
        result = fixedEntropy ? await withFixedWorkDir(dir, () => componentize(source, options))
                              : await componentize(source, options);
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
