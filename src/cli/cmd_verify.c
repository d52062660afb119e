/* `enclave-os verify`: verify a server's attestation (RA-TLS certificate).
 * The command and its options exist so scripts and docs can rely on them; it
 * reports "not available yet" until its feature lands. */
#include "cli.h"

static int run(int argc, char **argv);

const eos_cli_command eos_cli_verify = {
    "verify",
    "verify a server's attestation (RA-TLS certificate) (not available yet)",
    "usage: enclave-os verify HOST:PORT [options]\n\n"
    "Connects, checks the certificate chain, the TEE evidence bound to the TLS key,\n"
    "and the configuration Merkle root against the server's manifest.\n\n"
    "Options:\n"
    "  --ca FILE                       trust anchor (PEM) for the certificate chain\n"
    "  --expect-measurement HEX        required enclave / VM measurement\n"
    "  --expect-root HEX               required configuration Merkle root\n"
    "  --expect-code-hash NAME=HEX     required code hash of app NAME (repeatable)\n"
    "  --allow-simulated               accept simulated (--tee sim) evidence\n"
    "  --challenge                     send a fresh nonce (TLS extension 0xFFBB) and\n"
    "                                  require evidence bound to it\n"
    "  --timeout MS                    connect timeout (default 10000)\n"
    "  -h, --help                      show this help\n\n"
    "Exit status: 0 verified, 1 verification failed, 2 usage error, 3 not available yet.\n",
    run,
};

static int run(int argc, char **argv)
{
    return eos_cli__unavailable(
        &eos_cli_verify, argc, argv,
        "Attestation (RA-TLS) verification arrives with the ratls layer; until then servers "
        "present a self-signed certificate without evidence.");
}
