/* Per-app caller policies: which credential a route prefix or a typed
 * function needs, the token rules, and the decision the server turns into
 * 401/403 with WWW-Authenticate and the identity headers the app sees. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define MAX_RULES  256
#define MAX_CLAIMS 16

typedef struct claim_req {
    char *name, *value;
} claim_req;

typedef struct rule {
    char *prefix;   /* route prefix, or NULL */
    char *function; /* typed function name, or NULL */
    eos_auth_require require;
    claim_req claims[MAX_CLAIMS];
    size_t claim_count;
} rule;

struct eos_auth_policy {
    char *issuer, *audience;
    int64_t leeway;
    eos_auth_require fallback;
    rule rules[MAX_RULES];
    size_t count;
};

static void free_str(char *s)
{
    if (s)
        eos_free(s, strlen(s) + 1);
}

void eos_auth_policy_free(eos_auth_policy *p)
{
    if (!p)
        return;
    free_str(p->issuer);
    free_str(p->audience);
    for (size_t i = 0; i < p->count; i++) {
        free_str(p->rules[i].prefix);
        free_str(p->rules[i].function);
        for (size_t k = 0; k < p->rules[i].claim_count; k++) {
            free_str(p->rules[i].claims[k].name);
            free_str(p->rules[i].claims[k].value);
        }
    }
    eos_free(p, sizeof *p);
}

static int parse_require(yajl_val v, eos_auth_require *out)
{
    static const char *const names[] = {"none", "jwt", "mtls", "any"};
    if (!v || !YAJL_IS_STRING(v))
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(eos_auth__string(v), names[i]) == 0) {
            *out = (eos_auth_require)i;
            return 0;
        }
    return -1;
}

static int parse_rule(yajl_val r, rule *out)
{
    yajl_val prefix = eos_auth__member(r, "prefix"), fn = eos_auth__member(r, "function");
    yajl_val claims = eos_auth__member(r, "claims");
    if (!r || !YAJL_IS_OBJECT(r) || (!prefix == !fn) ||
        parse_require(eos_auth__member(r, "require"), &out->require) != 0)
        return EOS_EMALFORMED;
    if (prefix && (!YAJL_IS_STRING(prefix) || eos_auth__string(prefix)[0] != '/'))
        return EOS_EMALFORMED;
    if (fn && (!YAJL_IS_STRING(fn) || eos_auth__string(fn)[0] == '\0'))
        return EOS_EMALFORMED;
    if (prefix && !(out->prefix = eos_strdup(eos_auth__string(prefix))))
        return EOS_ENOMEM;
    if (fn && !(out->function = eos_strdup(eos_auth__string(fn))))
        return EOS_ENOMEM;
    if (!claims)
        return 0;
    if (!YAJL_IS_OBJECT(claims) || claims->u.object.len > MAX_CLAIMS)
        return EOS_EMALFORMED;
    for (size_t i = 0; i < claims->u.object.len; i++) {
        yajl_val v = claims->u.object.values[i];
        if (!YAJL_IS_STRING(v))
            return EOS_EMALFORMED;
        claim_req *c = &out->claims[out->claim_count++];
        c->name = eos_strdup(claims->u.object.keys[i]);
        c->value = eos_strdup(eos_auth__string(v));
        if (!c->name || !c->value)
            return EOS_ENOMEM;
    }
    return 0;
}

