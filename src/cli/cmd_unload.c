/* `enclave-os unload`, `enclave-os list` and `enclave-os call`: the small
 * management requests, one Data round trip each. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eos/client.h"

static int run_unload(int argc, char **argv);
static int run_list(int argc, char **argv);
static int run_call(int argc, char **argv);

const eos_cli_command eos_cli_unload = {
    "unload",
    "unload an app from a running server",
    "usage: enclave-os unload NAME [options]\n\n"
    "Removes app NAME (wasm_unload); its stored data is kept.\n\n"
    "Options:\n" EOS_CLI_CONN_HELP "\n"
    "Exit status: 0 unloaded, 1 refused or failed, 2 usage error.\n",
    run_unload,
};

const eos_cli_command eos_cli_list = {
    "list",
    "list the apps a server runs",
    "usage: enclave-os list [--cluster] [options]\n\n"
    "Prints the loaded apps (wasm_list): name, route, hostname, code hash, size,\n"
    "execution tier with its compile state and time, exports and imports.\n"
    "With --cluster, prints the cluster instead: each live node of the store the\n"
    "server shares, with its configuration root and the version it applied.\n\n"
    "Options:\n"
    "  --cluster                the nodes of the server's cluster\n" EOS_CLI_CONN_HELP "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n",
    run_list,
};

const eos_cli_command eos_cli_call = {
    "call",
    "call a typed function an app exports",
    "usage: enclave-os call APP FUNCTION [JSON-PARAMS] [options]\n\n"
    "Calls FUNCTION (\"hello\", or \"iface#func\" for a function of an exported\n"
    "interface) of APP with JSON-PARAMS, a JSON array (default []), and prints the\n"
    "results (wasm_call). Values map to JSON as docs/protocol.md describes.\n\n"
    "Options:\n" EOS_CLI_CONN_HELP "\n"
    "Exit status: 0 success, 1 failure (trap, bad parameters...), 2 usage error.\n",
    run_call,
};

/* Parses the shared options; fills pos with the positional arguments.
 * Returns -1 to go on, else the exit status. */
static int parse(const eos_cli_command *cmd, int argc, char **argv, eos_cli_conn *o,
                 const char **pos, int min, int max, int *npos)
{
    static const struct option opts[] = {EOS_CLI_CONN_LONGOPTS, {0, 0, 0, 0}};
    int c;
    memset(o, 0, sizeof *o);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":s:h", opts, NULL)) != -1) {
        if (c == 's')
            c = EOS_CLI_O_SERVER;
        if (eos_cli__conn_option(o, c, optarg))
            continue;
        if (c == 'h') {
            eos_cli__print_help(cmd);
            return EOS_CLI_EXIT_OK;
        }
        if (c == ':')
            return eos_cli__usage(cmd, "option '%s' needs a value", argv[optind - 1]);
        return eos_cli__usage(cmd, "unknown option '%s'", argv[optind - 1]);
    }
    int n = argc - optind;
    if (n < min || n > max)
        return eos_cli__usage(cmd, n < min ? "missing arguments" : "too many arguments");
    for (int i = 0; i < n; i++)
        pos[i] = argv[optind + i];
    *npos = n;
    return -1;
}

typedef struct call_args {
    const char *name, *function, *params, *token;
} call_args;

static int do_unload(eos_client *cl, void *ud, char **out, size_t *out_size, eos_diag *d)
{
    const call_args *a = ud;
    return eos_client_unload(cl, a->name, 0, a->token, out, out_size, d);
}

static int do_list(eos_client *cl, void *ud, char **out, size_t *out_size, eos_diag *d)
{
    (void)ud;
    return eos_client_list(cl, out, out_size, d);
}

static int do_call(eos_client *cl, void *ud, char **out, size_t *out_size, eos_diag *d)
{
    const call_args *a = ud;
    return eos_client_call(cl, a->name, a->function, a->params, out, out_size, d);
}

static int run_unload(int argc, char **argv)
{
    eos_cli_conn o;
    const char *pos[1];
    int n;
    int rc = parse(&eos_cli_unload, argc, argv, &o, pos, 1, 1, &n);
    if (rc >= 0)
        return rc;
    call_args a = {.name = pos[0], .token = o.token};
    return eos_cli__run(&o, do_unload, &a);
}

static int run_list(int argc, char **argv)
{
    eos_cli_conn o;
    const char *pos[1];
    int n, cluster = 0, m = 0;
    /* --cluster is list's own flag; the rest are the shared options. */
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest)
        return EOS_CLI_EXIT_FAIL;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], "--cluster") == 0)
            cluster = 1;
        else
            rest[m++] = argv[i];
    }
    int rc = parse(&eos_cli_list, m, rest, &o, pos, 0, 0, &n);
    free(rest);
    if (rc >= 0)
        return rc;
    return cluster ? eos_cli__list_cluster(&o) : eos_cli__run(&o, do_list, NULL);
}

static int run_call(int argc, char **argv)
{
    eos_cli_conn o;
    const char *pos[3];
    int n;
    int rc = parse(&eos_cli_call, argc, argv, &o, pos, 2, 3, &n);
    if (rc >= 0)
        return rc;
    call_args a = {.name = pos[0], .function = pos[1], .params = n == 3 ? pos[2] : "[]"};
    return eos_cli__run(&o, do_call, &a);
}
