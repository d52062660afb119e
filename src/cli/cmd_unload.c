/* `enclave-os unload`: remove an app from a running server.
 * The command and its options exist so scripts and docs can rely on them; it
 * reports "not available yet" until its feature lands. */
#include "cli.h"

static int run(int argc, char **argv);

const eos_cli_command eos_cli_unload = {
    "unload",
    "remove an app from a running server (not available yet)",
    "usage: enclave-os unload HOST:PORT NAME [options]\n\n"
    "Removes app NAME (wasm_unload). Its stored data is kept unless --erase is given.\n\n"
    "Options:\n"
    "  --erase                 also delete the app's stored data\n"
    "  --token TOKEN           management bearer token\n"
    "  --timeout MS            connect and reply timeout (default 10000)\n"
    "  -h, --help              show this help\n\n"
    "Exit status: 0 unloaded, 1 refused or failed, 2 usage error, 3 not available yet.\n",
    run,
};

static int run(int argc, char **argv)
{
    return eos_cli__unavailable(&eos_cli_unload, argc, argv,
                                "Unloading apps arrives together with loading them.");
}