int eos_auth_policy_parse(const char *json, size_t size, eos_auth_policy **out, eos_diag *d)
{
    int oom, rc = 0;
    eos_auth_policy *p = NULL;
    if (size > 256 * 1024)
        return eos_diag_set(d, EOS_ETOOBIG, "auth-policy", -1, "the policy is too large");
    yajl_val root = eos_auth__json_parse(json, size, &oom);
    if (oom)
        return EOS_ENOMEM;
    yajl_val rules = eos_auth__member(root, "rules");
    yajl_val iss = eos_auth__member(root, "issuer"), aud = eos_auth__member(root, "audience");
    yajl_val leeway = eos_auth__member(root, "leeway"), def = eos_auth__member(root, "default");
    if (!root || !YAJL_IS_OBJECT(root) || (rules && !YAJL_IS_ARRAY(rules)) ||
        (iss && !YAJL_IS_STRING(iss)) || (aud && !YAJL_IS_STRING(aud)) ||
        (leeway && (!YAJL_IS_INTEGER(leeway) || YAJL_GET_INTEGER(leeway) < 0 ||
                    YAJL_GET_INTEGER(leeway) > 600)) ||
        (rules && rules->u.array.len > MAX_RULES)) {
        rc = eos_diag_set(d, EOS_EMALFORMED, "auth-policy", -1,
                          "the caller policy must be a JSON object with optional issuer and "
                          "audience strings, leeway (0..600 s), default and up to %d rules",
                          MAX_RULES);
        goto out;
    }
    if (!(p = eos_calloc(1, sizeof *p))) {
        rc = EOS_ENOMEM;
        goto out;
    }
    if (def && parse_require(def, &p->fallback) != 0) {
        rc = eos_diag_set(d, EOS_EMALFORMED, "auth-policy", -1,
                          "\"default\" must be none, jwt, mtls or any");
        goto out;
    }
    p->leeway = leeway ? YAJL_GET_INTEGER(leeway) : 60;
    if ((iss && !(p->issuer = eos_strdup(eos_auth__string(iss)))) ||
        (aud && !(p->audience = eos_strdup(eos_auth__string(aud))))) {
        rc = EOS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; rules && i < rules->u.array.len; i++) {
        rc = parse_rule(rules->u.array.values[i], &p->rules[p->count++]);
        if (rc == EOS_EMALFORMED)
            rc = eos_diag_set(d, EOS_EMALFORMED, "auth-policy", -1,
                              "rule %zu needs exactly one of \"prefix\" (starting with /) or "
                              "\"function\", \"require\" (none, jwt, mtls or any) and string "
                              "\"claims\"",
                              i);
        if (rc != 0)
            goto out;
    }
    *out = p;
    p = NULL;
out:
    eos_auth_policy_free(p);
    yajl_tree_free(root);
    return rc;
}

/* A prefix matches a path at a segment boundary: "/api" matches "/api" and
 * "/api/x", not "/apix". */
static int prefix_matches(const char *prefix, const char *path)
{
    size_t n = strlen(prefix);
    if (strncmp(prefix, path, n) != 0)
        return 0;
    return n == 1 || prefix[n - 1] == '/' || path[n] == '\0' || path[n] == '/' || path[n] == '?';
}

static const rule *match(const eos_auth_policy *p, const char *path, const char *function)
{
    const rule *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < p->count; i++) {
        const rule *r = &p->rules[i];
        if (function && r->function && strcmp(function, r->function) == 0)
            return r;
        if (path && r->prefix && prefix_matches(r->prefix, path) &&
            strlen(r->prefix) >= best_len) {
            best = r;
            best_len = strlen(r->prefix);
        }
    }
    return best;
}

void eos_auth__policy_needs(const eos_auth_policy *p, int *jwt, int *mtls, int *any)
{
    *jwt = p->fallback == EOS_AUTH_REQUIRE_JWT;
    *mtls = p->fallback == EOS_AUTH_REQUIRE_MTLS;
    *any = p->fallback == EOS_AUTH_REQUIRE_ANY;
    for (size_t i = 0; i < p->count; i++) {
        eos_auth_require r = p->rules[i].require;
        *jwt |= r == EOS_AUTH_REQUIRE_JWT;
        *mtls |= r == EOS_AUTH_REQUIRE_MTLS;
        *any |= r == EOS_AUTH_REQUIRE_ANY;
    }
}

eos_auth_require eos_auth_policy_requirement(const eos_auth_policy *p, const char *path,
                                             const char *function)
{
    const rule *r = match(p, path, function);
    return r ? r->require : p->fallback;
}

/* Whether the verified claims carry every required value. */
static int claims_hold(const rule *r, const eos_auth_identity *id)
{
    if (r->claim_count == 0)
        return 1;
    if (!id->claims_json)
        return 0;
    int oom;
    yajl_val c = eos_auth__json_parse(id->claims_json, id->claims_size, &oom);
    int ok = c != NULL;
    for (size_t i = 0; ok && i < r->claim_count; i++) {
        yajl_val v = eos_auth__member(c, r->claims[i].name);
        ok = 0;
        if (v && YAJL_IS_STRING(v))
            ok = strcmp(eos_auth__string(v), r->claims[i].value) == 0;
        for (size_t k = 0; v && YAJL_IS_ARRAY(v) && !ok && k < v->u.array.len; k++)
            ok = YAJL_IS_STRING(v->u.array.values[k]) &&
                 strcmp(eos_auth__string(v->u.array.values[k]), r->claims[i].value) == 0;
    }
    yajl_tree_free(c);
    return ok;
}

/* The bearer token of an Authorization value, or NULL. */
static const char *bearer(const char *auth, size_t *len)
{
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return NULL;
    const char *t = auth + 7;
    while (*t == ' ')
        t++;
    size_t n = strlen(t);
    while (n && t[n - 1] == ' ')
        n--;
    *len = n;
    return n ? t : NULL;
}

#define REALM "realm=\"enclave-os\""

