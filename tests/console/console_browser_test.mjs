// The console in a real browser: Debian's chromium driven by playwright-core
// against `enclave-os serve --tee sim` on a free loopback port.
//
//   node console_browser_test.mjs --case NAME --bin ENCLAVE_OS --examples DIR
//        --tools DIR --out DIR
//
// Cases: attestation, tampered, refused, upload. Each writes screenshots of
// the views it reaches to --out (the build directory). Exit 77 = skipped
// (no chromium, no playwright-core, or the examples were not built).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
const CHROMIUM = process.env.EOS_CHROMIUM || '/usr/bin/chromium';
const TOKEN = 'console-test-token-0123456789';

function skip(why) {
  console.log(`SKIPPED: ${why}`);
  process.exit(77);
}
function fail(why) {
  console.error(`FAIL: ${why}`);
  process.exitCode = 1;
  throw new Error(why);
}
function check(cond, what) {
  if (!cond) fail(what);
  console.log(`ok - ${what}`);
}

if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} is missing (apt-get install chromium; scripts/install-deps.sh)`);
let chromium;
try {
  chromium = createRequire(path.resolve(args.tools, 'package.json'))('playwright-core').chromium;
} catch (e) {
  skip('playwright-core is not installed in tools/node_modules (cd tools && npm install)');
}
const wasm = (name) => path.join(args.examples, name, `${name}.wasm`);
if (!fs.existsSync(wasm('hello')) || !fs.existsSync(wasm('echo'))) skip(`the examples are not built in ${args.examples}`);
fs.mkdirSync(args.out, { recursive: true });

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function request(port, method, p, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path: p, headers, rejectUnauthorized: false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// enclave-os serve on a free port; retried when another process takes the port first.
async function startServer(extra) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eos-console-'));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const log = [];
    const proc = spawn(args.bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', path.join(dir, 'data'),
      '--tee', 'sim', '--token', TOKEN, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.on('data', (d) => log.push(d));
    proc.stderr.on('data', (d) => log.push(d));
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline && proc.exitCode === null) {
      try {
        const r = await request(port, 'GET', '/.well-known/enclave-os/healthz');
        if (r.status === 200) return { port, proc, log, dir };
      } catch (e) { /* not yet listening */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    proc.kill('SIGKILL');
  }
  throw new Error('the server did not start');
}

async function stopServer(s) {
  if (s.proc.exitCode === null) {
    const done = new Promise((r) => s.proc.once('exit', r));
    s.proc.kill('SIGTERM');
    await done;
  }
  fs.rmSync(s.dir, { recursive: true, force: true });
}

async function loadApp(port, name, file) {
  const r = await request(port, 'PUT', `/.well-known/enclave-os/apps/${name}`,
    { body: fs.readFileSync(file), headers: { authorization: `Bearer ${TOKEN}` } });
  if (r.status !== 200) throw new Error(`loading ${name}: ${r.status} ${r.body}`);
}

async function withBrowser(fn) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'eos-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const problems = [];
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    // A CSP violation or a script error is a failure of the page.
    page.on('console', (m) => {
      // Refusals the tests provoke (401, 400) are logged by the browser too.
      if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    await fn(page, ctx);
    check(problems.length === 0, `no script errors or CSP violations${problems.length ? ': ' + problems.join(' | ') : ''}`);
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

const shot = (page, name) => page.screenshot({ path: path.join(args.out, `console-${name}.png`), fullPage: true });

// Page-wide basics, checked in the browser: no inline script or handler
// attribute, text contrast of at least 4.5:1 (3:1 for large text) against
// the background it is drawn on (WCAG 2 relative luminance), and, at phone
// width, nothing wider than the screen.
async function basics(page, what) {
  const inline = await page.$$eval('*', (els) => els.filter((e) =>
    (e.tagName === 'SCRIPT' && !e.src) || [...e.attributes].some((a) => /^on/i.test(a.name)))
    .map((e) => e.outerHTML.slice(0, 60)));
  check(inline.length === 0, `${what}: no inline scripts or handlers${inline.length ? ': ' + inline.join(', ') : ''}`);
  const low = await page.evaluate(() => {
    const rgba = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (e) => {
      for (; e; e = e.parentElement) {
        const c = rgba(getComputedStyle(e).backgroundColor);
        if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c;
      }
      return [255, 255, 255];
    };
    const out = [];
    for (const e of document.querySelectorAll('body *')) {
      const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      const st = getComputedStyle(e);
      if (!own || !e.getClientRects().length || st.visibility === 'hidden' || +st.opacity < 0.5) continue;
      if (e.closest('svg')) continue;
      const fg = rgba(st.color), bg = background(e);
      const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
      const ratio = (hi + 0.05) / (lo + 0.05);
      const size = parseFloat(st.fontSize), bold = +st.fontWeight >= 700;
      const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      if (ratio < need) out.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : ''} ${ratio.toFixed(2)}`);
    }
    return out;
  });
  check(low.length === 0, `${what}: text contrast at least 4.5:1${low.length ? ': ' + low.slice(0, 8).join(', ') : ''}`);
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = await page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const over = [...document.querySelectorAll('body *')].filter((e) => {
      const r = e.getBoundingClientRect();
      return r.width && r.right > w + 1 && !e.closest('pre, .scroll, table, details:not([open])') &&
        getComputedStyle(e).position !== 'fixed';
    }).map((e) => e.id || e.tagName.toLowerCase());
    return { scroll: document.documentElement.scrollWidth - w, over: over.slice(0, 6) };
  });
  check(wide.scroll <= 0, `${what}: at 390 px wide the page does not scroll sideways (${wide.scroll} px over${wide.over.length ? ': ' + wide.over.join(', ') : ''})`);
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function attestation(s, page, { tampered }) {
  await page.goto(`https://127.0.0.1:${s.port}/.well-known/enclave-os/console/`);
  await page.waitForSelector('#verdict[data-result]', { timeout: 20000 });
  const result = await page.getAttribute('#verdict', 'data-result');
  const manifestOk = await page.getAttribute('[data-check="manifest-root"]', 'class');
  if (tampered) {
    check(result === 'fail', 'the tampered manifest fails the check');
    check(manifestOk === 'fail', 'the failing step is the manifest root');
    check(await page.isVisible('#verdict.bad'), 'the failure is shown in the verdict banner');
    check(/Do not trust/.test(await page.textContent('#verdict')), 'the banner says not to trust the server');
  } else {
    const failed = await page.$$eval('#checks li.fail', (l) => l.map((x) => x.textContent));
    check(result === 'pass', `every check passes in the browser${failed.length ? ': ' + failed.join('; ') : ''}`);
    check(manifestOk === 'ok', 'the manifest hashes to its root');
    for (const app of ['echo', 'hello']) {
      check(await page.isVisible(`[data-app="${app}"]`), `app ${app} is listed`);
    }
    check((await page.textContent('#tee-kind')) === 'sim', 'the TEE kind is shown');
    check(await page.isVisible('#tee-sim'), 'the TEE is marked simulated');
    check(/^[0-9a-f]{64}$/.test(await page.textContent('#tee-measurement')), 'the measurement is shown');
    const listing = (await request(s.port, 'GET', '/.well-known/enclave-os/console/assets.sha256')).body;
    const crypto = await import('node:crypto');
    const hash = crypto.createHash('sha256').update(listing).digest('hex');
    check((await page.textContent('#console-hash')) === hash, 'the console hash is shown');
    const csp = (await request(s.port, 'GET', '/.well-known/enclave-os/console/')).headers['content-security-policy'] || '';
    check(/script-src 'self'/.test(csp) && !/unsafe/.test(csp), 'the page is served with a strict CSP');
  }
  if (!tampered) await basics(page, 'attestation view');
  await page.click('#cert-block summary');
  await shot(page, tampered ? 'attestation-tampered' : 'attestation');
  if (!tampered) {
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'attestation-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
  }
}

