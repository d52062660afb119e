/* Private pieces of the auth layer: base64url, JSON tree helpers, and the
 * parsed key set. */
#ifndef EOS_AUTH_INTERNAL_H
#define EOS_AUTH_INTERNAL_H

#include <openssl/evp.h>
#include <yajl/yajl_tree.h>

#include "eos/auth.h"

#define EOS_AUTH__KEY_RSA 1
#define EOS_AUTH__KEY_EC  2

typedef struct eos_auth__key {
    int type;      /* EOS_AUTH__KEY_RSA or _EC */
    char kid[128]; /* "" when the key has none */
    char alg[8];   /* "" when the key names none */
    EVP_PKEY *pkey;
} eos_auth__key;

struct eos_auth_jwks {
    eos_auth__key keys[EOS_AUTH_JWKS_MAX_KEYS];
    size_t count;
};

/* Decodes base64url without padding (RFC 7515 section 2) of in (len chars)
 * into a new buffer; free with eos_free(*out, *out_size + 1), which is
 * NUL-terminated. EOS_EMALFORMED for any other character or length. */
int eos_auth__b64url_decode(const char *in, size_t len, uint8_t **out, size_t *out_size);
/* Encodes into a new NUL-terminated string; free with eos_free(s, strlen(s) + 1). */
char *eos_auth__b64url_encode(const uint8_t *in, size_t size);
/* Parses size bytes of JSON (any content; NULs refused) with yajl; free the
 * tree with yajl_tree_free. NULL when malformed or out of memory (*oom). */
yajl_val eos_auth__json_parse(const char *text, size_t size, int *oom);
/* A string value's text, or NULL when v is not a string. */
static inline const char *eos_auth__string(yajl_val v)
{
    return v && YAJL_IS_STRING(v) ? v->u.string : NULL;
}
/* The member key of an object, or NULL. */
yajl_val eos_auth__member(yajl_val obj, const char *key);

/* Whether some rule (or the default) of p needs a token, a certificate, or
 * either of them. */
void eos_auth__policy_needs(const eos_auth_policy *p, int *jwt, int *mtls, int *any);

#endif
