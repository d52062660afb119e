/* `enclave-os load`: send a WebAssembly component to a running server
 * (wasm_load), after checking the server's attestation. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "eos/client.h"

static int run(int argc, char **argv);

/* A progress bar on the terminal while a large component is sent. */
static void show_progress(void *ud, uint64_t sent, uint64_t total)
{
    (void)ud;
    int pct = (int)(sent * 100 / total);
    fprintf(stderr, "\rsending  [%-40.*s] %3d%% of %.1f MB", pct * 40 / 100,
            "########################################", pct, (double)total / 1e6);
    if (sent >= total)
        fprintf(stderr, "\n");
}

static int do_load(eos_client *cl, void *ud, char **out, size_t *out_size, eos_diag *d)
{
    return eos_client_load(cl, ud, out, out_size, d);
}

const eos_cli_command eos_cli_load = {
    "load",
    "load a WebAssembly component into a running server",
    "usage: enclave-os load FILE.wasm --name NAME [options]\n\n"
    "Sends FILE.wasm (a WASI 0.2 component) to the server as app NAME (wasm_load),\n"
    "after verifying the server's attestation. Loading an existing NAME replaces\n"
    "that app atomically.\n\n"
    "Options:\n"
    "  -n, --name NAME         the app's name (a-z, 0-9, '-', '_', '.'; 1 to 63)\n"
    "  --route PREFIX          URL prefix the app serves (default /NAME)\n"
    "  --hostname HOST         serve the app for this SNI / Host name\n"
    "  --env KEY=VALUE         environment variable for the app (repeatable)\n"
    "  --config KEY=VALUE      wasi:config value, attested in the app's leaf (repeatable)\n"
    "  --caller-policy FILE    who may call the app (JSON, see docs/operations.md)\n"
    "  --jwks FILE             keys for the policy's tokens (JSON Web Key Set)\n"
    "  --client-ca FILE        CA (PEM) for the policy's client certificates\n"
    "  --max-fuel N            fuel per call (default 10000000000)\n"
    "  --allow-outbound RULE   a destination the app may call (repeatable), e.g.\n"
    "                          https://api.example.com, https://*.example.com:8443,\n"
    "                          http://127.0.0.1:8080 (plain http only where it says so)\n"
    "                          An attested peer: https://HOST[:PORT];attested and then\n"
    "                          ;simulated (accept a simulated TEE), ;root=HEX (its\n"
    "                          configuration root), ;code=HEX (the code hash of the app\n"
    "                          its certificate describes), ;app=NAME (with code=: of\n"
    "                          app NAME): the peer must be an enclave-os (RA-TLS)\n"
    "                          server passing the checks of `enclave-os verify`\n"
    "  --max-memory-mb N       linear memory limit per instance\n"
    "  --max-concurrency N     requests of this app run at once (default: half the\n"
    "                          app threads, at most CPUs - 1); more wait in its queue\n"
    "  --tier TIER             how this app runs: auto, interp or compiled (default:\n"
    "                          the server's --tier); compiled answers once compiled\n" EOS_CLI_CONN_HELP "\n"
    "Exit status: 0 loaded, 1 refused or failed, 2 usage error.\n",
    run,
};

