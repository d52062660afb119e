/* The directory index: entries keyed by the HMAC of each '/'-ended prefix of
 * a name, so that listing such a prefix walks only its own entries. The
 * entries carry no data; listing authenticates the records they point to. */
#include <string.h>

#include "internal.h"

size_t eos_kv__depth(const char *data, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < size; i++)
        n += data[i] == '/';
    return n;
}

int eos_kv__dir_range(eos_kv_ns *ns, eos_kv__slot *s, const char *dir, size_t dir_size,
                      uint8_t out[EOS_KV__PREFIX_SIZE + EOS_KV__DIR_ID_SIZE], eos_diag *diag)
{
    uint8_t h[EOS_KV__HASH_SIZE];
    int rc = eos_kv__name_hmac(s, 'd', dir, dir_size, h, diag);
    if (rc == 0) {
        memcpy(out, ns->index_prefix, EOS_KV__PREFIX_SIZE);
        memcpy(out + EOS_KV__PREFIX_SIZE, h, EOS_KV__DIR_ID_SIZE);
    }
    return rc;
}

int eos_kv__dirs_of(eos_kv_ns *ns, eos_kv__slot *s, const char *name, size_t size,
                    const uint8_t *dbkey, eos_kv__dirs *out, eos_diag *diag)
{
    out->count = 0;
    for (size_t i = 0; i < size && out->count < EOS_KV__MAX_DIRS; i++) {
        if (name[i] != '/')
            continue;
        uint8_t *k = out->keys[out->count++];
        int rc = eos_kv__dir_range(ns, s, name, i + 1, k, diag);
        if (rc)
            return rc;
        memcpy(k + EOS_KV__PREFIX_SIZE + EOS_KV__DIR_ID_SIZE, dbkey + EOS_KV__PREFIX_SIZE,
               EOS_KV__HASH_SIZE);
    }
    return 0;
}

int eos_kv__put_record(eos_kv *kv, eos_kv_btxn *t, const uint8_t *dbkey, const uint8_t *env,
                       size_t env_size, const eos_kv__dirs *dirs, eos_diag *diag)
{
    const eos_kv_backend_ops *ops = kv->be->ops;
    int rc = 0;
    if (dirs && dirs->count) {
        /* Index entries only for a new record: an overwrite keeps them. */
        const uint8_t *v = NULL;
        size_t vs = 0;
        rc = ops->get(t, dbkey, EOS_KV_DBKEY_SIZE, &v, &vs, diag);
        if (rc == EOS_ENOTFOUND) {
            rc = 0;
            for (size_t i = 0; i < dirs->count && rc == 0; i++)
                rc = ops->put(t, dirs->keys[i], EOS_KV__INDEX_KEY_SIZE, dirs->keys[i], 0, diag);
        }
        if (rc)
            return rc;
    }
    return ops->put(t, dbkey, EOS_KV_DBKEY_SIZE, env, env_size, diag);
}

int eos_kv__del_record(eos_kv *kv, eos_kv_btxn *t, const uint8_t *dbkey, const eos_kv__dirs *dirs,
                       eos_diag *diag)
{
    const eos_kv_backend_ops *ops = kv->be->ops;
    int rc = ops->del(t, dbkey, EOS_KV_DBKEY_SIZE, diag);
    for (size_t i = 0; rc == 0 && dirs && i < dirs->count; i++) {
        rc = ops->del(t, dirs->keys[i], EOS_KV__INDEX_KEY_SIZE, diag);
        if (rc == EOS_ENOTFOUND)
            rc = 0;
    }
    return rc;
}
