#!/usr/bin/env node
// Turns a core wasm module built by clang into a WebAssembly component, and inspects
// components. The app's WIT world is assembled into one text with every package it
// references (WASI 0.2.12 from jco, keyvalue and logging from sdk/wit/deps) as nested
// package blocks, because jco's bundled wasm-tools cannot read WIT directories here.
//
//   eos-component.mjs build --core app.core.wasm --wit world.wit|<sdk world> --out app.wasm
//                           [--world NAME] [--adapter auto|none|FILE] [--wit-dir DIR]...
//   eos-component.mjs wit FILE.wasm                  print the component's world
//   eos-component.mjs check FILE.wasm [--import NAME]... [--export NAME]... [--only]
//   eos-component.mjs assemble --wit world.wit       print the assembled WIT text
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const sdkDir = path.resolve(here, '..');
const WASI_VERSION = '0.2.12';

function die(msg) {
    process.stderr.write(`eos-component: ${msg}\n`);
    process.exit(1);
}

// Finds the npm tools: --tools DIR, $EOS_TOOLS_DIR, this repository's tools/, then any
// node_modules above the current directory (a user's own `npm install` of jco).
function findJco(toolsArg) {
    const candidates = [];
    if (toolsArg) candidates.push(toolsArg);
    if (process.env.EOS_TOOLS_DIR) candidates.push(process.env.EOS_TOOLS_DIR);
    candidates.push(path.resolve(sdkDir, '..', 'tools'));
    for (let d = process.cwd(); ; d = path.dirname(d)) {
        candidates.push(d);
        if (path.dirname(d) === d) break;
    }
    for (const c of candidates) {
        const jco = path.join(c, 'node_modules', '@bytecodealliance', 'jco');
        if (fs.existsSync(path.join(jco, 'dist', 'api.js'))) return jco;
    }
    die('cannot find @bytecodealliance/jco. Install it with `scripts/install-deps.sh` in the ' +
        'enclave-os repository, or `npm install @bytecodealliance/jco@1.35.0` in your project, ' +
        'or point EOS_TOOLS_DIR at a directory holding node_modules/@bytecodealliance/jco.');
}

async function loadJco(toolsArg) {
    const dir = findJco(toolsArg);
    const api = await import(pathToFileURL(path.join(dir, 'dist', 'api.js')).href);
    return { dir, api };
}

// A package's text: the `package ...;` statement removed, files of one directory joined.
function readPackageDir(dir) {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.wit')).sort();
    let id = null;
    const bodies = [];
    for (const f of files) {
        const text = fs.readFileSync(path.join(dir, f), 'utf8');
        const split = splitPackage(text);
        if (split.id) id = split.id;
        bodies.push(split.body);
    }
    return id ? { id, body: bodies.join('\n') } : null;
}

function splitPackage(text) {
    const m = /^\s*package\s+([a-z][\w-]*:[a-z][\w-]*(?:@[\w.+-]+)?)\s*;/m.exec(text);
    if (!m) return { id: null, body: text };
    return { id: m[1], body: text.slice(0, m.index).replace(/^\s*\/\/.*$/gm, '') +
                              text.slice(m.index + m[0].length) };
}

function buildRegistry(jcoDir, extraDirs) {
    const reg = new Map();
    const add = (pkg) => { if (pkg && !reg.has(pkg.id)) reg.set(pkg.id, pkg.body); };
    for (const d of extraDirs) {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            if (e.isDirectory()) add(readPackageDir(path.join(d, e.name)));
            else if (e.name.endsWith('.wit'))
                add(splitPackage(fs.readFileSync(path.join(d, e.name), 'utf8')));
        }
    }
    add(splitPackage(fs.readFileSync(path.join(sdkDir, 'wit', 'eos-sdk.wit'), 'utf8')));
    const deps = path.join(sdkDir, 'wit', 'deps');
    for (const e of fs.readdirSync(deps)) add(readPackageDir(path.join(deps, e)));
    const builtin = path.join(jcoDir, 'lib', 'wit', 'builtin', WASI_VERSION);
    for (const e of fs.readdirSync(builtin)) add(readPackageDir(path.join(builtin, e)));
    return reg;
}

// Package references such as `wasi:io/streams@0.2.12.{...}` or `include eos:sdk/imports;`.
const REF = /\b([a-z][\w-]*:[a-z][\w-]*)\/[a-z][\w-]*(@\d+\.\d+\.\d+(?:-[\w-]+(?:\.[\w-]+)*)?)?/g;

function assemble(topText, reg) {
    const top = splitPackage(topText).id;
    const done = new Set([top]);
    const out = [topText];
    const queue = [topText];
    while (queue.length) {
        const text = queue.shift().replace(/\/\/.*$/gm, '');
        for (const m of text.matchAll(REF)) {
            const id = m[1] + (m[2] || '');
            if (done.has(id)) continue;
            done.add(id);
            if (!reg.has(id)) die(`the world refers to package ${id}, which is neither in ` +
                                  `sdk/wit nor in jco's WASI ${WASI_VERSION} files; add its ` +
                                  'WIT with --wit-dir');
            const body = reg.get(id);
            out.push(`package ${id} {\n${body}\n}\n`);
            queue.push(body);
        }
    }
    return out.join('\n');
}

function worldText(witArg) {
    if (fs.existsSync(witArg)) return fs.readFileSync(witArg, 'utf8');
    // A bare name selects one of the SDK's own worlds (sdk/wit/eos-sdk.wit).
    return fs.readFileSync(path.join(sdkDir, 'wit', 'eos-sdk.wit'), 'utf8');
}

