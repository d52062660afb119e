// Turns the component model's reference run scripts (values/, resources/,
// linking/, async/) into component binaries and one manifest of run commands per
// script, for test_refrun.
// Usage: node refrun.mjs TESTDIR OUTDIR [LOCALDIR]
// LOCALDIR holds the project's own scripts in the same form (run as local/*).
// Writes OUTDIR/<dir>-<name>.txt (e.g. values-concat.txt), one command a
// line, tab-separated, the first three fields being  command  script  line:
//   def     S L  NAME  BINARY  ASYNC      a component definition (ASYNC: 1 when
//                                          its text uses the async ABI)
//   bad     S L  NAME  REASON              a definition the text parser refuses
//   inst    S L  NAME                      instantiate definition NAME; later
//                                          invokes go to this instance
//   invoke  S L  FUNC  ARGS                a call that must not trap
//   return  S L  FUNC  ARGS  RESULTS       a call and its expected results
//   trap    S L  FUNC  ARGS  MESSAGE       a call that must trap
//   skip    S L  REASON                    a command not run, with the reason
// A top-level (component ...) is a definition (named by its $id, else @LINE)
// plus its instance.
// ARGS and RESULTS are values, space-separated, in prefix form:
//   b:0|1  i:DEC (any integer kind)  f:TEXT (floats, strtod syntax)
//   c:CODEPOINT  s:HEX (UTF-8 bytes, may be empty)  l:N tu:N (N values follow)
//   r:N (N pairs  n:NAME VALUE)  v:NAME:0|1 [VALUE]  e:NAME  g:N (N  n:NAME)
//   o:0 | o:1 VALUE  ok:0|1 [VALUE]  err:0|1 [VALUE]
import { readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const tools = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'tools');
const { parse } = await import(
  pathToFileURL(join(tools, 'node_modules/@bytecodealliance/jco/dist/api.js')).href);

const [testdir, outdir, localdir] = process.argv.slice(2);
if (!testdir || !outdir) {
  console.error('usage: refrun.mjs TESTDIR OUTDIR');
  process.exit(2);
}
mkdirSync(outdir, { recursive: true });

const ASYNC_REASON = 'async ABI (WASI 0.3): not supported yet';
const ASYNC = /\b(async|stream|future|error-context|waitable|waitable-set|task\.[a-z-]+|subtask\.[a-z-]+|context\.(get|set)|thread\.[a-z-]+|backpressure\.[a-z-]+|yield)\b/;

// S-expressions: atoms as strings, string literals as {str: Buffer}, lists
// as arrays carrying the line they start on.
function tokenize(src) {
  const out = [];
  let i = 0, line = 1;
  while (i < src.length) {
    const c = src[i];
    if (c === '\n') { line++; i++; continue; }
    if (/\s/.test(c)) { i++; continue; }
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
    if (c === '(' || c === ')') { out.push({ t: c, line, at: i }); i++; continue; }
    if (c === '"') {
      const start = i++;
      while (i < src.length && src[i] !== '"') {
        if (src[i] === '\\') i++;
        else if (src[i] === '\n') line++;
        i++;
      }
      i++;
      out.push({ t: 'str', v: unescape(src.slice(start + 1, i - 1)), line, at: start });
      continue;
    }
    const start = i;
    while (i < src.length && !/[\s()";]/.test(src[i])) i++;
    out.push({ t: 'atom', v: src.slice(start, i), line, at: start });
  }
  return out;
}

function unescape(s) {
  const bytes = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') {
      const cp = s.codePointAt(i);
      bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
      if (cp > 0xffff) i++;
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
  return Buffer.from(bytes);
}

// Trees of the token stream; each list keeps its source span.
function trees(toks) {
  const stack = [[]];
  for (const k of toks) {
    if (k.t === '(') {
      const l = []; l.line = k.line; l.start = k.at;
      stack[stack.length - 1].push(l); stack.push(l);
    } else if (k.t === ')') {
      const l = stack.pop(); l.end = k.at + 1;
    } else stack[stack.length - 1].push(k);
  }
  return stack[0];
}

const atom = (x) => (x && !Array.isArray(x) && x.t === 'atom' ? x.v : undefined);
const str = (x) => (x && !Array.isArray(x) && x.t === 'str' ? x.v : undefined);

function int(text) {
  let t = text.replace(/_/g, ''), neg = false;
  if (t[0] === '-' || t[0] === '+') { neg = t[0] === '-'; t = t.slice(1); }
  const v = BigInt(t);
  return (neg ? -v : v).toString();
}

// A value form, from its head and its arguments, in the manifest's form.
function value(head, args) {
  const kind = head.replace(/\.(const|some|none|ok|err)$/, '');
  const op = head.slice(kind.length + 1);
  const vals = (list) => list.map((x) => {
    if (!Array.isArray(x)) throw new Error(`value expected, found ${x.v}`);
    return value(atom(x[0]), x.slice(1));
  });
  switch (kind) {
    case 'bool': return 'b:' + (atom(args[0]) === 'true' ? 1 : 0);
    case 'u8': case 's8': case 'u16': case 's16': case 'u32': case 's32':
    case 'u64': case 's64': return 'i:' + int(atom(args[0]));
    case 'f32': case 'f64': return 'f:' + atom(args[0]);
    case 'char': return 'c:' + str(args[0]).toString('utf8').codePointAt(0);
    case 'str': return 's:' + str(args[0]).toString('hex');
    case 'list': return ['l:' + args.length, ...vals(args)].join(' ');
    case 'tuple': return ['tu:' + args.length, ...vals(args)].join(' ');
    case 'record': {
      const out = ['r:' + args.length];
      for (const f of args) {
        // (field "name" kind.const args...)
        out.push('n:' + str(f[1]).toString('utf8'), value(atom(f[2]), f.slice(3)));
      }
      return out.join(' ');
    }
    case 'variant': {
      const name = str(args[0]).toString('utf8');
      return args.length > 1 ? `v:${name}:1 ${vals(args.slice(1))[0]}` : `v:${name}:0`;
    }
    case 'enum': return 'e:' + str(args[0]).toString('utf8');
    case 'flags': return ['g:' + args.length, ...args.map((a) => 'n:' + str(a).toString('utf8'))].join(' ');
    case 'option': return op === 'none' ? 'o:0' : `o:1 ${vals(args)[0]}`;
    case 'result':
      return args.length ? `${op}:1 ${vals(args)[0]}` : `${op}:0`;
    default: throw new Error(`unknown value form ${head}`);
  }
}

function invoke(form) {
  // (invoke "name" values...)
  if (atom(form[0]) !== 'invoke') throw new Error('only invoke actions are run');
  const name = str(form[1]).toString('utf8');
  const args = form.slice(2).map((x) => value(atom(x[0]), x.slice(1)));
  return [name, args.join(' ')];
}

const clean = (s) => s.replace(/[\t\n]/g, ' ');

// The parser's reason for refusing a text, without its debug wrapping.
function parseError(e, first) {
  const s = String(e);
  const custom = /kind: Custom\("((?:[^"\\]|\\.)*)"\)/.exec(s);
  const line = /line: (\d+)/.exec(s);
  const why = custom ? custom[1].replace(/\\(.)/g, '$1') : s.split('\n')[0];
  return clean((line ? `line ${first + Number(line[1])}: ` : '') + why).slice(0, 200);
}

