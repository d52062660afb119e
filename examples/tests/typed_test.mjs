#!/usr/bin/env node
// Calls every export of the typed example through jco's transpiled JavaScript
// bindings (Node.js as the reference host) and checks the results: a test of the
// example's hand-written canonical ABI lifting and lowering.
//
//   typed_test.mjs --tools DIR --wasm typed.wasm --workdir DIR
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const opts = {};
for (let i = 2; i < process.argv.length; i += 2) opts[process.argv[i].slice(2)] = process.argv[i + 1];
const api = path.join(opts.tools, 'node_modules', '@bytecodealliance', 'jco', 'dist', 'api.js');
if (!fs.existsSync(api)) {
    console.log(`SKIPPED: jco not found at ${api}; install it with scripts/install-deps.sh`);
    process.exit(77);
}
const { transpile } = await import(pathToFileURL(api).href);
const { files } = await transpile(fs.readFileSync(opts.wasm), { name: 'typed' });
fs.mkdirSync(opts.workdir, { recursive: true });
for (const [name, bytes] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(opts.workdir, name)), { recursive: true });
    fs.writeFileSync(path.join(opts.workdir, name), bytes);
}
const m = await import(pathToFileURL(path.join(opts.workdir, 'typed.js')).href);

let passed = 0;
function check(what, fn) {
    fn();
    passed++;
    console.log(`ok   ${what}`);
}

check('hello("world")', () => assert.equal(m.hello('world'), 'Hello, world!'));
check('hello("") and a long name', () => {
    assert.equal(m.hello(''), 'Hello, !');
    assert.equal(m.hello('x'.repeat(100000)), `Hello, ${'x'.repeat(100000)}!`);
});
check('add(2, 3) and wrapping', () => {
    assert.equal(m.add(2, 3), 5);
    assert.equal(m.add(2147483647, 1), -2147483648);
});
check('translate(record)', () => assert.deepEqual(m.translate({ x: 1, y: 2 }, 10, -20), { x: 11, y: -18 }));
check('area(variant)', () => {
    assert.equal(m.area({ tag: 'square', val: 5 }), 25n);
    assert.equal(m.area({ tag: 'rectangle', val: [3, 4] }), 12n);
    assert.equal(m.area({ tag: 'empty' }), 0n);
    assert.equal(m.area({ tag: 'square', val: 4294967295 }), 18446744065119617025n);
});
check('find(list<string>) -> option', () => {
    assert.equal(m.find(['a', 'bb', 'c'], 'bb'), 1);
    assert.equal(m.find(['a'], 'z'), undefined);
    assert.equal(m.find([], ''), undefined);
});
check('safe-div -> result', () => {
    assert.equal(m.safeDiv(7, 2), 3);
    assert.throws(() => m.safeDiv(1, 0), (e) => e.payload === 'division by zero');
    assert.throws(() => m.safeDiv(-2147483648, -1), (e) => e.payload === 'overflow');
});
check('sum(list<s64>)', () => {
    assert.equal(m.sum([1n, 2n, 3n]), 6n);
    assert.equal(m.sum([]), 0n);
    assert.equal(m.sum([9223372036854775807n, 1n]), -9223372036854775808n);
});
check('stats(list<f64>) -> tuple', () => {
    assert.deepEqual(m.stats([1, 2, 3, 4]), [4, 2.5]);
    const [n, mean] = m.stats([]);
    assert.equal(n, 0);
    assert.ok(Number.isNaN(mean));
});
check('invert(flags)', () => {
    assert.deepEqual(m.invert({ read: true }), { read: false, write: true, exec: true });
    assert.deepEqual(m.invert({ read: true, write: true, exec: true }), { read: false, write: false, exec: false });
});
check('next-color(enum)', () => {
    assert.equal(m.nextColor('red'), 'green');
    assert.equal(m.nextColor('blue'), 'red');
});
console.log(`${passed} passed, 0 failed`);
