/* The enclave-os command line: one binary, one subcommand per task, each in
 * its own cmd_*.c file; this file holds the dispatch table (args.c the
 * helpers every command shares). */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eos/client.h"
#include "eos/net.h"

static const eos_cli_command *const commands[] = {
    &eos_cli_serve, &eos_cli_ping, &eos_cli_load,   &eos_cli_unload,
    &eos_cli_list,  &eos_cli_call, &eos_cli_verify, &eos_cli_inspect, &eos_cli_secret,
    &eos_cli_build,
};

static void print_main_help(void)
{
    printf("usage: enclave-os <command> [options]\n"
           "       enclave-os --help | --version\n\n"
           "enclave-os hosts WebAssembly components inside a trusted execution environment\n"
           "and proves in its TLS certificate which code answers.\n\n"
           "Commands:\n");
    for (size_t i = 0; i < EOS_ARRAY_LEN(commands); i++)
        printf("  %-9s %s\n", commands[i]->name, commands[i]->summary);
    printf("\nRun 'enclave-os <command> --help' for a command's options.\n\n"
           "Exit status: 0 success, 1 failure, 2 usage error, 3 not available yet.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_main_help();
        return EOS_CLI_EXIT_USAGE;
    }
    /* A server that closes while we write must give EPIPE, not kill the command. */
    signal(SIGPIPE, SIG_IGN);
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        print_main_help();
        return EOS_CLI_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("enclave-os %s (net %s, client %s)\n", eos_net_version(), eos_net_version(),
               eos_client_version());
        return EOS_CLI_EXIT_OK;
    }
    for (size_t i = 0; i < EOS_ARRAY_LEN(commands); i++)
        if (strcmp(name, commands[i]->name) == 0)
            return commands[i]->run(argc - 1, argv + 1);
    fprintf(stderr, "enclave-os: unknown command '%s'\nTry 'enclave-os --help'.\n", name);
    return EOS_CLI_EXIT_USAGE;
}
