// A fetch-event app as componentize-js users write them: routes on the path,
// sets status and headers, echoes the request body, and streams a body.
addEventListener('fetch', (event) => event.respondWith(handle(event.request)));

async function handle(req) {
  const url = new URL(req.url);
  if (url.pathname === '/hello') {
    return new Response('Hello from inside SGX!', { headers: { 'content-type': 'text/plain' } });
  }
  if (url.pathname === '/json') {
    return new Response(JSON.stringify({ method: req.method, path: url.pathname, q: url.search }),
                        { status: 201, headers: { 'content-type': 'application/json', 'x-app': 'js' } });
  }
  if (url.pathname === '/echo') {
    const body = await req.text();
    return new Response(body.toUpperCase(), { headers: { 'x-len': String(body.length) } });
  }
  return new Response('Unknown path', { status: 404 });
}
