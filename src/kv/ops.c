/* The single-key and batch operations of a namespace: get, set, delete,
 * exists, increment, compare-and-swap, and their batch forms. */
#include <string.h>

#include "internal.h"

/* Envelopes up to this size are built on the stack (a fixed size, never
 * chosen by the caller); larger ones are allocated. */
#define STACK_ENV_SIZE 1024

int eos_kv__check_name(const char *key, size_t key_size, eos_diag *diag)
{
    if (!key || key_size == 0 || key_size > EOS_KV_MAX_NAME_SIZE)
        return eos_diag_set(diag, EOS_EINVAL, "kv", -1,
                            "a key name must be 1 to %d bytes (got %zu)", EOS_KV_MAX_NAME_SIZE,
                            key ? key_size : 0);
    return 0;
}

static int check_value(const uint8_t *value, size_t value_size, eos_diag *diag)
{
    if (!value && value_size)
        return eos_diag_set(diag, EOS_EINVAL, "kv", -1, "a value pointer is NULL");
    if (value_size > EOS_KV_MAX_VALUE_SIZE)
        return eos_diag_set(diag, EOS_ETOOBIG, "kv", -1,
                            "a %zu-byte value is above the %u-byte limit", value_size,
                            EOS_KV_MAX_VALUE_SIZE);
    return 0;
}

int eos_kv__read_value(eos_kv *kv, eos_kv_btxn *t, eos_kv__slot *s, const uint8_t *dbkey,
                       uint8_t **out, size_t *out_size, eos_diag *diag)
{
    const uint8_t *raw = NULL;
    size_t raw_size = 0;
    eos_kv__envelope env;
    int rc = kv->be->ops->get(t, dbkey, EOS_KV_DBKEY_SIZE, &raw, &raw_size, diag);
    if (rc)
        return rc;
    if ((rc = eos_kv__envelope_parse(raw, raw_size, &env, diag)) != 0)
        return rc;
    if (!out) {
        uint8_t name[EOS_KV_MAX_NAME_SIZE];
        return eos_kv__open_name(s, dbkey, &env, name, diag);
    }
    uint8_t *buf = eos_malloc(env.value_size);
    if (!buf)
        return eos_diag_set(diag, EOS_ENOMEM, "kv", -1, "out of memory reading a %zu-byte value",
                            env.value_size);
    if ((rc = eos_kv__open_value(s, dbkey, &env, buf, diag)) != 0) {
        eos_free(buf, env.value_size);
        return rc;
    }
    *out = buf;
    *out_size = env.value_size;
    return 0;
}

/* A sealed record ready to be written under its backend key. */
typedef struct put_ctx {
    eos_kv *kv;
    const uint8_t *dbkey;
    const uint8_t *env;
    size_t env_size;
    const eos_kv__dirs *dirs;
} put_ctx;

static int do_put(eos_kv_btxn *t, void *ctx, eos_diag *diag)
{
    put_ctx *p = ctx;
    return eos_kv__put_record(p->kv, t, p->dbkey, p->env, p->env_size, p->dirs, diag);
}

static int do_del(eos_kv_btxn *t, void *ctx, eos_diag *diag)
{
    put_ctx *p = ctx;
    return eos_kv__del_record(p->kv, t, p->dbkey, p->dirs, diag);
}

int eos_kv_db_key(eos_kv_ns *ns, const char *key, size_t key_size, uint8_t out[EOS_KV_DBKEY_SIZE])
{
    eos_kv__slot *s = NULL;
    int rc = eos_kv__check_name(key, key_size, NULL);
    if (rc == 0 && (rc = eos_kv__slot_get(ns, &s, NULL)) == 0) {
        rc = eos_kv__dbkey(ns, s, key, key_size, out, NULL);
        eos_kv__slot_put(ns, s);
    }
    return rc;
}

