/* Helpers shared by the kv tests: a TEE test double that seals with
 * AES-256-GCM under a fixed key the test chooses (so a store can be reopened
 * across processes, and a "foreign platform" is simply another key), and
 * scratch directories. */
#ifndef EOS_TEST_KV_TESTUTIL_H
#define EOS_TEST_KV_TESTUTIL_H

#include "eos/tee.h"

/* Creates a double whose sealing key is 32 bytes of key_byte. Free with
 * eos_tee_free(). */
eos_tee *tee_double_new(uint8_t key_byte);

/* Creates a fresh directory under TMPDIR (or /tmp); returns its path, which
 * the caller frees with kvt_rmdir() (or free()). */
char *kvt_mkdtemp(void);
/* Removes a directory tree made by kvt_mkdtemp() and frees the string. */
void kvt_rmdir(char *dir);
/* Reads a whole file (malloc'd; free with free()); NULL on failure. */
uint8_t *kvt_read_file(const char *path, size_t *out_size);
/* Replaces a whole file's contents; 0 on success. */
int kvt_write_file(const char *path, const uint8_t *data, size_t size);

/* The connection string kept in file (as scripts/pgtmp.sh writes it),
 * malloc'd without its newline; NULL when unreadable. */
char *kvt_pg_conninfo(const char *file);
/* A PostgreSQL table name unique to a scratch directory. */
void kvt_table_name(const char *dir, char *out, size_t size);

#endif
