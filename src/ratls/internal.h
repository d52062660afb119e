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

/* Loads (or creates and seals) the enclave CA under data_dir. *out_chain
 * holds certificates to send after the CA itself (operator chain), may be
 * empty. All outputs owned by the caller. */
int eos_ratls__load_ca(eos_tee *tee, const eos_ratls_server_options *opts, X509 **out_cert,
                       EVP_PKEY **out_key, STACK_OF(X509) * *out_chain, eos_diag *diag);

/* Offline DCAP checks of a parsed SGX/TDX quote against an Intel root CA
 * file (PEM). Returns 0 or EOS_EVERIFY with diag. */
int eos_ratls__dcap_verify(const eos_tee_evidence_info *info, const char *root_ca_file,
                           eos_diag *diag);

/* The SEV-SNP report signature against a VCEK certificate (PEM or DER),
 * chained to AMD's ASK/ARK in ca_file when it is not NULL. */
int eos_ratls__snp_verify(const eos_tee_evidence_info *info, const char *vcek_file,
                          const char *ca_file, eos_diag *diag);

#endif
