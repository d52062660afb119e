/* The encrypted, sealed key-value store: a master key sealed to the TEE,
 * per-namespace keys derived from it, HMAC'd key names and AES-256-GCM
 * values bound to their name and namespace, on LMDB (or any backend behind
 * the small byte-level vtable below). The host that keeps the bytes is not
 * trusted; see docs/storage.md for the on-disk format and its guarantees. */
#ifndef EOS_KV_H
#define EOS_KV_H

#include <stddef.h>
#include <stdint.h>

#include "eos/common.h"
#include "eos/tee.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layer's version string, static storage (never freed). */
EOS_API const char *eos_kv_version(void);

/* Longest key name and value accepted, in bytes. */
#define EOS_KV_MAX_NAME_SIZE  4096
#define EOS_KV_MAX_VALUE_SIZE (64u * 1024u * 1024u)
/* Size of a listing cursor string including its NUL. */
#define EOS_KV_CURSOR_SIZE 65

/* The backend interface: opaque byte keys and values, no crypto. */

typedef struct eos_kv_backend eos_kv_backend;
typedef struct eos_kv_btxn eos_kv_btxn;

/* A storage backend under the encryption layer. It only ever sees
 * ciphertext. Every function borrows its arguments. Errors are eos_err
 * values; EOS_ENOTFOUND means "no such key" (get, del) or "no key at or
 * after" (seek); EOS_ELIMIT from put or commit means "out of space, call
 * grow and run the transaction again". Byte pointers returned by get and
 * seek stay valid until the transaction ends or its next put or del.
 * EOS_EAGAIN from any call of a write transaction (a serialization
 * conflict with another writer, or a connection lost before commit) means
 * "abort and run the whole transaction again"; the store does so with
 * backoff. */
typedef struct eos_kv_backend_ops {
    const char *name;
    /* Starts a transaction; write != 0 for a read-write one. A backend may
     * allow one writer at a time and any number of readers. */
    int (*begin)(eos_kv_backend *b, int write, eos_kv_btxn **out, eos_diag *diag);
    /* Makes a write transaction durable (or ends a read one) and frees it. */
    int (*commit)(eos_kv_btxn *t, eos_diag *diag);
    /* Discards a transaction and frees it. */
    void (*abort)(eos_kv_btxn *t);
    int (*get)(eos_kv_btxn *t, const uint8_t *key, size_t key_size, const uint8_t **out_val,
               size_t *out_val_size, eos_diag *diag);
    int (*put)(eos_kv_btxn *t, const uint8_t *key, size_t key_size, const uint8_t *val,
               size_t val_size, eos_diag *diag);
    int (*del)(eos_kv_btxn *t, const uint8_t *key, size_t key_size, eos_diag *diag);
    /* The first entry whose key is >= key (or > key when after != 0), in
     * bytewise order. */
    int (*seek)(eos_kv_btxn *t, const uint8_t *key, size_t key_size, int after,
                const uint8_t **out_key, size_t *out_key_size, const uint8_t **out_val,
                size_t *out_val_size, eos_diag *diag);
    /* Makes room after EOS_ELIMIT; NULL when the backend cannot grow. Called
     * with no transaction of this process open on the backend. */
    int (*grow)(eos_kv_backend *b, eos_diag *diag);
    /* Hands the backend a 32-byte key derived from the store's master key,
     * once the store has it, so that the backend can authenticate what it
     * adds to each row (a version, for instance); NULL when it adds
     * nothing. Borrows key. */
    int (*bind)(eos_kv_backend *b, const uint8_t *key, eos_diag *diag);
    /* For backends shared by several nodes (NULL otherwise): tells the
     * others that something changed, and waits up to timeout_ms for such
     * news (1: news came; 0: timeout). */
    int (*announce)(eos_kv_backend *b, eos_diag *diag);
    int (*wait)(eos_kv_backend *b, unsigned timeout_ms);
    /* For backends that keep per-key version high-water marks (NULL
     * otherwise; see eos_kv_save_marks): the marks as bytes for the store to
     * seal (allocated: eos_free(*out, *out_size)), EOS_ENOTFOUND when they
     * did not change since the last export and !force; and marks sealed
     * before, loaded back at start (after bind) and checked against the
     * stored rows: EOS_ECORRUPT with diag when the rows are older. */
    int (*marks_export)(eos_kv_backend *b, int force, uint8_t **out, size_t *out_size);
    int (*marks_import)(eos_kv_backend *b, const uint8_t *in, size_t size, eos_diag *diag);
    void (*destroy)(eos_kv_backend *b);
} eos_kv_backend_ops;

