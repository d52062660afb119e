/* Intel-format collateral made by tests: a test root and TCB signing key,
 * TCB info and QE identity documents signed like Intel's, CRLs, and ways
 * to damage them. Every function aborts the test program on failure. */
#ifndef EOS_TEST_COLLATERAL_BUILDER_H
#define EOS_TEST_COLLATERAL_BUILDER_H

#include <openssl/evp.h>
#include <openssl/x509.h>

typedef struct builder {
    char dir[64];      /* the collateral directory */
    char anchors[96];  /* PEM: the given Intel root and the test root */
    EVP_PKEY *root_key, *sign_key;
    X509 *root, *signer;
} builder;

/* Makes the directory, keys, certificates, tcbSignChain.pem and anchors. */
void builder_init(builder *b, const char *intel_root_pem);
void builder_free(builder *b);
/* One TCB level (tcbInfo v3), in a static ring of buffers: comps are 16
 * comma-separated SVNs. */
const char *builder_sgx_level(const char *comps, int pcesvn, const char *status);
const char *builder_tdx_level(const char *sgx, int pcesvn, const char *tdx, const char *status);
/* Writes tcbInfo.json (signed). modules: tdxModuleIdentities JSON or NULL;
 * tdx_module: add the tdxModule object; expiry -1 makes nextUpdate past. */
void builder_tcb_info(builder *b, const char *id, const char *fmspc, const char *levels,
                      const char *modules, int tdx_module_or_expiry);
/* Writes qeIdentity.json (signed): fields are the identity's members. */
void builder_qe_identity(builder *b, const char *fields, const char *levels);
/* Replaces the first `from` in a collateral file with `to` (same length). */
void builder_tamper(builder *b, const char *file, const char *from, const char *to);
/* Cuts a collateral file to size bytes. */
void builder_truncate(builder *b, const char *file, size_t size);
/* A root CRL revoking the TCB signing certificate, and its removal. */
void builder_revoke_signer(builder *b);
void builder_unrevoke(builder *b);

#endif
