/* Logging for enclave-os apps (wasi:logging): the server writes each message to its
 * log, tagged with the app's name. */
#ifndef EOS_LOG_H
#define EOS_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

/* The wasi:logging levels, in their WIT order. */
typedef enum eos_log_level {
    EOS_LOG_TRACE,
    EOS_LOG_DEBUG,
    EOS_LOG_INFO,
    EOS_LOG_WARN,
    EOS_LOG_ERROR,
    EOS_LOG_CRITICAL
} eos_log_level;

/* Logs `message` under `context` (a free-form grouping such as "db"; NULL for "").
 * Borrows both strings. */
void eos_log(eos_log_level level, const char *context, const char *message);
/* printf-style eos_log; messages longer than 1 KiB are cut. */
void eos_logf(eos_log_level level, const char *context, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif
