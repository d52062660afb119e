/* The key-value store for apps over wasi:keyvalue 0.2.0-draft2 (store, atomics,
 * batch). Results come back in return areas laid out by the canonical ABI; each
 * function documents the offsets it reads in internal.h. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A NUL-terminated heap copy of a host list, for values callers print as text. */
static int take_value(eos__bytes v, void **out_value, size_t *out_size)
{
    char *copy = eos__take_string(v);
    if (!copy)
        return EOS_APP_ENOMEM;
    *out_value = copy;
    *out_size = v.len;
    return EOS_APP_OK;
}

int eos_bucket_open(const char *name, eos_bucket *out_bucket)
{
    _Alignas(4) uint8_t ret[16];
    out_bucket->handle = -1;
    eos__kv_open(name, strlen(name), ret);
    if (ret[0] != 0)
        return eos__store_error(ret + 4);
    out_bucket->handle = (eos__handle)eos__u32(ret + 4);
    return EOS_APP_OK;
}

void eos_bucket_close(eos_bucket *bucket)
{
    if (bucket->handle >= 0)
        eos__kv_bucket_drop(bucket->handle);
    bucket->handle = -1;
}

int eos_bucket_get(eos_bucket *bucket, const char *key, void **out_value, size_t *out_size)
{
    _Alignas(4) uint8_t ret[16];
    *out_value = NULL;
    *out_size = 0;
    eos__kv_get(bucket->handle, key, strlen(key), ret);
    if (ret[0] != 0)
        return eos__store_error(ret + 4);
    if (ret[4] == 0)
        return EOS_APP_ENOTFOUND;
    return take_value(eos__list(ret + 8), out_value, out_size);
}

int eos_bucket_set(eos_bucket *bucket, const char *key, const void *value, size_t size)
{
    _Alignas(4) uint8_t ret[16];
    eos__kv_set(bucket->handle, key, strlen(key), value, size, ret);
    return ret[0] ? eos__store_error(ret + 4) : EOS_APP_OK;
}

int eos_bucket_delete(eos_bucket *bucket, const char *key)
{
    _Alignas(4) uint8_t ret[16];
    eos__kv_delete(bucket->handle, key, strlen(key), ret);
    return ret[0] ? eos__store_error(ret + 4) : EOS_APP_OK;
}

int eos_bucket_exists(eos_bucket *bucket, const char *key, bool *out_exists)
{
    _Alignas(4) uint8_t ret[16];
    *out_exists = false;
    eos__kv_exists(bucket->handle, key, strlen(key), ret);
    if (ret[0] != 0)
        return eos__store_error(ret + 4);
    *out_exists = ret[4] != 0;
    return EOS_APP_OK;
}

void eos_key_list_free(eos_key_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->keys[i]);
    free(list->keys);
    free(list->cursor);
    memset(list, 0, sizeof *list);
}

int eos_bucket_list_keys(eos_bucket *bucket, const char *cursor, eos_key_list *out_list)
{
    _Alignas(4) uint8_t ret[24];
    int err = EOS_APP_OK;
    memset(out_list, 0, sizeof *out_list);
    eos__kv_list_keys(bucket->handle, cursor != NULL, cursor ? cursor : "",
                      cursor ? strlen(cursor) : 0, ret);
    if (ret[0] != 0)
        return eos__store_error(ret + 4);
    eos__bytes keys = eos__list(ret + 4);
    if (keys.len) {
        out_list->keys = calloc(keys.len, sizeof(char *));
        if (!out_list->keys)
            err = EOS_APP_ENOMEM;
    }
    /* Every host string is taken (copied and released) even after a failure, so
     * nothing the host allocated leaks. */
    for (size_t i = 0; i < keys.len; i++) {
        char *k = eos__take_string(eos__list(keys.ptr + 8 * i));
        if (!k)
            err = EOS_APP_ENOMEM;
        if (out_list->keys && k)
            out_list->keys[out_list->count++] = k;
        else
            free(k);
    }
    eos__release(keys.ptr, keys.len);
    if (ret[12]) {
        out_list->cursor = eos__take_string(eos__list(ret + 16));
        if (!out_list->cursor)
            err = EOS_APP_ENOMEM;
    }
    if (err)
        eos_key_list_free(out_list);
    return err;
}

int eos_bucket_increment(eos_bucket *bucket, const char *key, int64_t delta, int64_t *out_value)
{
    _Alignas(8) uint8_t ret[24];
    *out_value = 0;
    eos__kv_increment(bucket->handle, key, strlen(key), delta, ret);
    if (ret[0] != 0)
        return eos__store_error(ret + 8);
    *out_value = (int64_t)eos__u64(ret + 8);
    return EOS_APP_OK;
}

