// The console's entry point: switches between the attestation view (public)
// and the developer view (management), following the URL fragment.
import { showAttestation } from './attest.js';
import { showDeveloper, hideDeveloper } from './dev.js';
import { get } from './api.js';
import { sha256, hex } from './verify.js';

const views = ['attestation', 'developer'];

function route() {
  const want = location.hash.replace('#', '') || 'attestation';
  const current = views.includes(want) ? want : 'attestation';
  for (const v of views) {
    document.getElementById('view-' + v).hidden = v !== current;
    const tab = document.getElementById('tab-' + v);
    if (v === current) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  document.title = (current === 'developer' ? 'Developer' : 'Attestation') + ' · enclave-os console';
  if (current === 'developer') showDeveloper();
  else {
    hideDeveloper();
    showAttestation();
  }
}

window.addEventListener('hashchange', () => {
  route();

// The footer shows the console hash in every view: SHA-256 of the listing.
get('console/assets.sha256')
  .then((r) => r.arrayBuffer())
  .then((b) => sha256(new Uint8Array(b)))
  .then((h) => {
    const foot = document.getElementById('foot-hash');
    foot.textContent = `${hex(h).slice(0, 12)}…${hex(h).slice(-8)}`;
    foot.title = hex(h);
  })
  .catch(() => {});
  document.getElementById('main').focus({ preventScroll: true });
});
route();

// The footer shows the console hash in every view: SHA-256 of the listing.
get('console/assets.sha256')
  .then((r) => r.arrayBuffer())
  .then((b) => sha256(new Uint8Array(b)))
  .then((h) => {
    const foot = document.getElementById('foot-hash');
    foot.textContent = `${hex(h).slice(0, 12)}…${hex(h).slice(-8)}`;
    foot.title = hex(h);
  })
  .catch(() => {});
