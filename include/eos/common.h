/* Shared foundations of every enclave-os layer: the one error table, the
 * diagnostic record that carries human detail, the allocator hook through
 * which every allocation flows, and the logger. */
#ifndef EOS_COMMON_H
#define EOS_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EOS_API __attribute__((visibility("default")))

/* The error table. 0 is success, negative values are errors; traps (a guest
 * stopped by the engine) have their own range so callers can tell "the app
 * misbehaved" from "the host failed" with a single comparison.
 * X(NAME, value, message) */
#define EOS_ERR_MAP(X)                                                                     \
    X(OK, 0, "success")                                                                    \
    X(ENOMEM, -1, "out of memory")                                                         \
    X(EINVAL, -2, "invalid argument")                                                      \
    X(ERANGE, -3, "value out of range")                                                    \
    X(ENOTFOUND, -4, "not found")                                                          \
    X(EEXIST, -5, "already exists")                                                        \
    X(EIO, -6, "input/output error")                                                       \
    X(ETIMEDOUT, -7, "timed out")                                                          \
    X(ECLOSED, -8, "connection closed")                                                    \
    X(EUNSUPPORTED, -9, "not supported")                                                   \
    X(EUNAVAILABLE, -10, "not available yet in this version")                              \
    X(EBUSY, -11, "resource busy")                                                         \
    X(EAGAIN, -12, "try again")                                                            \
    X(EPERM, -13, "permission denied")                                                     \
    X(ETOOBIG, -14, "too large")                                                           \
    X(EPROTO, -15, "protocol error")                                                       \
    X(EMALFORMED, -16, "malformed input")                                                  \
    X(EINVALID, -17, "validation failed")                                                  \
    X(EUNLINKABLE, -18, "import could not be satisfied")                                   \
    X(ECRYPTO, -19, "cryptographic operation failed")                                      \
    X(ETLS, -20, "TLS error")                                                              \
    X(ECORRUPT, -21, "stored data is corrupt or was tampered with")                        \
    X(ESTORE, -22, "storage backend error")                                                \
    X(ETEE, -23, "trusted execution environment error")                                    \
    X(EVERIFY, -24, "verification failed")                                                 \
    X(ELIMIT, -25, "limit exceeded")                                                       \
    X(ESYS, -26, "system call failed")                                                     \
    X(ECONFLICT, -27, "value changed concurrently")                                        \
    X(TRAP_UNREACHABLE, -1000, "unreachable executed")                                     \
    X(TRAP_MEMORY_OOB, -1001, "out of bounds memory access")                               \
    X(TRAP_TABLE_OOB, -1002, "out of bounds table access")                                 \
    X(TRAP_UNINITIALIZED_ELEMENT, -1003, "uninitialized element")                          \
    X(TRAP_INDIRECT_CALL_TYPE, -1004, "indirect call type mismatch")                       \
    X(TRAP_INTEGER_DIVIDE_BY_ZERO, -1005, "integer divide by zero")                        \
    X(TRAP_INTEGER_OVERFLOW, -1006, "integer overflow")                                    \
    X(TRAP_INVALID_CONVERSION, -1007, "invalid conversion to integer")                     \
    X(TRAP_STACK_EXHAUSTED, -1008, "call stack exhausted")                                 \
    X(TRAP_OUT_OF_FUEL, -1009, "out of fuel")                                              \
    X(TRAP_NULL_REFERENCE, -1010, "null reference")                                        \
    X(TRAP_DATA_SEGMENT_OOB, -1011, "out of bounds data segment access")                   \
    X(TRAP_HOST, -1012, "host function trapped")                                           \
    X(TRAP_CANON, -1013, "canonical ABI violation")                                        \
    X(TRAP_EXIT, -1014, "guest exited")                                                    \
    X(TRAP_MEMORY_LIMIT, -1015, "memory limit exceeded")                                   \
    X(TRAP_DEADLINE, -1016, "time budget exceeded")                                        \
    X(TRAP_UNALIGNED_ATOMIC, -1020, "unaligned atomic")                                    \
    X(TRAP_ATOMIC_WAIT, -1021, "atomic wait cannot complete")                              \
    X(TRAP_EXCEPTION, -1030, "uncaught exception")

typedef enum eos_err {
#define EOS__ERR_ENUM(name, value, msg) EOS_##name = value,
    EOS_ERR_MAP(EOS__ERR_ENUM)
#undef EOS__ERR_ENUM
} eos_err;

#define EOS_TRAP_FIRST (-1000)
#define EOS_TRAP_LAST (-1999)

/* True when code is a trap (the guest stopped), false for host errors. */
static inline int eos_is_trap(int code)
{
    return code <= EOS_TRAP_FIRST && code >= EOS_TRAP_LAST;
}

/* Human text for an error code; never NULL, static storage. */
EOS_API const char *eos_strerror(int code);
/* Symbolic name ("EOS_ENOMEM"); never NULL, static storage. */
EOS_API const char *eos_err_name(int code);