async function convert(root, dir, file) {
  const rel = `${dir}/${file}`;
  const src = readFileSync(join(root, file), 'utf8');
  const base = `${dir}-${file.replace(/\.wast$/, '')}`;
  const rows = [];
  const isAsync = dir === 'async';
  for (const f of trees(tokenize(src))) {
    if (!Array.isArray(f)) continue;
    const head = atom(f[0]);
    const at = [rel, f.line];
    const text = src.slice(f.start, f.end);
    if (isAsync) {
      if (head === 'component' && atom(f[1]) === 'instance') continue;
      rows.push(['skip', ...at, ASYNC_REASON]);
      continue;
    }
    try {
      if (head === 'component' && atom(f[1]) === 'instance') {
        rows.push(['inst', ...at, atom(f[3])]);
      } else if (head === 'component') {
        const defn = atom(f[1]) === 'definition';
        // A named top-level component can also be instantiated again by name.
        const id = atom(defn ? f[2] : f[1]);
        const name = id && id.startsWith('$') ? id : `@${f.line}`;
        const body = defn ? text.replace(/^\(\s*component\s+definition\b/, '(component') : text;
        const out = `${base}-${f.line}.wasm`;
        try {
          writeFileSync(join(outdir, out), await parse(body));
          rows.push(['def', ...at, name, out, ASYNC.test(text) ? 1 : 0]);
        } catch (e) {
          rows.push(['bad', ...at, name, parseError(e, f.line)]);
        }
        if (!defn) rows.push(['inst', ...at, name]);
      } else if (head === 'invoke') {
        rows.push(['invoke', ...at, ...invoke(f)]);
      } else if (head === 'assert_return') {
        const [name, args] = invoke(f[1]);
        const res = f.slice(2).map((x) => value(atom(x[0]), x.slice(1)));
        rows.push(['return', ...at, name, args, res.join(' ')]);
      } else if (head === 'assert_trap') {
        const [name, args] = invoke(f[1]);
        rows.push(['trap', ...at, name, args, clean(str(f[2]).toString('utf8'))]);
      } else if (head === 'assert_invalid' || head === 'assert_malformed') {
        // Checked by cm/refsuite_invalid.
      } else {
        rows.push(['skip', ...at, `command ${head} is not run`]);
      }
    } catch (e) {
      rows.push(['skip', ...at, clean('the converter cannot read it: ' + e.message)]);
    }
  }
  writeFileSync(join(outdir, `${base}.txt`), rows.map((r) => r.join('\t')).join('\n') + '\n');
  return rows.length;
}

let total = 0;
const roots = ['values', 'resources', 'linking', 'async'].map((d) => [join(testdir, d), d]);
if (localdir) roots.push([localdir, 'local']);
for (const [root, dir] of roots) {
  for (const file of readdirSync(root).sort()) {
    if (file.endsWith('.wast')) total += await convert(root, dir, file);
  }
}
console.log(`refrun: ${total} commands`);
