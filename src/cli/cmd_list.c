/* `enclave-os list`: list the apps a server runs.
 * The command and its options exist so scripts and docs can rely on them; it
 * reports "not available yet" until its feature lands. */
#include "cli.h"

static int run(int argc, char **argv);

const eos_cli_command eos_cli_list = {
    "list",
    "list the apps a server runs (not available yet)",
    "usage: enclave-os list HOST:PORT [options]\n\n"
    "Prints the loaded apps (wasm_list): name, route, hostname, code hash, size.\n\n"
    "Options:\n"
    "  --json                  print the server's JSON answer as is\n"
    "  --timeout MS            connect and reply timeout (default 10000)\n"
    "  -h, --help              show this help\n\n"
    "Exit status: 0 success, 1 failure, 2 usage error, 3 not available yet.\n",
    run,
};

static int run(int argc, char **argv)
{
    return eos_cli__unavailable(&eos_cli_list, argc, argv,
                                "Listing apps arrives together with loading them.");
}
