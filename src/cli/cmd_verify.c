/* `enclave-os verify`: verify a server's attestation (RA-TLS certificate,
 * evidence, configuration Merkle root and app code hashes). The checks and
 * the report live in the ratls layer's verifier. */
#include "cli.h"
#include "eos/ratls.h"

static int run(int argc, char **argv);

const eos_cli_command eos_cli_verify = {
    "verify",
    "verify a server's attestation (RA-TLS certificate)",
    /* The options are the verifier's (eos_ratls_verify_main prints them). */
    NULL,
    run,
};

static int run(int argc, char **argv)
{
    return eos_ratls_verify_main(argc, argv);
}
