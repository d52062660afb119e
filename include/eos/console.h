/* The web console's assets (the console/ folder), embedded in the binary at
 * build time so that the TEE measurement covers them, looked up by path with
 * their content type, and the console hash that the page, the configuration
 * manifest (core.console) and `enclave-os verify` show. */
#ifndef EOS_CONSOLE_H
#define EOS_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "eos/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where the console is served. */
#define EOS_CONSOLE_PREFIX "/.well-known/enclave-os/console/"

/* One embedded file. All fields are static storage (read-only). */
typedef struct eos_console_asset {
    const char *path;         /* below the console's root: "index.html", "js/main.js" */
    const char *content_type; /* for the Content-Type header */
    const uint8_t *data;
    size_t size;            /* bytes */
    const char *sha256_hex; /* 64 lower-case hex digits of SHA-256(data) */
} eos_console_asset;

/* The number of embedded files, and the i-th in bytewise path order (NULL
 * past the end). */
EOS_API size_t eos_console_asset_count(void);
EOS_API const eos_console_asset *eos_console_asset_at(size_t i);

/* The asset for a request path below the console's root: path points at len
 * bytes (borrowed), without the query and with or without a leading '/';
 * "" and "/" give index.html; "assets.sha256" gives the listing (below).
 * NULL when nothing matches. Never touches the file system. */
EOS_API const eos_console_asset *eos_console_find(const char *path, size_t len);

/* The listing the console hash is computed over, as `sha256sum` prints it:
 * one line "<hex>  <path>\n" per file in bytewise path order. Static
 * storage, NUL-terminated; *out_size (may be NULL) gets its length. */
EOS_API const char *eos_console_listing(size_t *out_size);

/* The console hash: SHA-256 of the listing, computed at build time. The
 * 32 raw bytes into out (caller's buffer), and as hex (static storage). */
EOS_API void eos_console_hash(uint8_t out[32]);
EOS_API const char *eos_console_hash_hex(void);

/* Recomputes every file's SHA-256 and the console hash from the embedded
 * bytes and compares them with the build-time values: 0, or EOS_ECORRUPT
 * with the first mismatch in diag (may be NULL). */
EOS_API int eos_console_self_check(eos_diag *diag);

/* The Content-Security-Policy (and the other security headers, one
 * "Name: value\r\n" line each) every console response carries. Static. */
EOS_API const char *eos_console_csp(void);
EOS_API const char *eos_console_security_headers(void);

/* ---- The live log: the last lines logged, served as server-sent events ---- */

typedef struct eos_console_log eos_console_log;

/* A ring of the last `lines` log lines (0 = 1000). Free with
 * eos_console_log_free(). 0 or EOS_ENOMEM. */
EOS_API int eos_console_log_new(size_t lines, eos_console_log **out);
EOS_API void eos_console_log_free(eos_console_log *log);
/* Appends one line (size bytes, borrowed; newlines become spaces). Thread
 * safe; a line that cannot be stored for lack of memory is dropped. */
EOS_API void eos_console_log_append(eos_console_log *log, const char *line, size_t size);
/* The tap (eos_log_set_tap) that appends every line logged to log. Owned by
 * log: valid until eos_console_log_free(). */
EOS_API const eos_log_tap *eos_console_log_tap(eos_console_log *log);
/* The lines after event id `after` (0: every line kept) as a
 * text/event-stream body: a "retry: <retry_ms>" field, then one event
 * "id: N" / "data: <line>" per line, at most max_events (0 = all), oldest
 * first. *out is NUL-terminated, free with eos_free(*out, *out_size + 1).
 * 0 or EOS_ENOMEM. Thread safe. */
EOS_API int eos_console_log_events(eos_console_log *log, uint64_t after, unsigned retry_ms,
                                   size_t max_events, char **out, size_t *out_size);

#ifdef __cplusplus
}
#endif

#endif