int eos_auth_check(const eos_auth_policy *p, const eos_auth_jwks *keys,
                   const eos_auth_mtls *mtls, const eos_auth_request *req,
                   eos_auth_decision *out, eos_diag *d)
{
    memset(out, 0, sizeof *out);
    const rule *r = match(p, req->path, req->function);
    eos_auth_require need = r ? r->require : p->fallback;
    eos_diag inner;
    eos_diag_init(&inner);
    int rc;
    if (need == EOS_AUTH_REQUIRE_NONE)
        return 0;
    /* A client certificate, when one was presented and may serve. */
    if ((need == EOS_AUTH_REQUIRE_MTLS || need == EOS_AUTH_REQUIRE_ANY) && mtls &&
        req->client_cert) {
        rc = eos_auth_mtls_verify(mtls, req->client_cert, req->client_chain, req->now,
                                  &out->identity, &inner);
        if (rc == EOS_ENOMEM)
            return rc;
        if (rc == 0)
            return 0;
        if (need == EOS_AUTH_REQUIRE_MTLS) {
            out->status = 401;
            snprintf(out->www_authenticate, sizeof out->www_authenticate,
                     "ClientCertificate " REALM ", error=\"invalid_certificate\"");
            eos_diag_set(d, EOS_EPERM, "auth", -1, "%s", inner.message);
            return 0;
        }
    }
    if (need == EOS_AUTH_REQUIRE_MTLS) {
        out->status = 401;
        snprintf(out->www_authenticate, sizeof out->www_authenticate, "ClientCertificate " REALM);
        eos_diag_set(d, EOS_EPERM, "auth", -1, "a client certificate is required");
        return 0;
    }
    size_t len = 0;
    const char *token = bearer(req->authorization, &len);
    const char *also = need == EOS_AUTH_REQUIRE_ANY ? ", ClientCertificate " REALM : "";
    if (!token) {
        out->status = 401;
        snprintf(out->www_authenticate, sizeof out->www_authenticate, "Bearer " REALM "%s", also);
        eos_diag_set(d, EOS_EPERM, "auth", -1, "a bearer token is required");
        return 0;
    }
    eos_auth_jwt_rules rules = {p->issuer, p->audience, req->now, p->leeway, 0};
    rc = keys ? eos_auth_jwt_verify(keys, token, len, &rules, &out->identity, &inner)
              : eos_diag_set(&inner, EOS_EVERIFY, "jwt", -1, "the app has no JWKS");
    if (rc == EOS_ENOMEM)
        return rc;
    if (rc != 0) {
        out->status = 401;
        snprintf(out->www_authenticate, sizeof out->www_authenticate,
                 "Bearer " REALM ", error=\"invalid_token\"%s", also);
        eos_diag_set(d, EOS_EPERM, "auth", -1, "%s", inner.message);
        return 0;
    }
    if (r && !claims_hold(r, &out->identity)) {
        eos_auth_identity_clear(&out->identity);
        out->status = 403;
        snprintf(out->www_authenticate, sizeof out->www_authenticate,
                 "Bearer " REALM ", error=\"insufficient_scope\"");
        eos_diag_set(d, EOS_EPERM, "auth", -1,
                     "the token lacks a claim this route requires");
    }
    return 0;
}

void eos_auth_decision_clear(eos_auth_decision *dec)
{
    if (dec)
        eos_auth_identity_clear(&dec->identity);
}

int eos_auth_is_identity_header(const char *name, size_t len)
{
    size_t n = sizeof EOS_AUTH_HEADER_PREFIX - 1;
    return len >= n && strncasecmp(name, EOS_AUTH_HEADER_PREFIX, n) == 0;
}

int eos_auth_identity_headers(const eos_auth_identity *id,
                              int (*emit)(void *arg, const char *name, const char *value),
                              void *arg)
{
    int rc;
    if (!id->method[0])
        return 0;
    if ((rc = emit(arg, EOS_AUTH_HEADER_METHOD, id->method)) != 0 ||
        (rc = emit(arg, EOS_AUTH_HEADER_SUBJECT, id->subject ? id->subject : "")) != 0 ||
        (rc = emit(arg, EOS_AUTH_HEADER_ISSUER, id->issuer ? id->issuer : "")) != 0)
        return rc;
    if (!id->claims_json)
        return 0;
    char *b64 = eos_auth__b64url_encode((const uint8_t *)id->claims_json, id->claims_size);
    if (!b64)
        return EOS_ENOMEM;
    rc = emit(arg, EOS_AUTH_HEADER_CLAIMS, b64);
    eos_free(b64, strlen(b64) + 1);
    return rc;
}
