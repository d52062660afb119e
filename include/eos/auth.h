/* Caller identity: JSON Web Tokens (RS256, ES256) verified against a JWKS,
 * client certificates verified against a CA, and a policy that says, per
 * route prefix or per typed function, which of them a caller must present.
 * Built on OpenSSL and yajl, below the server. No error message ever holds
 * a token, a key or any other caller-supplied secret. */
#ifndef EOS_AUTH_H
#define EOS_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "eos/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EOS_AUTH_JWKS_MAX_SIZE (64 * 1024) /* bytes of JWKS JSON accepted */
#define EOS_AUTH_JWKS_MAX_KEYS 32
#define EOS_AUTH_JWT_MAX_SIZE  (16 * 1024) /* bytes of a compact JWT accepted */

/* ---- Keys ------------------------------------------------------------------ */

typedef struct eos_auth_jwks eos_auth_jwks;

/* Parses a JSON Web Key Set ({"keys":[...]}): RSA keys (kty RSA, n, e, at
 * least 2048 bits) and P-256 keys (kty EC, crv P-256, x, y); kid, alg and
 * use are kept when present. Keys of other types, or marked for use "enc",
 * are skipped; a set with no usable key, more than EOS_AUTH_JWKS_MAX_KEYS
 * keys or more than EOS_AUTH_JWKS_MAX_SIZE bytes is refused. Borrows json.
 * Free *out with eos_auth_jwks_free(). EOS_EMALFORMED / EOS_ETOOBIG. */
EOS_API int eos_auth_jwks_parse(const char *json, size_t size, eos_auth_jwks **out,
                                eos_diag *diag);
/* Reads and parses a JWKS file; borrows path. */
EOS_API int eos_auth_jwks_load(const char *path, eos_auth_jwks **out, eos_diag *diag);
/* Takes ownership; NULL is allowed. */
EOS_API void eos_auth_jwks_free(eos_auth_jwks *keys);
/* Usable keys in the set. */
EOS_API size_t eos_auth_jwks_count(const eos_auth_jwks *keys);

/* ---- Identities ------------------------------------------------------------ */

/* Who a verified caller is. Strings are owned; clear with
 * eos_auth_identity_clear(). */
typedef struct eos_auth_identity {
    char method[8];    /* "jwt" or "mtls"; "" when anonymous */
    char *subject;     /* the token's "sub", or the certificate's subject DN */
    char *issuer;      /* the token's "iss", or the certificate's issuer DN */
    char *claims_json; /* the token's payload (verified JSON object), or NULL */
    size_t claims_size;
    int64_t expires; /* "exp" or the certificate's notAfter; 0 when none */
} eos_auth_identity;

/* Frees the strings of id and zeroes it; the struct is the caller's. */
EOS_API void eos_auth_identity_clear(eos_auth_identity *id);

/* ---- JSON Web Tokens ------------------------------------------------------- */

/* What a token must satisfy. Borrowed. */
typedef struct eos_auth_jwt_rules {
    const char *issuer;   /* "iss" must equal it; NULL = not checked */
    const char *audience; /* "aud" (a string or an array) must hold it; NULL = not checked */
    int64_t now;          /* unix time; 0 = the current time */
    int64_t leeway;       /* clock skew allowed on exp, nbf and iat, in seconds (0..600) */
    int allow_no_exp;     /* 1: a token without "exp" is accepted */
} eos_auth_jwt_rules;

/* Verifies a compact JWS (header.payload.signature): alg RS256 or ES256
 * only (none, HS*, and any alg the chosen key's type cannot make are
 * refused), the signature with the key named by kid (or, without kid, any
 * key of the right type), then iss, aud, exp, nbf and iat against rules.
 * Borrows all; fills *out on success (clear it with
 * eos_auth_identity_clear()). Returns 0; EOS_EMALFORMED (not a JWT),
 * EOS_EUNSUPPORTED (algorithm), EOS_EVERIFY (signature or unknown key),
 * EOS_EPERM (claims: expired, not yet valid, wrong issuer or audience) or
 * EOS_ETOOBIG; diag says which, never quoting the token. */