/* Public for backends; read-only for everyone else. */
struct eos_kv_backend {
    const eos_kv_backend_ops *ops;
    void *impl;
};

typedef struct eos_kv_lmdb_config {
    const char *path;        /* the database file; its lock file is path + "-lock" */
    size_t initial_map_size; /* bytes; 0 = 64 MiB. The map doubles when full. */
} eos_kv_lmdb_config;

/* Opens (creating when absent) an LMDB backend. Borrows cfg. Free with
 * eos_kv_backend_free(), or hand it to eos_kv_open() which takes ownership. */
EOS_API int eos_kv_backend_lmdb(const eos_kv_lmdb_config *cfg, eos_kv_backend **out,
                                eos_diag *diag);
typedef struct eos_kv_pg_config {
    /* A libpq connection string: "postgres://user@host:port/db?...",
     * "host=... dbname=..." or "service=NAME" (pg_service.conf). */
    const char *conninfo;
    /* The table (created when absent); NULL = "eos_kv". [a-z0-9_], up to
     * 48 bytes, so several stores can share one database. */
    const char *table;
    /* How long to keep retrying, with backoff, a database that cannot be
     * reached before an operation fails; 0 = 30 s. */
    unsigned retry_ms;
    /* Longest a statement may run before it is cancelled; 0 = 30 s. */
    unsigned statement_timeout_ms;
} eos_kv_pg_config;

/* Opens a PostgreSQL backend: serializable transactions retried on
 * serialization failures, durable on commit, and rows bound to their key
 * and version so that a database that swaps or replays rows is detected
 * (see docs/operations.md). Borrows cfg. Free as below, or hand it to
 * eos_kv_open(). */
EOS_API int eos_kv_backend_pg(const eos_kv_pg_config *cfg, eos_kv_backend **out, eos_diag *diag);
/* 1 when s looks like a PostgreSQL connection URI or service name
 * ("postgres://", "postgresql://", "service="), else 0. */
EOS_API int eos_kv_backend_is_pg_uri(const char *s);
/* An in-memory backend (tests, ephemeral state). Free as above. */
EOS_API int eos_kv_backend_memory(eos_kv_backend **out);
/* Frees a backend (takes ownership); NULL is allowed. */
EOS_API void eos_kv_backend_free(eos_kv_backend *b);

/* The store. */

typedef struct eos_kv eos_kv;
typedef struct eos_kv_ns eos_kv_ns;
typedef struct eos_kv_txn eos_kv_txn;

typedef struct eos_kv_config {
    /* Directory for the sealed master key and (unless backend is set) the
     * LMDB file kv.mdb. Must exist. */
    const char *data_dir;
    /* Seals and unseals the master key. Borrowed: must outlive the store. */
    eos_tee *tee;
    /* NULL: LMDB at data_dir/kv.mdb. Otherwise the store takes ownership,
     * also when eos_kv_open() fails. */
    eos_kv_backend *backend;
    /* Initial LMDB map size in bytes; 0 = 64 MiB. The map grows on demand. */
    size_t initial_map_size;
    /* NULL, or 32 bytes: a master key released by a cluster peer. When
     * data_dir has no sealed key yet, the store seals and uses this one
     * instead of creating a key; when it has one, the two must be equal
     * (EOS_ECONFLICT otherwise). Borrowed. */
    const uint8_t *master_key;
} eos_kv_config;

/* Opens the store. On first start creates a random 32-byte master key, seals
 * it with cfg->tee and writes data_dir/master.sealed; later starts unseal it.
 * Fails with EOS_ETEE when the sealed key cannot be unsealed on this platform,
 * and EOS_ECORRUPT when it does not belong to the data it guards. Open a
 * data directory once per process (LMDB's rule) and share the handle: it is
 * safe for any number of threads. Borrows cfg. Free with eos_kv_close()
 * after closing every namespace handle. */
EOS_API int eos_kv_open(const eos_kv_config *cfg, eos_kv **out, eos_diag *diag);
/* Closes the store (takes ownership) and wipes its keys from memory; NULL is
 * allowed. */
EOS_API void eos_kv_close(eos_kv *kv);
/* Copies the store's 32-byte master key into out, to release it to an
 * attested peer of the same cluster; wipe out after use. */
EOS_API void eos_kv_master_key(eos_kv *kv, uint8_t out[32]);
/* Seals the backend's version high-water marks into data_dir/kv-marks.sealed
 * when they changed since the last save (always when force), so that after a
 * restart the node still refuses a database rolled back below what it had
 * seen; eos_kv_open loads them back and checks the newest against the
 * database. 0 and nothing for backends without marks (LMDB, memory), or
 * where the TEE cannot seal (logged once). Safe from any thread. */
