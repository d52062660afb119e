/* An app's secrets: secret_put, secret_delete and secret_list. Values sit in
 * the app's sealed store namespace app:<name>/secret, where the app reads
 * them through wasi:config ("secret.<key>"); app:<name>/secret-meta keeps per
 * name a fresh 32-byte salt, the commitment the manifest shows and the time
 * it was set. Values never reach a log, a listing, the manifest or a
 * certificate: the audit log names the secret, who changed it and its
 * commitment. The client sends secrets only after verifying the server. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "internal.h"

#define SECRET_MAX (64 * 1024)

static int key_valid(const char *k)
{
    size_t n = k ? strlen(k) : 0;
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static void gen_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_hex(yajl_gen g, const char *key, const uint8_t *b, size_t n)
{
    char hex[65];
    eos_hex_encode(b, n, hex);
    gen_str(g, key);
    gen_str(g, hex);
}

static void gen_root(yajl_gen g, eos_apps *apps)
{
    uint8_t root[32];
    memset(root, 0, sizeof root);
    if (apps->ratls)
        eos_ratls_server_merkle_root(apps->ratls, root);
    gen_hex(g, "merkle_root", root, 32);
}

static int list_entry(void *arg, const char *key, const uint8_t *meta)
{
    yajl_gen g = arg;
    uint64_t t = 0;
    for (int i = 7; i >= 0; i--)
        t = t << 8 | meta[64 + i];
    yajl_gen_map_open(g);
    gen_str(g, "key");
    gen_str(g, key);
    gen_hex(g, "commitment", meta + 32, 32);
    gen_str(g, "set_at");
    yajl_gen_integer(g, (long long)t);
    yajl_gen_map_close(g);
    return 0;
}

/* Writes or removes a secret and its record in one transaction. */
static int store(eos_apps *apps, const char *app, const char *key, const uint8_t *value,
                 size_t size, const uint8_t *meta, eos_diag *d)
{
    eos_kv_ns *vals = NULL, *metas = NULL;
    eos_kv_txn *txn = NULL;
    size_t klen = strlen(key);
    int rc;
    if ((rc = eos_apps__secret_ns_open(apps, app, "secret", &vals)) != 0 ||
        (rc = eos_apps__secret_ns_open(apps, app, "secret-meta", &metas)) != 0 ||
        (rc = eos_kv_txn_begin(apps->kv, &txn, d)) != 0)
        goto out;
    if (meta) {
        rc = eos_kv_txn_set(txn, vals, key, klen, value, size, d);
        if (rc == 0)
            rc = eos_kv_txn_set(txn, metas, key, klen, meta, EOS_APPS__SECRET_META_SIZE, d);
    } else {
        rc = eos_kv_txn_delete(txn, vals, key, klen, d);
        if (rc == 0 || rc == EOS_ENOTFOUND)
            rc = eos_kv_txn_delete(txn, metas, key, klen, d);
    }
    if (rc != 0 && rc != EOS_ENOTFOUND) {
        eos_kv_txn_abort(txn);
        goto out;
    }
    int missing = rc == EOS_ENOTFOUND;
    rc = eos_kv_txn_commit(txn, d);
    if (rc == 0 && missing)
        rc = EOS_ENOTFOUND;
out:
    eos_kv_ns_close(vals);
    eos_kv_ns_close(metas);
    return rc;
}

