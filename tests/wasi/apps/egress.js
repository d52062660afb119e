// An app that calls out with fetch(): /fetch?u=URL answers the upstream's body
// upper-cased with its status in x-upstream-status; /post?u=URL sends the
// request body upstream and answers what came back; a failed fetch is a 502
// whose body says why.
addEventListener('fetch', (event) => event.respondWith(handle(event.request)));

async function handle(req) {
  const url = new URL(req.url);
  const target = url.searchParams.get('u');
  try {
    if (url.pathname === '/fetch') {
      const r = await fetch(target);
      const text = await r.text();
      return new Response(text.toUpperCase(), {
        headers: { 'x-upstream-status': String(r.status), 'x-upstream-type': r.headers.get('content-type') || '' },
      });
    }
    if (url.pathname === '/post') {
      const body = await req.text();
      const r = await fetch(target, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
      return new Response(await r.text(), { headers: { 'x-upstream-status': String(r.status) } });
    }
  } catch (e) {
    return new Response('fetch failed: ' + String(e && e.message ? e.message : e), { status: 502 });
  }
  return new Response('Unknown path', { status: 404 });
}
