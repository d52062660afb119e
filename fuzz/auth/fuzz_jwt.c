/* libFuzzer target: the JWT, JWKS and caller policy parsers on arbitrary
 * bytes. The first byte picks the parser (JWKS, a token against a fixed
 * P-256 key set, a policy); the rest is the input. A token that verifies
 * must carry an identity; a refusal must say why. */
#include <stdlib.h>
#include <string.h>

#include "eos/auth.h"

static const char fixed_jwks[] =
    "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"f1\",\"crv\":\"P-256\","
    "\"x\":\"-1A4jylJjQqTrSXsTDQDe508w8ykeH62_tq-KzAD6sg\","
    "\"y\":\"n3dlyp1iiOb_c09c0I86WSHPVLIbs5i1CsDSV3-gdHI\"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static eos_auth_jwks *keys;
    eos_diag d;
    if (!keys && eos_auth_jwks_parse(fixed_jwks, sizeof fixed_jwks - 1, &keys, NULL) != 0)
        abort();
    if (size < 1)
        return 0;
    /* A copy of exactly the input size, so ASan catches any over-read. */
    char *in = malloc(size - 1 ? size - 1 : 1);
    memcpy(in, data + 1, size - 1);
    eos_diag_init(&d);
    int rc;
    switch (data[0] % 3) {
    case 0: {
        eos_auth_jwks *k = NULL;
        rc = eos_auth_jwks_parse(in, size - 1, &k, &d);
        if (rc == 0 && eos_auth_jwks_count(k) == 0)
            abort();
        eos_auth_jwks_free(k);
        break;
    }
    case 1: {
        eos_auth_identity id;
        eos_auth_jwt_rules rules = {"https://idp.test", "shop", 1767225600, 30, 0};
        rc = eos_auth_jwt_verify(keys, in, size - 1, &rules, &id, &d);
        if (rc == 0 && (strcmp(id.method, "jwt") != 0 || !id.subject || !id.claims_json))
            abort();
        eos_auth_identity_clear(&id);
        break;
    }
    default: {
        eos_auth_policy *p = NULL;
        rc = eos_auth_policy_parse(in, size - 1, &p, &d);
        if (rc == 0)
            (void)eos_auth_policy_requirement(p, "/api/x", "f");
        eos_auth_policy_free(p);
        break;
    }
    }
    if (rc != 0 && rc != EOS_ENOMEM && d.message[0] == '\0')
        abort();
    free(in);
    return 0;
}
