/* One app's caller configuration: its policy, the JWKS and client CA the
 * policy needs, checked together at load and hashed for the app's leaf. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_* one-shot context, allocation free */
#include <string.h>

#include <openssl/sha.h>

#include "internal.h"

struct eos_auth_app {
    eos_auth_policy *policy;
    eos_auth_jwks *jwks;
    eos_auth_mtls *mtls;
    uint8_t hash[32];
    int wants_certs;
};

int eos_auth_app_new(const char *policy_json, size_t policy_size, const char *jwks_json,
                     size_t jwks_size, const char *client_ca_pem, size_t ca_size,
                     eos_auth_app **out, eos_diag *d)
{
    int rc;
    eos_auth_app *a = eos_calloc(1, sizeof *a);
    if (!a)
        return EOS_ENOMEM;
    if ((rc = eos_auth_policy_parse(policy_json, policy_size, &a->policy, d)) != 0 ||
        (jwks_json && (rc = eos_auth_jwks_parse(jwks_json, jwks_size, &a->jwks, d)) != 0) ||
        (client_ca_pem && (rc = eos_auth_mtls_new_pem(client_ca_pem, ca_size, &a->mtls, d)) != 0))
        goto fail;
    int need_jwt = 0, need_mtls = 0, need_any = 0;
    eos_auth__policy_needs(a->policy, &need_jwt, &need_mtls, &need_any);
    if (need_any && !a->jwks && !a->mtls) {
        rc = eos_diag_set(d, EOS_EINVAL, "auth-policy", -1,
                          "the caller policy accepts a token or a client certificate but neither "
                          "a JWKS (--jwks) nor a client CA (--client-ca) was given");
        goto fail;
    }
    if (need_jwt && !a->jwks) {
        rc = eos_diag_set(d, EOS_EINVAL, "auth-policy", -1,
                          "the caller policy asks for tokens but no JWKS was given (--jwks)");
        goto fail;
    }
    if (need_mtls && !a->mtls) {
        rc = eos_diag_set(d, EOS_EINVAL, "auth-policy", -1,
                          "the caller policy asks for client certificates but no CA was given "
                          "(--client-ca)");
        goto fail;
    }
    a->wants_certs = a->mtls && (need_mtls || need_any);
    static const char tag[] = "enclave-os auth v1";
    static const uint8_t nul = 0;
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, tag, sizeof tag);
    SHA256_Update(&c, policy_json, policy_size);
    SHA256_Update(&c, &nul, 1);
    if (jwks_json)
        SHA256_Update(&c, jwks_json, jwks_size);
    SHA256_Update(&c, &nul, 1);
    if (client_ca_pem)
        SHA256_Update(&c, client_ca_pem, ca_size);
    SHA256_Update(&c, &nul, 1);
    SHA256_Final(a->hash, &c);
    *out = a;
    return 0;
fail:
    eos_auth_app_free(a);
    return rc;
}

void eos_auth_app_free(eos_auth_app *a)
{
    if (!a)
        return;
    eos_auth_policy_free(a->policy);
    eos_auth_jwks_free(a->jwks);
    eos_auth_mtls_free(a->mtls);
    eos_free(a, sizeof *a);
}

const uint8_t *eos_auth_app_hash(const eos_auth_app *a)
{
    return a->hash;
}

int eos_auth_app_wants_client_certs(const eos_auth_app *a)
{
    return a->wants_certs;
}

int eos_auth_app_check(const eos_auth_app *a, const eos_auth_request *req, eos_auth_decision *out,
                       eos_diag *d)
{
    return eos_auth_check(a->policy, a->jwks, a->mtls, req, out, d);
}
