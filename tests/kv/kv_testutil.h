/* Helpers shared by the kv tests (and the apps tests of the store behind
 * wasi): a TEE test double that seals with AES-256-GCM under a fixed key the
 * test chooses (so a store can be reopened across processes, and a "foreign
 * platform" is simply another key), scratch directories, and the untrusted
 * host's view of a store: its raw records below the encryption. */
#ifndef EOS_TEST_KV_TESTUTIL_H
#define EOS_TEST_KV_TESTUTIL_H

#include "eos/kv.h"
#include "eos/tee.h"

/* Creates a double whose sealing key is 32 bytes of key_byte. Free with
 * eos_tee_free(). */
eos_tee *tee_double_new(uint8_t key_byte);

/* Creates a fresh directory under TMPDIR (or /tmp); returns its path, which
 * the caller frees with kvt_rmdir() (or free()). */
char *kvt_mkdtemp(void);
/* Removes a directory tree made by kvt_mkdtemp() and frees the string. */
void kvt_rmdir(char *dir);

/* Opens the store in dir sealed by tee (both borrowed), failing the current
 * test (with the diagnostic) when it cannot; close with eos_kv_close(). */
eos_kv *kvt_open(const char *dir, eos_tee *tee);
/* Copies the raw envelope the backend holds for key in ns (malloc'd; free
 * with free()); NULL, failing the current test, when there is none. */
uint8_t *kvt_raw_record(eos_kv *kv, eos_kv_ns *ns, const char *key, size_t *out_size);
/* Stores raw bytes (borrowed) under key's backend key in ns, below the
 * encryption layer, as a host editing the data would. */
void kvt_put_raw(eos_kv *kv, eos_kv_ns *ns, const char *key, const uint8_t *raw, size_t size);

/* The connection string kept in file (as scripts/pgtmp.sh writes it),
 * malloc'd without its newline; NULL when unreadable. */
char *kvt_pg_conninfo(const char *file);
/* A PostgreSQL table name unique to a scratch directory. */
void kvt_table_name(const char *dir, char *out, size_t size);

#endif