EOS_API int eos_kv_save_marks(eos_kv *kv, int force, eos_diag *diag);
/* 1 when the backend is shared with other nodes (PostgreSQL), else 0. */
EOS_API int eos_kv_shared(eos_kv *kv);
/* Tells the other nodes sharing the backend that something changed
 * (PostgreSQL: NOTIFY); 0 and nothing on a backend that is not shared. */
EOS_API int eos_kv_announce(eos_kv *kv, eos_diag *diag);
/* Waits up to timeout_ms for an announcement by any node; 1 when one came,
 * 0 on timeout (and always 0 on databases without LISTEN/NOTIFY or
 * backends that are not shared: poll then). */
EOS_API int eos_kv_wait_announce(eos_kv *kv, unsigned timeout_ms);
/* The backend under the store (borrowed; for tests and tools that inspect the
 * stored ciphertext). Do not call store functions while holding one of its
 * transactions: growing the map waits for every transaction to end. */
EOS_API eos_kv_backend *eos_kv_backend_of(eos_kv *kv);

/* Opens a namespace: derives its keys once so later calls are cheap. A
 * namespace is any non-empty string of up to 1024 bytes (the server uses
 * "sys", "app:<name>", "app:<name>/kv:<bucket>", "app:<name>/fs"); the part
 * before the first '/' is its root, which eos_kv_erase_root() removes as a
 * whole. Borrows kv and name; handles may be used from any number of threads
 * at once. Free with eos_kv_ns_close(). */
EOS_API int eos_kv_ns_open(eos_kv *kv, const char *name, eos_kv_ns **out, eos_diag *diag);
/* Frees a namespace handle (takes ownership); NULL is allowed. */
EOS_API void eos_kv_ns_close(eos_kv_ns *ns);

/* Key names are byte strings of 1..EOS_KV_MAX_NAME_SIZE bytes; values are
 * byte strings of 0..EOS_KV_MAX_VALUE_SIZE bytes. Every function below
 * borrows its arguments. A stored record that fails authentication (moved,
 * swapped, truncated or altered on disk) gives EOS_ECORRUPT, never data. */

/* Reads a value. *out is allocated (never NULL, even for an empty value);
 * free it with eos_free(*out, *out_size). EOS_ENOTFOUND when absent. */
EOS_API int eos_kv_get(eos_kv_ns *ns, const char *key, size_t key_size, uint8_t **out,
                       size_t *out_size, eos_diag *diag);
/* Writes a value, durably, before returning 0. */
EOS_API int eos_kv_set(eos_kv_ns *ns, const char *key, size_t key_size, const uint8_t *value,
                       size_t value_size, eos_diag *diag);
/* Removes a key, durably. EOS_ENOTFOUND when it was absent (nothing changes). */
EOS_API int eos_kv_delete(eos_kv_ns *ns, const char *key, size_t key_size, eos_diag *diag);
/* Sets *out_exists to 1 or 0. Authenticates the record's name (not its
 * value, which get checks): a record altered there gives EOS_ECORRUPT. */
EOS_API int eos_kv_exists(eos_kv_ns *ns, const char *key, size_t key_size, int *out_exists,
                          eos_diag *diag);
/* Adds delta to a signed 64-bit counter stored as 8 little-endian bytes (an
 * absent key counts as 0) and stores *out_value, atomically. EOS_EINVAL when
 * the key holds a value of another size; EOS_ERANGE on overflow. */
EOS_API int eos_kv_incr(eos_kv_ns *ns, const char *key, size_t key_size, int64_t delta,
                        int64_t *out_value, eos_diag *diag);
/* Compare-and-swap: stores value only if the key currently holds exactly
 * expected (expected == NULL: only if the key is absent; an empty expected
 * value needs a non-NULL pointer). EOS_ECONFLICT when it does not. */
EOS_API int eos_kv_cas(eos_kv_ns *ns, const char *key, size_t key_size, const uint8_t *expected,
                       size_t expected_size, const uint8_t *value, size_t value_size,
                       eos_diag *diag);

/* One element of a batch. For eos_kv_get_many the store fills value /
 * value_size / found; free the values with eos_kv_items_free(). */
typedef struct eos_kv_item {
    const char *key;
    size_t key_size;
    uint8_t *value; /* set: borrowed input; get: allocated output or NULL */
    size_t value_size;
    int found; /* get_many: 1 when the key exists */
} eos_kv_item;

