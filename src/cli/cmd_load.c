/* `enclave-os load`: load a WebAssembly component into a running server.
 * The command and its options exist so scripts and docs can rely on them; it
 * reports "not available yet" until its feature lands. */
#include "cli.h"

static int run(int argc, char **argv);

const eos_cli_command eos_cli_load = {
    "load",
    "load a WebAssembly component into a running server (not available yet)",
    "usage: enclave-os load HOST:PORT NAME FILE.wasm [options]\n\n"
    "Sends FILE.wasm (a WASI 0.2 component) to the server as app NAME (wasm_load).\n"
    "Loading an existing NAME replaces that app atomically.\n\n"
    "Options:\n"
    "  --route PREFIX          URL prefix the app serves (default /NAME)\n"
    "  --hostname HOST         serve the app for this SNI / Host name\n"
    "  --env KEY=VALUE         environment variable for the app (repeatable)\n"
    "  --max-fuel N            fuel per call (default 10000000)\n"
    "  --max-memory-mb N       linear memory limit per instance\n"
    "  --token TOKEN           management bearer token (not needed with serve --dev\n"
    "                          from a loopback client)\n"
    "  --timeout MS            connect and reply timeout (default 60000)\n"
    "  -h, --help              show this help\n\n"
    "Exit status: 0 loaded, 1 refused or failed, 2 usage error, 3 not available yet.\n",
    run,
};

static int run(int argc, char **argv)
{
    return eos_cli__unavailable(
        &eos_cli_load, argc, argv,
        "Loading apps arrives with the WebAssembly engine and the component model.");
}
