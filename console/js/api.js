// Requests to the server's well-known endpoints. The console lives at
// /.well-known/enclave-os/console/, so the endpoints are one level up.

export const WK = '/.well-known/enclave-os/';

export async function get(path, opts = {}) {
  const r = await fetch(WK + path, { cache: 'no-store', credentials: 'same-origin', ...opts });
  if (!r.ok) throw await httpError(r, path);
  return r;
}

// An Error carrying the server's own reason: the "message" of its JSON error
// document when there is one, else its text.
export async function httpError(r, what) {
  let text = '';
  try { text = await r.text(); } catch (e) { /* the body is optional */ }
  return errorFrom(r.status, text, what);
}

export function errorFrom(status, text, what) {
  let msg = text.trim();
  let code = '';
  try {
    const doc = JSON.parse(text);
    if (doc && doc.message) {
      msg = doc.message;
      code = doc.code || '';
    }
  } catch (e) { /* plain text */ }
  const err = new Error(msg || `HTTP ${status}`);
  err.status = status;
  err.code = code;
  err.what = what;
  return err;
}

export const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
};
