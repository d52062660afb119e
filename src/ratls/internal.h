/* Private pieces of the RA-TLS layer shared between its files: byte helpers,
 * JSON escaping, certificate construction and the DCAP signature checks. */
#ifndef EOS_RATLS_INTERNAL_H
#define EOS_RATLS_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "eos/ratls.h"

static inline uint32_t eos_ratls__le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void eos_ratls__put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Writes s (n bytes) as a quoted JSON string plus a NUL into out, which must
 * hold 6 * n + 3 bytes; returns the length written without the NUL. */
size_t eos_ratls__json_string(char *out, const char *s, size_t n);

/* Apps of cfg sorted by name; duplicates refused. Free *out with
 * eos_free(*out, cfg->app_count * sizeof **out). */
int eos_ratls__sorted_apps(const eos_ratls_config *cfg, const eos_ratls_app ***out, eos_diag *diag);

/* What a leaf certificate says besides its key and evidence. Borrowed. */
typedef struct eos_ratls__leaf_params {
    int64_t not_before;   /* unix time, truncated to the minute by the callee */
    int64_t lifetime;     /* seconds until NotAfter */
    const uint8_t *nonce; /* challenge binding, or NULL for the time binding */
    size_t nonce_size;
    const char *dns_name;     /* subject CN and DNS SAN */
    const uint8_t *root;      /* 32 bytes */
    const uint8_t *apps_hash; /* 32 bytes */
    const eos_ratls_app *app; /* adds 2.1 to 2.3 when set */
} eos_ratls__leaf_params;

/* Makes a P-256 key and a leaf certificate signed by ca_key, with the
 * evidence of tee over the report data. Free with X509_free / EVP_PKEY_free. */
int eos_ratls__make_leaf(eos_tee *tee, X509 *ca_cert, EVP_PKEY *ca_key,
                         const eos_ratls__leaf_params *p, X509 **out_cert, EVP_PKEY **out_key,
                         eos_diag *diag);
/* The evidence OID for a TEE name ("sim" uses the SGX OID). */
const char *eos_ratls__evidence_oid(const char *tee_name);

/* The CA (certs[0]), its chain and key in the sealed layout, allocated:
 * wipe, then eos_free(*out, *out_size). Borrows certs and key. */
int eos_ratls__encode_ca(STACK_OF(X509) * certs, EVP_PKEY *key, uint8_t **out, size_t *out_size);
/* Loads (or creates and seals) the enclave CA under data_dir. *out_chain
 * holds certificates to send after the CA itself (operator chain), may be
 * empty. All outputs owned by the caller. */
int eos_ratls__load_ca(eos_tee *tee, const eos_ratls_server_options *opts, X509 **out_cert,
                       EVP_PKEY **out_key, STACK_OF(X509) * *out_chain, eos_diag *diag);

/* ---- Certificates (pki.c) ---- */

/* Every PEM certificate in data, or the one DER certificate it is. *out may
 * be empty; free with sk_X509_pop_free(*out, X509_free). Borrows data. */
int eos_ratls__read_certs(const uint8_t *data, size_t size, STACK_OF(X509) * *out);
/* Appends the PEM CRLs in data (or its one DER CRL) to crls; EOS_EMALFORMED
 * when there is none. */
int eos_ratls__read_crls(const uint8_t *data, size_t size, STACK_OF(X509_CRL) * crls);
/* Reads a file of PEM/DER certificates (at least one). Free *out with
 * sk_X509_pop_free(*out, X509_free). */
int eos_ratls__load_certs_file(const char *path, STACK_OF(X509) * *out, eos_diag *diag);
/* Reads a whole file of at most max_size bytes, NUL-terminated; free *out
 * with eos_free(*out, *out_size + 1). EOS_ENOTFOUND when it does not exist. */
int eos_ratls__read_whole(const char *path, size_t max_size, uint8_t **out, size_t *out_size,
                          eos_diag *diag);
/* Verifies leaf up to one of anchors at now (0 = current time), with
 * untrusted intermediates and, when crls is not empty, CRL checks of every
 * certificate. Borrows all. 0, EOS_EPERM when a certificate is revoked, or
 * EOS_EVERIFY with OpenSSL's reason in err. */
int eos_ratls__verify_cert(X509 *leaf, STACK_OF(X509) * untrusted, STACK_OF(X509) * anchors,
                           STACK_OF(X509_CRL) * crls, int64_t now, char *err, size_t err_size);

/* ---- DCAP (dcap.c) ---- */

/* Verifies a raw r || s P-256 signature (64 bytes, big endian) over data
 * with SHA-256; 1 when valid. Borrows all. */
int eos_ratls__p256_verify_raw(EVP_PKEY *key, const uint8_t sig[64], const uint8_t *data,
                               size_t size);

/* What the DCAP checks use; all borrowed. */
typedef struct eos_ratls__dcap_ctx {
    STACK_OF(X509) * anchors;    /* the Intel SGX root CA(s) */
    STACK_OF(X509) * pck_chain;  /* PCK certificate first, or NULL: the quote's own chain */
    STACK_OF(X509_CRL) * crls;   /* Intel's root and PCK CA CRLs, or NULL */
    int64_t now;                 /* 0 = current time */
} eos_ratls__dcap_ctx;