function defaultWorld(witArg, text) {
    if (!fs.existsSync(witArg)) return witArg;
    const worlds = [...text.replace(/\/\/.*$/gm, '').matchAll(/\bworld\s+([a-z][\w-]*)/g)]
        .map((m) => m[1]);
    if (worlds.length !== 1) die(`${witArg} has ${worlds.length} worlds; say which with --world`);
    return worlds[0];
}

// Lists a core module's import module names, to decide whether the preview1 adapter
// is needed (wasi-libc functions such as fopen import `wasi_snapshot_preview1`).
function coreImportModules(bytes) {
    const mods = new Set();
    let p = 8;
    const leb = () => {
        let r = 0, s = 0, b;
        do { b = bytes[p++]; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80);
        return r >>> 0;
    };
    const name = () => { const n = leb(); const s = Buffer.from(bytes.subarray(p, p + n)).toString(); p += n; return s; };
    while (p < bytes.length) {
        const id = bytes[p++];
        const size = leb();
        const end = p + size;
        if (id === 2) {
            const count = leb();
            for (let i = 0; i < count; i++) {
                mods.add(name());
                name();
                const kind = bytes[p++];
                if (kind === 0) leb();
                else if (kind === 1) { p++; const f = leb(); leb(); if (f & 1) leb(); }
                else if (kind === 2) { const f = leb(); leb(); if (f & 1) leb(); }
                else if (kind === 3) { p += 2; }
                else if (kind === 4) { p++; leb(); }
            }
        }
        p = end;
    }
    return mods;
}

function parseArgs(argv) {
    const opts = { _: [], witDir: [], import: [], export: [] };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (!a.startsWith('--')) { opts._.push(a); continue; }
        const key = a.slice(2).replace(/-(\w)/g, (_, c) => c.toUpperCase());
        if (key === 'only') { opts.only = true; continue; }
        const val = argv[++i];
        if (val === undefined) die(`${a} needs a value`);
        if (Array.isArray(opts[key])) opts[key].push(val); else opts[key] = val;
    }
    return opts;
}

async function cmdBuild(o) {
    if (!o.core || !o.wit || !o.out) die('build needs --core, --wit and --out');
    const { dir, api } = await loadJco(o.tools);
    const text = worldText(o.wit);
    const world = o.world || defaultWorld(o.wit, text);
    const witSource = assemble(text, buildRegistry(dir, o.witDir));
    const core = fs.readFileSync(o.core);
    let adapters = [];
    const mode = o.adapter || 'auto';
    if (mode !== 'none') {
        const needed = coreImportModules(core).has('wasi_snapshot_preview1');
        if (mode !== 'auto' || needed) {
            const file = mode === 'auto' ? path.join(dir, 'lib', 'wasi_snapshot_preview1.reactor.wasm')
                                         : mode;
            adapters = [['wasi_snapshot_preview1', fs.readFileSync(file)]];
        }
    }
    let component;
    try {
        const embedded = await api.componentEmbed({ binary: core, witSource, world });
        component = await api.componentNew(embedded, adapters);
    } catch (e) {
        die(`cannot make a component of ${o.core} with world ${world}: ${e.message || e}`);
    }
    fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
    fs.writeFileSync(o.out, component);
}

async function worldOf(file, tools) {
    const { api } = await loadJco(tools);
    return api.componentWit(fs.readFileSync(file));
}

// Import/export lines of the component's own world (not of nested packages).
function worldItems(wit) {
    const items = { import: [], export: [] };
    const m = /\bworld\s+[\w-]+\s*\{([\s\S]*?)\n\}/.exec(wit);
    if (!m) return items;
    for (const line of m[1].split('\n')) {
        const t = /^\s*(import|export)\s+([^;{]+?)\s*;?\s*$/.exec(line);
        if (t) items[t[1]].push(t[2].trim());
    }
    return items;
}

async function cmdCheck(o) {
    const file = o._[1];
    if (!file) die('check needs a component file');
    const items = worldItems(await worldOf(file, o.tools));
    const problems = [];
    for (const kind of ['import', 'export']) {
        for (const want of o[kind]) {
            if (!items[kind].some((have) => have === want || have.startsWith(want + ':')))
                problems.push(`missing ${kind} ${want}`);
        }
        if (o.only) {
            for (const have of items[kind]) {
                if (!o[kind].some((want) => have === want || have.startsWith(want + ':')))
                    problems.push(`unexpected ${kind} ${have}`);
            }
        }
    }
    if (problems.length) {
        process.stderr.write(`${file}:\n  ${problems.join('\n  ')}\nits world:\n` +
                             `  import ${items.import.join('\n  import ')}\n` +
                             `  export ${items.export.join('\n  export ')}\n`);
        process.exit(1);
    }
    process.stdout.write(`${file}: ${items.import.length} imports, ` +
                         `${items.export.length} exports as expected\n`);
}

const o = parseArgs(process.argv.slice(2));
const cmd = o._[0];
if (cmd === 'build') await cmdBuild(o);
else if (cmd === 'wit') process.stdout.write(await worldOf(o._[1] || die('wit needs a file'), o.tools));
else if (cmd === 'check') await cmdCheck(o);
else if (cmd === 'assemble') {
    const { dir } = await loadJco(o.tools);
    process.stdout.write(assemble(worldText(o.wit), buildRegistry(dir, o.witDir)));
} else die('usage: eos-component.mjs build|wit|check|assemble ... (see the head of this file)');
