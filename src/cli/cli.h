/* Private declarations of the enclave-os command: the command table entry
 * each cmd_*.c file provides, exit codes, and small shared helpers. */
#ifndef EOS_CLI_H
#define EOS_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "eos/apps.h"
#include "eos/common.h"

/* Exit codes of every command (documented in docs/operations.md). */
#define EOS_CLI_EXIT_OK          0
#define EOS_CLI_EXIT_FAIL        1 /* the command ran and failed (unreachable, refused...) */
#define EOS_CLI_EXIT_USAGE       2 /* bad command line */
#define EOS_CLI_EXIT_UNAVAILABLE 3 /* the command or option is not available yet */

typedef struct eos_cli_command {
    const char *name;
    const char *summary;               /* one line for `enclave-os --help` */
    const char *help;                  /* full text for `enclave-os <name> --help`; NULL when
                                          run prints it */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} eos_cli_command;

extern const eos_cli_command eos_cli_serve, eos_cli_ping, eos_cli_load, eos_cli_unload,
    eos_cli_list, eos_cli_call, eos_cli_verify, eos_cli_inspect, eos_cli_secret, eos_cli_build;

/* True when argv holds -h or --help. */
int eos_cli__wants_help(int argc, char **argv);
/* Prints cmd's help to stdout. */
void eos_cli__print_help(const eos_cli_command *cmd);
/* Reports a usage error on stderr with a pointer to --help; returns EOS_CLI_EXIT_USAGE. */
int eos_cli__usage(const eos_cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Ends a command's getopt_long loop (its optstring starting with ':') for
 * any option the command did not take itself: -h/--help prints the help and
 * returns EOS_CLI_EXIT_OK; a missing value or an unknown option is a usage
 * error. Borrows argv. */
int eos_cli__option_rest(const eos_cli_command *cmd, int c, char **argv);
/* The shared body of commands that exist but cannot run yet: --help works,
 * anything else prints why and returns EOS_CLI_EXIT_UNAVAILABLE. */
int eos_cli__unavailable(const eos_cli_command *cmd, int argc, char **argv, const char *why);
/* Parses a decimal unsigned number with an optional K/M/G (binary) suffix. */
int eos_cli__parse_size(const char *s, uint64_t *out);
/* Parses a decimal unsigned number within [min, max]. */
int eos_cli__parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* ---- Management commands (mgmt.c) ---- */

/* Long option ids shared by load, unload, list and call. */
enum {
    EOS_CLI_O_SERVER = 1000,
    EOS_CLI_O_TOKEN,
    EOS_CLI_O_INSECURE,
    EOS_CLI_O_ALLOW_SIM,
    EOS_CLI_O_CA,
    EOS_CLI_O_JSON,
    EOS_CLI_O_TIMEOUT
};

#define EOS_CLI_CONN_LONGOPTS                                                                      \
    {"server", required_argument, 0, EOS_CLI_O_SERVER},                                            \
        {"token", required_argument, 0, EOS_CLI_O_TOKEN},                                          \
        {"insecure", no_argument, 0, EOS_CLI_O_INSECURE},                                          \
        {"allow-simulated", no_argument, 0, EOS_CLI_O_ALLOW_SIM},                                  \
        {"ca", required_argument, 0, EOS_CLI_O_CA}, {"json", no_argument, 0, EOS_CLI_O_JSON},      \
        {"timeout", required_argument, 0, EOS_CLI_O_TIMEOUT},                                      \
    {                                                                                              \
        "help", no_argument, 0, 'h'                                                                \
    }

#define EOS_CLI_CONN_HELP                                                                          \
    "  -s, --server HOST:PORT  the server (default 127.0.0.1:8443)\n"                              \
    "  --token TOKEN           management bearer token (not needed with serve --dev\n"             \
    "                          from a loopback client)\n"                                          \
    "  --allow-simulated       accept a server whose attestation is simulated\n"                   \
    "  --ca FILE               trust anchor (PEM) for the server's certificate chain\n"            \
    "  --insecure              send without verifying the server's attestation\n"                  \
    "  --json                  print the server's JSON answer as it is\n"                          \
    "  --timeout MS            connect and reply timeout (default 120000)\n"                       \
    "  -h, --help              show this help\n"

typedef struct eos_cli_conn {
    const char *server, *token, *ca_file;
    int insecure, allow_simulated, json;
    unsigned timeout_ms;
} eos_cli_conn;

typedef struct eos_cli_buf {
    char *p; /* NUL-terminated; free() */
    size_t len, cap;
    int failed;
} eos_cli_buf;

struct eos_client;
/* Handles a shared option; 1 when it was one. */
int eos_cli__conn_option(eos_cli_conn *o, int opt, const char *arg);
/* Connects and verifies the server's attestation unless --insecure; prints why on failure. */
int eos_cli__connect(eos_cli_conn *o, struct eos_client **out);
/* One typed call of the client library (eos_client_load, _list...) on a
 * connection: ud is the call's arguments; the answer document goes to *out. */
typedef int (*eos_cli_call_fn)(struct eos_client *cl, void *ud, char **out, size_t *out_size,
                               eos_diag *d);
/* Connects (verifying unless --insecure), makes the call, prints the answer
 * (human or --json) or why it failed; returns the exit status. */
int eos_cli__run(eos_cli_conn *o, eos_cli_call_fn fn, void *ud);
void eos_cli__buf_add(eos_cli_buf *b, const char *s, size_t n);
void eos_cli__buf_addz(eos_cli_buf *b, const char *s);
void eos_cli__json_str(eos_cli_buf *b, const char *s);
/* Prints an answer (human or --json); returns the exit status. */
int eos_cli__print_response(const eos_cli_conn *o, const char *resp);
/* Reads a whole file into *out (free()); -1 with errno. */
int eos_cli__read_file(const char *path, uint8_t **out, size_t *out_size);

/* cmd_cluster.c: list --cluster. Prints the cluster view of the node o
 * reaches (a table, or the document with --json); returns the exit status. */
int eos_cli__list_cluster(eos_cli_conn *o);

/* join.c: serve --join. Asks the member at hostport for the data key with
 * this TEE's evidence and checks the member's under pol; the key in key, the
 * cluster's CA in *ca (NULL when none came; wipe, then eos_free(*ca,
 * *ca_size)). Borrows everything else. */
int eos_cli__join(const char *hostport, eos_tee *tee, const eos_apps_join_policy *pol,
                  uint8_t key[32], uint8_t **ca, size_t *ca_size, eos_diag *d);

#endif