int eos_bucket_cas_begin(eos_bucket *bucket, const char *key, eos_cas *out_cas, void **out_current,
                         size_t *out_size)
{
    _Alignas(4) uint8_t ret[16];
    out_cas->handle = -1;
    *out_current = NULL;
    *out_size = 0;
    eos__kv_cas_new(bucket->handle, key, strlen(key), ret);
    if (ret[0] != 0)
        return eos__store_error(ret + 4);
    out_cas->handle = (eos__handle)eos__u32(ret + 4);
    eos__kv_cas_current(out_cas->handle, ret);
    if (ret[0] != 0) {
        eos_cas_abort(out_cas);
        return eos__store_error(ret + 4);
    }
    if (ret[4] == 0)
        return EOS_APP_OK;
    int err = take_value(eos__list(ret + 8), out_current, out_size);
    if (err)
        eos_cas_abort(out_cas);
    return err;
}

int eos_cas_swap(eos_cas *cas, const void *value, size_t size)
{
    _Alignas(4) uint8_t ret[20];
    if (cas->handle < 0)
        return EOS_APP_ESTATE;
    eos__kv_cas_swap(cas->handle, value, size, ret);
    cas->handle = -1;
    if (ret[0] == 0)
        return EOS_APP_OK;
    if (ret[4] == 0)
        return eos__store_error(ret + 8);
    /* cas-failed hands back a fresh CAS; this API restarts from eos_bucket_cas_begin. */
    eos__kv_cas_drop((eos__handle)eos__u32(ret + 8));
    return EOS_APP_ECONFLICT;
}

void eos_cas_abort(eos_cas *cas)
{
    if (cas->handle >= 0)
        eos__kv_cas_drop(cas->handle);
    cas->handle = -1;
}

/* Lays keys out as a canonical list<string> (8-byte elements: pointer, length). */
static eos__bytes *key_list(const char *const *keys, size_t count)
{
    eos__bytes *list = calloc(count ? count : 1, sizeof *list);
    for (size_t i = 0; list && i < count; i++) {
        list[i].ptr = (uint8_t *)(uintptr_t)keys[i];
        list[i].len = strlen(keys[i]);
    }
    return list;
}

void eos_kv_entries_free(eos_kv_entry *entries, size_t count)
{
    for (size_t i = 0; entries && i < count; i++)
        free(entries[i].value);
    free(entries);
}

int eos_bucket_get_many(eos_bucket *bucket, const char *const *keys, size_t count,
                        eos_kv_entry **out_entries)
{
    _Alignas(4) uint8_t ret[16];
    int err = EOS_APP_OK;
    *out_entries = NULL;
    eos__bytes *list = key_list(keys, count);
    if (!list)
        return EOS_APP_ENOMEM;
    eos__kv_get_many(bucket->handle, list, count, ret);
    free(list);
    if (ret[0] != 0)
        return eos__store_error(ret + 4);
    eos__bytes got = eos__list(ret + 4);
    eos_kv_entry *entries = calloc(count ? count : 1, sizeof *entries);
    if (!entries)
        err = EOS_APP_ENOMEM;
    /* 20-byte elements: option tag, key string, value list. The host answers in the
     * order of the keys asked for. */
    for (size_t i = 0; i < got.len; i++) {
        const uint8_t *e = got.ptr + 20 * i;
        if (!e[0])
            continue;
        eos__bytes k = eos__list(e + 4), v = eos__list(e + 12);
        eos__release(k.ptr, k.len);
        if (entries && i < count) {
            entries[i].found = true;
            if (take_value(v, &entries[i].value, &entries[i].size))
                err = EOS_APP_ENOMEM;
        } else {
            eos__release(v.ptr, v.len);
        }
    }
    eos__release(got.ptr, got.len);
    if (err) {
        eos_kv_entries_free(entries, count);
        return err;
    }
    *out_entries = entries;
    return EOS_APP_OK;
}

int eos_bucket_set_many(eos_bucket *bucket, const eos_kv_pair *pairs, size_t count)
{
    _Alignas(4) uint8_t ret[16];
    /* 16-byte elements: key pointer and length, value pointer and length. */
    uint32_t *list = calloc(count ? count : 1, 16);
    if (!list)
        return EOS_APP_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        list[4 * i] = (uint32_t)(uintptr_t)pairs[i].key;
        list[4 * i + 1] = (uint32_t)strlen(pairs[i].key);
        list[4 * i + 2] = (uint32_t)(uintptr_t)pairs[i].value;
        list[4 * i + 3] = (uint32_t)pairs[i].size;
    }
    eos__kv_set_many(bucket->handle, list, count, ret);
    free(list);
    return ret[0] ? eos__store_error(ret + 4) : EOS_APP_OK;
}

int eos_bucket_delete_many(eos_bucket *bucket, const char *const *keys, size_t count)
{
    _Alignas(4) uint8_t ret[16];
    eos__bytes *list = key_list(keys, count);
    if (!list)
        return EOS_APP_ENOMEM;
    eos__kv_delete_many(bucket->handle, list, count, ret);
    free(list);
    return ret[0] ? eos__store_error(ret + 4) : EOS_APP_OK;
}