async function refused(s, page) {
  await page.goto(`https://127.0.0.1:${s.port}/.well-known/enclave-os/console/#developer`);
  await page.waitForSelector('#auth-status.error');
  check(await page.isHidden('#dev-body'), 'without the token the developer view stays locked');
  check(/Refused/.test(await page.textContent('#auth-status')), 'it says management was refused');
  await page.fill('#token', 'not-the-right-token');
  await page.click('#auth-submit');
  await page.waitForFunction(() => /Refused by the server/.test(document.getElementById('auth-status').textContent));
  check(await page.isHidden('#dev-body'), 'a wrong token is refused by the server');
  check(/token was not accepted/.test(await page.textContent('#auth-status')), 'the server\'s reason is shown');
  await basics(page, 'locked developer view');
  await shot(page, 'developer-refused');
}

async function upload(s, page) {
  await page.goto(`https://127.0.0.1:${s.port}/.well-known/enclave-os/console/#developer`);
  await page.fill('#token', TOKEN);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#dev-body:not([hidden])');
  check(true, 'the token unlocks the developer view');
  const unlabelled = await page.$$eval('input, textarea, select, button', (els) =>
    els.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
      .map((e) => e.id || e.outerHTML.slice(0, 60)));
  check(unlabelled.length === 0, `every control has a label${unlabelled.length ? ': ' + unlabelled.join(', ') : ''}`);
  // The keyboard reaches the upload form from the token field.
  await page.focus('#token');
  let reached = false;
  for (let i = 0; i < 12 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement && document.activeElement.id === 'file');
  }
  check(reached, 'the file picker is reachable with the keyboard');
  // Drag and drop: a file dropped on the zone is chosen like a picked one.
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0])], 'dropped.wasm'));
    document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await page.waitForFunction(() => /dropped\.wasm: 8 bytes.*\(component\)/.test(document.getElementById('file-info').textContent));
  check(await page.inputValue('#name') === 'dropped', 'a dropped component is chosen and names the app');
  // A file that is not a component: refused, with the server's reason.
  const junk = path.join(s.dir, 'junk.wasm');
  fs.writeFileSync(junk, 'this is not WebAssembly');
  await page.setInputFiles('#file', junk);
  await page.fill('#name', 'junk');
  await page.click('#deploy');
  await page.waitForSelector('#upload-result.error');
  const why = await page.textContent('#upload-result');
  check(/refused the upload \(400/.test(why), `a bad upload shows the server's refusal: ${why}`);
  // The real thing, with its provenance.
  const crypto = await import('node:crypto');
  const prov = path.join(s.dir, 'hello.provenance.json');
  fs.writeFileSync(prov, JSON.stringify({
    format: 'enclave-os-provenance/1', app: 'hello', language: 'c',
    source: { tree_sha256: 'ab'.repeat(32), files: [] }, source_date_epoch: 1700000000,
    toolchain: { clang: '14.0.6', jco: '1.35.0' },
    output: { file: 'hello.wasm', sha256: crypto.createHash('sha256').update(fs.readFileSync(wasm('hello'))).digest('hex') },
  }));
  await page.setInputFiles('#prov', prov);
  await page.setInputFiles('#file', wasm('hello'));
  await page.waitForSelector('#prov-info .status.ok');
  check(true, 'the provenance matches the chosen component');
  await page.fill('#name', 'web-hello');
  await page.fill('#route', '/web-hello');
  await page.click('#deploy');
  await page.waitForSelector('#upload-result.ok', { timeout: 30000 });
  check(/Loaded "web-hello"/.test(await page.textContent('#upload-result')), 'the upload loads the app');
  const r = await request(s.port, 'GET', '/web-hello/hello');
  check(r.status === 200 && r.body.toString() === 'Hello from inside SGX!', `the uploaded app answers over HTTPS (${r.status} ${r.body})`);
  await page.waitForSelector('#dev-apps tr[data-app="web-hello"]');
  check(true, 'the app is listed among the running apps');
  const listed = JSON.parse((await request(s.port, 'GET', '/.well-known/enclave-os/apps')).body);
  const webHello = listed.apps.find((a) => a.name === 'web-hello');
  check(webHello && JSON.parse(webHello.provenance).source.tree_sha256 === 'ab'.repeat(32), 'the server keeps the provenance with the app');
  // Traffic for the charts, then wait for two metric samples and a log line.
  for (let i = 0; i < 20; i++) await request(s.port, 'GET', '/web-hello/hello');
  await page.waitForSelector('.metric-app[data-app="web-hello"] svg', { timeout: 15000 });
  check(true, 'the app has metric charts');
  await page.waitForFunction(() => /app 'web-hello' loaded/.test(document.getElementById('log').textContent), null, { timeout: 15000 });
  check(true, 'the live log shows the load');
  for (let i = 0; i < 10; i++) await request(s.port, 'GET', '/web-hello/hello');
  await page.waitForTimeout(2500);
  await basics(page, 'developer view');
  await shot(page, 'developer');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'developer-phone');
  await page.setViewportSize({ width: 1280, height: 900 });
  // The attestation view shows the uploaded provenance beside the app.
  await page.click('#tab-attestation');
  await page.waitForSelector('#verdict[data-result]', { timeout: 20000 });
  check(await page.getAttribute('#verdict', 'data-result') === 'pass', 'the attestation checks pass with the new app');
  check(/output hash = code hash/.test(await page.textContent('article[data-app="web-hello"]')), 'the attestation view shows the provenance');
  await page.locator('article[data-app="web-hello"]').screenshot({ path: path.join(args.out, 'console-attestation-app.png') });
  await page.click('#tab-developer');
  await page.waitForSelector('#dev-body:not([hidden])');
  // Unload after confirming.
  await page.click('#dev-apps tr[data-app="web-hello"] button.danger');
  await page.waitForSelector('#confirm[open]');
  await shot(page, 'developer-confirm');
  await page.click('#confirm-ok');
  await page.waitForFunction(() => /Unloaded "web-hello"/.test(document.getElementById('upload-result').textContent));
  const gone = await request(s.port, 'GET', '/web-hello/hello');
  check(gone.status === 404, 'after the confirmed unload the route is gone');
}

const cases = {
  attestation: { extra: [], run: (s, p) => attestation(s, p, { tampered: false }) },
  tampered: { extra: ['--console-test-tamper-manifest'], run: (s, p) => attestation(s, p, { tampered: true }) },
  refused: { extra: [], run: refused },
  upload: { extra: [], run: upload },
};
const c = cases[args.case];
if (!c) fail(`unknown case ${args.case}`);
const server = await startServer(c.extra);
try {
  await loadApp(server.port, 'hello', wasm('hello'));
  await loadApp(server.port, 'echo', wasm('echo'));
  await withBrowser((page) => c.run(server, page));
} catch (e) {
  console.error(e.stack || String(e));
  console.error('--- server log ---\n' + Buffer.concat(server.log).toString().slice(-4000));
  process.exitCode = 1;
} finally {
  await stopServer(server);
}
