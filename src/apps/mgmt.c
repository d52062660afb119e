/* The inner requests of the management protocol (SPEC 3.1): authorisation
 * (SPEC 3.3), wasm_load / wasm_unload / wasm_list / wasm_call /
 * config_manifest, and the JSON documents they answer with. The framed
 * protocol and HTTP management both end here. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <yajl/yajl_tree.h>

#include "internal.h"

/* The most command-line arguments one wasm_call passes. */
#define EOS_APPS_MAX_ARGS 256

static void gen_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* The short error code of an eos_err for the "code" field. */
static const char *code_of(int rc)
{
    switch (rc) {
    case EOS_ENOTFOUND:
        return "not_found";
    case EOS_EEXIST:
        return "conflict";
    case EOS_EMALFORMED:
    case EOS_EINVALID:
        return "invalid_component";
    case EOS_EUNLINKABLE:
        return "unlinkable";
    case EOS_ELIMIT:
    case EOS_ETOOBIG:
        return "too_large";
    case EOS_ENOMEM:
        return "out_of_memory";
    case EOS_EPERM:
        return "unauthorized";
    case EOS_EINVAL:
    case EOS_ERANGE:
        return "invalid_request";
    default:
        return rc <= -1000 ? "trap" : "internal";
    }
}

static int error_rc(int rc, const eos_diag *d, char **out, size_t *out_size)
{
    return eos_apps_error_doc(code_of(rc), d->message[0] ? d->message : eos_strerror(rc), out,
                               out_size);
}

static void gen_root(yajl_gen g, eos_apps *apps)
{
    char hex[65];
    uint8_t root[32];
    memset(root, 0, sizeof root);
    if (apps->ratls)
        eos_ratls_server_merkle_root(apps->ratls, root);
    eos_hex_encode(root, 32, hex);
    gen_str(g, "merkle_root");
    gen_str(g, hex);
}

int eos_apps_token_ok(eos_apps *apps, const char *token, size_t len)
{
    const char *want = apps->token;
    if (!want || !token)
        return 0;
    /* The lengths first (the token's length is no secret), then every byte
     * in constant time: a prefix or a NUL-cut copy never matches. */
    size_t n = strlen(want);
    return n == len && CRYPTO_memcmp(want, token, n) == 0;
}

int eos_apps_load(eos_apps *apps, const eos_apps_load_args *args, char **out,
                       size_t *out_size)
{
    eos_diag d;
    eos_diag_init(&d);
    eos_apps_app *a = NULL;
    int rc = eos_apps__app_create(apps, args, &a, &d);
    if (rc == 0)
        rc = eos_apps__install(apps, a, &d);
    if (rc < 0) {
        EOS_INFO("net", "load of '%.64s' refused: %s", args->name ? args->name : "?", d.message);
        eos_apps_app_unref(a);
        if (rc == EOS_EINVAL && d.step[0] && strcmp(d.step, "name") == 0)
            return eos_apps_error_doc("invalid_name", d.message, out, out_size);
        return error_rc(rc, &d, out, out_size);
    }
    char hex[65];
    eos_hex_encode(a->code_hash, 32, hex);
    EOS_INFO("net", "app '%s' loaded at %s (%zu bytes, sha256 %s)", a->name, a->route, a->size,
             hex);
    int oom = 0;
    yajl_gen g = eos_proto_json_gen_new(&oom);
    if (!g) {
        eos_apps_app_unref(a);
        return EOS_ENOMEM;
    }
    yajl_gen_map_open(g);
    gen_str(g, "status");
    gen_str(g, "loaded");
    gen_str(g, "app");
    eos_apps__app_gen_info(g, a);
    gen_root(g, apps);
    yajl_gen_map_close(g);
    eos_apps_app_unref(a);
    if (oom) {
        yajl_gen_free(g);
        return EOS_ENOMEM;
    }
    return eos_proto_json_finish(g, out, out_size);
}

