/* Logging for apps over wasi:logging 0.1.0-draft. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void eos_log(eos_log_level level, const char *context, const char *message)
{
    if (!context)
        context = "";
    eos__log((int32_t)level, context, strlen(context), message, strlen(message));
}

/* A fixed buffer, not one sized by the message: a long message is cut, never a
 * reason to fail. */
void eos_logf(eos_log_level level, const char *context, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    eos_log(level, context, buf);
}
