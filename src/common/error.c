/* The error table's generated accessors and the diagnostic record. */
#include <stdio.h>
#include <string.h>

#include "eos/common.h"

const char *eos_strerror(int code)
{
    switch (code) {
#define EOS__ERR_MSG(name, value, msg)                                                     \
    case value:                                                                            \
        return msg;
        EOS_ERR_MAP(EOS__ERR_MSG)
#undef EOS__ERR_MSG
    }
    return "unknown error";
}

const char *eos_err_name(int code)
{
    switch (code) {
#define EOS__ERR_NAME(name, value, msg)                                                    \
    case value:                                                                            \
        return "EOS_" #name;
        EOS_ERR_MAP(EOS__ERR_NAME)
#undef EOS__ERR_NAME
    }
    return "EOS_UNKNOWN";
}

void eos_diag_init(eos_diag *d)
{
    if (!d)
        return;
    d->code = 0;
    d->step = NULL;
    d->offset = -1;
    d->message[0] = '\0';
}

int eos_diag_set(eos_diag *d, int code, const char *step, int64_t offset, const char *fmt, ...)
{
    if (!d || d->code != 0)
        return code;
    d->code = code;
    d->step = step;
    d->offset = offset;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->message, sizeof d->message, fmt, ap);
        va_end(ap);
    } else {
        snprintf(d->message, sizeof d->message, "%s", eos_strerror(code));
    }
    return code;
}
