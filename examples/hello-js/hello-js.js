// The seed's hello app in JavaScript: a fetch handler that componentize-js turns into
// a wasi:http/incoming-handler component.
function handle(request) {
    // The URL may arrive without a scheme and host; a base makes it parse either way.
    const path = new URL(request.url, 'http://localhost').pathname;
    return new Response(path === '/hello' ? 'Hello from inside SGX!' : 'Unknown path', {
        status: 200,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
}

addEventListener('fetch', (event) => event.respondWith(handle(event.request)));
