/* The verifier: given the certificate chain a server presented, checks the
 * chain, the evidence (kind, simulation, debug, DCAP signatures), the binding
 * of the TLS key in the report data, the measurement, the configuration
 * extensions, the manifest and the expected code hashes, and names the step
 * that failed. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256() one-shot only; see merkle.c */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "internal.h"

const char *eos_ratls_step_name(eos_ratls_step step)
{
    switch (step) {
#define EOS__RATLS_STEP_CASE(name, str)                                                            \
    case EOS_RATLS_STEP_##name:                                                                    \
        return str;
        EOS_RATLS_STEP_MAP(EOS__RATLS_STEP_CASE)
#undef EOS__RATLS_STEP_CASE
    }
    return "unknown";
}

static int fail(eos_ratls_verify_result *r, eos_ratls_step step, eos_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(eos_ratls_verify_result *r, eos_ratls_step step, eos_diag *d, const char *fmt, ...)
{
    char msg[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->failed_step = step;
    return eos_diag_set(d, EOS_EVERIFY, eos_ratls_step_name(step), -1, "%s", msg);
}

/* The raw value of the extension with this OID: NULL when absent; *dup is
 * set when it occurs more than once. */
static const ASN1_OCTET_STRING *find_ext(X509 *x, const char *oid, int *dup)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    const ASN1_OCTET_STRING *v = NULL;
    if (!obj)
        return NULL;
    int i = X509_get_ext_by_OBJ(x, obj, -1);
    if (i >= 0) {
        v = X509_EXTENSION_get_data(X509_get_ext(x, i));
        if (dup && X509_get_ext_by_OBJ(x, obj, i) >= 0)
            *dup = 1;
    }
    ASN1_OBJECT_free(obj);
    return v;
}

static int check_chain(X509 *leaf, STACK_OF(X509) * rest, const eos_ratls_verify_opts *o,
                       eos_ratls_verify_result *r, eos_diag *d)
{
    int rc = 0;
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    if (o->ca_file) {
        store = X509_STORE_new();
        ctx = X509_STORE_CTX_new();
        if (!store || !ctx || X509_STORE_load_file(store, o->ca_file) != 1) {
            rc =
                fail(r, EOS_RATLS_STEP_CHAIN, d, "cannot load CA certificates from %s", o->ca_file);
            goto out;
        }
        if (!X509_STORE_CTX_init(ctx, store, leaf, rest)) {
            rc = EOS_ENOMEM;
            goto out;
        }
        if (o->now)
            X509_STORE_CTX_set_time(ctx, 0, (time_t)o->now);
        if (X509_verify_cert(ctx) != 1) {
            rc = fail(r, EOS_RATLS_STEP_CHAIN, d,
                      "the certificate chain does not verify against %s: %s", o->ca_file,
                      X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
            goto out;
        }
        r->chain_anchored = 1;
        goto out;
    }
    /* Without an anchor, at least the leaf must be signed by the CA the
     * server presents, and be valid now; the CA's identity is then pinned
     * by core.ca_cert in the manifest. */
    X509 *issuer = NULL;
    for (int i = 0; i < sk_X509_num(rest); i++)
        if (X509_check_issued(sk_X509_value(rest, i), leaf) == X509_V_OK)
            issuer = sk_X509_value(rest, i);
    EVP_PKEY *ik = issuer ? X509_get0_pubkey(issuer) : NULL;
    if (!ik || X509_verify(leaf, ik) != 1) {
        rc = fail(r, EOS_RATLS_STEP_CHAIN, d,
                  "the server did not present the CA that signed its certificate");
        goto out;
    }
    time_t now = o->now ? (time_t)o->now : time(NULL);
    if (X509_cmp_time(X509_get0_notBefore(leaf), &now) > 0 ||
        X509_cmp_time(X509_get0_notAfter(leaf), &now) < 0)
        rc = fail(r, EOS_RATLS_STEP_CHAIN, d, "the certificate is not valid at this time");
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

/* The deterministic binding: NotBefore as "YYYY-MM-DDTHH:MMZ", which must
 * be exactly on the minute. */
static int time_binding(X509 *leaf, char out[18])
{
    struct tm tm;
    if (ASN1_TIME_to_tm(X509_get0_notBefore(leaf), &tm) != 1 || tm.tm_sec != 0)
        return -1;
    if (strftime(out, 18, "%Y-%m-%dT%H:%MZ", &tm) != 17)
        return -1;
    return 0;
}

static int check_binding(X509 *leaf, const eos_tee_evidence_info *info,
                         const eos_ratls_verify_opts *o, eos_ratls_verify_result *r, eos_diag *d)
{
    uint8_t *spki = NULL, rd[64];
    char tb[18];
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &spki);
    if (n <= 0)
        return EOS_ENOMEM;
    if (o->nonce) {
        eos_ratls_report_data(spki, (size_t)n, o->nonce, o->nonce_size, rd);
        strcpy(r->binding, "nonce:");
        eos_hex_encode(o->nonce, o->nonce_size, r->binding + 6);
    } else if (time_binding(leaf, tb) != 0) {
        OPENSSL_free(spki);
        return fail(r, EOS_RATLS_STEP_REPORT_DATA, d,
                    "the certificate's NotBefore is not on a whole minute, so it cannot be "
                    "the deterministic binding");
    } else {
        eos_ratls_report_data(spki, (size_t)n, (const uint8_t *)tb, 17, rd);
        memcpy(r->binding, tb, 18);
    }
    OPENSSL_free(spki);
    if (memcmp(rd, info->report_data, 64) != 0)
        return fail(r, o->nonce ? EOS_RATLS_STEP_CHALLENGE : EOS_RATLS_STEP_REPORT_DATA, d,
                    o->nonce ? "the evidence does not bind the TLS key to the nonce we sent"
                             : "the evidence's report data is not SHA-512(SHA-256(SPKI) || "
                               "NotBefore): the TLS key is not the attested one");
    return 0;
}

static int check_evidence(X509 *leaf, const eos_ratls_verify_opts *o, eos_ratls_verify_result *r,
                          eos_tee_evidence_info *info, eos_diag *d)
{
    static const struct {
        const char *oid;
        eos_tee_kind kind;
    } kinds[] = {{EOS_RATLS_OID_SGX_QUOTE, EOS_TEE_KIND_SGX},
                 {EOS_RATLS_OID_TDX_QUOTE, EOS_TEE_KIND_TDX},
                 {EOS_RATLS_OID_SNP_REPORT, EOS_TEE_KIND_SEV_SNP}};
    const ASN1_OCTET_STRING *ev = NULL;
    eos_tee_kind oid_kind = EOS_TEE_KIND_UNKNOWN;
    int dup = 0, found = 0;
    for (size_t i = 0; i < EOS_ARRAY_LEN(kinds); i++) {
        const ASN1_OCTET_STRING *v = find_ext(leaf, kinds[i].oid, &dup);
        if (v) {
            ev = v;
            oid_kind = kinds[i].kind;
            found++;
        }
    }
    if (found != 1 || dup)
        return fail(r, EOS_RATLS_STEP_EVIDENCE_EXT, d,
                    found ? "the certificate carries more than one evidence extension"
                          : "the certificate carries no TEE evidence extension: not an RA-TLS "
                            "certificate");
    eos_diag pd;
    eos_diag_init(&pd);
    if (eos_tee_parse_evidence(ASN1_STRING_get0_data(ev), (size_t)ASN1_STRING_length(ev), info,
                               &pd) != 0)
        return fail(r, EOS_RATLS_STEP_EVIDENCE_PARSE, d, "evidence: %s (at byte %lld)", pd.message,
                    (long long)pd.offset);
    r->kind = info->kind;
    r->simulated = info->simulated;
    r->debug = info->debug;
    memcpy(r->tee_name, info->tee_name, sizeof r->tee_name);
    memcpy(r->measurement, info->measurement, info->measurement_size);
    r->measurement_size = info->measurement_size;
    memcpy(r->report_data, info->report_data, 64);
    eos_tee_kind k = info->kind == EOS_TEE_KIND_SIM ? EOS_TEE_KIND_SGX : info->kind;
    if (k != oid_kind)
        return fail(r, EOS_RATLS_STEP_EVIDENCE_TYPE, d,
                    "%s evidence sits under the %s extension OID", eos_tee_kind_name(info->kind),
                    eos_tee_kind_name(oid_kind));
    if (info->simulated && !o->allow_simulated)
        return fail(r, EOS_RATLS_STEP_SIMULATED, d,
                    "the server runs a SIMULATED TEE: nothing is hardware-protected. Pass "
                    "--allow-simulated only for development");
    if (info->debug && !o->allow_debug)
        return fail(r, EOS_RATLS_STEP_DEBUG, d,
                    "the TEE runs in debug mode, so its memory is readable by the host");
    return 0;
}

static int check_config(X509 *leaf, eos_ratls_verify_result *r, eos_diag *d)
{
    const ASN1_OCTET_STRING *root = find_ext(leaf, EOS_RATLS_OID_CONFIG_ROOT, NULL);
    const ASN1_OCTET_STRING *apps = find_ext(leaf, EOS_RATLS_OID_APPS_HASH, NULL);
    const ASN1_OCTET_STRING *name = find_ext(leaf, EOS_RATLS_OID_APP_NAME, NULL);
    const ASN1_OCTET_STRING *route = find_ext(leaf, EOS_RATLS_OID_APP_ROUTE, NULL);
    const ASN1_OCTET_STRING *code = find_ext(leaf, EOS_RATLS_OID_APP_CODE_HASH, NULL);
    if (!root || ASN1_STRING_length(root) != 32 || !apps || ASN1_STRING_length(apps) != 32)
        return fail(r, EOS_RATLS_STEP_CONFIG_EXT, d,
                    "the certificate lacks the 32-byte config root (1.1) or apps hash (2.5)");
    memcpy(r->merkle_root, ASN1_STRING_get0_data(root), 32);
    memcpy(r->apps_hash, ASN1_STRING_get0_data(apps), 32);
    if (!name && !route && !code)
        return 0;
    if (!name || !route || !code || ASN1_STRING_length(code) != 32 ||
        ASN1_STRING_length(name) >= (int)sizeof r->app_name ||
        ASN1_STRING_length(route) >= (int)sizeof r->app_route)
        return fail(r, EOS_RATLS_STEP_CONFIG_EXT, d,
                    "the app extensions 2.1 to 2.3 must come together and be well formed");
    memcpy(r->app_name, ASN1_STRING_get0_data(name), (size_t)ASN1_STRING_length(name));
    r->app_name[ASN1_STRING_length(name)] = '\0';
    memcpy(r->app_route, ASN1_STRING_get0_data(route), (size_t)ASN1_STRING_length(route));
    r->app_route[ASN1_STRING_length(route)] = '\0';
    memcpy(r->app_code_hash, ASN1_STRING_get0_data(code), 32);
    r->has_app = 1;
    return 0;
}

static const eos_ratls_manifest_entry *find_entry(const eos_ratls_manifest *m, const char *a,
                                                  const char *b, const char *c)
{
    char name[1100];
    int n = snprintf(name, sizeof name, "%s%s%s", a, b, c);
    for (size_t i = 0; n > 0 && (size_t)n < sizeof name && i < m->count; i++)
        if (m->entries[i].name_len == (size_t)n && memcmp(m->entries[i].name, name, n) == 0)
            return &m->entries[i];
    return NULL;
}

static int check_manifest(STACK_OF(X509) * rest, const eos_ratls_verify_opts *o,
                          eos_ratls_verify_result *r, eos_ratls_manifest *m, eos_diag *d)
{
    eos_diag pd;
    eos_diag_init(&pd);
    if (!o->manifest)
        return o->require_manifest
                   ? fail(r, EOS_RATLS_STEP_MANIFEST, d,
                          "no manifest: the server did not serve one and none was given")
                   : 0;
    if (eos_ratls_manifest_parse(o->manifest, o->manifest_size, m, &pd) != 0)
        return fail(r, EOS_RATLS_STEP_MANIFEST, d, "manifest: %s", pd.message);
    if (memcmp(m->root, m->computed_root, 32) != 0)
        return fail(r, EOS_RATLS_STEP_MANIFEST, d,
                    "the manifest's stated root is not the root of its leaves");
    if (memcmp(m->computed_root, r->merkle_root, 32) != 0)
        return fail(r, EOS_RATLS_STEP_MANIFEST, d,
                    "the manifest's root differs from the certificate's config root: the "
                    "manifest does not describe this server's configuration");
    /* The manifest pins the enclave CA: the CA the server presented must be it. */
    const eos_ratls_manifest_entry *ca = find_entry(m, "core.ca_cert", "", "");
    if (ca && sk_X509_num(rest) > 0) {
        uint8_t *der = NULL, h[32];
        int n = i2d_X509(sk_X509_value(rest, 0), &der);
        if (n > 0)
            SHA256(der, (size_t)n, h);
        OPENSSL_free(der);
        if (n <= 0 || memcmp(h, ca->hash, 32) != 0)
            return fail(r, EOS_RATLS_STEP_MANIFEST, d,
                        "the CA certificate the server presented is not core.ca_cert of the "
                        "attested configuration");
    }
    r->manifest_checked = 1;
    return 0;
}

static int check_code_hashes(const eos_ratls_verify_opts *o, eos_ratls_verify_result *r,
                             const eos_ratls_manifest *m, eos_diag *d)
{
    for (size_t i = 0; i < o->expect_code_hash_count; i++) {
        const eos_ratls_expect_code_hash *e = &o->expect_code_hashes[i];
        if (r->has_app && strcmp(r->app_name, e->name) == 0) {
            if (memcmp(r->app_code_hash, e->hash, 32) != 0)
                return fail(r, EOS_RATLS_STEP_CODE_HASH, d,
                            "app \"%s\" runs other code than expected", e->name);
            continue;
        }
        if (!r->manifest_checked)
            return fail(r, EOS_RATLS_STEP_CODE_HASH, d,
                        "app \"%s\" is not described by this certificate and no verified "
                        "manifest is available to look it up",
                        e->name);
        const eos_ratls_manifest_entry *ent = find_entry(m, "wasm.", e->name, ".code_hash");
        uint8_t h[32];
        SHA256(e->hash, 32, h);
        if (!ent)
            return fail(r, EOS_RATLS_STEP_CODE_HASH, d, "app \"%s\" is not loaded", e->name);
        if (memcmp(ent->hash, h, 32) != 0)
            return fail(r, EOS_RATLS_STEP_CODE_HASH, d, "app \"%s\" runs other code than expected",
                        e->name);
    }
    return 0;
}

int eos_ratls_verify_chain(const uint8_t *const *der, const size_t *der_size, size_t count,
                           const eos_ratls_verify_opts *o, eos_ratls_verify_result *r, eos_diag *d)
{
    int rc = 0;
    X509 *leaf = NULL;
    STACK_OF(X509) *rest = sk_X509_new_null();
    eos_ratls_manifest m;
    eos_tee_evidence_info info;
    memset(&m, 0, sizeof m);
    memset(r, 0, sizeof *r);
    if (!rest)
        return EOS_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p = der[i];
        X509 *x = d2i_X509(NULL, &p, (long)der_size[i]);
        if (!x || p != der[i] + der_size[i]) {
            X509_free(x);
            rc = fail(r, EOS_RATLS_STEP_CHAIN, d, "certificate %zu is not valid DER", i);
            goto out;
        }
        if (i == 0) {
            leaf = x;
            /* The leaf's fingerprint: what a client pins or compares with
             * what a browser shows, whatever the checks below find. */
            SHA256(der[0], der_size[0], r->cert_sha256);
            r->has_cert = 1;
        } else
            sk_X509_push(rest, x);
    }
    if (!leaf) {
        rc = fail(r, EOS_RATLS_STEP_CHAIN, d, "the server presented no certificate");
        goto out;
    }
    if ((rc = check_chain(leaf, rest, o, r, d)) != 0 ||
        (rc = check_evidence(leaf, o, r, &info, d)) != 0 ||
        (rc = check_binding(leaf, &info, o, r, d)) != 0)
        goto out;
    if ((rc = eos_ratls__check_hardware(&info, o, r, d)) != 0)
        goto out;
    if (o->expect_measurement &&
        (o->expect_measurement_size != r->measurement_size ||
         memcmp(o->expect_measurement, r->measurement, r->measurement_size) != 0)) {
        rc = fail(r, EOS_RATLS_STEP_MEASUREMENT, d,
                  "the measurement is not the expected one: other code runs in the TEE");
        goto out;
    }
    if ((rc = check_config(leaf, r, d)) != 0 || (rc = check_manifest(rest, o, r, &m, d)) != 0)
        goto out;
    if (o->expect_root && memcmp(o->expect_root, r->merkle_root, 32) != 0) {
        rc = fail(r, EOS_RATLS_STEP_EXPECT_ROOT, d,
                  "the configuration root is not the expected one");
        goto out;
    }
    rc = check_code_hashes(o, r, &m, d);
out:
    eos_ratls_manifest_free(&m);
    X509_free(leaf);
    sk_X509_pop_free(rest, X509_free);
    return rc;
}
