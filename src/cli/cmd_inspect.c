/* `enclave-os inspect`: show what a server's certificate attests.
 * The command and its options exist so scripts and docs can rely on them; it
 * reports "not available yet" until its feature lands. */
#include "cli.h"

static int run(int argc, char **argv);

const eos_cli_command eos_cli_inspect = {
    "inspect",
    "show what a server's certificate attests (not available yet)",
    "usage: enclave-os inspect HOST:PORT | FILE.pem [options]\n\n"
    "Prints the certificate chain and its enclave-os extensions: evidence type and\n"
    "measurement, report data, configuration Merkle root, apps and code hashes,\n"
    "without judging them (use 'verify' for that).\n\n"
    "Options:\n"
    "  --json                  machine-readable output\n"
    "  --manifest              also fetch and print the configuration manifest\n"
    "  --timeout MS            connect timeout (default 10000)\n"
    "  -h, --help              show this help\n\n"
    "Exit status: 0 success, 1 failure, 2 usage error, 3 not available yet.\n",
    run,
};

static int run(int argc, char **argv)
{
    return eos_cli__unavailable(&eos_cli_inspect, argc, argv,
                                "Certificate inspection arrives with the ratls layer.");
}