/* Reads count keys from one consistent snapshot. On error no value is left
 * allocated. */
EOS_API int eos_kv_get_many(eos_kv_ns *ns, eos_kv_item *items, size_t count, eos_diag *diag);
/* Frees the values eos_kv_get_many() stored in items (and clears them). */
EOS_API void eos_kv_items_free(eos_kv_item *items, size_t count);
/* Writes count items in one atomic, durable transaction. */
EOS_API int eos_kv_set_many(eos_kv_ns *ns, const eos_kv_item *items, size_t count, eos_diag *diag);
/* Deletes count keys (absent ones are skipped) in one atomic transaction. */
EOS_API int eos_kv_delete_many(eos_kv_ns *ns, const eos_kv_item *items, size_t count,
                               eos_diag *diag);

/* A page of key names from eos_kv_list(). */
typedef struct eos_kv_list_page {
    char **keys; /* count names, each NUL-terminated (names may hold NULs; use sizes) */
    size_t *key_sizes;
    size_t count;
    /* Opaque cursor for the next page, or "" when the listing is complete. */
    char cursor[EOS_KV_CURSOR_SIZE];
} eos_kv_list_page;

/* Lists key names that start with prefix (prefix_size 0: all), at most
 * limit of them (0: 1000), resuming after cursor (NULL or "": from the
 * start; pass the same prefix again). A prefix containing '/' is served from
 * a directory index, at a cost proportional to the directory up to its last
 * '/'; other prefixes scan the namespace. Pages come in a stable order that
 * is not alphabetical; a key set or deleted during a listing may or may not
 * appear. A page may hold fewer than limit names, even none, while
 * page->cursor is non-empty: continue until it is "". Fills *page; free with
 * eos_kv_list_free(). */
EOS_API int eos_kv_list(eos_kv_ns *ns, const char *prefix, size_t prefix_size, const char *cursor,
                        size_t limit, eos_kv_list_page *page, eos_diag *diag);
/* Frees the names in page; the struct itself is the caller's. */
EOS_API void eos_kv_list_free(eos_kv_list_page *page);

/* Removes every key of every namespace whose root (the part of its name
 * before the first '/') is root, e.g. all of "app:shop" and
 * "app:shop/kv:cart". Atomic and durable. Borrows its arguments. */
EOS_API int eos_kv_erase_root(eos_kv *kv, const char *root, eos_diag *diag);

/* Transactions: writes grouped atomically, optimistic reads. */

/* Starts a transaction on kv, spanning any of its namespaces. Writes are
 * encrypted and buffered in memory; reads see the transaction's own writes;
 * commit applies everything atomically and fails with EOS_ECONFLICT (nothing
 * applied) if a key read through the transaction changed meanwhile. Free
 * with eos_kv_txn_commit() or eos_kv_txn_abort(); a transaction is used by
 * one thread at a time. */
EOS_API int eos_kv_txn_begin(eos_kv *kv, eos_kv_txn **out, eos_diag *diag);
/* Reads, writes and deletes through txn, as eos_kv_get/set/delete do (they
 * borrow their arguments; a value read is freed with eos_free(*out,
 * *out_size)). */
EOS_API int eos_kv_txn_get(eos_kv_txn *txn, eos_kv_ns *ns, const char *key, size_t key_size,
                           uint8_t **out, size_t *out_size, eos_diag *diag);
EOS_API int eos_kv_txn_set(eos_kv_txn *txn, eos_kv_ns *ns, const char *key, size_t key_size,
                           const uint8_t *value, size_t value_size, eos_diag *diag);
EOS_API int eos_kv_txn_delete(eos_kv_txn *txn, eos_kv_ns *ns, const char *key, size_t key_size,
                              eos_diag *diag);
/* Applies the transaction durably and frees it (also on failure). A
 * transaction without writes commits trivially. */
EOS_API int eos_kv_txn_commit(eos_kv_txn *txn, eos_diag *diag);
/* Discards the transaction and frees it (takes ownership); NULL is allowed. */
EOS_API void eos_kv_txn_abort(eos_kv_txn *txn);

/* The backend key under which ns stores key (for tests and tools that
 * inspect or tamper with stored ciphertext). out must hold EOS_KV_DBKEY_SIZE
 * bytes. Borrows its arguments. */
#define EOS_KV_DBKEY_SIZE 64
EOS_API int eos_kv_db_key(eos_kv_ns *ns, const char *key, size_t key_size,
                          uint8_t out[EOS_KV_DBKEY_SIZE]);

#ifdef __cplusplus
}
#endif
#endif
