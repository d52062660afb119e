/* The encrypted, per-app key-value store (wasi:keyvalue 0.2.0-draft2: store, atomics,
 * batch). Values are bytes; keys are strings. Each app sees only its own buckets. */
#ifndef EOS_KEYVALUE_H
#define EOS_KEYVALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A bucket handle; open with eos_bucket_open, release with eos_bucket_close. */
typedef struct eos_bucket {
    int32_t handle;
} eos_bucket;

/* A page of keys from eos_bucket_list_keys; free with eos_key_list_free. */
typedef struct eos_key_list {
    char **keys; /* count NUL-terminated keys */
    size_t count;
    char *cursor; /* pass to the next call to continue, NULL when the listing is done */
} eos_key_list;

/* One entry of eos_bucket_get_many; free the array with eos_kv_entries_free. */
typedef struct eos_kv_entry {
    bool found;
    void *value; /* NUL-terminated copy (NUL not counted), NULL when !found */
    size_t size;
} eos_kv_entry;

/* One pair for eos_bucket_set_many (borrowed). */
typedef struct eos_kv_pair {
    const char *key;
    const void *value;
    size_t size;
} eos_kv_pair;

/* A pending compare-and-swap; see eos_bucket_cas_begin. */
typedef struct eos_cas {
    int32_t handle;
} eos_cas;

/* Opens bucket `name` ("default" is always there). Borrows name. */
int eos_bucket_open(const char *name, eos_bucket *out_bucket);
/* Releases the handle (the data stays). */
void eos_bucket_close(eos_bucket *bucket);
/* Reads a value into a new NUL-terminated buffer (free with free()); EOS_APP_ENOTFOUND
 * when the key is absent. */
int eos_bucket_get(eos_bucket *bucket, const char *key, void **out_value, size_t *out_size);
/* Stores a value (borrows key and value). */
int eos_bucket_set(eos_bucket *bucket, const char *key, const void *value, size_t size);
/* Removes a key; removing an absent key succeeds. */
int eos_bucket_delete(eos_bucket *bucket, const char *key);
int eos_bucket_exists(eos_bucket *bucket, const char *key, bool *out_exists);
/* One page of keys, starting at `cursor` (NULL for the first page). */
int eos_bucket_list_keys(eos_bucket *bucket, const char *cursor, eos_key_list *out_list);
void eos_key_list_free(eos_key_list *list);

/* Adds delta to the integer stored at key (absent counts as 0) and returns the new
 * value in *out_value. Atomic. */
int eos_bucket_increment(eos_bucket *bucket, const char *key, int64_t delta, int64_t *out_value);
/* Starts a compare-and-swap on key: *out_current gets the current value (free with
 * free(); NULL when absent). Then eos_cas_swap writes only if nobody wrote in
 * between, or eos_cas_abort gives up. */
int eos_bucket_cas_begin(eos_bucket *bucket, const char *key, eos_cas *out_cas, void **out_current,
                         size_t *out_size);
/* Consumes the CAS; EOS_APP_ECONFLICT when the value changed meanwhile (start again). */
int eos_cas_swap(eos_cas *cas, const void *value, size_t size);
void eos_cas_abort(eos_cas *cas);

/* Batch calls: several keys in one host call (not atomic). */
int eos_bucket_get_many(eos_bucket *bucket, const char *const *keys, size_t count,
                        eos_kv_entry **out_entries);
void eos_kv_entries_free(eos_kv_entry *entries, size_t count);
int eos_bucket_set_many(eos_bucket *bucket, const eos_kv_pair *pairs, size_t count);
int eos_bucket_delete_many(eos_bucket *bucket, const char *const *keys, size_t count);

#ifdef __cplusplus
}
#endif

#endif
