/* `enclave-os verify`: verify a server's attestation (RA-TLS certificate,
 * evidence, configuration Merkle root and app code hashes). The checks and
 * the report live in the ratls layer's verifier. */
#include "cli.h"
#include "eos/ratls.h"

static int run(int argc, char **argv);

const eos_cli_command eos_cli_verify = {
    "verify",
    "verify a server's attestation (RA-TLS certificate)",
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
    "  --server-name NAME              SNI to send (selects an app's certificate)\n"
    "  --json                          machine-readable report\n"
    "  -h, --help                      show this help\n\n"
    "Exit status: 0 verified, 1 verification failed, 2 usage error.\n",
    run,
};

static int run(int argc, char **argv)
{
    if (eos_cli__wants_help(argc, argv)) {
        eos_cli__print_help(&eos_cli_verify);
        return EOS_CLI_EXIT_OK;
    }
    return eos_ratls_verify_main(argc, argv);
}
