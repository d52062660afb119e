/* The peer verifier of apps' attested outbound rules (eos_wasi_peer_verifier):
 * the chain an attested destination presents is checked by the RA-TLS
 * verifier behind `enclave-os verify`, so wasi needs no edge to ratls. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int verify_peer(void *arg, const uint8_t *const *der, const size_t *der_size,
                       size_t count, const eos_wasi_peer_policy *p, char *why, size_t why_size)
{
    (void)arg;
    eos_ratls_verify_opts o;
    eos_ratls_verify_result r;
    eos_ratls_expect_code_hash want;
    eos_diag d;
    memset(&o, 0, sizeof o);
    eos_diag_init(&d);
    o.allow_simulated = p->allow_simulated;
    o.expect_root = p->root;
    if (p->code_hash && p->app) {
        want.name = p->app;
        memcpy(want.hash, p->code_hash, 32);
        o.expect_code_hashes = &want;
        o.expect_code_hash_count = 1;
    }
    int rc = eos_ratls_verify_chain(der, der_size, count, &o, &r, &d);
    if (rc) {
        snprintf(why, why_size, "RA-TLS step \"%s\": %s", eos_ratls_step_name(r.failed_step),
                 d.message[0] ? d.message : eos_strerror(rc));
        return rc;
    }
    /* Hardware evidence whose signature nobody checked proves nothing:
     * attested peers are taken only with a verified quote signature (the
     * server has no vendor trust anchors for peers yet) or, where the rule
     * says so, as simulated. */
    if (!r.simulated && r.quote_signature <= 0) {
        snprintf(why, why_size,
                 "RA-TLS step \"quote-signature\": the peer's %s evidence cannot be checked "
                 "against the vendor's keys here", r.tee_name[0] ? r.tee_name : "hardware");
        return EOS_EVERIFY;
    }
    /* code= without app=: the one app the certificate describes (the
     * peer's only app, or the one its SNI host name selects). */
    if (p->code_hash && !p->app) {
        if (!r.has_app) {
            snprintf(why, why_size,
                     "RA-TLS step \"code-hash\": the peer's certificate describes no single "
                     "app (add app=NAME, or call the app by its host name)");
            return EOS_EVERIFY;
        }
        if (memcmp(r.app_code_hash, p->code_hash, 32) != 0) {
            char hex[65];
            eos_hex_encode(r.app_code_hash, 32, hex);
            snprintf(why, why_size,
                     "RA-TLS step \"code-hash\": app \"%s\" runs code %s, not the pinned one",
                     r.app_name, hex);
            return EOS_EVERIFY;
        }
    }
    return 0;
}

static const eos_wasi_peer_verifier peer_verifier = {verify_peer, NULL};

const eos_wasi_peer_verifier *eos_apps__peer_verifier(void)
{
    return &peer_verifier;
}