/* Reads under a fresh read transaction; out == NULL only authenticates. */
static int read_one(eos_kv_ns *ns, const char *key, size_t key_size, uint8_t **out,
                    size_t *out_size, eos_diag *diag)
{
    eos_kv *kv = ns->kv;
    eos_kv__slot *s = NULL;
    eos_kv_btxn *t = NULL;
    uint8_t dbkey[EOS_KV_DBKEY_SIZE];
    int rc = eos_kv__check_name(key, key_size, diag);
    if (rc || (rc = eos_kv__slot_get(ns, &s, diag)) != 0)
        return rc;
    if ((rc = eos_kv__dbkey(ns, s, key, key_size, dbkey, diag)) != 0)
        goto out;
    if ((rc = kv->be->ops->begin(kv->be, 0, &t, diag)) != 0)
        goto out;
    rc = eos_kv__read_value(kv, t, s, dbkey, out, out_size, diag);
    kv->be->ops->abort(t);
out:
    eos_kv__slot_put(ns, s);
    return rc;
}

int eos_kv_get(eos_kv_ns *ns, const char *key, size_t key_size, uint8_t **out, size_t *out_size,
               eos_diag *diag)
{
    return read_one(ns, key, key_size, out, out_size, diag);
}

int eos_kv_exists(eos_kv_ns *ns, const char *key, size_t key_size, int *out_exists, eos_diag *diag)
{
    int rc = read_one(ns, key, key_size, NULL, NULL, diag);
    *out_exists = rc == 0;
    return rc == EOS_ENOTFOUND ? 0 : rc;
}

int eos_kv_set(eos_kv_ns *ns, const char *key, size_t key_size, const uint8_t *value,
               size_t value_size, eos_diag *diag)
{
    uint8_t stack[STACK_ENV_SIZE];
    uint8_t dbkey[EOS_KV_DBKEY_SIZE];
    eos_kv__slot *s = NULL;
    eos_kv__dirs dirs;
    put_ctx p = {ns->kv, dbkey, NULL, 0, &dirs};
    uint8_t *env = NULL;
    int rc = eos_kv__check_name(key, key_size, diag);
    if (rc || (rc = check_value(value, value_size, diag)) != 0)
        return rc;
    if ((rc = eos_kv__slot_get(ns, &s, diag)) != 0)
        return rc;
    /* Encrypt before taking the backend's write lock to keep it short. */
    rc = eos_kv__dbkey(ns, s, key, key_size, dbkey, diag);
    if (rc == 0)
        rc = eos_kv__dirs_of(ns, s, key, key_size, dbkey, &dirs, diag);
    if (rc == 0)
        rc = eos_kv__seal(ns, s, dbkey, key, key_size, value ? value : stack, value_size, stack,
                          sizeof stack, &env, &p.env_size, diag);
    eos_kv__slot_put(ns, s);
    if (rc)
        return rc;
    p.env = env;
    rc = eos_kv__run_write(ns->kv, do_put, &p, diag);
    if (env != stack)
        eos_free(env, p.env_size);
    return rc;
}

int eos_kv_delete(eos_kv_ns *ns, const char *key, size_t key_size, eos_diag *diag)
{
    uint8_t dbkey[EOS_KV_DBKEY_SIZE];
    eos_kv__slot *s = NULL;
    eos_kv__dirs dirs;
    put_ctx p = {ns->kv, dbkey, NULL, 0, &dirs};
    int rc = eos_kv__check_name(key, key_size, diag);
    if (rc || (rc = eos_kv__slot_get(ns, &s, diag)) != 0)
        return rc;
    rc = eos_kv__dbkey(ns, s, key, key_size, dbkey, diag);
    if (rc == 0)
        rc = eos_kv__dirs_of(ns, s, key, key_size, dbkey, &dirs, diag);
    eos_kv__slot_put(ns, s);
    return rc ? rc : eos_kv__run_write(ns->kv, do_del, &p, diag);
}

/* Read-modify-write of one key inside the write transaction: increment and
 * compare-and-swap. */
typedef struct rmw_ctx {
    eos_kv_ns *ns;
    eos_kv__slot *s;
    const uint8_t *dbkey;
    const char *key;
    size_t key_size;
    int64_t delta, result;   /* incr */
    const uint8_t *expected; /* cas */
    size_t expected_size;
    const uint8_t *value;
    size_t value_size;
    eos_kv__dirs dirs;
} rmw_ctx;