EOS_API int eos_auth_jwt_verify(const eos_auth_jwks *keys, const char *token, size_t size,
                                const eos_auth_jwt_rules *rules, eos_auth_identity *out,
                                eos_diag *diag);

/* ---- Client certificates (mTLS) ------------------------------------------- */

typedef struct eos_auth_mtls eos_auth_mtls;

/* The CA (PEM file, one or more certificates) that client certificates must
 * chain to. Borrows ca_file. Free with eos_auth_mtls_free(). */
EOS_API int eos_auth_mtls_new(const char *ca_file, eos_auth_mtls **out, eos_diag *diag);
EOS_API void eos_auth_mtls_free(eos_auth_mtls *m);
/* Makes a server SSL_CTX ask every client for a certificate (advertising
 * the CA's name) without requiring one, so routes that need none still
 * work; the chain is judged per request by eos_auth_mtls_verify(). Call
 * before the context accepts. Borrows both. */
EOS_API int eos_auth_mtls_configure_ctx(eos_auth_mtls *m, SSL_CTX *ctx, eos_diag *diag);
/* Verifies a client certificate (chain: intermediates the client sent, or
 * NULL) against the CA at now (0 = current time) for client
 * authentication, and fills *out. Borrows all. 0, or EOS_EVERIFY. */
EOS_API int eos_auth_mtls_verify(const eos_auth_mtls *m, X509 *cert, STACK_OF(X509) * chain,
                                 int64_t now, eos_auth_identity *out, eos_diag *diag);

/* The CA from PEM text in memory (as sent in a load request). */
EOS_API int eos_auth_mtls_new_pem(const char *pem, size_t size, eos_auth_mtls **out,
                                  eos_diag *diag);
/* Makes a server SSL_CTX ask every client for a certificate without
 * requiring or judging one (no CA names advertised): for a server whose apps
 * each judge client certificates against their own CA. Borrows ctx. */
EOS_API void eos_auth_request_client_certificates(SSL_CTX *ctx);

/* ---- Policy ---------------------------------------------------------------- */

typedef enum eos_auth_require {
    EOS_AUTH_REQUIRE_NONE = 0, /* anyone */
    EOS_AUTH_REQUIRE_JWT = 1,  /* a valid bearer token */
    EOS_AUTH_REQUIRE_MTLS = 2, /* a client certificate from the CA */
    EOS_AUTH_REQUIRE_ANY = 3,  /* either of them */
} eos_auth_require;

typedef struct eos_auth_policy eos_auth_policy;

/* Parses an app's caller policy:
 *   {"issuer": "https://idp.example", "audience": "my-app", "leeway": 60,
 *    "rules": [{"prefix": "/admin", "require": "jwt",
 *               "claims": {"role": "admin"}},
 *              {"function": "transfer", "require": "mtls"},
 *              {"prefix": "/", "require": "none"}]}
 * A request takes the rule of its typed function when one names it, else the
 * longest matching route prefix (at a '/' boundary), else "default" (when
 * absent: "none"). "claims" are string claims the token must carry exactly
 * (a string claim, or an element of an array claim). Borrows json. Free with
 * eos_auth_policy_free(). EOS_EMALFORMED with diag. */
EOS_API int eos_auth_policy_parse(const char *json, size_t size, eos_auth_policy **out,
                                  eos_diag *diag);
EOS_API void eos_auth_policy_free(eos_auth_policy *p);
/* Which requirement a request meets (for tests and listings). Borrows all. */
EOS_API eos_auth_require eos_auth_policy_requirement(const eos_auth_policy *p, const char *path,
                                                     const char *function);

