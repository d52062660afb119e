/* Private declarations of the enclave-os command: the command table entry
 * each cmd_*.c file provides, exit codes, and small shared helpers. */
#ifndef EOS_CLI_H
#define EOS_CLI_H

#include <stddef.h>
#include <stdint.h>

/* Exit codes of every command (documented in docs/operations.md). */
#define EOS_CLI_EXIT_OK          0
#define EOS_CLI_EXIT_FAIL        1 /* the command ran and failed (unreachable, refused...) */
#define EOS_CLI_EXIT_USAGE       2 /* bad command line */
#define EOS_CLI_EXIT_UNAVAILABLE 3 /* the command or option is not available yet */

typedef struct eos_cli_command {
    const char *name;
    const char *summary;               /* one line for `enclave-os --help` */
    const char *help;                  /* full text for `enclave-os <name> --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} eos_cli_command;

extern const eos_cli_command eos_cli_serve, eos_cli_ping, eos_cli_load, eos_cli_unload,
    eos_cli_list, eos_cli_call, eos_cli_verify, eos_cli_inspect;

/* True when argv holds -h or --help. */
int eos_cli__wants_help(int argc, char **argv);
/* Prints cmd's help to stdout. */
void eos_cli__print_help(const eos_cli_command *cmd);
/* Reports a usage error on stderr with a pointer to --help; returns EOS_CLI_EXIT_USAGE. */
int eos_cli__usage(const eos_cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The shared body of commands that exist but cannot run yet: --help works,
 * anything else prints why and returns EOS_CLI_EXIT_UNAVAILABLE. */
int eos_cli__unavailable(const eos_cli_command *cmd, int argc, char **argv, const char *why);
/* Parses a decimal unsigned number with an optional K/M/G (binary) suffix. */
int eos_cli__parse_size(const char *s, uint64_t *out);
/* Parses a decimal unsigned number within [min, max]. */
int eos_cli__parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