int eos_apps_unload(eos_apps *apps, const char *name, int erase, char **out,
                         size_t *out_size)
{
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_apps__remove(apps, name, &d);
    if (rc < 0)
        return error_rc(rc, &d, out, out_size);
    if (erase && apps->kv) {
        /* The app is gone from the table; its data goes now (SPEC 7). */
        char root[96];
        snprintf(root, sizeof root, "app:%s", name);
        eos_diag_init(&d);
        rc = eos_kv_erase_root(apps->kv, root, &d);
        if (rc < 0)
            return eos_apps_error_doc("internal", d.message, out, out_size);
    }
    EOS_INFO("net", "app '%s' unloaded", name);
    int oom = 0;
    yajl_gen g = eos_proto_json_gen_new(&oom);
    if (!g)
        return EOS_ENOMEM;
    yajl_gen_map_open(g);
    gen_str(g, "status");
    gen_str(g, "unloaded");
    gen_str(g, "name");
    gen_str(g, name);
    gen_root(g, apps);
    yajl_gen_map_close(g);
    if (oom) {
        yajl_gen_free(g);
        return EOS_ENOMEM;
    }
    return eos_proto_json_finish(g, out, out_size);
}

int eos_apps_list(eos_apps *apps, char **out, size_t *out_size)
{
    eos_apps_app **v = NULL;
    size_t n = 0;
    if (eos_apps__snapshot(apps, &v, &n) < 0)
        return EOS_ENOMEM;
    int oom = 0;
    yajl_gen g = eos_proto_json_gen_new(&oom);
    if (!g) {
        eos_apps__snapshot_free(v, n);
        return EOS_ENOMEM;
    }
    yajl_gen_map_open(g);
    gen_str(g, "status");
    gen_str(g, "apps");
    gen_str(g, "apps");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < n; i++)
        eos_apps__app_gen_info(g, v[i]);
    yajl_gen_array_close(g);
    if (apps->outbound_ca_pem) {
        /* The bundle's SHA-256: core.outbound_ca is its hash, so verify can
         * name the bundle, not only its leaf. */
        char hex[65];
        eos_hex_encode(apps->outbound_ca_sha256, 32, hex);
        gen_str(g, "outbound_ca");
        gen_str(g, hex);
    }
    yajl_gen_map_close(g);
    eos_apps__snapshot_free(v, n);
    if (oom) {
        yajl_gen_free(g);
        return EOS_ENOMEM;
    }
    return eos_proto_json_finish(g, out, out_size);
}

static const char *get_str(yajl_val body, const char *key, int *bad)
{
    const char *path[] = {key, NULL};
    yajl_val v = body ? yajl_tree_get(body, path, yajl_t_any) : NULL;
    if (!v || YAJL_IS_NULL(v))
        return NULL;
    if (!YAJL_IS_STRING(v)) {
        *bad = 1;
        return NULL;
    }
    return YAJL_GET_STRING(v);
}

static uint64_t get_uint(yajl_val body, const char *key, int *bad)
{
    const char *path[] = {key, NULL};
    yajl_val v = body ? yajl_tree_get(body, path, yajl_t_any) : NULL;
    if (!v || YAJL_IS_NULL(v))
        return 0;
    if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0) {
        *bad = 1;
        return 0;
    }
    return (uint64_t)YAJL_GET_INTEGER(v);
}

/* "allow_outbound": an array of rule strings, joined by '\n' into *out
 * (NULL when absent; free with eos_free(*out, *out_len + 1)). Nonzero when
 * the member is malformed. Rules themselves are checked by the load. */
static int outbound_text(yajl_val body, char **out, size_t *out_len)
{
    const char *path[] = {"allow_outbound", NULL};
    yajl_val v = body ? yajl_tree_get(body, path, yajl_t_any) : NULL;
    *out = NULL;
    *out_len = 0;
    if (!v || YAJL_IS_NULL(v))
        return 0;
    if (!YAJL_IS_ARRAY(v))
        return 1;
    size_t n = 0;
    for (size_t i = 0; i < v->u.array.len; i++) {
        const char *r = YAJL_GET_STRING(v->u.array.values[i]);
        if (!r || !r[0] || strchr(r, '\n'))
            return 1;
        n += strlen(r) + 1;
    }
    if (!n)
        return 0;
    char *t = eos_malloc(n);
    if (!t)
        return 1;
    size_t k = 0;
    for (size_t i = 0; i < v->u.array.len; i++) {
        const char *r = YAJL_GET_STRING(v->u.array.values[i]);
        if (k)
            t[k++] = '\n';
        memcpy(t + k, r, strlen(r));
        k += strlen(r);
    }
    t[k] = 0;
    *out = t;
    *out_len = n - 1;
    return 0;
}

