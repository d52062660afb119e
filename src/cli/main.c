/* The enclave-os command line: one binary, one subcommand per task. */
#include <stdio.h>
#include <string.h>

#include "eos/net.h"

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        printf("usage: enclave-os <command> [options]\n");
        return argc < 2 ? 2 : 0;
    }
    fprintf(stderr, "enclave-os: unknown command '%s'\n", argv[1]);
    return 2;
}