int eos_apps__secret_op(eos_apps *apps, eos_proto_op op, yajl_val body, const char *who,
                        char **out, size_t *out_size)
{
    const char *app_path[] = {"app", NULL}, *key_path[] = {"key", NULL}, *val_path[] = {"value", NULL};
    yajl_val app_v = body ? yajl_tree_get(body, app_path, yajl_t_string) : NULL;
    yajl_val key_v = body ? yajl_tree_get(body, key_path, yajl_t_string) : NULL;
    yajl_val val_v = body ? yajl_tree_get(body, val_path, yajl_t_string) : NULL;
    const char *app = app_v ? YAJL_GET_STRING(app_v) : NULL;
    const char *key = key_v ? YAJL_GET_STRING(key_v) : NULL;
    uint8_t *value = NULL, meta[EOS_APPS__SECRET_META_SIZE];
    size_t vsize = 0, vcap = 0;
    eos_diag d;
    int rc;
    eos_diag_init(&d);
    if (!apps->kv)
        return eos_apps_error_doc("unavailable", "this server has no store for secrets", out,
                                  out_size);
    if (!app || (op != EOS_PROTO_OP_SECRET_LIST && !key_valid(key)) ||
        (op == EOS_PROTO_OP_SECRET_PUT && !val_v))
        return eos_apps_error_doc("invalid_request",
                                  "secret operations need \"app\", \"key\" (1 to 128 of A-Z a-z "
                                  "0-9 - _ .) and, to put, \"value\" (base64)",
                                  out, out_size);
    eos_apps_app *a = eos_apps__get(apps, app);
    if (!a) {
        char msg[160];
        snprintf(msg, sizeof msg, "no app named '%.64s' is loaded", app);
        return eos_apps_error_doc("not_found", msg, out, out_size);
    }
    eos_apps_app_unref(a);
    pthread_mutex_lock(&apps->mgmt);
    int oom = 0;
    yajl_gen g = NULL;
    if (op == EOS_PROTO_OP_SECRET_PUT) {
        const char *b64 = YAJL_GET_STRING(val_v);
        size_t blen = strlen(b64);
        vcap = blen / 4 * 3 + 3;
        if (blen % 4 || vcap > SECRET_MAX + 3 || !(value = eos_malloc(vcap ? vcap : 1))) {
            pthread_mutex_unlock(&apps->mgmt);
            return eos_apps_error_doc(vcap > SECRET_MAX + 3 ? "too_large" : "invalid_request",
                                      "the secret must be base64 of at most 64 KiB", out,
                                      out_size);
        }
        int n = blen ? EVP_DecodeBlock(value, (const unsigned char *)b64, (int)blen) : 0;
        if (n < 0) {
            rc = eos_apps_error_doc("invalid_request", "the secret is not base64", out, out_size);
            goto done;
        }
        vsize = (size_t)n;
        while (blen && b64[blen - 1] == '=' && vsize) {
            vsize--;
            blen--;
        }
        uint64_t now = (uint64_t)time(NULL);
        if (RAND_bytes(meta, 32) != 1) {
            rc = eos_apps_error_doc("internal", "no randomness for the salt", out, out_size);
            goto done;
        }
        eos_ratls_secret_commitment(app, key, meta, value, vsize, meta + 32);
        for (int i = 0; i < 8; i++)
            meta[64 + i] = (uint8_t)(now >> (8 * i));
        rc = store(apps, app, key, value, vsize, meta, &d);
    } else if (op == EOS_PROTO_OP_SECRET_DELETE) {
        rc = store(apps, app, key, NULL, 0, NULL, &d);
        if (rc == EOS_ENOTFOUND) {
            rc = eos_apps_error_doc("not_found", "the app has no secret of that name", out,
                                    out_size);
            goto done;
        }
    } else {
        rc = 0;
    }
    if (rc != 0) {
        rc = eos_apps_error_doc("store", d.message[0] ? d.message : eos_strerror(rc), out,
                                out_size);
        goto done;
    }
    if (op != EOS_PROTO_OP_SECRET_LIST) {
        /* The manifest and certificates carry the new commitment (or lose
         * it) before the answer is sent, as a load's do. */
        eos_diag pd;
        eos_diag_init(&pd);
        if ((rc = eos_apps__push_current(apps, &pd)) != 0) {
            rc = eos_apps_error_doc("internal", pd.message, out, out_size);
            goto done;
        }
        char hex[65] = "-";
        if (op == EOS_PROTO_OP_SECRET_PUT)
            eos_hex_encode(meta + 32, 32, hex);
        EOS_INFO("secret", "app '%s': secret '%s' %s by %s (commitment %s)", app, key,
                 op == EOS_PROTO_OP_SECRET_PUT ? "set" : "deleted", who, hex);
    }
    if (!(g = eos_proto_json_gen_new(&oom))) {
        rc = EOS_ENOMEM;
        goto done;
    }
    yajl_gen_map_open(g);
    gen_str(g, "status");
    gen_str(g, op == EOS_PROTO_OP_SECRET_LIST ? "secrets" : "secret");
    gen_str(g, "app");
    gen_str(g, app);
    if (op == EOS_PROTO_OP_SECRET_LIST) {
        gen_str(g, "secrets");
        yajl_gen_array_open(g);
        rc = eos_apps__secret_each(apps, app, list_entry, g);
        yajl_gen_array_close(g);
    } else {
        gen_str(g, "key");
        gen_str(g, key);
        gen_str(g, op == EOS_PROTO_OP_SECRET_PUT ? "set" : "deleted");
        yajl_gen_bool(g, 1);
        if (op == EOS_PROTO_OP_SECRET_PUT) {
            gen_hex(g, "salt", meta, 32);
            gen_hex(g, "commitment", meta + 32, 32);
        }
    }
    gen_root(g, apps);
    yajl_gen_map_close(g);
    if (oom || rc != 0) {
        yajl_gen_free(g);
        rc = rc ? eos_apps_error_doc("store", eos_strerror(rc), out, out_size) : EOS_ENOMEM;
        goto done;
    }
    rc = eos_proto_json_finish(g, out, out_size);
done:
    pthread_mutex_unlock(&apps->mgmt);
    if (value) {
        OPENSSL_cleanse(value, vcap);
        eos_free(value, vcap ? vcap : 1);
    }
    return rc;
}