/* Detail for a human, filled where a failure happens. The caller owns it
 * (usually on its stack) and may pass NULL when it does not want detail. */
typedef struct eos_diag {
    int code;           /* eos_err of the failure, 0 while none */
    const char *step;   /* static string: which stage failed ("code section", "chain") */
    int64_t offset;     /* byte offset into the input, or -1 when not meaningful */
    char message[512];  /* complete sentence(s) for the user */
} eos_diag;

/* Resets d to "no failure". Borrows d; NULL is allowed. */
EOS_API void eos_diag_init(eos_diag *d);
/* Records a failure and returns code, so callers can `return eos_diag_set(...)`.
 * Keeps the first failure recorded: later calls on a filled diag only return code.
 * Borrows d; NULL is allowed. */
EOS_API int eos_diag_set(eos_diag *d, int code, const char *step, int64_t offset,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The allocator hook. Every allocation in the library flows through it so
 * out-of-memory has one path and tests can inject failures. Semantics follow
 * lua_Alloc: new_size == 0 frees ptr and returns NULL; otherwise behaves like
 * realloc (ptr may be NULL). old_size is the size of ptr's block, 0 when NULL. */
typedef void *(*eos_alloc_fn)(void *ud, void *ptr, size_t old_size, size_t new_size);

/* Installs a process-wide allocator; NULL restores the default (libc).
 * Call before any other eos_ function or while no other thread uses the library. */
EOS_API void eos_set_allocator(eos_alloc_fn fn, void *ud);

/* Allocation helpers; all return NULL on failure (and on overflow of n * size). */
EOS_API void *eos_malloc(size_t size);
EOS_API void *eos_calloc(size_t n, size_t size);
EOS_API void *eos_realloc(void *ptr, size_t old_size, size_t new_size);
/* size must be the size allocated (0 is accepted when unknown to the caller). */
EOS_API void eos_free(void *ptr, size_t size);
/* Returns a newly allocated copy of s (free with eos_free(p, strlen(p) + 1)), or NULL. */
EOS_API char *eos_strdup(const char *s);

/* Logging to stderr with timestamp, level and component, one line per call. */
typedef enum eos_log_level {
    EOS_LOG_DEBUG = 0,
    EOS_LOG_INFO = 1,
    EOS_LOG_WARN = 2,
    EOS_LOG_ERROR = 3,
    EOS_LOG_OFF = 4
} eos_log_level;

EOS_API void eos_log_set_level(eos_log_level level);
EOS_API eos_log_level eos_log_get_level(void);
/* Parses "debug", "info", "warn", "error", "off"; returns -1 when unknown. */
EOS_API int eos_log_parse_level(const char *s);
EOS_API void eos_log(eos_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
EOS_API void eos_logv(eos_log_level level, const char *component, const char *fmt,
                      va_list ap);
/* A copy of every line logged (the console's live log): fn gets the line
 * as written to stderr, without its newline, borrowed for the call, from
 * whichever thread logs. */
typedef struct eos_log_tap {
    void (*fn)(void *ud, eos_log_level level, const char *line, size_t size);
    void *ud;
} eos_log_tap;
/* Installs tap (borrowed: it must stay valid while any thread may log, in
 * practice for the process' lifetime), or removes it with NULL. */
EOS_API void eos_log_set_tap(const eos_log_tap *tap);

#define EOS_DEBUG(comp, ...) eos_log(EOS_LOG_DEBUG, comp, __VA_ARGS__)
#define EOS_INFO(comp, ...) eos_log(EOS_LOG_INFO, comp, __VA_ARGS__)
#define EOS_WARN(comp, ...) eos_log(EOS_LOG_WARN, comp, __VA_ARGS__)
#define EOS_ERROR(comp, ...) eos_log(EOS_LOG_ERROR, comp, __VA_ARGS__)

/* Lowercase hex of size bytes into out (2 * size + 1 bytes, NUL-terminated). */
EOS_API void eos_hex_encode(const uint8_t *in, size_t size, char *out);
/* Parses exactly 2 * size hex digits; returns 0 or EOS_EINVAL. */
EOS_API int eos_hex_decode(const char *hex, uint8_t *out, size_t size);

/* The name of a kind of TEE evidence by eos_tee_kind's number (tee.h): "sim",
 * "sgx", "tdx" or "sev-snp"; NULL for any other. Here rather than in tee so
 * that client, which names kinds but may not depend on tee, shares it. */
EOS_API const char *eos_evidence_kind_name(int kind);

/* Monotonic clock in nanoseconds. */
EOS_API uint64_t eos_now_ns(void);

/* Time from `then` to `now`, zero when `then` is later: a stamp taken after
 * `now` was read must never wrap an unsigned difference into ~584 years. */
static inline uint64_t eos_elapsed_ns(uint64_t now, uint64_t then)
{
    return now > then ? now - then : 0;
}

#define EOS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#ifdef __cplusplus
}
#endif
#endif