static int seal_put(eos_kv_btxn *t, rmw_ctx *c, const uint8_t *value, size_t value_size,
                    eos_diag *diag)
{
    uint8_t stack[STACK_ENV_SIZE];
    uint8_t *env = NULL;
    size_t env_size = 0;
    int rc = eos_kv__seal(c->ns, c->s, c->dbkey, c->key, c->key_size, value ? value : stack,
                          value_size, stack, sizeof stack, &env, &env_size, diag);
    if (rc)
        return rc;
    rc = eos_kv__put_record(c->ns->kv, t, c->dbkey, env, env_size, &c->dirs, diag);
    if (env != stack)
        eos_free(env, env_size);
    return rc;
}

static int do_incr(eos_kv_btxn *t, void *ctx, eos_diag *diag)
{
    rmw_ctx *c = ctx;
    uint8_t *cur = NULL, le[8];
    size_t cur_size = 0;
    int64_t v = 0;
    int rc = eos_kv__read_value(c->ns->kv, t, c->s, c->dbkey, &cur, &cur_size, diag);
    if (rc == 0) {
        if (cur_size != 8) {
            eos_free(cur, cur_size);
            return eos_diag_set(diag, EOS_EINVAL, "kv", -1,
                                "cannot increment a key holding a %zu-byte value; counters "
                                "are 8-byte little-endian integers",
                                cur_size);
        }
        uint64_t u = 0;
        for (int i = 7; i >= 0; i--)
            u = (u << 8) | cur[i];
        v = (int64_t)u;
        eos_free(cur, cur_size);
    } else if (rc != EOS_ENOTFOUND) {
        return rc;
    }
    if (__builtin_add_overflow(v, c->delta, &c->result))
        return eos_diag_set(diag, EOS_ERANGE, "kv", -1, "incrementing %lld by %lld overflows",
                            (long long)v, (long long)c->delta);
    uint64_t u = (uint64_t)c->result;
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(u >> (8 * i));
    return seal_put(t, c, le, sizeof le, diag);
}

static int do_cas(eos_kv_btxn *t, void *ctx, eos_diag *diag)
{
    rmw_ctx *c = ctx;
    uint8_t *cur = NULL;
    size_t cur_size = 0;
    int rc = eos_kv__read_value(c->ns->kv, t, c->s, c->dbkey, &cur, &cur_size, diag);
    if (rc != 0 && rc != EOS_ENOTFOUND)
        return rc;
    int match = c->expected ? rc == 0 && cur_size == c->expected_size &&
                                  memcmp(cur, c->expected, cur_size) == 0
                            : rc == EOS_ENOTFOUND;
    if (rc == 0)
        eos_free(cur, cur_size);
    if (!match)
        return EOS_ECONFLICT;
    return seal_put(t, c, c->value, c->value_size, diag);
}

static int run_rmw(eos_kv_ns *ns, rmw_ctx *c, eos_kv__write_fn fn, eos_diag *diag)
{
    uint8_t dbkey[EOS_KV_DBKEY_SIZE];
    int rc = eos_kv__check_name(c->key, c->key_size, diag);
    if (rc || (rc = eos_kv__slot_get(ns, &c->s, diag)) != 0)
        return rc;
    c->ns = ns;
    c->dbkey = dbkey;
    rc = eos_kv__dbkey(ns, c->s, c->key, c->key_size, dbkey, diag);
    if (rc == 0)
        rc = eos_kv__dirs_of(ns, c->s, c->key, c->key_size, dbkey, &c->dirs, diag);
    if (rc == 0)
        rc = eos_kv__run_write(ns->kv, fn, c, diag);
    eos_kv__slot_put(ns, c->s);
    return rc;
}

int eos_kv_incr(eos_kv_ns *ns, const char *key, size_t key_size, int64_t delta, int64_t *out_value,
                eos_diag *diag)
{
    rmw_ctx c = {.key = key, .key_size = key_size, .delta = delta};
    int rc = run_rmw(ns, &c, do_incr, diag);
    if (rc == 0 && out_value)
        *out_value = c.result;
    return rc;
}

int eos_kv_cas(eos_kv_ns *ns, const char *key, size_t key_size, const uint8_t *expected,
               size_t expected_size, const uint8_t *value, size_t value_size, eos_diag *diag)
{
    rmw_ctx c = {.key = key,
                 .key_size = key_size,
                 .expected = expected,
                 .expected_size = expected_size,
                 .value = value,
                 .value_size = value_size};
    int rc = check_value(value, value_size, diag);
    return rc ? rc : run_rmw(ns, &c, do_cas, diag);
}
