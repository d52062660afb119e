/* Private to the kv layer: the stored-value envelope, the per-namespace
 * crypto (HMAC of names, AES-256-GCM of values), and the store structures
 * shared by the operation, listing and transaction files. */
#ifndef EOS_KV_INTERNAL_H
#define EOS_KV_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "eos/kv.h"

#define EOS_KV__KEY_SIZE     32
#define EOS_KV__NONCE_SIZE   12
#define EOS_KV__TAG_SIZE     16
#define EOS_KV__HASH_SIZE    32
#define EOS_KV__PREFIX_SIZE  32 /* 16 bytes of root id, 16 of namespace id */
#define EOS_KV__ROOT_ID_SIZE 16
#define EOS_KV__MAX_NS_NAME  1024

/* envelope.c: the stored-value format (untrusted bytes).
 *
 *   0      u8   version (1)
 *   1      u8   flags (0; other values are rejected)
 *   2      u16  name size, little endian (1..EOS_KV_MAX_NAME_SIZE)
 *   4      12   nonce of the name
 *   16     12   nonce of the value
 *   28     n    name ciphertext
 *   28+n   16   name tag
 *   44+n   m    value ciphertext (the rest, minus the final tag)
 *   end-16 16   value tag
 *
 * The 28 header bytes and the 64-byte backend key are associated data of
 * both GCM operations (with a different domain byte), so no header field,
 * position or namespace can change without the tags failing. */
#define EOS_KV__ENV_VERSION     1
#define EOS_KV__ENV_HEADER_SIZE 28
#define EOS_KV__ENV_OVERHEAD    (EOS_KV__ENV_HEADER_SIZE + 2 * EOS_KV__TAG_SIZE)

typedef struct eos_kv__envelope {
    const uint8_t *header; /* EOS_KV__ENV_HEADER_SIZE bytes */
    const uint8_t *name_nonce;
    const uint8_t *value_nonce;
    const uint8_t *name_ct;
    size_t name_size;
    const uint8_t *name_tag;
    const uint8_t *value_ct;
    size_t value_size;
    const uint8_t *value_tag;
} eos_kv__envelope;

/* Splits an envelope into its fields (pointers into buf, borrowed). Returns
 * 0 or EOS_ECORRUPT with diag saying which field is wrong. */
int eos_kv__envelope_parse(const uint8_t *buf, size_t size, eos_kv__envelope *out, eos_diag *diag);
/* Total envelope size for a name and value, or 0 when too large. */
size_t eos_kv__envelope_size(size_t name_size, size_t value_size);
/* Writes the header (version, flags, name size, the two nonces) into buf. */
void eos_kv__envelope_header(uint8_t *buf, size_t name_size, const uint8_t *nonces);

/* crypto.c: key derivation and the per-handle crypto contexts. */

/* Reusable OpenSSL contexts with the namespace's keys already expanded; a
 * namespace keeps a free list so concurrent callers never share one. */
#define EOS_KV__NONCE_POOL_SIZE (48 * EOS_KV__NONCE_SIZE)

typedef struct eos_kv__slot {
    EVP_CIPHER_CTX *enc;
    EVP_CIPHER_CTX *dec;
    /* HMAC of names as two SHA-256 states with the padded key absorbed
     * (RFC 2104); copying a state is cheaper than re-initialising an
     * EVP_MAC_CTX in OpenSSL 3. */
    EVP_MD_CTX *hmac_inner;
    EVP_MD_CTX *hmac_outer;
    EVP_MD_CTX *hmac_work;
    struct eos_kv__slot *next;
    /* Random bytes for nonces, drawn from the CSPRNG in bulk: one 24-byte
     * RAND_bytes call costs about as much as the rest of a write, a 576-byte
     * one barely more. Discarded after fork (see fork_gen). */
    uint8_t nonces[EOS_KV__NONCE_POOL_SIZE];
    size_t nonces_used;
    unsigned fork_gen;
} eos_kv__slot;

