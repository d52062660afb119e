/* Vendor collateral from a directory, for verifiers that reach no vendor
 * service: Intel's TCB info, QE identity, TCB signing chain and CRLs as the
 * PCS serves them, or AMD's VCEK and a minimum SEV-SNP TCB. Trust anchors
 * never come from here: they stay the verifier's explicit options. */
#include <stdio.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "internal.h"

#define MAX_FILE (1u << 20)

/* Reads <dir>/<prefix><name>, falling back to <dir>/<name>. 0 with *out
 * NULL when neither exists. */
static int read_opt(const char *dir, const char *prefix, const char *name, char **out,
                    size_t *out_size, eos_diag *d)
{
    char path[4096];
    *out = NULL;
    *out_size = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0 && !prefix)
            continue;
        int n = snprintf(path, sizeof path, "%s/%s%s", dir, pass == 0 ? prefix : "", name);
        if (n < 0 || (size_t)n >= sizeof path)
            return eos_diag_set(d, EOS_EINVAL, "collateral", -1, "collateral path too long");
        uint8_t *buf = NULL;
        eos_diag rd;
        eos_diag_init(&rd);
        int rc = eos_ratls__read_whole(path, MAX_FILE, &buf, out_size, &rd);
        if (rc == EOS_ENOTFOUND)
            continue;
        if (rc != 0)
            return eos_diag_set(d, rc, "collateral", -1, "%s", rd.message);
        *out = (char *)buf;
        return 0;
    }
    return 0;
}

static int load_certs(const char *dir, const char *prefix, const char *name,
                      STACK_OF(X509) * *out, eos_diag *d)
{
    char *data;
    size_t size;
    int rc = read_opt(dir, prefix, name, &data, &size, d);
    if (rc != 0 || !data)
        return rc;
    rc = eos_ratls__read_certs((const uint8_t *)data, size, out);
    eos_free(data, size + 1);
    if (rc == 0 && sk_X509_num(*out) == 0) {
        sk_X509_free(*out);
        *out = NULL;
        rc = eos_diag_set(d, EOS_EMALFORMED, "collateral", -1,
                          "collateral file %s holds no certificate", name);
    }
    return rc;
}

/* Appends a certificate file's certificates to *chain (creating it). */
static int append_certs(const char *dir, const char *prefix, const char *name,
                        STACK_OF(X509) * *chain, eos_diag *d)
{
    STACK_OF(X509) *more = NULL;
    int rc = load_certs(dir, prefix, name, &more, d);
    if (rc != 0 || !more)
        return rc;
    if (!*chain) {
        *chain = more;
        return 0;
    }
    while (sk_X509_num(more) > 0)
        sk_X509_push(*chain, sk_X509_shift(more));
    sk_X509_free(more);
    return 0;
}

static int load_crl(const char *dir, const char *prefix, const char *name,
                    STACK_OF(X509_CRL) * crls, eos_diag *d)
{
    char *data;
    size_t size;
    int rc = read_opt(dir, prefix, name, &data, &size, d);
    if (rc != 0 || !data)
        return rc;
    rc = eos_ratls__read_crls((const uint8_t *)data, size, crls);
    eos_free(data, size + 1);
    if (rc != 0)
        rc = eos_diag_set(d, EOS_EMALFORMED, "collateral", -1,
                          "collateral file %s is not a CRL (PEM or DER)", name);
    return rc;
}

int eos_ratls__snp_min_parse(const char *json, size_t size, eos_ratls__snp_tcb *out,
                             eos_diag *d)
{
    static const char *const keys[] = {"bootloader", "tee", "snp", "microcode", "fmc"};
    char err[128];
    int rc = 0;
    char *copy = eos_malloc(size + 1);
    if (!copy)
        return EOS_ENOMEM;
    memcpy(copy, json, size);
    copy[size] = '\0';
    yajl_val v = strlen(copy) == size ? yajl_tree_parse(copy, err, sizeof err) : NULL;
    eos_free(copy, size + 1);
    memset(out, 0, sizeof *out);
    unsigned *fields[] = {&out->bootloader, &out->tee, &out->snp, &out->microcode, &out->fmc};
    if (!v || !YAJL_IS_OBJECT(v) || v->u.object.len == 0) {
        rc = eos_diag_set(d, EOS_EMALFORMED, "collateral", -1,
                          "snp_tcb.json must be a JSON object of TCB components");
        goto out;
    }
    for (size_t i = 0; i < v->u.object.len; i++) {
        size_t k = 0;
        while (k < EOS_ARRAY_LEN(keys) && strcmp(keys[k], v->u.object.keys[i]) != 0)
            k++;
        yajl_val n = v->u.object.values[i];
        if (k == EOS_ARRAY_LEN(keys) || !YAJL_IS_INTEGER(n) || YAJL_GET_INTEGER(n) < 0 ||
            YAJL_GET_INTEGER(n) > 255) {
            rc = eos_diag_set(d, EOS_EMALFORMED, "collateral", -1,
                              "snp_tcb.json: components are bootloader, tee, snp, microcode "
                              "and fmc, each 0..255");
            goto out;
        }
        *fields[k] = (unsigned)YAJL_GET_INTEGER(n);
    }
out:
    yajl_tree_free(v);
    return rc;
}

