/* The `enclave-os verify` command as a program of its own, so it can be run
 * end to end before the CLI's dispatch table calls eos_ratls_verify_main. */
#include "eos/ratls.h"

int main(int argc, char **argv)
{
    return eos_ratls_verify_main(argc, argv);
}
