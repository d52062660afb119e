/* The peer verifier of apps' attested outbound rules (eos_wasi_peer_verifier):
 * the chain an attested destination presents is checked by the RA-TLS
 * verifier behind `enclave-os verify`, so wasi needs no edge to ratls. */
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "internal.h"

static int verify_peer(void *arg, const uint8_t *const *der, const size_t *der_size,
                       size_t count, const eos_wasi_peer_policy *p, char *why, size_t why_size)
{
    const eos_apps *apps = arg;
    /* The server's vendor anchors (serve --peer-*), then the rule's pins. */
    eos_ratls_verify_opts o = apps->peer_anchors;
    eos_ratls_verify_result r;
    eos_ratls_expect_code_hash want;
    eos_diag d;
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
     * attested peers are taken only with a signature verified under the
     * anchors of serve --peer-sgx-root-ca / --peer-snp-vcek or, where the
     * rule says so, as simulated. */
    if (!r.simulated && r.quote_signature <= 0) {
        snprintf(why, why_size,
                 "RA-TLS step \"quote-signature\": the peer's %s evidence cannot be checked "
                 "against the vendor's keys (start the server with --peer-sgx-root-ca or "
                 "--peer-snp-vcek)", r.tee_name[0] ? r.tee_name : "hardware");
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

const eos_wasi_peer_verifier *eos_apps__peer_verifier(eos_apps *apps)
{
    return &apps->peer_verifier;
}

/* "NAME=<SHA-256 of the file, hex>\n" appended to doc, or a diag. */
static int hash_line(char **doc, size_t *len, const char *name, const char *path, eos_diag *d)
{
    enum { MAX_ANCHOR = 1 << 20 };
    uint8_t *buf = eos_malloc(MAX_ANCHOR);
    if (!buf)
        return eos_diag_set(d, EOS_ENOMEM, "peer anchors", -1, "out of memory");
    int rc = 0;
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, MAX_ANCHOR, f) : 0;
    if (!f || ferror(f) || n == 0 || n == MAX_ANCHOR) {
        rc = eos_diag_set(d, EOS_EIO, "peer anchors", -1,
                          "cannot read %s '%s' (missing, empty or over 1 MiB)", name, path);
        goto out;
    }
    uint8_t h[32];
    char hex[65];
    SHA256(buf, n, h);
    eos_hex_encode(h, 32, hex);
    size_t add = strlen(name) + 1 + 64 + 1;
    char *nd = eos_realloc(*doc, *len + 1, *len + add + 1);
    if (!nd) {
        rc = eos_diag_set(d, EOS_ENOMEM, "peer anchors", -1, "out of memory");
        goto out;
    }
    snprintf(nd + *len, add + 1, "%s=%s\n", name, hex);
    *doc = nd;
    *len += add;
out:
    if (f)
        fclose(f);
    eos_free(buf, MAX_ANCHOR);
    return rc;
}

static int copy_path(char **dst, const char *src, eos_diag *d)
{
    if (src && !(*dst = eos_strdup(src)))
        return eos_diag_set(d, EOS_ENOMEM, "peer anchors", -1, "out of memory");
    return 0;
}

int eos_apps__peer_anchors_init(eos_apps *apps, const eos_ratls_verify_opts *a, eos_diag *d)
{
    eos_ratls_verify_opts *o = &apps->peer_anchors;
    size_t len = 0;
    int rc;
    memset(o, 0, sizeof *o);
    apps->peer_verifier = (eos_wasi_peer_verifier){verify_peer, apps};
    if (!a)
        return 0;
    if (!(apps->peer_anchors_doc = eos_malloc(1)))
        return eos_diag_set(d, EOS_ENOMEM, "peer anchors", -1, "out of memory");
    apps->peer_anchors_doc[0] = 0;
    if ((rc = copy_path(&apps->peer_sgx_root_ca, a->sgx_root_ca_file, d)) < 0 ||
        (rc = copy_path(&apps->peer_snp_ca, a->snp_ca_file, d)) < 0 ||
        (rc = copy_path(&apps->peer_snp_vcek, a->snp_vcek_file, d)) < 0 ||
        (rc = copy_path(&apps->peer_collateral, a->collateral_dir, d)) < 0)
        return rc;
    /* The files that decide which hardware is trusted are committed; the
     * collateral is signed under them, so only its use shows (require_tcb). */
    if ((a->sgx_root_ca_file &&
         (rc = hash_line(&apps->peer_anchors_doc, &len, "sgx_root_ca", a->sgx_root_ca_file, d)) < 0) ||
        (a->snp_ca_file &&
         (rc = hash_line(&apps->peer_anchors_doc, &len, "snp_ca", a->snp_ca_file, d)) < 0) ||
        (a->snp_vcek_file &&
         (rc = hash_line(&apps->peer_anchors_doc, &len, "snp_vcek", a->snp_vcek_file, d)) < 0))
        return rc;
    o->sgx_root_ca_file = apps->peer_sgx_root_ca;
    o->snp_ca_file = apps->peer_snp_ca;
    o->snp_vcek_file = apps->peer_snp_vcek;
    o->collateral_dir = apps->peer_collateral;
    o->require_tcb = a->require_tcb;
    o->now = a->now;
    apps->has_peer_anchors = len > 0;
    return 0;
}

void eos_apps__peer_anchors_free(eos_apps *apps)
{
    char **paths[] = {&apps->peer_sgx_root_ca, &apps->peer_snp_ca, &apps->peer_snp_vcek,
                      &apps->peer_collateral, &apps->peer_anchors_doc};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (*paths[i])
            eos_free(*paths[i], strlen(*paths[i]) + 1);
        *paths[i] = NULL;
    }
}
