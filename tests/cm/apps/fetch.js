addEventListener('fetch', (event) => event.respondWith(new Response('hello from enclave-os\n')));