static int run(int argc, char **argv)
{
    const eos_cli_command *cmd = &eos_cli_load;
    enum { O_NAME = 256, O_ROUTE, O_HOST, O_ENV, O_FUEL, O_MEM, O_CONFIG, O_POLICY, O_JWKS, O_CCA, O_OUTBOUND, O_CONC, O_TIER };
    static const struct option opts[] = {
        {"name", required_argument, 0, 'n'},
        {"route", required_argument, 0, O_ROUTE},
        {"hostname", required_argument, 0, O_HOST},
        {"env", required_argument, 0, O_ENV},
        {"config", required_argument, 0, O_CONFIG},
        {"caller-policy", required_argument, 0, O_POLICY},
        {"jwks", required_argument, 0, O_JWKS},
        {"client-ca", required_argument, 0, O_CCA},
        {"allow-outbound", required_argument, 0, O_OUTBOUND},
        {"max-fuel", required_argument, 0, O_FUEL},
        {"max-memory-mb", required_argument, 0, O_MEM},
        {"max-concurrency", required_argument, 0, O_CONC},
        {"tier", required_argument, 0, O_TIER},
        EOS_CLI_CONN_LONGOPTS,
        {0, 0, 0, 0},
    };
    eos_cli_conn o;
    memset(&o, 0, sizeof o);
    const char *name = NULL, *route = NULL, *host = NULL, *tier = NULL;
    uint64_t fuel = 0, mem = 0, conc = 0;
    eos_cli_buf env, config;
    memset(&env, 0, sizeof env);
    memset(&config, 0, sizeof config);
    const char *caller_files[3] = {NULL, NULL, NULL}; /* policy, jwks, client CA */
    const char *rules[64];
    size_t nrules = 0;
    int c, rc = EOS_CLI_EXIT_USAGE;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:s:h", opts, NULL)) != -1) {
        if (c == 's')
            c = EOS_CLI_O_SERVER;
        if (eos_cli__conn_option(&o, c, optarg))
            continue;
        switch (c) {
        case 'n':
            name = optarg;
            break;
        case O_ROUTE:
            route = optarg;
            break;
        case O_HOST:
            host = optarg;
            break;
        case O_ENV:
        case O_CONFIG: {
            const char *eq = strchr(optarg, '=');
            eos_cli_buf *into = c == O_ENV ? &env : &config;
            if (!eq || eq == optarg) {
                rc = eos_cli__usage(cmd, "--%s wants KEY=VALUE, not '%s'",
                                    c == O_ENV ? "env" : "config", optarg);
                goto out;
            }
            char key[256];
            snprintf(key, sizeof key, "%.*s", (int)(eq - optarg), optarg);
            eos_cli__buf_addz(into, into->len ? "," : "{");
            eos_cli__json_str(into, key);
            eos_cli__buf_addz(into, ":");
            eos_cli__json_str(into, eq + 1);
            break;
        }
        case O_POLICY:
        case O_JWKS:
        case O_CCA:
            caller_files[c - O_POLICY] = optarg;
            break;
        case O_OUTBOUND:
            if (nrules == EOS_ARRAY_LEN(rules)) {
                rc = eos_cli__usage(cmd, "at most %zu --allow-outbound rules", nrules);
                goto out;
            }
            /* The server checks the rule's syntax and says what is wrong. */
            if (strncmp(optarg, "https://", 8) != 0 && strncmp(optarg, "http://", 7) != 0) {
                rc = eos_cli__usage(cmd, "--allow-outbound wants https://HOST[:PORT][;attested...] "
                                         "or http://HOST[:PORT], not '%s'", optarg);
                goto out;
            }
            rules[nrules++] = optarg;
            break;
        case O_FUEL:
            if (eos_cli__parse_uint(optarg, 1, UINT64_MAX >> 1, &fuel) < 0) {
                rc = eos_cli__usage(cmd, "--max-fuel wants a positive number");
                goto out;
            }
            break;
        case O_MEM:
            if (eos_cli__parse_uint(optarg, 1, 65536, &mem) < 0) {
                rc = eos_cli__usage(cmd, "--max-memory-mb wants 1 to 65536");
                goto out;
            }
            break;
        case O_CONC:
            if (eos_cli__parse_uint(optarg, 1, 1024, &conc) < 0) {
                rc = eos_cli__usage(cmd, "--max-concurrency wants 1 to 1024");
                goto out;
            }
            break;
        case O_TIER:
            if (strcmp(optarg, "auto") && strcmp(optarg, "interp") && strcmp(optarg, "compiled")) {
                rc = eos_cli__usage(cmd, "--tier wants auto, interp or compiled");
                goto out;
            }
            tier = optarg;
            break;
        default:
            rc = eos_cli__option_rest(cmd, c, argv);
            goto out;
        }
    }
    if (optind + 1 != argc) {
        rc = eos_cli__usage(cmd, optind == argc ? "missing FILE" : "too many arguments");
        goto out;
    }
    if (!name) {
        rc = eos_cli__usage(cmd, "--name is required");
        goto out;
    }
    const char *path = argv[optind];
    uint8_t *bytes = NULL;
    size_t size = 0;
    if (eos_cli__read_file(path, &bytes, &size) < 0) {
        fprintf(stderr, "enclave-os load: cannot read '%s': %s\n", path, strerror(errno));
        rc = EOS_CLI_EXIT_FAIL;
        goto out;
    }
    if (env.len)
        eos_cli__buf_addz(&env, "}");
    if (config.len)
        eos_cli__buf_addz(&config, "}");
    /* The caller policy and its keys travel as text: the server hashes them
     * into the app's leaf and judges every request by them. */
    char *caller_text[3] = {NULL, NULL, NULL};
    for (int k = 0; k < 3; k++) {
        uint8_t *text = NULL;
        size_t tsize = 0;
        if (!caller_files[k])
            continue;
        if (eos_cli__read_file(caller_files[k], &text, &tsize) < 0 || memchr(text, 0, tsize) ||
            !(caller_text[k] = realloc(text, tsize + 1))) {
            fprintf(stderr, "enclave-os load: cannot read '%s' as text\n", caller_files[k]);
            free(text);
            for (int j = 0; j < k; j++)
                free(caller_text[j]);
            free(bytes);
            rc = EOS_CLI_EXIT_FAIL;
            goto out;
        }
        caller_text[k][tsize] = 0;
    }
    if (env.failed || config.failed) {
        fprintf(stderr, "enclave-os load: out of memory\n");
        free(bytes);
        for (int k = 0; k < 3; k++)
            free(caller_text[k]);
        rc = EOS_CLI_EXIT_FAIL;
        goto out;
    }
    eos_client_load_args la = {
        .name = name,
        .route = route,
        .hostname = host,
        .env_json = env.len ? env.p : NULL,
        .config_json = config.len ? config.p : NULL,
        .caller_policy = caller_text[0],
        .jwks = caller_text[1],
        .client_ca = caller_text[2],
        .allow_outbound = rules,
        .allow_outbound_count = nrules,
        .bytes = bytes,
        .size = size,
        .max_fuel = fuel,
        .max_memory_mb = mem,
        .max_concurrency = conc,
        .tier = tier,
        .token = o.token,
        .progress = isatty(2) && size > ((size_t)1 << 20) ? show_progress : NULL,
    };
    rc = eos_cli__run(&o, do_load, &la);
    free(bytes);
    for (int k = 0; k < 3; k++)
        free(caller_text[k]);
out:
    free(env.p);
    free(config.p);
    return rc;
}