int eos_ratls__collateral_load(const char *dir, eos_tee_kind kind, eos_ratls__collateral *c,
                               eos_diag *d)
{
    int rc;
    memset(c, 0, sizeof *c);
    if (!(c->crls = sk_X509_CRL_new_null()))
        return EOS_ENOMEM;
    if (kind == EOS_TEE_KIND_SEV_SNP) {
        STACK_OF(X509) *certs = NULL;
        static const char *const names[] = {"vcek.der", "vcek.pem", "vlek.der", "vlek.pem"};
        for (size_t i = 0; i < EOS_ARRAY_LEN(names) && !certs; i++)
            if ((rc = load_certs(dir, NULL, names[i], &certs, d)) != 0)
                goto fail;
        if (certs) {
            c->vcek = sk_X509_shift(certs);
            sk_X509_pop_free(certs, X509_free);
        }
        if ((rc = load_crl(dir, NULL, "crl.der", c->crls, d)) != 0 ||
            (rc = load_crl(dir, NULL, "crl.pem", c->crls, d)) != 0)
            goto fail;
        char *min = NULL;
        size_t min_size = 0;
        if ((rc = read_opt(dir, NULL, "snp_tcb.json", &min, &min_size, d)) != 0)
            goto fail;
        if (min) {
            rc = eos_ratls__snp_min_parse(min, min_size, &c->snp_min, d);
            eos_free(min, min_size + 1);
            if (rc != 0)
                goto fail;
            c->snp_min_set = 1;
        }
        return 0;
    }
    const char *prefix = kind == EOS_TEE_KIND_TDX ? "tdx_" : "sgx_";
    static const char *const crl_names[] = {"rootCaCrl.der", "rootCaCrl.pem",
                                            "intermediateCaCrl.der", "intermediateCaCrl.pem",
                                            "pckCrl.der", "pckCrl.pem"};
    if ((rc = read_opt(dir, prefix, "tcbInfo.json", &c->tcb_info, &c->tcb_info_size, d)) != 0 ||
        (rc = read_opt(dir, prefix, "qeIdentity.json", &c->qe_identity, &c->qe_identity_size,
                       d)) != 0 ||
        (rc = load_certs(dir, prefix, "tcbSignChain.pem", &c->tcb_chain, d)) != 0 ||
        (rc = append_certs(dir, prefix, "pckCert.pem", &c->pck_chain, d)) != 0)
        goto fail;
    if (c->pck_chain && (rc = append_certs(dir, prefix, "pckSignChain.pem", &c->pck_chain, d)))
        goto fail;
    for (size_t i = 0; i < EOS_ARRAY_LEN(crl_names); i++)
        if ((rc = load_crl(dir, prefix, crl_names[i], c->crls, d)) != 0)
            goto fail;
    return 0;
fail:
    eos_ratls__collateral_free(c);
    return rc;
}

void eos_ratls__collateral_free(eos_ratls__collateral *c)
{
    if (!c)
        return;
    if (c->tcb_info)
        eos_free(c->tcb_info, c->tcb_info_size + 1);
    if (c->qe_identity)
        eos_free(c->qe_identity, c->qe_identity_size + 1);
    sk_X509_pop_free(c->tcb_chain, X509_free);
    sk_X509_pop_free(c->pck_chain, X509_free);
    sk_X509_CRL_pop_free(c->crls, X509_CRL_free);
    X509_free(c->vcek);
    memset(c, 0, sizeof *c);
}