struct eos_kv {
    eos_kv_backend *be;
    EVP_MAC *hmac;         /* fetched once */
    EVP_MD *sha256;        /* fetched once */
    const EVP_CIPHER *aes; /* EVP_aes_256_gcm() */
    uint8_t master[EOS_KV__KEY_SIZE];
    uint8_t id_key[EOS_KV__KEY_SIZE]; /* HMAC key for namespace and root ids */
    /* Sealed high-water marks (backends with marks_export only). */
    eos_tee *tee;
    char *marks_path, *marks_dir;
    size_t marks_path_size, marks_dir_size;
    pthread_mutex_t marks_lock;
    int marks_ready; /* loaded and checked: saves may replace the file */
    int marks_unsealable;
};

struct eos_kv_ns {
    eos_kv *kv;
    uint8_t prefix[EOS_KV__PREFIX_SIZE];
    uint8_t index_prefix[EOS_KV__PREFIX_SIZE]; /* root id || directory index id */
    uint8_t name_key[EOS_KV__KEY_SIZE];
    uint8_t value_key[EOS_KV__KEY_SIZE];
    pthread_mutex_t lock;
    eos_kv__slot *free_slots;
};

/* HKDF-SHA256(ikm) with a fixed salt and info into out. */
int eos_kv__hkdf(const uint8_t *ikm, size_t ikm_size, const uint8_t *info, size_t info_size,
                 uint8_t *out, size_t out_size, eos_diag *diag);
/* One-shot HMAC-SHA256 of (tag byte, data) under key into out[32]. */
int eos_kv__hmac(eos_kv *kv, const uint8_t key[EOS_KV__KEY_SIZE], uint8_t tag, const uint8_t *data,
                 size_t size, uint8_t out[EOS_KV__HASH_SIZE], eos_diag *diag);
/* Borrows a slot of ns (creating one when none is free); give it back with
 * eos_kv__slot_put(). */
int eos_kv__slot_get(eos_kv_ns *ns, eos_kv__slot **out, eos_diag *diag);
void eos_kv__slot_put(eos_kv_ns *ns, eos_kv__slot *s);
void eos_kv__slot_free(eos_kv__slot *s);
/* Registers the fork handler that keeps a child from reusing its parent's
 * buffered nonces; idempotent. */
void eos_kv__crypto_init(void);

/* HMAC-SHA256 under the namespace's name key of (tag byte, data), or of
 * data alone when tag < 0. */
int eos_kv__name_hmac(eos_kv__slot *s, int tag, const void *data, size_t size,
                      uint8_t out[EOS_KV__HASH_SIZE], eos_diag *diag);
/* The 64-byte backend key of a name: prefix || HMAC(name_key, name). */
int eos_kv__dbkey(eos_kv_ns *ns, eos_kv__slot *s, const char *key, size_t key_size,
                  uint8_t out[EOS_KV_DBKEY_SIZE], eos_diag *diag);
/* Builds a complete envelope for (name, value) under dbkey. *out is buf when
 * the envelope fits in buf_size, otherwise allocated (free with
 * eos_free(*out, *out_size) when *out != buf). */
int eos_kv__seal(eos_kv_ns *ns, eos_kv__slot *s, const uint8_t *dbkey, const char *key,
                 size_t key_size, const uint8_t *value, size_t value_size, uint8_t *buf,
                 size_t buf_size, uint8_t **out, size_t *out_size, eos_diag *diag);
/* Authenticates and decrypts the value of env into out (value_size bytes). */
int eos_kv__open_value(eos_kv__slot *s, const uint8_t *dbkey, const eos_kv__envelope *env,
                       uint8_t *out, eos_diag *diag);
/* Authenticates and decrypts the name of env into out (name_size bytes). */
int eos_kv__open_name(eos_kv__slot *s, const uint8_t *dbkey, const eos_kv__envelope *env,
                      uint8_t *out, eos_diag *diag);

/* index.c: the directory index that makes listing a '/'-ended prefix
 * proportional to its result. For a name, every prefix that ends in '/'
 * (its "directories", the first EOS_KV__MAX_DIRS of them) gets an entry
 *   index_prefix (32) || HMAC(name_key, 'd' || dir)[0..16] || name hash (32)
 * with an empty value, written and removed in the record's transaction. */