/* One request, as the server sees it. Borrowed. */
typedef struct eos_auth_request {
    const char *path;          /* the route path, or NULL for a typed call */
    const char *function;      /* the typed function's name, or NULL */
    const char *authorization; /* the Authorization header's value, or NULL */
    X509 *client_cert;         /* the TLS client certificate, or NULL */
    STACK_OF(X509) * client_chain;
    int64_t now; /* 0 = current time */
} eos_auth_request;

/* The answer: status 0 (allowed, identity filled when the caller proved
 * one), 401 (no or bad credentials) or 403 (valid, but not allowed here),
 * with the WWW-Authenticate value to send. Clear with
 * eos_auth_decision_clear(). */
typedef struct eos_auth_decision {
    int status;
    char www_authenticate[192];
    eos_auth_identity identity;
} eos_auth_decision;

/* Judges a request against an app's policy; keys and mtls may be NULL when
 * the policy needs none of them (a rule needing one that is missing
 * refuses with 401). Borrows all. Returns 0 (the decision is in *out) or
 * EOS_ENOMEM; diag holds a reason fit for the server log, never a secret. */
EOS_API int eos_auth_check(const eos_auth_policy *p, const eos_auth_jwks *keys,
                           const eos_auth_mtls *mtls, const eos_auth_request *req,
                           eos_auth_decision *out, eos_diag *diag);
EOS_API void eos_auth_decision_clear(eos_auth_decision *d);

/* ---- One app's caller configuration ----------------------------------------- */

typedef struct eos_auth_app eos_auth_app;

/* An app's policy with the JWKS and client CA it names, as given at load
 * (text; jwks and client_ca may be NULL when no rule needs them). Refuses a
 * policy whose rules need a JWKS or CA that is missing. The hash covers all
 * three (SHA-256 of "enclave-os auth v1", then each text, or nothing when
 * absent, each followed by a NUL), for the app's attested leaf. Borrows all.
 * Free with eos_auth_app_free(). */
EOS_API int eos_auth_app_new(const char *policy_json, size_t policy_size, const char *jwks_json,
                             size_t jwks_size, const char *client_ca_pem, size_t ca_size,
                             eos_auth_app **out, eos_diag *diag);
EOS_API void eos_auth_app_free(eos_auth_app *a);
/* The 32-byte hash described above; borrowed from a. */
EOS_API const uint8_t *eos_auth_app_hash(const eos_auth_app *a);
/* 1 when some rule needs client certificates. */
EOS_API int eos_auth_app_wants_client_certs(const eos_auth_app *a);
/* eos_auth_check() with the app's policy, keys and CA. Thread-safe. */
EOS_API int eos_auth_app_check(const eos_auth_app *a, const eos_auth_request *req,
                               eos_auth_decision *out, eos_diag *diag);

/* The identity headers an app sees, which the server sets after a decision
 * and removes from every client request first. */
#define EOS_AUTH_HEADER_PREFIX  "x-eos-auth-"
#define EOS_AUTH_HEADER_METHOD  "x-eos-auth-method"
#define EOS_AUTH_HEADER_SUBJECT "x-eos-auth-subject"
#define EOS_AUTH_HEADER_ISSUER  "x-eos-auth-issuer"
#define EOS_AUTH_HEADER_CLAIMS  "x-eos-auth-claims" /* base64url of the claims JSON */

/* 1 when a header name (any case) is one of the reserved identity headers
 * that clients must never set. Borrows name. */
EOS_API int eos_auth_is_identity_header(const char *name, size_t len);
/* Calls emit(arg, name, value) for each identity header of id (none for an
 * anonymous caller). Values are NUL-terminated; borrowed during the call.
 * Returns 0 or the first non-zero emit result (or EOS_ENOMEM). */
EOS_API int eos_auth_identity_headers(const eos_auth_identity *id,
                                      int (*emit)(void *arg, const char *name, const char *value),
                                      void *arg);

#ifdef __cplusplus
}
#endif
#endif
