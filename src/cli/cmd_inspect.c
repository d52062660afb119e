/* `enclave-os inspect FILE`: what a component imports and exports (as
 * WIT-like text), its size and SHA-256 code hash, before loading it. Core
 * modules and wasmtime's precompiled .cwasm files get a clear explanation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eos/cm.h"

static int run(int argc, char **argv);

const eos_cli_command eos_cli_inspect = {
    "inspect",
    "show a component's imports, exports, size and code hash",
    "usage: enclave-os inspect FILE.wasm\n\n"
    "Prints the component's world (imports and exports with their function types)\n"
    "as WIT-like text, preceded by its size and SHA-256 (the code hash that the\n"
    "server's certificates will carry once it is loaded).\n\n"
    "Options:\n"
    "  -h, --help              show this help\n\n"
    "Exit status: 0 success, 1 not a valid component, 2 usage error.\n",
    run,
};

int eos_cli__read_file(const char *path, uint8_t **out, size_t *out_size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return -1;
            }
            buf = nb;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_size = len;
    return 0;
}

static int run(int argc, char **argv)
{
    const eos_cli_command *cmd = &eos_cli_inspect;
    if (eos_cli__wants_help(argc, argv)) {
        eos_cli__print_help(cmd);
        return EOS_CLI_EXIT_OK;
    }
    if (argc != 2 || argv[1][0] == '-')
        return eos_cli__usage(cmd, "expected exactly one FILE");
    const char *path = argv[1];
    uint8_t *bytes = NULL;
    size_t size = 0;
    if (eos_cli__read_file(path, &bytes, &size) < 0) {
        fprintf(stderr, "enclave-os inspect: cannot read '%s': %s\n", path, strerror(errno));
        return EOS_CLI_EXIT_FAIL;
    }
    int rc = EOS_CLI_EXIT_FAIL;
    if (size >= 4 && memcmp(bytes,
                            "\x7f"
                            "ELF",
                            4) == 0) {
        fprintf(stderr,
                "enclave-os inspect: '%s' is an ELF file, probably wasmtime's precompiled "
                ".cwasm output.\nenclave-os runs WebAssembly components itself: inspect and "
                "load the .wasm component\n(the input of 'wasmtime compile') instead.\n",
                path);
        goto out;
    }
    if (size < 8 || memcmp(bytes, "\0asm", 4) != 0) {
        fprintf(stderr, "enclave-os inspect: '%s' is not a WebAssembly binary.\n", path);
        goto out;
    }
    if (bytes[4] == 1 && bytes[5] == 0) {
        fprintf(stderr,
                "enclave-os inspect: '%s' is a core WebAssembly module, not a component.\n"
                "Build a WASI 0.2 component (cargo component build, or the SDK's eos_add_app).\n",
                path);
        goto out;
    }
    eos_diag d;
    eos_diag_init(&d);
    if (eos_cm_describe(bytes, size, stdout, &d) < 0) {
        fflush(stdout);
        fprintf(stderr, "enclave-os inspect: '%s' is not a valid component: %s\n", path, d.message);
        goto out;
    }
    rc = EOS_CLI_EXIT_OK;
out:
    free(bytes);
    return rc;
}
