// Converts WebAssembly test scripts (.wast) into the JSON-plus-binaries form
// that tests/wasm/spec_runner reads (wast2json's layout), without wabt: the
// script is split into commands here and text modules are assembled by
// wasm-tools' parser (through @bytecodealliance/jco), which reads every proposal.
//
// Usage: node tools/wastconv.mjs --root DIR --out DIR [--stamp FILE] REL.wast...
// Each DIR/REL.wast becomes OUT/REL/<base>.json plus OUT/REL/<base>.<n>.wasm;
// a script whose JSON is newer than both the script and this file is skipped.
import { parse } from '@bytecodealliance/jco';
import fs from 'node:fs';
import path from 'node:path';

// ---- tokens and S-expressions ------------------------------------------

class WastError extends Error {}

// Returns the top-level forms of src as trees: a list is {list, start, end},
// an atom {atom, start, end}, a string {str: bytes, start, end}.
function readForms(src) {
  let i = 0;
  const n = src.length;
  const lineStarts = [0];
  for (let k = 0; k < n; k++) if (src.charCodeAt(k) === 10) lineStarts.push(k + 1);
  function skipSpace() {
    for (;;) {
      if (i >= n) return;
      const c = src[i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
      if (c === ';' && src[i + 1] === ';') {
        while (i < n && src[i] !== '\n') i++;
        continue;
      }
      if (c === '(' && src[i + 1] === ';') {
        let depth = 0;
        do {
          if (src[i] === '(' && src[i + 1] === ';') { depth++; i += 2; }
          else if (src[i] === ';' && src[i + 1] === ')') { depth--; i += 2; }
          else i++;
        } while (depth > 0 && i < n);
        if (depth > 0) throw new WastError('unterminated block comment');
        continue;
      }
      return;
    }
  }
  function readString() {
    const start = i;
    i++; // opening quote
    const bytes = [];
    const enc = new TextEncoder();
    while (i < n && src[i] !== '"') {
      const c = src[i];
      if (c !== '\\') {
        const cp = src.codePointAt(i);
        const ch = String.fromCodePoint(cp);
        for (const b of enc.encode(ch)) bytes.push(b);
        i += ch.length;
        continue;
      }
      const e = src[i + 1];
      i += 2;
      if (e === 'n') bytes.push(10);
      else if (e === 't') bytes.push(9);
      else if (e === 'r') bytes.push(13);
      else if (e === '"') bytes.push(34);
      else if (e === "'") bytes.push(39);
      else if (e === '\\') bytes.push(92);
      else if (e === 'u' && src[i] === '{') {
        const close = src.indexOf('}', i);
        const cp = parseInt(src.slice(i + 1, close).replace(/_/g, ''), 16);
        for (const b of enc.encode(String.fromCodePoint(cp))) bytes.push(b);
        i = close + 1;
      } else if (/[0-9a-fA-F]/.test(e) && /[0-9a-fA-F]/.test(src[i])) {
        bytes.push(parseInt(e + src[i], 16));
        i++;
      } else {
        throw new WastError('bad string escape');
      }
    }
    if (i >= n) throw new WastError('unterminated string');
    i++;
    return { str: Uint8Array.from(bytes), start, end: i };
  }
  function readForm() {
    skipSpace();
    if (i >= n) return null;
    const c = src[i];
    if (c === '(') {
      const start = i++;
      const list = [];
      for (;;) {
        skipSpace();
        if (i >= n) throw new WastError('unbalanced parentheses');
        if (src[i] === ')') { i++; break; }
        list.push(readForm());
      }
      return { list, start, end: i };
    }
    if (c === ')') throw new WastError('unexpected )');
    if (c === '"') return readString();
    const start = i++;
    while (i < n && !/[\s()";]/.test(src[i])) i++;
    return { atom: src.slice(start, i), start, end: i };
  }
  const forms = [];
  for (;;) {
    const f = readForm();
    if (!f) break;
    forms.push(f);
  }
  const lineOf = (pos) => {
    let lo = 0, hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= pos) lo = mid; else hi = mid - 1;
    }
    return lo + 1;
  };
  return { forms, lineOf };
}

// Annotations (@...) may sit anywhere in a command; they are dropped here and
// kept in the module texts handed to the parser.
const isAnnot = (x) => !!(x && x.list && x.list[0] && x.list[0].atom && x.list[0].atom.startsWith('@'));
const strip = (l) => l.filter((x) => !isAnnot(x));
const head = (f) => (f && f.list && strip(f.list)[0] && strip(f.list)[0].atom) || null;
const isId = (f) => f && f.atom && f.atom.startsWith('$');
// ignoreBOM keeps a leading U+FEFF, which is part of some names.
const utf8 = (bytes) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
const errText = (e) => String((e && e.message) || e).split('\n')[0].slice(0, 300);

// ---- constants ------------------------------------------------------------

// Literal values are read by the same parser as the modules: every constant
// of a script becomes a global of one scratch module, and the global section
// of its binary gives the exact bits.
class Consts {
  constructor() { this.items = []; }
  add(text, kind) { this.items.push({ text, kind, bytes: null }); return this.items.length - 1; }
  async resolve() {
    if (!this.items.length) return;
    const body = (it) => `(global ${it.kind} (${it.text}))`;
    try {
      this.decode(await parse(`(module ${this.items.map(body).join(' ')})`), this.items);
    } catch {
      for (const it of this.items) {
        try { this.decode(await parse(`(module ${body(it)})`), [it]); } catch { it.bad = true; }
      }
    }
  }
  decode(bin, items) {
    let p = 8;
    const leb = () => { let r = 0, s = 0, b; do { b = bin[p++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return r; };
    while (p < bin.length) {
      const id = bin[p++];
      const size = leb();
      if (id !== 6) { p += size; continue; }
      const count = leb();
      for (let k = 0; k < count; k++) {
        p += 2; // value type, mutability
        const op = bin[p++];
        const start = p;
        if (op === 0x41 || op === 0x42) { while (bin[p] & 0x80) p++; p++; }
        else if (op === 0x43) p += 4;
        else if (op === 0x44) p += 8;
        else if (op === 0xfd) { leb(); }
        const from = op === 0xfd ? p : start;
        if (op === 0xfd) p += 16;
        items[k].op = op;
        items[k].bytes = bin.slice(from, p);
        p++; // end
      }
      return;
    }
  }
}

function slebBig(bytes) {
  let r = 0n, s = 0n, b;
  let k = 0;
  do { b = bytes[k++]; r |= BigInt(b & 0x7f) << s; s += 7n; } while (b & 0x80);
  if (b & 0x40) r -= 1n << s;
  return r;
}

const REF_TYPES = {
  func: 'funcref', extern: 'externref', any: 'anyref', eq: 'eqref', i31: 'i31ref',
  struct: 'structref', array: 'arrayref', exn: 'exnref', none: 'nullref',
  nofunc: 'nullfuncref', noextern: 'nullexternref', noexn: 'nullexnref',
};

// Turns a value form into a JSON value, with lazy fields filled after the
// constants are resolved (fin() is called then).
function valueOf(f, consts, src) {
  const h = head(f);
  if (!h) throw new WastError('expected a value');
  const args = strip(f.list).slice(1);
  if (h === 'either') {
    const vals = args.map((a) => valueOf(a, consts, src));
    return { fin: () => ({ type: 'either', values: vals.map((v) => v.fin()) }) };
  }
  if (h === 'ref.null') {
    const t = args[0] && args[0].atom;
    const type = t ? REF_TYPES[t] || 'ref' : 'refnull';
    return { fin: () => ({ type, value: 'null' }) };
  }
  if (h === 'ref.extern' || h === 'ref.host') {
    const v = args[0] && args[0].atom;
    return { fin: () => (v === undefined ? { type: 'externref' } : { type: 'externref', value: v }) };
  }
  if (h.startsWith('ref.')) {
    const k = h.slice(4);
    const type = k === 'func' ? 'funcref' : k === 'extern' ? 'externref' : `${k}ref`;
    return { fin: () => ({ type }) };
  }
  const m = /^(i32|i64|f32|f64|v128)\.const$/.exec(h);
  if (!m) throw new WastError(`unknown value ${h}`);
  const type = m[1];
  if (type !== 'v128') {
    const lit = args[0] && args[0].atom;
    if (type[0] === 'f' && /^nan:(canonical|arithmetic)$/.test(lit))
      return { fin: () => ({ type, value: lit }) };
    const idx = consts.add(`${type}.const ${lit}`, type);
    return { fin: () => ({ type, value: scalar(type, consts.items[idx]) }) };
  }
  const shape = args[0] && args[0].atom;
  const lanes = args.slice(1).map((a) => a.atom);
  const pats = lanes.map((l) => (/^nan:(canonical|arithmetic)$/.test(l) ? l : null));
  const text = `v128.const ${shape} ${lanes.map((l, k) => (pats[k] ? '0' : l)).join(' ')}`;
  const idx = consts.add(text, 'v128');
  const lt = shape.slice(0, 3).replace('x', '');
  return {
    fin: () => {
      const it = consts.items[idx];
      if (it.bad || !it.bytes) throw new WastError(`bad constant ${text}`);
      const b = Buffer.from(it.bytes);
      const w = { i8: 1, i16: 2, i32: 4, i64: 8, f32: 4, f64: 8 }[lt];
      const value = [];
      for (let k = 0; k < 16 / w; k++) {
        if (pats[k]) { value.push(pats[k]); continue; }
        const v = w === 1 ? b.readUInt8(k) : w === 2 ? b.readUInt16LE(2 * k)
          : w === 4 ? b.readUInt32LE(4 * k) : b.readBigUInt64LE(8 * k);
        value.push(v.toString());
      }
      return { type: 'v128', lane_type: lt, value };
    },
  };
}

function scalar(type, it) {
  if (it.bad || !it.bytes) throw new WastError(`bad constant for ${type}`);
  const b = Buffer.from(it.bytes);
  if (type === 'i32') return BigInt.asUintN(32, slebBig(b)).toString();
  if (type === 'i64') return BigInt.asUintN(64, slebBig(b)).toString();
  if (type === 'f32') return b.readUInt32LE(0).toString();
  return b.readBigUInt64LE(0).toString();
}

// ---- modules --------------------------------------------------------------

// Reads a module form: returns {name, kind: 'text'|'binary'|'quote',
// definition, bytes | text}.
function moduleOf(f, src) {
  const l = strip(f.list);
  let k = 1;
  const out = { name: null, definition: false };
  if (l[k] && l[k].atom === 'definition') { out.definition = true; k++; }
  if (isId(l[k])) out.name = l[k++].atom;
  if (l[k] && (l[k].atom === 'binary' || l[k].atom === 'quote')) {
    const parts = l.slice(k + 1).filter((x) => x.str);
    if (l[k].atom === 'binary') {
      out.kind = 'binary';
      out.bytes = Buffer.concat(parts.map((x) => Buffer.from(x.str)));
    } else {
      out.kind = 'quote';
      // As in the reference interpreter: the quoted text is either a whole
      // module or the fields of one.
      let text;
      try {
        text = parts.map((x) => new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(x.str)).join(' ');
      } catch {
        text = null; // not UTF-8: malformed text
      }
      if (text === null) out.badText = 'malformed UTF-8 encoding';
      else out.text = /^\s*\(module\b/.test(text) ? text : `(module ${text})`;
    }
    return out;
  }
  out.kind = 'text';
  const bodyStart = l[k - 1].end;
  out.text = `(module ${src.slice(bodyStart, f.end - 1)})`;
  return out;
}

// wasm-tools refuses some raw characters (bidirectional and invisible ones)
// even in strings, where the spec allows them: inside strings every non-ASCII
// character is written as \u{...}; elsewhere the text stays as it is.
function escapeStrings(text) {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === ';' && text[i + 1] === ';') {
      const e = text.indexOf('\n', i);
      const end = e < 0 ? n : e;
      out += text.slice(i, end);
      i = end;
    } else if (c === '(' && text[i + 1] === ';') {
      let depth = 0;
      const start = i;
      do {
        if (text[i] === '(' && text[i + 1] === ';') { depth++; i += 2; }
        else if (text[i] === ';' && text[i + 1] === ')') { depth--; i += 2; }
        else i++;
      } while (depth > 0 && i < n);
      out += text.slice(start, i);
    } else if (c === '"') {
      out += c;
      i++;
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\') { out += text.slice(i, i + 2); i += 2; continue; }
        const cp = text.codePointAt(i);
        if (cp > 0x7f) {
          out += `\\u{${cp.toString(16)}}`;
          i += cp > 0xffff ? 2 : 1;
        } else {
          out += text[i++];
        }
      }
      if (i < n) out += text[i++];
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

// ---- the legacy exception-handling syntax -----------------------------------

// wasm-tools reads the legacy try only in its flat form (try bt ... catch x
// ... end, try bt ... delegate l): the folded form of the legacy test files,
// (try bt (do ...) (catch x ...) (catch_all ...)) or (try bt (do ...)
// (delegate l)), is rewritten into it. Other text is kept as it is.
function flattenLegacyTry(text) {
  if (!/\(\s*do\b/.test(text)) return text;
  const render = (f) => {
    if (!f.list) return text.slice(f.start, f.end);
    const parts = f.list;
    const doAt = parts.findIndex((x) => head(x) === 'do');
    if (head(f) === 'try' && doAt > 0) {
      const inner = (x) => x.list.slice(1).map(render).join(' ');
      let out = 'try ' + parts.slice(1, doAt).map(render).join(' ') + ' ' + inner(parts[doAt]);
      let delegated = false;
      for (const c of parts.slice(doAt + 1)) {
        if (head(c) === 'delegate') { out += ' delegate ' + inner(c); delegated = true; }
        else out += ` ${head(c)} ` + inner(c);
      }
      return delegated ? out : out + ' end';
    }
    let out = '', at = f.start;
    for (const x of parts) {
      out += text.slice(at, x.start) + render(x);
      at = x.end;
    }
    return out + text.slice(at, f.end);
  };
  return readForms(text).forms.map(render).join('\n');
}

// ---- one script -------------------------------------------------------------

async function convert(wastPath, outDir, rel) {
  const src = fs.readFileSync(wastPath, 'utf8');
  const base = path.basename(wastPath, '.wast');
  fs.mkdirSync(outDir, { recursive: true });
  const commands = [];
  let nmod = 0;
  const stats = { modules: 0, convErrors: 0 };
  const consts = new Consts();
  const pending = []; // commands whose values are resolved at the end

  async function emitModule(m, cmd) {
    // Writes the module's binary (or records why the text cannot be read).
    let bytes = m.bytes;
    if (m.badText) {
      cmd.text_error = m.badText;
      return false;
    }
    if (!bytes) {
      try {
        bytes = await parse(escapeStrings(flattenLegacyTry(m.text)));
      } catch (e) {
        cmd.text_error = errText(e);
        return false;
      }
    }
    const file = `${base}.${nmod++}.wasm`;
    fs.writeFileSync(path.join(outDir, file), bytes);
    cmd.filename = file;
    cmd.module_type = 'binary';
    stats.modules++;
    return true;
  }

  function actionOf(f) {
    const h = head(f);
    const l = strip(f.list);
    let k = 1;
    const act = { type: h };
    if (isId(l[k])) act.module = l[k++].atom;
    if (!l[k] || !l[k].str) throw new WastError('action without a name');
    act.field = utf8(l[k++].str);
    if (h === 'invoke') {
      const vals = l.slice(k).map((a) => valueOf(a, consts, src));
      return { act, fin: () => { act.args = vals.map((v) => v.fin()); return act; } };
    }
    if (h !== 'get') throw new WastError(`unknown action ${h}`);
    return { act, fin: () => act };
  }

  let { forms, lineOf } = readForms(src);
  forms = forms.filter((f) => !isAnnot(f));
  // A script of module fields only is one inline module.
  const FIELDS = /^(func|memory|table|global|type|rec|import|export|data|elem|start|tag)$/;
  if (forms.length && forms.every((f) => FIELDS.test(head(f) || '')))
    forms = [{ list: [{ atom: 'module', start: 0, end: 0 }, ...forms], start: 0, end: src.length + 1,
               inline: true }];
  for (const f of forms) {
    const line = lineOf(f.start);
    const h = head(f);
    const l = f.list ? strip(f.list) : [];
    let cmd = { type: h || 'unknown', line };
    try {
      if (h === 'module') {
        if (l[1] && l[1].atom === 'instance') {
          cmd.type = 'module_instance';
          if (isId(l[2])) cmd.instance = l[2].atom;
          if (isId(l[3])) cmd.module = l[3].atom;
        } else {
          const m = moduleOf(f, src);
          if (m.definition) cmd.type = 'module_definition';
          if (m.name) cmd.name = m.name;
          if (!(await emitModule(m, cmd))) stats.convErrors++;
        }
      } else if (h === 'register') {
        cmd.as = utf8(l[1].str);
        if (isId(l[2])) cmd.name = l[2].atom;
      } else if (h === 'invoke' || h === 'get') {
        const a = actionOf(f);
        cmd.type = 'action';
        pending.push({ cmd, fin: () => { cmd.action = a.fin(); } });
      } else if (h === 'assert_return') {
        const a = actionOf(l[1]);
        const vals = l.slice(2).map((x) => valueOf(x, consts, src));
        pending.push({ cmd, fin: () => { cmd.action = a.fin(); cmd.expected = vals.map((v) => v.fin()); } });
      } else if (h === 'assert_trap' && head(l[1]) === 'module') {
        cmd.type = 'assert_uninstantiable';
        cmd.text = l[2] && l[2].str ? utf8(l[2].str) : '';
        if (!(await emitModule(moduleOf(l[1], src), cmd))) stats.convErrors++;
      } else if (h === 'assert_trap' || h === 'assert_exhaustion' || h === 'assert_exception') {
        const a = actionOf(l[1]);
        cmd.text = l[2] && l[2].str ? utf8(l[2].str) : '';
        pending.push({ cmd, fin: () => { cmd.action = a.fin(); } });
      } else if (h === 'assert_invalid' || h === 'assert_malformed' ||
                 h === 'assert_unlinkable' || h === 'assert_uninstantiable') {
        const m = moduleOf(l[1], src);
        cmd.text = l[2] && l[2].str ? utf8(l[2].str) : '';
        const ok = await emitModule(m, cmd);
        if (!ok && h === 'assert_malformed' && m.kind !== 'binary') {
          // The text parser refused it: that is the expected outcome.
          cmd.module_type = 'text';
          cmd.text_rejected = true;
          cmd.rejected_because = cmd.text_error;
          delete cmd.text_error;
        } else if (!ok) {
          stats.convErrors++;
        }
      } else {
        // thread/wait, custom-section assertions, ...: kept for counting.
        cmd.type = h || 'unknown';
      }
    } catch (e) {
      cmd.text_error = errText(e);
      stats.convErrors++;
    }
    commands.push(cmd);
  }
  await consts.resolve();
  // A command whose values cannot be read is kept, marked as not converted.
  for (const { cmd, fin } of pending) {
    try {
      fin();
    } catch (e) {
      cmd.text_error = errText(e);
      stats.convErrors++;
    }
  }
  const json = { source_filename: wastPath, suite_file: rel, commands };
  fs.writeFileSync(path.join(outDir, `${base}.json`), JSON.stringify(json, null, 0).replace(/\},\{"type"/g, '},\n{"type"'));
  return stats;
}

// ---- main -------------------------------------------------------------------

async function main() {
  const argv = process.argv.slice(2);
  let root = '.', out = '.', stamp = null;
  const files = [];
  for (let k = 0; k < argv.length; k++) {
    if (argv[k] === '--root') root = argv[++k];
    else if (argv[k] === '--out') out = argv[++k];
    else if (argv[k] === '--stamp') stamp = argv[++k];
    else files.push(argv[k]);
  }
  const self = fs.statSync(new URL(import.meta.url)).mtimeMs;
  let converted = 0, cached = 0, errors = 0;
  for (const rel of files) {
    const wast = path.join(root, rel);
    const dir = path.join(out, rel.replace(/\.wast$/, ''));
    const json = path.join(dir, `${path.basename(rel, '.wast')}.json`);
    try {
      const t = fs.statSync(json).mtimeMs;
      if (t > fs.statSync(wast).mtimeMs && t > self) { cached++; continue; }
    } catch { /* not converted yet */ }
    try {
      const s = await convert(wast, dir, rel);
      converted++;
      if (s.convErrors) console.log(`${rel}: ${s.convErrors} commands not converted`);
    } catch (e) {
      // The script itself cannot be split: an empty command list, one error.
      errors++;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(json, JSON.stringify({ source_filename: wast, suite_file: rel, commands: [
        { type: 'unknown', line: 0, text_error: errText(e) }] }));
      console.log(`${rel}: ${errText(e)}`);
    }
  }
  console.log(`wastconv: ${converted} converted, ${cached} cached, ${errors} unreadable`);
  if (stamp) {
    fs.mkdirSync(path.dirname(stamp), { recursive: true });
    fs.writeFileSync(stamp, `${files.length}\n`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