#define EOS_KV__MAX_DIRS       32
#define EOS_KV__DIR_ID_SIZE    16
#define EOS_KV__INDEX_KEY_SIZE (EOS_KV__PREFIX_SIZE + EOS_KV__DIR_ID_SIZE + EOS_KV__HASH_SIZE)

typedef struct eos_kv__dirs {
    size_t count;
    uint8_t keys[EOS_KV__MAX_DIRS][EOS_KV__INDEX_KEY_SIZE];
} eos_kv__dirs;

/* Number of '/' in data[0..size), i.e. the directory depth of a prefix. */
size_t eos_kv__depth(const char *data, size_t size);
/* The 48-byte start of the index range of dir (which ends in '/'). */
int eos_kv__dir_range(eos_kv_ns *ns, eos_kv__slot *s, const char *dir, size_t dir_size,
                      uint8_t out[EOS_KV__PREFIX_SIZE + EOS_KV__DIR_ID_SIZE], eos_diag *diag);
/* Fills out with the index keys of name (whose backend key is dbkey). */
int eos_kv__dirs_of(eos_kv_ns *ns, eos_kv__slot *s, const char *name, size_t size,
                    const uint8_t *dbkey, eos_kv__dirs *out, eos_diag *diag);
/* Writes a record and, when it is new, its index entries (dirs may be NULL
 * when the name has no directory). */
int eos_kv__put_record(eos_kv *kv, eos_kv_btxn *t, const uint8_t *dbkey, const uint8_t *env,
                       size_t env_size, const eos_kv__dirs *dirs, eos_diag *diag);
/* Deletes a record and its index entries; EOS_ENOTFOUND when absent. */
int eos_kv__del_record(eos_kv *kv, eos_kv_btxn *t, const uint8_t *dbkey, const eos_kv__dirs *dirs,
                       eos_diag *diag);

/* pg_marks.c: versions, row tags and high-water marks of the PostgreSQL
 * backend (see docs/operations.md). */
#define EOS_KV__PG_TAG_SIZE 16
typedef struct eos_kv__pg_marks eos_kv__pg_marks;
/* Wall-clock microseconds. */
int64_t eos_kv__now_us(void);
/* Free with eos_kv__pg_marks_free(). */
int eos_kv__pg_marks_new(eos_kv__pg_marks **out);
void eos_kv__pg_marks_free(eos_kv__pg_marks *m);
/* The next version to write: above every one handed out or seen, and above
 * floor. */
int64_t eos_kv__pg_hlc_next(eos_kv__pg_marks *m, int64_t floor);
/* Pushes the clock past an authenticated version read. */
void eos_kv__pg_hlc_observe(eos_kv__pg_marks *m, int64_t ver);
/* A row key kept beside its mark so that sealed marks can be checked
 * against the database at start; keys longer than 64 bytes are not kept
 * (size 0) and are checked only when read. */
typedef struct eos_kv__pg_rowkey {
    uint8_t k[64];
    uint8_t size;
} eos_kv__pg_rowkey;
void eos_kv__pg_rowkey_set(eos_kv__pg_rowkey *rk, const uint8_t *k, size_t ks);
/* A key's 16-byte id for the marks (SHA-256 of the row key, cut). */
void eos_kv__pg_key_id(const uint8_t *k, size_t ks, uint8_t id[16]);
/* The marks' sequence number now: a transaction keeps it from its start. */
uint64_t eos_kv__pg_marks_seq(eos_kv__pg_marks *m);
/* Checks a version read against the key's mark and raises the mark. 0, or
 * EOS_ECORRUPT with *out_mark when the row is older than a version this
 * process saw committed before start_seq: a replayed or rolled-back row. */
int eos_kv__pg_mark_check(eos_kv__pg_marks *m, const uint8_t id[16], const uint8_t *k, size_t ks,
                          int64_t ver, uint64_t start_seq, int64_t *out_mark);
