/* Logging to stderr: one line per call, written with a single fwrite so lines
 * from worker threads never interleave. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "eos/common.h"

static _Atomic int log_level = EOS_LOG_INFO;
static const eos_log_tap *_Atomic log_tap;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void eos_log_set_tap(const eos_log_tap *tap)
{
    atomic_store(&log_tap, tap);
}

void eos_log_set_level(eos_log_level level)
{
    atomic_store(&log_level, (int)level);
}

eos_log_level eos_log_get_level(void)
{
    return (eos_log_level)atomic_load(&log_level);
}

int eos_log_parse_level(const char *s)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i < (int)EOS_ARRAY_LEN(names); i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void eos_logv(eos_log_level level, const char *component, const char *fmt, va_list ap)
{
    if ((int)level < atomic_load(&log_level) || level >= EOS_LOG_OFF)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%s] ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000L, level_names[level],
                     component ? component : "-");
    if (n < 0)
        return;
    if ((size_t)n < sizeof line) {
        int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        if (m > 0)
            n += m;
    }
    if ((size_t)n >= sizeof line - 1)
        n = (int)sizeof line - 2;
    const eos_log_tap *tap = atomic_load(&log_tap);
    if (tap)
        tap->fn(tap->ud, level, line, (size_t)n);
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr);
}

void eos_log(eos_log_level level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    eos_logv(level, component, fmt, ap);
    va_end(ap);
}