/* The serialised text of a member (env, params) of the parsed body. */
static char *member_text(yajl_val body, const char *key, yajl_type want, int *bad, size_t *out_len)
{
    const char *path[] = {key, NULL};
    yajl_val v = body ? yajl_tree_get(body, path, yajl_t_any) : NULL;
    if (!v || YAJL_IS_NULL(v))
        return NULL;
    if (v->type != want) {
        *bad = 1;
        return NULL;
    }
    int oom = 0;
    yajl_gen g = eos_proto_json_gen_new(&oom);
    if (!g)
        return NULL;
    /* Re-encode the subtree: a small recursive walk. */
    int ok = 1;
    struct frame {
        yajl_val v;
        size_t i;
    } stack[70];
    size_t sp = 0;
    stack[sp++] = (struct frame){v, 0};
    if (YAJL_IS_OBJECT(v))
        yajl_gen_map_open(g);
    else if (YAJL_IS_ARRAY(v))
        yajl_gen_array_open(g);
    while (sp && ok) {
        struct frame *f = &stack[sp - 1];
        yajl_val c = NULL;
        if (YAJL_IS_OBJECT(f->v)) {
            if (f->i == f->v->u.object.len) {
                yajl_gen_map_close(g);
                sp--;
                continue;
            }
            gen_str(g, f->v->u.object.keys[f->i]);
            c = f->v->u.object.values[f->i++];
        } else {
            if (f->i == f->v->u.array.len) {
                yajl_gen_array_close(g);
                sp--;
                continue;
            }
            c = f->v->u.array.values[f->i++];
        }
        switch (c->type) {
        case yajl_t_string:
            gen_str(g, c->u.string);
            break;
        case yajl_t_number:
            yajl_gen_number(g, c->u.number.r, strlen(c->u.number.r));
            break;
        case yajl_t_true:
            yajl_gen_bool(g, 1);
            break;
        case yajl_t_false:
            yajl_gen_bool(g, 0);
            break;
        case yajl_t_null:
            yajl_gen_null(g);
            break;
        case yajl_t_object:
        case yajl_t_array:
            if (sp == EOS_ARRAY_LEN(stack)) {
                ok = 0;
                break;
            }
            stack[sp++] = (struct frame){c, 0};
            if (c->type == yajl_t_object)
                yajl_gen_map_open(g);
            else
                yajl_gen_array_open(g);
            break;
        default:
            ok = 0;
        }
    }
    char *text = NULL;
    size_t len = 0;
    if (ok && !oom)
        eos_proto_json_finish(g, &text, &len);
    else
        yajl_gen_free(g);
    *out_len = len;
    return text;
}

static int handle_load(eos_apps *apps, eos_proto_request *req, yajl_val body, char **out,
                       size_t *out_size)
{
    int bad = 0;
    eos_apps_load_args args;
    memset(&args, 0, sizeof args);
    args.name = eos_proto_request_name(req);
    args.route = get_str(body, "route", &bad);
    args.hostname = get_str(body, "hostname", &bad);
    args.max_fuel = get_uint(body, "max_fuel", &bad);
    args.max_memory_mb = get_uint(body, "max_memory_mb", &bad);
    args.max_request_ms = get_uint(body, "max_request_ms", &bad);
    args.max_concurrency = get_uint(body, "max_concurrency", &bad);
    const char *tier = get_str(body, "tier", &bad);
    if (!bad && tier && eos_apps_tier_parse(tier, strlen(tier), &args.tier) < 0)
        return eos_apps_error_doc("invalid_request",
                                   "wasm_load: \"tier\" must be \"auto\", \"interp\" or "
                                   "\"compiled\"",
                                   out, out_size);
    if (bad)
        return eos_apps_error_doc("invalid_request",
                                   "wasm_load: \"route\" and \"hostname\" must be strings, "
                                   "\"max_fuel\", \"max_memory_mb\", \"max_request_ms\" and "
                                   "\"max_concurrency\" "
                                   "non-negative integers",
                                   out, out_size);
    size_t env_len = 0;
    char *env = member_text(body, "env", yajl_t_object, &bad, &env_len);
    if (bad)
        return eos_apps_error_doc("invalid_request", "wasm_load: \"env\" must be an object", out,
                                   out_size);
    args.env_json = env;
    char *outbound = NULL;
    size_t outbound_len = 0;
    if (outbound_text(body, &outbound, &outbound_len)) {
        eos_free(env, env_len + 1);
        return eos_apps_error_doc("invalid_request",
                                   "wasm_load: \"allow_outbound\" must be an array of strings "
                                   "without newlines",
                                   out, out_size);
    }
    args.outbound = outbound;
    size_t config_len = 0;
    char *config = member_text(body, "config", yajl_t_object, &bad, &config_len);
    args.config_json = config;
    args.caller_policy = get_str(body, "caller_policy", &bad);
    args.jwks = get_str(body, "jwks", &bad);
    args.client_ca = get_str(body, "client_ca", &bad);
    if (bad || !args.name) {
        eos_free(outbound, outbound_len + 1);
        eos_free(env, env_len + 1);
        eos_free(config, config_len + 1);
        return eos_apps_error_doc("invalid_request",
                                  bad ? "wasm_load: \"config\" must be an object of strings and "
                                        "\"caller_policy\", \"jwks\", \"client_ca\" strings"
                                      : "wasm_load needs \"name\"",
                                  out, out_size);
    }
    size_t size = 0, cap = 0;
    uint8_t *bytes = eos_proto_request_take_bytes(req, &size, &cap);
    if (!bytes || size == 0) {
        eos_free(bytes, cap);
        eos_free(env, env_len + 1);
        eos_free(config, config_len + 1);
        eos_free(outbound, outbound_len + 1);
        return eos_apps_error_doc("invalid_request",
                                   "wasm_load needs \"bytes\": the component as an array of "
                                   "numbers 0..255",
                                   out, out_size);
    }
    /* The decoded buffer moves to the app without a copy; its spare capacity
     * is given back first so the app's size is exact. */
    if (cap != size) {
        uint8_t *nb = eos_realloc(bytes, cap, size);
        if (!nb) {
            eos_free(bytes, cap);
            eos_free(env, env_len + 1);
            eos_free(config, config_len + 1);
            eos_free(outbound, outbound_len + 1);
            return eos_apps_error_doc("out_of_memory", "out of memory", out, out_size);
        }
        bytes = nb;
    }
    args.bytes = bytes;
    args.size = size;
    int rc = eos_apps_load(apps, &args, out, out_size);
    eos_free(env, env_len + 1);
    eos_free(config, config_len + 1);
    eos_free(outbound, outbound_len + 1);
    return rc;
}

int eos_apps_handle(eos_apps *apps, eos_proto_request *req, int conn_authorised, char **out,
                    size_t *out_size)
{
    return eos_apps_handle_as(apps, req, conn_authorised, NULL, out, out_size);
}

/* A typed call of an app with a caller policy: 0 when allowed, else the
 * refusal document in *out and 1. */
static int judge_call(const eos_auth_app *auth, const char *func, const char *authorization,
                      const eos_apps_caller *caller, char **out, size_t *out_size, int *rc)
{
    eos_auth_request req = {NULL, func, authorization,
                            caller ? caller->client_cert : NULL,
                            caller ? caller->client_chain : NULL, 0};
    eos_auth_decision dec;
    eos_diag d;
    eos_diag_init(&d);
    *rc = eos_auth_app_check(auth, &req, &dec, &d);
    if (*rc < 0)
        return 1;
    if (dec.status == 0) {
        eos_auth_decision_clear(&dec);
        return 0;
    }
    EOS_INFO("auth", "%s: typed call %s refused: %d (%s)",
             caller && caller->who ? caller->who : "a client", func, dec.status, d.message);
    int oom = 0;
    yajl_gen g = eos_proto_json_gen_new(&oom);
    if (!g) {
        *rc = EOS_ENOMEM;
        eos_auth_decision_clear(&dec);
        return 1;
    }
    yajl_gen_map_open(g);
    gen_str(g, "status");
    gen_str(g, "error");
    gen_str(g, "code");
    gen_str(g, dec.status == 401 ? "unauthorized" : "forbidden");
    gen_str(g, "message");
    gen_str(g, dec.status == 401 ? "this function needs the caller's credentials"
                                 : "the caller may not call this function");
    gen_str(g, "www_authenticate");
    gen_str(g, dec.www_authenticate);
    yajl_gen_map_close(g);
    eos_auth_decision_clear(&dec);
    if (oom) {
        yajl_gen_free(g);
        *rc = EOS_ENOMEM;
        return 1;
    }
    *rc = eos_proto_json_finish(g, out, out_size);
    return 1;
}