/* Records a committed write (or delete, which drops the mark). Borrows rk. */
void eos_kv__pg_mark_commit(eos_kv__pg_marks *m, const uint8_t id[16], const eos_kv__pg_rowkey *rk,
                            int64_t ver, int deleted);
/* The marks as bytes to seal (allocated: eos_free(*out, *out_size)), or
 * EOS_ENOTFOUND when nothing changed since the last export and !force.
 *   "EOSMARK1" | u64 BE clock | u32 BE count |
 *   count x (id 16 | ver i64 BE | key size u8 | key) */
int eos_kv__pg_marks_export(eos_kv__pg_marks *m, int force, uint8_t **out, size_t *out_size);
/* Loads exported marks back as if set before any transaction, so any row
 * read older than one is refused. The row keys of up to max_keys of the
 * newest marks go to *keys (allocated: eos_free(*keys, *nkeys * sizeof
 * **keys)), for the caller to read at start. EOS_ECORRUPT when in does not
 * parse. Borrows in. */
int eos_kv__pg_marks_import(eos_kv__pg_marks *m, const uint8_t *in, size_t size, size_t max_keys,
                            eos_kv__pg_rowkey **keys, size_t *nkeys);
/* The backend's marks_import: loads the sealed marks into m, then reads the
 * rows of the newest 1,000 through b's own operations, so that a row older
 * than its mark fails (EOS_ECORRUPT with diag). Borrows everything. */
int eos_kv__pg_marks_restore(eos_kv_backend *b, eos_kv__pg_marks *m, const char *table,
                             const uint8_t *in, size_t size, eos_diag *diag);
/* HMAC-SHA256(key, ver || len(k) || k || SHA-256(v)) cut to 16 bytes.
 * Borrows all; k is at most 1024 bytes. */
int eos_kv__pg_row_tag(const uint8_t key[EOS_KV__KEY_SIZE], const uint8_t *k, size_t ks,
                       int64_t ver, const uint8_t *v, size_t vs, uint8_t out[EOS_KV__PG_TAG_SIZE]);

/* pg_notify.c: LISTEN/NOTIFY between nodes sharing a PostgreSQL table. */
typedef struct eos_kv__pg_listener eos_kv__pg_listener;
/* A listener for table's channel (connects lazily); borrows its arguments.
 * Free with eos_kv__pg_listener_free(). */
int eos_kv__pg_listener_new(const char *conninfo, const char *table, eos_kv__pg_listener **out);
void eos_kv__pg_listener_free(eos_kv__pg_listener *l);
/* NOTIFY; 0, or EOS_ESTORE when the database cannot be reached. */
int eos_kv__pg_announce(eos_kv__pg_listener *l);
/* 1 when a notification came within timeout_ms, else 0. */
int eos_kv__pg_wait(eos_kv__pg_listener *l, unsigned timeout_ms);

/* kv.c: transactions on the backend with growth and retry. */

typedef int (*eos_kv__write_fn)(eos_kv_btxn *t, void *ctx, eos_diag *diag);
/* Runs fn in a backend write transaction and commits it; when the backend is
 * full, grows it and runs fn again from scratch, so fn must not keep state
 * from a previous attempt. */
int eos_kv__run_write(eos_kv *kv, eos_kv__write_fn fn, void *ctx, eos_diag *diag);
/* Reads and authenticates the record under dbkey; returns its value
 * (allocated; free with eos_free(*out, *out_size)) or EOS_ENOTFOUND. When
 * out is NULL only the record's name is authenticated. */
int eos_kv__read_value(eos_kv *kv, eos_kv_btxn *t, eos_kv__slot *s, const uint8_t *dbkey,
                       uint8_t **out, size_t *out_size, eos_diag *diag);
/* The 16-byte id of a namespace root (HMAC of its name, truncated). */
int eos_kv__root_id(eos_kv *kv, const char *root, size_t root_size,
                    uint8_t out[EOS_KV__ROOT_ID_SIZE], eos_diag *diag);
/* Checks a key name's size; returns 0 or EOS_EINVAL with diag. */
int eos_kv__check_name(const char *key, size_t key_size, eos_diag *diag);

#endif
