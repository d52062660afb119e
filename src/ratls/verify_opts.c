/* The verifier's options about hardware trust, by their command-line names,
 * so every front end (the CLI, tests, bindings) spells them one way:
 * --collateral DIR, --require-tcb LEVEL and --at TIME. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static int parse_at(const char *s, int64_t *out)
{
    struct tm tm;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s && *end == '\0' && v > 0) {
        *out = v;
        return 0;
    }
    memset(&tm, 0, sizeof tm);
    int n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6 ||
        s[n] != '\0')
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

int eos_ratls_verify_option(eos_ratls_verify_opts *o, const char *name, const char *value,
                            eos_diag *d)
{
    if (strcmp(name, "--collateral") == 0) {
        o->collateral_dir = value;
        return 1;
    }
    if (strcmp(name, "--require-tcb") == 0) {
        if (eos_ratls_tcb_status_parse(value, &o->require_tcb) != 0 ||
            o->require_tcb == EOS_RATLS_TCB_UNKNOWN || o->require_tcb == EOS_RATLS_TCB_REVOKED)
            return eos_diag_set(d, EOS_EINVAL, "usage", -1,
                                "--require-tcb takes UpToDate, SWHardeningNeeded, "
                                "ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, "
                                "OutOfDate or OutOfDateConfigurationNeeded");
        return 1;
    }
    if (strcmp(name, "--at") == 0) {
        if (parse_at(value, &o->now) != 0)
            return eos_diag_set(d, EOS_EINVAL, "usage", -1,
                                "--at takes a UTC time YYYY-MM-DDTHH:MM:SSZ or unix seconds");
        return 1;
    }
    return 0;
}

int eos_ratls_verify_option_takes_value(const char *name)
{
    return strcmp(name, "--collateral") == 0 || strcmp(name, "--require-tcb") == 0 ||
           strcmp(name, "--at") == 0;
}
