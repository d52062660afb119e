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
    "A command (a wasi:cli/run component, FUNCTION \"wasi:cli/run@0.2.0#run\")\n"
    "reads its command line with wasi:cli/environment get-arguments:\n"
    "  --arg VALUE             an argument after argv[0] (repeatable)\n"
    "  --argv0 NAME            argv[0], the program's name (default: APP)\n"
    "  --no-app-env            the environment without APP_NAME and APP_VERSION\n"
    "  --no-preopen            no preopened directory\n"
    "A command that calls exit answers {\"status\":\"exited\",\"exit_code\":N}.\n\n"
    "Options:\n" EOS_CLI_CONN_HELP "\n"
    "Exit status: 0 success, 1 failure (trap, bad parameters...), 2 usage error.\n",
    run_call,
};

enum { O_ARG = 2000, O_ARGV0, O_NO_APP_ENV, O_NO_PREOPEN, O_CLUSTER };

/* The command line `call` sends ("args"), argv[0] first. */
typedef struct cmdline {
    const char *argv0;
    const char **args;
    size_t count;
    unsigned flags; /* EOS_CLIENT_CALL_* */
} cmdline;

/* Parses the shared options (and, with cl, call's --arg and --argv0; with
 * cluster, list's --cluster); fills pos with the positional arguments.
 * Returns -1 to go on, else the exit status. */
static int parse_with(const eos_cli_command *cmd, int argc, char **argv, eos_cli_conn *o,
                      const char **pos, int min, int max, int *npos, cmdline *cl, int *cluster)
{
    static const struct option opts[] = {EOS_CLI_CONN_LONGOPTS, {0, 0, 0, 0}};
    static const struct option call_opts[] = {EOS_CLI_CONN_LONGOPTS,
                                              {"arg", required_argument, 0, O_ARG},
                                              {"argv0", required_argument, 0, O_ARGV0},
                                              {"no-app-env", no_argument, 0, O_NO_APP_ENV},
                                              {"no-preopen", no_argument, 0, O_NO_PREOPEN},
                                              {0, 0, 0, 0}};
    static const struct option list_opts[] = {
        EOS_CLI_CONN_LONGOPTS, {"cluster", no_argument, 0, O_CLUSTER}, {0, 0, 0, 0}};
    int c;
    memset(o, 0, sizeof *o);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":s:h", cl ? call_opts : cluster ? list_opts : opts,
                            NULL)) != -1) {
        if (c == 's')
            c = EOS_CLI_O_SERVER;
        if (eos_cli__conn_option(o, c, optarg))
            continue;
        if (cluster && c == O_CLUSTER) {
            *cluster = 1;
            continue;
        }
        if (cl && c == O_ARGV0) {
            cl->argv0 = optarg;
            continue;
        }
        if (cl && (c == O_NO_APP_ENV || c == O_NO_PREOPEN)) {
            cl->flags |= c == O_NO_APP_ENV ? EOS_CLIENT_CALL_NO_APP_ENV : EOS_CLIENT_CALL_NO_PREOPEN;
            continue;
        }
        if (cl && c == O_ARG) {
            /* argv outlives the call: keep pointers into it (argc bounds them). */
            if (!cl->args && !(cl->args = calloc((size_t)argc, sizeof *cl->args)))
                return EOS_CLI_EXIT_FAIL;
            cl->args[cl->count++] = optarg;
            continue;
        }
        return eos_cli__option_rest(cmd, c, argv);
    }
    int n = argc - optind;
    if (n < min || n > max)
        return eos_cli__usage(cmd, n < min ? "missing arguments" : "too many arguments");
    for (int i = 0; i < n; i++)
        pos[i] = argv[optind + i];
    *npos = n;
    return -1;
}

static int parse(const eos_cli_command *cmd, int argc, char **argv, eos_cli_conn *o,
                 const char **pos, int min, int max, int *npos)
{
    return parse_with(cmd, argc, argv, o, pos, min, max, npos, NULL, NULL);
}

typedef struct call_args {
    const char *name, *function, *params, *token;
    const char *const *argv; /* NULL: no "args" sent */
    size_t argc;
    unsigned flags; /* EOS_CLIENT_CALL_* */
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
    return eos_client_call_cmd(cl, a->name, a->function, a->params, a->argv, a->argc, a->flags,
                               out, out_size, d);
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
    int n, cluster = 0;
    int rc = parse_with(&eos_cli_list, argc, argv, &o, pos, 0, 0, &n, NULL, &cluster);
    if (rc >= 0)
        return rc;
    return cluster ? eos_cli__list_cluster(&o) : eos_cli__run(&o, do_list, NULL);
}

static int run_call(int argc, char **argv)
{
    eos_cli_conn o;
    const char *pos[3];
    int n;
    cmdline cl = {0};
    int rc = parse_with(&eos_cli_call, argc, argv, &o, pos, 2, 3, &n, &cl, NULL);
    if (rc >= 0) {
        free(cl.args);
        return rc;
    }
    call_args a = {.name = pos[0], .function = pos[1], .params = n == 3 ? pos[2] : "[]",
                   .flags = cl.flags};
    const char **full = NULL;
    if (cl.argv0 || cl.count) {
        /* argv[0] first: the program's name, the app's unless --argv0. */
        full = calloc(cl.count + 1, sizeof *full);
        if (!full) {
            free(cl.args);
            return EOS_CLI_EXIT_FAIL;
        }
        full[0] = cl.argv0 ? cl.argv0 : pos[0];
        for (size_t i = 0; i < cl.count; i++)
            full[1 + i] = cl.args[i];
        a.argv = full;
        a.argc = cl.count + 1;
    }
    rc = eos_cli__run(&o, do_call, &a);
    free(full);
    free(cl.args);
    return rc;
}