int eos_apps_handle_as(eos_apps *apps, eos_proto_request *req, int conn_authorised,
                       const eos_apps_caller *caller, char **out, size_t *out_size)
{
    const char *who = caller ? caller->who : NULL;
    size_t jsize = 0;
    const char *json = eos_proto_request_json(req, &jsize);
    char *text = eos_malloc(jsize + 1);
    if (!text)
        return EOS_ENOMEM;
    memcpy(text, json, jsize);
    text[jsize] = 0;
    char err[128];
    yajl_val root = yajl_tree_parse(text, err, sizeof err);
    eos_free(text, jsize + 1);
    eos_proto_op op = eos_proto_request_op(req);
    const char *opname = eos_proto_op_name(op);
    const char *path[] = {opname, NULL};
    yajl_val body = root ? yajl_tree_get(root, path, yajl_t_object) : NULL;
    int rc;
    int secret_op = op == EOS_PROTO_OP_SECRET_PUT || op == EOS_PROTO_OP_SECRET_DELETE ||
                    op == EOS_PROTO_OP_SECRET_LIST;
    if (op == EOS_PROTO_OP_WASM_LOAD || op == EOS_PROTO_OP_WASM_UNLOAD || secret_op) {
        /* The token as sent, not the tree's copy: that one ends at a NUL. */
        size_t token_len = 0;
        const char *token = eos_proto_request_auth(req, &token_len);
        int ok = conn_authorised || (token && eos_apps_token_ok(apps, token, token_len));
        if (!ok) {
            rc = eos_apps_error_doc(
                "unauthorized",
                apps->token
                    ? "management requests need the server's bearer token in \"auth\""
                    : "management is closed: start the server with --token or --management-ca "
                      "(or --dev for loopback development)",
                out, out_size);
            goto out;
        }
    }
    switch (op) {
    case EOS_PROTO_OP_WASM_LOAD:
        rc = handle_load(apps, req, body, out, out_size);
        break;
    case EOS_PROTO_OP_SECRET_PUT:
    case EOS_PROTO_OP_SECRET_DELETE:
    case EOS_PROTO_OP_SECRET_LIST: {
        /* Who, for the audit log: the caller the server names, and how the
         * request was authorised. */
        char by[320];
        const char *how = conn_authorised ? "its connection" : "the bearer token";
        snprintf(by, sizeof by, "%s (authorised by %s)", who ? who : "a management client", how);
        rc = eos_apps__secret_op(apps, op, body, by, out, out_size);
        break;
    }
    case EOS_PROTO_OP_WASM_UNLOAD: {
        const char *name = eos_proto_request_name(req);
        const char *epath[] = {"erase", NULL};
        yajl_val erase = body ? yajl_tree_get(body, epath, yajl_t_any) : NULL;
        if (!name || (erase && !YAJL_IS_TRUE(erase) && !YAJL_IS_FALSE(erase))) {
            rc = eos_apps_error_doc("invalid_request",
                                     "wasm_unload needs \"name\" (a string) and an optional "
                                     "\"erase\" (true to delete the app's stored data)",
                                     out, out_size);
            break;
        }
        rc = eos_apps_unload(apps, name, erase && YAJL_IS_TRUE(erase), out, out_size);
        break;
    }
    case EOS_PROTO_OP_WASM_LIST:
        rc = eos_apps_list(apps, out, out_size);
        break;
    case EOS_PROTO_OP_CONFIG_MANIFEST:
        if (!apps->ratls) {
            rc = eos_apps_error_doc("unavailable", "this server runs without RA-TLS", out,
                                     out_size);
            break;
        }
        rc = eos_ratls_server_manifest_json(apps->ratls, out, out_size);
        break;
    case EOS_PROTO_OP_WASM_CALL: {
        int bad = 0;
        const char *app = get_str(body, "app", &bad);
        const char *func = get_str(body, "function", &bad);
        size_t plen = 0;
        char *params = member_text(body, "params", yajl_t_array, &bad, &plen);
        if (bad || !app || !func) {
            eos_free(params, plen + 1);
            rc = eos_apps_error_doc("invalid_request",
                                     "wasm_call needs \"app\" and \"function\" (strings) and "
                                     "optional \"params\" (an array)",
                                     out, out_size);
            break;
        }
        eos_apps_app *a = eos_apps__get(apps, app);
        if (!a) {
            eos_free(params, plen + 1);
            char msg[160];
            snprintf(msg, sizeof msg, "no app named '%.64s' is loaded", app);
            rc = eos_apps_error_doc("not_found", msg, out, out_size);
            break;
        }
        const char *authorization = get_str(body, "authorization", &bad);
        if (a->auth && judge_call(a->auth, func, bad ? NULL : authorization, caller, out,
                                  out_size, &rc)) {
            eos_apps_app_unref(a);
            eos_free(params, plen + 1);
            break;
        }
        /* "args": the command line a wasi:cli/run component reads
         * (get-arguments), argv[0] first; strings borrowed from the body. */
        const char *args_path[] = {"args", NULL};
        yajl_val av = yajl_tree_get(body, args_path, yajl_t_any);
        static const char *no_args[1];
        const char **argv = NULL;
        size_t argc = 0;
        int bad_args = 0;
        if (av && (!YAJL_IS_ARRAY(av) || av->u.array.len > EOS_APPS_MAX_ARGS)) {
            bad_args = 1;
        } else if (av && av->u.array.len) {
            argv = eos_calloc(av->u.array.len, sizeof *argv);
            if (!argv) {
                rc = EOS_ENOMEM;
                eos_apps_app_unref(a);
                eos_free(params, plen + 1);
                break;
            }
            for (size_t i = 0; i < av->u.array.len; i++) {
                yajl_val v = av->u.array.values[i];
                if (!YAJL_IS_STRING(v))
                    bad_args = 1;
                else
                    argv[argc++] = v->u.string;
            }
        }
        /* "no_app_env", "no_preopen": a bare command line (eos_wasi_cmdline). */
        const char *env_path[] = {"no_app_env", NULL}, *pre_path[] = {"no_preopen", NULL};
        yajl_val no_env = yajl_tree_get(body, env_path, yajl_t_any);
        yajl_val no_pre = yajl_tree_get(body, pre_path, yajl_t_any);
        if ((no_env && !YAJL_IS_TRUE(no_env) && !YAJL_IS_FALSE(no_env)) ||
            (no_pre && !YAJL_IS_TRUE(no_pre) && !YAJL_IS_FALSE(no_pre)))
            bad_args = 2;
        eos_wasi_cmdline cmd = {!av ? NULL : argv ? argv : no_args, argc,
                                no_env && YAJL_IS_TRUE(no_env), no_pre && YAJL_IS_TRUE(no_pre)};
        if (bad_args)
            rc = eos_apps_error_doc("invalid_request",
                                     bad_args == 2 ? "wasm_call: \"no_app_env\" and "
                                                     "\"no_preopen\" must be true or false"
                                                   : "wasm_call: \"args\" must be an array of "
                                                     "at most 256 strings",
                                     out, out_size);
        else
            rc = eos_apps__call(a, func, params ? params : "[]", params ? plen : 2, &cmd, out,
                                out_size);
        if (argv)
            eos_free(argv, av->u.array.len * sizeof *argv);
        eos_apps_app_unref(a);
        eos_free(params, plen + 1);
        break;
    }
    default:
        rc = eos_apps_error_doc("unknown_operation", "unknown operation", out, out_size);
    }
out:
    if (root)
        yajl_tree_free(root);
    return rc;
}
