/* `enclave-os call`: call an exported function of an app.
 * The command and its options exist so scripts and docs can rely on them; it
 * reports "not available yet" until its feature lands. */
#include "cli.h"

static int run(int argc, char **argv);

const eos_cli_command eos_cli_call = {
    "call",
    "call an exported function of an app (not available yet)",
    "usage: enclave-os call HOST:PORT APP FUNCTION [PARAMS-JSON] [options]\n\n"
    "Calls FUNCTION exported by APP (wasm_call). PARAMS-JSON is a JSON array of the\n"
    "arguments, mapped to component values as described in docs/protocol.md\n"
    "(default []). Prints the returned values as JSON and the fuel consumed.\n\n"
    "Options:\n"
    "  --timeout MS            connect and reply timeout (default 30000)\n"
    "  -h, --help              show this help\n\n"
    "Exit status: 0 success, 1 failure or trap, 2 usage error, 3 not available yet.\n",
    run,
};

static int run(int argc, char **argv)
{
    return eos_cli__unavailable(&eos_cli_call, argc, argv,
                                "Calling app functions arrives with the component model.");
}