/* Offline DCAP checks of a parsed SGX/TDX quote. Returns 0; EOS_EPERM when
 * every signature holds but the PCK certificate is revoked; or EOS_EVERIFY
 * with diag. *out_pck (when out_pck is not NULL and the result is 0 or
 * EOS_EPERM) is the PCK certificate: free with X509_free. */
int eos_ratls__dcap_verify(const eos_tee_evidence_info *info, const eos_ratls__dcap_ctx *c,
                           X509 **out_pck, eos_diag *diag);

/* ---- SEV-SNP (snp.c) ---- */

typedef struct eos_ratls__snp_tcb {
    unsigned fmc, bootloader, tee, snp, microcode;
} eos_ratls__snp_tcb;

typedef struct eos_ratls__snp_ctx {
    X509 *cert;                /* VCEK or VLEK */
    STACK_OF(X509) * anchors;  /* ASK + ARK, or NULL: the VCEK is not chained */
    STACK_OF(X509_CRL) * crls; /* AMD's CRL, or NULL */
    int64_t now;
    int min_set;               /* min holds a minimum TCB */
    eos_ratls__snp_tcb min;
} eos_ratls__snp_ctx;

/* The report signature with c->cert, chained to c->anchors when set.
 * 0, EOS_EPERM (revoked) or EOS_EVERIFY with diag. Borrows all. */
int eos_ratls__snp_verify(const eos_tee_evidence_info *info, const eos_ratls__snp_ctx *c,
                          eos_diag *diag);
/* The TCB fields of an 8-byte SNP TCB value, by the report's CPU family. */
void eos_ratls__snp_tcb_decode(const eos_tee_evidence_info *info, const uint8_t tcb[8],
                               eos_ratls__snp_tcb *out);
/* The SEV-SNP TCB status into r (tcb_status, tcb_detail): the VCEK's TCB
 * must be the REPORTED_TCB and its chip the CHIP_ID. 0 or EOS_EVERIFY. */
int eos_ratls__snp_tcb_status(const eos_tee_evidence_info *info, const eos_ratls__snp_ctx *c,
                              eos_ratls_verify_result *r, eos_diag *diag);

/* ---- Hardware checks (trust.c) ---- */

/* Signatures, PCK/VCEK chains and TCB status of parsed evidence as opts ask,
 * at opts->now; fills r (quote_signature, tcb_status, tcb_detail). 0 or
 * EOS_EVERIFY with r->failed_step and diag. Borrows all. */
int eos_ratls__check_hardware(const eos_tee_evidence_info *info, const eos_ratls_verify_opts *opts,
                              eos_ratls_verify_result *r, eos_diag *diag);

/* ---- Collateral (collateral.c, tcb.c) ---- */

/* Vendor collateral read from a directory. Owned; eos_ratls__collateral_free. */
typedef struct eos_ratls__collateral {
    char *tcb_info, *qe_identity; /* NUL-terminated JSON, or NULL */
    size_t tcb_info_size, qe_identity_size;
    STACK_OF(X509) * tcb_chain;   /* TCB signing certificate (and its issuers) */
    STACK_OF(X509) * pck_chain;   /* pckCert.pem + pckSignChain.pem, or NULL */
    STACK_OF(X509_CRL) * crls;    /* never NULL once loaded; may be empty */
    X509 *vcek;                   /* SEV-SNP: vcek.der / vcek.pem / vlek.*, or NULL */
    int snp_min_set;
    eos_ratls__snp_tcb snp_min;
} eos_ratls__collateral;

/* Loads what dir holds for evidence of kind (SGX/TDX files may carry an
 * "sgx_" or "tdx_" prefix). Missing files stay NULL; unreadable or
 * malformed ones fail with EOS_EMALFORMED and diag. */
int eos_ratls__collateral_load(const char *dir, eos_tee_kind kind, eos_ratls__collateral *out,
                               eos_diag *diag);
void eos_ratls__collateral_free(eos_ratls__collateral *c);
/* Parses the SEV-SNP minimum TCB {"bootloader":N,"tee":N,"snp":N,
 * "microcode":N[,"fmc":N]}; 0 or EOS_EMALFORMED with diag. Borrows json. */
int eos_ratls__snp_min_parse(const char *json, size_t size, eos_ratls__snp_tcb *out,
                             eos_diag *diag);

/* Intel TCB evaluation of a DCAP quote whose signatures and PCK chain have
 * been verified (pck): TCB info and QE identity signatures up to anchors,
 * their validity at now, FMSPC/PCE ID, QE identity, platform TCB level (and
 * for TDX the TEE TCB SVN and TDX module identity). Fills r->tcb_status and
 * r->tcb_detail. 0 or EOS_EVERIFY with diag. Borrows all. */
int eos_ratls__intel_tcb(const eos_tee_evidence_info *info, X509 *pck,
                         const eos_ratls__collateral *c, STACK_OF(X509) * anchors, int64_t now,
                         eos_ratls_verify_result *r, eos_diag *diag);

#endif
