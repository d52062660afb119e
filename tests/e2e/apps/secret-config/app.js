// GET /config/KEY answers a wasi:config value, /secret/NAME a secret (only
// its length and a checksum, never the value), /config lists every
// value, /whoami the caller identity headers the server set.
import { get, getAll } from 'wasi:config/store@0.2.0-draft';

function text(body, status = 200) {
    return new Response(body, { status, headers: { 'content-type': 'text/plain' } });
}

function handle(request) {
    const path = new URL(request.url, 'http://localhost').pathname;
    if (path.startsWith('/config/')) {
        const v = get(path.slice(8));
        return v === undefined ? text('none\n', 404) : text(v);
    }
    if (path === '/config') {
        return text(getAll().map(([k, v]) => `${k}=${v}`).join('\n'));
    }
    if (path.startsWith('/secret/')) {
        const v = get('secret.' + path.slice(8));
        if (v === undefined) return text('none\n', 404);
        // The test checks the length and a checksum, so the value itself
        // never travels back out.
        let sum = 0;
        for (let i = 0; i < v.length; i++) sum = (sum * 31 + v.charCodeAt(i)) % 65521;
        return text(`length=${v.length} sum=${sum}`);
    }
    if (['/whoami', '/api', '/admin', '/partner'].some((p) => path.startsWith(p))) {
        const h = request.headers;
        return text(`method=${h.get('x-eos-auth-method') || ''} subject=${h.get('x-eos-auth-subject') || ''} claims=${h.get('x-eos-auth-claims') ? 'yes' : 'no'}`);
    }
    return text('unknown path\n', 404);
}

addEventListener('fetch', (event) => event.respondWith(handle(event.request)));
