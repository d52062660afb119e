// Splits the component model's reference test scripts (.wast) into commands
// and turns the components of assert_invalid / assert_malformed into binaries
// with jco's parser (wasm-tools), for test_refsuite.
// Usage: node refwast.mjs TESTDIR OUTDIR
// Writes OUTDIR/manifest.txt, one command a line, tab-separated:
//   kind  file  line  outcome  path-or-reason  expected-message
// outcome: "bin" (a binary to validate), "parse-rejected" (a quote/text form
// the parser refuses: malformed by definition), "skip" (with the reason).
import { readFileSync, writeFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// jco lives in the project's tools/node_modules.
const tools = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'tools');
const { parse } = await import(
  pathToFileURL(join(tools, 'node_modules/@bytecodealliance/jco/dist/api.js')).href);

const [testdir, outdir] = process.argv.slice(2);
if (!testdir || !outdir) {
  console.error('usage: refwast.mjs TESTDIR OUTDIR');
  process.exit(2);
}
mkdirSync(outdir, { recursive: true });

const nyi = new Set();
try {
  for (const l of readFileSync(join(testdir, 'nyi.txt'), 'utf8').split('\n')) {
    const t = l.trim();
    if (t && !t.startsWith('#')) nyi.add(t.replace(/^\.\//, ''));
  }
} catch { /* no nyi.txt: nothing filtered */ }

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (e.endsWith('.wast')) out.push(p);
  }
  return out;
}

// Top-level forms of a script: [start, end) offsets and the line they start on.
function forms(src) {
  const res = [];
  let i = 0, depth = 0, start = -1, line = 1, startLine = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '\n') { line++; i++; continue; }
    if (c === ';' && src[i + 1] === ';') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '(' && src[i + 1] === ';') {
      let d = 1; i += 2;
      while (i < src.length && d > 0) {
        if (src[i] === '\n') line++;
        if (src[i] === '(' && src[i + 1] === ';') { d++; i += 2; continue; }
        if (src[i] === ';' && src[i + 1] === ')') { d--; i += 2; continue; }
        i++;
      }
      continue;
    }
    if (c === '"') {
      i++;
      while (i < src.length && src[i] !== '"') {
        if (src[i] === '\\') i++;
        else if (src[i] === '\n') line++;
        i++;
      }
      i++;
      continue;
    }
    if (c === '(') {
      if (depth === 0) { start = i; startLine = line; }
      depth++;
    } else if (c === ')') {
      depth--;
      if (depth === 0) res.push({ start, end: i + 1, line: startLine });
    }
    i++;
  }
  return res;
}

// The sub-forms of a form's text (one level down).
function children(text) {
  const inner = text.slice(1, -1);
  return forms(inner).map((f) => inner.slice(f.start, f.end));
}

// Decodes the string literals of a quote form into one text.
function unquote(text) {
  const bytes = [];
  const re = /"((?:[^"\\]|\\.)*)"/gs;
  let m;
  while ((m = re.exec(text))) {
    const s = m[1];
    for (let i = 0; i < s.length; i++) {
      if (s[i] !== '\\') {
        bytes.push(...Buffer.from(s[i], 'utf8'));
        continue;
      }
      const n = s[++i];
      if (/[0-9a-fA-F]/.test(n)) { bytes.push(parseInt(s.substr(i, 2), 16)); i++; }
      else if (n === 'n') bytes.push(10);
      else if (n === 't') bytes.push(9);
      else if (n === 'r') bytes.push(13);
      else if (n === 'u') {
        const close = s.indexOf('}', i);
        bytes.push(...Buffer.from(String.fromCodePoint(parseInt(s.slice(i + 2, close), 16)), 'utf8'));
        i = close;
      } else bytes.push(n.charCodeAt(0));
    }
    bytes.push(32);
  }
  return Buffer.from(bytes).toString('utf8');
}

// What the async ABI (WASI 0.3) brings: such commands are skipped for now.
const ASYNC = /\b(async|stream|future|error-context|waitable|task\.|subtask|context\.(get|set)|thread\.|backpressure|yield)\b/;

const lines = [];
for (const path of walk(testdir)) {
  const rel = relative(testdir, path);
  const kind = rel.replace(/\.wast$/, '');
  const src = readFileSync(path, 'utf8');
  const fileAsync = rel.startsWith('async/');
  for (const f of forms(src)) {
    const text = src.slice(f.start, f.end);
    const head = /^\(\s*([a-z_]+)/.exec(text);
    if (head && head[1] === 'component' && !/^\(\s*component\s+instance\b/.test(text)) {
      // A valid component of the script: the validator must accept it.
      const row = [kind, rel, f.line, 'valid', '', '', ''];
      if (nyi.has(rel) || fileAsync || ASYNC.test(text)) {
        row[4] = 'skip'; row[5] = 'needs the async ABI (WASI 0.3) or listed in nyi.txt';
      } else {
        const src2 = text.replace(/^\(\s*component\s+definition\b/, '(component');
        try {
          const out = `${kind.replace(/\//g, '-')}-${f.line}.wasm`;
          writeFileSync(join(outdir, out), await parse(src2));
          row[4] = 'bin'; row[5] = out;
        } catch (e) {
          row[4] = 'skip'; row[5] = 'the text parser refuses it: ' + String(e).split('\n')[0].slice(0, 120);
        }
      }
      lines.push(row.join('\t'));
      continue;
    }
    if (!head || (head[1] !== 'assert_invalid' && head[1] !== 'assert_malformed')) continue;
    const cmd = head[1];
    const [comp] = children(text);
    const after = text.slice(text.indexOf(comp) + comp.length);
    const msg = unquote(after).trim();
    const row = [kind, rel, f.line, '', '', msg.replace(/[\t\n]/g, ' ')];
    if (nyi.has(rel)) {
      row[3] = 'skip'; row[4] = 'listed in nyi.txt (the reference does not run it)';
    } else if (fileAsync || ASYNC.test(comp)) {
      row[3] = 'skip'; row[4] = 'needs the async ABI (WASI 0.3)';
    } else {
      let source = comp;
      const q = /^\(\s*component\s+(\$[^\s()]+\s+)?quote\b/.exec(comp);
      if (q) source = '(component ' + unquote(comp.slice(q[0].length)) + ')';
      try {
        const bin = await parse(source);
        const out = `${kind.replace(/\//g, '-')}-${f.line}.wasm`;
        writeFileSync(join(outdir, out), bin);
        row[3] = 'bin'; row[4] = out;
      } catch (e) {
        if (cmd === 'assert_malformed') {
          row[3] = 'parse-rejected'; row[4] = '-';
        } else {
          row[3] = 'skip';
          row[4] = 'the text parser refuses it: ' + String(e).split('\n')[0].slice(0, 120);
        }
      }
    }
    row.splice(3, 0, cmd);
    lines.push(row.join('\t'));
  }
}
writeFileSync(join(outdir, 'manifest.txt'), lines.join('\n') + '\n');
console.log(`refwast: ${lines.length} commands`);
