/* Helpers every command shares: --help, usage errors, and the parsing of
 * numbers and sizes on the command line. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eos/net.h"

int eos_cli__wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

void eos_cli__print_help(const eos_cli_command *cmd)
{
    if (cmd->help)
        fputs(cmd->help, stdout);
}

int eos_cli__usage(const eos_cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "enclave-os %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'enclave-os %s --help'.\n", cmd->name);
    return EOS_CLI_EXIT_USAGE;
}

int eos_cli__option_rest(const eos_cli_command *cmd, int c, char **argv)
{
    if (c == 'h') {
        eos_cli__print_help(cmd);
        return EOS_CLI_EXIT_OK;
    }
    /* getopt has moved optind past the offending word. */
    if (c == ':')
        return eos_cli__usage(cmd, "option '%s' needs a value", argv[optind - 1]);
    return eos_cli__usage(cmd, "unknown option '%s'", argv[optind - 1]);
}

int eos_cli__unavailable(const eos_cli_command *cmd, int argc, char **argv, const char *why)
{
    if (eos_cli__wants_help(argc, argv)) {
        eos_cli__print_help(cmd);
        return EOS_CLI_EXIT_OK;
    }
    fprintf(stderr,
            "enclave-os %s: not available yet in this version (%s).\n%s\n"
            "Exit status %d means 'not available yet'.\n",
            cmd->name, eos_net_version(), why, EOS_CLI_EXIT_UNAVAILABLE);
    return EOS_CLI_EXIT_UNAVAILABLE;
}

int eos_cli__parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || !*s)
        return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int eos_cli__parse_size(const char *s, uint64_t *out)
{
    char buf[32];
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n + 1);
    unsigned shift = 0;
    char last = buf[n - 1];
    if (last == 'K' || last == 'k')
        shift = 10;
    else if (last == 'M' || last == 'm')
        shift = 20;
    else if (last == 'G' || last == 'g')
        shift = 30;
    if (shift)
        buf[n - 1] = 0;
    uint64_t v;
    if (eos_cli__parse_uint(buf, 0, UINT64_MAX >> 30, &v) < 0)
        return -1;
    *out = v << shift;
    return 0;
}
