/* Keys, key sets and tokens made by tests: RSA and P-256 keys, their JWKS
 * entries, and compact JWS tokens signed (or mis-signed) on purpose. */
#ifndef EOS_TEST_JWT_FIXTURE_H
#define EOS_TEST_JWT_FIXTURE_H

#include <stddef.h>

#include <openssl/evp.h>

/* A JWK (JSON object text) for the public half of key; malloc'd. */
char *fixture_jwk(EVP_PKEY *key, const char *kid);
/* header and payload are JSON texts; alg "RS256", "ES256", "HS256" (keyed
 * with hmac_key), or "none" (empty signature). Returns a malloc'd token. */
char *fixture_token(const char *header, const char *payload, EVP_PKEY *key,
                    const unsigned char *hmac_key, size_t hmac_key_size);
/* base64url of data, malloc'd. */
char *fixture_b64url(const unsigned char *data, size_t size);

#endif
